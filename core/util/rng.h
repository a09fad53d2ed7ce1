/*
 * rng.h - seeded pseudo-random streams (xoshiro256**, seeded by splitmix64).
 *
 * One run seed drives everything; each purpose ("split", "search", "synth",
 * "trial:17", ...) gets its own stream so that adding draws in one place never
 * shifts the numbers another place sees. Not thread-safe per stream; streams
 * are plain values owned by their user.
 */
#ifndef TT_UTIL_RNG_H
#define TT_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct tt_rng {
    uint64_t s[4];
} tt_rng;

/* Seed a stream from the run seed and a purpose name (NULL = ""). */
void tt_rng_seed(tt_rng *rng, uint64_t seed, const char *stream);

/* Derive a 64-bit seed for a named purpose (for handing to plugins). */
uint64_t tt_rng_derive(uint64_t seed, const char *stream);

uint64_t tt_rng_u64(tt_rng *rng);
double tt_rng_uniform(tt_rng *rng);            /* [0, 1) with 53 random bits */
double tt_rng_normal(tt_rng *rng);             /* standard normal */
uint64_t tt_rng_below(tt_rng *rng, uint64_t n); /* uniform in [0, n), n > 0, unbiased */
void tt_rng_shuffle_size(tt_rng *rng, size_t *a, size_t n); /* Fisher-Yates */

#endif
