/*
 * dml.c - double machine learning: dml_linear, dml_sparse_linear,
 * dml_nonparam and the causal forests causal_forest_dml, causal_forest and
 * multi_arm_causal_forest.
 *
 * One source, built once per variant (PU_DML_LINEAR / PU_DML_SPARSE /
 * PU_DML_NONPARAM / PU_DML_CF_DML / PU_DML_CF / PU_DML_MACF); each build is
 * its own shared object with its own name.
 *
 * Residuals from the host's cached cross-fitted nuisances on the training rows:
 *   Y_res = Y - m(x, w),   T_res_k = 1{T = k} - e_k(x, w)   (k = 1..K-1),
 * or, for a continuous treatment (ABI 1.8; all but causal_forest and
 * multi_arm_causal_forest take one), T_res = T - E[T | x, w] and theta(x)
 * is the marginal effect per unit of T (the partially linear model).
 * The propensities are NOT clipped: DML never divides by them (the
 * nonparametric variant divides by T_res instead, guarded below).
 * theta(x) minimises sum_i w_i (Y_res_i - sum_k theta_k(x_i) T_res_k,i)^2:
 *
 *   dml_linear         theta_k(x) = phi(x)'beta_k; OLS of Y_res on the design
 *                      Z (n x d(K-1)), column (k-1)*d + j = phi_j(x) T_res_k,
 *                      HC1 sandwich covariance (pu_ols_hc1).
 *   dml_sparse_linear  the same design, debiased lasso (pu_debiased_lasso). The
 *                      lasso's own intercept (coefficient 0) is an offset of
 *                      Y_res, asymptotically zero after residualising, and not
 *                      part of theta: it is dropped with its row and column of
 *                      the covariance. fit_cate_intercept is the phi_0 = 1
 *                      column (times T_res), a different thing.
 *   dml_nonparam       binary only: theta(x) minimises
 *                      sum_i w_i T_res_i^2 (Y_res_i/T_res_i - theta(x_i))^2,
 *                      i.e. a slot learner regressing Y_res/T_res on x with
 *                      weights w_i T_res_i^2, bootstrap intervals (pu_final).
 *                      Rows with |T_res| < 1e-6 are left out (mask): their
 *                      weight is ~1e-12 of a typical row's, so dropping them
 *                      changes nothing but avoids dividing by ~0.
 *   causal forests     a CAUSAL forest of the host (ABI 1.3) on
 *                      (x, Y_res, T_res with K-1 columns): theta(x) solves
 *                      the forest-weighted local moment
 *                      E[(Y_res - c - T_res'theta) (1, T_res) | x] = 0 (the
 *                      grf recipe: centred by the cached m, e). Intervals
 *                      theta_k +- z sqrt(var_k), little-bags variance.
 *                      causal_forest_dml: multi-arm, EconML's CausalForestDML
 *                        defaults (max_samples 0.45, every feature tried);
 *                        average effect = mean estimate with the mean of the
 *                        row bounds as its (conservative) interval.
 *                      causal_forest (binary) and multi_arm_causal_forest:
 *                        grf's defaults except trees (200, see pu_forest.h);
 *                        average effect by AIPW (grf's
 *                        average_treatment_effect) when the rows carry t and
 *                        y, else as causal_forest_dml's (see dml_aipw); and
 *                        (ABI 1.4) grf's own version of it, on the training
 *                        rows with the forest's out-of-bag estimates and the
 *                        cross-fitted nuisances, computed at fit and saved
 *                        (average_effect_oob, see dml_oob_average).
 *
 * Sample weights (train->weight, NULL = 1) multiply the regression weights
 * w_i above in every variant. Intervals treat the nuisances as fixed.
 * dml_nonparam's bootstrap replicas: the run's intervals.resamples
 * (pu_boot_resamples), a setting of the run rather than a hyperparameter.
 *
 * Saved form: "<name> 1", "arms K", "p_x P", then pu_linear's, pu_final's or
 * the forest's own lines. causal_forest and multi_arm_causal_forest save
 * version 2: after p_x, "oob_average 1" with "oob_ate" and "oob_se" lines of
 * K-1 values (or "oob_average 0"); they still read version 1 (no OOB
 * average).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_aipw.h"
#include "common/pu_final.h"
#include "common/pu_forest.h"
#include "common/pu_linear.h"
#include "common/pu_nuis.h"
#include "common/pu_plugin.h"

#define DML_VERSION "1.0.0"
#if defined(PU_DML_CF)
#define DML_MANY_ARMS "multi_arm_causal_forest or causal_forest_dml"
#else
#define DML_MANY_ARMS "dml_linear or dml_sparse_linear"
#endif
/* dml_nonparam: rows whose treatment residual is smaller than this are left out. */
#define DML_MIN_TRES 1e-6

/* ---- Variants --------------------------------------------------------------- */

#if defined(PU_DML_LINEAR) || defined(PU_DML_SPARSE)

#define DML_IS_LINEAR 1
#if defined(PU_DML_LINEAR)
#define DML_NAME "dml_linear"
#define DML_SUMMARY "DML: Y residual on phi(x) x T residuals by OLS; HC1 sandwich intervals"
#define DML_INTERVALS "HC1 sandwich"
#else
#define DML_NAME "dml_sparse_linear"
#define DML_SUMMARY "DML: Y residual on phi(x) x T residuals by debiased lasso; debiased-lasso intervals"
#define DML_INTERVALS "debiased lasso"
#endif
#define DML_CAPS (TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_CONTINUOUS_TREATMENT)

enum { P_INTERCEPT = 0, P_FEATURIZER, DML_N_PARAMS };
static const tt_plugin_param dml_params[] = {
    [P_INTERCEPT] = PU_PHI_INTERCEPT_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

#elif defined(PU_DML_NONPARAM)

#define DML_IS_LINEAR 0
#define DML_NAME "dml_nonparam"
#define DML_SUMMARY "DML (binary or continuous T): Y_res/T_res regressed on x by any learner, weights T_res^2; bootstrap intervals"
#define DML_INTERVALS "bootstrap (normal)"
#define DML_CAPS TT_PLUGIN_CAP_CONTINUOUS_TREATMENT

enum { P_SLOT = 0, DML_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param dml_params[] = {
    PU_SLOT_PARAMS("final", "the final model"),
};
/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition dml_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};
#define DML_HAS_CONDITIONS 1

#elif defined(PU_DML_CF_DML) || defined(PU_DML_CF) || defined(PU_DML_MACF)

#define DML_IS_LINEAR 0
#define DML_IS_FOREST 1
#if defined(PU_DML_CF_DML)
#define DML_NAME "causal_forest_dml"
#define DML_SUMMARY "DML causal forest: Y residual on T residuals by a generalised random forest; forest-variance intervals"
#define DML_CAPS (TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_CONTINUOUS_TREATMENT)
#define DML_AIPW 0
#define DML_SAMPLE_FRACTION 0.45
#define DML_MTRY_SHARE 1.0
#elif defined(PU_DML_CF)
#define DML_NAME "causal_forest"
#define DML_SUMMARY "grf causal forest (binary), centred by the cached nuisances; forest-variance intervals, AIPW average effect"
#define DML_CAPS 0u
#define DML_AIPW 1
#define DML_SAMPLE_FRACTION 0.5
#define DML_MTRY_SHARE 0.0
#else
#define DML_NAME "multi_arm_causal_forest"
#define DML_SUMMARY "grf multi-arm causal forest, centred by the cached nuisances; forest-variance intervals, AIPW average effect"
#define DML_CAPS TT_PLUGIN_CAP_MULTI_ARM
#define DML_AIPW 1
#define DML_SAMPLE_FRACTION 0.5
#define DML_MTRY_SHARE 0.0
#endif
#define DML_INTERVALS "forest variance (little bags)"
#if DML_AIPW
#define DML_AVERAGE "AIPW on the forest's estimates (grf's average_treatment_effect)"
#else
#define DML_AVERAGE "mean of the forest-variance row intervals (conservative)"
#endif
/* The engine takes at most 8 treatment columns. */
#define DML_MAX_ARMS (PU_AIPW_MAX_EFF + 1)
/* AIPW divides by the propensities of the rows it averages over: they are
 * clipped into [DML_AIPW_CLIP, 1 - DML_AIPW_CLIP] (grf does not clip; this
 * only guards against an exact 0 or 1 from the nuisance model). */
#define DML_AIPW_CLIP 1e-3

enum { P_FOREST = 0, DML_N_PARAMS = P_FOREST + PU_FOREST_N };
static const tt_plugin_param dml_params[] = {
    PU_FOREST_PARAMS(200, 5, DML_SAMPLE_FRACTION, DML_MTRY_SHARE),
};

#else
#error "build dml.c with one of PU_DML_LINEAR, PU_DML_SPARSE, PU_DML_NONPARAM, PU_DML_CF_DML, PU_DML_CF, PU_DML_MACF"
#endif

#ifndef DML_IS_FOREST
#define DML_IS_FOREST 0
#endif
#ifndef DML_AIPW
#define DML_AIPW 0
#endif
/* Version 2 added the out-of-bag average of the AIPW forests. */
#if DML_AIPW
#define DML_SAVE_VERSION 2
#define DML_AVERAGE_OOB "AIPW on out-of-bag forest estimates (grf's average_treatment_effect)"
#else
#define DML_SAVE_VERSION 1
#endif

_Static_assert(sizeof dml_params / sizeof dml_params[0] == DML_N_PARAMS,
               "schema and parameter indices disagree");

/* ---- the model ------------------------------------------------------------ */

typedef struct dml_model {
    const tt_plugin_host *host;
    int n_arms;
    double params[DML_N_PARAMS]; /* as given to create (unused after load) */
    size_t p_x;                  /* effect modifiers seen by fit */
    int fitted;
#if DML_IS_LINEAR
    pu_linear lin;               /* valid when fitted */
#elif DML_IS_FOREST
    tt_forest *forest;           /* non-NULL when fitted */
#if DML_AIPW
    /* The out-of-bag average effect of the last fit, or why there is none:
     * made at fit, when the training rows are at hand, and saved. */
    pu_aipw_kept oob;
#endif
#else
    pu_final *final;             /* non-NULL when fitted */
#endif
} dml_model;

static void dml_clear(dml_model *m)
{
#if DML_IS_LINEAR
    if (m->fitted)
        pu_linear_free(&m->lin);
    memset(&m->lin, 0, sizeof m->lin);
#elif DML_IS_FOREST
    m->host->forest_destroy(m->forest);
    m->forest = NULL;
#if DML_AIPW
    memset(&m->oob, 0, sizeof m->oob);
#endif
#else
    pu_final_free(m->final);
    m->final = NULL;
#endif
    m->fitted = 0;
}

static void dml_destroy(void *instance)
{
    dml_model *m = instance;
    if (!m)
        return;
    dml_clear(m);
    m->host->release(m);
}

static int dml_create(const tt_plugin_host *host, const double *params, int n_arms,
                      void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, DML_NAME ": need at least 2 arms, got %d",
                       n_arms);
#if DML_IS_FOREST
    if (n_arms > DML_MAX_ARMS)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DML_NAME " handles at most %d arms (8 treatment columns), the problem has %d",
                       DML_MAX_ARMS, n_arms);
    int frc = pu_forest_check_host(host, DML_NAME, err, errlen);
    if (frc)
        return frc;
#endif
#if !DML_IS_LINEAR && (!DML_IS_FOREST || !(DML_CAPS & TT_PLUGIN_CAP_MULTI_ARM))
    if (n_arms > 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DML_NAME " handles a binary treatment only, the problem has %d arms "
                       "(use " DML_MANY_ARMS " for several arms)", n_arms);
#endif
    int rc = pu_check_params(DML_NAME, dml_params, DML_N_PARAMS, params, err, errlen);
    if (rc)
        return rc;
    dml_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    memcpy(m->params, params, sizeof m->params);
    *instance = m;
    return TT_OK;
}

/* yres: n values; tres: n x (K-1), column k-1 = 1{t = k} - e_k, or with a
 * continuous treatment (one column) T - E[T | x, w]. Both new
 * (host->alloc), released by the caller also on failure. */
static int dml_residuals(const dml_model *m, const tt_plugin_data *d, double **yres,
                         double **tres, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n;
    double *e = NULL;
    const double *tv = pu_t_value(d);
    if (tv) {
        int rc = pu_nuis_outcome_oof(h, n, yres, err, errlen);
        if (rc == TT_OK)
            rc = pu_nuis_treatment_mean_oof(h, n, tres, err, errlen);
        for (size_t i = 0; rc == TT_OK && i < n; i++) {
            (*yres)[i] = d->y[i] - (*yres)[i];
            (*tres)[i] = tv[i] - (*tres)[i];
        }
        return rc;
    }
    int rc = pu_nuis_outcome_oof(h, n, yres, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_propensity_oof(h, m->n_arms, n, 0.0, &e, err, errlen);
    if (rc == TT_OK && !(*tres = h->alloc(sizeof **tres * n * ((size_t)m->n_arms - 1))))
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK) {
        for (size_t i = 0; i < n; i++)
            (*yres)[i] = d->y[i] - (*yres)[i];
        for (int k = 1; k < m->n_arms; k++) {
            double *col = *tres + (size_t)(k - 1) * n;
            const double *ek = e + (size_t)k * n;
            for (size_t i = 0; i < n; i++)
                col[i] = (d->t[i] == k) - ek[i];
        }
    }
    h->release(e);
    return rc;
}

#if DML_IS_LINEAR

/* Z (n x d(K-1)): column (k-1)*d + j = phi_j(x) * T_res_k. */
static double *dml_design(const tt_plugin_host *h, const pu_phi *phi, const tt_plugin_data *d,
                          int n_arms, const double *tres)
{
    size_t n = d->n, dim = pu_phi_dim(phi), cols = (size_t)n_arms - 1;
    double *f = pu_phi_build(h, phi, n, d->x);
    double *z = f ? h->alloc(sizeof *z * n * dim * cols) : NULL;
    for (size_t k = 0; z && k < cols; k++)
        for (size_t j = 0; j < dim; j++) {
            double *zc = z + (k * dim + j) * n;
            const double *fc = f + j * n, *tc = tres + k * n;
            for (size_t i = 0; i < n; i++)
                zc[i] = fc[i] * tc[i];
        }
    h->release(f);
    return z;
}

/* Regress Y_res on Z into m->lin (beta and cov already in its layout). */
static int dml_stage_fit(dml_model *m, const tt_plugin_data *d, const double *yres,
                         const double *tres, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    pu_phi phi = {.intercept = m->params[P_INTERCEPT] != 0,
                  .poly2 = m->params[P_FEATURIZER] == 1, .p_x = d->p_x};
    size_t n = d->n, dim = pu_phi_dim(&phi), D = dim * ((size_t)m->n_arms - 1);
    if (dim == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       DML_NAME ": no effect features (no x and fit_cate_intercept = false)");
    int rc = pu_linear_init(&m->lin, h, &phi, m->n_arms, err, errlen);
    if (rc)
        return rc;
    m->fitted = 1; /* lin owns arrays from here: dml_clear frees them on failure */
    double *z = dml_design(h, &phi, d, m->n_arms, tres);
#if defined(PU_DML_LINEAR)
    if (!z)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    else
        rc = pu_ols_hc1(h, n, D, z, yres, d->weight, m->lin.beta, m->lin.cov, err, errlen);
#else
    size_t D1 = D + 1;
    double *beta = h->alloc(sizeof *beta * D1), *cov = h->alloc(sizeof *cov * D1 * D1);
    if (!z || !beta || !cov)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    else
        rc = pu_debiased_lasso(h, n, D, z, yres, d->weight, beta, cov, err, errlen);
    /* Drop the lasso's intercept: coefficient 0 and its row and column. */
    for (size_t a = 0; rc == TT_OK && a < D; a++) {
        m->lin.beta[a] = beta[a + 1];
        for (size_t b = 0; b < D; b++)
            m->lin.cov[a + b * D] = cov[(a + 1) + (b + 1) * D1];
    }
    h->release(beta);
    h->release(cov);
#endif
    h->release(z);
    return rc;
}

static int dml_stage_effect(dml_model *m, const tt_plugin_data *rows, double *out, char *err,
                            size_t errlen)
{
    return pu_linear_effect(&m->lin, rows, out, err, errlen);
}

static int dml_stage_interval(dml_model *m, const tt_plugin_data *rows, double alpha, double *lo,
                              double *hi, char *err, size_t errlen)
{
    return pu_linear_interval(&m->lin, rows, alpha, lo, hi, err, errlen);
}

static int dml_stage_average(dml_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                             double *lo, double *hi, char *err, size_t errlen)
{
    return pu_linear_average(&m->lin, rows, alpha, ate, lo, hi, err, errlen);
}

static int dml_stage_save(dml_model *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    return pu_linear_save(&m->lin, sink, err, errlen);
}

static int dml_stage_load(dml_model *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = pu_linear_load(&m->lin, m->host, src, err, errlen);
    if (rc == TT_OK) {
        m->fitted = 1;
        if (m->lin.n_arms != m->n_arms || m->lin.phi.p_x != m->p_x)
            rc = pu_errf(err, errlen, TT_ERR_PARSE,
                         DML_NAME " model: the linear stage disagrees with the header");
    }
    return rc;
}

#elif DML_IS_FOREST

static int dml_stage_fit(dml_model *m, const tt_plugin_data *d, const double *yres,
                         const double *tres, char *err, size_t errlen)
{
    pu_forest_cfg cfg;
    tt_forest_options opt;
    pu_forest_read(m->params, P_FOREST, &cfg);
    pu_forest_options(&cfg, d->p_x, &opt);
    int rc = m->host->forest_fit(m->host->host_ctx, TT_FOREST_CAUSAL, &opt, d->n, d->p_x, d->x,
                                 yres, tres, (size_t)m->n_arms - 1, NULL, d->weight, &m->forest,
                                 err, errlen);
    m->fitted = rc == TT_OK;
    return rc;
}

static int dml_stage_effect(dml_model *m, const tt_plugin_data *rows, double *out, char *err,
                            size_t errlen)
{
    return m->host->forest_predict(m->forest, rows->n, m->p_x, rows->x, out, NULL, err, errlen);
}

/* Estimates and row bounds (n x (K-1) each, allocated by the caller). */
static int dml_forest_bounds(dml_model *m, const tt_plugin_data *rows, double alpha, double *est,
                             double *lo, double *hi, char *err, size_t errlen)
{
    size_t cnt = rows->n * ((size_t)m->n_arms - 1);
    double *var = m->host->alloc(sizeof *var * (cnt + 1));
    if (!var)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = m->host->forest_predict(m->forest, rows->n, m->p_x, rows->x, est, var, err, errlen);
    if (rc == TT_OK)
        rc = pu_forest_bounds(cnt, est, var, alpha, lo, hi, err, errlen);
    m->host->release(var);
    return rc;
}

static int dml_stage_interval(dml_model *m, const tt_plugin_data *rows, double alpha, double *lo,
                              double *hi, char *err, size_t errlen)
{
    size_t cnt = rows->n * ((size_t)m->n_arms - 1);
    double *est = m->host->alloc(sizeof *est * (cnt + 1));
    if (!est)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = dml_forest_bounds(m, rows, alpha, est, lo, hi, err, errlen);
    m->host->release(est);
    return rc;
}

/* Mean estimate per arm, interval = mean of the row bounds: the forest gives
 * no covariance between rows, and averaging the bounds (perfectly correlated
 * row errors) is the conservative choice. */
static int dml_mean_bounds(dml_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                           double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = rows->n, cnt = n * ((size_t)m->n_arms - 1);
    double *est = h->alloc(sizeof *est * (cnt + 1)), *rl = h->alloc(sizeof *rl * (cnt + 1));
    double *rh = h->alloc(sizeof *rh * (cnt + 1));
    int rc = (!est || !rl || !rh) ? pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory") : TT_OK;
    if (rc == TT_OK)
        rc = dml_forest_bounds(m, rows, alpha, est, rl, rh, err, errlen);
    if (rc == TT_OK)
        pu_mean_of_rows(n, m->n_arms - 1, est, rl, rh, ate, lo, hi);
    h->release(est);
    h->release(rl);
    h->release(rh);
    return rc;
}

#if DML_AIPW
static int dml_check_aipw_rows(const dml_model *m, const tt_plugin_data *rows, char *err,
                               size_t errlen)
{
    for (size_t i = 0; i < rows->n; i++) {
        if (rows->t[i] < 0 || rows->t[i] >= m->n_arms)
            return pu_errf(err, errlen, TT_ERR_DATA, DML_NAME ": row %zu has arm %d (K = %d)",
                           i, rows->t[i], m->n_arms);
        if (!isfinite(rows->y[i]))
            return pu_errf(err, errlen, TT_ERR_DATA, DML_NAME ": row %zu has outcome %g", i,
                           rows->y[i]);
    }
    return TT_OK;
}

/* grf's average_treatment_effect on the given rows (pu_aipw.h), unweighted,
 * with a normal interval. The forest's estimates are its predictions for
 * these rows; m and e come from the host's nuisance models fitted on all
 * training rows (nuisance_predict). */
static int dml_aipw(dml_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                    double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = rows->n, cnt = n * ((size_t)m->n_arms - 1);
    int rc = dml_check_aipw_rows(m, rows, err, errlen);
    if (rc)
        return rc;
    if (h->abi_minor < 1 || !h->nuisance_predict)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DML_NAME ": the AIPW average effect needs the host's nuisance models");
    double *tau = h->alloc(sizeof *tau * (cnt + 1)), *mo = h->alloc(sizeof *mo * (n + 1));
    double *e = NULL, se[DML_MAX_ARMS - 1];
    if (!tau || !mo)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        rc = dml_stage_effect(m, rows, tau, err, errlen);
    if (rc == TT_OK)
        rc = h->nuisance_predict(h->host_ctx, TT_NUISANCE_KIND_OUTCOME, 0, rows, mo, err,
                                 errlen);
    if (rc == TT_OK)
        rc = pu_nuis_propensity_predict(h, m->n_arms, rows, DML_AIPW_CLIP, &e, err, errlen);
    if (rc == TT_OK)
        rc = pu_aipw_average(h, DML_NAME, m->n_arms, rows, tau, mo, e, NULL, ate, se, err,
                             errlen);
    double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (int k = 1; rc == TT_OK && k < m->n_arms; k++) {
        lo[k - 1] = ate[k - 1] - z * se[k - 1];
        hi[k - 1] = ate[k - 1] + z * se[k - 1];
    }
    h->release(tau);
    h->release(mo);
    h->release(e);
    return rc;
}

/* grf's average_treatment_effect as grf computes it: on the training rows
 * d of the fit just made, with the forest's out-of-bag estimates and the
 * host's cross-fitted nuisances of those rows (the m and e that centred the
 * fit, e clipped as in dml_aipw), weighted by d->weight. Into m->oob_*. */
static int dml_oob_average(dml_model *m, const tt_plugin_data *d, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n, cnt = n * ((size_t)m->n_arms - 1);
    double *tau = h->alloc(sizeof *tau * (cnt + 1)), *mo = NULL, *e = NULL;
    int rc = tau ? TT_OK : pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        rc = h->forest_predict_oob(m->forest, tau, NULL, err, errlen);
    for (size_t i = 0; rc == TT_OK && i < cnt; i++)
        if (!isfinite(tau[i])) /* a row no tree left out: grf would give NaN too */
            rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                         "row %zu has no out-of-bag estimate (too few trees)", i % n);
    if (rc == TT_OK)
        rc = pu_nuis_outcome_oof(h, n, &mo, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_propensity_oof(h, m->n_arms, n, DML_AIPW_CLIP, &e, err, errlen);
    if (rc == TT_OK)
        rc = pu_aipw_average(h, DML_NAME, m->n_arms, d, tau, mo, e, d->weight, m->oob.ate,
                             m->oob.se, err, errlen);
    m->oob.has = rc == TT_OK;
    h->release(tau);
    h->release(mo);
    h->release(e);
    return rc;
}

/* Make the OOB average after a fit (pu_check_train has checked the rows).
 * Its failure does not fail the fit (the effects are fine without it): the
 * reason is kept for average_effect_oob and logged. */
static void dml_after_fit(dml_model *m, const tt_plugin_data *d)
{
    if (dml_oob_average(m, d, m->oob.why, sizeof m->oob.why) != TT_OK)
        m->host->log(m->host->host_ctx, TT_LOG_WARN, "no out-of-bag average effect: %s",
                     m->oob.why);
}

static int dml_average_oob(void *instance, double alpha, double *ate, double *lo, double *hi,
                           double *se, char *err, size_t errlen)
{
    const dml_model *m = instance;
    return pu_aipw_kept_get(&m->oob, DML_NAME, m->fitted, m->n_arms - 1, alpha, ate, lo, hi, se,
                            err, errlen);
}
#endif

static int dml_stage_average(dml_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                             double *lo, double *hi, char *err, size_t errlen)
{
#if DML_AIPW
    if (rows->t && rows->y)
        return dml_aipw(m, rows, alpha, ate, lo, hi, err, errlen);
#endif
    return dml_mean_bounds(m, rows, alpha, ate, lo, hi, err, errlen);
}

static int dml_stage_save(dml_model *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    return pu_forest_save(m->host, m->forest, sink, err, errlen);
}

static int dml_importance(void *instance, double *out, size_t p, char *err, size_t errlen)
{
    const dml_model *m = instance;
    if (p != m->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, DML_NAME ": fitted on %zu features, asked "
                       "%zu", m->p_x, p);
    return pu_forest_importance(m->host, m->forest, out, p, err, errlen);
}

static int dml_stage_load(dml_model *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = pu_forest_check_host(m->host, DML_NAME, err, errlen);
    if (rc == TT_OK)
        rc = pu_forest_load(m->host, src, &m->forest, err, errlen);
    if (rc == TT_OK && m->host->forest_n_outputs(m->forest) != (size_t)m->n_arms - 1)
        rc = pu_errf(err, errlen, TT_ERR_PARSE,
                     DML_NAME " model: the forest's outputs disagree with the header's arms");
    m->fitted = m->forest != NULL;
    return rc;
}

#else /* dml_nonparam */

/* target Y_res/T_res, weight w_i T_res^2, mask dropping |T_res| < DML_MIN_TRES. */
static int dml_stage_fit(dml_model *m, const tt_plugin_data *d, const double *yres,
                         const double *tres, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n, kept = 0;
    double *target = h->alloc(sizeof *target * n), *wt = h->alloc(sizeof *wt * n);
    unsigned char *mask = h->alloc(n);
    int rc = TT_OK;
    if (!target || !wt || !mask)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == TT_OK && i < n; i++) {
        double r = tres[i], sw = d->weight ? d->weight[i] : 1.0;
        mask[i] = fabs(r) >= DML_MIN_TRES;
        kept += mask[i];
        target[i] = mask[i] ? yres[i] / r : 0.0;
        wt[i] = mask[i] ? sw * r * r : 0.0;
    }
    if (rc == TT_OK && kept == 0)
        rc = pu_errf(err, errlen, TT_ERR_DATA,
                     DML_NAME ": every treatment residual is ~0 (propensities of exactly 0/1?)");
    pu_final_spec spec = {.kind = PU_FINAL_LEARNER, .resamples = pu_boot_resamples(h)};
    pu_slot_read(m->params, P_SLOT, &spec.slot);
    if (rc == TT_OK)
        rc = pu_final_new(h, &spec, m->n_arms, &m->final, err, errlen);
    /* A continuous treatment's bootstrap is stratified by its strata. */
    int *strata = NULL;
    if (rc == TT_OK && pu_t_value(d))
        rc = pu_continuous_strata(h, d, &strata, err, errlen);
    if (rc == TT_OK) {
        m->fitted = 1;
        rc = pu_final_fit(m->final, n, d->p_x, d->x, strata ? strata : d->t, target, wt, mask,
                          err, errlen);
    }
    h->release(strata);
    h->release(target);
    h->release(wt);
    h->release(mask);
    return rc;
}

static int dml_stage_effect(dml_model *m, const tt_plugin_data *rows, double *out, char *err,
                            size_t errlen)
{
    return pu_final_effect(m->final, rows, out, err, errlen);
}

static int dml_stage_interval(dml_model *m, const tt_plugin_data *rows, double alpha, double *lo,
                              double *hi, char *err, size_t errlen)
{
    return pu_final_interval(m->final, rows, alpha, lo, hi, err, errlen);
}

static int dml_stage_average(dml_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                             double *lo, double *hi, char *err, size_t errlen)
{
    return pu_final_average(m->final, rows, alpha, ate, lo, hi, err, errlen);
}

static int dml_stage_save(dml_model *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    return pu_final_save(m->final, sink, err, errlen);
}

static int dml_stage_load(dml_model *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = pu_final_load(m->host, src, &m->final, err, errlen);
    m->fitted = rc == TT_OK;
    return rc;
}

#endif

/* ---- callbacks -------------------------------------------------------------- */

static int dml_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    dml_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = pu_check_train(DML_NAME, m->n_arms, d, err, errlen);
    if (rc)
        return rc;
    dml_clear(m);
    m->p_x = d->p_x;
    double *yres = NULL, *tres = NULL;
    rc = dml_residuals(m, d, &yres, &tres, err, errlen);
    if (rc == TT_OK)
        rc = dml_stage_fit(m, d, yres, tres, err, errlen);
    if (rc) /* never leave a half-fitted stage behind */
        dml_clear(m);
#if DML_AIPW
    else
        dml_after_fit(m, d);
#endif
    h->release(yres);
    h->release(tres);
    return rc;
}

static int dml_check_rows(const dml_model *m, const tt_plugin_data *rows, char *err,
                          size_t errlen)
{
    return pu_check_rows(DML_NAME, m->fitted, m->p_x, rows, err, errlen);
}

static int dml_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    dml_model *m = instance;
    int rc = dml_check_rows(m, rows, err, errlen);
    return rc ? rc : dml_stage_effect(m, rows, out, err, errlen);
}

static int dml_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                        double *hi, char *err, size_t errlen)
{
    dml_model *m = instance;
    int rc = dml_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : dml_stage_interval(m, rows, alpha, lo, hi, err, errlen);
}

static int dml_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                       double *lo, double *hi, char *err, size_t errlen)
{
    dml_model *m = instance;
    int rc = dml_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : dml_stage_average(m, rows, alpha, ate, lo, hi, err, errlen);
}

static int dml_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    dml_model *m = instance;
    if (!m->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, DML_NAME ": not fitted");
    int rc = pu_save_header(sink, DML_NAME, DML_SAVE_VERSION, m->n_arms, m->p_x, err, errlen);
#if DML_AIPW
    if (rc == TT_OK && pu_aipw_kept_save(&m->oob, m->n_arms - 1, sink))
        rc = pu_errf(err, errlen, TT_ERR_IO, DML_NAME ": cannot write the model");
#endif
    return rc ? rc : dml_stage_save(m, sink, err, errlen);
}

/* pu_load_header with any version from 1 to DML_SAVE_VERSION (it takes one:
 * the AIPW forests still read version 1, saved before the OOB average). */
static int dml_load_header(const tt_plugin_source *src, int *version, int *arms, size_t *p_x,
                           char *err, size_t errlen)
{
    *version = DML_SAVE_VERSION;
#if DML_SAVE_VERSION == 1
    return pu_load_header(src, DML_NAME, 1, arms, p_x, err, errlen);
#else
    char line[80], want[80];
    long a = 0, px = -1;
    *version = 0;
    int got = pu_read_line(src, line, sizeof line) == 0;
    for (int v = 1; got && !*version && v <= DML_SAVE_VERSION; v++) {
        snprintf(want, sizeof want, DML_NAME " %d", v);
        *version = strcmp(line, want) ? 0 : v;
    }
    if (!*version || pu_read_long(src, "arms", &a) || a < 2 || a > 100000 ||
        pu_read_long(src, "p_x", &px) || px < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a %s model (version 1 to %d)", DML_NAME,
                       DML_SAVE_VERSION);
    *arms = (int)a;
    *p_x = (size_t)px;
    return TT_OK;
#endif
}

static int dml_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    int arms = 0, version = 0;
    size_t p_x = 0;
    int rc = dml_load_header(src, &version, &arms, &p_x, err, errlen);
    if (rc)
        return rc;
    dml_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = arms;
    m->p_x = p_x;
#if DML_AIPW
    if (version < 2) /* saved before the OOB average */
        snprintf(m->oob.why, sizeof m->oob.why,
                 "the model was saved by a version without it (format %d)", version);
    else if (pu_aipw_kept_load(&m->oob, m->n_arms - 1, src))
        rc = pu_errf(err, errlen, TT_ERR_PARSE, DML_NAME " model: bad out-of-bag average lines");
#else
    (void)version;
#endif
    if (rc == TT_OK)
        rc = dml_stage_load(m, src, err, errlen);
    if (rc) {
        dml_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor dml_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = DML_NAME,
    .version = DML_VERSION,
    .summary = DML_SUMMARY,
    .capabilities = DML_CAPS | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_OUTCOME | TT_PLUGIN_CAP_NEEDS_PROPENSITY,
    .params = dml_params,
    .n_params = DML_N_PARAMS,
#ifdef DML_HAS_CONDITIONS
    .conditions = dml_conditions,
    .n_conditions = sizeof dml_conditions / sizeof dml_conditions[0],
#endif
    .create = dml_create,
    .fit = dml_fit,
    .effect = dml_effect,
    .effect_interval = dml_interval,
    .save = dml_save,
    .load = dml_load,
    .destroy = dml_destroy,
    .interval_method = DML_INTERVALS,
    .average_effect = dml_average,
#ifdef DML_AVERAGE
    .average_method = DML_AVERAGE,
#endif
#if DML_AIPW
    .average_effect_oob = dml_average_oob,
    .average_oob_method = DML_AVERAGE_OOB,
#endif
#if DML_IS_FOREST
    .variable_importance = dml_importance,
    .variable_importance_method = PU_FOREST_IMPORTANCE_METHOD,
#endif
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &dml_descriptor;
}
