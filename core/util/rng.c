/* rng.c - xoshiro256** streams seeded through splitmix64. */
#include "util/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* FNV-1a of the stream name, so different purposes get unrelated seeds. */
static uint64_t hash_name(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t tt_rng_derive(uint64_t seed, const char *stream)
{
    uint64_t state = seed ^ hash_name(stream);
    splitmix64(&state);
    return splitmix64(&state);
}

void tt_rng_seed(tt_rng *rng, uint64_t seed, const char *stream)
{
    uint64_t state = tt_rng_derive(seed, stream);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t tt_rng_u64(tt_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double tt_rng_uniform(tt_rng *rng)
{
    return (double)(tt_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double tt_rng_normal(tt_rng *rng)
{
    /* Box-Muller without caching the second value: streams stay simple to
     * reason about (one call, two uniforms). */
    double u1;
    do {
        u1 = tt_rng_uniform(rng);
    } while (u1 <= 0.0);
    double u2 = tt_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t tt_rng_below(tt_rng *rng, uint64_t n)
{
    /* Rejection of the short top range keeps the draw unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = tt_rng_u64(rng);
    } while (r >= limit);
    return r % n;
}

void tt_rng_shuffle_size(tt_rng *rng, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tt_rng_below(rng, i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}
