/*
 * pu_tsls.h - two-stage least squares, the textbook instrumental-variable
 * estimator, with its covariance (classical, HC1, or clustered).
 *
 * Model y = X beta + e with X = [X_exo, X_endo] (k = k_exo + k_endo columns)
 * and instruments Z = [X_exo, Z_excl] (q = k_exo + k_excl columns, q >= k:
 * at least one excluded instrument per endogenous column). With weights w
 * every row is scaled by sqrt(w_i). Then
 *   Pi   = (Z'Z)^-1 Z'X                 (the first stages, q x k)
 *   Xhat = Z Pi                         (X projected on the instruments)
 *   A    = Xhat'X = X'Z (Z'Z)^-1 Z'X    (k x k, symmetric)
 *   beta = A^-1 Xhat'y
 *   e    = y - X beta                   (residuals with X, not Xhat)
 * and the covariances
 *   classical  s2 A^-1, s2 = e'e / (n - k)          (the textbooks' s.e.)
 *   HC1        n / (n - k) A^-1 [sum_i e_i^2 xhat_i xhat_i'] A^-1
 *   clustered  G/(G-1) (n-1)/(n-k) A^-1 [sum_g u_g u_g'] A^-1,
 *              u_g = sum_{i in g} e_i xhat_i (Stata's small-sample factor).
 * Also the first-stage F statistic of the excluded instruments for each
 * endogenous column: F = ((RSS_r - RSS_u) / k_excl) / (RSS_u / (n - q)),
 * RSS_r from the regression on X_exo alone, RSS_u on all of Z (the
 * classical, homoskedastic F; below 10 the instruments are weak).
 *
 * Normal equations with Cholesky factors (Z'Z and A): fine for the tens of
 * columns IV designs have, hundreds of thousands of rows included. A
 * singular Z'Z or A (collinear instruments or regressors, an instrument that
 * does not move the endogenous column) is TT_ERR_NUMERIC naming which.
 *
 * Memory: host->alloc; pu_tsls_free releases.
 */
#ifndef TT_PLUGINS_PU_TSLS_H
#define TT_PLUGINS_PU_TSLS_H

#include <stddef.h>

#include <tautune/plugin.h>

typedef struct pu_tsls_input {
    size_t n;
    size_t k_exo, k_endo, k_excl;
    const double *x_exo;   /* n x k_exo column-major (include the constant yourself) */
    const double *x_endo;  /* n x k_endo */
    const double *z_excl;  /* n x k_excl, the excluded instruments */
    const double *y;       /* n */
    const double *weight;  /* n, or NULL */
    const int *cluster;    /* n ids in 0..n_clusters-1, or NULL */
    size_t n_clusters;
} pu_tsls_input;

typedef struct pu_tsls_fit {
    size_t k;              /* k_exo + k_endo */
    double *beta;          /* k: exogenous coefficients first */
    double *cov_classical; /* k x k */
    double *cov_robust;    /* k x k: clustered when clusters were given, else HC1 */
    double *first_stage_f; /* k_endo */
    double s2;             /* e'e / (n - k) */
} pu_tsls_fit;

int pu_tsls(const tt_plugin_host *host, const pu_tsls_input *in, pu_tsls_fit *out, char *err,
            size_t errlen);
void pu_tsls_free(const tt_plugin_host *host, pu_tsls_fit *fit);

#endif
