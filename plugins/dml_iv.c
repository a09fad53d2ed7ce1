/*
 * dml_iv.c - double machine learning with a binary instrument: dml_iv,
 * ortho_iv and dml_iv_nonparam (EconML's DMLIV, OrthoIV and NonParamDMLIV).
 *
 * One source, built once per variant (PU_DMLIV_LINEAR / PU_DMLIV_ORTHO /
 * PU_DMLIV_NONPARAM); each build is its own shared object with its own name.
 *
 * Binary treatment T, one binary instrument Z (the data's z column, 0/1).
 * From the host's cross-fitted nuisances on the training rows (pu_ivres.h):
 *   Y_res = Y - m(x, w),  T_res = T - p(x, w),  Z_res = Z - r(x, w),
 *   T_hat = p_Z(x, w) - p(x, w)    (p_z = P(T = 1 | x, w, Z = z): the part
 *                                   of T's variation the instrument predicts).
 * Nothing is clipped: no variant divides by a propensity (dml_iv_nonparam
 * divides by T_hat, guarded below).
 *
 *   dml_iv           theta(x) = phi(x)'beta minimises
 *                    sum_i w_i (Y_res_i - theta(x_i) T_hat_i)^2: OLS of Y_res on
 *                    the columns phi_j(x) T_hat, HC1 sandwich (pu_ols_hc1).
 *                    Since E[Y_res | x, w, Z] = theta(x) T_hat when Z is a
 *                    valid instrument (it moves Y only through T), this is a
 *                    regression on an exogenous regressor. Not orthogonal in
 *                    p_z: its errors pass into theta to first order, which
 *                    the intervals (nuisances taken as fixed) do not show.
 *                    With a weak instrument T_hat is mostly the noise of the
 *                    p_z estimates, so theta is pulled towards 0 (errors in
 *                    the regressor) and its interval, though wide, is centred
 *                    there: hence the warning (ortho_iv's widens far more).
 *   ortho_iv         the orthogonal moment E[(Y_res - theta(x) T_res) Z_res | x] = 0
 *                    with theta(x) = phi(x)'beta: the just-identified IV
 *                    regression of Y_res on phi_j(x) T_res instrumented by
 *                    phi_j(x) Z_res, no intercept or controls (the residuals
 *                    are centred already), HC1 covariance (pu_tsls.h; EconML
 *                    uses HC0, which differs by n/(n - d)). With phi = [1] it is
 *                    the residual Wald ratio sum Y_res Z_res / sum T_res Z_res.
 *   dml_iv_nonparam  theta(x) minimises sum_i w_i T_hat_i^2 (Y_res_i/T_hat_i - theta(x_i))^2:
 *                    a slot learner regressing Y_res/T_hat on x with weights
 *                    w_i T_hat_i^2, bootstrap intervals (pu_final, as
 *                    dml_nonparam). Rows with |T_hat| < 1e-6 are left out
 *                    (their weight is ~1e-12 of a typical row's).
 * phi(x): [1, x] by default; fit_cate_intercept drops the 1, featurizer poly2
 * adds squares and products (pu_linear.h).
 *
 * Every variant logs the instrument's strength (the first-stage F of T_res
 * on Z_res) with a warning below 10, and refuses what it cannot do: K > 2
 * arms (create), rows without an instrument, an older host's view without
 * data.z, several instrument columns (tsls takes those), a non-binary
 * instrument, a host without the IV nuisances (fit). An instrument that
 * predicts nothing at all (T_hat = 0 on every row for the DMLIV variants)
 * is refused rather than answered with the zero coefficient a screened-out
 * column would get.
 *
 * Sample weights (train->weight, NULL = 1) multiply w_i above. Intervals
 * treat the nuisances as fixed. The average effect over rows: the linear
 * variants' phi_bar'beta with variance phi_bar'V phi_bar (the rows taken as
 * given: the mean of theta over them, which is the LATE when the effect does
 * not differ between compliers and the rest); dml_iv_nonparam's the mean of
 * its effects with the bootstrap replicas' spread.
 *
 * Saved form: "<name> 1", "arms 2", "p_x P", then pu_linear's or pu_final's
 * own lines.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final.h"
#include "common/pu_ivres.h"
#include "common/pu_linear.h"
#include "common/pu_plugin.h"
#include "common/pu_tsls.h"

#define IV_VERSION "1.0.0"
#define IV_SAVE_VERSION 1
/* Rows whose projected treatment residual is below this carry no
 * information on theta (dml_iv_nonparam leaves them out). */
#define IV_MIN_THAT 1e-6

/* ---- Variants --------------------------------------------------------------- */

#if defined(PU_DMLIV_LINEAR) || defined(PU_DMLIV_ORTHO)

#define IV_IS_LINEAR 1
#if defined(PU_DMLIV_LINEAR)
#define IV_NAME "dml_iv"
#define IV_SUMMARY "DMLIV: Y residual on phi(x) x the projected treatment residual p_Z - p by OLS; HC1 sandwich intervals"
#define IV_INTERVALS "HC1 sandwich"
#else
#define IV_NAME "ortho_iv"
#define IV_SUMMARY "OrthoIV: Y residual on phi(x) x T residual instrumented by phi(x) x Z residual; HC1 sandwich intervals"
#define IV_INTERVALS "HC1 sandwich (residual IV)"
#endif

enum { P_INTERCEPT = 0, P_FEATURIZER, IV_N_PARAMS };
static const tt_plugin_param iv_params[] = {
    [P_INTERCEPT] = PU_PHI_INTERCEPT_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

#elif defined(PU_DMLIV_NONPARAM)

#define IV_IS_LINEAR 0
#define IV_NAME "dml_iv_nonparam"
#define IV_SUMMARY "NonParamDMLIV: Y_res/(p_Z - p) regressed on x by any learner, weights (p_Z - p)^2; bootstrap intervals"
#define IV_INTERVALS "bootstrap (normal)"

enum { P_SLOT = 0, IV_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param iv_params[] = {
    PU_SLOT_PARAMS("final", "the final model"),
};
/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition iv_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};

#else
#error "build dml_iv.c with one of PU_DMLIV_LINEAR, PU_DMLIV_ORTHO, PU_DMLIV_NONPARAM"
#endif

_Static_assert(sizeof iv_params / sizeof iv_params[0] == IV_N_PARAMS,
               "schema and parameter indices disagree");

/* ---- the model ------------------------------------------------------------ */

typedef struct iv_model {
    const tt_plugin_host *host;
    double params[IV_N_PARAMS]; /* as given to create (unused after load) */
    size_t p_x;                 /* effect modifiers seen by fit */
    int fitted;
#if IV_IS_LINEAR
    pu_linear lin;              /* valid when fitted */
#else
    pu_final *final;            /* non-NULL when fitted */
#endif
} iv_model;

static void iv_clear(iv_model *m)
{
#if IV_IS_LINEAR
    if (m->fitted)
        pu_linear_free(&m->lin);
    memset(&m->lin, 0, sizeof m->lin);
#else
    pu_final_free(m->final);
    m->final = NULL;
#endif
    m->fitted = 0;
}

static void iv_destroy(void *instance)
{
    iv_model *m = instance;
    if (!m)
        return;
    iv_clear(m);
    m->host->release(m);
}

static int iv_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    int rc = pu_iv_check_arms(IV_NAME, n_arms, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_params(IV_NAME, iv_params, IV_N_PARAMS, params, err, errlen);
    if (rc)
        return rc;
    iv_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    memcpy(m->params, params, sizeof m->params);
    *instance = m;
    return TT_OK;
}

/* The DMLIV variants regress on T_hat: with p_1 = p_0 on every row there is
 * nothing to regress on (and OLS would screen the column out to a
 * coefficient 0 with variance 0, a confident wrong answer). */
#if defined(PU_DMLIV_LINEAR) || defined(PU_DMLIV_NONPARAM)
static int iv_check_that(const pu_iv_res *res, char *err, size_t errlen)
{
    for (size_t i = 0; i < res->n; i++)
        if (fabs(res->that[i]) >= IV_MIN_THAT)
            return TT_OK;
    return pu_errf(err, errlen, TT_ERR_DATA,
                   IV_NAME ": the instrument does not move the treatment: "
                   "P(T = 1 | x, w, Z) = P(T = 1 | x, w) on every row, so no effect is "
                   "identified");
}
#endif

#if IV_IS_LINEAR

static pu_phi iv_phi(const iv_model *m, size_t p_x)
{
    pu_phi phi = {.intercept = m->params[P_INTERCEPT] != 0,
                  .poly2 = m->params[P_FEATURIZER] == 1, .p_x = p_x};
    return phi;
}

/* n x d: column j = phi_j(x) * v. */
static double *iv_times_phi(const tt_plugin_host *h, const double *f, size_t n, size_t dim,
                            const double *v)
{
    double *z = h->alloc(sizeof *z * (n * dim + 1));
    for (size_t j = 0; z && j < dim; j++)
        for (size_t i = 0; i < n; i++)
            z[j * n + i] = f[j * n + i] * v[i];
    return z;
}

#if defined(PU_DMLIV_LINEAR)

static int iv_stage_fit(iv_model *m, const tt_plugin_data *d, const pu_iv_res *res, char *err,
                        size_t errlen)
{
    const tt_plugin_host *h = m->host;
    pu_phi phi = iv_phi(m, d->p_x);
    size_t n = d->n, dim = pu_phi_dim(&phi);
    int rc = iv_check_that(res, err, errlen);
    if (rc == TT_OK)
        rc = pu_linear_init(&m->lin, h, &phi, 2, err, errlen);
    if (rc)
        return rc;
    m->fitted = 1; /* lin owns arrays from here: iv_clear frees them on failure */
    double *f = pu_phi_build(h, &phi, n, d->x);
    double *z = f ? iv_times_phi(h, f, n, dim, res->that) : NULL;
    if (!z)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    else
        rc = pu_ols_hc1(h, n, dim, z, res->yres, d->weight, m->lin.beta, m->lin.cov, err,
                        errlen);
    h->release(f);
    h->release(z);
    return rc;
}

#else /* ortho_iv */

static int iv_stage_fit(iv_model *m, const tt_plugin_data *d, const pu_iv_res *res, char *err,
                        size_t errlen)
{
    const tt_plugin_host *h = m->host;
    pu_phi phi = iv_phi(m, d->p_x);
    size_t n = d->n, dim = pu_phi_dim(&phi);
    int rc = pu_linear_init(&m->lin, h, &phi, 2, err, errlen);
    if (rc)
        return rc;
    m->fitted = 1;
    double *f = pu_phi_build(h, &phi, n, d->x);
    double *endo = f ? iv_times_phi(h, f, n, dim, res->tres) : NULL;
    double *excl = f ? iv_times_phi(h, f, n, dim, res->zres) : NULL;
    pu_tsls_fit fit;
    memset(&fit, 0, sizeof fit);
    if (!endo || !excl) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    } else {
        pu_tsls_input in = {.n = n, .k_exo = 0, .k_endo = dim, .k_excl = dim, .x_endo = endo,
                            .z_excl = excl, .y = res->yres, .weight = d->weight};
        rc = pu_tsls(h, &in, &fit, err, errlen);
    }
    if (rc == TT_OK) {
        memcpy(m->lin.beta, fit.beta, sizeof *fit.beta * dim);
        memcpy(m->lin.cov, fit.cov_robust, sizeof *fit.cov_robust * dim * dim);
    } else if (rc != TT_ERR_NOMEM) { /* pu_tsls's messages start "2SLS: " */
        char copy[400];
        snprintf(copy, sizeof copy, "%s", err && errlen ? err : "");
        rc = pu_errf(err, errlen, rc, IV_NAME ": %s", copy);
    }
    pu_tsls_free(h, &fit);
    h->release(f);
    h->release(endo);
    h->release(excl);
    return rc;
}

#endif

static int iv_stage_effect(iv_model *m, const tt_plugin_data *rows, double *out, char *err,
                           size_t errlen)
{
    return pu_linear_effect(&m->lin, rows, out, err, errlen);
}

static int iv_stage_interval(iv_model *m, const tt_plugin_data *rows, double alpha, double *lo,
                             double *hi, char *err, size_t errlen)
{
    return pu_linear_interval(&m->lin, rows, alpha, lo, hi, err, errlen);
}

static int iv_stage_average(iv_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                            double *lo, double *hi, char *err, size_t errlen)
{
    return pu_linear_average(&m->lin, rows, alpha, ate, lo, hi, err, errlen);
}

static int iv_stage_save(iv_model *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    return pu_linear_save(&m->lin, sink, err, errlen);
}

static int iv_stage_load(iv_model *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = pu_linear_load(&m->lin, m->host, src, err, errlen);
    if (rc == TT_OK) {
        m->fitted = 1;
        if (m->lin.n_arms != 2 || m->lin.phi.p_x != m->p_x)
            rc = pu_errf(err, errlen, TT_ERR_PARSE,
                         IV_NAME " model: the linear stage disagrees with the header");
    }
    return rc;
}

#else /* dml_iv_nonparam */

/* target Y_res/T_hat, weight w_i T_hat^2, mask dropping |T_hat| < IV_MIN_THAT. */
static int iv_stage_fit(iv_model *m, const tt_plugin_data *d, const pu_iv_res *res, char *err,
                        size_t errlen)
{
    const tt_plugin_host *h = m->host;
    size_t n = d->n;
    int rc = iv_check_that(res, err, errlen);
    if (rc)
        return rc;
    double *target = h->alloc(sizeof *target * (n + 1)), *wt = h->alloc(sizeof *wt * (n + 1));
    unsigned char *mask = h->alloc(n + 1);
    if (!target || !wt || !mask)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == TT_OK && i < n; i++) {
        double r = res->that[i], sw = d->weight ? d->weight[i] : 1.0;
        mask[i] = fabs(r) >= IV_MIN_THAT;
        target[i] = mask[i] ? res->yres[i] / r : 0.0;
        wt[i] = mask[i] ? sw * r * r : 0.0;
    }
    pu_final_spec spec = {.kind = PU_FINAL_LEARNER, .resamples = pu_boot_resamples(h)};
    pu_slot_read(m->params, P_SLOT, &spec.slot);
    if (rc == TT_OK)
        rc = pu_final_new(h, &spec, 2, &m->final, err, errlen);
    if (rc == TT_OK) {
        m->fitted = 1;
        rc = pu_final_fit(m->final, n, d->p_x, d->x, d->t, target, wt, mask, err, errlen);
    }
    h->release(target);
    h->release(wt);
    h->release(mask);
    return rc;
}

static int iv_stage_effect(iv_model *m, const tt_plugin_data *rows, double *out, char *err,
                           size_t errlen)
{
    return pu_final_effect(m->final, rows, out, err, errlen);
}

static int iv_stage_interval(iv_model *m, const tt_plugin_data *rows, double alpha, double *lo,
                             double *hi, char *err, size_t errlen)
{
    return pu_final_interval(m->final, rows, alpha, lo, hi, err, errlen);
}

static int iv_stage_average(iv_model *m, const tt_plugin_data *rows, double alpha, double *ate,
                            double *lo, double *hi, char *err, size_t errlen)
{
    return pu_final_average(m->final, rows, alpha, ate, lo, hi, err, errlen);
}

static int iv_stage_save(iv_model *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    return pu_final_save(m->final, sink, err, errlen);
}

static int iv_stage_load(iv_model *m, const tt_plugin_source *src, char *err, size_t errlen)
{
    int rc = pu_final_load(m->host, src, &m->final, err, errlen);
    m->fitted = rc == TT_OK;
    return rc;
}

#endif

/* ---- callbacks -------------------------------------------------------------- */

static int iv_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    iv_model *m = instance;
    int rc = pu_check_train(IV_NAME, 2, d, err, errlen);
    if (rc == TT_OK)
        rc = pu_iv_check_instrument(IV_NAME, d, err, errlen);
    if (rc)
        return rc;
    iv_clear(m);
    m->p_x = d->p_x;
#if IV_IS_LINEAR
    pu_phi phi = iv_phi(m, d->p_x);
    if (pu_phi_dim(&phi) == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       IV_NAME ": no effect features (no x and fit_cate_intercept = false)");
#endif
    pu_iv_res res;
    rc = pu_iv_residuals(m->host, IV_NAME, d, &res, err, errlen);
    if (rc)
        return rc;
    pu_iv_log_strength(m->host, IV_NAME, &res);
    rc = iv_stage_fit(m, d, &res, err, errlen);
    if (rc) /* never leave a half-fitted stage behind */
        iv_clear(m);
    pu_iv_res_free(m->host, &res);
    return rc;
}

static int iv_check_rows(const iv_model *m, const tt_plugin_data *rows, char *err,
                         size_t errlen)
{
    return pu_check_rows(IV_NAME, m->fitted, m->p_x, rows, err, errlen);
}

static int iv_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    iv_model *m = instance;
    int rc = iv_check_rows(m, rows, err, errlen);
    return rc ? rc : iv_stage_effect(m, rows, out, err, errlen);
}

static int iv_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    iv_model *m = instance;
    int rc = iv_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : iv_stage_interval(m, rows, alpha, lo, hi, err, errlen);
}

static int iv_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    iv_model *m = instance;
    int rc = iv_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : iv_stage_average(m, rows, alpha, ate, lo, hi, err, errlen);
}

static int iv_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    iv_model *m = instance;
    if (!m->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, IV_NAME ": not fitted");
    int rc = pu_save_header(sink, IV_NAME, IV_SAVE_VERSION, 2, m->p_x, err, errlen);
    return rc ? rc : iv_stage_save(m, sink, err, errlen);
}

static int iv_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    int arms = 0;
    size_t p_x = 0;
    int rc = pu_load_header(src, IV_NAME, IV_SAVE_VERSION, &arms, &p_x, err, errlen);
    if (rc == TT_OK && arms != 2)
        rc = pu_errf(err, errlen, TT_ERR_PARSE, IV_NAME " model: %d arms, expected 2", arms);
    if (rc)
        return rc;
    iv_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->p_x = p_x;
    rc = iv_stage_load(m, src, err, errlen);
    if (rc) {
        iv_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor iv_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = IV_NAME,
    .version = IV_VERSION,
    .summary = IV_SUMMARY,
    .capabilities = TT_PLUGIN_CAP_IV | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_OUTCOME | TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                    TT_PLUGIN_CAP_NEEDS_IV_NUISANCES,
    .params = iv_params,
    .n_params = IV_N_PARAMS,
#if !IV_IS_LINEAR
    .conditions = iv_conditions,
    .n_conditions = sizeof iv_conditions / sizeof iv_conditions[0],
#endif
    .create = iv_create,
    .fit = iv_fit,
    .effect = iv_effect,
    .effect_interval = iv_interval,
    .save = iv_save,
    .load = iv_load,
    .destroy = iv_destroy,
    .interval_method = IV_INTERVALS,
    .average_effect = iv_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &iv_descriptor;
}
