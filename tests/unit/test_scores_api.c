/* test_scores_api.c - the score catalogue, config-time checks, the scoring
 * context and tt_scores_compute end to end. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/energy.h"
#include "score/policy.h"
#include "score/scores.h"
#include "util/rng.h"

typedef struct sim {
    size_t n;
    int K;
    double *x, *w, *y, *tau;
    int *t;
} sim;

static sim simulate(size_t n, int K, uint64_t seed)
{
    sim s = {n, K, malloc(2 * n * sizeof(double)), malloc(n * sizeof(double)),
             malloc(n * sizeof(double)), malloc(n * (size_t)(K - 1) * sizeof(double)),
             malloc(n * sizeof(int))};
    tt_rng r;
    tt_rng_seed(&r, seed, "api");
    for (size_t i = 0; i < 2 * n; i++)
        s.x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        s.w[i] = tt_rng_normal(&r);
        s.t[i] = (int)tt_rng_below(&r, (uint64_t)K);
        for (int k = 1; k < K; k++)
            s.tau[(size_t)(k - 1) * n + i] = k * (0.5 + s.x[n + i]);
        s.y[i] = s.x[i] + s.w[i] + tt_rng_normal(&r) +
                 (s.t[i] ? s.tau[(size_t)(s.t[i] - 1) * n + i] : 0.0);
    }
    return s;
}

static tt_plugin_data view(const sim *s)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = s->n, .p_x = 2,
                            .p_w = 1, .x = s->x, .w = s->w, .t = s->t, .y = s->y,
                            .n_arms = s->K};
}

static void drop(sim *s)
{
    free(s->x), free(s->w), free(s->y), free(s->tau), free(s->t);
}

static const tt_score_value *find(const tt_score_value *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    fail_msg("score %s missing", name);
    return NULL;
}

static void test_catalogue_and_check(void **state)
{
    (void)state;
    size_t n;
    const tt_score_info *cat = tt_score_catalogue(&n);
    assert_true(n >= 19);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(tt_score_find(cat[i].name), &cat[i]);
        assert_true(strlen(cat[i].description) > 10);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(cat[i].name, cat[j].name);
    }
    assert_int_equal(tt_score_find("energy")->direction, TT_SCORE_MIN);
    assert_int_equal(tt_score_find("erupt")->direction, TT_SCORE_MAX);
    char err[1024] = "";
    assert_int_equal(tt_score_check("energy", 3, 0, err, sizeof err), TT_OK);
    assert_int_equal(tt_score_check("enrgy", 2, 0, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "enrgy"));
    assert_non_null(strstr(err, "psw_energy"));
    assert_non_null(strstr(err, "dr_mse"));
    assert_int_equal(tt_score_check("norm_erupt", 3, 0, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "binary"));
    assert_int_equal(tt_score_check("norm_erupt", 2, 0, err, sizeof err), TT_OK);
    assert_int_equal(tt_score_check("iv_energy", 2, 0, err, sizeof err), TT_ERR_CONFIG);
    assert_int_equal(tt_score_check("iv_energy", 2, 1, err, sizeof err), TT_OK);
}

static void test_compute_all_binary(void **state)
{
    (void)state;
    sim tr = simulate(800, 2, 1), va = simulate(600, 2, 2);
    tt_plugin_data tv = view(&tr), vv = view(&va);
    tt_score_options o;
    tt_score_options_init(&o);
    o.seed = 3;
    tt_score_context *ctx = NULL;
    char err[512] = "";
    assert_int_equal(tt_score_context_build(&tv, &vv, &o, &ctx, err, sizeof err), TT_OK);
    tt_score_value out[32];
    size_t n_out = 0;
    assert_int_equal(
        tt_scores_compute(ctx, va.tau, NULL, NULL, NULL, 0, out, 32, &n_out, err, sizeof err),
        TT_OK);
    assert_int_equal(n_out, 18); /* everything but iv_energy */
    for (size_t i = 0; i < n_out; i++) {
        if (strcmp(out[i].name, "ate_lo") == 0 || strcmp(out[i].name, "ate_hi") == 0) {
            assert_true(out[i].is_null);
            assert_non_null(strstr(out[i].reason, "needs intervals"));
        } else if (out[i].is_null || !isfinite(out[i].value)) {
            fail_msg("%s is null: %s", out[i].name, out[i].reason);
        }
    }
    /* The same numbers as the score functions called directly. */
    double e;
    assert_int_equal(tt_energy_score(va.n, 2, va.x, va.y, va.t, 2, va.tau, 1, &e, NULL, 0),
                     TT_OK);
    assert_true(find(out, n_out, "energy")->value == e);
    assert_int_equal(tt_psw_energy_score(va.n, 2, va.x, va.y, va.t, 2, va.tau,
                                         tt_score_context_propensity(ctx), 0.05, 1, &e, NULL, 0),
                     TT_OK);
    assert_true(find(out, n_out, "psw_energy")->value == e);
    double mean = 0;
    for (size_t i = 0; i < va.n; i++)
        mean += va.tau[i] / (double)va.n;
    assert_float_equal(find(out, n_out, "ate")->value, mean, 1e-12);
    const double v0 = tt_arm_value(va.n, va.t, va.y, tt_score_context_propensity(ctx), 0.05, 0);
    assert_float_equal(find(out, n_out, "policy_gain")->value,
                       find(out, n_out, "policy_value")->value - v0, 1e-12);
    /* Greedy erupt without costs is policy_value. */
    assert_float_equal(find(out, n_out, "erupt")->value, find(out, n_out, "policy_value")->value,
                       1e-12);
    /* The true effect beats its negation on r_score. */
    double *neg = malloc(va.n * sizeof *neg);
    for (size_t i = 0; i < va.n; i++)
        neg[i] = -va.tau[i];
    const char *const rs[] = {"r_score", "dr_mse"};
    tt_score_value o2[2];
    assert_int_equal(tt_scores_compute(ctx, neg, NULL, NULL, rs, 2, o2, 2, &n_out, NULL, 0),
                     TT_OK);
    assert_true(o2[0].value < find(out, 18, "r_score")->value);
    assert_true(o2[1].value > find(out, 18, "dr_mse")->value);

    /* A constant effect ties every row and ranks nothing: qini is null with
     * a reason (not the random line's 0), its spread is 0. */
    for (size_t i = 0; i < va.n; i++)
        neg[i] = 0.25;
    const char *const q[] = {"qini", "ate_sd"};
    assert_int_equal(tt_scores_compute(ctx, neg, NULL, NULL, q, 2, o2, 2, &n_out, NULL, 0),
                     TT_OK);
    assert_true(o2[0].is_null);
    assert_non_null(strstr(o2[0].reason, "ranks nothing"));
    assert_float_equal(o2[1].value, 0.0, 0.0);

    /* Intervals: the ate interval is the mean of the row intervals. */
    double *lo = malloc(va.n * sizeof *lo), *hi = malloc(va.n * sizeof *hi);
    double mlo = 0;
    for (size_t i = 0; i < va.n; i++) {
        lo[i] = va.tau[i] - 1.0, hi[i] = va.tau[i] + 1.0;
        mlo += lo[i] / (double)va.n;
    }
    const char *const al[] = {"ate_lo"};
    assert_int_equal(tt_scores_compute(ctx, va.tau, lo, hi, al, 1, o2, 2, &n_out, NULL, 0),
                     TT_OK);
    assert_float_equal(o2[0].value, mlo, 1e-12);
    lo[0] = NAN;
    assert_int_equal(tt_scores_compute(ctx, va.tau, lo, hi, al, 1, o2, 2, &n_out, NULL, 0),
                     TT_OK);
    assert_true(o2[0].is_null);

    /* Errors: unknown name, room, one-sided intervals, non-finite effects. */
    const char *const bad[] = {"energy", "bogus"};
    assert_int_equal(tt_scores_compute(ctx, va.tau, NULL, NULL, bad, 2, o2, 2, &n_out, err,
                                       sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(tt_scores_compute(ctx, va.tau, NULL, NULL, NULL, 0, o2, 2, &n_out, NULL, 0),
                     TT_ERR_INVALID);
    assert_int_equal(tt_scores_compute(ctx, va.tau, lo, NULL, al, 1, o2, 2, &n_out, NULL, 0),
                     TT_ERR_INVALID);
    neg[3] = INFINITY;
    assert_int_equal(tt_scores_compute(ctx, neg, NULL, NULL, al, 1, o2, 2, &n_out, NULL, 0),
                     TT_ERR_INVALID);
    free(neg), free(lo), free(hi);
    assert_int_equal(tt_score_context_energy_rows(ctx), va.n);
    tt_score_context_free(ctx);

    /* A subsampled energy is reported with the rows it used. */
    o.energy_max_rows = 300;
    o.fit_nuisances = 0;
    assert_int_equal(tt_score_context_build(&tv, &vv, &o, &ctx, err, sizeof err), TT_OK);
    const size_t used = tt_score_context_energy_rows(ctx);
    assert_true(used >= 298 && used <= 302);
    const char *const en[] = {"energy"};
    assert_int_equal(tt_scores_compute(ctx, va.tau, NULL, NULL, en, 1, o2, 2, &n_out, NULL, 0),
                     TT_OK);
    assert_false(o2[0].is_null);
    assert_true(o2[0].value != find(out, 18, "energy")->value);
    tt_score_context_free(ctx);
    drop(&tr), drop(&va);
}

static void test_multi_arm_thompson_known_propensity(void **state)
{
    (void)state;
    sim va = simulate(500, 3, 4);
    tt_plugin_data vv = view(&va);
    double *prop = malloc(va.n * 3 * sizeof *prop);
    for (size_t i = 0; i < va.n * 3; i++)
        prop[i] = 1.0 / 3.0;
    const double cost[] = {0, 0.2, 0.5};
    tt_score_options o;
    tt_score_options_init(&o);
    o.known_propensity = prop;
    o.cost = cost;
    o.erupt_policy = TT_ERUPT_THOMPSON;
    o.thompson_draws = 50;
    o.seed = 9;
    o.fit_nuisances = 0;
    o.qini_weighted = 1;
    tt_score_context *a = NULL, *b = NULL;
    assert_int_equal(tt_score_context_build(NULL, &vv, &o, &a, NULL, 0), TT_OK);
    assert_int_equal(tt_score_context_build(NULL, &vv, &o, &b, NULL, 0), TT_OK);
    tt_score_value va1[32], vb1[32];
    size_t na = 0, nb = 0;
    assert_int_equal(tt_scores_compute(a, va.tau, NULL, NULL, NULL, 0, va1, 32, &na, NULL, 0),
                     TT_OK);
    assert_int_equal(tt_scores_compute(b, va.tau, NULL, NULL, NULL, 0, vb1, 32, &nb, NULL, 0),
                     TT_OK);
    assert_int_equal(na, 17); /* no norm_erupt, no iv_energy */
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(va1[i].name, vb1[i].name);
        assert_int_equal(va1[i].is_null, vb1[i].is_null);
        if (!va1[i].is_null)
            assert_memory_equal(&va1[i].value, &vb1[i].value, sizeof(double));
    }
    /* Constant known propensities: psw_energy equals energy. */
    assert_float_equal(find(va1, na, "psw_energy")->value, find(va1, na, "energy")->value,
                       1e-12 * find(va1, na, "energy")->value);
    assert_true(find(va1, na, "r_score")->is_null);
    assert_non_null(strstr(find(va1, na, "r_score")->reason, "not fitted"));
    /* Thompson shares are probabilities summing to 1; net erupt pays costs. */
    double shares[3];
    assert_int_equal(tt_scores_treat_shares(a, va.tau, NULL, NULL, shares, NULL, 0), TT_OK);
    assert_float_equal(shares[0] + shares[1] + shares[2], 1.0, 1e-12);
    assert_float_equal(find(va1, na, "treat_share")->value, 1.0 - shares[0], 1e-12);
    assert_float_equal(find(va1, na, "erupt")->value - find(va1, na, "erupt_net")->value,
                       0.2 * shares[1] + 0.5 * shares[2], 1e-12);
    const char *const ne[] = {"norm_erupt"};
    char err[256] = "";
    assert_int_equal(
        tt_scores_compute(a, va.tau, NULL, NULL, ne, 1, va1, 32, &na, err, sizeof err),
        TT_ERR_CONFIG);
    assert_non_null(strstr(err, "binary"));
    tt_score_context_free(a);
    tt_score_context_free(b);

    /* IV: the instrument makes iv_energy apply. */
    int *z = malloc(va.n * sizeof *z);
    for (size_t i = 0; i < va.n; i++)
        z[i] = (int)(i % 2);
    o.instrument = z;
    o.n_instrument = 2;
    assert_int_equal(tt_score_context_build(NULL, &vv, &o, &a, NULL, 0), TT_OK);
    const char *const iv[] = {"iv_energy"};
    assert_int_equal(tt_scores_compute(a, va.tau, NULL, NULL, iv, 1, va1, 32, &na, NULL, 0),
                     TT_OK);
    assert_false(va1[0].is_null);
    tt_score_context_free(a);
    /* Bad options are rejected before any work. */
    o.clip = 0.7;
    assert_int_equal(tt_score_context_build(NULL, &vv, &o, &a, err, sizeof err), TT_ERR_CONFIG);
    assert_null(a);
    free(z), free(prop);
    drop(&va);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_and_check),
        cmocka_unit_test(test_compute_all_binary),
        cmocka_unit_test(test_multi_arm_thompson_known_propensity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
