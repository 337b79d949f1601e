/*
 * gb_walk.h -- the order of events, and the spike-history walk of the Graupner-Brunel
 * synapse.
 *
 * Ties on the time grid (one convention for every engine and target): a presynaptic
 * calcium arrival t_pre + D and a postsynaptic spike t_post closer than GB_TIE_WINDOW are
 * simultaneous, and at simultaneous events the presynaptic calcium comes first, so that
 * the postsynaptic spike sees it (what matters for the nonlinear calcium, spec 1.5).  On a
 * time grid t_pre + D and t_post are sums and products of the step and can differ by a
 * rounding error where they mean the same step; a nanosecond is far above that error (up
 * to 1e6 s of simulated time) and far below any time step in use.  An event taken first
 * although it lies up to GB_TIE_WINDOW later leaves the other an interval of length 0.
 */
#ifndef GB_WALK_H
#define GB_WALK_H

#define GB_TIE_WINDOW 1e-9 /* s */

/* Whether the presynaptic calcium arriving at t_arrival comes before (or with) the
 * postsynaptic spike at t_post. */
static inline int gb_pre_first(double t_arrival, double t_post)
{
    return t_arrival <= t_post + GB_TIE_WINDOW;
}

#endif /* GB_WALK_H */
