"""Inputs that used to be rounded, wrapped or clamped are refused, naming the argument.

Seeds are integers in [0, 2**64); thread counts integers >= 1 or None; a bistable set's
initial efficacy lies in [0, 1]; U, D and beta in [0, 1]; stored spike times and Brian2
runs end by :data:`~brian2_calcium.inputs.MAX_TIME`; a walked train has at most
:data:`~brian2_calcium.inputs.MAX_SPIKES` spikes. Valid edge values work.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second

import brian2_calcium.inputs as inputs
from brian2_calcium import (
    change_in_strength,
    change_in_strength_se,
    get_parameters,
    memory_time_curve,
    run_protocol,
    simulate_network,
    simulate_synapses,
    sweep,
)
from brian2_calcium.brian2_engine import simulate_brian2
from brian2_calcium.cli import main
from brian2_calcium.inputs import MAX_SEED, MAX_TIME, check_seed, check_threads
from brian2_calcium.protocols import SpikeTrains, pairs
from brian2_calcium.spike_history import (
    SpikeHistory,
    initial_state,
    model_namespace,
    walk_numpy,
)

PRE = [np.arange(5) * 0.2 * second]
POST = [np.arange(5) * 0.2 * second + 10 * ms]
BAD_SEEDS = [
    (1.5, TypeError),
    (1.0, TypeError),
    (True, TypeError),
    (np.bool_(True), TypeError),
    ("1", TypeError),
    (None, TypeError),
    (-1, ValueError),
    (2**64, ValueError),
]


def _one_synapse(**kwargs):
    return simulate_synapses("DP", PRE, POST, rho0=[0.0], t_end=1 * second, **kwargs)


# ------------------------------------------------------------------------------------------
# seed


@pytest.mark.parametrize("seed, error", BAD_SEEDS)
def test_check_seed_refuses_what_is_not_an_integer_in_range(seed, error):
    with pytest.raises(error, match=r"^seed must be an integer in \[0, 2\*\*64\)"):
        check_seed(seed)


def test_check_seed_names_the_argument_and_keeps_numpy_integers():
    with pytest.raises(ValueError, match="^root must be"):
        check_seed(-3, name="root")
    assert check_seed(np.uint64(MAX_SEED)) == MAX_SEED
    assert type(check_seed(np.int64(7))) is int


@pytest.mark.parametrize("seed, error", BAD_SEEDS)
def test_fast_path_refuses_bad_seeds(seed, error):
    with pytest.raises(error, match="seed must be an integer"):
        _one_synapse(seed=seed)


def test_fast_path_takes_the_edge_seeds_and_numpy_integers():
    noisy = [_one_synapse(seed=s)[0] for s in (0, MAX_SEED, np.int64(3), 3, np.uint64(3))]
    assert all(np.isfinite(noisy))
    assert noisy[2] == noisy[3] == noisy[4]  # a numpy integer is the same seed
    assert noisy[0] != noisy[1]  # 2**64 - 1 is not wrapped onto 0


@pytest.mark.parametrize("seed, error", BAD_SEEDS)
def test_run_protocol_refuses_bad_seeds(seed, error):
    with pytest.raises(error, match="seed must be an integer"):
        run_protocol(pairs(10 * ms, 1 * Hz, 5), "DP", n_synapses=2, seed=seed)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_run_protocol_takes_the_largest_seed(engine):
    df = run_protocol(pairs(10 * ms, 1 * Hz, 5), "DP", n_synapses=3, engine=engine, seed=MAX_SEED)
    assert df.attrs["seed"] == MAX_SEED
    assert np.isfinite(df.S).all()


def test_in_loop_trains_take_the_largest_seed():
    from brian2_calcium.protocols import poisson_pairs

    proto = poisson_pairs(5 * Hz, 5 * Hz, 1 * second, p=0.5, delta_t=10 * ms)
    df = run_protocol(proto, "DP", n_synapses=3, seed=np.uint64(MAX_SEED), trains="in_loop")
    assert np.isfinite(df.S).all()


def test_sweep_memory_time_curve_and_brian2_engine_refuse_bad_seeds():
    proto = pairs(10 * ms, 1 * Hz, 5)
    with pytest.raises(ValueError, match="seed must be an integer"):
        sweep(["DP"], proto, engine="analytic", seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        memory_time_curve("higgins2014_in_vitro", [1] * Hz, seed=1.5)
    trains = SpikeTrains(np.array([0.0]), np.array([0, 1]))
    with pytest.raises(TypeError, match="seed must be an integer"):
        simulate_brian2("DP", trains, trains, None, [0.0], 1.0, seed=2.0)


def test_network_refuses_bad_seeds_before_building():
    with pytest.raises(ValueError, match="seed must be an integer"):
        simulate_network(0.01, target="numpy", n_neurons=20, seed=2**64)
    with pytest.raises(TypeError, match="seed must be an integer"):
        simulate_network(0.01, target="numpy", n_neurons=20, seed=0.5)


@pytest.mark.parametrize("text", ["-1", "1.5", str(2**64), "x"])
def test_cli_refuses_bad_seeds_in_one_line(text, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["stdp-curve", "--engine", "analytic", "--seed", text]) == 2
    err = capsys.readouterr().err
    assert "--seed: expected an integer in [0, 2**64)" in err
    assert err.count("\n") == 1 and "Traceback" not in err


# ------------------------------------------------------------------------------------------
# threads


@pytest.mark.parametrize(
    "threads, error, message",
    [
        (0, ValueError, "got 0"),
        (-2, ValueError, "got -2"),
        (1.5, TypeError, "got 1.5"),
        (2.0, TypeError, "got 2.0"),
        (True, TypeError, "got True"),
        ("2", TypeError, "got '2'"),
    ],
)
def test_fast_path_refuses_bad_thread_counts(threads, error, message):
    with pytest.raises(error, match=rf"^threads must be an integer >= 1 .*{message}"):
        _one_synapse(threads=threads)
    with pytest.raises(error, match="^threads must be"):
        check_threads(threads)


def test_thread_counts_none_one_and_numpy_give_the_same_numbers():
    ref = _one_synapse(seed=5, threads=None)
    assert _one_synapse(seed=5, threads=1) == ref
    assert _one_synapse(seed=5, threads=np.int32(2)) == ref


def test_run_protocol_passes_threads_through_the_check():
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        run_protocol(pairs(10 * ms, 1 * Hz, 5), "DP", n_synapses=2, threads=0)


def test_network_refuses_bad_thread_counts():
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        simulate_network(0.01, target="cpp_standalone", n_neurons=20, threads=0)
    with pytest.raises(TypeError, match="threads must be an integer >= 1"):
        simulate_network(0.01, target="cpp_standalone", n_neurons=20, threads=1.5)


# ------------------------------------------------------------------------------------------
# rho0


@pytest.mark.parametrize("rho0", [1e200, -0.01, 1.01, np.inf, np.nan])
def test_a_bistable_initial_efficacy_lies_in_zero_one(rho0):
    with pytest.raises(ValueError, match="^rho0"):
        simulate_synapses("DP", PRE, POST, rho0=[rho0], t_end=1 * second)


def test_the_edges_of_zero_one_are_valid_initial_efficacies():
    rho = simulate_synapses("DP", PRE * 2, POST * 2, rho0=[0.0, 1.0], t_end=1 * second)
    assert np.isfinite(rho).all()


def test_a_flat_potential_initial_efficacy_need_only_be_finite():
    rho = simulate_synapses("graupner2016_linear", PRE, POST, rho0=[1.5], t_end=1 * second)
    assert np.isfinite(rho).all()
    with pytest.raises(ValueError, match="rho0 must be finite"):
        simulate_synapses("graupner2016_linear", PRE, POST, rho0=[np.inf], t_end=1 * second)


def test_the_brian2_engine_checks_the_initial_efficacy_before_building():
    trains = SpikeTrains(np.array([0.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"rho0 .* must lie in \[0, 1\], got 2.0"):
        simulate_brian2("DP", trains, trains, None, [2.0], 1.0)


# ------------------------------------------------------------------------------------------
# U, D, beta, b, n_synapses of the change in strength


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(U=2, D=0.1), r"^U must lie in \[0, 1\], got 2.0"),
        (dict(U=0.5, D=-0.1), r"^D must lie in \[0, 1\], got -0.1"),
        (dict(U=[0.1, 1.5], D=0.1), r"^U must lie in \[0, 1\], got 1.5"),
        (dict(U=np.inf, D=0.1), r"^U must lie in \[0, 1\], got inf"),
        (dict(U=0.5, D=0.5, beta=1.5), r"^beta must lie in \[0, 1\]"),
        (dict(U=0.5, D=0.5, b=0), r"^b \(the weight ratio w1/w0\) must be positive"),
    ],
)
def test_change_in_strength_refuses_what_is_not_a_probability(kwargs, message):
    with pytest.raises(ValueError, match=message):
        change_in_strength(**kwargs)
    with pytest.raises(ValueError, match=message):
        change_in_strength_se(n_synapses=10, **kwargs)


@pytest.mark.parametrize("n", [0, -5, 0.5, [10, 0]])
def test_change_in_strength_se_needs_a_synapse(n):
    with pytest.raises(ValueError, match="^n_synapses must be at least 1"):
        change_in_strength_se(0.5, 0.5, n)


def test_change_in_strength_takes_the_edges_and_passes_nan_through():
    assert change_in_strength(1, 0) == pytest.approx(1 + 4 * 0.5 / 3)
    assert change_in_strength(0, 1) == pytest.approx(1 - 4 * 0.5 / 3)
    assert change_in_strength_se(0, 1, 1) == 0.0
    assert np.isnan(change_in_strength(np.nan, 0.5))  # the mean read-out's undefined U
    assert np.isnan(change_in_strength_se(0.5, np.nan, 10))


# ------------------------------------------------------------------------------------------
# the tie window's time limit and the walk's 32-bit spike counters


def test_stored_spikes_after_the_time_limit_are_refused():
    late = [np.array([0.5, 2 * MAX_TIME]) * second]
    with pytest.raises(ValueError, match=r"presynaptic spike after 1e\+06 s"):
        simulate_synapses("DP", late, POST, rho0=[0.0], t_end=3 * MAX_TIME * second)
    with pytest.raises(ValueError, match=r"postsynaptic spike after 1e\+06 s"):
        simulate_synapses("DP", PRE, late, rho0=[0.0], t_end=3 * MAX_TIME * second)


def test_a_long_run_is_fine_while_its_stored_spikes_end_by_the_limit():
    p = "DP"
    late = [np.array([0.5, 2 * MAX_TIME]) * second]
    # the spike after the limit is never reached (t_end before it): nothing to resolve
    assert np.isfinite(simulate_synapses(p, late, POST, rho0=[0.0], t_end=MAX_TIME * second))
    # a quiet stretch after the last spike may run past the limit
    assert np.isfinite(simulate_synapses(p, PRE, POST, rho0=[0.0], t_end=5 * MAX_TIME * second))


def test_brian2_runs_after_the_time_limit_are_refused():
    trains = SpikeTrains(np.array([0.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"t_end .* must not exceed 1e\+06 s"):
        simulate_brian2("DP", trains, trains, None, [0.0], 2 * MAX_TIME)
    with pytest.raises(ValueError, match=r"duration must not exceed 1e\+06 s"):
        simulate_network(2 * MAX_TIME, target="numpy", n_neurons=20)


def test_brian2_engine_refuses_trains_beyond_the_walks_counters(monkeypatch):
    # 2**31 spikes cannot be built in a test: the same check with a limit of 2
    monkeypatch.setattr(inputs, "MAX_SPIKES", 2)
    trains = SpikeTrains(np.array([0.0, 0.1, 0.2]), np.array([0, 3]))
    with pytest.raises(ValueError, match="a train of 3 spikes is more than the 2"):
        simulate_brian2("DP", trains, trains, None, [0.0], 1.0)


def test_numpy_history_stops_counting_at_the_limit_and_its_walk_gives_nan():
    """As gb_history_record and gb_history_count in C: no wrap, a NaN synapse instead."""
    h = SpikeHistory(2, 8)
    record = h.record_function().implementations["numpy"].get_code(None)
    record(np.array([0, 1]), 0.001)
    h.recent[4] = inputs.MAX_SPIKES + 1  # neuron 1's counter is full
    before = h.recent.copy()
    counts = record(np.array([0, 1]), 0.002)
    assert counts.tolist() == [2, -1]
    assert np.array_equal(h.recent[4:], before[4:])  # nothing recorded for neuron 1
    state = initial_state(1, 0.3)
    rho, _ = walk_numpy(
        state, 0.01, [0], [1], h.buffers, h.buffers, model_namespace(get_parameters("DP"))
    )
    assert np.isnan(rho[0])
    rho, _ = walk_numpy(
        state, 0.01, [0], [0], h.buffers, h.buffers, model_namespace(get_parameters("DP"))
    )
    assert np.isfinite(rho[0])
