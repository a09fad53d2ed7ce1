/*
 * x_learner - the X-learner (Kunzel et al. 2019), multi-arm.
 *
 * Stage 1, a T-learner: one "outcome" slot learner mu_k per arm on [x, w].
 * Imputed effects, per treated arm k:
 *   D = Y - mu_0(x, w)   on arm-k rows,     D = mu_k(x, w) - Y   on control rows.
 * Stage 2: "effect" slot learners on x alone: tau_k^(1) fitted to D on the
 * arm-k rows, tau_k^(0) on the control rows. The effect blends them with the
 * host's propensity,
 *   tau_k(x) = g tau_k^(0)(x) + (1 - g) tau_k^(1)(x),  g = e_k / (e_k + e_0),
 * so the stage-2 model trained on the larger group gets the larger weight.
 * At effect time e comes from the host's propensity model for the rows; when
 * the host has none for new rows (known propensities, or a loaded model run
 * without nuisances: TT_ERR_UNSUPPORTED) the training shares of the arms
 * stand in for e_k, which is logged once at INFO.
 *
 * Intervals: bootstrap over the whole X-learner (a replica refits both stages
 * on a resample stratified by arm; the propensities are not refitted), fitted
 * lazily on the first interval, average or save request; the training rows
 * are copied at fit() for that purpose.
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

static const tt_plugin_param x_params[] = {
    PU_SLOT_PARAMS("outcome", "the stage-1 outcome models"),
    PU_SLOT_PARAMS("effect", "the stage-2 effect models"),
};

/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition x_conditions[] = {
    PU_SLOT_CONDITIONS("outcome"),
    PU_SLOT_CONDITIONS("effect"),
};

/* One fitted X-learner (the point estimate or a bootstrap replica). */
typedef struct x_core {
    tt_learner **mu;   /* K stage-1 outcome models on [x, w] */
    tt_learner **tau1; /* K-1 stage-2 models fitted on arm-k rows, on x */
    tt_learner **tau0; /* K-1 stage-2 models fitted on control rows, on x */
} x_core;

/* meta owns the training copy, the point core and the bootstrap. */
typedef struct x_model {
    pu_meta meta;
    pu_slot outcome, effect;
    double *share;   /* K training shares of the arms (fallback propensity) */
    int logged_shares;
    /* Blend weights of the rows being bootstrapped, computed once per
     * interval / average call rather than once per replica. */
    const tt_plugin_data *g_rows;
    const double *g_cached;
} x_model;

/* ---- one X-learner ---- */

static void x_core_free(void *ctx, void *core)
{
    const x_model *m = ctx;
    x_core *c = core;
    if (!c)
        return;
    const tt_plugin_host *h = m->meta.host;
    for (int k = 0; k < m->meta.n_arms; k++) {
        if (c->mu)
            h->learner_destroy(c->mu[k]);
        if (k > 0 && c->tau1)
            h->learner_destroy(c->tau1[k - 1]);
        if (k > 0 && c->tau0)
            h->learner_destroy(c->tau0[k - 1]);
    }
    h->release(c->mu);
    h->release(c->tau1);
    h->release(c->tau0);
    h->release(c);
}

static x_core *x_core_new(const x_model *m)
{
    const tt_plugin_host *h = m->meta.host;
    x_core *c = h->alloc_zero(1, sizeof *c);
    if (!c)
        return NULL;
    c->mu = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->mu);
    c->tau1 = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->tau1);
    c->tau0 = h->alloc_zero((size_t)m->meta.n_arms, sizeof *c->tau0);
    if (!c->mu || !c->tau1 || !c->tau0) {
        x_core_free((void *)m, c);
        return NULL;
    }
    return c;
}

/* Stage 2 for one arm's group of rows `of`: D = sign (Y - mu_other(x, w)),
 * then a learner of D on x. */
static int x_stage2(const x_model *m, const pu_meta_groups *g, int of, const tt_learner *other,
                    double sign, tt_learner **out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->meta.host;
    size_t cnt = g->cnt[of], p = m->meta.p_x + m->meta.p_w;
    double *d = h->alloc(sizeof *d * (cnt + 1));
    double *fx = pu_meta_features(&m->meta, g->list[of], cnt, 0);
    int rc = TT_OK;
    if (!d || !fx)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        rc = h->learner_predict(other, cnt, p, g->fxw[of], d, err, errlen);
    if (rc == TT_OK) {
        for (size_t r = 0; r < cnt; r++)
            d[r] = sign * (g->y[of][r] - d[r]);
        rc = pu_meta_fit_learner(&m->meta, &m->effect, g->list[of], cnt, m->meta.p_x, fx, d,
                                 out, err, errlen);
    }
    h->release(d);
    h->release(fx);
    return rc;
}

static int x_core_fit(void *ctx, const size_t *idx, size_t n_idx, void **out, char *err,
                      size_t errlen)
{
    const x_model *m = ctx;
    x_core *c = x_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_meta_groups g = {0};
    int rc = pu_meta_groups_make(&m->meta, idx, n_idx, &g, err, errlen);
    size_t p = m->meta.p_x + m->meta.p_w;
    for (int k = 0; k < m->meta.n_arms && rc == TT_OK; k++)
        rc = pu_meta_fit_learner(&m->meta, &m->outcome, g.list[k], g.cnt[k], p, g.fxw[k],
                                 g.y[k], &c->mu[k], err, errlen);
    for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++) {
        /* Treated rows: D = Y - mu_0; control rows: D = mu_k - Y = -(Y - mu_k). */
        rc = x_stage2(m, &g, k, c->mu[0], 1.0, &c->tau1[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = x_stage2(m, &g, 0, c->mu[k], -1.0, &c->tau0[k - 1], err, errlen);
    }
    pu_meta_groups_free(&m->meta, &g);
    if (rc != TT_OK) {
        x_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* out = g tau0(x) + (1 - g) tau1(x) per treated arm; g: n x (K-1). */
static int x_core_effect_g(const x_model *m, const x_core *c, const tt_plugin_data *rows,
                           const double *g, double *out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->meta.host;
    size_t n = rows->n, p_x = m->meta.p_x;
    double *t0 = h->alloc(sizeof *t0 * (n + 1));
    double *x = h->alloc(sizeof *x * (n * p_x + 1));
    int rc = (t0 && x) ? TT_OK : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK && p_x)
        memcpy(x, rows->x, sizeof *x * n * p_x);
    for (int k = 1; k < m->meta.n_arms && rc == TT_OK; k++) {
        double *col = out + (size_t)(k - 1) * n;
        const double *gk = g + (size_t)(k - 1) * n;
        rc = h->learner_predict(c->tau1[k - 1], n, p_x, x, col, err, errlen);
        if (rc == TT_OK)
            rc = h->learner_predict(c->tau0[k - 1], n, p_x, x, t0, err, errlen);
        for (size_t i = 0; rc == TT_OK && i < n; i++)
            col[i] = gk[i] * t0[i] + (1.0 - gk[i]) * col[i];
    }
    h->release(t0);
    h->release(x);
    return rc;
}

/* Blend weights g_k = e_k / (e_k + e_0) for rows: n x (K-1), new array. */
static int x_blend(x_model *m, const tt_plugin_data *rows, double **out, char *err,
                   size_t errlen)
{
    const tt_plugin_host *h = m->meta.host;
    size_t n = rows->n;
    double *g = h->alloc(sizeof *g * (n * (size_t)(m->meta.n_arms - 1) + 1));
    if (!g)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    double *e = NULL;
    char why[256] = "";
    int rc = TT_ERR_UNSUPPORTED;
    if (h->abi_minor >= 1 && h->nuisance_predict)
        rc = pu_nuis_propensity_predict(h, m->meta.n_arms, rows, 0.0, &e, why, sizeof why);
    if (rc == TT_ERR_UNSUPPORTED) {
        if (!m->logged_shares)
            h->log(h->host_ctx, TT_LOG_INFO,
                   "x_learner: no propensity model for new rows (%s); blending with the "
                   "training shares of the arms",
                   why[0] ? why : "host without nuisances");
        m->logged_shares = 1;
    } else if (rc != TT_OK) {
        h->release(g);
        return pu_errf(err, errlen, rc, "x_learner propensities: %s", why);
    }
    for (int k = 1; k < m->meta.n_arms; k++)
        for (size_t i = 0; i < n; i++) {
            double ek = e ? e[(size_t)k * n + i] : m->share[k];
            double e0 = e ? e[i] : m->share[0];
            g[(size_t)(k - 1) * n + i] = ek + e0 > 0 ? ek / (ek + e0) : 0.5;
        }
    h->release(e);
    *out = g;
    return TT_OK;
}

static int x_check_rows(const x_model *m, const tt_plugin_data *rows, char *err, size_t errlen)
{
    if (rows->p_x != m->meta.p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->meta.p_x, rows->p_x);
    return TT_OK;
}

/* Uses the cached blend weights when they are for these rows. */
static int x_core_effect(void *ctx, const void *core, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    x_model *m = ctx;
    int rc = x_check_rows(m, rows, err, errlen);
    if (rc)
        return rc;
    if (m->g_cached && m->g_rows == rows)
        return x_core_effect_g(m, core, rows, m->g_cached, out, err, errlen);
    double *g = NULL;
    rc = x_blend(m, rows, &g, err, errlen);
    if (rc == TT_OK)
        rc = x_core_effect_g(m, core, rows, g, out, err, errlen);
    m->meta.host->release(g);
    return rc;
}

static int x_save_list(const x_model *m, tt_learner *const *l, int count,
                       const tt_plugin_sink *sink, char *err, size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < count && rc == TT_OK; k++)
        rc = pu_save_learner(m->meta.host, l[k], sink, err, errlen);
    return rc;
}

static int x_load_list(const x_model *m, tt_learner **l, int count, const tt_plugin_source *src,
                       char *err, size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < count && rc == TT_OK; k++)
        rc = pu_load_learner(m->meta.host, src, &l[k], err, errlen);
    return rc;
}

static int x_core_save(void *ctx, const void *core, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    const x_model *m = ctx;
    const x_core *c = core;
    int rc = x_save_list(m, c->mu, m->meta.n_arms, sink, err, errlen);
    if (rc == TT_OK)
        rc = x_save_list(m, c->tau1, m->meta.n_arms - 1, sink, err, errlen);
    if (rc == TT_OK)
        rc = x_save_list(m, c->tau0, m->meta.n_arms - 1, sink, err, errlen);
    return rc;
}

static int x_core_load(void *ctx, const tt_plugin_source *src, void **out, char *err,
                       size_t errlen)
{
    const x_model *m = ctx;
    x_core *c = x_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = x_load_list(m, c->mu, m->meta.n_arms, src, err, errlen);
    if (rc == TT_OK)
        rc = x_load_list(m, c->tau1, m->meta.n_arms - 1, src, err, errlen);
    if (rc == TT_OK)
        rc = x_load_list(m, c->tau0, m->meta.n_arms - 1, src, err, errlen);
    if (rc != TT_OK) {
        x_core_free(ctx, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* The training shares of the arms, the fallback propensities. */
static int x_prepare(void *ctx, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    x_model *m = ctx;
    memset(m->share, 0, sizeof *m->share * (size_t)m->meta.n_arms);
    for (size_t i = 0; i < d->n; i++)
        m->share[d->t[i]] += 1.0 / (double)d->n;
    return TT_OK;
}

static const pu_meta_ops x_meta_ops = {
    .name = "x_learner",
    .core = {.fit = x_core_fit, .effect = x_core_effect, .save = x_core_save,
             .load = x_core_load, .destroy = x_core_free},
    .prepare = x_prepare,
};

/* ---- the plugin ---- */

static void x_destroy(void *instance)
{
    x_model *m = instance;
    if (!m)
        return;
    pu_meta_reset(&m->meta);
    m->meta.host->release(m->share);
    m->meta.host->release(m);
}

static int x_alloc(const tt_plugin_host *host, int n_arms, x_model **out, char *err,
                   size_t errlen)
{
    x_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_meta_init(&m->meta, host, &x_meta_ops, m, n_arms);
    m->share = host->alloc_zero((size_t)n_arms, sizeof *m->share);
    if (!m->share) {
        host->release(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return TT_OK;
}

static int x_create(const tt_plugin_host *host, const double *params, int n_arms,
                    void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    x_model *m = NULL;
    int rc = x_alloc(host, n_arms, &m, err, errlen);
    if (rc != TT_OK)
        return rc;
    pu_slot_read(params, P_OUTCOME, &m->outcome);
    pu_slot_read(params, P_EFFECT, &m->effect);
    *instance = m;
    return TT_OK;
}

static int x_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    return pu_meta_fit(&((x_model *)instance)->meta, d, err, errlen);
}

static int x_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    return pu_meta_effect(&((x_model *)instance)->meta, rows, out, err, errlen);
}

/* The bootstrap call with the rows' blend weights computed once and cached,
 * so the point estimate and every replica reuse them. */
static int x_boot_call(x_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    int rc = pu_meta_check(&m->meta, err, errlen);
    if (rc == TT_OK)
        rc = x_check_rows(m, rows, err, errlen);
    if (rc)
        return rc;
    double *g = NULL;
    rc = x_blend(m, rows, &g, err, errlen);
    if (rc == TT_OK) {
        m->g_rows = rows;
        m->g_cached = g;
        rc = ate ? pu_meta_average(&m->meta, rows, alpha, ate, lo, hi, err, errlen)
                 : pu_meta_interval(&m->meta, rows, alpha, lo, hi, err, errlen);
        m->g_rows = NULL;
        m->g_cached = NULL;
    }
    m->meta.host->release(g);
    return rc;
}

static int x_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    return x_boot_call(instance, rows, alpha, NULL, lo, hi, err, errlen);
}

static int x_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    return x_boot_call(instance, rows, alpha, ate, lo, hi, err, errlen);
}

static int x_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    x_model *m = instance;
    int rc = pu_meta_check(&m->meta, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "x_learner 1\narms %d\np_x %zu\np_w %zu\n", m->meta.n_arms,
                  m->meta.p_x, m->meta.p_w) ||
        pu_slot_save(&m->outcome, sink) || pu_slot_save(&m->effect, sink) ||
        pu_write_doubles(sink, "share", m->share, (size_t)m->meta.n_arms))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_meta_save(&m->meta, sink, err, errlen);
}

static int x_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                  char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "x_learner 1") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not an x_learner model (version 1)");
    x_model *m = NULL;
    int rc = x_alloc(host, (int)arms, &m, err, errlen);
    if (rc)
        return rc;
    m->meta.p_x = (size_t)p_x;
    m->meta.p_w = (size_t)p_w;
    if (pu_slot_load(src, &m->outcome) || pu_slot_load(src, &m->effect) ||
        pu_read_doubles(src, "share", m->share, (size_t)arms))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "x_learner model: bad header");
    if (rc == TT_OK)
        rc = pu_meta_load(&m->meta, src, err, errlen);
    if (rc) {
        x_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor x_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "x_learner",
    .version = "1.0.0",
    .summary = "X-learner: imputed effects from a T-learner, propensity-blended effect models",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_PROPENSITY,
    .params = x_params,
    .n_params = P_COUNT,
    .conditions = x_conditions,
    .n_conditions = sizeof x_conditions / sizeof x_conditions[0],
    .create = x_create,
    .fit = x_fit,
    .effect = x_effect,
    .effect_interval = x_interval,
    .save = x_save,
    .load = x_load,
    .destroy = x_destroy,
    .interval_method = "bootstrap (normal) over the whole X-learner",
    .average_effect = x_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &x_descriptor;
}
