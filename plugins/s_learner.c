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
#include "common/pu_meta.h"
#include "common/pu_slot.h"

enum { P_MODEL, P_INTERACTIONS = P_MODEL + PU_SLOT_N, P_COUNT };

static const tt_plugin_param s_params[] = {
    PU_SLOT_PARAMS("model", "the outcome model"),
    [P_INTERACTIONS] = {.name = "interactions", .kind = TT_PARAM_BOOL, .lo = 0, .hi = 1,
                        .default_value = 1,
                        .help = "add treatment x effect-modifier products (heterogeneous effects)"},
};

/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition s_conditions[] = {
    PU_SLOT_CONDITIONS("model"),
};

/* One fitted S-learner: the single outcome model (the point estimate, or a
 * bootstrap replica). */
typedef struct s_core {
    tt_learner *mu;
} s_core;

/* meta owns the training copy, the w means, the point core and the bootstrap. */
typedef struct s_model {
    pu_meta meta;
    pu_slot slot;
    int interactions;
} s_model;

static void s_core_free(void *ctx, void *core)
{
    const s_model *m = ctx;
    s_core *c = core;
    if (!c)
        return;
    m->meta.host->learner_destroy(c->mu);
    m->meta.host->release(c);
}

static size_t s_width(const s_model *m)
{
    size_t k1 = (size_t)(m->meta.n_arms - 1);
    return m->meta.p_x + m->meta.p_w + k1 + (m->interactions ? k1 * m->meta.p_x : 0);
}

/* The design [x, w, 1{T=k} (k >= 1), 1{T=k} x_j] for n output rows. Output
 * row r reads source row map[r] (map NULL: r) of x and w, which have n_src
 * rows; w_fixed (p_w values) replaces w when given; the arm of row r is t[r]
 * (t NULL: fixed_arm). New array (host->alloc) or NULL. */
static double *s_design(const s_model *m, size_t n, const size_t *map, size_t n_src,
                        const double *x, const double *w, const double *w_fixed, const int *t,
                        int fixed_arm)
{
    size_t k1 = (size_t)(m->meta.n_arms - 1), p_x = m->meta.p_x, p_w = m->meta.p_w;
    double *f = m->meta.host->alloc(sizeof *f * (n * s_width(m) + 1));
    if (!f)
        return NULL;
    for (size_t r = 0; r < n; r++) {
        size_t i = map ? map[r] : r;
        for (size_t j = 0; j < p_x; j++)
            f[j * n + r] = x[j * n_src + i];
        for (size_t j = 0; j < p_w; j++)
            f[(p_x + j) * n + r] = w_fixed ? w_fixed[j] : w[j * n_src + i];
        int arm = t ? t[r] : fixed_arm;
        for (size_t k = 1; k <= k1; k++) {
            double on = (size_t)arm == k ? 1.0 : 0.0;
            f[(p_x + p_w + k - 1) * n + r] = on;
            for (size_t j = 0; m->interactions && j < p_x; j++)
                f[(p_x + p_w + k1 + (k - 1) * p_x + j) * n + r] = on * x[j * n_src + i];
        }
    }
    return f;
}

static int s_core_fit(void *ctx, const size_t *idx, size_t n_idx, void **out, char *err,
                      size_t errlen)
{
    const s_model *m = ctx;
    const tt_plugin_host *h = m->meta.host;
    const pu_meta_train *tr = &m->meta.train;
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
        s_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int s_core_effect(void *ctx, const void *core, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    const s_model *m = ctx;
    const s_core *c = core;
    const tt_plugin_host *h = m->meta.host;
    if (rows->p_x != m->meta.p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->meta.p_x, rows->p_x);
    size_t n = rows->n;
    double *base = h->alloc(sizeof *base * (n + 1));
    double *f0 = s_design(m, n, NULL, n, rows->x, NULL, m->meta.w_mean, NULL, 0);
    int rc = (!base || !f0) ? pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory") : TT_OK;
    if (rc == TT_OK)
        rc = h->learner_predict(c->mu, n, s_width(m), f0, base, err, errlen);
    for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++) {
        double *fk = s_design(m, n, NULL, n, rows->x, NULL, m->meta.w_mean, NULL, k);
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

static int s_core_save(void *ctx, const void *core, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    const s_model *m = ctx;
    return pu_save_learner(m->meta.host, ((const s_core *)core)->mu, sink, err, errlen);
}

static int s_core_load(void *ctx, const tt_plugin_source *src, void **out, char *err,
                       size_t errlen)
{
    const s_model *m = ctx;
    s_core *c = m->meta.host->alloc_zero(1, sizeof *c);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = pu_load_learner(m->meta.host, src, &c->mu, err, errlen);
    if (rc != TT_OK) {
        s_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static const pu_meta_ops s_meta_ops = {
    .name = "s_learner",
    .core = {.fit = s_core_fit, .effect = s_core_effect, .save = s_core_save,
             .load = s_core_load, .destroy = s_core_free},
    .keep_w_mean = 1,
};

/* ---- the plugin ---- */

static void s_destroy(void *instance)
{
    s_model *m = instance;
    if (!m)
        return;
    pu_meta_reset(&m->meta);
    m->meta.host->release(m);
}

static s_model *s_alloc(const tt_plugin_host *host, int n_arms)
{
    s_model *m = host->alloc_zero(1, sizeof *m);
    if (m)
        pu_meta_init(&m->meta, host, &s_meta_ops, m, n_arms);
    return m;
}

static int s_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    s_model *m = s_alloc(host, n_arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_slot_read(params, P_MODEL, &m->slot);
    m->interactions = params[P_INTERACTIONS] != 0.0;
    *instance = m;
    return TT_OK;
}

static int s_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    return pu_meta_fit(&((s_model *)instance)->meta, d, err, errlen);
}

static int s_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    return pu_meta_effect(&((s_model *)instance)->meta, rows, out, err, errlen);
}

static int s_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    return pu_meta_interval(&((s_model *)instance)->meta, rows, alpha, lo, hi, err, errlen);
}

static int s_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    return pu_meta_average(&((s_model *)instance)->meta, rows, alpha, ate, lo, hi, err, errlen);
}

static int s_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    s_model *m = instance;
    int rc = pu_meta_check(&m->meta, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "s_learner 2\narms %d\np_x %zu\np_w %zu\ninteractions %d\n",
                  m->meta.n_arms, m->meta.p_x, m->meta.p_w, m->interactions) ||
        pu_slot_save(&m->slot, sink) ||
        pu_write_doubles(sink, "w_mean", m->meta.w_mean, m->meta.p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_meta_save(&m->meta, sink, err, errlen);
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
    s_model *m = s_alloc(host, (int)arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->meta.p_x = (size_t)p_x;
    m->meta.p_w = (size_t)p_w;
    m->interactions = inter != 0;
    int rc = TT_OK;
    if (pu_slot_load(src, &m->slot) || pu_meta_load_w_mean(&m->meta, src))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "s_learner model: bad header");
    if (rc == TT_OK)
        rc = pu_meta_load(&m->meta, src, err, errlen);
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
    .conditions = s_conditions,
    .n_conditions = sizeof s_conditions / sizeof s_conditions[0],
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
