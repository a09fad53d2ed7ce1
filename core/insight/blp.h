/*
 * blp.h - which features drive the effect, by regression on doubly robust
 * scores: the best linear projection of the effect (BLP) and the calibration
 * test of heterogeneity, over one least-squares routine with
 * heteroskedasticity-robust (sandwich) standard errors.
 *
 * Conventions shared by every function here:
 *  - matrices are column-major doubles, column j of an n-row matrix at + j*n;
 *  - weights (may be NULL for unit weights) are finite and >= 0; a row of
 *    weight 0 takes no part (it counts neither in n nor in the degrees of
 *    freedom), as in R's lm;
 *  - row numbers in messages are 0-based indices into the caller's arrays;
 *  - inference is Student t with n - q degrees of freedom (n rows of positive
 *    weight, q regressors), which is what grf reports (lmtest::coeftest on
 *    an lm uses the residual degrees of freedom); with thousands of rows it
 *    is indistinguishable from the normal.
 *
 * Sandwich types (MacKinnon & White 1985), with e the residuals, W the
 * weights, h_ii = w_i a_i' (A'WA)^-1 a_i the leverages, G = A'WA:
 *   HC0  G^-1 [sum_i (w_i e_i)^2 a_i a_i'] G^-1                  (White)
 *   HC1  HC0 * n / (n - q)
 *   HC3  G^-1 [sum_i (w_i e_i / (1 - h_ii))^2 a_i a_i'] G^-1    (jackknife-like)
 * These are sandwich::vcovHC's (and statsmodels') definitions. grf goes
 * through sandwich::vcovCL with one cluster per row, whose cluster adjustment
 * G/(G-1) cancels for HC1 and HC3 (so those equal the above) but not for
 * HC0: grf's "HC0" is n/(n-1) times ours.
 *
 * The least squares are solved by a QR factorisation of the weighted,
 * column-equilibrated design (never the normal equations), so the standard
 * errors keep their digits when regressors are on very different scales.
 *
 * Thread-safety: reentrant; no global state.
 */
#ifndef TT_INSIGHT_BLP_H
#define TT_INSIGHT_BLP_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef enum tt_hc_type {
    TT_HC0 = 0,
    TT_HC1 = 1,
    TT_HC3 = 3
} tt_hc_type;

/* grf's default (best_linear_projection and test_calibration). */
#define TT_HC_DEFAULT TT_HC3

/* "HC0", "HC1", "HC3", or "?" for anything else. Static, never NULL. */
const char *tt_hc_name(tt_hc_type hc);

/* A least-squares fit with robust inference. The arrays live in one block
 * owned by the result: release with tt_ols_result_free (safe on a zeroed or
 * already-freed result). */
typedef struct tt_ols_result {
    size_t n;          /* rows with positive weight */
    size_t q;          /* regressors (coefficients) */
    double df;         /* n - q: the t distribution's degrees of freedom */
    tt_hc_type hc;
    double max_leverage; /* largest h_ii: near 1 means one row pins a coefficient */
    double *coef;      /* q */
    double *se;        /* q: sqrt of the diagonal of vcov */
    double *t;         /* q: coef / se */
    double *p;         /* q: two-sided, P(|T_df| >= |t|) */
    double *vcov;      /* q x q, column-major, symmetric */
} tt_ols_result;

void tt_ols_result_free(tt_ols_result *r);

/* Weighted least squares of y (n) on the n x q design a (include a column of
 * ones yourself for an intercept) with sandwich standard errors of type hc.
 * names (q strings, may be NULL) only label the columns in messages.
 *
 * TT_ERR_INVALID: q == 0, a NULL array, an unknown hc, a negative weight.
 * TT_ERR_DATA: a non-finite value (naming row and column), no more rows of
 * positive weight than regressors.
 * TT_ERR_NUMERIC: a singular design, naming the first column that is zero or
 * a linear combination of the columns before it; a design numerically
 * singular in the aggregate; for HC3, a row with leverage 1.
 * TT_ERR_UNSUPPORTED: sizes beyond 32-bit BLAS. TT_ERR_NOMEM.
 * On failure *out is left zeroed (nothing to free). */
tt_status tt_ols_hc(size_t n, size_t q, const double *a, const double *y, const double *w,
                    const char *const *names, tt_hc_type hc, tt_ols_result *out, char *err,
                    size_t errlen);

/* The joint Wald test that coefficients from..q-1 of r are all 0:
 * stat = b' V^-1 b with b those coefficients and V their block of r->vcov,
 * chi-square with q - from degrees of freedom (*df) under the null, *p its
 * upper tail. BLP's "does the effect vary with x at all": from = 1 (every
 * slope). TT_ERR_INVALID when from >= q; TT_ERR_NUMERIC for a singular V. */
tt_status tt_ols_wald(const tt_ols_result *r, size_t from, double *stat, double *df, double *p,
                      char *err, size_t errlen);

/* Student's t tail: tt_student_t_sf in util/dist.h. */
#include "util/dist.h"

/*
 * Best linear projection of the effect (grf's best_linear_projection):
 * OLS of the doubly robust scores Gamma_i on [1, A_i], where A_i are the
 * chosen columns of x, with sandwich standard errors. Coefficient 0 is the
 * intercept; coefficient k >= 1 belongs to column cols[k-1] of x (column
 * k-1 when cols is NULL). With p == 0 (x may then be NULL) only the
 * intercept is fitted, which is the AIPW average effect and its robust s.e.
 *
 * The projection is only meaningful over rows chosen by features (not by T
 * or Y), as grf warns for its subset.
 */
typedef struct tt_blp_input {
    size_t n;                 /* rows of x, gamma and w */
    size_t p;                 /* columns of x */
    const double *x;          /* n x p, column-major */
    const double *gamma;      /* n doubly robust scores */
    const size_t *cols;       /* n_cols column indices into x; NULL: all p columns */
    size_t n_cols;
    const size_t *rows;       /* n_rows row indices into x (may repeat); NULL: all n */
    size_t n_rows;
    const double *w;          /* n observation weights (by original row), or NULL */
    const char *const *names; /* p column names for messages, or NULL */
    tt_hc_type hc;            /* TT_HC_DEFAULT to match grf */
} tt_blp_input;

/* Errors as tt_ols_hc, with rows and columns named in the caller's terms
 * (row of x, column of x), plus TT_ERR_INVALID for an index out of range. */
tt_status tt_blp_fit(const tt_blp_input *in, tt_ols_result *out, char *err, size_t errlen);

/*
 * Calibration test (grf's test_calibration). With dY = Y - m_hat,
 * dT = T - e_hat and tau_bar the (weighted) mean of tau_hat over the rows
 * used, regress dY without intercept on
 *   C1 = tau_bar * dT                 "mean prediction"
 *   C2 = (tau_hat - tau_bar) * dT     "differential prediction"
 * A coefficient of 1 on C1 says the average of the estimates is right; a
 * coefficient on C2 significantly above 0 says the effect is heterogeneous
 * and tau_hat captures it, and about 1 that the spread of tau_hat is
 * calibrated. The p-values are one-sided, for H0: coefficient <= 0, as grf's
 * are. T may be binary or continuous (e_hat = E[T | x]); the regression is
 * the same. tau_hat must be out-of-fold (or out-of-bag) estimates, or the
 * test is biased toward finding heterogeneity.
 */
typedef struct tt_calibration_input {
    size_t n;
    const double *y, *t;      /* outcome and treatment (n) */
    const double *m_hat;      /* cross-fitted E[Y | x] (n) */
    const double *e_hat;      /* cross-fitted E[T | x] (n) */
    const double *tau_hat;    /* out-of-fold effect estimates (n) */
    const double *w;          /* n observation weights or NULL */
    const size_t *rows;       /* subset (may repeat) or NULL: all n */
    size_t n_rows;
    tt_hc_type hc;            /* TT_HC_DEFAULT to match grf */
} tt_calibration_input;

typedef struct tt_calibration {
    size_t n;        /* rows with positive weight */
    double df;       /* n - 2 */
    tt_hc_type hc;
    double tau_bar;  /* weighted mean of tau_hat over the rows used */
    double mean_coef, mean_se, mean_t, mean_p; /* C1; p: one-sided, H0 coef <= 0 */
    double diff_coef, diff_se, diff_t, diff_p; /* C2; p: one-sided, H0 coef <= 0 */
} tt_calibration;

/* Errors as tt_blp_fit; TT_ERR_DATA when tau_hat is constant over the rows
 * used (nothing to test) or tau_bar is 0 (the mean regressor vanishes). */
tt_status tt_calibration_test(const tt_calibration_input *in, tt_calibration *out, char *err,
                              size_t errlen);

typedef enum tt_calibration_term {
    TT_CALIBRATION_MEAN,
    TT_CALIBRATION_DIFFERENTIAL
} tt_calibration_term;

/* One plain-English sentence about a term at significance level alpha (0 <
 * alpha < 1, anything else is taken as 0.05), e.g. "The effect estimates vary for a reason:
 * the differential coefficient 0.93 (s.e. 0.21) rejects 'no heterogeneity'
 * at p = 0.00001; ...". Whether a coefficient is "consistent with 1" is a
 * two-sided t test of coef = 1 at the same alpha. Writes at most buflen
 * bytes, always terminated when buflen > 0; returns the length the whole
 * sentence needs (as snprintf does). */
size_t tt_calibration_sentence(const tt_calibration *c, tt_calibration_term term, double alpha,
                               char *buf, size_t buflen);

#endif
