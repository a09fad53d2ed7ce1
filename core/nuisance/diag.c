/*
 * diag.c - diagnostics of out-of-fold nuisance predictions: the losses the
 * selection compares and the figures results.json reports.
 */
#include <math.h>
#include <stdlib.h>

#include "nuisance/nuisance.h"

#define PROB_FLOOR 1e-15
#define ECE_BINS 10

static double wt(const tt_nuisance_data *d, size_t i)
{
    return d->weight ? d->weight[i] : 1.0;
}

/* The class of row i for a classifying role, or -1 when the row is not
 * among the role's (p_z is scored on the rows with Z = z). */
static int class_of(const tt_nuisance_data *d, const tt_nuisance_result *r, size_t i)
{
    if (r->role == TT_NUISANCE_INSTRUMENT)
        return d->zbin[i];
    if (r->role == TT_NUISANCE_TREATMENT_GIVEN_Z && d->zbin[i] != r->arm)
        return -1;
    return d->arm[i];
}

typedef struct scored {
    double s;
    double w;
    int pos;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* Weighted AUC = P(score of a positive > score of a negative), ties 1/2:
 * one sort, then positives' weight below each tie block. */
static double auc(const tt_nuisance_data *d, const tt_nuisance_result *r)
{
    scored *s = malloc((d->n ? d->n : 1) * sizeof *s);
    if (!s)
        return NAN;
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        const int k = class_of(d, r, i);
        if (k >= 0)
            s[n++] = (scored){r->oof[i], wt(d, i), k == 1};
    }
    qsort(s, n, sizeof *s, cmp_scored);
    double neg_below = 0.0, num = 0.0, wpos = 0.0, wneg = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double tp = 0.0, tn = 0.0;
        for (; j < n && s[j].s == s[i].s; j++)
            *(s[j].pos ? &tp : &tn) += s[j].w;
        num += tp * (neg_below + 0.5 * tn);
        neg_below += tn;
        wpos += tp;
        wneg += tn;
        i = j;
    }
    free(s);
    return wpos > 0.0 && wneg > 0.0 ? num / (wpos * wneg) : NAN;
}

static void diagnose_propensity(const tt_nuisance_data *d, tt_nuisance_result *r)
{
    const size_t n = d->n, wdt = r->width;
    double loss = 0.0, wsum = 0.0;
    r->diag.prop_min = INFINITY;
    r->diag.prop_max = -INFINITY;
    r->diag.n_outside = 0;
    double bin_w[ECE_BINS] = {0}, bin_p[ECE_BINS] = {0}, bin_y[ECE_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        const double w = wt(d, i);
        const int k = class_of(d, r, i);
        if (k < 0)
            continue;
        double pk;
        int outside = 0;
        for (size_t c = 0; c < wdt; c++) {
            double v = r->oof[c * n + i];
            r->diag.prop_min = fmin(r->diag.prop_min, v);
            r->diag.prop_max = fmax(r->diag.prop_max, v);
            outside |= v < 0.05 || v > 0.95;
        }
        r->diag.n_outside += (size_t)outside;
        if (wdt == 1) {
            double e1 = r->oof[i];
            pk = k == 1 ? e1 : 1.0 - e1;
            int b = (int)(e1 * ECE_BINS);
            b = b < 0 ? 0 : (b >= ECE_BINS ? ECE_BINS - 1 : b);
            bin_w[b] += w;
            bin_p[b] += w * e1;
            bin_y[b] += w * (k == 1);
        } else {
            pk = r->oof[(size_t)k * n + i];
        }
        loss -= w * log(fmax(pk, PROB_FLOOR));
        wsum += w;
    }
    r->diag.oof_loss = wsum > 0.0 ? loss / wsum : NAN;
    r->diag.r2 = NAN;
    r->diag.auc = NAN;
    r->diag.calibration = NAN;
    if (wdt == 1) {
        r->diag.auc = auc(d, r);
        double ece = 0.0;
        for (int b = 0; b < ECE_BINS; b++)
            if (bin_w[b] > 0.0)
                ece += wsum > 0.0 ? fabs(bin_p[b] - bin_y[b]) / wsum : NAN;
        r->diag.calibration = ece;
    }
}

/* Regressions: the outcome's, or the continuous treatment's (TREATMENT). */
static void diagnose_outcome(const tt_nuisance_data *d, tt_nuisance_result *r)
{
    const double *y = r->role == TT_NUISANCE_TREATMENT ? d->t_value : d->y;
    double wsum = 0.0, ysum = 0.0, sse = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        if (r->role == TT_NUISANCE_ARM_OUTCOME && d->arm[i] != r->arm)
            continue;
        double w = wt(d, i), res = y[i] - r->oof[i];
        wsum += w;
        ysum += w * y[i];
        sse += w * res * res;
    }
    double mean = wsum > 0.0 ? ysum / wsum : 0.0, sst = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        if (r->role == TT_NUISANCE_ARM_OUTCOME && d->arm[i] != r->arm)
            continue;
        sst += wt(d, i) * (y[i] - mean) * (y[i] - mean);
    }
    r->diag.oof_loss = wsum > 0.0 ? sse / wsum : NAN;
    r->diag.r2 = sst > 0.0 ? 1.0 - sse / sst : NAN;
    r->diag.auc = r->diag.calibration = NAN;
    r->diag.prop_min = r->diag.prop_max = NAN;
    r->diag.n_outside = 0;
}

void tt_nuisance_diagnose(const tt_nuisance_data *d, tt_nuisance_result *r)
{
    if (tt_nuisance_role_classifies(r->role))
        diagnose_propensity(d, r);
    else
        diagnose_outcome(d, r);
}
