/* test_policy_tree.c - exact policy trees (insight/policy_tree.h): the fast
 * search against the brute force on many small random problems, a tiny
 * recursive enumerator for depth 3, closed forms, prediction, rules, JSON,
 * errors and stopping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insight/policy_tree.h"
#include "util/rng.h"

typedef struct problem {
    size_t n, p, k;
    double *x, *g; /* column-major n x p, n x k */
} problem;

/* Random problem. Features: integer-valued with a few levels (many ties),
 * continuous, or continuous rounded to one decimal. Rewards: dyadic (k/8,
 * so every sum is exact and ties are real) or continuous. */
static problem make(tt_rng *r, size_t n, size_t p, size_t k, int dyadic)
{
    problem P = {n, p, k, malloc(n * (p ? p : 1) * sizeof(double)),
                 malloc(n * k * sizeof(double))};
    for (size_t j = 0; j < p; j++) {
        const int kind = (int)tt_rng_below(r, 3);
        const uint64_t levels = 2 + tt_rng_below(r, 5);
        for (size_t i = 0; i < n; i++) {
            const double z = tt_rng_normal(r);
            P.x[j * n + i] = kind == 0   ? (double)tt_rng_below(r, levels)
                             : kind == 1 ? z
                                         : round(10.0 * z) / 10.0;
        }
    }
    /* A signal so trees are not all leaves: arm a pays off where x1 is high
     * (a odd) or low (a even). */
    for (size_t a = 0; a < k; a++)
        for (size_t i = 0; i < n; i++) {
            const double sig = p ? (a % 2 ? 0.5 : -0.5) * P.x[i] * (double)(a > 0) : 0.0;
            const double v = sig + tt_rng_normal(r);
            P.g[a * n + i] = dyadic ? round(8.0 * v) / 8.0 : v;
        }
    return P;
}

static void drop(problem *P)
{
    free(P->x), free(P->g);
}

static tt_policy_tree *fit(const problem *P, int depth, size_t min, size_t step, int brute)
{
    tt_policy_tree_options o;
    tt_policy_tree_options_init(&o);
    o.depth = depth, o.min_node_size = min, o.split_step = step;
    tt_policy_tree *t = NULL;
    char err[256] = "";
    tt_status st = brute ? tt_policy_tree_fit_brute(P->n, P->p, P->x, P->k, P->g, &o, &t, err,
                                                    sizeof err)
                         : tt_policy_tree_fit(P->n, P->p, P->x, P->k, P->g, &o, &t, err,
                                              sizeof err);
    if (st != TT_OK)
        fail_msg("fit (%s) failed: %s", brute ? "brute" : "fast", err);
    return t;
}

static int same_tree(const tt_policy_tree *a, const tt_policy_tree *b)
{
    if (tt_policy_tree_n_nodes(a) != tt_policy_tree_n_nodes(b))
        return 0;
    for (size_t v = 0; v < tt_policy_tree_n_nodes(a); v++) {
        const tt_policy_tree_node *x = tt_policy_tree_node_at(a, v),
                                  *y = tt_policy_tree_node_at(b, v);
        if (x->feature != y->feature || x->threshold != y->threshold || x->left != y->left ||
            x->right != y->right || x->action != y->action || x->rows != y->rows)
            return 0;
    }
    return 1;
}

/* Mean reward of the rows under the tree's predictions, summed directly. */
static double value_by_predict(const tt_policy_tree *t, const problem *P)
{
    int *act = malloc(P->n * sizeof *act);
    tt_policy_tree_predict(t, P->n, P->p, P->x, act);
    double s = 0.0;
    for (size_t i = 0; i < P->n; i++) {
        assert_true(act[i] >= 0 && (size_t)act[i] < P->k);
        s += P->g[(size_t)act[i] * P->n + i];
    }
    free(act);
    return s / (double)P->n;
}

/* Structure every fitted tree must have: leaves hold >= min rows, children
 * partition their parent, thresholds are finite data values of the node,
 * no split has two leaves of one action. */
static void check_shape(const tt_policy_tree *t, const problem *P, size_t min, int depth)
{
    assert_true(tt_policy_tree_depth(t) <= depth);
    const tt_policy_tree_node *root = tt_policy_tree_node_at(t, 0);
    assert_int_equal(root->rows, P->n);
    for (size_t v = 0; v < tt_policy_tree_n_nodes(t); v++) {
        const tt_policy_tree_node *nd = tt_policy_tree_node_at(t, v);
        if (nd->feature < 0) {
            assert_true(nd->rows >= min);
            continue;
        }
        assert_true(isfinite(nd->threshold));
        const tt_policy_tree_node *l = tt_policy_tree_node_at(t, (size_t)nd->left),
                                  *r = tt_policy_tree_node_at(t, (size_t)nd->right);
        assert_int_equal(l->rows + r->rows, nd->rows);
        assert_false(l->feature < 0 && r->feature < 0 && l->action == r->action);
        int found = 0;
        for (size_t i = 0; i < P->n; i++)
            found |= P->x[(size_t)nd->feature * P->n + i] == nd->threshold;
        assert_true(found);
    }
}

static void test_fast_equals_brute_exact_arithmetic(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 11, "policy-tree-test");
    int splits = 0;
    for (int seed = 0; seed < 200; seed++) {
        const size_t n = 5 + tt_rng_below(&r, 56), p = 1 + tt_rng_below(&r, 4),
                     k = 2 + tt_rng_below(&r, 3);
        /* Every third case with a larger leaf minimum, every fifth on a
         * coarser grid. */
        const size_t min = seed % 3 == 0 ? 1 + tt_rng_below(&r, 5) : 1;
        const size_t step = seed % 5 == 0 ? 2 + tt_rng_below(&r, 2) : 1;
        problem P = make(&r, n, p, k, 1);
        for (int depth = 0; depth <= 2; depth++) {
            if (min > n)
                continue;
            tt_policy_tree *a = fit(&P, depth, min, step, 0), *b = fit(&P, depth, min, step, 1);
            if (!same_tree(a, b))
                fail_msg("seed %d n %zu p %zu k %zu depth %d min %zu step %zu: trees differ",
                         seed, n, p, k, depth, min, step);
            /* Same tree, same row-order sums: bit for bit. */
            assert_true(tt_policy_tree_value(a) == tt_policy_tree_value(b));
            assert_float_equal(value_by_predict(a, &P), tt_policy_tree_value(a), 1e-12);
            check_shape(a, &P, min, depth);
            splits += tt_policy_tree_n_nodes(a) > 1;
            tt_policy_tree_free(a), tt_policy_tree_free(b);
        }
        drop(&P);
    }
    assert_true(splits > 200); /* the cases do exercise splits */
}

static void test_fast_equals_brute_continuous(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 12, "policy-tree-test");
    int cases = 0, same = 0;
    for (int seed = 0; seed < 200; seed++) {
        const size_t n = 5 + tt_rng_below(&r, 56), p = 1 + tt_rng_below(&r, 4),
                     k = 2 + tt_rng_below(&r, 3);
        const size_t min = seed % 4 == 1 ? 2 + tt_rng_below(&r, 4) : 1;
        problem P = make(&r, n, p, k, 0);
        for (int depth = 1; depth <= 2; depth++) {
            if (min > n)
                continue;
            tt_policy_tree *a = fit(&P, depth, min, 1, 0), *b = fit(&P, depth, min, 1, 1);
            const double va = tt_policy_tree_value(a), vb = tt_policy_tree_value(b);
            if (fabs(va - vb) > 1e-12 * fmax(1.0, fabs(vb)))
                fail_msg("seed %d depth %d: fast %.17g brute %.17g", seed, depth, va, vb);
            assert_float_equal(value_by_predict(a, &P), va, 1e-12);
            check_shape(a, &P, min, depth);
            cases++;
            same += same_tree(a, b);
            if (!same_tree(a, b)) {
                /* Continuous rewards: two different row -> action maps tie
                 * with probability 0, so the optimal map is unique and both
                 * must find it; only the tree spelling it may differ (e.g. a
                 * three-way cut of x1 rooted at either cut, or two features
                 * cutting a small node alike), decided by rounding. */
                int *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
                tt_policy_tree_predict(a, n, p, P.x, pa);
                tt_policy_tree_predict(b, n, p, P.x, pb);
                if (memcmp(pa, pb, n * sizeof *pa) != 0)
                    fail_msg("seed %d depth %d: different actions at the optimum", seed, depth);
                free(pa), free(pb);
            }
            tt_policy_tree_free(a), tt_policy_tree_free(b);
        }
        drop(&P);
    }
    print_message("continuous: %d of %d trees identical to the brute force, the rest "
                  "equivalent\n", same, cases);
    assert_true(same >= cases - cases / 10);
}

/* An independent recursive enumerator of any depth (value only), for depth 3
 * where the brute force stops: every distinct partition on every feature. */
static double enum_best(const problem *P, const unsigned char *in, int depth, size_t min)
{
    const size_t n = P->n;
    double best = -INFINITY, rows = 0;
    for (size_t a = 0; a < P->k; a++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            if (in[i])
                s += P->g[a * n + i];
        best = fmax(best, s);
    }
    for (size_t i = 0; i < n; i++)
        rows += in[i];
    if (depth == 0)
        return best;
    unsigned char *l = malloc(n), *rr = malloc(n);
    for (size_t j = 0; j < P->p; j++)
        for (size_t c = 0; c < n; c++) {
            if (!in[c])
                continue;
            const double t = P->x[j * n + c];
            size_t nl = 0;
            for (size_t i = 0; i < n; i++) {
                l[i] = in[i] && P->x[j * n + i] <= t;
                rr[i] = in[i] && !l[i];
                nl += l[i];
            }
            if (nl < min || (size_t)rows - nl < min)
                continue;
            best = fmax(best, enum_best(P, l, depth - 1, min) + enum_best(P, rr, depth - 1, min));
        }
    free(l), free(rr);
    return best;
}

static void test_depth3_against_enumeration(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 13, "policy-tree-test");
    for (int seed = 0; seed < 25; seed++) {
        const size_t n = 4 + tt_rng_below(&r, 11), p = 1 + tt_rng_below(&r, 2),
                     k = 2 + tt_rng_below(&r, 2);
        const size_t min = seed % 3 == 0 ? 2 : 1;
        problem P = make(&r, n, p, k, 1);
        unsigned char *all = malloc(n);
        memset(all, 1, n);
        tt_policy_tree *t3 = fit(&P, 3, min, 1, 0), *t2 = fit(&P, 2, min, 1, 0);
        const double want = enum_best(&P, all, 3, min) / (double)n;
        assert_true(tt_policy_tree_value(t3) == want); /* dyadic: exact */
        assert_true(tt_policy_tree_value(t3) >= tt_policy_tree_value(t2));
        assert_true(tt_policy_tree_value(t2) == enum_best(&P, all, 2, min) / (double)n);
        check_shape(t3, &P, min, 3);
        tt_policy_tree_free(t3), tt_policy_tree_free(t2);
        free(all);
        drop(&P);
    }
}

/* Treating (arm 1) pays +1 where x > 0 and -1 elsewhere; control pays 0. */
static void test_closed_form_threshold(void **state)
{
    (void)state;
    const size_t n = 101;
    double x[101], g[202];
    size_t positive = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)((i * 37) % n) - 50.0; /* -50..50 in a shuffled order */
        g[i] = 0.0;
        g[n + i] = x[i] > 0 ? 1.0 : -1.0;
        positive += x[i] > 0;
    }
    for (int depth = 1; depth <= 3; depth++) {
        problem P = {n, 1, 2, x, g};
        tt_policy_tree *t = fit(&P, depth, 1, 1, 0);
        assert_int_equal(tt_policy_tree_n_nodes(t), 3); /* deeper splits cannot help */
        const tt_policy_tree_node *root = tt_policy_tree_node_at(t, 0);
        assert_int_equal(root->feature, 0);
        assert_true(root->threshold == 0.0); /* the largest x sent left */
        assert_int_equal(tt_policy_tree_node_at(t, 1)->action, 0);
        assert_int_equal(tt_policy_tree_node_at(t, 2)->action, 1);
        assert_int_equal(tt_policy_tree_node_at(t, 2)->rows, positive);
        assert_true(tt_policy_tree_value(t) == (double)positive / (double)n);
        tt_policy_tree_free(t);
    }
}

static void test_depth0_and_single_action(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 14, "policy-tree-test");
    problem P = make(&r, 300, 3, 4, 0);
    double best = -INFINITY;
    int arm = -1;
    for (size_t a = 0; a < 4; a++) {
        double s = 0.0;
        for (size_t i = 0; i < P.n; i++)
            s += P.g[a * P.n + i];
        if (s > best)
            best = s, arm = (int)a;
    }
    tt_policy_tree *t = fit(&P, 0, 1, 1, 0);
    assert_int_equal(tt_policy_tree_n_nodes(t), 1);
    assert_int_equal(tt_policy_tree_node_at(t, 0)->action, arm);
    assert_float_equal(tt_policy_tree_value(t), best / (double)P.n, 1e-15);
    tt_policy_tree_free(t);
    /* k = 1: always a leaf of action 0 worth the mean reward. */
    problem Q = {P.n, P.p, 1, P.x, P.g};
    for (int depth = 0; depth <= 3; depth++) {
        t = fit(&Q, depth, 1, 1, 0);
        assert_int_equal(tt_policy_tree_n_nodes(t), 1);
        assert_int_equal(tt_policy_tree_node_at(t, 0)->action, 0);
        double s = 0.0;
        for (size_t i = 0; i < P.n; i++)
            s += P.g[i];
        assert_float_equal(tt_policy_tree_value(t), s / (double)P.n, 1e-15);
        tt_policy_tree_free(t);
    }
    /* All-equal feature: nothing to split on. */
    for (size_t i = 0; i < P.n; i++)
        P.x[i] = P.x[P.n + i] = P.x[2 * P.n + i] = 3.0;
    t = fit(&P, 2, 1, 1, 0);
    assert_int_equal(tt_policy_tree_n_nodes(t), 1);
    tt_policy_tree_free(t);
    drop(&P);
}

/* A larger problem: the fast tree's value is reproduced by predict, and no
 * depth-1 tree beats it. */
static void test_larger_consistency(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 15, "policy-tree-test");
    problem P = make(&r, 2000, 5, 3, 0);
    tt_policy_tree *t2 = fit(&P, 2, 1, 1, 0), *t1 = fit(&P, 1, 1, 1, 0),
                   *t2m = fit(&P, 2, 50, 1, 0), *t2s = fit(&P, 2, 1, 10, 0);
    assert_float_equal(value_by_predict(t2, &P), tt_policy_tree_value(t2), 1e-12);
    assert_true(tt_policy_tree_value(t2) >= tt_policy_tree_value(t1));
    assert_true(tt_policy_tree_value(t2) >= tt_policy_tree_value(t2m));
    assert_true(tt_policy_tree_value(t2) >= tt_policy_tree_value(t2s));
    check_shape(t2m, &P, 50, 2);
    check_shape(t2s, &P, 1, 2);
    tt_policy_tree_free(t2), tt_policy_tree_free(t1), tt_policy_tree_free(t2m),
        tt_policy_tree_free(t2s);
    drop(&P);
}

static void test_json_round_trip_and_rules(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 16, "policy-tree-test");
    problem P = make(&r, 400, 3, 3, 0);
    tt_policy_tree *t = fit(&P, 2, 5, 1, 0);
    assert_true(tt_policy_tree_n_nodes(t) >= 3);
    const char *fn[] = {"income", "age",
                        "tenure_in_months_since_the_first_account_was_opened_at_the_firm_x"};
    const char *an[] = {"control", "e401=1", "e401=2"};
    cJSON *j = tt_policy_tree_to_json(t, fn, an);
    assert_non_null(j);
    tt_policy_tree *direct = NULL; /* straight from the object, unprinted */
    char err[256] = "";
    assert_int_equal(tt_policy_tree_from_json(j, &direct, err, sizeof err), TT_OK);
    assert_true(same_tree(t, direct));
    assert_true(tt_policy_tree_value(direct) == tt_policy_tree_value(t));
    tt_policy_tree_free(direct);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON *back_json = cJSON_Parse(text);
    assert_non_null(back_json);
    tt_policy_tree *back = NULL;
    assert_int_equal(tt_policy_tree_from_json(back_json, &back, err, sizeof err), TT_OK);
    cJSON_Delete(back_json);
    free(text);
    assert_true(same_tree(t, back));
    assert_true(tt_policy_tree_value(back) == tt_policy_tree_value(t));
    assert_int_equal(tt_policy_tree_n_rows(back), P.n);
    /* Same actions on the fitted rows and on fresh ones. */
    problem Q = make(&r, 500, 3, 3, 0);
    for (int s = 0; s < 2; s++) {
        const problem *D = s ? &Q : &P;
        int *a = malloc(D->n * sizeof *a), *b = malloc(D->n * sizeof *b);
        tt_policy_tree_predict(t, D->n, D->p, D->x, a);
        tt_policy_tree_predict(back, D->n, D->p, D->x, b);
        assert_memory_equal(a, b, D->n * sizeof *a);
        free(a), free(b);
    }
    /* Rules: the names, every split's threshold, and snprintf sizing. */
    const size_t len = tt_policy_tree_rules(t, fn, an, NULL, 0);
    char *rules = malloc(len + 1);
    assert_int_equal(tt_policy_tree_rules(t, fn, an, rules, len + 1), len);
    assert_int_equal(strlen(rules), len);
    const tt_policy_tree_node *root = tt_policy_tree_node_at(t, 0);
    char want[128];
    snprintf(want, sizeof want, "if %s <= ", fn[root->feature]);
    assert_non_null(strstr(rules, want));
    for (size_t v = 0; v < tt_policy_tree_n_nodes(t); v++) {
        const tt_policy_tree_node *nd = tt_policy_tree_node_at(t, v);
        assert_non_null(strstr(rules, nd->feature >= 0 ? fn[nd->feature] : an[nd->action]));
    }
    assert_true(strncmp(rules, "if ", 3) == 0);
    assert_non_null(strstr(rules, "action \""));
    assert_non_null(strstr(rules, "else:"));
    char small[10];
    assert_int_equal(tt_policy_tree_rules(t, fn, an, small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(strncmp(small, rules, sizeof small - 1) == 0);
    free(rules);
    char plain[4096];
    tt_policy_tree_rules(t, NULL, NULL, plain, sizeof plain);
    snprintf(want, sizeof want, "if x%d <= ", root->feature + 1);
    assert_non_null(strstr(plain, want));
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(tt_policy_tree_write_rules(t, fn, an, devnull, err, sizeof err), TT_OK);
    fclose(devnull);
    tt_policy_tree_free(t), tt_policy_tree_free(back);
    drop(&P), drop(&Q);
}

static void test_json_rejects_bad_trees(void **state)
{
    (void)state;
    const char *bad[] = {
        "{}",
        "{\"format\":\"tautune-policy-tree\",\"version\":2}",
        /* right child points back at the root */
        "{\"format\":\"tautune-policy-tree\",\"version\":1,\"depth\":1,\"n_features\":1,"
        "\"n_actions\":2,\"rows\":2,\"value\":0,\"nodes\":[{\"feature\":0,\"threshold\":1,"
        "\"left\":1,\"right\":0,\"rows\":2,\"value\":0},{\"action\":0,\"rows\":1,\"value\":0}]}",
        /* action out of range */
        "{\"format\":\"tautune-policy-tree\",\"version\":1,\"depth\":0,\"n_features\":1,"
        "\"n_actions\":2,\"rows\":2,\"value\":0,\"nodes\":[{\"action\":2,\"rows\":2,\"value\":0}]}",
        /* feature out of range */
        "{\"format\":\"tautune-policy-tree\",\"version\":1,\"depth\":1,\"n_features\":1,"
        "\"n_actions\":2,\"rows\":2,\"value\":0,\"nodes\":[{\"feature\":1,\"threshold\":1,"
        "\"left\":1,\"right\":2,\"rows\":2,\"value\":0},{\"action\":0,\"rows\":1,\"value\":0},"
        "{\"action\":1,\"rows\":1,\"value\":0}]}",
        /* a node left over */
        "{\"format\":\"tautune-policy-tree\",\"version\":1,\"depth\":0,\"n_features\":1,"
        "\"n_actions\":2,\"rows\":2,\"value\":0,\"nodes\":[{\"action\":0,\"rows\":2,\"value\":0},"
        "{\"action\":1,\"rows\":1,\"value\":0}]}",
    };
    for (size_t c = 0; c < sizeof bad / sizeof *bad; c++) {
        cJSON *j = cJSON_Parse(bad[c]);
        assert_non_null(j);
        tt_policy_tree *t = NULL;
        char err[256] = "";
        assert_int_equal(tt_policy_tree_from_json(j, &t, err, sizeof err), TT_ERR_PARSE);
        assert_null(t);
        assert_true(strlen(err) > 0);
        cJSON_Delete(j);
    }
}

static void test_errors(void **state)
{
    (void)state;
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[8] = {0, 1, 0, 1, 1, 0, 1, 0};
    tt_policy_tree *t = NULL;
    char err[256];
    tt_policy_tree_options o;
    tt_policy_tree_options_init(&o);
    assert_int_equal(tt_policy_tree_fit(0, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_INVALID);
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 0, g, &o, &t, err, sizeof err), TT_ERR_INVALID);
    o.depth = 4;
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "depth 4"));
    o.depth = -1;
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_INVALID);
    o.depth = 2;
    o.min_node_size = 5;
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "min_node_size"));
    o.min_node_size = 1;
    x[5] = NAN; /* row 1, column 1 */
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 1, column 1"));
    assert_int_equal(tt_policy_tree_fit_brute(4, 2, x, 2, g, &o, &t, err, sizeof err),
                     TT_ERR_DATA);
    x[5] = 6;
    g[6] = INFINITY; /* row 2, action 1 */
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, &o, &t, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 2, action 1"));
    g[6] = 1;
    o.depth = 3;
    assert_int_equal(tt_policy_tree_fit_brute(4, 2, x, 2, g, &o, &t, err, sizeof err),
                     TT_ERR_UNSUPPORTED);
    assert_null(t);
    /* NULL options are the defaults (depth 2). */
    assert_int_equal(tt_policy_tree_fit(4, 2, x, 2, g, NULL, &t, err, sizeof err), TT_OK);
    tt_policy_tree_free(t);
}

static int stop_now(void *ctx)
{
    (void)ctx;
    return 1;
}

static int stop_after(void *ctx)
{
    int *left = ctx;
    return --*left <= 0;
}

static void test_should_stop(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 17, "policy-tree-test");
    problem P = make(&r, 3000, 4, 3, 0);
    tt_policy_tree_options o;
    tt_policy_tree_options_init(&o);
    o.should_stop = stop_now;
    tt_policy_tree *t = NULL;
    char err[256] = "";
    for (int depth = 1; depth <= 3; depth++) {
        o.depth = depth;
        assert_int_equal(tt_policy_tree_fit(P.n, P.p, P.x, P.k, P.g, &o, &t, err, sizeof err),
                         TT_ERR_STOPPED);
        assert_null(t);
    }
    /* Depth 3 on 3000 rows would take hours: a stop on the 20th poll ends it
     * at once. */
    int left = 20;
    o.depth = 3;
    o.should_stop = stop_after;
    o.stop_ctx = &left;
    assert_int_equal(tt_policy_tree_fit(P.n, P.p, P.x, P.k, P.g, &o, &t, err, sizeof err),
                     TT_ERR_STOPPED);
    assert_int_equal(left, 0);
    drop(&P);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_brute_exact_arithmetic),
        cmocka_unit_test(test_fast_equals_brute_continuous),
        cmocka_unit_test(test_depth3_against_enumeration),
        cmocka_unit_test(test_closed_form_threshold),
        cmocka_unit_test(test_depth0_and_single_action),
        cmocka_unit_test(test_larger_consistency),
        cmocka_unit_test(test_json_round_trip_and_rules),
        cmocka_unit_test(test_json_rejects_bad_trees),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_should_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
