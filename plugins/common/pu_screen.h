/*
 * pu_screen.h - which columns of a regression design carry information.
 *
 * The linear final stages regress on designs built from phi(x) (pu_linear.h).
 * With poly2 on real data many of those columns are redundant: the square of
 * a 0/1 dummy is the dummy again, the product of two levels of one one-hot
 * categorical is identically 0, a full set of dummies sums to the intercept.
 * Rather than fail the fit on a singular Gram matrix, the fitting functions
 * screen the design on the training rows first and fit on the kept columns
 * only; a dropped column gets coefficient 0 and a zero row and column in the
 * covariance. Because prediction builds the full phi(x) and multiplies by
 * the full beta, those exact zeros ARE the saved plan: a saved and reloaded
 * model applies the same kept-column choice, and the save format is unchanged
 * (models saved before the screen load as before).
 *
 * The screen walks the columns in order, so earlier columns win: x_j is kept
 * and x_j^2 dropped, a main effect is kept and the product that duplicates
 * it dropped. A column is dropped when its weighted sum of squares (centred
 * when the fit adds its own intercept) is zero, or when 1 - R^2 of it on the
 * kept columns before it is at most PU_SCREEN_TOL (this covers exact
 * duplicates, constants next to an intercept column, and linear combinations
 * such as x^2 = x for a 0/1 x or dummies that sum to the intercept).
 *
 * Deterministic: no randomness, the decision depends only on (Z, w).
 * Memory: host->alloc, all released before returning. Thread-safe.
 */
#ifndef TT_PLUGINS_PU_SCREEN_H
#define TT_PLUGINS_PU_SCREEN_H

#include <stddef.h>

#include <tautune/plugin.h>

/* 1 - R^2 at or below which a column is a linear combination of the kept
 * ones. Its variance inflation would exceed 1e9 (standard errors x 3e4), so
 * such a column carries no usable information; exact collinearity computed
 * from a Gram matrix lands around 1e-16..1e-12, far below. */
#define PU_SCREEN_TOL 1e-9

/* Screen the D columns of Z (n x D, column-major) with weights w (NULL = 1).
 * centre != 0: measure each column after removing its weighted mean (the fit
 * has its own intercept). keep[j] is set to 1 or 0; *n_keep counts the ones.
 * 0, or TT_ERR_NOMEM / TT_ERR_INVALID (dimensions beyond 32-bit BLAS). */
int pu_screen_columns(const tt_plugin_host *host, size_t n, size_t D, const double *Z,
                      const double *w, int centre, unsigned char *keep, size_t *n_keep,
                      char *err, size_t errlen);

/* out (n x n_keep) = the kept columns of Z, in order. */
void pu_screen_compact(size_t n, size_t D, const double *Z, const unsigned char *keep,
                       double *out);

/* Spread a fit on the kept columns back to all D: beta_k (n_keep values,
 * after `lead` leading coefficients such as an intercept) into beta (lead + D),
 * cov_k ((lead + n_keep)^2) into cov ((lead + D)^2); dropped entries are 0. */
void pu_screen_scatter(size_t D, size_t lead, const unsigned char *keep, size_t n_keep,
                       const double *beta_k, const double *cov_k, double *beta, double *cov);

/* One INFO line through host->log naming what was dropped (nothing when
 * n_keep == D). what: the fit's name for the message. */
void pu_screen_note(const tt_plugin_host *host, const char *what, size_t D,
                    const unsigned char *keep, size_t n_keep);

#endif
