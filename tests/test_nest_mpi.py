"""gb_synapse on NEST's MPI processes: the same numbers on every layout, exact at σ = 0.

Each scenario of ``mpi_scenarios.py`` runs at 1 process x 1 thread, 1 x 2 threads and 2
processes x 1 thread (``mpiexec -n 2``); rank 0 writes what the ranks gathered. Needs an
MPI-enabled NEST, ``mpi4py`` and ``mpiexec`` (``tools/build_mpi_nest.py`` installs all
three); in CI a missing one fails the tests.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms, second
from conftest import require, skip_unless_ci

import brian2_calcium as bc
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.protocols import SpikeTrains

nest = require("nest")

SCRIPT = Path(__file__).with_name("mpi_scenarios.py")
sys.path.insert(0, str(SCRIPT.parent))
import mpi_scenarios as scenarios  # noqa: E402

LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1)}


def _mpiexec():
    require("mpi4py")
    if not nest.build_info.get("have_mpi"):
        skip_unless_ci("this NEST has no MPI: python tools/build_mpi_nest.py")
    found = shutil.which("mpiexec") or shutil.which("mpiexec", path=sysconfig.get_path("scripts"))
    if found is None:
        skip_unless_ci("mpiexec not found: pip install mpich (tools/build_mpi_nest.py)")
    return found


def _run(scenario, processes, threads, out, env=None):
    command = [sys.executable, str(SCRIPT), scenario, str(threads), str(out)]
    if processes > 1:
        command = [_mpiexec(), "-n", str(processes), *command]
    env = {**os.environ, "PYNEST_QUIET": "1", **(env or {})}
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout}\n{run.stderr}"


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """Every scenario's output at every layout: {scenario: {layout: npz}}."""
    _mpiexec()
    folder = tmp_path_factory.mktemp("mpi")
    out = {}
    for scenario in ("cuba", "parrots"):
        out[scenario] = {}
        for layout, (processes, threads) in LAYOUTS.items():
            path = folder / f"{scenario}-{layout}.npz"
            _run(scenario, processes, threads, path)
            out[scenario][layout] = dict(np.load(path))
            assert out[scenario][layout]["processes"] == processes
    return out


def test_noisy_cuba_is_the_same_on_every_layout(layouts):
    """The noisy 1000-neuron CUBA: the same spikes and the same ρ of every synapse."""
    one = layouts["cuba"]["1x1"]
    assert one["spike_i"].size > 1000 and one["rho"].size > 10_000
    for layout in ("1x2", "2x1"):
        other = layouts["cuba"][layout]
        assert np.array_equal(other["spike_i"], one["spike_i"]), layout
        assert np.array_equal(other["spike_t"], one["spike_t"]), layout
        assert np.max(np.abs(other["rho"] - one["rho"])) <= 1e-12, layout
    # the noise did act: some synapses moved away from 0 and 1
    assert np.mean((one["rho"] > 0.05) & (one["rho"] < 0.95)) > 0.01


@pytest.mark.parametrize("name", scenarios.SETS)
def test_parrot_synapses_are_the_same_on_every_layout(layouts, name):
    """State and read-out of synapses whose sources and targets sit on different ranks."""
    two = layouts["parrots"]["2x1"]
    owner = two[f"{name}/rank_of_neuron"]
    pre, post = two[f"{name}/pre"], two[f"{name}/post"]
    assert set(owner) == {0, 1}
    assert np.mean(owner[pre] != owner[post]) > 0.3  # across ranks
    for layout in ("1x1", "1x2"):
        other = layouts["parrots"][layout]
        for column in ("rho", "read", "t_last"):
            got, want = two[f"{name}/{column}"], other[f"{name}/{column}"]
            assert np.max(np.abs(got - want)) <= 1e-12, (layout, column)


def _trains(senders, times, neurons):
    return SpikeTrains.from_list([times[senders == k] / 1000.0 for k in neurons])


@pytest.mark.parametrize("name", scenarios.SETS[:3])
def test_sigma_zero_under_mpi_equals_the_fast_path(layouts, name):
    """At σ = 0 on two processes, the synapses' state (all brought up to date by a last
    presynaptic spike) and the read-out at an earlier time equal the fast path run on
    the recorded trains, to 1e-9."""
    run = layouts["parrots"]["2x1"]
    p = bc.get_parameters(name).replace(sigma=0.0)
    senders, times = run[f"{name}/senders"], run[f"{name}/times"]
    pre, post, rho0 = run[f"{name}/pre"], run[f"{name}/post"], run[f"{name}/rho0"]
    t_last = run[f"{name}/t_last"] / 1000.0
    assert np.all(t_last == t_last[0])
    pre_trains, post_trains = _trains(senders, times, pre), _trains(senders, times, post)
    fast, read, _ = simulate_synapses(
        p, pre_trains, post_trains, rho0, t_last[0] * second, seed=0,
        readout_times=[scenarios.READ_MS] * ms,
    )  # fmt: skip
    assert np.max(np.abs(run[f"{name}/rho"] - fast)) <= 1e-9
    assert np.max(np.abs(run[f"{name}/read"] - read[:, 0])) <= 1e-9
    assert np.mean(np.abs(fast - rho0)) > 0.02  # the synapses did change


def test_read_out_errors_under_mpi(tmp_path):
    """A precise-timing source on another rank is refused; a recorder that misses
    neurons is named on every rank; a read-out that one rank alone calls ends with an
    error after the timeout, not a hang."""
    _mpiexec()
    out = tmp_path / "errors"
    _run("errors", 2, 1, out, env={"BRIAN2_CALCIUM_MPI_TIMEOUT": "3"})
    ranks = [dict(np.load(f"{out}.rank{r}.npz")) for r in (0, 1)]
    for messages in ranks:
        assert "does not record" in str(messages["missing"])
        # the source lives on the other rank (a proxy here): refused by its model
        assert messages["remote_precise_pairs"] == 1
        assert "time grid" in str(messages["remote_precise"])
    assert "collective" in str(ranks[0]["one_rank"])
    assert "every one of the 2 ranks" in str(ranks[0]["one_rank"])


def test_one_process_needs_no_mpi4py(monkeypatch):
    """Without MPI the helpers are no-ops that never import mpi4py."""
    from brian2_calcium.nest import mpi

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # an import would fail
    assert mpi.processes() == 1 and mpi.rank() == 0 and mpi.is_root()
    a, b = mpi.allgather(np.arange(3), np.ones(2))
    assert np.array_equal(a, np.arange(3)) and np.array_equal(b, np.ones(2))
    mpi.collective("anything")
    monkeypatch.setenv("BRIAN2_CALCIUM_MPI_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="BRIAN2_CALCIUM_MPI_TIMEOUT"):
        mpi._timeout()


def test_an_mpi_nest_without_mpi_compiler_is_named(monkeypatch):
    """Against a NEST built with MPI, the module needs MPI's wrapper: its absence is named."""
    from types import SimpleNamespace

    from brian2_calcium.nest import build

    monkeypatch.setenv("MPICXX", "no-such-mpicxx")
    with pytest.raises(bc.nest.NestBuildError, match="no-such-mpicxx.*pip install mpich"):
        build._compiler(SimpleNamespace(build_info={"have_mpi": True}))
    monkeypatch.setenv("CXX", "g++")
    assert build._compiler(SimpleNamespace(build_info={"have_mpi": False})).endswith("g++")


def test_ranks_compile_the_module_once(tmp_path):
    """Two ranks starting on an empty cache: one compiles, the other waits and loads it."""
    code = "import brian2_calcium as bc; print(f'<{bc.nest.build.module_path()}>')"
    command = [_mpiexec(), "-n", "2", sys.executable, "-c", code]
    env = {**os.environ, "PYNEST_QUIET": "1", "BRIAN2_CALCIUM_CACHE": str(tmp_path)}
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("compiling the NEST module") == 1
    # each rank prints its path in <>: mpiexec may join the ranks' lines
    paths = re.findall(r"<([^<>]+)>", run.stdout)
    assert len(paths) == 2 and len(set(paths)) == 1 and Path(paths[0]).is_file()
