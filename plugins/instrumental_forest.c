/*
 * instrumental_forest.c - grf's instrumental forest (binary treatment, one
 * binary instrument), centred by the host's cross-fitted nuisances.
 *
 * Residuals of the training rows (pu_ivres.h): Y_res = Y - m(x, w),
 * T_res = T - p(x, w), Z_res = Z - r(x, w). The host's INSTRUMENTAL forest
 * (ABI 1.3, core/learn/grf.h) on (x, Y_res, T_res, Z_res) gives theta(x)
 * solving the forest-weighted local moment
 *   E[(Y_res - c(x) - theta(x) T_res) (1, Z_res) | x] = 0,
 * i.e. a local Wald ratio Cov_alpha(Y, Z | x) / Cov_alpha(T, Z | x) with the
 * forest weights alpha(x) - the conditional LATE at x (grf's
 * instrumental_forest; its splits follow the instrumental relabelling with
 * grf's stabilised split rule). Settings: grf's defaults (min.node.size 5,
 * sample.fraction 0.5, mtry min(ceil(sqrt(p) + 20), p), honesty 0.5 with
 * pruning, alpha 0.05, variance groups of 2, reduced.form.weight 0) except
 * trees: 200, as causal_forest (pu_forest.h says why), searchable up to 2000.
 *
 * Intervals: theta(x) -+ z sqrt(var), var the little-bags variance.
 *
 * Average effect (average_effect), on rows that carry t, y and z (the
 * run's validation rows): grf's average_treatment_effect for instrumental
 * forests, i.e. the mean of the doubly robust LATE scores
 *   Gamma_i = theta_i + (Z_i - r_i) / (r_i (1 - r_i)) / Delta_i
 *                       * (Y_i - m_i - theta_i (T_i - p_i))
 * with the standard error sd(Gamma) / sqrt(n), where Delta = p_1 - p_0 is
 * the host's compliance (grf fits an auxiliary causal forest of T on Z for
 * it; the host's P(T = 1 | x, w, Z = z) models estimate the same thing) and
 * m, p, r, p_z come from the host's nuisance models fitted on all training
 * rows. Why it is right: for a binary Z, Cov(T, Z | x) = r (1 - r) Delta(x)
 * and, Z moving Y only through T, Cov(Y, Z | x) = tau(x) Cov(T, Z | x); with
 * r right (E[Z - r | x] = 0, so m and p drop out) the correction's mean
 * given x is Cov(Y - theta T, Z | x) / (r (1 - r) Delta) = (tau - theta)(x)
 * when Delta is right too, so E[Gamma | x] = tau(x) whatever the forest's
 * theta; and when theta is right that mean is 0 whatever Delta. The mean
 * of Gamma estimates E[tau(X)], the average conditional LATE, with the
 * errors of theta and Delta entering only as their product. On rows without
 * t, y or z: the mean estimate with the mean of the row intervals
 * (conservative: it assumes perfectly correlated row errors).
 * Out of bag (average_effect_oob, ABI 1.4): the same scores on the training
 * rows with the forest's out-of-bag estimates and the cross-fitted
 * nuisances, weighted by the sample weights - grf's own recipe - made at fit
 * and saved with the model.
 *
 * Refusals and warnings as dml_iv.c's: K > 2 arms (create), no instrument,
 * an older host's view, several or non-binary instrument columns, no IV
 * nuisances (fit); a weak instrument (first-stage F of T_res on Z_res below
 * 10) is logged as a warning - its forest intervals and scores then widen
 * with the small compliance rather than vanish.
 *
 * Saved form: "instrumental_forest 1", "arms 2", "p_x P", the out-of-bag
 * average ("oob_average 1", "oob_ate", "oob_se", or "oob_average 0"), then
 * the forest.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_aipw.h"
#include "common/pu_forest.h"
#include "common/pu_ivres.h"
#include "common/pu_plugin.h"

#define IVF_NAME "instrumental_forest"
#define IVF_VERSION "1.0.0"
#define IVF_SAVE_VERSION 1

enum { P_FOREST = 0, IVF_N_PARAMS = P_FOREST + PU_FOREST_N };
static const tt_plugin_param ivf_params[] = {
    PU_FOREST_PARAMS(200, 5, 0.5, 0.0),
};

typedef struct ivf_model {
    const tt_plugin_host *host;
    double params[IVF_N_PARAMS]; /* as given to create (unused after load) */
    size_t p_x;
    int fitted;
    tt_forest *forest;           /* non-NULL when fitted */
    pu_aipw_kept oob;            /* the out-of-bag LATE average, or why there is none */
} ivf_model;

static void ivf_clear(ivf_model *m)
{
    m->host->forest_destroy(m->forest);
    m->forest = NULL;
    memset(&m->oob, 0, sizeof m->oob);
    m->fitted = 0;
}

static void ivf_destroy(void *instance)
{
    ivf_model *m = instance;
    if (!m)
        return;
    ivf_clear(m);
    m->host->release(m);
}

static int ivf_create(const tt_plugin_host *host, const double *params, int n_arms,
                      void **instance, char *err, size_t errlen)
{
    int rc = pu_iv_check_arms(IVF_NAME, n_arms, err, errlen);
    if (rc == TT_OK)
        rc = pu_forest_check_host(host, IVF_NAME, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_params(IVF_NAME, ivf_params, IVF_N_PARAMS, params, err, errlen);
    if (rc)
        return rc;
    ivf_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    memcpy(m->params, params, sizeof m->params);
    *instance = m;
    return TT_OK;
}

/* The LATE scores on the training rows with out-of-bag estimates (grf's
 * average_treatment_effect on an instrumental forest), into m->oob. */
static int ivf_oob_average(ivf_model *m, const tt_plugin_data *d, const pu_iv_res *res,
                           char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n;
    double *tau = h->alloc(sizeof *tau * (n + 1));
    int rc = tau ? TT_OK : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        rc = h->forest_predict_oob(m->forest, tau, NULL, err, errlen);
    for (size_t i = 0; rc == TT_OK && i < n; i++)
        if (!isfinite(tau[i])) /* a row no tree left out: grf would give NaN too */
            rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                         "row %zu has no out-of-bag estimate (too few trees)", i);
    if (rc == TT_OK)
        rc = pu_iv_late_average(h, IVF_NAME, n, tau, res->yres, res->tres, d->z, res->zres,
                                res->comp, d->weight, m->oob.ate, m->oob.se, err, errlen);
    m->oob.has = rc == TT_OK;
    h->release(tau);
    return rc;
}

static int ivf_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    ivf_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = pu_check_train(IVF_NAME, 2, d, err, errlen);
    if (rc == TT_OK)
        rc = pu_iv_check_instrument(IVF_NAME, d, err, errlen);
    if (rc)
        return rc;
    ivf_clear(m);
    m->p_x = d->p_x;
    pu_iv_res res;
    if ((rc = pu_iv_residuals(h, IVF_NAME, d, &res, err, errlen)))
        return rc;
    pu_iv_log_strength(h, IVF_NAME, &res);
    pu_forest_cfg cfg;
    tt_forest_options opt;
    pu_forest_read(m->params, P_FOREST, &cfg);
    pu_forest_options(&cfg, d->p_x, &opt);
    rc = h->forest_fit(h->host_ctx, TT_FOREST_INSTRUMENTAL, &opt, d->n, d->p_x, d->x, res.yres,
                       res.tres, 1, res.zres, d->weight, &m->forest, err, errlen);
    m->fitted = rc == TT_OK;
    /* The out-of-bag average's failure does not fail the fit (the effects
     * are fine without it): the reason is kept and logged. */
    if (rc == TT_OK && ivf_oob_average(m, d, &res, m->oob.why, sizeof m->oob.why) != TT_OK)
        h->log(h->host_ctx, TT_LOG_WARN, IVF_NAME ": no out-of-bag average effect: %s",
               m->oob.why);
    if (rc)
        ivf_clear(m);
    pu_iv_res_free(h, &res);
    return rc;
}

static int ivf_check_rows(const ivf_model *m, const tt_plugin_data *rows, char *err,
                          size_t errlen)
{
    return pu_check_rows(IVF_NAME, m->fitted, m->p_x, rows, err, errlen);
}

static int ivf_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    ivf_model *m = instance;
    int rc = ivf_check_rows(m, rows, err, errlen);
    return rc ? rc
              : m->host->forest_predict(m->forest, rows->n, m->p_x, rows->x, out, NULL, err,
                                        errlen);
}

/* Estimates and row bounds (rows->n each, allocated by the caller). */
static int ivf_bounds(ivf_model *m, const tt_plugin_data *rows, double alpha, double *est,
                      double *lo, double *hi, char *err, size_t errlen)
{
    double *var = m->host->alloc(sizeof *var * (rows->n + 1));
    if (!var)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = m->host->forest_predict(m->forest, rows->n, m->p_x, rows->x, est, var, err, errlen);
    if (rc == TT_OK)
        rc = pu_forest_bounds(rows->n, est, var, alpha, lo, hi, err, errlen);
    m->host->release(var);
    return rc;
}

static int ivf_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                        double *hi, char *err, size_t errlen)
{
    ivf_model *m = instance;
    int rc = ivf_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    double *est = m->host->alloc(sizeof *est * (rows->n + 1));
    if (!est)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = ivf_bounds(m, rows, alpha, est, lo, hi, err, errlen);
    m->host->release(est);
    return rc;
}

static int ivf_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    ivf_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = ivf_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    if (rc == TT_OK && rows->n == 0)
        rc = pu_errf(err, errlen, TT_ERR_INVALID, IVF_NAME ": no rows to average over");
    if (rc)
        return rc;
    size_t n = rows->n;
    int late = pu_iv_rows_have_late(rows);
    double *est = h->alloc(sizeof *est * (n + 1)), *rl = NULL, *rh = NULL;
    if (!late) {
        rl = h->alloc(sizeof *rl * (n + 1));
        rh = h->alloc(sizeof *rh * (n + 1));
    }
    if (!est || (!late && (!rl || !rh)))
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK && late) {
        double se;
        rc = h->forest_predict(m->forest, n, m->p_x, rows->x, est, NULL, err, errlen);
        if (rc == TT_OK)
            rc = pu_iv_late_predict(h, IVF_NAME, rows, est, ate, &se, err, errlen);
        if (rc == TT_OK) {
            double z = pu_normal_quantile(1.0 - alpha / 2.0);
            *lo = *ate - z * se;
            *hi = *ate + z * se;
        }
    } else if (rc == TT_OK) {
        rc = ivf_bounds(m, rows, alpha, est, rl, rh, err, errlen);
        if (rc == TT_OK)
            pu_mean_of_rows(n, 1, est, rl, rh, ate, lo, hi);
    }
    h->release(est);
    h->release(rl);
    h->release(rh);
    return rc;
}

static int ivf_average_oob(void *instance, double alpha, double *ate, double *lo, double *hi,
                           double *se, char *err, size_t errlen)
{
    const ivf_model *m = instance;
    return pu_aipw_kept_get(&m->oob, IVF_NAME, m->fitted, 1, alpha, ate, lo, hi, se, err,
                            errlen);
}

static int ivf_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    ivf_model *m = instance;
    if (!m->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, IVF_NAME ": not fitted");
    int rc = pu_save_header(sink, IVF_NAME, IVF_SAVE_VERSION, 2, m->p_x, err, errlen);
    if (rc == TT_OK && pu_aipw_kept_save(&m->oob, 1, sink))
        rc = pu_errf(err, errlen, TT_ERR_IO, IVF_NAME ": cannot write the model");
    return rc ? rc : pu_forest_save(m->host, m->forest, sink, err, errlen);
}

static int ivf_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    int arms = 0;
    size_t p_x = 0;
    int rc = pu_load_header(src, IVF_NAME, IVF_SAVE_VERSION, &arms, &p_x, err, errlen);
    if (rc == TT_OK && arms != 2)
        rc = pu_errf(err, errlen, TT_ERR_PARSE, IVF_NAME " model: %d arms, expected 2", arms);
    if (rc == TT_OK)
        rc = pu_forest_check_host(host, IVF_NAME, err, errlen);
    if (rc)
        return rc;
    ivf_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->p_x = p_x;
    if (pu_aipw_kept_load(&m->oob, 1, src))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, IVF_NAME " model: bad out-of-bag average lines");
    if (rc == TT_OK)
        rc = pu_forest_load(host, src, &m->forest, err, errlen);
    if (rc == TT_OK && host->forest_n_outputs(m->forest) != 1)
        rc = pu_errf(err, errlen, TT_ERR_PARSE,
                     IVF_NAME " model: the forest gives %zu values per row, expected 1",
                     host->forest_n_outputs(m->forest));
    if (rc) {
        ivf_destroy(m);
        return rc;
    }
    m->fitted = 1;
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor ivf_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = IVF_NAME,
    .version = IVF_VERSION,
    .summary = "grf instrumental forest (binary treatment and instrument), centred by the "
               "cached nuisances; forest-variance intervals, doubly robust LATE average",
    .capabilities = TT_PLUGIN_CAP_IV | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_OUTCOME | TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                    TT_PLUGIN_CAP_NEEDS_IV_NUISANCES,
    .params = ivf_params,
    .n_params = IVF_N_PARAMS,
    .create = ivf_create,
    .fit = ivf_fit,
    .effect = ivf_effect,
    .effect_interval = ivf_interval,
    .save = ivf_save,
    .load = ivf_load,
    .destroy = ivf_destroy,
    .interval_method = "forest variance (little bags)",
    .average_effect = ivf_average,
    .average_method = "doubly robust LATE scores (grf's average_treatment_effect) on rows "
                      "with t, y and z; else the mean of the row intervals (conservative)",
    .average_effect_oob = ivf_average_oob,
    .average_oob_method = "doubly robust LATE scores on out-of-bag forest estimates (grf's "
                          "average_treatment_effect)",
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &ivf_descriptor;
}
