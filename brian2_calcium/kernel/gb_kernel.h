/*
 * gb_kernel.h -- exact event-driven update of the Graupner-Brunel (2012) synapse.
 *
 * One interval between two calcium events (spec section 6): calcium c decays
 * exponentially from its value just after the last event, so the interval splits into a
 * segment above theta_p (both rates act, noise 2 sigma^2/tau), a segment between
 * theta_d and theta_p (depression only, noise sigma^2/tau) and a sub-threshold segment
 * (cubic flow only, no noise).  Each linear segment is an exact Ornstein-Uhlenbeck step;
 * the cubic double-well term is applied as its exact flow, split symmetrically around
 * each OU step (Strang splitting), which makes the deterministic update second-order
 * accurate where the cubic and the linear drift act together and exact elsewhere.
 *
 * Pure C99, static inline, no globals, no allocation: normal draws are passed in by the
 * caller.  This text is included by the Cython fast path and embedded verbatim by the
 * Brian2 Function implementations (cython and cpp targets); brian2_calcium/reference.py
 * mirrors it in numpy.
 */
#ifndef GB_KERNEL_H
#define GB_KERNEL_H

#include <math.h>

/* Noise gating codes (CalciumParameters.noise_gating). */
#define GB_GATING_NONE 0 /* no noise */
#define GB_GATING_D 1    /* sigma sqrt(tau) sqrt(H[c-theta_d]) eta */
#define GB_GATING_DP 2   /* sigma sqrt(tau) sqrt(H[c-theta_d] + H[c-theta_p]) eta (default) */

typedef struct {
    double tau_ca;   /* calcium time constant (s) */
    double theta_d;  /* depression threshold */
    double theta_p;  /* potentiation threshold (> theta_d) */
    double gamma_d;  /* depression rate (units of 1/tau) */
    double gamma_p;  /* potentiation rate (units of 1/tau) */
    double sigma;    /* noise amplitude */
    double tau;      /* efficacy time constant (s) */
    double rho_star; /* unstable fixed point of the cubic */
    int bistable;    /* 1: cubic double well; 0: flat potential */
    int gating;      /* GB_GATING_* */
    /* derived by gb_params_prepare(): */
    double log_theta_d, log_theta_p;
} gb_params;

/* Fill the derived fields; call once after setting the parameters. */
static inline void gb_params_prepare(gb_params *p)
{
    p->log_theta_d = log(p->theta_d);
    p->log_theta_p = log(p->theta_p);
}

/* expm1(x), by its Taylor series where |x| is small enough for 7 terms to be exact to
 * double precision (the cubic flow's argument t/(2 tau) is ~1e-4 between events). */
static inline double gb_expm1(double x)
{
    if (fabs(x) < 1e-2)
        return x * (1.0 + x * (1.0 / 2 + x * (1.0 / 6 + x * (1.0 / 24 + x * (1.0 / 120
               + x * (1.0 / 720 + x * (1.0 / 5040)))))));
    return expm1(x);
}

/* log F(rho) = log|rho - a| - (1 - a) log|rho| - a log|1 - rho|, conserved up to a linear
 * drift a (1 - a) t / tau by the cubic flow (spec section 6.3, general rho*). */
static inline double gb_cubic_log_invariant(double rho, double a)
{
    return log(fabs(rho - a)) - (1.0 - a) * log(fabs(rho)) - a * log(fabs(1.0 - rho));
}

/* Exact flow of tau drho/dt = -rho (1 - rho) (rho* - rho) for rho* != 1/2, by bisection
 * between rho and the stable fixed point it relaxes to.  Bisection on doubles ends when
 * mid repeats lo or hi; towards 0 it may have to halve down through the subnormals (about
 * 1075 halvings from rho ~ 1), so the cap is above that: a long interval whose solution
 * underflows then ends exactly at the stable point 0 (or 1), the flow's limit. */
static inline double gb_cubic_flow_general(double rho, double t, double tau, double a)
{
    double target, lo, hi, mid;
    int i;
    if (rho == 0.0 || rho == 1.0 || rho == a)
        return rho;
    target = gb_cubic_log_invariant(rho, a) + a * (1.0 - a) * t / tau;
    lo = rho;
    hi = rho < a ? 0.0 : 1.0; /* the stable point the flow approaches */
    for (i = 0; i < 1200; i++) {
        mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi)
            break;
        if (gb_cubic_log_invariant(mid, a) < target)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Exact flow of the cubic term alone over a duration t (s). */
static inline double gb_cubic_flow(double rho, double t, const gb_params *p)
{
    double u, v, em1, w, r;
    if (!p->bistable || !(t > 0.0))
        return rho;
    if (p->rho_star != 0.5)
        return gb_cubic_flow_general(rho, t, p->tau, p->rho_star);
    /* rho* = 1/2: v = (rho - 1/2)^2 follows a logistic law with rate 1/(2 tau) and
     * capacity 1/4; valid for rho outside [0, 1] too. */
    u = rho - 0.5;
    v = u * u;
    if (v == 0.0)
        return rho;
    em1 = gb_expm1(t / (2.0 * p->tau));
    if (em1 > 1.0) {
        /* The same divided by em1, which stays finite when exp overflows (t beyond
         * ~1420 tau): em1 = inf gives w = 0 and r = 1/2 exactly, the limit 0 or 1. */
        w = 1.0 / em1;
        r = sqrt(v * (1.0 + w) / (4.0 * v + w));
    } else {
        r = sqrt(v * (em1 + 1.0) / (4.0 * v * em1 + 1.0));
    }
    return 0.5 + (u > 0.0 ? r : -r);
}

/* What the calcium does to rho over one interval, independent of rho: the plan of
 * gb_interval_plan(), applied by gb_interval_apply().  A caller whose intervals repeat
 * (periodic protocols: same c, same L) may keep a plan and apply it again. */
typedef struct {
    double t_above;    /* time above theta_d (s); L - t_above is sub-threshold */
    double t_p, t_d;   /* segment above theta_p, segment between the thresholds (s) */
    double h_p, h_d;   /* their substep lengths (s) */
    int n_p, n_d;      /* their substep counts (0: no segment) */
    double em_p, em_d; /* linear decay over a substep, minus 1 */
    double mean_p;     /* fixed point of the linear drift above theta_p */
    double sd_p, sd_d; /* noise standard deviation of each whole segment (0 without noise) */
} gb_interval;

/* Leading error of one Strang step of length t (linear rate `rate`, spec 6.4): about
 * x^2 t / tau with x = rate t / tau, times at most ~0.4 for rho within [-0.3, 1.4]. */
#define GB_SPLIT_ERROR 7e-7

/* Substeps of a supra-threshold segment of duration t with linear rate `rate`: enough for
 * the splitting error of the cubic term, x^2 t / (tau n^2) over n substeps, to stay below
 * GB_SPLIT_ERROR (far below 1e-6 in rho), and for the linear decay of each substep to stay
 * below rate t / (tau n) = 0.1. The published sets need one substep in almost every
 * segment; fast drifts and short tau get more. */
static inline int gb_substeps(double t, double rate, const gb_params *p)
{
    double x, m, m_split;
    if (!p->bistable)
        return 1;
    x = rate * t / p->tau;
    m = x / 0.1;
    m_split = x * sqrt(t / (p->tau * GB_SPLIT_ERROR));
    if (m_split > m)
        m = m_split;
    return m > 1.0 ? (m < 1e5 ? 1 + (int)m : 100001) : 1;
}

/* Plan one supra-threshold segment: substeps, their decay and the segment's noise SD
 * (variance var_scale * sigma^2 (1 - decay^2) / (2 rate), or var_scale sigma^2 t / tau
 * for rate 0). */
static inline void gb_plan_segment(double t, double rate, double var_scale, int noisy,
                                   const gb_params *p, int *n, double *h, double *em,
                                   double *sd)
{
    double em_total, var;
    *n = gb_substeps(t, rate, p);
    *h = t / *n;
    *em = expm1(-rate * *h / p->tau);
    *sd = 0.0;
    if (noisy) {
        em_total = *n == 1 ? *em : expm1(-rate * t / p->tau);
        var = p->sigma * p->sigma
              * (rate > 0.0 ? -em_total * (2.0 + em_total) / (2.0 * rate) : t / p->tau);
        *sd = sqrt(var * var_scale);
    }
}

/* Plan an interval of length L (s) that starts with calcium c (just after the last event).
 * Calcium decays monotonically: time above theta_p, then between the thresholds (spec 6.2). */
static inline void gb_interval_plan(double c, double L, const gb_params *p, gb_interval *s)
{
    int noisy = (p->gating != GB_GATING_NONE) && p->sigma > 0.0;
    double log_c, rate;
    s->t_above = s->t_p = s->t_d = 0.0;
    s->n_p = s->n_d = 0;
    if (!(c > p->theta_d)) /* sub-threshold all along: the cubic flow only */
        return;
    log_c = log(c);
    s->t_above = p->tau_ca * (log_c - p->log_theta_d);
    if (s->t_above > L)
        s->t_above = L;
    if (c > p->theta_p) {
        s->t_p = p->tau_ca * (log_c - p->log_theta_p);
        if (s->t_p > L)
            s->t_p = L;
    }
    s->t_d = s->t_above - s->t_p;
    if (s->t_p > 0.0) { /* spec 6.3: above theta_p both rates act, noise 2 sigma^2 ("dp") */
        rate = p->gamma_p + p->gamma_d;
        s->mean_p = rate > 0.0 ? p->gamma_p / rate : 0.0;
        gb_plan_segment(s->t_p, rate, p->gating == GB_GATING_DP ? 2.0 : 1.0, noisy, p,
                        &s->n_p, &s->h_p, &s->em_p, &s->sd_p);
    }
    if (s->t_d > 0.0) /* spec 6.3: between the thresholds depression only */
        gb_plan_segment(s->t_d, p->gamma_d, 1.0, noisy, p, &s->n_d, &s->h_d, &s->em_d,
                        &s->sd_d);
}

/* One planned supra-threshold segment: the linear drift tau drho/dt = -rate (rho - mean),
 * solved exactly, and the cubic flow, composed by Strang splitting on each substep; half a
 * substep of cubic flow is left in *pending for the next segment's to merge with. */
static inline double gb_apply_segment(double rho, double *pending, int n, double h,
                                      double em, double mean, const gb_params *p)
{
    int k;
    for (k = 0; k < n; k++) {
        rho = gb_cubic_flow(rho, *pending + 0.5 * h, p);
        rho += (rho - mean) * em;
        *pending = 0.5 * h;
    }
    return rho;
}

/* Apply a plan to the deferred rho (see gb_advance_rho_deferred) with the segments' normal
 * draws xi_p, xi_d (ignored for segments that do not exist). */
static inline double gb_interval_apply(double rho, double *pending, double L,
                                       const gb_interval *s, const gb_params *p, double xi_p,
                                       double xi_d)
{
    if (s->n_p) {
        rho = gb_apply_segment(rho, pending, s->n_p, s->h_p, s->em_p, s->mean_p, p);
        rho += s->sd_p * xi_p;
    }
    if (s->n_d) {
        rho = gb_apply_segment(rho, pending, s->n_d, s->h_d, s->em_d, 0.0, p);
        rho += s->sd_d * xi_d;
    }
    *pending += L - s->t_above; /* spec 6.3: sub-threshold */
    return rho;
}

/* Advance rho over an interval of length L (s) that starts with calcium c (the value just
 * after the last event), leaving the cubic flow of the interval's end in *pending.
 * rho is "deferred": the state is rho carried by *pending seconds (s) of cubic flow still
 * to apply, on entry and on return; gb_cubic_flow(rho, *pending, p) is the efficacy.
 * Flows of the cubic term compose exactly, so a caller that does not need the efficacy at
 * an event carries *pending over to the next interval: a sub-threshold interval then
 * costs nothing, and a supra-threshold one saves its closing flow.  xi_p and xi_d are
 * independent standard normal draws for the segment above theta_p and the segment between
 * the thresholds; they are ignored where that segment is empty or the noise is off, so a
 * caller may pass 0 there.  p must have been prepared with gb_params_prepare(). */
static inline double gb_advance_rho_deferred(double rho, double *pending, double c, double L,
                                             const gb_params *p, double xi_p, double xi_d)
{
    gb_interval s;
    gb_interval_plan(c, L, p, &s);
    return gb_interval_apply(rho, pending, L, &s, p, xi_p, xi_d);
}

/* Advance rho over an interval of length L (s) that starts with calcium c (the value just
 * after the last event): gb_advance_rho_deferred with nothing pending, flushed at the end. */
static inline double gb_advance_rho(double rho, double c, double L, const gb_params *p,
                                    double xi_p, double xi_d)
{
    double pending = 0.0; /* cubic time not yet applied (Strang splitting) */
    rho = gb_advance_rho_deferred(rho, &pending, c, L, p, xi_p, xi_d);
    return gb_cubic_flow(rho, pending, p);
}

/* Tsodyks-Markram depression of the presynaptic calcium (spec 1.5, Deperrois & Graupner
 * 2020): the fraction of resources available at a presynaptic calcium event, given the
 * fraction x_last available at the previous one (which released U x_last) and the time
 * `since` between the two events (s).  Pass since = INFINITY for the first event: x = 1.
 * Without depression (U <= 0) the resources stay full, whatever tau_rec (even 0). */
static inline double gb_tm_resources(double x_last, double U, double since, double tau_rec)
{
    if (!(U > 0.0))
        return 1.0;
    return 1.0 - (1.0 - (x_last - U * x_last)) * exp(-since / tau_rec);
}

/* Tsodyks-Markram facilitation (Tsodyks, Pawelzik & Markram 1998): the release fraction
 * u+ at a presynaptic calcium event, given u+ = u_last at the previous one and the time
 * `since` between them (s).  Between events u decays to 0 with tau_fac; at the event it
 * jumps to u- + U (1 - u-).  The event then releases u+ x- of the resources, so pass
 * u_last as the "U" of gb_tm_resources.  Without facilitation (tau_fac <= 0) u+ = U
 * exactly, which makes the depression-only model of gb_tm_resources. */
static inline double gb_tm_facilitation(double u_last, double U, double since, double tau_fac)
{
    double u_minus;
    if (!(tau_fac > 0.0))
        return U;
    u_minus = u_last * exp(-since / tau_fac);
    return u_minus + U * (1.0 - u_minus);
}

/* Calcium jump of a presynaptic event (spec 1.1, 1.5): Cpre, times the current efficacy
 * rho if rho_scales_cpre, times U x under short-term depression (U > 0; x from
 * gb_tm_resources at this event).  U = 0 and rho_scales_cpre = 0 give Cpre exactly. */
static inline double gb_pre_jump(double Cpre, double rho, int rho_scales_cpre, double U,
                                 double x)
{
    double a = rho_scales_cpre ? Cpre * rho : Cpre;
    return U > 0.0 ? a * U * x : a;
}

/* Set the parameters from scalars (what generated code passes), without preparing them. */
static inline void gb_params_fill(gb_params *p, double tau_ca, double theta_d, double theta_p,
                                  double gamma_d, double gamma_p, double sigma, double tau,
                                  double rho_star, int bistable, int gating)
{
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
}

/* Whether two parameter sets have the same values (the derived fields follow from them). */
static inline int gb_params_same(const gb_params *a, const gb_params *b)
{
    return a->tau_ca == b->tau_ca && a->theta_d == b->theta_d && a->theta_p == b->theta_p
           && a->gamma_d == b->gamma_d && a->gamma_p == b->gamma_p && a->sigma == b->sigma
           && a->tau == b->tau && a->rho_star == b->rho_star && a->bistable == b->bistable
           && a->gating == b->gating;
}

/* The same with every parameter as a scalar argument, for Brian2 Function calls. */
static inline double gb_advance_rho_args(double rho, double c, double L, double tau_ca,
                                         double theta_d, double theta_p, double gamma_d,
                                         double gamma_p, double sigma, double tau,
                                         double rho_star, int bistable, int gating,
                                         double xi_p, double xi_d)
{
    gb_params p;
    gb_params_fill(&p, tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star,
                   bistable, gating);
    gb_params_prepare(&p);
    return gb_advance_rho(rho, c, L, &p, xi_p, xi_d);
}

#endif /* GB_KERNEL_H */
