/* policy.c - greedy and Thompson policies and their IPW values (policy.h). */
#include "score/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/rng.h"

static double clipped(double e, double clip)
{
    return e < clip ? clip : e > 1.0 - clip ? 1.0 - clip : e;
}

/* Net effect of arm k at row i: tau_hat_k - cost_k, with arm 0 at 0. */
static double net(size_t n, const double *tau_hat, const double *cost, int k, size_t i)
{
    if (k == 0)
        return 0.0;
    return tau_hat[(size_t)(k - 1) * n + i] - (cost ? cost[k] : 0.0);
}

int tt_policy_greedy_arm(size_t n, int n_arms, const double *tau_hat, const double *cost,
                         size_t i)
{
    int best = 0;
    double best_v = 0.0;
    for (int k = 1; k < n_arms; k++) {
        const double v = net(n, tau_hat, cost, k, i);
        if (v > best_v) { /* strict: ties stay with the lower arm */
            best = k;
            best_v = v;
        }
    }
    return best;
}

void tt_policy_greedy(size_t n, int n_arms, const double *tau_hat, const double *cost,
                      double *pi)
{
    memset(pi, 0, n * (size_t)n_arms * sizeof *pi);
    for (size_t i = 0; i < n; i++)
        pi[(size_t)tt_policy_greedy_arm(n, n_arms, tau_hat, cost, i) * n + i] = 1.0;
}

static double std_normal_cdf(double z)
{
    return 0.5 * erfc(-z / M_SQRT2);
}

/* Two independent standard normals from one Box-Muller step: the sampler
 * is the cost of Monte-Carlo Thompson, and using both halves of each step
 * halves its log/sqrt/sincos work. The draw sequence is still a pure
 * function of the seed. */
static void normal_pair(tt_rng *rng, double *a, double *b)
{
    double u1;
    do {
        u1 = tt_rng_uniform(rng);
    } while (u1 <= 0.0);
    const double u2 = tt_rng_uniform(rng);
    const double rad = sqrt(-2.0 * log(u1));
    double sn, cs;
    sincos(2.0 * M_PI * u2, &sn, &cs);
    *a = rad * cs;
    *b = rad * sn;
}

tt_status tt_policy_thompson(size_t n, int n_arms, const double *tau_hat, const double *lo,
                             const double *hi, const double *pooled_s, const double *cost,
                             int draws, uint64_t seed, double *pi, char *err, size_t errlen)
{
    if (draws < 1)
        return tt_errf(err, errlen, TT_ERR_INVALID, "thompson: draws must be >= 1, got %d",
                       draws);
    if (!lo && !pooled_s)
        return tt_errf(err, errlen, TT_ERR_INVALID, "thompson: neither intervals nor pooled s");
    const size_t K = (size_t)n_arms;
    /* Standard errors first, checked once, so the sampling loop is clean. */
    double *s = malloc(n * (K - 1) * sizeof *s + 1);
    if (!s)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "thompson: out of memory");
    for (size_t k = 1; k < K; k++)
        for (size_t i = 0; i < n; i++) {
            const size_t at = (k - 1) * n + i;
            const double v = lo ? (hi[at] - lo[at]) / (2.0 * TT_Z975) : pooled_s[k - 1];
            if (!isfinite(v) || v < 0.0) {
                free(s);
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "thompson: interval of arm %zu at row %zu gives sd %g", k, i, v);
            }
            s[at] = v;
        }
    if (K == 2) {
        for (size_t i = 0; i < n; i++) {
            const double mu = net(n, tau_hat, cost, 1, i);
            const double p1 = s[i] > 0.0 ? std_normal_cdf(mu / s[i]) : (mu > 0.0 ? 1.0 : 0.0);
            pi[n + i] = p1;
            pi[i] = 1.0 - p1;
        }
        free(s);
        return TT_OK;
    }
    memset(pi, 0, n * K * sizeof *pi);
    tt_rng rng;
    tt_rng_seed(&rng, seed, "score:thompson");
    const double inc = 1.0 / (double)draws;
    double spare = 0.0;
    int have_spare = 0;
    for (size_t i = 0; i < n; i++) {
        for (int r = 0; r < draws; r++) {
            size_t best = 0;
            double best_v = 0.0;
            for (size_t k = 1; k < K; k++) {
                const size_t at = (k - 1) * n + i;
                double z;
                if (have_spare) {
                    z = spare;
                } else {
                    normal_pair(&rng, &z, &spare);
                }
                have_spare = !have_spare;
                const double v = net(n, tau_hat, cost, (int)k, i) + s[at] * z;
                if (v > best_v) {
                    best = k;
                    best_v = v;
                }
            }
            pi[best * n + i] += inc;
        }
    }
    free(s);
    return TT_OK;
}

double tt_erupt(size_t n, int n_arms, const int *t, const double *y, const double *prop,
                double clip, const double *pi)
{
    (void)n_arms;
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        const size_t at = (size_t)t[i] * n + i;
        const double w = pi[at] / clipped(prop[at], clip);
        num += w * y[i];
        den += w;
    }
    return den > 0.0 ? num / den : NAN;
}

double tt_policy_mean_cost(size_t n, int n_arms, const double *pi, const double *cost)
{
    if (!cost || n == 0)
        return 0.0;
    double s = 0.0;
    for (int k = 1; k < n_arms; k++)
        for (size_t i = 0; i < n; i++)
            s += pi[(size_t)k * n + i] * cost[k];
    return s / (double)n;
}

void tt_policy_shares(size_t n, int n_arms, const double *pi, double *shares)
{
    for (int k = 0; k < n_arms; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += pi[(size_t)k * n + i];
        shares[k] = n ? s / (double)n : NAN;
    }
}

double tt_arm_value(size_t n, const int *t, const double *y, const double *prop, double clip,
                    int k)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++)
        if (t[i] == k) {
            const double w = 1.0 / clipped(prop[(size_t)k * n + i], clip);
            num += w * y[i];
            den += w;
        }
    return den > 0.0 ? num / den : NAN;
}

double tt_norm_erupt(size_t n, const int *t, const double *y, const double *prop, double clip,
                     const double *tau_hat)
{
    const double ate = tt_arm_value(n, t, y, prop, clip, 1) - tt_arm_value(n, t, y, prop, clip, 0);
    if (!isfinite(ate) || n == 0)
        return NAN;
    /* ERUPT of the 0/1 policy, without materialising it. */
    double num = 0.0, den = 0.0, treated = 0.0;
    for (size_t i = 0; i < n; i++) {
        const int a = tau_hat[i] > ate;
        treated += a;
        if (t[i] == a) {
            const double w = 1.0 / clipped(prop[(size_t)a * n + i], clip);
            num += w * y[i];
            den += w;
        }
    }
    if (!(den > 0.0))
        return NAN;
    return num / den - ate * treated / (double)n;
}
