/*
 * s_learner - one outcome model with the treatment as a feature:
 * tau_k(x) = mu(x, w, T = k) - mu(x, w, T = 0).
 *
 * The model is the host's ridge regression on [x, w, 1{T=k} for k >= 1] and,
 * with `interactions`, the products 1{T=k} * x_j. Without interactions a
 * linear S-learner can only return a constant effect; with them it is a
 * linear model of heterogeneous effects. As in t_learner, w is held at its
 * training mean when effects are predicted.
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"

enum { P_ALPHA, P_INTERACTIONS };

static const tt_plugin_param s_params[] = {
    [P_ALPHA] = {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4, .hi = 1e4,
                 .default_value = 1.0, .help = "ridge penalty of the outcome model"},
    [P_INTERACTIONS] = {.name = "interactions", .kind = TT_PARAM_BOOL, .lo = 0, .hi = 1,
                        .default_value = 1,
                        .help = "add treatment x effect-modifier products (heterogeneous effects)"},
};

typedef struct s_model {
    const tt_plugin_host *host;
    int n_arms;
    double alpha;
    int interactions;
    size_t p_x, p_w;
    double *w_mean;
    tt_learner *mu;
} s_model;

static void s_destroy(void *instance)
{
    s_model *m = instance;
    if (!m)
        return;
    m->host->learner_destroy(m->mu);
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
    m->alpha = params[P_ALPHA];
    m->interactions = params[P_INTERACTIONS] != 0.0;
    *instance = m;
    return TT_OK;
}

static size_t s_width(const s_model *m)
{
    size_t k1 = (size_t)(m->n_arms - 1);
    return m->p_x + m->p_w + k1 + (m->interactions ? k1 * m->p_x : 0);
}

/* Design matrix for rows, with every row's arm given by t (or fixed_arm when
 * t is NULL) and w from the rows (or the training means when w_fixed). */
static double *s_design(const s_model *m, const tt_plugin_data *rows, const int *t, int fixed_arm,
                        const double *w_fixed)
{
    size_t n = rows->n, k1 = (size_t)(m->n_arms - 1);
    double *f = pu_features_xw(m->host, rows, m->p_w, w_fixed);
    if (!f)
        return NULL;
    double *grown = m->host->resize(f, sizeof *f * (n * s_width(m) + 1));
    if (!grown) {
        m->host->release(f);
        return NULL;
    }
    f = grown;
    double *ind = f + n * (m->p_x + m->p_w);
    double *inter = ind + n * k1;
    for (size_t k = 1; k <= k1; k++) {
        double *col = ind + (k - 1) * n;
        for (size_t i = 0; i < n; i++)
            col[i] = (size_t)(t ? t[i] : fixed_arm) == k ? 1.0 : 0.0;
        for (size_t j = 0; m->interactions && j < m->p_x; j++) {
            double *icol = inter + ((k - 1) * m->p_x + j) * n;
            for (size_t i = 0; i < n; i++)
                icol[i] = col[i] * rows->x[j * n + i];
        }
    }
    return f;
}

static int s_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    s_model *m = instance;
    const tt_plugin_host *h = m->host;
    m->p_x = d->p_x;
    m->p_w = d->p_w;
    h->release(m->w_mean);
    m->w_mean = h->alloc_zero(d->p_w + 1, sizeof *m->w_mean);
    if (!m->w_mean)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    pu_column_means(d->w, d->n, d->p_w, m->w_mean);
    double *f = s_design(m, d, d->t, 0, NULL);
    if (!f)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    static const char *const keys[] = {"alpha"};
    h->learner_destroy(m->mu);
    m->mu = NULL;
    int rc = h->learner_create(h->host_ctx, "ridge", keys, &m->alpha, 1, &m->mu, err, errlen);
    if (rc == TT_OK)
        rc = h->learner_fit(m->mu, d->n, s_width(m), f, d->y, d->weight, err, errlen);
    h->release(f);
    return rc;
}

static int s_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    s_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (rows->p_x != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu effect modifiers, got %zu",
                       m->p_x, rows->p_x);
    size_t n = rows->n;
    double *base = h->alloc(sizeof *base * (n + 1));
    double *f0 = s_design(m, rows, NULL, 0, m->w_mean);
    int rc = (!base || !f0) ? pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory") : TT_OK;
    if (rc == TT_OK)
        rc = h->learner_predict(m->mu, n, s_width(m), f0, base, err, errlen);
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        double *fk = s_design(m, rows, NULL, k, m->w_mean);
        double *col = out + (size_t)(k - 1) * n;
        rc = fk ? h->learner_predict(m->mu, n, s_width(m), fk, col, err, errlen)
                : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == TT_OK && i < n; i++)
            col[i] -= base[i];
        h->release(fk);
    }
    h->release(f0);
    h->release(base);
    return rc;
}

static int s_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    s_model *m = instance;
    if (pu_writef(sink, "s_learner 1\narms %d\np_x %zu\np_w %zu\ninteractions %d\n", m->n_arms,
                  m->p_x, m->p_w, m->interactions) ||
        pu_write_doubles(sink, "alpha", &m->alpha, 1) ||
        pu_write_doubles(sink, "w_mean", m->w_mean, m->p_w))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_save_learner(m->host, m->mu, sink, err, errlen);
}

static int s_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                  char *err, size_t errlen)
{
    char line[64];
    long arms, p_x, p_w, inter;
    if (pu_read_line(src, line, sizeof line) || strcmp(line, "s_learner 1") ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &p_x) || p_x < 0 || pu_read_long(src, "p_w", &p_w) || p_w < 0 ||
        pu_read_long(src, "interactions", &inter))
        return pu_errf(err, errlen, TT_ERR_PARSE, "not an s_learner model (version 1)");
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
    if (!m->w_mean || pu_read_doubles(src, "alpha", &m->alpha, 1) ||
        pu_read_doubles(src, "w_mean", m->w_mean, m->p_w))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "s_learner model: bad header");
    if (rc == TT_OK)
        rc = pu_load_learner(host, src, &m->mu, err, errlen);
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
    .version = "1.0.0",
    .summary = "One ridge outcome model with the arm as a feature; effect = mu(x,k) - mu(x,0)",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = s_params,
    .n_params = sizeof s_params / sizeof s_params[0],
    .create = s_create,
    .fit = s_fit,
    .effect = s_effect,
    .save = s_save,
    .load = s_load,
    .destroy = s_destroy,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &s_descriptor;
}
