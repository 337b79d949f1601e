"""The fast engine: independent synapses simulated exactly, event by event, in compiled code.

This module checks the inputs and hands them to the Cython extension ``_fastpath`` (which
includes the C kernel ``kernel/gb_kernel.h``). Each synapse draws from its own random
stream of ``seed``, so results do not depend on batching: the same seed gives the same
numbers.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .inputs import MAX_TIME, check_fraction, check_seed, check_threads
from .keywords import strict_keywords
from .parameter_table import ParameterTable, as_parameter_table
from .parameters import CalciumParameters, get_parameters
from .progress import ProgressBar
from .protocols import SpikeTrains
from .reference import kernel_arguments
from .units import check_finite, to_si_array

__all__ = ["simulate_synapses", "default_threads", "MODEL_COLUMNS", "TableRows"]

# Most synapses per compiled call; between calls the progress bar moves.
_CHUNK = 50_000

#: The columns of a row of the compiled loop's model table (SI; switches as 0/1 and the
#: kernel's gating code). The first ten are the kernel's ``gb_params``.
MODEL_COLUMNS = ("tau_ca", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma", "tau",
                 "rho_star", "bistable", "noise_gating", "D", "Cpre", "Cpost", "eta", "stp_U",
                 "tau_rec", "tau_fac", "rho_scales_cpre", "release_sites")  # fmt: skip
_KERNEL_COLUMNS = MODEL_COLUMNS[:10]  # in the order of reference.kernel_arguments


class TableRows:
    """Synapse i follows row ``row_of_synapse[i]`` of a ParameterTable (a batch of sets)."""

    def __init__(self, table, row_of_synapse):
        self.table = table
        self.row_of_synapse = np.ascontiguousarray(row_of_synapse, dtype=np.int64)
        if self.row_of_synapse.size and (
            self.row_of_synapse.min() < 0 or self.row_of_synapse.max() >= len(table)
        ):
            raise ValueError("row_of_synapse refers to a row the table does not have")
        # the table's distinct rows, found once for every compiled call of the batch
        self.models, self.model_of_row = _model_table(table)

    def __len__(self):
        return self.row_of_synapse.size


def _model_table(params, rows=slice(None)):
    """The compiled loop's model table for some synapses, and each synapse's row in it.

    Parameters
    ----------
    params : CalciumParameters or ParameterTable
        One set for every synapse, or one row per synapse.
    rows : slice
        The synapses of one compiled call (rows of the table).

    Returns
    -------
    models : ndarray (M, len(MODEL_COLUMNS))
        The distinct models (each is prepared once per call).
    model_of_synapse : ndarray of int64
        Row of ``models`` of each synapse (None for a single set: the caller repeats 0).
    """
    if isinstance(params, TableRows):  # the table's distinct rows, each prepared once
        if params.model_of_row is None:
            return params.models, None
        return params.models, np.ascontiguousarray(params.model_of_row[params.row_of_synapse[rows]])
    if not isinstance(params, ParameterTable):
        return _model_row(params)[None, :], None
    varying = [j for j, name in enumerate(MODEL_COLUMNS) if _varies(params, name)]
    if not varying:
        return _model_row(params.base)[None, :], None
    # the distinct combinations of the varying columns: a θp sweep of 100 values over
    # 10^5 synapses prepares 100 models, continuous heterogeneity one per synapse
    values = np.column_stack([params.column(MODEL_COLUMNS[j])[rows] for j in varying])
    distinct, model_of = np.unique(values, axis=0, return_inverse=True)
    models = np.repeat(_model_row(params.base)[None, :], len(distinct), axis=0)
    models[:, varying] = distinct
    return np.ascontiguousarray(models), np.ascontiguousarray(model_of.ravel(), np.int64)


def _varies(table, column):
    if column == "eta":
        return bool({"nonlinearity", "Cpre", "Cpost"} & set(table.varying))
    return column in table.varying


def _model_row(p):
    """One set as a row of the model table: the kernel's arguments, then the rest."""
    rest = (getattr(p, name) for name in MODEL_COLUMNS[len(_KERNEL_COLUMNS) :])
    return np.array([*kernel_arguments(p), *rest], dtype=float)


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
    seeds=None,
    streams=None,
    pre_gates=None,
):
    """Fast path in SI units with validated inputs; see :func:`simulate_synapses`.

    ``params`` is a CalciumParameters or a ParameterTable with one row per synapse;
    ``seeds`` and ``streams`` (optional, one per synapse) replace the call's seed and the
    streams 0, 1, … (a batch of parameter sets then draws what separate calls would).
    """
    fp = _compiled()
    threads = check_threads(threads)
    threads = default_threads() if threads is None else threads
    seed = check_seed(seed)
    _check_tie_limit(pre, post, t_end)
    n = rho0.size
    trains = (
        np.arange(n, dtype=np.int64)
        if train_of_synapse is None
        else np.ascontiguousarray(train_of_synapse, dtype=np.int64)
    )
    rho = np.empty(n)
    n_read = 0 if readout_times is None else readout_times.size
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    keys = _Keys(n, seeds, streams)

    def run(start):
        sl = slice(start, min(start + chunk, n))
        models, model_of = _chunk_models(params, sl)
        out = fp.simulate(
            pre.times,
            pre.offsets,
            post.times,
            post.offsets,
            trains[sl],
            np.ascontiguousarray(rho0[sl]),
            np.ascontiguousarray(t_end[sl]),
            models,
            model_of,
            seed,
            start,
            readout_times,
            *keys.chunk(sl),
            pre_gates,
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


def _check_tie_limit(pre, post, t_end):
    """Refuse stored spikes after :data:`~brian2_calcium.inputs.MAX_TIME` that a synapse
    would process: there the 1 ns tie window (``gb_walk.h``) no longer covers the rounding
    of times on a grid (spikes after every ``t_end`` are ignored, and not checked)."""
    end = float(np.max(t_end)) if t_end.size else 0.0
    if end <= MAX_TIME:
        return
    for trains, name in ((pre, "presynaptic"), (post, "postsynaptic")):
        times = trains.times
        if np.any((times > MAX_TIME) & (times <= end)):
            raise ValueError(
                f"a {name} spike after {MAX_TIME:g} s: stored spike trains must end by then "
                "(the 1 ns tie window of simultaneous events is not above the rounding error "
                "of later times on a grid); trains drawn in the loop have no such limit"
            )


def _chunk_models(params, sl):
    models, model_of = _model_table(params, sl)
    if model_of is None:
        model_of = np.zeros(sl.stop - sl.start, dtype=np.int64)
    return models, model_of


class _Keys:
    """Per-synapse seeds and streams of a call (None: the call's seed, streams 0, 1, …)."""

    def __init__(self, n, seeds, streams):
        self.seeds = None if seeds is None else _key_array(seeds, n, "seeds", np.uint64)
        self.streams = None if streams is None else _key_array(streams, n, "streams", np.int64)

    def chunk(self, sl):
        return (
            None if self.seeds is None else self.seeds[sl],
            None if self.streams is None else self.streams[sl],
        )


def _key_array(values, n, name, dtype):
    values = np.asarray(values)
    if values.shape != (n,) or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array with one entry per synapse")
    if n and values.min() < 0:
        raise ValueError(f"{name} must be non-negative")
    return np.ascontiguousarray(values.astype(dtype))


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
    seeds=None,
    streams=None,
):
    """Fast path on spike trains drawn inside the compiled loop, in SI units.

    Parameters
    ----------
    params : CalciumParameters or ParameterTable
        One set, or one row per synapse.
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
    seeds, streams : ndarray of int (N,), optional
        As for :func:`_simulate`; ``seeds[i]`` also keys synapse i's train.

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
    threads = check_threads(threads)
    threads = default_threads() if threads is None else threads
    seed = check_seed(seed)
    n = rho0.size
    table = np.ascontiguousarray(table, dtype=float)
    condition = np.ascontiguousarray(condition, dtype=np.int64)
    train = np.ascontiguousarray(train, dtype=np.int64)
    if condition.shape != (n,) or train.shape != (n,):
        raise ValueError("condition and train need one entry per synapse")
    if n and (condition.min() < 0 or condition.max() >= table.shape[0] or train.min() < 0):
        raise ValueError("condition refers to a row of the law that does not exist")
    _check_law(name, table)
    rho = np.empty(n)
    n_read = 0 if readout_times is None else readout_times.size
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    keys = _Keys(n, seeds, streams)
    events = []

    def run(start):
        sl = slice(start, min(start + chunk, n))
        models, model_of = _chunk_models(params, sl)
        rho[sl], rho_at[sl], c_at[sl], done = fp.simulate_drawn(
            codes[name],
            table,
            condition[sl],
            train[sl],
            np.ascontiguousarray(rho0[sl]),
            np.ascontiguousarray(t_end[sl]),
            models,
            model_of,
            seed,
            start,
            readout_times,
            *keys.chunk(sl),
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
    streams=None,
    pre_gates=None,
):
    """Simulate independent synapses exactly (spec §6) with the compiled kernel.

    Each synapse starts at t = 0 with no calcium and efficacy ``rho0``; presynaptic calcium
    arrives ``params.D`` after each presynaptic spike; the synapse is brought up to
    ``t_end`` (later spikes are ignored). Every model variant of ``params`` is simulated:
    nonlinear calcium, short-term depression of the presynaptic calcium and its scaling by
    ρ (spec §1.5), the flat potential and the noise gating.

    Parameters
    ----------
    params : CalciumParameters or str, ParameterTable, or sequence of sets
        One parameter set for every synapse, or one per synapse: a
        :class:`~brian2_calcium.ParameterTable` of N rows (per-synapse arrays, e.g.
        ``ParameterTable("DP", theta_p=thresholds)``) or N sets (names or
        CalciumParameters). Synapses with equal values share one prepared model.
    pre, post : SpikeTrains or list of Quantity (time) arrays
        Spike trains (one per synapse, or one per entry of ``train_of_synapse``). A
        :class:`~brian2_calcium.protocols.SpikeTrains` holds seconds.
    rho0 : array_like (N,)
        Initial efficacies: finite, and in [0, 1] for a bistable set.
    t_end : Quantity (time), scalar or (N,)
        Time up to which each synapse is simulated. Stored spikes a synapse processes must
        not lie after :data:`~brian2_calcium.inputs.MAX_TIME` (1e6 s): beyond it the tie
        window of simultaneous events (1 ns) no longer covers the rounding of times on a
        grid.
    seed : int
        Seed of the random streams (synapse i uses stream i): an integer in [0, 2**64).
    train_of_synapse : array_like of int (N,), optional
        Which train each synapse receives (default: synapse i gets train i).
    readout_times : Quantity (time), array_like, optional
        Sorted times (≤ every ``t_end``) at which ρ and c are recorded.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).
    threads : int, optional
        Threads running the compiled loop, ≥ 1 (default None: every CPU available).
        Results do not depend on it.
    streams : array_like of int (N,), optional
        The random stream of each synapse (default: synapse i uses stream i), which keys
        its noise and its release draws (stochastic release). Another engine's synapse
        keys give its release draws: a Brian2 template's synapse index with its
        ``noise_seed`` as ``seed``, a NEST connection's ``noise_key`` with the model's seed.
    pre_gates : list of array_like, optional
        Voltage-gated presynaptic calcium: one factor per presynaptic spike of each
        train (the shapes of ``pre``), multiplying the calcium jump of its arrival, e.g.
        the NMDA Mg²⁺ block of recorded postsynaptic voltages at the arrivals
        (:class:`~brian2_calcium.VoltageGating`): the event template's numbers replayed.

    Returns
    -------
    rho : ndarray (N,)
        ρ at ``t_end``.
    rho_at, c_at : ndarray (N, R)
        ρ and calcium at ``readout_times`` (only if requested).

    Raises
    ------
    ValueError
        If ``t_end`` is negative or not finite, ``rho0`` is not finite (or outside [0, 1]
        for a bistable set), ``seed`` lies outside [0, 2**64), ``threads`` is below 1, a
        stored spike to process lies after 1e6 s, the trains do not match the synapses, or
        a parameter table has not one row per synapse.
    TypeError
        If ``seed`` or ``threads`` is not an integer (a float such as 1.5 or a bool).

    Examples
    --------
    >>> from brian2 import ms, second
    >>> import numpy as np
    >>> rho = simulate_synapses("DP", [np.arange(60) * second], [np.arange(60) * second + 10*ms],
    ...                         rho0=[0.0], t_end=60 * second, seed=1)
    >>> rho.shape
    (1,)

    Thresholds that differ per synapse, in one call:

    >>> from brian2_calcium import ParameterTable
    >>> table = ParameterTable("DP", theta_p=[1.2, 1.3, 1.4], sigma=0)
    >>> trains = [np.arange(60) * second] * 3
    >>> rho = simulate_synapses(table, trains, [t + 10*ms for t in trains], rho0=[0.0] * 3,
    ...                         t_end=60 * second)
    >>> bool(rho[0] > rho[2])  # a lower threshold potentiates more
    True
    """
    pre = _as_trains(pre, "presynaptic train")
    post = _as_trains(post, "postsynaptic train")
    rho0 = check_finite(np.atleast_1d(to_si_array(rho0, "rho0")).astype(float), "rho0")
    n = rho0.size
    p = _synapse_parameters(params, n)
    if (p.base if isinstance(p, ParameterTable) else p).bistable:
        check_fraction(rho0, "rho0 (a bistable set's efficacy)")
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
    if pre_gates is not None:
        pre_gates = _gates(pre_gates, pre)
    if streams is not None:
        streams = np.asarray(streams)
        if streams.shape != (n,) or not np.issubdtype(streams.dtype, np.integer):
            raise ValueError("streams must be an integer array with one entry per synapse")
        streams = np.ascontiguousarray(streams, dtype=np.int64)
    return _simulate(p, pre, post, rho0, t_end, seed, trains, read, progress, threads,
                     streams=streams, pre_gates=pre_gates)  # fmt: skip


def _gates(pre_gates, pre):
    """The gating factors as one array aligned with ``pre.times`` (checked)."""
    if len(pre_gates) != len(pre):
        raise ValueError(f"pre_gates needs one array per presynaptic train ({len(pre)}), "
                         f"got {len(pre_gates)}")  # fmt: skip
    arrays = [np.atleast_1d(np.asarray(to_si_array(g, "pre_gates"), float)) for g in pre_gates]
    for k, g in enumerate(arrays):
        spikes = pre.offsets[k + 1] - pre.offsets[k]
        if g.shape != (spikes,):
            raise ValueError(f"pre_gates {k} has {g.size} factors for {spikes} presynaptic spikes")
    flat = np.concatenate(arrays) if arrays else np.zeros(0)
    check_finite(flat, "pre_gates")
    if np.any(flat < 0):
        raise ValueError("pre_gates must be >= 0 (factors of the calcium jump)")
    return np.ascontiguousarray(flat)


def _synapse_parameters(params, n):
    """A set for every synapse (CalciumParameters), or a table of one row per synapse."""
    if isinstance(params, str | CalciumParameters):
        return get_parameters(params)
    table = as_parameter_table(params, n, "the parameter table")
    return table if table.varying else table.base


def _as_trains(trains, name):
    if isinstance(trains, SpikeTrains):
        return trains.validate(name)
    arrays = [to_si_array(t, f"{name} {i}", "time") for i, t in enumerate(trains)]
    return SpikeTrains.from_list(arrays, name)
