"""Sweeps give the same table serially, on a process pool and on a Dask cluster."""

import pickle
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from brian2 import Hz, ms
from conftest import require

from brian2_calcium import get_parameters, pairs, predict_pairs
from brian2_calcium.sweeps import sweep

PROTOCOLS = {
    "pairs 1 Hz": pairs([-20, 10] * ms, 1 * Hz, 60),
    "pairs 20 Hz": pairs(10 * ms, 20 * Hz, 75),
}


def test_parameters_and_protocols_pickle():
    p = get_parameters("DP")
    assert pickle.loads(pickle.dumps(p)) == p
    proto = PROTOCOLS["pairs 1 Hz"]
    assert pickle.loads(pickle.dumps(proto)).conditions["delta_t_ms"].tolist() == [-20.0, 10.0]


def test_analytic_sweep_matches_the_theory():
    df = sweep(["DP", "cortical_slices"], PROTOCOLS, engine="analytic")
    assert list(df.parameter_set) == ["DP"] * 3 + ["cortical_slices"] * 3
    expected = predict_pairs("cortical_slices", 10 * ms, 20 * Hz, 75).S
    assert df.S.iloc[-1] == pytest.approx(float(expected), abs=1e-12)


def test_process_pool_matches_serial():
    serial = sweep(["DP", "P"], PROTOCOLS, n_synapses=30, seed=11)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = sweep(["DP", "P"], PROTOCOLS, n_synapses=30, seed=11, executor=pool)
    pd.testing.assert_frame_equal(serial, parallel)
    other = sweep(["DP", "P"], PROTOCOLS, n_synapses=30, seed=12)
    assert not serial.S.equals(other.S)


def test_dask_local_cluster_matches_serial():
    distributed = require("distributed")
    serial = sweep(["DP", "D'"], PROTOCOLS, n_synapses=30, seed=4)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            parallel = sweep(
                ["DP", "D'"], PROTOCOLS, n_synapses=30, seed=4, executor=client.get_executor()
            )
    pd.testing.assert_frame_equal(serial, parallel)


def test_a_single_set_name_is_one_set_not_its_letters():
    # "DP" iterated would be the sets "D" and "P": a single name must stay one set.
    df = sweep("DP", PROTOCOLS["pairs 20 Hz"], engine="analytic")
    assert list(df.parameter_set) == ["DP"]
    expected = predict_pairs("DP", 10 * ms, 20 * Hz, 75).S
    assert df.S.iloc[0] == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"engine": "fastest"}, ValueError, "engine must be one of"),
        ({"parameter_sets": []}, ValueError, "parameter_sets is empty"),
        ({"protocols": {}}, ValueError, "protocols is empty"),
        ({"protocols": []}, ValueError, "protocols is empty"),
        ({"protocols": ["pairs"]}, TypeError, "protocols must hold Protocol objects"),
        ({"parameter_sets": ["DP", "DPP"]}, KeyError, "DPP"),
    ],
)
def test_bad_sweep_input_is_refused_naming_the_argument(kwargs, error, message):
    call = {"parameter_sets": ["DP"], "protocols": PROTOCOLS, "engine": "analytic"} | kwargs
    with pytest.raises(error, match=message):
        sweep(**call)
