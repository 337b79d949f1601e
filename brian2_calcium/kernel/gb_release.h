/*
 * gb_release.h -- the presynaptic release that sets the calcium jump of a presynaptic event
 * (spec 1.5 and docs/variants.rst): deterministic Tsodyks-Markram resources (gb_tm_resources,
 * gb_tm_facilitation of gb_kernel.h) or stochastic release from n sites.
 *
 * Stochastic release (the stochastic Tsodyks-Markram model: Vere-Jones 1966, Fuhrmann et al.
 * 2002, as in Graupner's later code with Nvesicles): n release sites, each full or empty.
 * An empty site refills with rate 1/tau_rec, so over an interval `since` each empty site
 * is full again with probability 1 - exp(-since/tau_rec); at a presynaptic calcium event
 * each full site releases with probability u (U, or u+ of facilitation), and the calcium
 * jump is Cpre times the fraction of sites that released.  Both binomials are drawn site by
 * site from a stream keyed by (seed, synapse, event time in nanoseconds): the draws of an
 * event do not depend on the engine, the order in which synapses are processed, the thread
 * or the time of the walk that applies it; a time rounded to the nanosecond is the same
 * event on every engine (GB_TIE_WINDOW is 1 ns too).
 *
 * Pure C99, static inline; needs gb_kernel.h and gb_rng.h before it.
 */
#ifndef GB_RELEASE_H
#define GB_RELEASE_H

#include <math.h>
#include <stdint.h>

/* Domain of the release streams (distinct from the fast path's train domains 1-3). */
#define GB_RELEASE_DOMAIN 0x52454C45ULL /* "RELE" */

/* Largest number of release sites (each event draws up to twice this many uniforms). */
#define GB_MAX_RELEASE_SITES 100000

/* Stochastic release at the event at time e (s) of synapse `syn`: *full sites were full
 * just after the previous event, `since` (s) earlier (INFINITY: none, all full).  Empty
 * sites refill, then each full one releases with probability u; returns how many released
 * and leaves in *full the sites still full. */
static inline int32_t gb_release_sites(int32_t *full, int32_t sites, double u, double since,
                                       double tau_rec, uint64_t seed, int64_t syn, double e)
{
    gb_rng r;
    int32_t k, f = *full, released = 0;
    const double refill = since == INFINITY ? 1.0 : -expm1(-since / tau_rec);
    gb_rng_seed_keyed(&r, seed, GB_RELEASE_DOMAIN, (uint64_t)syn, (uint64_t)llround(e * 1e9));
    if (f < 0)
        f = 0;
    if (f > sites)
        f = sites;
    for (k = f; k < sites; k++)
        f += gb_rng_uniform(&r) < refill;
    for (k = 0; k < f; k++)
        released += gb_rng_uniform(&r) < u;
    *full = f - released;
    return released;
}

/* The release of a presynaptic calcium event at time e (s): brings the resources *x and the
 * release fraction *u (u+ of the previous event) to this event at time e, sets *tpre = e,
 * and returns the fraction of the resources released, which scales the calcium jump
 * (gb_pre_jump_released).  Without short-term plasticity (U = 0) it is 1.  Deterministic
 * (sites = 0): *x is the fraction x- available before this event's release (the
 * Tsodyks-Markram recursion), and u+ x- is released.  Stochastic (sites > 0): *x is the
 * fraction of sites full after the event's release, and (released sites)/sites is
 * returned. */
static inline double gb_release_event(double *x, double *u, double *tpre, double e, double U,
                                      double tau_rec, double tau_fac, int32_t sites,
                                      uint64_t seed, int64_t syn)
{
    const double since = e - *tpre;
    double released;
    if (!(U > 0.0))
        return 1.0;
    if (sites > 0) {
        int32_t full = (int32_t)lround(*x * sites), n;
        *u = gb_tm_facilitation(*u, U, since, tau_fac);
        n = gb_release_sites(&full, sites, *u, since, tau_rec, seed, syn, e);
        *x = (double)full / sites;
        released = (double)n / sites;
    } else {
        *x = gb_tm_resources(*x, *u, since, tau_rec);
        *u = gb_tm_facilitation(*u, U, since, tau_fac);
        released = *u * *x;
    }
    *tpre = e;
    return released;
}

/* Calcium jump of a presynaptic event that released `released` (gb_release_event): Cpre
 * times it, times rho if rho_scales_cpre. */
static inline double gb_pre_jump_released(double Cpre, double rho, int rho_scales_cpre,
                                          double released)
{
    return (rho_scales_cpre ? Cpre * rho : Cpre) * released;
}

/* For code generators whose functions return one value (Brian2's clock template): the
 * fraction of the sites that release at the event at e of synapse syn, and the fraction
 * left full after it (x_full: full after the previous event, `since` before).  The stream
 * is keyed by the event, so the two calls draw the same numbers: together they are one
 * gb_release_sites. */
static inline double gb_release_fraction(double x_full, double u, double since, double tau_rec,
                                         int sites, int seed, double e, int64_t syn)
{
    int32_t full = (int32_t)lround(x_full * sites);
    if (sites < 1)
        return 0.0;
    return (double)gb_release_sites(&full, sites, u, since, tau_rec, (uint64_t)(int64_t)seed,
                                    syn, e) / sites;
}

static inline double gb_release_left(double x_full, double u, double since, double tau_rec,
                                     int sites, int seed, double e, int64_t syn)
{
    int32_t full = (int32_t)lround(x_full * sites);
    if (sites < 1)
        return 1.0;
    gb_release_sites(&full, sites, u, since, tau_rec, (uint64_t)(int64_t)seed, syn, e);
    return (double)full / sites;
}

#endif /* GB_RELEASE_H */
