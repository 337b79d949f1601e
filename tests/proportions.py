"""Comparing the proportions (U, D) or the mean read-outs (S) of two engines on the same
grid, with power.

Per point |z| ≤ 3.5 with the standard error of the difference, and the χ² of all z
consistent (p > 0.001). 3.5 SE must be at most ``tolerance`` (default 0.05), so the
comparison can see a rule that moves U, D or S by that much; points where neither sample
varies (SE 0) must agree exactly.

For U and D the SE is the pooled binomial one at n samples per engine: at n = 2500, 3.5 SE
is at most 0.0495. For S it is the quadrature sum of the two samples' own SEs (the
``S_se`` column: spec §1.4 for the bistable sets, the sample SD of ρ/ρ0 for the flat
ones); for the bistable sets (β = 0.5, b = 5: S − 1 = (2/3)(U − D)) 3.5 SE is at most
3.5·(2/3)·√(2·0.5/n), 0.047 at n = 2500.

Against the diffusion approximation (spec §3.2), which the exact model misses by a bias of
up to about 0.015 (spec §4.6), :func:`assert_near_theory` takes the same per-point bound
and χ² on the part of each difference beyond that allowance.
"""

import numpy as np
from scipy import stats


def _assert_z(z):
    z = np.concatenate(z) if z else np.zeros(0)
    assert np.all(np.abs(z) <= 3.5), ("a point beyond |z| = 3.5", z)
    chi2 = float(np.sum(z**2))
    assert stats.chi2.sf(chi2, max(z.size, 1)) > 1e-3, (f"χ² {chi2:.1f} on {z.size} points", z)
    return z


def assert_same_proportions(pairs, n, tolerance=0.05):
    """``pairs``: (a, b) arrays of proportions (one entry per condition), n samples each."""
    z = []
    for a, b in pairs:
        a, b = np.asarray(a, float), np.asarray(b, float)
        pooled = (a + b) / 2
        se = np.sqrt(2 * pooled * (1 - pooled) / n)
        assert np.all(3.5 * se <= tolerance), (se, n)
        same = se == 0
        assert np.array_equal(a[same], b[same]), (a, b)
        z.append((a[~same] - b[~same]) / se[~same])
    return _assert_z(z)


def assert_same_means(pairs, tolerance=0.05):
    """``pairs``: (a, se_a, b, se_b) arrays of means and their standard errors (one entry
    per condition; e.g. the ``S`` and ``S_se`` columns of two result tables)."""
    z = []
    for a, se_a, b, se_b in pairs:
        a, b = np.asarray(a, float), np.asarray(b, float)
        se = np.hypot(np.asarray(se_a, float), np.asarray(se_b, float))
        assert np.all(3.5 * se <= tolerance), se
        same = se == 0
        np.testing.assert_allclose(a[same], b[same], rtol=1e-12, atol=0)
        z.append((a[~same] - b[~same]) / se[~same])
    return _assert_z(z)


def proportion_se(theory, n, bias=0.015):
    """Standard error of a proportion over ``n`` samples whose true value may lie up to
    ``bias`` from ``theory``: √(q(1 − q)/n) at the q within ±bias of the theory closest to
    1/2, so at least the SE of any true value the allowance admits (near 0 and 1 the
    theory's own SE would understate it); at most √(0.25/n)."""
    theory = np.asarray(theory, float)
    q = np.clip(0.5, theory - bias, theory + bias)
    return np.sqrt(q * (1 - q) / n)


def assert_near_theory(sim, theory, se, bias=0.015, tolerance=0.05):
    """A simulation (``sim``, standard errors ``se``) against a theory that may be off by
    up to ``bias`` (the diffusion approximation: spec §4.6 allows 0.015 in U and D); all
    arguments are arrays of the same points (concatenate U and D to test them together).

    Per point the part of the difference beyond the allowance, in SE,

        z_i = sign(Δ_i) · max(0, |Δ_i| − bias) / SE_i,   Δ_i = sim_i − theory_i,

    must satisfy |z_i| ≤ 3.5 (so |Δ_i| ≤ 3.5 SE_i + bias), and Σ z_i² must be consistent
    with χ²(k) over the k points that vary: χ²(k).sf(Σ z²) > 1e-3. Reasoning: write
    Δ_i = e_i + β_i with e_i the sampling error (SD SE_i) and β_i the theory's bias. If
    |β_i| ≤ bias then max(0, |Δ_i| − bias) ≤ |e_i|, so z_i² ≤ (e_i/SE_i)², and Σ z² is
    stochastically at most χ²(k): the test keeps its level (at most 1e-3 from the χ²)
    whatever the biases within the allowance are, where a χ² on Δ_i/SE_i itself would
    fail on the bias alone. Against it, many moderate deviations (each within the
    pointwise bound) add up: a rule that moves every point by 0.02 in U adds about
    ((0.02 − 0.015)/SE)² per point, which a pointwise bound alone never sees.

    The SE must be at least that of the true value (for proportions use
    :func:`proportion_se`). 3.5 SE + bias must be at most ``tolerance`` (default 0.05) at
    every point, so that no bound is wider than that; a point with SE 0 (nothing varies)
    must lie within the allowance.

    Returns the z of the points that vary.
    """
    arrays = np.broadcast_arrays(*(np.asarray(x, float) for x in (sim, theory, se)))
    sim, theory, se = (a.ravel() for a in arrays)
    assert np.all(np.isfinite(sim) & np.isfinite(theory) & (se >= 0)), (sim, theory, se)
    assert np.all(3.5 * se + bias <= tolerance), (se, bias, tolerance)
    difference = sim - theory
    excess = np.maximum(0.0, np.abs(difference) - bias)
    varied = se > 0
    assert np.all(excess[~varied] == 0), (sim[~varied], theory[~varied])
    z = np.sign(difference[varied]) * excess[varied] / se[varied]
    return _assert_z([z])
