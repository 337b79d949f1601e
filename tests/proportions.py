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
"""

import numpy as np
from scipy import stats


def _assert_z(z):
    z = np.concatenate(z) if z else np.zeros(0)
    assert np.all(np.abs(z) <= 3.5), z
    assert stats.chi2.sf(np.sum(z**2), max(z.size, 1)) > 1e-3, z
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
