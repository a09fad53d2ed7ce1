/* test_kit_nuisance_iv.c - the instrumental-variable nuisances (ABI 1.7):
 * the engine's instrument and treatment-given-instrument roles against the
 * iv generator's truth and a brute-force cross-fit, the folds stratified by
 * arm and instrument, one-sided non-compliance, a declared randomised
 * instrument, and the host table and plugin kit serving them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pu_nuis.h"
#include "data/gen.h"
#include "learn/learner.h"
#include "nuisance/nuisance.h"
#include "plugin/host.h"
#include "test_iv_data.h"

enum { N = 4000, FOLDS = 5 };

typedef struct fixture {
    tt_dataset *d;
    double *features;
    int32_t *zbin;
    tt_nuisance_data nd;
    size_t p;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->d = test_iv_data(N, 5);
    const tt_dataset *d = f->d;
    f->p = d->p_x + d->p_w;
    f->features = malloc(sizeof(double) * N * f->p);
    memcpy(f->features, d->x, sizeof(double) * N * d->p_x);
    memcpy(f->features + (size_t)N * d->p_x, d->w, sizeof(double) * N * d->p_w);
    f->zbin = malloc(sizeof(int32_t) * N);
    for (size_t i = 0; i < N; i++)
        f->zbin[i] = d->z[i] == 1.0;
    f->nd = (tt_nuisance_data){.n = N, .p = f->p, .x = f->features, .y = d->y, .arm = d->t,
                               .n_arms = 2, .zbin = f->zbin};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tt_dataset_free(f->d);
    free(f->features);
    free(f->zbin);
    free(f);
    return 0;
}

static tt_nuisance_engine *engine_of(const tt_nuisance_data *nd)
{
    tt_nuisance_engine *e = NULL;
    char err[256] = "";
    if (tt_nuisance_engine_new(nd, FOLDS, 3, &e, err, sizeof err) != TT_OK)
        fail_msg("engine: %s", err);
    return e;
}

static const tt_nuisance_spec logistic = {"logistic", 1, {"alpha"}, {1.0}};

/* p_z recovers the truth on every row (also those with the other z), and
 * r = P(Z = 1) is near the design's 0.5 with an AUC near chance. */
static void test_recovers_truth(void **state)
{
    fixture *f = *state;
    tt_nuisance_engine *e = engine_of(&f->nd);
    const tt_nuisance_result *r = NULL, *pz[2] = {NULL, NULL};
    char err[256] = "";
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_INSTRUMENT, -1, &logistic, &r, err,
                                     sizeof err), TT_OK);
    for (int z = 0; z < 2; z++)
        assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_TREATMENT_GIVEN_Z, z, &logistic, &pz[z],
                                         err, sizeof err), TT_OK);
    double mean_r = 0.0, sse[2] = {0, 0};
    for (size_t i = 0; i < N; i++) {
        mean_r += r->oof[i] / N;
        for (int z = 0; z < 2; z++) {
            double d = pz[z]->oof[i] - test_iv_true_pz(f->d, i, z);
            sse[z] += d * d;
        }
    }
    assert_true(fabs(mean_r - 0.5) < 0.03);
    assert_true(fabs(r->diag.auc - 0.5) < 0.06);
    for (int z = 0; z < 2; z++) {
        /* A logistic fit of a probit surface: small misfit plus noise. */
        /* Against the spread of the truth (what a constant would miss by):
         * about 0.04 against 0.11 on 2,000 rows per instrument value. */
        double mean_t = 0.0, var_t = 0.0;
        for (size_t i = 0; i < N; i++)
            mean_t += test_iv_true_pz(f->d, i, z) / N;
        for (size_t i = 0; i < N; i++)
            var_t += (test_iv_true_pz(f->d, i, z) - mean_t) * (test_iv_true_pz(f->d, i, z) - mean_t) / N;
        double rmse = sqrt(sse[z] / N);
        assert_true(rmse < 0.06);
        assert_true(rmse < 0.5 * sqrt(var_t));
        assert_int_equal(pz[z]->arm, z);
        assert_int_equal(pz[z]->width, 1);
        assert_non_null(pz[z]->full);
        /* Scored on its own rows only: the AUC of T among rows with Z = z. */
        assert_true(pz[z]->diag.auc > 0.55 && pz[z]->diag.auc < 0.8);
    }
    /* The compliance is the true 1.5-shift's effect on the probability. */
    double comp = 0.0, comp_true = 0.0;
    for (size_t i = 0; i < N; i++) {
        comp += (pz[1]->oof[i] - pz[0]->oof[i]) / N;
        comp_true += (test_iv_true_pz(f->d, i, 1) - test_iv_true_pz(f->d, i, 0)) / N;
    }
    assert_true(fabs(comp - comp_true) < 0.03);
    tt_nuisance_engine_free(e);
}

/* Brute force: for each fold, a logistic fitted by hand on the other folds'
 * rows with Z = 1 predicts that fold's rows; the engine's values match. */
static void test_crossfit_brute_force(void **state)
{
    fixture *f = *state;
    tt_nuisance_engine *e = engine_of(&f->nd);
    const tt_nuisance_result *pz1 = NULL;
    char err[256] = "";
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_TREATMENT_GIVEN_Z, 1, &logistic, &pz1, err,
                                     sizeof err), TT_OK);
    size_t folds = 0;
    const uint32_t *fold = tt_nuisance_folds(e, &folds);
    assert_int_equal(folds, FOLDS);
    /* Stratified by arm x instrument: each cell's fold counts differ by <= 1. */
    for (int cell = 0; cell < 4; cell++) {
        size_t count[FOLDS] = {0};
        for (size_t i = 0; i < N; i++)
            if (f->d->t[i] * 2 + f->zbin[i] == cell)
                count[fold[i]]++;
        size_t lo = count[0], hi = count[0];
        for (int k = 1; k < FOLDS; k++) {
            lo = count[k] < lo ? count[k] : lo;
            hi = count[k] > hi ? count[k] : hi;
        }
        assert_true(hi - lo <= 1);
    }
    double *x = malloc(sizeof *x * N * f->p), *lab = malloc(sizeof *lab * N);
    double *xt = malloc(sizeof *xt * N * f->p), *pred = malloc(sizeof *pred * N);
    for (size_t k = 0; k < FOLDS; k++) {
        size_t m = 0, mt = 0;
        for (size_t i = 0; i < N; i++)
            m += fold[i] != k && f->zbin[i] == 1;
        for (size_t i = 0; i < N; i++)
            mt += fold[i] == k;
        size_t a = 0, b = 0;
        for (size_t i = 0; i < N; i++) {
            if (fold[i] != k && f->zbin[i] == 1) {
                for (size_t j = 0; j < f->p; j++)
                    x[j * m + a] = f->features[j * N + i];
                lab[a++] = f->d->t[i];
            }
            if (fold[i] == k) {
                for (size_t j = 0; j < f->p; j++)
                    xt[j * mt + b] = f->features[j * N + i];
                b++;
            }
        }
        const char *keys[] = {"alpha"};
        double vals[] = {1.0};
        tt_learner *l = NULL;
        assert_int_equal(tt_learner_create("logistic", keys, vals, 1, 1, &l, err, sizeof err),
                         TT_OK);
        assert_int_equal(tt_learner_fit(l, m, f->p, x, lab, NULL, err, sizeof err), TT_OK);
        assert_int_equal(tt_learner_predict(l, mt, f->p, xt, pred, err, sizeof err), TT_OK);
        tt_learner_destroy(l);
        for (size_t i = 0, t = 0; i < N; i++)
            if (fold[i] == k) {
                assert_true(fabs(pz1->oof[i] - pred[t]) < 1e-9);
                t++;
            }
    }
    free(x);
    free(lab);
    free(xt);
    free(pred);
    tt_nuisance_engine_free(e);
}

/* One-sided non-compliance: nobody without the instrument is treated. The
 * z = 0 model is exactly 0 ("constant", no classifier), for new rows too. */
static void test_one_sided(void **state)
{
    fixture *f = *state;
    int32_t *t = malloc(sizeof *t * N);
    for (size_t i = 0; i < N; i++)
        t[i] = f->zbin[i] ? f->d->t[i] : 0;
    tt_nuisance_data nd = f->nd;
    nd.arm = t;
    tt_nuisance_engine *e = engine_of(&nd);
    const tt_nuisance_result *p0 = NULL;
    char err[256] = "";
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_TREATMENT_GIVEN_Z, 0, &logistic, &p0, err,
                                     sizeof err), TT_OK);
    assert_string_equal(p0->diag.learner, TT_NUISANCE_CONSTANT);
    assert_null(p0->full);
    for (size_t i = 0; i < N; i++)
        assert_true(p0->oof[i] == 0.0);
    /* The host serves the constant for new rows. */
    tt_host_nuisances nu = {.treatment_given_z = {p0, NULL}, .n_arms = 2,
                            .p_x = f->d->p_x, .p_w = f->d->p_w};
    tt_host_ctx ctx = {.plugin_name = "iv", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_IV_NUISANCES};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 1);
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 3, .p_x = f->d->p_x,
                           .p_w = f->d->p_w, .x = f->d->x, .w = f->d->w, .n_arms = 2};
    double *out = NULL;
    /* x and w of the first three rows need n-strided columns: use n = N's
     * first three via a copy. */
    double xs[64], ws[64];
    for (size_t j = 0; j < f->d->p_x; j++)
        for (size_t i = 0; i < 3; i++)
            xs[j * 3 + i] = f->d->x[j * N + i];
    for (size_t j = 0; j < f->d->p_w; j++)
        for (size_t i = 0; i < 3; i++)
            ws[j * 3 + i] = f->d->w[j * N + i];
    rows.x = xs;
    rows.w = ws;
    assert_int_equal(pu_nuis_treatment_given_z_predict(&host, 0, &rows, &out, err, sizeof err),
                     TT_OK);
    for (size_t i = 0; i < 3; i++)
        assert_true(out[i] == 0.0);
    host.release(out);
    tt_nuisance_engine_free(e);
    free(t);
}

/* data.z_propensity: known, never fitted; served for new rows too. Bad
 * values and data without an instrument are refused. */
static void test_known_instrument(void **state)
{
    fixture *f = *state;
    tt_nuisance_engine *e = engine_of(&f->nd);
    const tt_nuisance_result *r = NULL;
    char err[256] = "";
    assert_int_equal(tt_nuisance_set_instrument(e, 1.2, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "(0, 1)"));
    assert_int_equal(tt_nuisance_set_instrument(e, 0.5, &r, err, sizeof err), TT_OK);
    assert_string_equal(r->diag.learner, "known");
    assert_ptr_equal(tt_nuisance_chosen(e, TT_NUISANCE_INSTRUMENT, -1), r);
    for (size_t i = 0; i < N; i++)
        assert_true(r->oof[i] == 0.5);
    tt_host_nuisances nu = {.instrument = r, .instrument_known = 0.5, .n_arms = 2,
                            .p_x = f->d->p_x, .p_w = f->d->p_w};
    tt_host_ctx ctx = {.plugin_name = "iv", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_IV_NUISANCES};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 1);
    double *v = NULL;
    assert_int_equal(pu_nuis_instrument_oof(&host, N, 0.0, &v, err, sizeof err), TT_OK);
    assert_true(v[0] == 0.5 && v[N - 1] == 0.5);
    host.release(v);
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 1, .p_x = f->d->p_x,
                           .p_w = f->d->p_w, .x = f->d->x, .w = f->d->w, .n_arms = 2};
    assert_int_equal(pu_nuis_instrument_predict(&host, &rows, 0.0, &v, err, sizeof err), TT_OK);
    assert_true(v[0] == 0.5);
    host.release(v);
    /* Not declared: refused, naming the capability. */
    ctx.capabilities = TT_PLUGIN_CAP_NEEDS_OUTCOME;
    assert_int_equal(pu_nuis_instrument_oof(&host, N, 0.0, &v, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES"));
    /* An older host (ABI 1.6) has no IV nuisances. */
    ctx.capabilities = TT_PLUGIN_CAP_NEEDS_IV_NUISANCES;
    host.abi_minor = 6;
    assert_int_equal(pu_nuis_instrument_oof(&host, N, 0.0, &v, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "ABI 1.7"));
    tt_nuisance_engine_free(e);
    /* Without an instrument the IV roles are refused. */
    tt_nuisance_data nd = f->nd;
    nd.zbin = NULL;
    e = engine_of(&nd);
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_INSTRUMENT, -1, &logistic, &r, err,
                                     sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "binary instrument"));
    tt_nuisance_engine_free(e);
}

/* The kit's compliance is p_1 - p_0 of what the host serves. */
static void test_kit_compliance(void **state)
{
    fixture *f = *state;
    tt_nuisance_engine *e = engine_of(&f->nd);
    const tt_nuisance_result *pz[2];
    char err[256] = "";
    for (int z = 0; z < 2; z++)
        assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_TREATMENT_GIVEN_Z, z, &logistic, &pz[z],
                                         err, sizeof err), TT_OK);
    tt_host_nuisances nu = {.treatment_given_z = {pz[0], pz[1]}, .n_arms = 2,
                            .p_x = f->d->p_x, .p_w = f->d->p_w};
    tt_host_ctx ctx = {.plugin_name = "iv", .nuisances = &nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_IV_NUISANCES};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 1);
    double *c = NULL;
    assert_int_equal(pu_nuis_compliance_oof(&host, N, &c, err, sizeof err), TT_OK);
    for (size_t i = 0; i < N; i++)
        assert_true(c[i] == pz[1]->oof[i] - pz[0]->oof[i]);
    host.release(c);
    /* The wrong row count is an error, not a silent misread. */
    assert_int_equal(pu_nuis_compliance_oof(&host, N - 1, &c, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(pu_nuis_treatment_given_z_oof(&host, 2, N, &c, err, sizeof err),
                     TT_ERR_INVALID);
    tt_nuisance_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_truth),
        cmocka_unit_test(test_crossfit_brute_force),
        cmocka_unit_test(test_one_sided),
        cmocka_unit_test(test_known_instrument),
        cmocka_unit_test(test_kit_compliance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
