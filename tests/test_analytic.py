"""Analytic theory (spec §1.4, §3.1–3.3, §4.1–4.3, §4.5).

The tables are copied from spec/gb2012_model.md (rounded to four decimals there, hence the
1e-4 tolerance of spec §4.6); the property tests compare two independent algorithms of the
package with each other, with a brute-force calcium trace, or with scipy.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import DimensionMismatchError
from conftest import LONG
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.special import erfcinv

from brian2_calcium import (
    change_in_strength,
    change_in_strength_se,
    flat_potential_mean,
    get_parameters,
    predict,
    predict_burst,
    predict_pairs,
    time_above_threshold_burst,
    time_above_threshold_pairs,
    time_above_threshold_periodic,
    transition_probabilities,
)

# ------------------------------------------------------------------------------------------
# Reference tables (spec §4)

DT_GRID_MS = [-100, -50, -30, -20, -10, -5, 0, 5, 10, 20, 30, 50, 100]

# spec §4.1: 60 pairs at 1 Hz; "1" = no threshold crossing at all (S ≡ 1)
FIG2 = {
    "DP": [0.9917, 0.9052, 0.7753, 0.7643, 0.8818, 0.9432, 1.0079, 1.2405, 1.2214, 1.1722,
           1.1247, 1.0552, 1.0050],
    "DPD": [1, 1, 1.0000, 0.9983, 0.8592, 0.8461, 0.9966, 1.1933, 0.9607, 0.8675, 0.9992, 1, 1],
    "DPD'": [0.9454, 0.9137, 0.8584, 0.8107, 0.7714, 0.8013, 1.0412, 1.1389, 0.9712, 0.9003,
             0.9190, 0.9375, 0.9473],
    "P": [1.0027, 1.0294, 1.0685, 1.0983, 1.2299, 1.2560, 1.2376, 1.2560, 1.2299, 1.0983,
          1.0685, 1.0294, 1.0027],
    "D": [1, 1, 1, 1, 1, 0.9942, 0.6371, 0.9942, 1, 1, 1, 1, 1],
    "D'": [0.9215, 0.8741, 0.7965, 0.7349, 0.7192, 0.7530, 0.7837, 0.8107, 0.8336, 0.8681,
           0.8904, 0.9128, 0.9248],
}  # fmt: skip
# Entries written as the integer 1 in the spec table: no crossing, exactly S = 1.
FIG2_NO_CROSSING = {
    "DPD": [-100, -50, 50, 100],
    "D": [-100, -50, -30, -20, -10, 10, 20, 30, 50, 100],
}

# spec §4.2: hippocampal slices at 5 Hz; (protocol, N) -> S
FIG3 = {
    ("pairs", 200): [0.9812, 0.9085, 0.8542, 0.8232, 0.7910, 0.7750, 0.7591, 0.7436, 0.7286,
                     0.7027, 0.8634, 0.9968, 0.9812],
    ("pairs", 100): [0.9990, 0.9808, 0.9552, 0.9363, 0.9131, 0.9001, 0.8863, 0.8717, 0.8566,
                     0.8273, 0.9602, 1.0000, 0.9990],
    ("burst", 100): [0.9938, 0.9395, 0.8907, 0.8614, 0.8301, 0.9337, 1.1137, 1.3196, 1.5130,
                     1.6757, 0.7566, 0.9881, 0.9938],
    ("burst", 30): [1.0000, 0.9992, 0.9954, 0.9909, 0.9838, 0.9920, 1.0189, 1.0691, 1.1444,
                    1.2646, 0.9335, 1.0000, 1.0000],
}  # fmt: skip

# spec §4.3: cortical slices, 75 pairs; f (Hz) -> (S at Δt = +10 ms, S at Δt = −10 ms)
FIG4_FREQUENCY = {
    1: (1.0613, 0.6908), 5: (1.0616, 0.6899), 10: (1.0830, 0.6214), 15: (1.1566, 0.5308),
    20: (1.2530, 0.6349), 25: (1.3325, 0.9324), 30: (1.1917, 1.1863), 35: (1.3409, 1.4073),
    40: (1.5526, 1.5851), 45: (1.6344, 1.6378), 50: (1.6368, 1.6368),
}  # fmt: skip
# spec §4.3 data table, model column: (f, Δt) -> S
FIG4_DATA_MODEL = {
    (0.1, 10): 1.0613, (0.1, -10): 0.6908, (10, 10): 1.0830, (10, -10): 0.6214,
    (20, 10): 1.2530, (20, -10): 0.6349, (40, 10): 1.5526, (40, -10): 1.5851,
    (50, 10): 1.6368, (50, -10): 1.6368,
}  # fmt: skip

# spec §4.5: Graupner 2016 linear set, 75 pairings, S = ρ(75/f)/ρ0
GWO16_F_HZ = [0.1, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
GWO16_LINEAR = {
    10: [0.9883, 0.9883, 0.9885, 0.9999, 1.0390, 1.0861, 1.1399, 1.1883, 1.2300, 1.3292,
         1.4069, 1.4719],
    -10: [0.6714, 0.6714, 0.6713, 0.6606, 0.6245, 0.6155, 0.7773, 0.9343, 1.1602, 1.3451,
          1.4468, 1.4719],
}  # fmt: skip
# spec §4.5: nonlinear set (ν = 2); f (Hz) -> (S(+10 ms), S(−10 ms))
GWO16_NONLINEAR = {
    0.1: (1.0093, 0.7389), 10: (1.0173, 0.7314), 20: (1.1162, 0.6708), 40: (1.4970, 1.3828),
    50: (1.6283, 1.6283),
}  # fmt: skip

TABLE_TOLERANCE = 1e-4  # spec §4.6: tables are rounded to four decimals


def assert_printed(value, printed):
    """``value`` rounds to the number printed (as a string) in the spec."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(float(value) - float(printed)) <= 0.5 * 10.0**-decimals * (1 + 1e-9), (
        value,
        printed,
    )


# ------------------------------------------------------------------------------------------
# §4.1 Fig. 2


@pytest.mark.parametrize("name", sorted(FIG2))
def test_fig2_stdp_curves_match_the_spec_table(name):
    S = predict_pairs(name, DT_GRID_MS * ms, 1 * Hz, 60).S
    np.testing.assert_allclose(S, FIG2[name], rtol=0, atol=TABLE_TOLERANCE)


@pytest.mark.parametrize("name", sorted(FIG2_NO_CROSSING))
def test_no_threshold_crossing_gives_exactly_no_change(name):
    dts = FIG2_NO_CROSSING[name]
    pred = predict_pairs(name, dts * ms, 1 * Hz, 60)
    assert np.all(pred.alpha_d == 0) and np.all(pred.alpha_p == 0)
    assert np.all(pred.U == 0) and np.all(pred.D == 0)
    assert np.all(pred.S == 1)


def test_transition_probabilities_vanish_without_threshold_crossing():
    U, D = transition_probabilities("DP", [0.0, 0.0], [0.0, 0.0], 60 * second)
    assert np.all(U == 0) and np.all(D == 0)
    assert change_in_strength(U, D) == pytest.approx(1.0, abs=0)


# ------------------------------------------------------------------------------------------
# §4.2 Fig. 3


@pytest.mark.parametrize(("protocol", "n"), sorted(FIG3))
def test_fig3_pairs_and_bursts_match_the_spec_table(protocol, n):
    predictor = predict_pairs if protocol == "pairs" else predict_burst
    S = predictor("hippocampal_slices", DT_GRID_MS * ms, 5 * Hz, n).S
    np.testing.assert_allclose(S, FIG3[(protocol, n)], rtol=0, atol=TABLE_TOLERANCE)


def test_burst_delta_t_is_measured_to_the_last_post_spike():
    # spec §3.1d: post spikes at Δt − 11.5 ms and Δt
    dts = np.array([-40.0, -5.0, 0.0, 12.0, 30.0])
    burst = time_above_threshold_burst("hippocampal_slices", dts * ms, 5 * Hz)
    post = np.stack([dts - 11.5, dts], axis=1)
    explicit = time_above_threshold_periodic(
        "hippocampal_slices", np.zeros((dts.size, 1)) * ms, post * ms, 200 * ms
    )
    np.testing.assert_allclose(burst, explicit, rtol=0, atol=1e-15)


# ------------------------------------------------------------------------------------------
# §4.3 Fig. 4


@pytest.mark.parametrize("f", sorted(FIG4_FREQUENCY))
def test_fig4_frequency_dependence_matches_the_spec(f):
    S = predict_pairs("cortical_slices", [10, -10] * ms, f * Hz, 75).S
    np.testing.assert_allclose(S, FIG4_FREQUENCY[f], rtol=0, atol=TABLE_TOLERANCE)


def test_fig4_data_table_model_column_matches_the_spec():
    keys = sorted(FIG4_DATA_MODEL)
    f = np.array([k[0] for k in keys])
    dt = np.array([k[1] for k in keys])
    S = predict_pairs("cortical_slices", dt * ms, f * Hz, 75).S
    np.testing.assert_allclose(S, [FIG4_DATA_MODEL[k] for k in keys], atol=TABLE_TOLERANCE)


# ------------------------------------------------------------------------------------------
# §4.5 Graupner 2016 (flat potential, read-out ρ(T)/ρ0)


@pytest.mark.parametrize("dt", [10, -10])
def test_graupner2016_linear_frequency_table(dt):
    pred = predict_pairs("graupner2016_linear", dt * ms, np.array(GWO16_F_HZ) * Hz, 75)
    np.testing.assert_allclose(pred.S, GWO16_LINEAR[dt], rtol=0, atol=TABLE_TOLERANCE)
    assert np.all(np.isnan(pred.U)) and np.all(np.isnan(pred.D))
    np.testing.assert_allclose(pred.S, pred.rho_mean / 0.5, rtol=1e-15)


@pytest.mark.parametrize("f", sorted(GWO16_NONLINEAR))
def test_graupner2016_nonlinear_calcium_frequency_table(f):
    S = predict_pairs("graupner2016_nonlinear", [10, -10] * ms, f * Hz, 75).S
    np.testing.assert_allclose(S, GWO16_NONLINEAR[f], rtol=0, atol=TABLE_TOLERANCE)


def test_pair_closed_form_refuses_the_nonlinear_calcium_model():
    with pytest.raises(ValueError, match="linear"):
        time_above_threshold_pairs("graupner2016_nonlinear", 10 * ms, 1 * Hz, "closed_form")


# ------------------------------------------------------------------------------------------
# §3.1c and §3.2 worked examples (DP, 60 pairs at 1 Hz)

# Δt (ms) -> α_d, α_p, Γ_d, Γ_p, ρ̄, Var_∞, τ_eff (s), U, D, S, exactly as printed
WORKED = {
    10: ("0.023283", "0.018036", "4.65662", "5.80408", "0.55485", "0.015799", "14.3394",
         "0.64399", "0.31195", "1.22136"),
    -20: ("0.020172", "0.009678", "4.03443", "3.11432", "0.43565", "0.016702", "20.9827",
          "0.24439", "0.59800", "0.76426"),
}  # fmt: skip


@pytest.mark.parametrize("method", ["periodic", "closed_form"])
def test_worked_example_time_above_threshold(method):
    # spec §3.1c: Δt = +10 ms: 23.283 ms above θd and 18.036 ms above θp per pair
    a_d, a_p = time_above_threshold_pairs("DP", 10 * ms, 1 * Hz, method=method)
    assert_printed(a_d * 1e3, "23.283")
    assert_printed(a_p * 1e3, "18.036")


def test_worked_example_single_pair_matches_the_isolated_pair_formula():
    # spec §3.1c, isolated pair: [X>θ]·min(s, τ ln(X/θ)) + [H0>θ]·τ ln(H0/θ), with
    # H0 = X e^{−s/τ} + Y; at 0.01 Hz the periodic steady state is an isolated pair.
    p = get_parameters("DP")
    s = abs(10e-3 - p.D)  # δ < 0: post calcium (X = Cpost) comes first
    X, Y = p.Cpost, p.Cpre
    H0 = X * np.exp(-s / p.tau_ca) + Y
    for theta in (p.theta_d, p.theta_p):
        expected = min(s, p.tau_ca * np.log(X / theta)) + p.tau_ca * np.log(H0 / theta)
        a = time_above_threshold_pairs(p.replace(theta_d=theta, theta_p=theta + 1), 10 * ms,
                                       0.01 * Hz)[0]  # fmt: skip
        assert a * 100.0 == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("dt", sorted(WORKED))
def test_worked_example_diffusion_approximation_row(dt):
    """spec §3.2 table: every column that the API exposes, or that follows from it."""
    printed = dict(
        zip(
            ["alpha_d", "alpha_p", "Gamma_d", "Gamma_p", "rho_bar", "var_inf", "tau_eff", "U",
             "D", "S"],
            WORKED[dt],
            strict=True,
        )
    )  # fmt: skip
    p = get_parameters("DP")
    T = 60.0
    pred = predict_pairs(p, dt * ms, 1 * Hz, 60)
    assert_printed(pred.alpha_d, printed["alpha_d"])
    assert_printed(pred.alpha_p, printed["alpha_p"])
    assert_printed(p.gamma_d * pred.alpha_d, printed["Gamma_d"])
    assert_printed(p.gamma_p * pred.alpha_p, printed["Gamma_p"])
    assert_printed(pred.U, printed["U"])
    assert_printed(pred.D, printed["D"])
    assert_printed(pred.S, printed["S"])
    assert_printed(change_in_strength(pred.U, pred.D, p.beta, p.b), printed["S"])

    # ρ̄ and τ_eff from the mean of the deterministic averaged dynamics (spec §3.3):
    # ρ(∞) = ρ̄, and the difference of two starting points decays as exp(−T/τ_eff).
    a_d, a_p = pred.alpha_d, pred.alpha_p
    assert_printed(flat_potential_mean(p, a_d, a_p, 1e6 * second, rho0=0.0), printed["rho_bar"])
    m0 = flat_potential_mean(p, a_d, a_p, T * second, rho0=0.0)
    m1 = flat_potential_mean(p, a_d, a_p, T * second, rho0=1.0)
    tau_eff = -T / np.log(m1 - m0)
    assert_printed(tau_eff, printed["tau_eff"])

    # Var_∞ from the transition probability: U = ½ erfc((ρ* − m0)/(√2 s)), and
    # s² = Var_∞ (1 − e^{−2T/τ_eff}) (spec §3.2).
    s = (p.rho_star - m0) / (np.sqrt(2) * erfcinv(2 * pred.U))
    var_inf = s**2 / (1 - np.exp(-2 * T / tau_eff))
    assert_printed(var_inf, printed["var_inf"])
    # ... which is σ²(α_p + α_d)/(2(Γ_p + Γ_d)), half the paper's σ_ρ²
    gamma = p.gamma_p * a_p + p.gamma_d * a_d
    assert var_inf == pytest.approx(p.sigma**2 * (a_p + a_d) / (2 * gamma), rel=1e-9)


def test_transition_probabilities_follow_the_code_form_of_the_spec():
    # spec §3.2, written out independently: U, D with σ_ρ² = σ²(α_p+α_d)/(Γ_p+Γ_d)
    from scipy.special import erf

    p = get_parameters("DPD")
    a_d, a_p, T = 0.031, 0.012, 45.0
    Gp, Gd = p.gamma_p * a_p, p.gamma_d * a_d
    rho_bar = Gp / (Gp + Gd)
    tau_eff = p.tau / (Gp + Gd)
    sigma_rho2 = p.sigma**2 * (a_p + a_d) / (Gp + Gd)
    e, e2 = np.exp(-T / tau_eff), np.exp(-2 * T / tau_eff)
    width = np.sqrt(sigma_rho2 * (1 - e2))
    U = 0.5 * (1 + erf(-(p.rho_star - rho_bar + rho_bar * e) / width))
    D = 0.5 * (1 + erf((p.rho_star - rho_bar + (rho_bar - 1) * e) / width))
    got = transition_probabilities(p, a_d, a_p, T * second)
    np.testing.assert_allclose(got, (U, D), rtol=1e-12)
    pred = predict(p, a_d, a_p, T * second)
    np.testing.assert_allclose((pred.U, pred.D), (U, D), rtol=1e-12)


# ------------------------------------------------------------------------------------------
# §1.4 change in synaptic strength and its standard error


@pytest.mark.parametrize(("beta", "b"), [(0.5, 5.0), (0.7, 5.28145), (0.2, 36.0263)])
def test_change_in_strength_both_forms_of_the_spec(beta, b):
    U = np.array([0.0, 0.1, 0.64399, 1.0])
    D = np.array([0.0, 0.7, 0.31195, 1.0])
    long_form = (beta * (1 - U) + (1 - beta) * D + b * (beta * U + (1 - beta) * (1 - D))) / (
        beta + (1 - beta) * b
    )
    short_form = 1 + (b - 1) * (beta * U - (1 - beta) * D) / (beta + (1 - beta) * b)
    np.testing.assert_allclose(change_in_strength(U, D, beta, b), long_form, rtol=1e-13)
    np.testing.assert_allclose(long_form, short_form, rtol=1e-13)


@pytest.mark.parametrize(("beta", "b", "n"), [(0.5, 5.0, 1000), (0.7, 5.28145, 250)])
def test_standard_error_of_change_in_strength_follows_the_spec(beta, b, n):
    U = np.array([0.0, 0.25, 0.6, 1.0])
    D = np.array([0.5, 0.1, 0.3, 0.0])
    expected = (
        (b - 1)
        / (beta + (1 - beta) * b)
        * np.sqrt(beta**2 * U * (1 - U) / n + (1 - beta) ** 2 * D * (1 - D) / n)
    )
    np.testing.assert_allclose(change_in_strength_se(U, D, n, beta, b), expected, rtol=1e-13)


def test_standard_error_matches_monte_carlo_spread():
    # The SE formula describes the spread of S over independent experiments with n
    # synapses per initial state.
    rng = np.random.default_rng(5)
    U, D, n, beta, b = 0.3, 0.45, 400, 0.5, 5.0
    Us = rng.binomial(n, U, 4000) / n
    Ds = rng.binomial(n, D, 4000) / n
    spread = np.std(change_in_strength(Us, Ds, beta, b), ddof=1)
    se = change_in_strength_se(U, D, n, beta, b)
    # the sample SD of 4000 values is within ±5 % (≈ 4.5 of its own SEs) of the truth
    assert spread == pytest.approx(se, rel=0.05)


def test_cpp_sigma5_column_overstates_the_error_about_4_2_times():
    # spec §1.4: σ5 = (b−1)·sqrt((βU(1−U) + (1−β)D(1−D))/n) is 3√2 ≈ 4.24 times our SE
    # at β = 0.5, b = 5 (this is why the full-simulation test derives its own SE).
    U, D, n = 0.4, 0.35, 1000
    sigma5 = 4 * np.sqrt((0.5 * U * (1 - U) + 0.5 * D * (1 - D)) / n)
    assert sigma5 / change_in_strength_se(U, D, n) == pytest.approx(3 * np.sqrt(2), rel=1e-12)


# ------------------------------------------------------------------------------------------
# §3.3 flat-potential mean


def test_flat_potential_mean_solves_the_averaged_dynamics():
    # τ dρ/dt = −Γ_d ρ + Γ_p (1 − ρ), integrated by scipy
    p = get_parameters("graupner2016_linear")
    a_d, a_p, T = 0.041, 0.013, 30.0
    Gd, Gp = p.gamma_d * a_d, p.gamma_p * a_p
    for rho0 in (0.5, 0.0, 1.3):
        sol = solve_ivp(
            lambda t, r: (-Gd * r + Gp * (1 - r)) / p.tau, (0, T), [rho0], rtol=1e-12,
            atol=1e-14,
        )  # fmt: skip
        got = flat_potential_mean(p, a_d, a_p, T * second, rho0=rho0)
        assert got == pytest.approx(sol.y[0, -1], abs=1e-10)
    default = flat_potential_mean(p, a_d, a_p, T * second)  # ρ0 = params.rho0 = 0.5
    assert default == flat_potential_mean(p, a_d, a_p, T * second, rho0=0.5)


def test_flat_potential_mean_stays_put_without_threshold_crossing():
    p = get_parameters("graupner2016_linear")
    assert flat_potential_mean(p, 0.0, 0.0, 100 * second, rho0=0.37) == pytest.approx(0.37)


# ------------------------------------------------------------------------------------------
# §3.1 algorithms: closed form vs periodic vs brute force

params_strategy = st.builds(
    dict,
    tau_ca=st.floats(5e-3, 100e-3),
    Cpre=st.floats(0.05, 4.0),
    Cpost=st.floats(0.05, 4.0),
    theta_d=st.floats(0.3, 2.0),
    theta_ratio=st.floats(1.01, 4.0),
    D=st.floats(0.0, 20e-3),
)


def _random_params(d):
    from brian2_calcium import SI

    return get_parameters("DP").replace(
        tau_ca=SI(d["tau_ca"]), Cpre=d["Cpre"], Cpost=d["Cpost"], theta_d=d["theta_d"],
        theta_p=d["theta_d"] * d["theta_ratio"], D=SI(d["D"]),
    )  # fmt: skip


def _assert_closed_form_equals_periodic(d, frequency, lag_fraction):
    p = _random_params(d)
    T = 1.0 / frequency
    delta_t = p.D + lag_fraction * T  # |Δt − D| ≤ 1/f ...
    while abs(delta_t - p.D) > T:  # ... also after rounding
        delta_t = np.nextafter(delta_t, p.D)
    closed = time_above_threshold_pairs(p, delta_t * second, frequency * Hz, "closed_form")
    periodic = time_above_threshold_pairs(p, delta_t * second, frequency * Hz, "periodic")
    np.testing.assert_allclose(closed, periodic, rtol=1e-12, atol=1e-12)


@given(
    d=params_strategy,
    frequency=st.floats(0.1, 100.0),
    lag_fraction=st.one_of(st.floats(-1.0, 1.0), st.sampled_from([-1.0, 0.0, 1.0])),
)
def test_pair_closed_form_equals_periodic_algorithm(d, frequency, lag_fraction):
    _assert_closed_form_equals_periodic(d, frequency, lag_fraction)


@pytest.mark.long
@settings(LONG)
@given(
    d=params_strategy,
    frequency=st.floats(0.01, 200.0),
    lag_fraction=st.one_of(st.floats(-1.0, 1.0), st.sampled_from([-1.0, 0.0, 1.0])),
)
def test_pair_closed_form_equals_periodic_algorithm_many_examples(d, frequency, lag_fraction):
    _assert_closed_form_equals_periodic(d, frequency, lag_fraction)


def test_pair_closed_form_needs_the_lag_within_one_period():
    with pytest.raises(ValueError, match="1/frequency"):
        time_above_threshold_pairs("DP", 1.5 * second, 1 * Hz, method="closed_form")


def _brute_force_alphas(p, pre, post, period, n_periods=14, points=100_000):
    """Fraction of time above θ in the last period of a long explicit calcium trace."""
    events = [(t + k * period + p.D, p.Cpre) for k in range(n_periods) for t in pre] + [
        (t + k * period, p.Cpost) for k in range(n_periods) for t in post
    ]
    # one full period, well after the start-up transient and before the last events
    start = (n_periods - 3) * period
    grid = start + (np.arange(points) + 0.5) * period / points
    c = np.zeros(points)
    for t, amp in events:
        c += np.where(grid >= t, amp * np.exp(-(grid - t) / p.tau_ca), 0.0)
    return np.mean(c > p.theta_d), np.mean(c > p.theta_p)


@pytest.mark.parametrize(
    ("name", "pre_ms", "post_ms", "period_ms"),
    [
        ("DP", [0.0], [10.0], 50.0),  # pair at 20 Hz
        ("hippocampal_cultures", [0.0, 10.0], [5.0], 100.0),  # pre-post-pre triplet
        ("cortical_slices", [3.0, 7.0], [0.0, 12.0], 40.0),  # quadruplet-like pattern
        ("DPD", [0.0], [-8.0, 3.5], 25.0),  # burst
    ],
)
def test_periodic_time_above_threshold_matches_brute_force_trace(name, pre_ms, post_ms,
                                                                 period_ms):  # fmt: skip
    p = get_parameters(name)
    got = time_above_threshold_periodic(p, pre_ms * ms, post_ms * ms, period_ms * ms)
    # 11 periods of start-up are ≥ 15 τ_Ca for these sets: the steady state is reached
    expected = _brute_force_alphas(
        p, np.array(pre_ms) * 1e-3, np.array(post_ms) * 1e-3, period_ms * 1e-3
    )
    np.testing.assert_allclose(got, expected, atol=5e-5)  # grid resolution 1e-5


def test_nonlinear_time_above_threshold_matches_brute_force_trace():
    # spec §1.5: a post spike adds Cpost + η·c_pre(t⁻), c_pre from the presynaptic jumps only
    p = get_parameters("graupner2016_nonlinear")
    period, n_periods, points = 0.05, 14, 100_000
    pre, post = 0.0, 0.015
    grid = (n_periods - 3) * period + (np.arange(points) + 0.5) * period / points
    c = np.zeros(points)
    for k in range(n_periods):
        t_pre = k * period + pre + p.D
        t_post = k * period + post
        c_pre_at_post = sum(
            p.Cpre * np.exp(-(t_post - (j * period + pre + p.D)) / p.tau_ca)
            for j in range(n_periods)
            if j * period + pre + p.D <= t_post
        )
        c += np.where(grid >= t_pre, p.Cpre * np.exp(-(grid - t_pre) / p.tau_ca), 0.0)
        amp = p.Cpost + p.eta * c_pre_at_post
        c += np.where(grid >= t_post, amp * np.exp(-(grid - t_post) / p.tau_ca), 0.0)
    expected = np.mean(c > p.theta_d), np.mean(c > p.theta_p)
    got = time_above_threshold_pairs(p, post * second, (1 / period) * Hz)
    np.testing.assert_allclose(got, expected, atol=5e-5)


# ------------------------------------------------------------------------------------------
# Units and bad input


def test_analytic_functions_refuse_bare_numbers_for_times():
    with pytest.raises(TypeError, match="delta_t"):
        predict_pairs("DP", 0.01, 1 * Hz, 60)
    with pytest.raises(TypeError, match="frequency"):
        predict_pairs("DP", 10 * ms, 1.0, 60)
    with pytest.raises(TypeError, match="duration"):
        transition_probabilities("DP", 0.1, 0.05, 60)


def test_analytic_functions_refuse_wrong_units():
    with pytest.raises(DimensionMismatchError):
        predict_pairs("DP", 10 * Hz, 1 * Hz, 60)
    with pytest.raises(DimensionMismatchError):
        predict_pairs("DP", 10 * ms, 1 * ms, 60)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_number_of_pairs_must_be_a_positive_integer(n):
    with pytest.raises(ValueError, match="n_pairs"):
        predict_pairs("DP", 10 * ms, 1 * Hz, n)


def test_frequency_must_be_positive():
    with pytest.raises(ValueError, match="frequency"):
        predict_pairs("DP", 10 * ms, 0 * Hz, 60)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        time_above_threshold_pairs("DP", 10 * ms, 1 * Hz, method="exact")
