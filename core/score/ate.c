/* ate.c - mean, spread and interval of a candidate's effects (ate.h). */
#include "score/ate.h"

#include <math.h>

static double mean_of(size_t n, const double *v)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

void tt_ate_summarise(size_t n, const double *tau_hat, const double *lo, const double *hi,
                      int arm, tt_ate_summary *out)
{
    out->mean = out->sd = out->lo = out->hi = NAN;
    if (n == 0 || arm < 1)
        return;
    const size_t off = (size_t)(arm - 1) * n;
    const double *v = tau_hat + off;
    const double m = mean_of(n, v);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) /* two passes: no cancellation of large means */
        ss += (v[i] - m) * (v[i] - m);
    out->mean = m;
    out->sd = sqrt(ss / (double)n);
    if (lo && hi) {
        out->lo = mean_of(n, lo + off);
        out->hi = mean_of(n, hi + off);
    }
}
