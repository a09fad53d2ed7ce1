/*
 * t_learner - one outcome model per arm: tau_k(x) = mu_k(x, w) - mu_0(x, w).
 *
 * Each mu_k is a slot learner ("model": ridge, lasso, forest or gbm) on the
 * features [x, w], fitted to the rows of arm k. tau_hat must be a function of
 * x alone, so at prediction time w is held at its training mean (documented
 * choice; for linear models this equals averaging over the training w).
 *
 * Intervals: bootstrap over the whole T-learner (a replica is every arm's
 * model refitted on a resample stratified by arm), fitted lazily on the first
 * interval, average or save request. The training rows are copied at fit()
 * for that purpose. The replica count is the run's intervals.resamples
 * (pu_boot_resamples), not a hyperparameter.
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_boot.h"
#include "common/pu_slot.h"

enum { P_MODEL, P_COUNT = P_MODEL + PU_SLOT_N };

static const tt_plugin_param t_params[] = {
    PU_SLOT_PARAMS("model", "every arm's outcome model"),
};

/* The training rows, copied at fit() so bootstrap replicas can be fitted
 * after fit() returns. Owned by the model. */
typedef struct t_train {
    size_t n, p_x, p_w;
    double *x, *w, *y, *wt; /* wt NULL: unit weights */
    int *t;
} t_train;

/* One fitted T-learner: an outcome model per arm (the point estimate, or a
 * bootstrap replica). */
typedef struct t_core {
    tt_learner **mu;
} t_core;

typedef struct t_model {
    const tt_plugin_host *host;
    int n_arms;
    pu_slot slot;
    size_t p_x, p_w;
    double *w_mean;  /* p_w training means */
    t_train train;   /* empty after load */
    t_core *point;
    pu_boot boot;
    int boot_ready;  /* boot initialised (by fit or load) */
} t_model;

static void *t_dup(const tt_plugin_host *h, const void *src, size_t bytes)
{
    void *p = h->alloc(bytes + 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static void t_train_free(const tt_plugin_host *h, t_train *tr)
{
    h->release(tr->x);
    h->release(tr->w);
    h->release(tr->y);
    h->release(tr->wt);
    h->release(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int t_train_copy(const tt_plugin_host *h, const tt_plugin_data *d, t_train *tr)
{
    size_t n = d->n;
    tr->n = n;
    tr->p_x = d->p_x;
    tr->p_w = d->p_w;
    tr->x = t_dup(h, d->x, sizeof(double) * n * d->p_x);
    tr->w = t_dup(h, d->w, sizeof(double) * n * d->p_w);
    tr->y = t_dup(h, d->y, sizeof(double) * n);
    tr->t = t_dup(h, d->t, sizeof(int) * n);
    tr->wt = d->weight ? t_dup(h, d->weight, sizeof(double) * n) : NULL;
    return tr->x && tr->w && tr->y && tr->t && (tr->wt || !d->weight) ? TT_OK : TT_ERR_NOMEM;
}

static void t_core_free(const t_model *m, t_core *c)
{
    if (!c)
        return;
    for (int k = 0; c->mu && k < m->n_arms; k++)
        m->host->learner_destroy(c->mu[k]);
    m->host->release(c->mu);
    m->host->release(c);
}

static t_core *t_core_new(const t_model *m)
{
    t_core *c = m->host->alloc_zero(1, sizeof *c);
    if (c && !(c->mu = m->host->alloc_zero((size_t)m->n_arms, sizeof *c->mu))) {
        m->host->release(c);
        c = NULL;
    }
    return c;
}

/* Fit arm k's model on the training rows idx[j] of arm k (repeats allowed). */
static int t_fit_arm(const t_model *m, const size_t *idx, size_t n_idx, int k, tt_learner **out,
                     char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    const t_train *tr = &m->train;
    size_t nk = 0, p = tr->p_x + tr->p_w;
    for (size_t j = 0; j < n_idx; j++)
        nk += tr->t[idx[j]] == k;
    if (nk == 0)
        return pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
    double *f = h->alloc(sizeof *f * (nk * p + 1));
    double *y = h->alloc(sizeof *y * nk);
    double *wt = h->alloc(sizeof *wt * nk);
    int rc = TT_OK;
    if (!f || !y || !wt) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t r = 0;
    for (size_t j = 0; j < n_idx; j++) {
        size_t i = idx[j];
        if (tr->t[i] != k)
            continue;
        for (size_t c = 0; c < tr->p_x; c++)
            f[c * nk + r] = tr->x[c * tr->n + i];
        for (size_t c = 0; c < tr->p_w; c++)
            f[(tr->p_x + c) * nk + r] = tr->w[c * tr->n + i];
        y[r] = tr->y[i];
        wt[r] = tr->wt ? tr->wt[i] : 1.0;
        r++;
    }
    rc = pu_slot_create(h, &m->slot, 0, out, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(*out, nk, p, f, y, tr->wt ? wt : NULL, err, errlen);
out:
    h->release(f);
    h->release(y);
    h->release(wt);
    return rc;
}

static int t_core_fit(const t_model *m, const size_t *idx, size_t n_idx, t_core **out,
                      char *err, size_t errlen)
{
    t_core *c = t_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 0; k < m->n_arms && rc == TT_OK; k++)
        rc = t_fit_arm(m, idx, n_idx, k, &c->mu[k], err, errlen);
    if (rc != TT_OK) {
        t_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int t_core_effect(const t_model *m, const t_core *c, const tt_plugin_data *rows,
                         double *out, char *err, size_t errlen)
{
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
        rc = h->learner_predict(c->mu[0], n, p, f, base, err, errlen);
        for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
            double *col = out + (size_t)(k - 1) * n;
            rc = h->learner_predict(c->mu[k], n, p, f, col, err, errlen);
            for (size_t i = 0; rc == TT_OK && i < n; i++)
                col[i] -= base[i];
        }
    }
    h->release(f);
    h->release(base);
    return rc;
}

static int t_core_save(const t_model *m, const t_core *c, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < m->n_arms && rc == TT_OK; k++)
        rc = pu_save_learner(m->host, c->mu[k], sink, err, errlen);
    return rc;
}

static int t_core_load(const t_model *m, const tt_plugin_source *src, t_core **out, char *err,
                       size_t errlen)
{
    t_core *c = t_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 0; k < m->n_arms && rc == TT_OK; k++)
        rc = pu_load_learner(m->host, src, &c->mu[k], err, errlen);
    if (rc != TT_OK) {
        t_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* ---- bootstrap ops: a replica is a whole t_core ---- */

static int t_boot_fit(void *ctx, const size_t *idx, size_t n, void **replica, char *err,
                      size_t errlen)
{
    return t_core_fit(ctx, idx, n, (t_core **)replica, err, errlen);
}

static int t_boot_effect(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    return t_core_effect(ctx, replica, rows, out, err, errlen);
}

static int t_boot_save(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    return t_core_save(ctx, replica, sink, err, errlen);
}

static int t_boot_load(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                       size_t errlen)
{
    return t_core_load(ctx, src, (t_core **)replica, err, errlen);
}

static void t_boot_destroy(void *ctx, void *replica)
{
    t_core_free(ctx, replica);
}

static const pu_boot_ops t_boot_ops = {
    .fit = t_boot_fit,
    .effect = t_boot_effect,
    .save = t_boot_save,
    .load = t_boot_load,
    .destroy = t_boot_destroy,
};

/* ---- the plugin ---- */

static void t_destroy(void *instance)
{
    t_model *m = instance;
    if (!m)
        return;
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    t_core_free(m, m->point);
    t_train_free(m->host, &m->train);
    m->host->release(m->w_mean);
    m->host->release(m);
}

static int t_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    t_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    pu_slot_read(params, P_MODEL, &m->slot);
    *instance = m;
    return TT_OK;
}

/* Forget a previous fit (fit may be called again on the same instance). */
static void t_reset(t_model *m)
{
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    m->boot_ready = 0;
    t_core_free(m, m->point);
    m->point = NULL;
    t_train_free(m->host, &m->train);
    m->host->release(m->w_mean);
    m->w_mean = NULL;
}

static int t_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    t_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    t_reset(m);
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    m->w_mean = h->alloc_zero(d->p_w + 1, sizeof *m->w_mean);
    size_t *all = h->alloc(sizeof *all * (d->n + 1));
    int rc = TT_OK;
    if (!m->w_mean || !all || t_train_copy(h, d, &m->train) != TT_OK) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    pu_column_means(d->w, d->n, d->p_w, m->w_mean);
    for (size_t i = 0; i < d->n; i++)
        all[i] = i;
    rc = t_core_fit(m, all, d->n, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&m->boot, h, &t_boot_ops, m, m->n_arms, pu_boot_resamples(h), d->n,
                          d->t, err, errlen);
    m->boot_ready = rc == TT_OK;
out:
    h->release(all);
    if (rc != TT_OK)
        t_reset(m);
    return rc;
}

static int t_check(const t_model *m, char *err, size_t errlen)
{
    return m->point ? TT_OK : pu_errf(err, errlen, TT_ERR_INVALID, "t_learner is not fitted");
}

static int t_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    t_model *m = instance;
    int rc = t_check(m, err, errlen);
    return rc ? rc : t_core_effect(m, m->point, rows, out, err, errlen);
}

/* The point estimate for rows, in a new array (host->release). */
static int t_point(t_model *m, const tt_plugin_data *rows, double **out, char *err,
                   size_t errlen)
{
    int rc = t_check(m, err, errlen);
    if (rc)
        return rc;
    *out = m->host->alloc(sizeof **out * (rows->n * (size_t)(m->n_arms - 1) + 1));
    if (!*out)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = t_core_effect(m, m->point, rows, *out, err, errlen);
    if (rc) {
        m->host->release(*out);
        *out = NULL;
    }
    return rc;
}

static int t_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    t_model *m = instance;
    double *point = NULL;
    int rc = t_point(m, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_interval(&m->boot, rows, point, alpha, lo, hi, err, errlen);
    m->host->release(point);
    return rc;
}

static int t_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    t_model *m = instance;
    double *point = NULL;
    int rc = t_point(m, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_average(&m->boot, rows, point, alpha, ate, lo, hi, err, errlen);
    m->host->release(point);
    return rc;
}

static int t_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    t_model *m = instance;
    int rc = t_check(m, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "t_learner 2\narms %d\np_x %zu\np_w %zu\n", m->n_arms, m->p_x, m->p_w) ||
        pu_slot_save(&m->slot, sink) || pu_write_doubles(sink, "w_mean", m->w_mean, m->p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    rc = t_core_save(m, m->point, sink, err, errlen);
    return rc ? rc : pu_boot_save(&m->boot, sink, err, errlen);
}

static int t_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                  char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "t_learner 2") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a t_learner model (version 2)");
    t_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = (int)arms;
    m->p_x = (size_t)p_x;
    m->p_w = (size_t)p_w;
    m->w_mean = host->alloc_zero(m->p_w + 1, sizeof *m->w_mean);
    int rc = TT_OK;
    if (!m->w_mean || pu_slot_load(src, &m->slot) ||
        pu_read_doubles(src, "w_mean", m->w_mean, m->p_w))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "t_learner model: bad header");
    if (rc == TT_OK)
        rc = t_core_load(m, src, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&m->boot, host, &t_boot_ops, m, src, err, errlen);
    m->boot_ready = rc == TT_OK;
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
    .version = "2.0.0",
    .summary = "One outcome model per arm; effect = mu_k(x) - mu_0(x)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = t_params,
    .n_params = P_COUNT,
    .create = t_create,
    .fit = t_fit,
    .effect = t_effect,
    .effect_interval = t_interval,
    .save = t_save,
    .load = t_load,
    .destroy = t_destroy,
    .interval_method = "bootstrap (normal) over the whole T-learner",
    .average_effect = t_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &t_descriptor;
}
