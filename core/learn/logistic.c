/*
 * logistic.c - weighted L2-penalised binary logistic regression.
 *
 * Minimises f(b0, b) = -sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)]
 *                      + (alpha / 2) |b|^2,   p_i = 1 / (1 + exp(-(b0 + x_i'b)))
 * by Newton's method with backtracking (Armijo) step halving. The iteration
 * runs in centred coordinates, eta_i = c0 + (x_i - mean_w(x))'b, which leaves
 * the optimum unchanged (the intercept is unpenalised) but keeps the Hessian
 * well conditioned when features have large means. Labels 0..K-1 with K > 2
 * go to logistic_multi.c instead (learner.c routes them).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"

#define MAX_NEWTON 100
#define MAX_HALVINGS 60
#define ARMIJO_C 1e-4
/* Converged = gradient small relative to the total weight (which sets its
 * scale) AND Newton step small relative to the coefficients. The step test
 * matters: on separable classes with alpha = 0 the gradient also vanishes,
 * but only as |b| runs off to infinity, so the step stays large. If the line
 * search stalls (rounding dominates the change of the objective), the looser
 * STALL tolerances decide whether that is still a fit. */
#define GRAD_TOL 1e-9
#define STEP_TOL 1e-6
#define STALL_GRAD_TOL 1e-5
#define STALL_STEP_TOL 1e-4
/* When the Newton decrement g'H^-1 g (twice the decrease the quadratic
 * model promises) is below this share of the objective, double precision
 * cannot see the change of a sum of n losses: the Armijo test is decided by
 * rounding, and the line search halved its steps dozens of times per
 * iteration for up to MAX_NEWTON iterations (401(k), whose income column is
 * in dollars: 29x scikit-learn's time for the same coefficients). There
 * Newton's full step is taken without a line search - this close to the
 * optimum it is the right step - and a second such step in a row ends the
 * iteration once the stall tolerances hold. */
#define DECREMENT_TOL 1e-13

/* log(1 + exp(t)) without overflow for large t. */
static double softplus(double t)
{
    return t > 0.0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
    if (t >= 0.0)
        return 1.0 / (1.0 + exp(-t));
    const double e = exp(t);
    return e / (1.0 + e);
}

static void logistic_inverse_link(size_t n, double *values)
{
    for (size_t i = 0; i < n; i++)
        values[i] = sigmoid(values[i]);
}

/* eta = c0 + (X - 1 mean')S^-1 b, through the uncentred affine kernel; S
 * the column scales (none: 1). raw: p scratch values. */
static void linear_predictor(size_t n, size_t p, const double *x, const double *x_mean,
                             const double *x_scale, const double *theta, double *raw,
                             double *eta)
{
    double b0 = theta[0];
    for (size_t j = 0; j < p; j++) {
        raw[j] = x_scale ? theta[1 + j] / x_scale[j] : theta[1 + j];
        b0 -= x_mean[j] * raw[j];
    }
    tt_linalg_affine(n, p, x, b0, raw, eta);
}

static double objective(size_t n, size_t p, const double *y, const double *w,
                        const double *eta, double alpha, const double *theta)
{
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* -log p = softplus(-eta), -log(1 - p) = softplus(eta): no
         * cancellation when a row is fitted almost perfectly. */
        const double li = softplus(y[i] == 1.0 ? -eta[i] : eta[i]);
        loss += w ? w[i] * li : li;
    }
    double pen = 0.0;
    for (size_t j = 0; j < p; j++)
        pen += theta[1 + j] * theta[1 + j];
    return loss + 0.5 * alpha * pen;
}

static double max_abs(size_t q, const double *v)
{
    double m = 0.0;
    for (size_t j = 0; j < q; j++)
        if (fabs(v[j]) > m)
            m = fabs(v[j]);
    return m;
}

typedef struct work {
    double *x_mean, *raw, *eta, *eta_new, *hw, *resid; /* p, p, n, n, n, n */
    double *theta, *theta_new, *grad, *step, *hess; /* q, q, q, q, q*q */
} work;

static void work_free(work *wk)
{
    free(wk->x_mean);
    free(wk->raw);
    free(wk->eta);
    free(wk->eta_new);
    free(wk->hw);
    free(wk->resid);
    free(wk->theta);
    free(wk->theta_new);
    free(wk->grad);
    free(wk->step);
    free(wk->hess);
}

static int work_alloc(work *wk, size_t n, size_t p)
{
    const size_t q = p + 1;
    memset(wk, 0, sizeof *wk);
    wk->x_mean = tt_malloc_array(p, sizeof(double));
    wk->raw = tt_malloc_array(p, sizeof(double));
    wk->eta = tt_malloc_array(n, sizeof(double));
    wk->eta_new = tt_malloc_array(n, sizeof(double));
    wk->hw = tt_malloc_array(n, sizeof(double));
    wk->resid = tt_malloc_array(n, sizeof(double));
    wk->theta = tt_malloc_array(q, sizeof(double));
    wk->theta_new = tt_malloc_array(q, sizeof(double));
    wk->grad = tt_malloc_array(q, sizeof(double));
    wk->step = tt_malloc_array(q, sizeof(double));
    wk->hess = tt_malloc_array(q * q, sizeof(double));
    return wk->x_mean && wk->raw && wk->eta && wk->eta_new && wk->hw && wk->resid && wk->theta &&
           wk->theta_new && wk->grad && wk->step && wk->hess;
}

static tt_status check_labels(size_t n, const double *y, const double *w, double *w1,
                              double *w0, char *err, size_t errlen)
{
    double s1 = 0.0, s0 = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0.0 && y[i] != 1.0)
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "label at row %zu is %.17g; labels must be 0 or 1", i, y[i]);
        const double wi = w ? w[i] : 1.0;
        if (y[i] == 1.0)
            s1 += wi;
        else
            s0 += wi;
    }
    /* With one class only, the unpenalised intercept runs off to infinity. */
    if (s1 <= 0.0 || s0 <= 0.0)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "every row with positive weight has label %d; a logistic fit needs "
                       "both classes", s1 > 0.0 ? 1 : 0);
    *w1 = s1;
    *w0 = s0;
    return TT_OK;
}

static tt_status logistic_fit(double *param, const tt_fit_input *in, double *b0, double *coef,
                              char *err, size_t errlen)
{
    const size_t n = in->n, p = in->p;
    const double *x = in->x, *y = in->y, *w = in->w, w_sum = in->w_sum;
    /* Scaled columns without a scaled copy: the gradient and Hessian of the
     * scaled problem are the raw ones divided by the scales. */
    const double *sc = in->x_scale;
    const double alpha = param[0];
    const size_t q = p + 1;
    double w1 = 0.0, w0 = 0.0;
    tt_status st = check_labels(n, y, w, &w1, &w0, err, errlen);
    if (st != TT_OK)
        return st;

    work wk;
    if (!work_alloc(&wk, n, p)) {
        work_free(&wk);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu rows x %zu features", n, p);
    }
    tt_linalg_weighted_means(n, p, x, w, w_sum, wk.x_mean);
    /* b = 0 with the log-odds intercept is the exact intercept-only optimum,
     * so p = 0 converges at once. */
    memset(wk.theta, 0, q * sizeof(double));
    wk.theta[0] = log(w1 / w0);
    linear_predictor(n, p, x, wk.x_mean, sc, wk.theta, wk.raw, wk.eta);
    double f = objective(n, p, y, w, wk.eta, alpha, wk.theta);
    const double scale = w_sum > 1.0 ? w_sum : 1.0;

    int converged = 0, tiny_before = 0;
    double gnorm = INFINITY;
    for (int iter = 0; iter <= MAX_NEWTON; iter++) {
        for (size_t i = 0; i < n; i++) {
            const double mu = sigmoid(wk.eta[i]);
            wk.resid[i] = mu - y[i];
            wk.hw[i] = (w ? w[i] : 1.0) * mu * (1.0 - mu);
        }
        tt_linalg_weighted_xtv(n, p, x, w, wk.resid, wk.x_mean, 1, wk.grad);
        for (size_t j = 0; j < p; j++)
            wk.grad[1 + j] = (sc ? wk.grad[1 + j] / sc[j] : wk.grad[1 + j]) +
                             alpha * wk.theta[1 + j];
        gnorm = max_abs(q, wk.grad);
        if (!isfinite(gnorm)) {
            st = tt_errf(err, errlen, TT_ERR_NUMERIC, "gradient is not finite at iteration %d",
                         iter);
            goto done;
        }
        st = tt_linalg_weighted_gram(n, p, x, wk.hw, wk.x_mean, 1, wk.hess, err, errlen);
        if (st != TT_OK)
            goto done;
        for (size_t j = 1; sc && j < q; j++)
            for (size_t k = 0; k < q; k++) {
                wk.hess[j * q + k] /= sc[j - 1];
                wk.hess[k * q + j] /= sc[j - 1];
            }
        for (size_t j = 1; j < q; j++)
            wk.hess[j * q + j] += alpha;
        for (size_t j = 0; j < q; j++)
            wk.step[j] = -wk.grad[j];
        char why[160] = "";
        st = tt_linalg_cholesky_solve(q, wk.hess, wk.step, NULL, why, sizeof why);
        if (st != TT_OK) {
            tt_errf(err, errlen, st, "Newton step failed at iteration %d: %s%s", iter, why,
                    alpha == 0.0 ? "; the classes may be separable, use alpha > 0" : "");
            goto done;
        }

        const double step_rel = max_abs(q, wk.step) / (1.0 + max_abs(q, wk.theta));
        if (gnorm <= GRAD_TOL * scale && step_rel <= STEP_TOL) {
            converged = 1;
            break;
        }
        if (iter == MAX_NEWTON) {
            /* Out of iterations: steps shortened by rounding in the objective
             * can crawl on without ever meeting the tight test; the looser
             * stall tolerances still tell a fit from a divergence. */
            converged = gnorm <= STALL_GRAD_TOL * scale && step_rel <= STALL_STEP_TOL;
            break;
        }

        double slope = 0.0; /* directional derivative, < 0 for a descent step */
        for (size_t j = 0; j < q; j++)
            slope += wk.grad[j] * wk.step[j];
        const int tiny = -slope <= DECREMENT_TOL * (fabs(f) + 1.0);
        if (tiny && tiny_before && gnorm <= STALL_GRAD_TOL * scale &&
            step_rel <= STALL_STEP_TOL) {
            converged = 1;
            break;
        }
        tiny_before = tiny;
        double t = 1.0;
        int accepted = 0;
        for (int h = 0; h < (tiny ? 1 : MAX_HALVINGS); h++, t *= 0.5) {
            for (size_t j = 0; j < q; j++)
                wk.theta_new[j] = wk.theta[j] + t * wk.step[j];
            linear_predictor(n, p, x, wk.x_mean, sc, wk.theta_new, wk.raw, wk.eta_new);
            const double f_new = objective(n, p, y, w, wk.eta_new, alpha, wk.theta_new);
            if (tiny || f_new <= f + ARMIJO_C * t * slope) {
                f = f_new;
                accepted = 1;
                break;
            }
        }
        if (!accepted) {
            if (gnorm <= STALL_GRAD_TOL * scale && step_rel <= STALL_STEP_TOL) {
                converged = 1;
                break;
            }
            st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                         "line search failed at iteration %d (gradient norm %.3g)", iter, gnorm);
            goto done;
        }
        double *swap = wk.theta;
        wk.theta = wk.theta_new;
        wk.theta_new = swap;
        swap = wk.eta;
        wk.eta = wk.eta_new;
        wk.eta_new = swap;
    }
    if (!converged) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                     "no convergence in %d Newton iterations (gradient norm %.3g)%s",
                     MAX_NEWTON, gnorm,
                     alpha == 0.0 ? "; the classes may be separable, use alpha > 0" : "");
        goto done;
    }
    double c = wk.theta[0];
    for (size_t j = 0; j < p; j++) {
        coef[j] = wk.theta[1 + j]; /* of the scaled column, whose mean is x_mean / scale */
        c -= wk.x_mean[j] * (sc ? coef[j] / sc[j] : coef[j]);
    }
    *b0 = c;

done:
    work_free(&wk);
    return st;
}

static const tt_learner_param_spec logistic_params[] = {
    {"alpha", TT_PARAM_REAL, 1.0, 0.0, DBL_MAX, 0, "L2 penalty (alpha/2)|b|^2 on the log-likelihood"},
    TT_FEATURIZER_PARAMS,
};

const tt_learner_ops tt_logistic_ops = {
    .name = "logistic",
    .summary = "L2-penalised logistic regression: labels 0/1 predict P(y = 1); labels 0..K-1 "
               "(K > 2) fit the multinomial model and predict the K class probabilities",
    .format_version = 1,
    .params = logistic_params,
    .n_params = sizeof logistic_params / sizeof logistic_params[0],
    .fit = logistic_fit,
    .inverse_link = logistic_inverse_link,
    .multinomial = 1,
    .scales_in_place = 1,
};
