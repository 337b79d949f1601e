"""The Brian2 engines (event and clock templates) on protocol grids.

Oracles: the compiled fast path on the same spike trains (σ = 0 to 1e-9; with noise,
statistically), the clock template against the event template (σ = 0: an O(dt) bias that
shrinks with dt; with noise: U and D per point within 3.5 SE and a χ² over the grid, at
2500 synapses per state, for every noise gating) and the same engine
on another code generation target.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second
from proportions import assert_same_proportions

from brian2_calcium import get_parameters
from brian2_calcium.brian2_engine import simulate_brian2
from brian2_calcium.experiments import run_protocol
from brian2_calcium.fastpath import _simulate
from brian2_calcium.protocols import SpikeTrains, pairs

# DP with τ = 7.5 s and 3 pairs at 5 Hz has the U and D of DP's 60 pairs at 1 Hz (the
# diffusion theory depends on T/τ; checked with analytic.predict_pairs) in 0.6 s of
# protocol, so that clock-driven runs stay short.
FAST_DP = dict(tau=7.5 * second)
DELTA_T = [-20, -10, 10, 20] * ms


def _grid(p, delta_t, n, frequency=5 * Hz, n_pairs=3):
    """Trains and per-synapse arrays laid out as ``run_protocol`` does (n per state)."""
    proto = pairs(delta_t, frequency, n_pairs)
    pre, post, _ = proto.trains(2 * n, None)
    C = proto.n_conditions
    trains = np.repeat(np.arange(C), 2 * n)
    rho0 = np.tile(np.repeat([0.0, 1.0], n), C)
    t_end = proto.duration[trains] + 10 * p.tau_ca
    return pre, post, trains, rho0, t_end


def _UD(p, rho, n):
    rho = rho.reshape(-1, 2 * n)
    return np.mean(rho[:, :n] > p.rho_star, axis=1), np.mean(rho[:, n:] < p.rho_star, axis=1)


def _assert_same_statistics(p, rho_a, rho_b, n):
    """U and D of two engines on the same grid (:mod:`proportions`); at n = 2500 per
    state 3.5 SE is at most 0.0495: a rule that moves U or D by 0.05 fails."""
    pairs = zip(_UD(p, rho_a, n), _UD(p, rho_b, n), strict=True)
    assert_same_proportions(pairs, n)


# ------------------------------------------------------------------------------------------
# Event engine = fast path (σ = 0)


def test_event_engine_equals_fast_path_without_noise():
    """DP, both signs of Δt, trains shared by several synapses, several end times."""
    p = get_parameters("DP").replace(sigma=0)
    pre, post, trains, rho0, t_end = _grid(p, [-30, -4, 0, 6, 16] * ms, 2)
    rho0 = np.tile([0.1, 0.45, 0.55, 0.9], 5)
    t_end = t_end.copy()
    t_end[::3] = 0.3137  # read out mid-protocol (later spikes ignored), and at an event
    rho = simulate_brian2(p, pre, post, trains, rho0, t_end, seed=1)
    fast = _simulate(p, pre, post, rho0, t_end, 1, trains)
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)
    assert np.abs(rho - rho0).max() > 1e-2  # the protocol moved ρ


def test_event_engine_equals_fast_path_for_nonlinear_calcium():
    """η·c_pre at post spikes; Δt = D puts post spikes in the step where pre calcium lands."""
    p = get_parameters("graupner2016_nonlinear")
    pre, post, trains, rho0, t_end = _grid(p, [-10, 0, 10, 25] * ms, 1, 10 * Hz, 5)
    rho0 = np.full(rho0.size, p.rho0)
    rho = simulate_brian2(p, pre, post, trains, rho0, t_end)
    np.testing.assert_allclose(rho, _simulate(p, pre, post, rho0, t_end, 0, trains), atol=1e-9)


@pytest.mark.parametrize("gating", ["d+p", "d", "none"])
def test_event_engine_with_noise_matches_fast_path_statistics(gating):
    p = get_parameters("DP").replace(noise_gating=gating, **FAST_DP)
    n = 2500
    grid = _grid(p, DELTA_T, n)
    rho = simulate_brian2(p, *grid, seed=2)
    pre, post, trains, rho0, t_end = grid
    fast = _simulate(p, pre, post, rho0, t_end, 2, trains)
    _assert_same_statistics(p, rho, fast, n)
    U, D = _UD(p, fast, n)
    if gating != "none":  # transitions happen, so the comparison has power
        assert np.all((U > 0.05) | (D > 0.05))


def test_same_seed_same_numbers_and_another_seed_others():
    p = get_parameters("DP").replace(**FAST_DP)
    grid = _grid(p, [10] * ms, 20)
    a = simulate_brian2(p, *grid, seed=7)
    b = simulate_brian2(p, *grid, seed=7)
    c = simulate_brian2(p, *grid, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------------------------------
# Clock template against the event template


def _bias(p, dt, grid):
    event = simulate_brian2(p, *grid, dt=dt)
    clock = simulate_brian2(p, *grid, mode="clock", dt=dt)
    return np.abs(clock - event).max()


def test_clock_template_converges_to_the_event_template():
    """σ = 0: the clock template's O(dt) bias; it must shrink when dt does."""
    p = get_parameters("DP").replace(sigma=0, **FAST_DP)
    pre, post, trains, _, t_end = _grid(p, [-10, 10] * ms, 1, n_pairs=2)
    # Read out 30 ms after the last pair: calcium is then below θd, ρ flows deterministically.
    grid = (pre, post, trains, np.tile([0.3, 0.7], 2), t_end - 10 * p.tau_ca + 0.03)
    coarse = _bias(p, 0.1 * ms, grid)
    fine = _bias(p, 0.02 * ms, grid)
    print(f"\nclock − event, max |Δρ| (σ = 0): dt = 0.1 ms: {coarse:.2e}, 0.02 ms: {fine:.2e}")
    assert coarse < 2e-2
    assert fine < 0.5 * coarse


def test_clock_template_with_nonlinear_calcium_follows_the_event_template():
    p = get_parameters("graupner2016_nonlinear").replace(tau=70 * second)
    pre, post, trains, _, t_end = _grid(p, [-10, 10] * ms, 1, 10 * Hz, 4)
    grid = (pre, post, trains, np.full(4, p.rho0), t_end)
    change = np.abs(simulate_brian2(p, *grid) - p.rho0).max()
    bias = _bias(p, 0.1 * ms, grid)
    assert bias < 0.05 * change, (bias, change)


@pytest.mark.parametrize("gating", ["d+p", "d"])
def test_clock_and_event_templates_agree_statistically(gating):
    p = get_parameters("DP").replace(noise_gating=gating, **FAST_DP)
    n = 2500
    grid = _grid(p, DELTA_T, n)
    event = simulate_brian2(p, *grid, seed=3)
    clock = simulate_brian2(p, *grid, seed=4, mode="clock")
    _assert_same_statistics(p, event, clock, n)


# ------------------------------------------------------------------------------------------
# Interface


def test_run_protocol_through_the_brian2_engines():
    proto = pairs([10] * ms, 5 * Hz, 3)
    p = get_parameters("DP").replace(**FAST_DP)
    for engine in ("brian2", "brian2-clock"):
        df = run_protocol(proto, p, n_synapses=10, engine=engine, seed=1, dt=0.1 * ms)
        assert df.n_synapses[0] == 10 and 0 <= df.U[0] <= 1 and 0 <= df.D[0] <= 1


def test_timings_are_reported():
    p = get_parameters("DP")
    timings = {}
    simulate_brian2(p, *_grid(p, [10] * ms, 1), timings=timings)
    assert set(timings) == {"run_s", "build_s", "total_s"}
    assert 0 < timings["run_s"] <= timings["total_s"]


def test_bad_input_is_refused_with_a_reason():
    p = get_parameters("DP")
    pre, post, trains, rho0, t_end = _grid(p, [10] * ms, 1)
    with pytest.raises(ValueError, match="target"):
        simulate_brian2(p, pre, post, trains, rho0, t_end, target="cuda")
    with pytest.raises(ValueError, match="mode"):
        simulate_brian2(p, pre, post, trains, rho0, t_end, mode="exact")
    with pytest.raises(ValueError, match="train"):
        simulate_brian2(p, pre, post, trains + 5, rho0, t_end)
    with pytest.raises(TypeError, match="unit"):
        simulate_brian2(p, pre, post, trains, rho0, t_end, dt=1e-4)
    close = SpikeTrains(np.array([0.01, 0.01002]), np.array([0, 2]))
    one = SpikeTrains(np.array([0.02]), np.array([0, 1]))
    with pytest.raises(ValueError, match="same time step"):
        simulate_brian2(p, close, one, [0], [0.0], np.array([1.0]))
    unsorted = SpikeTrains(np.array([0.5, 0.1]), np.array([0, 2]))
    with pytest.raises(ValueError, match="presynaptic train 0 is not sorted"):
        simulate_brian2(p, unsorted, close, [0], [0.0], np.array([1.0]))
    with pytest.raises(ValueError, match="rho0"):
        simulate_brian2(p, pre, post, trains, np.full(rho0.size, np.nan), t_end)


# ------------------------------------------------------------------------------------------
# Compiled targets (long)


@pytest.mark.long
def test_cython_event_engine_equals_fast_path_and_is_reproducible():
    p = get_parameters("DP").replace(sigma=0)
    pre, post, trains, rho0, t_end = _grid(p, [-30, -4, 0, 6, 16] * ms, 2)
    rho0 = np.tile([0.1, 0.45, 0.55, 0.9], 5)
    rho = simulate_brian2(p, pre, post, trains, rho0, t_end, target="cython")
    np.testing.assert_allclose(rho, _simulate(p, pre, post, rho0, t_end, 0, trains), atol=1e-9)
    q = get_parameters("DP").replace(**FAST_DP)
    grid = _grid(q, [10] * ms, 20)
    a = simulate_brian2(q, *grid, seed=5, target="cython")
    np.testing.assert_array_equal(a, simulate_brian2(q, *grid, seed=5, target="cython"))


@pytest.mark.long
def test_cython_clock_and_event_agree_at_two_time_steps():
    """U and D within tolerance at dt = 0.1 and 0.02 ms; the σ = 0 bias shrinks."""
    p = get_parameters("DP").replace(**FAST_DP)
    n = 2500
    grid = _grid(p, DELTA_T, n)
    quiet = p.replace(sigma=0)
    det = _grid(quiet, DELTA_T, 1)
    det = det[:3] + (np.tile([0.3, 0.7], 4), det[4])
    biases = {}
    for dt in (0.1 * ms, 0.02 * ms):
        event = simulate_brian2(p, *grid, seed=1, target="cython", dt=dt)
        clock = simulate_brian2(p, *grid, seed=2, target="cython", dt=dt, mode="clock")
        _assert_same_statistics(p, event, clock, n)
        (Ue, De), (Uc, Dc) = _UD(p, event, n), _UD(p, clock, n)
        biases[float(dt / ms)] = det_bias = max(
            np.abs(
                simulate_brian2(quiet, *det, target="cython", dt=dt, mode="clock")
                - simulate_brian2(quiet, *det, target="cython", dt=dt)
            )
        )
        print(f"\ndt = {float(dt / ms)} ms: event U {np.round(Ue, 3)} D {np.round(De, 3)}; "
              f"clock U {np.round(Uc, 3)} D {np.round(Dc, 3)}; "
              f"σ = 0 bias max |Δρ| = {det_bias:.2e}")  # fmt: skip
    assert biases[0.02] < 0.5 * biases[0.1]


@pytest.mark.long
@pytest.mark.standalone
def test_standalone_event_engine_equals_fast_path_and_targets_agree():
    p = get_parameters("DP").replace(sigma=0)
    pre, post, trains, rho0, t_end = _grid(p, [-30, -4, 0, 6, 16] * ms, 2)
    rho0 = np.tile([0.1, 0.45, 0.55, 0.9], 5)
    rho = simulate_brian2(p, pre, post, trains, rho0, t_end, target="cpp_standalone")
    np.testing.assert_allclose(rho, _simulate(p, pre, post, rho0, t_end, 0, trains), atol=1e-9)

    q = get_parameters("DP").replace(**FAST_DP)
    n = 2500
    grid = _grid(q, DELTA_T, n)
    runs = {
        t: simulate_brian2(q, *grid, seed=9, target=t)
        for t in ("numpy", "cython", "cpp_standalone")
    }
    again = simulate_brian2(q, *grid, seed=9, target="cpp_standalone")
    np.testing.assert_array_equal(runs["cpp_standalone"], again)
    _assert_same_statistics(q, runs["numpy"], runs["cython"], n)
    _assert_same_statistics(q, runs["numpy"], runs["cpp_standalone"], n)
    _assert_same_statistics(q, runs["cython"], runs["cpp_standalone"], n)
