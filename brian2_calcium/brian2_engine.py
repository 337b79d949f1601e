"""The Brian2 engines: any protocol's spike trains through a synapse template in one network.

``mode="event"`` uses the exact event-driven template, ``mode="clock"`` the clock-driven
reference; the whole grid of synapses is one ``Synapses`` object driven by one
``SpikeGeneratorGroup``, on the numpy, cython or cpp_standalone target.
"""

import shutil
import tempfile
import time

import numpy as np

from .gc_freeze import gc_frozen
from .inputs import check_fraction, check_seed, check_spike_count, check_time_limit
from .keywords import strict_keywords
from .parameters import get_parameters
from .protocols import SpikeTrains
from .templates import bring_up_to_date, make_synapses, synapse_template
from .units import check_finite, to_si, to_si_array

__all__ = ["TARGETS", "DEFAULT_DT", "simulate_brian2"]

#: Code generation targets understood by :func:`simulate_brian2`.
TARGETS = ("numpy", "cython", "cpp_standalone")

#: Default time step (s).
DEFAULT_DT = 1e-4


def _as_seconds(value, name):
    """Quantity (time), :class:`~brian2_calcium.units.SI` or bare seconds → float array.

    The engine interface (``experiments``) hands over SI arrays, like ``SpikeTrains``.
    """
    if hasattr(value, "dim"):
        return to_si_array(value, name, "time")
    return to_si_array(getattr(value, "value", value), name)


def _grid_trains(trains, dt):
    """Spike times rounded to the nearest multiple of ``dt``, as integer steps."""
    return np.rint(trains.times / dt).astype(np.int64)


def _gather(steps, offsets, train, limit):
    """Steps of ``train`` (array of train numbers) up to ``limit`` steps, with owner ids."""
    lengths = offsets[train + 1] - offsets[train]
    owner = np.repeat(np.arange(train.size), lengths)
    start = np.repeat(offsets[train] - np.cumsum(lengths) + lengths, lengths)
    idx = start + np.arange(owner.size)
    s = steps[idx]
    keep = s <= limit[owner]
    return owner[keep], s[keep]


def _check_spacing(owner, steps, what):
    """Brian2 refuses two spikes of one generator neuron in one time step; say why."""
    same = (np.diff(owner) == 0) & (np.diff(steps) == 0)
    if np.any(same):
        raise ValueError(
            f"two {what} spikes of one train fall into the same time step after rounding "
            "to dt; use a smaller dt"
        )


def _generators(pre, post, trains, t_end_steps, d_steps):
    """One generator neuron per distinct (train, end step): spikes after the end dropped.

    Returns the generator neuron of each synapse and (indices, steps) for the pre- and
    postsynaptic generators.
    """
    keys = np.stack([trains, t_end_steps], axis=1)
    unique, neuron = np.unique(keys, axis=0, return_inverse=True)
    neuron = neuron.ravel()
    train_u, end_u = unique[:, 0], unique[:, 1]
    pre_owner, pre_steps = _gather(pre[0], pre[1], train_u, end_u - d_steps)
    post_owner, post_steps = _gather(post[0], post[1], train_u, end_u)
    _check_spacing(pre_owner, pre_steps, "presynaptic")
    _check_spacing(post_owner, post_steps, "postsynaptic")
    return neuron, unique.shape[0], (pre_owner, pre_steps), (post_owner, post_steps)


@strict_keywords
def simulate_brian2(params, pre, post, train_of_synapse, rho0, t_end, seed=0, mode="event",
                    progress=None, target="numpy", dt=None, timings=None,
                    directory=None):  # fmt: skip
    """Simulate independent synapses with a Brian2 template, all in one network.

    Synapse ``k`` receives presynaptic train ``train_of_synapse[k]`` (calcium arrives D
    later) and the postsynaptic train with the same number, starts at t = 0 with no calcium
    and efficacy ``rho0[k]``, and is read out at ``t_end[k]``; spikes whose calcium event
    would come after its ``t_end`` are ignored (as in the fast path).

    Spike times and ``t_end`` are rounded to the nearest multiple of ``dt``. Protocols
    whose spike times and Δt are multiples of ``dt`` are therefore simulated exactly as
    given (all built-in regular protocols at dt = 0.1 ms and 0.02 ms with Δt on a 0.1 ms
    grid); Poisson and jittered trains are moved by up to dt/2. The event template uses D
    exactly; the clock template's delayed pathway rounds it to a multiple of ``dt``.

    Read-out. Event mode: after the run, every synapse is brought exactly to its own
    ``t_end`` by the walk (:func:`~brian2_calcium.templates.bring_up_to_date`), so the
    result equals the fast path's on the rounded trains for σ = 0. Clock mode: ρ of each
    synapse is frozen from its ``t_end`` on (the template's ``stop_time`` gate), and read
    when the run ends.

    Parameters
    ----------
    params : CalciumParameters or str
    pre, post : SpikeTrains
        Presynaptic and postsynaptic spike trains (seconds).
    train_of_synapse : array_like of int (N,) or None
        Train of each synapse (``None``: synapse k gets train k). Synapses may share
        trains: they share a generator neuron.
    rho0 : array_like (N,)
        Initial efficacies: finite, and in [0, 1] for a bistable set.
    t_end : Quantity (time) or array of seconds, scalar or (N,)
        Read-out time of each synapse, at most :data:`~brian2_calcium.inputs.MAX_TIME`
        (1e6 s: beyond it the 1 ns tie window no longer covers the rounding of grid times).
    seed : int
        An integer in [0, 2**64). Passed to ``brian2.seed`` (modulo 2**32, the most it
        takes; the walk's noise streams take it modulo 2**31) and seeds the event
        read-out's draws.
    mode : {"event", "clock"}
        Template.
    progress : bool, optional
        Let Brian2 report progress on stderr (default: only on a terminal).
    target : {"numpy", "cython", "cpp_standalone"}
        Code generation target; ``cpp_standalone`` builds in a fresh temporary directory
        and restores the previous device afterwards.
    dt : Quantity (time), optional
        Time step (default 0.1 ms).
    timings : dict, optional
        Filled with ``run_s`` (simulation only, code generation and compilation
        excluded), ``total_s`` and ``build_s`` (= total − run) in seconds.
    directory : str, optional
        cpp_standalone project directory to keep (default: a temporary one, deleted).

    Returns
    -------
    ndarray (N,)
        ρ at ``t_end``.

    Raises
    ------
    ValueError
        For an unknown mode or target, inconsistent sizes, NaN initial efficacies (or,
        for a bistable set, outside [0, 1]), a seed outside [0, 2**64), a ``t_end`` after
        1e6 s, a train of more than :data:`~brian2_calcium.inputs.MAX_SPIKES` spikes (the
        walk's 32-bit counters), an unsorted, negative or NaN spike train, or two spikes of
        a train in one time step.
    TypeError
        If ``seed`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2_calcium.protocols import SpikeTrains
    >>> pre = SpikeTrains(np.array([0.0, 0.5]), np.array([0, 2]))
    >>> post = SpikeTrains(np.array([0.01, 0.51]), np.array([0, 2]))
    >>> p = get_parameters("DP").replace(sigma=0)
    >>> rho = simulate_brian2(p, pre, post, [0, 0], [0.0, 1.0], t_end=np.array([1.0, 1.0]))
    >>> rho.shape
    (2,)
    """
    p = get_parameters(params)
    if mode not in ("event", "clock"):
        raise ValueError(f"mode must be 'event' or 'clock', got {mode!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    dt_s = DEFAULT_DT if dt is None else to_si(dt, "dt", "time")
    if not dt_s > 0:
        raise ValueError(f"dt must be positive, got {dt_s} s")
    if not isinstance(pre, SpikeTrains) or not isinstance(post, SpikeTrains):
        raise TypeError("pre and post must be SpikeTrains")
    pre.validate("presynaptic train")
    post.validate("postsynaptic train")
    seed = check_seed(seed)
    rho0 = check_finite(np.atleast_1d(np.asarray(rho0, dtype=float)), "rho0")
    if p.bistable:
        check_fraction(rho0, "rho0 (a bistable set's efficacy)")
    n = rho0.size
    t_end = np.broadcast_to(check_finite(_as_seconds(t_end, "t_end"), "t_end"), (n,))
    check_time_limit(t_end, "t_end (a Brian2 run on a time grid)")
    check_spike_count(np.diff(pre.offsets), "presynaptic trains")
    check_spike_count(np.diff(post.offsets), "postsynaptic trains")
    trains = (
        np.arange(n, dtype=np.int64)
        if train_of_synapse is None
        else np.asarray(train_of_synapse, dtype=np.int64)
    )
    if trains.shape != (n,):
        raise ValueError(f"train_of_synapse must have one entry per synapse ({n})")
    if len(pre) != len(post):
        raise ValueError(f"{len(pre)} presynaptic but {len(post)} postsynaptic trains")
    if n and (trains.min() < 0 or trains.max() >= len(pre)):
        raise ValueError("train_of_synapse refers to a train that does not exist")
    if n == 0:
        return np.zeros(0)

    start = time.perf_counter()
    end_steps = np.rint(t_end / dt_s).astype(np.int64)
    # the clock template's calcium pathway delivers D (rounded) later, so a presynaptic
    # spike whose calcium comes after the end is dropped; the walk skips it by itself
    d_steps = int(np.rint(p.D / dt_s)) if mode == "clock" else 0
    pre_grid = (_grid_trains(pre, dt_s), pre.offsets)
    post_grid = (_grid_trains(post, dt_s), post.offsets)
    neuron, n_neurons, pre_spikes, post_spikes = _generators(
        pre_grid, post_grid, trains, end_steps, d_steps
    )
    run = _run_standalone if target == "cpp_standalone" else _run_runtime
    info = {}
    rho = run(
        p, mode, target, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0,
        end_steps * dt_s, int(end_steps.max()) + 1, seed, progress, info, directory,
    )  # fmt: skip
    if timings is not None:
        timings["run_s"] = info.get("run_s", float("nan"))
        timings["total_s"] = time.perf_counter() - start
        timings["build_s"] = timings["total_s"] - timings["run_s"]
    return rho


def _build_network(b2, p, mode, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0,
                   t_read, seed):  # fmt: skip
    # One generator group holds the presynaptic neurons (0 … n−1) and the postsynaptic ones
    # (n … 2n−1): one code object less per time step, which is what an event-driven run
    # on a runtime target pays for.
    clock = b2.Clock(dt=dt_s * b2.second, name="calcium_clock")
    indices = np.concatenate([pre_spikes[0], post_spikes[0] + n_neurons])
    steps = np.concatenate([pre_spikes[1], post_spikes[1]])
    generators = b2.SpikeGeneratorGroup(
        2 * n_neurons, indices, steps * dt_s * b2.second, clock=clock, name="calcium_spikes"
    )
    template = synapse_template(p, mode, stop_time=(mode == "clock"))
    options = {}
    if mode == "event":
        # no sweep (it would walk a synapse past its own read-out time): the rings hold
        # every spike of the busiest generator neuron
        counts = np.bincount(indices, minlength=2 * n_neurons)
        # (a power of two: the ring size is in the generated code, which Brian2 caches)
        slots = 1 << int(np.ceil(np.log2(int(counts.max(initial=0)) + 2)))
        options = {"sweep": False, "history_slots": slots}
    syn = make_synapses(
        generators, generators, template, connect={"i": neuron, "j": neuron + n_neurons},
        clock=clock, name="calcium_synapses", **options,
    )  # fmt: skip
    syn.rho = rho0
    if mode == "clock":
        syn.t_stop = t_read * b2.second
    if "noise_seed" in syn.variables:  # the walk's streams and the release draws
        syn.noise_seed = int(seed) % 2**31
    return b2.Network(generators, syn), syn


def _report(progress):
    import sys

    show = sys.stderr.isatty() if progress is None else bool(progress)
    return "stderr" if show else None


def _read(syn, mode, neuron, t_read, seed):
    import brian2 as b2

    if not np.array_equal(np.asarray(syn.i[:]), neuron):  # pragma: no cover - Brian2 invariant
        raise RuntimeError("Brian2 reordered the synapses; cannot map results back")
    if mode == "clock":
        return np.array(syn.rho[:], dtype=float)
    rng = np.random.default_rng([int(seed) % 2**63, 1])
    return bring_up_to_date(syn, t_read * b2.second, rng=rng)


def _run_runtime(p, mode, target, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0,
                 t_read, n_steps, seed, progress, info, directory):  # fmt: skip
    import brian2 as b2
    from brian2.devices.device import get_device

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        net, syn = _build_network(
            b2, p, mode, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0, t_read, seed
        )
        b2.seed(int(seed) % 2**32)
        with gc_frozen():
            net.run(n_steps * dt_s * b2.second, report=_report(progress), namespace={})
        info["run_s"] = float(get_device()._last_run_time)
        return _read(syn, mode, neuron, t_read, seed)
    finally:
        b2.prefs.codegen.target = previous


def _run_standalone(p, mode, target, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0,
                    t_read, n_steps, seed, progress, info, directory):  # fmt: skip
    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    keep = directory is not None
    build_dir = directory if keep else tempfile.mkdtemp(prefix="brian2_calcium_")
    set_device("cpp_standalone", build_on_run=False)
    try:
        device = get_device()
        net, syn = _build_network(
            b2, p, mode, dt_s, neuron, n_neurons, pre_spikes, post_spikes, rho0, t_read, seed
        )
        b2.seed(int(seed) % 2**32)
        net.run(n_steps * dt_s * b2.second, report=_report(progress), namespace={})
        device.build(directory=build_dir, run=True, with_output=False)
        info["run_s"] = float(device._last_run_time)
        return _read(syn, mode, neuron, t_read, seed)
    finally:
        get_device().reinit()
        reset_device()
        if not keep:
            shutil.rmtree(build_dir, ignore_errors=True)
