/* test_insight_tree.c - the shallow CATE tree (insight/cate_tree.h) and
 * permutation importance (insight/importance.h).
 *
 * The tree is checked against a brute-force search written here (every
 * feature, every observed threshold, sums of squares recomputed from
 * scratch for each candidate) at every split of a depth-3 tree, on step
 * functions it must recover exactly, and on its leaf statistics recomputed
 * from the rows that tt_cate_tree_assign routes to each leaf. Importance is
 * checked against the permutation recomputed from the documented seed
 * stream, and on functions whose answer is known. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insight/cate_tree.h"
#include "insight/importance.h"
#include "util/rng.h"

static void uniform_x(size_t n, size_t p, double *x, uint64_t seed)
{
    tt_rng rng;
    tt_rng_seed(&rng, seed, "tree-x");
    for (size_t k = 0; k < n * p; k++)
        x[k] = 2.0 * tt_rng_uniform(&rng) - 1.0;
}

/* ---- brute force --------------------------------------------------------- */

static double sse_of(size_t m, const size_t *rows, const double *tau)
{
    if (m == 0)
        return 0.0;
    double s = 0.0, ss = 0.0;
    for (size_t k = 0; k < m; k++)
        s += tau[rows[k]];
    const double mean = s / (double)m;
    for (size_t k = 0; k < m; k++)
        ss += (tau[rows[k]] - mean) * (tau[rows[k]] - mean);
    return ss;
}

/* Smallest SSE(left) + SSE(right) over all splits x_j <= v (v observed) with
 * both sides >= min_leaf; the feature and threshold that give it. */
static double brute_best(size_t n, size_t p, const double *x, const double *tau, size_t m,
                         const size_t *rows, size_t min_leaf, int *feature, double *thr)
{
    size_t *l = malloc(m * sizeof *l), *r = malloc(m * sizeof *r);
    double best = INFINITY;
    *feature = -1;
    for (size_t j = 0; j < p; j++)
        for (size_t c = 0; c < m; c++) {
            const double v = x[j * n + rows[c]];
            size_t nl = 0, nr = 0;
            for (size_t k = 0; k < m; k++) {
                if (x[j * n + rows[k]] <= v)
                    l[nl++] = rows[k];
                else
                    r[nr++] = rows[k];
            }
            if (nl < min_leaf || nr < min_leaf)
                continue;
            const double s = sse_of(nl, l, tau) + sse_of(nr, r, tau);
            if (s < best) {
                best = s;
                *feature = (int)j;
                *thr = v;
            }
        }
    free(l);
    free(r);
    return best;
}

/* Rows whose path passes through node k. */
static size_t rows_of_node(const tt_cate_tree *t, size_t n, const double *x, int k,
                           size_t *rows)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int at = 0;
        for (;;) {
            if (at == k) {
                rows[m++] = i;
                break;
            }
            const tt_cate_node *nd = &t->nodes[at];
            if (nd->feature < 0)
                break;
            at = x[(size_t)nd->feature * n + i] <= nd->threshold ? nd->left : nd->right;
        }
    }
    return m;
}

static void test_every_split_is_the_best(void **state)
{
    (void)state;
    enum { N = 400, P = 3 };
    double x[N * P], tau[N];
    uniform_x(N, P, x, 11);
    tt_rng rng;
    tt_rng_seed(&rng, 11, "tree-tau");
    for (size_t i = 0; i < N; i++)
        tau[i] = sin(3.0 * x[i]) + x[N + i] * x[2 * N + i] + 0.3 * tt_rng_normal(&rng);
    tt_cate_tree_params prm;
    tt_cate_tree_params_default(&prm);
    prm.max_depth = 3;
    prm.min_leaf_share = 0.07; /* 28 rows */
    tt_cate_tree t;
    char err[256];
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 28);
    size_t rows[N];
    int splits = 0;
    for (size_t k = 0; k < t.n_nodes; k++) {
        const tt_cate_node *nd = &t.nodes[k];
        const size_t m = rows_of_node(&t, N, x, (int)k, rows);
        assert_int_equal(m, nd->n);
        int f;
        double thr;
        const double best = brute_best(N, P, x, tau, m, rows, t.min_leaf, &f, &thr);
        if (nd->feature < 0) {
            /* a leaf: at full depth, or no admissible split */
            assert_true(nd->depth == 3 || f < 0);
            continue;
        }
        splits++;
        assert_int_equal(nd->feature, f);
        assert_true(nd->threshold == thr);
        /* and its children really have that SSE */
        size_t lr[N], rr[N];
        const size_t nl = rows_of_node(&t, N, x, nd->left, lr);
        const size_t nr = rows_of_node(&t, N, x, nd->right, rr);
        assert_int_equal(nl + nr, m);
        assert_true(fabs(sse_of(nl, lr, tau) + sse_of(nr, rr, tau) - best) < 1e-9);
    }
    /* some depth-2 nodes are too small to split again with 28-row leaves
     * (the brute force agrees: f < 0 above) */
    assert_true(splits >= 5);
    assert_int_equal(t.n_leaves, (size_t)splits + 1);
}

/* ---- step functions ------------------------------------------------------ */

static void test_step_recovered(void **state)
{
    (void)state;
    enum { N = 1000, P = 3 };
    double *x = malloc(N * P * sizeof *x), tau[N], gamma[N];
    uniform_x(N, P, x, 3);
    tt_rng rng;
    tt_rng_seed(&rng, 3, "gamma");
    double thr_want = -INFINITY;
    size_t n_hi = 0;
    for (size_t i = 0; i < N; i++) {
        const int hi = x[N + i] > 0.3;
        tau[i] = hi ? 3.0 : 1.0;
        gamma[i] = tau[i] + tt_rng_normal(&rng);
        n_hi += hi;
        if (!hi && x[N + i] > thr_want)
            thr_want = x[N + i];
    }
    char err[256], buf[128];
    tt_cate_tree t;
    tt_cate_tree_params prm;
    tt_cate_tree_params_default(&prm);
    for (int depth = 1; depth <= 3; depth++) {
        prm.max_depth = depth;
        assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err), TT_OK);
        /* the step, and nothing more: both sides are constant */
        assert_int_equal(t.n_leaves, 2);
        assert_int_equal(t.nodes[0].feature, 1);
        assert_true(t.nodes[0].threshold == thr_want);
        const tt_cate_node *l = &t.nodes[t.leaf_node[0]], *r = &t.nodes[t.leaf_node[1]];
        assert_true(l->tau_mean == 1.0 && r->tau_mean == 3.0);
        assert_int_equal(l->n, N - n_hi);
        assert_int_equal(r->n, n_hi);
        /* Gamma's leaf means are noisy but cover the truth */
        assert_true(l->gamma_lo < 1.0 && 1.0 < l->gamma_hi);
        assert_true(r->gamma_lo < 3.0 && 3.0 < r->gamma_hi);
    }
    tt_cate_tree_describe_leaf(&t, 1, NULL, buf, sizeof buf);
    printf("step leaf 1: %s\n", buf);
    assert_true(strncmp(buf, "x2 > 0.29", 9) == 0);

    /* with noise in tau_hat the split lands near the step */
    for (size_t i = 0; i < N; i++)
        tau[i] += 0.2 * tt_rng_normal(&rng);
    prm.max_depth = 1;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.nodes[0].feature, 1);
    assert_true(fabs(t.nodes[0].threshold - 0.3) < 0.02);
    assert_true(fabs(t.nodes[t.leaf_node[0]].tau_mean - 1.0) < 0.05);
    assert_true(fabs(t.nodes[t.leaf_node[1]].tau_mean - 3.0) < 0.05);
    free(x);
}

static void test_min_leaf_share(void **state)
{
    (void)state;
    enum { N = 1000, P = 2 };
    double x[N * P], tau[N];
    uniform_x(N, P, x, 5);
    /* the top 2% of x1 has a large effect; a mild slope in x2 elsewhere */
    double sorted[N];
    memcpy(sorted, x, sizeof sorted);
    for (size_t a = 1; a < N; a++) /* insertion sort, small */
        for (size_t b = a; b > 0 && sorted[b - 1] > sorted[b]; b--) {
            double t = sorted[b];
            sorted[b] = sorted[b - 1];
            sorted[b - 1] = t;
        }
    const double cut = sorted[N - 21]; /* 20 rows above it */
    for (size_t i = 0; i < N; i++)
        tau[i] = (x[i] > cut ? 5.0 : 0.0) + 0.1 * x[N + i];
    char err[256];
    tt_cate_tree t;
    tt_cate_tree_params prm;
    tt_cate_tree_params_default(&prm);
    prm.max_depth = 3;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 50);
    for (size_t k = 0; k < t.n_leaves; k++) {
        assert_true(t.nodes[t.leaf_node[k]].n >= 50);
        assert_true(t.nodes[t.leaf_node[k]].tau_mean < 4.0); /* the 2% cannot stand alone */
    }
    /* 1%: 10 rows, and the group is found exactly */
    prm.min_leaf_share = 0.01;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 10);
    assert_int_equal(t.nodes[0].feature, 0);
    assert_true(t.nodes[0].threshold == cut);
    assert_int_equal(t.nodes[t.nodes[0].right].n, 20);
    /* n * share rounds up; tiny n still gets leaves of at least one row */
    prm.min_leaf_share = 0.05;
    assert_int_equal(tt_cate_tree_fit(7, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 1);
    assert_int_equal(tt_cate_tree_fit(201, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 11);
    assert_int_equal(tt_cate_tree_fit(200, P, x, tau, NULL, &prm, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.min_leaf, 10);
}

static void test_depths(void **state)
{
    (void)state;
    enum { N = 800, P = 3 };
    double x[N * P], tau[N], gamma[N];
    uniform_x(N, P, x, 9);
    for (size_t i = 0; i < N; i++) {
        tau[i] = x[i] + 0.8 * x[N + i] + 0.6 * x[2 * N + i];
        gamma[i] = tau[i] + 0.5 * sin(17.0 * (double)i);
    }
    char err[256], buf[64];
    tt_cate_tree t;
    tt_cate_tree_params prm;
    tt_cate_tree_params_default(&prm);
    assert_int_equal(prm.max_depth, 2);
    for (int d = 0; d <= 3; d++) {
        prm.max_depth = d;
        assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err), TT_OK);
        assert_int_equal(t.n_leaves, (size_t)1 << d);
        assert_int_equal(t.n_nodes, ((size_t)2 << d) - 1);
        size_t total = 0;
        for (size_t k = 0; k < t.n_leaves; k++) {
            assert_int_equal(t.nodes[t.leaf_node[k]].depth, d);
            assert_int_equal(t.nodes[t.leaf_node[k]].leaf, (int)k);
            total += t.nodes[t.leaf_node[k]].n;
        }
        assert_int_equal(total, N);
        if (d == 0) {
            double s = 0.0;
            for (size_t i = 0; i < N; i++)
                s += tau[i];
            assert_true(fabs(t.nodes[0].tau_mean - s / N) < 1e-14);
            tt_cate_tree_describe_leaf(&t, 0, NULL, buf, sizeof buf);
            assert_string_equal(buf, "all rows");
        }
    }
    prm.max_depth = 4;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err),
                     TT_ERR_INVALID);
    prm.max_depth = -1;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err),
                     TT_ERR_INVALID);
    prm.max_depth = 2;
    prm.min_leaf_share = 0.0;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err),
                     TT_ERR_INVALID);
    prm.min_leaf_share = 0.6;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err),
                     TT_ERR_INVALID);
    prm.min_leaf_share = 0.05;
    prm.z = 0.0;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err),
                     TT_ERR_INVALID);
    /* params NULL: the defaults */
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.n_leaves, 4);
}

/* Leaf statistics recomputed from the rows assign routes to each leaf. */
static void test_leaf_stats_use_gamma(void **state)
{
    (void)state;
    enum { N = 900, P = 3 };
    double x[N * P], tau[N], gamma[N];
    uniform_x(N, P, x, 13);
    tt_rng rng;
    tt_rng_seed(&rng, 13, "gamma");
    for (size_t i = 0; i < N; i++) {
        tau[i] = 2.0 * x[2 * N + i] + (x[i] > 0 ? 1.0 : 0.0);
        gamma[i] = 0.5 + tau[i] + 2.0 * tt_rng_normal(&rng); /* Gamma differs from tau */
    }
    for (int zi = 0; zi < 2; zi++) {
        tt_cate_tree_params prm;
        tt_cate_tree_params_default(&prm);
        if (zi == 1)
            prm.z = 1.0;
        tt_cate_tree t;
        char err[256];
        assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, &prm, &t, err, sizeof err), TT_OK);
        size_t leaf[N];
        assert_int_equal(tt_cate_tree_assign(&t, N, P, x, leaf, err, sizeof err), TT_OK);
        for (size_t k = 0; k < t.n_leaves; k++) {
            size_t m = 0;
            double st = 0.0, sg = 0.0, ss = 0.0;
            for (size_t i = 0; i < N; i++)
                if (leaf[i] == k) {
                    m++;
                    st += tau[i];
                    sg += gamma[i];
                }
            const double mg = sg / (double)m;
            for (size_t i = 0; i < N; i++)
                if (leaf[i] == k)
                    ss += (gamma[i] - mg) * (gamma[i] - mg);
            const double sd = sqrt(ss / (double)(m - 1));
            const double z = zi == 0 ? 1.959963984540054 : 1.0;
            const tt_cate_node *nd = &t.nodes[t.leaf_node[k]];
            assert_int_equal(nd->n, m);
            assert_true(fabs(nd->tau_mean - st / (double)m) < 1e-12);
            assert_true(fabs(nd->gamma_mean - mg) < 1e-12);
            assert_true(fabs(nd->gamma_sd - sd) < 1e-12);
            assert_true(fabs(nd->gamma_lo - (mg - z * sd / sqrt((double)m))) < 1e-12);
            assert_true(fabs(nd->gamma_hi - (mg + z * sd / sqrt((double)m))) < 1e-12);
            /* the Gamma mean is not the tau mean here (offset 0.5 and noise) */
            assert_true(fabs(nd->gamma_mean - nd->tau_mean) > 0.1);
        }
    }
    /* without Gamma: NaN */
    tt_cate_tree t;
    char err[256];
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, NULL, &t, err, sizeof err), TT_OK);
    assert_true(isnan(t.nodes[0].gamma_mean) && isnan(t.nodes[0].gamma_lo));
    assert_false(isnan(t.nodes[0].tau_mean));
}

static void test_descriptions(void **state)
{
    (void)state;
    enum { N = 500, P = 2 };
    double x[N * P], tau[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = 10000.0 + 100.0 * (double)((i * 37) % 500); /* income */
        x[N + i] = 20.0 + (double)((i * 13) % 50);          /* age */
        tau[i] = x[i] > 32400.0 ? (x[N + i] <= 41.0 ? 3.0 : 1.0) : 0.0;
    }
    const char *names[P] = {"income", "age"};
    tt_cate_tree t;
    char err[256], buf[128];
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, NULL, &t, err, sizeof err), TT_OK);
    int found = 0;
    for (size_t k = 0; k < t.n_leaves; k++) {
        tt_cate_tree_describe_leaf(&t, k, names, buf, sizeof buf);
        printf("leaf %zu (n %zu, mean %.2f): %s\n", k, t.nodes[t.leaf_node[k]].n,
               t.nodes[t.leaf_node[k]].tau_mean, buf);
        if (t.nodes[t.leaf_node[k]].tau_mean == 3.0) {
            assert_string_equal(buf, "income > 32,400 and age <= 41");
            found = 1;
        }
    }
    assert_true(found);
    /* truncation: terminated, full length returned */
    char small[10];
    size_t need = tt_cate_tree_describe_leaf(&t, 1, names, small, sizeof small);
    tt_cate_tree_describe_leaf(&t, 1, names, buf, sizeof buf);
    assert_int_equal(need, strlen(buf));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(tt_cate_tree_describe_leaf(&t, 99, names, buf, sizeof buf), 0);

    /* one feature split twice on a path: merged into an interval */
    for (size_t i = 0; i < N; i++) {
        x[i] = 0.125 * (double)(i % 400) - 20.0;
        x[N + i] = (double)(i % 7);
        tau[i] = x[i] > -1.5 && x[i] <= 4.25 ? 1.0 : 0.0;
    }
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, NULL, &t, err, sizeof err), TT_OK);
    found = 0;
    for (size_t k = 0; k < t.n_leaves; k++) {
        tt_cate_tree_describe_leaf(&t, k, NULL, buf, sizeof buf);
        printf("leaf %zu (mean %.2f): %s\n", k, t.nodes[t.leaf_node[k]].tau_mean, buf);
        if (t.nodes[t.leaf_node[k]].tau_mean == 1.0) {
            assert_string_equal(buf, "-1.5 < x1 <= 4.25");
            found = 1;
        }
    }
    assert_true(found);
    /* thresholds: fewest digits that read back, separators for big integers */
    for (size_t i = 0; i < N; i++) {
        x[i] = i < N / 2 ? -1234567.0 : 0.1 + (double)i;
        tau[i] = i < N / 2 ? 0.0 : 1.0;
    }
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, NULL, NULL, &t, err, sizeof err), TT_OK);
    tt_cate_tree_describe_leaf(&t, 0, NULL, buf, sizeof buf);
    assert_string_equal(buf, "x1 <= -1,234,567");
}

static void test_assign_and_errors(void **state)
{
    (void)state;
    enum { N = 300, P = 3 };
    double x[N * P], tau[N], gamma[N];
    uniform_x(N, P, x, 17);
    for (size_t i = 0; i < N; i++) {
        tau[i] = x[i] > 0 ? 1.0 : -1.0; /* depends on x1 only */
        gamma[i] = tau[i];
    }
    tt_cate_tree t, t2;
    char err[256];
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err), TT_OK);
    /* deterministic to the bit */
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t2, err, sizeof err), TT_OK);
    assert_memory_equal(&t, &t2, sizeof t);
    size_t leaf[N];
    /* new rows: a NaN in a feature the tree does not use is fine */
    double xn[N * P];
    memcpy(xn, x, sizeof xn);
    xn[2 * N + 4] = NAN;
    assert_int_equal(tt_cate_tree_assign(&t, N, P, xn, leaf, err, sizeof err), TT_OK);
    xn[6] = NAN;
    assert_int_equal(tt_cate_tree_assign(&t, N, P, xn, leaf, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 6, column 0"));
    assert_int_equal(tt_cate_tree_assign(&t, N, 2, x, leaf, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "fitted on 3"));

    tau[8] = NAN;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "tau_hat at row 8"));
    tau[8] = 1.0;
    gamma[12] = INFINITY;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "gamma at row 12"));
    gamma[12] = 1.0;
    x[2 * N + 3] = NAN;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "row 3, column 2"));
    x[2 * N + 3] = 0.0;
    assert_int_equal(tt_cate_tree_fit(0, P, x, tau, gamma, NULL, &t, err, sizeof err),
                     TT_ERR_DATA);
    assert_int_equal(tt_cate_tree_fit(N, P, NULL, tau, gamma, NULL, &t, err, sizeof err),
                     TT_ERR_INVALID);
    /* constant tau: one leaf at any depth */
    for (size_t i = 0; i < N; i++)
        tau[i] = 0.1;
    assert_int_equal(tt_cate_tree_fit(N, P, x, tau, gamma, NULL, &t, err, sizeof err), TT_OK);
    assert_int_equal(t.n_leaves, 1);
}

/* ---- permutation importance ---------------------------------------------- */

typedef struct fn_ctx {
    int kind;       /* 0: depends on x2 only; 1: x1 + 3 x3; 2: NaN; 3: fails with rc */
    int rc;
    int fail_on_call; /* 1-based; 0 = never */
    int calls;
} fn_ctx;

static int effect_fn(void *vctx, size_t n, size_t p, const double *x, double *tau)
{
    fn_ctx *c = vctx;
    (void)p;
    c->calls++;
    if (c->fail_on_call && c->calls == c->fail_on_call) {
        if (c->kind == 3)
            return c->rc;
        for (size_t i = 0; i < n; i++)
            tau[i] = i == 5 ? NAN : 0.0;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        tau[i] = c->kind == 1 ? x[i] + 3.0 * x[2 * n + i]
                              : 2.0 * x[n + i] + sin(4.0 * x[n + i]);
    return 0;
}

static void test_importance(void **state)
{
    (void)state;
    enum { N = 2000, P = 4 };
    double *x = malloc(N * P * sizeof *x);
    uniform_x(N, P, x, 21);
    char err[256];
    fn_ctx c = {0};
    tt_importance imp, imp2;
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 5, 42, &imp, err,
                                               sizeof err),
                     TT_OK);
    assert_int_equal(c.calls, 1 + P * 5);
    assert_int_equal(imp.order[0], 1);
    for (size_t j = 0; j < P; j++) {
        if (j != 1)
            assert_true(imp.mse[j] == 0.0); /* exactly: the function ignores them */
        assert_true(imp.rms[j] == sqrt(imp.mse[j]));
    }
    assert_true(imp.mse[1] > 0.5);
    /* ties at 0 keep index order */
    assert_int_equal(imp.order[1], 0);
    assert_int_equal(imp.order[2], 2);
    assert_int_equal(imp.order[3], 3);
    printf("importance (tau depends on x2 only): mse %.4f %.4f %.4f %.4f\n", imp.mse[0],
           imp.mse[1], imp.mse[2], imp.mse[3]);

    /* same seed: the same numbers; another seed: different ones */
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 5, 42, &imp2, err,
                                               sizeof err),
                     TT_OK);
    assert_memory_equal(imp.mse, imp2.mse, P * sizeof *imp.mse);
    tt_importance_free(&imp2);
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 5, 43, &imp2, err,
                                               sizeof err),
                     TT_OK);
    assert_true(imp.mse[1] != imp2.mse[1]);
    tt_importance_free(&imp2);

    /* the definition, recomputed: one repeat, the documented stream */
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 1, 42, &imp2, err,
                                               sizeof err),
                     TT_OK);
    tt_rng rng;
    tt_rng_seed(&rng, 42, "importance:1");
    size_t *perm = malloc(N * sizeof *perm);
    for (size_t i = 0; i < N; i++)
        perm[i] = i;
    tt_rng_shuffle_size(&rng, perm, N);
    double s = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double a = x[N + perm[i]], b = x[N + i];
        const double d = (2.0 * a + sin(4.0 * a)) - (2.0 * b + sin(4.0 * b));
        s += d * d;
    }
    assert_true(fabs(imp2.mse[1] - s / N) < 1e-12);
    tt_importance_free(&imp2);
    tt_importance_free(&imp);
    free(perm);

    /* a linear function: mse_j = E[(b_j (x_perm - x))^2] = 2 b_j^2 Var(x_j) = 2 b_j^2 / 3 */
    c.kind = 1;
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 10, 7, &imp, err,
                                               sizeof err),
                     TT_OK);
    printf("importance (tau = x1 + 3 x3): mse %.4f %.4f %.4f %.4f\n", imp.mse[0], imp.mse[1],
           imp.mse[2], imp.mse[3]);
    assert_int_equal(imp.order[0], 2);
    assert_int_equal(imp.order[1], 0);
    assert_true(fabs(imp.mse[2] - 6.0) < 0.3);
    assert_true(fabs(imp.mse[0] - 2.0 / 3.0) < 0.05);
    assert_true(imp.mse[1] == 0.0 && imp.mse[3] == 0.0);
    tt_importance_free(&imp);
    free(x);
}

static void test_importance_errors(void **state)
{
    (void)state;
    enum { N = 50, P = 3 };
    double x[N * P];
    uniform_x(N, P, x, 1);
    char err[256];
    tt_importance imp;
    fn_ctx c = {.kind = 2, .fail_on_call = 3}; /* NaN on column 1, repeat 0 (calls: base, j0, j1) */
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 1, 1, &imp, err,
                                               sizeof err),
                     TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "row 5 on x with column 1 permuted (repeat 0)"));
    assert_null(imp.mse);
    c = (fn_ctx){.kind = 3, .rc = TT_ERR_NOMEM, .fail_on_call = 1};
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 1, 1, &imp, err,
                                               sizeof err),
                     TT_ERR_NOMEM);
    assert_non_null(strstr(err, "the original x"));
    c = (fn_ctx){.kind = 3, .rc = 42, .fail_on_call = 2};
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 1, 1, &imp, err,
                                               sizeof err),
                     TT_ERR_PLUGIN);
    c = (fn_ctx){0};
    assert_int_equal(tt_permutation_importance(N, P, x, effect_fn, &c, 0, 1, &imp, err,
                                               sizeof err),
                     TT_ERR_INVALID);
    assert_int_equal(tt_permutation_importance(0, P, x, effect_fn, &c, 1, 1, &imp, err,
                                               sizeof err),
                     TT_ERR_INVALID);
    assert_int_equal(tt_permutation_importance(N, P, x, NULL, &c, 1, 1, &imp, err, sizeof err),
                     TT_ERR_INVALID);
    tt_importance_free(&imp); /* safe on a zeroed result */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_is_the_best),
        cmocka_unit_test(test_step_recovered),
        cmocka_unit_test(test_min_leaf_share),
        cmocka_unit_test(test_depths),
        cmocka_unit_test(test_leaf_stats_use_gamma),
        cmocka_unit_test(test_descriptions),
        cmocka_unit_test(test_assign_and_errors),
        cmocka_unit_test(test_importance),
        cmocka_unit_test(test_importance_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
