/* policy_terms.c - per-row terms of the IPW policy scores (score_terms.h):
 * erupt and erupt_net under the greedy policy, policy_value, policy_gain and
 * policy_gain_best.
 *
 * Each is built from Hajek ratios R = sum w_i v_i / sum w_i and row means.
 * By the delta method a Hajek ratio's row terms are R + w_i (v_i - R) / mean(w)
 * (the influence terms sum to 0, so the terms average to R); a row mean's
 * terms are its rows. The arm values that policy_gain and policy_gain_best
 * subtract are shared by every candidate: their terms are included, so the
 * objective's s.e. counts their noise, and they cancel in paired
 * differences, as they should. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score/policy.h"
#include "score/score_terms_impl.h"
#include "util/mem.h"

static double clipped(double e, double c)
{
    return fmin(fmax(e, c), 1.0 - c);
}

/* out[i] += sign * (R + w_i (v_i - R) / mean(w)); 0 when sum w = 0. */
static int add_hajek(size_t n, const double *w, const double *v, double sign, double *out)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += w[i] * v[i];
        den += w[i];
    }
    if (!(den > 0.0))
        return 0;
    const double r = num / den, mean_w = den / (double)n;
    for (size_t i = 0; i < n; i++)
        out[i] += sign * (r + w[i] * (v[i] - r) / mean_w);
    return 1;
}

/* The arm value of giving every row arm k (tt_arm_value), subtracted. */
static int sub_arm_value(const tt_score_context *c, int k, double *w, double *out)
{
    for (size_t i = 0; i < c->n; i++)
        w[i] = c->t[i] == k ? 1.0 / clipped(c->prop[(size_t)k * c->n + i], c->clip) : 0.0;
    return add_hajek(c->n, w, c->y, -1.0, out);
}

int tt_policy_terms(const tt_score_context *c, const char *metric, const double *tau,
                    double *terms)
{
    const size_t n = c->n;
    const int K = c->n_arms;
    const int net = strcmp(metric, "erupt") != 0; /* all but erupt subtract the cost */
    double *pi = tt_malloc_array(n * (size_t)K, sizeof *pi);
    double *w = tt_malloc_array(n + 1, sizeof *w);
    int ok = pi && w;
    if (ok) {
        tt_policy_greedy(n, K, tau, c->cost, pi);
        for (size_t i = 0; i < n; i++) {
            const size_t at = (size_t)c->t[i] * n + i;
            w[i] = pi[at] / clipped(c->prop[at], c->clip);
            terms[i] = 0.0;
        }
        ok = add_hajek(n, w, c->y, 1.0, terms);
    }
    for (size_t i = 0; ok && net && i < n; i++)
        for (int k = 1; k < K; k++)
            terms[i] -= pi[(size_t)k * n + i] * c->cost[k];
    if (ok && strcmp(metric, "policy_gain") == 0) {
        ok = sub_arm_value(c, 0, w, terms);
    } else if (ok && strcmp(metric, "policy_gain_best") == 0) {
        /* The best single treated arm, as scores.c picks it. */
        int best = -1;
        for (int a = 1; a < K; a++)
            if (isfinite(c->arm_value[a]) &&
                (best < 0 || c->arm_value[a] - c->cost[a] > c->arm_value[best] - c->cost[best]))
                best = a;
        ok = best > 0 && sub_arm_value(c, best, w, terms);
        for (size_t i = 0; ok && i < n; i++)
            terms[i] += c->cost[best];
    }
    free(pi);
    free(w);
    return ok;
}
