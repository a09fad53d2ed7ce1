/*
 * ipw - constant effect per arm by inverse propensity weighting (Hajek):
 *   mu_k = sum_i a_ik Y_i / sum_i a_ik,  a_ik = s_i 1{T_i = k} / e_k(x_i, w_i),
 *   tau_k = mu_k - mu_0,
 * with s_i the sample weight (1 without weights) and e the host's
 * out-of-fold propensity, clipped below at min_propensity so no single row
 * can dominate.
 *
 * Interval: from the influence function of the Hajek estimator, taking the
 * propensities as given: psi_ik = n a_ik (Y_i - mu_k) / sum_j a_jk, and for
 * the contrast psi_i = psi_ik - psi_i0; se = sqrt(sum_i psi_i^2) / n. (With
 * estimated propensities this is the usual, slightly conservative, choice.)
 * The effect is constant, so the average effect is that constant with the
 * same interval. Multi-arm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_plugin.h"
#include "common/pu_nuis.h"

enum { P_MIN_PROPENSITY };

static const tt_plugin_param ipw_params[] = {
    [P_MIN_PROPENSITY] = {.name = "min_propensity", .kind = TT_PARAM_LOG_REAL, .lo = 1e-6,
                          .hi = 0.1, .default_value = 0.01,
                          .help = "propensities are clipped into [this, 1 - this]"},
};

typedef struct ipw_model {
    const tt_plugin_host *host;
    int n_arms;
    double clip;
    double *effect; /* K-1 */
    double *se;     /* K-1 */
} ipw_model;

static void ipw_destroy(void *instance)
{
    ipw_model *m = instance;
    if (!m)
        return;
    m->host->release(m->effect);
    m->host->release(m->se);
    m->host->release(m);
}

static int ipw_alloc(const tt_plugin_host *host, int n_arms, ipw_model **out, char *err,
                     size_t errlen)
{
    ipw_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    m->effect = host->alloc_zero((size_t)n_arms, sizeof *m->effect);
    m->se = host->alloc_zero((size_t)n_arms, sizeof *m->se);
    if (!m->effect || !m->se) {
        ipw_destroy(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return TT_OK;
}

static int ipw_create(const tt_plugin_host *host, const double *params, int n_arms,
                      void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    if (host->abi_minor < 1 || !host->nuisance_oof)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "ipw needs the host's propensities (plugin ABI 1.1 or newer)");
    ipw_model *m = NULL;
    int rc = ipw_alloc(host, n_arms, &m, err, errlen);
    if (rc == TT_OK) {
        m->clip = params[P_MIN_PROPENSITY];
        *instance = m;
    }
    return rc;
}

/* Hajek mean of arm k: a_i = s_i 1{T_i = k} / e_ik. Returns the mean and
 * adds n a_i (Y_i - mu) / A times sign into psi. TT_ERR_DATA without rows. */
static int hajek_arm(const tt_plugin_data *d, const double *e, int k, double sign, double *psi,
                     double *mean, char *err, size_t errlen)
{
    size_t n = d->n;
    const double *ek = e + (size_t)k * n;
    double a_sum = 0, ay_sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (d->t[i] != k)
            continue;
        double a = (d->weight ? d->weight[i] : 1.0) / ek[i];
        a_sum += a;
        ay_sum += a * d->y[i];
    }
    if (!(a_sum > 0))
        return pu_errf(err, errlen, TT_ERR_DATA, "arm %d has no training rows", k);
    double mu = ay_sum / a_sum;
    for (size_t i = 0; i < n; i++)
        if (d->t[i] == k)
            psi[i] += sign * (double)n * ((d->weight ? d->weight[i] : 1.0) / ek[i]) *
                      (d->y[i] - mu) / a_sum;
    *mean = mu;
    return TT_OK;
}

static int ipw_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    ipw_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != m->n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "created for %d arms, data has %d",
                       m->n_arms, d->n_arms);
    double *e = NULL;
    int rc = pu_nuis_propensity_oof(h, m->n_arms, d->n, m->clip, &e, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *psi = h->alloc(sizeof *psi * (d->n + 1));
    if (!psi) {
        h->release(e);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    for (int k = 1; k < m->n_arms && rc == TT_OK; k++) {
        double mu_k = 0, mu_0 = 0;
        memset(psi, 0, sizeof *psi * d->n);
        rc = hajek_arm(d, e, k, 1.0, psi, &mu_k, err, errlen);
        if (rc == TT_OK)
            rc = hajek_arm(d, e, 0, -1.0, psi, &mu_0, err, errlen);
        if (rc != TT_OK)
            break;
        double ss = 0;
        for (size_t i = 0; i < d->n; i++)
            ss += psi[i] * psi[i];
        m->effect[k - 1] = mu_k - mu_0;
        m->se[k - 1] = sqrt(ss) / (double)d->n;
    }
    h->release(psi);
    h->release(e);
    return rc;
}

static int ipw_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    (void)err;
    (void)errlen;
    ipw_model *m = instance;
    pu_const_effect(m->n_arms, m->effect, rows->n, out);
    return TT_OK;
}

static int ipw_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                        double *hi, char *err, size_t errlen)
{
    ipw_model *m = instance;
    return pu_const_interval(m->n_arms, m->effect, m->se, rows->n, alpha, lo, hi, err, errlen);
}

/* Constant effect: the average is the constant, with the same interval. */
static int ipw_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    ipw_model *m = instance;
    (void)rows;
    return pu_const_average(m->n_arms, m->effect, m->se, alpha, ate, lo, hi, err, errlen);
}

static int ipw_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    ipw_model *m = instance;
    size_t k = (size_t)(m->n_arms - 1);
    if (pu_writef(sink, "ipw 1\narms %d\n", m->n_arms) != 0 ||
        pu_write_doubles(sink, "clip", &m->clip, 1) != 0 ||
        pu_write_doubles(sink, "effect", m->effect, k) != 0 ||
        pu_write_doubles(sink, "se", m->se, k) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return TT_OK;
}

static int ipw_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    char line[64];
    long arms;
    if (pu_read_line(src, line, sizeof line) != 0 || strcmp(line, "ipw 1") != 0 ||
        pu_read_long(src, "arms", &arms) != 0 || arms < 2 || arms > 100000)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not an ipw model (version 1)");
    ipw_model *m = NULL;
    int rc = ipw_alloc(host, (int)arms, &m, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (pu_read_doubles(src, "clip", &m->clip, 1) != 0 ||
        pu_read_doubles(src, "effect", m->effect, (size_t)arms - 1) != 0 ||
        pu_read_doubles(src, "se", m->se, (size_t)arms - 1) != 0) {
        ipw_destroy(m);
        return pu_errf(err, errlen, TT_ERR_PARSE, "ipw model: bad clip, effect or se line");
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor ipw_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "ipw",
    .version = "1.0.0",
    .summary = "Constant effect per arm: Hajek inverse-propensity-weighted difference of means",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_PROPENSITY,
    .params = ipw_params,
    .n_params = sizeof ipw_params / sizeof ipw_params[0],
    .create = ipw_create,
    .fit = ipw_fit,
    .effect = ipw_effect,
    .effect_interval = ipw_interval,
    .save = ipw_save,
    .load = ipw_load,
    .destroy = ipw_destroy,
    .interval_method = "influence function (Hajek IPW)",
    .average_effect = ipw_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &ipw_descriptor;
}
