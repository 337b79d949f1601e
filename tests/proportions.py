"""Comparing the proportions (U, D) two engines give on the same grid, with power.

Per point |z| ≤ 3.5 with the pooled binomial SE of the difference, and the χ² of all z
consistent (p > 0.001). At n synapses per state, 3.5 SE must be at most ``tolerance``, so
the comparison can see a rule that moves U or D by that much; points where neither engine
saw a transition must agree exactly.
"""

import numpy as np
from scipy import stats


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
    z = np.concatenate(z)
    assert np.all(np.abs(z) <= 3.5), z
    assert stats.chi2.sf(np.sum(z**2), max(z.size, 1)) > 1e-3, z
    return z
