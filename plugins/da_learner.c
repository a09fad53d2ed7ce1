/*
 * da_learner - the domain-adaptation learner (EconML's
 * DomainAdaptationLearner), multi-arm.
 *
 * For each treated arm k, on the rows of arms 0 and k, with e the host's
 * out-of-fold propensities clipped at 0.01:
 *   stage 1: "outcome" slot learners on [x, w] fitted with importance
 *            weights that shift each group towards the other one:
 *            mu_k^(k) on arm-k rows weighted e_0 / e_k,
 *            mu_0^(k) on control rows weighted e_k / e_0
 *            (so the control model is per arm k);
 *   imputed effects: D = Y - mu_0^(k)(x, w) on arm-k rows,
 *                    D = mu_k^(k)(x, w) - Y on control rows;
 *   stage 2: one "effect" slot learner tau_k on x fitted to D over the arm-k
 *            and control rows together; the effect is tau_k(x).
 * Sample weights multiply the importance weights.
 *
 * Intervals: bootstrap over the whole learner (a replica refits both stages
 * on a resample stratified by arm, with the same out-of-fold propensities;
 * they are not refitted), fitted lazily on the first interval, average or
 * save request; the training rows and their propensities are copied at fit().
 * The replica count is the run's intervals.resamples (pu_boot_resamples), not
 * a hyperparameter.
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_meta.h"
#include "common/pu_nuis.h"
#include "common/pu_slot.h"

enum {
    P_OUTCOME,
    P_EFFECT = P_OUTCOME + PU_SLOT_N,
    P_COUNT = P_EFFECT + PU_SLOT_N
};

static const tt_plugin_param da_params[] = {
    PU_SLOT_PARAMS("outcome", "the stage-1 outcome models"),
    PU_SLOT_PARAMS("effect", "the stage-2 effect models"),
};

/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition da_conditions[] = {
    PU_SLOT_CONDITIONS("outcome"),
    PU_SLOT_CONDITIONS("effect"),
};

/* One fitted DA-learner (the point estimate or a bootstrap replica); every
 * array holds K-1 learners, entry k-1 for treated arm k. */
typedef struct da_core {
    tt_learner **mu1; /* arm k's outcome model on [x, w] */
    tt_learner **mu0; /* the control outcome model weighted towards arm k, on [x, w] */
    tt_learner **tau; /* the effect model of arm k, on x */
} da_core;

/* meta owns the training copy, its propensities (meta.nuis: n x K out-of-fold,
 * clipped), the point core and the bootstrap. */
typedef struct da_model {
    pu_meta meta;
    pu_slot outcome, effect;
} da_model;

/* Propensities are clipped here before they become importance weights. */
#define DA_CLIP 0.01

/* ---- one DA-learner ---- */

static void da_core_free(void *ctx, void *core)
{
    const da_model *m = ctx;
    da_core *c = core;
    if (!c)
        return;
    const tt_plugin_host *h = m->meta.host;
    for (int k = 0; k < m->meta.n_arms - 1; k++) {
        if (c->mu1)
            h->learner_destroy(c->mu1[k]);
        if (c->mu0)
            h->learner_destroy(c->mu0[k]);
        if (c->tau)
            h->learner_destroy(c->tau[k]);
    }
    h->release(c->mu1);
    h->release(c->mu0);
    h->release(c->tau);
    h->release(c);
}

static da_core *da_core_new(const da_model *m)
{
    const tt_plugin_host *h = m->meta.host;
    da_core *c = h->alloc_zero(1, sizeof *c);
    if (!c)
        return NULL;
    c->mu1 = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->mu1);
    c->mu0 = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->mu0);
    c->tau = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->tau);
    if (!c->mu1 || !c->mu0 || !c->tau) {
        da_core_free((void *)m, c);
        return NULL;
    }
    return c;
}

/* Stage 1 of arm k on group `of` (k itself or 0): importance weight
 * e_other / e_of per row (other = the group it is shifted towards), times
 * the sample weight. */
static int da_stage1(const da_model *m, const pu_meta_groups *g, int k, int of,
                     tt_learner **out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->meta.host;
    const pu_meta_train *tr = &m->meta.train;
    const double *e = m->meta.nuis;
    int other = of == 0 ? k : 0;
    size_t cnt = g->cnt[of];
    double *wt = h->alloc(sizeof *wt * (cnt + 1));
    if (!wt)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < cnt; r++) {
        size_t i = g->list[of][r];
        wt[r] = e[(size_t)other * tr->n + i] / e[(size_t)of * tr->n + i] *
                (tr->wt ? tr->wt[i] : 1.0);
    }
    int rc = pu_slot_create(h, &m->outcome, 0, out, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(*out, cnt, m->meta.p_x + m->meta.p_w, g->fxw[of], g->y[of], wt, err,
                            errlen);
    h->release(wt);
    return rc;
}

/* Imputed effects of group `of` into d: sign (Y - other(x, w)). */
static int da_impute(const da_model *m, const pu_meta_groups *g, int of,
                     const tt_learner *other, double sign, double *d, char *err, size_t errlen)
{
    size_t cnt = g->cnt[of];
    int rc = m->meta.host->learner_predict(other, cnt, m->meta.p_x + m->meta.p_w, g->fxw[of], d,
                                           err, errlen);
    for (size_t r = 0; rc == TT_OK && r < cnt; r++)
        d[r] = sign * (g->y[of][r] - d[r]);
    return rc;
}

/* Stage 2 of arm k: tau_k on x over arm-k rows then control rows. */
static int da_stage2(const da_model *m, const pu_meta_groups *g, int k, const da_core *c,
                     char *err, size_t errlen)
{
    const tt_plugin_host *h = m->meta.host;
    size_t n1 = g->cnt[k], n0 = g->cnt[0], n = n1 + n0;
    size_t *list = h->alloc(sizeof *list * (n + 1));
    double *d = h->alloc(sizeof *d * (n + 1));
    double *fx = NULL;
    int rc = TT_OK;
    if (!list || !d) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(list, g->list[k], sizeof *list * n1);
    memcpy(list + n1, g->list[0], sizeof *list * n0);
    fx = pu_meta_features(&m->meta, list, n, 0);
    if (!fx) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* Arm-k rows: D = Y - mu_0^(k); control rows: D = mu_k^(k) - Y. */
    rc = da_impute(m, g, k, c->mu0[k - 1], 1.0, d, err, errlen);
    if (rc == TT_OK)
        rc = da_impute(m, g, 0, c->mu1[k - 1], -1.0, d + n1, err, errlen);
    if (rc == TT_OK)
        rc = pu_meta_fit_learner(&m->meta, &m->effect, list, n, m->meta.p_x, fx, d,
                                 &c->tau[k - 1], err, errlen);
out:
    h->release(list);
    h->release(d);
    h->release(fx);
    return rc;
}

static int da_core_fit(void *ctx, const size_t *idx, size_t n_idx, void **out, char *err,
                       size_t errlen)
{
    const da_model *m = ctx;
    da_core *c = da_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_meta_groups g = {0};
    int rc = pu_meta_groups_make(&m->meta, idx, n_idx, &g, err, errlen);
    for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++) {
        rc = da_stage1(m, &g, k, k, &c->mu1[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = da_stage1(m, &g, k, 0, &c->mu0[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = da_stage2(m, &g, k, c, err, errlen);
    }
    pu_meta_groups_free(&m->meta, &g);
    if (rc != TT_OK) {
        da_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int da_core_effect(void *ctx, const void *core, const tt_plugin_data *rows, double *out,
                          char *err, size_t errlen)
{
    const da_model *m = ctx;
    const da_core *c = core;
    size_t p_x = m->meta.p_x;
    if (rows->p_x != p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       p_x, rows->p_x);
    size_t n = rows->n;
    /* A private copy: rows->x is NULL when p_x == 0, learners get a valid pointer. */
    double *x = m->meta.host->alloc(sizeof *x * (n * p_x + 1));
    if (!x)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (p_x)
        memcpy(x, rows->x, sizeof *x * n * p_x);
    int rc = TT_OK;
    for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++)
        rc = m->meta.host->learner_predict(c->tau[k - 1], n, p_x, x, out + (size_t)(k - 1) * n,
                                           err, errlen);
    m->meta.host->release(x);
    return rc;
}

/* Per arm k: mu1, mu0, tau. */
static int da_core_save(void *ctx, const void *core, const tt_plugin_sink *sink, char *err,
                        size_t errlen)
{
    const da_model *m = ctx;
    const da_core *c = core;
    int rc = TT_OK;
    for (int k = 0; k < m->meta.n_arms - 1 && rc == TT_OK; k++) {
        rc = pu_save_learner(m->meta.host, c->mu1[k], sink, err, errlen);
        if (rc == TT_OK)
            rc = pu_save_learner(m->meta.host, c->mu0[k], sink, err, errlen);
        if (rc == TT_OK)
            rc = pu_save_learner(m->meta.host, c->tau[k], sink, err, errlen);
    }
    return rc;
}

static int da_core_load(void *ctx, const tt_plugin_source *src, void **out, char *err,
                        size_t errlen)
{
    const da_model *m = ctx;
    da_core *c = da_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 0; k < m->meta.n_arms - 1 && rc == TT_OK; k++) {
        rc = pu_load_learner(m->meta.host, src, &c->mu1[k], err, errlen);
        if (rc == TT_OK)
            rc = pu_load_learner(m->meta.host, src, &c->mu0[k], err, errlen);
        if (rc == TT_OK)
            rc = pu_load_learner(m->meta.host, src, &c->tau[k], err, errlen);
    }
    if (rc != TT_OK) {
        da_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* The out-of-fold propensities of the training rows, kept for the replicas. */
static int da_prepare(void *ctx, const tt_plugin_data *d, char *err, size_t errlen)
{
    da_model *m = ctx;
    return pu_nuis_propensity_oof(m->meta.host, m->meta.n_arms, d->n, DA_CLIP, &m->meta.nuis,
                                  err, errlen);
}

static const pu_meta_ops da_meta_ops = {
    .name = "da_learner",
    .core = {.fit = da_core_fit, .effect = da_core_effect, .save = da_core_save,
             .load = da_core_load, .destroy = da_core_free},
    .prepare = da_prepare,
};

/* ---- the plugin ---- */

static void da_destroy(void *instance)
{
    da_model *m = instance;
    if (!m)
        return;
    pu_meta_reset(&m->meta);
    m->meta.host->release(m);
}

static da_model *da_alloc(const tt_plugin_host *host, int n_arms)
{
    da_model *m = host->alloc_zero(1, sizeof *m);
    if (m)
        pu_meta_init(&m->meta, host, &da_meta_ops, m, n_arms);
    return m;
}

static int da_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    if (host->abi_minor < 1 || !host->nuisance_oof)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "da_learner needs the host's propensities (plugin ABI 1.1 or newer)");
    da_model *m = da_alloc(host, n_arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_slot_read(params, P_OUTCOME, &m->outcome);
    pu_slot_read(params, P_EFFECT, &m->effect);
    *instance = m;
    return TT_OK;
}

static int da_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    return pu_meta_fit(&((da_model *)instance)->meta, d, err, errlen);
}

static int da_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    return pu_meta_effect(&((da_model *)instance)->meta, rows, out, err, errlen);
}

static int da_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    return pu_meta_interval(&((da_model *)instance)->meta, rows, alpha, lo, hi, err, errlen);
}

static int da_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    return pu_meta_average(&((da_model *)instance)->meta, rows, alpha, ate, lo, hi, err, errlen);
}

static int da_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    da_model *m = instance;
    int rc = pu_meta_check(&m->meta, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "da_learner 1\narms %d\np_x %zu\np_w %zu\n", m->meta.n_arms,
                  m->meta.p_x, m->meta.p_w) ||
        pu_slot_save(&m->outcome, sink) || pu_slot_save(&m->effect, sink))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_meta_save(&m->meta, sink, err, errlen);
}

static int da_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "da_learner 1") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a da_learner model (version 1)");
    da_model *m = da_alloc(host, (int)arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->meta.p_x = (size_t)p_x;
    m->meta.p_w = (size_t)p_w;
    int rc = TT_OK;
    if (pu_slot_load(src, &m->outcome) || pu_slot_load(src, &m->effect))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "da_learner model: bad header");
    if (rc == TT_OK)
        rc = pu_meta_load(&m->meta, src, err, errlen);
    if (rc) {
        da_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor da_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "da_learner",
    .version = "1.0.0",
    .summary = "Domain-adaptation learner: importance-weighted outcome models, one effect model "
               "per arm",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_PROPENSITY,
    .params = da_params,
    .n_params = P_COUNT,
    .conditions = da_conditions,
    .n_conditions = sizeof da_conditions / sizeof da_conditions[0],
    .create = da_create,
    .fit = da_fit,
    .effect = da_effect,
    .effect_interval = da_interval,
    .save = da_save,
    .load = da_load,
    .destroy = da_destroy,
    .interval_method = "bootstrap (normal) over the whole DA-learner",
    .average_effect = da_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &da_descriptor;
}
