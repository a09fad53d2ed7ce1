/*
 * pu_aipw.h - grf's average_treatment_effect (AIPW, target "all") for the
 * estimators whose effect model is partially linear: the causal forests of
 * dml.c, on rows the host passes (validation) and on their own training
 * rows with out-of-bag estimates; and such an average kept with a fitted
 * model (pu_aipw_kept).
 *
 * Inputs, all n rows of `rows` (t and y set; arms checked by the caller):
 *   tau  n x (K-1) column-major, column k-1 = the effect of arm k;
 *   m    n values, m(x) = E[Y | x] (the outcome nuisance);
 *   e    n x K column-major propensities, column k = P(T = k | x), already
 *        clipped away from 0 by the caller (pu_nuis_*'s clip).
 * Under the partially linear model the arm means are
 *   mu_k = m + tau_k - sum_j e_j tau_j  (tau_0 = 0),
 * and arm k's score on a row is
 *   Gamma_k = tau_k + (1{t = k}/e_k - 1{t = 0}/e_0) (y - mu_t).
 * With two arms this is grf's binary score
 *   tau + (W - e)/(e (1 - e)) (Y - m - (W - e) tau).
 * The average and its standard error follow grf with every row its own
 * cluster: with weights w (NULL = 1), ate = sum w Gamma / sum w and
 *   se^2 = sum w^2 (Gamma - ate)^2 / (sum w)^2 * n' / (n' - 1),
 * n' the rows of non-zero weight; unit weights give sd(Gamma) / sqrt(n).
 */
#ifndef TT_PLUGINS_PU_AIPW_H
#define TT_PLUGINS_PU_AIPW_H

#include <stddef.h>

#include <tautune/plugin.h>

/* Arm k's (1 <= k < n_arms) scores into score (n values). */
void pu_aipw_scores(int n_arms, int k, const tt_plugin_data *rows, const double *tau,
                    const double *m, const double *e, double *score);

/* ate and se (n_arms - 1 values each) of every treated arm. TT_ERR_INVALID
 * with fewer than 2 rows of non-zero weight, TT_ERR_NUMERIC "<name>: the
 * AIPW average effect of arm k is not finite" when a score or the weights
 * make it so. Allocates one n-row scratch array with host->alloc. */
int pu_aipw_average(const tt_plugin_host *host, const char *name, int n_arms,
                    const tt_plugin_data *rows, const double *tau, const double *m,
                    const double *e, const double *weight, double *ate, double *se, char *err,
                    size_t errlen);

/* grf's weighted mean of v (n values; weight NULL = 1) and its standard
 * error with every row its own cluster, as above (the caller makes sure
 * at least 2 rows weigh). Also the IV plugins' LATE average (pu_ivres.h). */
void pu_aipw_mean_se(size_t n, const double *v, const double *weight, double *mean, double *se);

/* ---- an average kept with a fitted model ---- */

/* The most treated arms an average is kept for (the forest engine's limit
 * of 8 treatment columns). */
#define PU_AIPW_MAX_EFF 8

/* An average effect made at fit and carried in the saved model (the
 * out-of-bag average of ABI 1.4): ate and se of n_eff treated arms when
 * has, else why there is none ("" = not fitted). Zero-initialised = none. */
typedef struct pu_aipw_kept {
    int has;
    double ate[PU_AIPW_MAX_EFF], se[PU_AIPW_MAX_EFF];
    char why[160];
} pu_aipw_kept;

/* average_effect_oob's answer: ate, lo, hi, se (n_eff values) with the
 * normal interval ate -+ z_{1-alpha/2} se; TT_ERR_INVALID "<name>: not
 * fitted" when !fitted, TT_ERR_UNSUPPORTED "<name>: no out-of-bag average
 * effect (<why>)" without one, or a bad alpha. */
int pu_aipw_kept_get(const pu_aipw_kept *kept, const char *name, int fitted, int n_eff,
                     double alpha, double *ate, double *lo, double *hi, double *se, char *err,
                     size_t errlen);

/* Saved as "oob_average 1", "oob_ate v...", "oob_se v..." (n_eff values
 * each) or "oob_average 0". Non-zero on a write error. */
int pu_aipw_kept_save(const pu_aipw_kept *kept, int n_eff, const tt_plugin_sink *sink);
/* Reads those lines back; non-zero when they are missing or malformed or
 * n_eff > PU_AIPW_MAX_EFF. */
int pu_aipw_kept_load(pu_aipw_kept *kept, int n_eff, const tt_plugin_source *src);

#endif
