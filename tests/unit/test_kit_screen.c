/*
 * test_kit_screen.c - the kept-column screen (plugins/common/pu_screen.h) on
 * poly2 designs of 0/1 and one-hot columns, and the debiased lasso's
 * ridge-projection nodewise residuals (pu_dlasso.c) against a brute-force
 * reference that solves one ridge regression per column.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pu_linear.h"
#include "common/pu_screen.h"
#include "plugin/host.h"
#include "util/rng.h"

typedef struct env {
    tt_host_ctx ctx;
    tt_plugin_host host;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->ctx = (tt_host_ctx){.plugin_name = "test"};
    tt_host_services_init(&e->host, &e->ctx, 7);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* ---- 1. poly2 on 0/1 and one-hot columns -------------------------------- */

#define SN 300
#define SP 6 /* x: continuous, dummy a, dummy b, one-hot c1 c2 c3 */

static void redundant_x(double *x)
{
    tt_rng rng;
    tt_rng_seed(&rng, 11, "screen");
    for (size_t i = 0; i < SN; i++) {
        int level = (int)(tt_rng_uniform(&rng) * 3.0);
        x[i] = tt_rng_normal(&rng);
        x[SN + i] = tt_rng_uniform(&rng) < 0.4;
        x[2 * SN + i] = tt_rng_uniform(&rng) < 0.7;
        for (int c = 0; c < 3; c++)
            x[(size_t)(3 + c) * SN + i] = level == c;
    }
}

/* Column index of phi (intercept, x, squares, products j < l). */
static size_t sq_col(size_t j)
{
    return 1 + SP + j;
}

static size_t prod_col(size_t j, size_t l)
{
    size_t c = 1 + 2 * SP;
    for (size_t a = 0; a < SP; a++)
        for (size_t b = a + 1; b < SP; b++, c++)
            if (a == j && b == l)
                return c;
    return (size_t)-1;
}

static void test_poly2_binary_one_hot(void **state)
{
    env *e = *state;
    double x[SN * SP];
    redundant_x(x);
    pu_phi phi = {.intercept = 1, .poly2 = 1, .p_x = SP};
    const size_t d = pu_phi_dim(&phi);
    assert_int_equal(d, 1 + SP + SP + SP * (SP - 1) / 2);
    double *z = pu_phi_build(&e->host, &phi, SN, x);
    assert_non_null(z);
    unsigned char keep[64];
    size_t m = 0;
    char err[256] = "";
    assert_int_equal(pu_screen_columns(&e->host, SN, d, z, NULL, 0, keep, &m, err, sizeof err), 0);

    /* The intercept, every x and the continuous square stay; the squares of
     * the dummies and one-hot levels (= the column itself) go, as do the
     * products of two levels (identically 0) and, for the last level, the
     * column that is the intercept minus the other two. */
    assert_true(keep[0]);
    assert_true(keep[sq_col(0)]);
    for (size_t j = 1; j < SP; j++)
        assert_false(keep[sq_col(j)]);
    for (size_t j = 3; j < SP; j++)
        for (size_t l = j + 1; l < SP; l++)
            assert_false(keep[prod_col(j, l)]);
    assert_false(keep[1 + 5]); /* c3 = 1 - c1 - c2 */

    /* No kept column is constant (but the intercept) or a duplicate. */
    for (size_t a = 0; a < d; a++) {
        if (!keep[a])
            continue;
        const double *ca = z + a * SN;
        int constant = 1;
        for (size_t i = 1; i < SN; i++)
            constant &= ca[i] == ca[0];
        assert_true(a == 0 || !constant);
        for (size_t b = a + 1; b < d; b++)
            if (keep[b])
                assert_true(memcmp(ca, z + b * SN, SN * sizeof *ca) != 0);
    }
    /* The kept columns are independent: screening them again keeps all. */
    double *zk = malloc(sizeof *zk * SN * m), *r = malloc(sizeof *r * SN);
    double *beta = malloc(sizeof *beta * d), *cov = malloc(sizeof *cov * d * d);
    assert_true(zk && r && beta && cov);
    for (size_t i = 0; i < SN; i++)
        r[i] = x[i] + x[SN + i];
    pu_screen_compact(SN, d, z, keep, zk);
    size_t m2 = 0;
    unsigned char keep2[64];
    assert_int_equal(pu_screen_columns(&e->host, SN, m, zk, NULL, 0, keep2, &m2, err, sizeof err),
                     0);
    assert_int_equal(m2, m); /* the screen of the kept columns keeps them all */
    /* And the full-design OLS fits (it used to refuse), zeros where dropped. */
    assert_int_equal(pu_ols_hc1(&e->host, SN, d, z, r, NULL, beta, cov, err, sizeof err), 0);
    for (size_t j = 0; j < d; j++)
        if (!keep[j])
            assert_true(beta[j] == 0.0 && cov[j * d + j] == 0.0);
    assert_true(fabs(beta[1] - 1.0) < 1e-8 && fabs(beta[2] - 1.0) < 1e-8);
    e->host.release(z);
    free(zk);
    free(r);
    free(beta);
    free(cov);
}

/* The screen is decided by the rows of positive weight only. */
static void test_screen_ignores_zero_weight_rows(void **state)
{
    env *e = *state;
    double z[2 * 10], w[10];
    for (size_t i = 0; i < 10; i++) {
        z[i] = (double)i;
        z[10 + i] = i < 8 ? 2.0 * (double)i : 5.0; /* = 2 z0 where w > 0 */
        w[i] = i < 8;
    }
    unsigned char keep[2];
    size_t m = 0;
    char err[256] = "";
    assert_int_equal(pu_screen_columns(&e->host, 10, 2, z, w, 1, keep, &m, err, sizeof err), 0);
    assert_int_equal(m, 1);
    assert_true(keep[0] && !keep[1]);
    assert_int_equal(pu_screen_columns(&e->host, 10, 2, z, NULL, 1, keep, &m, err, sizeof err), 0);
    assert_int_equal(m, 2);
}

/* ---- 2. debiased lasso against a brute-force reference ------------------ */

#define DN 400
#define DD 6

/* Solve the k x k system a y = b in place by Gaussian elimination with
 * partial pivoting (a column-major, destroyed; b becomes y). */
static void solve(size_t k, double *a, double *b)
{
    for (size_t c = 0; c < k; c++) {
        size_t piv = c;
        for (size_t i = c + 1; i < k; i++)
            if (fabs(a[c * k + i]) > fabs(a[c * k + piv]))
                piv = i;
        for (size_t j = 0; j < k; j++) {
            double t = a[j * k + c];
            a[j * k + c] = a[j * k + piv];
            a[j * k + piv] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (size_t i = c + 1; i < k; i++) {
            double f = a[c * k + i] / a[c * k + c];
            for (size_t j = c; j < k; j++)
                a[j * k + i] -= f * a[j * k + c];
            b[i] -= f * b[c];
        }
    }
    for (size_t c = k; c-- > 0;) {
        for (size_t j = c + 1; j < k; j++)
            b[c] -= a[j * k + c] * b[j];
        b[c] /= a[c * k + c];
    }
}

static void test_debiased_lasso_brute_force(void **state)
{
    env *e = *state;
    static double z[DN * DD], zc[DN * DD];
    double r[DN], w[DN], zbar[DD], g[DD * DD], W = 0.0;
    tt_rng rng;
    tt_rng_seed(&rng, 5, "dlasso");
    for (size_t i = 0; i < DN; i++) {
        double prev = 0.0;
        for (size_t j = 0; j < DD; j++)
            prev = z[j * DN + i] = tt_rng_normal(&rng) + 0.6 * prev;
        r[i] = 1.0 + 2.0 * z[i] - z[3 * DN + i] + tt_rng_normal(&rng);
        w[i] = 0.5 + tt_rng_uniform(&rng);
        W += w[i];
    }
    double b[DD + 1], cov[(DD + 1) * (DD + 1)];
    char err[256] = "";
    assert_int_equal(pu_debiased_lasso(&e->host, DN, DD, z, r, w, b, cov, err, sizeof err), 0);

    /* The same host lasso (same host seed, same settings) gives beta_hat. */
    static const char *const keys[] = {"tol", "n_alphas", "eps"};
    static const double values[] = {1e-7, 50, 1e-2};
    tt_learner *lasso = NULL;
    assert_int_equal(
        e->host.learner_create(e->host.host_ctx, "lasso", keys, values, 3, &lasso, err, sizeof err),
        0);
    assert_int_equal(e->host.learner_fit(lasso, DN, DD, z, r, w, err, sizeof err), 0);
    double fit[DN];
    assert_int_equal(e->host.learner_predict(lasso, DN, DD, z, fit, err, sizeof err), 0);
    e->host.learner_destroy(lasso);
    double bh[DD]; /* slopes by finite differences of the affine predictor */
    {
        double probe[(DD + 1) * DD] = {0}, pp[DD + 1];
        for (size_t j = 0; j < DD; j++)
            probe[j * (DD + 1) + j + 1] = 1.0;
        assert_int_equal(
            e->host.learner_create(e->host.host_ctx, "lasso", keys, values, 3, &lasso, err,
                                   sizeof err),
            0);
        assert_int_equal(e->host.learner_fit(lasso, DN, DD, z, r, w, err, sizeof err), 0);
        assert_int_equal(e->host.learner_predict(lasso, DD + 1, DD, probe, pp, err, sizeof err),
                         0);
        e->host.learner_destroy(lasso);
        for (size_t j = 0; j < DD; j++)
            bh[j] = pp[j + 1] - pp[0];
    }
    for (size_t j = 0; j < DD; j++) {
        double s = 0.0;
        for (size_t i = 0; i < DN; i++)
            s += w[i] * z[j * DN + i];
        zbar[j] = s / W;
        for (size_t i = 0; i < DN; i++)
            zc[j * DN + i] = z[j * DN + i] - zbar[j];
    }
    for (size_t j = 0; j < DD; j++)
        for (size_t k = 0; k < DD; k++) {
            double s = 0.0;
            for (size_t i = 0; i < DN; i++)
                s += w[i] * zc[j * DN + i] * zc[k * DN + i];
            g[k * DD + j] = s / W;
        }
    const double lambda = PU_DL_RIDGE_C * sqrt(log(DD + 1.0) / DN);
    for (size_t j = 0; j < DD; j++) {
        /* Ridge of column j on the others, penalty lambda diag(G)_-j. */
        double a[(DD - 1) * (DD - 1)], gam[DD - 1];
        for (size_t p = 0, pa = 0; p < DD; p++) {
            if (p == j)
                continue;
            for (size_t q = 0, qa = 0; q < DD; q++) {
                if (q == j)
                    continue;
                a[qa * (DD - 1) + pa] = g[q * DD + p] + (p == q ? lambda * g[p * DD + p] : 0.0);
                qa++;
            }
            gam[pa] = g[j * DD + p];
            pa++;
        }
        solve(DD - 1, a, gam);
        double num = 0.0, den = 0.0;
        for (size_t i = 0; i < DN; i++) {
            double zr = zc[j * DN + i];
            for (size_t p = 0, pa = 0; p < DD; p++)
                if (p != j)
                    zr -= gam[pa++] * zc[p * DN + i];
            num += w[i] * zr * (r[i] - fit[i]);
            den += w[i] * zr * z[j * DN + i];
        }
        double want = bh[j] + num / den;
        if (!(fabs(b[j + 1] - want) <= 1e-8 * (1.0 + fabs(want))))
            fail_msg("column %zu: %.12g vs brute force %.12g", j, b[j + 1], want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_poly2_binary_one_hot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screen_ignores_zero_weight_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_brute_force, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
