/*
 * abi_v1_0_plugin.c - a plugin as it was written for plugin ABI 1.0, built
 * against the frozen 1.0 headers (tests/abi/v1_0/include) and nothing else.
 * Today's host must still load it, search it, refit it, save and load its
 * model (test_abi_v1_0, abi_v1_0_run.sh): that is what "minor versions are
 * compatible" promises to every plugin in the field.
 *
 * It uses every slot ABI 1.0 had: all descriptor callbacks (create, fit,
 * effect, effect_interval, save, load, destroy), a schema of every 1.0 kind
 * but REAL, and every host service of 1.0 (alloc/alloc_zero/resize/release,
 * log, seed, should_stop, learner_create/fit/predict/save/load/destroy).
 *
 * The estimator: a T-learner on the host's ridge, one per arm,
 *     tau_k(x) = mu_k(x) - mu_0(x),
 * with a rough interval tau_k(x) +- z * widen * sqrt(s_k^2 / n_k + s_0^2 / n_0)
 * from each arm's residual variance s^2 (enough for a fixture).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#if TT_PLUGIN_ABI_MAJOR != 1 || TT_PLUGIN_ABI_MINOR != 0
#error "abi_v1_0_plugin.c must be built against the frozen ABI 1.0 headers"
#endif

#define NAME "abi_v1_0"

enum { P_ALPHA, P_MIN_ROWS, P_WIDEN, N_PARAMS };

static const char *const widen_choices[] = {"plain", "wide", NULL};

static const tt_plugin_param schema[N_PARAMS] = {
    [P_ALPHA] = {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4, .hi = 100.0,
                 .default_value = 1.0, .help = "ridge penalty of each arm's outcome model"},
    [P_MIN_ROWS] = {.name = "min_rows", .kind = TT_PARAM_INT, .lo = 2, .hi = 1000,
                    .default_value = 5, .help = "fewest training rows an arm may have"},
    [P_WIDEN] = {.name = "widen", .kind = TT_PARAM_CHOICE, .choices = widen_choices,
                 .default_value = 0, .help = "interval width: plain (1x) or wide (1.5x)"},
};

typedef struct model {
    const tt_plugin_host *host;
    int n_arms;
    double alpha, widen;
    size_t min_rows, p;
    int fitted;        /* every arm's model is there */
    tt_learner **mu;  /* n_arms ridge models, or NULL before fit */
    double *s2_over_n; /* n_arms residual variance / rows */
} model;

static void v10_destroy(void *instance)
{
    model *m = instance;
    if (!m)
        return;
    for (int k = 0; m->mu && k < m->n_arms; k++)
        m->host->learner_destroy(m->mu[k]);
    m->host->release(m->mu);
    m->host->release(m->s2_over_n);
    m->host->release(m);
}

static model *model_new(const tt_plugin_host *host, int n_arms)
{
    model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return NULL;
    m->host = host;
    m->n_arms = n_arms;
    /* alloc then resize: the 1.0 table's resize is exercised too. */
    m->mu = host->alloc(sizeof *m->mu);
    tt_learner **grown = m->mu ? host->resize(m->mu, sizeof *m->mu * (size_t)n_arms) : NULL;
    if (!grown) {
        v10_destroy(m);
        return NULL;
    }
    m->mu = grown;
    memset(m->mu, 0, sizeof *m->mu * (size_t)n_arms);
    m->s2_over_n = host->alloc_zero((size_t)n_arms, sizeof *m->s2_over_n);
    if (!m->s2_over_n) {
        v10_destroy(m);
        return NULL;
    }
    return m;
}

static int v10_create(const tt_plugin_host *host, const double *params, int n_arms,
                      void **instance, char *err, size_t errlen)
{
    model *m = n_arms >= 2 ? model_new(host, n_arms) : NULL;
    if (!m) {
        snprintf(err, errlen, n_arms < 2 ? "needs 2 or more arms" : "out of memory");
        return n_arms < 2 ? TT_ERR_INVALID : TT_ERR_NOMEM;
    }
    m->alpha = params[P_ALPHA];
    m->min_rows = (size_t)params[P_MIN_ROWS];
    m->widen = params[P_WIDEN] == 1 ? 1.5 : 1.0;
    *instance = m;
    return TT_OK;
}

/* Rows of arm k gathered into x_k (n_k x p column-major), y_k and w_k. */
static size_t gather(const tt_plugin_data *d, int k, double *xk, double *yk, double *wk)
{
    size_t nk = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i] == k)
            nk++;
    size_t r = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->t[i] != k)
            continue;
        for (size_t j = 0; j < d->p_x; j++)
            xk[j * nk + r] = d->x[j * d->n + i];
        yk[r] = d->y[i];
        wk[r] = d->weight ? d->weight[i] : 1.0;
        r++;
    }
    return nk;
}

static int v10_fit(void *instance, const tt_plugin_data *train, char *err, size_t errlen)
{
    model *m = instance;
    const tt_plugin_host *h = m->host;
    if (!train->t || !train->y || train->n_arms != m->n_arms) {
        snprintf(err, errlen, "training rows need t, y and %d arms", m->n_arms);
        return TT_ERR_INVALID;
    }
    size_t n = train->n, p = train->p_x;
    double *x = h->alloc(sizeof *x * (n * p + 1)), *y = h->alloc(sizeof *y * (n + 1));
    double *w = h->alloc(sizeof *w * (n + 1)), *fit = h->alloc(sizeof *fit * (n + 1));
    int rc = x && y && w && fit ? TT_OK : TT_ERR_NOMEM;
    if (rc)
        snprintf(err, errlen, "out of memory");
    m->p = p;
    m->fitted = 0;
    for (int k = 0; !rc && k < m->n_arms; k++) {
        if (h->should_stop(h->host_ctx)) {
            snprintf(err, errlen, "stopped by the host");
            rc = TT_ERR_STOPPED;
            break;
        }
        size_t nk = gather(train, k, x, y, w);
        if (nk < m->min_rows) {
            snprintf(err, errlen, "arm %d has %zu training rows, min_rows is %zu", k, nk,
                     m->min_rows);
            rc = TT_ERR_DATA;
            break;
        }
        const char *keys[] = {"alpha"};
        h->learner_destroy(m->mu[k]);
        m->mu[k] = NULL;
        rc = h->learner_create(h->host_ctx, "ridge", keys, &m->alpha, 1, &m->mu[k], err, errlen);
        if (!rc)
            rc = h->learner_fit(m->mu[k], nk, p, x, y, w, err, errlen);
        if (!rc)
            rc = h->learner_predict(m->mu[k], nk, p, x, fit, err, errlen);
        if (!rc) {
            double ss = 0;
            for (size_t i = 0; i < nk; i++)
                ss += (y[i] - fit[i]) * (y[i] - fit[i]);
            m->s2_over_n[k] = ss / (double)(nk > p + 1 ? nk - p - 1 : 1) / (double)nk;
        }
    }
    m->fitted = rc == TT_OK;
    if (!rc)
        h->log(h->host_ctx, TT_LOG_DEBUG, "fitted %d arms on %zu rows (seed %llu)", m->n_arms, n,
               (unsigned long long)h->seed);
    h->release(x), h->release(y), h->release(w), h->release(fit);
    return rc;
}

static int v10_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    const model *m = instance;
    const tt_plugin_host *h = m->host;
    if (!m->fitted || rows->p_x != m->p) {
        snprintf(err, errlen, "not fitted, or rows have %zu columns for %zu", rows->p_x, m->p);
        return TT_ERR_INVALID;
    }
    size_t n = rows->n;
    double *base = h->alloc(sizeof *base * (n + 1));
    if (!base) {
        snprintf(err, errlen, "out of memory");
        return TT_ERR_NOMEM;
    }
    int rc = h->learner_predict(m->mu[0], n, m->p, rows->x, base, err, errlen);
    for (int k = 1; !rc && k < m->n_arms; k++) {
        double *col = out + (size_t)(k - 1) * n;
        rc = h->learner_predict(m->mu[k], n, m->p, rows->x, col, err, errlen);
        for (size_t i = 0; !rc && i < n; i++)
            col[i] -= base[i];
    }
    h->release(base);
    return rc;
}

/* z of the two-sided (1 - alpha) normal interval, by bisection on erfc. */
static double z_of(double alpha)
{
    double lo = 0, hi = 10;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (erfc(mid / sqrt(2.0)) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static int v10_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                        double *hi, char *err, size_t errlen)
{
    const model *m = instance;
    if (!(alpha > 0 && alpha < 1)) {
        snprintf(err, errlen, "alpha %g outside (0, 1)", alpha);
        return TT_ERR_INVALID;
    }
    int rc = v10_effect(instance, rows, lo, err, errlen);
    if (rc)
        return rc;
    double z = z_of(alpha) * m->widen;
    for (int k = 1; k < m->n_arms; k++) {
        double half = z * sqrt(m->s2_over_n[k] + m->s2_over_n[0]);
        for (size_t i = 0; i < rows->n; i++) {
            size_t c = (size_t)(k - 1) * rows->n + i;
            hi[c] = lo[c] + half;
            lo[c] -= half;
        }
    }
    return TT_OK;
}

/* ---- save / load: a header line, then each arm's learner as the host saves it ---- */

static int v10_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    const model *m = instance;
    char line[256];
    int len = snprintf(line, sizeof line, NAME " 1 %d %zu %.17g %.17g\n", m->n_arms, m->p,
                       m->alpha, m->widen);
    if (!m->fitted || sink->write(sink->ctx, line, (size_t)len) != 0) {
        snprintf(err, errlen, m->fitted ? "cannot write" : "save before fit");
        return m->fitted ? TT_ERR_IO : TT_ERR_INVALID;
    }
    for (int k = 0; k < m->n_arms; k++) {
        len = snprintf(line, sizeof line, "%.17g\n", m->s2_over_n[k]);
        if (sink->write(sink->ctx, line, (size_t)len) != 0) {
            snprintf(err, errlen, "cannot write");
            return TT_ERR_IO;
        }
        int rc = m->host->learner_save(m->mu[k], sink, err, errlen);
        if (rc)
            return rc;
    }
    return TT_OK;
}

static int read_line(const tt_plugin_source *src, char *line, size_t len)
{
    size_t n = 0;
    for (char c; src->read(src->ctx, &c, 1) == 0;) {
        if (c == '\n') {
            line[n] = '\0';
            return 0;
        }
        if (n + 1 >= len)
            return -1;
        line[n++] = c;
    }
    return -1;
}

static int v10_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    char line[256];
    int version = 0, arms = 0;
    size_t p = 0;
    double alpha = 0, widen = 0;
    if (read_line(src, line, sizeof line) ||
        sscanf(line, NAME " %d %d %zu %lf %lf", &version, &arms, &p, &alpha, &widen) != 5 ||
        version != 1 || arms < 2 || arms > 1000) {
        snprintf(err, errlen, "not an " NAME " model");
        return TT_ERR_PARSE;
    }
    model *m = model_new(host, arms);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return TT_ERR_NOMEM;
    }
    m->p = p, m->alpha = alpha, m->widen = widen;
    for (int k = 0; k < arms; k++) {
        int rc = TT_ERR_PARSE;
        if (read_line(src, line, sizeof line) || sscanf(line, "%lf", &m->s2_over_n[k]) != 1)
            snprintf(err, errlen, "arm %d: bad variance line", k);
        else
            rc = host->learner_load(host->host_ctx, src, &m->mu[k], err, errlen);
        if (rc) {
            v10_destroy(m);
            return rc;
        }
    }
    m->fitted = 1;
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = NAME,
    .version = "1.0.0",
    .summary = "a plugin built against the frozen ABI 1.0 headers (T-learner on ridge)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = schema,
    .n_params = N_PARAMS,
    .create = v10_create,
    .fit = v10_fit,
    .effect = v10_effect,
    .effect_interval = v10_interval,
    .save = v10_save,
    .load = v10_load,
    .destroy = v10_destroy,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &descriptor;
}
