/* test_kit_linear.c - the plugin kit's linear final stages (pu_linear.h):
 * weighted OLS with the HC1 sandwich against statsmodels, its refusals,
 * the debiased lasso on simulated data, the featurizer's column order, and
 * the effect model's effects, intervals, average and save/load. */
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
#include "common/pu_linear.h"
#include "plugin/host.h"
#include "test_memstream.h"

/* A real host (malloc, core learners) for every test. */
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

static void assert_rel(double got, double want, double tol)
{
    double scale = fabs(want) > 1e-300 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= tol * scale))
        fail_msg("got %.17g, want %.17g (relative error %.3g > %.3g)", got, want,
                 fabs(got - want) / scale, tol);
}

/* ---- 1. OLS + HC1 against statsmodels ------------------------------------ */

/* The data set and reference numbers. Computed with /usr/bin/python3
 * (numpy 1.24.2, statsmodels 0.13.5):
 *
 *   import numpy as np, statsmodels.api as sm
 *   x1 = np.array([0.5, 1.2, -0.3, 2.1, 0.8, -1.5, 1.7, 0.1, -0.9, 2.6, 1.1, -0.4])
 *   x2 = np.array([1.0, -0.7, 0.4, 0.9, -1.3, 0.2, 1.8, -0.5, 0.6, -1.1, 0.3, 1.4])
 *   r  = np.array([2.3, 1.1, 0.2, 4.0, 0.7, -1.9, 4.4, 0.3, -0.2, 3.1, 1.9, 1.2])
 *   w  = np.array([1.0, 2.0, 0.5, 1.5, 3.0, 1.0, 0.8, 2.5, 1.2, 0.7, 1.9, 1.1])
 *   Z = np.column_stack([np.ones(12), x1, x2])
 *   for wt in (np.ones(12), w):
 *       f = sm.WLS(r, Z, weights=wt).fit(cov_type="HC1")
 *       print(f.params.tolist(), f.bse.tolist(),
 *             np.asarray(f.cov_params()).ravel(order="F").tolist())
 *
 * statsmodels' weighted HC1 is exactly the contract's formula
 * n/(n-D) A^-1 [sum w_i^2 e_i^2 z_i z_i'] A^-1 (its HC0 uses the whitened
 * design sqrt(w) z and whitened residuals sqrt(w) e); checked with numpy
 * from the formula directly: largest relative difference 9e-16. */
#define OLS_N 12
static const double ols_x1[OLS_N] = {0.5, 1.2, -0.3, 2.1, 0.8, -1.5, 1.7, 0.1, -0.9, 2.6, 1.1, -0.4};
static const double ols_x2[OLS_N] = {1.0, -0.7, 0.4, 0.9, -1.3, 0.2, 1.8, -0.5, 0.6, -1.1, 0.3, 1.4};
static const double ols_r[OLS_N] = {2.3, 1.1, 0.2, 4.0, 0.7, -1.9, 4.4, 0.3, -0.2, 3.1, 1.9, 1.2};
static const double ols_w[OLS_N] = {1.0, 2.0, 0.5, 1.5, 3.0, 1.0, 0.8, 2.5, 1.2, 0.7, 1.9, 1.1};

static void ols_design(double *Z)
{
    for (size_t i = 0; i < OLS_N; i++) {
        Z[i] = 1.0;
        Z[OLS_N + i] = ols_x1[i];
        Z[2 * OLS_N + i] = ols_x2[i];
    }
}

static void check_ols(const env *e, const double *w, const double *want_beta,
                      const double *want_se, const double *want_cov)
{
    double Z[3 * OLS_N], beta[3], cov[9];
    char err[256] = "";
    ols_design(Z);
    assert_int_equal(pu_ols_hc1(&e->host, OLS_N, 3, Z, ols_r, w, beta, cov, err, sizeof err), 0);
    for (int j = 0; j < 3; j++) {
        assert_rel(beta[j], want_beta[j], 1e-9);
        assert_rel(sqrt(cov[j * 3 + j]), want_se[j], 1e-9);
    }
    for (int k = 0; k < 9; k++)
        assert_rel(cov[k], want_cov[k], 1e-9);
}

static void test_ols_hc1_unweighted(void **state)
{
    static const double beta[3] = {0.38538950845887326, 1.4030200548904053, 0.8847285047535655};
    static const double se[3] = {0.10659342503944542, 0.06091985047463518, 0.08020310018478054};
    static const double cov[9] = {
        0.011362158261639872,  -0.003955987574318648, -0.004686025400151615,
        -0.0039559875743186475, 0.003711228181851908,  0.0008578345659330282,
        -0.004686025400151615, 0.0008578345659330282, 0.006432537279249945};
    check_ols(*state, NULL, beta, se, cov);
    /* Explicit unit weights are the same fit. */
    double ones[OLS_N];
    for (size_t i = 0; i < OLS_N; i++)
        ones[i] = 1.0;
    check_ols(*state, ones, beta, se, cov);
}

static void test_ols_hc1_weighted(void **state)
{
    static const double beta[3] = {0.43467839665403035, 1.3611133784977847, 0.8216430340846905};
    static const double se[3] = {0.10696120281086142, 0.07485368224241541, 0.09223959350677295};
    static const double cov[9] = {
        0.011440698906746231,  -0.003908738851580731,   -0.0037733005129152375,
        -0.003908738851580731, 0.005603073745248497,    -0.0004239192697347735,
        -0.0037733005129152383, -0.00042391926973477345, 0.008508142610294712};
    check_ols(*state, ols_w, beta, se, cov);
}

/* ---- 2. refusals ------------------------------------------------------------ */

/* The fit on [1, x1] alone, for the dropped-column checks. */
static void ols_two_columns(const env *e, const double *w, double *beta, double *cov)
{
    double Z[3 * OLS_N]; /* the first two columns are [1, x1] */
    char err[256] = "";
    ols_design(Z);
    assert_int_equal(pu_ols_hc1(&e->host, OLS_N, 2, Z, ols_r, w, beta, cov, err, sizeof err), 0);
}

/* A dependent column is dropped, not refused: coefficient 0, zero row and
 * column in the covariance, the rest exactly the fit without it. */
static void check_dropped_third(const env *e, const double *Z, const double *w)
{
    double beta[3], cov[9], b2[2], c2[4];
    char err[256] = "";
    assert_int_equal(pu_ols_hc1(&e->host, OLS_N, 3, Z, ols_r, w, beta, cov, err, sizeof err), 0);
    ols_two_columns(e, w, b2, c2);
    assert_true(beta[2] == 0.0);
    for (int j = 0; j < 3; j++)
        assert_true(cov[2 * 3 + j] == 0.0 && cov[j * 3 + 2] == 0.0);
    for (int j = 0; j < 2; j++) {
        assert_rel(beta[j], b2[j], 1e-12);
        for (int k = 0; k < 2; k++)
            assert_rel(cov[k * 3 + j], c2[k * 2 + j], 1e-12);
    }
}

static void test_ols_collinear(void **state)
{
    env *e = *state;
    double Z[3 * OLS_N];
    ols_design(Z);
    /* Column 2 = 2 x1 - 1 exactly representable: a linear combination. */
    for (size_t i = 0; i < OLS_N; i++)
        Z[2 * OLS_N + i] = 2.0 * ols_x1[i] - 1.0;
    check_dropped_third(e, Z, ols_w);
    /* A zero column, and an exact duplicate of x1. */
    for (size_t i = 0; i < OLS_N; i++)
        Z[2 * OLS_N + i] = 0.0;
    check_dropped_third(e, Z, NULL);
    memcpy(Z + 2 * OLS_N, ols_x1, sizeof ols_x1);
    check_dropped_third(e, Z, ols_w);

    /* Nothing left to fit: a refusal that says so. */
    double beta[3], cov[9];
    char err[256] = "";
    memset(Z, 0, sizeof Z);
    assert_int_equal(pu_ols_hc1(&e->host, OLS_N, 3, Z, ols_r, NULL, beta, cov, err, sizeof err),
                     TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "collinear columns"));
}

static void test_ols_too_few_rows(void **state)
{
    env *e = *state;
    double Z[3 * OLS_N], beta[3], cov[9];
    char err[256] = "";
    /* n = 3 rows for D = 3: the design is the first 3 rows of each column. */
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 3; i++)
            Z[j * 3 + i] = (j == 0) ? 1.0 : (j == 1 ? ols_x1[i] : ols_x2[i]);
    assert_int_equal(pu_ols_hc1(&e->host, 3, 3, Z, ols_r, NULL, beta, cov, err, sizeof err),
                     TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "n rows <= D coefficients"));
    err[0] = '\0';
    assert_int_equal(pu_debiased_lasso(&e->host, 3, 2, Z, ols_r, NULL, beta, cov, err, sizeof err),
                     TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "n rows <= D coefficients"));

    /* A negative weight breaks the contract. */
    double w[OLS_N];
    memcpy(w, ols_w, sizeof w);
    w[4] = -1.0;
    ols_design(Z);
    assert_int_equal(pu_ols_hc1(&e->host, OLS_N, 3, Z, ols_r, w, beta, cov, err, sizeof err),
                     TT_ERR_INVALID);
    assert_true(strlen(err) > 0);
}

/* ---- 3. debiased lasso on simulated data ----------------------------------- */

/* splitmix64 + Box-Muller: a fixed, simple generator for the simulation. */
static uint64_t sim_state = 12345;

static double sim_uniform(void)
{
    uint64_t z = (sim_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

static double sim_normal(void)
{
    double u = sim_uniform(), v = sim_uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#define DL_N 2000
#define DL_D 5

/* Z: correlated normals (column j shares 0.5 of column j-1); truth
 * r = 1 + 2 z1 - 1.5 z4 + noise, noise sd 0.5 + |z2| (heteroskedastic). */
static void simulate(double *Z, double *r, double *w, double *truth)
{
    static const double b[DL_D + 1] = {1.0, 2.0, 0.0, 0.0, -1.5, 0.0};
    memcpy(truth, b, sizeof b);
    sim_state = 12345;
    for (size_t i = 0; i < DL_N; i++) {
        double prev = 0.0;
        for (size_t j = 0; j < DL_D; j++) {
            double v = sim_normal() + 0.5 * prev;
            Z[j * DL_N + i] = v;
            prev = v;
        }
        double y = b[0];
        for (size_t j = 0; j < DL_D; j++)
            y += b[j + 1] * Z[j * DL_N + i];
        r[i] = y + (0.5 + fabs(Z[DL_N + i])) * sim_normal();
        w[i] = 0.5 + sim_uniform(); /* weights in (0.5, 1.5) */
    }
}

static void test_debiased_lasso_simulated(void **state)
{
    env *e = *state;
    double *Z = malloc(DL_N * DL_D * sizeof *Z), *Z1 = malloc(DL_N * (DL_D + 1) * sizeof *Z1);
    double r[DL_N], w[DL_N], truth[DL_D + 1];
    double b[DL_D + 1], cov[(DL_D + 1) * (DL_D + 1)];
    double ob[DL_D + 1], ocov[(DL_D + 1) * (DL_D + 1)];
    char err[256] = "";
    assert_non_null(Z);
    assert_non_null(Z1);
    simulate(Z, r, w, truth);

    for (int weighted = 0; weighted < 2; weighted++) {
        const double *wt = weighted ? w : NULL;
        assert_int_equal(
            pu_debiased_lasso(&e->host, DL_N, DL_D, Z, r, wt, b, cov, err, sizeof err), 0);
        /* OLS HC1 on [1, Z]: same target, same robust variance when n >> D. */
        for (size_t i = 0; i < DL_N; i++)
            Z1[i] = 1.0;
        memcpy(Z1 + DL_N, Z, DL_N * DL_D * sizeof *Z);
        assert_int_equal(
            pu_ols_hc1(&e->host, DL_N, DL_D + 1, Z1, r, wt, ob, ocov, err, sizeof err), 0);
        for (size_t j = 0; j <= DL_D; j++) {
            double se = sqrt(cov[j * (DL_D + 1) + j]);
            double ose = sqrt(ocov[j * (DL_D + 1) + j]);
            if (!(fabs(b[j] - truth[j]) <= 4.0 * se))
                fail_msg("weighted %d coef %zu: %g vs truth %g (se %g)", weighted, j, b[j],
                         truth[j], se);
            if (!(fabs(se / ose - 1.0) <= 0.25))
                fail_msg("weighted %d coef %zu: se %g vs OLS HC1 se %g", weighted, j, se, ose);
        }
        /* The covariance is symmetric. */
        for (size_t j = 0; j <= DL_D; j++)
            for (size_t k = 0; k < j; k++)
                assert_true(cov[j * (DL_D + 1) + k] == cov[k * (DL_D + 1) + j]);
    }
    free(Z);
    free(Z1);
}

/* One column: the nodewise residual is the centred column. */
static void test_debiased_lasso_one_column(void **state)
{
    env *e = *state;
    double *Z = malloc(DL_N * DL_D * sizeof *Z);
    double r[DL_N], w[DL_N], truth[DL_D + 1], b[2], cov[4], ob[2], ocov[4];
    double Z1[2 * DL_N];
    char err[256] = "";
    assert_non_null(Z);
    simulate(Z, r, w, truth);
    /* r on z1 alone: the omitted columns join the noise. */
    assert_int_equal(pu_debiased_lasso(&e->host, DL_N, 1, Z, r, w, b, cov, err, sizeof err), 0);
    for (size_t i = 0; i < DL_N; i++) {
        Z1[i] = 1.0;
        Z1[DL_N + i] = Z[i];
    }
    assert_int_equal(pu_ols_hc1(&e->host, DL_N, 2, Z1, r, w, ob, ocov, err, sizeof err), 0);
    /* With one column the debiased slope is the OLS slope exactly (the
     * residual is orthogonal to the centred column), up to rounding. */
    assert_rel(b[1], ob[1], 1e-8);
    assert_rel(b[0], ob[0], 1e-8);
    for (int k = 0; k < 4; k += 3)
        assert_rel(sqrt(cov[k]), sqrt(ocov[k]), 0.05);
    free(Z);
}

/* No columns: the intercept is the weighted mean, with the HC1-scaled
 * variance of the mean, n/(n-1) sum_i (w_i e_i / W)^2. */
static void test_debiased_lasso_no_columns(void **state)
{
    env *e = *state;
    double b[1], cov[1], W = 0.0, m = 0.0, v = 0.0;
    char err[256] = "";
    assert_int_equal(pu_debiased_lasso(&e->host, OLS_N, 0, NULL, ols_r, ols_w, b, cov, err,
                                       sizeof err),
                     0);
    for (size_t i = 0; i < OLS_N; i++) {
        W += ols_w[i];
        m += ols_w[i] * ols_r[i];
    }
    m /= W;
    for (size_t i = 0; i < OLS_N; i++)
        v += pow(ols_w[i] * (ols_r[i] - m) / W, 2);
    assert_rel(b[0], m, 1e-12);
    assert_rel(cov[0], v * OLS_N / (OLS_N - 1.0), 1e-12);
}

static void test_debiased_lasso_stops(void **state)
{
    (void)state;
    volatile sig_atomic_t stop = 1;
    tt_host_ctx ctx = {.plugin_name = "test", .stop_flag = &stop};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    double Z[3 * OLS_N], b[3], cov[9];
    char err[256] = "";
    ols_design(Z);
    assert_int_equal(
        pu_debiased_lasso(&host, OLS_N, 2, Z + OLS_N, ols_r, NULL, b, cov, err, sizeof err),
        TT_ERR_STOPPED);
    assert_true(strlen(err) > 0);
}

/* A constant column has nothing of its own to debias: it is dropped (the
 * lasso has its own intercept), coefficient 0, the rest as without it. */
static void test_debiased_lasso_constant_column(void **state)
{
    env *e = *state;
    double Z[3 * OLS_N], b[4], cov[16], b2[3], c2[9];
    char err[256] = "";
    ols_design(Z); /* column 0 is the constant */
    assert_int_equal(pu_debiased_lasso(&e->host, OLS_N, 3, Z, ols_r, NULL, b, cov, err, sizeof err),
                     0);
    assert_int_equal(
        pu_debiased_lasso(&e->host, OLS_N, 2, Z + OLS_N, ols_r, NULL, b2, c2, err, sizeof err), 0);
    assert_true(b[1] == 0.0);
    for (int j = 0; j < 4; j++)
        assert_true(cov[1 * 4 + j] == 0.0 && cov[j * 4 + 1] == 0.0);
    static const int full[3] = {0, 2, 3};
    for (int j = 0; j < 3; j++) {
        assert_rel(b[full[j]], b2[j], 1e-12);
        for (int k = 0; k < 3; k++)
            assert_rel(cov[full[k] * 4 + full[j]], c2[k * 3 + j], 1e-12);
    }
}

/* ---- 4. featurizer ------------------------------------------------------------ */

static void test_phi_build(void **state)
{
    env *e = *state;
    /* Two rows (1, 2, 3) and (4, 5, 6), column-major. */
    const double x[6] = {1, 4, 2, 5, 3, 6};
    /* By hand: 1 | x1 x2 x3 | x1^2 x2^2 x3^2 | x1x2 x1x3 x2x3. */
    const double row0[10] = {1, 1, 2, 3, 1, 4, 9, 2, 3, 6};
    const double row1[10] = {1, 4, 5, 6, 16, 25, 36, 20, 24, 30};
    for (int icpt = 0; icpt < 2; icpt++)
        for (int poly = 0; poly < 2; poly++) {
            pu_phi phi = {.intercept = icpt, .poly2 = poly, .p_x = 3};
            size_t want_d = (size_t)(icpt + 3 + (poly ? 6 : 0));
            assert_int_equal(pu_phi_dim(&phi), want_d);
            double *f = pu_phi_build(&e->host, &phi, 2, x);
            assert_non_null(f);
            for (size_t c = 0; c < want_d; c++) {
                size_t src = c + (icpt ? 0u : 1u); /* skip the 1 without intercept */
                assert_true(f[c * 2] == row0[src]);
                assert_true(f[c * 2 + 1] == row1[src]);
            }
            e->host.release(f);
        }
    /* p_x = 1, poly2: x, x^2 and no products. */
    pu_phi one = {.intercept = 0, .poly2 = 1, .p_x = 1};
    assert_int_equal(pu_phi_dim(&one), 2);
    pu_phi none = {.intercept = 1, .poly2 = 1, .p_x = 0};
    assert_int_equal(pu_phi_dim(&none), 1);
}

/* ---- 5. effect model ----------------------------------------------------------- */

/* phi = (1, x), 3 arms: beta_1 = (1, 2), beta_2 = (-0.5, 3);
 * V_11 = [[0.04, 0.01], [0.01, 0.09]], V_22 = [[0.16, -0.02], [-0.02, 0.25]],
 * cross-arm blocks 0.005 (never enter an arm's own variance). */
static void hand_model(pu_linear *m, const env *e)
{
    pu_phi phi = {.intercept = 1, .poly2 = 0, .p_x = 1};
    char err[256] = "";
    assert_int_equal(pu_linear_init(m, &e->host, &phi, 3, err, sizeof err), 0);
    assert_int_equal(m->d, 2);
    const double beta[4] = {1.0, 2.0, -0.5, 3.0};
    const double cov[16] = {0.04,  0.01,  0.005, 0.005, 0.01,  0.09,  0.005, 0.005,
                            0.005, 0.005, 0.16,  -0.02, 0.005, 0.005, -0.02, 0.25};
    memcpy(m->beta, beta, sizeof beta);
    memcpy(m->cov, cov, sizeof cov);
}

static void test_linear_effect_interval_average(void **state)
{
    env *e = *state;
    pu_linear m;
    hand_model(&m, e);
    const double x[3] = {0.5, -1.0, 2.0};
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 3, .p_x = 1, .x = x, .n_arms = 3};
    double out[6], lo[6], hi[6];
    char err[256] = "";

    /* theta_1 = 1 + 2x, theta_2 = -0.5 + 3x. */
    const double want[6] = {2.0, -1.0, 5.0, 1.0, -3.5, 5.5};
    assert_int_equal(pu_linear_effect(&m, &rows, out, err, sizeof err), 0);
    for (int i = 0; i < 6; i++)
        assert_rel(out[i], want[i], 1e-15);

    /* var = V00 + 2 V01 x + V11 x^2:
     * arm 1: 0.04 + 0.02 x + 0.09 x^2 = 0.0725, 0.11, 0.44;
     * arm 2: 0.16 - 0.04 x + 0.25 x^2 = 0.2025, 0.45, 1.08. */
    const double var[6] = {0.0725, 0.11, 0.44, 0.2025, 0.45, 1.08};
    const double z975 = 1.959963984540054; /* scipy.stats.norm.ppf(0.975) */
    assert_int_equal(pu_linear_interval(&m, &rows, 0.05, lo, hi, err, sizeof err), 0);
    for (int i = 0; i < 6; i++) {
        assert_rel(lo[i], want[i] - z975 * sqrt(var[i]), 1e-12);
        assert_rel(hi[i], want[i] + z975 * sqrt(var[i]), 1e-12);
    }

    /* Average: phi_bar = (1, 0.5), so ate = theta(0.5) with var 0.0725 / 0.2025. */
    double ate[2], alo[2], ahi[2];
    assert_int_equal(pu_linear_average(&m, &rows, 0.05, ate, alo, ahi, err, sizeof err), 0);
    assert_rel(ate[0], 2.0, 1e-15);
    assert_rel(ate[1], 1.0, 1e-15);
    assert_rel(alo[0], 2.0 - z975 * sqrt(0.0725), 1e-12);
    assert_rel(ahi[0], 2.0 + z975 * sqrt(0.0725), 1e-12);
    assert_rel(alo[1], 1.0 - z975 * 0.45, 1e-12);
    assert_rel(ahi[1], 1.0 + z975 * 0.45, 1e-12);

    /* A slightly negative variance from rounding gives a zero-width interval. */
    m.cov[0] = -1e-18;
    m.cov[1] = m.cov[4] = m.cov[5] = 0.0;
    assert_int_equal(pu_linear_interval(&m, &rows, 0.05, lo, hi, err, sizeof err), 0);
    assert_true(lo[0] == want[0] && hi[0] == want[0]);

    /* Rows with another number of effect modifiers are refused. */
    const double x2[6] = {0};
    tt_plugin_data bad = {.struct_size = sizeof bad, .n = 3, .p_x = 2, .x = x2, .n_arms = 3};
    err[0] = '\0';
    assert_int_equal(pu_linear_effect(&m, &bad, out, err, sizeof err), TT_ERR_INVALID);
    assert_true(strlen(err) > 0);
    assert_int_equal(pu_linear_interval(&m, &bad, 0.05, lo, hi, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(pu_linear_average(&m, &bad, 0.05, ate, alo, ahi, err, sizeof err),
                     TT_ERR_INVALID);
    assert_int_equal(pu_linear_interval(&m, &rows, 1.5, lo, hi, err, sizeof err), TT_ERR_INVALID);
    pu_linear_free(&m);
    pu_linear_free(NULL);
}

/* Average of a poly2 model is phi_bar'beta, not phi(x_bar)'beta. */
static void test_linear_average_poly2(void **state)
{
    env *e = *state;
    pu_phi phi = {.intercept = 0, .poly2 = 1, .p_x = 1}; /* phi = (x, x^2) */
    pu_linear m;
    char err[256] = "";
    assert_int_equal(pu_linear_init(&m, &e->host, &phi, 2, err, sizeof err), 0);
    m.beta[0] = 0.0;
    m.beta[1] = 1.0; /* theta = x^2 */
    m.cov[0] = 1.0;  /* var = x^2 * 1 + x^4 * 0 */
    const double x[2] = {-1.0, 3.0};
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 2, .p_x = 1, .x = x, .n_arms = 2};
    double ate, lo, hi;
    assert_int_equal(pu_linear_average(&m, &rows, 0.05, &ate, &lo, &hi, err, sizeof err), 0);
    /* phi_bar = (1, 5): ate 5 (x_bar^2 would be 1), sd 1. */
    assert_rel(ate, 5.0, 1e-15);
    assert_rel(hi - ate, 1.959963984540054, 1e-12);
    pu_linear_free(&m);
}

static int load_text(const env *e, const char *text, pu_linear *m, char *err, size_t errlen)
{
    membuf s = {.data = (char *)text, .len = strlen(text)};
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = mem_read};
    return pu_linear_load(m, &e->host, &src, err, errlen);
}

static void test_linear_save_load(void **state)
{
    env *e = *state;
    pu_linear m, back;
    hand_model(&m, e);
    m.beta[1] = 1.0 / 3.0; /* not exactly representable in decimal */
    m.cov[5] = 0.1 + 0.2;
    membuf s = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &s, .write = mem_write};
    char err[256] = "";
    assert_int_equal(pu_linear_save(&m, &sink, err, sizeof err), 0);
    assert_true(s.len > 0 && memcmp(s.data, "pu_linear 1\n", 12) == 0);
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = mem_read};
    assert_int_equal(pu_linear_load(&back, &e->host, &src, err, sizeof err), 0);
    assert_int_equal(s.pos, s.len); /* read exactly what was written */
    assert_int_equal(back.d, m.d);
    assert_int_equal(back.n_arms, m.n_arms);
    assert_int_equal(back.phi.intercept, m.phi.intercept);
    assert_int_equal(back.phi.poly2, m.phi.poly2);
    assert_int_equal(back.phi.p_x, m.phi.p_x);
    assert_memory_equal(back.beta, m.beta, 4 * sizeof(double));
    assert_memory_equal(back.cov, m.cov, 16 * sizeof(double));
    pu_linear_free(&back);

    /* Corrupt streams: every one is a parse error, none crashes or
     * allocates from a silly count. */
    const char *bad[] = {
        "",
        "pu_linear 2\nintercept 1\npoly2 0\np_x 1\nn_arms 3\n",
        "pu_linear 1\nintercept 7\npoly2 0\np_x 1\nn_arms 3\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x -4\nn_arms 3\n",
        "pu_linear 1\nintercept 1\npoly2 1\np_x 99999999999\nn_arms 3\n",
        "pu_linear 1\nintercept 1\npoly2 1\np_x 60000\nn_arms 3\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 1\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 4000\nbeta 1 2 3 4\n",
        "pu_linear 1\nintercept 0\npoly2 0\np_x 0\nn_arms 3\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 3\nbeta 1 2 3\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 3\nbeta 1 2 3 4\ncov 1 2\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 3\nbeta 1 2 3 x\n",
        "pu_linear 1\nintercept 1\npoly2 0\np_x 1\nn_arms 3\nbeta 1 2 3 4\n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        err[0] = '\0';
        int rc = load_text(e, bad[k], &back, err, sizeof err);
        if (rc != TT_ERR_PARSE)
            fail_msg("corrupt stream %zu: status %d, want TT_ERR_PARSE", k, rc);
        assert_true(strlen(err) > 0);
        assert_null(back.beta);
        assert_null(back.cov);
    }
    /* The saved text cut at every line end is refused too. */
    for (size_t cut = 0; cut < s.len; cut++) {
        if (cut && s.data[cut - 1] != '\n')
            continue;
        membuf part = {.data = s.data, .len = cut};
        tt_plugin_source ps = {.struct_size = sizeof ps, .ctx = &part, .read = mem_read};
        assert_int_equal(pu_linear_load(&back, &e->host, &ps, err, sizeof err), TT_ERR_PARSE);
    }
    free(s.data);
    pu_linear_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ols_hc1_unweighted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ols_hc1_weighted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ols_collinear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ols_too_few_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_simulated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_one_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_no_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debiased_lasso_constant_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phi_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_effect_interval_average, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_average_poly2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_save_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
