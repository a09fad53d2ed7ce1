/*
 * pu_nuis.h - the host's cached nuisances in the shapes estimators use.
 *
 * Every function returns a new array allocated with host->alloc (the caller
 * releases it with host->release) or a tt_status with err set; a plugin must
 * have declared the matching TT_PLUGIN_CAP_NEEDS_* bit. The "_oof" forms are
 * for the rows fit() receives (n must equal the host's row count, or
 * TT_ERR_INVALID); the "_predict" forms are for other rows (rows->x, rows->w).
 *
 * Propensities come back as n x K, column-major, column k = P(T = k | x, w),
 * whatever width the host serves (two arms: [1 - e, e]). With clip > 0 every
 * value is clipped into [clip, 1 - clip] (rows are not renormalised: each
 * arm's weight 1/e_k is what gets bounded).
 */
#ifndef TT_PLUGINS_PU_NUIS_H
#define TT_PLUGINS_PU_NUIS_H

#include <stddef.h>

#include <tautune/plugin.h>

int pu_nuis_propensity_oof(const tt_plugin_host *host, int n_arms, size_t n, double clip,
                           double **out, char *err, size_t errlen);
int pu_nuis_propensity_predict(const tt_plugin_host *host, int n_arms,
                               const tt_plugin_data *rows, double clip, double **out, char *err,
                               size_t errlen);

/* mu_k(x, w) = E[Y | x, w, T = k] for every arm: n x K column-major. */
int pu_nuis_arm_outcomes_oof(const tt_plugin_host *host, int n_arms, size_t n, double **out,
                             char *err, size_t errlen);
int pu_nuis_arm_outcomes_predict(const tt_plugin_host *host, int n_arms,
                                 const tt_plugin_data *rows, double **out, char *err,
                                 size_t errlen);

/* m(x, w) = E[Y | x, w]: n values. */
int pu_nuis_outcome_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                        size_t errlen);

/* ABI 1.8, TT_PLUGIN_CAP_NEEDS_PROPENSITY: E[T | x, w], n values (new rows:
 * rows->n values) - the regression of a continuous treatment, P(T = 1) of a
 * binary one. */
int pu_nuis_treatment_mean_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                               size_t errlen);
int pu_nuis_treatment_mean_predict(const tt_plugin_host *host, const tt_plugin_data *rows,
                                   double **out, char *err, size_t errlen);

/* ABI 1.7, TT_PLUGIN_CAP_NEEDS_IV_NUISANCES (binary instrument and
 * treatment): n values each.
 *   instrument:        r(x, w) = P(Z = 1 | x, w), clipped into [clip, 1 - clip]
 *                      (clip 0: checked to be a probability);
 *   treatment_given_z: p_z(x, w) = P(T = 1 | x, w, Z = z), z = 0 or 1;
 *   compliance:        p_1 - p_0 (the complier share at x under monotonicity).
 * An older host (ABI < 1.7) gives TT_ERR_UNSUPPORTED with a message saying so. */
int pu_nuis_instrument_oof(const tt_plugin_host *host, size_t n, double clip, double **out,
                           char *err, size_t errlen);
int pu_nuis_treatment_given_z_oof(const tt_plugin_host *host, int z, size_t n, double **out,
                                  char *err, size_t errlen);
int pu_nuis_compliance_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                           size_t errlen);
int pu_nuis_instrument_predict(const tt_plugin_host *host, const tt_plugin_data *rows,
                               double clip, double **out, char *err, size_t errlen);
int pu_nuis_treatment_given_z_predict(const tt_plugin_host *host, int z,
                                      const tt_plugin_data *rows, double **out, char *err,
                                      size_t errlen);

#endif
