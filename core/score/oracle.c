/* oracle.c - ground-truth figures against known true effects (oracle.h). */
#include "score/oracle.h"

#include <math.h>

#include "score/policy.h"

/* Both figures are undefined without rows or treated arms; NaN says so
 * rather than a number that could be mistaken for a perfect score. */
double tt_oracle_pehe(size_t n, int n_arms, const double *tau_hat, const double *tau)
{
    if (n == 0 || n_arms < 2 || !tau_hat || !tau)
        return NAN;
    const size_t m = n * (size_t)(n_arms - 1);
    double ss = 0.0;
    for (size_t i = 0; i < m; i++) {
        const double e = tau_hat[i] - tau[i];
        ss += e * e;
    }
    return sqrt(ss / (double)m);
}

double tt_oracle_ate_error(size_t n, int n_arms, const double *tau_hat, const double *tau)
{
    if (n == 0 || n_arms < 2 || !tau_hat || !tau)
        return NAN;
    double total = 0.0;
    for (int k = 1; k < n_arms; k++) {
        const double *h = tau_hat + (size_t)(k - 1) * n, *g = tau + (size_t)(k - 1) * n;
        /* The mean of differences equals the difference of means, without
         * cancelling two large means against each other. */
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += h[i] - g[i];
        total += fabs(s / (double)n);
    }
    return total / (double)(n_arms - 1);
}

double tt_oracle_cate_corr(size_t n, int n_arms, const double *tau_hat, const double *tau)
{
    if (n == 0 || n_arms < 2 || !tau_hat || !tau)
        return NAN;
    double total = 0.0;
    for (int k = 1; k < n_arms; k++) {
        const double *h = tau_hat + (size_t)(k - 1) * n, *g = tau + (size_t)(k - 1) * n;
        double mh = 0.0, mg = 0.0;
        for (size_t i = 0; i < n; i++) {
            mh += h[i];
            mg += g[i];
        }
        mh /= (double)n;
        mg /= (double)n;
        double shg = 0.0, shh = 0.0, sgg = 0.0;
        for (size_t i = 0; i < n; i++) {
            shg += (h[i] - mh) * (g[i] - mg);
            shh += (h[i] - mh) * (h[i] - mh);
            sgg += (g[i] - mg) * (g[i] - mg);
        }
        /* A constant effect has no ranking to correlate: undefined, not 0. */
        if (!(shh > 0.0 && sgg > 0.0))
            return NAN;
        total += shg / sqrt(shh * sgg);
    }
    return total / (double)(n_arms - 1);
}

double tt_oracle_policy_true(size_t n, int n_arms, const double *tau_hat, const double *tau,
                             const double *cost)
{
    if (n == 0 || n_arms < 2 || !tau_hat || !tau)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const int best = tt_policy_greedy_arm(n, n_arms, tau_hat, cost, i);
        if (best > 0)
            s += tau[(size_t)(best - 1) * n + i] - (cost ? cost[best] : 0.0);
    }
    return s / (double)n;
}
