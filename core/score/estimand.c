/* estimand.c - doubly robust averages over the rows the user asked for (estimand.h). */
#include "score/estimand.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/dist.h"
#include "util/err.h"

static const char *const names[] = {"ate", "att", "atc", "overlap"};
static const char *const descriptions[] = {
    "the average effect over every row",
    "the average effect on the rows that took the treated arm",
    "the average effect on the control rows, had they been treated",
    ("the average effect weighted towards rows that could have gone either way (overlap "
     "weights e(1 - e))"),
};

const char *tt_estimand_name(tt_estimand e)
{
    return (unsigned)e <= TT_ESTIMAND_OVERLAP ? names[e] : NULL;
}

const char *tt_estimand_description(tt_estimand e)
{
    return (unsigned)e <= TT_ESTIMAND_OVERLAP ? descriptions[e] : NULL;
}

int tt_estimand_parse(const char *name)
{
    for (int i = 0; name && i <= TT_ESTIMAND_OVERLAP; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

static double clipped(double p, double clip, size_t *n_clipped)
{
    if (p < clip || p > 1.0 - clip) {
        (*n_clipped)++;
        return p < clip ? clip : 1.0 - clip;
    }
    return p;
}

/* estimate, then se = sqrt(sum w phi^2) / W from the influence values phi
 * (already centred), lo/hi around it. */
static void finish(tt_estimand_value *v, const double *phi, const double *weight, size_t n,
                   double alpha)
{
    double ss = 0.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double w = weight ? weight[i] : 1.0;
        ss += w * phi[i] * phi[i];
        wsum += w;
    }
    /* phi has mean 0 (the estimate solves its moment): the estimate's
     * variance is the mean of phi^2 over the rows, divided by their number
     * (grf divides by n(n - 1) too: sd(phi) / sqrt(n)). */
    v->se = wsum > 1.0 ? sqrt(ss / (wsum * (wsum - 1.0))) : NAN;
    const double z = tt_normal_quantile(1.0 - alpha / 2.0);
    v->lo = v->estimate - z * v->se;
    v->hi = v->estimate + z * v->se;
}

/* One treated arm k. phi: n scratch values. */
static void one_arm(tt_estimand which, size_t n, int K, int k, const int *t, const double *y,
                    const double *e, const double *mu, const double *weight, double clip,
                    double alpha, double *phi, tt_estimand_value *v)
{
    const double *ek = e + (size_t)k * n, *e0 = e, *muk = mu + (size_t)k * n, *mu0 = mu;
    double wsum = 0.0, group = 0.0, num = 0.0;
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const double w = weight ? weight[i] : 1.0;
        wsum += w;
        if (ek[i] < TT_ESTIMAND_OVERLAP_LO || ek[i] > 1.0 - TT_ESTIMAND_OVERLAP_LO ||
            e0[i] < TT_ESTIMAND_OVERLAP_LO || e0[i] > 1.0 - TT_ESTIMAND_OVERLAP_LO)
            v->n_outside++;
    }
    (void)K;
    switch (which) {
    case TT_ESTIMAND_ATE:
        for (size_t i = 0; i < n; i++) {
            const double w = weight ? weight[i] : 1.0;
            double g = muk[i] - mu0[i];
            if (t[i] == k)
                g += (y[i] - muk[i]) / clipped(ek[i], clip, &v->n_clipped);
            else if (t[i] == 0)
                g -= (y[i] - mu0[i]) / clipped(e0[i], clip, &v->n_clipped);
            phi[i] = g;
            num += w * g;
        }
        v->rows = wsum;
        v->estimate = num / wsum;
        for (size_t i = 0; i < n; i++)
            phi[i] -= v->estimate;
        break;
    case TT_ESTIMAND_ATT:
    case TT_ESTIMAND_ATC: {
        const int att = which == TT_ESTIMAND_ATT, own = att ? k : 0;
        for (size_t i = 0; i < n; i++) {
            const double w = weight ? weight[i] : 1.0;
            double term = 0.0;
            if (att && t[i] == k)
                term = y[i] - mu0[i];
            else if (att && t[i] == 0)
                term = -ek[i] / clipped(e0[i], clip, &v->n_clipped) * (y[i] - mu0[i]);
            else if (!att && t[i] == 0)
                term = muk[i] - y[i];
            else if (!att && t[i] == k)
                term = e0[i] / clipped(ek[i], clip, &v->n_clipped) * (y[i] - muk[i]);
            phi[i] = term;
            num += w * term;
            group += t[i] == own ? w : 0.0;
        }
        v->rows = group;
        v->estimate = num / group;
        /* phi_i = (term_i - 1{T = own} est) / share of the group */
        const double share = group / wsum;
        for (size_t i = 0; i < n; i++)
            phi[i] = (phi[i] - (t[i] == own ? v->estimate : 0.0)) / share;
        break;
    }
    case TT_ESTIMAND_OVERLAP: {
        double wo = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double w = weight ? weight[i] : 1.0;
            const double om = ek[i] * e0[i] / (ek[i] + e0[i]);
            /* om * Gamma without dividing: om / e_k = e_0 / (e_k + e_0). */
            double g = om * (muk[i] - mu0[i]);
            if (t[i] == k)
                g += e0[i] / (ek[i] + e0[i]) * (y[i] - muk[i]);
            else if (t[i] == 0)
                g -= ek[i] / (ek[i] + e0[i]) * (y[i] - mu0[i]);
            phi[i] = g;
            num += w * g;
            wo += w * om;
            /* keep om for the centring below, in the y-independent part */
        }
        v->rows = wo;
        v->estimate = num / wo;
        const double mean_om = wo / wsum;
        for (size_t i = 0; i < n; i++) {
            const double om = ek[i] * e0[i] / (ek[i] + e0[i]);
            phi[i] = (phi[i] - om * v->estimate) / mean_om;
        }
        break;
    }
    }
    finish(v, phi, weight, n, alpha);
}

static tt_status check_common(size_t n, const double *weight, double alpha, char *err,
                              size_t errlen)
{
    if (n < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: need at least 2 rows");
    if (!(alpha > 0.0 && alpha < 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: alpha %g outside (0, 1)", alpha);
    for (size_t i = 0; weight && i < n; i++)
        if (!(weight[i] >= 0.0 && isfinite(weight[i])))
            return tt_errf(err, errlen, TT_ERR_DATA, "estimand: row %zu has weight %g", i,
                           weight[i]);
    return TT_OK;
}

tt_status tt_estimand_aipw(tt_estimand which, size_t n, int n_arms, const int *t,
                           const double *y, const double *e, const double *mu,
                           const double *weight, double clip, double alpha,
                           tt_estimand_value *out, char *err, size_t errlen)
{
    if (!t || !y || !e || !mu || !out || n_arms < 2 || (unsigned)which > TT_ESTIMAND_OVERLAP)
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: bad arguments");
    if (!(clip >= 0.0 && clip < 0.5))
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: clip %g outside [0, 0.5)", clip);
    tt_status st = check_common(n, weight, alpha, err, errlen);
    if (st != TT_OK)
        return st;
    const size_t K = (size_t)n_arms;
    double *count = calloc(K, sizeof *count);
    if (!count)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "estimand: out of memory");
    for (size_t i = 0; i < n; i++) {
        int bad = t[i] < 0 || t[i] >= n_arms || !isfinite(y[i]);
        for (size_t k = 0; k < K && !bad; k++)
            bad = !isfinite(e[k * n + i]) || !isfinite(mu[k * n + i]) ||
                  e[k * n + i] < 0.0 || e[k * n + i] > 1.0;
        if (bad) {
            free(count);
            return tt_errf(err, errlen, TT_ERR_DATA, "estimand: row %zu has an arm outside "
                           "0..%d or a non-finite outcome, propensity or outcome model", i,
                           n_arms - 1);
        }
        count[t[i]] += weight ? weight[i] : 1.0;
    }
    for (int k = 0; k < n_arms; k++)
        if (!(count[k] > 0.0)) {
            free(count);
            return tt_errf(err, errlen, TT_ERR_DATA, "estimand: arm %d has no rows", k);
        }
    free(count);
    double *phi = malloc(sizeof *phi * n);
    if (!phi)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "estimand: out of memory");
    for (int k = 1; k < n_arms; k++)
        one_arm(which, n, n_arms, k, t, y, e, mu, weight, clip, alpha, phi, &out[k - 1]);
    free(phi);
    return TT_OK;
}

tt_status tt_estimand_continuous(tt_estimand which, size_t n, const double *t, const double *y,
                                 const double *m, const double *e, const double *weight,
                                 double alpha, tt_estimand_value *out, char *err,
                                 size_t errlen)
{
    if (!t || !y || !m || !e || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: bad arguments");
    if (which != TT_ESTIMAND_ATE)
        return tt_errf(err, errlen, TT_ERR_INVALID, "estimand: a continuous treatment has no "
                       "treated or control rows: only \"ate\" (the average marginal effect)");
    tt_status st = check_common(n, weight, alpha, err, errlen);
    if (st != TT_OK)
        return st;
    double stt = 0.0, sty = 0.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !isfinite(y[i]) || !isfinite(m[i]) || !isfinite(e[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "estimand: row %zu has a non-finite "
                           "treatment, outcome or nuisance", i);
        const double w = weight ? weight[i] : 1.0, tr = t[i] - e[i];
        stt += w * tr * tr;
        sty += w * tr * (y[i] - m[i]);
        wsum += w;
    }
    if (!(stt > 0.0))
        return tt_errf(err, errlen, TT_ERR_DATA, "estimand: the treatment does not vary "
                       "beyond what x predicts (every T - E[T | x] is 0)");
    memset(out, 0, sizeof *out);
    out->estimate = sty / stt;
    out->rows = wsum;
    double meat = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double w = weight ? weight[i] : 1.0, tr = t[i] - e[i];
        const double r = y[i] - m[i] - out->estimate * tr;
        meat += w * w * tr * tr * r * r;
    }
    out->se = sqrt(meat) / stt;
    const double z = tt_normal_quantile(1.0 - alpha / 2.0);
    out->lo = out->estimate - z * out->se;
    out->hi = out->estimate + z * out->se;
    return TT_OK;
}
