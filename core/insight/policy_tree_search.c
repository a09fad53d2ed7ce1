/*
 * policy_tree_search.c - the exact search of tt_policy_tree_fit (see
 * policy_tree.h for what is optimal and how ties go).
 *
 * A node is a "view": its rows sorted by each feature, and for each row the
 * row's local group on each feature (groups are the candidate grid: one per
 * distinct value, or per split_step distinct values; local groups number the
 * ones present in the node). Splitting after local group g sends groups <= g
 * left, so ties never split and every local boundary is one distinct
 * partition.
 *
 * Depth 1 on a view: one prefix scan per feature; left takes the best action
 * of the prefix sums, right of the suffix sums.
 *
 * Depth 2 on a view: for each root feature j, rows move from the right child
 * to the left one in j order. What each child's best depth-1 split on a
 * feature f is worth follows from prefix sums P_a(u) of its rows over f's
 * groups u: max over u of [max_a P_a(u) + max_b (T_b - P_b(u))], which is
 * max over action pairs (a, b) of T_b + max_u (P_a(u) - P_b(u)) (a = b gives
 * T_a, the child as a leaf, counted separately). So each child keeps, per
 * feature f, a segment tree over f's groups whose nodes hold the row count,
 * the reward sums and, for every pair a != b, the best prefix of
 * (P_a - P_b) inside the node; moving a row is a point update, O(k^2 log n).
 * With min_node_size 1 every prefix may be used (the empty and the full ones
 * are worth a leaf, which never wins a strict comparison it should not), so
 * the root of the segment tree answers in O(k^2); with a larger minimum the
 * allowed prefixes are a range found by descending on counts. One sweep per
 * (j, f) keeps memory at two segment trees; the best child value per root
 * split is the max over f. The depth-1 children of the winning root split
 * are then found by the depth-1 scan above, which applies the tie rules.
 *
 * Depth 3: every root split runs depth 2 on both children (views one level
 * down; one buffer per level, since the left subtree is finished before the
 * right one is built).
 */
#include "insight/policy_tree_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

#define POLL_EVERY 1024

typedef struct view {
    size_t m;        /* rows in the node */
    uint32_t *ord;   /* p x n (stride n): the node's rows sorted by each feature */
    uint32_t *leaf;  /* p x n (stride n), indexed by row: local group on each feature */
    uint32_t *nleaf; /* p: local groups per feature */
} view;

/* Node q at node + q W: [0] rows, [1 .. k] reward sums, [1 + k ..] per pair
 * the best prefix difference. Leaves start at index size. */
typedef struct seg {
    size_t size;
    double *node;
} seg;

typedef struct search {
    size_t n, p, k, np, W, min;
    const double *x;
    double *g;       /* n x k row-major: a row's rewards share a cache line */
    uint32_t *gid;   /* p x n: each row's group on each feature over all rows */
    uint32_t *pa, *pb; /* the np = k (k - 1) ordered pairs a != b */
    view v[TT_POLICY_TREE_MAX_DEPTH]; /* one per level below which we split */
    seg L, R;
    double *bestL, *bestR; /* per root candidate: best split value of each child */
    double *tmp;           /* scratch: the five below */
    double *acc, *pbest;   /* k, np: seg_range's */
    double *T, *P, *Q;     /* k each: the searches' */
    int (*stop)(void *);
    void *stop_ctx;
    unsigned long polls;
    tt_status status;
} search;

/* What a node is worth at some depth and how to reach it. */
typedef struct choice {
    double value;   /* sum of rewards */
    int leaves;     /* of the subtree (before merging idle splits): ties go to fewer */
    int split;      /* 0: a leaf of `action` */
    int feature;
    uint32_t group; /* local group: groups <= group go left */
    double threshold;
    int action;       /* the leaf's action, or the left leaf's (depth 1) */
    int right_action; /* the right leaf's (depth 1) */
} choice;

static int stopped(search *s)
{
    if (s->status != TT_OK)
        return 1;
    if (s->stop && s->polls++ % POLL_EVERY == 0 && s->stop(s->stop_ctx))
        s->status = TT_ERR_STOPPED;
    return s->status != TT_OK;
}

/* First index of the largest of v[0..k). */
static int argmax(const double *v, size_t k)
{
    size_t best = 0;
    for (size_t a = 1; a < k; a++)
        if (v[a] > v[best])
            best = a;
    return (int)best;
}

static void totals(const search *s, const view *v, double *T)
{
    const size_t k = s->k;
    memset(T, 0, k * sizeof *T);
    for (size_t q = 0; q < v->m; q++) {
        const double *gi = s->g + (size_t)v->ord[q] * k;
        for (size_t a = 0; a < k; a++)
            T[a] += gi[a];
    }
}

static choice leaf_choice(const double *T, size_t k)
{
    choice c;
    memset(&c, 0, sizeof c);
    c.action = argmax(T, k);
    c.value = T[c.action];
    c.leaves = 1;
    return c;
}

/* ---- views ---- */

/* The rows of par on one side of "local group on j <= g", in every
 * feature's order, with their local groups renumbered. */
static void make_child(const search *s, const view *par, int j, uint32_t g, int left, view *out)
{
    const size_t n = s->n;
    const uint32_t *side = par->leaf + (size_t)j * n;
    size_t m = 0;
    for (size_t f = 0; f < s->p; f++) {
        const uint32_t *po = par->ord + f * n, *gid = s->gid + f * n;
        uint32_t *o = out->ord + f * n, *lf = out->leaf + f * n;
        size_t q = 0;
        uint32_t nl = 0, prev = 0;
        for (size_t idx = 0; idx < par->m; idx++) {
            const uint32_t i = po[idx];
            if ((side[i] <= g) != (left != 0))
                continue;
            o[q++] = i;
            if (nl == 0 || gid[i] != prev) {
                nl++;
                prev = gid[i];
            }
            lf[i] = nl - 1;
        }
        out->nleaf[f] = nl;
        m = q;
    }
    out->m = m;
}

typedef struct keyed {
    double v;
    uint32_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The root view and the global groups: sort each feature once. */
static void make_root(search *s, size_t step, keyed *kv)
{
    const size_t n = s->n;
    view *v = &s->v[0];
    for (size_t f = 0; f < s->p; f++) {
        const double *col = s->x + f * n;
        for (size_t i = 0; i < n; i++)
            kv[i] = (keyed){col[i], (uint32_t)i};
        qsort(kv, n, sizeof *kv, cmp_keyed);
        uint32_t *o = v->ord + f * n, *gid = s->gid + f * n, *lf = v->leaf + f * n;
        size_t distinct = 0;
        for (size_t q = 0; q < n; q++) {
            if (q > 0 && kv[q].v != kv[q - 1].v)
                distinct++;
            o[q] = kv[q].i;
            gid[kv[q].i] = lf[kv[q].i] = (uint32_t)(distinct / step);
        }
        v->nleaf[f] = (uint32_t)(distinct / step + 1);
    }
    v->m = n;
}

/* ---- segment trees ---- */

static void seg_pairs(const search *s, double *nd)
{
    const double *sum = nd + 1;
    double *best = nd + 1 + s->k;
    for (size_t q = 0; q < s->np; q++)
        best[q] = sum[s->pa[q]] - sum[s->pb[q]];
}

static void seg_combine(const search *s, double *d, const double *l, const double *r)
{
    const size_t k = s->k;
    d[0] = l[0] + r[0];
    for (size_t a = 0; a < k; a++)
        d[1 + a] = l[1 + a] + r[1 + a];
    const double *ls = l + 1;
    for (size_t q = 0; q < s->np; q++) {
        const double lb = l[1 + k + q], via = ls[s->pa[q]] - ls[s->pb[q]] + r[1 + k + q];
        d[1 + k + q] = lb > via ? lb : via;
    }
}

/* A tree over U groups of feature f, empty or holding the view's rows. */
static void seg_reset(const search *s, seg *t, size_t U, const view *v, size_t f, int fill)
{
    const size_t n = s->n, k = s->k, W = s->W;
    size_t size = 1;
    while (size < U)
        size <<= 1;
    t->size = size;
    double *leaves = t->node + size * W;
    memset(leaves, 0, size * W * sizeof *leaves);
    for (size_t u = U; u < size; u++) /* padding: never a prefix end */
        for (size_t q = 0; q < s->np; q++)
            leaves[u * W + 1 + k + q] = -INFINITY;
    if (fill) {
        const uint32_t *o = v->ord + f * n, *lf = v->leaf + f * n;
        for (size_t idx = 0; idx < v->m; idx++) {
            const uint32_t i = o[idx];
            double *nd = leaves + (size_t)lf[i] * W;
            const double *gi = s->g + (size_t)i * k;
            nd[0] += 1.0;
            for (size_t a = 0; a < k; a++)
                nd[1 + a] += gi[a];
        }
        for (size_t u = 0; u < U; u++)
            seg_pairs(s, leaves + u * W);
    }
    for (size_t q = size - 1; q >= 1; q--)
        seg_combine(s, t->node + q * W, t->node + 2 * q * W, t->node + (2 * q + 1) * W);
}

/* Adds (sign +1) or removes (-1) row i at group u. */
static void seg_move(const search *s, seg *t, size_t u, uint32_t i, double sign)
{
    const size_t k = s->k, W = s->W;
    size_t q = t->size + u;
    double *nd = t->node + q * W;
    const double *gi = s->g + (size_t)i * k;
    nd[0] += sign;
    for (size_t a = 0; a < k; a++)
        nd[1 + a] += sign * gi[a];
    seg_pairs(s, nd);
    for (q >>= 1; q >= 1; q >>= 1)
        seg_combine(s, t->node + q * W, t->node + 2 * q * W, t->node + (2 * q + 1) * W);
}

/* First group whose prefix holds at least `need` rows (need <= all rows). */
static size_t seg_descend(const search *s, const seg *t, double need)
{
    size_t q = 1;
    while (q < t->size) {
        const double lc = t->node[2 * q * s->W];
        if (lc >= need) {
            q = 2 * q;
        } else {
            need -= lc;
            q = 2 * q + 1;
        }
    }
    return q - t->size;
}

/* Best prefix differences over prefixes ending in groups [lo, hi], node q
 * covering [nl, nr]; acc carries the sums of the groups before. */
static void seg_range(const search *s, const seg *t, size_t q, size_t nl, size_t nr, size_t lo,
                      size_t hi, double *acc, double *best)
{
    if (nl > hi)
        return;
    const size_t k = s->k;
    const double *nd = t->node + q * s->W;
    if (nr < lo) {
        for (size_t a = 0; a < k; a++)
            acc[a] += nd[1 + a];
        return;
    }
    if (nl >= lo && nr <= hi) {
        for (size_t pq = 0; pq < s->np; pq++) {
            const double via = acc[s->pa[pq]] - acc[s->pb[pq]] + nd[1 + k + pq];
            if (via > best[pq])
                best[pq] = via;
        }
        for (size_t a = 0; a < k; a++)
            acc[a] += nd[1 + a];
        return;
    }
    const size_t mid = nl + (nr - nl) / 2;
    seg_range(s, t, 2 * q, nl, mid, lo, hi, acc, best);
    seg_range(s, t, 2 * q + 1, mid + 1, nr, lo, hi, acc, best);
}

/* Best value of a depth-1 split (on the tree's feature) of the rows in t;
 * -inf when there is none. May return a leaf's value instead (see top). */
static double seg_split_value(search *s, const seg *t)
{
    const size_t k = s->k, np = s->np;
    const double *root = t->node + s->W, *T = root + 1;
    const double rows = root[0], min = (double)s->min;
    if (rows < 2.0 * min)
        return -INFINITY;
    const double *best = root + 1 + k;
    if (s->min > 1) {
        const size_t lo = seg_descend(s, t, min), end = seg_descend(s, t, rows - min + 1.0);
        if (end == 0 || lo > end - 1)
            return -INFINITY;
        double *acc = s->acc, *b = s->pbest;
        memset(acc, 0, k * sizeof *acc);
        for (size_t q = 0; q < np; q++)
            b[q] = -INFINITY;
        seg_range(s, t, 1, 0, t->size - 1, lo, end - 1, acc, b);
        best = b;
    }
    double v = -INFINITY;
    for (size_t q = 0; q < np; q++) {
        const double via = T[s->pb[q]] + best[q];
        if (via > v)
            v = via;
    }
    return v;
}

/* ---- the searches ---- */

static choice best1(search *s, const view *v)
{
    const size_t n = s->n, k = s->k, m = v->m;
    double *T = s->T, *P = s->P, *R = s->Q;
    totals(s, v, T);
    choice c = leaf_choice(T, k);
    if (m < 2 * s->min || k < 2)
        return c;
    double best = -INFINITY;
    for (size_t f = 0; f < s->p; f++) {
        if (v->nleaf[f] < 2)
            continue;
        if (stopped(s))
            return c;
        const uint32_t *o = v->ord + f * n, *lf = v->leaf + f * n;
        memset(P, 0, k * sizeof *P);
        for (size_t idx = 0; idx + s->min < m; idx++) {
            const uint32_t i = o[idx];
            const double *gi = s->g + (size_t)i * k;
            for (size_t a = 0; a < k; a++)
                P[a] += gi[a];
            const size_t nl = idx + 1;
            if (lf[o[idx + 1]] == lf[i] || nl < s->min)
                continue;
            for (size_t a = 0; a < k; a++)
                R[a] = T[a] - P[a];
            const int la = argmax(P, k), ra = argmax(R, k);
            const double val = P[la] + R[ra];
            if (val > best) {
                best = val;
                c.feature = (int)f;
                c.group = lf[i];
                c.threshold = s->x[f * n + i];
                c.action = la;
                c.right_action = ra;
            }
        }
    }
    if (best > c.value) {
        c.value = best;
        c.leaves = 2;
        c.split = 1;
    } else {
        c = leaf_choice(T, k);
    }
    return c;
}

static choice best2(search *s, const view *v)
{
    const size_t n = s->n, k = s->k, m = v->m, min = s->min;
    double *T = s->T, *TL = s->P;
    totals(s, v, T);
    choice c = leaf_choice(T, k);
    if (m < 2 * min || k < 2)
        return c;
    double best = -INFINITY;
    int best_leaves = 0;
    choice win = c;
    for (size_t j = 0; j < s->p; j++) {
        const size_t Uj = v->nleaf[j];
        if (Uj < 2)
            continue;
        const uint32_t *oj = v->ord + j * n, *lj = v->leaf + j * n;
        for (size_t u = 0; u < Uj; u++)
            s->bestL[u] = s->bestR[u] = -INFINITY;
        for (size_t f = 0; f < s->p; f++) {
            const size_t Uf = v->nleaf[f];
            if (Uf < 2)
                continue;
            const uint32_t *lf = v->leaf + f * n;
            seg_reset(s, &s->R, Uf, v, f, 1);
            seg_reset(s, &s->L, Uf, v, f, 0);
            /* Rows after the last allowed root split never need to move. */
            for (size_t idx = 0; idx + min < m; idx++) {
                if (stopped(s))
                    return c;
                const uint32_t i = oj[idx];
                seg_move(s, &s->L, lf[i], i, 1.0);
                seg_move(s, &s->R, lf[i], i, -1.0);
                if (lj[oj[idx + 1]] == lj[i] || idx + 1 < min)
                    continue;
                const double vl = seg_split_value(s, &s->L), vr = seg_split_value(s, &s->R);
                if (vl > s->bestL[lj[i]])
                    s->bestL[lj[i]] = vl;
                if (vr > s->bestR[lj[i]])
                    s->bestR[lj[i]] = vr;
            }
        }
        /* Each root split of j: both children at their best; ties to fewer
         * leaves, then to the smaller threshold. */
        memset(TL, 0, k * sizeof *TL);
        for (size_t idx = 0; idx + min < m; idx++) {
            const uint32_t i = oj[idx];
            const double *gi = s->g + (size_t)i * k;
            for (size_t a = 0; a < k; a++)
                TL[a] += gi[a];
            if (lj[oj[idx + 1]] == lj[i] || idx + 1 < min)
                continue;
            double leafL = TL[0], leafR = T[0] - TL[0];
            for (size_t a = 1; a < k; a++) {
                if (TL[a] > leafL)
                    leafL = TL[a];
                if (T[a] - TL[a] > leafR)
                    leafR = T[a] - TL[a];
            }
            const double bl = s->bestL[lj[i]], br = s->bestR[lj[i]];
            const double val = (bl > leafL ? bl : leafL) + (br > leafR ? br : leafR);
            const int leaves = (bl > leafL ? 2 : 1) + (br > leafR ? 2 : 1);
            if (val > best || (val == best && leaves < best_leaves)) {
                best = val;
                best_leaves = leaves;
                win.feature = (int)j;
                win.group = lj[i];
                win.threshold = s->x[j * n + i];
            }
        }
    }
    if (best > c.value) {
        win.value = best;
        win.leaves = best_leaves;
        win.split = 1;
        return win;
    }
    return c;
}

static choice best3(search *s, const view *v, int level)
{
    const size_t n = s->n, k = s->k, m = v->m, min = s->min;
    totals(s, v, s->T);
    choice c = leaf_choice(s->T, k);
    if (m < 2 * min || k < 2)
        return c;
    view *sub = &s->v[level + 1];
    double best = -INFINITY;
    int best_leaves = 0;
    choice win = c;
    for (size_t j = 0; j < s->p; j++) {
        if (v->nleaf[j] < 2)
            continue;
        const uint32_t *oj = v->ord + j * n, *lj = v->leaf + j * n;
        for (size_t idx = 0; idx + min < m; idx++) {
            const uint32_t i = oj[idx];
            if (lj[oj[idx + 1]] == lj[i] || idx + 1 < min)
                continue;
            make_child(s, v, (int)j, lj[i], 1, sub);
            const choice cl = best2(s, sub);
            make_child(s, v, (int)j, lj[i], 0, sub);
            const choice cr = best2(s, sub);
            if (s->status != TT_OK)
                return c;
            const double val = cl.value + cr.value;
            const int leaves = cl.leaves + cr.leaves;
            if (val > best || (val == best && leaves < best_leaves)) {
                best = val;
                best_leaves = leaves;
                win.feature = (int)j;
                win.group = lj[i];
                win.threshold = s->x[j * n + i];
            }
        }
    }
    /* best2 used the scratch: the node's own leaf again. */
    totals(s, v, s->T);
    c = leaf_choice(s->T, k);
    if (best > c.value) {
        win.value = best;
        win.leaves = best_leaves;
        win.split = 1;
        return win;
    }
    return c;
}

/* Finds the best subtree of the node at `level` and appends it in preorder. */
static void solve(search *s, const view *v, int level, int depth, tt_policy_tree *t)
{
    choice c;
    if (depth == 1) {
        c = best1(s, v);
    } else if (depth == 2) {
        c = best2(s, v);
    } else {
        c = best3(s, v, level);
    }
    if (s->status != TT_OK)
        return;
    if (!c.split) {
        tt_pt_push_leaf(t, c.action);
        return;
    }
    const int at = tt_pt_push_split(t, c.feature, c.threshold);
    if (depth == 1) {
        tt_pt_push_leaf(t, c.action);
        tt_pt_set_right(t, at, tt_pt_push_leaf(t, c.right_action));
        return;
    }
    view *sub = &s->v[level + 1];
    make_child(s, v, c.feature, c.group, 1, sub);
    solve(s, sub, level + 1, depth - 1, t);
    if (s->status != TT_OK)
        return;
    tt_pt_set_right(t, at, (int)t->n_nodes);
    make_child(s, v, c.feature, c.group, 0, sub);
    solve(s, sub, level + 1, depth - 1, t);
}

static void search_free(search *s)
{
    free(s->g), free(s->gid), free(s->pa), free(s->pb);
    for (int l = 0; l < TT_POLICY_TREE_MAX_DEPTH; l++)
        free(s->v[l].ord), free(s->v[l].leaf), free(s->v[l].nleaf);
    free(s->L.node), free(s->R.node), free(s->bestL), free(s->bestR), free(s->tmp);
}

static tt_status search_init(search *s, size_t n, size_t p, const double *x, size_t k,
                             const double *reward, const tt_policy_tree_options *o)
{
    memset(s, 0, sizeof *s);
    s->n = n, s->p = p, s->k = k, s->x = x;
    s->np = k * (k - 1);
    s->W = 1 + k + s->np;
    s->min = o->min_node_size;
    s->stop = o->should_stop, s->stop_ctx = o->stop_ctx;
    s->g = tt_malloc_array(n, k * sizeof *s->g);
    s->gid = tt_malloc_array(n, p * sizeof *s->gid);
    s->pa = tt_malloc_array(s->np + 1, sizeof *s->pa);
    s->pb = tt_malloc_array(s->np + 1, sizeof *s->pb);
    s->tmp = tt_malloc_array(4 * k + s->np, sizeof *s->tmp);
    int ok = s->g && s->gid && s->pa && s->pb && s->tmp;
    for (int l = 0; ok && l < o->depth; l++) {
        s->v[l].ord = tt_malloc_array(n, p * sizeof *s->v[l].ord);
        s->v[l].leaf = tt_malloc_array(n, p * sizeof *s->v[l].leaf);
        s->v[l].nleaf = tt_malloc_array(p, sizeof *s->v[l].nleaf);
        ok = s->v[l].ord && s->v[l].leaf && s->v[l].nleaf;
    }
    if (ok && o->depth >= 2) {
        size_t size = 1;
        while (size < n)
            size <<= 1;
        const size_t cells = 2 * size; /* overflow impossible: n < 2^32 */
        s->L.node = tt_malloc_array(cells, s->W * sizeof *s->L.node);
        s->R.node = tt_malloc_array(cells, s->W * sizeof *s->R.node);
        s->bestL = tt_malloc_array(n, sizeof *s->bestL);
        s->bestR = tt_malloc_array(n, sizeof *s->bestR);
        ok = s->L.node && s->R.node && s->bestL && s->bestR;
    }
    keyed *kv = ok ? tt_malloc_array(n, sizeof *kv) : NULL;
    if (!kv) {
        search_free(s);
        return TT_ERR_NOMEM;
    }
    s->acc = s->tmp, s->pbest = s->tmp + k, s->T = s->pbest + s->np;
    s->P = s->T + k, s->Q = s->P + k;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++)
            s->g[i * k + a] = reward[a * n + i];
    size_t q = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            if (a != b) {
                s->pa[q] = (uint32_t)a;
                s->pb[q] = (uint32_t)b;
                q++;
            }
    make_root(s, o->split_step, kv);
    free(kv);
    return TT_OK;
}

tt_status tt_policy_tree_fit(size_t n, size_t p, const double *x, size_t k,
                             const double *reward, const tt_policy_tree_options *opt,
                             tt_policy_tree **out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree: no output");
    tt_policy_tree_options o;
    tt_status st = tt_pt_check(n, p, x, k, reward, opt, &o, err, errlen);
    if (st != TT_OK)
        return st;
    tt_policy_tree *t = tt_pt_new(p, k, &o);
    if (!t)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree: out of memory");
    if (o.depth == 0 || p == 0 || k == 1 || n < 2 * o.min_node_size) {
        /* No split is possible or asked for: the best single action. */
        int best = 0;
        double best_v = -INFINITY;
        for (size_t a = 0; a < k; a++) {
            double sum = 0.0;
            for (size_t i = 0; i < n; i++)
                sum += reward[a * n + i];
            if (sum > best_v) {
                best_v = sum;
                best = (int)a;
            }
        }
        tt_pt_push_leaf(t, best);
    } else {
        search s;
        if (search_init(&s, n, p, x, k, reward, &o) != TT_OK) {
            tt_policy_tree_free(t);
            return tt_errf(err, errlen, TT_ERR_NOMEM,
                           "policy tree: out of memory (%zu rows, %zu features, %zu actions)",
                           n, p, k);
        }
        solve(&s, &s.v[0], 0, o.depth, t);
        st = s.status;
        search_free(&s);
        if (st != TT_OK) {
            tt_policy_tree_free(t);
            return tt_errf(err, errlen, st, "policy tree: stopped");
        }
    }
    if (tt_pt_finish(t, n, x, reward) != TT_OK) {
        tt_policy_tree_free(t);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree: out of memory");
    }
    *out = t;
    return TT_OK;
}
