/* test_nuisance_host.c - plugins reach the run's nuisance models through the
 * host table (ABI 1.1): out-of-fold values for the training rows, the
 * all-rows models for other rows, and only what they declared. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/split.h"
#include "data/synth.h"
#include "nuisance/nuisance.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "score/scores.h"
#include "search/trial.h"

#include "test_problem.h"

#ifndef TT_NUISANCE_PLUGIN_DIR
#define TT_NUISANCE_PLUGIN_DIR "tests/nuisance_plugins"
#endif

typedef struct fixture {
    tt_registry *reg;
    test_problem tp;
    double *features;
    tt_nuisance_data nd;
    tt_nuisance_engine *engine;
    const tt_nuisance_result *prop, *mu[2];
    tt_host_nuisances nu;
    tt_trial_problem problem;
    const tt_dataset *train, *valid;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[1024];
    f->reg = tt_registry_new();
    if (tt_registry_load_dir(f->reg, TT_NUISANCE_PLUGIN_DIR, NULL, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (test_problem_make(&f->tp, 2000) != 0)
        return -1;
    f->train = f->tp.train;
    f->valid = f->tp.valid;
    /* The engine's features: [x, w] of the training rows, as the run builds them. */
    size_t n = f->train->n, p = f->train->p_x + f->train->p_w;
    f->features = malloc(n * p * sizeof *f->features);
    memcpy(f->features, f->train->x, n * f->train->p_x * sizeof(double));
    memcpy(f->features + n * f->train->p_x, f->train->w, n * f->train->p_w * sizeof(double));
    f->nd = (tt_nuisance_data){.n = n, .p = p, .x = f->features, .y = f->train->y,
                               .arm = f->train->t, .n_arms = 2};
    tt_nuisance_spec logistic = {.learner = "logistic"}, ridge = {.learner = "ridge"};
    if (tt_nuisance_engine_new(&f->nd, 5, 11, &f->engine, err, sizeof err) ||
        tt_nuisance_fit(f->engine, TT_NUISANCE_PROPENSITY, -1, &logistic, &f->prop, err, sizeof err) ||
        tt_nuisance_fit(f->engine, TT_NUISANCE_ARM_OUTCOME, 0, &ridge, &f->mu[0], err, sizeof err) ||
        tt_nuisance_fit(f->engine, TT_NUISANCE_ARM_OUTCOME, 1, &ridge, &f->mu[1], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->nu = (tt_host_nuisances){.propensity = f->prop, .arm_outcome = f->mu, .n_arms = 2,
                                .p_x = f->train->p_x, .p_w = f->train->p_w};
    f->problem = f->tp.problem;
    f->problem.nuisances = &f->nu;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tt_nuisance_engine_free(f->engine);
    free(f->features);
    test_problem_free(&f->tp);
    tt_registry_free(f->reg);
    free(f);
    return 0;
}

static const tt_plugin_descriptor *plugin(fixture *f, const char *name)
{
    const tt_plugin_entry *e = tt_registry_find(f->reg, name);
    assert_non_null(e);
    return e->desc;
}

static void test_aipw_from_out_of_fold_values(void **state)
{
    fixture *f = *state;
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(&f->problem, plugin(f, "nx_aipw"), NULL, 1, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_OK);
    /* The same AIPW average, computed here from the engine's own values. */
    const tt_dataset *t = f->train;
    double sum = 0;
    for (size_t i = 0; i < t->n; i++) {
        double e = fmin(0.95, fmax(0.05, f->prop->oof[i]));
        double m0 = f->mu[0]->oof[i], m1 = f->mu[1]->oof[i];
        sum += m1 - m0 + (t->t[i] == 1 ? (t->y[i] - m1) / e : -(t->y[i] - m0) / (1 - e));
    }
    assert_true(fabs(r.ate - sum / (double)t->n) < 1e-12);
    /* Doubly robust on confounded data: near the true average effect (1),
     * far from the naive difference (about 1.8). */
    assert_true(fabs(r.ate - 1.0) < 0.25);
    tt_trial_result_clear(&r);
}

static void test_plugin_t_from_full_models(void **state)
{
    fixture *f = *state;
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(&f->problem, plugin(f, "nx_plugin_t"), NULL, 1, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_OK);
    const tt_dataset *v = f->valid;
    size_t n = v->n, p = v->p_x + v->p_w;
    double *feat = malloc(n * p * sizeof *feat), *m0 = malloc(n * sizeof *m0),
           *m1 = malloc(n * sizeof *m1);
    memcpy(feat, v->x, n * v->p_x * sizeof *feat);
    memcpy(feat + n * v->p_x, v->w, n * v->p_w * sizeof *feat);
    char err[256];
    assert_int_equal(tt_learner_predict(f->mu[0]->full, n, p, feat, m0, err, sizeof err), TT_OK);
    assert_int_equal(tt_learner_predict(f->mu[1]->full, n, p, feat, m1, err, sizeof err), TT_OK);
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += m1[i] - m0[i];
    assert_true(fabs(r.ate - mean / (double)n) < 1e-12);
    /* Row by row too: the effects the trial sends back. */
    assert_int_equal(r.n_effects, n);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(r.effects[i] - (m1[i] - m0[i])) < 1e-12);
    tt_trial_result_clear(&r);
    free(feat);
    free(m0);
    free(m1);
}

static void test_only_declared_nuisances(void **state)
{
    fixture *f = *state;
    /* nx_plugin_t declared arm outcomes only: the host refuses the propensity. */
    tt_host_ctx ctx = {.plugin_name = "t", .nuisances = &f->nu,
                       .capabilities = TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 1);
    assert_true(host.abi_minor >= 1);
    const double *v;
    size_t n, w;
    char err[256];
    assert_int_equal(host.nuisance_oof(host.host_ctx, TT_NUISANCE_KIND_PROPENSITY, -1, &v, &n, &w,
                                       err, sizeof err), TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "not declared"));
    assert_int_equal(host.nuisance_oof(host.host_ctx, TT_NUISANCE_KIND_ARM_OUTCOME, 1, &v, &n, &w,
                                       err, sizeof err), TT_OK);
    assert_true(v == f->mu[1]->oof && n == f->train->n && w == 1);
    assert_int_equal(host.nuisance_oof(host.host_ctx, TT_NUISANCE_KIND_ARM_OUTCOME, 2, &v, &n, &w,
                                       err, sizeof err), TT_ERR_UNSUPPORTED);

    /* A run without nuisance models: the trial fails with the reason. */
    tt_trial_problem bare = f->problem;
    bare.nuisances = NULL;
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(&bare, plugin(f, "nx_aipw"), NULL, 1, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_FAILED);
    assert_non_null(strstr(r.error, "the host has no propensity nuisance"));
    tt_trial_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aipw_from_out_of_fold_values),
        cmocka_unit_test(test_plugin_t_from_full_models),
        cmocka_unit_test(test_only_declared_nuisances),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
