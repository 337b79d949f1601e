"""Numpy mirror of the C kernel (``kernel/gb_kernel.h``), and the kernel's interface.

The mirror serves Brian2's numpy target and the property tests that hold the compiled
kernel to it; it follows the C code line by line, vectorised over synapses.
"""

import math
from pathlib import Path

import numpy as np

__all__ = [
    "KERNEL_HEADER",
    "GATING_CODES",
    "TIE_WINDOW",
    "kernel_arguments",
    "kernel_header_text",
    "release_header_text",
    "cubic_flow",
    "advance_rho",
    "tm_resources",
    "tm_facilitation",
    "pre_jump",
    "release_draws",
    "release_event",
    "simulate",
]

#: Path of the C kernel header (installed with the package).
KERNEL_HEADER = Path(__file__).with_name("kernel") / "gb_kernel.h"

#: ``CalciumParameters.noise_gating`` → the kernel's ``GB_GATING_*`` code.
GATING_CODES = {"none": 0, "d": 1, "d+p": 2}

#: ``GB_TIE_WINDOW`` of ``gb_walk.h`` (s): a presynaptic calcium arrival and a postsynaptic
#: spike closer than this are simultaneous, and the presynaptic calcium comes first.
TIE_WINDOW = 1e-9

#: The kernel's ``GB_SPLIT_ERROR``: bound on the leading splitting error x² t/τ of a
#: supra-threshold substep (x = rate t/τ), which sets the number of substeps.
SPLIT_ERROR = 7e-7


def kernel_header_text():
    """The text of ``gb_kernel.h``, for code generation targets that embed it."""
    return KERNEL_HEADER.read_text()


def release_header_text():
    """The kernel, the random streams and ``gb_release.h`` as one C text (the release's
    Functions embed it: generated code has no include path)."""
    rng = KERNEL_HEADER.with_name("gb_rng.h").read_text()
    rng = rng.replace(
        '#include "gb_ziggurat.h"', KERNEL_HEADER.with_name("gb_ziggurat.h").read_text()
    )
    return (
        kernel_header_text()
        + "\n"
        + rng
        + "\n"
        + KERNEL_HEADER.with_name("gb_release.h").read_text()
    )


def kernel_arguments(params):
    """The kernel's ``gb_params`` fields, in order, as a tuple of numbers (SI)."""
    p = params
    return (
        p.tau_ca,
        p.theta_d,
        p.theta_p,
        p.gamma_d,
        p.gamma_p,
        p.sigma,
        p.tau,
        p.rho_star,
        int(p.bistable),
        GATING_CODES[p.noise_gating],
    )


def _expm1(x):
    """``gb_expm1``: the Taylor series below |x| = 1e-2, as in the C kernel."""
    x = np.asarray(x, float)
    series = x * (
        1 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x * (1 / 720 + x / 5040)))))
    )
    return np.where(np.abs(x) < 1e-2, series, np.expm1(x))


def _log_invariant(rho, a):
    """The cubic flow's invariant at one ρ (not 0, 1 or ρ*). Scalar ``math.log``: the C
    library's, as the kernel's, and some ten times faster than numpy's on scalars (the
    bisection below calls it some sixty times per synapse and substep)."""
    return math.log(abs(rho - a)) - (1 - a) * math.log(abs(rho)) - a * math.log(abs(1 - rho))


def cubic_flow(rho, t, params):
    """Exact flow of τ dρ/dt = −ρ(1−ρ)(ρ*−ρ) over durations ``t`` (``gb_cubic_flow``)."""
    rho = np.array(rho, float, copy=True)
    t = np.broadcast_to(np.asarray(t, float), rho.shape)
    if not params.bistable:
        return rho
    active = t > 0
    a = params.rho_star
    if a == 0.5:
        u = rho - 0.5
        v = u * u
        # gb_cubic_flow: divided by em1 where em1 > 1, so that em1 = inf (exp overflows
        # beyond ~1420 τ) gives the limit; the branch not taken may be inf/inf or 0/0.
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            em1 = _expm1(t / (2.0 * params.tau))
            w = 1.0 / em1
            r_small = np.sqrt(v * (em1 + 1.0) / (4.0 * v * em1 + 1.0))
            r_large = np.sqrt(v * (1.0 + w) / (4.0 * v + w))
        r = np.where(em1 > 1.0, r_large, r_small)
        new = 0.5 + np.where(u > 0, r, -r)
        return np.where(active & (v != 0), new, rho)
    out = rho.copy()
    for i in np.flatnonzero(active & (rho != 0) & (rho != 1) & (rho != a)):
        start = float(rho[i])
        target = _log_invariant(start, a) + a * (1 - a) * float(t[i]) / params.tau
        lo, hi = start, (0.0 if start < a else 1.0)
        for _ in range(1200):  # as gb_cubic_flow_general: down through the subnormals
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if _log_invariant(mid, a) < target:
                lo = mid
            else:
                hi = mid
        out[i] = 0.5 * (lo + hi)
    return out


def _linear_cubic(rho, t, rate, mean, params, pending, active):
    """``gb_plan_segment`` + ``gb_apply_segment`` where ``active``: Strang-split linear
    drift and cubic flow, in substeps where rate·t/τ > 0.1. Returns ρ, the pending cubic
    time and the decay over the whole segment minus 1."""
    x = rate * t / params.tau
    n = np.ones(rho.shape, dtype=np.int64)
    if params.bistable:  # gb_substeps
        m = np.maximum(x / 0.1, x * np.sqrt(t / (params.tau * SPLIT_ERROR)))
        n = np.where(m > 1.0, np.where(m < 1e5, 1 + np.floor(m), 100001), 1).astype(np.int64)
    h = t / n
    em = np.expm1(-rate * h / params.tau)
    for k in range(int(n[active].max()) if np.any(active) else 0):
        step = active & (k < n)
        rho = np.where(step, cubic_flow(rho, pending + 0.5 * h, params), rho)
        rho = np.where(step, rho + (rho - mean) * em, rho)
        pending = np.where(step, 0.5 * h, pending)
    em_total = np.where(n == 1, em, np.expm1(-rate * t / params.tau))
    return rho, pending, em_total


def advance_rho(rho, c, L, params, xi_p, xi_d):
    """Advance ρ over intervals of length ``L`` starting at calcium ``c`` (``gb_advance_rho``).

    Parameters
    ----------
    rho, c, L : ndarray
        Efficacy, calcium just after the last event, interval length (s).
    params : CalciumParameters
    xi_p, xi_d : ndarray
        Standard normal draws for the segments above θp and between θd and θp.

    Returns
    -------
    ndarray
        ρ at the end of the intervals.
    """
    p = params
    rho, c, L, xi_p, xi_d = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (rho, c, L, xi_p, xi_d))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = np.log(c)
    above_d = c > p.theta_d
    t_above = np.where(above_d, np.minimum(p.tau_ca * (log_c - np.log(p.theta_d)), L), 0.0)
    t_p = np.where(c > p.theta_p, np.minimum(p.tau_ca * (log_c - np.log(p.theta_p)), L), 0.0)
    t_d = t_above - t_p
    noisy = p.noise_gating != "none" and p.sigma > 0
    pending = np.zeros(rho.shape)

    seg = t_p > 0
    rate = p.gamma_p + p.gamma_d
    mean = p.gamma_p / rate if rate > 0 else 0.0
    rho, pending, em = _linear_cubic(rho, t_p, rate, mean, p, pending, seg)
    if noisy:
        var = p.sigma**2 * (-em * (2 + em) / (2 * rate) if rate > 0 else t_p / p.tau)
        if p.noise_gating == "d+p":
            var = 2 * var
        rho = np.where(seg, rho + np.sqrt(var) * xi_p, rho)

    seg = t_d > 0
    rho, pending, em = _linear_cubic(rho, t_d, p.gamma_d, 0.0, p, pending, seg)
    if noisy:
        var = p.sigma**2 * (-em * (2 + em) / (2 * p.gamma_d) if p.gamma_d > 0 else t_d / p.tau)
        rho = np.where(seg, rho + np.sqrt(var) * xi_d, rho)
    return cubic_flow(rho, pending + (L - t_above), p)


def tm_resources(x_last, U, since, tau_rec):
    """Tsodyks–Markram resources at a presynaptic calcium event (``gb_tm_resources``).

    ``x_last`` is the fraction available at the previous event (which released
    ``U * x_last``; U is that event's release fraction), ``since`` the time between the two
    events (s; ``inf`` for the first event, which gives 1). Where U = 0 (no depression)
    the resources stay full. Elementwise.
    """
    U = np.asarray(U, float)
    with np.errstate(invalid="ignore"):
        x = 1.0 - (1.0 - (x_last - U * x_last)) * np.exp(-np.asarray(since) / tau_rec)
    return np.where(U > 0, x, 1.0)


def tm_facilitation(u_last, U, since, tau_fac):
    """Release fraction u⁺ at a presynaptic calcium event (``gb_tm_facilitation``).

    u decays to 0 with ``tau_fac`` between events and jumps to u⁻ + U(1 − u⁻) at one;
    ``u_last`` is u⁺ of the previous event. Without facilitation (``tau_fac = 0``) U.
    """
    if not tau_fac > 0:
        return np.broadcast_to(np.asarray(U, float), np.shape(u_last)).copy()
    u_minus = u_last * np.exp(-np.asarray(since) / tau_fac)
    return u_minus + U * (1.0 - u_minus)


def pre_jump(Cpre, rho, rho_scales_cpre, U, x):
    """Presynaptic calcium jump (``gb_pre_jump``): Cpre, times ρ if ``rho_scales_cpre``,
    times U·x under short-term depression (U > 0, U the event's release fraction)."""
    a = Cpre * rho if rho_scales_cpre else Cpre
    U = np.asarray(U, float)
    return np.where(U > 0, a * U * x, a * np.ones_like(np.asarray(x, float)))


def release_draws(x_full, sites, u, since, tau_rec, seed, syn, times):
    """Stochastic release at presynaptic calcium events (``gb_release_sites``, gb_release.h).

    Elementwise: ``x_full`` is the fraction of the ``sites`` full after each synapse's
    previous event, ``since`` (s) before (``inf``: none), ``u`` the release probability,
    ``seed``, ``syn`` and ``times`` (s) the key of the event's stream. Draws through the
    compiled module, so that every engine draws the same numbers.

    Returns
    -------
    x_full : ndarray
        The fraction of sites full after the release.
    released : ndarray
        The fraction of sites that released (the calcium jump is ``Cpre`` times it).
    """
    from ._fastpath import release_sites

    n = np.broadcast_shapes(np.shape(x_full), np.shape(u), np.shape(since), np.shape(syn),
                            np.shape(times))  # fmt: skip

    def flat(v, dtype):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype), n).ravel())

    sites = flat(sites, np.int64)
    full = np.rint(flat(x_full, float) * sites).astype(np.int64)
    released, left = release_sites(
        full, sites, flat(u, float), flat(since, float), flat(tau_rec, float),
        flat(np.uint64(int(seed) % 2**64), np.uint64), flat(syn, np.int64), flat(times, float),
    )  # fmt: skip
    return (left / sites).reshape(n), (released / sites).reshape(n)


def release_event(x, u, tp, e, p, seed, syn):
    """The release at presynaptic calcium events at times ``e`` (``gb_release_event``).

    ``x``, ``u``, ``tp``: each synapse's resources (stochastic release: the fraction of
    sites full), release fraction u⁺ and time of its previous event; ``p`` the model
    (``stp_U``, ``tau_rec``, ``tau_fac``, ``release_sites``); ``seed`` and ``syn`` key the
    stochastic draws. Returns the new ``x``, ``u``, ``tp`` and the fraction released
    (1 without short-term plasticity), which scales the calcium jump.
    """
    if not p.stp_U > 0:
        return x, u, tp, np.ones(np.shape(e))
    since = e - tp
    if p.release_sites > 0:  # stochastic: the compiled draws, keyed by (seed, syn, e)
        u = tm_facilitation(u, p.stp_U, since, p.tau_fac)
        x, released = release_draws(x, p.release_sites, u, since, p.tau_rec, seed, syn, e)
        return x, u, e, released
    x = tm_resources(x, u, since, p.tau_rec)
    u = tm_facilitation(u, p.stp_U, since, p.tau_fac)
    return x, u, e, u * x


def simulate(params, pre, post, rho0, t_end, rng, train_of_synapse=None, seed=0):
    """Numpy counterpart of the fast path (all synapses advanced in lock step).

    Parameters
    ----------
    params : CalciumParameters
    pre, post : SpikeTrains
        Presynaptic and postsynaptic spike trains (seconds).
    rho0 : ndarray (N,)
        Initial efficacies.
    t_end : ndarray (N,)
        Time (s) up to which each synapse is brought; later events are ignored.
    rng : numpy.random.Generator
        Source of the normal draws.
    train_of_synapse : ndarray (N,), optional
        Which train each synapse receives (default: synapse i gets train i).
    seed : int
        Seed of the release draws (stochastic release): synapse i draws as the fast path's
        synapse i for this seed.

    Returns
    -------
    ndarray (N,)
        ρ at ``t_end``.
    """
    p = params
    rho = np.array(rho0, float)
    n = rho.size
    t_end = np.broadcast_to(np.asarray(t_end, float), (n,))
    trains = np.arange(n) if train_of_synapse is None else np.asarray(train_of_synapse)
    times, is_pre = _merged_events(p, pre, post, trains)
    c_pre = np.zeros(n)
    c_post = np.zeros(n)
    t_last = np.zeros(n)
    x_res = np.ones(n)  # short-term depression: resources at the last pre event ...
    u_fac = np.full(n, p.stp_U)  # ... the fraction it released (facilitation: its u+) ...
    t_pre_last = np.full(n, -np.inf)  # ... and its time (none yet: x = 1 next)
    for j in range(times.shape[1]):
        t = times[:, j]
        live = t <= t_end
        # a tie taken in the other order (TIE_WINDOW) leaves an empty interval
        L = np.where(live, np.maximum(t - t_last, 0.0), 0.0)
        xi = rng.standard_normal((2, n))
        rho = np.where(live, advance_rho(rho, c_pre + c_post, L, p, xi[0], xi[1]), rho)
        decay = np.exp(-L / p.tau_ca)
        c_pre *= decay
        c_post *= decay
        pre_now = live & is_pre[:, j]
        post_now = live & ~is_pre[:, j]
        c_post = np.where(post_now, c_post + p.Cpost + p.eta * c_pre, c_post)
        at = np.flatnonzero(pre_now)
        x_res[at], u_fac[at], t_pre_last[at], released = release_event(
            x_res[at], u_fac[at], t_pre_last[at], t[at], p, seed, at
        )
        c_pre[at] += (p.Cpre * rho[at] if p.rho_scales_cpre else p.Cpre) * released
        t_last = np.where(live, np.maximum(t, t_last), t_last)
    L = np.maximum(t_end - t_last, 0.0)
    xi = rng.standard_normal((2, n))
    return advance_rho(rho, c_pre + c_post, L, p, xi[0], xi[1])


def _merged_events(p, pre, post, trains):
    """Per synapse, calcium event times, padded with +inf.

    Ties (``gb_walk.h``): a presynaptic calcium arrival comes first if it is no later than
    the postsynaptic spike plus :data:`TIE_WINDOW`; sorting the postsynaptic spikes by
    their time plus the window merges the two trains in that order.
    """
    rows = []
    for k in trains:
        tp = pre.train(k) + p.D
        tq = post.train(k)
        t = np.concatenate([tp, tq])
        kind = np.concatenate([np.zeros(tp.size), np.ones(tq.size)])
        order = np.lexsort((kind, np.concatenate([tp, tq + TIE_WINDOW])))
        rows.append((t[order], kind[order] == 0))
    width = max((r[0].size for r in rows), default=0)
    times = np.full((len(rows), width), np.inf)
    is_pre = np.zeros((len(rows), width), bool)
    for i, (t, k) in enumerate(rows):
        times[i, : t.size] = t
        is_pre[i, : t.size] = k
    return times, is_pre
