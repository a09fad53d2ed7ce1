/*
 * diff_in_means - constant effect per arm: mean(Y | T = k) - mean(Y | T = 0).
 *
 * The baseline every other estimator has to beat. With sample weights the
 * means are weighted. Intervals are Welch's normal-approximation intervals
 * (unequal variances), the usual ones for a randomized comparison of means.
 * Multi-arm; no hyperparameters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_plugin.h"

typedef struct dim_model {
    const tt_plugin_host *host;
    int n_arms;
    double *effect; /* K-1 */
    double *se;     /* K-1 standard errors */
} dim_model;

static int dim_alloc(const tt_plugin_host *host, int n_arms, dim_model **out, char *err,
                     size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    dim_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    m->effect = host->alloc_zero((size_t)n_arms, sizeof(double));
    m->se = host->alloc_zero((size_t)n_arms, sizeof(double));
    if (!m->effect || !m->se) {
        host->release(m->effect);
        host->release(m->se);
        host->release(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return TT_OK;
}

static int dim_create(const tt_plugin_host *host, const double *params, int n_arms,
                      void **instance, char *err, size_t errlen)
{
    (void)params;
    return dim_alloc(host, n_arms, (dim_model **)instance, err, errlen);
}

static void dim_destroy(void *instance)
{
    dim_model *m = instance;
    if (!m)
        return;
    m->host->release(m->effect);
    m->host->release(m->se);
    m->host->release(m);
}

static int dim_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    dim_model *m = instance;
    size_t k_arms = (size_t)m->n_arms;
    /* Per arm: sum of weights, weighted sum, weighted sum of squares. */
    double *acc = m->host->alloc_zero(3 * k_arms, sizeof *acc);
    if (!acc)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->n; i++) {
        size_t k = (size_t)d->t[i];
        double w = d->weight ? d->weight[i] : 1.0;
        acc[3 * k] += w;
        acc[3 * k + 1] += w * d->y[i];
        acc[3 * k + 2] += w * d->y[i] * d->y[i];
    }
    int rc = TT_OK;
    double mean[k_arms], var_of_mean[k_arms];
    for (size_t k = 0; k < k_arms && rc == TT_OK; k++) {
        double sw = acc[3 * k];
        if (!(sw > 0)) {
            rc = pu_errf(err, errlen, TT_ERR_DATA, "arm %zu has no training rows", k);
            break;
        }
        mean[k] = acc[3 * k + 1] / sw;
        double var = acc[3 * k + 2] / sw - mean[k] * mean[k];
        var_of_mean[k] = var > 0 ? var / sw : 0.0;
    }
    if (rc == TT_OK) {
        for (size_t k = 1; k < k_arms; k++) {
            m->effect[k - 1] = mean[k] - mean[0];
            m->se[k - 1] = sqrt(var_of_mean[k] + var_of_mean[0]);
        }
    }
    m->host->release(acc);
    return rc;
}

static int dim_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    (void)err;
    (void)errlen;
    dim_model *m = instance;
    pu_const_effect(m->n_arms, m->effect, rows->n, out);
    return TT_OK;
}

static int dim_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                        double *hi, char *err, size_t errlen)
{
    dim_model *m = instance;
    return pu_const_interval(m->n_arms, m->effect, m->se, rows->n, alpha, lo, hi, err, errlen);
}

/* The effect is the same on every row, so its average is that constant with
 * the same Welch interval (the rows add no sampling error of their own). */
static int dim_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    dim_model *m = instance;
    (void)rows;
    return pu_const_average(m->n_arms, m->effect, m->se, alpha, ate, lo, hi, err, errlen);
}

static int dim_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    dim_model *m = instance;
    size_t k = (size_t)(m->n_arms - 1);
    if (pu_writef(sink, "diff_in_means 1\narms %d\n", m->n_arms) != 0 ||
        pu_write_doubles(sink, "effect", m->effect, k) != 0 ||
        pu_write_doubles(sink, "se", m->se, k) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return TT_OK;
}

static int dim_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    char line[64];
    long arms;
    if (pu_read_line(src, line, sizeof line) != 0 || strcmp(line, "diff_in_means 1") != 0 ||
        pu_read_long(src, "arms", &arms) != 0 || arms < 2 || arms > 1000000)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a diff_in_means model (version 1)");
    dim_model *m = NULL;
    int rc = dim_alloc(host, (int)arms, &m, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (pu_read_doubles(src, "effect", m->effect, (size_t)arms - 1) != 0 ||
        pu_read_doubles(src, "se", m->se, (size_t)arms - 1) != 0) {
        dim_destroy(m);
        return pu_errf(err, errlen, TT_ERR_PARSE, "diff_in_means model: bad effect or se line");
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor dim_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "diff_in_means",
    .version = "1.1.0",
    .summary = "Constant effect per arm: difference of arm means (Welch intervals)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = NULL,
    .n_params = 0,
    .create = dim_create,
    .fit = dim_fit,
    .effect = dim_effect,
    .effect_interval = dim_interval,
    .save = dim_save,
    .load = dim_load,
    .destroy = dim_destroy,
    .interval_method = "Welch normal approximation",
    .average_effect = dim_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &dim_descriptor;
}
