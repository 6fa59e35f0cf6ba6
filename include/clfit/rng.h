/* clfit's own PRNG: SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014). Integer-only, so it gives the same numbers on every platform
 * and compiler; used for weight initialisation, shuffling and test inputs. */
#ifndef CLFIT_RNG_H
#define CLFIT_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
} clfit_rng;

static inline void clfit_rng_seed(clfit_rng *r, uint64_t seed) { r->state = seed; }

static inline uint64_t clfit_rng_next(clfit_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits: exactly representable as a float. */
static inline float clfit_rng_uniform(clfit_rng *r)
{
    return (float)(clfit_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling). */
static inline uint32_t clfit_rng_below(clfit_rng *r, uint32_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = clfit_rng_next(r); while (x >= limit);
    return (uint32_t)(x % n);
}

/* Fisher-Yates shuffle of a[0..n). */
static inline void clfit_rng_shuffle(clfit_rng *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)clfit_rng_below(r, (uint32_t)i + 1);
        int t = a[i]; a[i] = a[j]; a[j] = t;
    }
}

#endif
