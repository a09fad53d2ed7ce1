/* test_learn.c - ridge and logistic learners against independent references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/learner.h"
#include "util/rng.h"

#include "test_learn_util.h"

/* ---- helpers ---------------------------------------------------------------- */

/* A learner with only its penalty set (test_learn_util.h's make takes a list). */
static tt_learner *make_with_alpha(const char *name, double alpha)
{
    const char *keys[] = {"alpha"};
    double values[] = {alpha};
    tt_learner *l = NULL;
    char err[256] = "";
    assert_int_equal(tt_learner_create(name, keys, values, 1, 7, &l, err, sizeof err), TT_OK);
    assert_non_null(l);
    return l;
}

static void fill_normal(tt_rng *r, double *v, size_t m, double scale, double shift)
{
    for (size_t i = 0; i < m; i++)
        v[i] = shift + scale * tt_rng_normal(r);
}

static void gauss_solve(size_t m, double *a, double *b)
{
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < m; r++)
            if (fabs(a[r * m + c]) > fabs(a[piv * m + c]))
                piv = r;
        for (size_t k = 0; k < m; k++) {
            double t = a[c * m + k];
            a[c * m + k] = a[piv * m + k];
            a[piv * m + k] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (size_t r = c + 1; r < m; r++) {
            double f = a[r * m + c] / a[c * m + c];
            for (size_t k = c; k < m; k++)
                a[r * m + k] -= f * a[c * m + k];
            b[r] -= f * b[c];
        }
    }
    for (size_t c = m; c-- > 0;) {
        double s = b[c];
        for (size_t k = c + 1; k < m; k++)
            s -= a[c * m + k] * b[k];
        b[c] = s / a[c * m + c];
    }
}

/* Recover b0 and b from predictions at 0 and the unit vectors (link = identity
 * or logit). */
static void coefficients(const tt_learner *l, size_t p, int logit, double *beta)
{
    double *x = calloc((p + 1) * p + 1, sizeof *x);
    double *out = calloc(p + 1, sizeof *out);
    for (size_t j = 0; j < p; j++)
        x[j * (p + 1) + (j + 1)] = 1.0; /* row j+1 is e_j */
    predict_ok(l, p + 1, p, x, out);
    for (size_t i = 0; i <= p; i++)
        if (logit)
            out[i] = log(out[i] / (1.0 - out[i]));
    beta[0] = out[0];
    for (size_t j = 0; j < p; j++)
        beta[1 + j] = out[1 + j] - out[0];
    free(x);
    free(out);
}

/* ---- ridge ------------------------------------------------------------------ */

static void test_ridge_matches_normal_equations(void **state)
{
    (void)state;
    const size_t n = 60, p = 4;
    const double alpha = 0.7;
    tt_rng r;
    tt_rng_seed(&r, 11, "ridge");
    double x[60 * 4], y[60], w[60];
    fill_normal(&r, x, n * p, 2.0, 3.0);
    fill_normal(&r, y, n, 1.0, 0.0);
    for (size_t i = 0; i < n; i++) {
        y[i] += 1.0 + 0.5 * x[i] - 2.0 * x[2 * n + i];
        w[i] = 0.2 + 2.0 * tt_rng_uniform(&r);
    }
    /* Unknowns (b0, b); normal equations of sum w (y - b0 - x'b)^2 + alpha|b|^2. */
    const size_t q = p + 1;
    double a[25] = {0}, rhs[5] = {0};
    for (size_t i = 0; i < n; i++) {
        double row[5] = {1.0, x[i], x[n + i], x[2 * n + i], x[3 * n + i]};
        for (size_t r1 = 0; r1 < q; r1++) {
            rhs[r1] += w[i] * row[r1] * y[i];
            for (size_t c = 0; c < q; c++)
                a[r1 * q + c] += w[i] * row[r1] * row[c];
        }
    }
    for (size_t j = 1; j < q; j++)
        a[j * q + j] += alpha;
    gauss_solve(q, a, rhs);

    tt_learner *l = make_with_alpha("ridge", alpha);
    fit_ok(l, n, p, x, y, w);
    double beta[5];
    coefficients(l, p, 0, beta);
    for (size_t j = 0; j < q; j++)
        assert_true(fabs(beta[j] - rhs[j]) <= 1e-9 * (1.0 + fabs(rhs[j])));
    /* Predictions on the training rows too. */
    double pred[60];
    predict_ok(l, n, p, x, pred);
    for (size_t i = 0; i < n; i++) {
        double ref = rhs[0];
        for (size_t j = 0; j < p; j++)
            ref += rhs[1 + j] * x[j * n + i];
        assert_true(fabs(pred[i] - ref) <= 1e-9 * (1.0 + fabs(ref)));
    }
    assert_string_equal(tt_learner_name(l), "ridge");
    tt_learner_destroy(l);
}

static void test_ridge_exact_linear(void **state)
{
    (void)state;
    const size_t n = 40, p = 3;
    tt_rng r;
    tt_rng_seed(&r, 12, "exact");
    double x[40 * 3], y[40];
    fill_normal(&r, x, n * p, 1.0, 5.0);
    for (size_t i = 0; i < n; i++)
        y[i] = 1.5 + 2.0 * x[i] - 3.0 * x[n + i] + 0.25 * x[2 * n + i];
    const double truth[4] = {1.5, 2.0, -3.0, 0.25};
    const double alphas[] = {0.0, 1e-12};
    for (size_t a = 0; a < 2; a++) {
        tt_learner *l = make_with_alpha("ridge", alphas[a]);
        fit_ok(l, n, p, x, y, NULL);
        double beta[4];
        coefficients(l, p, 0, beta);
        for (size_t j = 0; j < 4; j++)
            assert_true(fabs(beta[j] - truth[j]) < 1e-9);
        tt_learner_destroy(l);
    }
}

static void test_ridge_intercept_only_and_singular(void **state)
{
    (void)state;
    double y[4] = {1.0, 2.0, 4.0, 8.0}, w[4] = {1.0, 0.0, 2.0, 1.0};
    tt_learner *l = make_with_alpha("ridge", 1.0);
    fit_ok(l, 4, 0, NULL, y, w);
    double out[2];
    predict_ok(l, 2, 0, NULL, out);
    assert_true(fabs(out[0] - (1.0 + 8.0 + 8.0) / 4.0) < 1e-15);

    /* Duplicate column: singular with alpha = 0, fine with alpha > 0. */
    double x[8] = {1, 2, 3, 5, 1, 2, 3, 5};
    char err[256] = "";
    tt_learner *l0 = make_with_alpha("ridge", 0.0);
    assert_int_equal(tt_learner_fit(l0, 4, 2, x, y, NULL, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "alpha > 0"));
    assert_int_equal(tt_learner_predict(l0, 1, 2, x, out, err, sizeof err), TT_ERR_INVALID);
    fit_ok(l, 4, 2, x, y, NULL);
    /* Constant column, alpha = 0. */
    double xc[8] = {1, 2, 3, 5, 7, 7, 7, 7};
    assert_int_equal(tt_learner_fit(l0, 4, 2, xc, y, NULL, err, sizeof err), TT_ERR_NUMERIC);
    tt_learner_destroy(l);
    tt_learner_destroy(l0);
}

/* ---- logistic --------------------------------------------------------------- */

/* Gradient of the penalised objective at beta, computed term by term. */
static double naive_logistic_grad_norm(size_t n, size_t p, const double *x, const double *y,
                                       const double *w, double alpha, const double *beta)
{
    double g[8] = {0};
    for (size_t i = 0; i < n; i++) {
        double eta = beta[0];
        for (size_t j = 0; j < p; j++)
            eta += beta[1 + j] * x[j * n + i];
        double mu = 1.0 / (1.0 + exp(-eta));
        double wi = w ? w[i] : 1.0;
        g[0] += wi * (mu - y[i]);
        for (size_t j = 0; j < p; j++)
            g[1 + j] += wi * (mu - y[i]) * x[j * n + i];
    }
    double m = 0.0;
    for (size_t j = 0; j <= p; j++) {
        if (j > 0)
            g[j] += alpha * beta[j];
        m = fmax(m, fabs(g[j]));
    }
    return m;
}

static void make_logistic_data(tt_rng *r, size_t n, size_t p, double *x, double *y, double *w)
{
    fill_normal(r, x, n * p, 1.5, 1.0);
    for (size_t i = 0; i < n; i++) {
        double eta = -0.5 + 1.2 * x[i] - 0.8 * x[n + i];
        y[i] = tt_rng_uniform(r) < 1.0 / (1.0 + exp(-eta)) ? 1.0 : 0.0;
        if (w)
            w[i] = 0.1 + 3.0 * tt_rng_uniform(r);
    }
}

static void test_logistic_stationary(void **state)
{
    (void)state;
    const size_t n = 300, p = 3;
    tt_rng r;
    tt_rng_seed(&r, 21, "logit");
    double x[300 * 3], y[300], w[300];
    make_logistic_data(&r, n, p, x, y, w);
    const double alphas[] = {0.0, 0.5, 10.0};
    for (size_t a = 0; a < 3; a++) {
        tt_learner *l = make_with_alpha("logistic", alphas[a]);
        fit_ok(l, n, p, x, y, w);
        double beta[4];
        coefficients(l, p, 1, beta);
        assert_true(naive_logistic_grad_norm(n, p, x, y, w, alphas[a], beta) < 1e-7);
        double pr[300];
        predict_ok(l, n, p, x, pr);
        for (size_t i = 0; i < n; i++)
            assert_true(pr[i] > 0.0 && pr[i] < 1.0);
        tt_learner_destroy(l);
    }
}

/* A column in dollars (401(k)'s income: values near 1e4-1e5) beside small
 * ones: rounding decides the line search's test long before the optimum's
 * gradient test is met. Unpenalised, the fit is the same model as on the
 * column in units (coefficient scaled by 1/s, same probabilities), and it
 * must stop at a stationary point, not fail or wander. */
static void test_logistic_badly_scaled(void **state)
{
    (void)state;
    const size_t n = 2000, p = 3;
    const double scale = 3e4;
    tt_rng r;
    tt_rng_seed(&r, 5, "dollars");
    double *x = malloc(sizeof *x * n * p), *xs = malloc(sizeof *xs * n * p);
    double *y = malloc(sizeof *y * n), *pa = malloc(sizeof *pa * n), *pb = malloc(sizeof *pb * n);
    assert_non_null(x && xs && y && pa && pb);
    make_logistic_data(&r, n, p, x, y, NULL);
    memcpy(xs, x, sizeof *x * n * p);
    for (size_t i = 0; i < n; i++)
        xs[n + i] = scale * (x[n + i] + 2.0); /* shifted and in dollars */
    tt_learner *a = make_with_alpha("logistic", 0.0), *b = make_with_alpha("logistic", 0.0);
    fit_ok(a, n, p, x, y, NULL);
    fit_ok(b, n, p, xs, y, NULL);
    predict_ok(a, n, p, x, pa);
    predict_ok(b, n, p, xs, pb);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(pa[i] - pb[i]) < 1e-8);
    double beta[4];
    coefficients(b, p, 1, beta);
    /* The gradient in the dollar column is s times the one in units. */
    assert_true(naive_logistic_grad_norm(n, p, xs, y, NULL, 0.0, beta) < 1e-7 * scale);
    tt_learner_destroy(a);
    tt_learner_destroy(b);
    free(x);
    free(xs);
    free(y);
    free(pa);
    free(pb);
}

static void test_logistic_separable(void **state)
{
    (void)state;
    const size_t n = 50;
    double x[50], y[50];
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i - 24.5;
        y[i] = x[i] > 0.0 ? 1.0 : 0.0;
    }
    tt_learner *l = make_with_alpha("logistic", 1.0);
    fit_ok(l, n, 1, x, y, NULL);
    double beta[2];
    coefficients(l, 1, 1, beta);
    assert_true(beta[1] > 0.0 && isfinite(beta[1]));
    assert_true(naive_logistic_grad_norm(n, 1, x, y, NULL, 1.0, beta) < 1e-7);
    tt_learner_destroy(l);

    /* Without a penalty the optimum is at infinity: a clear failure. */
    char err[256] = "";
    l = make_with_alpha("logistic", 0.0);
    assert_int_equal(tt_learner_fit(l, n, 1, x, y, NULL, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "separable"));
    tt_learner_destroy(l);
}

static void test_logistic_intercept_only(void **state)
{
    (void)state;
    double y[5] = {1, 0, 0, 1, 1}, w[5] = {1, 1, 2, 0.5, 0.5};
    tt_learner *l = make_with_alpha("logistic", 1.0);
    fit_ok(l, 5, 0, NULL, y, w);
    double out;
    predict_ok(l, 1, 0, NULL, &out);
    assert_true(fabs(out - 2.0 / 5.0) < 1e-14);
    tt_learner_destroy(l);
}

/* ---- shared behaviour ------------------------------------------------------- */

static void test_weights_equal_duplicates(void **state)
{
    (void)state;
    const size_t n = 80, p = 2;
    tt_rng r;
    tt_rng_seed(&r, 31, "dup");
    double x[80 * 2], y[80], w[80];
    make_logistic_data(&r, n, p, x, y, NULL);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = (double)(i % 3); /* 0, 1 or 2 copies */
        m += i % 3;
    }
    double *xd = malloc(m * p * sizeof *xd), *yd = malloc(m * sizeof *yd);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < i % 3; c++, k++) {
            yd[k] = y[i];
            for (size_t j = 0; j < p; j++)
                xd[j * m + k] = x[j * n + i];
        }
    const char *names[] = {"ridge", "logistic"};
    for (size_t a = 0; a < 2; a++) {
        tt_learner *lw = make_with_alpha(names[a], 0.3), *ld = make_with_alpha(names[a], 0.3);
        fit_ok(lw, n, p, x, y, w);
        fit_ok(ld, m, p, xd, yd, NULL);
        double pw[80], pd[80];
        predict_ok(lw, n, p, x, pw);
        predict_ok(ld, n, p, x, pd);
        for (size_t i = 0; i < n; i++)
            assert_true(fabs(pw[i] - pd[i]) < 1e-10);
        tt_learner_destroy(lw);
        tt_learner_destroy(ld);
    }
    free(xd);
    free(yd);
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    const size_t n = 120, p = 3;
    tt_rng r;
    tt_rng_seed(&r, 41, "save");
    double x[120 * 3], y[120], w[120];
    make_logistic_data(&r, n, p, x, y, w);
    const char *names[] = {"ridge", "logistic"};
    for (size_t a = 0; a < 2; a++) {
        tt_learner *l = make_with_alpha(names[a], 0.123456789);
        fit_ok(l, n, p, x, y, w);
        membuf mb = {0};
        tt_plugin_sink sink = {sizeof sink, &mb, mem_write};
        char err[256] = "";
        assert_int_equal(tt_learner_save(l, &sink, err, sizeof err), TT_OK);
        assert_true(mb.len > 20 && memcmp(mb.data, "tautune-learner ", 16) == 0);
        /* A trailing byte that belongs to someone else must stay unread. */
        mem_write(&mb, "X", 1);
        tt_plugin_source src = {sizeof src, &mb, mem_read};
        tt_learner *back = NULL;
        assert_int_equal(tt_learner_load(&src, &back, err, sizeof err), TT_OK);
        assert_int_equal(mb.pos, mb.len - 1);
        assert_string_equal(tt_learner_name(back), names[a]);
        double p1[120], p2[120];
        predict_ok(l, n, p, x, p1);
        predict_ok(back, n, p, x, p2);
        assert_memory_equal(p1, p2, sizeof p1);

        /* Every truncation is a parse error, never a crash or a learner. */
        size_t full = mb.len - 1;
        for (size_t cut = 0; cut < full; cut += 7) {
            mb.len = cut;
            mb.pos = 0;
            tt_learner *bad = NULL;
            assert_int_equal(tt_learner_load(&src, &bad, err, sizeof err), TT_ERR_PARSE);
            assert_null(bad);
        }
        tt_learner_destroy(l);
        tt_learner_destroy(back);
        free(mb.data);
    }
}

static void test_load_rejects_garbage(void **state)
{
    (void)state;
    const char *texts[] = {
        "hello\n",
        "tautune-learner forest 99\n",
        "tautune-learner ridge 2\n",
        "tautune-learner ridge 1\nparam alpha -1\nseed 0\np 0\nintercept 0\nend\n",
        "tautune-learner ridge 1\nparam alpha 1\nseed 0\np 0\nintercept 1,5\nend\n",
        "tautune-learner ridge 1\nparam alpha 1\nseed 0\np 1\nintercept 1\nend\n",
        "tautune-learner ridge 1\nparam alpha 1\nseed 0\np 0\nintercept nan\nend\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        membuf mb = {(char *)texts[i], strlen(texts[i]), 0, 0};
        tt_plugin_source src = {sizeof src, &mb, mem_read};
        tt_learner *l = NULL;
        char err[256] = "";
        assert_int_equal(tt_learner_load(&src, &l, err, sizeof err), TT_ERR_PARSE);
        assert_null(l);
    }
    const char *good = "tautune-learner ridge 1\nparam alpha 1\nseed 0\np 0\nintercept 2.5\nend\n";
    membuf mb = {(char *)good, strlen(good), 0, 0};
    tt_plugin_source src = {sizeof src, &mb, mem_read};
    tt_learner *l = NULL;
    assert_int_equal(tt_learner_load(&src, &l, NULL, 0), TT_OK);
    double out;
    predict_ok(l, 1, 0, NULL, &out);
    assert_true(out == 2.5);
    tt_learner_destroy(l);
}

static void test_errors(void **state)
{
    (void)state;
    char err[256] = "";
    tt_learner *l = NULL;
    assert_int_equal(tt_learner_create("no_such_learner", NULL, NULL, 0, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "ridge"));
    assert_non_null(strstr(err, "logistic"));
    assert_null(l);

    const char *bad_key[] = {"lambda"};
    double one[] = {1.0};
    assert_int_equal(tt_learner_create("ridge", bad_key, one, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "lambda"));
    assert_non_null(strstr(err, "valid keys: alpha"));

    const char *alpha[] = {"alpha"};
    double neg[] = {-1.0}, inf[] = {INFINITY};
    assert_int_equal(tt_learner_create("ridge", alpha, neg, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_int_equal(tt_learner_create("logistic", alpha, inf, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    const char *twice[] = {"alpha", "alpha"};
    double two[] = {1.0, 2.0};
    assert_int_equal(tt_learner_create("ridge", twice, two, 2, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_null(l);

    /* Defaults: no keys at all. */
    assert_int_equal(tt_learner_create("logistic", NULL, NULL, 0, 0, &l, err, sizeof err), TT_OK);
    double x[4] = {1, 2, 3, 4}, y[4] = {0, 1, 0.5, 1}, out[4];
    assert_int_equal(tt_learner_fit(l, 4, 1, x, y, NULL, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 2"));
    y[2] = 0.0;
    double w[4] = {1, 1, -1, 1};
    assert_int_equal(tt_learner_fit(l, 4, 1, x, y, w, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 2"));
    w[2] = NAN;
    assert_int_equal(tt_learner_fit(l, 4, 1, x, y, w, err, sizeof err), TT_ERR_DATA);
    double zero_w[4] = {0, 0, 0, 0};
    assert_int_equal(tt_learner_fit(l, 4, 1, x, y, zero_w, err, sizeof err), TT_ERR_DATA);
    double ones[4] = {1, 1, 1, 1};
    assert_int_equal(tt_learner_fit(l, 4, 1, x, ones, NULL, err, sizeof err), TT_ERR_DATA);
    x[1] = NAN;
    assert_int_equal(tt_learner_fit(l, 4, 1, x, y, NULL, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 1"));
    x[1] = 2.0;
    assert_int_equal(tt_learner_fit(l, 0, 1, x, y, NULL, err, sizeof err), TT_ERR_INVALID);

    membuf mb = {0};
    tt_plugin_sink sink = {sizeof sink, &mb, mem_write};
    assert_int_equal(tt_learner_save(l, &sink, err, sizeof err), TT_ERR_INVALID);

    fit_ok(l, 4, 1, x, y, NULL);
    assert_int_equal(tt_learner_predict(l, 2, 2, x, out, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "1 features"));
    assert_int_equal(tt_learner_predict(l, 0, 1, NULL, NULL, err, sizeof err), TT_OK);
    tt_learner_destroy(l);
    tt_learner_destroy(NULL);
    free(mb.data);
}

static void test_deterministic(void **state)
{
    (void)state;
    const size_t n = 200, p = 3;
    tt_rng r;
    tt_rng_seed(&r, 51, "det");
    double x[200 * 3], y[200], w[200];
    make_logistic_data(&r, n, p, x, y, w);
    const char *names[] = {"ridge", "logistic"};
    for (size_t a = 0; a < 2; a++) {
        double p1[200], p2[200];
        tt_learner *l1 = make_with_alpha(names[a], 2.0), *l2 = make_with_alpha(names[a], 2.0);
        fit_ok(l1, n, p, x, y, w);
        fit_ok(l2, n, p, x, y, w);
        fit_ok(l2, n, p, x, y, w); /* refit replaces */
        predict_ok(l1, n, p, x, p1);
        predict_ok(l2, n, p, x, p2);
        assert_memory_equal(p1, p2, sizeof p1);
        tt_learner_destroy(l1);
        tt_learner_destroy(l2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ridge_matches_normal_equations),
        cmocka_unit_test(test_ridge_exact_linear),
        cmocka_unit_test(test_ridge_intercept_only_and_singular),
        cmocka_unit_test(test_logistic_stationary),
        cmocka_unit_test(test_logistic_badly_scaled),
        cmocka_unit_test(test_logistic_separable),
        cmocka_unit_test(test_logistic_intercept_only),
        cmocka_unit_test(test_weights_equal_duplicates),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_load_rejects_garbage),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
