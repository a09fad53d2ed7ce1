/* test_assign.c - score/thompson.h's exact Thompson probabilities and
 * experiment/assign.h's floor and draw (`tautune assign`).
 *
 * References, independent of the quadrature:
 * - a brute-force Monte Carlo of the same posterior (every arm's value drawn
 *   from its normal, 10^6 draws per case, the argmax counted; ties cannot
 *   happen with continuous draws), agreeing within 5 standard errors;
 * - closed forms: two arms Phi(mu/sd) (and tt_policy_thompson's), the
 *   control's P(all arms below 0) = prod_j Phi(-mu_j/sd_j), K iid arms at 0
 *   give the control 2^-(K-1) and split the rest evenly, sd = 0 everywhere
 *   is tt_policy_greedy. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "experiment/assign.h"
#include "score/policy.h"
#include "score/thompson.h"
#include "util/rng.h"

#define MC_DRAWS 1000000

/* |got - want| <= tol (cmocka 1.1 has no assert_double_equal). */
#define near(got, want, tol) near_at((got), (want), (tol), #got, __LINE__)
static void near_at(double got, double want, double tol, const char *what, int line)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("line %d: %s = %.17g, want %.17g (tolerance %g)", line, what, got, want, tol);
}

static double phi_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* One row: K-1 means and sds of arms 1..K-1. */
typedef struct post {
    int k;
    double mu[4], sd[4];
} post;

static void exact_row(const post *c, double *p)
{
    char err[256];
    double defect = 1;
    assert_int_equal(tt_thompson_exact(1, c->k, c->mu, c->sd, p, &defect, err, sizeof err),
                     TT_OK);
    /* The integrals alone (before the row is divided by its sum) add up. */
    if (!(defect < 1e-11))
        fail_msg("the probabilities summed to 1 +- %g before normalising", defect);
}

/* Brute force: draw every arm, count the winner (arm 0 is 0; a strict > so
 * sd = 0 arms tied with the control lose, as in the greedy rule). */
static void monte_carlo_row(const post *c, uint64_t seed, double *p)
{
    tt_rng rng;
    tt_rng_seed(&rng, seed, "test:brute");
    long count[5] = {0};
    for (long r = 0; r < MC_DRAWS; r++) {
        int best = 0;
        double best_v = 0.0;
        for (int k = 1; k < c->k; k++) {
            const double v = c->mu[k - 1] + c->sd[k - 1] * tt_rng_normal(&rng);
            if (v > best_v) {
                best = k;
                best_v = v;
            }
        }
        count[best]++;
    }
    for (int k = 0; k < c->k; k++)
        p[k] = (double)count[k] / MC_DRAWS;
}

static void within_mc(const double *exact, const double *mc, int k, const char *what)
{
    for (int a = 0; a < k; a++) {
        const double se = sqrt(exact[a] * (1 - exact[a]) / MC_DRAWS) + 1e-9;
        if (!(fabs(exact[a] - mc[a]) <= 5 * se))
            fail_msg("%s, arm %d: exact %.9f, Monte Carlo %.9f (%.1f standard errors)", what,
                     a, exact[a], mc[a], fabs(exact[a] - mc[a]) / se);
    }
}

static void test_two_arms_closed_form(void **state)
{
    (void)state;
    const double mu[5] = {0.3, -1.2, 0.0, 2.5, 1e-3}, sd[5] = {0.5, 0.7, 1.0, 0.1, 2.0};
    double p[10], q[10];
    char err[256];
    assert_int_equal(tt_thompson_exact(5, 2, mu, sd, p, NULL, err, sizeof err), TT_OK);
    double lo[5], hi[5];
    for (int i = 0; i < 5; i++) {
        lo[i] = mu[i] - TT_Z975 * sd[i];
        hi[i] = mu[i] + TT_Z975 * sd[i];
    }
    assert_int_equal(tt_policy_thompson(5, 2, mu, lo, hi, NULL, NULL, 1, 0, q, err, sizeof err),
                     TT_OK);
    for (int i = 0; i < 5; i++) {
        near(p[5 + i], phi_cdf(mu[i] / sd[i]), 1e-15);
        near(p[5 + i], q[5 + i], 1e-13); /* sd via the interval */
        near(p[i] + p[5 + i], 1.0, 1e-15);
    }
    post c = {2, {0.3}, {0.5}};
    double e[2], m[2];
    exact_row(&c, e);
    monte_carlo_row(&c, 1, m);
    within_mc(e, m, 2, "two arms");
}

static void test_many_arms_against_monte_carlo(void **state)
{
    (void)state;
    const post cases[] = {
        {3, {0.2, 0.1}, {0.5, 0.3}},
        {3, {-0.4, 0.8}, {1.0, 0.2}},
        {3, {0.05, 0.05}, {0.01, 2.0}},       /* sds 200 apart: a steep factor */
        {3, {1.0, 1.0}, {1e-4, 1.0}},         /* and steeper */
        {3, {0.3, 0.0}, {0.4, 0.0}},          /* arm 2 fixed at the control's 0 */
        {3, {0.3, 0.25}, {0.4, 0.0}},         /* arm 2 fixed above the control */
        {4, {0.1, 0.2, 0.3}, {0.3, 0.3, 0.3}},
        {4, {-1.0, 0.5, 0.4}, {0.8, 0.1, 0.9}},
        {4, {2.0, -3.0, 1.9}, {0.05, 1.0, 0.02}},
        {4, {0.0, 0.0, 0.0}, {1.0, 2.0, 0.5}},
        {5, {0.1, -0.1, 0.2, 0.15}, {0.2, 0.6, 0.05, 0.3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double e[5], m[5], sum = 0;
        char what[64];
        snprintf(what, sizeof what, "case %zu (K = %d)", i, cases[i].k);
        exact_row(&cases[i], e);
        monte_carlo_row(&cases[i], 100 + i, m);
        within_mc(e, m, cases[i].k, what);
        for (int k = 0; k < cases[i].k; k++)
            sum += e[k];
        near(sum, 1.0, 1e-14);
    }
}

static void test_closed_forms(void **state)
{
    (void)state;
    /* The control wins when every arm is below 0: a product of Phis. */
    const post c = {4, {0.2, -0.5, 0.1}, {0.4, 1.3, 0.25}};
    double p[4];
    exact_row(&c, p);
    near(p[0], phi_cdf(-0.2 / 0.4) * phi_cdf(0.5 / 1.3) * phi_cdf(-0.1 / 0.25),
                        1e-14);
    /* K iid arms centred on the control: 2^-(K-1) for it, the rest evenly. */
    for (int k = 3; k <= 5; k++) {
        post s = {k, {0}, {0.7, 0.7, 0.7, 0.7}};
        double q[5];
        exact_row(&s, q);
        const double p0 = ldexp(1.0, -(k - 1));
        near(q[0], p0, 1e-14);
        for (int a = 1; a < k; a++)
            near(q[a], (1 - p0) / (k - 1), 1e-13);
    }
    /* Arm 1 certain at 0.3 beats arm 2 certain at 0.3 (ties stay low), and
     * with every sd 0 the rule is the greedy policy. */
    const double mu[6] = {0.3, -0.2, 0.0, 0.3, 0.1, -0.1}, sd[6] = {0};
    double pi[9], g[9];
    char err[128];
    assert_int_equal(tt_thompson_exact(3, 3, mu, sd, pi, NULL, err, sizeof err), TT_OK);
    tt_policy_greedy(3, 3, mu, NULL, g);
    for (int i = 0; i < 9; i++)
        near(pi[i], g[i], 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    double mu[2] = {0.1, NAN}, sd[2] = {0.2, 0.2}, pi[6];
    char err[256];
    assert_int_equal(tt_thompson_exact(2, 2, mu, sd, pi, NULL, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 1, arm 1"));
    mu[1] = 0;
    sd[0] = -1;
    assert_int_equal(tt_thompson_exact(2, 2, mu, sd, pi, NULL, err, sizeof err), TT_ERR_DATA);
    assert_int_equal(tt_thompson_exact(2, 1, mu, sd, pi, NULL, err, sizeof err), TT_ERR_INVALID);
}

/* Every value in [F, 1 - (K-1) F], strictly inside (0, 1), rows summing to
 * 1 within 1e-12, and the order of the arms kept - from rows at 0 and 1 too. */
static void test_floor(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(tt_assign_floor_check(0.05, 3, err, sizeof err), TT_OK);
    assert_int_equal(tt_assign_floor_check(0.25, 4, err, sizeof err), TT_OK);
    assert_int_equal(tt_assign_floor_check(0.3, 4, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(tt_assign_floor_check(0.0, 2, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(tt_assign_floor_check(1e-7, 2, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(tt_assign_floor_check(NAN, 2, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "at most 1/2"));
    const size_t n = 2000;
    const double floors[] = {TT_ASSIGN_MIN_FLOOR, 0.05, 0.2, 0.25};
    for (size_t f = 0; f < sizeof floors / sizeof floors[0]; f++) {
        const int K = 4;
        double *mu = malloc(sizeof *mu * n * 3), *sd = malloc(sizeof *sd * n * 3);
        double *pi = malloc(sizeof *pi * n * 4), *raw = malloc(sizeof *raw * n * 4);
        tt_rng rng;
        tt_rng_seed(&rng, f, "test:floor");
        for (size_t c = 0; c < n * 3; c++) {
            mu[c] = 3 * tt_rng_normal(&rng);
            /* A third of the cells certain: rows of exact 0s and 1s. */
            sd[c] = c % 3 == 0 ? 0.0 : tt_rng_uniform(&rng);
        }
        assert_int_equal(tt_thompson_exact(n, K, mu, sd, pi, NULL, err, sizeof err), TT_OK);
        memcpy(raw, pi, sizeof *pi * n * 4);
        tt_assign_floor(n, K, floors[f], pi);
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < K; k++) {
                const double v = pi[(size_t)k * n + i];
                assert_true(v > 0.0 && v < 1.0);
                assert_true(v >= floors[f] * (1 - 1e-15));
                assert_true(v <= 1 - (K - 1) * floors[f] + 1e-15);
                sum += v;
                for (int j = 0; j < K; j++)
                    if (raw[(size_t)j * n + i] < raw[(size_t)k * n + i])
                        assert_true(pi[(size_t)j * n + i] <= v);
            }
            near(sum, 1.0, 1e-12);
        }
        free(mu);
        free(sd);
        free(pi);
        free(raw);
    }
}

/* Same seed, same arms; another seed, other arms; frequencies as the
 * probabilities say; an arm at 0 never drawn. */
static void test_draw(void **state)
{
    (void)state;
    const size_t n = 200000;
    const int K = 4;
    const double p[4] = {0.1, 0.2, 0.3, 0.4};
    double *pi = malloc(sizeof *pi * n * K);
    int *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n), *c = malloc(sizeof *c * n);
    for (int k = 0; k < K; k++)
        for (size_t i = 0; i < n; i++)
            pi[(size_t)k * n + i] = p[k];
    tt_assign_draw(n, K, pi, 7, a);
    tt_assign_draw(n, K, pi, 7, b);
    tt_assign_draw(n, K, pi, 8, c);
    assert_memory_equal(a, b, sizeof *a * n);
    size_t differ = 0;
    long count[4] = {0};
    for (size_t i = 0; i < n; i++) {
        differ += a[i] != c[i];
        assert_true(a[i] >= 0 && a[i] < K);
        count[a[i]]++;
    }
    /* Two independent draws differ with probability 1 - sum p^2 = 0.7. */
    assert_true(differ > n / 2);
    for (int k = 0; k < K; k++) {
        const double se = sqrt(p[k] * (1 - p[k]) / (double)n);
        if (!(fabs((double)count[k] / (double)n - p[k]) <= 5 * se))
            fail_msg("arm %d drawn %.5f of the time, probability %.2f", k,
                     (double)count[k] / (double)n, p[k]);
    }
    /* Rows of their own probabilities (Thompson, floored): each arm's count
     * against the sum of its probabilities, within 5 sds of that sum. */
    double *mu = malloc(sizeof *mu * n * 3), *sd = malloc(sizeof *sd * n * 3);
    tt_rng rng;
    tt_rng_seed(&rng, 3, "test:rows");
    for (size_t i = 0; i < n * 3; i++) {
        mu[i] = tt_rng_normal(&rng);
        sd[i] = 0.1 + tt_rng_uniform(&rng);
    }
    char err[128];
    assert_int_equal(tt_thompson_exact(n, K, mu, sd, pi, NULL, err, sizeof err), TT_OK);
    tt_assign_floor(n, K, 0.05, pi);
    tt_assign_draw(n, K, pi, 11, a);
    for (int k = 0; k < K; k++) {
        double want = 0, var = 0;
        long got = 0;
        for (size_t i = 0; i < n; i++) {
            const double q = pi[(size_t)k * n + i];
            want += q;
            var += q * (1 - q);
            got += a[i] == k;
        }
        if (!(fabs((double)got - want) <= 5 * sqrt(var)))
            fail_msg("arm %d drawn %ld times, expected %.1f +- %.1f", k, got, want, sqrt(var));
    }
    /* An arm of probability 0 (here the first and the last) is never drawn. */
    const double z[3] = {0.0, 1.0, 0.0};
    for (size_t i = 0; i < 1000; i++)
        for (int k = 0; k < 3; k++)
            pi[(size_t)k * 1000 + i] = z[k];
    tt_assign_draw(1000, 3, pi, 5, a);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(a[i], 1);
    free(mu);
    free(sd);
    free(pi);
    free(a);
    free(b);
    free(c);
}

/* Not a check: how long the quadrature takes for a large batch. */
static void test_speed(void **state)
{
    (void)state;
    const size_t n = 20000;
    const int K = 4;
    double *mu = malloc(sizeof *mu * n * 3), *sd = malloc(sizeof *sd * n * 3);
    double *pi = malloc(sizeof *pi * n * K);
    tt_rng rng;
    tt_rng_seed(&rng, 1, "test:speed");
    for (size_t i = 0; i < n * 3; i++) {
        mu[i] = 0.5 * tt_rng_normal(&rng);
        sd[i] = 0.05 + tt_rng_uniform(&rng);
    }
    char err[128];
    double defect;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tt_thompson_exact(n, K, mu, sd, pi, &defect, err, sizeof err), TT_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# %zu rows, %d arms: %.3f s, largest |sum - 1| before normalising %.2g\n", n, K,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), defect);
    assert_true(defect < 1e-11);
    free(mu);
    free(sd);
    free(pi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_arms_closed_form),
        cmocka_unit_test(test_many_arms_against_monte_carlo),
        cmocka_unit_test(test_closed_forms),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
