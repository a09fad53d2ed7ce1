/* test_kit_tsls.c - two-stage least squares (plugins/common/pu_tsls.h):
 * against an independent two-stage computation (two least-squares solves by
 * QR, sandwiches by explicit loops), the Wald ratio it must equal with one
 * binary instrument, and the published figures of Card (1995) and Angrist
 * and Krueger (1991) on the shared data (skipped when ../shared is absent). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pu_tsls.h"
#include "data/csv.h"
#include "plugin/host.h"
#include "score/iv_diag.h"
#include "util/rng.h"

typedef struct env {
    tt_host_ctx ctx;
    tt_plugin_host host;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
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

static void assert_close(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.10g, want %.10g (tolerance %g)", what, got, want, tol);
}

/* ---- 1. against a brute-force two-stage computation ---------------------- */

/* Least squares of the columns of b (n x m) on a (n x p) by QR (dgels):
 * returns the fitted values a * coef in fit (n x m) and coef (p x m). */
static void lsq_fit(size_t n, size_t p, const double *a, size_t m, const double *b, double *fit,
                    double *coef)
{
    double *ac = malloc(n * p * sizeof *ac), *bc = malloc(n * m * sizeof *bc);
    memcpy(ac, a, n * p * sizeof *ac);
    memcpy(bc, b, n * m * sizeof *bc);
    assert_int_equal(LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)p,
                                   (lapack_int)m, ac, (lapack_int)n, bc, (lapack_int)n), 0);
    for (size_t c = 0; c < m; c++)
        for (size_t j = 0; j < p; j++)
            coef[c * p + j] = bc[c * n + j];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m, (int)p, 1.0, a,
                (int)n, coef, (int)p, 0.0, fit, (int)n);
    free(ac);
    free(bc);
}

/* Inverse of a k x k symmetric positive definite matrix, in place. */
static void spd_inverse(size_t k, double *a)
{
    assert_int_equal(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)k, a, (lapack_int)k), 0);
    assert_int_equal(LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)k, a, (lapack_int)k), 0);
    for (size_t j = 0; j < k; j++)
        for (size_t i = j + 1; i < k; i++)
            a[j * k + i] = a[i * k + j];
}

static void test_matches_two_explicit_stages(void **state)
{
    env *e = *state;
    enum { N = 400, KE = 3, KD = 2, KZ = 3, K = KE + KD, Q = KE + KZ, G = 23 };
    double exo[N * KE], endo[N * KD], excl[N * KZ], y[N], w[N];
    int cl[N];
    tt_rng rng;
    tt_rng_seed(&rng, 5, "tsls-test");
    for (size_t i = 0; i < N; i++) {
        double u = tt_rng_normal(&rng);
        exo[i] = 1.0;
        exo[N + i] = tt_rng_normal(&rng);
        exo[2 * N + i] = tt_rng_uniform(&rng);
        for (size_t l = 0; l < KZ; l++)
            excl[l * N + i] = tt_rng_normal(&rng) + (l == 2 ? 0.5 * exo[N + i] : 0);
        endo[i] = 0.8 * excl[i] + 0.3 * excl[2 * N + i] + u + 0.2 * tt_rng_normal(&rng);
        endo[N + i] = 0.6 * excl[N + i] - 0.4 * excl[i] + 0.5 * u + 0.3 * tt_rng_normal(&rng);
        y[i] = 1 + 0.5 * exo[N + i] - exo[2 * N + i] + 2.0 * endo[i] - 1.0 * endo[N + i] + u +
               (0.5 + fabs(exo[N + i])) * tt_rng_normal(&rng);
        w[i] = 0.5 + tt_rng_uniform(&rng);
        cl[i] = (int)(tt_rng_below(&rng, G));
    }
    for (int weighted = 0; weighted < 2; weighted++) {
        pu_tsls_input in = {.n = N, .k_exo = KE, .k_endo = KD, .k_excl = KZ, .x_exo = exo,
                            .x_endo = endo, .z_excl = excl, .y = y,
                            .weight = weighted ? w : NULL};
        pu_tsls_fit fit, fit_cl;
        char err[256];
        assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_OK);
        in.cluster = cl;
        in.n_clusters = G;
        assert_int_equal(pu_tsls(&e->host, &in, &fit_cl, err, sizeof err), TT_OK);

        /* Brute force on sqrt(w)-scaled rows: stage 1 regresses X on Z,
         * stage 2 y on Xhat; both by QR. */
        double Z[N * Q], X[N * K], ys[N], xhat[N * K], pi[Q * K], beta[K], dummy[N];
        for (size_t i = 0; i < N; i++) {
            double s = weighted ? sqrt(w[i]) : 1.0;
            for (size_t j = 0; j < KE; j++)
                Z[j * N + i] = X[j * N + i] = s * exo[j * N + i];
            for (size_t j = 0; j < KZ; j++)
                Z[(KE + j) * N + i] = s * excl[j * N + i];
            for (size_t j = 0; j < KD; j++)
                X[(KE + j) * N + i] = s * endo[j * N + i];
            ys[i] = s * y[i];
        }
        lsq_fit(N, Q, Z, K, X, xhat, pi);
        lsq_fit(N, K, xhat, 1, ys, dummy, beta);
        for (size_t j = 0; j < K; j++)
            assert_close(fit.beta[j], beta[j], 1e-9 * (1 + fabs(beta[j])), "beta");
        assert_close(fit.beta[KE], 2.0, 0.3, "beta of the first endogenous column");
        /* Residuals with X, the bread (Xhat'Xhat)^-1, the meats by loops. */
        double e_s[N], bread[K * K] = {0}, meat[K * K] = {0}, meat_cl[K * K] = {0};
        double u[G][K];
        memset(u, 0, sizeof u);
        double ss = 0;
        for (size_t i = 0; i < N; i++) {
            double f = 0;
            for (size_t j = 0; j < K; j++)
                f += X[j * N + i] * beta[j];
            e_s[i] = ys[i] - f;
            ss += e_s[i] * e_s[i];
            for (size_t a = 0; a < K; a++) {
                u[cl[i]][a] += e_s[i] * xhat[a * N + i];
                for (size_t b = 0; b < K; b++) {
                    bread[b * K + a] += xhat[a * N + i] * xhat[b * N + i];
                    meat[b * K + a] += e_s[i] * e_s[i] * xhat[a * N + i] * xhat[b * N + i];
                }
            }
        }
        for (size_t g = 0; g < G; g++)
            for (size_t a = 0; a < K; a++)
                for (size_t b = 0; b < K; b++)
                    meat_cl[b * K + a] += u[g][a] * u[g][b];
        spd_inverse(K, bread);
        double s2 = ss / (N - K), hc1 = (double)N / (N - K);
        double gf = (double)G / (G - 1) * (double)(N - 1) / (N - K);
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b < K; b++) {
                double v = 0, vc = 0;
                for (size_t c = 0; c < K; c++)
                    for (size_t d = 0; d < K; d++) {
                        v += bread[c * K + a] * meat[d * K + c] * bread[b * K + d];
                        vc += bread[c * K + a] * meat_cl[d * K + c] * bread[b * K + d];
                    }
                double cl_want = gf * vc, hc_want = hc1 * v, cls = s2 * bread[b * K + a];
                assert_close(fit.cov_classical[b * K + a], cls, 1e-9 * (1 + fabs(cls)),
                             "classical covariance");
                assert_close(fit.cov_robust[b * K + a], hc_want, 1e-9 * (1 + fabs(hc_want)),
                             "HC1 covariance");
                assert_close(fit_cl.cov_robust[b * K + a], cl_want, 1e-9 * (1 + fabs(cl_want)),
                             "clustered covariance");
            }
        /* First-stage F of endogenous column 0 from two OLS fits. */
        double r_u[N], r_r[N], cu[Q], cr[KE], rss_u = 0, rss_r = 0;
        lsq_fit(N, Q, Z, 1, X + KE * N, r_u, cu);
        lsq_fit(N, KE, Z, 1, X + KE * N, r_r, cr);
        for (size_t i = 0; i < N; i++) {
            rss_u += (X[KE * N + i] - r_u[i]) * (X[KE * N + i] - r_u[i]);
            rss_r += (X[KE * N + i] - r_r[i]) * (X[KE * N + i] - r_r[i]);
        }
        double f_want = ((rss_r - rss_u) / KZ) / (rss_u / (N - Q));
        assert_close(fit.first_stage_f[0], f_want, 1e-8 * f_want, "first-stage F");
        pu_tsls_free(&e->host, &fit);
        pu_tsls_free(&e->host, &fit_cl);
    }
}

/* One binary instrument, no controls but the constant: 2SLS is the Wald
 * ratio (ybar_1 - ybar_0) / (dbar_1 - dbar_0). */
static void test_one_binary_instrument_is_the_wald_ratio(void **state)
{
    env *e = *state;
    enum { N = 301 };
    double one[N], d[N], z[N], y[N], s[2][2] = {{0}}, c[2] = {0};
    tt_rng rng;
    tt_rng_seed(&rng, 9, "wald");
    for (size_t i = 0; i < N; i++) {
        one[i] = 1;
        z[i] = tt_rng_uniform(&rng) < 0.4;
        d[i] = tt_rng_uniform(&rng) < 0.2 + 0.5 * z[i];
        y[i] = 0.3 + 1.7 * d[i] + tt_rng_normal(&rng);
        s[(int)z[i]][0] += y[i];
        s[(int)z[i]][1] += d[i];
        c[(int)z[i]]++;
    }
    double wald = (s[1][0] / c[1] - s[0][0] / c[0]) / (s[1][1] / c[1] - s[0][1] / c[0]);
    pu_tsls_input in = {.n = N, .k_exo = 1, .k_endo = 1, .k_excl = 1, .x_exo = one,
                        .x_endo = d, .z_excl = z, .y = y};
    pu_tsls_fit fit;
    char err[256];
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_OK);
    assert_close(fit.beta[1], wald, 1e-10, "2SLS = Wald");
    pu_tsls_free(&e->host, &fit);
    /* Refusals: fewer instruments than endogenous columns; an instrument
     * that is a copy of the constant. */
    in.k_endo = 2;
    double two[2 * N];
    memcpy(two, d, sizeof d);
    memcpy(two + N, d, sizeof d);
    in.x_endo = two;
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "not identified"));
    in.k_endo = 1;
    in.x_endo = d;
    in.z_excl = one;
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "collinear"));
}

/* ---- 2. published figures -------------------------------------------------- */

static tt_csv_table *shared_csv(const char *rel)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/../shared/data/%s", TT_SOURCE_DIR, rel);
    if (access(path, R_OK) != 0)
        return NULL;
    tt_csv_table *t = NULL;
    if (tt_csv_read(path, &t, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    return t;
}

static const double *column(const tt_csv_table *t, const char *name)
{
    long j = tt_csv_find(t, name);
    if (j < 0)
        fail_msg("no column %s", name);
    return t->cols[j].num;
}

/* Card (1995), as in Wooldridge's Example 15.4: lwage on educ instrumented
 * by nearc4, controls exper, expersq, black, south, smsa, reg661-reg668,
 * smsa66; 2SLS 0.1315 (s.e. 0.0550), n = 3,010. */
static void test_card_1995(void **state)
{
    env *e = *state;
    tt_csv_table *t = shared_csv("card1995/card.csv");
    if (!t)
        skip();
    static const char *const controls[] = {"exper", "expersq", "black", "south", "smsa",
                                           "reg661", "reg662", "reg663", "reg664", "reg665",
                                           "reg666", "reg667", "reg668", "smsa66"};
    size_t n = t->n_rows, ke = 1 + sizeof controls / sizeof controls[0];
    assert_int_equal(n, 3010);
    double *exo = malloc(n * ke * sizeof *exo);
    for (size_t i = 0; i < n; i++)
        exo[i] = 1.0;
    for (size_t j = 1; j < ke; j++)
        memcpy(exo + j * n, column(t, controls[j - 1]), n * sizeof *exo);
    pu_tsls_input in = {.n = n, .k_exo = ke, .k_endo = 1, .k_excl = 1, .x_exo = exo,
                        .x_endo = column(t, "educ"), .z_excl = column(t, "nearc4"),
                        .y = column(t, "lwage")};
    pu_tsls_fit fit;
    char err[256];
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_OK);
    assert_close(fit.beta[ke], 0.1315, 0.0005, "Card 2SLS");
    assert_close(sqrt(fit.cov_classical[ke * fit.k + ke]), 0.0550, 0.0005, "Card 2SLS s.e.");
    /* nearc4 is a strong enough instrument for educ (F about 14). */
    assert_true(fit.first_stage_f[0] > 10 && fit.first_stage_f[0] < 20);
    printf("Card 2SLS %.4f (classical s.e. %.4f, HC1 %.4f), first-stage F %.2f\n", fit.beta[ke],
           sqrt(fit.cov_classical[ke * fit.k + ke]), sqrt(fit.cov_robust[ke * fit.k + ke]),
           fit.first_stage_f[0]);
    /* core/score/iv_diag's first stage (Frisch-Waugh with the same controls)
     * is the kit's first-stage F, computed another way. */
    int *zi = malloc(n * sizeof *zi);
    const double *near = column(t, "nearc4");
    for (size_t i = 0; i < n; i++)
        zi[i] = near[i] == 1.0;
    tt_iv_diag dg;
    assert_int_equal(tt_iv_diag_compute(n, column(t, "lwage"), column(t, "educ"), zi, ke - 1,
                                        exo + n, 0, NULL, NULL, NULL, &dg, err, sizeof err),
                     TT_OK);
    assert_true(dg.controls);
    assert_true(fabs(dg.fs_f - fit.first_stage_f[0]) < 1e-6 * fit.first_stage_f[0]);
    assert_false(dg.weak);
    free(zi);
    pu_tsls_free(&e->host, &fit);
    free(exo);
    tt_csv_free(t);
}

/* Angrist and Krueger (1991), men born 1930-39: the Wald estimate with
 * Q1 against Q2-4, 0.1020 (0.0239); 2SLS with 30 quarter x year-of-birth
 * instruments and year dummies, 0.0891 (0.0161). */
static void test_angrist_krueger_1991(void **state)
{
    env *e = *state;
    tt_csv_table *t = shared_csv("angrist_krueger1991/ak91.csv");
    if (!t)
        skip();
    size_t n = t->n_rows;
    assert_int_equal(n, 329509);
    const double *educ = column(t, "educ"), *yob = column(t, "yob"), *qob = column(t, "qob");
    const double *y = column(t, "lwklywge");
    double *one = malloc(n * sizeof *one), *q1 = malloc(n * sizeof *q1);
    for (size_t i = 0; i < n; i++) {
        one[i] = 1;
        q1[i] = qob[i] == 1;
    }
    pu_tsls_input in = {.n = n, .k_exo = 1, .k_endo = 1, .k_excl = 1, .x_exo = one,
                        .x_endo = educ, .z_excl = q1, .y = y};
    pu_tsls_fit fit;
    char err[256];
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_OK);
    assert_close(fit.beta[1], 0.1020, 0.0005, "AK Wald");
    assert_close(sqrt(fit.cov_classical[3]), 0.0239, 0.0005, "AK Wald s.e.");
    pu_tsls_free(&e->host, &fit);
    /* core/score/iv_diag's Wald ratio (differences in means, delta-method
     * s.e.) gives the published figure too. */
    int *zi = malloc(n * sizeof *zi);
    for (size_t i = 0; i < n; i++)
        zi[i] = q1[i] == 1.0;
    tt_iv_diag dg;
    assert_int_equal(tt_iv_diag_compute(n, y, educ, zi, 0, NULL, 0, NULL, NULL, NULL, &dg, err,
                                        sizeof err), TT_OK);
    assert_close(dg.wald, 0.1020, 0.0005, "AK Wald (iv_diag)");
    assert_close(dg.wald_se, 0.0239, 0.0010, "AK Wald s.e. (iv_diag, delta method)");
    printf("AK Wald (iv_diag) %.4f (%.4f), first-stage F %.1f\n", dg.wald, dg.wald_se, dg.fs_f);
    free(zi);
    /* Year dummies (1931-39) and the 30 instruments qob 1-3 x each year. */
    size_t ke = 10, kz = 30;
    double *exo = malloc(n * ke * sizeof *exo), *z = calloc(n * kz, sizeof *z);
    for (size_t i = 0; i < n; i++) {
        int yr = (int)yob[i] % 10, q = (int)qob[i];
        exo[i] = 1;
        for (int j = 1; j < 10; j++)
            exo[(size_t)j * n + i] = yr == j;
        if (q >= 1 && q <= 3)
            z[(size_t)(yr * 3 + q - 1) * n + i] = 1;
    }
    in = (pu_tsls_input){.n = n, .k_exo = ke, .k_endo = 1, .k_excl = kz, .x_exo = exo,
                         .x_endo = educ, .z_excl = z, .y = y};
    assert_int_equal(pu_tsls(&e->host, &in, &fit, err, sizeof err), TT_OK);
    assert_close(fit.beta[ke], 0.0891, 0.0005, "AK 2SLS, 30 instruments");
    assert_close(sqrt(fit.cov_classical[ke * fit.k + ke]), 0.0161, 0.0005, "AK 2SLS s.e.");
    printf("AK 2SLS %.4f (classical s.e. %.4f), first-stage F %.2f\n", fit.beta[ke],
           sqrt(fit.cov_classical[ke * fit.k + ke]), fit.first_stage_f[0]);
    pu_tsls_free(&e->host, &fit);
    free(exo);
    free(z);
    free(one);
    free(q1);
    tt_csv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matches_two_explicit_stages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_binary_instrument_is_the_wald_ratio, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_card_1995, setup, teardown),
        cmocka_unit_test_setup_teardown(test_angrist_krueger_1991, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
