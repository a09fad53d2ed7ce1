/*
 * test_estimators_closed.c - dml_linear and dr_linear against closed forms on
 * small fixed data.
 *
 * No nuisance engine here: the host table is the real one
 * (tt_host_services_init) with nuisance_oof replaced by a callback serving
 * literal arrays (e, m, mu0, mu1 below) and nuisance_predict by one that
 * refuses (a linear final stage must not need nuisances for new rows). With
 * those fixed nuisances each plugin is an OLS with an HC1 sandwich:
 *   dml_linear (fit_cate_intercept = 1, featurizer none):
 *       Y_res = y - m, T_res = t - e; OLS of Y_res on [T_res, x T_res]
 *       (no separate constant); theta(x) = b0 + b1 x.
 *   dr_linear (same settings; min_propensity 0.01 never binds, e in [.25, .7]):
 *       Gamma = mu1 - mu0 + t (y - mu1) / e - (1 - t)(y - mu0) / (1 - e);
 *       OLS of Gamma on [1, x]; theta(x) = b0 + b1 x.
 * The effects at x = 0 and x = 1 give b0 and b0 + b1; the 95% interval
 * half-widths give z sqrt(V00) and z sqrt(V00 + 2 V01 + V11); the average
 * over the two rows gives b0 + b1/2 with z sqrt(phi_bar' V phi_bar),
 * phi_bar = (1, 1/2). All compared to 1e-9 relative with the reference
 * numbers computed independently by statsmodels (snippet below).
 *
 * Reference (/usr/bin/python3, numpy 1.24, statsmodels 0.13.5; HC1 is
 * n/(n-k) times the sandwich), printed as the literals below:
 *   import numpy as np, statsmodels.api as sm
 *   x = np.array([-1.2, -0.7, -0.3, 0.0, 0.4, 0.9, 1.3, -1.0, 0.6, 0.2, 1.1, -0.5])
 *   t = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1.])
 *   y = np.array([0.3, 1.9, -0.4, 2.2, 2.8, 0.1, 3.5, -0.9, 2.1, 0.6, 3.0, 1.2])
 *   e = np.array([0.3, 0.45, 0.35, 0.5, 0.6, 0.55, 0.7, 0.25, 0.6, 0.4, 0.65, 0.4])
 *   m = np.array([0.1, 1.0, 0.0, 1.1, 1.6, 0.9, 2.4, -0.6, 1.5, 0.5, 2.2, 0.6])
 *   mu0 = np.array([0.2, 0.4, -0.1, 0.5, 0.6, 0.7, 1.0, -0.5, 0.8, 0.3, 1.0, 0.1])
 *   mu1 = np.array([1.0, 1.5, 1.7, 2.0, 2.5, 2.9, 3.3, 0.9, 2.6, 2.2, 3.1, 1.6])
 *   tr = t - e
 *   dml = sm.OLS(y - m, np.column_stack([tr, x * tr])).fit(cov_type="HC1")
 *   g = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
 *   dr = sm.OLS(g, np.column_stack([np.ones_like(x), x])).fit(cov_type="HC1")
 *   for name, f in (("DML", dml), ("DR", dr)):
 *       b, V = f.params, f.cov_params()
 *       print("#define %s_B0 %.17g\n#define %s_B1 %.17g" % (name, b[0], name, b[1]))
 *       print("#define %s_V00 %.17g\n#define %s_V01 %.17g\n#define %s_V11 %.17g"
 *             % (name, V[0, 0], name, V[0, 1], name, V[1, 1]))
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

#include "test_estimators_util.h"

#define N 12

static const double g_x[N] = {-1.2, -0.7, -0.3, 0.0, 0.4, 0.9, 1.3, -1.0, 0.6, 0.2, 1.1, -0.5};
static const int g_t[N] = {0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1};
static const double g_y[N] = {0.3, 1.9, -0.4, 2.2, 2.8, 0.1, 3.5, -0.9, 2.1, 0.6, 3.0, 1.2};
static const double g_e[N] = {0.3, 0.45, 0.35, 0.5, 0.6, 0.55, 0.7, 0.25, 0.6, 0.4, 0.65, 0.4};
static const double g_m[N] = {0.1, 1.0, 0.0, 1.1, 1.6, 0.9, 2.4, -0.6, 1.5, 0.5, 2.2, 0.6};
static const double g_mu0[N] = {0.2, 0.4, -0.1, 0.5, 0.6, 0.7, 1.0, -0.5, 0.8, 0.3, 1.0, 0.1};
static const double g_mu1[N] = {1.0, 1.5, 1.7, 2.0, 2.5, 2.9, 3.3, 0.9, 2.6, 2.2, 3.1, 1.6};

/* scipy.stats.norm.ppf(0.975) */
#define Z975 1.959963984540054

/* Reference values: beta (b0, b1) and the HC1 covariance (V00, V01, V11). */
typedef struct reference {
    double b0, b1, v00, v01, v11;
} reference;

/* Output of the snippet above. */
#define DML_B0 1.4717179317791877
#define DML_B1 0.66645823839248819
#define DML_V00 0.066610689621994096
#define DML_V01 0.008141626926005353
#define DML_V11 0.10499784561797097
#define DR_B0 1.8038848062000343
#define DR_B1 0.53269249796409168
#define DR_V00 0.049253820691347684
#define DR_V01 0.0025082646607608424
#define DR_V11 0.068532587133968773

static const reference g_dml = {DML_B0, DML_B1, DML_V00, DML_V01, DML_V11};
static const reference g_dr = {DR_B0, DR_B1, DR_V00, DR_V01, DR_V11};

/* ---- the fake host's nuisances ------------------------------------------ */

static unsigned g_asked; /* bit per (kind, arm) served: 1 e, 2 m, 4 mu0, 8 mu1 */

static int fake_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                    size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    *n = N;
    *width = 1;
    if (kind == TT_NUISANCE_KIND_PROPENSITY) {
        *values = g_e;
        g_asked |= 1;
    } else if (kind == TT_NUISANCE_KIND_OUTCOME) {
        *values = g_m;
        g_asked |= 2;
    } else if (kind == TT_NUISANCE_KIND_ARM_OUTCOME && (arm == 0 || arm == 1)) {
        *values = arm ? g_mu1 : g_mu0;
        g_asked |= arm ? 8u : 4u;
    } else {
        snprintf(err, errlen, "fake host: no nuisance kind %d arm %d", (int)kind, arm);
        return TT_ERR_UNSUPPORTED;
    }
    return TT_OK;
}

static int fake_predict(void *host_ctx, tt_nuisance_kind kind, int arm,
                        const tt_plugin_data *rows, double *out, char *err, size_t errlen)
{
    (void)host_ctx;
    (void)rows;
    (void)out;
    snprintf(err, errlen, "fake host: nuisance_predict(kind %d, arm %d) not expected", (int)kind,
             arm);
    return TT_ERR_UNSUPPORTED;
}

static tt_registry *g_reg;

static int setup(void **state)
{
    (void)state;
    g_reg = et_registry_load();
    return g_reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tt_registry_free(g_reg);
    return 0;
}

static void assert_rel(const char *what, double got, double want)
{
    if (!(fabs(got - want) <= 1e-9 * fabs(want)))
        fail_msg("%s: got %.17g, want %.17g (relative error %.3g)", what, got, want,
                 fabs(got - want) / fabs(want));
}

/* Fit `name` (fit_cate_intercept 1, featurizer none) on the literal data
 * through the fake host and compare with ref. expect_asked: the nuisances it
 * must have asked for. */
static void check_closed_form(const char *name, const reference *ref, unsigned expect_asked)
{
    const tt_plugin_descriptor *desc = et_plugin(g_reg, name);
    assert_true(desc->capabilities & TT_PLUGIN_CAP_INTERVALS);
    et_run *r = et_run_new(desc, NULL, 7);
    r->host.nuisance_oof = fake_oof;
    r->host.nuisance_predict = fake_predict;
    double *params = et_default_params(desc);
    et_set_param(desc, params, "fit_cate_intercept", 1, NULL);
    et_set_param(desc, params, "featurizer", 0, "none");
    char err[1024] = "";
    if (desc->create(&r->host, params, 2, &r->inst, err, sizeof err) != TT_OK)
        fail_msg("%s create: %s", name, err);
    free(params);

    tt_plugin_data train = {.struct_size = sizeof train, .n = N, .p_x = 1, .x = g_x, .t = g_t,
                            .y = g_y, .n_arms = 2};
    g_asked = 0;
    if (desc->fit(r->inst, &train, err, sizeof err) != TT_OK)
        fail_msg("%s fit: %s", name, err);
    assert_int_equal(g_asked, expect_asked);

    static const double at[2] = {0.0, 1.0};
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 2, .p_x = 1, .x = at, .n_arms = 2};
    et_pred p = et_predict(r, &rows);
    assert_non_null(p.lo);
    assert_non_null(p.ate);
    double b0 = ref->b0, b1 = ref->b1;
    double var0 = ref->v00, var1 = ref->v00 + 2 * ref->v01 + ref->v11;
    double var_avg = ref->v00 + ref->v01 + 0.25 * ref->v11;
    assert_rel("effect at x = 0", p.effect[0], b0);
    assert_rel("effect at x = 1", p.effect[1], b0 + b1);
    assert_rel("half-width at x = 0", (p.hi[0] - p.lo[0]) / 2, Z975 * sqrt(var0));
    assert_rel("half-width at x = 1", (p.hi[1] - p.lo[1]) / 2, Z975 * sqrt(var1));
    assert_rel("interval centre at x = 0", (p.hi[0] + p.lo[0]) / 2, b0);
    assert_rel("interval centre at x = 1", (p.hi[1] + p.lo[1]) / 2, b0 + b1);
    assert_rel("average effect", p.ate[0], b0 + 0.5 * b1);
    assert_rel("average half-width", (p.ate_hi[0] - p.ate_lo[0]) / 2, Z975 * sqrt(var_avg));
    print_message("%s: b0 %.6f b1 %.6f, half-widths %.6f %.6f\n", name, p.effect[0],
                  p.effect[1] - p.effect[0], (p.hi[0] - p.lo[0]) / 2, (p.hi[1] - p.lo[1]) / 2);
    et_pred_free(&p);
    et_run_free(r);
}

static void test_dml_linear_closed_form(void **state)
{
    (void)state;
    check_closed_form("dml_linear", &g_dml, 1 | 2);
}

static void test_dr_linear_closed_form(void **state)
{
    (void)state;
    check_closed_form("dr_linear", &g_dr, 1 | 4 | 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dml_linear_closed_form),
        cmocka_unit_test(test_dr_linear_closed_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
