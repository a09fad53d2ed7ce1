/* linalg.c - thin CBLAS/LAPACKE wrappers with 32-bit integers. */
#include "linalg/linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* Row block for the weighted Gram matrix: large enough that dsyrk runs near
 * its peak, small enough that the scaled copy stays in cache for modest p. */
#define GRAM_ROWS 256
/* Row block for A' diag(w) v: the scaled vector lives on the stack. */
#define XTV_ROWS 512

tt_status tt_linalg_check_dims(size_t n, size_t p, char *err, size_t errlen)
{
    /* p + 1 because the logistic Hessian carries an intercept column. */
    if (n > (size_t)INT_MAX || p >= (size_t)INT_MAX)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "%zu rows x %zu columns exceed the 32-bit BLAS limit of %d",
                       n, p, INT_MAX);
    return TT_OK;
}

void tt_linalg_weighted_means(size_t n, size_t p, const double *x, const double *w,
                              double w_sum, double *out)
{
    for (size_t j = 0; j < p; j++) {
        const double *xj = x + j * n;
        double s = 0.0;
        if (w) {
            for (size_t i = 0; i < n; i++)
                s += w[i] * xj[i];
        } else {
            for (size_t i = 0; i < n; i++)
                s += xj[i];
        }
        out[j] = s / w_sum;
    }
}

tt_status tt_linalg_weighted_gram(size_t n, size_t p, const double *x, const double *w,
                                  const double *shift, int intercept, double *g,
                                  char *err, size_t errlen)
{
    const size_t c0 = intercept ? 1 : 0;
    const size_t q = p + c0;
    if (q == 0)
        return TT_OK;
    memset(g, 0, q * q * sizeof *g);
    if (n == 0)
        return TT_OK;

    const size_t rows = n < GRAM_ROWS ? n : GRAM_ROWS;
    double *buf = tt_malloc_array(rows * q, sizeof *buf);
    if (!buf)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for a %zu x %zu Gram block",
                       rows, q);
    double sw[GRAM_ROWS];
    for (size_t r0 = 0; r0 < n; r0 += rows) {
        const size_t m = n - r0 < rows ? n - r0 : rows;
        /* sqrt(w) on both sides of the product gives diag(w) in the middle
         * while dsyrk exploits the symmetry. */
        for (size_t i = 0; i < m; i++)
            sw[i] = w ? sqrt(w[r0 + i]) : 1.0;
        if (intercept)
            memcpy(buf, sw, m * sizeof *buf);
        for (size_t j = 0; j < p; j++) {
            const double *xj = x + j * n + r0;
            const double s = shift ? shift[j] : 0.0;
            double *bj = buf + (c0 + j) * rows;
            for (size_t i = 0; i < m; i++)
                bj[i] = sw[i] * (xj[i] - s);
        }
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0, buf,
                    (int)rows, 1.0, g, (int)q);
    }
    free(buf);
    for (size_t j = 0; j < q; j++)
        for (size_t i = j + 1; i < q; i++)
            g[j * q + i] = g[i * q + j];
    return TT_OK;
}

void tt_linalg_weighted_xtv(size_t n, size_t p, const double *x, const double *w,
                            const double *v, const double *shift, int intercept,
                            double *out)
{
    double *o = out + (intercept ? 1 : 0);
    memset(out, 0, (p + (intercept ? 1 : 0)) * sizeof *out);
    double u[XTV_ROWS];
    double u_sum = 0.0;
    for (size_t r0 = 0; r0 < n; r0 += XTV_ROWS) {
        const size_t m = n - r0 < XTV_ROWS ? n - r0 : XTV_ROWS;
        for (size_t i = 0; i < m; i++) {
            u[i] = w ? w[r0 + i] * v[r0 + i] : v[r0 + i];
            u_sum += u[i];
        }
        if (p > 0)
            cblas_dgemv(CblasColMajor, CblasTrans, (int)m, (int)p, 1.0, x + r0, (int)n, u, 1,
                        1.0, o, 1);
    }
    /* (X - 1 s')' u = X'u - s (1'u): the shift costs one pass over p. */
    if (shift)
        for (size_t j = 0; j < p; j++)
            o[j] -= shift[j] * u_sum;
    if (intercept)
        out[0] = u_sum;
}

void tt_linalg_affine(size_t n, size_t p, const double *x, double b0, const double *b,
                      double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = b0;
    if (n > 0 && p > 0)
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)p, 1.0, x, (int)n, b, 1, 1.0,
                    out, 1);
}

tt_status tt_linalg_cholesky_solve(size_t q, double *a, double *b, double *rcond,
                                   char *err, size_t errlen)
{
    if (q == 0) {
        if (rcond)
            *rcond = 1.0;
        return TT_OK;
    }
    const lapack_int nq = (lapack_int)q;
    double anorm = 0.0;
    if (rcond)
        anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'U', nq, a, nq);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', nq, a, nq);
    if (info > 0)
        return tt_errf(err, errlen, TT_ERR_NUMERIC,
                       "matrix is not positive definite (leading minor of order %d of %d)",
                       (int)info, (int)nq);
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for LAPACK workspace");
    if (info < 0) /* LAPACKE's NaN check reports the matrix argument */
        return tt_errf(err, errlen, TT_ERR_NUMERIC,
                       "LAPACK dpotrf rejected argument %d (NaN in the matrix?)", (int)-info);
    if (rcond) {
        info = LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', nq, a, nq, anorm, rcond);
        if (info == LAPACK_WORK_MEMORY_ERROR)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for LAPACK workspace");
        if (info != 0)
            return tt_errf(err, errlen, TT_ERR_NUMERIC, "LAPACK dpocon failed (info %d)",
                           (int)info);
    }
    info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', nq, 1, a, nq, b, nq);
    if (info != 0)
        return tt_errf(err, errlen, TT_ERR_NUMERIC,
                       "LAPACK dpotrs failed (info %d; NaN in the right-hand side?)",
                       (int)info);
    return TT_OK;
}

int tt_linalg_threads(void)
{
    return openblas_get_num_threads();
}

void tt_linalg_set_threads(int n)
{
    if (n >= 1)
        openblas_set_num_threads(n);
}
