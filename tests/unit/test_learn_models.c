/* test_learn_models.c - lasso / elastic net, featurizers, forest and gbm
 * learners, and the parameter schema, against independent references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/learner.h"
#include "learn/tree.h"
#include "util/rng.h"

/* Fixed data and scikit-learn 1.2.1 results (Lasso / ElasticNet with
 * sample_weight, tol=1e-14), generated
 * once by a script kept out of the build: X column-major 30 x 4. */
static const double REF_X[] = {0.001, -0.45500000000000002, -0.49199999999999999, 0.105, -1.3440000000000001, -1.8420000000000001, 0.157, -0.049000000000000002, -0.97899999999999998, -0.033000000000000002, 0.11, 1.359, -0.64100000000000001, 0.074999999999999997, -0.067000000000000004, 0.20300000000000001, -0.57899999999999996, -1.3240000000000001, -0.46300000000000002, -0.32700000000000001, -0.42799999999999999, -0.19700000000000001, 1.1659999999999999, -0.34000000000000002, -1.2909999999999999, -0.30399999999999999, -0.83199999999999996, -0.17599999999999999, -1.034, 0.26000000000000001, 0.29899999999999999, -0.99199999999999999, -0.62, -0.93000000000000005, -0.45800000000000002, -0.23499999999999999, -0.187, 0.113, -0.80900000000000005, 0.88400000000000001, 0.064000000000000001, -1.5469999999999999, 2, 0.57699999999999996, 0.66700000000000004, -0.46300000000000002, -0.19600000000000001, -0.79500000000000004, -0.097000000000000003, -0.36899999999999999, -0.30399999999999999, -1.1140000000000001, 0.65300000000000002, 1.052, 0.34699999999999998, -0.90000000000000002, -0.624, -0.20599999999999999, -0.079000000000000001, -0.85799999999999998, -0.27400000000000002, 0.059999999999999998, 0.48999999999999999, -0.029000000000000001, -1.901, -1.2669999999999999, -2.5169999999999999, -1.53, 1.0609999999999999, -0.58399999999999996, -1.2250000000000001, 0.85899999999999999, 0.76200000000000001, -0.189, 1.4390000000000001, 0.127, 0.89900000000000002, 0.64700000000000002, 1.2569999999999999, -0.25, 0.35299999999999998, -0.012, -0.024, -0.0050000000000000001, -1.6879999999999999, 0.16400000000000001, 0.20499999999999999, 0.70199999999999996, 0.035000000000000003, 0.97199999999999998, -0.89100000000000001, 1.3400000000000001, 0.35699999999999998, 0.69499999999999995, -1.29, 0.27100000000000002, -0.53900000000000003, -0.47799999999999998, -0.80800000000000005, -0.112, 0.075999999999999998, 0.11899999999999999, -1.1990000000000001, 0.68300000000000005, -0.67600000000000005, -1.1870000000000001, 1.145, -1.992, 0.68899999999999995, 1.524, -0.121, -0.44400000000000001, 0.66800000000000004, 0.58299999999999996, -2.0350000000000001, 2.2450000000000001, 0.49299999999999999, 0.52000000000000002, -1.054, 0.193};
static const double REF_Y[] = {-0.63400000000000001, 1.024, 0.58999999999999997, 1.01, -2.2360000000000002, -2.492, -1.21, -0.33500000000000002, -0.40500000000000003, -1.6140000000000001, -0.753, 5.7800000000000002, -4.6669999999999998, -1.867, -0.378, 1.9890000000000001, -0.23999999999999999, -0.33900000000000002, -0.20300000000000001, -0.315, 0.621, 1.657, 0.40999999999999998, -3.012, -3.4500000000000002, 0.754, 0.68999999999999995, 0.28199999999999997, -0.90000000000000002, 2.4039999999999999};
static const double REF_W[] = {1.71, 1.51, 1.5800000000000001, 1.4399999999999999, 1.96, 1, 1.1000000000000001, 0.80000000000000004, 0.57999999999999996, 0.81999999999999995, 1.8700000000000001, 1.76, 0.67000000000000004, 1.4099999999999999, 1.22, 1.3899999999999999, 1.49, 0.95999999999999996, 1.9399999999999999, 1.2, 1.4399999999999999, 1.45, 0.78000000000000003, 0.58999999999999997, 1.1200000000000001, 1.6499999999999999, 1.72, 1.5900000000000001, 0.67000000000000004, 1.8700000000000001};
static const double REF_LASSO[] = {-0.073230371160078522, 1.3064822510769154, -1.7091127898531802, 0.4528938589816664, -0};
static const double REF_ENET[] = {-0.054906543774152404, 1.2636806149692197, -1.6152089647436774, 0.5189388441246211, -0.039350761184059835};

static const double REF_MLOGIT_Y[] = {1, 2, 1, 2, 0, 0, 0, 1, 1, 0, 1, 2, 0, 0, 1, 2, 1, 1, 1, 1, 1, 2, 1, 0, 0, 1, 1, 1, 1, 2};
static const double REF_MLOGIT_P[] = {0.29994996827731862, 0.037852025601917513, 0.046806985859873466, 0.024355299846213624, 0.73188088760103065, 0.59069737867214434, 0.62322296353109585, 0.71857003722282697, 0.46681766281483472, 0.22732846159363021, 0.10935265305053701, 0.33892501086698668, 0.23462297691729947, 0.50882703733895174, 0.040790650805339126};

#include "test_learn_util.h"

/* ---- schema ------------------------------------------------------------------ */

static void test_schema(void **state)
{
    (void)state;
    const char *want[] = {"ridge", "logistic", "lasso", "elastic_net", "forest", "gbm"};
    assert_int_equal(tt_learner_count(), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(tt_learner_name_at(i), want[i]);
        const tt_learner_param_info *pi = NULL;
        size_t np = 0;
        assert_int_equal(tt_learner_describe(want[i], &pi, &np, NULL, 0), TT_OK);
        assert_true(np >= 1);
        for (size_t j = 0; j < np; j++) {
            assert_true(pi[j].lo <= pi[j].hi);
            assert_non_null(pi[j].help);
            if (pi[j].default_value == TT_LEARNER_AUTO)
                assert_true(pi[j].auto_ok);
            else
                assert_true(pi[j].default_value >= pi[j].lo && pi[j].default_value <= pi[j].hi);
        }
        tt_learner *l = make(want[i], 0, NULL, NULL);
        assert_int_equal(tt_learner_n_outputs(l), 0);
        tt_learner_destroy(l);
    }
    assert_null(tt_learner_name_at(6));
    char err[256];
    assert_int_equal(tt_learner_describe("nope", NULL, NULL, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "gbm"));
    /* Kinds are enforced: whole numbers, booleans, auto only where allowed. */
    tt_learner *l = NULL;
    const char *k1[] = {"n_trees"}, *k2[] = {"honesty"}, *k3[] = {"alpha"};
    double half[] = {2.5}, two[] = {2.0}, aut[] = {TT_LEARNER_AUTO};
    assert_int_equal(tt_learner_create("forest", k1, half, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_int_equal(tt_learner_create("forest", k2, two, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_int_equal(tt_learner_create("ridge", k3, aut, 1, 0, &l, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_int_equal(tt_learner_create("lasso", k3, aut, 1, 0, &l, err, sizeof err), TT_OK);
    assert_true(tt_learner_param(l, "alpha") == TT_LEARNER_AUTO);
    assert_true(isnan(tt_learner_param(l, "nope")));
    tt_learner_destroy(l);
}

/* ---- lasso / elastic net ----------------------------------------------------- */

static void test_lasso_matches_sklearn(void **state)
{
    (void)state;
    const size_t n = 30, p = 4;
    const char *keys[] = {"alpha", "tol", "l1_ratio"};
    double b[5];
    double lv[] = {0.1, 1e-14};
    tt_learner *l = make("lasso", 2, keys, lv);
    fit_ok(l, n, p, REF_X, REF_Y, REF_W);
    coefs_of(l, p, b);
    for (size_t j = 0; j < 5; j++)
        assert_rel(b[j], REF_LASSO[j], 1e-6);
    roundtrip(l, n, p, REF_X);
    tt_learner_destroy(l);

    double ev[] = {0.1, 1e-14, 0.3};
    l = make("elastic_net", 3, keys, ev);
    fit_ok(l, n, p, REF_X, REF_Y, REF_W);
    coefs_of(l, p, b);
    for (size_t j = 0; j < 5; j++)
        assert_rel(b[j], REF_ENET[j], 1e-6);
    tt_learner_destroy(l);
}

/* alpha auto walks the path alpha by alpha over all folds at once (each fold
 * warm-started) and stops once 10 alphas in a row fail to beat the best
 * cross-validated error. Brute force: the same folds (the learner's seeded
 * shuffle, dealt round-robin), a cold fit at every alpha of the full grid
 * on each fold's training rows, the held-out MSE averaged: its argmin over
 * all 100 alphas is the alpha auto chose. (On this U-shaped curve any
 * patience finds the minimum; the test guards the path's arithmetic, the
 * patience is a heuristic stated in lasso.c.) */
static void test_lasso_auto_path_stop_matches_brute_force(void **state)
{
    (void)state;
    enum { N = 150, P = 40, FOLDS = 5, NA = 100 };
    static double x[N * P], y[N], xt[N * P], yt[N], xh[N * P], yh[N];
    tt_rng r;
    tt_rng_seed(&r, 9, "lasso-path");
    for (size_t i = 0; i < N * P; i++)
        x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < N; i++)
        y[i] = 1.5 * x[i] - x[N + i] + 0.5 * x[2 * N + i] + 2.0 * tt_rng_normal(&r);
    tt_learner *l = NULL;
    char err[256];
    assert_int_equal(tt_learner_create("lasso", NULL, NULL, 0, 3, &l, err, sizeof err), TT_OK);
    fit_ok(l, N, P, x, y, NULL);
    const double chosen = tt_learner_param(l, "alpha");
    tt_learner_destroy(l);

    /* The grid: alpha_max = max |x_j'(y - ybar)| / n over centred x, down to 1e-3 of it. */
    double amax = 0, ybar = 0;
    for (size_t i = 0; i < N; i++)
        ybar += y[i] / N;
    for (size_t j = 0; j < P; j++) {
        double xbar = 0, c = 0;
        for (size_t i = 0; i < N; i++)
            xbar += x[j * N + i] / N;
        for (size_t i = 0; i < N; i++)
            c += (x[j * N + i] - xbar) * (y[i] - ybar) / N;
        amax = fmax(amax, fabs(c));
    }
    size_t perm[N];
    tt_rng_seed(&r, 3, "lasso-cv-folds");
    for (size_t i = 0; i < N; i++)
        perm[i] = i;
    tt_rng_shuffle_size(&r, perm, N);
    int fold[N];
    for (size_t k = 0; k < N; k++)
        fold[perm[k]] = (int)(k % FOLDS);
    double best_mse = INFINITY, best_alpha = 0;
    for (int a = 0; a < NA; a++) {
        double alpha = amax * pow(1e-3, (double)a / (NA - 1)), mse = 0;
        for (int k = 0; k < FOLDS; k++) {
            size_t nt = 0, nh = 0;
            for (size_t i = 0; i < N; i++) {
                if (fold[i] == k)
                    nh++;
                else
                    nt++;
            }
            for (size_t i = 0, it = 0, ih = 0; i < N; i++) {
                if (fold[i] == k) {
                    for (size_t j = 0; j < P; j++)
                        xh[j * nh + ih] = x[j * N + i];
                    yh[ih++] = y[i];
                } else {
                    for (size_t j = 0; j < P; j++)
                        xt[j * nt + it] = x[j * N + i];
                    yt[it++] = y[i];
                }
            }
            const char *keys[] = {"alpha", "tol"};
            double v[] = {alpha, 1e-13};
            tt_learner *f = make("lasso", 2, keys, v);
            fit_ok(f, nt, P, xt, yt, NULL);
            double pred[N];
            predict_ok(f, nh, P, xh, pred);
            for (size_t i = 0; i < nh; i++)
                mse += (yh[i] - pred[i]) * (yh[i] - pred[i]) / (double)nh / FOLDS;
            tt_learner_destroy(f);
        }
        if (mse < best_mse) {
            best_mse = mse;
            best_alpha = alpha;
        }
    }
    assert_true(fabs(chosen - best_alpha) <= 1e-9 * best_alpha);
}

/* poly2 drops the columns real data repeat: with b in {0, 1}, b^2 is b.
 * The fit must be that of the design [b, c, bc, c^2] (b^2 weighted 0), which
 * shows at b = 2, where b^2 and b part: a fit that split b's weight between
 * the twins would predict differently there. */
static void test_poly2_drops_repeated_columns(void **state)
{
    (void)state;
    enum { N = 200 };
    static double x[2 * N], y[N], z[4 * N];
    tt_rng r;
    tt_rng_seed(&r, 4, "poly2-screen");
    for (size_t i = 0; i < N; i++) {
        double b = tt_rng_uniform(&r) < 0.4, c = tt_rng_normal(&r);
        x[i] = b;
        x[N + i] = c;
        y[i] = 1 + 2 * b - c + 0.5 * b * c + 0.3 * c * c + 0.1 * tt_rng_normal(&r);
        z[i] = b;
        z[N + i] = c;
        z[2 * N + i] = b * c;
        z[3 * N + i] = c * c;
    }
    const char *keys[] = {"alpha", "poly2"};
    double v[] = {1e-8, 1}, vz[] = {1e-8, 0};
    tt_learner *l = make("ridge", 2, keys, v), *m = make("ridge", 2, keys, vz);
    fit_ok(l, N, 2, x, y, NULL);
    fit_ok(m, N, 4, z, y, NULL);
    double at[2] = {2.0, 0.7}, atz[4] = {2.0, 0.7, 1.4, 0.49}, pl, pm;
    predict_ok(l, 1, 2, at, &pl);
    predict_ok(m, 1, 4, atz, &pm);
    assert_true(fabs(pl - pm) < 1e-6);
    roundtrip(l, N, 2, x);
    tt_learner_destroy(l);
    tt_learner_destroy(m);
}

/* With alpha auto the chosen alpha lies on the path and the coefficients
 * satisfy the lasso's optimality (KKT) conditions at it, checked from the
 * raw data: |x_j'(y - b0 - Xb)| / n <= alpha, with equality and matching
 * sign where b_j != 0. */
static void test_lasso_auto_kkt(void **state)
{
    (void)state;
    enum { N = 400, P = 6 };
    static double x[N * P], y[N];
    tt_rng r;
    tt_rng_seed(&r, 5, "lasso-auto");
    for (size_t i = 0; i < N * P; i++)
        x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < N; i++)
        y[i] = 2.0 * x[i] - x[N + i] + 0.1 * x[2 * N + i] + tt_rng_normal(&r);
    tt_learner *l = make("lasso", 0, NULL, NULL);
    fit_ok(l, N, P, x, y, NULL);
    const double alpha = tt_learner_param(l, "alpha");
    assert_true(alpha > 0.0 && alpha < 2.5);
    double b[1 + P], res[N];
    coefs_of(l, P, b);
    for (size_t i = 0; i < N; i++) {
        res[i] = y[i] - b[0];
        for (size_t j = 0; j < P; j++)
            res[i] -= x[j * N + i] * b[1 + j];
    }
    double sum_res = 0.0;
    for (size_t i = 0; i < N; i++)
        sum_res += res[i];
    assert_true(fabs(sum_res) / N < 1e-9);
    for (size_t j = 0; j < P; j++) {
        double c = 0.0;
        for (size_t i = 0; i < N; i++)
            c += x[j * N + i] * res[i] / N;
        if (b[1 + j] != 0.0)
            assert_rel(c, alpha * (b[1 + j] > 0 ? 1.0 : -1.0), 1e-6);
        else
            assert_true(fabs(c) <= alpha * (1.0 + 1e-6));
    }
    /* The strong signals survive, and refitting gives the same alpha. */
    assert_true(b[1] > 1.5 && b[2] < -0.5);
    fit_ok(l, N, P, x, y, NULL);
    assert_true(tt_learner_param(l, "alpha") == alpha);
    tt_learner_destroy(l);
}

/* ---- multinomial logistic ------------------------------------------------ */

/* Labels 0..2 take the softmax path: n x 3 probabilities equal scikit-learn's
 * (C = 1 <=> alpha = 1); binary labels keep one output. */
static void test_logistic_multinomial(void **state)
{
    (void)state;
    const size_t n = 30, p = 4;
    const char *keys[] = {"alpha"};
    double one[] = {1.0};
    tt_learner *l = make("logistic", 1, keys, one);
    fit_ok(l, n, p, REF_X, REF_MLOGIT_Y, NULL);
    assert_int_equal(tt_learner_n_outputs(l), 3);
    double pr[30 * 3];
    predict_ok(l, n, p, REF_X, pr);
    for (size_t c = 0; c < 3; c++)
        for (size_t i = 0; i < 5; i++)
            assert_rel(pr[c * n + i], REF_MLOGIT_P[c * 5 + i], 1e-6);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(pr[i] + pr[n + i] + pr[2 * n + i] - 1.0) < 1e-12);
    roundtrip(l, n, p, REF_X);
    /* Binary labels keep the single P(y = 1) output. */
    double y2[30];
    for (size_t i = 0; i < n; i++)
        y2[i] = REF_MLOGIT_Y[i] == 2.0;
    fit_ok(l, n, p, REF_X, y2, NULL);
    assert_int_equal(tt_learner_n_outputs(l), 1);
    tt_learner_destroy(l);
    const char *fk[] = {"poly2", "standardize"};
    double fv[] = {1, 1};
    l = make("logistic", 2, fk, fv);
    fit_ok(l, n, p, REF_X, REF_MLOGIT_Y, NULL); /* featurizers on the softmax path */
    predict_ok(l, n, p, REF_X, pr);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(pr[i] + pr[n + i] + pr[2 * n + i] - 1.0) < 1e-12);
    roundtrip(l, n, p, REF_X);
    tt_learner_destroy(l);
}

/* Labels independent of x (a randomized 3-arm assignment): the optimum has
 * slopes near 0, where rounding in the objective used to shorten Newton
 * steps until the iteration limit. The fit must succeed and give the class
 * shares. */
static void test_logistic_multinomial_flat(void **state)
{
    (void)state;
    const size_t n = 1600, p = 4; /* seeds 14 and 25 stalled before the fix */
    double *x = malloc(sizeof *x * n * p), *y = malloc(sizeof *y * n), *pr = malloc(sizeof *pr * n * 3);
    const char *keys[] = {"alpha"};
    double one[] = {1.0};
    for (uint64_t seed = 1; seed <= 30; seed++) {
        tt_rng rng;
        tt_rng_seed(&rng, seed, "flat");
        double share[3] = {0, 0, 0};
        for (size_t i = 0; i < n * p; i++)
            x[i] = tt_rng_normal(&rng);
        for (size_t i = 0; i < n; i++) {
            y[i] = (double)tt_rng_below(&rng, 3);
            share[(size_t)y[i]] += 1.0 / (double)n;
        }
        tt_learner *l = make("logistic", 1, keys, one);
        fit_ok(l, n, p, x, y, NULL);
        predict_ok(l, n, p, x, pr);
        for (size_t c = 0; c < 3; c++) {
            double mean = 0;
            for (size_t i = 0; i < n; i++)
                mean += pr[c * n + i] / (double)n;
            assert_true(fabs(mean - share[c]) < 1e-6); /* the intercepts match the shares */
        }
        tt_learner_destroy(l);
    }
    free(x);
    free(y);
    free(pr);
}

/* ---- featurizers ------------------------------------------------------------- */

static void test_featurizers(void **state)
{
    (void)state;
    enum { N = 50, P = 3 };
    double x[N * P], y[N], pred[N], pred2[N];
    tt_rng r;
    tt_rng_seed(&r, 9, "feat");
    for (size_t i = 0; i < N * P; i++)
        x[i] = tt_rng_normal(&r) * 3.0 + 1.0;
    for (size_t i = 0; i < N; i++)
        y[i] = 1.0 + x[i] * x[N + i] - 0.5 * x[2 * N + i] * x[2 * N + i];
    /* poly2: the quadratic is inside the model, so OLS fits it exactly. */
    const char *keys[] = {"alpha", "poly2", "standardize"};
    double v1[] = {0.0, 1.0, 0.0};
    tt_learner *l = make("ridge", 2, keys, v1);
    fit_ok(l, N, P, x, y, NULL);
    predict_ok(l, N, P, x, pred);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(pred[i] - y[i]) < 1e-8 * (1.0 + fabs(y[i])));
    roundtrip(l, N, P, x);
    tt_learner_destroy(l);
    /* Unpenalised least squares does not depend on the feature scale. */
    double v2[] = {0.0, 0.0, 1.0};
    l = make("ridge", 3, keys, v2);
    fit_ok(l, N, P, x, y, NULL);
    predict_ok(l, N, P, x, pred);
    tt_learner_destroy(l);
    double v3[] = {0.0, 0.0, 0.0};
    l = make("ridge", 3, keys, v3);
    fit_ok(l, N, P, x, y, NULL);
    predict_ok(l, N, P, x, pred2);
    tt_learner_destroy(l);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(pred[i] - pred2[i]) < 1e-9 * (1.0 + fabs(pred2[i])));
}

/* logistic's "standardize" scales inside the fit (no scaled copy of x):
 * the same model as fitting explicitly standardised columns, with and
 * without weights, with a column in dollars and a constant one. */
static void test_logistic_standardize_in_place(void **state)
{
    (void)state;
    enum { N = 400, P = 4 };
    double *x = malloc(sizeof *x * N * P), *z = malloc(sizeof *z * N * P);
    double y[N], w[N], pa[N], pb[N];
    tt_rng r;
    tt_rng_seed(&r, 5, "std");
    for (size_t i = 0; i < N; i++) {
        x[i] = tt_rng_normal(&r);
        x[N + i] = 30000.0 + 20000.0 * tt_rng_normal(&r); /* dollars */
        x[2 * N + i] = tt_rng_uniform(&r) < 0.3;
        x[3 * N + i] = 7.0; /* constant: scale 1 */
        double eta = 0.8 * x[i] + (x[N + i] - 30000.0) / 20000.0 - x[2 * N + i];
        y[i] = tt_rng_uniform(&r) < 1.0 / (1.0 + exp(-eta));
        w[i] = 0.5 + tt_rng_uniform(&r);
    }
    for (int weighted = 0; weighted <= 1; weighted++) {
        const double *wt = weighted ? w : NULL;
        double sw = 0;
        for (size_t i = 0; i < N; i++)
            sw += wt ? wt[i] : 1.0;
        for (size_t j = 0; j < P; j++) { /* weighted moments, as the learner's */
            double m = 0, ss = 0;
            for (size_t i = 0; i < N; i++)
                m += (wt ? wt[i] : 1.0) * x[j * N + i] / sw;
            for (size_t i = 0; i < N; i++)
                ss += (wt ? wt[i] : 1.0) * (x[j * N + i] - m) * (x[j * N + i] - m);
            double sd = sqrt(ss / sw) > 1e-12 * fabs(m) ? sqrt(ss / sw) : 1.0;
            for (size_t i = 0; i < N; i++)
                z[j * N + i] = (x[j * N + i] - m) / sd;
        }
        const char *keys[] = {"alpha", "standardize"};
        double in_place[] = {3.0, 1.0}, plain[] = {3.0, 0.0};
        tt_learner *a = make("logistic", 2, keys, in_place);
        tt_learner *b = make("logistic", 2, keys, plain);
        fit_ok(a, N, P, x, y, wt);
        fit_ok(b, N, P, z, y, wt);
        predict_ok(a, N, P, x, pa);
        predict_ok(b, N, P, z, pb);
        for (size_t i = 0; i < N; i++)
            assert_true(fabs(pa[i] - pb[i]) < 1e-9);
        roundtrip(a, N, P, x);
        tt_learner_destroy(a);
        tt_learner_destroy(b);
    }
    free(x);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_lasso_matches_sklearn),
        cmocka_unit_test(test_lasso_auto_kkt),
        cmocka_unit_test(test_lasso_auto_path_stop_matches_brute_force),
        cmocka_unit_test(test_poly2_drops_repeated_columns),
        cmocka_unit_test(test_logistic_multinomial),
        cmocka_unit_test(test_logistic_multinomial_flat),
        cmocka_unit_test(test_featurizers),
        cmocka_unit_test(test_logistic_standardize_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
