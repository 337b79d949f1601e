"""Spike histories and the walk: a plastic synapse catches up at its own presynaptic spike.

Because c(t) = c_pre,i(t − D) + c_post,j(t) (spec §1.1), the exact update of a synapse
over an interval needs nothing but the spike times of its two neurons in that interval.
A :class:`SpikeHistory` keeps the last ``slots`` spike times of every neuron of a group in
one ring buffer; a small recorder (one synapse per neuron, made by :func:`history_for`)
appends each spike, whatever the group is (``NeuronGroup``, ``PoissonGroup``,
``SpikeGeneratorGroup``), and a synapse walks the two histories when its own presynaptic
spike arrives (NEST's trick for STDP): no synaptic work on postsynaptic spikes.
The walk is one C header, ``kernel/gb_walk.h``, which the cython and C++ ``Function``
wrappers here embed; :func:`walk_numpy` is the same rule in numpy (numpy target,
read-out, tests).
"""

import itertools
import logging
import threading
import types
import weakref
from dataclasses import dataclass

import numpy as np

from .brian2_functions import kernel_parameters
from .inputs import MAX_SPIKES
from .keywords import strict_keywords
from .reference import (
    KERNEL_HEADER,
    TIE_WINDOW,
    advance_rho,
    release_event,
    release_header_text,
)

__all__ = [
    "SpikeHistory",
    "HistoryPlan",
    "history_plan",
    "spike_capacity",
    "history_for",
    "HistoryLink",
    "add_neuron_indices",
    "PRE_NEURON",
    "POST_NEURON",
    "walk_functions",
    "walk_numpy",
    "walk_header_text",
    "WALK_ARGUMENTS",
    "KEPT_FIELDS",
    "RELEASED_FIELD",
    "HISTORY_IMPLEMENTATIONS",
    "MAX_SLOTS",
]

#: Path of the walk's C header (installed with the package).
WALK_HEADER = KERNEL_HEADER.with_name("gb_walk.h")

# A neuron's spike count is valid below this (gb_history_count): one spike more must still
# fit the walk's 32-bit counters; MAX_SPIKES + 1 (brian2_calcium.inputs).
_COUNT_LIMIT = float(MAX_SPIKES + 1)

#: The synapse's presynaptic and postsynaptic neuron as the library's generated code reads
#: them: the index in the recorded (parent) group, Brian2's ``_synaptic_pre`` and
#: ``_synaptic_post``. Never ``i`` and ``j``: Brian2's templates may use those names for
#: their own variables (Brian2 2.11's cython ``synapses`` template counts its loop with
#: ``i``, and code that reads the synapse's ``i`` fails to compile there).
PRE_NEURON, POST_NEURON = "_gb_pre_neuron", "_gb_post_neuron"

#: Arguments of the walk Function in abstract code, in order (Brian2 appends
#: ``_vectorisation_idx``, the synapse index, which keys the random stream).
WALK_ARGUMENTS = (
    "rho", "c", "cpre", "tlast", "xres", "tpre", "ufac", "npre", "npost", "plastic", "t",
    "min_age", "pre_limit", "gate", "ahead", PRE_NEURON, POST_NEURON, "tau_ca", "theta_d",
    "theta_p", "gamma_d", "gamma_p", "sigma", "tau", "rho_star", "bistable", "gating", "D",
    "Cpre", "Cpost", "eta", "stp_U", "tau_rec", "tau_fac", "release_sites", "rho_scales_cpre",
    "noise_seed",
)  # fmt: skip
# How many of the walk's arguments (from tau_ca on) are the model's numbers and switches.
_MODEL_ARGS = WALK_ARGUMENTS.index("noise_seed") - WALK_ARGUMENTS.index("tau_ca")
_TIME_ARGS = ("tlast", "tpre", "t", "min_age", "tau_ca", "tau", "D", "tau_rec", "tau_fac")
_INT_ARGS = ("npre", "npost", "plastic", "pre_limit", "ahead", PRE_NEURON, POST_NEURON,
             "bistable", "gating", "release_sites", "rho_scales_cpre", "noise_seed")  # fmt: skip

#: The state a walk leaves, in the order of ``gb_walk_get`` (``gb_walk.h``).
KEPT_FIELDS = ("rho", "c", "cpre", "tlast", "xres", "tpre", "ufac", "npre", "npost")

#: ``gb_walk_get``'s index of the release of the presynaptic spike at the walk's time
#: (asked for with ``ahead``): what a weight that scales with the release transmits.
RELEASED_FIELD = 9

#: Largest ring buffer :func:`history_plan` proposes (spike times per neuron).
MAX_SLOTS = 512

# Time of the last presynaptic event before the first (short-term depression): far enough
# in the past that exp(-(t - tpre)/tau_rec) is exactly 0, so the first event finds x = 1.
NEVER = -1e9  # s


@strict_keywords
def walk_header_text():
    """Kernel, random streams and walk as one C text (generated code has no include path)."""
    walk = WALK_HEADER.read_text()
    for name in ("gb_kernel.h", "gb_rng.h", "gb_release.h"):
        walk = walk.replace(f'#include "{name}"', "")
    return release_header_text() + "\n" + walk


# -- how many spikes a group can fire -------------------------------------------------------


def _parent(group):
    """The group a subgroup belongs to (histories are per group), and the subgroup's start."""
    source = getattr(group, "source", None)
    if source is not None and hasattr(group, "start"):
        return source, int(group.start)
    return group, 0


@strict_keywords
def spike_capacity(group, dt):
    """Most spikes one neuron of ``group`` can fire in a window: a function of its length.

    Read from what the group can do: a ``NeuronGroup``'s refractory period (a constant
    quantity; otherwise one spike per time step), a ``SpikeGeneratorGroup``'s spike times
    (exactly), a ``PoissonGroup``'s constant rates (the count exceeded with probability
    below 1e-12 per window; a rate given as an expression allows one spike per step).

    Parameters
    ----------
    group : brian2 group with spikes
    dt : float
        Time step (s).

    Returns
    -------
    callable
        ``capacity(window)`` (window in s) → int.
    """
    from brian2 import PoissonGroup, SpikeGeneratorGroup
    from brian2.units.fundamentalunits import Quantity

    group, _ = _parent(group)
    dt = float(dt)

    def per_step(window):
        return int(np.floor(window / dt + 1e-9)) + 1

    if isinstance(group, SpikeGeneratorGroup):
        times = np.asarray(group._spike_time, dtype=float)
        neurons = np.asarray(group._neuron_index, dtype=np.int64)
        period = (
            float(np.asarray(group.period_[:]).ravel()[0]) if hasattr(group, "period_") else 0.0
        )
        if times.size == 0:
            return lambda window: 1
        order = np.lexsort((times, neurons))
        span = float(times.max() - times.min()) + 1.0
        key = times[order] + neurons[order] * 2.0 * (span + 1e6)
        key = key - key.min()

        def exact(window):
            # the most spikes of one neuron within any window of this length
            inside = np.searchsorted(key, key + window + 1e-12, side="right") - np.arange(key.size)
            most = int(inside.max())
            if period > 0:  # the pattern repeats
                most *= int(np.floor(window / period)) + 2
            return min(most, per_step(window))

        return exact
    if isinstance(group, PoissonGroup):
        rates = group._rates
        if isinstance(rates, Quantity) or np.isscalar(rates):
            rate = float(np.max(np.asarray(rates, dtype=float)))
            from scipy.stats import poisson

            def poisson_bound(window):
                return min(int(poisson.isf(1e-12, rate * window)) + 1, per_step(window))

            return poisson_bound
        return per_step
    refractory = getattr(group, "_refractory", False)
    if isinstance(refractory, Quantity) and float(refractory) > 0:
        gap = max(float(refractory), dt)
        return lambda window: int(np.floor(window / gap + 1e-9)) + 1
    return per_step


@dataclass(frozen=True)
class HistoryPlan:
    """How often synapses are swept, and the ring-buffer size that makes that safe.

    Attributes
    ----------
    slots : int
        Spike times kept per neuron.
    flush_interval : float
        Seconds between two sweeps over all synapses.
    max_age : float
        A sweep brings up to date the synapses not updated for this long (s); the others
        are left alone (most synapses are updated by their own spikes).
    """

    slots: int
    flush_interval: float
    max_age: float


@strict_keywords
def history_plan(pre_capacity, post_capacity, D, dt, flush_interval=1.0, max_age=1.0,
                 max_slots=MAX_SLOTS, slots=None):  # fmt: skip
    """Ring-buffer size and sweep schedule under which no needed spike is ever lost.

    After a sweep no synapse has unapplied spikes older than ``max_age``; before the next
    one, ``flush_interval`` later, it may need the postsynaptic spikes of that window and,
    for its presynaptic calcium, the presynaptic spikes of the ``D`` before. The
    capacities bound the spikes of a neuron in a window (:func:`spike_capacity`; an int
    is the refractory-free bound of one spike per that many seconds). If the window needs
    more than ``max_slots`` (or the given ``slots``), the sweeps become more frequent.

    Parameters
    ----------
    pre_capacity, post_capacity : callable or float
        Spikes per window of the presynaptic and postsynaptic neurons, or the shortest
        interval between two spikes (s).
    D, dt, flush_interval, max_age : float
        Seconds.
    max_slots : int
        Largest ring to propose.
    slots : int, optional
        Ring size to fit the plan into (a history that exists already).

    Returns
    -------
    HistoryPlan

    Raises
    ------
    ValueError
        If no sweep schedule fits the ring (too few slots for the delay D).

    Examples
    --------
    >>> history_plan(0.005, 0.005, 0.0137, 1e-4)
    HistoryPlan(slots=512, flush_interval=1.0, max_age=1.0)
    """
    pre_cap, post_cap = _capacity(pre_capacity), _capacity(post_capacity)
    D, dt = float(D), float(dt)
    limit = int(slots) if slots is not None else int(max_slots)

    def need(span):
        # +2: a spike exactly at either end of the window
        return max(pre_cap(span + D), post_cap(span)) + 2

    span = float(flush_interval) + float(max_age)
    if need(span) > limit:
        lo, hi = 0.0, span
        if need(2 * dt) > limit:
            raise ValueError(
                f"a spike history of {limit} slots per neuron cannot cover the delay "
                f"D = {D} s: allow more slots (history_slots)"
            )
        for _ in range(60):  # the longest sweep window that fits
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if need(mid) <= limit else (lo, mid)
        scale = max(lo, 2 * dt) / span
        flush_interval, max_age = float(flush_interval) * scale, float(max_age) * scale
    if slots is None:
        slots = min(1 << int(np.ceil(np.log2(need(float(flush_interval) + float(max_age))))),
                    int(max_slots))  # fmt: skip
    return HistoryPlan(int(slots), float(flush_interval), float(max_age))


def _capacity(value):
    if callable(value):
        return value
    gap = float(value)
    return lambda window: int(np.floor(window / gap + 1e-9)) + 1


# -- numpy: the walk, vectorised over synapses ----------------------------------------------


@strict_keywords
def walk_numpy(state, t, i, j, pre, post, model, rng=None, plastic=None, min_age=0.0, seed=0,
               syn=None, pre_limit=None, gate=None, ahead=False):  # fmt: skip
    """The walk of ``gb_walk.h``, vectorised over synapses (numpy target and read-out).

    Parameters
    ----------
    state : dict of str to ndarray (N,)
        The kept state (:data:`KEPT_FIELDS`): ``rho``, ``c``, ``cpre``, ``tlast`` (s),
        ``xres``, ``tpre`` (s), ``npre``, ``npost`` (spikes of each neuron applied).
    t : float or ndarray (N,)
        Time (s) to bring each synapse to; later spikes in the histories wait.
    i, j : ndarray of int (N,)
        Presynaptic and postsynaptic neuron of each synapse, in the histories.
    pre, post : tuple (ring, count, slots)
        Ring buffers and spike counts (:attr:`SpikeHistory.buffers`).
    model : namespace
        Kernel parameters (``tau_ca`` … ``noise_gating``, as
        :func:`~brian2_calcium.brian2_functions.kernel_parameters` gives them) and ``D``,
        ``Cpre``, ``Cpost``, ``eta``, ``stp_U``, ``tau_rec``, ``rho_scales_cpre``
        (:func:`walk_model`); a number parameter may be an array (N,), one value per
        synapse.
    rng : numpy.random.Generator, optional
        Normal draws (default: numpy's global generator, seeded by ``brian2.seed``).
    plastic : ndarray of bool (N,), optional
        Synapses to update (default: all); the others keep their state.
    min_age : float
        Leave synapses updated less than this long ago (s) as they are.
    seed : int
        Seed of the release draws (stochastic release, ``gb_release.h``): the compiled
        walk's ``noise_seed``.
    syn : ndarray of int (N,), optional
        The synapse key of each synapse's release draws (default: 0 … N − 1, the synapse
        index the compiled walk uses).
    pre_limit, gate : ndarray (N,), optional
        Voltage gating (``gb_walk_gated``): apply the arrivals of the first
        ``pre_limit`` presynaptic spikes only, the jump of spike ``pre_limit - 1``
        multiplied by ``gate`` (default: every arrival, ungated).
    ahead : bool
        Also give ``kept["released"]``: the fraction the presynaptic spike at ``t``
        releases (its calcium arrives later), for a weight that scales with the release.

    Returns
    -------
    rho_t : ndarray (N,)
        ρ at ``t`` (NaN where a spike it needed had left a buffer).
    kept : dict of str to ndarray (N,)
        The new state (the rule of the C walk).
    """
    kept = {k: np.array(np.broadcast_to(state[k], np.shape(state["rho"])), copy=True).ravel()
            for k in KEPT_FIELDS}  # fmt: skip
    n = kept["rho"].size
    for k in ("npre", "npost"):
        kept[k] = kept[k].astype(np.int64)
    t = np.broadcast_to(np.asarray(t, dtype=float), (n,))
    i = np.broadcast_to(np.asarray(i, dtype=np.int64), (n,))
    j = np.broadcast_to(np.asarray(j, dtype=np.int64), (n,))
    todo = t - kept["tlast"] >= min_age
    if plastic is not None:
        todo &= np.broadcast_to(np.asarray(plastic, dtype=bool), (n,))
    rho_t = kept["rho"].copy()
    kept["released"] = np.ones(n)
    syn = np.arange(n) if syn is None else np.broadcast_to(np.asarray(syn, np.int64), (n,))
    limit = np.full(n, np.iinfo(np.int64).max) if pre_limit is None else pre_limit
    gate = np.ones(n) if gate is None else gate
    keys = (int(seed) % 2**64, syn, np.broadcast_to(limit, (n,)), np.broadcast_to(gate, (n,)))
    for members, scalar_model in _model_groups(model, n):  # per-synapse values: by value
        sel = members[todo[members]]
        if sel.size:
            sub = {k: v[sel] for k, v in kept.items()}
            rho_t[sel], new = _walk_all(sub, t[sel], i[sel], j[sel], pre, post, scalar_model,
                                        rng, (keys[0], *(k[sel] for k in keys[1:])),
                                        ahead)  # fmt: skip
            for k in (*KEPT_FIELDS, "released"):
                kept[k][sel] = new[k]
    if not ahead:
        del kept["released"]
    return rho_t, kept


def _walk_all(s, t, i, j, pre, post, m, rng, keys, ahead=False):
    p = m
    rho, c, cpre, tlast = s["rho"], s["c"], s["cpre"], s["tlast"]
    xres, tpre, ufac, a, b = s["xres"], s["tpre"], s["ufac"], s["npre"], s["npost"]
    n = rho.size
    pre_ring, pre_count, pre_slots = pre
    post_ring, post_count, post_slots = post
    # a neuron outside a history (corrupted indices) loses the synapse, as in the C walk
    outside = (i < 0) | (i >= len(pre_count)) | (j < 0) | (j >= len(post_count))
    i, j = np.where(outside, 0, i), np.where(outside, 0, j)
    ni = np.asarray(pre_count)[i]
    nj = np.asarray(post_count)[j]
    lost = (
        outside
        | (a < ni - pre_slots)
        | (b < nj - post_slots)
        | (a > ni)
        | (b > nj)
        | (a < 0)
        | (b < 0)
        | ~((ni >= 0) & (ni < _COUNT_LIMIT))  # a corrupted count, as gb_history_count
        | ~((nj >= 0) & (nj < _COUNT_LIMIT))
    )
    draw = _normal_source(rng)
    noisy = p.noise_gating != "none" and p.sigma > 0
    _, _, pre_limit, gate = keys
    while True:
        ta = np.full(n, np.inf)
        tb = np.full(n, np.inf)
        has_a = (a < ni) & ~lost & (a < pre_limit)
        if has_a.any():
            ta[has_a] = pre_ring[i[has_a] * pre_slots + a[has_a] % pre_slots] + m.D
        # the gated arrival of this walk, at t on the grid (gb_walk_gated)
        gated = (a == pre_limit - 1) & (ta <= t + TIE_WINDOW)
        ta = np.where(gated, np.minimum(ta, t), ta)
        has_b = (b < nj) & ~lost
        if has_b.any():
            tb[has_b] = post_ring[j[has_b] * post_slots + b[has_b] % post_slots]
        ta[ta > t] = np.inf
        tb[tb > t] = np.inf
        active = np.isfinite(ta) | np.isfinite(tb)
        if not active.any():
            break
        is_pre = active & (ta <= tb + TIE_WINDOW)
        e = np.where(is_pre, ta, tb)
        L = np.maximum(e - tlast, 0.0)
        e = np.maximum(e, tlast)
        act = np.flatnonzero(active)
        rho[act] = _step(rho[act], c[act], L[act], p, noisy, draw)
        decay = np.exp(-L / p.tau_ca)
        c = np.where(active, c * decay, c)
        cpre = np.where(active, cpre * decay, cpre)
        pre_now = np.flatnonzero(is_pre)
        if pre_now.size:
            xres[pre_now], ufac[pre_now], tpre[pre_now], released = release_event(
                xres[pre_now], ufac[pre_now], tpre[pre_now], e[pre_now], m, keys[0],
                keys[1][pre_now],
            )  # fmt: skip
            jump = (m.Cpre * rho[pre_now] if m.rho_scales_cpre else m.Cpre) * released
            jump = jump * np.where(gated[pre_now], gate[pre_now], 1.0)
            c[pre_now] += jump
            cpre[pre_now] += jump
            a[pre_now] += 1
        post_now = np.flatnonzero(active & ~is_pre)
        if post_now.size:
            c[post_now] += m.Cpost + m.eta * cpre[post_now]
            b[post_now] += 1
        tlast = np.where(active, e, tlast)
    rho_last = rho
    L = np.maximum(t - tlast, 0.0)
    rho_end = _step(rho, c, L, p, noisy, draw)
    decay = np.exp(-L / p.tau_ca)
    c_t = c * decay
    keep_t = np.full(n, True) if noisy else ~(c_t > p.theta_d)
    kept = {
        "released": _release_ahead(xres, ufac, tpre, a, ni, i, pre, t, m, keys)
        if ahead
        else np.ones(n),
        "rho": np.where(keep_t, rho_end, rho_last),
        "c": np.where(keep_t, c_t, c),
        "cpre": np.where(keep_t, cpre * decay, cpre),
        "tlast": np.where(keep_t, tlast + L, tlast),
        "xres": xres,
        "tpre": tpre,
        "ufac": ufac,
        "npre": a,
        "npost": b,
    }
    rho_end[lost] = np.nan
    kept["rho"][lost] = np.nan
    return rho_end, kept


def _release_ahead(x, u, tp, a, ni, i, pre, t, m, keys):
    """The release of the presynaptic spike at t (``gb_walk_gated``'s ``released``): the
    release state carried over the spikes whose calcium is still to arrive, then t's."""
    ring, _, slots = pre
    x, u, tp = x.copy(), u.copy(), tp.copy()
    a = a.copy()
    while True:
        left = np.flatnonzero(a < ni)
        if not left.size:
            break
        e = ring[i[left] * slots + a[left] % slots] + m.D
        x[left], u[left], tp[left], _ = release_event(x[left], u[left], tp[left], e, m,
                                                       keys[0], keys[1][left])  # fmt: skip
        a[left] += 1
    return release_event(x, u, tp, t + m.D, m, keys[0], keys[1])[3]


def _normal_source(rng):
    if rng is None:
        return np.random.standard_normal  # noqa: NPY002 - brian2.seed seeds it
    return rng.standard_normal


def _step(rho, c, L, p, noisy, draw):
    """One interval of the walk (``gb_walk_step``): the kernel's update over L, with
    normals drawn only where segments exist. The C walk defers the cubic flow between
    events; flows compose exactly, so the mirror applies each interval's flow at once and
    ρ is always current (what the ρ-scaled jump reads)."""
    xi_p = np.zeros(rho.size)
    xi_d = np.zeros(rho.size)
    if noisy:
        # the C walk's rule: draws only for a non-empty interval starting above θd
        need_d = (L > 0) & (c > p.theta_d)
        need_p = need_d & (c > p.theta_p)
        xi_p[need_p] = draw(int(need_p.sum()))
        xi_d[need_d] = draw(int(need_d.sum()))
    return advance_rho(rho, c, L, p, xi_p, xi_d)


# -- the Brian2 side ------------------------------------------------------------------------

_counter = itertools.count()
_lock = threading.Lock()


class _OrderWarningFilter(logging.Filter):
    """Drop Brian2's "may not be well-defined" warning for the walk's code only.

    Brian2 warns because the walk's Functions are not stateless; their state is per
    synapse and read right after the call, so the order of synapses does not matter.
    """

    def filter(self, record):
        message = record.getMessage()
        return not ("may not be well-defined" in message and "gb_walk" in message)


logging.getLogger("brian2.codegen.generators.base").addFilter(_OrderWarningFilter())


class SpikeHistory:
    """Ring buffer of the last ``slots`` spike times of each of ``n`` neurons.

    Storage: :attr:`ring` (``n × slots`` spike times, oldest overwritten first) and
    :attr:`recent` (``n × 4``: the spike count and the newest three times, newest first,
    so that most look-ups touch a single cache line). In runtime targets these are the
    numpy arrays the generated code works on; in ``cpp_standalone`` they live in the
    generated program, which writes them to its results directory after each run
    (:meth:`load_results`). Made and filled by :func:`history_for`.

    Parameters
    ----------
    n : int
        Number of neurons of the group.
    slots : int
        Spike times kept per neuron (see :func:`history_plan`).
    name : str, optional
        Identifier used in the generated code (default ``gb_history<k>``, numbered in
        order of creation, so that compiled code is reused by the next process).

    Examples
    --------
    >>> h = SpikeHistory(3, 4, name="h")
    >>> h.count
    array([0, 0, 0])
    """

    def __init__(self, n, slots, name=None):
        n, slots = int(n), int(slots)
        if n < 1:
            raise ValueError(f"a spike history needs at least one neuron, got {n}")
        if slots < 2:
            raise ValueError(f"a spike history needs at least two slots, got {slots}")
        if name is None:
            with _lock:
                name = f"gb_history{next(_counter)}"
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"history name must be an identifier not starting with _: {name!r}")
        self.n = n
        self.slots = slots
        self.name = name
        self.ring = np.zeros(n * slots)
        self.recent = np.zeros(4 * n)
        self.recorder = None
        self._record = None

    @property
    def count(self):
        """Spikes recorded per neuron (a copy)."""
        return self.recent[0::4].astype(np.int64)

    @property
    def ring_key(self):
        """Namespace name of the ring buffer."""
        return f"{self.name}_ring"

    @property
    def recent_key(self):
        """Namespace name of the blocks of counts and newest spikes."""
        return f"{self.name}_recent"

    @property
    def buffers(self):
        """``(ring, count, slots)``, as :func:`walk_numpy` takes them."""
        return self.ring, self.count, self.slots

    @property
    def arrays(self):
        """The arrays the generated code reads and writes, by namespace name."""
        return {self.ring_key: self.ring, self.recent_key: self.recent}

    def reset(self):
        """Forget every spike (runtime targets), e.g. before a network restarts at t = 0."""
        self.ring[:] = 0.0
        self.recent[:] = 0.0

    def load_spikes(self, indices, times):
        """Fill the buffers from full spike trains (a ``SpikeMonitor``'s ``i`` and ``t``).

        Parameters
        ----------
        indices : array_like of int
        times : array_like of float
            Seconds.
        """
        indices = np.asarray(indices, dtype=np.int64)
        times = np.asarray(times, dtype=float)
        order = np.lexsort((times, indices))
        indices, times = indices[order], times[order]
        count = np.bincount(indices, minlength=self.n).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        rank = np.arange(indices.size) - start[indices]
        keep = rank >= count[indices] - self.slots
        self.ring[:] = 0.0
        self.ring[indices[keep] * self.slots + rank[keep] % self.slots] = times[keep]
        self.recent[:] = 0.0
        self.recent[0::4] = count
        for m in range(3):  # newest first
            last = rank == count[indices] - 1 - m
            self.recent[4 * indices[last] + 1 + m] = times[last]

    def dump_code(self):
        """C++ for ``cpp_standalone``: write both buffers to the results directory."""
        lines = []
        for key in (self.ring_key, self.recent_key):
            lines.append(
                "{\n"
                f'    std::ofstream _gb_out((brian::results_dir + "{key}").c_str(), '
                "std::ios::binary | std::ios::out);\n"
                f"    _gb_out.write(reinterpret_cast<char*>(brian::{key}), "
                f"sizeof(double) * brian::_num_{key});\n"
                "}"
            )
        return "\n".join(lines)

    def load_results(self, results_dir):
        """Read the buffers a ``cpp_standalone`` run wrote (see :meth:`dump_code`)."""
        import os

        for key, array in self.arrays.items():
            path = os.path.join(results_dir, key)
            array[:] = np.fromfile(path, dtype=np.float64, count=array.size)

    def record_function(self):
        """The Brian2 ``Function`` appending a spike: ``n_recorded = gb_record(i, t)``."""
        if self._record is None:
            self._record = _build_record(self)
        return self._record

    def __repr__(self):
        return f"SpikeHistory(n={self.n}, slots={self.slots}, name={self.name!r})"


@strict_keywords
def add_neuron_indices(synapses):
    """Give ``synapses`` the names :data:`PRE_NEURON` and :data:`POST_NEURON`.

    They are references to the synapses' ``_synaptic_pre`` and ``_synaptic_post`` (the
    neurons' indices in the parent groups, where the histories are kept), so that the
    library's pathway code never reads ``i`` or ``j``.
    """
    for name, array in ((PRE_NEURON, "_synaptic_pre"), (POST_NEURON, "_synaptic_post")):
        if name not in synapses.variables:
            synapses.variables.add_reference(name, synapses, array)


def history_for(group, slots):
    """The spike history of ``group`` (its parent group for a subgroup), made on first use.

    The first call makes the history with ``slots`` slots and its recording: a
    ``NeuronGroup``'s reset appends each spike (one statement added to the reset, or a
    reset made for it); other groups get a recorder, ``Synapses`` from the group onto
    itself, one per neuron, whose presynaptic pathway appends each spike after the other
    synaptic pathways of the step (:attr:`SpikeHistory.recorder`). Either way spikes enter
    the history after the synapses of their time step. Later calls return the same
    history, so that every plastic ``Synapses`` on the group shares it.

    Parameters
    ----------
    group : brian2 group with spikes
    slots : int

    Returns
    -------
    SpikeHistory
    """
    import brian2 as b2
    from brian2.core.functions import DEFAULT_FUNCTIONS

    parent, _ = _parent(group)
    history = getattr(parent, "_gb_history", None)
    if history is not None:
        return history
    # named after the group, so that the generated code (and Brian2's cache of it) is the
    # same from one run of a model to the next
    history = SpikeHistory(parent.N, slots, name=f"gb_{parent.name}")
    if isinstance(parent, b2.NeuronGroup):
        # The group's reset appends the spike (after the synapses of the step, and at no
        # cost per time step); the recording Function is found by name from any namespace.
        name = f"{history.name}_record"
        if name in DEFAULT_FUNCTIONS:  # a group of that name, still alive, records too
            with _lock:
                name = f"{name}_{next(_counter)}"
        DEFAULT_FUNCTIONS[name] = history.record_function()
        weakref.finalize(history, DEFAULT_FUNCTIONS.pop, name, None)
        line = f"{history.name}_count = {name}(i, t)"
        if "spike" in parent.resetter:
            parent.event_codes["spike"] = f"{parent.event_codes.get('spike') or ''}\n{line}"
        else:
            parent.run_on_event("spike", line, when="resets")
    else:
        # other groups have no reset: a synapse per neuron onto itself records its spikes
        history.recorder = b2.Synapses(
            parent, parent, model="n_recorded : integer",
            on_pre=f"n_recorded = gb_record({PRE_NEURON}, t)",
            namespace={"gb_record": history.record_function()}, name=f"{history.name}_recorder",
        )  # fmt: skip
        add_neuron_indices(history.recorder)
        history.recorder.connect(j="i")
        history.recorder.pre.order = 100  # after the plastic pathways of the same step
    parent._gb_history = history
    return history


def _build_record(history):
    from brian2 import Function, second

    ring, recent, slots = history.ring, history.recent, history.slots

    def record_numpy(i, t):
        # each neuron spikes at most once per call (one time step); as gb_history_record:
        # a corrupted count, or one that a spike more would take past 32 bits, records
        # nothing and gives -1 (the walks of the neuron's synapses then give NaN)
        i = np.asarray(i, dtype=np.int64)
        tt = np.broadcast_to(np.asarray(t, dtype=float), i.shape)
        counts = recent[4 * i]
        ok = (counts >= 0) & (counts < _COUNT_LIMIT)
        i, tt = i[ok], tt[ok]
        n = counts[ok].astype(np.int64)
        ring[i * slots + n % slots] = tt
        recent[4 * i + 3] = recent[4 * i + 2]
        recent[4 * i + 2] = recent[4 * i + 1]
        recent[4 * i + 1] = tt
        recent[4 * i] = n + 1
        out = np.full(ok.shape, -1, dtype=np.int32)
        out[ok] = n + 1
        return out

    func = Function(
        record_numpy, arg_units=[1, second], arg_names=["i", "t"], return_unit=1,
        arg_types=["integer", "float"], return_type="integer", stateless=False,
    )  # fmt: skip
    func.implementations.add_implementation("numpy", code=record_numpy)
    for target, generator in HISTORY_IMPLEMENTATIONS["record"].items():
        func.implementations.add_implementation(target, **generator(history))
    return func


def _cython_extern(declarations):
    text = walk_header_text()
    if '"""' in text:  # pragma: no cover - guards the verbatim block
        raise ValueError("the C text must not contain triple quotes")
    return 'cdef extern from *:\n    """\n' + text + '\n    """\n' + declarations


def _record_cpp(history):
    name = f"{history.name}_record"
    code = (
        walk_header_text()
        + f"\nstatic inline int32_t {name}(int32_t i, double t)\n{{\n"
        + f"    return gb_history_record(_namespace{history.recent_key}, "
        + f"_namespace{history.ring_key}, {history.slots}, i, t);\n}}\n"
    )
    return {"code": {"support_code": code}, "name": name, "namespace": history.arrays}


def _record_cython(history):
    name = f"{history.name}_record"
    code = _cython_extern(
        "    int32_t gb_history_record(double *recent, double *ring, int32_t slots, "
        "int32_t i, double t) nogil\n"
    )
    code += (
        f"\ncdef int32_t {name}(int32_t i, double t):\n"
        f"    global _namespace{history.recent_key}, _namespace{history.ring_key}\n"
        f"    return gb_history_record(_namespace{history.recent_key}, "
        f"_namespace{history.ring_key}, {history.slots}, i, t)\n"
    )
    return {"code": code, "name": name, "namespace": history.arrays}


class HistoryLink:
    """Synapses from the neurons of one history to those of another: what their walk needs.

    Parameters
    ----------
    pre, post : SpikeHistory
        Histories of the presynaptic and the postsynaptic group (the same object for
        recurrent synapses).
    pre_offset, post_offset : int
        Index in the history of the synapses' first presynaptic and postsynaptic neuron
        (non-zero for subgroups): what the read-out adds to ``i`` and ``j``. The generated
        code reads the neurons' indices in the histories directly (:data:`PRE_NEURON`).
    post_of : array_like of int, optional
        Postsynaptic neuron (in the history) of every synapse, in the order of the
        ``Synapses`` object. With it, a walk prefetches the history of the neuron two
        synapses ahead, which hides the one cache miss of a walk.
    name : str, optional
        Name of the ``Synapses`` object (names ``post_of`` in generated code).
    """

    def __init__(self, pre, post, pre_offset=0, post_offset=0, post_of=None, name=None):
        self.pre, self.post = pre, post
        self.pre_offset, self.post_offset = int(pre_offset), int(post_offset)
        base = pre.name if pre is post else f"{pre.name}_{post.name}"
        if self.pre_offset or self.post_offset:
            base += f"_{self.pre_offset}_{self.post_offset}"
        #: Identifier of the link in generated code.
        self.key = base
        self.post_of = None
        if post_of is not None:
            post_of = np.asarray(post_of, dtype=np.int32)
            if post_of.size and (post_of.min() < 0 or post_of.max() >= post.n):
                raise ValueError("post_of names a neuron outside the postsynaptic history")
            # two entries more, so that synapse k may look at k + 2 without a bound (and
            # the generated code does not depend on the number of synapses)
            self.post_of = np.concatenate([post_of, np.zeros(2, np.int32)])
        # per Synapses object: cpp_standalone makes namespace arrays global, by name
        self.post_of_key = f"{name or base}_post_of"

    @property
    def namespace(self):
        """Arrays of the generated code, by namespace name."""
        ns = {**self.pre.arrays, **self.post.arrays}
        if self.post_of is not None:
            ns[self.post_of_key] = self.post_of
        return ns

    def buffers_call(self):
        pre, post = self.pre, self.post
        return (
            f"_namespace{pre.recent_key}, _namespace{pre.ring_key}, {pre.slots}, {pre.n}, "
            f"{PRE_NEURON}, _namespace{post.recent_key}, _namespace{post.ring_key}, "
            f"{post.slots}, {post.n}, {POST_NEURON}"
        )

    def prefetch_call(self):
        if self.post_of is None:
            return ""
        return (
            f"gb_walk_prefetch(_namespace{self.post.recent_key}, "
            f"_namespace{self.post_of_key}, _vectorisation_idx)"
        )


_C_TYPES = {a: ("int32_t" if a in _INT_ARGS else "double") for a in WALK_ARGUMENTS}
_C_TYPES["noise_seed"] = "int64_t"
_C_ARGS = ", ".join(f"{_C_TYPES[a]} {a}" for a in WALK_ARGUMENTS)
_STATE_NAMES = ", ".join(WALK_ARGUMENTS[: WALK_ARGUMENTS.index(PRE_NEURON)])
_PARAM_NAMES = ", ".join(WALK_ARGUMENTS[WALK_ARGUMENTS.index("tau_ca") :])
_GB_WALK_ARGS_DECL = (
    "    double gb_walk_args(double rho, double c, double cpre, double tlast, double xres, "
    "double tpre, double ufac, int32_t npre, int32_t npost, int plastic, double t, "
    "double min_age, int32_t pre_limit, double gate, int ahead, "
    "const double *pre_recent, const double *pre_ring, int32_t pre_slots, int32_t pre_n, "
    "int32_t i, const double *post_recent, const double *post_ring, int32_t post_slots, "
    "int32_t post_n, int32_t j, "
    "double tau_ca, double theta_d, double theta_p, double gamma_d, double gamma_p, "
    "double sigma, double tau, double rho_star, int bistable, int gating, double D, "
    "double Cpre, double Cpost, double eta, double stp_U, double tau_rec, double tau_fac, "
    "int32_t release_sites, int rho_scales_cpre, int64_t seed, int64_t syn) nogil\n"
    "    void gb_walk_prefetch(const double *post_recent, const int32_t *post_of, "
    "int64_t syn) nogil\n"
    "    double gb_walk_get(int k, int64_t syn) nogil\n"
)


def _walk_name(link):
    return f"gb_walk_{link.key}"


def _walk_body(link):
    return (
        f"gb_walk_args({_STATE_NAMES}, {link.buffers_call()}, {_PARAM_NAMES}, _vectorisation_idx)"
    )


def _walk_cpp(link):
    name = _walk_name(link)
    prefetch = link.prefetch_call()
    code = (
        walk_header_text()
        + f"\nstatic inline double {name}({_C_ARGS}, int64_t _vectorisation_idx)\n{{\n"
        + (f"    {prefetch};\n" if prefetch else "")
        + f"    return {_walk_body(link)};\n}}\n"
    )
    return {"code": {"support_code": code}, "name": name, "namespace": link.namespace}


def _walk_cython(link):
    name = _walk_name(link)
    prefetch = link.prefetch_call()
    code = _cython_extern(_GB_WALK_ARGS_DECL)
    code += (
        f"\ncdef double {name}({_C_ARGS}, int64_t _vectorisation_idx):\n"
        f"    global {', '.join('_namespace' + k for k in link.namespace)}\n"
        + (f"    {prefetch}\n" if prefetch else "")
        + f"    return {_walk_body(link)}\n"
    )
    return {"code": code, "name": name, "namespace": link.namespace}


def _kept_cpp(ctype):
    def generate(link):
        name = f"gb_walk_kept_{ctype[:3]}"
        code = (
            walk_header_text()
            + f"\nstatic inline {ctype} {name}(int32_t k, int64_t _vectorisation_idx)\n"
            + f"{{\n    return ({ctype})gb_walk_get(k, _vectorisation_idx);\n}}\n"
        )
        return {"code": {"support_code": code}, "name": name}

    return generate


def _kept_cython(ctype):
    def generate(link):
        name = f"gb_walk_kept_{ctype[:3]}"
        code = _cython_extern(_GB_WALK_ARGS_DECL)
        code += (
            f"\ncdef {ctype} {name}(int32_t k, int64_t _vectorisation_idx):\n"
            f"    return <{ctype}>gb_walk_get(k, _vectorisation_idx)\n"
        )
        return {"code": code, "name": name}

    return generate


#: Per-target code generators (the pattern of ``brian2/input/timedarray.py``): for each
#: Function, target name → generator taking the :class:`SpikeHistory` (``record``) or the
#: :class:`HistoryLink` (the others) and returning ``add_implementation`` keyword
#: arguments. A device package can add its own target here.
HISTORY_IMPLEMENTATIONS = {
    "record": {"cython": _record_cython, "cpp": _record_cpp},
    "walk": {"cython": _walk_cython, "cpp": _walk_cpp},
    "kept": {"cython": _kept_cython("double"), "cpp": _kept_cpp("double")},
    "kept_count": {"cython": _kept_cython("int32_t"), "cpp": _kept_cpp("int32_t")},
}


def walk_model(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star, bistable,
               gating, D, Cpre, Cpost, eta, stp_U, tau_rec, tau_fac, release_sites,
               rho_scales_cpre):  # fmt: skip
    """The walk's model parameters (as a numpy Function receives them) as a namespace.

    A shared parameter becomes a float; a per-synapse one (an array of more than one
    value) stays an array, one value per synapse (:func:`walk_numpy` groups synapses by
    their values). The switches ``bistable``, ``gating`` and ``rho_scales_cpre`` are
    shared."""

    def value(x):
        x = np.asarray(x, dtype=float)
        return float(x.flat[0]) if x.size == 1 else x.ravel()

    # the kernel's namespace (its switches from the first values), then every number as
    # a float or a per-synapse array
    model = kernel_parameters(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau,
                              rho_star, bistable, gating)  # fmt: skip
    numbers = dict(tau_ca=tau_ca, theta_d=theta_d, theta_p=theta_p, gamma_d=gamma_d,
                   gamma_p=gamma_p, sigma=sigma, tau=tau, rho_star=rho_star, D=D, Cpre=Cpre,
                   Cpost=Cpost, eta=eta, stp_U=stp_U, tau_rec=tau_rec,
                   tau_fac=tau_fac, release_sites=release_sites)  # fmt: skip
    for name, x in numbers.items():
        setattr(model, name, value(x))
    model.rho_scales_cpre = bool(int(np.asarray(rho_scales_cpre).flat[0]))
    return model


def _model_groups(model, n):
    """``(indices, scalar model)`` for each group of the n synapses that share every
    parameter value (one group, all synapses, when every parameter is shared)."""
    per_synapse = sorted(k for k, v in vars(model).items() if isinstance(v, np.ndarray))
    if not per_synapse:
        return [(np.arange(n), model)]
    table = np.stack([np.broadcast_to(getattr(model, k), (n,)) for k in per_synapse], axis=1)
    rows, group = np.unique(table, axis=0, return_inverse=True)
    group = group.ravel()
    groups = []
    for g, row in enumerate(rows):
        scalar = types.SimpleNamespace(**vars(model))
        for name, x in zip(per_synapse, row, strict=True):
            setattr(scalar, name, float(x))
        groups.append((np.flatnonzero(group == g), scalar))
    return groups


class _NumpyWalk:
    """Numpy target: the walk, and the state it leaves behind (per code object)."""

    def __init__(self, link):
        self.link = link
        self.kept = None

    def walk(self, rho, c, cpre, tlast, xres, tpre, ufac, npre, npost, plastic, t, min_age,
             pre_limit, gate, ahead,
             pre_neuron, post_neuron, *params, _vectorisation_idx=None):  # fmt: skip
        model = walk_model(*params[:_MODEL_ARGS])  # after them: noise_seed (and the index)
        state = dict(zip(KEPT_FIELDS, (rho, c, cpre, tlast, xres, tpre, ufac, npre, npost),
                         strict=True))  # fmt: skip
        n = np.size(rho)
        state = {k: np.broadcast_to(np.asarray(v), (n,)) for k, v in state.items()}
        link = self.link
        seed = int(np.asarray(params[_MODEL_ARGS]).flat[0])
        # Brian2 passes the synapse indices (auto_vectorise) after the seed
        if len(params) > _MODEL_ARGS + 1:
            _vectorisation_idx = params[_MODEL_ARGS + 1]
        syn = np.arange(n) if _vectorisation_idx is None else _vectorisation_idx
        rho_t, self.kept = walk_numpy(
            state, float(np.asarray(t).flat[0]), np.atleast_1d(pre_neuron),
            np.atleast_1d(post_neuron), link.pre.buffers, link.post.buffers, model,
            plastic=np.broadcast_to(np.asarray(plastic) != 0, (n,)),
            min_age=float(np.asarray(min_age).flat[0]), seed=seed, syn=syn,
            pre_limit=np.broadcast_to(np.asarray(pre_limit, np.int64), (n,)),
            gate=np.broadcast_to(np.asarray(gate, float), (n,)),
            ahead=bool(np.asarray(ahead).flat[0]),
        )  # fmt: skip
        if np.ndim(rho) == 0:
            self.kept = {k: v[0] for k, v in self.kept.items()}
            return float(rho_t[0])
        return rho_t

    def get(self, k, _vectorisation_idx=None):
        k = int(np.asarray(k).flat[0])
        return self.kept["released" if k == RELEASED_FIELD else KEPT_FIELDS[k]]


@strict_keywords
def walk_functions(link):
    """The Brian2 ``Function`` objects the event template's code calls.

    In abstract code::

        rho_now = gb_walk(rho, c, cpre, tlast, xres, tpre, npre, npost, plastic, t,
                          min_age, _gb_pre_neuron, _gb_post_neuron, <parameters>)
        rho = gb_walk_kept(0)
        c = gb_walk_kept(1)
        npre = gb_walk_kept_count(6)
        ...

    ``rho_now`` is ρ at ``t``, brought there exactly (spec §6) over the spikes in the two
    histories; ``gb_walk_kept(k)`` returns field ``k`` of :data:`KEPT_FIELDS` of the
    state the walk keeps (see ``gb_walk.h``).

    Parameters
    ----------
    link : HistoryLink

    Returns
    -------
    dict of str to brian2.Function
    """
    from brian2 import Function, second

    impl = _NumpyWalk(link)
    arg_units = [second if a in _TIME_ARGS else 1 for a in WALK_ARGUMENTS]
    arg_types = ["integer" if a in _INT_ARGS else "float" for a in WALK_ARGUMENTS]
    walk = Function(
        impl.walk, arg_units=arg_units, arg_names=list(WALK_ARGUMENTS), return_unit=1,
        arg_types=arg_types, return_type="float", stateless=False, auto_vectorise=True,
    )  # fmt: skip
    walk.implementations.add_implementation("numpy", code=impl.walk)
    functions = {"gb_walk": walk}
    for kind, rtype in (("kept", "float"), ("kept_count", "integer")):
        # unit 1: time fields are assigned to second variables through their value
        func = Function(
            impl.get, arg_units=[1], arg_names=["k"], return_unit=1, arg_types=["integer"],
            return_type=rtype, stateless=False, auto_vectorise=True,
        )  # fmt: skip
        func.implementations.add_implementation("numpy", code=impl.get)
        functions[f"gb_walk_{kind}"] = func
    for name, func in functions.items():
        kind = name[len("gb_walk_") :] or "walk"
        for target, generator in HISTORY_IMPLEMENTATIONS[kind].items():
            func.implementations.add_implementation(target, **generator(link))
    return functions


def model_namespace(params):
    """:func:`walk_numpy`'s ``model`` for a parameter set (``CalciumParameters``)."""
    from .reference import GATING_CODES

    return walk_model(
        params.tau_ca, params.theta_d, params.theta_p, params.gamma_d, params.gamma_p,
        params.sigma, params.tau, params.rho_star, int(params.bistable),
        GATING_CODES[params.noise_gating], params.D, params.Cpre, params.Cpost, params.eta,
        params.stp_U, params.tau_rec, params.tau_fac, int(params.release_sites),
        int(params.rho_scales_cpre),
    )  # fmt: skip


def initial_state(n, rho=0.0):
    """The kept state of ``n`` synapses that start at t = 0 with ``rho`` and no calcium."""
    state = {k: np.zeros(n) for k in KEPT_FIELDS}
    state["rho"][:] = rho
    state["xres"][:] = 1.0
    state["tpre"][:] = NEVER
    state["ufac"][:] = 0.0  # the first event's release fraction is U whatever this is
    state["npre"] = np.zeros(n, dtype=np.int64)
    state["npost"] = np.zeros(n, dtype=np.int64)
    return state
