"""Per-neuron spike histories, so that plastic synapses catch up on their own events only.

Because c(t) = c_pre,i(t − D) + c_post,j(t) (spec §1.1), the exact update of a synapse over
an interval (spec §6) needs nothing but the spike times of its two neurons in that interval.
A :class:`SpikeHistory` keeps the last ``slots`` spike times of every neuron of a group in
one flat ring buffer; the neurons' reset appends to it, and a synapse walks it when its own
presynaptic spike arrives (NEST's trick for STDP): no synaptic work on postsynaptic spikes.
The walk is one C text (with the kernel ``gb_kernel.h``) shared by the cython and C++
targets, and a numpy version of the same rule for the numpy target and the read-out.
"""

import itertools
import logging
import threading
from dataclasses import dataclass

import numpy as np

from .brian2_functions import KERNEL_ARGUMENTS, kernel_parameters
from .reference import advance_rho, kernel_header_text

__all__ = [
    "SpikeHistory",
    "HistoryPlan",
    "history_plan",
    "HistoryLink",
    "catch_up_functions",
    "catch_up_numpy",
    "HISTORY_IMPLEMENTATIONS",
    "CATCH_UP_ARGUMENTS",
    "MAX_SLOTS",
]

# The walk, in C (spec §6.2 step by step over the merged pre-calcium and post events).
# It follows the fast path's event loop: at equal times the presynaptic calcium comes
# first, c decays exactly between events, normals are drawn only for segments that exist.
_WALK_C = r"""
#ifndef GB_HISTORY_WALK_H
#define GB_HISTORY_WALK_H
#include <stdint.h>
#include <string.h>

/* A Brian2 Function returns one value; the walk yields rho at t (what the synapse
 * transmits) and the state it keeps: rho, c, their time and the two cursors (spikes of the
 * pre- and postsynaptic neuron already applied). The state waits here for
 * gb_history_state(k), which the generated code calls right after the catch-up. One set
 * per code object (and per thread: OpenMP is not supported). */
static double gb_history_last[5] = {0.0, 0.0, 0.0, 0.0, 0.0};

/* The kernel parameters, prepared (two logarithms) only when they change. */
static gb_params gb_history_p;
static int gb_history_p_ready = 0;

static inline const gb_params *gb_history_params(
    double tau_ca, double theta_d, double theta_p, double gamma_d, double gamma_p,
    double sigma, double tau, double rho_star, int bistable, int gating)
{
    gb_params *p = &gb_history_p;
    if (!gb_history_p_ready || p->tau_ca != tau_ca || p->theta_d != theta_d
        || p->theta_p != theta_p || p->gamma_d != gamma_d || p->gamma_p != gamma_p
        || p->sigma != sigma || p->tau != tau || p->rho_star != rho_star
        || p->bistable != bistable || p->gating != gating) {
        p->tau_ca = tau_ca;
        p->theta_d = theta_d;
        p->theta_p = theta_p;
        p->gamma_d = gamma_d;
        p->gamma_p = gamma_p;
        p->sigma = sigma;
        p->tau = tau;
        p->rho_star = rho_star;
        p->bistable = bistable;
        p->gating = gating;
        gb_params_prepare(p);
        gb_history_p_ready = 1;
    }
    return p;
}

/* Spike k (0: the neuron's first) of a neuron with n spikes: the newest three from its
 * 32-byte block {n, newest, second, third} (one cache line for the common case), older
 * ones from its ring of the last `slots` spikes. */
static inline double gb_history_spike(const double *block, const double *ring, int32_t slots,
                                      int32_t n, int32_t k)
{
    int32_t m = n - 1 - k;
    return m < 3 ? block[1 + m] : ring[k % slots];
}

/* Random stream of one catch-up: keyed by (seed, synapse, time), so the draws do not depend
 * on the code generation target or on the order in which synapses are processed. */
static inline uint64_t gb_history_stream(double t, int64_t syn)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof(bits));
    return gb_splitmix64(&bits) ^ (uint64_t)syn;
}

/* Advance the deferred rho (gb_advance_rho_deferred: *pending seconds of cubic flow still
 * owed) over L, drawing normals only for the segments that exist. */
static inline double gb_history_step(double rho, double *pending, double c, double L,
                                     const gb_params *p, int noisy, gb_rng *rng, int *seeded,
                                     uint64_t seed, uint64_t stream)
{
    double xi_p = 0.0, xi_d = 0.0;
    if (noisy && L > 0.0 && c > p->theta_d) {
        if (!*seeded) {
            gb_rng_seed(rng, seed, stream);
            *seeded = 1;
        }
        if (c > p->theta_p)
            xi_p = gb_rng_normal(rng);
        xi_d = gb_rng_normal(rng);
    }
    return gb_advance_rho_deferred(rho, pending, c, L, p, xi_p, xi_d);
}

static inline void gb_history_keep(double rho, double c, double tlast, int32_t npre,
                                   int32_t npost)
{
    gb_history_last[0] = rho;
    gb_history_last[1] = c;
    gb_history_last[2] = tlast;
    gb_history_last[3] = npre;
    gb_history_last[4] = npost;
}

/* Bring one synapse from its state (rho, c at time tlast; npre and npost spikes of its
 * neurons applied) to t (spec 6.2 over the merged events): presynaptic calcium arrives at
 * s + D for each new spike s of neuron i (if s + D <= t), postsynaptic spikes of neuron j
 * jump at their time; at equal times the presynaptic calcium comes first (the fast path's
 * order). Spikes enter the histories at the reset, after the synapses of their time step,
 * so every recorded spike is earlier than t.
 * Returns rho at t. The state kept is the one at t where that is exact: with noise (a
 * noisy path must pass through the value transmitted) or where c has fallen below theta_d
 * by t (the sub-threshold flow composes exactly); otherwise the state after the last event,
 * so that the deterministic update splits intervals only at events, exactly as the fast
 * path does. A synapse updated less than min_age ago is left alone. If a spike the synapse
 * still needs has left a ring buffer, rho becomes NaN (never a silently wrong value). */
static inline double gb_history_catch_up(
    double rho, double c, double tlast, double t, double min_age, int32_t npre,
    int32_t npost, const double *pre_recent, const double *pre_ring, int32_t pre_slots,
    int32_t i, const double *post_recent, const double *post_ring, int32_t post_slots,
    int32_t j, const gb_params *p, double D, double Cpre, double Cpost, uint64_t seed,
    int64_t syn)
{
    const double *bp, *bq, *hp, *hq;
    int32_t ni, nj, a, b;
    int noisy, seeded = 0;
    gb_rng rng;
    uint64_t stream = 0;
    double L, e, jump, ta, tb, rho_last, pending = 0.0, pending_last, c_t;

    gb_history_keep(rho, c, tlast, npre, npost);
    if (t - tlast < min_age)
        return rho;
    bp = pre_recent + 4 * (int64_t)i;
    bq = post_recent + 4 * (int64_t)j;
    ni = (int32_t)bp[0];
    nj = (int32_t)bq[0];
    a = npre;
    b = npost;
    if (a < ni - pre_slots || b < nj - post_slots) {
        gb_history_last[0] = NAN; /* a needed spike has been overwritten */
        return NAN;
    }
    hp = pre_ring + (int64_t)i * pre_slots;
    hq = post_ring + (int64_t)j * post_slots;
    noisy = p->gating != GB_GATING_NONE && p->sigma > 0.0;
    if (noisy)
        stream = gb_history_stream(t, syn);
    for (;;) {
        ta = INFINITY;
        tb = INFINITY;
        if (a < ni) {
            ta = gb_history_spike(bp, hp, pre_slots, ni, a) + D;
            if (ta > t)
                ta = INFINITY;
        }
        if (b < nj)
            tb = gb_history_spike(bq, hq, post_slots, nj, b);
        if (ta == INFINITY && tb == INFINITY)
            break;
        if (ta <= tb) {
            e = ta;
            jump = Cpre;
            a++;
        } else {
            e = tb;
            jump = Cpost;
            b++;
        }
        L = e - tlast;
        rho = gb_history_step(rho, &pending, c, L, p, noisy, &rng, &seeded, seed, stream);
        c = c * exp(-L / p->tau_ca) + jump;
        tlast = e;
    }
    /* rho stays deferred between events (no efficacy is read there); it is flushed at t */
    rho_last = rho;
    pending_last = pending;
    L = t - tlast;
    rho = gb_history_step(rho, &pending, c, L, p, noisy, &rng, &seeded, seed, stream);
    rho = gb_cubic_flow(rho, pending, p);
    c_t = c * exp(-L / p->tau_ca);
    if (noisy || !(c_t > p->theta_d))
        gb_history_keep(rho, c_t, t, a, b);
    else
        gb_history_keep(gb_cubic_flow(rho_last, pending_last, p), c, tlast, a, b);
    return rho;
}

/* The same with every parameter a scalar argument (what the Brian2 Function calls). */
static inline double gb_history_catch_up_args(
    double rho, double c, double tlast, double t, int32_t npre, int32_t npost, int plastic,
    double min_age, const double *pre_recent, const double *pre_ring, int32_t pre_slots,
    int32_t i, const double *post_recent, const double *post_ring, int32_t post_slots,
    int32_t j, double tau_ca, double theta_d, double theta_p, double gamma_d,
    double gamma_p, double sigma, double tau, double rho_star, int bistable, int gating,
    double D, double Cpre, double Cpost, int64_t seed, int64_t syn)
{
    if (!plastic) {
        gb_history_keep(rho, c, tlast, npre, npost);
        return rho;
    }
    return gb_history_catch_up(
        rho, c, tlast, t, min_age, npre, npost, pre_recent, pre_ring, pre_slots, i,
        post_recent, post_ring, post_slots, j,
        gb_history_params(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star,
                          bistable, gating),
        D, Cpre, Cpost, (uint64_t)seed, syn);
}

/* Ask for the history block of the postsynaptic neuron of synapse syn + 2 (synapses of one
 * presynaptic neuron are processed in order): its load is the one cache miss a catch-up
 * cannot avoid, and the kernel's arithmetic hides it. */
static inline void gb_history_prefetch(const double *post_recent, const int32_t *post_of,
                                       int64_t n_syn, int64_t syn)
{
    if (syn + 2 < n_syn)
        __builtin_prefetch(post_recent + 4 * (int64_t)post_of[syn + 2]);
}

/* Append the spike of neuron i at time t; returns the neuron's spike count. */
static inline int32_t gb_history_record(double *recent, double *ring, int32_t slots,
                                        int32_t i, double t)
{
    double *block = recent + 4 * (int64_t)i;
    int32_t n = (int32_t)block[0];
    ring[(int64_t)i * slots + n % slots] = t;
    block[3] = block[2];
    block[2] = block[1];
    block[1] = t;
    block[0] = n + 1;
    return n + 1;
}
#endif
"""

#: Arguments of the catch-up Function in abstract code, in order (Brian2 appends
#: ``_vectorisation_idx``, the synapse index, which keys the random stream).
CATCH_UP_ARGUMENTS = (
    "rho",
    "c",
    "tlast",
    "t",
    "npre",
    "npost",
    "plastic",
    "min_age",
    "i",
    "j",
    *KERNEL_ARGUMENTS[3:13],  # the model parameters, tau_ca ... gating, as in the kernel
    "D",
    "Cpre",
    "Cpost",
    "noise_seed",
)
_TIME_ARGS = ("tlast", "t", "min_age", "tau_ca", "tau", "D")
_INT_ARGS = ("npre", "npost", "plastic", "i", "j", "bistable", "gating", "noise_seed")

#: Largest ring buffer :func:`history_plan` proposes (spike times per neuron).
MAX_SLOTS = 512


def _rng_header_text():
    """``gb_rng.h`` with its ziggurat tables inlined (generated code has no include path)."""
    from .reference import KERNEL_HEADER

    tables = KERNEL_HEADER.with_name("gb_ziggurat.h").read_text()
    text = KERNEL_HEADER.with_name("gb_rng.h").read_text()
    return text.replace('#include "gb_ziggurat.h"', tables)


def _c_text():
    """Kernel, random streams and walk: the C every compiled target embeds."""
    return kernel_header_text() + "\n" + _rng_header_text() + "\n" + _WALK_C


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


def history_plan(refractory, dt, D, flush_interval=1.0, max_age=1.0, max_slots=MAX_SLOTS):
    """Ring-buffer size and sweep schedule under which no needed spike is ever lost.

    After a sweep no synapse is older than ``max_age``, so at any time none is older than
    ``max_age + flush_interval``; it may still need the spikes of that window and, for
    its presynaptic calcium, of the ``D`` before. A neuron fires at most once per
    ``max(refractory, dt)``, which bounds the spikes in the window. If that bound needs
    more than ``max_slots`` slots, the sweeps are made more frequent instead.

    Parameters
    ----------
    refractory, dt, D, flush_interval, max_age : float
        Seconds.
    max_slots : int

    Returns
    -------
    HistoryPlan

    Examples
    --------
    >>> history_plan(0.005, 1e-4, 0.0137)
    HistoryPlan(slots=512, flush_interval=1.0, max_age=1.0)
    """
    gap = max(float(refractory), float(dt))
    window = float(flush_interval) + float(max_age) + float(D)
    need = int(np.floor(window / gap + 1e-9)) + 3
    if need > max_slots:
        # shrink the sweep schedule (keeping its proportions) to what max_slots can hold
        room = (max_slots - 3) * gap - float(D)
        if room <= 2 * float(dt):
            raise ValueError(
                f"a spike history of {max_slots} slots cannot cover the delay D = {D} s at "
                f"one spike per {gap} s; allow more slots"
            )
        scale = room / (float(flush_interval) + float(max_age))
        flush_interval *= scale
        max_age *= scale
        need = max_slots
    slots = 1 << int(np.ceil(np.log2(need)))
    return HistoryPlan(int(min(slots, max_slots)), float(flush_interval), float(max_age))


# -- numpy: the same rule, vectorised over synapses ----------------------------------------


def catch_up_numpy(rho, c, tlast, t, npre, npost, i, j, pre, post, params, D, Cpre, Cpost,
                   rng=None, plastic=None, min_age=0.0):  # fmt: skip
    """The walk of the C text, vectorised over synapses (numpy target and read-out).

    Parameters
    ----------
    rho, c, tlast : ndarray (N,)
        State of each synapse: efficacy, calcium and their time (s).
    t : float or ndarray (N,)
        Time (s) to bring each synapse to; every spike in the histories is earlier.
    npre, npost : ndarray of int (N,)
        Spikes of the presynaptic and postsynaptic neuron already applied.
    i, j : ndarray of int (N,)
        Presynaptic and postsynaptic neuron of each synapse.
    pre, post : tuple (ring, count, slots)
        Ring buffers and spike counts (:attr:`SpikeHistory.buffers`).
    params : CalciumParameters or namespace
        Kernel parameters (``tau_ca``, thresholds, rates, ``sigma``, ``tau``,
        ``rho_star``, ``bistable``, ``noise_gating``).
    D, Cpre, Cpost : float
        Presynaptic delay (s) and calcium jumps.
    rng : numpy.random.Generator, optional
        Normal draws (default: numpy's global generator, seeded by ``brian2.seed``).
    plastic : ndarray of bool (N,), optional
        Synapses to update (default: all); the others keep their state.
    min_age : float
        Leave synapses updated less than this long ago (s) as they are.

    Returns
    -------
    rho_t : ndarray (N,)
        ρ at ``t`` (NaN where a spike it needed had left a buffer).
    rho, c, tlast, npre, npost : ndarray (N,)
        The state kept: at ``t`` with noise or where c has fallen below θd by ``t``,
        otherwise after the last event (the rule of the C walk).
    """
    rho = np.array(rho, dtype=float, copy=True).ravel()
    n = rho.size
    c = np.array(np.broadcast_to(c, (n,)), dtype=float)
    tlast = np.array(np.broadcast_to(tlast, (n,)), dtype=float)
    a = np.array(np.broadcast_to(npre, (n,)), dtype=np.int64)
    b = np.array(np.broadcast_to(npost, (n,)), dtype=np.int64)
    t = np.broadcast_to(np.asarray(t, dtype=float), (n,))
    i = np.broadcast_to(np.asarray(i, dtype=np.int64), (n,))
    j = np.broadcast_to(np.asarray(j, dtype=np.int64), (n,))
    todo = t - tlast >= min_age
    if plastic is not None:
        todo &= np.broadcast_to(np.asarray(plastic, dtype=bool), (n,))
    rho_t = rho.copy()
    if not todo.all():
        sel = np.flatnonzero(todo)
        rho_t[sel], rho[sel], c[sel], tlast[sel], a[sel], b[sel] = catch_up_numpy(
            rho[sel], c[sel], tlast[sel], t[sel], a[sel], b[sel], i[sel], j[sel], pre, post,
            params, D, Cpre, Cpost, rng,
        )  # fmt: skip
        return rho_t, rho, c, tlast, a, b
    pre_ring, pre_count, pre_slots = pre
    post_ring, post_count, post_slots = post
    ni = np.asarray(pre_count)[i]
    nj = np.asarray(post_count)[j]
    lost = (a < ni - pre_slots) | (b < nj - post_slots)

    draw = _normal_source(rng)
    noisy = params.noise_gating != "none" and params.sigma > 0
    while True:
        ta = np.full(n, np.inf)
        tb = np.full(n, np.inf)
        has_a = (a < ni) & ~lost
        if has_a.any():
            ta[has_a] = pre_ring[i[has_a] * pre_slots + a[has_a] % pre_slots] + D
            ta[ta > t] = np.inf
        has_b = (b < nj) & ~lost
        if has_b.any():
            tb[has_b] = post_ring[j[has_b] * post_slots + b[has_b] % post_slots]
        active = np.isfinite(ta) | np.isfinite(tb)
        if not active.any():
            break
        is_pre = active & (ta <= tb)
        e = np.where(is_pre, ta, tb)
        jump = np.where(is_pre, Cpre, Cpost)
        rho[active], c[active] = _advance(
            rho[active], c[active], e[active] - tlast[active], params, noisy, draw
        )
        c[active] += jump[active]
        tlast[active] = e[active]
        a[is_pre] += 1
        b[active & ~is_pre] += 1
    rho_t, c_t = _advance(rho, c, t - tlast, params, noisy, draw)
    keep_t = np.full(n, True) if noisy else ~(c_t > params.theta_d)
    rho = np.where(keep_t, rho_t, rho)
    c = np.where(keep_t, c_t, c)
    tlast = np.where(keep_t, t, tlast)
    rho_t[lost] = np.nan
    rho[lost] = np.nan
    return rho_t, rho, c, tlast, a, b


def _normal_source(rng):
    if rng is None:
        return np.random.standard_normal  # noqa: NPY002 - brian2.seed seeds it
    return rng.standard_normal


def _advance(rho, c, L, params, noisy, draw):
    """One step of the walk: ρ over L, c decayed (normals only where segments exist)."""
    xi_p = np.zeros(rho.size)
    xi_d = np.zeros(rho.size)
    if noisy:
        # the C walk's rule: draws only for a non-empty interval starting above θd
        need_d = (L > 0) & (c > params.theta_d)
        need_p = need_d & (c > params.theta_p)
        xi_p[need_p] = draw(int(need_p.sum()))
        xi_d[need_d] = draw(int(need_d.sum()))
    new_rho = advance_rho(rho, c, L, params, xi_p, xi_d)
    return new_rho, c * np.exp(-L / params.tau_ca)


# -- the Brian2 side -----------------------------------------------------------------------

_counter = itertools.count()
_lock = threading.Lock()


class _OrderWarningFilter(logging.Filter):
    """Drop Brian2's "may not be well-defined" warning for the catch-up code only.

    Brian2 warns because the catch-up Functions are not stateless; their state is per
    synapse and read right after the call, so the order of synapses does not matter.
    """

    def filter(self, record):
        message = record.getMessage()
        return not ("may not be well-defined" in message and "_catch_up(" in message)


logging.getLogger("brian2.codegen.generators.base").addFilter(_OrderWarningFilter())


class SpikeHistory:
    """Ring buffer of the last ``slots`` spike times of each of ``n`` neurons.

    The group whose spikes it records declares :attr:`model_code`, runs :attr:`reset_code`
    in its reset (after the synapses of the time step, as Brian2's reset does) and has
    :attr:`namespace` in its namespace; synapses built from a history template
    (:func:`~brian2_calcium.templates.history_template`) then read it.
    Storage: :attr:`ring` (``n × slots`` spike times, oldest overwritten first) and
    :attr:`recent` (``n × 4``: the spike count and the newest three times, newest first,
    so that most look-ups touch a single cache line). In runtime targets these are the
    numpy arrays the generated code works on; in ``cpp_standalone`` they live in the
    generated program (see :meth:`load_spikes`).

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
    >>> h.reset_code
    'n_spikes = h_record(i, t)'
    """

    #: Model line the recording group needs (its spike count, a useful variable anyway).
    model_code = "n_spikes : integer"

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
        """``(ring, count, slots)``, as :func:`catch_up_numpy` takes them."""
        return self.ring, self.count, self.slots

    @property
    def arrays(self):
        """The arrays the generated code reads and writes, by namespace name."""
        return {self.ring_key: self.ring, self.recent_key: self.recent}

    @property
    def record_name(self):
        """Name of the recording ``Function`` in abstract code."""
        return f"{self.name}_record"

    @property
    def reset_code(self):
        """Statement for the group's reset: appends the spike and counts it."""
        return f"n_spikes = {self.record_name}(i, t)"

    @property
    def namespace(self):
        """What the recording group's namespace needs (the recording ``Function``)."""
        return {self.record_name: self.record_function()}

    def reset(self):
        """Forget every spike (runtime targets), e.g. before a network restarts at t = 0."""
        self.ring[:] = 0.0
        self.recent[:] = 0.0

    def load_spikes(self, indices, times):
        """Fill the buffers from full spike trains (a ``SpikeMonitor``'s ``i`` and ``t``).

        After a ``cpp_standalone`` run the buffers stay in the generated program; this
        rebuilds them on the Python side (exactly: the ring keeps the last spikes).

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

    def record_function(self):
        """The Brian2 ``Function`` appending a spike: ``n_spikes = <name>_record(i, t)``."""
        if self._record is None:
            self._record = _build_record(self)
        return self._record

    def __repr__(self):
        return f"SpikeHistory(n={self.n}, slots={self.slots}, name={self.name!r})"


def _build_record(history):
    from brian2 import Function, second

    ring, recent, slots = history.ring, history.recent, history.slots

    def record_numpy(i, t):
        # each neuron spikes at most once per call (one time step)
        i = np.asarray(i, dtype=np.int64)
        tt = np.broadcast_to(np.asarray(t, dtype=float), i.shape)
        n = recent[4 * i].astype(np.int64)
        ring[i * slots + n % slots] = tt
        recent[4 * i + 3] = recent[4 * i + 2]
        recent[4 * i + 2] = recent[4 * i + 1]
        recent[4 * i + 1] = tt
        recent[4 * i] = n + 1
        return (n + 1).astype(np.int32)

    func = Function(
        record_numpy,
        arg_units=[1, second],
        arg_names=["i", "t"],
        return_unit=1,
        arg_types=["integer", "float"],
        return_type="integer",
        stateless=False,
    )
    func.implementations.add_implementation("numpy", code=record_numpy)
    for target, generator in HISTORY_IMPLEMENTATIONS["record"].items():
        func.implementations.add_implementation(target, **generator(history))
    return func


def _cython_extern(declarations):
    text = _c_text()
    if '"""' in text:  # pragma: no cover - guards the verbatim block
        raise ValueError("the C text must not contain triple quotes")
    return 'cdef extern from *:\n    """\n' + text + '\n    """\n' + declarations


def _record_cpp(history):
    name = history.record_name
    code = (
        _c_text()
        + f"\nstatic inline int32_t {name}(int32_t i, double t)\n{{\n"
        + f"    return gb_history_record(_namespace{history.recent_key}, "
        + f"_namespace{history.ring_key}, {history.slots}, i, t);\n}}\n"
    )
    namespace = history.arrays
    return {"code": {"support_code": code}, "name": name, "namespace": namespace}


def _record_cython(history):
    name = history.record_name
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
    namespace = history.arrays
    return {"code": code, "name": name, "namespace": namespace}


class HistoryLink:
    """Synapses from the neurons of one history to those of another: what their code needs.

    Parameters
    ----------
    pre, post : SpikeHistory
        Histories of the presynaptic and the postsynaptic group (the same object for
        recurrent synapses).
    post_of : array_like of int, optional
        Postsynaptic neuron of every synapse, in the order of the ``Synapses`` object.
        Optional; with it, a catch-up prefetches the history of the neuron two synapses
        ahead, which hides the one cache miss of a catch-up (the network knows its
        connectivity before the run, also in ``cpp_standalone``).
    """

    def __init__(self, pre, post, post_of=None):
        self.pre, self.post = pre, post
        base = pre.name if pre is post else f"{pre.name}_{post.name}"
        #: Abstract-code names of the catch-up Function and of the state it leaves (ρ, c,
        #: time).
        self.names = tuple(f"{base}_{k}" for k in _KINDS)
        self.post_of = None
        if post_of is not None:
            self.post_of = np.ascontiguousarray(post_of, dtype=np.int32)
            if self.post_of.size and (self.post_of.min() < 0 or self.post_of.max() >= post.n):
                raise ValueError("post_of names a neuron outside the postsynaptic history")
        self.post_of_key = f"{base}_post_of"

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
            f"_namespace{pre.recent_key}, _namespace{pre.ring_key}, {pre.slots}, i, "
            f"_namespace{post.recent_key}, _namespace{post.ring_key}, {post.slots}, j"
        )

    def prefetch_call(self):
        if self.post_of is None:
            return ""
        return (
            f"gb_history_prefetch(_namespace{self.post.recent_key}, "
            f"_namespace{self.post_of_key}, {self.post_of.size}, _vectorisation_idx)"
        )


_C_PARAMS = (
    "double tau_ca, double theta_d, double theta_p, double gamma_d, double gamma_p, "
    "double sigma, double tau, double rho_star, int bistable, int gating, double D, "
    "double Cpre, double Cpost, int64_t seed"
)
_C_PARAM_NAMES = (
    "tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star, bistable, gating, "
    "D, Cpre, Cpost, seed"
)
_C_HEAD = (
    "double rho, double c, double tlast, double t, int32_t npre, int32_t npost, int plastic, "
    "double min_age"
)
_C_HEAD_NAMES = "rho, c, tlast, t, npre, npost, plastic, min_age"


def _catch_up_cpp(link):
    name = link.names[0]
    prefetch = link.prefetch_call()
    code = (
        _c_text()
        + f"\nstatic inline double {name}({_C_HEAD}, int32_t i, int32_t j, {_C_PARAMS}, "
        + "int64_t _vectorisation_idx)\n{\n"
        + (f"    {prefetch};\n" if prefetch else "")
        + f"    return gb_history_catch_up_args({_C_HEAD_NAMES}, "
        + f"{link.buffers_call()}, {_C_PARAM_NAMES}, _vectorisation_idx);\n}}\n"
    )
    return {"code": {"support_code": code}, "name": name, "namespace": link.namespace}


def _catch_up_cython(link):
    name = link.names[0]
    prefetch = link.prefetch_call()
    code = _cython_extern(
        f"    double gb_history_catch_up_args({_C_HEAD}, "
        "const double *pre_recent, const double *pre_ring, int32_t pre_slots, int32_t i, "
        "const double *post_recent, const double *post_ring, int32_t post_slots, "
        f"int32_t j, {_C_PARAMS}, int64_t syn) nogil\n"
        "    void gb_history_prefetch(const double *post_recent, const int32_t *post_of, "
        "int64_t n_syn, int64_t syn) nogil\n"
    )
    code += (
        f"\ncdef double {name}({_C_HEAD}, int32_t i, int32_t j, {_C_PARAMS}, "
        "int64_t _vectorisation_idx):\n"
        f"    global {', '.join('_namespace' + k for k in link.namespace)}\n"
        + (f"    {prefetch}\n" if prefetch else "")
        + f"    return gb_history_catch_up_args({_C_HEAD_NAMES}, "
        f"{link.buffers_call()}, {_C_PARAM_NAMES}, _vectorisation_idx)\n"
    )
    return {"code": code, "name": name, "namespace": link.namespace}


#: What the catch-up leaves behind, in the order of ``gb_history_last``: name suffix,
#: Brian2 return type.
_STATE = (("rho", "float"), ("calcium", "float"), ("time", "float"), ("npre", "integer"),
          ("npost", "integer"))  # fmt: skip
_KINDS = ("catch_up",) + tuple(k for k, _ in _STATE)


def _state_cpp(k):
    def generate(link):
        name = link.names[1 + k]
        ctype = "int32_t" if _STATE[k][1] == "integer" else "double"
        code = (
            _c_text()
            + f"\nstatic inline {ctype} {name}(int64_t _vectorisation_idx)\n"
            + f"{{\n    return ({ctype})gb_history_last[{k}];\n}}\n"
        )
        return {"code": {"support_code": code}, "name": name}

    return generate


def _state_cython(k):
    def generate(link):
        name = link.names[1 + k]
        ctype = "int32_t" if _STATE[k][1] == "integer" else "double"
        code = _cython_extern("    double gb_history_last[5]\n")
        code += (
            f"\ncdef {ctype} {name}(int64_t _vectorisation_idx):\n"
            f"    return <{ctype}>gb_history_last[{k}]\n"
        )
        return {"code": code, "name": name}

    return generate


#: Per-target code generators (the pattern of ``brian2/input/timedarray.py``): for each
#: Function, target name → generator taking the :class:`SpikeHistory` (``record``) or the
#: :class:`HistoryLink` (the others) and returning ``add_implementation`` keyword
#: arguments. A device package can add its own target here.
HISTORY_IMPLEMENTATIONS = {
    "record": {"cython": _record_cython, "cpp": _record_cpp},
    "catch_up": {"cython": _catch_up_cython, "cpp": _catch_up_cpp},
    **{
        kind: {"cython": _state_cython(k), "cpp": _state_cpp(k)}
        for k, (kind, _) in enumerate(_STATE)
    },
}


class _NumpyCatchUp:
    """Numpy target: the catch-up, and the state it leaves behind."""

    def __init__(self, link):
        self.link = link
        self.state = [None] * len(_STATE)

    def catch_up(self, rho, c, tlast, t, npre, npost, plastic, min_age, i, j, tau_ca,
                 theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star, bistable, gating,
                 D, Cpre, Cpost, noise_seed, _vectorisation_idx=None):  # fmt: skip
        params = kernel_parameters(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau,
                                   rho_star, bistable, gating)  # fmt: skip

        def first(x):
            return float(np.asarray(x).flat[0])

        rho_t, *state = catch_up_numpy(
            np.atleast_1d(rho), c, tlast, first(t), npre, npost, np.atleast_1d(i),
            np.atleast_1d(j), self.link.pre.buffers, self.link.post.buffers, params, first(D),
            first(Cpre), first(Cpost), plastic=np.atleast_1d(plastic) != 0,
            min_age=first(min_age),
        )  # fmt: skip
        if np.ndim(rho) == 0:
            self.state = [x[0] for x in state]
            return float(rho_t[0])
        self.state = state
        return rho_t

    def getter(self, k):
        def get(_vectorisation_idx=None):
            return self.state[k]

        return get


def catch_up_functions(link):
    """The Brian2 ``Function`` objects a history template's code calls.

    In abstract code (names from ``link.names``)::

        rho_now = <catch_up>(rho, c, tlast, t, npre, npost, plastic, min_age, i, j,
                             <parameters>)
        rho = <rho>()
        c = <calcium>()
        tlast = <time>()
        npre = <npre>()
        npost = <npost>()

    ``rho_now`` is ρ at ``t``, brought there exactly (spec §6) over the spikes in the two
    histories; the other calls return the state the synapse keeps (see the C walk: at
    ``t``, or after its last event where stopping at ``t`` would split a supra-threshold
    interval of a deterministic synapse; unchanged for a synapse that is not plastic or
    was updated less than ``min_age`` ago).

    Parameters
    ----------
    link : HistoryLink

    Returns
    -------
    dict of str to brian2.Function
    """
    from brian2 import Function, second

    impl = _NumpyCatchUp(link)
    arg_units = [second if a in _TIME_ARGS else 1 for a in CATCH_UP_ARGUMENTS]
    arg_types = ["integer" if a in _INT_ARGS else "float" for a in CATCH_UP_ARGUMENTS]
    names = link.names
    functions = {
        names[0]: Function(
            impl.catch_up,
            arg_units=arg_units,
            arg_names=list(CATCH_UP_ARGUMENTS),
            return_unit=1,
            arg_types=arg_types,
            return_type="float",
            stateless=False,
            auto_vectorise=True,
        )
    }
    functions[names[0]].implementations.add_implementation("numpy", code=impl.catch_up)
    for k, (kind, rtype) in enumerate(_STATE):
        func = Function(
            impl.getter(k), arg_units=[], arg_names=[],
            return_unit=second if kind == "time" else 1, arg_types=[], return_type=rtype,
            stateless=False, auto_vectorise=True,
        )  # fmt: skip
        func.implementations.add_implementation("numpy", code=impl.getter(k))
        functions[names[1 + k]] = func
    for name, kind in zip(names, _KINDS, strict=True):
        for target, generator in HISTORY_IMPLEMENTATIONS[kind].items():
            functions[name].implementations.add_implementation(target, **generator(link))
    return functions
