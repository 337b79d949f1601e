"""Tsodyks–Markram facilitation of the presynaptic calcium (issue 23).

The release at a presynaptic calcium event is u⁺·x⁻ (Tsodyks, Pawelzik & Markram 1998):
u decays to 0 with τ_F and jumps to u⁻ + U(1 − u⁻) at an event; the resources x recover
to 1 with τ_rec and lose what is released. The checks: the calcium the fast path reads
out equals that recursion written out here, the numpy mirror equals the fast path, the
theory's steady state equals the recursion run to convergence, and the analytic change in
strength for periodic pairs agrees with the simulation; the Brian2 event template (numpy,
cython) equals the fast path and the clock template agrees within its time step.
"""

import numpy as np
import pytest
from brian2 import ms, second

import brian2_calcium as bc
from brian2_calcium import (
    ParameterTable,
    SpikeTrains,
    get_parameters,
    reference,
    run_protocol,
    simulate_synapses,
)
from brian2_calcium.analytic import _Rows, _steady_pre_amplitudes
from brian2_calcium.protocols import frequency_pairs
from brian2_calcium.units import SI

# A facilitating DP synapse: low baseline release, facilitation slower than recovery.
FACILITATING = get_parameters("DP").replace(
    Cpre=5.0, stp_U=0.1, tau_rec=80 * ms, tau_fac=500 * ms, name="DP facilitating"
)


def _released(times, U, tau_rec, tau_fac):
    """u⁺·x⁻ at each event of a train (s), by the recursion of the model's definition."""
    u_plus, x_minus, out = 0.0, 1.0, []
    last = None
    for t in times:
        if last is None:
            u_minus, x_now = 0.0, 1.0
        else:
            gap = t - last
            u_minus = u_plus * np.exp(-gap / tau_fac) if tau_fac > 0 else 0.0
            x_now = 1.0 - (1.0 - x_minus * (1.0 - u_plus)) * np.exp(-gap / tau_rec)
        u_plus = u_minus + U * (1.0 - u_minus)
        x_minus = x_now
        out.append(u_plus * x_minus)
        last = t
    return np.array(out)


@pytest.mark.parametrize("tau_fac", [500 * ms, 0 * ms], ids=["facilitating", "depressing"])
def test_the_calcium_read_out_follows_the_release_recursion(tau_fac):
    p = FACILITATING.replace(sigma=0, tau_fac=tau_fac)
    rng = np.random.default_rng(1)
    pre = np.sort(rng.uniform(0.0, 1.0, 25))
    arrivals = pre + p.D
    read = arrivals + 1e-6  # just after each arrival
    _, _, c = simulate_synapses(p, [pre * second], [np.zeros(0) * second], [0.5], 2 * second,
                                readout_times=read * second)  # fmt: skip
    released = _released(arrivals, p.stp_U, p.tau_rec, p.tau_fac)
    expected = [
        np.sum(p.Cpre * released[: k + 1] * np.exp(-(read[k] - arrivals[: k + 1]) / p.tau_ca))
        for k in range(read.size)
    ]
    np.testing.assert_allclose(c[0], expected, rtol=1e-12)
    # the two models differ on this train: the test tells them apart
    other = _released(arrivals, p.stp_U, p.tau_rec, 0.5 - p.tau_fac)
    assert np.abs(other - released).max() > 0.05


@pytest.mark.parametrize("base", ["DP", "deperrois2020_visual"])
def test_the_numpy_mirror_equals_the_fast_path(base):
    p = get_parameters(base).replace(sigma=0, stp_U=0.3, tau_rec=100 * ms, tau_fac=250 * ms,
                                     rho_scales_cpre=base != "DP")  # fmt: skip
    rng = np.random.default_rng(2)
    pre = [np.sort(rng.uniform(0, 3, 40)) for _ in range(4)]
    post = [np.sort(rng.uniform(0, 3, 40)) for _ in range(4)]
    pre_t, post_t = SpikeTrains.from_list(pre), SpikeTrains.from_list(post)
    rho0 = np.array([0.1, 0.4, 0.6, 0.9])
    fast = simulate_synapses(p, pre_t, post_t, rho0, 3 * second)
    mirror = reference.simulate(p, pre_t, post_t, rho0, 3.0, np.random.default_rng(0))
    np.testing.assert_allclose(fast, mirror, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("frequency", [1.0, 5.0, 20.0, 50.0])
def test_the_theory_steady_state_is_the_recursion_run_to_convergence(frequency):
    period = 1.0 / frequency
    times = np.arange(400) * period  # long enough to forget the start
    released = _released(times, FACILITATING.stp_U, FACILITATING.tau_rec, FACILITATING.tau_fac)
    amps = _steady_pre_amplitudes(FACILITATING, np.array([0.0]), np.array(period))
    np.testing.assert_allclose(amps, FACILITATING.Cpre * released[-1], rtol=1e-10)


def test_the_theory_steady_state_of_a_burst_pattern():
    # two presynaptic events per period, 10 ms apart, at 10 Hz: the steady state alternates
    period = 0.1
    pattern = np.array([0.0, 0.01])
    times = (np.arange(300)[:, None] * period + pattern).ravel()
    released = _released(times, FACILITATING.stp_U, FACILITATING.tau_rec, FACILITATING.tau_fac)
    amps = _steady_pre_amplitudes(FACILITATING, pattern, np.array(period))
    np.testing.assert_allclose(amps, FACILITATING.Cpre * released[-2:], rtol=1e-10)


def test_a_table_row_with_facilitation_matches_its_set():
    table = ParameterTable(FACILITATING, tau_fac=[0.0, 100e-3, 300e-3] * second)
    pattern = np.array([0.0, 0.01])
    rows = _steady_pre_amplitudes(_Rows(table, 1), np.tile(pattern, (3, 1)), np.full(3, 0.1))
    for k in range(3):
        one = _steady_pre_amplitudes(table[k], pattern, np.array(0.1))
        np.testing.assert_allclose(rows[k], one, rtol=1e-12)


def test_analytic_change_in_strength_agrees_with_the_simulation():
    """Periodic pairs (Δt = +10 ms, 30 pairs) at 1–50 Hz, 2000 synapses per state: the
    diffusion approximation within 3.5 SE + 0.015 (the tolerance of the approximation used
    for the published sets); the theory without facilitation misses by far more."""
    n = 2000
    proto = frequency_pairs(SI([1.0, 5.0, 10.0, 20.0, 50.0]), SI([10e-3] * 5), 30)
    df = run_protocol(proto, FACILITATING, n_synapses=n, seed=5)
    tolerance = 3.5 * df.S_se + 0.015
    assert np.all(np.abs(df.S - df.S_analytic) <= tolerance), df[["S", "S_analytic"]]
    # power: the theory without facilitation fails the same check
    plain = run_protocol(proto, FACILITATING.replace(tau_fac=0 * ms), engine="analytic")
    assert np.any(np.abs(plain.S - df.S) > 2 * tolerance), (plain.S, df.S)


def test_facilitation_needs_depression_and_is_refused_where_missing():
    import brian2_calcium as bc

    with pytest.raises(ValueError, match=r"facilitation .* needs the release fraction stp_U"):
        get_parameters("DP").replace(tau_fac=10 * ms)
    with pytest.raises(ValueError, match=r"tau_fac must be non-negative"):
        FACILITATING.replace(tau_fac=-1 * ms)
    with pytest.raises(ValueError, match=r"gb_synapse does not have facilitation yet"):
        bc.nest.model_parameters(FACILITATING, w0=1.0)
    with pytest.raises(ValueError, match=r"row 0: facilitation"):
        ParameterTable("DP", tau_fac=[10] * ms)
    assert FACILITATING.facilitation and not get_parameters("DP").facilitation
    assert "tau_fac         500 ms" in FACILITATING.describe()
    assert bc.CalciumParameters.from_json(FACILITATING.to_json()) == FACILITATING


def _brian2_run(p, target, mode="event"):
    """Irregular pre and post trains onto 40 synapses with σ = 0; ρ at the end."""
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        rng = np.random.default_rng(4)
        pre = [np.round(np.sort(rng.uniform(0, 2000, 60)), 1) for _ in range(40)]
        post = [np.round(np.sort(rng.uniform(0, 2000, 30)), 1) for _ in range(40)]
        pre = [np.unique(t) for t in pre]
        post = [np.unique(t) for t in post]

        def group(trains, name):
            i = np.concatenate([np.full(t.size, k) for k, t in enumerate(trains)])
            return b2.SpikeGeneratorGroup(40, i, np.concatenate(trains) * ms, name=name)

        source, target_group = group(pre, "pre_fac"), group(post, "post_fac")
        tpl = bc.synapse_template(p, mode)
        S = bc.make_synapses(source, target_group, tpl, connect="i == j", name="fac")
        S.rho = np.linspace(0.1, 0.9, 40)
        b2.Network(source, target_group, S).run(2.1 * second, namespace={})
        rho = bc.bring_up_to_date(S, 2.1 * second)
    finally:
        b2.prefs.codegen.target = previous
    fast = simulate_synapses(p, [t * 1e-3 * second for t in pre],
                             [t * 1e-3 * second for t in post], np.linspace(0.1, 0.9, 40),
                             2.1 * second)  # fmt: skip
    return rho, fast


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_the_event_template_equals_the_fast_path(target):
    p = FACILITATING.replace(sigma=0)
    rho, fast = _brian2_run(p, target)
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)
    assert np.abs(fast - np.linspace(0.1, 0.9, 40)).max() > 1e-2  # plasticity happened


def test_the_clock_template_agrees_within_its_time_step(numpy_target):
    p = FACILITATING.replace(sigma=0)
    rho, fast = _brian2_run(p, "numpy", mode="clock")
    np.testing.assert_allclose(rho, fast, rtol=0, atol=5e-3)
