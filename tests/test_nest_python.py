"""The NEST layer's pure-Python checks, which need no NEST: they run wherever the tests run.

``tests/test_nest.py`` needs NEST (it skips without it while developing, and fails in CI);
what the Python side refuses before NEST is reached is tested here, so that it is never
skipped.
"""

import sys
import types

import pytest

import brian2_calcium as bc
from brian2_calcium.nest import build


def test_a_missing_nest_is_named_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "nest", None)  # import nest raises ImportError
    with pytest.raises(bc.nest.NestBuildError, match=r"NEST is not installed: pip install"):
        build.import_nest()


@pytest.mark.parametrize("old", ["3.6.0", "2.20.2", "3.9"])
def test_old_nest_versions_are_refused(old):
    with pytest.raises(bc.nest.NestBuildError, match="too old"):
        build.check_version(old)


def test_supported_nest_versions_pass_the_version_check():
    for version in ("3.10", "3.10.1", "4.0.0"):
        build.check_version(version)


def test_missing_nest_headers_are_named(monkeypatch, tmp_path):
    fake = types.SimpleNamespace(__file__=str(tmp_path / "lib/python3/site-packages/nest/x.py"))
    monkeypatch.delenv("BRIAN2_CALCIUM_NEST_INCLUDE", raising=False)
    with pytest.raises(bc.nest.NestBuildError, match="NEST's headers are missing"):
        build._nest_headers(fake)


def test_synapse_arguments_are_checked_in_python():
    with pytest.raises(TypeError, match="rho"):  # strict keywords: the nearest name
        bc.nest.syn_spec("DP", w0=1.0, rh0=0.5)
    with pytest.raises(ValueError, match="w0"):
        bc.nest.model_parameters("DP", w0=float("nan"))
    with pytest.raises(ValueError, match="seed"):
        bc.nest.model_parameters("DP", w0=1.0, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        bc.nest.model_parameters("DP", w0=1.0, seed=1.0)
    with pytest.raises(ValueError, match="below 2\\*\\*63"):
        bc.nest.model_parameters("DP", w0=1.0, seed=2**63)
    assert bc.nest.model_parameters("DP", w0=1.0, seed=2**63 - 1)["seed"] == 2**63 - 1


def test_the_network_refuses_options_nest_does_not_have_before_starting_it():
    with pytest.raises(ValueError, match="target"):
        bc.simulate_network(0.1, engine="nest", target="cython")
    with pytest.raises(ValueError, match="clock"):
        bc.simulate_network(0.1, engine="nest", plasticity="clock")
    with pytest.raises(ValueError, match="rho_samples"):
        bc.simulate_network(0.1, engine="nest", rho_samples=3)
    with pytest.raises(ValueError, match="seed must be an integer"):
        bc.simulate_network(0.1, engine="nest", seed=-1)


def test_readout_model_table_has_each_connections_numbers():
    """The read-out's model table: one row when every connection has its model's numbers,
    the distinct rows otherwise; either way row model_of[k] is connection k's numbers
    (ms turned into s)."""
    import numpy as np
    import pandas as pd

    from brian2_calcium.fastpath import MODEL_COLUMNS
    from brian2_calcium.nest.readout import _NUMBERS, _model_rows

    defaults = {"bistable": 1, "gating": 2, "rho_scales_cpre": 0, "release_sites": 0}
    shared = pd.DataFrame({name: np.full(5, 2.0) for name in _NUMBERS})
    rows, model_of = _model_rows(defaults, shared)
    assert rows.shape == (1, len(MODEL_COLUMNS)) and np.array_equal(model_of, np.zeros(5))
    mixed = shared.assign(theta_p=[1.3, 1.4, 1.3, 1.5, 1.4])
    rows, model_of = _model_rows(defaults, mixed)
    column = MODEL_COLUMNS.index("theta_p")
    assert len(rows) == 3 and np.array_equal(rows[model_of, column], mixed["theta_p"])
    tau = MODEL_COLUMNS.index("tau")
    assert np.all(rows[model_of, tau] == 2e-3)  # NEST's ms, the walk's s
    rows, model_of = _model_rows(defaults, shared.iloc[:0])
    assert model_of.size == 0
