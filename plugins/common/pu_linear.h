/*
 * pu_linear.h - linear final stages with analytic intervals.
 *
 * A linear effect model theta_k(x) = phi(x)'beta_k for the treated arms
 * k = 1..K-1, where phi is a featurizer of the effect modifiers:
 *   - intercept: a leading constant 1 (the "cate intercept");
 *   - poly2 = 0: x itself; poly2 = 1: x, then every square x_j^2, then every
 *     product x_j x_l (j < l), in that order.
 * The model keeps beta and the full covariance of all coefficients, so the
 * effect at any x, its interval and the interval of an average effect all
 * follow from phi: var(theta_k(x)) = phi' V_kk phi.
 *
 * Two estimators of (beta, V) for a regression of r on a design Z (n x D):
 *   pu_ols_hc1          weighted least squares; V is the HC1 sandwich
 *                       n/(n - D) (Z'WZ)^-1 [sum_i w_i^2 e_i^2 z_i z_i'] (Z'WZ)^-1;
 *   pu_debiased_lasso   lasso (host "lasso", penalty by cross-validation) then
 *                       one-step debiased (Zhang & Zhang 2014; van de Geer et
 *                       al. 2014): b_j = beta_j + zr_j'W(r - Z beta) / (zr_j'W Z_j),
 *                       zr_j the residual of Z_j on the other columns, here from
 *                       one lightly ridge-regularised inverse of the centred Gram
 *                       matrix (pu_dlasso.c says why); V from the same influence
 *                       functions, heteroskedasticity-robust, HC1-scaled.
 *                       The lasso fits its own unpenalised intercept, which is
 *                       returned as coefficient 0 (D + 1 coefficients).
 * Both first screen the design on the training rows (pu_screen.h): columns
 * that are constant, duplicated or linear combinations of earlier ones get
 * coefficient 0 and zero rows and columns in V, with an INFO note through
 * host->log, instead of failing the fit. Since phi(x) is always built in
 * full and multiplied by the full beta, those zeros are the saved plan.
 * The DR plugins regress the pseudo-outcome of each arm on phi(x) separately
 * (block-diagonal V); the DML plugins regress Y_res on the columns
 * phi(x) (x) T_res jointly (column (k-1)*d + j = phi_j(x) * T_res_k), which is
 * why the fitting functions take a general design.
 *
 * Memory: host->alloc; pu_linear_free releases. Not thread-safe per object.
 */
#ifndef TT_PLUGINS_PU_LINEAR_H
#define TT_PLUGINS_PU_LINEAR_H

#include <stddef.h>

#include <tautune/plugin.h>

#include "pu.h" /* pu_featurizers, in PU_PHI_FEATURIZER_PARAM */

typedef struct pu_phi {
    int intercept;   /* leading 1 */
    int poly2;       /* add squares and pairwise products */
    size_t p_x;      /* columns of x it was set up for */
} pu_phi;

size_t pu_phi_dim(const pu_phi *phi);

/* Schema entries for phi, shared by every plugin with a linear final stage:
 * "fit_cate_intercept" (bool, default on) and "featurizer" (choice
 * {none, poly2}, default none; index 1 means poly2). */
#define PU_PHI_INTERCEPT_PARAM                                                        \
    {.name = "fit_cate_intercept", .kind = TT_PARAM_BOOL, .default_value = 1,         \
     .help = "constant term in the effect model"}
#define PU_PHI_FEATURIZER_PARAM                                                       \
    {.name = "featurizer", .kind = TT_PARAM_CHOICE, .default_value = 0,               \
     .choices = pu_featurizers,                                                       \
     .help = "phi(x): x itself, or x with squares and pairwise products"}

/* phi(x) for the n rows of column-major x (n x phi->p_x): a new n x d
 * column-major array (host->alloc), or NULL on out of memory. */
double *pu_phi_build(const tt_plugin_host *host, const pu_phi *phi, size_t n, const double *x);

/* Copy the upper triangle of the D x D column-major a into its lower one
 * (after dsyrk / dpotri, which fill the upper one only). */
void pu_symmetrise_from_upper(double *a, size_t D);

/* Weighted least squares of r on Z (n x D, column-major); w may be NULL.
 * beta: D values; cov: D x D column-major. Dependent columns are dropped
 * (coefficient 0, see above); TT_ERR_NUMERIC when no column is left or
 * n <= the kept columns (message says which). */
int pu_ols_hc1(const tt_plugin_host *host, size_t n, size_t D, const double *Z, const double *r,
               const double *w, double *beta, double *cov, char *err, size_t errlen);

/* Debiased lasso of r on [1, Z]: beta has D + 1 values (intercept first),
 * cov (D + 1) x (D + 1). The nodewise ridge is lambda diag(G) with
 * lambda = PU_DL_RIDGE_C sqrt(log(m + 1) / n), m the kept columns
 * (pu_dlasso.c says why). */
#define PU_DL_RIDGE_C 0.1
int pu_debiased_lasso(const tt_plugin_host *host, size_t n, size_t D, const double *Z,
                      const double *r, const double *w, double *beta, double *cov, char *err,
                      size_t errlen);

/* The fitted effect model. beta: d x (K-1) column-major (column k-1 is
 * beta_k); cov: (d (K-1)) x (d (K-1)) column-major, coefficient index
 * (k-1)*d + j. */
typedef struct pu_linear {
    const tt_plugin_host *host;
    pu_phi phi;
    int n_arms;
    size_t d;
    double *beta;
    double *cov;
} pu_linear;

/* Allocate beta and cov (zeroed) for phi and n_arms; 0 or TT_ERR_NOMEM. */
int pu_linear_init(pu_linear *m, const tt_plugin_host *host, const pu_phi *phi, int n_arms,
                   char *err, size_t errlen);
void pu_linear_free(pu_linear *m); /* frees the arrays, not m; NULL-safe */

/* out / lo / hi: rows->n x (K-1) column-major. */
int pu_linear_effect(const pu_linear *m, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen);
int pu_linear_interval(const pu_linear *m, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen);
/* Average effect over rows: phi_bar'beta_k with variance phi_bar'V_kk phi_bar
 * (the sampling error of the coefficients; the rows are taken as given). */
int pu_linear_average(const pu_linear *m, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen);

/* Text lines on the stream; load fills an uninitialised m. */
int pu_linear_save(const pu_linear *m, const tt_plugin_sink *sink, char *err, size_t errlen);
int pu_linear_load(pu_linear *m, const tt_plugin_host *host, const tt_plugin_source *src,
                   char *err, size_t errlen);

#endif
