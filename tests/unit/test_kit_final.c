/* test_kit_final.c - the plugin kit's learner slots, nuisance access,
 * bootstrap and final stage (plugins/common/pu_{slot,nuis,boot,final}.c),
 * against a real host table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pu.h"
#include "common/pu_boot.h"
#include "common/pu_final.h"
#include "common/pu_linear.h"
#include "common/pu_nuis.h"
#include "common/pu_slot.h"
#include "learn/learner.h"
#include "plugin/host.h"
#include "test_memstream.h"

/* ---- helpers -------------------------------------------------------------- */

/* Deterministic test data: xorshift64* and Box-Muller (the test's own stream). */
typedef struct trng {
    uint64_t s;
} trng;

static double tr_unif(trng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return ((r->s * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0);
}

static double tr_norm(trng *r)
{
    double u = tr_unif(r), v = tr_unif(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static tt_plugin_data rows_of(size_t n, size_t p_x, const double *x, int n_arms)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = n, .p_x = p_x,
                            .x = x, .n_arms = n_arms};
}

#define CHECK_OK(call)                                      \
    do {                                                    \
        int rc_ = (call);                                   \
        if (rc_ != 0)                                       \
            fail_msg("%s -> %d: %s", #call, rc_, err);      \
    } while (0)

/* ---- pu_slot ---------------------------------------------------------------- */

static void test_slot_learners_create_and_fit(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";

    /* The schema the macro expands to, read back with its defaults. */
    static const tt_plugin_param schema[] = {PU_SLOT_PARAMS("final", "the final model")};
    assert_int_equal(sizeof schema / sizeof schema[0], PU_SLOT_N);
    assert_string_equal(schema[0].name, "final_learner");
    assert_string_equal(schema[5].name, "final_learning_rate");
    double params[PU_SLOT_N];
    for (size_t i = 0; i < PU_SLOT_N; i++)
        params[i] = schema[i].default_value;
    pu_slot slot;
    pu_slot_read(params, 0, &slot);
    assert_int_equal(slot.learner, PU_SLOT_RIDGE);
    assert_int_equal(slot.trees, 100);
    assert_int_equal(slot.depth, 4);
    assert_int_equal(slot.min_leaf, 5);
    slot.trees = 30; /* keeps the test quick */

    size_t n = 300;
    double *x = malloc(n * 2 * sizeof *x), *y = malloc(n * sizeof *y), *pred = malloc(n * sizeof *pred);
    trng r = {88172645463325252ull};
    double ybar = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = tr_norm(&r);
        x[n + i] = tr_norm(&r);
        y[i] = 1.0 + 2.0 * x[i] - x[n + i] + 0.1 * tr_norm(&r);
        ybar += y[i] / (double)n;
    }
    double var = 0;
    for (size_t i = 0; i < n; i++)
        var += (y[i] - ybar) * (y[i] - ybar) / (double)n;
    for (int l = PU_SLOT_RIDGE; l <= PU_SLOT_GBM; l++) {
        slot.learner = l;
        tt_learner *lr = NULL;
        CHECK_OK(pu_slot_create(&host, &slot, 0, &lr, err, sizeof err));
        assert_string_equal(tt_learner_name(lr), pu_slot_learners[l]);
        assert_string_equal(pu_slot_name(&slot), pu_slot_learners[l]);
        CHECK_OK(host.learner_fit(lr, n, 2, x, y, NULL, err, sizeof err));
        CHECK_OK(host.learner_predict(lr, n, 2, x, pred, err, sizeof err));
        double mse = 0;
        for (size_t i = 0; i < n; i++)
            mse += (pred[i] - y[i]) * (pred[i] - y[i]) / (double)n;
        /* Every learner explains most of a clean linear signal (var(y) ~ 5). */
        assert_true(mse < 0.2 * var);
        host.learner_destroy(lr);
    }
    /* The slot's settings reach the learner. */
    slot.learner = PU_SLOT_GBM;
    slot.depth = 3;
    slot.learning_rate = 0.05;
    tt_learner *g = NULL;
    CHECK_OK(pu_slot_create(&host, &slot, 0, &g, err, sizeof err));
    assert_true(tt_learner_param(g, "n_rounds") == 30);
    assert_true(tt_learner_param(g, "max_depth") == 3);
    assert_true(tt_learner_param(g, "learning_rate") == 0.05);
    assert_true(tt_learner_param(g, "min_child_weight") == 5);
    host.learner_destroy(g);
    slot.learner = PU_SLOT_RIDGE;
    slot.alpha = 2.5;
    CHECK_OK(pu_slot_create(&host, &slot, 0, &g, err, sizeof err));
    assert_true(tt_learner_param(g, "alpha") == 2.5);
    host.learner_destroy(g);

    /* Classification: trees yes (probabilities), linear slots refuse. */
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0;
    for (int l = PU_SLOT_FOREST; l <= PU_SLOT_GBM; l++) {
        slot.learner = l;
        tt_learner *c = NULL;
        CHECK_OK(pu_slot_create(&host, &slot, 1, &c, err, sizeof err));
        CHECK_OK(host.learner_fit(c, n, 2, x, y, NULL, err, sizeof err));
        CHECK_OK(host.learner_predict(c, n, 2, x, pred, err, sizeof err));
        size_t right = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(pred[i] >= 0 && pred[i] <= 1);
            right += (pred[i] > 0.5) == (y[i] > 0.5);
        }
        assert_true(right > 0.9 * (double)n);
        host.learner_destroy(c);
    }
    slot.learner = PU_SLOT_LASSO;
    tt_learner *bad = NULL;
    assert_int_equal(pu_slot_create(&host, &slot, 1, &bad, err, sizeof err), TT_ERR_INVALID);
    assert_null(bad);
    assert_non_null(strstr(err, "cannot classify"));
    slot.learner = 9;
    assert_int_equal(pu_slot_create(&host, &slot, 0, &bad, err, sizeof err), TT_ERR_INVALID);

    /* Save / load round trip, and a corrupt line. */
    pu_slot s1 = {.learner = PU_SLOT_GBM, .alpha = 0.123456789012345, .trees = 77, .depth = 6,
                  .min_leaf = 11, .learning_rate = 0.0314159};
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    assert_int_equal(pu_slot_save(&s1, &sink), 0);
    pu_slot s2;
    tt_plugin_source src = mem_source(&m);
    assert_int_equal(pu_slot_load(&src, &s2), 0);
    assert_int_equal(s2.learner, s1.learner);
    assert_true(s2.alpha == s1.alpha && s2.learning_rate == s1.learning_rate);
    assert_int_equal(s2.trees, 77);
    assert_int_equal(s2.depth, 6);
    assert_int_equal(s2.min_leaf, 11);
    m.data[5] = '7'; /* learner index 7: not a slot learner */
    src = mem_source(&m);
    assert_int_not_equal(pu_slot_load(&src, &s2), 0);
    free(m.data);
    free(x);
    free(y);
    free(pred);
}

/* Mean squared error of a slot's learner fitted and predicted on (x, y). */
static double slot_fit_mse(const tt_plugin_host *host, const pu_slot *slot, size_t n, size_t p,
                           const double *x, const double *y)
{
    char err[512] = "";
    tt_learner *lr = NULL;
    double *pred = malloc(n * sizeof *pred), mse = 0.0;
    CHECK_OK(pu_slot_create(host, slot, 0, &lr, err, sizeof err));
    CHECK_OK(host->learner_fit(lr, n, p, x, y, NULL, err, sizeof err));
    CHECK_OK(host->learner_predict(lr, n, p, x, pred, err, sizeof err));
    for (size_t i = 0; i < n; i++)
        mse += (pred[i] - y[i]) * (pred[i] - y[i]) / (double)n;
    host->learner_destroy(lr);
    free(pred);
    return mse;
}

/* The featurizer: poly2 lets a linear slot fit y = x1^2 + x1 x2, which plain
 * ridge and lasso cannot (their best linear fit leaves var(x1^2 + x1 x2) ~ 3
 * unexplained); trees ignore it; it round-trips, and a model saved before the
 * featurizer existed (6 numbers) still loads, as "none". */
static void test_slot_featurizer(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    static const tt_plugin_param schema[] = {PU_SLOT_PARAMS("model", "the model")};
    assert_string_equal(schema[6].name, "model_featurizer");
    assert_string_equal(schema[6].choices[1], "poly2");
    assert_true(schema[6].default_value == 0.0);

    enum { N = 400 };
    double x[2 * N], y[N];
    trng r = {1234567ull};
    for (size_t i = 0; i < N; i++) {
        x[i] = tr_norm(&r);
        x[N + i] = tr_norm(&r);
        y[i] = x[i] * x[i] + x[i] * x[N + i] + 0.05 * tr_norm(&r);
    }
    for (int l = PU_SLOT_RIDGE; l <= PU_SLOT_LASSO; l++) {
        pu_slot plain = {.learner = l, .alpha = 1e-3, .trees = 20, .depth = 3, .min_leaf = 5,
                         .learning_rate = 0.1, .featurizer = 0};
        pu_slot curved = plain;
        curved.featurizer = 1;
        assert_true(slot_fit_mse(&host, &plain, N, 2, x, y) > 1.5);
        /* Only the noise (0.05^2) is left, plus a little shrinkage. */
        assert_true(slot_fit_mse(&host, &curved, N, 2, x, y) < 0.01);
        char err[256];
        tt_learner *lr = NULL;
        CHECK_OK(pu_slot_create(&host, &curved, 0, &lr, err, sizeof err));
        assert_true(tt_learner_param(lr, "poly2") == 1.0);
        assert_true(tt_learner_param(lr, "standardize") == 1.0);
        host.learner_destroy(lr);
    }

    /* Round trip of all 7 numbers; the 6-number line of older models; a bad index. */
    pu_slot s1 = {.learner = PU_SLOT_RIDGE, .alpha = 3.5, .trees = 10, .depth = 2, .min_leaf = 1,
                  .learning_rate = 0.2, .featurizer = 1}, s2;
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    assert_int_equal(pu_slot_save(&s1, &sink), 0);
    tt_plugin_source src = mem_source(&m);
    assert_int_equal(pu_slot_load(&src, &s2), 0);
    assert_int_equal(s2.featurizer, 1);
    assert_true(s2.alpha == 3.5);
    static const char old[] = "slot 0 3.5 10 2 1 0.20000000000000001\n";
    m.len = 0;
    mem_write(&m, old, strlen(old));
    src = mem_source(&m);
    assert_int_equal(pu_slot_load(&src, &s2), 0);
    assert_int_equal(s2.featurizer, 0);
    assert_int_equal(s2.learner, PU_SLOT_RIDGE);
    static const char bad[] = "slot 0 3.5 10 2 1 0.2 2\n";
    m.len = 0;
    mem_write(&m, bad, strlen(bad));
    src = mem_source(&m);
    assert_int_not_equal(pu_slot_load(&src, &s2), 0);
    free(m.data);
}

/* ---- pu_nuis ---------------------------------------------------------------- */

static void test_nuis_propensity_oof_expands_and_clips(void **state)
{
    (void)state;
    double e[4] = {0.02, 0.3, 0.99, 0.5};
    tt_nuisance_result prop = {.role = TT_NUISANCE_PROPENSITY, .arm = -1, .n = 4, .width = 1,
                               .oof = e};
    tt_host_nuisances nu = {.propensity = &prop, .n_arms = 2, .p_x = 1};
    tt_host_ctx ctx = {.plugin_name = "test", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    double *out = NULL;

    CHECK_OK(pu_nuis_propensity_oof(&host, 2, 4, 0.0, &out, err, sizeof err));
    const double want[8] = {0.98, 0.7, 0.01, 0.5, 0.02, 0.3, 0.99, 0.5};
    for (int i = 0; i < 8; i++)
        assert_true(fabs(out[i] - want[i]) < 1e-15);
    host.release(out);

    /* Clipped into [0.05, 0.95], rows not renormalised. */
    CHECK_OK(pu_nuis_propensity_oof(&host, 2, 4, 0.05, &out, err, sizeof err));
    const double clipped[8] = {0.95, 0.7, 0.05, 0.5, 0.05, 0.3, 0.95, 0.5};
    for (int i = 0; i < 8; i++)
        assert_true(fabs(out[i] - clipped[i]) < 1e-15);
    host.release(out);

    /* Wrong row count, bad clip, bad arm count. */
    assert_int_equal(pu_nuis_propensity_oof(&host, 2, 5, 0.0, &out, err, sizeof err),
                     TT_ERR_INVALID);
    assert_null(out);
    assert_int_equal(pu_nuis_propensity_oof(&host, 2, 4, 0.5, &out, err, sizeof err),
                     TT_ERR_INVALID);
    /* Width 1 with three arms cannot be expanded. */
    assert_int_equal(pu_nuis_propensity_oof(&host, 3, 4, 0.0, &out, err, sizeof err),
                     TT_ERR_INVALID);

    /* Without the capability bit: refused, and the message says what to declare. */
    ctx.capabilities = TT_PLUGIN_CAP_NEEDS_OUTCOME;
    assert_int_equal(pu_nuis_propensity_oof(&host, 2, 4, 0.0, &out, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_null(out);
    assert_non_null(strstr(err, "the host has no propensity model"));
    assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_PROPENSITY"));

    /* A 1.0 host has no nuisance services at all. */
    ctx.capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY;
    host.abi_minor = 0;
    assert_int_equal(pu_nuis_propensity_oof(&host, 2, 4, 0.0, &out, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "ABI 1.1"));
    host.abi_minor = TT_PLUGIN_ABI_MINOR;
    host.nuisance_predict = NULL;
    assert_int_equal(pu_nuis_propensity_oof(&host, 2, 4, 0.0, &out, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
}

static void test_nuis_multi_arm_and_outcomes(void **state)
{
    (void)state;
    enum { N = 3, K = 3 };
    double e3[N * K] = {0.2, 0.5, 0.001, 0.3, 0.25, 0.009, 0.5, 0.25, 0.99};
    double mu0[N] = {1, 2, 3}, mu1[N] = {4, 5, 6}, mu2[N] = {7, 8, 9}, m[N] = {-1, 0, 1};
    tt_nuisance_result prop = {.role = TT_NUISANCE_PROPENSITY, .arm = -1, .n = N, .width = K,
                               .oof = e3};
    tt_nuisance_result r0 = {.role = TT_NUISANCE_ARM_OUTCOME, .arm = 0, .n = N, .width = 1, .oof = mu0};
    tt_nuisance_result r1 = {.role = TT_NUISANCE_ARM_OUTCOME, .arm = 1, .n = N, .width = 1, .oof = mu1};
    tt_nuisance_result r2 = {.role = TT_NUISANCE_ARM_OUTCOME, .arm = 2, .n = N, .width = 1, .oof = mu2};
    tt_nuisance_result out_r = {.role = TT_NUISANCE_OUTCOME, .arm = -1, .n = N, .width = 1, .oof = m};
    const tt_nuisance_result *arms[K] = {&r0, &r1, &r2};
    tt_host_nuisances nu = {.propensity = &prop, .outcome = &out_r, .arm_outcome = arms,
                            .n_arms = K, .p_x = 1};
    tt_host_ctx ctx = {.plugin_name = "test", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                                       TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES |
                                       TT_PLUGIN_CAP_NEEDS_OUTCOME};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    double *out = NULL;

    /* K columns pass through; clip 0.01 moves only the two extreme values. */
    CHECK_OK(pu_nuis_propensity_oof(&host, K, N, 0.01, &out, err, sizeof err));
    const double want[N * K] = {0.2, 0.5, 0.01, 0.3, 0.25, 0.01, 0.5, 0.25, 0.99};
    for (int i = 0; i < N * K; i++)
        assert_true(fabs(out[i] - want[i]) < 1e-15);
    host.release(out);

    CHECK_OK(pu_nuis_arm_outcomes_oof(&host, K, N, &out, err, sizeof err));
    for (int i = 0; i < N; i++) {
        assert_true(out[i] == mu0[i]);
        assert_true(out[N + i] == mu1[i]);
        assert_true(out[2 * N + i] == mu2[i]);
    }
    host.release(out);

    CHECK_OK(pu_nuis_outcome_oof(&host, N, &out, err, sizeof err));
    assert_memory_equal(out, m, sizeof m);
    host.release(out);

    /* An arm the host has no model for. */
    assert_int_equal(pu_nuis_arm_outcomes_oof(&host, 4, N, &out, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES"));
    ctx.capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY;
    assert_int_equal(pu_nuis_outcome_oof(&host, N, &out, err, sizeof err), TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_OUTCOME"));
}

/* The _predict forms go through the host's all-rows models: ridges with
 * alpha 0 fitted to exact lines, so the predictions are known in closed form. */
static void test_nuis_predict(void **state)
{
    (void)state;
    char err[512] = "";
    static const char *const keys[] = {"alpha"};
    const double zero = 0.0;
    double xt[4] = {0, 1, 2, 3}, ye[4], y0[4], y1[4];
    for (int i = 0; i < 4; i++) {
        ye[i] = 0.2 + 0.1 * xt[i];
        y0[i] = 1.0 - xt[i];
        y1[i] = 2.0 + 3.0 * xt[i];
    }
    tt_learner *le, *l0, *l1;
    CHECK_OK(tt_learner_create("ridge", keys, &zero, 1, 1, &le, err, sizeof err));
    CHECK_OK(tt_learner_create("ridge", keys, &zero, 1, 1, &l0, err, sizeof err));
    CHECK_OK(tt_learner_create("ridge", keys, &zero, 1, 1, &l1, err, sizeof err));
    CHECK_OK(tt_learner_fit(le, 4, 1, xt, ye, NULL, err, sizeof err));
    CHECK_OK(tt_learner_fit(l0, 4, 1, xt, y0, NULL, err, sizeof err));
    CHECK_OK(tt_learner_fit(l1, 4, 1, xt, y1, NULL, err, sizeof err));
    tt_nuisance_result prop = {.role = TT_NUISANCE_PROPENSITY, .arm = -1, .n = 4, .width = 1,
                               .oof = ye, .full = le};
    tt_nuisance_result r0 = {.role = TT_NUISANCE_ARM_OUTCOME, .n = 4, .width = 1, .oof = y0, .full = l0};
    tt_nuisance_result r1 = {.role = TT_NUISANCE_ARM_OUTCOME, .arm = 1, .n = 4, .width = 1, .oof = y1, .full = l1};
    const tt_nuisance_result *arms[2] = {&r0, &r1};
    tt_host_nuisances nu = {.propensity = &prop, .arm_outcome = arms, .n_arms = 2, .p_x = 1};
    tt_host_ctx ctx = {.plugin_name = "test", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                                       TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);

    double xn[3] = {-1.0, 5.0, 9.5};
    tt_plugin_data rows = rows_of(3, 1, xn, 2);
    double *out = NULL;
    CHECK_OK(pu_nuis_propensity_predict(&host, 2, &rows, 0.05, &out, err, sizeof err));
    /* e = 0.2 + 0.1 x = 0.1, 0.7, 1.15 -> clipped 0.95; column 0 is 1 - e. */
    const double want[6] = {0.9, 0.3, 0.05, 0.1, 0.7, 0.95};
    for (int i = 0; i < 6; i++)
        assert_true(fabs(out[i] - want[i]) < 1e-9);
    host.release(out);
    /* Unclipped, 1.15 is not a probability: refused rather than passed on. */
    assert_int_equal(pu_nuis_propensity_predict(&host, 2, &rows, 0.0, &out, err, sizeof err),
                     TT_ERR_NUMERIC);

    CHECK_OK(pu_nuis_arm_outcomes_predict(&host, 2, &rows, &out, err, sizeof err));
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(out[i] - (1.0 - xn[i])) < 1e-9);
        assert_true(fabs(out[3 + i] - (2.0 + 3.0 * xn[i])) < 1e-9);
    }
    host.release(out);
    /* Rows with the wrong columns: the host's error passes through. */
    rows.p_x = 2;
    assert_int_equal(pu_nuis_arm_outcomes_predict(&host, 2, &rows, &out, err, sizeof err),
                     TT_ERR_INVALID);
    tt_learner_destroy(le);
    tt_learner_destroy(l0);
    tt_learner_destroy(l1);
}

/* ---- pu_boot ---------------------------------------------------------------- */

/* A trivial replica: the difference of arm means over the resample. */
typedef struct mean_ctx {
    const double *y;
    const int *arm;
    size_t n, n1;
    int strata_ok;
    int fits;
} mean_ctx;

static int md_fit(void *c, const size_t *idx, size_t n, void **replica, char *err, size_t errlen)
{
    mean_ctx *m = c;
    double s[2] = {0, 0};
    size_t cnt[2] = {0, 0};
    for (size_t r = 0; r < n; r++) {
        int a = m->arm[idx[r]];
        s[a] += m->y[idx[r]];
        cnt[a]++;
    }
    if (n != m->n || cnt[1] != m->n1)
        m->strata_ok = 0;
    double *d = malloc(sizeof *d);
    if (!d)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "oom");
    *d = s[1] / (double)cnt[1] - s[0] / (double)cnt[0];
    *replica = d;
    m->fits++;
    return 0;
}

static int md_effect(void *c, const void *replica, const tt_plugin_data *rows, double *out,
                     char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    for (size_t i = 0; i < rows->n; i++)
        out[i] = *(const double *)replica;
    return 0;
}

static int md_save(void *c, const void *replica, const tt_plugin_sink *sink, char *err,
                   size_t errlen)
{
    (void)c;
    if (pu_write_doubles(sink, "rep", replica, 1) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "write");
    return 0;
}

static int md_load(void *c, const tt_plugin_source *src, void **replica, char *err,
                   size_t errlen)
{
    (void)c;
    double *d = malloc(sizeof *d);
    if (pu_read_doubles(src, "rep", d, 1) != 0) {
        free(d);
        return pu_errf(err, errlen, TT_ERR_PARSE, "bad replica");
    }
    *replica = d;
    return 0;
}

static void md_destroy(void *c, void *replica)
{
    (void)c;
    free(replica);
}

static const pu_boot_ops md_ops = {md_fit, md_effect, md_save, md_load, md_destroy};

typedef struct mean_data {
    size_t n, n1;
    double *y;
    int *arm;
    double diff, welch_se;
} mean_data;

/* n rows: arm 1 on 40% of them, y ~ N(0, 1) in arm 0 and N(1, 2^2) in arm 1. */
static void mean_data_make(mean_data *d, size_t n)
{
    trng r = {0x9e3779b97f4a7c15ull};
    d->n = n;
    d->y = malloc(n * sizeof *d->y);
    d->arm = malloc(n * sizeof *d->arm);
    d->n1 = 0;
    double s[2] = {0, 0}, ss[2] = {0, 0};
    size_t c[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int a = (i % 5) < 2;
        d->arm[i] = a;
        d->y[i] = a ? 1.0 + 2.0 * tr_norm(&r) : tr_norm(&r);
        d->n1 += a;
        s[a] += d->y[i];
        c[a]++;
    }
    for (size_t i = 0; i < n; i++) {
        int a = d->arm[i];
        double dev = d->y[i] - s[a] / (double)c[a];
        ss[a] += dev * dev;
    }
    d->diff = s[1] / (double)c[1] - s[0] / (double)c[0];
    /* Welch's standard error: sqrt(s0^2/n0 + s1^2/n1), sample variances. */
    d->welch_se = sqrt(ss[0] / (double)(c[0] - 1) / (double)c[0] +
                       ss[1] / (double)(c[1] - 1) / (double)c[1]);
}

static void boot_interval_of(const tt_plugin_host *host, mean_ctx *mc, size_t B, double *lo,
                             double *hi)
{
    char err[512] = "";
    pu_boot b;
    CHECK_OK(pu_boot_init(&b, host, &md_ops, mc, 2, B, mc->n, mc->arm, err, sizeof err));
    double x0 = 0, point = 0;
    tt_plugin_data rows = rows_of(1, 1, &x0, 2);
    CHECK_OK(pu_boot_interval(&b, &rows, &point, 0.05, lo, hi, err, sizeof err));
    pu_boot_free(&b);
}

static void test_boot_matches_welch_and_seeds(void **state)
{
    (void)state;
    mean_data d;
    mean_data_make(&d, 5000);
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    mean_ctx mc = {.y = d.y, .arm = d.arm, .n = d.n, .n1 = d.n1, .strata_ok = 1};

    pu_boot b;
    CHECK_OK(pu_boot_init(&b, &host, &md_ops, &mc, 2, 300, d.n, d.arm, err, sizeof err));
    assert_int_equal(mc.fits, 0); /* lazy: nothing fitted at init */
    double xr[3] = {0, 1, 2};
    double point[3] = {d.diff, d.diff, d.diff}, lo[3], hi[3];
    tt_plugin_data rows = rows_of(3, 1, xr, 2);
    CHECK_OK(pu_boot_interval(&b, &rows, point, 0.05, lo, hi, err, sizeof err));
    assert_int_equal(mc.fits, 300);
    assert_true(mc.strata_ok); /* every resample kept n1 treated rows */
    double z = pu_normal_quantile(0.975);
    double sd = (hi[0] - lo[0]) / (2 * z);
    /* 300 replicas: the SD estimate itself is within ~4% (1/sqrt(2B)). */
    assert_true(fabs(sd / d.welch_se - 1.0) < 0.15);
    assert_true(fabs(0.5 * (lo[0] + hi[0]) - d.diff) < 1e-12); /* centred on the point */
    assert_true(lo[1] == lo[0] && hi[2] == hi[0]);

    /* Average: the mean of point, and the SD of the replicas' mean effects. */
    double ate, alo, ahi;
    CHECK_OK(pu_boot_average(&b, &rows, point, 0.05, &ate, &alo, &ahi, err, sizeof err));
    assert_true(fabs(ate - d.diff) < 1e-12);
    assert_true(fabs((ahi - alo) - (hi[0] - lo[0])) < 1e-9);
    assert_int_equal(mc.fits, 300); /* fitted once */

    char method[64];
    pu_boot_method(&b, method, sizeof method);
    assert_string_equal(method, "bootstrap (normal, 300 resamples)");

    /* Save / load: the loaded replicas give the same interval, bit for bit. */
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    CHECK_OK(pu_boot_save(&b, &sink, err, sizeof err));
    assert_int_equal(strncmp(m.data, "pu_boot 1\n", 10), 0);
    pu_boot b2;
    tt_plugin_source src = mem_source(&m);
    CHECK_OK(pu_boot_load(&b2, &host, &md_ops, &mc, &src, err, sizeof err));
    double lo2[3], hi2[3];
    CHECK_OK(pu_boot_interval(&b2, &rows, point, 0.05, lo2, hi2, err, sizeof err));
    assert_memory_equal(lo, lo2, sizeof lo);
    assert_memory_equal(hi, hi2, sizeof hi);
    pu_boot_free(&b2);
    m.data[8] = '2'; /* "pu_boot 2" */
    src = mem_source(&m);
    assert_int_equal(pu_boot_load(&b2, &host, &md_ops, &mc, &src, err, sizeof err), TT_ERR_PARSE);
    pu_boot_free(&b2); /* safe after a failed load */
    m.data[8] = '1';
    m.len -= 10; /* truncated inside the last replica */
    src = mem_source(&m);
    assert_int_equal(pu_boot_load(&b2, &host, &md_ops, &mc, &src, err, sizeof err), TT_ERR_PARSE);
    free(m.data);
    pu_boot_free(&b);

    /* Same seed: identical; another seed: different. */
    double l1, h1, l2, h2, l3, h3;
    boot_interval_of(&host, &mc, 40, &l1, &h1);
    boot_interval_of(&host, &mc, 40, &l2, &h2);
    assert_true(l1 == l2 && h1 == h2);
    tt_host_ctx ctx8 = {.plugin_name = "test"};
    tt_plugin_host host8;
    tt_host_services_init(&host8, &ctx8, 8);
    boot_interval_of(&host8, &mc, 40, &l3, &h3);
    assert_true(l3 != l1 && h3 != h1);
    free(d.y);
    free(d.arm);
}

/* A stop between replicas returns TT_ERR_STOPPED; resuming gives exactly the
 * interval of an uninterrupted run (each replica's stream depends only on
 * the seed and its index). */
static void test_boot_stops_and_resumes(void **state)
{
    (void)state;
    mean_data d;
    mean_data_make(&d, 500);
    volatile sig_atomic_t stop = 0;
    tt_host_ctx ctx = {.plugin_name = "test", .stop_flag = &stop};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    mean_ctx mc = {.y = d.y, .arm = d.arm, .n = d.n, .n1 = d.n1, .strata_ok = 1};
    double full_lo, full_hi;
    boot_interval_of(&host, &mc, 20, &full_lo, &full_hi);

    pu_boot b;
    CHECK_OK(pu_boot_init(&b, &host, &md_ops, &mc, 2, 20, d.n, d.arm, err, sizeof err));
    stop = 1;
    assert_int_equal(pu_boot_ensure(&b, err, sizeof err), TT_ERR_STOPPED);
    stop = 0;
    double x0 = 0, point = 0, lo, hi;
    tt_plugin_data rows = rows_of(1, 1, &x0, 2);
    CHECK_OK(pu_boot_interval(&b, &rows, &point, 0.05, &lo, &hi, err, sizeof err));
    assert_true(lo == full_lo && hi == full_hi);
    assert_int_equal(pu_boot_interval(&b, &rows, &point, 1.5, &lo, &hi, err, sizeof err),
                     TT_ERR_INVALID);
    pu_boot_free(&b);

    /* A replica count of 1 cannot give a standard deviation. */
    assert_int_equal(pu_boot_init(&b, &host, &md_ops, &mc, 2, 1, d.n, d.arm, err, sizeof err),
                     TT_ERR_INVALID);
    free(d.y);
    free(d.arm);
}

/* Out of time after some replicas (the refit at the budget's end): with at
 * least two the bootstrap keeps them, and its intervals and method text are
 * those of that smaller count - exactly as a run asking for that many. */
static volatile sig_atomic_t stop_after_flag;
static int stop_after_n;
static int md_fit_then_stop(void *c, const size_t *idx, size_t n, void **replica, char *err,
                            size_t errlen)
{
    int rc = md_fit(c, idx, n, replica, err, errlen);
    if (((mean_ctx *)c)->fits >= stop_after_n)
        stop_after_flag = 1;
    return rc;
}

static void test_boot_keeps_replicas_at_a_stop(void **state)
{
    (void)state;
    mean_data d;
    mean_data_make(&d, 400);
    pu_boot_ops ops = md_ops;
    ops.fit = md_fit_then_stop;
    tt_host_ctx ctx = {.plugin_name = "test", .stop_flag = &stop_after_flag};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "", method[64];
    mean_ctx mc = {.y = d.y, .arm = d.arm, .n = d.n, .n1 = d.n1, .strata_ok = 1};
    double x0 = 0, point = 0, lo, hi, lo6, hi6;
    tt_plugin_data rows = rows_of(1, 1, &x0, 2);

    stop_after_flag = 0;
    stop_after_n = 6;
    pu_boot b;
    CHECK_OK(pu_boot_init(&b, &host, &ops, &mc, 2, 20, d.n, d.arm, err, sizeof err));
    CHECK_OK(pu_boot_interval(&b, &rows, &point, 0.05, &lo, &hi, err, sizeof err));
    assert_int_equal(b.resamples, 6);
    assert_int_equal(mc.fits, 6);
    pu_boot_method(&b, method, sizeof method);
    assert_string_equal(method, "bootstrap (normal, 6 resamples)");
    pu_boot_free(&b);
    /* The same as asking for 6 from the start. */
    stop_after_flag = 0;
    stop_after_n = 1000;
    boot_interval_of(&host, &mc, 6, &lo6, &hi6);
    assert_true(lo == lo6 && hi == hi6);

    /* Stopped after one replica: no spread, so intervals fail; the model
     * still saves (without replicas) and its loaded copy says it has none. */
    stop_after_flag = 0;
    stop_after_n = 1;
    mc.fits = 0;
    CHECK_OK(pu_boot_init(&b, &host, &ops, &mc, 2, 20, d.n, d.arm, err, sizeof err));
    assert_int_equal(pu_boot_ensure(&b, err, sizeof err), TT_ERR_STOPPED);
    assert_int_equal(pu_boot_interval(&b, &rows, &point, 0.05, &lo, &hi, err, sizeof err),
                     TT_ERR_STOPPED);
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    CHECK_OK(pu_boot_save(&b, &sink, err, sizeof err));
    pu_boot_free(&b);
    assert_int_equal(strncmp(m.data, "pu_boot 1\nresamples 0\n", 22), 0);
    tt_plugin_source src = mem_source(&m);
    CHECK_OK(pu_boot_load(&b, &host, &md_ops, &mc, &src, err, sizeof err));
    assert_int_equal(pu_boot_interval(&b, &rows, &point, 0.05, &lo, &hi, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    pu_boot_method(&b, method, sizeof method);
    assert_string_equal(method, "bootstrap (none: stopped before two replicas)");
    pu_boot_free(&b);
    free(m.data);
    free(d.y);
    free(d.arm);
}

/* pu_boot_resamples: the run's setting from an ABI 1.2 host, else 30. */
static void test_boot_resamples_from_the_run(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test", .interval_resamples = 12};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    assert_int_equal(pu_boot_resamples(&host), 12);
    host.interval_resamples = 0; /* the run left it to the plugin */
    assert_int_equal(pu_boot_resamples(&host), PU_BOOT_DEFAULT_RESAMPLES);
    assert_int_equal(PU_BOOT_DEFAULT_RESAMPLES, 30);
    host.interval_resamples = 12;
    host.abi_minor = 1; /* a 1.1 host has no such field: never read it */
    assert_int_equal(pu_boot_resamples(&host), 30);
    host.abi_minor = 2;
    host.struct_size = offsetof(tt_plugin_host, interval_resamples); /* field cut off */
    assert_int_equal(pu_boot_resamples(&host), 30);
    host.struct_size = sizeof host;
    assert_int_equal(pu_boot_resamples(&host), 12);
}

/* ---- pu_final ---------------------------------------------------------------- */

/* The data of kit_ref.py (deterministic, so numpy reproduces it exactly). */
static void ref_data(double *x, double *g, double *w, unsigned char *mask)
{
    const size_t n = 60;
    for (size_t i = 0; i < n; i++) {
        double di = (double)i;
        x[i] = sin(0.7 * di);
        x[n + i] = cos(1.3 * di);
        g[i] = 1 + 2 * x[i] - x[n + i] + (0.5 + 0.5 * x[i] * x[i]) * sin(di * di * 0.37 + 1);
        w[i] = 1 + 0.5 * sin(0.9 * di) * sin(0.9 * di);
        mask[i] = (i % 4) != 3;
    }
}

/* Weighted OLS + HC1 against statsmodels, through the final stage's mask. */
static void test_final_linear_matches_statsmodels(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    double x[120], g[60], w[60];
    unsigned char mask[60];
    int arm[60];
    ref_data(x, g, w, mask);
    for (int i = 0; i < 60; i++)
        arm[i] = i % 2;
    pu_final_spec spec = {.kind = PU_FINAL_LINEAR, .phi = {.intercept = 1}};
    pu_final *f;
    CHECK_OK(pu_final_new(&host, &spec, 2, &f, err, sizeof err));
    CHECK_OK(pu_final_fit(f, 60, 2, x, arm, g, w, mask, err, sizeof err));
    assert_string_equal(pu_final_method(f), "HC1 sandwich");

    /* From /tmp/kit_ref.py: statsmodels 0.13.5 WLS(g[keep], [1, x1, x2],
     * weights=w[keep]).fit(cov_type='HC1'), theta = phi'b and
     * theta -+ norm.ppf(0.95) sqrt(phi'V phi) at the rows below. */
    double ev[6] = {0.3, -1.0, 0.0, -0.2, 1.0, 0.0};
    const double theta[3] = {1.8451357803053687, -1.5420475590542067, 1.1393675555978136};
    const double lo_ref[3] = {1.6795729727105013, -1.8372384889871525, 1.0082671052682655};
    const double hi_ref[3] = {2.010698587900236, -1.2468566291212608, 1.2704680059273616};
    tt_plugin_data rows = rows_of(3, 2, ev, 2);
    double eff[3], lo[3], hi[3];
    CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
    CHECK_OK(pu_final_interval(f, &rows, 0.10, lo, hi, err, sizeof err));
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(eff[i] - theta[i]) < 1e-10);
        assert_true(fabs(lo[i] - lo_ref[i]) < 1e-10);
        assert_true(fabs(hi[i] - hi_ref[i]) < 1e-10);
    }
    /* Wrong column count. */
    rows.p_x = 1;
    assert_int_equal(pu_final_effect(f, &rows, eff, err, sizeof err), TT_ERR_INVALID);
    pu_final_free(f);
}

/* Three arms, each regressed on its own rows: recovers beta_k and gives
 * exactly the interval of pu_ols_hc1 run directly on that arm's rows. */
static void test_final_linear_multi_arm(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    enum { N = 2000, K = 3 };
    double *x = malloc(2 * N * sizeof *x), *g = malloc((K - 1) * N * sizeof *g);
    unsigned char *mask = malloc((K - 1) * N);
    int *arm = malloc(N * sizeof *arm);
    const double beta[K - 1][3] = {{1.0, 2.0, -0.5}, {-1.0, 0.0, 3.0}};
    trng r = {12345};
    for (size_t i = 0; i < N; i++) {
        x[i] = tr_norm(&r);
        x[N + i] = tr_norm(&r);
        arm[i] = (int)(i % K);
        for (int k = 0; k < K - 1; k++) {
            g[k * N + i] = beta[k][0] + beta[k][1] * x[i] + beta[k][2] * x[N + i] +
                           (0.2 + 0.3 * fabs(x[i])) * tr_norm(&r);
            /* Arm k's regression uses its own and the control rows (like a T-style stage). */
            mask[k * N + i] = arm[i] == 0 || arm[i] == k + 1;
        }
    }
    pu_final_spec spec = {.kind = PU_FINAL_LINEAR, .phi = {.intercept = 1}};
    pu_final *f;
    CHECK_OK(pu_final_new(&host, &spec, K, &f, err, sizeof err));
    CHECK_OK(pu_final_fit(f, N, 2, x, arm, g, NULL, mask, err, sizeof err));
    /* Effects at e_0 = (0,0), e_1 = (1,0), e_2 = (0,1) give back beta. */
    double ev[6] = {0, 1, 0, 0, 0, 1};
    tt_plugin_data rows = rows_of(3, 2, ev, K);
    double eff[6], lo[6], hi[6];
    CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
    CHECK_OK(pu_final_interval(f, &rows, 0.05, lo, hi, err, sizeof err));
    double z = pu_normal_quantile(0.975);
    for (int k = 0; k < K - 1; k++) {
        double b[3] = {eff[k * 3], eff[k * 3 + 1] - eff[k * 3], eff[k * 3 + 2] - eff[k * 3]};
        for (int j = 0; j < 3; j++)
            assert_true(fabs(b[j] - beta[k][j]) < 0.05);
        /* pu_ols_hc1 directly on arm k's masked rows. */
        size_t nk = 0;
        for (size_t i = 0; i < N; i++)
            nk += mask[k * N + i];
        double *Z = malloc(3 * nk * sizeof *Z), *rk = malloc(nk * sizeof *rk);
        size_t c = 0;
        for (size_t i = 0; i < N; i++) {
            if (!mask[k * N + i])
                continue;
            Z[c] = 1, Z[nk + c] = x[i], Z[2 * nk + c] = x[N + i];
            rk[c++] = g[k * N + i];
        }
        double bd[3], V[9];
        CHECK_OK(pu_ols_hc1(&host, nk, 3, Z, rk, NULL, bd, V, err, sizeof err));
        for (int i = 0; i < 3; i++) {
            double phi[3] = {1, ev[i], ev[3 + i]}, th = 0, var = 0;
            for (int a = 0; a < 3; a++) {
                th += phi[a] * bd[a];
                for (int bb = 0; bb < 3; bb++)
                    var += phi[a] * V[bb * 3 + a] * phi[bb];
            }
            assert_true(fabs(eff[k * 3 + i] - th) < 1e-10);
            assert_true(fabs(lo[k * 3 + i] - (th - z * sqrt(var))) < 1e-10);
            assert_true(fabs(hi[k * 3 + i] - (th + z * sqrt(var))) < 1e-10);
        }
        free(Z);
        free(rk);
    }
    /* The average of a linear model is the mean of its effects. */
    double ate[2], alo[2], ahi[2];
    CHECK_OK(pu_final_average(f, &rows, 0.05, ate, alo, ahi, err, sizeof err));
    for (int k = 0; k < K - 1; k++) {
        double mean = (eff[k * 3] + eff[k * 3 + 1] + eff[k * 3 + 2]) / 3;
        assert_true(fabs(ate[k] - mean) < 1e-12);
        assert_true(alo[k] < ate[k] && ate[k] < ahi[k]);
    }
    pu_final_free(f);
    free(x);
    free(g);
    free(mask);
    free(arm);
}

/* y-linear learner data: target = 1 + 0.5 x + noise, two arms. */
static void learner_data(size_t n, uint64_t seed, double **x, double **g, int **arm)
{
    trng r = {seed};
    *x = malloc(n * sizeof **x);
    *g = malloc(n * sizeof **g);
    *arm = malloc(n * sizeof **arm);
    for (size_t i = 0; i < n; i++) {
        (*x)[i] = tr_norm(&r);
        (*g)[i] = 1.0 + 0.5 * (*x)[i] + tr_norm(&r);
        (*arm)[i] = (int)(i % 2);
    }
}

static double learner_ate_width(const tt_plugin_host *host, size_t n, double *ate_out,
                                double *lo_out, double *hi_out)
{
    char err[512] = "";
    double *x, *g;
    int *arm;
    learner_data(n, 4242, &x, &g, &arm);
    pu_final_spec spec = {.kind = PU_FINAL_LEARNER,
                          .slot = {.learner = PU_SLOT_RIDGE, .alpha = 1.0},
                          .resamples = 200};
    pu_final *f;
    CHECK_OK(pu_final_new(host, &spec, 2, &f, err, sizeof err));
    CHECK_OK(pu_final_fit(f, n, 1, x, arm, g, NULL, NULL, err, sizeof err));
    double ate, lo, hi;
    tt_plugin_data rows = rows_of(n, 1, x, 2);
    CHECK_OK(pu_final_average(f, &rows, 0.05, &ate, &lo, &hi, err, sizeof err));
    *ate_out = ate, *lo_out = lo, *hi_out = hi;
    pu_final_free(f);
    free(x);
    free(g);
    free(arm);
    return hi - lo;
}

static void test_final_learner_intervals(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    double *x, *g;
    int *arm;
    size_t n = 400;
    learner_data(n, 99, &x, &g, &arm);
    pu_final_spec spec = {.kind = PU_FINAL_LEARNER,
                          .slot = {.learner = PU_SLOT_RIDGE, .alpha = 1.0}};
    pu_final *f;
    CHECK_OK(pu_final_new(&host, &spec, 2, &f, err, sizeof err));
    assert_string_equal(pu_final_method(f), "bootstrap (normal, 30 resamples)");
    CHECK_OK(pu_final_fit(f, n, 1, x, arm, g, NULL, NULL, err, sizeof err));
    /* The caller's arrays are not kept: scribble over them before the lazy bootstrap. */
    double *keep = malloc(n * sizeof *keep);
    memcpy(keep, x, n * sizeof *x);
    memset(g, 0, n * sizeof *g);
    double ev[4] = {-1, 0, 0.5, 2}, eff[4], lo[4], hi[4];
    tt_plugin_data rows = rows_of(4, 1, ev, 2);
    CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
    CHECK_OK(pu_final_interval(f, &rows, 0.05, lo, hi, err, sizeof err));
    for (int i = 0; i < 4; i++) {
        assert_true(lo[i] < eff[i] && eff[i] < hi[i]);
        /* The truth 1 + 0.5 x lies inside (noise sd 1, n = 400: se ~ 0.05-0.1). */
        assert_true(fabs(eff[i] - (1 + 0.5 * ev[i])) < 0.4);
    }
    /* Wider far from the data's centre. */
    assert_true(hi[3] - lo[3] > hi[1] - lo[1]);
    pu_final_free(f);
    free(keep);
    free(x);
    free(g);
    free(arm);

    /* 4x the rows: the average effect's interval about halves. */
    double a1, l1, h1, a4, l4, h4;
    double w1 = learner_ate_width(&host, 500, &a1, &l1, &h1);
    double w4 = learner_ate_width(&host, 2000, &a4, &l4, &h4);
    assert_true(l1 < a1 && a1 < h1 && l4 < a4 && a4 < h4);
    assert_true(w4 / w1 > 0.4 && w4 / w1 < 0.65); /* 0.515 with 200 replicas */
}

/* p_x == 0: the learner's intercept-only fit is the weighted mean target. */
static void test_final_learner_no_modifiers(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    double g[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 1, 2, 2, 0.5, 0.5};
    int arm[6] = {0, 1, 0, 1, 0, 1};
    pu_final_spec spec = {.kind = PU_FINAL_LEARNER, .slot = {.learner = PU_SLOT_RIDGE, .alpha = 1}};
    pu_final *f;
    CHECK_OK(pu_final_new(&host, &spec, 2, &f, err, sizeof err));
    CHECK_OK(pu_final_fit(f, 6, 0, NULL, arm, g, w, NULL, err, sizeof err));
    double eff[2];
    tt_plugin_data rows = rows_of(2, 0, NULL, 2);
    CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
    double wm = (1 + 2 + 6 + 8 + 2.5 + 3) / 7.0; /* sum w g / sum w */
    assert_true(fabs(eff[0] - wm) < 1e-12 && fabs(eff[1] - wm) < 1e-12);
    pu_final_free(f);

    /* The other learners fit without columns too (a tree is one leaf). */
    for (int l = PU_SLOT_LASSO; l <= PU_SLOT_GBM; l++) {
        spec.slot = (pu_slot){.learner = l, .trees = 50, .depth = 2, .min_leaf = 1,
                              .learning_rate = 0.3};
        spec.resamples = 4;
        CHECK_OK(pu_final_new(&host, &spec, 2, &f, err, sizeof err));
        CHECK_OK(pu_final_fit(f, 6, 0, NULL, arm, g, w, NULL, err, sizeof err));
        CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
        double lo[2], hi[2];
        CHECK_OK(pu_final_interval(f, &rows, 0.05, lo, hi, err, sizeof err));
        /* lasso: exactly the weighted mean; forest (bootstrap means), gbm: near it. */
        assert_true(fabs(eff[0] - wm) < (l == PU_SLOT_LASSO ? 1e-12 : 1.5));
        assert_true(lo[0] <= eff[0] && eff[0] <= hi[0]);
        pu_final_free(f);
    }
    /* Linear kinds: phi = [1], the WLS intercept is the weighted mean. */
    for (int k = PU_FINAL_LINEAR; k <= PU_FINAL_SPARSE; k++) {
        pu_final_spec ls = {.kind = (pu_final_kind)k, .phi = {.intercept = 1}};
        CHECK_OK(pu_final_new(&host, &ls, 2, &f, err, sizeof err));
        CHECK_OK(pu_final_fit(f, 6, 0, NULL, arm, g, w, NULL, err, sizeof err));
        CHECK_OK(pu_final_effect(f, &rows, eff, err, sizeof err));
        assert_true(fabs(eff[0] - wm) < 1e-12);
        pu_final_free(f);
    }
    /* LINEAR without an intercept and without columns has nothing to fit. */
    pu_final_spec none = {.kind = PU_FINAL_LINEAR};
    CHECK_OK(pu_final_new(&host, &none, 2, &f, err, sizeof err));
    assert_int_equal(pu_final_fit(f, 6, 0, NULL, arm, g, w, NULL, err, sizeof err),
                     TT_ERR_INVALID);
    pu_final_free(f);
}

/* Save, load, and compare effects and intervals bit for bit; then corrupt. */
static void round_trip(const tt_plugin_host *host, pu_final *f, const tt_plugin_data *rows,
                       int n_arms)
{
    char err[512] = "";
    size_t m = rows->n * (size_t)(n_arms - 1);
    double *e1 = malloc(m * sizeof *e1), *e2 = malloc(m * sizeof *e2);
    double *l1 = malloc(m * sizeof *l1), *l2 = malloc(m * sizeof *l2);
    double *h1 = malloc(m * sizeof *h1), *h2 = malloc(m * sizeof *h2);
    membuf buf = {0};
    tt_plugin_sink sink = mem_sink(&buf);
    CHECK_OK(pu_final_save(f, &sink, err, sizeof err));
    CHECK_OK(pu_final_effect(f, rows, e1, err, sizeof err));
    CHECK_OK(pu_final_interval(f, rows, 0.05, l1, h1, err, sizeof err));
    pu_final *g;
    tt_plugin_source src = mem_source(&buf);
    CHECK_OK(pu_final_load(host, &src, &g, err, sizeof err));
    assert_string_equal(pu_final_method(g), pu_final_method(f));
    CHECK_OK(pu_final_effect(g, rows, e2, err, sizeof err));
    CHECK_OK(pu_final_interval(g, rows, 0.05, l2, h2, err, sizeof err));
    assert_memory_equal(e1, e2, m * sizeof *e1);
    assert_memory_equal(l1, l2, m * sizeof *l1);
    assert_memory_equal(h1, h2, m * sizeof *h1);
    /* A loaded model saves again to the same bytes. */
    membuf again = {0};
    tt_plugin_sink sink2 = mem_sink(&again);
    CHECK_OK(pu_final_save(g, &sink2, err, sizeof err));
    assert_int_equal(again.len, buf.len);
    assert_memory_equal(again.data, buf.data, buf.len);
    free(again.data);
    pu_final_free(g);

    /* Corruptions: a wrong version, a bad kind, a truncated stream. */
    buf.data[9] = '7'; /* "pu_final 7" */
    src = mem_source(&buf);
    g = NULL;
    assert_int_equal(pu_final_load(host, &src, &g, err, sizeof err), TT_ERR_PARSE);
    assert_null(g);
    buf.data[9] = '1';
    char *kind = strstr(buf.data, "kind ");
    char orig = kind[5];
    kind[5] = '9';
    src = mem_source(&buf);
    assert_int_equal(pu_final_load(host, &src, &g, err, sizeof err), TT_ERR_PARSE);
    kind[5] = orig;
    buf.len -= 5;
    src = mem_source(&buf);
    assert_int_equal(pu_final_load(host, &src, &g, err, sizeof err), TT_ERR_PARSE);
    free(buf.data);
    free(e1), free(e2), free(l1), free(l2), free(h1), free(h2);
}

static void test_final_save_load(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[512] = "";
    enum { N = 300, K = 3 };
    double *x = malloc(3 * N * sizeof *x), *g = malloc((K - 1) * N * sizeof *g);
    double *w = malloc((K - 1) * N * sizeof *w);
    int *arm = malloc(N * sizeof *arm);
    unsigned char *mask = malloc((K - 1) * N);
    trng r = {777};
    for (size_t i = 0; i < N; i++) {
        for (int j = 0; j < 3; j++)
            x[j * N + i] = tr_norm(&r);
        arm[i] = (int)(i % K);
        for (int k = 0; k < K - 1; k++) {
            g[k * N + i] = (k + 1) * x[i] - x[2 * N + i] + 0.5 * tr_norm(&r);
            w[k * N + i] = 0.5 + tr_unif(&r);
        }
    }
    /* Arm k's regression on its own and the control rows (the bootstrap
     * replicas must apply the mask to the resampled rows too). */
    for (size_t i = 0; i < N; i++) {
        for (int k = 0; k < K - 1; k++)
            mask[k * N + i] = arm[i] == 0 || arm[i] == k + 1;
    }
    tt_plugin_data rows = rows_of(20, 3, x, K); /* the first 20 rows' columns are at x, x+N, ... */
    double xe[60];
    for (int j = 0; j < 3; j++)
        memcpy(xe + j * 20, x + j * N, 20 * sizeof *x);
    rows.x = xe;

    const pu_final_spec specs[] = {
        {.kind = PU_FINAL_LINEAR, .phi = {.intercept = 1, .poly2 = 1}},
        {.kind = PU_FINAL_SPARSE, .phi = {.intercept = 0}}, /* forced to 1 */
        {.kind = PU_FINAL_LEARNER, .slot = {.learner = PU_SLOT_RIDGE, .alpha = 0.5}, .resamples = 8},
        {.kind = PU_FINAL_LEARNER,
         .slot = {.learner = PU_SLOT_FOREST, .trees = 20, .min_leaf = 5}, .resamples = 5},
    };
    const char *const methods[] = {"HC1 sandwich", "debiased lasso",
                                   "bootstrap (normal, 8 resamples)",
                                   "bootstrap (normal, 5 resamples)"};
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        pu_final *f;
        CHECK_OK(pu_final_new(&host, &specs[s], K, &f, err, sizeof err));
        /* Not fitted yet: refused. */
        double tmp[40];
        assert_int_equal(pu_final_effect(f, &rows, tmp, err, sizeof err), TT_ERR_INVALID);
        CHECK_OK(pu_final_fit(f, N, 3, x, arm, g, w, mask, err, sizeof err));
        assert_string_equal(pu_final_method(f), methods[s]);
        if (specs[s].kind == PU_FINAL_SPARSE) {
            /* The debiased lasso recovers the sparse coefficients of arm 2. */
            double ev[6] = {0, 1, 0, 0, 0, 0};
            double e0[6];
            tt_plugin_data r2 = rows_of(2, 3, ev, K);
            CHECK_OK(pu_final_effect(f, &r2, e0, err, sizeof err));
            assert_true(fabs(e0[3] - e0[2] - 2.0) < 0.15); /* d theta_2 / d x1 */
        }
        round_trip(&host, f, &rows, K);
        pu_final_free(f);
    }
    /* An empty stream and garbage: parse errors. */
    membuf empty = {0};
    tt_plugin_source src = mem_source(&empty);
    pu_final *g2 = NULL;
    assert_int_equal(pu_final_load(&host, &src, &g2, err, sizeof err), TT_ERR_PARSE);
    char junk[] = "pu_final 1\nkind 0\narms 3\npx 3\nphi 1 0 4\n";
    membuf jm = {.data = junk, .len = sizeof junk - 1};
    src = mem_source(&jm);
    assert_int_equal(pu_final_load(&host, &src, &g2, err, sizeof err), TT_ERR_PARSE);
    free(x);
    free(g);
    free(w);
    free(arm);
    free(mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_learners_create_and_fit),
        cmocka_unit_test(test_slot_featurizer),
        cmocka_unit_test(test_nuis_propensity_oof_expands_and_clips),
        cmocka_unit_test(test_nuis_multi_arm_and_outcomes),
        cmocka_unit_test(test_nuis_predict),
        cmocka_unit_test(test_boot_matches_welch_and_seeds),
        cmocka_unit_test(test_boot_stops_and_resumes),
        cmocka_unit_test(test_boot_keeps_replicas_at_a_stop),
        cmocka_unit_test(test_boot_resamples_from_the_run),
        cmocka_unit_test(test_final_linear_matches_statsmodels),
        cmocka_unit_test(test_final_linear_multi_arm),
        cmocka_unit_test(test_final_learner_intervals),
        cmocka_unit_test(test_final_learner_no_modifiers),
        cmocka_unit_test(test_final_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
