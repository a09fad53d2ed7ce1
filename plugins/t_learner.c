/*
 * t_learner - one outcome model per arm: tau_k(x) = mu_k(x, w) - mu_0(x, w).
 *
 * Each mu_k is the host's ridge regression on (x, w) fitted to the rows of
 * arm k. tau_hat must be a function of x alone, so at prediction time w is
 * held at its training mean (documented choice; for linear models this equals
 * averaging over the training w).
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"

enum { P_ALPHA };

static const tt_plugin_param t_params[] = {
    [P_ALPHA] = {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4, .hi = 1e4,
                 .default_value = 1.0, .help = "ridge penalty of every arm's outcome model"},
};

typedef struct t_model {
    const tt_plugin_host *host;
    int n_arms;
    double alpha;
    size_t p_x, p_w;
    double *w_mean;       /* p_w training means */
    tt_learner **mu;      /* n_arms outcome models */
} t_model;

static void t_destroy(void *instance)
{
    t_model *m = instance;
    if (!m)
        return;
    for (int k = 0; m->mu && k < m->n_arms; k++)
        m->host->learner_destroy(m->mu[k]);
    m->host->release(m->mu);
    m->host->release(m->w_mean);
    m->host->release(m);
}

static int t_alloc(const tt_plugin_host *host, int n_arms, t_model **out, char *err,
                   size_t errlen)
{
    t_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    m->mu = host->alloc_zero((size_t)n_arms, sizeof *m->mu);
    if (!m->mu) {
        t_destroy(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return TT_OK;
}

static int t_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    t_model *m;
    int rc = t_alloc(host, n_arms, &m, err, errlen);
    if (rc == TT_OK) {
        m->alpha = params[P_ALPHA];
        *instance = m;
    }
    return rc;
}

static int t_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    t_model *m = instance;
    const tt_plugin_host *h = m->host;
    size_t p = d->p_x + d->p_w;
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    h->release(m->w_mean);
    m->w_mean = h->alloc_zero(d->p_w + 1, sizeof *m->w_mean);
    double *all = pu_features_xw(h, d, d->p_w, NULL);
    double *sub = h->alloc(sizeof *sub * (d->n * p + 1));
    double *y = h->alloc(sizeof *y * (d->n + 1));
    double *wt = h->alloc(sizeof *wt * (d->n + 1));
    int rc = TT_OK;
    if (!m->w_mean || !all || !sub || !y || !wt) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    pu_column_means(d->w, d->n, d->p_w, m->w_mean);

    static const char *const keys[] = {"alpha"};
    for (int k = 0; k < m->n_arms && rc == TT_OK; k++) {
        size_t nk = 0;
        for (size_t i = 0; i < d->n; i++)
            nk += d->t[i] == k;
        if (nk == 0) {
            rc = pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
            break;
        }
        /* Gather arm k's rows into a dense column-major block. */
        size_t r = 0;
        for (size_t i = 0; i < d->n; i++) {
            if (d->t[i] != k)
                continue;
            for (size_t j = 0; j < p; j++)
                sub[j * nk + r] = all[j * d->n + i];
            y[r] = d->y[i];
            wt[r] = d->weight ? d->weight[i] : 1.0;
            r++;
        }
        h->learner_destroy(m->mu[k]);
        m->mu[k] = NULL;
        rc = h->learner_create(h->host_ctx, "ridge", keys, &m->alpha, 1, &m->mu[k], err, errlen);
        if (rc == TT_OK)
            rc = h->learner_fit(m->mu[k], nk, p, sub, y, d->weight ? wt : NULL, err, errlen);
    }
out:
    h->release(all);
    h->release(sub);
    h->release(y);
    h->release(wt);
    return rc;
}

static int t_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    t_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    size_t n = rows->n, p = m->p_x + m->p_w;
    double *f = pu_features_xw(h, rows, m->p_w, m->w_mean);
    double *base = h->alloc(sizeof *base * (n + 1));
    int rc = TT_OK;
    if (!f || !base) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    } else {
        rc = h->learner_predict(m->mu[0], n, p, f, base, err, errlen);
        for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
            double *col = out + (size_t)(k - 1) * n;
            rc = h->learner_predict(m->mu[k], n, p, f, col, err, errlen);
            for (size_t i = 0; rc == TT_OK && i < n; i++)
                col[i] -= base[i];
        }
    }
    h->release(f);
    h->release(base);
    return rc;
}

static int t_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    t_model *m = instance;
    if (pu_writef(sink, "t_learner 1\narms %d\np_x %zu\np_w %zu\n", m->n_arms, m->p_x, m->p_w) ||
        pu_write_doubles(sink, "alpha", &m->alpha, 1) ||
        pu_write_doubles(sink, "w_mean", m->w_mean, m->p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    for (int k = 0; k < m->n_arms; k++) {
        int rc = pu_save_learner(m->host, m->mu[k], sink, err, errlen);
        if (rc)
            return rc;
    }
    return TT_OK;
}

static int t_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                  char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "t_learner 1") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a t_learner model (version 1)");
    t_model *m;
    int rc = t_alloc(host, (int)arms, &m, err, errlen);
    if (rc)
        return rc;
    m->p_x = (size_t)p_x;
    m->p_w = (size_t)p_w;
    m->w_mean = host->alloc_zero(m->p_w + 1, sizeof *m->w_mean);
    if (!m->w_mean || pu_read_doubles(src, "alpha", &m->alpha, 1) ||
        pu_read_doubles(src, "w_mean", m->w_mean, m->p_w))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "t_learner model: bad header");
    for (int k = 0; rc == TT_OK && k < m->n_arms; k++)
        rc = pu_load_learner(host, src, &m->mu[k], err, errlen);
    if (rc) {
        t_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor t_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "t_learner",
    .version = "1.0.0",
    .summary = "One ridge outcome model per arm; effect = mu_k(x) - mu_0(x)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = t_params,
    .n_params = sizeof t_params / sizeof t_params[0],
    .create = t_create,
    .fit = t_fit,
    .effect = t_effect,
    .save = t_save,
    .load = t_load,
    .destroy = t_destroy,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &t_descriptor;
}
