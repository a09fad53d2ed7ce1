/*
 * ridge.c - weighted ridge regression with an unpenalised intercept.
 *
 * Centring x and y by their weighted means removes the intercept from the
 * penalised problem exactly, so only the p x p system
 *   (Xc' W Xc + alpha I) b = Xc' W yc
 * is solved (Cholesky), and b0 = mean_w(y) - mean_w(x)'b.
 */
#include <float.h>
#include <stdlib.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"

static tt_status ridge_fit(double *param, const tt_fit_input *in, double *b0, double *coef,
                           char *err, size_t errlen)
{
    const size_t n = in->n, p = in->p;
    const double *x = in->x, *y = in->y, *w = in->w, w_sum = in->w_sum;
    const double alpha = param[0];
    double y_mean;
    tt_linalg_weighted_means(n, 1, y, w, w_sum, &y_mean);
    if (p == 0) {
        *b0 = y_mean;
        return TT_OK;
    }

    tt_status st = TT_OK;
    double *x_mean = tt_malloc_array(p, sizeof *x_mean);
    double *g = tt_malloc_array(p * p, sizeof *g);
    double *yc = tt_malloc_array(n, sizeof *yc);
    if (!x_mean || !g || !yc) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu features", p);
        goto done;
    }
    tt_linalg_weighted_means(n, p, x, w, w_sum, x_mean);
    st = tt_linalg_weighted_gram(n, p, x, w, x_mean, 0, g, err, errlen);
    if (st != TT_OK)
        goto done;
    for (size_t j = 0; j < p; j++)
        g[j * p + j] += alpha;
    for (size_t i = 0; i < n; i++)
        yc[i] = y[i] - y_mean;
    tt_linalg_weighted_xtv(n, p, x, w, yc, x_mean, 0, coef);

    double rcond = 0.0;
    char why[160] = "";
    st = tt_linalg_cholesky_solve(p, g, coef, &rcond, why, sizeof why);
    if (st != TT_OK) {
        tt_errf(err, errlen, st, "cannot solve (Xc'W Xc + alpha I) b = Xc'W yc with alpha = %g: %s%s",
                alpha, why,
                alpha == 0.0 ? "; features are constant or collinear, use alpha > 0" : "");
        goto done;
    }
    /* A factorisation that succeeds only by rounding gives meaningless
     * coefficients; say so instead of returning them. */
    if (rcond < DBL_EPSILON) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                     "Xc'W Xc + alpha I is numerically singular (reciprocal condition %.3g) "
                     "with alpha = %g: features are constant or collinear; use alpha > 0",
                     rcond, alpha);
        goto done;
    }
    double shift = 0.0;
    for (size_t j = 0; j < p; j++)
        shift += x_mean[j] * coef[j];
    *b0 = y_mean - shift;

done:
    free(x_mean);
    free(g);
    free(yc);
    return st;
}

static const tt_learner_param_spec ridge_params[] = {
    {"alpha", TT_PARAM_REAL, 1.0, 0.0, DBL_MAX, 0, "L2 penalty alpha |b|^2"},
    TT_FEATURIZER_PARAMS,
};

const tt_learner_ops tt_ridge_ops = {
    .name = "ridge",
    .summary = "L2-penalised least squares with an unpenalised intercept: predicts E[y | x]",
    .format_version = 1,
    .params = ridge_params,
    .n_params = sizeof ridge_params / sizeof ridge_params[0],
    .fit = ridge_fit,
    .inverse_link = NULL,
};
