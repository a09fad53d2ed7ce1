/* test_host_slot.c - learner slots for any plugin (tautune/slot.h and the
 * host table's learner_from_slot, ABI 1.10):
 *   - a descriptor built from the installed macros passes the host's
 *     validation, conditions included;
 *   - each learner the slot chooses is the learner learner_create makes
 *     with the mapped settings: predictions identical to the bit (ridge at
 *     its default, gbm with every setting moved, lasso with poly2 features,
 *     a forest classifier);
 *   - a linear learner asked to classify, and values that are no slot block
 *     (a pointer at the wrong parameter), are refused with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "plugin/registry.h"
#include "tautune/slot.h"

static const tt_plugin_param g_params[] = {
    TT_SLOT_PARAMS("final", "the final model"),
    {.name = "k", .kind = TT_PARAM_INT, .lo = 1, .hi = 9, .default_value = 3},
};
static const tt_plugin_condition g_conds[] = {TT_SLOT_CONDITIONS("final")};

static int no_create(const tt_plugin_host *h, const double *p, int k, void **i, char *e, size_t l)
{
    (void)h, (void)p, (void)k, (void)i, (void)e, (void)l;
    return TT_ERR_UNSUPPORTED;
}
static int no_fit(void *i, const tt_plugin_data *d, char *e, size_t l)
{
    (void)i, (void)d, (void)e, (void)l;
    return TT_ERR_UNSUPPORTED;
}
static int no_effect(void *i, const tt_plugin_data *d, double *o, char *e, size_t l)
{
    (void)i, (void)d, (void)o, (void)e, (void)l;
    return TT_ERR_UNSUPPORTED;
}
static void no_destroy(void *i)
{
    (void)i;
}

enum { N = 80, P = 3 };
static double g_x[N * P], g_y[N], g_labels[N];

static void make_data(void)
{
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < P; j++)
            g_x[j * N + i] = (double)((i * (j + 3)) % 17) / 17.0;
        g_y[i] = g_x[i] - 2 * g_x[N + i] + g_x[2 * N + i] * g_x[i];
        g_labels[i] = g_y[i] > 0 ? 1 : 0;
    }
}

/* The slot's learner and the directly made one predict the same. */
static void same_as(const tt_plugin_host *h, const double *slot, int classify, const char *name,
                    const char *const *keys, const double *values, size_t n_keys)
{
    char err[256];
    tt_learner *a = NULL, *b = NULL;
    assert_int_equal(h->learner_from_slot(h->host_ctx, slot, classify, &a, err, sizeof err),
                     TT_OK);
    assert_int_equal(h->learner_create(h->host_ctx, name, keys, values, n_keys, &b, err,
                                       sizeof err), TT_OK);
    const double *y = classify ? g_labels : g_y;
    assert_int_equal(h->learner_fit(a, N, P, g_x, y, NULL, err, sizeof err), TT_OK);
    assert_int_equal(h->learner_fit(b, N, P, g_x, y, NULL, err, sizeof err), TT_OK);
    size_t k = h->learner_n_outputs(a);
    assert_int_equal(k, h->learner_n_outputs(b));
    double pa[N * 2], pb[N * 2];
    assert_int_equal(h->learner_predict(a, N, P, g_x, pa, err, sizeof err), TT_OK);
    assert_int_equal(h->learner_predict(b, N, P, g_x, pb, err, sizeof err), TT_OK);
    assert_memory_equal(pa, pb, N * k * sizeof(double));
    h->learner_destroy(a);
    h->learner_destroy(b);
}

static void test_slot(void **state)
{
    (void)state;
    make_data();
    tt_plugin_descriptor d = {
        .struct_size = sizeof d, .magic = TT_PLUGIN_MAGIC, .abi_major = TT_PLUGIN_ABI_MAJOR,
        .abi_minor = TT_PLUGIN_ABI_MINOR, .build_tag = TT_PLUGIN_BUILD_TAG, .name = "slotted",
        .version = "1",
        .params = g_params, .n_params = sizeof g_params / sizeof g_params[0],
        .conditions = g_conds, .n_conditions = TT_SLOT_NCOND, .create = no_create,
        .fit = no_fit, .effect = no_effect, .destroy = no_destroy};
    char err[256];
    if (tt_plugin_validate(&d, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    assert_int_equal(TT_SLOT_N, 7);

    tt_host_ctx ctx = {.plugin_name = "slotted"};
    tt_plugin_host h;
    tt_host_services_init(&h, &ctx, 21);
    /* The block's defaults: ridge, alpha 1. */
    double slot[TT_SLOT_N];
    for (size_t i = 0; i < TT_SLOT_N; i++)
        slot[i] = g_params[i].default_value;
    const char *ridge_keys[] = {"alpha"};
    const double ridge_values[] = {1.0};
    same_as(&h, slot, 0, "ridge", ridge_keys, ridge_values, 1);
    /* gbm with every setting away from its default. */
    const double gbm[TT_SLOT_N] = {3, 1, 37, 3, 7, 0.2, 0};
    const char *gbm_keys[] = {"n_rounds", "max_depth", "learning_rate", "min_child_weight"};
    const double gbm_values[] = {37, 3, 0.2, 7};
    same_as(&h, gbm, 0, "gbm", gbm_keys, gbm_values, 4);
    /* lasso (cross-validated penalty) with the poly2 featurizer. */
    const double lasso[TT_SLOT_N] = {1, 1, 100, 4, 5, 0.1, 1};
    const char *lasso_keys[] = {"poly2", "standardize"};
    const double lasso_values[] = {1, 1};
    same_as(&h, lasso, 0, "lasso", lasso_keys, lasso_values, 2);
    /* A forest classifier. */
    const double forest[TT_SLOT_N] = {2, 1, 30, 4, 3, 0.1, 1};
    const char *forest_keys[] = {"n_trees", "min_leaf", "classify"};
    const double forest_values[] = {30, 3, 1};
    same_as(&h, forest, 1, "forest", forest_keys, forest_values, 3);

    tt_learner *l = NULL;
    assert_int_equal(h.learner_from_slot(h.host_ctx, slot, 1, &l, err, sizeof err),
                     TT_ERR_INVALID);
    assert_non_null(strstr(err, "the ridge learner cannot classify"));
    assert_null(l);
    /* Pointed at "final_alpha" instead of "final_learner": 1, 100, 4, ...
     * reads as lasso with featurizer 3, which is no featurizer. */
    double wrong[TT_SLOT_N + 1] = {0, 1, 100, 4, 5, 0.1, 0, 3};
    assert_int_equal(h.learner_from_slot(h.host_ctx, wrong + 1, 0, &l, err, sizeof err),
                     TT_ERR_INVALID);
    assert_non_null(strstr(err, "is the pointer at <prefix>_learner?"));
    assert_null(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_slot)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
