/*
 * s_learner - one outcome model with the treatment as a feature:
 * tau_k(x) = mu(x, w, T = k) - mu(x, w, T = 0).
 *
 * The model is a slot learner ("model": ridge, lasso, forest or gbm) on
 * [x, w, 1{T=k} for k >= 1] and, with `interactions`, the products
 * 1{T=k} * x_j. Without interactions a linear S-learner can only return a
 * constant effect; with them it is a linear model of heterogeneous effects
 * (trees find interactions on their own, so the products matter less there).
 * As in t_learner, w is held at its training mean when effects are predicted
 * (documented choice; for linear models it equals averaging over training w).
 *
 * Intervals: bootstrap over the whole S-learner (a replica is the outcome
 * model refitted on a resample stratified by arm), fitted lazily on the first
 * interval, average or save request; the training rows are copied at fit().
 * The replica count is the run's intervals.resamples (pu_boot_resamples), not
 * a hyperparameter.
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_boot.h"
#include "common/pu_slot.h"

enum { P_MODEL, P_INTERACTIONS = P_MODEL + PU_SLOT_N, P_COUNT };

static const tt_plugin_param s_params[] = {
    PU_SLOT_PARAMS("model", "the outcome model"),
    [P_INTERACTIONS] = {.name = "interactions", .kind = TT_PARAM_BOOL, .lo = 0, .hi = 1,
                        .default_value = 1,
                        .help = "add treatment x effect-modifier products (heterogeneous effects)"},
};

/* The training rows, copied at fit() so bootstrap replicas can be fitted
 * after fit() returns. Owned by the model. */
typedef struct s_train {
    size_t n, p_x, p_w;
    double *x, *w, *y, *wt; /* wt NULL: unit weights */
    int *t;
} s_train;

/* One fitted S-learner: the single outcome model (the point estimate, or a
 * bootstrap replica). */
typedef struct s_core {
    tt_learner *mu;
} s_core;

typedef struct s_model {
    const tt_plugin_host *host;
    int n_arms;
    pu_slot slot;
    int interactions;
    size_t p_x, p_w;
    double *w_mean;  /* p_w training means */
    s_train train;   /* empty after load */
    s_core *point;
    pu_boot boot;
    int boot_ready;  /* boot initialised (by fit or load) */
} s_model;

static void *s_dup(const tt_plugin_host *h, const void *src, size_t bytes)
{
    void *p = h->alloc(bytes + 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static void s_train_free(const tt_plugin_host *h, s_train *tr)
{
    h->release(tr->x);
    h->release(tr->w);
    h->release(tr->y);
    h->release(tr->wt);
    h->release(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int s_train_copy(const tt_plugin_host *h, const tt_plugin_data *d, s_train *tr)
{
    size_t n = d->n;
    tr->n = n;
    tr->p_x = d->p_x;
    tr->p_w = d->p_w;
    tr->x = s_dup(h, d->x, sizeof(double) * n * d->p_x);
    tr->w = s_dup(h, d->w, sizeof(double) * n * d->p_w);
    tr->y = s_dup(h, d->y, sizeof(double) * n);
    tr->t = s_dup(h, d->t, sizeof(int) * n);
    tr->wt = d->weight ? s_dup(h, d->weight, sizeof(double) * n) : NULL;
    return tr->x && tr->w && tr->y && tr->t && (tr->wt || !d->weight) ? TT_OK : TT_ERR_NOMEM;
}

static void s_core_free(const s_model *m, s_core *c)
{
    if (!c)
        return;
    m->host->learner_destroy(c->mu);
    m->host->release(c);
}

static size_t s_width(const s_model *m)
{
    size_t k1 = (size_t)(m->n_arms - 1);
    return m->p_x + m->p_w + k1 + (m->interactions ? k1 * m->p_x : 0);
}

/* The design [x, w, 1{T=k} (k >= 1), 1{T=k} x_j] for n output rows. Output
 * row r reads source row map[r] (map NULL: r) of x and w, which have n_src
 * rows; w_fixed (p_w values) replaces w when given; the arm of row r is t[r]
 * (t NULL: fixed_arm). New array (host->alloc) or NULL. */
static double *s_design(const s_model *m, size_t n, const size_t *map, size_t n_src,
                        const double *x, const double *w, const double *w_fixed, const int *t,
                        int fixed_arm)
{
    size_t k1 = (size_t)(m->n_arms - 1);
    double *f = m->host->alloc(sizeof *f * (n * s_width(m) + 1));
    if (!f)
        return NULL;
    for (size_t r = 0; r < n; r++) {
        size_t i = map ? map[r] : r;
        for (size_t j = 0; j < m->p_x; j++)
            f[j * n + r] = x[j * n_src + i];
        for (size_t j = 0; j < m->p_w; j++)
            f[(m->p_x + j) * n + r] = w_fixed ? w_fixed[j] : w[j * n_src + i];
        int arm = t ? t[r] : fixed_arm;
        for (size_t k = 1; k <= k1; k++) {
            double on = (size_t)arm == k ? 1.0 : 0.0;
            f[(m->p_x + m->p_w + k - 1) * n + r] = on;
            for (size_t j = 0; m->interactions && j < m->p_x; j++)
                f[(m->p_x + m->p_w + k1 + (k - 1) * m->p_x + j) * n + r] = on * x[j * n_src + i];
        }
    }
    return f;
}

static int s_core_fit(const s_model *m, const size_t *idx, size_t n_idx, s_core **out,
                      char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    const s_train *tr = &m->train;
    s_core *c = h->alloc_zero(1, sizeof *c);
    int *t = h->alloc(sizeof *t * (n_idx + 1));
    double *y = h->alloc(sizeof *y * (n_idx + 1));
    double *wt = h->alloc(sizeof *wt * (n_idx + 1));
    double *f = NULL;
    int rc = TT_OK;
    if (!c || !t || !y || !wt) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t r = 0; r < n_idx; r++) {
        t[r] = tr->t[idx[r]];
        y[r] = tr->y[idx[r]];
        wt[r] = tr->wt ? tr->wt[idx[r]] : 1.0;
    }
    f = s_design(m, n_idx, idx, tr->n, tr->x, tr->w, NULL, t, 0);
    if (!f) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = pu_slot_create(h, &m->slot, 0, &c->mu, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(c->mu, n_idx, s_width(m), f, y, tr->wt ? wt : NULL, err, errlen);
out:
    h->release(f);
    h->release(t);
    h->release(y);
    h->release(wt);
    if (rc != TT_OK) {
        s_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int s_core_effect(const s_model *m, const s_core *c, const tt_plugin_data *rows,
                         double *out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    size_t n = rows->n;
    double *base = h->alloc(sizeof *base * (n + 1));
    double *f0 = s_design(m, n, NULL, n, rows->x, NULL, m->w_mean, NULL, 0);
    int rc = (!base || !f0) ? pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory") : TT_OK;
    if (rc == TT_OK)
        rc = h->learner_predict(c->mu, n, s_width(m), f0, base, err, errlen);
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        double *fk = s_design(m, n, NULL, n, rows->x, NULL, m->w_mean, NULL, k);
        double *col = out + (size_t)(k - 1) * n;
        rc = fk ? h->learner_predict(c->mu, n, s_width(m), fk, col, err, errlen)
                : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == TT_OK && i < n; i++)
            col[i] -= base[i];
        h->release(fk);
    }
    h->release(f0);
    h->release(base);
    return rc;
}

static int s_core_save(const s_model *m, const s_core *c, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    return pu_save_learner(m->host, c->mu, sink, err, errlen);
}

static int s_core_load(const s_model *m, const tt_plugin_source *src, s_core **out, char *err,
                       size_t errlen)
{
    s_core *c = m->host->alloc_zero(1, sizeof *c);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = pu_load_learner(m->host, src, &c->mu, err, errlen);
    if (rc != TT_OK) {
        s_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* ---- bootstrap ops: a replica is a whole fitted S-learner ---- */

static int s_boot_fit(void *ctx, const size_t *idx, size_t n, void **replica, char *err,
                      size_t errlen)
{
    return s_core_fit(ctx, idx, n, (s_core **)replica, err, errlen);
}

static int s_boot_effect(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    return s_core_effect(ctx, replica, rows, out, err, errlen);
}

static int s_boot_save(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    return s_core_save(ctx, replica, sink, err, errlen);
}

static int s_boot_load(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                       size_t errlen)
{
    return s_core_load(ctx, src, (s_core **)replica, err, errlen);
}

static void s_boot_destroy(void *ctx, void *replica)
{
    s_core_free(ctx, replica);
}

static const pu_boot_ops s_boot_ops = {
    .fit = s_boot_fit,
    .effect = s_boot_effect,
    .save = s_boot_save,
    .load = s_boot_load,
    .destroy = s_boot_destroy,
};

/* ---- the plugin ---- */

static void s_destroy(void *instance)
{
    s_model *m = instance;
    if (!m)
        return;
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    s_core_free(m, m->point);
    s_train_free(m->host, &m->train);
    m->host->release(m->w_mean);
    m->host->release(m);
}

static int s_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    s_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    pu_slot_read(params, P_MODEL, &m->slot);
    m->interactions = params[P_INTERACTIONS] != 0.0;
    *instance = m;
    return TT_OK;
}

/* Forget a previous fit (fit may be called again on the same instance). */
static void s_reset(s_model *m)
{
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    m->boot_ready = 0;
    s_core_free(m, m->point);
    m->point = NULL;
    s_train_free(m->host, &m->train);
    m->host->release(m->w_mean);
    m->w_mean = NULL;
}

static int s_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    s_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    s_reset(m);
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    m->w_mean = h->alloc_zero(d->p_w + 1, sizeof *m->w_mean);
    size_t *all = h->alloc(sizeof *all * (d->n + 1));
    int rc = TT_OK;
    if (!m->w_mean || !all || s_train_copy(h, d, &m->train) != TT_OK) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    pu_column_means(d->w, d->n, d->p_w, m->w_mean);
    for (size_t i = 0; i < d->n; i++)
        all[i] = i;
    rc = s_core_fit(m, all, d->n, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&m->boot, h, &s_boot_ops, m, m->n_arms, pu_boot_resamples(h), d->n,
                          d->t, err, errlen);
    m->boot_ready = rc == TT_OK;
out:
    h->release(all);
    if (rc != TT_OK)
        s_reset(m);
    return rc;
}

static int s_check(const s_model *m, char *err, size_t errlen)
{
    return m->point ? TT_OK : pu_errf(err, errlen, TT_ERR_INVALID, "s_learner is not fitted");
}

static int s_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    s_model *m = instance;
    int rc = s_check(m, err, errlen);
    return rc ? rc : s_core_effect(m, m->point, rows, out, err, errlen);
}

/* The point estimate for rows, in a new array (host->release). */
static int s_point(s_model *m, const tt_plugin_data *rows, double **out, char *err,
                   size_t errlen)
{
    int rc = s_check(m, err, errlen);
    if (rc)
        return rc;
    *out = m->host->alloc(sizeof **out * (rows->n * (size_t)(m->n_arms - 1) + 1));
    if (!*out)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = s_core_effect(m, m->point, rows, *out, err, errlen);
    if (rc) {
        m->host->release(*out);
        *out = NULL;
    }
    return rc;
}

static int s_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    s_model *m = instance;
    double *point = NULL;
    int rc = s_point(m, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_interval(&m->boot, rows, point, alpha, lo, hi, err, errlen);
    m->host->release(point);
    return rc;
}

static int s_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    s_model *m = instance;
    double *point = NULL;
    int rc = s_point(m, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_average(&m->boot, rows, point, alpha, ate, lo, hi, err, errlen);
    m->host->release(point);
    return rc;
}

static int s_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    s_model *m = instance;
    int rc = s_check(m, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "s_learner 2\narms %d\np_x %zu\np_w %zu\ninteractions %d\n", m->n_arms,
                  m->p_x, m->p_w, m->interactions) ||
        pu_slot_save(&m->slot, sink) || pu_write_doubles(sink, "w_mean", m->w_mean, m->p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    rc = s_core_save(m, m->point, sink, err, errlen);
    return rc ? rc : pu_boot_save(&m->boot, sink, err, errlen);
}

static int s_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                  char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w, inter;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "s_learner 2") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0 ||
        pu_read_long(src, "interactions", &inter))
        return pu_errf(err, errlen, TT_ERR_PARSE, "not an s_learner model (version 2)");
    s_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = (int)arms;
    m->p_x = (size_t)p_x;
    m->p_w = (size_t)p_w;
    m->interactions = inter != 0;
    m->w_mean = host->alloc_zero(m->p_w + 1, sizeof *m->w_mean);
    int rc = TT_OK;
    if (!m->w_mean || pu_slot_load(src, &m->slot) ||
        pu_read_doubles(src, "w_mean", m->w_mean, m->p_w))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "s_learner model: bad header");
    if (rc == TT_OK)
        rc = s_core_load(m, src, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&m->boot, host, &s_boot_ops, m, src, err, errlen);
    m->boot_ready = rc == TT_OK;
    if (rc) {
        s_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor s_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "s_learner",
    .version = "2.0.0",
    .summary = "One outcome model with the arm as a feature; effect = mu(x,k) - mu(x,0)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = s_params,
    .n_params = P_COUNT,
    .create = s_create,
    .fit = s_fit,
    .effect = s_effect,
    .effect_interval = s_interval,
    .save = s_save,
    .load = s_load,
    .destroy = s_destroy,
    .interval_method = "bootstrap (normal) over the whole S-learner",
    .average_effect = s_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &s_descriptor;
}
