"""Irregular (Poisson) firing: time above threshold, irregular pairs, memory time (spec §3.4,
§4.5; Graupner et al. 2016, Higgins et al. 2014).

Two independent methods for α (the stationary calcium density and event-based Monte Carlo)
are held to each other; the spec tables are reproduced within the accuracy of the grid the
spec's numbers were computed on; the exact fast engine is held to the theory in the limit
where the theory's averaging is exact (τ and the protocol scaled up together, which leaves
the averaged prediction unchanged), and its deviation at the published τ is bounded.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second
from proportions import assert_near_theory

from brian2_calcium import (
    background_activity,
    get_parameters,
    memory_time,
    memory_time_curve,
    poisson_pairs,
    predict,
    rho_bar,
    run_protocol,
    time_above_threshold_poisson,
)
from brian2_calcium.analytic import (
    _poisson_jump_classes,
    _stationary_density_alphas,
)

# ------------------------------------------------------------------------------------------
# Reference tables

# spec §4.5: Graupner 2016 linear set, irregular pairs, T = 10 s, ρ0 = 0.5, ν_pre = ν_post
# (ν (Hz), p, Δt (ms)) -> S
IRREGULAR = {
    (1, 0, 0): 0.9715, (5, 0, 0): 0.8854, (6, 0, 0): 0.8767, (10, 0, 0): 0.9007,
    (15, 0, 0): 1.0172, (20, 0, 0): 1.1478, (30, 0, 0): 1.3363, (40, 0, 0): 1.4489,
    (60, 0, 0): 1.5629, (10, 0.4, 10): 1.0443, (10, 0.4, -10): 0.9202, (20, 0.4, 10): 1.2423,
    (20, 0.4, -10): 1.1815,
}  # fmt: skip
# The table comes from the authors' grid integration with δc = 0.001 (spec §4.5). Their
# grid converges at O(δc): refining it moves S by up to 0.0020 (at 15 Hz), to the values
# our density method gives (converged to < 1e-5 in S). Tolerance: that grid error.
IRREGULAR_TABLE_TOLERANCE = 0.0025

# spec §3.4 (Higgins 2014 sets, flat potential, independent Poisson pre = post at ν):
# ν -> (α_d, α_p, τ_mem (s), ρ̄)
IN_VITRO = {
    0.1: (4.955e-4, 5.00e-6, 2061, 0.0216), 0.3: (1.532e-3, 4.52e-5, 640, 0.0606),
    1: (5.639e-3, 5.10e-4, 154.6, 0.165), 3: (2.139e-2, 4.74e-3, 32.9, 0.326),
    10: (0.1182, 5.48e-2, 4.39, 0.503),
}  # fmt: skip
IN_VIVO = {
    0.1: (1.068e-6, 1.10e-7, 7.98e5, 0.184), 0.3: (9.85e-6, 1.06e-6, 8.58e4, 0.191),
    1: (1.183e-4, 1.47e-5, 6938, 0.213), 3: (1.284e-3, 2.10e-4, 599, 0.263),
    10: (2.134e-2, 5.65e-3, 31.0, 0.366),
}  # fmt: skip
RATES = sorted(IN_VITRO)


def _s_of(p, alpha_d, alpha_p, T=10.0):
    return predict(p, alpha_d, alpha_p, T * second).S


# ------------------------------------------------------------------------------------------
# Jump classes and the density method


@pytest.mark.parametrize(("prob", "dt_ms"), [(0.0, 0.0), (0.4, 10.0), (0.4, -10.0), (1.0, -60.0),
                                             (0.7, 4.0)])  # fmt: skip
def test_jump_classes_keep_the_mean_calcium(prob, dt_ms):
    # Campbell: ⟨c⟩ = τ_Ca (ν_pre Cpre + ν_post Cpost) whatever the pairing
    p = get_parameters("graupner2016_linear")
    amps, rates = _poisson_jump_classes(p, 12.0, 15.0, prob, dt_ms * 1e-3)
    assert np.all(np.diff(amps) > 0)
    expected = p.tau_ca * (12.0 * p.Cpre + 15.0 * p.Cpost)
    assert p.tau_ca * np.sum(rates * amps) == pytest.approx(expected, rel=1e-13)


def test_density_below_the_smallest_jump_is_the_exact_power_law():
    # one class (A, λ): P(c) = K c^{r−1} below A, with K = e^{−γr} A^{−r}/Γ(r) (r = λτ),
    # so α(θ) = 1 − (θ/A)^r e^{−γr}/Γ(r+1) for θ ≤ A
    from scipy.special import gamma

    A, lam, tau = 1.5, 30.0, 0.02
    r = lam * tau
    theta = np.array([0.3, 1.0, 1.5])
    expected = 1 - (theta / A) ** r * np.exp(-0.5772156649015329 * r) / gamma(r + 1)
    got = _stationary_density_alphas(np.array([A]), np.array([lam]), tau, theta, 1e-3)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_density_is_normalised_and_has_the_shot_noise_mean():
    # K is exact, so the numerically integrated mass above A_1 must join the exact mass
    # below it (total 1), and ⟨c⟩ = ∫ P(c > θ) dθ = τ Σ λ A (Campbell)
    amps, rates, tau = np.array([0.6, 1.3]), np.array([20.0, 25.0]), 0.02
    eps = 1e-9
    below, above = _stationary_density_alphas(amps, rates, tau, [0.6 - eps, 0.6 + eps], 2e-4)
    assert below == pytest.approx(above, abs=1e-7)
    thetas = np.linspace(0.0, 6.0, 6001)
    alphas = _stationary_density_alphas(amps, rates, tau, thetas, 2e-4)
    mean = np.trapezoid(alphas, thetas)
    assert mean == pytest.approx(tau * np.sum(rates * amps), rel=2e-4)


@pytest.mark.parametrize(
    ("name", "nu", "prob", "dt_ms"),
    [
        ("graupner2016_linear", 10.0, 0.0, 0.0),
        ("graupner2016_linear", 20.0, 0.4, 10.0),
        ("graupner2016_linear", 10.0, 0.4, -10.0),
        ("graupner2016_linear", 10.0, 1.0, -30.0),
        ("DP", 5.0, 0.5, 20.0),
        ("higgins2014_in_vivo", 10.0, 0.0, 0.0),
    ],
)
def test_density_method_agrees_with_event_based_monte_carlo(name, nu, prob, dt_ms):
    args = (name, nu * Hz, nu * Hz, prob, dt_ms * ms)
    density = np.array(time_above_threshold_poisson(*args))
    *mc, se_d, se_p = time_above_threshold_poisson(
        *args, method="monte_carlo", duration=1500 * second, n_segments=150, seed=4,
        return_se=True,
    )  # fmt: skip
    z = (density - np.array(mc)) / np.array([se_d, se_p])
    assert np.all(np.abs(z) < 3), (density, mc, z)


def test_monte_carlo_covers_nonlinear_calcium_and_depression():
    # no density theory for these; MC must see their effect
    p = get_parameters("graupner2016_nonlinear")
    mc = dict(method="monte_carlo", duration=200 * second, seed=1)
    nonlin = time_above_threshold_poisson(p, 20 * Hz, 20 * Hz, 0.5, 5 * ms, **mc)
    linear = time_above_threshold_poisson(p.replace(nonlinearity=1.0), 20 * Hz, 20 * Hz, 0.5,
                                          5 * ms, **mc)  # fmt: skip
    assert nonlin[1] > 2 * linear[1]
    with pytest.raises(ValueError, match="monte_carlo"):
        time_above_threshold_poisson(p, 20 * Hz, 20 * Hz)
    dep = get_parameters("deperrois2020_visual").replace(rho_scales_cpre=False)
    mc = dict(method="monte_carlo", duration=100 * second, seed=2)
    a_dep = time_above_threshold_poisson(dep, 20 * Hz, 20 * Hz, **mc)
    a_full = time_above_threshold_poisson(dep.replace(stp_U=0.0), 20 * Hz, 20 * Hz, **mc)
    assert a_dep[0] < a_full[0]
    with pytest.raises(ValueError, match="rho_scales_cpre"):
        time_above_threshold_poisson("deperrois2020_visual", 5 * Hz, 5 * Hz, method="monte_carlo")


def test_results_broadcast_over_rates_and_pairing():
    a_d, a_p = time_above_threshold_poisson("graupner2016_linear", [5, 10] * Hz, [5, 10] * Hz,
                                            [[0.0], [0.4]], 10 * ms)  # fmt: skip
    assert a_d.shape == a_p.shape == (2, 2)
    single = time_above_threshold_poisson("graupner2016_linear", 10 * Hz, 10 * Hz, 0.4, 10 * ms)
    assert a_d[1, 1] == single[0] and a_p[1, 1] == single[1]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(rate_pre=-1 * Hz), ValueError, "non-negative"),
        (dict(p=1.5), ValueError, r"\[0, 1\]"),
        (dict(rate_post=1 * Hz, p=0.5), ValueError, "at least p"),
        (dict(method="exact"), ValueError, "method"),
        (dict(rate_pre=5), TypeError, "rate_pre"),
        (dict(delta_t=5), TypeError, "delta_t"),
        (dict(dc=-1.0), ValueError, "dc"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    args = dict(rate_pre=5 * Hz, rate_post=5 * Hz)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        time_above_threshold_poisson("graupner2016_linear", **args)


# ------------------------------------------------------------------------------------------
# spec §4.5: Graupner 2016 irregular pairs


def test_irregular_pairs_table_by_the_density_method():
    p = get_parameters("graupner2016_linear")
    keys = sorted(IRREGULAR)
    nu = np.array([k[0] for k in keys], float)
    a_d, a_p = time_above_threshold_poisson(
        p, nu * Hz, nu * Hz, np.array([k[1] for k in keys]), np.array([k[2] for k in keys]) * ms
    )
    np.testing.assert_allclose(
        _s_of(p, a_d, a_p), [IRREGULAR[k] for k in keys], atol=IRREGULAR_TABLE_TOLERANCE
    )


def test_regular_pairs_compared_in_the_spec():
    # spec §4.5: regular pairs at 10 Hz for 10 s: S(+10 ms) = 0.9999, S(−10 ms) = 0.5754
    from brian2_calcium import predict_pairs

    S = predict_pairs("graupner2016_linear", [10, -10] * ms, 10 * Hz, 100).S
    np.testing.assert_allclose(S, [0.9999, 0.5754], atol=1e-4)


@pytest.mark.parametrize("key", [(10, 0, 0), (20, 0.4, -10)])
def test_irregular_pairs_by_monte_carlo_agree_with_the_density_method(key):
    nu, prob, dt = key
    p = get_parameters("graupner2016_linear")
    args = (p, nu * Hz, nu * Hz, prob, dt * ms)
    S_density = _s_of(p, *time_above_threshold_poisson(*args))
    a_d, a_p, se_d, se_p = time_above_threshold_poisson(
        *args, method="monte_carlo", duration=2000 * second, n_segments=200, seed=9,
        return_se=True,
    )  # fmt: skip
    # SE of S by propagating the α errors (independent enough at this level: bound by sum)
    h = 1e-6
    dS_d = (_s_of(p, a_d + h, a_p) - _s_of(p, a_d - h, a_p)) / (2 * h)
    dS_p = (_s_of(p, a_d, a_p + h) - _s_of(p, a_d, a_p - h)) / (2 * h)
    se = abs(dS_d) * se_d + abs(dS_p) * se_p
    assert abs(_s_of(p, a_d, a_p) - S_density) < 3 * se
    assert abs(S_density - IRREGULAR[key]) < IRREGULAR_TABLE_TOLERANCE


def test_run_protocol_predicts_poisson_protocols_by_the_density_method():
    p = get_parameters("graupner2016_linear")
    proto = poisson_pairs([10, 20] * Hz, [10, 20] * Hz, 10 * second, p=0.4, delta_t=10 * ms)
    df = run_protocol(proto, p, n_synapses=5, seed=1)
    np.testing.assert_allclose(df.S_analytic, [IRREGULAR[(10, 0.4, 10)],
                                               IRREGULAR[(20, 0.4, 10)]],
                               atol=IRREGULAR_TABLE_TOLERANCE)  # fmt: skip
    # no density theory: nonlinear calcium, or calcium scaled by ρ
    for name in ("graupner2016_nonlinear", "deperrois2020_visual"):
        df = run_protocol(poisson_pairs(5 * Hz, 5 * Hz, 1 * second), name, n_synapses=2)
        assert df.S_analytic.isna().all()


def _irregular_simulation(scale, keys, n, seed):
    """Fast engine on irregular pairs with τ and T multiplied by ``scale`` (same theory)."""
    p0 = get_parameters("graupner2016_linear")
    p = p0.replace(tau=scale * p0.tau * second)
    nu = np.array([k[0] for k in keys], float)
    proto = poisson_pairs(nu * Hz, nu * Hz, 10 * scale * second,
                          p=np.array([k[1] for k in keys]),
                          delta_t=np.array([k[2] for k in keys]) * ms)  # fmt: skip
    return run_protocol(proto, p, n_synapses=n, seed=seed)


# At the published τ = 521 s the exact model differs from the averaged theory: the theory
# ignores the correlation between the calcium and ρ over τ_Ca. Measured at 20 000 synapses
# per condition, the exact S lies up to 0.0064 below it (SE 0.0004; 20 Hz, p = 0.4,
# Δt = −10 ms); with τ and T × 10 up to 0.0006 (5000 per condition): the difference
# shrinks ∝ 1/τ. Allowance for that bias: 0.008 at the published τ, 0.008/scale with τ and
# T × scale; against the spec table, plus the table's own grid error.
AVERAGING_BIAS = 0.008


def _assert_irregular_near_theory(df, keys, scale):
    """S against the averaged theory and the spec table: per point within 3.5 SE plus the
    allowance, and the χ² of the excess beyond it (:func:`proportions.assert_near_theory`;
    here 3.5 SE + allowance stays below 0.02, far inside ±0.05)."""
    bias = AVERAGING_BIAS / scale
    assert_near_theory(df.S, df.S_analytic, df.S_se, bias=bias)
    spec = np.array([IRREGULAR[k] for k in keys])
    assert_near_theory(df.S, spec, df.S_se, bias=bias + IRREGULAR_TABLE_TOLERANCE)


def test_irregular_pairs_simulation_converges_to_the_theory():
    # τ and T × 10: the averaged theory is unchanged and its averaging error 10 × smaller;
    # n = 300 per condition (SE ≤ 0.0007)
    keys = [(10, 0, 0), (20, 0.4, 10)]
    df = _irregular_simulation(10, keys, n=300, seed=3)
    _assert_irregular_near_theory(df, keys, 10)


def test_irregular_pairs_table_simulated_in_the_averaging_limit():
    # n = 400 per condition (SE ≤ 0.0008)
    keys = sorted(IRREGULAR)
    df = _irregular_simulation(10, keys, n=400, seed=5)
    _assert_irregular_near_theory(df, keys, 10)


def test_irregular_pairs_table_simulated_at_the_published_tau():
    # n = 1000 per condition (SE ≤ 0.0016)
    keys = sorted(IRREGULAR)
    df = _irregular_simulation(1, keys, n=1000, seed=3)
    _assert_irregular_near_theory(df, keys, 1)


# ------------------------------------------------------------------------------------------
# spec §3.4: memory time under background activity (Higgins 2014)


def _table_theory(name):
    a_d, a_p = time_above_threshold_poisson(name, np.array(RATES) * Hz, np.array(RATES) * Hz)
    return a_d, a_p, memory_time(name, a_d, a_p) / second, rho_bar(name, a_d, a_p)


def test_memory_time_and_rho_bar_formulas_reproduce_the_table_from_its_alphas():
    # τ_mem = τ/(γp αp + γd αd), ρ̄ = γp αp/(γp αp + γd αd), from the table's own α
    # (3 significant digits: 0.5 % relative, plus the rounding of the α themselves)
    for name, table in (("higgins2014_in_vitro", IN_VITRO), ("higgins2014_in_vivo", IN_VIVO)):
        a_d, a_p, tau, rb = (np.array([table[r][i] for r in RATES]) for i in range(4))
        np.testing.assert_allclose(memory_time(name, a_d, a_p) / second, tau, rtol=0.01)
        np.testing.assert_allclose(rho_bar(name, a_d, a_p), rb, rtol=0.01)


def test_in_vitro_memory_table_within_two_percent():
    got = np.array(_table_theory("higgins2014_in_vitro")).T
    expected = np.array([IN_VITRO[r] for r in RATES])
    np.testing.assert_allclose(got, expected, rtol=0.02)


def test_in_vivo_depression_fractions_within_two_percent():
    a_d = _table_theory("higgins2014_in_vivo")[0]
    np.testing.assert_allclose(a_d, [IN_VIVO[r][0] for r in RATES], rtol=0.02)


def test_in_vivo_potentiation_fractions_of_the_table_carry_its_grid_error():
    # The spec's in vivo α_p (hence τ_mem, ρ̄ below 10 Hz) are 2.5–9 % above the exact
    # values: the authors' grid (δc = 2e-4) is not converged when two small transients
    # are needed to cross θp (refining it moves α_p at 10 Hz from 5.65e-3 to 5.52e-3 at
    # δc = 2e-5). Event-based Monte Carlo settles it: it agrees with our density method
    # and lies many SE below the table.
    a_p = _table_theory("higgins2014_in_vivo")[1]
    ratio = np.array([IN_VIVO[r][1] for r in RATES]) / a_p
    assert np.all((ratio > 1.02) & (ratio < 1.10)), ratio
    _, mc, _, se = time_above_threshold_poisson(
        "higgins2014_in_vivo", 10 * Hz, 10 * Hz, method="monte_carlo", duration=20000 * second,
        n_segments=400, seed=6, return_se=True,
    )  # fmt: skip
    assert abs(mc - a_p[-1]) < 3 * se
    assert IN_VIVO[10][1] - mc > 3 * se


@pytest.mark.parametrize(("name", "rate"), [("higgins2014_in_vitro", 3),
                                            ("higgins2014_in_vitro", 10),
                                            ("higgins2014_in_vivo", 10)])  # fmt: skip
def test_memory_table_alphas_by_monte_carlo(name, rate):
    a_d, a_p, se_d, se_p = time_above_threshold_poisson(
        name, rate * Hz, rate * Hz, method="monte_carlo", duration=3000 * second,
        n_segments=200, seed=7, return_se=True,
    )  # fmt: skip
    d_d, d_p = time_above_threshold_poisson(name, rate * Hz, rate * Hz)
    assert abs(a_d - d_d) < 3 * se_d and abs(a_p - d_p) < 3 * se_p


def test_background_activity_is_independent_poisson_firing():
    proto = background_activity([1, 10] * Hz, 50 * second)
    assert proto.name == "background activity"
    np.testing.assert_array_equal(proto.rate_pre, proto.rate_post)
    assert np.all(proto.p == 0)
    pre, post, R = proto.trains(3, np.random.default_rng(0))
    assert R == 3 and len(pre) == len(post) == 6
    n_fast = np.diff(pre.offsets)[3:]
    assert np.all(np.abs(n_fast - 500) < 5 * np.sqrt(500))


def test_memory_time_curve_analytic_reproduces_the_in_vitro_table():
    df = memory_time_curve("higgins2014_in_vitro", np.array(RATES) * Hz)
    np.testing.assert_allclose(df.tau_mem_s, [IN_VITRO[r][2] for r in RATES], rtol=0.02)
    np.testing.assert_allclose(df.rho_bar, [IN_VITRO[r][3] for r in RATES], rtol=0.02)
    assert np.all(df.tau_mem_se_s == 0) and np.all(df.n_synapses == 0)


def test_simulated_memory_time_converges_to_the_theory():
    # τ × 10 (τ_mem × 10, ρ̄ unchanged, averaging error 10 × smaller): the exact engine's
    # relaxation matches τ_mem and ρ̄ of the theory within 3 SE, and the table within
    # 3 SE + 2 %
    p0 = get_parameters("higgins2014_in_vitro")
    p = p0.replace(tau=10 * p0.tau * second)
    df = memory_time_curve(p, [3, 10] * Hz, engine="fast", n_synapses=300, seed=1)
    assert np.all(np.abs(df.tau_mem_s - df.tau_mem_analytic_s) < 3 * df.tau_mem_se_s)
    assert np.all(np.abs(df.rho_bar - df.rho_bar_analytic) < 3 * df.rho_bar_se)
    table = np.array([IN_VITRO[3], IN_VITRO[10]])
    assert np.all(np.abs(df.tau_mem_s / 10 - table[:, 2]) < 3 * df.tau_mem_se_s / 10
                  + 0.02 * table[:, 2])  # fmt: skip
    assert np.all(np.abs(df.rho_bar - table[:, 3]) < 3 * df.rho_bar_se + 0.02 * table[:, 3])


def test_simulated_memory_time_at_the_published_tau_is_the_exact_expectation():
    # The flat model without noise is affine in ρ: ρ(t) = a ρ0 + b, a = exp(−(γd A_d +
    # γp A_p)/τ) with A the times above threshold. ⟨a(t)⟩ from the engine must match
    # ⟨exp(−(γd A_d + γp A_p)/τ)⟩ over independent Monte Carlo trains (3 SE), and, by
    # Jensen (⟨e^{−X}⟩ ≥ e^{−⟨X⟩}), forget more slowly than the averaged theory: by
    # 1–5 % at 10 Hz in vitro (3 % measured).
    from brian2_calcium.analytic import _poisson_alphas_per_segment

    p = get_parameters("higgins2014_in_vitro")
    df = memory_time_curve(p, [10] * Hz, engine="fast", n_synapses=600, seed=2,
                           duration=10 * second, n_readouts=1)  # fmt: skip
    # independent estimate: times above threshold of 600 trains over 10 s (after warm-up)
    rng = np.random.default_rng(3)
    alpha_d, alpha_p = _poisson_alphas_per_segment(p, 10.0, 10.0, 0.0, 0.0, 10.0, 600, rng)
    a = np.exp(-(p.gamma_d * alpha_d + p.gamma_p * alpha_p) * 10.0 / p.tau)
    tau_mc = -10.0 / np.log(a.mean())
    se_mc = 10.0 * a.std(ddof=1) / np.sqrt(a.size) / (a.mean() * np.log(a.mean()) ** 2)
    tau_sim, se_sim = df.tau_mem_s[0], df.tau_mem_se_s[0]
    assert abs(tau_sim - tau_mc) < 3 * np.hypot(se_sim, se_mc), (tau_sim, tau_mc)
    excess = tau_sim / df.tau_mem_analytic_s[0] - 1
    assert 0.01 < excess < 0.05, excess
    assert df.rho_bar[0] == pytest.approx(df.rho_bar_analytic[0], rel=0.02)


def test_memory_time_curve_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="engine"):
        memory_time_curve("higgins2014_in_vitro", [1] * Hz, engine="brian2")
    with pytest.raises(ValueError, match="rho_scales_cpre"):
        memory_time_curve("deperrois2020_visual", [1] * Hz)
    with pytest.raises(ValueError, match="positive"):
        memory_time_curve("higgins2014_in_vitro", [0] * Hz)
    with pytest.raises(ValueError, match="stored spikes"):
        # 4 memory times of 9 days at 0.1 Hz, 1000 synapses: ~7e8 spikes
        memory_time_curve("higgins2014_in_vivo", [0.1] * Hz, engine="fast", n_synapses=1000,
                          trains="stored")  # fmt: skip


def test_memory_time_without_threshold_crossing_is_infinite():
    assert memory_time("DP", 0.0, 0.0) / second == np.inf
    assert np.isnan(rho_bar("DP", 0.0, 0.0))
