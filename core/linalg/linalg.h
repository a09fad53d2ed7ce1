/*
 * linalg.h - the few dense kernels the learners need, over CBLAS and LAPACKE.
 *
 * Matrices are column-major doubles; x is n x p with column j at x + j*n (x may
 * be NULL when p == 0). BLAS integers are 32-bit (TT_PLUGIN_BUILD_TAG), so
 * callers check their sizes with tt_linalg_check_dims before anything else;
 * every other function assumes that check passed.
 *
 * Weights w (n values) may be NULL for unit weights and must otherwise be
 * finite and >= 0 (the caller validates). "shift" (p values, may be NULL = 0)
 * is subtracted from each column before use, which is how the learners centre
 * without copying x. With intercept != 0 the design is A = [1 | X - 1 shift'],
 * q = p + 1 columns; otherwise A = X - 1 shift', q = p.
 *
 * Thread-safety: reentrant; no global state.
 */
#ifndef TT_LINALG_LINALG_H
#define TT_LINALG_LINALG_H

#include <stddef.h>

#include "tautune/tautune.h"

/* The BLAS library's threads (OpenBLAS). Their number can change a sum's
 * order and so the last bits of a result: ranks of one run over MPI set the
 * same number (cli/run_mpi.c). Process-wide; call before any other work. */
int tt_linalg_threads(void);
void tt_linalg_set_threads(int n);

/* TT_ERR_UNSUPPORTED unless n and p + 1 fit in a 32-bit BLAS integer. */
tt_status tt_linalg_check_dims(size_t n, size_t p, char *err, size_t errlen);

/* out[j] = sum_i w_i x_ij / w_sum for each of the p columns. */
void tt_linalg_weighted_means(size_t n, size_t p, const double *x, const double *w,
                              double w_sum, double *out);

/* g (q x q, both triangles filled) = A' diag(w) A. Works on row blocks, so
 * the scratch it allocates is O(q) rows wide, never n x q. TT_ERR_NOMEM only. */
tt_status tt_linalg_weighted_gram(size_t n, size_t p, const double *x, const double *w,
                                  const double *shift, int intercept, double *g,
                                  char *err, size_t errlen);

/* out (q) = A' diag(w) v. No allocation. */
void tt_linalg_weighted_xtv(size_t n, size_t p, const double *x, const double *w,
                            const double *v, const double *shift, int intercept,
                            double *out);

/* out (n) = b0 + X b. */
void tt_linalg_affine(size_t n, size_t p, const double *x, double b0, const double *b,
                      double *out);

/* Solve a z = b for a symmetric positive definite q x q matrix a (only its
 * upper triangle is read; it is overwritten by its Cholesky factor) and one
 * right-hand side b (overwritten by z). If rcond is not NULL it receives the
 * reciprocal 1-norm condition number estimate of a, so callers can refuse a
 * matrix that is positive definite only by rounding. Not positive definite
 * (or NaN inside): TT_ERR_NUMERIC, naming the leading minor that failed. */
tt_status tt_linalg_cholesky_solve(size_t q, double *a, double *b, double *rcond,
                                   char *err, size_t errlen);

#endif
