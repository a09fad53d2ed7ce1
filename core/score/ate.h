/*
 * ate.h - the average-effect figures of METRICS.md ("ate", report only).
 *
 * For treated arm k (1..K-1) over the n validation rows: mean of tau_hat_k,
 * its population standard deviation across rows, and, when the candidate
 * gives intervals, the interval of the mean taken as [mean_i lo_i, mean_i hi_i]
 * (the row intervals averaged; conservative when the rows' errors are not
 * perfectly correlated, exact when they are).
 */
#ifndef TT_SCORE_ATE_H
#define TT_SCORE_ATE_H

#include <stddef.h>

typedef struct tt_ate_summary {
    double mean, sd;
    double lo, hi; /* NaN without intervals */
} tt_ate_summary;

/* tau_hat, lo, hi: n x (K-1) column-major (lo, hi may be NULL). arm in
 * 1..K-1. All fields NaN when n == 0. */
void tt_ate_summarise(size_t n, const double *tau_hat, const double *lo, const double *hi,
                      int arm, tt_ate_summary *out);

#endif
