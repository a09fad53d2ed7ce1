/*
 * knn_match.c - k-nearest-neighbour matching as a tautune plugin, written
 * from the installed headers as a third party would, using what the host
 * offers (ABI 1.10) instead of code of its own:
 *   - no effect_interval: the host bootstraps the plugin for its intervals;
 *   - save/load through the host's blob writer and reader (checksummed,
 *     versioned, records by name): no serialisation code here.
 *
 * The effect of arm a at x: the mean outcome of x's k nearest rows of arm a
 * minus that of its k nearest rows of arm 0, distances in standardised x.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>

enum { P_K, P_STANDARDIZE, N_PARAMS };

static const tt_plugin_param schema[N_PARAMS] = {
    [P_K] = {.name = "k", .kind = TT_PARAM_INT, .lo = 1, .hi = 50, .default_value = 10,
             .help = "neighbours averaged per arm"},
    [P_STANDARDIZE] = {.name = "standardize", .kind = TT_PARAM_BOOL, .default_value = 1,
                       .help = "scale each column to unit variance before the distances"},
};

typedef struct knn {
    const tt_plugin_host *host;
    int n_arms;
    int64_t k, standardize, n, p;
    double *x, *y, *scale; /* training rows (n x p, column-major), outcomes, 1/sd per column */
    int64_t *t;
} knn;

static void knn_destroy(void *inst)
{
    knn *m = inst;
    if (!m)
        return;
    const tt_plugin_host *h = m->host;
    h->release(m->x), h->release(m->y), h->release(m->scale), h->release(m->t);
    h->release(m);
}

static int knn_create(const tt_plugin_host *host, const double *params, int n_arms, void **out,
                      char *err, size_t errlen)
{
    (void)err, (void)errlen;
    knn *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return TT_ERR_NOMEM;
    *m = (knn){.host = host, .n_arms = n_arms, .k = (int64_t)params[P_K],
               .standardize = params[P_STANDARDIZE] != 0};
    *out = m;
    return TT_OK;
}

/* Room for n rows of p columns; 0, or TT_ERR_NOMEM. */
static int knn_alloc(knn *m, int64_t n, int64_t p)
{
    const tt_plugin_host *h = m->host;
    m->n = n, m->p = p;
    m->x = h->alloc_zero((size_t)(n * p) + 1, sizeof *m->x);
    m->y = h->alloc_zero((size_t)n, sizeof *m->y);
    m->scale = h->alloc_zero((size_t)p + 1, sizeof *m->scale);
    m->t = h->alloc_zero((size_t)n, sizeof *m->t);
    return m->x && m->y && m->scale && m->t ? TT_OK : TT_ERR_NOMEM;
}

static int knn_fit(void *inst, const tt_plugin_data *d, char *err, size_t errlen)
{
    knn *m = inst;
    if (knn_alloc(m, (int64_t)d->n, (int64_t)d->p_x) != TT_OK)
        return TT_ERR_NOMEM;
    memcpy(m->x, d->x, sizeof *m->x * d->n * d->p_x);
    memcpy(m->y, d->y, sizeof *m->y * d->n);
    for (size_t i = 0; i < d->n; i++)
        m->t[i] = d->t[i];
    for (int a = 0; a < m->n_arms; a++) {
        int64_t count = 0;
        for (size_t i = 0; i < d->n; i++)
            count += d->t[i] == a;
        if (count < m->k) {
            snprintf(err, errlen, "arm %d has %lld rows, fewer than k = %lld", a,
                     (long long)count, (long long)m->k);
            return TT_ERR_DATA;
        }
    }
    for (size_t j = 0; j < d->p_x; j++) {
        double s = 0, ss = 0, *c = m->x + j * d->n;
        for (size_t i = 0; i < d->n; i++)
            s += c[i], ss += c[i] * c[i];
        double var = ss / (double)d->n - (s / (double)d->n) * (s / (double)d->n);
        m->scale[j] = m->standardize && var > 0 ? 1.0 / sqrt(var) : 1.0;
    }
    return TT_OK;
}

/* Mean outcome of the k rows of arm a nearest to row r of x (n_x rows). */
static double nearest_mean(const knn *m, int a, const double *x, size_t n_x, size_t r,
                           double *best_d, double *best_y)
{
    int64_t have = 0;
    for (int64_t i = 0; i < m->n; i++) {
        if (m->t[i] != a)
            continue;
        double dist = 0;
        for (int64_t j = 0; j < m->p; j++) {
            double diff = (x[j * n_x + r] - m->x[j * m->n + i]) * m->scale[j];
            dist += diff * diff;
        }
        int64_t at = have < m->k ? have++ : m->k; /* insertion into the sorted k best */
        if (at == m->k && dist >= best_d[m->k - 1])
            continue;
        if (at == m->k)
            at = m->k - 1;
        while (at > 0 && best_d[at - 1] > dist) {
            best_d[at] = best_d[at - 1], best_y[at] = best_y[at - 1];
            at--;
        }
        best_d[at] = dist, best_y[at] = m->y[i];
    }
    double s = 0;
    for (int64_t i = 0; i < have; i++)
        s += best_y[i];
    return s / (double)have;
}

static int knn_effect(void *inst, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    (void)err, (void)errlen;
    knn *m = inst;
    const tt_plugin_host *h = m->host;
    double *bd = h->alloc((size_t)m->k * sizeof *bd), *by = h->alloc((size_t)m->k * sizeof *by);
    for (size_t r = 0; bd && by && r < rows->n; r++) {
        if (r % 256 == 0 && h->should_stop(h->host_ctx)) {
            h->release(bd), h->release(by);
            return TT_ERR_STOPPED;
        }
        double base = nearest_mean(m, 0, rows->x, rows->n, r, bd, by);
        for (int a = 1; a < m->n_arms; a++)
            out[(size_t)(a - 1) * rows->n + r] =
                nearest_mean(m, a, rows->x, rows->n, r, bd, by) - base;
    }
    int ok = bd && by;
    h->release(bd), h->release(by);
    return ok ? TT_OK : TT_ERR_NOMEM;
}

static int knn_save(void *inst, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    const knn *m = inst;
    const tt_plugin_host *h = m->host;
    const int64_t head[4] = {m->k, m->standardize, m->n, m->p};
    tt_blob_writer *b = h->blob_writer_new(h->host_ctx, "knn_match", 1);
    h->blob_put_ints(b, "k standardize n p", head, 4);
    h->blob_put_doubles(b, "x", m->x, (size_t)(m->n * m->p));
    h->blob_put_doubles(b, "y", m->y, (size_t)m->n);
    h->blob_put_ints(b, "t", m->t, (size_t)m->n);
    h->blob_put_doubles(b, "scale", m->scale, (size_t)m->p);
    return h->blob_writer_finish(b, sink, err, errlen);
}

static int knn_load(const tt_plugin_host *host, const tt_plugin_source *source, void **out,
                    char *err, size_t errlen)
{
    int64_t head[4] = {0};
    tt_blob_reader *b = host->blob_reader_open(host->host_ctx, source, "knn_match", NULL, err,
                                               errlen);
    if (!b)
        return TT_ERR_PARSE;
    host->blob_get_ints(b, "k standardize n p", head, 4);
    double k = (double)head[0], standardize = (double)head[1];
    const double params[N_PARAMS] = {[P_K] = k, [P_STANDARDIZE] = standardize};
    knn *m = NULL;
    int st = knn_create(host, params, 2, (void **)&m, err, errlen); /* arms: from t below */
    if (st == TT_OK && knn_alloc(m, head[2], head[3]) != TT_OK)
        st = TT_ERR_NOMEM;
    if (st == TT_OK) {
        host->blob_get_doubles(b, "x", m->x, (size_t)(head[2] * head[3]));
        host->blob_get_doubles(b, "y", m->y, (size_t)head[2]);
        host->blob_get_ints(b, "t", m->t, (size_t)head[2]);
        host->blob_get_doubles(b, "scale", m->scale, (size_t)head[3]);
        m->n_arms = 0;
        for (int64_t i = 0; i < m->n; i++)
            m->n_arms = m->t[i] >= m->n_arms ? (int)m->t[i] + 1 : m->n_arms;
    }
    int closed = host->blob_reader_close(b, err, errlen);
    if (st == TT_OK)
        st = closed;
    if (st != TT_OK) {
        knn_destroy(m);
        return st;
    }
    *out = m;
    return TT_OK;
}

static const tt_plugin_descriptor descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "knn_match",
    .version = "1.0.0",
    .summary = "k-nearest-neighbour matching: per arm, the mean outcome of the k nearest rows",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = schema,
    .n_params = N_PARAMS,
    .create = knn_create,
    .fit = knn_fit,
    .effect = knn_effect,
    .save = knn_save,
    .load = knn_load,
    .destroy = knn_destroy,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &descriptor;
}
