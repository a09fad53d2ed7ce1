/*
 * dml.c - double machine learning: dml_linear, dml_sparse_linear and
 * dml_nonparam.
 *
 * One source, built once per variant (PU_DML_LINEAR / PU_DML_SPARSE /
 * PU_DML_NONPARAM); each build is its own shared object with its own name.
 *
 * Residuals from the host's cached cross-fitted nuisances on the training rows:
 *   Y_res = Y - m(x, w),   T_res_k = 1{T = k} - e_k(x, w)   (k = 1..K-1).
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
 *
 * Sample weights (train->weight, NULL = 1) multiply the regression weights
 * w_i above in every variant. Intervals treat the nuisances as fixed.
 * dml_nonparam's bootstrap replicas: the run's intervals.resamples
 * (pu_boot_resamples), a setting of the run rather than a hyperparameter.
 *
 * Saved form: "<name> 1", "arms K", "p_x P", then pu_linear's or pu_final's
 * own lines.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final.h"
#include "common/pu_linear.h"
#include "common/pu_nuis.h"
#include "common/pu_plugin.h"

#define DML_VERSION "1.0.0"
#define DML_SAVE_VERSION 1
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
#define DML_CAPS TT_PLUGIN_CAP_MULTI_ARM

static const char *const dml_featurizers[] = {"none", "poly2", NULL};

enum { P_INTERCEPT = 0, P_FEATURIZER, DML_N_PARAMS };
static const tt_plugin_param dml_params[] = {
    [P_INTERCEPT] = {.name = "fit_cate_intercept", .kind = TT_PARAM_BOOL, .default_value = 1,
                     .help = "constant term in the effect model"},
    [P_FEATURIZER] = {.name = "featurizer", .kind = TT_PARAM_CHOICE, .default_value = 0,
                      .choices = dml_featurizers,
                      .help = "phi(x): x itself, or x with squares and pairwise products"},
};

#elif defined(PU_DML_NONPARAM)

#define DML_IS_LINEAR 0
#define DML_NAME "dml_nonparam"
#define DML_SUMMARY "DML (binary): Y_res/T_res regressed on x by any learner, weights T_res^2; bootstrap intervals"
#define DML_INTERVALS "bootstrap (normal)"
#define DML_CAPS 0u

enum { P_SLOT = 0, DML_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param dml_params[] = {
    PU_SLOT_PARAMS("final", "the final model"),
};

#else
#error "build dml.c with one of PU_DML_LINEAR, PU_DML_SPARSE, PU_DML_NONPARAM"
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
#if !DML_IS_LINEAR
    if (n_arms > 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DML_NAME " handles a binary treatment only, the problem has %d arms "
                       "(use dml_linear or dml_sparse_linear for several arms)", n_arms);
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

/* yres: n values; tres: n x (K-1), column k-1 = 1{t = k} - e_k. Both new
 * (host->alloc), released by the caller also on failure. */
static int dml_residuals(const dml_model *m, const tt_plugin_data *d, double **yres,
                         double **tres, char *err, size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n;
    double *e = NULL;
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
    if (rc == TT_OK) {
        m->fitted = 1;
        rc = pu_final_fit(m->final, n, d->p_x, d->x, d->t, target, wt, mask, err, errlen);
    }
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
    return rc ? rc : dml_stage_save(m, sink, err, errlen);
}

static int dml_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                    char *err, size_t errlen)
{
    int arms;
    size_t p_x;
    int rc = pu_load_header(src, DML_NAME, DML_SAVE_VERSION, &arms, &p_x, err, errlen);
    if (rc)
        return rc;
    dml_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = arms;
    m->p_x = p_x;
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
    .create = dml_create,
    .fit = dml_fit,
    .effect = dml_effect,
    .effect_interval = dml_interval,
    .save = dml_save,
    .load = dml_load,
    .destroy = dml_destroy,
    .interval_method = DML_INTERVALS,
    .average_effect = dml_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &dml_descriptor;
}
