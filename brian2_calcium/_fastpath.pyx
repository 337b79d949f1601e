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


cdef void _run_synapse(Py_ssize_t i, const double *pre_times, const long long *pre_offsets,
                       const double *post_times, const long long *post_offsets,
                       const long long *train_of_synapse, const double *rho0,
                       const double *t_end, const gb_params *p, bint noisy, double D,
                       double Cpre, double Cpost, double eta, double stp_U, double tau_rec,
                       bint rho_scales_cpre, uint64_t seed, uint64_t stream_offset,
                       const double *readout_times, Py_ssize_t n_read, double *rho_out,
                       double *rho_at, double *c_at) noexcept nogil:
    """One synapse from t = 0 to t_end[i]; its own random stream keeps threads independent."""
    cdef gb_rng rng
    cdef Py_ssize_t j = train_of_synapse[i]
    cdef Py_ssize_t a = pre_offsets[j], a_end = pre_offsets[j + 1]
    cdef Py_ssize_t b = post_offsets[j], b_end = post_offsets[j + 1]
    cdef Py_ssize_t k = 0
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
    gb_rng_seed(&rng, seed, stream_offset + i)
    while True:
        t_pre = pre_times[a] + D if a < a_end else inf
        t_post = post_times[b] if b < b_end else inf
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
            if rho_scales_cpre:  # spec §1.5: the jump uses ρ brought up to date here
                rho = gb_cubic_flow(rho, pending, p)
                pending = 0.0
            if stp_U > 0.0:
                x_res = gb_tm_resources(x_res, stp_U, t - t_pre_last, tau_rec)
                t_pre_last = t
            c_pre = c_pre + gb_pre_jump(Cpre, rho, rho_scales_cpre, stp_U, x_res)
            a = a + 1
        else:
            c_post = c_post + Cpost + eta * c_pre
            b = b + 1
        t_last = t
    if t_end[i] > t_last:
        rho = _step(rho, &pending, c_pre + c_post, t_end[i] - t_last, p, noisy, &rng)
    rho_out[i] = gb_cubic_flow(rho, pending, p)


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
    cdef gb_params p = _params(kernel_params)
    cdef bint noisy = p.gating != 0 and p.sigma > 0.0
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
    if n == 0:
        return rho_out if readout_times is None else (rho_out, rho_at, c_at)
    with nogil:
        for i in range(n):
            _run_synapse(i, pre_ptr, &pre_offsets[0], post_ptr, &post_offsets[0],
                         &train_of_synapse[0], &rho0[0], &t_end[0], &p, noisy, D, Cpre, Cpost,
                         eta, stp_U, tau_rec, rho_scales_cpre, seed, stream_offset, read_ptr,
                         n_read, &rho_v[0], rho_at_ptr, c_at_ptr)
    if readout_times is None:
        return rho_out
    return rho_out, rho_at, c_at


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
