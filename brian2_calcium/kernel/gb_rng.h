/*
 * gb_rng.h -- counter-seeded random streams for the fast path.
 *
 * xoshiro256++ (Blackman & Vigna) seeded through splitmix64 from (seed, stream), so that
 * every synapse has its own stream: results do not depend on how synapses are batched,
 * ordered or threaded.  Normal draws by the Marsaglia polar method.
 */
#ifndef GB_RNG_H
#define GB_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
    double spare;
    int has_spare;
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
    r->has_spare = 0;
    r->spare = 0.0;
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

/* Uniform on (-1, 1). */
static inline double gb_rng_symmetric(gb_rng *r)
{
    return (double)(gb_rng_next(r) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static inline double gb_rng_normal(gb_rng *r)
{
    double u, v, s, f;
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    do {
        u = gb_rng_symmetric(r);
        v = gb_rng_symmetric(r);
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

#endif /* GB_RNG_H */
