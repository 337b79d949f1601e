"""The analytic theory on a ParameterTable (issue 22): one answer per row.

Every public function of :mod:`brian2_calcium.analytic` that takes ``params`` takes a table;
each row of the answer must equal the same function called with that row's parameter set
(``table[k]``), and the shapes follow the documented rule: protocol inputs are shared by
all rows (a leading row axis is added), per-row inputs (alphas, durations) carry the row
axis first.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second

from brian2_calcium import (
    ParameterTable,
    flat_potential_mean,
    get_parameters,
    memory_time,
    predict,
    predict_burst,
    predict_pairs,
    rho_bar,
    time_above_threshold_burst,
    time_above_threshold_pairs,
    time_above_threshold_periodic,
    time_above_threshold_poisson,
    transition_probabilities,
)
from brian2_calcium.analytic import (
    _analytic_rows,
    _pattern_alphas,
    _poisson_alphas_density,
    _predict,
)
from brian2_calcium.protocols import burst_pairs, pairs, poisson_pairs, triplets

RTOL = 1e-12
N_ROWS = 7
DT_MS = np.array([-100, -30, -20, -10, -5, 0, 5, 10, 20, 30, 100], float)


def _varied(base="DP", n=N_ROWS, seed=3, **extra):
    """A table whose rows vary the numbers of the theory around ``base``."""
    p = get_parameters(base)
    rng = np.random.default_rng(seed)

    def around(value, spread):
        return value * (1 + spread * rng.uniform(-1, 1, n))

    theta_d = around(p.theta_d, 0.2)
    values = dict(
        theta_d=theta_d,
        theta_p=theta_d * rng.uniform(1.05, 1.6, n),
        Cpre=around(p.Cpre, 0.3),
        Cpost=around(p.Cpost, 0.3),
        D=rng.uniform(0, 20, n) * ms,
        sigma=around(max(p.sigma, 1.0), 0.5),
        tau_ca=around(p.tau_ca, 0.3) * second,
        gamma_d=around(p.gamma_d, 0.3),
        gamma_p=around(p.gamma_p, 0.3),
        tau=around(p.tau, 0.3) * second,
        rho_star=rng.uniform(0.3, 0.7, n),
        beta=rng.uniform(0.2, 0.8, n),
        b=rng.uniform(2, 6, n),
    )
    values.update(extra)
    return ParameterTable(base, **values)


def _close(table_values, row_values):
    """Row k of a table call against the call on row k (NaN where both are NaN)."""
    np.testing.assert_allclose(table_values, row_values, rtol=RTOL, atol=1e-15, equal_nan=True)


def _each_row(table, call, table_result):
    """Check ``table_result`` (a tuple of arrays) row by row against ``call(table[k])``."""
    for k in range(len(table)):
        for got, want in zip(table_result, call(table[k]), strict=True):
            _close(np.asarray(got)[k], want)


# ------------------------------------------------------------------------------------------
# Time above threshold


@pytest.mark.parametrize("method", ["periodic", "closed_form"])
def test_pairs_time_above_threshold_per_row_equals_each_row(method):
    table = _varied()
    dt = DT_MS * ms
    result = time_above_threshold_pairs(table, dt, 1 * Hz, method=method)
    assert [a.shape for a in result] == [(N_ROWS, DT_MS.size)] * 2
    _each_row(table, lambda p: time_above_threshold_pairs(p, dt, 1 * Hz, method=method), result)


def test_pairs_closed_form_agrees_with_the_periodic_algorithm_on_a_table():
    table = _varied()
    dt, f = DT_MS[:, None] * ms, np.array([1, 2, 5]) * Hz
    periodic = time_above_threshold_pairs(table, dt, f)
    closed = time_above_threshold_pairs(table, dt, f, method="closed_form")
    assert periodic[0].shape == (N_ROWS, DT_MS.size, 3)
    np.testing.assert_allclose(closed, periodic, rtol=1e-10, atol=1e-14)


def test_the_row_axis_leads_whatever_the_shape_of_the_conditions():
    table = _varied()
    assert time_above_threshold_pairs(table, 10 * ms, 1 * Hz)[0].shape == (N_ROWS,)
    dt, f = DT_MS[:, None] * ms, np.array([1, 5]) * Hz
    assert time_above_threshold_pairs(table, dt, f)[1].shape == (N_ROWS, DT_MS.size, 2)
    one = ParameterTable("DP", n=1)
    a_d, a_p = time_above_threshold_pairs(one, DT_MS * ms, 1 * Hz)
    want = time_above_threshold_pairs("DP", DT_MS * ms, 1 * Hz)
    np.testing.assert_array_equal(a_d[0], want[0])
    np.testing.assert_array_equal(a_p[0], want[1])


def test_periodic_pattern_per_row_equals_each_row():
    table = _varied()
    pre = np.array([[0.0, 20.0], [0.0, 50.0], [5.0, 7.0]]) * ms
    post = np.array([[10.0], [-15.0], [6.0]]) * ms
    period = np.array([100.0, 200.0, 1000.0]) * ms
    result = time_above_threshold_periodic(table, pre, post, period)
    assert result[0].shape == (N_ROWS, 3)
    _each_row(table, lambda p: time_above_threshold_periodic(p, pre, post, period), result)


def test_burst_per_row_equals_each_row():
    table = _varied()
    dt = DT_MS * ms
    result = time_above_threshold_burst(table, dt, 5 * Hz, n_post=3)
    assert result[0].shape == (N_ROWS, DT_MS.size)
    _each_row(table, lambda p: time_above_threshold_burst(p, dt, 5 * Hz, n_post=3), result)


def test_nonlinear_calcium_and_short_term_depression_vary_per_row():
    # rows mixing linear and nonlinear calcium, with and without depression
    table = _varied(
        nonlinearity=[1.0, 1.5, 2.0, 1.0, 1.2, 1.0, 2.5],
        stp_U=[0.0, 0.0, 0.4, 0.5, 0.0, 0.8, 0.3],
        tau_rec=[0.0, 0.0, 150.0, 300.0, 0.0, 80.0, 500.0] * ms,
    )
    dt, f = DT_MS * ms, np.array([[1.0], [20.0]]) * Hz
    result = time_above_threshold_pairs(table, dt, f)
    assert result[0].shape == (N_ROWS, 2, DT_MS.size)
    _each_row(table, lambda p: time_above_threshold_pairs(p, dt, f), result)
    with pytest.raises(ValueError, match="linear calcium model only"):
        time_above_threshold_pairs(table, dt, 1 * Hz, method="closed_form")


@pytest.mark.parametrize("method", ["density", "monte_carlo"])
def test_poisson_time_above_threshold_per_row_equals_each_row(method):
    table = _varied("cortical_slices", n=3)
    options = dict(p=[0.0, 0.5], delta_t=10 * ms, method=method, return_se=True)
    if method == "monte_carlo":
        options.update(duration=20 * second, n_segments=4, seed=5)
    else:
        options.update(dc=2e-3)
    result = time_above_threshold_poisson(table, 5 * Hz, 5 * Hz, **options)
    assert [a.shape for a in result] == [(3, 2)] * 4
    _each_row(table, lambda p: time_above_threshold_poisson(p, 5 * Hz, 5 * Hz, **options), result)


# ------------------------------------------------------------------------------------------
# Read-out from the fractions of time above threshold


def test_readout_functions_take_per_row_alphas():
    table = _varied()
    a_d, a_p = time_above_threshold_pairs(table, DT_MS * ms, 1 * Hz)
    duration = np.linspace(10, 100, DT_MS.size) * second
    calls = {
        "transition_probabilities": lambda p, d, q: transition_probabilities(p, d, q, duration),
        "rho_bar": lambda p, d, q: (rho_bar(p, d, q),),
        "memory_time": lambda p, d, q: (memory_time(p, d, q) / second,),
        "flat_potential_mean": lambda p, d, q: (flat_potential_mean(p, d, q, duration),),
        "predict": lambda p, d, q: tuple(predict(p, d, q, duration).values()),
    }
    for name, call in calls.items():
        result = call(table, a_d, a_p)
        assert all(np.shape(r) == (N_ROWS, DT_MS.size) for r in result), name
        for k in range(N_ROWS):
            for got, want in zip(result, call(table[k], a_d[k], a_p[k]), strict=True):
                _close(np.asarray(got)[k], want)


def test_readout_functions_share_scalar_alphas_and_durations_between_rows():
    table = _varied()
    U, D = transition_probabilities(table, 0.023, 0.018, 60 * second)
    assert U.shape == D.shape == (N_ROWS,)
    per_row = np.array([transition_probabilities(table[k], 0.023, 0.018, 60 * second)
                        for k in range(N_ROWS)])  # fmt: skip
    _close(np.array([U, D]).T, per_row)
    # a shared grid of conditions takes a leading axis of length 1
    alphas = np.array([[0.01, 0.02, 0.05]])
    result = predict(table, alphas, alphas / 2, 60 * second)
    assert result.S.shape == (N_ROWS, 3)
    for k in range(N_ROWS):
        _close(result.S[k], predict(table[k], alphas[0], alphas[0] / 2, 60 * second).S)


def test_a_grid_without_the_row_axis_first_is_refused():
    table = _varied()
    with pytest.raises(ValueError, match="row axis first"):
        rho_bar(table, np.full(N_ROWS + 1, 0.01), 0.02)


def test_flat_potential_rows_take_their_own_rho0():
    table = _varied("graupner2016_linear", rho0=np.linspace(0.2, 0.8, N_ROWS))
    a_d, a_p = time_above_threshold_pairs(table, DT_MS * ms, 10 * Hz)
    result = flat_potential_mean(table, a_d, a_p, 7.5 * second)
    for k in range(N_ROWS):
        _close(result[k], flat_potential_mean(table[k], a_d[k], a_p[k], 7.5 * second))


# ------------------------------------------------------------------------------------------
# Predictions for whole protocols


@pytest.mark.parametrize("base", ["DP", "hippocampal_slices", "graupner2016_linear"])
def test_predict_pairs_and_bursts_per_row_equal_each_row(base):
    table = _varied(base)
    dt = DT_MS * ms
    for call in (
        lambda p: predict_pairs(p, dt, [[1.0], [5.0]] * Hz, 60),
        lambda p: predict_burst(p, dt, 5 * Hz, 100),
    ):
        result = call(table)
        assert set(result) == {"alpha_d", "alpha_p", "U", "D", "rho_mean", "S"}
        for key, value in result.items():
            assert value.shape[0] == N_ROWS, key
        for k in range(N_ROWS):
            row = call(table[k])
            for key in result:
                _close(result[key][k], row[key])


def test_a_large_theta_p_table_runs_through_predict_pairs():
    table = ParameterTable("DP", theta_p=np.linspace(1.05, 3.0, 10_000))
    S = predict_pairs(table, [-20, 10] * ms, 1 * Hz, 60).S
    assert S.shape == (10_000, 2)
    for k in (0, 4321, 9999):
        _close(S[k], predict_pairs(table[k], [-20, 10] * ms, 1 * Hz, 60).S)


# ------------------------------------------------------------------------------------------
# The experiments' entry point


def _analytic_one_set(protocol, p):
    """What the theory gives for one set (the mirror of experiments._analytic)."""
    pattern = protocol.pattern()
    if pattern is not None:
        alpha_d, alpha_p = _pattern_alphas(p, *pattern)
    else:
        alpha_d, alpha_p = np.array(
            [
                _poisson_alphas_density(p, *condition)
                for condition in zip(
                    protocol.rate_pre, protocol.rate_post, protocol.p, protocol.delta_t, strict=True
                )
            ]  # fmt: skip
        ).T
    return _predict(p, alpha_d, alpha_p, protocol.duration)


@pytest.mark.parametrize(
    "protocol",
    [
        pairs(DT_MS * ms, 1 * Hz, 60),
        burst_pairs(DT_MS * ms, 5 * Hz, 100),
        triplets([5, 10] * ms, [-5, -10] * ms, 1 * Hz, 60),
        poisson_pairs([2, 5] * Hz, [3, 5] * Hz, 10 * second, p=[0.0, 0.5], delta_t=10 * ms),
    ],
    ids=["pairs", "bursts", "triplets", "poisson_pairs"],
)
@pytest.mark.parametrize("base", ["DP", "graupner2016_linear"])
def test_analytic_rows_equal_the_theory_of_each_row(protocol, base):
    table = _varied(base, n=4 if protocol.pattern() is None else N_ROWS)
    result = _analytic_rows(protocol, table)
    for key in ("U", "D", "S", "rho_mean"):
        assert result[key].shape == (len(table), protocol.n_conditions), key
    for k in range(len(table)):
        row = _analytic_one_set(protocol, table[k])
        for key in result:
            _close(result[key][k], row[key])


def test_analytic_rows_is_none_without_a_theory():
    protocol = pairs(DT_MS * ms, 1 * Hz, 60)
    assert _analytic_rows(protocol, ParameterTable("deperrois2020_visual", n=3)) is None
    nonlinear = ParameterTable("graupner2016_nonlinear", n=2)
    irregular = poisson_pairs(5 * Hz, 5 * Hz, 10 * second)
    assert _analytic_rows(irregular, nonlinear) is None


def test_analytic_rows_leave_rows_without_a_density_theory_nan():
    table = ParameterTable("graupner2016_linear", nonlinearity=[1.0, 2.0, 1.0])
    irregular = poisson_pairs([2, 5] * Hz, 5 * Hz, 10 * second)
    result = _analytic_rows(irregular, table)
    assert np.all(np.isnan(result["S"][1]))
    for k in (0, 2):
        _close(result["S"][k], _analytic_one_set(irregular, table[k])["S"])


def test_analytic_rows_take_a_single_set_as_one_row():
    protocol = pairs(DT_MS * ms, 1 * Hz, 60)
    result = _analytic_rows(protocol, "DP")
    _close(result["S"], _analytic_one_set(protocol, get_parameters("DP"))["S"][None])
