/* test_learn_trees.c - the random forest learner (over the grf engine,
 * whose own tests are test_grf.c) and gradient boosting: accuracy against a
 * constant model on a known nonlinear function, determinism (seed, thread
 * count), save/load, the forest's tree-shape parameters, out-of-bag rows. */
#include <stdio.h>

#include "test_learn_util.h"

enum { N = 800, NT = 400, P = 5 };

static double x[N * P], y[N], tx[NT * P], ty[NT];

static int setup(void **state)
{
    (void)state;
    nonlinear(1, N, P, x, y, 0.3);
    nonlinear(2, NT, P, tx, ty, 0.3);
    return 0;
}

/* Labels from the same inputs: two or three classes by thresholds of f(x). */
static void labels(size_t n, const double *xs, int k, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double f = xs[i] - xs[n + i];
        out[i] = k == 2 ? (f > 0.0) : (f < -0.7 ? 0.0 : (f < 0.7 ? 1.0 : 2.0));
    }
}

static void test_forest_regression(void **state)
{
    (void)state;
    const char *keys[] = {"n_trees", "threads", "oob", "min_leaf"};
    double v1[] = {60, 1, 1, 3}, v2[] = {60, 2, 1, 3};
    tt_learner *a = make("forest", 4, keys, v1), *b = make("forest", 4, keys, v2);
    fit_ok(a, N, P, x, y, NULL);
    fit_ok(b, N, P, x, y, NULL);
    assert_int_equal(tt_learner_n_outputs(a), 1);
    double pa[NT], pb[NT];
    predict_ok(a, NT, P, tx, pa);
    predict_ok(b, NT, P, tx, pb);
    /* Per-tree random streams: the same forest for any thread count. */
    assert_memory_equal(pa, pb, sizeof pa);
    const double constant = variance(NT, ty), err_forest = mse(NT, pa, ty);
    assert_true(err_forest < 0.35 * constant);
    /* Out-of-bag predictions: honest, so worse than in-sample but far better
     * than a constant. */
    double oob[N], ins[N];
    char err[256];
    assert_int_equal(tt_learner_oob_predict(a, N, oob, err, sizeof err), TT_OK);
    predict_ok(a, N, P, x, ins);
    size_t missing = 0;
    for (size_t i = 0; i < N; i++)
        missing += isnan(oob[i]);
    assert_true(missing < 5);
    double so = 0.0, si = 0.0;
    for (size_t i = 0; i < N; i++)
        if (!isnan(oob[i])) {
            so += (oob[i] - y[i]) * (oob[i] - y[i]);
            si += (ins[i] - y[i]) * (ins[i] - y[i]);
        }
    assert_true(si < so && so / N < 0.5 * variance(N, y));
    assert_int_equal(tt_learner_oob_predict(a, N + 1, oob, err, sizeof err), TT_ERR_INVALID);
    roundtrip(a, NT, P, tx);
    tt_learner_destroy(a);
    tt_learner_destroy(b);

    /* Another seed gives another forest. */
    tt_learner *c = NULL;
    assert_int_equal(tt_learner_create("forest", keys, v1, 4, 12, &c, err, sizeof err), TT_OK);
    fit_ok(c, N, P, x, y, NULL);
    double pc[NT];
    predict_ok(c, NT, P, tx, pc);
    assert_true(memcmp(pa, pc, sizeof pa) != 0);
    assert_int_equal(tt_learner_oob_predict(c, N, oob, err, sizeof err), TT_OK);
    tt_learner_destroy(c);
}

static void test_forest_classification(void **state)
{
    (void)state;
    double yc[N], tyc[NT];
    for (int k = 2; k <= 3; k++) {
        labels(N, x, k, yc);
        labels(NT, tx, k, tyc);
        const char *keys[] = {"n_trees", "classify", "honesty", "bootstrap", "sample_fraction"};
        double v[] = {50, 1, 1, 0, 0.5};
        tt_learner *l = make("forest", 5, keys, v);
        fit_ok(l, N, P, x, yc, NULL);
        size_t w = k == 2 ? 1 : 3;
        assert_int_equal(tt_learner_n_outputs(l), w);
        double pr[NT * 3];
        predict_ok(l, NT, P, tx, pr);
        size_t correct = 0;
        for (size_t i = 0; i < NT; i++) {
            if (k == 2) {
                assert_true(pr[i] >= 0.0 && pr[i] <= 1.0);
                correct += (pr[i] > 0.5) == (tyc[i] == 1.0);
            } else {
                double s = pr[i] + pr[NT + i] + pr[2 * NT + i];
                assert_true(fabs(s - 1.0) < 1e-12);
                size_t best = 0;
                for (size_t c = 1; c < 3; c++)
                    if (pr[c * NT + i] > pr[best * NT + i])
                        best = c;
                correct += (double)best == tyc[i];
            }
        }
        assert_true(correct > 0.8 * NT);
        roundtrip(l, NT, P, tx);
        tt_learner_destroy(l);
    }
    /* Out-of-bag class frequencies (bootstrap): rows that every tree drew
     * have none (NAN); the others sum to 1 and mostly pick the right class. */
    const char *ok[] = {"n_trees", "classify", "oob"};
    double ov[] = {40, 1, 1};
    tt_learner *lo = make("forest", 3, ok, ov);
    fit_ok(lo, N, P, x, yc, NULL);
    static double oob[N * 3];
    char oerr[256];
    assert_int_equal(tt_learner_oob_predict(lo, N, oob, oerr, sizeof oerr), TT_OK);
    size_t right = 0, seen = 0;
    for (size_t i = 0; i < N; i++) {
        if (isnan(oob[i]))
            continue;
        seen++;
        assert_true(fabs(oob[i] + oob[N + i] + oob[2 * N + i] - 1.0) < 1e-12);
        size_t best = 0;
        for (size_t c = 1; c < 3; c++)
            if (oob[c * N + i] > oob[best * N + i])
                best = c;
        right += (double)best == yc[i];
    }
    assert_true(seen > N - 5 && right > 0.75 * seen);
    tt_learner_destroy(lo);
    /* Labels must be 0..K-1. */
    yc[3] = 1.5;
    const char *ck[] = {"classify"};
    double one[] = {1};
    tt_learner *l = make("forest", 1, ck, one);
    char err[256];
    assert_int_equal(tt_learner_fit(l, N, P, x, yc, NULL, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 3"));
    tt_learner_destroy(l);
}

/* One tree on all rows (no bootstrap, no honesty): every leaf's value is the
 * mean of the training rows routed to it, so grouping the rows by their
 * in-sample prediction recovers the leaves (brute force); min_leaf bounds
 * every group from below and max_depth bounds their number by 2^depth. */
static void test_forest_tree_shape(void **state)
{
    (void)state;
    const char *keys[] = {"n_trees", "bootstrap", "sample_fraction", "mtry", "min_leaf",
                          "max_depth"};
    const double depths[] = {0, 3};
    for (size_t c = 0; c < 2; c++) {
        double v[] = {1, 0, 1, P, 60, depths[c]};
        tt_learner *l = make("forest", 6, keys, v);
        fit_ok(l, N, P, x, y, NULL);
        double pr[N];
        predict_ok(l, N, P, x, pr);
        double val[N], cnt[N] = {0}, sum[N] = {0};
        size_t groups = 0;
        for (size_t i = 0; i < N; i++) {
            size_t g = 0;
            while (g < groups && val[g] != pr[i])
                g++;
            if (g == groups)
                val[groups++] = pr[i];
            cnt[g] += 1.0;
            sum[g] += y[i];
        }
        assert_true(groups >= 4); /* the tree did split */
        assert_true(groups <= (depths[c] > 0 ? 8u : (size_t)N / 60));
        for (size_t g = 0; g < groups; g++) {
            assert_true(cnt[g] >= 60.0);
            assert_true(fabs(val[g] - sum[g] / cnt[g]) < 1e-12);
        }
        tt_learner_destroy(l);
    }
}

static void test_gbm(void **state)
{
    (void)state;
    const char *keys[] = {"n_rounds", "threads", "learning_rate", "max_depth"};
    double v1[] = {150, 1, 0.1, 4}, v2[] = {150, 2, 0.1, 4};
    tt_learner *a = make("gbm", 4, keys, v1), *b = make("gbm", 4, keys, v2);
    fit_ok(a, N, P, x, y, NULL);
    fit_ok(b, N, P, x, y, NULL);
    double pa[NT], pb[NT];
    predict_ok(a, NT, P, tx, pa);
    predict_ok(b, NT, P, tx, pb);
    assert_memory_equal(pa, pb, sizeof pa);
    assert_true(mse(NT, pa, ty) < 0.3 * variance(NT, ty));
    roundtrip(a, NT, P, tx);
    tt_learner_destroy(a);
    tt_learner_destroy(b);

    /* Log-loss and softmax beat the base rates. */
    double yc[N], tyc[NT];
    for (int k = 2; k <= 3; k++) {
        labels(N, x, k, yc);
        labels(NT, tx, k, tyc);
        const char *ck[] = {"classify", "n_rounds", "subsample", "colsample"};
        double cv[] = {1, 60, 0.8, 0.8};
        tt_learner *l = make("gbm", 4, ck, cv);
        fit_ok(l, N, P, x, yc, NULL);
        size_t w = k == 2 ? 1 : 3;
        assert_int_equal(tt_learner_n_outputs(l), w);
        double pr[NT * 3], freq[3] = {0}, ll = 0.0, ll0 = 0.0;
        predict_ok(l, NT, P, tx, pr);
        for (size_t i = 0; i < N; i++)
            freq[(size_t)yc[i]] += 1.0 / N;
        for (size_t i = 0; i < NT; i++) {
            size_t c = (size_t)tyc[i];
            double q = w == 1 ? (c == 1 ? pr[i] : 1.0 - pr[i]) : pr[c * NT + i];
            if (w == 3)
                assert_true(fabs(pr[i] + pr[NT + i] + pr[2 * NT + i] - 1.0) < 1e-12);
            ll -= log(q) / NT;
            ll0 -= log(freq[c]) / NT;
        }
        assert_true(ll < 0.5 * ll0);
        roundtrip(l, NT, P, tx);
        tt_learner_destroy(l);
    }
}

/* Large fits take other paths (nodes of 131072+ rows histogrammed in row
 * chunks, parallel partition, root sums and leaf writes in chunks), with
 * one-hot columns (two-bin accumulators) among the features, a row and
 * column subsample and log-loss: still the same model for 1 and 2 threads. */
static void test_gbm_large_thread_invariant(void **state)
{
    (void)state;
    enum { BN = 150000, BP = 6, BT = 500 };
    double *bx = malloc(sizeof(double) * BN * BP), *by = malloc(sizeof(double) * BN);
    double *btx = malloc(sizeof(double) * BT * BP);
    assert_non_null(bx);
    assert_non_null(by);
    assert_non_null(btx);
    double bty[BT];
    nonlinear(3, BN, BP, bx, by, 0.3);
    nonlinear(4, BT, BP, btx, bty, 0.3);
    for (size_t i = 0; i < BN; i++) { /* columns 4, 5: one-hot of a 3-level category */
        double c = bx[3 * BN + i];
        bx[4 * BN + i] = c < -0.5;
        bx[5 * BN + i] = c > 0.5;
        by[i] = by[i] > 1.0;
    }
    for (size_t i = 0; i < BT; i++) {
        double c = btx[3 * BT + i];
        btx[4 * BT + i] = c < -0.5;
        btx[5 * BT + i] = c > 0.5;
    }
    const char *keys[] = {"n_rounds", "threads", "classify", "subsample", "colsample", "max_depth"};
    double v1[] = {4, 1, 1, 0.9, 0.9, 5}, v2[] = {4, 2, 1, 0.9, 0.9, 5};
    tt_learner *a = make("gbm", 6, keys, v1), *b = make("gbm", 6, keys, v2);
    fit_ok(a, BN, BP, bx, by, NULL);
    fit_ok(b, BN, BP, bx, by, NULL);
    double pa[BT], pb[BT];
    predict_ok(a, BT, BP, btx, pa);
    predict_ok(b, BT, BP, btx, pb);
    assert_memory_equal(pa, pb, sizeof pa);
    tt_learner_destroy(a);
    tt_learner_destroy(b);
    free(bx);
    free(by);
    free(btx);
}

/* Early stopping on pure noise stops long before the round limit and keeps
 * the best rounds: the model stays close to the mean. */
static void test_gbm_early_stopping(void **state)
{
    (void)state;
    double noise[N];
    tt_rng r;
    tt_rng_seed(&r, 8, "noise");
    for (size_t i = 0; i < N; i++)
        noise[i] = tt_rng_normal(&r);
    const char *keys[] = {"n_rounds", "early_stopping", "learning_rate"};
    double v[] = {500, 10, 0.3};
    tt_learner *l = make("gbm", 3, keys, v);
    fit_ok(l, N, P, x, noise, NULL);
    membuf mb = {0};
    tt_plugin_sink sink = {sizeof sink, &mb, mem_write};
    assert_int_equal(tt_learner_save(l, &sink, NULL, 0), TT_OK);
    mem_write(&mb, "", 1);
    const char *hdr = strstr(mb.data, "\ngbm ");
    assert_non_null(hdr);
    long rounds = strtol(hdr + 5, NULL, 10);
    assert_true(rounds < 100);
    free(mb.data);
    tt_learner_destroy(l);
}

static void test_load_rejects_bad_trees(void **state)
{
    (void)state;
#define FOREST_HEAD "tautune-learner forest 2\nseed 0\np 1\n"
#define LEAVES "leaf 1\nv 1 1\nleaf 1\nv 1 2\nend grf\nend\n"
    const char *texts[] = {
        /* child index not after its parent: could loop */
        FOREST_HEAD "outputs 1\ngrf 2\nforest 0 1 0 1 1 1\ntree 3\nsplit 0 0.5 0\n" LEAVES,
        /* feature out of range */
        FOREST_HEAD "outputs 1\ngrf 2\nforest 0 1 0 1 1 1\ntree 3\nsplit 4 0.5 1\n" LEAVES,
        /* output count disagrees with the forest's */
        FOREST_HEAD "outputs 2\ngrf 2\nforest 0 1 0 1 1 1\ntree 3\nsplit 0 0.5 1\n" LEAVES,
        /* not a regression forest */
        FOREST_HEAD "outputs 1\ngrf 2\nforest 1 1 1 1 1 1\ntree 3\nsplit 0 0.5 1\n" LEAVES,
        /* output count disagrees */
        "tautune-learner gbm 1\nseed 0\np 1\noutputs 2\ngbm 1 1 0\nbase 0\ntree 1\n"
        "-1 0 0 -1 -1 1\nend\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        membuf mb = {(char *)texts[i], strlen(texts[i]), 0, 0};
        tt_plugin_source src = {sizeof src, &mb, mem_read};
        tt_learner *l = NULL;
        assert_int_equal(tt_learner_load(&src, &l, NULL, 0), TT_ERR_PARSE);
        assert_null(l);
    }
    /* A forest saved by the histogram engine (format 1, with max_bins) is
     * refused by its version, not misread. */
    const char *old = "tautune-learner forest 1\nparam max_bins 256\nseed 0\np 1\noutputs 1\n"
                      "forest 1 1\ntree 3\n0 3 0.5 1 2 1\n-1 0 0 -1 -1 1\n-1 0 0 -1 -1 2\nend\n";
    char err[256] = "";
    membuf mo = {(char *)old, strlen(old), 0, 0};
    tt_plugin_source so = {sizeof so, &mo, mem_read};
    tt_learner *l = NULL;
    assert_int_equal(tt_learner_load(&so, &l, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "unsupported format version"));
    assert_null(l);
    const char *good = FOREST_HEAD "outputs 1\ngrf 2\nforest 0 1 0 1 1 1\ntree 3\n"
                                   "split 0 0.5 1\n" LEAVES;
    membuf mb = {(char *)good, strlen(good), 0, 0};
    tt_plugin_source src = {sizeof src, &mb, mem_read};
    assert_int_equal(tt_learner_load(&src, &l, err, sizeof err), TT_OK);
    double xs[2] = {0.25, 0.75}, out[2];
    predict_ok(l, 2, 1, xs, out);
    assert_true(out[0] == 1.0 && out[1] == 2.0);
    tt_learner_destroy(l);
#undef FOREST_HEAD
#undef LEAVES
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forest_regression),
        cmocka_unit_test(test_forest_classification),
        cmocka_unit_test(test_forest_tree_shape),
        cmocka_unit_test(test_gbm),
        cmocka_unit_test(test_gbm_early_stopping),
        cmocka_unit_test(test_gbm_large_thread_invariant),
        cmocka_unit_test(test_load_rejects_bad_trees),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
