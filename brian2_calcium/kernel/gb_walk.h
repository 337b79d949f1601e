/*
 * gb_walk.h -- the order of events, and the spike-history walk of the Graupner-Brunel
 * synapse (NEST's scheme for STDP, applied to calcium).
 *
 * Every neuron keeps its recent spike times (gb_history_record, at each spike).  A synapse
 * is brought up to date only at its own presynaptic spike (gb_walk): because
 * c(t) = c_pre,i(t - D) + c_post,j(t) (spec 1.1), the exact update over an interval needs
 * nothing but the spikes of its two neurons in that interval, applied in time order
 * through the kernel (gb_kernel.h).  No synapse is touched at a postsynaptic spike.
 *
 * Ties on the time grid (one convention for every engine and target): a presynaptic
 * calcium arrival t_pre + D and a postsynaptic spike t_post closer than GB_TIE_WINDOW are
 * simultaneous, and at simultaneous events the presynaptic calcium comes first, so that
 * the postsynaptic spike sees it (what matters for the nonlinear calcium, spec 1.5).  On a
 * time grid t_pre + D and t_post are sums and products of the step and can differ by a
 * rounding error where they mean the same step; a nanosecond is far above that error (up
 * to 1e6 s of simulated time) and far below any time step in use.  An event taken first
 * although it lies up to GB_TIE_WINDOW later leaves the other an interval of length 0.
 *
 * Pure C99 (plus thread-local variables, see gb_walk_kept), static inline.  Included by the Cython fast path and the benchmark
 * harness, embedded as text by the Brian2 Function implementations (cython and cpp);
 * brian2_calcium/spike_history.py mirrors the walk in numpy.
 */
#ifndef GB_WALK_H
#define GB_WALK_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gb_kernel.h"
#include "gb_rng.h"
#include "gb_release.h"

#define GB_TIE_WINDOW 1e-9 /* s */

/* Whether the presynaptic calcium arriving at t_arrival comes before (or with) the
 * postsynaptic spike at t_post. */
static inline int gb_pre_first(double t_arrival, double t_post)
{
    return t_arrival <= t_post + GB_TIE_WINDOW;
}

/* Per-thread storage where threads exist (OpenMP); plain static storage otherwise, which
 * in a shared library is much cheaper to reach than thread-local storage. */
#if !defined(_OPENMP)
#define GB_THREAD_LOCAL
#elif defined(__cplusplus) && __cplusplus >= 201103L
#define GB_THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define GB_THREAD_LOCAL _Thread_local
#elif defined(_MSC_VER)
#define GB_THREAD_LOCAL __declspec(thread)
#else
#define GB_THREAD_LOCAL __thread
#endif

/* The synapse model beyond the kernel's parameters: delay, jumps and their variants. */
typedef struct {
    gb_params p;         /* prepared with gb_params_prepare */
    double D;            /* presynaptic delay (s) */
    double Cpre, Cpost;  /* calcium jumps */
    double eta;          /* nonlinear calcium: a post spike adds Cpost + eta c_pre (1.5) */
    double stp_U;        /* short-term depression: release fraction (0: none) */
    double tau_rec;      /* its recovery time (s) */
    double tau_fac;      /* facilitation time constant (s; 0: the release fraction stays U) */
    int32_t release_sites; /* stochastic release from this many sites (0: deterministic) */
    int rho_scales_cpre; /* the presynaptic jump is Cpre times rho (1.5) */
} gb_synapse_model;

/* What a synapse keeps between two walks. */
typedef struct {
    double rho;    /* efficacy at tlast */
    double c;      /* calcium just after the event at tlast */
    double cpre;   /* its presynaptic part (read by the nonlinear post jump) */
    double tlast;  /* s */
    double xres;   /* short-term depression: resources at the last presynaptic event (before
                      its release; stochastic release: the fraction of sites full after it) */
    double tpre;   /* and its time (s); far in the past before the first one */
    double ufac;   /* the fraction that event released (its u+; U without facilitation) */
    int32_t npre;  /* spikes of the presynaptic neuron applied (arrived) */
    int32_t npost; /* spikes of the postsynaptic neuron applied */
} gb_synapse_state;

/* The spike history of a group of n neurons: per neuron a 4-double block {count, newest,
 * second, third} (one cache line for the common look-ups) and a ring of its last `slots`
 * times. */
typedef struct {
    const double *recent;
    const double *ring;
    int32_t slots;
    int32_t n;
} gb_history;

/* The spike count held in a neuron's block, or -1 if it is corrupted (NaN, negative, or
 * too large for one more spike to be counted). */
static inline int32_t gb_history_count(const double *block)
{
    return block[0] >= 0.0 && block[0] < 2147483647.0 ? (int32_t)block[0] : -1;
}

/* Append the spike of neuron i at time t; returns the neuron's spike count (-1 and nothing
 * written if the count is corrupted: the walks of its synapses then give NaN). */
static inline int32_t gb_history_record(double *recent, double *ring, int32_t slots,
                                        int32_t i, double t)
{
    double *block = recent + 4 * (int64_t)i;
    int32_t n = gb_history_count(block);
    if (n < 0 || slots < 1)
        return -1;
    ring[(int64_t)i * slots + n % slots] = t;
    block[3] = block[2];
    block[2] = block[1];
    block[1] = t;
    block[0] = n + 1;
    return n + 1;
}

/* Spike k (0: the neuron's first) of a neuron with n spikes. */
static inline double gb_history_spike(const double *block, const double *ring, int32_t slots,
                                      int32_t n, int32_t k)
{
    int32_t m = n - 1 - k;
    return m < 3 ? block[1 + m] : ring[k % slots];
}

/* Random stream of one walk, keyed by (seed, synapse, time): the draws depend neither on
 * the code generation target nor on the order or thread in which synapses are processed. */
static inline uint64_t gb_walk_stream(double t, int64_t syn)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof(bits));
    return gb_splitmix64(&bits) ^ (uint64_t)syn;
}

/* Advance the deferred rho over L (gb_advance_rho_deferred), drawing the normals of a
 * noisy interval only for the segments that exist, from a stream seeded on first use. */
static inline double gb_walk_step(double rho, double *pending, double c, double L,
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

/* A walk in progress: what the synapse carries from event to event.  A walk is
 * gb_walker_start, then gb_walker_event for each event in time order (ties by
 * gb_pre_first), then gb_walker_finish.  Every engine that walks (the Brian2 getters below
 * on their spike rings, the NEST synapse on its own pending spikes and NEST's archive of
 * postsynaptic spikes) goes through these three, so the model lives here once. */
typedef struct {
    double rho, pending; /* rho deferred by `pending` seconds of sub-threshold flow */
    double c, cpre, tlast, xres, tpre, ufac;
    int noisy, seeded;
    uint64_t seed, stream;
    int64_t syn; /* keys the release draws (gb_release.h) */
    double gate; /* factor of the next presynaptic jump (voltage gating), then 1 */
    gb_rng rng;
} gb_walker;

static inline void gb_walker_start(gb_walker *w, const gb_synapse_state *s,
                                   const gb_synapse_model *m, double t, uint64_t seed,
                                   int64_t syn)
{
    w->rho = s->rho;
    w->pending = 0.0;
    w->c = s->c;
    w->cpre = s->cpre;
    w->tlast = s->tlast;
    w->xres = s->xres;
    w->tpre = s->tpre;
    w->ufac = s->ufac;
    w->noisy = m->p.gating != GB_GATING_NONE && m->p.sigma > 0.0;
    w->seeded = 0;
    w->seed = seed;
    w->syn = syn;
    w->gate = 1.0;
    w->stream = w->noisy ? gb_walk_stream(t, syn) : 0;
}

/* Apply the event at time e: the presynaptic calcium arriving (is_pre) or a postsynaptic
 * spike.  At a presynaptic arrival the short-term resources recover and release and the
 * jump may scale with rho (spec 1.5); at a postsynaptic spike the jump is Cpost + eta c_pre. */
static inline void gb_walker_event(gb_walker *w, double e, int is_pre,
                                   const gb_synapse_model *m)
{
    const gb_params *p = &m->p;
    double L = e - w->tlast, decay, jump;
    if (L < 0.0) { /* a tie taken in the other order: an empty interval */
        L = 0.0;
        e = w->tlast;
    }
    w->rho = gb_walk_step(w->rho, &w->pending, w->c, L, p, w->noisy, &w->rng, &w->seeded,
                          w->seed, w->stream);
    decay = exp(-L / p->tau_ca);
    w->c *= decay;
    w->cpre *= decay;
    if (is_pre) {
        if (m->rho_scales_cpre) { /* the jump reads the efficacy at the arrival */
            w->rho = gb_cubic_flow(w->rho, w->pending, p);
            w->pending = 0.0;
        }
        jump = w->gate * gb_pre_jump_released(
            m->Cpre, w->rho, m->rho_scales_cpre,
            gb_release_event(&w->xres, &w->ufac, &w->tpre, e, m->stp_U, m->tau_rec,
                             m->tau_fac, m->release_sites, w->seed, w->syn));
        w->gate = 1.0;
        w->c += jump;
        w->cpre += jump;
    } else {
        w->c += m->Cpost + m->eta * w->cpre;
    }
    w->tlast = e;
}

/* End the walk at t (no event after t was applied): return rho at t and store in *s the
 * state to keep (its counters npre, npost are the caller's).  Kept is the state at t where
 * that is exact: with noise (a noisy path must pass through the value transmitted) or
 * where c has fallen below theta_d by t (the sub-threshold flow composes exactly);
 * otherwise the state after the last event, so that a deterministic synapse splits
 * intervals only at events, exactly as the fast path does. */
static inline double gb_walker_finish(gb_walker *w, gb_synapse_state *s, double t,
                                      const gb_synapse_model *m)
{
    const gb_params *p = &m->p;
    /* rho stays deferred between events (no efficacy is read there); flushed at t */
    double rho_last = w->rho, pending_last = w->pending, L = t - w->tlast, rho, decay, c_t;
    if (L < 0.0)
        L = 0.0;
    rho = gb_walk_step(w->rho, &w->pending, w->c, L, p, w->noisy, &w->rng, &w->seeded,
                       w->seed, w->stream);
    rho = gb_cubic_flow(rho, w->pending, p);
    decay = exp(-L / p->tau_ca);
    c_t = w->c * decay;
    s->xres = w->xres;
    s->tpre = w->tpre;
    s->ufac = w->ufac;
    if (w->noisy || !(c_t > p->theta_d)) {
        s->rho = rho;
        s->c = c_t;
        s->cpre = w->cpre * decay;
        s->tlast = w->tlast + L;
    } else {
        s->rho = gb_cubic_flow(rho_last, pending_last, p);
        s->c = w->c;
        s->cpre = w->cpre;
        s->tlast = w->tlast;
    }
    return rho;
}

/* Bring synapse `syn` (neurons i -> j) from its state *s to time t and return rho at t.
 *
 * The events since the last walk, in time order (spec 6.2): the presynaptic calcium of
 * each new spike u of neuron i arrives at u + D (if u + D <= t), each new spike of neuron
 * j is a postsynaptic jump (if <= t); ties by gb_pre_first.  If a spike the synapse still
 * needs has left a ring, rho becomes NaN (never a silently wrong value).
 *
 * Voltage-gated presynaptic calcium: only the arrivals of the first pre_limit presynaptic
 * spikes are applied, and the jump of spike pre_limit - 1 is multiplied by `gate`.  A
 * gated synapse walks at each arrival (t = its arrival time, on the grid) with
 * pre_limit = npre + 1 and the gate read there; its other walks pass pre_limit = npre and
 * apply postsynaptic spikes only.  Ungated: pre_limit = INT32_MAX, gate = 1.
 *
 * The walk ends on any input: each turn applies one event and advances a or b, which start
 * at most `slots` behind the counts ni, nj they stop at (anything else is refused with
 * NaN, as is a neuron outside a history); a NaN spike time ends the walk of its neuron. */
static inline double gb_walk_gated(gb_synapse_state *s, double t, const gb_synapse_model *m,
                                   const gb_history *pre, int32_t i, const gb_history *post,
                                   int32_t j, uint64_t seed, int64_t syn, int32_t pre_limit,
                                   double gate, double *released)
{
    const double *bp, *bq, *hp, *hq;
    double ta, tb, rho;
    int32_t ni, nj, a = s->npre, b = s->npost;
    gb_walker w;
    int is_pre;

    if (i < 0 || i >= pre->n || j < 0 || j >= post->n || pre->slots < 1 || post->slots < 1) {
        s->rho = NAN; /* corrupted indices: no history to walk */
        return NAN;
    }
    bp = pre->recent + 4 * (int64_t)i;
    bq = post->recent + 4 * (int64_t)j;
    hp = pre->ring + (int64_t)i * pre->slots;
    hq = post->ring + (int64_t)j * post->slots;
    ni = gb_history_count(bp);
    nj = gb_history_count(bq);
    if (ni < 0 || nj < 0) {
        s->rho = NAN; /* a corrupted count (NaN, negative, too large) */
        return NAN;
    }
    if (a < 0 || b < 0 || a < ni - pre->slots || b < nj - post->slots || a > ni || b > nj) {
        s->rho = NAN; /* a needed spike has been overwritten */
        return NAN;
    }
    gb_walker_start(&w, s, m, t, seed, syn);
    for (;;) {
        ta = a < ni && a < pre_limit ? gb_history_spike(bp, hp, pre->slots, ni, a) + m->D
                                     : INFINITY;
        tb = b < nj ? gb_history_spike(bq, hq, post->slots, nj, b) : INFINITY;
        if (a == pre_limit - 1 && ta <= t + GB_TIE_WINDOW) {
            ta = ta < t ? ta : t; /* the gated arrival of this walk: at t, on the grid */
            w.gate = gate;
        }
        if (!(ta <= t))
            ta = INFINITY; /* arrives later (or NaN): the next walk takes it */
        if (!(tb <= t))
            tb = INFINITY;
        if (ta == INFINITY && tb == INFINITY)
            break;
        is_pre = gb_pre_first(ta, tb);
        gb_walker_event(&w, is_pre ? ta : tb, is_pre, m);
        if (is_pre)
            a++;
        else
            b++;
    }
    s->npre = a;
    s->npost = b;
    rho = gb_walker_finish(&w, s, t, m);
    if (released) { /* the release of the presynaptic spike at t, ahead of its arrival */
        double x = s->xres, u = s->ufac, tp = s->tpre;
        for (; a < ni; a++) /* the spikes whose calcium is still to arrive, then t's own */
            gb_release_event(&x, &u, &tp, gb_history_spike(bp, hp, pre->slots, ni, a) + m->D,
                             m->stp_U, m->tau_rec, m->tau_fac, m->release_sites, seed, syn);
        *released = gb_release_event(&x, &u, &tp, t + m->D, m->stp_U, m->tau_rec, m->tau_fac,
                                     m->release_sites, seed, syn);
    }
    return rho;
}

/* The walk of a synapse without voltage gating. */
static inline double gb_walk(gb_synapse_state *s, double t, const gb_synapse_model *m,
                             const gb_history *pre, int32_t i, const gb_history *post,
                             int32_t j, uint64_t seed, int64_t syn)
{
    return gb_walk_gated(s, t, m, pre, i, post, j, seed, syn, INT32_MAX, 1.0, NULL);
}

/* -- For code generators whose functions return one value (Brian2) -------------------- */

/* The state a walk left, kept per thread until the generated code has read it back (right
 * after the walk, for the same synapse): nothing is shared between threads, so Brian2's
 * cpp_standalone may run the walk's pathway with OpenMP. */
typedef struct {
    gb_synapse_state s;
    int64_t syn;
    double released; /* the release of the presynaptic spike at the walk's time (ahead) */
} gb_walk_result;

static GB_THREAD_LOCAL gb_walk_result gb_walk_kept = {{0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0, 0},
                                                        -1, 1.0};

/* The prepared model of the last call on this thread: two logarithms saved per walk. */
static GB_THREAD_LOCAL gb_synapse_model gb_walk_model_cache;
static GB_THREAD_LOCAL int gb_walk_model_ready = 0;

/* Walk with every quantity a scalar argument (what the Brian2 Function calls); keeps the
 * new state in gb_walk_kept for gb_walk_get().  A synapse that is not plastic, or was
 * updated less than min_age ago (a sweep's way of leaving recent synapses alone), keeps
 * its state and returns its rho.  i, j: the neurons in the histories (pre_n, post_n
 * neurons). */
static inline double gb_walk_args(
    double rho, double c, double cpre, double tlast, double xres, double tpre, double ufac,
    int32_t npre, int32_t npost, int plastic, double t, double min_age, int32_t pre_limit,
    double gate, int ahead, const double *pre_recent,
    const double *pre_ring, int32_t pre_slots, int32_t pre_n, int32_t i,
    const double *post_recent, const double *post_ring, int32_t post_slots, int32_t post_n,
    int32_t j, double tau_ca, double theta_d,
    double theta_p, double gamma_d, double gamma_p, double sigma, double tau,
    double rho_star, int bistable, int gating, double D, double Cpre, double Cpost,
    double eta, double stp_U, double tau_rec, double tau_fac, int32_t release_sites,
    int rho_scales_cpre, int64_t seed, int64_t syn)
{
    gb_synapse_model *m = &gb_walk_model_cache;
    gb_params q;
    gb_history hp = {pre_recent, pre_ring, pre_slots, pre_n};
    gb_history hq = {post_recent, post_ring, post_slots, post_n};
    gb_synapse_state *s = &gb_walk_kept.s;
    s->rho = rho;
    s->c = c;
    s->cpre = cpre;
    s->tlast = tlast;
    s->xres = xres;
    s->tpre = tpre;
    s->ufac = ufac;
    s->npre = npre;
    s->npost = npost;
    gb_walk_kept.syn = syn;
    gb_walk_kept.released = 1.0;
    if (!plastic || t - tlast < min_age)
        return rho;
    gb_params_fill(&q, tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star,
                   bistable, gating);
    if (!gb_walk_model_ready || !gb_params_same(&q, &m->p)) {
        gb_params_prepare(&q);
        m->p = q;
        gb_walk_model_ready = 1;
    }
    m->D = D;
    m->Cpre = Cpre;
    m->Cpost = Cpost;
    m->eta = eta;
    m->stp_U = stp_U;
    m->tau_rec = tau_rec;
    m->tau_fac = tau_fac;
    m->release_sites = release_sites;
    m->rho_scales_cpre = rho_scales_cpre;
    return gb_walk_gated(s, t, m, &hp, i, &hq, j, (uint64_t)seed, syn, pre_limit, gate,
                         ahead ? &gb_walk_kept.released : NULL);
}

/* Field k of the state the last walk on this thread left for synapse syn (0 rho, 1 c,
 * 2 cpre, 3 tlast, 4 xres, 5 tpre, 6 ufac, 7 npre, 8 npost; 9 the release of the
 * presynaptic spike at its time, if asked for); NaN if that walk was another synapse's (a
 * code generator that reordered the calls). */
static inline double gb_walk_get(int k, int64_t syn)
{
    const gb_synapse_state *s = &gb_walk_kept.s;
    if (gb_walk_kept.syn != syn)
        return NAN;
    switch (k) {
    case 0: return s->rho;
    case 1: return s->c;
    case 2: return s->cpre;
    case 3: return s->tlast;
    case 4: return s->xres;
    case 5: return s->tpre;
    case 6: return s->ufac;
    case 7: return (double)s->npre;
    case 9: return gb_walk_kept.released;
    default: return (double)s->npost;
    }
}

/* Ask for the history block of the postsynaptic neuron of synapse syn + 2 (synapses of one
 * presynaptic neuron are processed in order): its load is the one cache miss a walk cannot
 * avoid, and the kernel's arithmetic hides it.  post_of has two entries beyond the last
 * synapse. */
static inline void gb_walk_prefetch(const double *post_recent, const int32_t *post_of,
                                    int64_t syn)
{
#if defined(__GNUC__)
    __builtin_prefetch(post_recent + 4 * (int64_t)post_of[syn + 2]);
#else
    (void)post_recent;
    (void)post_of;
    (void)syn;
#endif
}

#endif /* GB_WALK_H */
