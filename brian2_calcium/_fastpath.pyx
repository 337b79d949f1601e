# cython: language_level=3
"""Compiled fast path: many independent synapses through the C kernel (gb_kernel.h).

Inputs are checked by :mod:`brian2_calcium.fastpath`; these routines assume sorted,
finite, non-negative spike times in SI units and run without the GIL.
"""

from libc.math cimport INFINITY, exp
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc

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


cdef extern from "gb_walk.h" nogil:
    bint gb_pre_first(double t_arrival, double t_post)
    ctypedef struct gb_synapse_model:
        gb_params p
        double D
        double Cpre
        double Cpost
        double eta
        double stp_U
        double tau_rec
        double tau_fac
        int32_t release_sites
        int rho_scales_cpre
    ctypedef struct gb_synapse_state:
        double rho
        double c
        double cpre
        double tlast
        double xres
        double tpre
        double ufac
        int32_t npre
        int32_t npost
    ctypedef struct gb_history:
        const double *recent
        const double *ring
        int32_t slots
        int32_t n
    double gb_walk(gb_synapse_state *s, double t, const gb_synapse_model *m,
                   const gb_history *pre, int32_t i, const gb_history *post, int32_t j,
                   uint64_t seed, int64_t syn)


cdef extern from "gb_rng.h" nogil:
    ctypedef struct gb_rng:
        pass
    void gb_rng_seed(gb_rng *r, uint64_t seed, uint64_t stream)
    double gb_rng_normal(gb_rng *r)
    double gb_rng_uniform(gb_rng *r)
    double gb_rng_exponential(gb_rng *r)
    void gb_rng_seed_keyed(gb_rng *r, uint64_t seed, uint64_t domain, uint64_t condition,
                           uint64_t train)


cdef extern from "gb_release.h" nogil:
    int32_t gb_release_sites(int32_t *full, int32_t sites, double u, double since,
                             double tau_rec, uint64_t seed, int64_t syn, double e)
    double gb_release_event(double *x, double *u, double *tpre, double e, double U,
                            double tau_rec, double tau_fac, int32_t sites, uint64_t seed,
                            int64_t syn)
    double gb_pre_jump_released(double Cpre, double rho, int rho_scales_cpre, double released)


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
    gb_synapse_model s  # the model as the walk of gb_walk.h takes it
    bint noisy  # noise is drawn at all


# Columns of a row of the model table (fastpath.MODEL_COLUMNS gives their names).
cdef enum:
    _MODEL_WIDTH = 19

MODEL_WIDTH = _MODEL_WIDTH


cdef void _model_from_row(_Model *m, const double *row) noexcept nogil:
    """Fill and prepare a model from one row of the table (once per row and call)."""
    m.s.p.tau_ca = row[0]
    m.s.p.theta_d = row[1]
    m.s.p.theta_p = row[2]
    m.s.p.gamma_d = row[3]
    m.s.p.gamma_p = row[4]
    m.s.p.sigma = row[5]
    m.s.p.tau = row[6]
    m.s.p.rho_star = row[7]
    m.s.p.bistable = <int>row[8]
    m.s.p.gating = <int>row[9]
    gb_params_prepare(&m.s.p)
    m.noisy = m.s.p.gating != 0 and m.s.p.sigma > 0.0
    m.s.D = row[10]
    m.s.Cpre = row[11]
    m.s.Cpost = row[12]
    m.s.eta = row[13]
    m.s.stp_U = row[14]
    m.s.tau_rec = row[15]
    m.s.tau_fac = row[16]
    m.s.rho_scales_cpre = row[17] != 0.0
    m.s.release_sites = <int32_t>row[18]


cdef class _Models:
    """The prepared models of a table, kept for the duration of one call."""
    cdef _Model *models
    cdef Py_ssize_t n

    def __cinit__(self, const double[:, ::1] table):
        cdef Py_ssize_t k
        if table.shape[1] != _MODEL_WIDTH:
            raise ValueError(f"the model table needs {_MODEL_WIDTH} columns, got "
                             f"{table.shape[1]}")
        if table.shape[0] < 1:
            raise ValueError("the model table is empty")
        self.n = table.shape[0]
        self.models = <_Model *>malloc(self.n * sizeof(_Model))
        if self.models == NULL:
            raise MemoryError()
        for k in range(self.n):
            _model_from_row(&self.models[k], &table[k, 0])

    def __dealloc__(self):
        free(self.models)


cdef const long long *_checked_index(const long long[::1] model_of_synapse, Py_ssize_t n,
                                     Py_ssize_t n_models) except NULL:
    cdef Py_ssize_t i
    if model_of_synapse.shape[0] != n:
        raise ValueError("model_of_synapse needs one entry per synapse")
    for i in range(n):
        if model_of_synapse[i] < 0 or model_of_synapse[i] >= n_models:
            raise ValueError(f"synapse {i} refers to model row {model_of_synapse[i]}, "
                             f"outside the table of {n_models}")
    return &model_of_synapse[0]


# Stored trains: synapse i receives train train_of_synapse[i] of these ragged arrays.
cdef struct _Stored:
    const double *pre_times
    const double *pre_gates  # voltage gating: a factor per presynaptic spike (or NULL)
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
                            uint64_t seed, uint64_t stream,
                            const double *readout_times, Py_ssize_t n_read, double *rho_out,
                            double *rho_at, double *c_at) noexcept nogil:
    """One synapse from t = 0 to t_end[i]; its own random stream keeps threads independent.

    Spikes come from ``drawn`` (already started) or, if it is NULL, from ``stored``.
    Returns the number of spikes processed.
    """
    cdef gb_rng rng
    cdef const gb_params *p = &m.s.p
    cdef bint noisy = m.noisy
    cdef Py_ssize_t j, a = 0, a_end = 0, b = 0, b_end = 0
    cdef Py_ssize_t k = 0
    cdef long long events = 0
    # rho is deferred: `pending` seconds of cubic flow are still owed (gb_kernel.h); they
    # are applied only where the efficacy is read.
    cdef double rho = rho0[i], pending = 0.0, c_pre = 0.0, c_post = 0.0, t_last = 0.0
    # Short-term depression: resources at the last presynaptic calcium event and its time
    # (-inf before the first event, which therefore finds x = 1; stochastic release: the
    # fraction of sites full after it).
    cdef double x_res = 1.0, t_pre_last = -INFINITY
    # Facilitation: the release fraction u+ of the last presynaptic event (U before the
    # first; without facilitation it stays U)
    cdef double u_fac = m.s.stp_U
    cdef double t, t_pre, t_post, L, c, decay, jump, inf = INFINITY
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
    gb_rng_seed(&rng, seed, stream)
    while True:
        if drawn == NULL:
            t_pre = stored.pre_times[a] + m.s.D if a < a_end else inf
            t_post = stored.post_times[b] if b < b_end else inf
        else:
            t_pre = drawn.t_pre + m.s.D
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
            if m.s.rho_scales_cpre:  # spec §1.5: the jump uses ρ brought up to date here
                rho = gb_cubic_flow(rho, pending, p)
                pending = 0.0
            # short-term plasticity: the release of this event (gb_release.h), whose
            # stochastic draws are keyed by the synapse's seed, stream and this time
            jump = gb_pre_jump_released(
                m.s.Cpre, rho, m.s.rho_scales_cpre,
                gb_release_event(&x_res, &u_fac, &t_pre_last, t, m.s.stp_U, m.s.tau_rec,
                                 m.s.tau_fac, m.s.release_sites, seed, <int64_t>stream))
            if drawn == NULL and stored.pre_gates != NULL:  # voltage gating at the arrival
                jump = jump * stored.pre_gates[a]
            c_pre = c_pre + jump
            if drawn == NULL:
                a = a + 1
            else:
                _train_pop_pre(drawn)
        else:
            c_post = c_post + m.s.Cpost + m.s.eta * c_pre
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


cdef class _Streams:
    """Seed and stream of each synapse: per-synapse arrays, or seed and offset + i."""
    cdef uint64_t seed
    cdef uint64_t offset
    cdef const uint64_t *seeds
    cdef const long long *streams

    def __cinit__(self, uint64_t seed, uint64_t offset, const uint64_t[::1] seeds,
                  const long long[::1] streams, Py_ssize_t n):
        self.seed = seed
        self.offset = offset
        self.seeds = NULL
        self.streams = NULL
        if seeds is not None:
            if seeds.shape[0] != n:
                raise ValueError("seeds needs one entry per synapse")
            if n:
                self.seeds = &seeds[0]
        if streams is not None:
            if streams.shape[0] != n:
                raise ValueError("streams needs one entry per synapse")
            if n:
                self.streams = &streams[0]

    cdef inline uint64_t seed_of(self, Py_ssize_t i) noexcept nogil:
        return self.seeds[i] if self.seeds != NULL else self.seed

    cdef inline uint64_t stream_of(self, Py_ssize_t i) noexcept nogil:
        return <uint64_t>self.streams[i] if self.streams != NULL else self.offset + i


def simulate(const double[::1] pre_times, const long long[::1] pre_offsets,
             const double[::1] post_times, const long long[::1] post_offsets,
             const long long[::1] train_of_synapse, const double[::1] rho0,
             const double[::1] t_end, const double[:, ::1] models,
             const long long[::1] model_of_synapse, uint64_t seed, uint64_t stream_offset=0,
             const double[::1] readout_times=None, const uint64_t[::1] seeds=None,
             const long long[::1] streams=None, const double[::1] pre_gates=None):
    """Simulate independent synapses event by event.

    Synapse ``i`` receives train ``j = train_of_synapse[i]``: presynaptic spikes
    ``pre_times[pre_offsets[j]:pre_offsets[j+1]]`` (calcium arrives ``D`` later) and
    postsynaptic spikes likewise; it starts at t = 0 with c = 0 and ρ = ``rho0[i]`` and is
    brought up to ``t_end[i]`` (later events are ignored). At equal times the presynaptic
    calcium event is processed first.

    Synapse ``i`` follows the model of row ``model_of_synapse[i]`` of ``models``
    (``MODEL_WIDTH`` columns, named by ``fastpath.MODEL_COLUMNS``; each row is prepared once
    per call). Calcium is split into a presynaptic and a postsynaptic part; a post spike
    adds ``Cpost + eta * c_pre`` (eta = 0: linear model). A presynaptic calcium event adds
    ``Cpre``, times ρ if ``rho_scales_cpre``, times ``u * x`` if ``stp_U > 0``
    (Tsodyks–Markram release: resources x, 1 at the first event; release fraction u, U
    without facilitation, else facilitating with ``tau_fac``).

    Synapse ``i`` draws from random stream ``stream_offset + i`` of ``seed`` (or stream
    ``streams[i]`` of ``seeds[i]`` where given), so the result does not depend on how
    synapses are split between calls (the GIL is released: callers may run calls for
    disjoint synapse ranges in parallel threads).

    ``pre_gates`` (voltage-gated presynaptic calcium), one factor per entry of
    ``pre_times``, multiplies the calcium jump of that spike's arrival.

    Returns
    -------
    rho : ndarray (N,)
        ρ at ``t_end``.
    rho_at, c_at : ndarray (N, R)
        ρ and c at ``readout_times`` (only if given; each must be ≤ the synapse's t_end).
    """
    cdef Py_ssize_t n = rho0.shape[0]
    cdef Py_ssize_t n_read = 0 if readout_times is None else readout_times.shape[0]
    cdef _Models table = _Models(models)
    cdef _Streams keys = _Streams(seed, stream_offset, seeds, streams, n)
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
    cdef const long long *model_of
    if n == 0:
        return rho_out if readout_times is None else (rho_out, rho_at, c_at)
    model_of = _checked_index(model_of_synapse, n, table.n)
    stored.pre_times = pre_ptr
    stored.pre_gates = NULL
    if pre_gates is not None:
        if pre_gates.shape[0] != pre_times.shape[0]:
            raise ValueError("pre_gates needs one factor per presynaptic spike")
        if pre_gates.shape[0]:
            stored.pre_gates = &pre_gates[0]
    stored.pre_offsets = &pre_offsets[0]
    stored.post_times = post_ptr
    stored.post_offsets = &post_offsets[0]
    stored.train_of_synapse = &train_of_synapse[0]
    with nogil:
        for i in range(n):
            _run_synapse(i, &stored, NULL, &rho0[0], &t_end[0], &table.models[model_of[i]],
                         keys.seed_of(i), keys.stream_of(i), read_ptr, n_read, &rho_v[0],
                         rho_at_ptr, c_at_ptr)
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
                   const double[:, ::1] models, const long long[::1] model_of_synapse,
                   uint64_t seed, uint64_t stream_offset=0,
                   const double[::1] readout_times=None, const uint64_t[::1] seeds=None,
                   const long long[::1] streams=None):
    """Simulate independent synapses on spike trains drawn inside the loop.

    Synapse ``i`` receives train ``train[i]`` of condition ``condition[i]``; that train's
    spikes come from streams keyed by (seed, ``condition[i]``, ``train[i]``), where the seed
    is ``seeds[i]`` if given, else ``seed``; so synapses given the same keys see the same
    spikes. Row ``condition[i]`` of ``law_table`` (s and Hz) describes the law:

    - ``LAW_POISSON_PAIRS``: (rate_pre, rate_extra, p, lag, T, lead): pre spikes at
      lead + u for u a Poisson process of rate_pre on [0, T); each is followed with
      probability p by a post spike at lag after it; extra post spikes at lead + u' for a
      Poisson process of rate_extra on [0, T).
    - ``LAW_JITTERED_PAIRS``: (frequency, n_pairs, lag_min, lag_max, lead, unused): pre
      spikes at k/frequency + lead, k < n_pairs, each with a post spike at a lag uniform in
      [lag_min, lag_max).

    Everything else (models, noise streams, ``t_end``, read-outs) is as in
    :func:`simulate`.

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
    cdef _Models table = _Models(models)
    cdef _Streams keys = _Streams(seed, stream_offset, seeds, streams, n)
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
    cdef const long long *model_of
    cdef _Train tr
    if n == 0:
        return rho_out, rho_at, c_at, 0
    if condition.shape[0] != n or train.shape[0] != n:
        raise ValueError("condition and train need one entry per synapse")
    model_of = _checked_index(model_of_synapse, n, table.n)
    with nogil:
        for i in range(n):
            _train_start(&tr, law, &law_table[condition[i], 0], keys.seed_of(i),
                         condition[i], train[i])
            events += _run_synapse(i, NULL, &tr, &rho0[0], &t_end[0],
                                   &table.models[model_of[i]], keys.seed_of(i),
                                   keys.stream_of(i), read_ptr, n_read, &rho_v[0],
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


def release_sites(const long long[::1] full, const long long[::1] sites, const double[::1] u,
                  const double[::1] since, const double[::1] tau_rec,
                  const uint64_t[::1] seeds, const long long[::1] syns,
                  const double[::1] times):
    """Stochastic release at one event per element (``gb_release_sites``, gb_release.h).

    Every argument has one entry per element: sites full after the previous event, number
    of sites, release probability u, time since the previous event (s; inf: none), tau_rec
    (s), seed, synapse key and event time (s) of the stream. Returns the numbers released
    and the sites left full (int64 arrays): the draws of the compiled engines, for their
    numpy twins.
    """
    cdef Py_ssize_t k, n = full.shape[0]
    cdef int32_t f
    released = np.empty(n, dtype=np.int64)
    left = np.empty(n, dtype=np.int64)
    cdef long long[::1] released_v = released
    cdef long long[::1] left_v = left
    for k in range(n):
        f = <int32_t>full[k]
        released_v[k] = gb_release_sites(&f, <int32_t>sites[k], u[k], since[k], tau_rec[k],
                                         seeds[k], <int64_t>syns[k], times[k])
        left_v[k] = f
    return released, left


def walk_states(dict state, double t, const long long[::1] i, const long long[::1] j,
                const double[::1] ring, const long long[::1] count, Py_ssize_t slots,
                const double[:, ::1] models, const long long[::1] model_of_synapse,
                const uint64_t[::1] seeds, const long long[::1] syns):
    """The walk of ``gb_walk.h`` (the C one every compiled engine runs) for each synapse.

    ``state`` holds the kept state (``KEPT_FIELDS``: float arrays, ``npre``/``npost``
    int64), updated in place; synapse k walks from it to ``t`` over the spikes of neuron
    rows ``i[k]`` (presynaptic) and ``j[k]`` (postsynaptic) of one history (``ring`` of
    ``slots`` per neuron, spike ``a`` of a neuron at ``a % slots``, and ``count``), with
    the model of row ``model_of_synapse[k]`` of ``models`` (``fastpath.MODEL_COLUMNS``)
    and its noise and release streams keyed by ``(seeds[k], t, syns[k])`` as any compiled
    walk to ``t`` would draw them. Returns ρ at ``t``.
    """
    cdef Py_ssize_t n = i.shape[0], k, r, rows = count.shape[0]
    cdef _Models table = _Models(models)
    cdef const long long *model_of = _checked_index(model_of_synapse, n, table.n)
    cdef double[::1] rho = state["rho"], c = state["c"], cpre = state["cpre"]
    cdef double[::1] tlast = state["tlast"], xres = state["xres"], tpre = state["tpre"]
    cdef double[::1] ufac = state["ufac"]
    cdef long long[::1] npre = state["npre"], npost = state["npost"]
    cdef gb_synapse_state s
    cdef gb_history h
    recent = np.zeros((rows, 4))
    cdef double[:, ::1] recent_v = recent
    if ring.shape[0] != rows * slots:
        raise ValueError("the ring needs slots entries per neuron")
    for r in range(rows):  # {count, newest, second, third} per neuron (gb_history)
        recent_v[r, 0] = count[r]
        for k in range(1, 4):
            if count[r] - k >= 0:
                recent_v[r, k] = ring[r * slots + (count[r] - k) % slots]
    h.recent = &recent_v[0, 0] if rows else NULL
    h.ring = &ring[0] if ring.shape[0] else NULL
    h.slots = <int32_t>slots
    h.n = <int32_t>rows
    if seeds.shape[0] != n or syns.shape[0] != n or j.shape[0] != n:
        raise ValueError("i, j, seeds and syns need one entry per synapse")
    out = np.empty(n)
    cdef double[::1] out_v = out
    for k in range(n):
        s.rho, s.c, s.cpre, s.tlast = rho[k], c[k], cpre[k], tlast[k]
        s.xres, s.tpre, s.ufac = xres[k], tpre[k], ufac[k]
        s.npre, s.npost = <int32_t>npre[k], <int32_t>npost[k]
        out_v[k] = gb_walk(&s, t, &table.models[model_of[k]].s, &h, <int32_t>i[k], &h,
                           <int32_t>j[k], seeds[k], <int64_t>syns[k])
        rho[k], c[k], cpre[k], tlast[k] = s.rho, s.c, s.cpre, s.tlast
        xres[k], tpre[k], ufac[k] = s.xres, s.tpre, s.ufac
        npre[k], npost[k] = s.npre, s.npost
    return out
