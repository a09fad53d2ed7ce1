/* pu_meta.c - the scaffold of a bootstrapped meta-learner (see pu_meta.h). */
#include "pu_meta.h"

#include <string.h>

#include "pu.h"

/* ---- the training copy ---- */

/* bytes + 1 so a zero-width block (no w, say) is still a valid pointer. */
static void *meta_dup(const tt_plugin_host *h, const void *src, size_t bytes)
{
    void *p = h->alloc(bytes + 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static void meta_train_free(const tt_plugin_host *h, pu_meta_train *tr)
{
    h->release(tr->x);
    h->release(tr->w);
    h->release(tr->y);
    h->release(tr->wt);
    h->release(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int meta_train_copy(const tt_plugin_host *h, const tt_plugin_data *d, pu_meta_train *tr)
{
    size_t n = d->n;
    tr->n = n;
    tr->p_x = d->p_x;
    tr->p_w = d->p_w;
    tr->x = meta_dup(h, d->x, sizeof(double) * n * d->p_x);
    tr->w = meta_dup(h, d->w, sizeof(double) * n * d->p_w);
    tr->y = meta_dup(h, d->y, sizeof(double) * n);
    tr->t = meta_dup(h, d->t, sizeof(int) * n);
    tr->wt = d->weight ? meta_dup(h, d->weight, sizeof(double) * n) : NULL;
    return tr->x && tr->w && tr->y && tr->t && (tr->wt || !d->weight) ? TT_OK : TT_ERR_NOMEM;
}

/* ---- lifecycle ---- */

void pu_meta_init(pu_meta *m, const tt_plugin_host *host, const pu_meta_ops *ops, void *ctx,
                  int n_arms)
{
    memset(m, 0, sizeof *m);
    m->host = host;
    m->ops = ops;
    m->ctx = ctx;
    m->n_arms = n_arms;
}

void pu_meta_reset(pu_meta *m)
{
    if (m->boot_ready)
        pu_boot_free(&m->boot);
    m->boot_ready = 0;
    if (m->point)
        m->ops->core.destroy(m->ctx, m->point);
    m->point = NULL;
    meta_train_free(m->host, &m->train);
    m->host->release(m->nuis);
    m->nuis = NULL;
    m->host->release(m->w_mean);
    m->w_mean = NULL;
}

/* The means of the training w, at which some learners predict. */
static int meta_w_mean(pu_meta *m, const tt_plugin_data *d, char *err, size_t errlen)
{
    m->w_mean = m->host->alloc_zero(d->p_w + 1, sizeof *m->w_mean);
    if (!m->w_mean)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_column_means(d->w, d->n, d->p_w, m->w_mean);
    return TT_OK;
}

int pu_meta_fit(pu_meta *m, const tt_plugin_data *d, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    pu_meta_reset(m);
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    size_t *all = h->alloc(sizeof *all * (d->n + 1));
    int rc = TT_OK;
    if (!all || meta_train_copy(h, d, &m->train) != TT_OK) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (m->ops->keep_w_mean && (rc = meta_w_mean(m, d, err, errlen)) != TT_OK)
        goto out;
    if (m->ops->prepare && (rc = m->ops->prepare(m->ctx, d, err, errlen)) != TT_OK)
        goto out;
    for (size_t i = 0; i < d->n; i++)
        all[i] = i;
    rc = m->ops->core.fit(m->ctx, all, d->n, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&m->boot, h, &m->ops->core, m->ctx, m->n_arms, pu_boot_resamples(h),
                          d->n, d->t, err, errlen);
    m->boot_ready = rc == TT_OK;
out:
    h->release(all);
    if (rc != TT_OK)
        pu_meta_reset(m);
    return rc;
}

int pu_meta_check(const pu_meta *m, char *err, size_t errlen)
{
    return m->point ? TT_OK
                    : pu_errf(err, errlen, TT_ERR_INVALID, "%s is not fitted", m->ops->name);
}

/* ---- effects and intervals ---- */

int pu_meta_effect(pu_meta *m, const tt_plugin_data *rows, double *out, char *err,
                   size_t errlen)
{
    int rc = pu_meta_check(m, err, errlen);
    return rc ? rc : m->ops->core.effect(m->ctx, m->point, rows, out, err, errlen);
}

/* The point effects for rows, then the bootstrap around them: an interval per
 * row (ate NULL) or the average effect. */
static int meta_boot_call(pu_meta *m, const tt_plugin_data *rows, double alpha, double *ate,
                          double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    int rc = pu_meta_check(m, err, errlen);
    if (rc)
        return rc;
    double *point = h->alloc(sizeof *point * (rows->n * (size_t)(m->n_arms - 1) + 1));
    if (!point)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = m->ops->core.effect(m->ctx, m->point, rows, point, err, errlen);
    if (rc == TT_OK)
        rc = ate ? pu_boot_average(&m->boot, rows, point, alpha, ate, lo, hi, err, errlen)
                 : pu_boot_interval(&m->boot, rows, point, alpha, lo, hi, err, errlen);
    h->release(point);
    return rc;
}

int pu_meta_interval(pu_meta *m, const tt_plugin_data *rows, double alpha, double *lo,
                     double *hi, char *err, size_t errlen)
{
    return meta_boot_call(m, rows, alpha, NULL, lo, hi, err, errlen);
}

int pu_meta_average(pu_meta *m, const tt_plugin_data *rows, double alpha, double *ate,
                    double *lo, double *hi, char *err, size_t errlen)
{
    return meta_boot_call(m, rows, alpha, ate, lo, hi, err, errlen);
}

/* ---- save / load ---- */

int pu_meta_save(pu_meta *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    int rc = pu_meta_check(m, err, errlen);
    if (rc == TT_OK)
        rc = m->ops->core.save(m->ctx, m->point, sink, err, errlen);
    return rc ? rc : pu_boot_save(&m->boot, sink, err, errlen);
}

int pu_meta_load(pu_meta *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = m->ops->core.load(m->ctx, src, &m->point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&m->boot, m->host, &m->ops->core, m->ctx, src, err, errlen);
    m->boot_ready = rc == TT_OK;
    return rc;
}

int pu_meta_load_w_mean(pu_meta *m, const tt_plugin_source *src)
{
    m->host->release(m->w_mean);
    m->w_mean = m->host->alloc_zero(m->p_w + 1, sizeof *m->w_mean);
    return !m->w_mean || pu_read_doubles(src, "w_mean", m->w_mean, m->p_w);
}

/* ---- row gathering ---- */

size_t *pu_meta_select(const pu_meta *m, const size_t *idx, size_t n_idx, int arm, size_t *cnt)
{
    size_t *list = m->host->alloc(sizeof *list * (n_idx + 1));
    size_t c = 0;
    for (size_t j = 0; list && j < n_idx; j++)
        if (m->train.t[idx[j]] == arm)
            list[c++] = idx[j];
    *cnt = c;
    return list;
}

double *pu_meta_features(const pu_meta *m, const size_t *list, size_t cnt, int with_w)
{
    const pu_meta_train *tr = &m->train;
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

int pu_meta_fit_learner(const pu_meta *m, const pu_slot *slot, const size_t *list, size_t cnt,
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

void pu_meta_groups_free(const pu_meta *m, pu_meta_groups *g)
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
    memset(g, 0, sizeof *g);
}

int pu_meta_groups_make(const pu_meta *m, const size_t *idx, size_t n_idx, pu_meta_groups *g,
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
        g->list[k] = pu_meta_select(m, idx, n_idx, k, &g->cnt[k]);
        if (!g->list[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        if (g->cnt[k] == 0)
            return pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
        g->fxw[k] = pu_meta_features(m, g->list[k], g->cnt[k], 1);
        g->y[k] = h->alloc(sizeof *g->y[k] * g->cnt[k]);
        if (!g->fxw[k] || !g->y[k])
            return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < g->cnt[k]; r++)
            g->y[k][r] = m->train.y[g->list[k][r]];
    }
    return TT_OK;
}
