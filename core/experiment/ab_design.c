/*
 * ab_design.c - what a stated design (e.g. a fully random assignment) would
 * have earned, from rows assigned with known, non-uniform propensities
 * (abtest.h): the Hajek-weighted mean outcome under the design and the
 * uplift of the assignment actually used, with percentile bootstrap
 * intervals.
 *
 * Each resample needs only four sums over the drawn rows (weighted outcome,
 * weight, outcome, count), so a resample costs one pass of random indices.
 */
#include "experiment/abtest.h"

#include <math.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/order.h"
#include "util/rng.h"

/* The q-quantile of sorted v[0..m-1], linear between order statistics. */
static double quantile(const double *v, size_t m, double q)
{
    double pos = q * (double)(m - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= m)
        return v[m - 1];
    double f = pos - (double)lo;
    return v[lo] + f * (v[lo + 1] - v[lo]);
}

tt_status tt_ab_design_value_of(size_t n, int n_arms, const int *t, const double *y,
                                const double *e, const double *pi, double alpha,
                                size_t resamples, uint64_t seed, tt_ab_design_value *out,
                                char *err, size_t errlen)
{
    if (n < 2 || resamples < 10)
        return tt_errf(err, errlen, TT_ERR_INVALID, "design value: %zu rows and %zu resamples "
                       "(needs 2 rows and 10 resamples)", n, resamples);
    double *w = malloc(sizeof *w * n);
    double *v = malloc(sizeof *v * resamples * 2);
    if (!w || !v) {
        free(w);
        free(v);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    double *u = v + resamples;
    double sw = 0, swy = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = pi[t[i]] / e[(size_t)t[i] * n + i];
        sw += w[i], swy += w[i] * y[i], sy += y[i];
    }
    (void)n_arms;
    *out = (tt_ab_design_value){.value = swy / sw, .actual = sy / (double)n,
                                .resamples = resamples};
    out->uplift = out->actual - out->value;
    tt_rng rng;
    tt_rng_seed(&rng, seed, "abtest:bootstrap");
    size_t m = 0;
    for (size_t b = 0; b < resamples; b++) {
        double bw = 0, bwy = 0, by = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)tt_rng_below(&rng, n);
            bw += w[j], bwy += w[j] * y[j], by += y[j];
        }
        /* A resample with no row of a weighted arm has no value: skip it. */
        if (bw > 0) {
            v[m] = bwy / bw;
            u[m] = by / (double)n - v[m];
            m++;
        }
    }
    if (m < 2) {
        free(w);
        free(v);
        return tt_errf(err, errlen, TT_ERR_NUMERIC, "design value: no resample had weight");
    }
    qsort(v, m, sizeof *v, tt_cmp_double);
    qsort(u, m, sizeof *u, tt_cmp_double);
    out->lo = quantile(v, m, alpha / 2), out->hi = quantile(v, m, 1 - alpha / 2);
    out->uplift_lo = quantile(u, m, alpha / 2), out->uplift_hi = quantile(u, m, 1 - alpha / 2);
    free(w);
    free(v);
    return TT_OK;
}
