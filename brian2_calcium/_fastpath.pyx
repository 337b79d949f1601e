# cython: language_level=3
"""Compiled fast path: many independent synapses through the C kernel (gb_kernel.h).

Inputs are checked by :mod:`brian2_calcium.fastpath`; these routines assume sorted,
finite, non-negative spike times in SI units and run without the GIL.
"""

from libc.math cimport INFINITY, exp
from libc.stdint cimport uint64_t

import numpy as np


cdef extern from "gb_kernel.h" nogil:
    ctypedef struct gb_params:
        double tau_ca
        double theta_d
        double theta_p
        double gamma_d
        double gamma_p
        double sigma
        double tau
        double rho_star
        int bistable
        int gating
        double log_theta_d
        double log_theta_p
    void gb_params_prepare(gb_params *p)
    double gb_advance_rho(double rho, double c, double L, const gb_params *p,
                          double xi_p, double xi_d)
    double gb_advance_rho_deferred(double rho, double *pending, double c, double L,
                                   const gb_params *p, double xi_p, double xi_d)
    ctypedef struct gb_interval:
        pass
    void gb_interval_plan(double c, double L, const gb_params *p, gb_interval *s)
    double gb_interval_apply(double rho, double *pending, double L, const gb_interval *s,
                             const gb_params *p, double xi_p, double xi_d)
    double gb_cubic_flow(double rho, double t, const gb_params *p)
    double gb_tm_resources(double x_last, double U, double since, double tau_rec)
    double gb_pre_jump(double Cpre, double rho, int rho_scales_cpre, double U, double x)


cdef extern from "gb_walk.h" nogil:
    bint gb_pre_first(double t_arrival, double t_post)


cdef extern from "gb_rng.h" nogil:
    ctypedef struct gb_rng:
        pass
    void gb_rng_seed(gb_rng *r, uint64_t seed, uint64_t stream)
    double gb_rng_normal(gb_rng *r)
    double gb_rng_uniform(gb_rng *r)
    double gb_rng_exponential(gb_rng *r)
    void gb_rng_seed_keyed(gb_rng *r, uint64_t seed, uint64_t domain, uint64_t condition,
                           uint64_t train)


cdef extern from "gb_exponential.h" nogil:
    double gb_rng_exponential_zig(gb_rng *r)


cdef gb_params _params(tuple kernel_params):
    cdef gb_params p
    (p.tau_ca, p.theta_d, p.theta_p, p.gamma_d, p.gamma_p, p.sigma, p.tau, p.rho_star,
     p.bistable, p.gating) = kernel_params
    gb_params_prepare(&p)
    return p


cdef inline double _draws_and_apply(double rho, double *pending, double c, double L,
                                    const gb_interval *plan, const gb_params *p, bint noisy,
                                    gb_rng *rng) noexcept nogil:
    """Apply an interval's plan, drawing normals only for segments that exist."""
    cdef double xi_p = 0.0, xi_d = 0.0
    if noisy and L > 0.0:
        if c > p.theta_p:
            xi_p = gb_rng_normal(rng)
        if c > p.theta_d:
            xi_d = gb_rng_normal(rng)
    return gb_interval_apply(rho, pending, L, plan, p, xi_p, xi_d)


cdef inline double _step(double rho, double *pending, double c, double L,
                         const gb_params *p, bint noisy, gb_rng *rng) noexcept nogil:
    """Advance the deferred rho over L (a fresh plan)."""
    cdef gb_interval plan
    gb_interval_plan(c, L, p, &plan)
    return _draws_and_apply(rho, pending, c, L, &plan, p, noisy, rng)



# ------------------------------------------------------------------------------------------
# The model constants of a call


cdef struct _Model:
    gb_params p
    bint noisy
    double D  # presynaptic calcium arrives D after the spike (s)
    double Cpre
    double Cpost
    double eta
    double stp_U
    double tau_rec
    bint rho_scales_cpre


cdef _Model _model(tuple kernel_params, double D, double Cpre, double Cpost, double eta,
                   double stp_U, double tau_rec, bint rho_scales_cpre):
    cdef _Model m
    m.p = _params(kernel_params)
    m.noisy = m.p.gating != 0 and m.p.sigma > 0.0
    m.D = D
    m.Cpre = Cpre
    m.Cpost = Cpost
    m.eta = eta
    m.stp_U = stp_U
    m.tau_rec = tau_rec
    m.rho_scales_cpre = rho_scales_cpre
    return m


# Stored trains: synapse i receives train train_of_synapse[i] of these ragged arrays.
cdef struct _Stored:
    const double *pre_times
    const long long *pre_offsets
    const double *post_times
    const long long *post_offsets
    const long long *train_of_synapse


# ------------------------------------------------------------------------------------------
# Trains drawn inside the loop: nothing is stored per spike. Each train is a few random
# streams keyed by (seed, domain, condition, train), read in time order as the loop needs
# the next spike, so a train's spikes do not depend on the synapse that receives it, on
# other conditions or on the threads.

# Laws of drawn trains (the rows of `law_table`, one per condition, are documented in
# `simulate_drawn`).
cdef enum:
    _LAW_POISSON_PAIRS = 0
    _LAW_JITTERED_PAIRS = 1

LAW_POISSON_PAIRS = _LAW_POISSON_PAIRS
LAW_JITTERED_PAIRS = _LAW_JITTERED_PAIRS

# Stream domains of a train: its presynaptic spikes, its coin flips or lags, its extra
# (unpaired) postsynaptic spikes.
cdef enum:
    _DOMAIN_PRE = 1
    _DOMAIN_COIN = 2
    _DOMAIN_EXTRA = 3

# Jittered pairs: post spikes drawn but not yet due (their lags may reorder them; the
# lag range is below two periods, so at most three wait at once).
cdef enum:
    _JITTER_BUFFER = 8


cdef struct _Train:
    int law
    double t_pre  # next presynaptic spike (s; inf when there is none)
    double t_post  # next postsynaptic spike (s; inf when there is none)
    # Poisson pairs: pre spikes lead + u, u a Poisson process of rate_pre on [0, T); each
    # pre spike, with probability p, brings a post spike lag later; extra post spikes
    # lead + u', u' a Poisson process of rate_extra on [0, T).
    gb_rng pre_rng
    gb_rng pair_rng  # replays the pre spikes (same key) for the pairing, in its own time
    gb_rng coin_rng
    gb_rng extra_rng
    double interval_pre  # mean intervals 1/rate (s; inf for rate 0): no division per spike
    double interval_extra
    double p
    double lag
    double T
    double lead
    double u_pre
    double u_pair
    double u_extra
    double t_paired
    double t_extra
    # Jittered pairs: pre spikes k/f + lead (k < n_pairs), post spikes pre + lag_k,
    # lag_k uniform in [lag_min, lag_min + width).
    double frequency
    long long n_pairs
    long long k_pre
    long long k_drawn
    double lag_min
    double width
    double waiting[_JITTER_BUFFER]
    int n_waiting


cdef inline double _poisson_next(gb_rng *r, double u, double mean_interval,
                                 double T) noexcept nogil:
    """The next point after u of a Poisson process (mean interval 1/rate) on [0, T), or inf."""
    if mean_interval == INFINITY:  # rate 0
        return INFINITY
    u = u + gb_rng_exponential_zig(r) * mean_interval
    return u if u < T else INFINITY


cdef inline void _next_paired(_Train *tr) noexcept nogil:
    """Walk the replayed pre spikes until one is paired (probability p)."""
    while True:
        tr.u_pair = _poisson_next(&tr.pair_rng, tr.u_pair, tr.interval_pre, tr.T)
        if tr.u_pair == INFINITY:
            tr.t_paired = INFINITY
            return
        if gb_rng_uniform(&tr.coin_rng) < tr.p:
            tr.t_paired = (tr.lead + tr.u_pair) + tr.lag
            return


cdef inline double _jitter_pre(const _Train *tr, long long k) noexcept nogil:
    return <double>k / tr.frequency + tr.lead


cdef inline void _jitter_next_post(_Train *tr) noexcept nogil:
    """Draw the lags of every post spike that may come before those waiting; take the first."""
    cdef int q
    cdef double earliest = INFINITY
    for q in range(tr.n_waiting):
        if tr.waiting[q] < earliest:
            earliest = tr.waiting[q]
    # A pair not drawn yet has its post spike at or after pre_k + lag_min (rounding is
    # monotone), so once that is later than the earliest waiting spike, it can wait.
    while (tr.k_drawn < tr.n_pairs and tr.n_waiting < _JITTER_BUFFER
           and _jitter_pre(tr, tr.k_drawn) + tr.lag_min <= earliest):
        tr.waiting[tr.n_waiting] = _jitter_pre(tr, tr.k_drawn) + (
            tr.lag_min + tr.width * gb_rng_uniform(&tr.coin_rng))
        if tr.waiting[tr.n_waiting] < earliest:
            earliest = tr.waiting[tr.n_waiting]
        tr.n_waiting = tr.n_waiting + 1
        tr.k_drawn = tr.k_drawn + 1
    tr.t_post = earliest


cdef inline void _train_start(_Train *tr, int law, const double *row, uint64_t seed,
                              uint64_t condition, uint64_t train) noexcept nogil:
    tr.law = law
    if law == _LAW_POISSON_PAIRS:
        tr.interval_pre = 1.0 / row[0] if row[0] > 0.0 else INFINITY
        tr.interval_extra = 1.0 / row[1] if row[1] > 0.0 else INFINITY
        tr.p = row[2]
        tr.lag = row[3]
        tr.T = row[4]
        tr.lead = row[5]
        gb_rng_seed_keyed(&tr.pre_rng, seed, _DOMAIN_PRE, condition, train)
        gb_rng_seed_keyed(&tr.pair_rng, seed, _DOMAIN_PRE, condition, train)
        gb_rng_seed_keyed(&tr.coin_rng, seed, _DOMAIN_COIN, condition, train)
        gb_rng_seed_keyed(&tr.extra_rng, seed, _DOMAIN_EXTRA, condition, train)
        tr.u_pre = _poisson_next(&tr.pre_rng, 0.0, tr.interval_pre, tr.T)
        tr.t_pre = tr.lead + tr.u_pre
        tr.u_pair = 0.0
        if tr.p > 0.0:
            _next_paired(tr)
        else:
            tr.t_paired = INFINITY
        tr.u_extra = _poisson_next(&tr.extra_rng, 0.0, tr.interval_extra, tr.T)
        tr.t_extra = tr.lead + tr.u_extra
        tr.t_post = tr.t_paired if tr.t_paired <= tr.t_extra else tr.t_extra
    else:
        tr.frequency = row[0]
        tr.n_pairs = <long long>row[1]
        tr.lag_min = row[2]
        tr.width = row[3] - row[2]
        tr.lead = row[4]
        gb_rng_seed_keyed(&tr.coin_rng, seed, _DOMAIN_COIN, condition, train)
        tr.k_pre = 0
        tr.k_drawn = 0
        tr.n_waiting = 0
        tr.t_pre = _jitter_pre(tr, 0) if tr.n_pairs > 0 else INFINITY
        _jitter_next_post(tr)


cdef inline void _train_pop_pre(_Train *tr) noexcept nogil:
    if tr.law == _LAW_POISSON_PAIRS:
        tr.u_pre = _poisson_next(&tr.pre_rng, tr.u_pre, tr.interval_pre, tr.T)
        tr.t_pre = tr.lead + tr.u_pre
    else:
        tr.k_pre = tr.k_pre + 1
        tr.t_pre = _jitter_pre(tr, tr.k_pre) if tr.k_pre < tr.n_pairs else INFINITY


cdef inline void _train_pop_post(_Train *tr) noexcept nogil:
    cdef int q
    if tr.law == _LAW_POISSON_PAIRS:
        if tr.t_paired <= tr.t_extra:
            _next_paired(tr)
        else:
            tr.u_extra = _poisson_next(&tr.extra_rng, tr.u_extra, tr.interval_extra, tr.T)
            tr.t_extra = tr.lead + tr.u_extra
        tr.t_post = tr.t_paired if tr.t_paired <= tr.t_extra else tr.t_extra
    else:
        for q in range(tr.n_waiting):  # remove the spike just taken (the earliest)
            if tr.waiting[q] == tr.t_post:
                tr.n_waiting = tr.n_waiting - 1
                tr.waiting[q] = tr.waiting[tr.n_waiting]
                break
        _jitter_next_post(tr)


# ------------------------------------------------------------------------------------------
# The event loop of one synapse, on stored or drawn trains: one function, so that both give
# the same ρ for the same spikes and the synapse's state stays in registers.


cdef long long _run_synapse(Py_ssize_t i, const _Stored *stored, _Train *drawn,
                            const double *rho0, const double *t_end, const _Model *m,
                            uint64_t seed, uint64_t stream_offset,
                            const double *readout_times, Py_ssize_t n_read, double *rho_out,
                            double *rho_at, double *c_at) noexcept nogil:
    """One synapse from t = 0 to t_end[i]; its own random stream keeps threads independent.

    Spikes come from ``drawn`` (already started) or, if it is NULL, from ``stored``.
    Returns the number of spikes processed.
    """
    cdef gb_rng rng
    cdef const gb_params *p = &m.p
    cdef bint noisy = m.noisy
    cdef Py_ssize_t j, a = 0, a_end = 0, b = 0, b_end = 0
    cdef Py_ssize_t k = 0
    cdef long long events = 0
    # rho is deferred: `pending` seconds of cubic flow are still owed (gb_kernel.h); they
    # are applied only where the efficacy is read.
    cdef double rho = rho0[i], pending = 0.0, c_pre = 0.0, c_post = 0.0, t_last = 0.0
    # Short-term depression: resources at the last presynaptic calcium event and its time
    # (-inf before the first event, which therefore finds x = 1).
    cdef double x_res = 1.0, t_pre_last = -INFINITY
    cdef double t, t_pre, t_post, L, c, decay, inf = INFINITY
    cdef bint is_pre
    # The plans of the last interval that followed a pre (0) and a post (1) event, with
    # their calcium, length and decay: periodic protocols repeat them exactly, and then the
    # logarithms and exponentials of an interval are not computed again.
    cdef gb_interval plans[2]
    cdef double plan_c[2]
    cdef double plan_L[2]
    cdef double plan_decay[2]
    cdef int kind = 0  # of the event that opened the current interval
    plan_c[0] = plan_c[1] = -1.0  # calcium is never negative: no plan yet
    plan_L[0] = plan_L[1] = -1.0
    if drawn == NULL:
        j = stored.train_of_synapse[i]
        a = stored.pre_offsets[j]
        a_end = stored.pre_offsets[j + 1]
        b = stored.post_offsets[j]
        b_end = stored.post_offsets[j + 1]
    gb_rng_seed(&rng, seed, stream_offset + i)
    while True:
        if drawn == NULL:
            t_pre = stored.pre_times[a] + m.D if a < a_end else inf
            t_post = stored.post_times[b] if b < b_end else inf
        else:
            t_pre = drawn.t_pre + m.D
            t_post = drawn.t_post
        is_pre = gb_pre_first(t_pre, t_post)  # ties: presynaptic calcium first (gb_walk.h)
        t = t_pre if is_pre else t_post
        # Read-outs due before the next event (or before the end).
        while k < n_read and readout_times[k] <= t and readout_times[k] <= t_end[i]:
            L = readout_times[k] - t_last
            rho = _step(rho, &pending, c_pre + c_post, L, p, noisy, &rng)
            rho = gb_cubic_flow(rho, pending, p)
            pending = 0.0
            decay = exp(-L / p.tau_ca)
            c_pre = c_pre * decay
            c_post = c_post * decay
            t_last = readout_times[k]
            rho_at[i * n_read + k] = rho
            c_at[i * n_read + k] = c_pre + c_post
            k = k + 1
        if t == inf or t > t_end[i]:
            break
        L = t - t_last
        if L < 0.0:  # a tie taken in the other order (gb_walk.h): an empty interval
            L = 0.0
            t = t_last
        c = c_pre + c_post
        if c != plan_c[kind] or L != plan_L[kind]:
            gb_interval_plan(c, L, p, &plans[kind])
            plan_c[kind] = c
            plan_L[kind] = L
            plan_decay[kind] = exp(-L / p.tau_ca)
        rho = _draws_and_apply(rho, &pending, c, L, &plans[kind], p, noisy, &rng)
        decay = plan_decay[kind]
        c_pre = c_pre * decay
        c_post = c_post * decay
        kind = 0 if is_pre else 1
        if is_pre:
            if m.rho_scales_cpre:  # spec §1.5: the jump uses ρ brought up to date here
                rho = gb_cubic_flow(rho, pending, p)
                pending = 0.0
            if m.stp_U > 0.0:
                x_res = gb_tm_resources(x_res, m.stp_U, t - t_pre_last, m.tau_rec)
                t_pre_last = t
            c_pre = c_pre + gb_pre_jump(m.Cpre, rho, m.rho_scales_cpre, m.stp_U, x_res)
            if drawn == NULL:
                a = a + 1
            else:
                _train_pop_pre(drawn)
        else:
            c_post = c_post + m.Cpost + m.eta * c_pre
            if drawn == NULL:
                b = b + 1
            else:
                _train_pop_post(drawn)
        events = events + 1
        t_last = t
    if t_end[i] > t_last:
        rho = _step(rho, &pending, c_pre + c_post, t_end[i] - t_last, p, noisy, &rng)
    rho_out[i] = gb_cubic_flow(rho, pending, p)
    return events


cdef long long _run_drawn_synapse(Py_ssize_t i, int law, const double *law_table,
                                  Py_ssize_t law_width, const long long *condition,
                                  const long long *train, const double *rho0,
                                  const double *t_end, const _Model *m, uint64_t seed,
                                  uint64_t stream_offset, const double *readout_times,
                                  Py_ssize_t n_read, double *rho_out, double *rho_at,
                                  double *c_at) noexcept nogil:
    """One synapse on a drawn train; returns the number of spikes it processed."""
    cdef _Train tr
    _train_start(&tr, law, &law_table[condition[i] * law_width], seed, condition[i], train[i])
    return _run_synapse(i, NULL, &tr, rho0, t_end, m, seed, stream_offset, readout_times,
                        n_read, rho_out, rho_at, c_at)



def simulate(const double[::1] pre_times, const long long[::1] pre_offsets,
             const double[::1] post_times, const long long[::1] post_offsets,
             const long long[::1] train_of_synapse, const double[::1] rho0,
             const double[::1] t_end, tuple kernel_params, double D, double Cpre,
             double Cpost, double eta, uint64_t seed, uint64_t stream_offset=0,
             const double[::1] readout_times=None, double stp_U=0.0, double tau_rec=0.0,
             bint rho_scales_cpre=False):
    """Simulate independent synapses event by event.

    Synapse ``i`` receives train ``j = train_of_synapse[i]``: presynaptic spikes
    ``pre_times[pre_offsets[j]:pre_offsets[j+1]]`` (calcium arrives ``D`` later) and
    postsynaptic spikes likewise; it starts at t = 0 with c = 0 and ρ = ``rho0[i]`` and is
    brought up to ``t_end[i]`` (later events are ignored). At equal times the presynaptic
    calcium event is processed first. Calcium is split into a presynaptic and a
    postsynaptic part; a post spike adds ``Cpost + eta * c_pre`` (eta = 0: linear model).
    A presynaptic calcium event adds ``Cpre``, times ρ if ``rho_scales_cpre``, times
    ``stp_U * x`` if ``stp_U > 0`` (Tsodyks–Markram resources x, 1 at the first event).
    Synapse ``i`` draws from random stream ``stream_offset + i`` of ``seed``, so the result
    does not depend on how synapses are split between calls (the GIL is released: callers
    may run calls for disjoint synapse ranges in parallel threads).

    Returns
    -------
    rho : ndarray (N,)
        ρ at ``t_end``.
    rho_at, c_at : ndarray (N, R)
        ρ and c at ``readout_times`` (only if given; each must be ≤ the synapse's t_end).
    """
    cdef Py_ssize_t n = rho0.shape[0]
    cdef Py_ssize_t n_read = 0 if readout_times is None else readout_times.shape[0]
    cdef _Model m = _model(kernel_params, D, Cpre, Cpost, eta, stp_U, tau_rec,
                           rho_scales_cpre)
    rho_out = np.empty(n)
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    cdef double[::1] rho_v = rho_out
    cdef double[:, ::1] rho_at_v = rho_at
    cdef double[:, ::1] c_at_v = c_at
    cdef double dummy = 0.0
    cdef const double *pre_ptr = &pre_times[0] if pre_times.shape[0] else &dummy
    cdef const double *post_ptr = &post_times[0] if post_times.shape[0] else &dummy
    cdef const double *read_ptr = &readout_times[0] if n_read else &dummy
    cdef double *rho_at_ptr = &rho_at_v[0, 0] if n_read and n else &dummy
    cdef double *c_at_ptr = &c_at_v[0, 0] if n_read and n else &dummy
    cdef Py_ssize_t i
    cdef _Stored stored
    if n == 0:
        return rho_out if readout_times is None else (rho_out, rho_at, c_at)
    stored.pre_times = pre_ptr
    stored.pre_offsets = &pre_offsets[0]
    stored.post_times = post_ptr
    stored.post_offsets = &post_offsets[0]
    stored.train_of_synapse = &train_of_synapse[0]
    with nogil:
        for i in range(n):
            _run_synapse(i, &stored, NULL, &rho0[0], &t_end[0], &m, seed, stream_offset,
                         read_ptr, n_read, &rho_v[0], rho_at_ptr, c_at_ptr)
    if readout_times is None:
        return rho_out
    return rho_out, rho_at, c_at


def _check_law(int law, const double[:, ::1] law_table):
    if law not in (_LAW_POISSON_PAIRS, _LAW_JITTERED_PAIRS):
        raise ValueError(f"unknown train law {law}")
    if law_table.shape[1] != 6:
        raise ValueError(f"law_table must have 6 columns, got {law_table.shape[1]}")


def simulate_drawn(int law, const double[:, ::1] law_table, const long long[::1] condition,
                   const long long[::1] train, const double[::1] rho0, const double[::1] t_end,
                   tuple kernel_params, double D, double Cpre, double Cpost, double eta,
                   uint64_t seed, uint64_t stream_offset=0,
                   const double[::1] readout_times=None, double stp_U=0.0,
                   double tau_rec=0.0, bint rho_scales_cpre=False):
    """Simulate independent synapses on spike trains drawn inside the loop.

    Synapse ``i`` receives train ``train[i]`` of condition ``condition[i]``; that train's
    spikes come from streams keyed by (``seed``, ``condition[i]``, ``train[i]``), so
    synapses given the same pair of keys see the same spikes. Row ``condition[i]`` of
    ``law_table`` (s and Hz) describes the law:

    - ``LAW_POISSON_PAIRS``: (rate_pre, rate_extra, p, lag, T, lead): pre spikes at
      lead + u for u a Poisson process of rate_pre on [0, T); each is followed with
      probability p by a post spike at lag after it; extra post spikes at lead + u' for a
      Poisson process of rate_extra on [0, T).
    - ``LAW_JITTERED_PAIRS``: (frequency, n_pairs, lag_min, lag_max, lead, unused): pre
      spikes at k/frequency + lead, k < n_pairs, each with a post spike at a lag uniform in
      [lag_min, lag_max).

    Everything else (noise stream ``stream_offset + i``, ``t_end``, read-outs, model
    variants) is as in :func:`simulate`.

    Returns
    -------
    rho : ndarray (N,)
    rho_at, c_at : ndarray (N, R)
        Empty (R = 0) without ``readout_times``.
    n_events : int
        Spikes processed (up to each synapse's t_end), all synapses together.
    """
    _check_law(law, law_table)
    cdef Py_ssize_t n = rho0.shape[0]
    cdef Py_ssize_t n_read = 0 if readout_times is None else readout_times.shape[0]
    cdef Py_ssize_t width = law_table.shape[1]
    cdef _Model m = _model(kernel_params, D, Cpre, Cpost, eta, stp_U, tau_rec,
                           rho_scales_cpre)
    rho_out = np.empty(n)
    rho_at = np.empty((n, n_read))
    c_at = np.empty((n, n_read))
    cdef double[::1] rho_v = rho_out
    cdef double[:, ::1] rho_at_v = rho_at
    cdef double[:, ::1] c_at_v = c_at
    cdef double dummy = 0.0
    cdef const double *read_ptr = &readout_times[0] if n_read else &dummy
    cdef double *rho_at_ptr = &rho_at_v[0, 0] if n_read and n else &dummy
    cdef double *c_at_ptr = &c_at_v[0, 0] if n_read and n else &dummy
    cdef Py_ssize_t i
    cdef long long events = 0
    if n == 0:
        return rho_out, rho_at, c_at, 0
    with nogil:
        for i in range(n):
            events += _run_drawn_synapse(i, law, &law_table[0, 0], width, &condition[0],
                                         &train[0], &rho0[0], &t_end[0], &m, seed,
                                         stream_offset, read_ptr, n_read, &rho_v[0],
                                         rho_at_ptr, c_at_ptr)
    return rho_out, rho_at, c_at, events


def drawn_trains(int law, const double[:, ::1] law_table, long long condition,
                 long long train, uint64_t seed, double t_stop=INFINITY):
    """The spikes one drawn train gives (for tests of the generators): (pre, post) in s.

    The same code as :func:`simulate_drawn` produces them, here stored; spikes after
    ``t_stop`` are not drawn.
    """
    _check_law(law, law_table)
    cdef _Train tr
    pre, post = [], []
    _train_start(&tr, law, &law_table[condition, 0], seed, condition, train)
    while tr.t_pre < INFINITY and tr.t_pre <= t_stop:
        pre.append(tr.t_pre)
        _train_pop_pre(&tr)
    while tr.t_post < INFINITY and tr.t_post <= t_stop:
        post.append(tr.t_post)
        _train_pop_post(&tr)
    return np.array(pre, float), np.array(post, float)


def advance_rho(const double[::1] rho, const double[::1] c, const double[::1] L,
                tuple kernel_params, const double[::1] xi_p, const double[::1] xi_d):
    """Elementwise ``gb_advance_rho``: one interval per element, with given normal draws."""
    cdef Py_ssize_t i, n = rho.shape[0]
    cdef gb_params p = _params(kernel_params)
    out = np.empty(n)
    cdef double[::1] out_v = out
    with nogil:
        for i in range(n):
            out_v[i] = gb_advance_rho(rho[i], c[i], L[i], &p, xi_p[i], xi_d[i])
    return out


def cubic_flow(const double[::1] rho, double t, tuple kernel_params):
    """Elementwise exact cubic flow over a duration ``t`` (s)."""
    cdef Py_ssize_t i, n = rho.shape[0]
    cdef gb_params p = _params(kernel_params)
    out = np.empty(n)
    cdef double[::1] out_v = out
    with nogil:
        for i in range(n):
            out_v[i] = gb_cubic_flow(rho[i], t, &p)
    return out


def exponentials(uint64_t seed, uint64_t stream, Py_ssize_t n):
    """``n`` standard exponential draws (ziggurat) from one stream (for tests)."""
    cdef gb_rng rng
    cdef Py_ssize_t i
    gb_rng_seed(&rng, seed, stream)
    out = np.empty(n)
    cdef double[::1] out_v = out
    for i in range(n):
        out_v[i] = gb_rng_exponential_zig(&rng)
    return out


def normals(uint64_t seed, uint64_t stream, Py_ssize_t n):
    """``n`` standard normal draws from one stream (for tests of the generator)."""
    cdef gb_rng rng
    cdef Py_ssize_t i
    gb_rng_seed(&rng, seed, stream)
    out = np.empty(n)
    cdef double[::1] out_v = out
    for i in range(n):
        out_v[i] = gb_rng_normal(&rng)
    return out
