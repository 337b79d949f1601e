"""Reliability contract: bad input at every entry point, bounded memory, silent synapses.

Each case asserts the error type and that the message names the offending input (the
``docs/reliability.rst`` page lists the same contract).
"""

import tracemalloc

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, ms, mV, second

import brian2_calcium as bc
from brian2_calcium import reference
from brian2_calcium.protocols import SpikeTrains

P = bc.get_parameters("DP")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: bc.pairs(10 * mV, 1 * Hz, 60), DimensionMismatchError, "delta_t"),
        (lambda: bc.pairs(10, 1 * Hz, 60), TypeError, "delta_t needs a time unit"),
        (lambda: bc.pairs(10 * ms, 1 * second, 60), DimensionMismatchError, "frequency"),
        (lambda: bc.pairs(np.nan * ms, 1 * Hz, 60), ValueError, "delta_t must be finite"),
        (lambda: bc.pairs(10 * ms, -1 * Hz, 60), ValueError, "frequency must be positive"),
        (lambda: bc.pairs(10 * ms, 1 * Hz, 0), ValueError, "n_pairs must be a positive"),
        (lambda: bc.pairs(60 * ms, 20 * Hz, 60), ValueError, "outside the protocol period"),
        (lambda: bc.poisson_pairs(-1 * Hz, 1 * Hz, 1 * second), ValueError, "rate_pre"),
        (lambda: bc.poisson_pairs(1 * Hz, 1 * Hz, -1 * second), ValueError, "duration"),
        (
            lambda: bc.poisson_pairs(5 * Hz, 1 * Hz, 1 * second, p=0.5),
            ValueError,
            "rate_post must be at least p",
        ),
        (lambda: bc.get_parameters("DPP"), KeyError, "did you mean"),
        (lambda: P.replace(tau_ca=-20 * ms), ValueError, "tau_ca must be positive"),
        (lambda: P.replace(tau=float("nan") * second), ValueError, "tau must be a number"),
        (lambda: P.replace(theta_p=0.9), ValueError, "theta_p must be above theta_d"),
        (lambda: P.replace(Cpre=-1), ValueError, "Cpre must be non-negative"),
        (lambda: bc.predict_pairs(P, 10 * ms, 0 * Hz, 60), ValueError, "frequency"),
        (lambda: bc.transition_probabilities(P, 0.1, 0.1, 60), TypeError, "duration"),
        (lambda: bc.stdp_curve(P, engine="gpu"), ValueError, "engine must be one of"),
        (lambda: bc.stdp_curve(P, n_synapses=-3), ValueError, "n_synapses"),
        (
            lambda: bc.simulate_synapses(
                P, [[0.1] * second], [[0.2] * second], rho0=[0.3], t_end=-1 * second
            ),
            ValueError,
            "t_end must be >= 0 s, got -1.0 s",
        ),
        (
            lambda: bc.simulate_synapses(
                P,
                [[0.1] * second] * 2,
                [[0.2] * second] * 2,
                rho0=[0.3, 0.3],
                t_end=[1, -1e-3] * second,
            ),
            ValueError,
            "t_end must be >= 0 s",
        ),
        (lambda: bc.sweep(["DP"], [], engine="analytic"), ValueError, "protocols is empty"),
        (
            lambda: bc.sweep(["DP"], [bc.pairs(10 * ms, 1 * Hz, 60)], engine="gpu"),
            ValueError,
            "engine must be one of",
        ),
    ],
)
def test_public_entry_points_refuse_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "trains, message",
    [
        ([[0.1, 0.05]], "presynaptic train 0 is not sorted"),
        ([[0.1, np.nan]], "presynaptic train 0 contains NaN"),
        ([[0.1, np.inf]], "presynaptic train 0 contains NaN or infinite"),
        ([[-0.1, 0.2]], "presynaptic train 0 has negative spike times"),
    ],
)
def test_spike_trains_are_checked_before_the_compiled_loop(trains, message):
    with pytest.raises(ValueError, match=message):
        bc.simulate_synapses(
            P,
            [np.asarray(t) * second for t in trains],
            [[0.5] * second],
            rho0=[0.0],
            t_end=1 * second,
        )


def test_bare_arrays_are_refused_where_times_are_meant():
    with pytest.raises(TypeError, match="needs a time unit"):
        bc.simulate_synapses(P, [[0.1, 0.2]], [[0.15]], rho0=[0.0], t_end=1 * second)


def test_a_silent_synapse_follows_the_cubic_flow_only():
    # Empty trains are valid input: the synapse never sees calcium, so ρ relaxes along
    # the exact cubic flow (spec §6.3) and no noise is drawn.
    rho0 = np.array([0.0, 0.2, 0.45, 0.55, 0.9, 1.0])
    empty = SpikeTrains(np.zeros(0), np.zeros(2, dtype=np.int64))
    rho = bc.simulate_synapses(
        P, empty, empty, rho0=rho0, t_end=100 * second, train_of_synapse=np.zeros(6, dtype=int)
    )
    np.testing.assert_allclose(rho, reference.cubic_flow(rho0, 100.0, P), rtol=0, atol=1e-14)


def test_memory_does_not_grow_with_protocol_length():
    """A long protocol allocates nothing per event beyond its input trains."""

    def peak_extra(n_pairs):
        proto = bc.pairs(10 * ms, 10 * Hz, n_pairs)
        pre, post, _ = proto.trains(1, None)
        trains = np.zeros(2000, dtype=np.int64)
        rho0 = np.zeros(2000)
        t_end = np.full(2000, float(proto.duration[0]))
        from brian2_calcium.fastpath import _simulate

        tracemalloc.start()
        _simulate(P, pre, post, rho0, t_end, 1, trains, threads=1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    short, long_ = peak_extra(10), peak_extra(10_000)  # 20 vs 20 000 events per synapse
    assert long_ < 2 * short + 64_000  # same order: outputs only (2000 synapses)


def test_oversized_grids_are_refused_before_allocating():
    with pytest.raises(ValueError, match="stored spikes"):
        # stored trains (drawn in the loop, the same grid needs no spike storage at all)
        bc.run_protocol(bc.poisson_pairs(50 * Hz, 50 * Hz, 10_000 * second), P, n_synapses=1_000,
                        trains="stored")  # fmt: skip
