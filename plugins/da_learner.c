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
#include "common/pu_boot.h"
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

/* The training rows, copied at fit() for the bootstrap. Owned by the model. */
typedef struct da_train {
    size_t n, p_x, p_w;
    double *x, *w, *y, *wt; /* wt NULL: unit weights */
    int *t;
    double *e;              /* n x K out-of-fold propensities, clipped */
} da_train;

/* One fitted DA-learner (the point estimate or a bootstrap replica); every
 * array holds K-1 learners, entry k-1 for treated arm k. */
typedef struct da_core {
    tt_learner **mu1; /* arm k's outcome model on [x, w] */
    tt_learner **mu0; /* the control outcome model weighted towards arm k, on [x, w] */
    tt_learner **tau; /* the effect model of arm k, on x */
} da_core;

typedef struct da_model {
    const tt_plugin_host *host;
    int n_arms;
    pu_slot outcome, effect;
    size_t p_x, p_w;
    da_train train;  /* empty after load */
    da_core *point;
    pu_boot boot;
    int boot_ready;
} da_model;

/* Propensities are clipped here before they become importance weights. */
#define DA_CLIP 0.01

/* ---- training copy and row subsets ---- */

static void *da_dup(const tt_plugin_host *h, const void *src, size_t bytes)
{
    void *p = h->alloc(bytes + 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static void da_train_free(const tt_plugin_host *h, da_train *tr)
{
    h->release(tr->x);
    h->release(tr->w);
    h->release(tr->y);
    h->release(tr->wt);
    h->release(tr->t);
    h->release(tr->e);
    memset(tr, 0, sizeof *tr);
}

static int da_train_copy(const tt_plugin_host *h, const tt_plugin_data *d, da_train *tr)
{
    size_t n = d->n;
    tr->n = n;
    tr->p_x = d->p_x;
    tr->p_w = d->p_w;
    tr->x = da_dup(h, d->x, sizeof(double) * n * d->p_x);
    tr->w = da_dup(h, d->w, sizeof(double) * n * d->p_w);
    tr->y = da_dup(h, d->y, sizeof(double) * n);
    tr->t = da_dup(h, d->t, sizeof(int) * n);
    tr->wt = d->weight ? da_dup(h, d->weight, sizeof(double) * n) : NULL;
    return tr->x && tr->w && tr->y && tr->t && (tr->wt || !d->weight) ? TT_OK : TT_ERR_NOMEM;
}

/* The entries of idx whose arm is `arm`, as a new list (host->alloc). */
static size_t *da_select(const da_model *m, const size_t *idx, size_t n_idx, int arm, size_t *cnt)
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
static double *da_features(const da_model *m, const size_t *list, size_t cnt, int with_w)
{
    const da_train *tr = &m->train;
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

/* ---- one DA-learner ---- */

static void da_core_free(const da_model *m, da_core *c)
{
    if (!c)
        return;
    const tt_plugin_host *h = m->host;
    for (int k = 0; k < m->n_arms - 1; k++) {
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
    const tt_plugin_host *h = m->host;
    da_core *c = h->alloc_zero(1, sizeof *c);
    if (!c)
        return NULL;
    c->mu1 = h->alloc_zero((size_t)m->n_arms, sizeof *c->mu1);
    c->mu0 = h->alloc_zero((size_t)m->n_arms, sizeof *c->mu0);
    c->tau = h->alloc_zero((size_t)m->n_arms, sizeof *c->tau);
    if (!c->mu1 || !c->mu0 || !c->tau) {
        da_core_free(m, c);
        return NULL;
    }
    return c;
}

/* Row lists, [x, w] features and outcomes of every arm within idx. */
typedef struct da_groups {
    size_t **list;
    size_t *cnt;
    double **fxw;
    double **y;
} da_groups;

static void da_groups_free(const da_model *m, da_groups *g)
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

static int da_groups_make(const da_model *m, const size_t *idx, size_t n_idx, da_groups *g,
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
        g->list[k] = da_select(m, idx, n_idx, k, &g->cnt[k]);
        if (!g->list[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        if (g->cnt[k] == 0)
            return pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
        g->fxw[k] = da_features(m, g->list[k], g->cnt[k], 1);
        g->y[k] = h->alloc(sizeof *g->y[k] * g->cnt[k]);
        if (!g->fxw[k] || !g->y[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < g->cnt[k]; r++)
            g->y[k][r] = m->train.y[g->list[k][r]];
    }
    return TT_OK;
}

/* Stage 1 of arm k on group `of` (k itself or 0): importance weight
 * e_other / e_of per row (other = the group it is shifted towards), times
 * the sample weight. */
static int da_stage1(const da_model *m, const da_groups *g, int k, int of, tt_learner **out,
                     char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    const da_train *tr = &m->train;
    int other = of == 0 ? k : 0;
    size_t cnt = g->cnt[of];
    double *wt = h->alloc(sizeof *wt * (cnt + 1));
    if (!wt)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < cnt; r++) {
        size_t i = g->list[of][r];
        wt[r] = tr->e[(size_t)other * tr->n + i] / tr->e[(size_t)of * tr->n + i] *
                (tr->wt ? tr->wt[i] : 1.0);
    }
    int rc = pu_slot_create(h, &m->outcome, 0, out, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(*out, cnt, m->p_x + m->p_w, g->fxw[of], g->y[of], wt, err, errlen);
    h->release(wt);
    return rc;
}

/* Imputed effects of group `of` into d: sign (Y - other(x, w)). */
static int da_impute(const da_model *m, const da_groups *g, int of, const tt_learner *other,
                     double sign, double *d, char *err, size_t errlen)
{
    size_t cnt = g->cnt[of];
    int rc = m->host->learner_predict(other, cnt, m->p_x + m->p_w, g->fxw[of], d, err, errlen);
    for (size_t r = 0; rc == TT_OK && r < cnt; r++)
        d[r] = sign * (g->y[of][r] - d[r]);
    return rc;
}

/* Stage 2 of arm k: tau_k on x over arm-k rows then control rows. */
static int da_stage2(const da_model *m, const da_groups *g, int k, const da_core *c, char *err,
                     size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n1 = g->cnt[k], n0 = g->cnt[0], n = n1 + n0;
    size_t *list = h->alloc(sizeof *list * (n + 1));
    double *d = h->alloc(sizeof *d * (n + 1));
    double *wt = m->train.wt ? h->alloc(sizeof *wt * (n + 1)) : NULL;
    double *fx = NULL;
    int rc = TT_OK;
    if (!list || !d || (m->train.wt && !wt)) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(list, g->list[k], sizeof *list * n1);
    memcpy(list + n1, g->list[0], sizeof *list * n0);
    for (size_t r = 0; wt && r < n; r++)
        wt[r] = m->train.wt[list[r]];
    fx = da_features(m, list, n, 0);
    if (!fx) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* Arm-k rows: D = Y - mu_0^(k); control rows: D = mu_k^(k) - Y. */
    rc = da_impute(m, g, k, c->mu0[k - 1], 1.0, d, err, errlen);
    if (rc == TT_OK)
        rc = da_impute(m, g, 0, c->mu1[k - 1], -1.0, d + n1, err, errlen);
    if (rc == TT_OK)
        rc = pu_slot_create(h, &m->effect, 0, &c->tau[k - 1], err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(c->tau[k - 1], n, m->p_x, fx, d, wt, err, errlen);
out:
    h->release(list);
    h->release(d);
    h->release(wt);
    h->release(fx);
    return rc;
}

static int da_core_fit(const da_model *m, const size_t *idx, size_t n_idx, da_core **out,
                       char *err, size_t errlen)
{
    da_core *c = da_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    da_groups g = {0};
    int rc = da_groups_make(m, idx, n_idx, &g, err, errlen);
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        rc = da_stage1(m, &g, k, k, &c->mu1[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = da_stage1(m, &g, k, 0, &c->mu0[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = da_stage2(m, &g, k, c, err, errlen);
    }
    da_groups_free(m, &g);
    if (rc != TT_OK) {
        da_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

static int da_core_effect(const da_model *m, const da_core *c, const tt_plugin_data *rows,
                          double *out, char *err, size_t errlen)
{
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    size_t n = rows->n;
    /* A private copy: rows->x is NULL when p_x == 0, learners get a valid pointer. */
    double *x = m->host->alloc(sizeof *x * (n * m->p_x + 1));
    if (!x)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (m->p_x)
        memcpy(x, rows->x, sizeof *x * n * m->p_x);
    int rc = TT_OK;
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++)
        rc = m->host->learner_predict(c->tau[k - 1], n, m->p_x, x, out + (size_t)(k - 1) * n,
                                      err, errlen);
    m->host->release(x);
    return rc;
}

/* Per arm k: mu1, mu0, tau. */
static int da_core_save(const da_model *m, const da_core *c, const tt_plugin_sink *sink,
                        char *err, size_t errlen)
{
    int rc = TT_OK;
    for (int k = 0; k < m->n_arms - 1 && rc == TT_OK; k++) {
        rc = pu_save_learner(m->host, c->mu1[k], sink, err, errlen);
        if (rc == TT_OK)
            rc = pu_save_learner(m->host, c->mu0[k], sink, err, errlen);
        if (rc == TT_OK)
            rc = pu_save_learner(m->host, c->tau[k], sink, err, errlen);
    }
    return rc;
}

static int da_core_load(const da_model *m, const tt_plugin_source *src, da_core **out,
                        char *err, size_t errlen)
{
    da_core *c = da_core_new(m);
    if (!c)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 0; k < m->n_arms - 1 && rc == TT_OK; k++) {
        rc = pu_load_learner(m->host, src, &c->mu1[k], err, errlen);
        if (rc == TT_OK)
            rc = pu_load_learner(m->host, src, &c->mu0[k], err, errlen);
        if (rc == TT_OK)
            rc = pu_load_learner(m->host, src, &c->tau[k], err, errlen);
    }
    if (rc != TT_OK) {
        da_core_free(m, c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

/* ---- bootstrap ops: a replica is a whole da_core ---- */

static int da_boot_fit(void *ctx, const size_t *idx, size_t n, void **replica, char *err,
                       size_t errlen)
{
    return da_core_fit(ctx, idx, n, (da_core **)replica, err, errlen);
}

static int da_boot_effect(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                          char *err, size_t errlen)
{
    return da_core_effect(ctx, replica, rows, out, err, errlen);
}

static int da_boot_save(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                        size_t errlen)
{
    return da_core_save(ctx, replica, sink, err, errlen);
}

static int da_boot_load(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                        size_t errlen)
{
    return da_core_load(ctx, src, (da_core **)replica, err, errlen);
}

static void da_boot_destroy(void *ctx, void *replica)
{
    da_core_free(ctx, replica);
}

static const pu_boot_ops da_boot_ops = {
    .fit = da_boot_fit,
    .effect = da_boot_effect,
    .save = da_boot_save,
    .load = da_boot_load,
    .destroy = da_boot_destroy,
};

/* ---- the plugin ---- */

static void da_reset(da_model *m)
{
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    m->boot_ready = 0;
    da_core_free(m, m->point);
    m->point = NULL;
    da_train_free(m->host, &m->train);
}

static void da_destroy(void *instance)
{
    da_model *m = instance;
    if (!m)
        return;
    da_reset(m);
    m->host->release(m);
}

static int da_alloc(const tt_plugin_host *host, int n_arms, da_model **out, char *err,
                    size_t errlen)
{
    da_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    *out = m;
    return TT_OK;
}

static int da_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    if (host->abi_minor < 1 || !host->nuisance_oof)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "da_learner needs the host's propensities (plugin ABI 1.1 or newer)");
    da_model *m = NULL;
    int rc = da_alloc(host, n_arms, &m, err, errlen);
    if (rc != TT_OK)
        return rc;
    pu_slot_read(params, P_OUTCOME, &m->outcome);
    pu_slot_read(params, P_EFFECT, &m->effect);
    *instance = m;
    return TT_OK;
}

static int da_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    da_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    da_reset(m);
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    size_t *all = h->alloc(sizeof *all * (d->n + 1));
    int rc = TT_OK;
    if (!all || da_train_copy(h, d, &m->train) != TT_OK) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = pu_nuis_propensity_oof(h, m->n_arms, d->n, DA_CLIP, &m->train.e, err, errlen);
    if (rc != TT_OK)
        goto out;
    for (size_t i = 0; i < d->n; i++)
        all[i] = i;
    rc = da_core_fit(m, all, d->n, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&m->boot, h, &da_boot_ops, m, m->n_arms, pu_boot_resamples(h), d->n,
                          d->t, err, errlen);
    m->boot_ready = rc == TT_OK;
out:
    h->release(all);
    if (rc != TT_OK)
        da_reset(m);
    return rc;
}

static int da_check(const da_model *m, char *err, size_t errlen)
{
    return m->point ? TT_OK : pu_errf(err, errlen, TT_ERR_INVALID, "da_learner is not fitted");
}

static int da_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    da_model *m = instance;
    int rc = da_check(m, err, errlen);
    return rc ? rc : da_core_effect(m, m->point, rows, out, err, errlen);
}

/* The point effects for rows, then the bootstrap around them: an interval
 * per row (ate NULL) or the average effect. */
static int da_boot_call(da_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                        double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    int rc = da_check(m, err, errlen);
    if (rc)
        return rc;
    double *point = h->alloc(sizeof *point * (rows->n * (size_t)(m->n_arms - 1) + 1));
    if (!point)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = da_core_effect(m, m->point, rows, point, err, errlen);
    if (rc == TT_OK)
        rc = ate ? pu_boot_average(&m->boot, rows, point, alpha, ate, lo, hi, err, errlen)
                 : pu_boot_interval(&m->boot, rows, point, alpha, lo, hi, err, errlen);
    h->release(point);
    return rc;
}

static int da_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    return da_boot_call(instance, rows, alpha, NULL, lo, hi, err, errlen);
}

static int da_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    return da_boot_call(instance, rows, alpha, ate, lo, hi, err, errlen);
}

static int da_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    da_model *m = instance;
    int rc = da_check(m, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "da_learner 1\narms %d\np_x %zu\np_w %zu\n", m->n_arms, m->p_x, m->p_w) ||
        pu_slot_save(&m->outcome, sink) || pu_slot_save(&m->effect, sink))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    rc = da_core_save(m, m->point, sink, err, errlen);
    return rc ? rc : pu_boot_save(&m->boot, sink, err, errlen);
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
    da_model *m = NULL;
    int rc = da_alloc(host, (int)arms, &m, err, errlen);
    if (rc)
        return rc;
    m->p_x = (size_t)p_x;
    m->p_w = (size_t)p_w;
    if (pu_slot_load(src, &m->outcome) || pu_slot_load(src, &m->effect))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "da_learner model: bad header");
    if (rc == TT_OK)
        rc = da_core_load(m, src, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&m->boot, host, &da_boot_ops, m, src, err, errlen);
    m->boot_ready = rc == TT_OK;
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
