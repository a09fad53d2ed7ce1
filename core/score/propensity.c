/* propensity.c - the shared scoring propensity model. */
#include "score/propensity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "util/err.h"
#include "util/mem.h"

/* The [x, w] block of d, n x (p_x + p_w) column-major: in place when w
 * follows x in one allocation (the run's datasets), else a copy in *owned. */
static const double *features(const tt_plugin_data *d, double **owned)
{
    *owned = NULL;
    if (d->p_w == 0)
        return d->x;
    if (d->p_x == 0)
        return d->w;
    if (d->w == d->x + d->n * d->p_x)
        return d->x;
    double *f = tt_malloc_array(d->n * (d->p_x + d->p_w) + 1, sizeof *f);
    if (f) {
        memcpy(f, d->x, d->n * d->p_x * sizeof *f);
        memcpy(f + d->n * d->p_x, d->w, d->n * d->p_w * sizeof *f);
    }
    *owned = f;
    return f;
}

tt_status tt_scoring_propensity(const tt_plugin_data *train, const tt_plugin_data *rows,
                                double alpha, uint64_t seed, double *out, char *err,
                                size_t errlen)
{
    size_t p = train->p_x + train->p_w, K = (size_t)train->n_arms;
    if (rows->p_x != train->p_x || rows->p_w != train->p_w)
        return tt_errf(err, errlen, TT_ERR_INVALID, "propensity: column counts differ");
    double *label = tt_malloc_array(train->n + 1, sizeof *label);
    double *own_train = NULL, *own_rows = NULL;
    /* The learner standardises the columns itself, without a scaled copy:
     * at a million rows a copy of [x, w] was most of the main process's peak. */
    const double *ftrain = features(train, &own_train), *frows = features(rows, &own_rows);
    tt_learner *model = NULL;
    tt_status st = TT_OK;
    if (!label || (p > 0 && (!ftrain || !frows))) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "propensity: out of memory");
        goto done;
    }
    static const char *const keys[] = {"alpha", "standardize"};
    const double values[] = {alpha, 1.0};
    /* Binary: one model for arm 1, arm 0 is its complement. */
    size_t first = K == 2 ? 1 : 0;
    for (size_t k = first; k < K && st == TT_OK; k++) {
        for (size_t i = 0; i < train->n; i++)
            label[i] = train->t[i] == (int)k ? 1.0 : 0.0;
        tt_learner_destroy(model);
        model = NULL;
        st = tt_learner_create("logistic", keys, values, 2, seed, &model, err, errlen);
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
    free(label);
    free(own_train);
    free(own_rows);
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
