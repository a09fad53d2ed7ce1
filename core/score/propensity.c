/* propensity.c - the shared scoring propensity model. */
#include "score/propensity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "util/err.h"
#include "util/mem.h"

/* [x, w] of rows, standardised with the given means and scales. */
static double *design(const tt_plugin_data *d, const double *mean, const double *scale)
{
    size_t p = d->p_x + d->p_w;
    double *f = tt_malloc_array(d->n * p + 1, sizeof *f);
    if (!f)
        return NULL;
    for (size_t j = 0; j < p; j++) {
        const double *col = j < d->p_x ? d->x + j * d->n : d->w + (j - d->p_x) * d->n;
        for (size_t i = 0; i < d->n; i++)
            f[j * d->n + i] = (col[i] - mean[j]) / scale[j];
    }
    return f;
}

static void moments(const tt_plugin_data *d, double *mean, double *scale)
{
    size_t p = d->p_x + d->p_w;
    for (size_t j = 0; j < p; j++) {
        const double *col = j < d->p_x ? d->x + j * d->n : d->w + (j - d->p_x) * d->n;
        double s = 0, ss = 0;
        for (size_t i = 0; i < d->n; i++)
            s += col[i];
        mean[j] = d->n ? s / (double)d->n : 0;
        for (size_t i = 0; i < d->n; i++)
            ss += (col[i] - mean[j]) * (col[i] - mean[j]);
        double sd = d->n ? sqrt(ss / (double)d->n) : 0;
        scale[j] = sd > 0 ? sd : 1.0;
    }
}

tt_status tt_scoring_propensity(const tt_plugin_data *train, const tt_plugin_data *rows,
                                double alpha, uint64_t seed, double *out, char *err,
                                size_t errlen)
{
    size_t p = train->p_x + train->p_w, K = (size_t)train->n_arms;
    if (rows->p_x != train->p_x || rows->p_w != train->p_w)
        return tt_errf(err, errlen, TT_ERR_INVALID, "propensity: column counts differ");
    double *mean = tt_malloc_array(p + 1, sizeof *mean);
    double *scale = tt_malloc_array(p + 1, sizeof *scale);
    double *label = tt_malloc_array(train->n + 1, sizeof *label);
    double *ftrain = NULL, *frows = NULL;
    tt_learner *model = NULL;
    tt_status st = TT_OK;
    if (!mean || !scale || !label) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "propensity: out of memory");
        goto done;
    }
    moments(train, mean, scale);
    ftrain = design(train, mean, scale);
    frows = design(rows, mean, scale);
    if (!ftrain || !frows) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "propensity: out of memory");
        goto done;
    }
    static const char *const keys[] = {"alpha"};
    /* Binary: one model for arm 1, arm 0 is its complement. */
    size_t first = K == 2 ? 1 : 0;
    for (size_t k = first; k < K && st == TT_OK; k++) {
        for (size_t i = 0; i < train->n; i++)
            label[i] = train->t[i] == (int)k ? 1.0 : 0.0;
        tt_learner_destroy(model);
        model = NULL;
        st = tt_learner_create("logistic", keys, &alpha, 1, seed, &model, err, errlen);
        if (st == TT_OK)
            st = tt_learner_fit(model, train->n, p, ftrain, label, train->weight, err, errlen);
        if (st == TT_OK)
            st = tt_learner_predict(model, rows->n, p, frows, out + k * rows->n, err, errlen);
        if (st != TT_OK)
            tt_err_prefix(err, errlen, "propensity model of arm %zu", k);
    }
    if (st != TT_OK)
        goto done;
    if (K == 2) {
        for (size_t i = 0; i < rows->n; i++)
            out[i] = 1.0 - out[rows->n + i];
    } else {
        for (size_t i = 0; i < rows->n; i++) {
            double s = 0;
            for (size_t k = 0; k < K; k++)
                s += out[k * rows->n + i];
            for (size_t k = 0; k < K; k++)
                out[k * rows->n + i] /= s;
        }
    }
done:
    tt_learner_destroy(model);
    free(mean);
    free(scale);
    free(label);
    free(ftrain);
    free(frows);
    return st;
}

void tt_propensity_summarise(const double *prop, const int *t, size_t n, double clip,
                             tt_propensity_summary *out)
{
    out->min = INFINITY;
    out->max = -INFINITY;
    out->outside_clip = 0;
    for (size_t i = 0; i < n; i++) {
        double e = prop[(size_t)t[i] * n + i];
        out->min = fmin(out->min, e);
        out->max = fmax(out->max, e);
        out->outside_clip += e < clip || e > 1.0 - clip;
    }
}
