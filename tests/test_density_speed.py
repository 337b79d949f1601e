"""The vectorised stationary calcium density (spec §3.4) against a loop over grid points.

``_stationary_density_alphas`` computes the density block by block with whole-array
operations; the reference here walks the same grid one point at a time, reads each
shifted integral by ``np.interp`` and integrates the power-law part with ``quad``.
"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1

from brian2_calcium import get_parameters
from brian2_calcium.analytic import (
    _DENSITY_STEP,
    _poisson_jump_classes,
    _power_law_integral,
    _stationary_density_alphas,
)

EULER_GAMMA = 0.5772156649015329


def reference_alphas(amps, rates, tau_ca, thetas, dc):
    """P(c > θ) by the recursion of spec §3.4, one grid point at a time."""
    thetas = np.asarray(thetas, float)
    r = tau_ca * np.sum(rates)
    A1 = amps[0]
    K = np.exp(-r * EULER_GAMMA - tau_ca * np.sum(rates * np.log(amps)) - gammaln(r))
    # the same grid as the library: step A_1/n, up to the mean + 12 sd + two largest jumps
    mean = tau_ca * np.sum(rates * amps)
    sd = np.sqrt(tau_ca / 2 * np.sum(rates * amps**2))
    c_max = max(thetas.max(), mean) + 12 * sd + 2 * amps.max()
    n_per = max(int(np.ceil(A1 / dc)), 4)
    h = A1 / n_per
    N = int(np.ceil(c_max / h))
    c = np.arange(N + 1) * h
    P = np.zeros(N + 1)
    J = np.zeros((amps.size, N + 1))  # ∫_{A_1}^{c_j} (u + A_k)^{−r} P(u) du
    for i in range(1, N + 1):
        if i <= n_per:
            P[i] = K * c[i] ** (r - 1)
            continue
        bracket = K
        for k, (a, lam) in enumerate(zip(amps, rates, strict=True)):
            w = c[i] - a
            if w <= 0:
                continue
            # P(u) = K u^{r−1} on (0, A_1): quad with the algebraic weight u^{r−1}
            power_law, _ = quad(
                lambda u, a=a: K * (u + a) ** (-r),
                0.0,
                min(w, A1),
                weight="alg",
                wvar=(r - 1, 0),
                epsabs=1e-15,
                epsrel=1e-12,
            )
            numeric = np.interp(w, c[n_per:i], J[k, n_per:i]) if w > A1 else 0.0
            bracket -= tau_ca * lam * (power_law + numeric)
        P[i] = c[i] ** (r - 1) * bracket
        for k, a in enumerate(amps):
            g_now = (c[i] + a) ** (-r) * P[i]
            g_before = (c[i - 1] + a) ** (-r) * P[i - 1]
            J[k, i] = J[k, i - 1] + 0.5 * h * (g_now + g_before) if i > n_per else 0.0
    out = np.empty(thetas.shape)
    cdf = np.zeros(N + 1 - n_per)
    for j in range(1, cdf.size):
        cdf[j] = cdf[j - 1] + 0.5 * h * (P[n_per + j] + P[n_per + j - 1])
    for t, theta in enumerate(thetas):
        if theta <= A1:
            out[t] = 1.0 - K * theta**r / r
        else:
            out[t] = cdf[-1] - np.interp(theta, c[n_per:], cdf)
    return np.clip(out, 0.0, 1.0)


def conditions(names, rates):
    for name in names:
        p = get_parameters(name)
        thetas = np.array([0.4, p.theta_d, p.theta_p, 2.2, p.Cpre, p.Cpost])
        for nu_pre, nu_post in rates:
            for prob, delta_t in [(0.0, 0.0), (0.5, -0.02), (1.0, 0.01)]:
                if prob * nu_pre <= nu_post:
                    amps, rates_k = _poisson_jump_classes(p, nu_pre, nu_post, prob, delta_t)
                    yield pytest.param(
                        amps, rates_k, p.tau_ca, thetas, id=f"{name}-{nu_pre}-{nu_post}-{prob}"
                    )


@pytest.mark.parametrize(
    ("amps", "rates", "tau_ca", "thetas"),
    list(
        conditions(
            ["DP", "cortical_slices", "hippocampal_slices", "graupner2016_linear"],
            [(0.1, 5.0), (5.0, 5.0), (50.0, 20.0)],
        )
    ),
)
def test_vectorised_density_matches_the_loop_over_grid_points(amps, rates, tau_ca, thetas):
    dc = 2e-3  # coarse, so that the loop is quick; the two walk the same grid
    got = _stationary_density_alphas(amps, rates, tau_ca, thetas, dc)
    expected = reference_alphas(amps, rates, tau_ca, thetas, dc)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


@pytest.mark.long
@pytest.mark.parametrize(
    ("amps", "rates", "tau_ca", "thetas"),
    list(conditions(["DPD", "higgins2014_in_vivo"], [(1.0, 1.0), (20.0, 50.0)])),
)
def test_vectorised_density_matches_the_loop_at_the_default_step(amps, rates, tau_ca, thetas):
    dc = _DENSITY_STEP  # θd = 1 in these sets
    got = _stationary_density_alphas(amps, rates, tau_ca, thetas, dc)
    expected = reference_alphas(amps, rates, tau_ca, thetas, dc)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("r", [0.002, 0.026, 0.3, 1.0, 2.7, 12.0, 80.0])
def test_power_law_integral_equals_the_hypergeometric_form_and_quadrature(r):
    """The series of ∫_0^u v^{r−1}(v + a)^{−r} dv against (u/a)^r/r ₂F₁(r, r; r+1; −u/a)
    (what the density used before) to 1e-13, and against quad with the algebraic weight,
    from u = 0 to u = a (the largest w = 1/2 the density asks for)."""
    a = 1.7
    u = np.concatenate([[0.0, 1e-12], np.linspace(1e-6, a, 41)])
    got = _power_law_integral(u, a, r)
    z = u / a
    hypergeometric = z**r / r * hyp2f1(r, r, r + 1, -z)
    np.testing.assert_allclose(got, hypergeometric, rtol=1e-13, atol=0)
    for uk, gk in zip(u[2::8], got[2::8], strict=True):
        value, _ = quad(lambda v: (v + a) ** (-r), 0.0, uk, weight="alg", wvar=(r - 1, 0),
                        epsabs=0, epsrel=1e-13)  # fmt: skip
        assert gk == pytest.approx(value, rel=1e-11)
