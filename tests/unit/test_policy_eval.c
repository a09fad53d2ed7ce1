/* test_policy_eval.c - a policy tree valued on held-out rows
 * (insight/policy_eval.h): on rewards where arm 1 pays only when x1 > 0 the
 * tree finds that rule and beats treating no one and everyone by about the
 * amounts the closed form says; the greedy policy of exact effects ties it;
 * costs move the rule; the halves are reproducible; bad input is refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insight/policy_eval.h"
#include "util/rng.h"

/* m rows, x1, x2 ~ N(0, 1); R_0 = noise, R_1 = 2 * 1{x1 > 0} - 1 + noise:
 * treating is worth +1 where x1 > 0 and -1 elsewhere. tau = R_1 - R_0's
 * expectation. */
typedef struct data {
    size_t m;
    double *x, *r, *tau;
} data;

static data make(size_t m, uint64_t seed, double noise)
{
    data d = {m, malloc(sizeof(double) * 2 * m), malloc(sizeof(double) * 2 * m),
              malloc(sizeof(double) * m)};
    tt_rng g;
    tt_rng_seed(&g, seed, "policy-eval");
    for (size_t i = 0; i < m; i++) {
        d.x[i] = tt_rng_normal(&g);
        d.x[m + i] = tt_rng_normal(&g);
        double gain = d.x[i] > 0 ? 1.0 : -1.0;
        d.r[i] = noise * tt_rng_normal(&g);
        d.r[m + i] = gain + noise * tt_rng_normal(&g);
        d.tau[i] = gain;
    }
    return d;
}

static void drop(data *d)
{
    free(d->x), free(d->r), free(d->tau);
}

static void test_finds_the_rule(void **state)
{
    (void)state;
    data d = make(4000, 1, 1.0);
    tt_policy_eval e;
    char err[256];
    tt_policy_eval_options o;
    tt_policy_eval_options_init(&o);
    o.depth = 1;
    o.seed = 7;
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, NULL, d.tau, &o, &e, err,
                                        sizeof err), TT_OK);
    const tt_policy_tree_node *root = tt_policy_tree_node_at(e.tree, 0);
    assert_int_equal(root->feature, 0);
    assert_true(fabs(root->threshold) < 0.1);
    /* Closed form: the rule is worth 0.5 over no one (half the rows gain 1)
     * and 0.5 over everyone (the other half lose 1), per row. */
    printf("tree %.3f, no one %.3f, everyone %.3f; gains %.3f (%.3f), %.3f (%.3f)\n",
           e.policy.value, e.no_one.value, e.everyone.value, e.gain_no_one.value,
           e.gain_no_one.se, e.gain_everyone.value, e.gain_everyone.se);
    assert_true(fabs(e.gain_no_one.value - 0.5) < 4 * e.gain_no_one.se);
    assert_true(e.gain_no_one.value > 3 * e.gain_no_one.se);
    assert_true(fabs(e.gain_everyone.value - 0.5) < 4 * e.gain_everyone.se);
    /* The greedy policy of the exact effects is the same rule. */
    assert_true(fabs(e.gain_greedy.value) < 0.05);
    assert_true(fabs(e.shares[1] - 0.5) < 0.05);
    assert_int_equal(e.n_fit + e.n_eval, d.m);
    tt_policy_eval_free(&e);
    drop(&d);
}

/* A cost of 1.5 on arm 1 makes treating never worth it: the tree is one
 * leaf giving arm 0, and equals "no one". */
static void test_cost(void **state)
{
    (void)state;
    data d = make(2000, 2, 0.5);
    double cost[2] = {0, 1.5};
    tt_policy_eval e;
    char err[256];
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, cost, d.tau, NULL, &e, err,
                                        sizeof err), TT_OK);
    assert_int_equal(tt_policy_tree_n_nodes(e.tree), 1);
    assert_int_equal(tt_policy_tree_node_at(e.tree, 0)->action, 0);
    assert_true(e.gain_no_one.value == 0.0);
    assert_int_equal(e.everyone_arm, 0);
    tt_policy_eval_free(&e);
    drop(&d);
}

static void test_reproducible_and_errors(void **state)
{
    (void)state;
    data d = make(500, 3, 1.0);
    tt_policy_eval a, b;
    char err[256];
    tt_policy_eval_options o;
    tt_policy_eval_options_init(&o);
    o.seed = 11;
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, NULL, NULL, &o, &a, err,
                                        sizeof err), TT_OK);
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, NULL, NULL, &o, &b, err,
                                        sizeof err), TT_OK);
    assert_true(a.policy.value == b.policy.value && a.policy.se == b.policy.se);
    assert_false(a.has_greedy);
    tt_policy_eval_free(&a);
    tt_policy_eval_free(&b);
    assert_int_equal(tt_policy_evaluate(10, 2, d.x, 2, d.r, NULL, NULL, NULL, &a, err,
                                        sizeof err), TT_ERR_INVALID);
    o.depth = 4;
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, NULL, NULL, &o, &a, err,
                                        sizeof err), TT_ERR_INVALID);
    d.r[17] = NAN;
    assert_int_equal(tt_policy_evaluate(d.m, 2, d.x, 2, d.r, NULL, NULL, NULL, &a, err,
                                        sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 17"));
    drop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_the_rule),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_reproducible_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
