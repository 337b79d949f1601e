/*
 * history_walk_harness.c -- the network's plastic pathway without Brian2 around it.
 *
 * Built by bench_history_walk.py against brian2_calcium/kernel/gb_walk.h, the header the
 * event template's Brian2 Functions embed (kernel, random streams, walk). CUBA-like setting: 4000
 * neurons (3200 excitatory), 2 % connectivity, Poisson firing at 5.4 Hz with a 5 ms
 * refractory period on a 0.1 ms grid, DP parameters. Each step, every synapse of each
 * excitatory neuron that fired is caught up and transmits (E->I synapses are frozen, as
 * in the network), then the step's spikes enter the histories. Prints nanoseconds per
 * synaptic event. -DSTATIC transmits a fixed weight instead (the static network's work).
 * -DRUNTIME_PARAMS reads the model's parameters at run time (as Brian2's generated code
 * reads its shared parameters), so that the compiler cannot fold them as constants.
 * Two variants take parts of the model away to show what they cost: -DSUBTHRESHOLD
 * raises both thresholds a hundredfold, so that calcium never crosses them and a walk is
 * its bookkeeping alone (history look-ups, the event loop, the decay's exp, the argument
 * and state handling): the floor under any kernel; -DNOISELESS sets sigma = 0 (no normal
 * draws, no stream seeding, no noise amplitudes).
 * Printed: events, plastic events (the walk applies the model), wall and process CPU time.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gb_walk.h"

#define N 4000
#define NE 3200
#define SLOTS 512

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The DP model's parameters, as the walk takes them: literals, or (RUNTIME_PARAMS) numbers
 * parsed at run time, which the compiler cannot see. */
#ifdef RUNTIME_PARAMS
static double param(const char *text) { return strtod(text, NULL); }
#define P(x) param(#x)
#else
#define P(x) (x)
#endif

#ifdef SUBTHRESHOLD
#define THETA_SCALE 100.0
#else
#define THETA_SCALE 1.0
#endif
#ifdef NOISELESS
#define NOISE_SCALE 0.0
#else
#define NOISE_SCALE 1.0
#endif

static uint64_t lcg_state = 12345;
static double uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * (1.0 / 9007199254740992.0);
}

int main(int argc, char **argv)
{
    const double rate = 5.4, dt = 1e-4, refractory = 0.005;
    const double T = argc > 1 ? atof(argv[1]) : 2.0;
    const int steps = (int)(T / dt);
    int64_t n_syn = 0, k, s, tot = 0, n_events = 0, n_plastic = 0;
    double c0;
    const double tau_ca = P(0.02), theta_d = THETA_SCALE * P(1.0),
                 theta_p = THETA_SCALE * P(1.3), gamma_d = P(200.0), gamma_p = P(321.808),
                 sigma = NOISE_SCALE * P(2.8284), tau = P(150.0), rho_star = P(0.5),
                 D = P(0.0137), Cpre = P(1.0), Cpost = P(2.0), eta = P(0.0), stp_U = P(0.0),
                 tau_rec = P(0.0), tau_fac = P(0.0);
    const int bistable = (int)P(1), gating = (int)P(2), sites = (int)P(0), scales = (int)P(0);
    int i, j, st;
    int32_t *pre = malloc(sizeof(int32_t) * NE * 160), *post = malloc(sizeof(int32_t) * NE * 160);
    int64_t *first = malloc(sizeof(int64_t) * (NE + 1));
    double *last = malloc(sizeof(double) * N), check = 0.0, t0, elapsed;
    int32_t *spikes = malloc(sizeof(int32_t) * (size_t)(N * T * rate * 2 + 1000));
    int64_t *step_start = malloc(sizeof(int64_t) * (steps + 1));

    for (i = 0; i < NE; i++) { /* fixed-probability connectivity, sorted by source */
        first[i] = n_syn;
        for (j = 0; j < N; j++)
            if (uniform() < 0.02) {
                pre[n_syn] = i;
                post[n_syn] = j;
                n_syn++;
            }
    }
    first[NE] = n_syn;
    double *rho = malloc(sizeof(double) * n_syn), *c = calloc(n_syn, sizeof(double));
    double *tlast = calloc(n_syn, sizeof(double)), *ge = calloc(N, sizeof(double));
    int32_t *npre = calloc(n_syn, sizeof(int32_t)), *npost = calloc(n_syn, sizeof(int32_t));
    int32_t *frozen = malloc(sizeof(int32_t) * n_syn);
    double *recent = calloc(4 * N, sizeof(double)), *ring = calloc((size_t)N * SLOTS, sizeof(double));
    for (s = 0; s < n_syn; s++) {
        rho[s] = uniform() < 0.5 ? 0.0 : 1.0;
        frozen[s] = post[s] >= NE;
    }
    for (i = 0; i < N; i++)
        last[i] = -1.0;
    for (st = 0; st < steps; st++) { /* the spikes, drawn before the clock starts */
        step_start[st] = tot;
        for (i = 0; i < N; i++)
            if (st * dt - last[i] > refractory && uniform() < rate * dt * 1.03) {
                spikes[tot++] = i;
                last[i] = st * dt;
            }
    }
    step_start[steps] = tot;

    t0 = now();
    c0 = cpu_now();
    for (st = 0; st < steps; st++) {
        const double t = st * dt;
        for (k = step_start[st]; k < step_start[st + 1]; k++) {
            i = spikes[k];
            if (i >= NE)
                continue;
            for (s = first[i]; s < first[i + 1]; s++) {
#ifdef STATIC
                ge[post[s]] += 1.62e-3;
#else
                double r = gb_walk_args(
                    rho[s], c[s], 0.0, tlast[s], 1.0, -1e9, 0.0, npre[s], npost[s], 1 - frozen[s],
                    t, 0.0, INT32_MAX, 1.0, 0, recent, ring, SLOTS, N, i, recent, ring, SLOTS, N, post[s],
                    tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star, bistable,
                    gating, D, Cpre, Cpost, eta, stp_U, tau_rec, tau_fac, sites, scales, 7, s);
                rho[s] = gb_walk_get(0, s);
                c[s] = gb_walk_get(1, s);
                tlast[s] = gb_walk_get(3, s);
                npre[s] = (int32_t)gb_walk_get(7, s);
                npost[s] = (int32_t)gb_walk_get(8, s);
                ge[post[s]] += r;
#endif
                n_events++;
                n_plastic += !frozen[s];
            }
        }
        for (k = step_start[st]; k < step_start[st + 1]; k++)
            gb_history_record(recent, ring, SLOTS, spikes[k], t);
    }
    elapsed = now() - t0;
    c0 = cpu_now() - c0;
    for (i = 0; i < N; i++)
        check += ge[i];
    printf("%lld synapses, %lld synaptic events in %.3f s: %.1f ns per event (check %g)\n",
           (long long)n_syn, (long long)n_events, elapsed, 1e9 * elapsed / n_events, check);
    printf("plastic events %lld, wall %.6f s, cpu %.6f s\n", (long long)n_plastic, elapsed, c0);
    return 0;
}
