"""The fast engine: independent synapses simulated exactly, event by event, in compiled code.

This module checks the inputs and hands them to the Cython extension ``_fastpath`` (which
includes the C kernel ``kernel/gb_kernel.h``). Each synapse draws from its own random
stream of ``seed``, so results do not depend on batching: the same seed gives the same
numbers.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .keywords import strict_keywords
from .parameters import get_parameters
from .progress import ProgressBar
from .protocols import SpikeTrains
from .reference import kernel_arguments
from .units import check_finite, to_si_array

__all__ = ["simulate_synapses", "default_threads"]

# Most synapses per compiled call; between calls the progress bar moves.
_CHUNK = 50_000


def _compiled():
    try:
        from . import _fastpath
    except ImportError as err:  # pragma: no cover - only without a build
        raise ImportError(
            "the compiled fast path is missing: install the package with `pip install .` "
            "(or build in place with `python setup.py build_ext --inplace`)"
        ) from err
    return _fastpath


@strict_keywords
def default_threads():
    """Threads used by the fast path by default: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _simulate(
    params,
    pre,
    post,
    rho0,
    t_end,
    seed,
    train_of_synapse=None,
    readout_times=None,
    progress=None,
    threads=None,
):
    """Fast path in SI units with validated inputs; see :func:`simulate_synapses`."""
    fp = _compiled()
    threads = default_threads() if threads is None else max(int(threads), 1)
    p = params
    n = rho0.size
    trains = (
        np.arange(n, dtype=np.int64)
        if train_of_synapse is None
        else np.ascontiguousarray(train_of_synapse, dtype=np.int64)
    )
    args = kernel_arguments(p)
    rho = np.empty(n)
    n_read = 0 if readout_times is None else readout_times.size
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    seed = int(seed) % 2**64

    def run(start):
        sl = slice(start, min(start + chunk, n))
        out = fp.simulate(
            pre.times,
            pre.offsets,
            post.times,
            post.offsets,
            trains[sl],
            np.ascontiguousarray(rho0[sl]),
            np.ascontiguousarray(t_end[sl]),
            args,
            p.D,
            p.Cpre,
            p.Cpost,
            p.eta,
            seed,
            start,
            readout_times,
            p.stp_U,
            p.tau_rec,
            p.rho_scales_cpre,
        )
        if readout_times is None:
            rho[sl] = out
        else:
            rho[sl], rho_at[sl], c_at[sl] = out
        return sl.stop - sl.start

    chunk = _chunk_size(n, threads)
    _run_chunks(run, n, chunk, threads, progress)
    if readout_times is None:
        return rho
    return rho, rho_at, c_at


def _chunk_size(n, threads):
    """Chunks small enough to spread over the threads and to move the progress bar."""
    return max(1, min(_CHUNK, -(-n // (4 * threads))))


def _run_chunks(run, n, chunk, threads, progress):
    """Call ``run(start)`` for every chunk of ``n`` synapses, on ``threads`` threads.

    The compiled loop releases the GIL, and synapse i always draws from stream i, so the
    threads do not change the numbers. ``run`` returns how many synapses it did.
    """
    starts = range(0, n, chunk)
    with ProgressBar(n, "fast path", enabled=progress) as bar:
        if threads == 1 or len(starts) == 1:
            for start in starts:
                bar.update(run(start))
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                for done in pool.map(run, starts):
                    bar.update(done)


def _simulate_drawn(
    params,
    law,
    condition,
    train,
    rho0,
    t_end,
    seed,
    readout_times=None,
    progress=None,
    threads=None,
):
    """Fast path on spike trains drawn inside the compiled loop, in SI units.

    Parameters
    ----------
    params : CalciumParameters
    law : (str, ndarray (C, 6))
        A protocol's :meth:`~brian2_calcium.protocols.Protocol.train_law`.
    condition, train : ndarray of int (N,)
        Synapse i receives train ``train[i]`` of condition ``condition[i]``: its spikes
        are keyed by (seed, condition, train), so synapses with the same keys share them.
    rho0, t_end : ndarray (N,)
        Initial efficacies and end times (s).
    seed : int
    readout_times : ndarray (R,), optional
        Sorted read-out times (s), each ≤ every t_end.
    progress : bool, optional
    threads : int, optional
        Results do not depend on it.

    Returns
    -------
    rho : ndarray (N,)
    rho_at, c_at : ndarray (N, R)
        (R = 0 without read-out times.)
    n_events : int
        Spikes processed, all synapses together.
    """
    fp = _compiled()
    name, table = law
    codes = {"poisson_pairs": fp.LAW_POISSON_PAIRS, "jittered_pairs": fp.LAW_JITTERED_PAIRS}
    if name not in codes:
        raise ValueError(f"no compiled sampler for trains of law {name!r}")
    threads = default_threads() if threads is None else max(int(threads), 1)
    p = params
    n = rho0.size
    table = np.ascontiguousarray(table, dtype=float)
    condition = np.ascontiguousarray(condition, dtype=np.int64)
    train = np.ascontiguousarray(train, dtype=np.int64)
    if condition.shape != (n,) or train.shape != (n,):
        raise ValueError("condition and train need one entry per synapse")
    if n and (condition.min() < 0 or condition.max() >= table.shape[0] or train.min() < 0):
        raise ValueError("condition refers to a row of the law that does not exist")
    _check_law(name, table)
    args = kernel_arguments(p)
    rho = np.empty(n)
    n_read = 0 if readout_times is None else readout_times.size
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    seed = int(seed) % 2**64
    events = []

    def run(start):
        sl = slice(start, min(start + chunk, n))
        rho[sl], rho_at[sl], c_at[sl], done = fp.simulate_drawn(
            codes[name],
            table,
            condition[sl],
            train[sl],
            np.ascontiguousarray(rho0[sl]),
            np.ascontiguousarray(t_end[sl]),
            args,
            p.D,
            p.Cpre,
            p.Cpost,
            p.eta,
            seed,
            start,
            readout_times,
            p.stp_U,
            p.tau_rec,
            p.rho_scales_cpre,
        )
        events.append(done)  # list.append is atomic: safe from the worker threads
        return sl.stop - sl.start

    chunk = _chunk_size(n, threads)
    _run_chunks(run, n, chunk, threads, progress)
    return rho, rho_at, c_at, int(sum(events))


def _check_law(name, table):
    """Refuse a law table the compiled samplers would misread (they trust their input)."""
    if table.ndim != 2 or table.shape[1] != 6 or not np.all(np.isfinite(table)):
        raise ValueError(f"the {name} law needs a finite table of 6 columns per condition")
    if name == "poisson_pairs":
        rate_pre, rate_extra, p, _, T, lead = table.T
        if np.any(rate_pre < 0) or np.any(rate_extra < 0):
            raise ValueError("poisson_pairs law: rates must be non-negative")
        if np.any((p < 0) | (p > 1)) or np.any(T <= 0) or np.any(lead < 0):
            raise ValueError("poisson_pairs law: p must lie in [0, 1], T > 0, lead >= 0")
    else:
        frequency, n_pairs, lag_min, lag_max, lead, _ = table.T
        if np.any(frequency <= 0) or np.any(n_pairs < 0) or np.any(lead < 0):
            raise ValueError("jittered_pairs law: frequency > 0, n_pairs >= 0, lead >= 0")
        # post spikes wait in a buffer of 8 while lags may reorder them: a lag range under
        # two periods (what jittered_pairs allows) keeps at most 3 waiting
        if np.any(lag_max < lag_min) or np.any((lag_max - lag_min) * frequency >= 2):
            raise ValueError("jittered_pairs law: the lag range must be shorter than two periods")


@strict_keywords
def simulate_synapses(
    params,
    pre,
    post,
    rho0,
    t_end,
    seed=0,
    train_of_synapse=None,
    readout_times=None,
    progress=None,
    threads=None,
):
    """Simulate independent synapses exactly (spec §6) with the compiled kernel.

    Each synapse starts at t = 0 with no calcium and efficacy ``rho0``; presynaptic calcium
    arrives ``params.D`` after each presynaptic spike; the synapse is brought up to
    ``t_end`` (later spikes are ignored). Every model variant of ``params`` is simulated:
    nonlinear calcium, short-term depression of the presynaptic calcium and its scaling by
    ρ (spec §1.5), the flat potential and the noise gating.

    Parameters
    ----------
    params : CalciumParameters or str
    pre, post : SpikeTrains or list of Quantity (time) arrays
        Spike trains (one per synapse, or one per entry of ``train_of_synapse``). A
        :class:`~brian2_calcium.protocols.SpikeTrains` holds seconds.
    rho0 : array_like (N,)
        Initial efficacies.
    t_end : Quantity (time), scalar or (N,)
        Time up to which each synapse is simulated.
    seed : int
        Seed of the random streams (synapse i uses stream i).
    train_of_synapse : array_like of int (N,), optional
        Which train each synapse receives (default: synapse i gets train i).
    readout_times : Quantity (time), array_like, optional
        Sorted times (≤ every ``t_end``) at which ρ and c are recorded.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).
    threads : int, optional
        Threads running the compiled loop (default: every CPU available). Results do not
        depend on it.

    Returns
    -------
    rho : ndarray (N,)
        ρ at ``t_end``.
    rho_at, c_at : ndarray (N, R)
        ρ and calcium at ``readout_times`` (only if requested).

    Raises
    ------
    ValueError
        If ``t_end`` is negative or not finite, or the trains do not match the synapses.

    Examples
    --------
    >>> from brian2 import ms, second
    >>> import numpy as np
    >>> rho = simulate_synapses("DP", [np.arange(60) * second], [np.arange(60) * second + 10*ms],
    ...                         rho0=[0.0], t_end=60 * second, seed=1)
    >>> rho.shape
    (1,)
    """
    p = get_parameters(params)
    pre = _as_trains(pre, "presynaptic train")
    post = _as_trains(post, "postsynaptic train")
    rho0 = check_finite(np.atleast_1d(to_si_array(rho0, "rho0")).astype(float), "rho0")
    n = rho0.size
    t_end = np.broadcast_to(
        check_finite(to_si_array(t_end, "t_end", "time"), "t_end"), (n,)
    ).astype(float)
    if np.any(t_end < 0):  # the synapses start at t = 0: a negative end would be a no-op
        raise ValueError(f"t_end must be >= 0 s, got {t_end.min()} s")
    if train_of_synapse is None:
        if len(pre) != n or len(post) != n:
            raise ValueError(
                f"got {n} synapses but {len(pre)} presynaptic and {len(post)} postsynaptic "
                "trains; pass train_of_synapse to share trains"
            )
        trains = None
    else:
        trains = np.asarray(train_of_synapse)
        if trains.shape != (n,) or not np.issubdtype(trains.dtype, np.integer):
            raise ValueError("train_of_synapse must be an integer array with one entry per synapse")
        if n and (trains.min() < 0 or trains.max() >= min(len(pre), len(post))):
            raise ValueError("train_of_synapse refers to a train that does not exist")
    if len(pre) != len(post):
        raise ValueError(f"{len(pre)} presynaptic but {len(post)} postsynaptic trains")
    read = None
    if readout_times is not None:
        read = np.ascontiguousarray(
            check_finite(to_si_array(readout_times, "readout_times", "time"), "readout_times"),
            dtype=float,
        ).ravel()
        if np.any(np.diff(read) < 0):
            raise ValueError("readout_times must be sorted")
        if read.size and (read[0] < 0 or np.any(read[-1] > t_end)):
            raise ValueError("readout_times must lie between 0 and t_end")
    return _simulate(p, pre, post, rho0, t_end, seed, trains, read, progress, threads)


def _as_trains(trains, name):
    if isinstance(trains, SpikeTrains):
        return trains.validate(name)
    arrays = [to_si_array(t, f"{name} {i}", "time") for i, t in enumerate(trains)]
    return SpikeTrains.from_list(arrays, name)
