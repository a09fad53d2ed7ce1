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
#include "common/pu_meta.h"
#include "common/pu_slot.h"

enum { P_MODEL, P_COUNT = P_MODEL + PU_SLOT_N };

static const tt_plugin_param t_params[] = {
    PU_SLOT_PARAMS("model", "every arm's outcome model"),
};

/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition t_conditions[] = {
    PU_SLOT_CONDITIONS("model"),
};

/* One fitted T-learner: an outcome model per arm (the point estimate, or a
 * bootstrap replica). */
typedef struct t_core {
    tt_learner **mu;
} t_core;

/* meta owns the training copy, the w means, the point core and the bootstrap. */
typedef struct t_model {
    pu_meta meta;
    pu_slot slot;
} t_model;

static void t_core_free(void *ctx, void *core)
{
    const t_model *m = ctx;
    t_core *c = core;
    if (!c)
        return;
    for (int k = 0; c->mu && k < m->meta.n_arms; k++)
        m->meta.host->learner_destroy(c->mu[k]);
    m->meta.host->release(c->mu);
    m->meta.host->release(c);
}

static t_core *t_core_new(const t_model *m)
{
    t_core *c = m->meta.host->alloc_zero(1, sizeof *c);
    if (c && !(c->mu = m->meta.host->alloc_zero((size_t)m->meta.n_arms, sizeof *c->mu))) {
        m->meta.host->release(c);
        c = NULL;
    }
    return c;
}

/* Every arm's model on the [x, w] of its rows within idx (repeats allowed). */
static int t_core_fit(void *ctx, const size_t *idx, size_t n_idx, void **out, char *err,
                      size_t errlen)
{
    const t_model *m = ctx;
    t_core *c = t_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_meta_groups g = {0};
    int rc = pu_meta_groups_make(&m->meta, idx, n_idx, &g, err, errlen);
    size_t p = m->meta.p_x + m->meta.p_w;
    for (int k = 0; k < m->meta.n_arms && rc == TT_OK; k++)
        rc = pu_meta_fit_learner(&m->meta, &m->slot, g.list[k], g.cnt[k], p, g.fxw[k], g.y[k],
                                 &c->mu[k], err, errlen);
    pu_meta_groups_free(&m->meta, &g);
    if (rc != TT_OK) {
        t_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int t_core_effect(void *ctx, const void *core, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    const t_model *m = ctx;
    const t_core *c = core;
    const tt_plugin_host *h = m->meta.host;
    if (rows->p_x != m->meta.p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->meta.p_x, rows->p_x);
    size_t n = rows->n, p = m->meta.p_x + m->meta.p_w;
    double *f = pu_features_xw(h, rows, m->meta.p_w, m->meta.w_mean);
    double *base = h->alloc(sizeof *base * (n + 1));
    int rc = TT_OK;
    if (!f || !base) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    } else {
        rc = h->learner_predict(c->mu[0], n, p, f, base, err, errlen);
        for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++) {
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

static int t_core_save(void *ctx, const void *core, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    const t_model *m = ctx;
    const t_core *c = core;
    int rc = TT_OK;
    for (int k = 0; k < m->meta.n_arms && rc == TT_OK; k++)
        rc = pu_save_learner(m->meta.host, c->mu[k], sink, err, errlen);
    return rc;
}

static int t_core_load(void *ctx, const tt_plugin_source *src, void **out, char *err,
                       size_t errlen)
{
    const t_model *m = ctx;
    t_core *c = t_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 0; k < m->meta.n_arms && rc == TT_OK; k++)
        rc = pu_load_learner(m->meta.host, src, &c->mu[k], err, errlen);
    if (rc != TT_OK) {
        t_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static const pu_meta_ops t_meta_ops = {
    .name = "t_learner",
    .core = {.fit = t_core_fit, .effect = t_core_effect, .save = t_core_save,
             .load = t_core_load, .destroy = t_core_free},
    .keep_w_mean = 1,
};

/* ---- the plugin ---- */

static void t_destroy(void *instance)
{
    t_model *m = instance;
    if (!m)
        return;
    pu_meta_reset(&m->meta);
    m->meta.host->release(m);
}

static t_model *t_alloc(const tt_plugin_host *host, int n_arms)
{
    t_model *m = host->alloc_zero(1, sizeof *m);
    if (m)
        pu_meta_init(&m->meta, host, &t_meta_ops, m, n_arms);
    return m;
}

static int t_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    t_model *m = t_alloc(host, n_arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_slot_read(params, P_MODEL, &m->slot);
    *instance = m;
    return TT_OK;
}

static int t_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    return pu_meta_fit(&((t_model *)instance)->meta, d, err, errlen);
}

static int t_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    return pu_meta_effect(&((t_model *)instance)->meta, rows, out, err, errlen);
}

static int t_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    return pu_meta_interval(&((t_model *)instance)->meta, rows, alpha, lo, hi, err, errlen);
}

static int t_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    return pu_meta_average(&((t_model *)instance)->meta, rows, alpha, ate, lo, hi, err, errlen);
}

static int t_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    t_model *m = instance;
    int rc = pu_meta_check(&m->meta, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "t_learner 2\narms %d\np_x %zu\np_w %zu\n", m->meta.n_arms,
                  m->meta.p_x, m->meta.p_w) ||
        pu_slot_save(&m->slot, sink) ||
        pu_write_doubles(sink, "w_mean", m->meta.w_mean, m->meta.p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_meta_save(&m->meta, sink, err, errlen);
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
    t_model *m = t_alloc(host, (int)arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->meta.p_x = (size_t)p_x;
    m->meta.p_w = (size_t)p_w;
    int rc = TT_OK;
    if (pu_slot_load(src, &m->slot) || pu_meta_load_w_mean(&m->meta, src))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "t_learner model: bad header");
    if (rc == TT_OK)
        rc = pu_meta_load(&m->meta, src, err, errlen);
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
    .conditions = t_conditions,
    .n_conditions = sizeof t_conditions / sizeof t_conditions[0],
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
