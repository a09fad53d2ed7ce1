/* score_terms.c - per-row terms of the objective (score_terms.h). */
#include "score/score_terms.h"

#include <math.h>
#include <string.h>

#include "score/rscore.h"
#include "score/score_terms_impl.h"

/* Scores built from Hajek ratios and row means (policy_terms.c). erupt and
 * erupt_net only under the greedy policy: Thompson's depends on the
 * candidate's intervals, which the terms do not see. */
static const char *const policy_scores[] = {"erupt", "erupt_net", "policy_value",
                                            "policy_gain", "policy_gain_best", NULL};

static int is_policy(const char *metric)
{
    for (size_t i = 0; policy_scores[i]; i++)
        if (strcmp(metric, policy_scores[i]) == 0)
            return 1;
    return 0;
}

const char *tt_score_terms_missing(const tt_score_context *ctx, const char *metric)
{
    if (is_policy(metric) && strncmp(metric, "erupt", 5) == 0 && ctx &&
        ctx->erupt_policy != TT_ERUPT_GREEDY)
        return "no standard error for erupt under the Thompson policy";
    if (strcmp(metric, "dr_mse") == 0 || strcmp(metric, "r_score") == 0 ||
        strcmp(metric, "iv_dr_mse") == 0 || is_policy(metric))
        return NULL;
    if (strstr(metric, "energy"))
        return "no standard error for energy scores (a pair sum, not a row mean)";
    return "no standard error for this metric (dr_mse, iv_dr_mse, r_score, erupt, erupt_net, "
           "policy_value, policy_gain and policy_gain_best have per-row terms)";
}

size_t tt_score_context_rows(const tt_score_context *ctx)
{
    return ctx->n;
}

int tt_score_terms(const tt_score_context *ctx, const char *metric, const double *tau_hat,
                   double *terms)
{
    if (tt_score_terms_missing(ctx, metric))
        return 0;
    if (is_policy(metric))
        return tt_policy_terms(ctx, metric, tau_hat, terms);
    if (!ctx->has_nu)
        return 0;
    if (strcmp(metric, "dr_mse") == 0)
        return tt_dr_mse_terms(&ctx->nu, ctx->t, ctx->y, tau_hat, ctx->clip, terms);
    if (strcmp(metric, "iv_dr_mse") == 0)
        return tt_iv_dr_mse_terms(&ctx->nu, ctx->t, ctx->y, tau_hat, terms);
    return tt_r_score_terms(&ctx->nu, ctx->t, ctx->y, tau_hat, terms);
}

/* Two passes (mean, then squared deviations): the terms of near-tied trials
 * differ in late digits, which a one-pass sum of squares would lose. */
static void mean_sd(const double *a, const double *b, size_t n, double *mean, double *sd)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m += a[i] - (b ? b[i] : 0.0);
    m /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = a[i] - (b ? b[i] : 0.0) - m;
        ss += d * d;
    }
    *mean = m;
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
}

double tt_terms_se(const double *terms, size_t n)
{
    if (n < 2)
        return NAN;
    double m, sd;
    mean_sd(terms, NULL, n, &m, &sd);
    return sd / sqrt((double)n);
}

void tt_terms_paired(const double *a, const double *b, size_t n, double *diff, double *se)
{
    if (n < 2) {
        *diff = *se = NAN;
        return;
    }
    double sd;
    mean_sd(a, b, n, diff, &sd);
    *se = sd / sqrt((double)n);
}
