/*
 * pu_ivres.h - the first steps every residual-based instrumental-variable
 * plugin shares (dml_iv, ortho_iv, dml_iv_nonparam, instrumental_forest):
 * checking that the rows carry one binary instrument, turning the host's
 * cross-fitted IV nuisances (ABI 1.7) into residuals, measuring how strongly
 * the instrument moves the treatment, and the LATE analogue of the AIPW
 * average effect.
 *
 * Setting: binary treatment T (2 arms), one binary instrument Z (the data's
 * single z column, values 0 and 1), outcome Y. Nuisances (out of fold on the
 * training rows, pu_nuis.h):
 *   m(x, w)   = E[Y | x, w]                 (TT_PLUGIN_CAP_NEEDS_OUTCOME)
 *   p(x, w)   = P(T = 1 | x, w)             (TT_PLUGIN_CAP_NEEDS_PROPENSITY)
 *   r(x, w)   = P(Z = 1 | x, w)             (TT_PLUGIN_CAP_NEEDS_IV_NUISANCES)
 *   p_z(x, w) = P(T = 1 | x, w, Z = z)      (the same capability), z = 0, 1.
 * Residuals:
 *   yres = Y - m,  tres = T - p,  zres = Z - r,
 *   that = p_Z - p   (DMLIV's projected treatment residual: the part of T's
 *                     variation the instrument predicts, p_Z = p_1 where
 *                     Z = 1, else p_0),
 *   comp = p_1 - p_0 (the compliance: the complier share at (x, w) under
 *                     monotonicity).
 *
 * Strength: the first-stage F of the residualised regression of tres on zres
 * (no intercept: both are centred by their nuisances), weighted,
 *   b = sum w tres zres / sum w zres^2,   RSS = sum w (tres - b zres)^2,
 *   F = b^2 sum w zres^2 / (RSS / (n' - 1)),   n' = rows of non-zero weight,
 * i.e. the squared t statistic of the instrument for T once (x, w) are
 * partialled out (the classical F, as tsls logs). Below PU_IV_WEAK_F the
 * instrument is weak (Staiger and Stock 1997): every IV estimator is then
 * biased and its normal intervals unreliable, so the plugins warn.
 *
 * LATE scores (grf's get_scores for instrumental forests, with the host's
 * compliance p_1 - p_0 in place of grf's auxiliary causal forest):
 *   Gamma_i = tau_i + (Z_i - r_i) / (r_i (1 - r_i)) / comp_i
 *                     * (Y_i - m_i - tau_i (T_i - p_i)),
 * averaged with grf's weighted mean and standard error (pu_aipw.h). Their
 * mean estimates E[tau(X)], the average of the conditional LATE over the
 * rows (grf's "average (conditional) local average treatment effect").
 * r is clipped into [PU_IV_R_CLIP, 1 - PU_IV_R_CLIP] and |comp| kept at
 * least PU_IV_COMP_FLOOR (sign kept) only so that nothing divides by an
 * exact 0: a weak instrument still inflates the scores, and so the
 * interval, as it should.
 *
 * Memory: host->alloc; pu_iv_res_free releases.
 */
#ifndef TT_PLUGINS_PU_IVRES_H
#define TT_PLUGINS_PU_IVRES_H

#include <stddef.h>

#include <tautune/plugin.h>

#define PU_IV_WEAK_F 10.0
#define PU_IV_R_CLIP 1e-3
#define PU_IV_COMP_FLOOR 1e-3

/* TT_ERR_UNSUPPORTED "<name> handles a binary treatment only ..." unless
 * n_arms == 2 (create). */
int pu_iv_check_arms(const char *name, int n_arms, char *err, size_t errlen);

/* The rows' instrument: a view of ABI 1.6 or newer (TT_PLUGIN_DATA_HAS),
 * exactly one z column, every value 0 or 1. TT_ERR_DATA with a message
 * naming what is wrong. */
int pu_iv_check_instrument(const char *name, const tt_plugin_data *d, char *err, size_t errlen);

typedef struct pu_iv_res {
    size_t n;
    double *yres, *tres, *zres, *that, *comp; /* n values each */
    double first_stage_f;                     /* as above */
    double mean_abs_comp;                     /* weighted mean of |p_1 - p_0| */
} pu_iv_res;

/* The residuals of the training rows d (checked by the caller: t, y, the
 * instrument). The host's nuisance failures come back prefixed with name
 * and the capability; TT_ERR_DATA when Z takes one value on every row or
 * zres is 0 on every row (no variation beyond its nuisance). On failure out
 * holds nothing. */
int pu_iv_residuals(const tt_plugin_host *host, const char *name, const tt_plugin_data *d,
                    pu_iv_res *out, char *err, size_t errlen);
void pu_iv_res_free(const tt_plugin_host *host, pu_iv_res *r); /* NULL-safe */

/* F as above; 0 when zres has no variation or fewer than 2 rows weigh. */
double pu_iv_first_stage_f(size_t n, const double *tres, const double *zres,
                           const double *weight);

/* Logs the strength through host->log: a warning naming the plugin below
 * PU_IV_WEAK_F, else a debug line. */
void pu_iv_log_strength(const tt_plugin_host *host, const char *name, const pu_iv_res *r);

/* The LATE scores' weighted mean and standard error (above), written with
 * the residuals: Y - m - tau (T - p) = yres - tau tres, and r = z - zres.
 * tau, yres, tres, z, zres, comp: n values each; weight NULL = 1.
 * TT_ERR_INVALID with fewer than 2 weighing rows, TT_ERR_NUMERIC when the
 * average is not finite. */
int pu_iv_late_average(const tt_plugin_host *host, const char *name, size_t n,
                       const double *tau, const double *yres, const double *tres,
                       const double *z, const double *zres, const double *comp,
                       const double *weight, double *ate, double *se, char *err, size_t errlen);

/* The same on rows other than the training rows, with the host's nuisance
 * models fitted on all training rows (nuisance_predict): rows must carry t,
 * y and the instrument (pu_iv_check_instrument). Unweighted, as grf's
 * average on a held-out sample. */
int pu_iv_late_predict(const tt_plugin_host *host, const char *name, const tt_plugin_data *rows,
                       const double *tau, double *ate, double *se, char *err, size_t errlen);

/* Whether rows carry what pu_iv_late_predict needs (t, y and z). */
int pu_iv_rows_have_late(const tt_plugin_data *rows);

#endif
