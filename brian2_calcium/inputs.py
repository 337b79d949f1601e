"""Checks of the plain (unitless) inputs every engine shares: seeds, thread counts, fractions.

Each check returns the value in the form the engines use, or raises an error that names the
argument; none rounds, wraps or clamps. The limits of the engines' time and spike
bookkeeping (:data:`MAX_TIME`, :data:`MAX_SPIKES`) are defined here too.
"""

import numbers

import numpy as np

from .keywords import strict_keywords

__all__ = [
    "MAX_SEED",
    "MAX_TIME",
    "MAX_SPIKES",
    "check_seed",
    "check_threads",
    "check_fraction",
    "check_spike_count",
    "check_time_limit",
]

#: The largest seed (seeds are integers in [0, 2**64), the width of the random streams' key).
MAX_SEED = 2**64 - 1

#: Latest time (s) an engine resolves ties on a time grid correctly. A presynaptic calcium
#: arrival and a postsynaptic spike closer than the tie window (1 ns, ``gb_walk.h``) are
#: simultaneous; beyond 1e6 s the rounding error of times on a grid nears that window, so
#: stored spike trains and Brian2 runs must end by then (trains drawn inside the fast
#: path's loop have no grid and are not limited).
MAX_TIME = 1e6

#: Most spikes one neuron (one train) may have: the walk counts a neuron's spikes in 32 bits
#: (``gb_history_count``), and one spike more than this would not fit.
MAX_SPIKES = 2**31 - 2


def _is_integer(value):
    """A Python or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


@strict_keywords
def check_seed(seed, name="seed"):
    """A seed as a Python int in [0, 2**64).

    Parameters
    ----------
    seed : int
        Python or numpy integer (not a bool, not a float).
    name : str
        Argument name for the error message.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``seed`` is not an integer (``1.5``, ``1.0``, ``True``, ``"1"``).
    ValueError
        If it lies outside [0, 2**64).

    Examples
    --------
    >>> check_seed(np.int64(7))
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an integer in [0, 2**64), got -1
    """
    if not _is_integer(seed):
        raise TypeError(f"{name} must be an integer in [0, 2**64), got {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {seed}")
    return seed


@strict_keywords
def check_threads(threads, name="threads"):
    """A thread count: an integer ≥ 1, or None (every CPU available).

    Parameters
    ----------
    threads : int or None
    name : str
        Argument name for the error message.

    Returns
    -------
    int or None

    Raises
    ------
    TypeError
        If ``threads`` is neither None nor an integer.
    ValueError
        If it is below 1.

    Examples
    --------
    >>> check_threads(None) is None
    True
    >>> check_threads(0)
    Traceback (most recent call last):
    ...
    ValueError: threads must be an integer >= 1 (or None for every CPU), got 0
    """
    if threads is None:
        return None
    if not _is_integer(threads):
        raise TypeError(f"{name} must be an integer >= 1 (or None for every CPU), got {threads!r}")
    if threads < 1:
        raise ValueError(f"{name} must be an integer >= 1 (or None for every CPU), got {threads}")
    return int(threads)


@strict_keywords
def check_fraction(value, name, allow_nan=False):
    """A probability or fraction (scalar or array) in [0, 1], as a float array.

    Parameters
    ----------
    value : array_like
    name : str
        Argument name for the error message.
    allow_nan : bool
        Let NaN through (an undefined entry, e.g. U and D of a mean read-out).

    Returns
    -------
    ndarray of float

    Raises
    ------
    ValueError
        If an entry lies outside [0, 1] (or is NaN, unless allowed).

    Examples
    --------
    >>> check_fraction(2, "U")
    Traceback (most recent call last):
    ...
    ValueError: U must lie in [0, 1], got 2.0
    """
    arr = np.asarray(value, dtype=float)
    inside = (arr >= 0) & (arr <= 1)
    if allow_nan:
        inside |= np.isnan(arr)
    if not np.all(inside):
        bad = arr[~inside].flat[0] if arr.ndim else float(arr)
        raise ValueError(f"{name} must lie in [0, 1], got {bad}")
    return arr


@strict_keywords
def check_time_limit(times, name):
    """Refuse times (s) beyond :data:`MAX_TIME`, where ties on a grid are no longer resolved.

    Parameters
    ----------
    times : array_like
        Times in seconds (SI floats).
    name : str
        What they are, for the error message.

    Raises
    ------
    ValueError
        If any time exceeds :data:`MAX_TIME`.
    """
    arr = np.asarray(times, dtype=float)
    if arr.size and np.max(arr) > MAX_TIME:
        raise ValueError(
            f"{name} must not exceed {MAX_TIME:g} s (got {np.max(arr):g} s): beyond it the "
            "1 ns tie window of simultaneous events is not above the rounding error of times "
            "on a grid"
        )


@strict_keywords
def check_spike_count(counts, name):
    """Refuse trains with more spikes than the walk's 32-bit counters hold (:data:`MAX_SPIKES`).

    Parameters
    ----------
    counts : array_like of int
        Spikes per train (per neuron).
    name : str
        What the trains are, for the error message.

    Raises
    ------
    ValueError
        If a train has more than :data:`MAX_SPIKES` spikes.
    """
    arr = np.asarray(counts)
    if arr.size and np.max(arr) > MAX_SPIKES:
        raise ValueError(
            f"{name}: a train of {int(np.max(arr))} spikes is more than the {MAX_SPIKES} "
            "a neuron's 32-bit spike counter holds"
        )
