/* test_scores_policy.c - greedy/Thompson policies, ERUPT and its relatives
 * against naive references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/policy.h"
#include "util/rng.h"

typedef struct data {
    size_t n;
    int K;
    double *y, *tau, *prop;
    int *t;
} data;

static data make(size_t n, int K, uint64_t seed)
{
    data D = {n, K, malloc(n * sizeof(double)), malloc(n * (size_t)(K - 1) * sizeof(double) + 8),
              malloc(n * (size_t)K * sizeof(double)), malloc(n * sizeof(int))};
    tt_rng r;
    tt_rng_seed(&r, seed, "policy");
    for (size_t i = 0; i < n; i++) {
        D.t[i] = (int)tt_rng_below(&r, (uint64_t)K);
        D.y[i] = tt_rng_normal(&r) + 0.5 * D.t[i];
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += (D.prop[(size_t)k * n + i] = 0.01 + tt_rng_uniform(&r));
        for (int k = 0; k < K; k++)
            D.prop[(size_t)k * n + i] /= s;
    }
    /* Rounded effects so exact ties (between arms and with 0) happen. */
    for (size_t i = 0; i < n * (size_t)(K - 1); i++)
        D.tau[i] = round(4.0 * tt_rng_normal(&r)) / 8.0;
    return D;
}

static void drop(data *D)
{
    free(D->y), free(D->tau), free(D->prop), free(D->t);
}

static double clipv(double e, double c)
{
    return e < c ? c : e > 1 - c ? 1 - c : e;
}

static void test_greedy_naive(void **state)
{
    (void)state;
    data D = make(400, 4, 1);
    const double cost[] = {0, 0.1, 0.0, 0.25};
    double *pi = malloc(D.n * 4 * sizeof *pi);
    tt_policy_greedy(D.n, 4, D.tau, cost, pi);
    for (size_t i = 0; i < D.n; i++) {
        /* Explicit: first arm reaching the maximum net value wins. */
        double v[4] = {0};
        for (int k = 1; k < 4; k++)
            v[k] = D.tau[(size_t)(k - 1) * D.n + i] - cost[k];
        double m = v[0];
        for (int k = 1; k < 4; k++)
            m = v[k] > m ? v[k] : m;
        int want = 0;
        while (v[want] != m)
            want++;
        for (int k = 0; k < 4; k++)
            assert_true(pi[(size_t)k * D.n + i] == (k == want ? 1.0 : 0.0));
    }
    free(pi);
    drop(&D);
}

/* A policy that copies the observed assignment: ERUPT is the Hajek mean of Y
 * with weights 1/e_t. */
static void test_erupt_observed_policy_is_hajek_mean(void **state)
{
    (void)state;
    data D = make(500, 3, 2);
    double *pi = calloc(D.n * 3, sizeof *pi);
    for (size_t i = 0; i < D.n; i++)
        pi[(size_t)D.t[i] * D.n + i] = 1.0;
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < D.n; i++) {
        const double w = 1.0 / clipv(D.prop[(size_t)D.t[i] * D.n + i], 0.05);
        num += w * D.y[i];
        den += w;
    }
    assert_float_equal(tt_erupt(D.n, 3, D.t, D.y, D.prop, 0.05, pi), num / den, 1e-12);
    free(pi);
    drop(&D);
}

static void test_erupt_and_costs_naive(void **state)
{
    (void)state;
    data D = make(300, 3, 3);
    const double cost[] = {0, 0.2, 0.4};
    double *pi = malloc(D.n * 3 * sizeof *pi);
    tt_policy_greedy(D.n, 3, D.tau, cost, pi);
    double num = 0.0, den = 0.0, c = 0.0, share[3] = {0};
    for (size_t i = 0; i < D.n; i++) {
        int a = 0;
        for (int k = 0; k < 3; k++)
            if (pi[(size_t)k * D.n + i] == 1.0)
                a = k;
        share[a] += 1.0 / (double)D.n;
        c += cost[a] / (double)D.n;
        if (a == D.t[i]) {
            const double w = 1.0 / clipv(D.prop[(size_t)a * D.n + i], 0.1);
            num += w * D.y[i];
            den += w;
        }
    }
    assert_float_equal(tt_erupt(D.n, 3, D.t, D.y, D.prop, 0.1, pi), num / den, 1e-12);
    assert_float_equal(tt_policy_mean_cost(D.n, 3, pi, cost), c, 1e-12);
    double got[3];
    tt_policy_shares(D.n, 3, pi, got);
    for (int k = 0; k < 3; k++)
        assert_float_equal(got[k], share[k], 1e-12);
    /* No agreeing row: NaN, which the score layer turns into null. */
    for (size_t i = 0; i < D.n * 3; i++)
        pi[i] = 0.0;
    for (size_t i = 0; i < D.n; i++)
        pi[(size_t)((D.t[i] + 1) % 3) * D.n + i] = 1.0;
    assert_true(isnan(tt_erupt(D.n, 3, D.t, D.y, D.prop, 0.1, pi)));
    free(pi);
    drop(&D);
}

static double phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Binary closed form against a Monte-Carlo run written here, and against
 * the library's K > 2 sampler with a third arm that never wins. */
static void test_thompson_closed_form_vs_monte_carlo(void **state)
{
    (void)state;
    const size_t n = 6;
    const double tau[] = {0.3, -0.2, 0.0, 1.0, 0.05, -1.0};
    const double pooled[] = {0.4, 0.4};
    double pi2[12], pi3[18];
    assert_int_equal(tt_policy_thompson(n, 2, tau, NULL, NULL, pooled, NULL, 1, 7, pi2, NULL, 0),
                     TT_OK);
    tt_rng r;
    tt_rng_seed(&r, 99, "mc");
    const int D = 200000;
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(pi2[n + i], phi(tau[i] / 0.4), 1e-15);
        assert_float_equal(pi2[i] + pi2[n + i], 1.0, 1e-15);
        int hits = 0;
        for (int d = 0; d < D; d++)
            hits += tau[i] + 0.4 * tt_rng_normal(&r) > 0.0;
        assert_float_equal((double)hits / D, pi2[n + i], 0.005);
    }
    double tau3[12];
    memcpy(tau3, tau, sizeof tau);
    for (size_t i = 0; i < n; i++)
        tau3[n + i] = -1e6;
    assert_int_equal(
        tt_policy_thompson(n, 3, tau3, NULL, NULL, pooled, NULL, 20000, 7, pi3, NULL, 0), TT_OK);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(pi3[n + i], pi2[n + i], 0.015);
        assert_float_equal(pi3[2 * n + i], 0.0, 0.0);
    }
}

static void test_thompson_intervals_and_seed(void **state)
{
    (void)state;
    data D = make(200, 3, 4);
    double *lo = malloc(D.n * 2 * sizeof *lo), *hi = malloc(D.n * 2 * sizeof *hi);
    for (size_t i = 0; i < D.n * 2; i++) {
        lo[i] = D.tau[i] - 0.3 * (1 + (double)(i % 3));
        hi[i] = D.tau[i] + 0.3 * (1 + (double)(i % 3));
    }
    double *a = malloc(D.n * 3 * sizeof *a), *b = malloc(D.n * 3 * sizeof *b);
    assert_int_equal(tt_policy_thompson(D.n, 3, D.tau, lo, hi, NULL, NULL, 64, 5, a, NULL, 0),
                     TT_OK);
    assert_int_equal(tt_policy_thompson(D.n, 3, D.tau, lo, hi, NULL, NULL, 64, 5, b, NULL, 0),
                     TT_OK);
    assert_memory_equal(a, b, D.n * 3 * sizeof *a);
    for (size_t i = 0; i < D.n; i++)
        assert_float_equal(a[i] + a[D.n + i] + a[2 * D.n + i], 1.0, 1e-12);
    assert_int_equal(tt_policy_thompson(D.n, 3, D.tau, lo, hi, NULL, NULL, 64, 6, b, NULL, 0),
                     TT_OK);
    assert_true(memcmp(a, b, D.n * 3 * sizeof *a) != 0);
    /* Binary with intervals: s = half-width / z. */
    assert_int_equal(tt_policy_thompson(D.n, 2, D.tau, lo, hi, NULL, NULL, 1, 5, a, NULL, 0),
                     TT_OK);
    for (size_t i = 0; i < D.n; i++)
        assert_float_equal(a[D.n + i], phi(D.tau[i] / ((hi[i] - lo[i]) / 2 / TT_Z975)), 1e-12);
    /* A reversed interval is a data error. */
    lo[3] = hi[3] + 1;
    assert_int_equal(tt_policy_thompson(D.n, 2, D.tau, lo, hi, NULL, NULL, 1, 5, a, NULL, 0),
                     TT_ERR_DATA);
    free(lo), free(hi), free(a), free(b);
    drop(&D);
}

static void test_norm_erupt_and_arm_values_naive(void **state)
{
    (void)state;
    data D = make(400, 2, 8);
    double v[2];
    for (int k = 0; k < 2; k++) {
        double num = 0.0, den = 0.0;
        for (size_t i = 0; i < D.n; i++)
            if (D.t[i] == k) {
                const double w = 1.0 / clipv(D.prop[(size_t)k * D.n + i], 0.05);
                num += w * D.y[i];
                den += w;
            }
        v[k] = num / den;
        assert_float_equal(tt_arm_value(D.n, D.t, D.y, D.prop, 0.05, k), v[k], 1e-12);
    }
    const double ate = v[1] - v[0];
    double num = 0.0, den = 0.0, treated = 0.0;
    for (size_t i = 0; i < D.n; i++) {
        const int a = D.tau[i] > ate ? 1 : 0;
        treated += a;
        if (a == D.t[i]) {
            const double w = 1.0 / clipv(D.prop[(size_t)a * D.n + i], 0.05);
            num += w * D.y[i];
            den += w;
        }
    }
    assert_float_equal(tt_norm_erupt(D.n, D.t, D.y, D.prop, 0.05, D.tau),
                       num / den - ate * treated / (double)D.n, 1e-12);
    drop(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_naive),
        cmocka_unit_test(test_erupt_observed_policy_is_hajek_mean),
        cmocka_unit_test(test_erupt_and_costs_naive),
        cmocka_unit_test(test_thompson_closed_form_vs_monte_carlo),
        cmocka_unit_test(test_thompson_intervals_and_seed),
        cmocka_unit_test(test_norm_erupt_and_arm_values_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
