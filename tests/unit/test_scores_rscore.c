/* test_scores_rscore.c - validation-cross-fitted nuisances, r_score and dr_mse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/propensity.h"
#include "score/rscore.h"
#include "score/score_nuisance.h"
#include "util/rng.h"

/* Simulated confounded data: x (3 columns), w (1), e = logistic(0.6 x1 + 0.6 w),
 * tau(x) = 1 + x2 (per arm k: k * tau), y = x1 + w + tau_T + N(0, 1). */
typedef struct sim {
    size_t n;
    int K;
    double *x, *w, *y, *tau;
    int *t;
    tt_plugin_data v;
} sim;

static sim simulate(size_t n, int K, uint64_t seed)
{
    sim s = {n, K, malloc(3 * n * sizeof(double)), malloc(n * sizeof(double)),
             malloc(n * sizeof(double)), malloc(n * (size_t)(K - 1) * sizeof(double)),
             malloc(n * sizeof(int)), {0}};
    tt_rng r;
    tt_rng_seed(&r, seed, "sim");
    for (size_t i = 0; i < 3 * n; i++)
        s.x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        s.w[i] = tt_rng_normal(&r);
        const double lin = 0.6 * s.x[i] + 0.6 * s.w[i];
        if (K == 2) {
            s.t[i] = tt_rng_uniform(&r) < 1.0 / (1.0 + exp(-lin));
        } else {
            s.t[i] = (int)tt_rng_below(&r, (uint64_t)K);
            if (tt_rng_uniform(&r) < 0.3 && lin > 0)
                s.t[i] = K - 1;
        }
        for (int k = 1; k < K; k++)
            s.tau[(size_t)(k - 1) * n + i] = k * (1.0 + s.x[n + i]);
        s.y[i] = s.x[i] + s.w[i] + tt_rng_normal(&r) +
                 (s.t[i] ? s.tau[(size_t)(s.t[i] - 1) * n + i] : 0.0);
    }
    s.v = (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = n, .p_x = 3, .p_w = 1,
                           .x = s.x, .w = s.w, .t = s.t, .y = s.y, .n_arms = K};
    return s;
}

static void drop(sim *s)
{
    free(s->x), free(s->w), free(s->y), free(s->tau), free(s->t);
}

static void test_true_tau_scores_best(void **state)
{
    (void)state;
    for (int K = 2; K <= 3; K++) {
        sim s = simulate(3000, K, 1 + (uint64_t)K);
        tt_score_nuisance nu;
        char err[256] = "";
        assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 42, 1.0, 1.0, 0, &nu, err, sizeof err),
                         TT_OK);
        const size_t m = s.n * (size_t)(K - 1);
        double *wrong = malloc(m * sizeof *wrong), *flat = malloc(m * sizeof *flat);
        for (size_t i = 0; i < m; i++) {
            wrong[i] = -s.tau[i];
            flat[i] = (double)(i / s.n + 1); /* the right ATE, no heterogeneity */
        }
        const double r_true = tt_r_score(&nu, s.t, s.y, s.tau);
        assert_true(r_true > 0.0);
        assert_true(r_true > tt_r_score(&nu, s.t, s.y, wrong));
        assert_true(r_true > tt_r_score(&nu, s.t, s.y, flat));
        const double d_true = tt_dr_mse(&nu, s.t, s.y, s.tau, 0.05);
        assert_true(d_true < tt_dr_mse(&nu, s.t, s.y, wrong, 0.05));
        assert_true(d_true < tt_dr_mse(&nu, s.t, s.y, flat, 0.05));
        free(wrong), free(flat);
        tt_score_nuisance_free(&nu);
        drop(&s);
    }
}

/* Both scores from given nuisances, straight from the definitions. */
static void test_scores_vs_naive(void **state)
{
    (void)state;
    const size_t n = 200;
    tt_rng r;
    tt_rng_seed(&r, 5, "naive");
    for (int K = 2; K <= 3; K++) {
        tt_score_nuisance nu = {.n = n, .n_arms = K, .folds = 2,
                                .m_hat = malloc(n * sizeof(double)),
                                .e_hat = malloc(n * (size_t)K * sizeof(double)),
                                .mu_hat = malloc(n * (size_t)K * sizeof(double))};
        int *t = malloc(n * sizeof *t);
        double *y = malloc(n * sizeof *y), *tau = malloc(n * (size_t)(K - 1) * sizeof *tau);
        for (size_t i = 0; i < n; i++) {
            t[i] = (int)tt_rng_below(&r, (uint64_t)K);
            y[i] = tt_rng_normal(&r);
            nu.m_hat[i] = 0.3 * tt_rng_normal(&r);
            double s = 0;
            for (int k = 0; k < K; k++) {
                s += (nu.e_hat[(size_t)k * n + i] = 0.01 + tt_rng_uniform(&r));
                nu.mu_hat[(size_t)k * n + i] = tt_rng_normal(&r);
            }
            for (int k = 0; k < K; k++)
                nu.e_hat[(size_t)k * n + i] /= s;
        }
        for (size_t i = 0; i < n * (size_t)(K - 1); i++)
            tau[i] = tt_rng_normal(&r);
        /* r_score: residuals, the best constant by normal equations (2x2 by
         * Cramer's rule for K = 3), then the two losses. */
        double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
        for (size_t i = 0; i < n; i++) {
            const double yr = y[i] - nu.m_hat[i];
            const double r1 = (t[i] == 1) - nu.e_hat[n + i];
            const double r2 = K == 3 ? (t[i] == 2) - nu.e_hat[2 * n + i] : 0.0;
            a11 += r1 * r1, a12 += r1 * r2, a22 += r2 * r2, b1 += r1 * yr, b2 += r2 * yr;
        }
        double c1, c2 = 0;
        if (K == 2) {
            c1 = b1 / a11;
        } else {
            const double det = a11 * a22 - a12 * a12;
            c1 = (b1 * a22 - a12 * b2) / det;
            c2 = (a11 * b2 - a12 * b1) / det;
        }
        double l_tau = 0, l_bar = 0;
        for (size_t i = 0; i < n; i++) {
            const double yr = y[i] - nu.m_hat[i];
            const double r1 = (t[i] == 1) - nu.e_hat[n + i];
            const double r2 = K == 3 ? (t[i] == 2) - nu.e_hat[2 * n + i] : 0.0;
            const double f = tau[i] * r1 + (K == 3 ? tau[n + i] * r2 : 0.0);
            l_tau += (yr - f) * (yr - f);
            l_bar += (yr - c1 * r1 - c2 * r2) * (yr - c1 * r1 - c2 * r2);
        }
        assert_float_equal(tt_r_score(&nu, t, y, tau), 1.0 - l_tau / l_bar, 1e-12);
        /* dr_mse with clipped propensities, arm-size weights. */
        double n0 = 0, total = 0;
        for (size_t i = 0; i < n; i++)
            n0 += t[i] == 0;
        for (int k = 1; k < K; k++) {
            double s = 0, nk = 0;
            for (size_t i = 0; i < n; i++) {
                const double ek = fmin(fmax(nu.e_hat[(size_t)k * n + i], 0.1), 0.9);
                const double e0 = fmin(fmax(nu.e_hat[i], 0.1), 0.9);
                const double mk = nu.mu_hat[(size_t)k * n + i], m0 = nu.mu_hat[i];
                const double g = mk - m0 + (t[i] == k) * (y[i] - mk) / ek -
                                 (t[i] == 0) * (y[i] - m0) / e0;
                s += pow(g - tau[(size_t)(k - 1) * n + i], 2);
                nk += t[i] == k;
            }
            total += nk / (n - n0) * s / n;
        }
        assert_float_equal(tt_dr_mse(&nu, t, y, tau, 0.1), total, 1e-10);
        free(t), free(y), free(tau);
        tt_score_nuisance_free(&nu);
    }
}

/* Instrumented cross-fitting: moving the outcomes of fold-f rows by a lot
 * must not move any fold-f prediction (their models never saw them), and
 * the propensity of fold-f rows must equal a model refitted here on the
 * other folds. Folds are stratified by arm. */
static void test_cross_fitting_never_sees_the_row(void **state)
{
    (void)state;
    sim s = simulate(600, 3, 9);
    tt_score_nuisance a, b;
    assert_int_equal(tt_score_nuisance_fit(&s.v, 4, 7, 1.0, 1.0, 0, &a, NULL, 0), TT_OK);
    for (int k = 0; k < 3; k++) {
        size_t per[4] = {0};
        for (size_t i = 0; i < s.n; i++)
            if (s.t[i] == k)
                per[a.fold[i]]++;
        for (int f = 1; f < 4; f++)
            assert_true(per[f] + 1 >= per[0] && per[f] <= per[0] + 1);
    }
    for (int f = 0; f < 4; f++) {
        double *y2 = malloc(s.n * sizeof *y2);
        for (size_t i = 0; i < s.n; i++)
            y2[i] = s.y[i] + (a.fold[i] == f ? 1000.0 * (1 + (double)(i % 5)) : 0.0);
        tt_plugin_data v2 = s.v;
        v2.y = y2;
        assert_int_equal(tt_score_nuisance_fit(&v2, 4, 7, 1.0, 1.0, 0, &b, NULL, 0), TT_OK);
        assert_memory_equal(a.fold, b.fold, s.n * sizeof *a.fold);
        for (size_t i = 0; i < s.n; i++) {
            if (a.fold[i] != f)
                continue;
            assert_true(a.m_hat[i] == b.m_hat[i]);
            for (int k = 0; k < 3; k++)
                assert_true(a.mu_hat[(size_t)k * s.n + i] == b.mu_hat[(size_t)k * s.n + i]);
        }
        tt_score_nuisance_free(&b);
        free(y2);

        /* Propensity of fold f, refitted on the other folds by hand. */
        size_t n_tr = 0, n_te = 0;
        for (size_t i = 0; i < s.n; i++)
            n_tr += a.fold[i] != f;
        n_te = s.n - n_tr;
        double *xtr = malloc(3 * n_tr * sizeof *xtr), *wtr = malloc(n_tr * sizeof *wtr);
        double *xte = malloc(3 * n_te * sizeof *xte), *wte = malloc(n_te * sizeof *wte);
        int *ttr = malloc(n_tr * sizeof *ttr);
        size_t *rows = malloc(n_te * sizeof *rows), r1 = 0, r2 = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (a.fold[i] != f) {
                for (int j = 0; j < 3; j++)
                    xtr[(size_t)j * n_tr + r1] = s.x[(size_t)j * s.n + i];
                wtr[r1] = s.w[i], ttr[r1++] = s.t[i];
            } else {
                for (int j = 0; j < 3; j++)
                    xte[(size_t)j * n_te + r2] = s.x[(size_t)j * s.n + i];
                wte[r2] = s.w[i], rows[r2++] = i;
            }
        }
        tt_plugin_data tr = s.v, te = s.v;
        tr.n = n_tr, tr.x = xtr, tr.w = wtr, tr.t = ttr, tr.y = NULL;
        te.n = n_te, te.x = xte, te.w = wte, te.t = NULL, te.y = NULL;
        double *pr = malloc(3 * n_te * sizeof *pr);
        assert_int_equal(tt_scoring_propensity(&tr, &te, 1.0, 7 + (uint64_t)f, pr, NULL, 0),
                         TT_OK);
        for (size_t r = 0; r < n_te; r++)
            for (int k = 0; k < 3; k++)
                assert_float_equal(pr[(size_t)k * n_te + r], a.e_hat[(size_t)k * s.n + rows[r]],
                                   1e-12);
        free(xtr), free(wtr), free(xte), free(wte), free(ttr), free(rows), free(pr);
    }
    tt_score_nuisance_free(&a);
    drop(&s);
}

static double sq_error(size_t n, const double *a, const double *y)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - y[i]) * (a[i] - y[i]);
    return s / (double)n;
}

/* A curved outcome (y gains 2 x1^2 + x2 x3): with curved candidates the
 * outcome models pick a squares-and-products ridge, whose out-of-fold error
 * is far below the linear ridge's (which leaves var(2 x1^2 + x2 x3) = 9 of
 * the signal); the propensity is the same either way. */
static void test_curved_outcome_models(void **state)
{
    (void)state;
    sim s = simulate(1500, 2, 9);
    for (size_t i = 0; i < s.n; i++)
        s.y[i] += 2.0 * s.x[i] * s.x[i] + s.x[s.n + i] * s.x[2 * s.n + i];
    tt_score_nuisance lin, cur;
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 3, 1.0, 1.0, 0, &lin, NULL, 0), TT_OK);
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 3, 1.0, 1.0, 1, &cur, NULL, 0), TT_OK);
    assert_int_equal(lin.m_model, 0);
    assert_true(cur.m_model >= 1);
    assert_string_equal(tt_score_nuisance_model_name(0), "linear ridge");
    const double e_lin = sq_error(s.n, lin.m_hat, s.y), e_cur = sq_error(s.n, cur.m_hat, s.y);
    assert_true(e_lin > 5.0);
    assert_true(e_cur < 0.4 * e_lin);
    for (int k = 0; k < 2; k++)
        assert_true(cur.mu_model[k] >= 1);
    assert_memory_equal(lin.e_hat, cur.e_hat, 2 * s.n * sizeof *lin.e_hat);
    tt_score_nuisance_free(&lin);
    tt_score_nuisance_free(&cur);
    drop(&s);
}

static void test_deterministic_under_seed(void **state)
{
    (void)state;
    sim s = simulate(400, 2, 3);
    tt_score_nuisance a, b, c;
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 11, 1.0, 1.0, 0, &a, NULL, 0), TT_OK);
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 11, 1.0, 1.0, 0, &b, NULL, 0), TT_OK);
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 12, 1.0, 1.0, 0, &c, NULL, 0), TT_OK);
    assert_memory_equal(a.fold, b.fold, s.n * sizeof *a.fold);
    assert_memory_equal(a.m_hat, b.m_hat, s.n * sizeof *a.m_hat);
    assert_memory_equal(a.e_hat, b.e_hat, 2 * s.n * sizeof *a.e_hat);
    assert_memory_equal(a.mu_hat, b.mu_hat, 2 * s.n * sizeof *a.mu_hat);
    assert_true(memcmp(a.fold, c.fold, s.n * sizeof *a.fold) != 0);
    tt_score_nuisance_free(&a);
    tt_score_nuisance_free(&b);
    tt_score_nuisance_free(&c);
    /* Too few rows of an arm for the folds: a data error naming the arm. */
    char err[256] = "";
    s.v.n = 6;
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 11, 1.0, 1.0, 0, &a, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "arm"));
    drop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_tau_scores_best),
        cmocka_unit_test(test_scores_vs_naive),
        cmocka_unit_test(test_cross_fitting_never_sees_the_row),
        cmocka_unit_test(test_deterministic_under_seed),
        cmocka_unit_test(test_curved_outcome_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
