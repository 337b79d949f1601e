"""Published plasticity data used to fit and validate the model, with provenance.

Values are the points digitised by the model's authors, as distributed with their code
(repository ``mgraupe/CalciumBasedPlasticityModel``, folder ``experimental_data/``); only
the numbers are copied here.
"""

import numpy as np

from .keywords import strict_keywords

__all__ = ["sjostrom2001_regular", "sjostrom2001_stochastic"]

# experimental_data/sjoestroem_regular_all.dat: frequency (Hz), Δt (ms), change − 1, SEM.
_SJOSTROM_REGULAR = [
    (0.1, 10, -0.04, 0.05),
    (0.1, -10, -0.29, 0.08),
    (10, 10, 0.14, 0.10),
    (10, -10, -0.41, 0.11),
    (20, 10, 0.29, 0.14),
    (20, -10, -0.34, 0.10),
    (40, 10, 0.53, 0.11),
    (40, -10, 0.56, 0.32),
    (50, 10, 0.56, 0.26),
    (50, -10, 0.75, 0.19),
]

# experimental_data/sjoestroem_stochastic.dat: frequency (Hz), change − 1, SEM
# (lag uniform in ±15 ms).
_SJOSTROM_STOCHASTIC = [(1, -0.25, 0.10), (20, -0.15, 0.05), (35, 0.0, 0.10), (50, 0.35, 0.15)]


@strict_keywords
def sjostrom2001_regular():
    """Sjöström, Turrigiano & Nelson 2001 (Neuron 32:1149), L5 visual cortex, regular pairs.

    Change in synaptic strength after 75 pairings (15 trains of 5 pairs) at Δt = ±10 ms
    and 0.1–50 Hz; the data fitted by the GB2012 ``cortical_slices`` set (GB2012 Fig. 4).

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency_hz``, ``delta_t_ms``, ``n_pairs``, ``S`` (relative change,
        1 = no change) and ``S_sem``.
    """
    import pandas as pd

    f, dt, change, sem = np.array(_SJOSTROM_REGULAR, float).T
    return pd.DataFrame(
        {"frequency_hz": f, "delta_t_ms": dt, "n_pairs": 75, "S": 1 + change, "S_sem": sem}
    )


@strict_keywords
def sjostrom2001_stochastic():
    """Sjöström et al. 2001 stochastic protocol: 75 pairings, lag uniform in ±15 ms.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency_hz``, ``n_pairs``, ``S``, ``S_sem``.
    """
    import pandas as pd

    f, change, sem = np.array(_SJOSTROM_STOCHASTIC, float).T
    return pd.DataFrame({"frequency_hz": f, "n_pairs": 75, "S": 1 + change, "S_sem": sem})
