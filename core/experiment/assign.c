/* assign.c - the floor and the draw of an assignment (assign.h). */
#include "experiment/assign.h"

#include <math.h>

#include "util/err.h"
#include "util/rng.h"

tt_status tt_assign_floor_check(double floor, int n_arms, char *err, size_t errlen)
{
    /* Written so that NaN fails too. */
    if (!(floor >= TT_ASSIGN_MIN_FLOOR && floor * n_arms <= 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "the floor must be at least %g and at most 1/%d (%d arms) so that every "
                       "arm keeps a probability inside (0, 1), got %g", TT_ASSIGN_MIN_FLOOR,
                       n_arms, n_arms, floor);
    return TT_OK;
}

void tt_assign_floor(size_t n, int n_arms, double floor, double *pi)
{
    const double rest = 1.0 - (double)n_arms * floor;
    for (size_t c = 0; c < n * (size_t)n_arms; c++)
        pi[c] = floor + rest * pi[c];
}

void tt_assign_draw(size_t n, int n_arms, const double *pi, uint64_t seed, int *arm)
{
    tt_rng rng;
    tt_rng_seed(&rng, seed, TT_ASSIGN_STREAM);
    for (size_t i = 0; i < n; i++) {
        const double u = tt_rng_uniform(&rng);
        double cum = 0.0;
        int pick = -1, last = 0;
        for (int k = 0; k < n_arms && pick < 0; k++) {
            const double p = pi[(size_t)k * n + i];
            if (p > 0.0)
                last = k;
            cum += p;
            if (u < cum && p > 0.0)
                pick = k;
        }
        arm[i] = pick >= 0 ? pick : last;
    }
}
