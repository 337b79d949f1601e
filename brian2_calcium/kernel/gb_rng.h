/*
 * gb_rng.h -- counter-seeded random streams for the fast path.
 *
 * xoshiro256++ (Blackman & Vigna) seeded through splitmix64 from (seed, stream), so that
 * every synapse has its own stream: results do not depend on how synapses are batched,
 * ordered or threaded.  Normal draws by the ziggurat method (Marsaglia & Tsang 2000): one
 * 64-bit draw, a multiplication and a table look-up for 99 % of them.
 */
#ifndef GB_RNG_H
#define GB_RNG_H

#include <math.h>
#include <stdint.h>

#include "gb_ziggurat.h"

typedef struct {
    uint64_t s[4];
} gb_rng;

static inline uint64_t gb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void gb_rng_seed(gb_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = gb_splitmix64(&seed) ^ (stream * 0xD1B54A32D192ED03ULL);
    int i;
    for (i = 0; i < 4; i++)
        r->s[i] = gb_splitmix64(&x);
}

static inline uint64_t gb_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t gb_rng_next(gb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = gb_rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = gb_rotl(s[3], 45);
    return result;
}

/* Uniform on (0, 1]: safe to take the logarithm of. */
static inline double gb_rng_open01(gb_rng *r)
{
    return (double)((gb_rng_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* Standard normal by the ziggurat of gb_ziggurat.h: bits 0-7 pick a layer, bit 8 the sign,
 * bits 11-63 the position in the layer; points inside the next layer's edge are accepted
 * at once, the base layer's overflow samples the tail beyond r, the rest is a wedge test. */
static inline double gb_rng_normal(gb_rng *r)
{
    for (;;) {
        uint64_t bits = gb_rng_next(r);
        int i = (int)(bits & 0xff);
        double sign = (bits & 0x100) ? -1.0 : 1.0;
        double u = (double)(bits >> 11) * (1.0 / 9007199254740992.0);
        double x = u * gb_zig_w[i];
        if (u < gb_zig_k[i])
            return sign * x;
        if (i == 0) { /* the tail beyond r (Marsaglia 1964) */
            double a, b;
            do {
                a = -log(gb_rng_open01(r)) / GB_ZIG_R;
                b = -log(gb_rng_open01(r));
            } while (b + b < a * a);
            return sign * (GB_ZIG_R + a);
        }
        if (gb_zig_f[i] + (1.0 - gb_rng_open01(r)) * (gb_zig_f[i + 1] - gb_zig_f[i])
            < exp(-0.5 * x * x))
            return sign * x;
    }
}

/* Uniform on [0, 1) with 53 random bits (numpy's Generator.random convention). */
static inline double gb_rng_uniform(gb_rng *r)
{
    return (double)(gb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard exponential (mean 1) by inversion: -log of a uniform on (0, 1]. */
static inline double gb_rng_exponential(gb_rng *r)
{
    return -log(gb_rng_open01(r));
}

/* A stream keyed by several integers (seed, a domain tag, a condition, a train): each key
 * passes through splitmix64 in turn, so streams of different keys are unrelated and a
 * stream does not depend on how many other conditions or trains exist.  Used for spike
 * trains drawn inside the compiled loop; the noise streams keep gb_rng_seed. */
static inline void gb_rng_seed_keyed(gb_rng *r, uint64_t seed, uint64_t domain,
                                     uint64_t condition, uint64_t train)
{
    uint64_t x = seed;
    uint64_t h = gb_splitmix64(&x);
    int i;
    x = h ^ domain;
    h = gb_splitmix64(&x);
    x = h ^ condition;
    h = gb_splitmix64(&x);
    x = h ^ train;
    for (i = 0; i < 4; i++)
        r->s[i] = gb_splitmix64(&x);
}

#endif /* GB_RNG_H */
