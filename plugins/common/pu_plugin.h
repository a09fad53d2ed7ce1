/*
 * pu_plugin.h - callback pieces several built-in plugins share word for word:
 * argument checks, the "<name> <version> / arms / p_x" save header, and the
 * constant-effect-per-arm estimators (diff_in_means, ipw).
 *
 * Messages are part of the contract the tests hold plugins to, so each helper
 * writes exactly the text its callers wrote before; `name` is the plugin's
 * name as it prefixes the message. Nothing here allocates.
 */
#ifndef TT_PLUGINS_PU_PLUGIN_H
#define TT_PLUGINS_PU_PLUGIN_H

#include <stddef.h>

#include <tautune/plugin.h>

/* ---- checks ---- */

/* "alpha must be in (0, 1), got %g" unless 0 < alpha < 1. */
int pu_check_alpha(double alpha, char *err, size_t errlen);

/* params[i] against schema[i] for i < n: the host checks values already; this
 * repeats it so a caller bypassing the host (a test, a future host) gets
 * "<name>: <param> = <v> is out of range" rather than a nonsensical fit. */
int pu_check_params(const char *name, const tt_plugin_param *schema, size_t n,
                    const double *params, char *err, size_t errlen);

/* A continuous treatment's values (ABI 1.8: d->t_value when the host's view
 * has that field), or NULL for arms. */
const double *pu_t_value(const tt_plugin_data *d);

/* Strata of a continuous treatment for stratified resampling: 0 at or below
 * the median of pu_t_value(d), 1 above (">=" when nothing lies above), as
 * the host stratifies its splits. *out: d->n values (host->alloc). */
int pu_continuous_strata(const tt_plugin_host *host, const tt_plugin_data *d, int **out,
                         char *err, size_t errlen);

/* Training rows of a plugin created for n_arms: t and y present, the arm
 * count agrees, rows and x exist, every arm in 0..n_arms-1, finite outcomes.
 * A continuous treatment (pu_t_value) instead: y present, n_arms 2, finite
 * treatments and outcomes. */
int pu_check_train(const char *name, int n_arms, const tt_plugin_data *d, char *err,
                   size_t errlen);

/* Rows to predict for a model fitted (fitted != 0) on p_x effect modifiers. */
int pu_check_rows(const char *name, int fitted, size_t p_x, const tt_plugin_data *rows,
                  char *err, size_t errlen);

/* ---- the save header "<name> <version>\narms K\np_x P\n" ---- */

int pu_save_header(const tt_plugin_sink *sink, const char *name, int version, int n_arms,
                   size_t p_x, char *err, size_t errlen);
/* Reads it back: TT_ERR_PARSE "not a <name> model (version <version>)" for
 * another name or version, or arms outside [2, 100000], or p_x < 0. */
int pu_load_header(const tt_plugin_source *src, const char *name, int version, int *n_arms,
                   size_t *p_x, char *err, size_t errlen);

/* ---- a constant effect per treated arm with a standard error ----
 * effect and se: n_arms - 1 values (arm k at k-1). Normal intervals
 * effect +- z_{1-alpha/2} se on every row; the average effect of a constant
 * is the constant with the same interval (the rows add no error of their own). */

void pu_const_effect(int n_arms, const double *effect, size_t n, double *out);
int pu_const_interval(int n_arms, const double *effect, const double *se, size_t n,
                      double alpha, double *lo, double *hi, char *err, size_t errlen);
int pu_const_average(int n_arms, const double *effect, const double *se, double alpha,
                     double *ate, double *lo, double *hi, char *err, size_t errlen);

/* The mean effect per treated arm with the mean of the row bounds as its
 * interval (conservative: exact only when the rows' errors move together),
 * for estimators that know each row's interval but not how rows covary.
 * est, rl, rh: n x n_eff column-major; ate, lo, hi: n_eff values; n > 0. */
void pu_mean_of_rows(size_t n, int n_eff, const double *est, const double *rl, const double *rh,
                     double *ate, double *lo, double *hi);

#endif
