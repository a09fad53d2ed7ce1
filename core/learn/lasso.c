/*
 * lasso.c - lasso and elastic net by covariance (Gram) coordinate descent,
 * with a warm-started regularisation path and K-fold choice of alpha.
 *
 * Objective (scikit-learn's ElasticNet, with weights; W = sum w):
 *   (1 / 2W) sum_i w_i (y_i - b0 - x_i'b)^2 + alpha l1 |b|_1 + alpha (1 - l1) |b|^2 / 2.
 * Profiling out the intercept leaves 1/2 b'Gb - c'b + penalty with the
 * weighted centred moments G = Xc'W Xc / W and c = Xc'W yc / W, so after one
 * O(n p^2) pass per fold every coordinate update costs O(p) no matter how
 * many rows there are. That is why cross-validation is cheap here: each fold's
 * training moments are the total minus its held-out moments, and held-out
 * MSE is a quadratic form in the held-out moments too (data are centred by
 * the global means first so those sums do not cancel catastrophically).
 * Memory is O(K p^2), so this suits p up to a few thousand.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

/* Parameter slots, shared by both learners (elastic_net adds l1_ratio last). */
enum { P_ALPHA, P_FOLDS, P_NALPHAS, P_EPS, P_MAXITER, P_TOL, P_POLY2, P_STD, P_L1 };

/* alpha auto: path points in a row without a better cross-validated error
 * after which the path stops (see the path below). */
#define PATIENCE 10

/* Moments of one row set in globally centred coordinates, q = p + 1:
 * g[0] = W, g[1..p] = sum w x, g[(1+j)q + 1+k] = sum w x_j x_k;
 * v[0] = sum w y, v[1+j] = sum w x_j y; yy = sum w y^2. */
typedef struct moments {
    double *g, *v, yy;
} moments;

typedef struct problem {
    size_t p;
    double W, *G, *c, *diag; /* centred training Gram / W, X'y / W */
} problem;

static double soft(double z, double t)
{
    return z > t ? z - t : (z < -t ? z + t : 0.0);
}

static void problem_from(problem *pr, const moments *tot, const moments *out)
{
    const size_t p = pr->p, q = p + 1;
    double W = tot->g[0] - (out ? out->g[0] : 0.0);
    double sy = tot->v[0] - (out ? out->v[0] : 0.0);
    pr->W = W;
    for (size_t j = 0; j < p; j++) {
        double sxj = tot->g[1 + j] - (out ? out->g[1 + j] : 0.0);
        double sxy = tot->v[1 + j] - (out ? out->v[1 + j] : 0.0);
        pr->c[j] = (sxy - sxj * sy / W) / W;
        for (size_t k = 0; k < p; k++) {
            double sxk = tot->g[1 + k] - (out ? out->g[1 + k] : 0.0);
            double sxx = tot->g[(1 + j) * q + 1 + k] - (out ? out->g[(1 + j) * q + 1 + k] : 0.0);
            pr->G[j * p + k] = (sxx - sxj * sxk / W) / W;
        }
        pr->diag[j] = pr->G[j * p + j];
    }
}

/* Coordinate descent from the warm start b (Gb kept in gb). Stops when no
 * coefficient moves by more than tol * scale (scale = sd of y), measured in
 * the units of the prediction (|delta b_j| sqrt(G_jj)). Returns sweeps. */
static int cd_solve(const problem *pr, double alpha, double l1, int max_iter, double tol,
                    double scale, double *b, double *gb)
{
    const size_t p = pr->p;
    const double a1 = alpha * l1, a2 = alpha * (1.0 - l1);
    int it = 0;
    for (; it < max_iter; it++) {
        double max_move = 0.0;
        for (size_t j = 0; j < p; j++) {
            const double d = pr->diag[j];
            if (!(d > 0.0))
                continue; /* a constant column stays at zero */
            const double rho = pr->c[j] - gb[j] + d * b[j];
            const double nb = soft(rho, a1) / (d + a2);
            const double delta = nb - b[j];
            if (delta != 0.0) {
                const double *col = pr->G + j * p;
                for (size_t k = 0; k < p; k++)
                    gb[k] += delta * col[k];
                b[j] = nb;
                double move = fabs(delta) * sqrt(d);
                if (move > max_move)
                    max_move = move;
            }
        }
        if (max_move <= tol * scale)
            return it + 1;
    }
    return it;
}

static tt_status accumulate(size_t n, size_t p, const double *x, const double *w,
                            const double *yc, const double *x_mean, moments *m,
                            char *err, size_t errlen)
{
    tt_status st = tt_linalg_weighted_gram(n, p, x, w, x_mean, 1, m->g, err, errlen);
    if (st != TT_OK)
        return st;
    tt_linalg_weighted_xtv(n, p, x, w, yc, x_mean, 1, m->v);
    m->yy = 0.0;
    for (size_t i = 0; i < n; i++)
        m->yy += (w ? w[i] : 1.0) * yc[i] * yc[i];
    return TT_OK;
}

/* Held-out weighted MSE of (b0c, b) from the held-out moments. */
static double heldout_mse(size_t p, const moments *h, double b0c, const double *b)
{
    const size_t q = p + 1;
    double s = h->yy - 2.0 * b0c * h->v[0] + b0c * b0c * h->g[0];
    for (size_t j = 0; j < p; j++) {
        s += -2.0 * b[j] * h->v[1 + j] + 2.0 * b0c * b[j] * h->g[1 + j];
        double gj = 0.0;
        for (size_t k = 0; k < p; k++)
            gj += h->g[(1 + j) * q + 1 + k] * b[k];
        s += b[j] * gj;
    }
    return s / h->g[0];
}

static double intercept_c(const problem *pr, const moments *tot, const moments *out,
                          const double *b)
{
    double sy = tot->v[0] - (out ? out->v[0] : 0.0);
    double r = sy;
    for (size_t j = 0; j < pr->p; j++)
        r -= (tot->g[1 + j] - (out ? out->g[1 + j] : 0.0)) * b[j];
    return r / pr->W;
}

static tt_status enet_fit(double *param, const tt_fit_input *in, double *b0, double *coef,
                          char *err, size_t errlen, double l1)
{
    const size_t n = in->n, p = in->p, q = p + 1;
    const int folds = (int)param[P_FOLDS], n_alphas = (int)param[P_NALPHAS];
    const int max_iter = (int)param[P_MAXITER];
    const double eps = param[P_EPS], tol = param[P_TOL];
    const int cv = param[P_ALPHA] == TT_LEARNER_AUTO;
    double y_mean;
    tt_linalg_weighted_means(n, 1, in->y, in->w, in->w_sum, &y_mean);
    if (p == 0) {
        *b0 = y_mean;
        if (cv)
            param[P_ALPHA] = 0.0;
        return TT_OK;
    }
    const size_t n_sets = cv ? (size_t)folds + 1 : 1;
    tt_status st = TT_OK;
    double *x_mean = tt_malloc_array(p, sizeof *x_mean), *yc = tt_malloc_array(n, sizeof *yc);
    double *wf = cv ? tt_malloc_array(n, sizeof *wf) : NULL;
    double *mem = tt_malloc_array(n_sets, (q * q + q) * sizeof *mem);
    double *buf = tt_malloc_array(3 * p + p * p, sizeof *buf);
    double *b = calloc(p, sizeof *b), *gb = calloc(p, sizeof *gb);
    double *alphas = NULL, *cv_mse = NULL, *fold_mem = NULL, *fold_bs = NULL, *fold_gbs = NULL;
    problem *fold_pr = NULL;
    int path_len = 0;
    size_t *perm = NULL;
    moments *m = calloc(n_sets, sizeof *m);
    if (!x_mean || !yc || (cv && !wf) || !mem || !buf || !b || !gb || !m) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu features", p);
        goto done;
    }
    for (size_t s = 0; s < n_sets; s++) {
        m[s].g = mem + s * (q * q + q);
        m[s].v = m[s].g + q * q;
    }
    problem pr = {p, 0.0, buf + 3 * p, buf, buf + p};
    tt_linalg_weighted_means(n, p, in->x, in->w, in->w_sum, x_mean);
    double yvar = 0.0;
    for (size_t i = 0; i < n; i++) {
        yc[i] = in->y[i] - y_mean;
        yvar += (in->w ? in->w[i] : 1.0) * yc[i] * yc[i];
    }
    const double scale = yvar > 0.0 ? sqrt(yvar / in->w_sum) : 1.0;
    moments *tot = &m[0];
    if ((st = accumulate(n, p, in->x, in->w, yc, x_mean, tot, err, errlen)) != TT_OK)
        goto done;
    problem_from(&pr, tot, NULL);

    double alpha = param[P_ALPHA];
    if (cv) {
        if (n < (size_t)folds) {
            st = tt_errf(err, errlen, TT_ERR_DATA, "alpha auto needs at least %d rows", folds);
            goto done;
        }
        /* The path: scikit-learn's grid, alpha_max (all coefficients zero)
         * down to eps * alpha_max, log-spaced; alpha_max from all rows. */
        double cmax = 0.0;
        for (size_t j = 0; j < p; j++)
            cmax = fmax(cmax, fabs(pr.c[j]));
        const double amax = cmax > 0.0 ? cmax / l1 : 1.0;
        alphas = tt_malloc_array((size_t)n_alphas, sizeof *alphas);
        cv_mse = calloc((size_t)n_alphas, sizeof *cv_mse);
        perm = tt_malloc_array(n, sizeof *perm);
        if (!alphas || !cv_mse || !perm) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for the path");
            goto done;
        }
        for (int a = 0; a < n_alphas; a++)
            alphas[a] = n_alphas == 1 ? amax
                                      : amax * pow(eps, (double)a / (double)(n_alphas - 1));
        /* Seeded shuffled folds of (nearly) equal size. */
        tt_rng rng;
        tt_rng_seed(&rng, in->seed, "lasso-cv-folds");
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        tt_rng_shuffle_size(&rng, perm, n);
        fold_pr = calloc((size_t)folds, sizeof *fold_pr);
        fold_mem = tt_malloc_array((size_t)folds, (p * p + 2 * p) * sizeof *fold_mem);
        fold_bs = calloc((size_t)folds * p, sizeof *fold_bs);
        fold_gbs = calloc((size_t)folds * p, sizeof *fold_gbs);
        if (!fold_pr || !fold_mem || !fold_bs || !fold_gbs) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %d folds", folds);
            goto done;
        }
        for (int k = 0; k < folds; k++) {
            for (size_t i = 0; i < n; i++)
                wf[i] = 0.0;
            for (size_t r = (size_t)k; r < n; r += (size_t)folds)
                wf[perm[r]] = in->w ? in->w[perm[r]] : 1.0;
            moments *h = &m[1 + k];
            if ((st = accumulate(n, p, in->x, wf, yc, x_mean, h, err, errlen)) != TT_OK)
                goto done;
            if (!(h->g[0] > 0.0) || !(tot->g[0] - h->g[0] > 0.0)) {
                st = tt_errf(err, errlen, TT_ERR_DATA, "fold %d has no weight", k);
                goto done;
            }
            double *fm = fold_mem + (size_t)k * (p * p + 2 * p);
            fold_pr[k] = (problem){p, 0.0, fm + 2 * p, fm, fm + p};
            problem_from(&fold_pr[k], tot, h);
        }
        /* Down the path, every fold warm-started from its previous alpha.
         * The path stops once PATIENCE alphas in a row fail to beat the
         * best cross-validated error: past the minimum of the (U-shaped)
         * curve the small penalties are where coordinate descent is
         * slowest, and on wide squares-and-products designs they cost
         * minutes while never being chosen (IHDP, 351 columns: 41 s -> under
         * a second for the same chosen penalty). */
        int best_so_far = 0;
        for (int a = 0; a < n_alphas; a++) {
            for (int k = 0; k < folds; k++) {
                double *fb = fold_bs + (size_t)k * p, *fgb = fold_gbs + (size_t)k * p;
                cd_solve(&fold_pr[k], alphas[a], l1, max_iter, tol, scale, fb, fgb);
                double b0c = intercept_c(&fold_pr[k], tot, &m[1 + k], fb);
                cv_mse[a] += heldout_mse(p, &m[1 + k], b0c, fb) / folds;
            }
            if (cv_mse[a] < cv_mse[best_so_far])
                best_so_far = a;
            path_len = a + 1;
            if (a - best_so_far >= PATIENCE)
                break;
        }
        int best = 0;
        for (int a = 1; a < path_len; a++)
            if (cv_mse[a] < cv_mse[best])
                best = a;
        /* Warm start down the path to the chosen alpha on all rows. */
        for (int a = 0; a < best; a++)
            cd_solve(&pr, alphas[a], l1, max_iter, tol, scale, b, gb);
        alpha = alphas[best];
        param[P_ALPHA] = alpha;
    }
    int sweeps = cd_solve(&pr, alpha, l1, max_iter, tol, scale, b, gb);
    if (sweeps >= max_iter) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC, "coordinate descent did not converge in %d "
                     "sweeps at alpha = %g (raise max_iter or tol)", max_iter, alpha);
        goto done;
    }
    double c0 = intercept_c(&pr, tot, NULL, b) + y_mean;
    for (size_t j = 0; j < p; j++) {
        coef[j] = b[j];
        c0 -= x_mean[j] * b[j];
    }
    *b0 = c0;
done:
    free(x_mean);
    free(yc);
    free(wf);
    free(mem);
    free(buf);
    free(b);
    free(gb);
    free(alphas);
    free(cv_mse);
    free(fold_pr);
    free(fold_mem);
    free(fold_bs);
    free(fold_gbs);
    free(perm);
    free(m);
    return st;
}

static tt_status lasso_fit(double *param, const tt_fit_input *in, double *b0, double *coef,
                           char *err, size_t errlen)
{
    return enet_fit(param, in, b0, coef, err, errlen, 1.0);
}

static tt_status elastic_net_fit(double *param, const tt_fit_input *in, double *b0,
                                 double *coef, char *err, size_t errlen)
{
    return enet_fit(param, in, b0, coef, err, errlen, param[P_L1]);
}

#define COMMON_PARAMS                                                                        \
    {"alpha", TT_PARAM_REAL, TT_LEARNER_AUTO, 0.0, DBL_MAX, 1,                               \
     "penalty strength; auto = K-fold CV over the path"},                                    \
    {"cv_folds", TT_PARAM_INT, 5.0, 2.0, 50.0, 0, "folds for alpha auto"},                   \
    {"n_alphas", TT_PARAM_INT, 100.0, 1.0, 10000.0, 0, "path length for alpha auto"},        \
    {"eps", TT_PARAM_REAL, 1e-3, 1e-12, 1.0, 0, "smallest path alpha / largest"},            \
    {"max_iter", TT_PARAM_INT, 10000.0, 1.0, 1e9, 0, "coordinate descent sweeps per alpha"}, \
    {"tol", TT_PARAM_REAL, 1e-10, 0.0, 1.0, 0,                                               \
     "stop when no coefficient moves the fit by more than tol sd(y)"},                       \
    TT_FEATURIZER_PARAMS

static const tt_learner_param_spec lasso_params[] = {COMMON_PARAMS};
static const tt_learner_param_spec enet_params[] = {
    COMMON_PARAMS,
    {"l1_ratio", TT_PARAM_REAL, 0.5, 1e-3, 1.0, 0, "share of the penalty that is L1"},
};

const tt_learner_ops tt_lasso_ops = {
    .name = "lasso",
    .summary = "L1-penalised least squares by coordinate descent; alpha auto picks the penalty "
               "by K-fold cross-validation over a warm-started path",
    .format_version = 1,
    .params = lasso_params,
    .n_params = sizeof lasso_params / sizeof lasso_params[0],
    .fit = lasso_fit,
};

const tt_learner_ops tt_elastic_net_ops = {
    .name = "elastic_net",
    .summary = "lasso plus an L2 part (l1_ratio): scikit-learn's ElasticNet objective; "
               "same path and cross-validation",
    .format_version = 1,
    .params = enet_params,
    .n_params = sizeof enet_params / sizeof enet_params[0],
    .fit = elastic_net_fit,
};
