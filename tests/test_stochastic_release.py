"""Stochastic release from N sites (the stochastic Tsodyks–Markram model; issue 23).

N sites, each full or empty; an empty site refills with rate 1/τ_rec, and at a presynaptic
calcium event each full site releases with probability u; the calcium jump is Cpre·n/N.
Sites are independent, so for a periodic train (interval T) the probability p that a
site is full before a spike obeys p' = p(1 − u)(1 − r) + r with r = 1 − exp(−T/τ_rec):
the released number is Binomial(N, p·u) at every spike, with p → r / (1 − (1 − u)(1 − r))
(and u → U / (1 − (1 − U) e^{−T/τ_F}) with facilitation). The checks: the released numbers
the fast path's calcium shows have that mean and variance (to 3.5 SE, where u × 1.05 is
further than that); every engine draws the same numbers for the same keys (σ = 0: the
numpy mirror, the event template on numpy and cython and NEST equal the fast path, the
clock template within its time step); bad input is refused.
"""

import numpy as np
import pytest
from brian2 import ms, second

import brian2_calcium as bc
from brian2_calcium import SpikeTrains, get_parameters, reference, simulate_synapses

SITES, U, TAU_REC = 5, 0.2, 0.1  # 5 sites, U = 0.2, tau_rec = 100 ms
RELEASING = get_parameters("DP").replace(
    Cpre=1.0, stp_U=U, tau_rec=TAU_REC * second, release_sites=SITES, sigma=0,
    name="DP stochastic release",
)  # fmt: skip


def _steady_release_probability(frequency, u, tau_fac=0.0):
    """p·u of the closed-form steady state (module docstring)."""
    period = 1.0 / frequency
    if tau_fac > 0:  # the facilitated u+ of a periodic train
        u = u / (1.0 - (1.0 - u) * np.exp(-period / tau_fac))
    r = 1.0 - np.exp(-period / TAU_REC)
    return u * r / (1.0 - (1.0 - u) * (1.0 - r))


def _released_at(p, frequency, n, spike=40, seed=3):
    """Sites released at presynaptic spike `spike` of a periodic train, for n synapses
    sharing the train (each its own stream): from the calcium just before and just after
    the arrival (σ = 0, no postsynaptic spikes)."""
    pre = np.arange(spike + 1) / frequency
    arrival = pre[spike] + p.D
    eps = 1e-7
    _, _, c = simulate_synapses(
        p, [pre * second], [np.zeros(0) * second], np.full(n, 0.5), (arrival + 1e-3) * second,
        seed=seed, train_of_synapse=np.zeros(n, dtype=int),
        readout_times=[arrival, arrival + eps] * second,
    )  # fmt: skip
    jump = c[:, 1] * np.exp(eps / p.tau_ca) - c[:, 0]
    count = jump / p.Cpre * p.release_sites
    np.testing.assert_allclose(count, np.round(count), atol=1e-6)  # whole sites
    return np.round(count)


def _binomial_moments(n_sites, q):
    """Mean, variance and fourth central moment of Binomial(n_sites, q)."""
    from scipy.stats import binom

    k = np.arange(n_sites + 1)
    pmf = binom.pmf(k, n_sites, q)
    mean = np.sum(k * pmf)
    var = np.sum((k - mean) ** 2 * pmf)
    return mean, var, np.sum((k - mean) ** 4 * pmf)


@pytest.mark.parametrize(
    ("frequency", "tau_fac"), [(1.0, 0.0), (10.0, 0.0), (50.0, 0.0), (10.0, 0.2)],
    ids=["1Hz", "10Hz", "50Hz", "10Hz-facilitating"],
)  # fmt: skip
def test_released_number_has_the_closed_form_steady_state(frequency, tau_fac):
    n = 100_000
    p = RELEASING.replace(tau_fac=tau_fac * second)
    counts = _released_at(p, frequency, n)
    mean, var, mu4 = _binomial_moments(SITES, _steady_release_probability(frequency, U, tau_fac))
    se_mean, se_var = np.sqrt(var / n), np.sqrt((mu4 - var**2) / n)
    assert abs(counts.mean() - mean) < 3.5 * se_mean
    assert abs(counts.var(ddof=1) - var) < 3.5 * se_var
    # power: u x 1.05 would be further than 3.5 SE from what was drawn
    wrong, _, _ = _binomial_moments(
        SITES, _steady_release_probability(frequency, 1.05 * U, tau_fac)
    )
    assert abs(counts.mean() - wrong) > 3.5 * se_mean


def test_the_first_release_is_binomial_in_u():
    """At the first spike every site is full: Binomial(N, U), and U x 1.05 is seen."""
    n = 50_000
    counts = _released_at(RELEASING, 1.0, n, spike=0)
    mean, var, _ = _binomial_moments(SITES, U)
    assert abs(counts.mean() - mean) < 3.5 * np.sqrt(var / n)
    assert abs(counts.mean() - SITES * 1.05 * U) > 3.5 * np.sqrt(var / n)


def test_the_draws_are_keyed_by_seed_and_stream():
    a = _released_at(RELEASING, 10.0, 2000, seed=3)
    assert np.array_equal(a, _released_at(RELEASING, 10.0, 2000, seed=3))
    assert not np.array_equal(a, _released_at(RELEASING, 10.0, 2000, seed=4))
    assert np.unique(a).size > 2  # the synapses' streams differ


# -- every engine draws the same numbers ---------------------------------------------------

IRREGULAR = RELEASING.replace(Cpre=3.0, stp_U=0.4, tau_rec=150 * ms, tau_fac=100 * ms)


def _trains(n=40, seed=4):
    rng = np.random.default_rng(seed)
    pre = [np.unique(np.round(np.sort(rng.uniform(0, 2000, 60)), 1)) for _ in range(n)]
    post = [np.unique(np.round(np.sort(rng.uniform(0, 2000, 30)), 1)) for _ in range(n)]
    return pre, post  # ms, on the 0.1 ms grid


def _fast(p, pre, post, rho0, t_end, **keys):
    return simulate_synapses(p, [t * 1e-3 * second for t in pre],
                             [t * 1e-3 * second for t in post], rho0, t_end, **keys)  # fmt: skip


def test_the_numpy_mirror_equals_the_fast_path():
    pre, post = _trains()
    rho0 = np.linspace(0.1, 0.9, 40)
    fast = _fast(IRREGULAR, pre, post, rho0, 2.1 * second, seed=5)
    mirror = reference.simulate(
        IRREGULAR, SpikeTrains.from_list([t * 1e-3 for t in pre]),
        SpikeTrains.from_list([t * 1e-3 for t in post]), rho0, 2.1, np.random.default_rng(0),
        seed=5,
    )  # fmt: skip
    np.testing.assert_allclose(mirror, fast, rtol=0, atol=1e-12)
    deterministic = _fast(IRREGULAR.replace(release_sites=0), pre, post, rho0, 2.1 * second)
    assert np.abs(fast - deterministic).max() > 5e-3  # the draws matter


def _brian2_run(p, target, mode, seed=11):
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    pre, post = _trains()
    rho0 = np.linspace(0.1, 0.9, 40)
    try:

        def group(trains, name):
            i = np.concatenate([np.full(t.size, k) for k, t in enumerate(trains)])
            return b2.SpikeGeneratorGroup(40, i, np.concatenate(trains) * ms, name=name)

        source, target_group = group(pre, "pre_rel"), group(post, "post_rel")
        S = bc.make_synapses(source, target_group, bc.synapse_template(p, mode),
                             connect="i == j", name="rel")  # fmt: skip
        S.rho = rho0
        S.noise_seed = seed
        b2.Network(source, target_group, S).run(2.1 * second, namespace={})
        rho = bc.bring_up_to_date(S, 2.1 * second) if mode == "event" else np.array(S.rho[:])
        index = np.arange(len(S))
    finally:
        b2.prefs.codegen.target = previous
    # the template keys synapse k's draws by (noise_seed, k, time)
    return rho, _fast(p, pre, post, rho0, 2.1 * second, seed=seed, streams=index)


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_the_event_template_equals_the_fast_path(target):
    rho, fast = _brian2_run(IRREGULAR, target, "event")
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)
    assert np.abs(fast - np.linspace(0.1, 0.9, 40)).max() > 1e-2  # plasticity happened


def test_the_clock_template_agrees_within_its_time_step(numpy_target):
    rho, fast = _brian2_run(IRREGULAR, "numpy", "clock")
    np.testing.assert_allclose(rho, fast, rtol=0, atol=5e-3)
    other = _brian2_run(IRREGULAR, "numpy", "clock", seed=12)[0]
    assert np.abs(other - rho).max() > 5e-3  # the seed reaches the clock's draws


def test_nest_equals_the_fast_path():
    """gb_synapse with stochastic release, σ = 0: ρ at each connection's last update equals
    the fast path keyed by the connections' noise_key and the model's seed to 1e-9; the
    read-out at the end to 1e-8."""
    from conftest import require

    nest = require("nest")
    from nest_helpers import QUIET, fresh_kernel, grid_times, parrots, recorded_trains

    p = IRREGULAR
    rng = np.random.default_rng(3)
    n = 40
    pre_t = [grid_times(rng, 25, 2000.0) for _ in range(n)]
    post_t = [grid_times(rng, 15, 2000.0) for _ in range(n)]
    fresh_kernel()
    pre, post = parrots(pre_t), parrots(post_t)
    rho0 = rng.uniform(0.1, 0.9, n)
    spec = bc.nest.syn_spec(p, w0=1.0, rho=rho0, seed=7)
    nest.Connect(pre, post, "one_to_one", {**spec, **QUIET})
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(2000.0)
    conns = nest.GetConnections(pre, post)
    assert nest.GetDefaults(conns[0].synapse_model)["release_sites"] == SITES
    st = conns.get(["rho", "t_last_update", "noise_key", "xres"], output="pandas")
    pre_s = SpikeTrains.from_list(recorded_trains(recorder, pre))
    post_s = SpikeTrains.from_list(recorded_trains(recorder, post))
    keys = st["noise_key"].to_numpy(np.int64)
    t_last = st["t_last_update"].to_numpy() / 1000.0
    fast = simulate_synapses(p, pre_s, post_s, rho0, t_last * second, seed=7, streams=keys)
    np.testing.assert_allclose(st["rho"], fast, rtol=0, atol=1e-9)
    # xres: the fraction of sites full after the last event, a multiple of 1/N
    np.testing.assert_allclose(st["xres"] * SITES, np.round(st["xres"] * SITES), atol=1e-12)
    end = bc.nest.bring_up_to_date(conns, nest.biological_time, recorder)
    fast_end = simulate_synapses(p, pre_s, post_s, rho0, nest.biological_time * 1e-3 * second,
                                 seed=7, streams=keys)  # fmt: skip
    np.testing.assert_allclose(end, fast_end, rtol=0, atol=1e-8)
    other = simulate_synapses(p, pre_s, post_s, rho0, t_last * second, seed=8, streams=keys)
    assert np.abs(other - fast).max() > 1e-3  # the seed matters: the test tells them apart


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"release_sites": -1}, "release_sites must be a whole number"),
        ({"release_sites": 2.5}, "release_sites must be a whole number"),
        ({"release_sites": 10**6}, "release_sites must be a whole number"),
        ({"stp_U": 0.0, "tau_fac": 0 * ms}, "needs the release probability stp_U > 0"),
        ({"stp_U": 1.5}, "stp_U"),
        ({"tau_rec": -5 * ms}, "tau_rec"),
    ],
)
def test_bad_release_parameters_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        RELEASING.replace(**changes)


def test_a_table_names_the_bad_row():
    with pytest.raises(ValueError, match="row 2: stochastic release"):
        bc.ParameterTable(RELEASING, stp_U=[0.2, 0.3, 0.0])


def test_nest_refuses_release_sites_per_connection_and_bad_values():
    from conftest import require

    nest = require("nest")
    with pytest.raises(ValueError, match="release_sites"):
        bc.nest.syn_spec(RELEASING, w0=1.0, per_connection={"release_sites": [1, 2]})
    bc.nest.install()
    model = bc.nest.synapse_model(RELEASING, w0=1.0)
    with pytest.raises(nest.NESTError, match="release_sites must be a whole number"):
        nest.SetDefaults(model, {"release_sites": -2})
    with pytest.raises(nest.NESTError, match="needs the release probability stp_U > 0"):
        nest.SetDefaults(model, {"stp_U": 0.0, "tau_fac": 0.0})


def test_the_theory_refuses_stochastic_release_and_protocols_leave_it_out():
    from brian2 import Hz

    with pytest.raises(ValueError, match="no stochastic release"):
        bc.analytic.time_above_threshold_pairs(RELEASING, 10 * ms, 1 * Hz)
    with pytest.raises(ValueError, match="no stochastic release"):
        bc.analytic.time_above_threshold_poisson(RELEASING, 1 * Hz, 1 * Hz)
    df = bc.stdp_curve(RELEASING, delta_t=[10] * ms, n_synapses=200, seed=1)
    assert np.isnan(df["S_analytic"]).all()  # simulated, with no theory beside it


def test_an_stdp_grid_with_release_noise_has_the_fast_paths_statistics():
    """U and D per Δt (|z| <= 3.5, chi2 p > 0.001, 2500 synapses per state) of the Brian2
    event engine and the fast path, with release noise and efficacy noise, drawn from
    different seeds (so the two are independent samples of the same model)."""
    from test_brian2_engine import _UD, DELTA_T, FAST_DP, _assert_same_statistics, _grid

    from brian2_calcium.brian2_engine import simulate_brian2
    from brian2_calcium.fastpath import _simulate

    p = get_parameters("DP").replace(Cpre=2.0, stp_U=0.5, tau_rec=200 * ms, release_sites=3,
                                     **FAST_DP)  # fmt: skip
    n = 2500
    grid = _grid(p, DELTA_T, n)
    rho = simulate_brian2(p, *grid, seed=2)
    pre, post, trains, rho0, t_end = grid
    fast = _simulate(p, pre, post, rho0, t_end, 3, trains)
    _assert_same_statistics(p, rho, fast, n)
    U, D = _UD(p, fast, n)
    assert np.all((U > 0.05) | (D > 0.05))  # transitions happen: the comparison has power
    # the release noise matters here: deterministic release gives other proportions
    plain = _simulate(p.replace(release_sites=0), pre, post, rho0, t_end, 3, trains)
    U0, D0 = _UD(p, plain, n)
    assert np.max(np.abs(np.concatenate([U - U0, D - D0]))) > 0.05


def test_the_brian2_clock_engine_passes_its_seed_to_the_release_draws(numpy_target):
    """run_protocol's seed reaches the clock template's release draws (sigma = 0: only
    they differ): two seeds give other numbers, one seed the same."""
    from test_brian2_engine import _grid

    from brian2_calcium.brian2_engine import simulate_brian2

    p = IRREGULAR.replace(tau=7.5 * second)
    grid = _grid(p, [10] * ms, 20)
    a = simulate_brian2(p, *grid, mode="clock", seed=1)
    assert np.array_equal(a, simulate_brian2(p, *grid, mode="clock", seed=1))
    assert not np.array_equal(a, simulate_brian2(p, *grid, mode="clock", seed=2))
