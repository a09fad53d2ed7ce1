/*
 * iv_diag.h - what a user must see before trusting an instrumental-variable
 * answer (binary instrument Z, binary treatment T): how strongly Z moves T
 * (first-stage F), how many it moves (compliance), what Z does to Y (the
 * reduced form) and the Wald ratio of the two, and where the compliance is
 * too thin for effects to mean anything.
 *
 *   first stage    T on [1, Z, x, w] by least squares (the controls
 *                  partialled out, Frisch-Waugh): Z's coefficient, its
 *                  classical s.e. and F = t^2 (one excluded instrument; the
 *                  Staiger-Stock rule of thumb: F < 10 is weak). Without
 *                  controls when there are too few rows for them (n < 2(p+3)).
 *   compliance     mean(T | Z = 1) - mean(T | Z = 0): the complier share
 *                  under monotonicity (no defiers), unadjusted.
 *   reduced form   mean(Y | Z = 1) - mean(Y | Z = 0) with its s.e.
 *   Wald           reduced form / compliance; s.e. by the delta method with
 *                  the two differences' covariance (within-group cov(Y, T)).
 *   deciles        rows sorted by predicted compliance c_i = P(T=1|x,w,Z=1) -
 *                  P(T=1|x,w,Z=0) (out of fold), cut into 10 groups of equal
 *                  size: each group's mean c_i, its observed compliance and
 *                  that difference's F = (diff / s.e.)^2 with the binomial
 *                  s.e. sqrt(p1(1-p1)/n1 + p0(1-p0)/n0).
 *   caveats        weak: F < 10; thin: some decile's mean predicted
 *                  compliance below 0.05 (effects reported there rest on a
 *                  handful of compliers, or on extrapolation).
 * Library code: never prints.
 */
#ifndef TT_SCORE_IV_DIAG_H
#define TT_SCORE_IV_DIAG_H

#include <stddef.h>

#include "tautune/tautune.h"

#define TT_IV_DECILES 10
#define TT_IV_WEAK_F 10.0
#define TT_IV_THIN_COMPLIANCE 0.05

typedef struct tt_iv_decile {
    size_t n;
    double lo, hi;             /* range of predicted compliance in the group */
    double predicted;          /* mean predicted compliance */
    double observed;           /* mean(T | Z = 1) - mean(T | Z = 0) in the group; NaN when
                                  the group lacks one instrument value */
    double f;                  /* (observed / its s.e.)^2; NaN when undefined */
} tt_iv_decile;

typedef struct tt_iv_diag {
    size_t n, n_z1;
    int controls;              /* the first stage partialled out [x, w] */
    double fs_coef, fs_se, fs_f;
    double compliance;         /* unadjusted difference in treated shares */
    double reduced_form, reduced_form_se;
    double wald, wald_se;
    size_t n_deciles;          /* 0 without predicted compliance */
    tt_iv_decile deciles[TT_IV_DECILES];
    double predicted_mean;     /* mean predicted compliance; NaN without it */
    double share_thin;         /* share of rows with predicted compliance below the floor */
    int weak, thin;
} tt_iv_diag;

/* Rows i < n: outcome y, treatment t (0/1, or any number: the first stage
 * and the Wald ratio also hold for a continuous treatment), instrument z
 * (0/1), controls xw
 * (n x p column-major, may be NULL when p == 0). compliance (n values, may be
 * NULL): predicted compliance for the deciles; computed over the rows given
 * (cr_n rows with their own t, z: cr_t, cr_z) - the validation rows, whose
 * out-of-fold predictions exist. TT_ERR_DATA when Z takes one value, NOMEM. */
tt_status tt_iv_diag_compute(size_t n, const double *y, const double *t, const int *z, size_t p,
                             const double *xw, size_t cr_n, const int *cr_t, const int *cr_z,
                             const double *compliance, tt_iv_diag *out, char *err,
                             size_t errlen);

#endif
