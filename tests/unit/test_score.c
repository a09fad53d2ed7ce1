/* test_score.c - energy score and oracle figures against naive references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/energy.h"
#include "score/oracle.h"
#include "util/rng.h"

/* ---- naive reference -------------------------------------------------------- */

static double dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t k = 0; k < d; k++)
        s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

/* E(arm ka, arm kb) straight from the definition, over all ordered pairs. */
static double naive_e(const double *z, const int *t, size_t n, size_t d, int ka, int kb)
{
    double ab = 0.0, aa = 0.0, bb = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        na += t[i] == ka;
        nb += t[i] == kb;
        for (size_t j = 0; j < n; j++) {
            const double dij = dist(z + i * d, z + j * d, d);
            if (t[i] == ka && t[j] == kb)
                ab += dij;
            if (t[i] == ka && t[j] == ka)
                aa += dij;
            if (t[i] == kb && t[j] == kb)
                bb += dij;
        }
    }
    return 2.0 * ab / (na * nb) - aa / (na * na) - bb / (nb * nb);
}

static void mean_sd(size_t n, const double *v, double *m, double *s)
{
    double a = 0.0, q = 0.0;
    for (size_t i = 0; i < n; i++)
        a += v[i];
    a /= (double)n;
    for (size_t i = 0; i < n; i++)
        q += (v[i] - a) * (v[i] - a);
    *m = a;
    *s = sqrt(q / (double)n);
    if (*s == 0.0)
        *s = 1.0;
}

static double naive_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int k_arms, const double *tau, int standardize)
{
    const size_t d = p + 1;
    double *z = malloc(n * d * sizeof *z);
    double ym = 0.0, ys = 1.0;
    if (standardize)
        mean_sd(n, y, &ym, &ys);
    for (size_t j = 0; j < p; j++) {
        double m = 0.0, s = 1.0;
        if (standardize)
            mean_sd(n, x + j * n, &m, &s);
        for (size_t i = 0; i < n; i++)
            z[i * d + j] = (x[j * n + i] - m) / s;
    }
    for (size_t i = 0; i < n; i++) {
        double y0 = y[i] - (t[i] > 0 ? tau[(size_t)(t[i] - 1) * n + i] : 0.0);
        z[i * d + p] = (y0 - ym) / ys;
    }
    double n0 = 0.0;
    for (size_t i = 0; i < n; i++)
        n0 += t[i] == 0;
    double score = 0.0;
    for (int k = 1; k < k_arms; k++) {
        double nk = 0.0;
        for (size_t i = 0; i < n; i++)
            nk += t[i] == k;
        score += nk / ((double)n - n0) * naive_e(z, t, n, d, k, 0);
    }
    free(z);
    return score;
}

typedef struct problem {
    size_t n, p;
    int k;
    double *x, *y, *tau;
    int *t;
} problem;

static problem random_problem(uint64_t seed, size_t n, size_t p, int k)
{
    problem pr = {n, p, k, NULL, NULL, NULL, NULL};
    tt_rng r;
    tt_rng_seed(&r, seed, "energy");
    pr.x = malloc((p ? p : 1) * n * sizeof *pr.x);
    pr.y = malloc(n * sizeof *pr.y);
    pr.tau = malloc((size_t)(k - 1) * n * sizeof *pr.tau);
    pr.t = malloc(n * sizeof *pr.t);
    for (size_t i = 0; i < n * p; i++)
        pr.x[i] = 3.0 * tt_rng_normal(&r) + 1.0;
    for (size_t i = 0; i < n; i++) {
        pr.t[i] = i < (size_t)k ? (int)i : (int)tt_rng_below(&r, (uint64_t)k);
        pr.y[i] = 10.0 + 2.0 * tt_rng_normal(&r) + pr.t[i];
    }
    for (size_t i = 0; i < (size_t)(k - 1) * n; i++)
        pr.tau[i] = 0.5 + tt_rng_normal(&r);
    return pr;
}

static void free_problem(problem *pr)
{
    free(pr->x);
    free(pr->y);
    free(pr->tau);
    free(pr->t);
}

static double score_ok(const problem *pr, int standardize)
{
    double s = NAN;
    char err[256] = "";
    tt_status st = tt_energy_score(pr->n, pr->p, pr->p ? pr->x : NULL, pr->y, pr->t, pr->k,
                                   pr->tau, standardize, &s, err, sizeof err);
    if (st != TT_OK)
        fail_msg("energy: %s", err);
    return s;
}

/* ---- energy ----------------------------------------------------------------- */

static void test_energy_matches_naive(void **state)
{
    (void)state;
    /* Sizes straddle the 128-point tile so partial and multiple tiles occur. */
    const struct { size_t n, p; int k; } cases[] = {
        {7, 1, 2}, {97, 3, 2}, {300, 2, 2}, {129, 0, 2}, {250, 4, 3}, {61, 2, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        problem pr = random_problem(100 + c, cases[c].n, cases[c].p, cases[c].k);
        for (int std = 0; std <= 1; std++) {
            const double got = score_ok(&pr, std);
            const double ref = naive_score(pr.n, pr.p, pr.x, pr.y, pr.t, pr.k, pr.tau, std);
            assert_true(ref > 0.0);
            assert_true(fabs(got - ref) <= 1e-10 * ref);
        }
        free_problem(&pr);
    }
}

static void test_energy_hand_case(void **state)
{
    (void)state;
    /* 1-D (p = 0), raw. Arm 1: y = {1, 3}, arm 0: y = {0, 2}, tau_hat = 0.
     * Cross |1-0| + |1-2| + |3-0| + |3-2| = 6, so 2 * 6 / (2 * 2) = 3.
     * Within arm 1: ordered pairs (1,3), (3,1): 2 + 2 = 4, / 2^2 = 1; arm 0 the same.
     * E = 3 - 1 - 1 = 1. */
    double y[4] = {1, 0, 3, 2};
    int t[4] = {1, 0, 1, 0};
    double tau[4] = {0, 0, 0, 0};
    double s = -1.0;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 0, &s, NULL, 0), TT_OK);
    assert_true(fabs(s - 1.0) < 1e-15);
    /* Standardised: y has mean 1.5 and population sd sqrt(1.25); a pure
     * rescaling divides E by sqrt(1.25). */
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 1, &s, NULL, 0), TT_OK);
    assert_true(fabs(s - 1.0 / sqrt(1.25)) < 1e-15);
    /* tau_hat = 1 on the treated rows makes arm 1 {0, 2}, identical to arm 0. */
    tau[0] = tau[2] = 1.0;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 0, &s, NULL, 0), TT_OK);
    assert_true(s == 0.0);
    /* A constant x column changes nothing, standardised or not. */
    double x[4] = {5, 5, 5, 5};
    tau[0] = tau[2] = 0.0;
    assert_int_equal(tt_energy_score(4, 1, x, y, t, 2, tau, 1, &s, NULL, 0), TT_OK);
    assert_true(fabs(s - 1.0 / sqrt(1.25)) < 1e-15);
}

static void test_energy_row_order(void **state)
{
    (void)state;
    problem pr = random_problem(7, 400, 3, 3);
    const double before = score_ok(&pr, 1);
    /* Reverse the rows (x, y, t and both tau columns). */
    problem rev = random_problem(7, 400, 3, 3);
    const size_t n = pr.n;
    for (size_t i = 0; i < n; i++) {
        const size_t j = n - 1 - i;
        rev.y[i] = pr.y[j];
        rev.t[i] = pr.t[j];
        for (size_t c = 0; c < pr.p; c++)
            rev.x[c * n + i] = pr.x[c * n + j];
        for (size_t c = 0; c < 2; c++)
            rev.tau[c * n + i] = pr.tau[c * n + j];
    }
    const double after = score_ok(&rev, 1);
    assert_true(fabs(before - after) <= 1e-12 * before);
    free_problem(&pr);
    free_problem(&rev);
}

static void test_energy_distance_nonnegative(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 9, "nonneg");
    for (int rep = 0; rep < 40; rep++) {
        const size_t na = 1 + tt_rng_below(&r, 200), nb = 1 + tt_rng_below(&r, 200);
        const size_t d = tt_rng_below(&r, 5);
        double *a = malloc((na * d + 1) * sizeof *a), *b = malloc((nb * d + 1) * sizeof *b);
        for (size_t i = 0; i < na * d; i++)
            a[i] = tt_rng_normal(&r);
        for (size_t i = 0; i < nb * d; i++)
            b[i] = tt_rng_normal(&r) + (rep % 2 ? 0.3 : 0.0);
        const double e = tt_energy_distance(a, na, b, nb, d);
        assert_true(e >= 0.0);
        /* Same value as the naive formula on the stacked points. */
        double *z = malloc(((na + nb) * d + 1) * sizeof *z);
        int *t = malloc((na + nb) * sizeof *t);
        memcpy(z, a, na * d * sizeof *z);
        memcpy(z + na * d, b, nb * d * sizeof *z);
        for (size_t i = 0; i < na + nb; i++)
            t[i] = i < na;
        const double ref = naive_e(z, t, na + nb, d, 1, 0);
        assert_true(fabs(e - fmax(ref, 0.0)) <= 1e-10 * fmax(1.0, fabs(ref)));
        /* Identical samples: 0 up to rounding (never negative). */
        const double same = tt_energy_distance(a, na, a, na, d);
        assert_true(same >= 0.0 && same < 1e-12);
        free(a);
        free(b);
        free(z);
        free(t);
    }
    double one = 1.0;
    assert_true(isnan(tt_energy_distance(&one, 0, &one, 1, 1)));
}

static void test_energy_prefers_true_effect(void **state)
{
    (void)state;
    /* y = x + 2 T + noise, T random: tau = 2 de-treats exactly. */
    const size_t n = 600;
    tt_rng r;
    tt_rng_seed(&r, 3, "truth");
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *tau = malloc(n * sizeof *tau);
    int *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        x[i] = tt_rng_normal(&r);
        t[i] = tt_rng_uniform(&r) < 0.5;
        y[i] = x[i] + 2.0 * t[i] + 0.5 * tt_rng_normal(&r);
    }
    for (int std = 0; std <= 1; std++) {
        double s_true, s_zero, s_half;
        for (size_t i = 0; i < n; i++)
            tau[i] = 2.0;
        assert_int_equal(tt_energy_score(n, 1, x, y, t, 2, tau, std, &s_true, NULL, 0), TT_OK);
        for (size_t i = 0; i < n; i++)
            tau[i] = 0.0;
        assert_int_equal(tt_energy_score(n, 1, x, y, t, 2, tau, std, &s_zero, NULL, 0), TT_OK);
        for (size_t i = 0; i < n; i++)
            tau[i] = 1.0;
        assert_int_equal(tt_energy_score(n, 1, x, y, t, 2, tau, std, &s_half, NULL, 0), TT_OK);
        assert_true(s_true < s_half);
        assert_true(s_half < s_zero);
    }
    free(x);
    free(y);
    free(tau);
    free(t);
}

static void test_energy_errors(void **state)
{
    (void)state;
    double y[4] = {1, 2, 3, 4}, tau[8] = {0};
    int t[4] = {0, 1, 1, 0};
    double s = 0.0;
    char err[256] = "";
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 3, tau, 1, &s, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "arm 2"));
    assert_true(isnan(s));
    tau[2] = NAN;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 1, &s, err, sizeof err),
                     TT_ERR_NUMERIC);
    tau[2] = INFINITY;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 1, &s, err, sizeof err),
                     TT_ERR_NUMERIC);
    tau[2] = 0.0;
    t[3] = 5;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 1, &s, err, sizeof err),
                     TT_ERR_INVALID);
    t[3] = 0;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 1, tau, 1, &s, err, sizeof err),
                     TT_ERR_INVALID);
    assert_int_equal(tt_energy_score(0, 0, NULL, NULL, NULL, 2, NULL, 1, &s, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "arm 0"));
}

/* ---- oracle ----------------------------------------------------------------- */

static void test_oracle_hand(void **state)
{
    (void)state;
    /* n = 2, K = 3. Arm 1: tau_hat {1, 2}, tau {0, 2}; arm 2: tau_hat {3, 5}, tau {3, 3}.
     * Errors 1, 0, 0, 2: pehe = sqrt(5 / 4). ATE errors |1.5 - 1| = 0.5 and
     * |4 - 3| = 1, mean 0.75. */
    const double hat[4] = {1, 2, 3, 5}, tau[4] = {0, 2, 3, 3};
    assert_true(fabs(tt_oracle_pehe(2, 3, hat, tau) - sqrt(1.25)) < 1e-15);
    assert_true(fabs(tt_oracle_ate_error(2, 3, hat, tau) - 0.75) < 1e-15);
    /* Binary: errors +1 and -1 cancel in the ATE but not in PEHE. */
    const double h2[2] = {1, -1}, t2[2] = {0, 0};
    assert_true(fabs(tt_oracle_pehe(2, 2, h2, t2) - 1.0) < 1e-15);
    assert_true(tt_oracle_ate_error(2, 2, h2, t2) == 0.0);
    assert_true(isnan(tt_oracle_pehe(0, 2, h2, t2)));
    assert_true(isnan(tt_oracle_ate_error(2, 1, h2, t2)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_matches_naive),
        cmocka_unit_test(test_energy_hand_case),
        cmocka_unit_test(test_energy_row_order),
        cmocka_unit_test(test_energy_distance_nonnegative),
        cmocka_unit_test(test_energy_prefers_true_effect),
        cmocka_unit_test(test_energy_errors),
        cmocka_unit_test(test_oracle_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
