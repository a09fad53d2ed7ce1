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
#include "common/pu_boot.h"
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

/* The training rows, copied at fit() for the bootstrap. Owned by the model. */
typedef struct x_train {
    size_t n, p_x, p_w;
    double *x, *w, *y, *wt; /* wt NULL: unit weights */
    int *t;
} x_train;

/* One fitted X-learner (the point estimate or a bootstrap replica). */
typedef struct x_core {
    tt_learner **mu;   /* K stage-1 outcome models on [x, w] */
    tt_learner **tau1; /* K-1 stage-2 models fitted on arm-k rows, on x */
    tt_learner **tau0; /* K-1 stage-2 models fitted on control rows, on x */
} x_core;

typedef struct x_model {
    const tt_plugin_host *host;
    int n_arms;
    pu_slot outcome, effect;
    size_t p_x, p_w;
    double *share;   /* K training shares of the arms (fallback propensity) */
    x_train train;   /* empty after load */
    x_core *point;
    pu_boot boot;
    int boot_ready;
    int logged_shares;
    /* Blend weights of the rows being bootstrapped, computed once per
     * interval / average call rather than once per replica. */
    const tt_plugin_data *g_rows;
    const double *g_cached;
} x_model;

/* ---- training copy and row subsets ---- */

static void *x_dup(const tt_plugin_host *h, const void *src, size_t bytes)
{
    void *p = h->alloc(bytes + 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static void x_train_free(const tt_plugin_host *h, x_train *tr)
{
    h->release(tr->x);
    h->release(tr->w);
    h->release(tr->y);
    h->release(tr->wt);
    h->release(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int x_train_copy(const tt_plugin_host *h, const tt_plugin_data *d, x_train *tr)
{
    size_t n = d->n;
    tr->n = n;
    tr->p_x = d->p_x;
    tr->p_w = d->p_w;
    tr->x = x_dup(h, d->x, sizeof(double) * n * d->p_x);
    tr->w = x_dup(h, d->w, sizeof(double) * n * d->p_w);
    tr->y = x_dup(h, d->y, sizeof(double) * n);
    tr->t = x_dup(h, d->t, sizeof(int) * n);
    tr->wt = d->weight ? x_dup(h, d->weight, sizeof(double) * n) : NULL;
    return tr->x && tr->w && tr->y && tr->t && (tr->wt || !d->weight) ? TT_OK : TT_ERR_NOMEM;
}

/* The entries of idx whose arm is `arm`, as a new list (host->alloc). */
static size_t *x_select(const x_model *m, const size_t *idx, size_t n_idx, int arm, size_t *cnt)
{
    size_t *list = m->host->alloc(sizeof *list * (n_idx + 1));
    size_t c = 0;
    for (size_t j = 0; list && j < n_idx; j++)
        if (m->train.t[idx[j]] == arm)
            list[c++] = idx[j];
    *cnt = c;
    return list;
}

/* Features of the training rows list[0..cnt-1]: [x, w] (with_w) or x. */
static double *x_features(const x_model *m, const size_t *list, size_t cnt, int with_w)
{
    const x_train *tr = &m->train;
    size_t p = tr->p_x + (with_w ? tr->p_w : 0);
    double *f = m->host->alloc(sizeof *f * (cnt * p + 1));
    for (size_t r = 0; f && r < cnt; r++) {
        for (size_t c = 0; c < tr->p_x; c++)
            f[c * cnt + r] = tr->x[c * tr->n + list[r]];
        for (size_t c = 0; with_w && c < tr->p_w; c++)
            f[(tr->p_x + c) * cnt + r] = tr->w[c * tr->n + list[r]];
    }
    return f;
}

/* A new slot learner fitted to target on features f of the rows in list
 * (sample weights taken from the training copy). */
static int x_fit_learner(const x_model *m, const pu_slot *slot, const size_t *list, size_t cnt,
                         size_t p, const double *f, const double *target, tt_learner **out,
                         char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    double *wt = NULL;
    if (m->train.wt) {
        wt = h->alloc(sizeof *wt * (cnt + 1));
        if (!wt)
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < cnt; r++)
            wt[r] = m->train.wt[list[r]];
    }
    int rc = pu_slot_create(h, slot, 0, out, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(*out, cnt, p, f, target, wt, err, errlen);
    h->release(wt);
    return rc;
}

/* ---- one X-learner ---- */

static void x_core_free(const x_model *m, x_core *c)
{
    if (!c)
        return;
    const tt_plugin_host *h = m->host;
    for (int k = 0; k < m->n_arms; k++) {
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
    const tt_plugin_host *h = m->host;
    x_core *c = h->alloc_zero(1, sizeof *c);
    if (!c)
        return NULL;
    c->mu = h->alloc_zero((size_t)m->n_arms, sizeof *c->mu);
    c->tau1 = h->alloc_zero((size_t)m->n_arms, sizeof *c->tau1);
    c->tau0 = h->alloc_zero((size_t)m->n_arms, sizeof *c->tau0);
    if (!c->mu || !c->tau1 || !c->tau0) {
        x_core_free(m, c);
        return NULL;
    }
    return c;
}

/* Row lists and [x, w] features of every arm within idx. */
typedef struct x_groups {
    size_t **list;
    size_t *cnt;
    double **fxw; /* [x, w] of the rows */
    double **y;   /* outcomes of the rows */
} x_groups;

static void x_groups_free(const x_model *m, x_groups *g)
{
    for (int k = 0; k < m->n_arms; k++) {
        if (g->list)
            m->host->release(g->list[k]);
        if (g->fxw)
            m->host->release(g->fxw[k]);
        if (g->y)
            m->host->release(g->y[k]);
    }
    m->host->release(g->list);
    m->host->release(g->cnt);
    m->host->release(g->fxw);
    m->host->release(g->y);
}

static int x_groups_make(const x_model *m, const size_t *idx, size_t n_idx, x_groups *g,
                         char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t K = (size_t)m->n_arms;
    g->list = h->alloc_zero(K, sizeof *g->list);
    g->cnt = h->alloc_zero(K, sizeof *g->cnt);
    g->fxw = h->alloc_zero(K, sizeof *g->fxw);
    g->y = h->alloc_zero(K, sizeof *g->y);
    if (!g->list || !g->cnt || !g->fxw || !g->y)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < m->n_arms; k++) {
        g->list[k] = x_select(m, idx, n_idx, k, &g->cnt[k]);
        if (!g->list[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        if (g->cnt[k] == 0)
            return pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
        g->fxw[k] = x_features(m, g->list[k], g->cnt[k], 1);
        g->y[k] = h->alloc(sizeof *g->y[k] * g->cnt[k]);
        if (!g->fxw[k] || !g->y[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < g->cnt[k]; r++)
            g->y[k][r] = m->train.y[g->list[k][r]];
    }
    return TT_OK;
}

/* Stage 2 for one arm's group of rows `of`: D = sign (Y - mu_other(x, w)),
 * then a learner of D on x. */
static int x_stage2(const x_model *m, const x_groups *g, int of, const tt_learner *other,
                    double sign, tt_learner **out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t cnt = g->cnt[of], p = m->p_x + m->p_w;
    double *d = h->alloc(sizeof *d * (cnt + 1));
    double *fx = x_features(m, g->list[of], cnt, 0);
    int rc = TT_OK;
    if (!d || !fx)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        rc = h->learner_predict(other, cnt, p, g->fxw[of], d, err, errlen);
    if (rc == TT_OK) {
        for (size_t r = 0; r < cnt; r++)
            d[r] = sign * (g->y[of][r] - d[r]);
        rc = x_fit_learner(m, &m->effect, g->list[of], cnt, m->p_x, fx, d, out, err, errlen);
    }
    h->release(d);
    h->release(fx);
    return rc;
}

static int x_core_fit(const x_model *m, const size_t *idx, size_t n_idx, x_core **out,
                      char *err, size_t errlen)
{
    x_core *c = x_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    x_groups g = {0};
    int rc = x_groups_make(m, idx, n_idx, &g, err, errlen);
    size_t p = m->p_x + m->p_w;
    for (int k = 0; k < m->n_arms && rc == TT_OK; k++)
        rc = x_fit_learner(m, &m->outcome, g.list[k], g.cnt[k], p, g.fxw[k], g.y[k],
                           &c->mu[k], err, errlen);
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        /* Treated rows: D = Y - mu_0; control rows: D = mu_k - Y = -(Y - mu_k). */
        rc = x_stage2(m, &g, k, c->mu[0], 1.0, &c->tau1[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = x_stage2(m, &g, 0, c->mu[k], -1.0, &c->tau0[k - 1], err, errlen);
    }
    x_groups_free(m, &g);
    if (rc != TT_OK) {
        x_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* out = g tau0(x) + (1 - g) tau1(x) per treated arm; g: n x (K-1). */
static int x_core_effect_g(const x_model *m, const x_core *c, const tt_plugin_data *rows,
                           const double *g, double *out, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = rows->n;
    double *t0 = h->alloc(sizeof *t0 * (n + 1));
    double *x = h->alloc(sizeof *x * (n * m->p_x + 1));
    int rc = (t0 && x) ? TT_OK : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK && m->p_x)
        memcpy(x, rows->x, sizeof *x * n * m->p_x);
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        double *col = out + (size_t)(k - 1) * n;
        const double *gk = g + (size_t)(k - 1) * n;
        rc = h->learner_predict(c->tau1[k - 1], n, m->p_x, x, col, err, errlen);
        if (rc == TT_OK)
            rc = h->learner_predict(c->tau0[k - 1], n, m->p_x, x, t0, err, errlen);
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
    const tt_plugin_host *h = m->host;
    size_t n = rows->n;
    double *g = h->alloc(sizeof *g * (n * (size_t)(m->n_arms - 1) + 1));
    if (!g)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    double *e = NULL;
    char why[256] = "";
    int rc = TT_ERR_UNSUPPORTED;
    if (h->abi_minor >= 1 && h->nuisance_predict)
        rc = pu_nuis_propensity_predict(h, m->n_arms, rows, 0.0, &e, why, sizeof why);
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
    for (int k = 1; k < m->n_arms; k++)
        for (size_t i = 0; i < n; i++) {
            double ek = e ? e[(size_t)k * n + i] : m->share[k];
            double e0 = e ? e[i] : m->share[0];
            g[(size_t)(k - 1) * n + i] = ek + e0 > 0 ? ek / (ek + e0) : 0.5;
        }
    h->release(e);
    *out = g;
    return TT_OK;
}

static int x_core_effect(x_model *m, const x_core *c, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    if (m->g_cached && m->g_rows == rows)
        return x_core_effect_g(m, c, rows, m->g_cached, out, err, errlen);
    double *g = NULL;
    int rc = x_blend(m, rows, &g, err, errlen);
    if (rc == TT_OK)
        rc = x_core_effect_g(m, c, rows, g, out, err, errlen);
    m->host->release(g);
    return rc;
}

static int x_save_list(const x_model *m, tt_learner *const *l, int count,
                       const tt_plugin_sink *sink, char *err, size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < count && rc == TT_OK; k++)
        rc = pu_save_learner(m->host, l[k], sink, err, errlen);
    return rc;
}

static int x_load_list(const x_model *m, tt_learner **l, int count, const tt_plugin_source *src,
                       char *err, size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < count && rc == TT_OK; k++)
        rc = pu_load_learner(m->host, src, &l[k], err, errlen);
    return rc;
}

static int x_core_save(const x_model *m, const x_core *c, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    int rc = x_save_list(m, c->mu, m->n_arms, sink, err, errlen);
    if (rc == TT_OK)
        rc = x_save_list(m, c->tau1, m->n_arms - 1, sink, err, errlen);
    if (rc == TT_OK)
        rc = x_save_list(m, c->tau0, m->n_arms - 1, sink, err, errlen);
    return rc;
}

static int x_core_load(const x_model *m, const tt_plugin_source *src, x_core **out, char *err,
                       size_t errlen)
{
    x_core *c = x_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = x_load_list(m, c->mu, m->n_arms, src, err, errlen);
    if (rc == TT_OK)
        rc = x_load_list(m, c->tau1, m->n_arms - 1, src, err, errlen);
    if (rc == TT_OK)
        rc = x_load_list(m, c->tau0, m->n_arms - 1, src, err, errlen);
    if (rc != TT_OK) {
        x_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* ---- bootstrap ops: a replica is a whole x_core ---- */

static int x_boot_fit(void *ctx, const size_t *idx, size_t n, void **replica, char *err,
                      size_t errlen)
{
    return x_core_fit(ctx, idx, n, (x_core **)replica, err, errlen);
}

static int x_boot_effect(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                         char *err, size_t errlen)
{
    return x_core_effect(ctx, replica, rows, out, err, errlen);
}

static int x_boot_save(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                       size_t errlen)
{
    return x_core_save(ctx, replica, sink, err, errlen);
}

static int x_boot_load(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                       size_t errlen)
{
    return x_core_load(ctx, src, (x_core **)replica, err, errlen);
}

static void x_boot_destroy(void *ctx, void *replica)
{
    x_core_free(ctx, replica);
}

static const pu_boot_ops x_boot_ops = {
    .fit = x_boot_fit,
    .effect = x_boot_effect,
    .save = x_boot_save,
    .load = x_boot_load,
    .destroy = x_boot_destroy,
};

/* ---- the plugin ---- */

static void x_reset(x_model *m)
{
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    m->boot_ready = 0;
    x_core_free(m, m->point);
    m->point = NULL;
    x_train_free(m->host, &m->train);
}

static void x_destroy(void *instance)
{
    x_model *m = instance;
    if (!m)
        return;
    x_reset(m);
    m->host->release(m->share);
    m->host->release(m);
}

static int x_alloc(const tt_plugin_host *host, int n_arms, x_model **out, char *err,
                   size_t errlen)
{
    x_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
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
    x_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    x_reset(m);
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    memset(m->share, 0, sizeof *m->share * (size_t)m->n_arms);
    for (size_t i = 0; i < d->n; i++)
        m->share[d->t[i]] += 1.0 / (double)d->n;
    size_t *all = h->alloc(sizeof *all * (d->n + 1));
    int rc = TT_OK;
    if (!all || x_train_copy(h, d, &m->train) != TT_OK) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->n; i++)
        all[i] = i;
    rc = x_core_fit(m, all, d->n, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&m->boot, h, &x_boot_ops, m, m->n_arms, pu_boot_resamples(h), d->n,
                          d->t, err, errlen);
    m->boot_ready = rc == TT_OK;
out:
    h->release(all);
    if (rc != TT_OK)
        x_reset(m);
    return rc;
}

static int x_check(const x_model *m, char *err, size_t errlen)
{
    return m->point ? TT_OK : pu_errf(err, errlen, TT_ERR_INVALID, "x_learner is not fitted");
}

static int x_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    x_model *m = instance;
    int rc = x_check(m, err, errlen);
    return rc ? rc : x_core_effect(m, m->point, rows, out, err, errlen);
}

/* Point effects and blend weights for rows, then the bootstrap call with the
 * weights cached so the replicas reuse them. */
static int x_boot_call(x_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    int rc = x_check(m, err, errlen);
    if (rc)
        return rc;
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    double *g = NULL;
    double *point = h->alloc(sizeof *point * (rows->n * (size_t)(m->n_arms - 1) + 1));
    if (!point)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = x_blend(m, rows, &g, err, errlen);
    if (rc == TT_OK)
        rc = x_core_effect_g(m, m->point, rows, g, point, err, errlen);
    if (rc == TT_OK) {
        m->g_rows = rows;
        m->g_cached = g;
        rc = ate ? pu_boot_average(&m->boot, rows, point, alpha, ate, lo, hi, err, errlen)
                 : pu_boot_interval(&m->boot, rows, point, alpha, lo, hi, err, errlen);
        m->g_rows = NULL;
        m->g_cached = NULL;
    }
    h->release(g);
    h->release(point);
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
    int rc = x_check(m, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "x_learner 1\narms %d\np_x %zu\np_w %zu\n", m->n_arms, m->p_x, m->p_w) ||
        pu_slot_save(&m->outcome, sink) || pu_slot_save(&m->effect, sink) ||
        pu_write_doubles(sink, "share", m->share, (size_t)m->n_arms))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    rc = x_core_save(m, m->point, sink, err, errlen);
    return rc ? rc : pu_boot_save(&m->boot, sink, err, errlen);
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
    m->p_x = (size_t)p_x;
    m->p_w = (size_t)p_w;
    if (pu_slot_load(src, &m->outcome) || pu_slot_load(src, &m->effect) ||
        pu_read_doubles(src, "share", m->share, (size_t)arms))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "x_learner model: bad header");
    if (rc == TT_OK)
        rc = x_core_load(m, src, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&m->boot, host, &x_boot_ops, m, src, err, errlen);
    m->boot_ready = rc == TT_OK;
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
