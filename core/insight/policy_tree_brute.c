/*
 * policy_tree_brute.c - tt_policy_tree_fit_brute: the naive reference the
 * fast search is checked against (tests, benchmark). Nothing here is shared
 * with policy_tree_search.c.
 *
 * Row sets are 0/1 masks over all rows. For each feature the candidate
 * thresholds are the grid values themselves (every split_step-th distinct
 * value of the column, found by sorting a copy), tried in ascending order;
 * a threshold that sends the same rows of a node left as the previous one is
 * the same split and is skipped, so each partition is tried once, at its
 * first grid value. Every sum is recomputed from the rows for every split.
 *
 * Enumeration order is the tie order of policy_tree.h: a node's leaves
 * (actions ascending) come first, then its splits by feature, threshold,
 * left action, right action; a later candidate replaces the best only when
 * strictly better, or (root of depth 2) as good with fewer leaves. The value of a depth-2 tree is the root split's two
 * depth-1 subtrees' values summed, and those two are independent, so each
 * child is enumerated on its own (every child split with every pair of leaf
 * actions) rather than all pairs of children jointly: the same optimum and
 * the same winner, in O(p^2 n^3 k) rather than O(p^3 n^4 k^4).
 */
#include "insight/policy_tree_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"

typedef struct brute {
    size_t n, p, k, min;
    const double *x, *g; /* column-major, as given */
    double *grid;        /* p x n: candidate thresholds of each feature */
    size_t *ngrid;       /* p */
    double *sl, *sr;     /* k: left and right sums */
} brute;

/* The best tree of depth <= 1 for a row set. */
typedef struct best1 {
    double value;
    int leaves; /* 1 or 2 */
    int split, feature;
    double threshold;
    int action, right_action; /* a leaf's action; a split's left and right */
} best1;

static double sum_of(const brute *b, const unsigned char *in, size_t a)
{
    double s = 0.0;
    for (size_t i = 0; i < b->n; i++)
        if (in[i])
            s += b->g[a * b->n + i];
    return s;
}

static size_t count_left(const brute *b, const unsigned char *in, size_t f, double t,
                         unsigned char *left, double *max_left)
{
    size_t c = 0;
    *max_left = -INFINITY;
    for (size_t i = 0; i < b->n; i++) {
        const double xi = b->x[f * b->n + i];
        left[i] = in[i] && xi <= t;
        if (left[i]) {
            c++;
            if (xi > *max_left)
                *max_left = xi;
        }
    }
    return c;
}

static best1 brute_leaf(const brute *b, const unsigned char *in)
{
    best1 r;
    memset(&r, 0, sizeof r);
    r.value = -INFINITY;
    r.leaves = 1;
    for (size_t a = 0; a < b->k; a++) {
        const double v = sum_of(b, in, a);
        if (v > r.value) {
            r.value = v;
            r.action = (int)a;
        }
    }
    return r;
}

/* Every tree of depth <= 1 on the rows in `in` (rows of them). left and
 * right are scratch masks. */
static best1 brute_depth1(brute *b, const unsigned char *in, size_t rows, unsigned char *left,
                          unsigned char *right)
{
    best1 r = brute_leaf(b, in);
    for (size_t f = 0; f < b->p; f++) {
        size_t prev = (size_t)-1;
        for (size_t q = 0; q < b->ngrid[f]; q++) {
            double thr;
            const size_t nl = count_left(b, in, f, b->grid[f * b->n + q], left, &thr);
            if (nl == prev)
                continue;
            prev = nl;
            if (nl < b->min || rows - nl < b->min)
                continue;
            for (size_t i = 0; i < b->n; i++)
                right[i] = in[i] && !left[i];
            for (size_t a = 0; a < b->k; a++) {
                b->sl[a] = sum_of(b, left, a);
                b->sr[a] = sum_of(b, right, a);
            }
            for (size_t a = 0; a < b->k; a++)
                for (size_t c = 0; c < b->k; c++)
                    if (b->sl[a] + b->sr[c] > r.value) {
                        r.value = b->sl[a] + b->sr[c];
                        r.leaves = 2;
                        r.split = 1;
                        r.feature = (int)f;
                        r.threshold = thr;
                        r.action = (int)a;
                        r.right_action = (int)c;
                    }
        }
    }
    return r;
}

static void push_best1(tt_policy_tree *t, const best1 *r)
{
    if (!r->split) {
        tt_pt_push_leaf(t, r->action);
        return;
    }
    const int at = tt_pt_push_split(t, r->feature, r->threshold);
    tt_pt_push_leaf(t, r->action);
    tt_pt_set_right(t, at, tt_pt_push_leaf(t, r->right_action));
}

tt_status tt_policy_tree_fit_brute(size_t n, size_t p, const double *x, size_t k,
                                   const double *reward, const tt_policy_tree_options *opt,
                                   tt_policy_tree **out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree (brute): no output");
    tt_policy_tree_options o;
    tt_status st = tt_pt_check(n, p, x, k, reward, opt, &o, err, errlen);
    if (st != TT_OK)
        return st;
    if (o.depth > 2)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "policy tree (brute): depth %d; the brute force stops at 2", o.depth);
    brute b = {n, p, k, o.min_node_size, x, reward, NULL, NULL, NULL, NULL};
    b.grid = tt_malloc_array(n, (p ? p : 1) * sizeof *b.grid);
    b.ngrid = tt_malloc_array(p ? p : 1, sizeof *b.ngrid);
    b.sl = tt_malloc_array(k, sizeof *b.sl);
    b.sr = tt_malloc_array(k, sizeof *b.sr);
    unsigned char *mask = tt_malloc_array(n, 5);
    double *col = tt_malloc_array(n, sizeof *col);
    tt_policy_tree *t = tt_pt_new(p, k, &o);
    if (!b.grid || !b.ngrid || !b.sl || !b.sr || !mask || !col || !t) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree (brute): out of memory");
        goto done;
    }
    for (size_t f = 0; f < p; f++) {
        memcpy(col, x + f * n, n * sizeof *col);
        qsort(col, n, sizeof *col, tt_cmp_double);
        size_t distinct = 0, ng = 0;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && col[i] == col[i - 1])
                continue;
            /* distinct values numbered 1, 2, ...: every split_step-th ends a group */
            if (++distinct % o.split_step == 0)
                b.grid[f * n + ng++] = col[i];
        }
        b.ngrid[f] = ng;
    }
    unsigned char *all = mask, *in_l = mask + n, *in_r = mask + 2 * n, *s1 = mask + 3 * n,
                  *s2 = mask + 4 * n;
    memset(all, 1, n);
    best1 root = brute_leaf(&b, all); /* 1 leaf: a split must beat it strictly */
    best1 keep_l, keep_r;
    memset(&keep_l, 0, sizeof keep_l);
    memset(&keep_r, 0, sizeof keep_r);
    if (o.depth == 1) {
        root = brute_depth1(&b, all, n, s1, s2);
    } else if (o.depth == 2) {
        for (size_t f = 0; f < p; f++) {
            size_t prev = (size_t)-1;
            for (size_t q = 0; q < b.ngrid[f]; q++) {
                double thr;
                const size_t nl = count_left(&b, all, f, b.grid[f * n + q], in_l, &thr);
                if (nl == prev)
                    continue;
                prev = nl;
                if (nl < b.min || n - nl < b.min)
                    continue;
                for (size_t i = 0; i < n; i++)
                    in_r[i] = !in_l[i];
                const best1 l = brute_depth1(&b, in_l, nl, s1, s2);
                const best1 r = brute_depth1(&b, in_r, n - nl, s1, s2);
                const double v = l.value + r.value;
                const int leaves = l.leaves + r.leaves;
                if (v > root.value || (v == root.value && leaves < root.leaves)) {
                    root.value = v;
                    root.leaves = leaves;
                    root.split = 1;
                    root.feature = (int)f;
                    root.threshold = thr;
                    keep_l = l;
                    keep_r = r;
                }
            }
        }
    }
    if (o.depth == 2 && root.split) {
        const int at = tt_pt_push_split(t, root.feature, root.threshold);
        push_best1(t, &keep_l);
        tt_pt_set_right(t, at, (int)t->n_nodes);
        push_best1(t, &keep_r);
    } else {
        push_best1(t, &root);
    }
    if (tt_pt_finish(t, n, x, reward) != TT_OK) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree (brute): out of memory");
        goto done;
    }
    *out = t;
    t = NULL;
done:
    tt_policy_tree_free(t);
    free(b.grid), free(b.ngrid), free(b.sl), free(b.sr), free(mask), free(col);
    return st;
}
