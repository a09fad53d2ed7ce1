/*
 * logistic_multi.c - multinomial (softmax) logistic regression, the K > 2
 * label case of the "logistic" learner.
 *
 * Minimises f = -sum_i w_i log softmax(eta_i)_{y_i} + (alpha / 2) sum_k |b_k|^2,
 * eta_ik = c_k + x_i'b_k, by Newton's method with Armijo backtracking; this is
 * scikit-learn's multinomial LogisticRegression with C = 1 / alpha. Softmax is
 * unchanged by adding one constant to every intercept, so c_0 is pinned to 0
 * (its Hessian row is the identity and its gradient 0); the probabilities are
 * unaffected. The coefficients are identified by the penalty, so alpha > 0 is
 * needed unless the data pin them down. Rows are centred by their weighted
 * means during the iteration for conditioning, as in logistic.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"

#define MAX_NEWTON 100
#define MAX_HALVINGS 60
#define GRAD_TOL 1e-9
#define STEP_TOL 1e-7
/* As in logistic.c: when rounding in the objective shortens steps until the
 * tight test can no longer be met (near-zero coefficients, e.g. a randomized
 * assignment), these looser tolerances still tell a fit from a divergence. */
#define STALL_GRAD_TOL 1e-5
#define STALL_STEP_TOL 1e-4
/* As in logistic.c: below this share of the objective the Newton decrement
 * is a change double precision cannot see; the full step is taken without a
 * line search, and a second one in a row ends the iteration. */
#define DECREMENT_TOL 1e-13

typedef struct mwork {
    size_t n, p, k, q, m; /* q = p + 1 per class, m = k q parameters */
    double *x_mean, *theta, *theta_new, *grad, *hess, *step, *eta, *prob, *row;
} mwork;

/* eta (n x k) from theta (class-major [c_k, b_k]) over centred x. */
static void predictor(const mwork *w, const double *x, const double *theta, double *eta)
{
    for (size_t c = 0; c < w->k; c++) {
        const double *t = theta + c * w->q;
        double b0 = t[0];
        for (size_t j = 0; j < w->p; j++)
            b0 -= w->x_mean[j] * t[1 + j];
        tt_linalg_affine(w->n, w->p, x, b0, t + 1, eta + c * w->n);
    }
}

/* Probabilities into prob; returns the penalised objective. */
static double objective(const mwork *w, const double *y, const double *wt, const double *eta,
                        const double *theta, double alpha, double *prob)
{
    const size_t n = w->n, k = w->k;
    double f = 0.0;
    for (size_t i = 0; i < n; i++) {
        double mx = -INFINITY, z = 0.0;
        for (size_t c = 0; c < k; c++)
            mx = fmax(mx, eta[c * n + i]);
        for (size_t c = 0; c < k; c++)
            z += (prob[c * n + i] = exp(eta[c * n + i] - mx));
        for (size_t c = 0; c < k; c++)
            prob[c * n + i] /= z;
        size_t yi = (size_t)y[i];
        f += (wt ? wt[i] : 1.0) * (mx + log(z) - eta[yi * n + i]);
    }
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < w->p; j++)
            f += 0.5 * alpha * theta[c * w->q + 1 + j] * theta[c * w->q + 1 + j];
    return f;
}

/* Gradient and Hessian of the objective at the probabilities prob. */
static void derivatives(const mwork *w, const double *x, const double *y, const double *wt,
                        const double *theta, double alpha)
{
    const size_t n = w->n, k = w->k, q = w->q, m = w->m;
    memset(w->grad, 0, m * sizeof *w->grad);
    memset(w->hess, 0, m * m * sizeof *w->hess);
    double *xr = w->row;
    for (size_t i = 0; i < n; i++) {
        const double wi = wt ? wt[i] : 1.0;
        xr[0] = 1.0;
        for (size_t j = 0; j < w->p; j++)
            xr[1 + j] = x[j * n + i] - w->x_mean[j];
        for (size_t a = 0; a < k; a++) {
            const double pa = w->prob[a * n + i];
            const double r = pa - (y[i] == (double)a);
            for (size_t u = 0; u < q; u++)
                w->grad[a * q + u] += wi * r * xr[u];
            for (size_t b = a; b < k; b++) {
                const double h = wi * pa * ((a == b) - w->prob[b * n + i]);
                if (h == 0.0)
                    continue;
                double *blk = w->hess + (a * q) * m + b * q;
                for (size_t u = 0; u < q; u++) {
                    const double hu = h * xr[u];
                    for (size_t v = 0; v < q; v++)
                        blk[u * m + v] += hu * xr[v];
                }
            }
        }
    }
    for (size_t a = 0; a < k; a++)
        for (size_t j = 0; j < w->p; j++) {
            w->grad[a * q + 1 + j] += alpha * theta[a * q + 1 + j];
            w->hess[(a * q + 1 + j) * m + a * q + 1 + j] += alpha;
        }
    /* Mirror the upper blocks (b > a) into the lower triangle. */
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < r; c++)
            w->hess[r * m + c] = w->hess[c * m + r];
    /* Pin c_0: identity row and column, zero gradient. */
    for (size_t c = 0; c < m; c++)
        w->hess[c] = w->hess[c * m] = 0.0;
    w->hess[0] = 1.0;
    w->grad[0] = 0.0;
}

static double max_abs(size_t m, const double *v)
{
    double s = 0.0;
    for (size_t j = 0; j < m; j++)
        s = fmax(s, fabs(v[j]));
    return s;
}

tt_status tt_logistic_multi_fit(double alpha, const tt_fit_input *in, size_t k, double *out,
                                char *err, size_t errlen)
{
    const size_t n = in->n, p = in->p, q = p + 1, m = k * q;
    mwork w = {n, p, k, q, m, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    w.x_mean = tt_malloc_array(p ? p : 1, sizeof(double));
    w.theta = calloc(m, sizeof(double));
    w.theta_new = tt_malloc_array(m, sizeof(double));
    w.grad = tt_malloc_array(m, sizeof(double));
    w.hess = tt_malloc_array(m, m * sizeof(double));
    w.step = tt_malloc_array(m, sizeof(double));
    w.eta = tt_malloc_array(n, k * sizeof(double));
    w.prob = tt_malloc_array(n, k * sizeof(double));
    w.row = tt_malloc_array(q, sizeof(double));
    tt_status st = TT_OK;
    if (!w.x_mean || !w.theta || !w.theta_new || !w.grad || !w.hess || !w.step || !w.eta ||
        !w.prob || !w.row) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu classes x %zu features", k,
                     p);
        goto done;
    }
    tt_linalg_weighted_means(n, p, in->x, in->w, in->w_sum, w.x_mean);
    /* Start from the class log-frequencies (the intercept-only optimum). */
    double *freq = w.theta_new;
    memset(freq, 0, k * sizeof *freq);
    for (size_t i = 0; i < n; i++)
        freq[(size_t)in->y[i]] += in->w ? in->w[i] : 1.0;
    for (size_t c = 0; c < k; c++) {
        if (!(freq[c] > 0.0)) {
            st = tt_errf(err, errlen, TT_ERR_DATA, "class %zu has no rows with weight", c);
            goto done;
        }
        w.theta[c * q] = log(freq[c] / freq[0]);
    }
    predictor(&w, in->x, w.theta, w.eta);
    double f = objective(&w, in->y, in->w, w.eta, w.theta, alpha, w.prob);
    const double scale = in->w_sum > 1.0 ? in->w_sum : 1.0;
    int converged = 0, tiny_before = 0;
    for (int it = 0; it <= MAX_NEWTON && !converged; it++) {
        derivatives(&w, in->x, in->y, in->w, w.theta, alpha);
        for (size_t j = 0; j < m; j++)
            w.step[j] = -w.grad[j];
        const double gnorm = max_abs(m, w.grad);
        char why[160] = "";
        st = tt_linalg_cholesky_solve(m, w.hess, w.step, NULL, why, sizeof why);
        if (st != TT_OK) {
            tt_errf(err, errlen, st, "Newton step failed at iteration %d: %s%s", it, why,
                    alpha == 0.0 ? "; use alpha > 0" : "");
            goto done;
        }
        const double step_rel = max_abs(m, w.step) / (1.0 + max_abs(m, w.theta));
        if (gnorm <= GRAD_TOL * scale && step_rel <= STEP_TOL) {
            converged = 1;
            break;
        }
        if (it == MAX_NEWTON) {
            converged = gnorm <= STALL_GRAD_TOL * scale && step_rel <= STALL_STEP_TOL;
            break;
        }
        double slope = 0.0;
        for (size_t j = 0; j < m; j++)
            slope += w.grad[j] * w.step[j];
        const int tiny = -slope <= DECREMENT_TOL * (fabs(f) + 1.0);
        if (tiny && tiny_before && gnorm <= STALL_GRAD_TOL * scale &&
            step_rel <= STALL_STEP_TOL) {
            converged = 1;
            break;
        }
        tiny_before = tiny;
        double t = 1.0;
        int accepted = 0;
        for (int h = 0; h < (tiny ? 1 : MAX_HALVINGS) && !accepted; h++, t *= 0.5) {
            for (size_t j = 0; j < m; j++)
                w.theta_new[j] = w.theta[j] + t * w.step[j];
            predictor(&w, in->x, w.theta_new, w.eta);
            double fn = objective(&w, in->y, in->w, w.eta, w.theta_new, alpha, w.prob);
            if (tiny || fn <= f + 1e-4 * t * slope) {
                f = fn;
                accepted = 1;
            }
        }
        if (!accepted) {
            /* Rounding dominates the change: accept if nearly stationary. */
            converged = gnorm <= STALL_GRAD_TOL * scale && step_rel <= STALL_STEP_TOL;
            break;
        }
        double *sw = w.theta;
        w.theta = w.theta_new;
        w.theta_new = sw;
    }
    if (!converged) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC, "no convergence in %d Newton iterations%s",
                     MAX_NEWTON, alpha == 0.0 ? "; the classes may be separable, use alpha > 0"
                                               : "");
        goto done;
    }
    /* Back to uncentred intercepts. */
    for (size_t c = 0; c < k; c++) {
        double b0 = w.theta[c * q];
        for (size_t j = 0; j < p; j++) {
            out[c * q + 1 + j] = w.theta[c * q + 1 + j];
            b0 -= w.x_mean[j] * w.theta[c * q + 1 + j];
        }
        out[c * q] = b0;
    }
done:
    free(w.x_mean), free(w.theta), free(w.theta_new), free(w.grad), free(w.hess);
    free(w.step), free(w.eta), free(w.prob), free(w.row);
    return st;
}
