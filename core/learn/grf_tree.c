/*
 * grf_tree.c - one honest GRF tree: CART splits on pseudo-outcomes that are
 * recomputed at every node from the node's own local moment solution
 * (grf's relabelling), then leaves filled from the other half.
 *
 * At a node with rows R: A = sum w u v', b = sum w u y, beta = A^-1 b; each
 * row's influence on the estimate is A^-1 u_i (y_i - v_i'beta), and the
 * pseudo-outcomes rho_i are its theta components (the mean residual for
 * regression). For the causal forest this is grf's
 * (W_i - W_bar)(Y_i - Y_bar - (W_i - W_bar) theta) / Var(W). The split
 * maximises sum_child (sum w rho)^2 / sum w over exact thresholds (midpoints
 * of distinct values), summed over rho's dimensions. A regression
 * pseudo-outcome is the row's residual from the node mean over the node's
 * weight, (y_ic - ybar_c) / sum w, per column c of y: the criterion is then
 * CART's weighted sum-of-squares reduction summed over the columns (the Gini
 * reduction for one-hot classes).
 *
 * Why presorted rather than tree.h's histograms: every node needs fresh
 * pseudo-outcomes, and most of a GRF tree's nodes are small (the grow half is
 * a quarter of n); sorting each small node's values cost 70 % of the fit in
 * a first version that split nodes of <= 256 rows exactly. Instead each tree
 * keeps, per feature, its rows in increasing order (filtered once per tree
 * from a global argsort) and a split partitions those lists stably, so a
 * node costs O(rows x p) with no sorting and the splits are exact, as grf's.
 *
 * What the inner loops touch, since they dominate a fit: a list entry holds
 * the row and the rank of its value, so the search walks the list without
 * reading x (reading x[row] per entry, a cache miss on large data, took half
 * the search); per row the node's w and w rho sit together in one stat
 * record; the split's own feature list is already partitioned. Without
 * honesty the grow rows fill the leaves, and each row's leaf is known from
 * the growing, so the fill does not route rows down the tree again.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/grf_internal.h"
#include "learn/learner_impl.h"
#include "util/mem.h"

struct tt_grf_work {
    size_t p, d, m_cap;
    tt_grf_entry *sorted; /* p x m_cap: the node ranges of every feature's order */
    tt_grf_entry *tmp;    /* m_cap */
    uint8_t *mask;        /* n: row is in the grow set / goes left */
    double *stat;         /* n x (1 + d) by row: w_i, then w_i rho_i of its node */
    uint8_t *small;       /* n: instrument below the node mean (causal/IV balance) */
    double *zmom;         /* n x 2 by row: w_i z_i, w_i z_i^2 (one instrument: q = 2) */
    uint32_t *leaf_of;    /* n: the leaf a grow row ended in */
    size_t *feat;         /* p */
    size_t *stack;        /* node, start, end, depth quadruples */
    size_t stack_cap;
    double *acc;          /* fill sums, grown as needed */
    size_t acc_cap;
    double *tw;           /* bootstrap: n per-tree weights, weight x multiplicity */
    const double *wt;     /* the tree's weights: tw, the data's, or NULL (all 1) */
};

typedef struct keyed {
    double v;
    uint32_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->v < y->v ? -1 : (x->v > y->v ? 1 : (x->row > y->row) - (x->row < y->row));
}

typedef struct presort_job {
    size_t n;
    const double *x;
    tt_grf_entry *order;
    keyed **buf; /* per thread: n pairs */
} presort_job;

static void presort_feature(void *ctx, size_t j, size_t thread)
{
    presort_job *pj = ctx;
    const size_t n = pj->n;
    keyed *k = pj->buf[thread];
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){pj->x[j * n + i], (uint32_t)i};
    qsort(k, n, sizeof *k, cmp_keyed);
    uint32_t rank = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && k[i].v != k[i - 1].v)
            rank++;
        pj->order[j * n + i] = (tt_grf_entry){k[i].row, rank};
    }
}

tt_status tt_grf_presort(size_t n, size_t p, const double *x, size_t threads,
                         tt_grf_entry **order)
{
    /* (value, row) pairs rather than a comparator reading a global column:
     * fits may run concurrently. */
    threads = threads < 1 ? 1 : (threads > p && p > 0 ? p : threads);
    presort_job pj = {n, x, tt_malloc_array(n * (p ? p : 1), sizeof *pj.order),
                      calloc(threads, sizeof *pj.buf)};
    tt_status st = pj.order && pj.buf ? TT_OK : TT_ERR_NOMEM;
    for (size_t t = 0; st == TT_OK && t < threads; t++)
        if (!(pj.buf[t] = tt_malloc_array(n ? n : 1, sizeof **pj.buf)))
            st = TT_ERR_NOMEM;
    if (st == TT_OK)
        tt_learn_parallel(threads, p, presort_feature, &pj);
    for (size_t t = 0; pj.buf && t < threads; t++)
        free(pj.buf[t]);
    free(pj.buf);
    if (st != TT_OK) {
        free(pj.order);
        pj.order = NULL;
    }
    *order = pj.order;
    return st;
}

tt_grf_work *tt_grf_work_new(const tt_grf_grow_ctx *c)
{
    tt_grf_work *wk = calloc(1, sizeof *wk);
    if (!wk)
        return NULL;
    size_t p = c->p ? c->p : 1, n = c->n ? c->n : 1;
    wk->p = c->p;
    wk->d = c->d;
    wk->m_cap = c->max_grow < 1 ? 1 : (c->max_grow > n ? n : c->max_grow);
    /* + 1: the branch-free filter in tt_grf_grow_tree may store one entry
     * past a full list (into the next list, rebuilt after it, or this slack). */
    wk->sorted = tt_malloc_array(p * wk->m_cap + 1, sizeof *wk->sorted);
    wk->tmp = tt_malloc_array(wk->m_cap, sizeof *wk->tmp);
    wk->mask = calloc(n, 1);
    wk->stat = tt_malloc_array(n, (1 + c->d) * sizeof *wk->stat);
    wk->small = calloc(n, 1);
    if (c->q == 2)
        wk->zmom = tt_malloc_array(n, 2 * sizeof *wk->zmom);
    wk->leaf_of = tt_malloc_array(n, sizeof *wk->leaf_of);
    wk->feat = tt_malloc_array(p, sizeof *wk->feat);
    wk->stack_cap = 256;
    wk->stack = tt_malloc_array(wk->stack_cap * 4, sizeof *wk->stack);
    if (c->bootstrap)
        wk->tw = tt_malloc_array(n, sizeof *wk->tw);
    if (!wk->sorted || !wk->tmp || !wk->mask || !wk->stat || !wk->small || !wk->leaf_of ||
        (c->q == 2 && !wk->zmom) ||
        !wk->feat || !wk->stack || (c->bootstrap && !wk->tw)) {
        tt_grf_work_free(wk);
        return NULL;
    }
    return wk;
}

void tt_grf_work_free(tt_grf_work *wk)
{
    if (!wk)
        return;
    free(wk->sorted);
    free(wk->tmp);
    free(wk->mask);
    free(wk->stat);
    free(wk->small);
    free(wk->zmom);
    free(wk->leaf_of);
    free(wk->feat);
    free(wk->stack);
    free(wk->acc);
    free(wk->tw);
    free(wk);
}

int tt_grf_invert(size_t m, const double *a, double *inv)
{
    double t[TT_GRF_MAX_Q * 2 * TT_GRF_MAX_Q];
    const size_t w = 2 * m;
    double scale = 0.0;
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < m; c++) {
            t[r * w + c] = a[r * m + c];
            t[r * w + m + c] = r == c ? 1.0 : 0.0;
            scale = fmax(scale, fabs(a[r * m + c]));
        }
    if (!(scale > 0.0) || !isfinite(scale))
        return 0;
    /* Gauss-Jordan with partial pivoting; a pivot below 1e-10 of the largest
     * entry means the node has (almost) no treatment variation. */
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < m; r++)
            if (fabs(t[r * w + c]) > fabs(t[piv * w + c]))
                piv = r;
        if (!(fabs(t[piv * w + c]) > 1e-10 * scale))
            return 0;
        if (piv != c)
            for (size_t j = 0; j < w; j++) {
                double s = t[c * w + j];
                t[c * w + j] = t[piv * w + j];
                t[piv * w + j] = s;
            }
        double dv = 1.0 / t[c * w + c];
        for (size_t j = 0; j < w; j++)
            t[c * w + j] *= dv;
        for (size_t r = 0; r < m; r++) {
            if (r == c || t[r * w + c] == 0.0)
                continue;
            double f = t[r * w + c];
            for (size_t j = 0; j < w; j++)
                t[r * w + j] -= f * t[c * w + j];
        }
    }
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < m; c++)
            inv[r * m + c] = t[r * w + m + c];
    return 1;
}

static int push(tt_grf_work *wk, size_t *top, size_t node, size_t s, size_t e, size_t depth)
{
    if (*top == wk->stack_cap) {
        size_t *ns = realloc(wk->stack, wk->stack_cap * 2 * 4 * sizeof *ns);
        if (!ns)
            return 0;
        wk->stack = ns;
        wk->stack_cap *= 2;
    }
    size_t *q = wk->stack + 4 * (*top)++;
    q[0] = node, q[1] = s, q[2] = e, q[3] = depth;
    return 1;
}

/* Regression's moment (u = v = 1): rho_ic = (y_ic - ybar_c) / sum w, the
 * general relabel below with its 1 x 1 inverse written out (same values). */
static int relabel_mean(const tt_grf_grow_ctx *c, tt_grf_work *wk, const tt_grf_entry *idx,
                        size_t start, size_t end)
{
    const size_t ny = c->ny, n = c->n, s1 = 1 + ny;
    const double *w = wk->wt;
    double A = 0.0, mean[TT_GRF_MAX_Y] = {0};
    if (ny == 1) { /* the same arithmetic with the column loop unrolled */
        const double *y = c->y;
        double sy = 0.0;
        for (size_t r = start; r < end; r++) {
            const size_t i = idx[r].row;
            const double wi = w ? w[i] : 1.0;
            A += wi;
            sy += wi * y[i];
        }
        if (!(A > 0.0) || !isfinite(A))
            return 0;
        const double inv = 1.0 / A, ybar = sy * inv;
        for (size_t r = start; r < end; r++) {
            const size_t i = idx[r].row;
            const double wi = w ? w[i] : 1.0;
            double *st = wk->stat + 2 * i;
            st[0] = wi;
            st[1] = wi * (inv * (y[i] - ybar));
        }
        return 1;
    }
    for (size_t r = start; r < end; r++) {
        const size_t i = idx[r].row;
        const double wi = w ? w[i] : 1.0;
        A += wi;
        for (size_t o = 0; o < ny; o++)
            mean[o] += wi * c->y[o * n + i];
    }
    if (!(A > 0.0) || !isfinite(A))
        return 0;
    const double inv = 1.0 / A;
    for (size_t o = 0; o < ny; o++)
        mean[o] *= inv;
    for (size_t r = start; r < end; r++) {
        const size_t i = idx[r].row;
        const double wi = w ? w[i] : 1.0;
        double *st = wk->stat + i * s1;
        st[0] = wi;
        for (size_t o = 0; o < ny; o++)
            st[1 + o] = wi * (inv * (c->y[o * n + i] - mean[o]));
    }
    return 1;
}

/* The node's moment: writes the stat records of its rows and the small
 * flags; returns 0 when the node cannot be solved (no variation), which
 * makes it a leaf. */
static int relabel(const tt_grf_grow_ctx *c, tt_grf_work *wk, const tt_grf_entry *idx,
                   size_t start, size_t end)
{
    if (c->kind == TT_GRF_REGRESSION)
        return relabel_mean(c, wk, idx, start, end);
    const size_t q = c->q, d = c->d, s1 = 1 + d;
    double A[TT_GRF_MAX_Q * TT_GRF_MAX_Q] = {0}, Ai[TT_GRF_MAX_Q * TT_GRF_MAX_Q];
    double b[TT_GRF_MAX_Q] = {0}, beta[TT_GRF_MAX_Q] = {0};
    double zsum = 0.0;
    for (size_t r = start; r < end; r++) {
        const size_t i = idx[r].row;
        const double wi = wk->wt ? wk->wt[i] : 1.0;
        const double *ui = c->u + i * q, *vi = c->v + i * q;
        for (size_t a = 0; a < q; a++) {
            const double wu = wi * ui[a];
            for (size_t e = 0; e < q; e++)
                A[a * q + e] += wu * vi[e];
            b[a] += wu * c->y[i];
        }
        if (q > 1)
            zsum += ui[1];
    }
    if (!tt_grf_invert(q, A, Ai))
        return 0;
    for (size_t a = 0; a < q; a++)
        for (size_t e = 0; e < q; e++)
            beta[a] += Ai[a * q + e] * b[e];
    const double zmean = zsum / (double)(end - start);
    for (size_t r = start; r < end; r++) {
        const size_t i = idx[r].row;
        const double wi = wk->wt ? wk->wt[i] : 1.0;
        const double *ui = c->u + i * q, *vi = c->v + i * q;
        double res = c->y[i];
        for (size_t e = 0; e < q; e++)
            res -= vi[e] * beta[e];
        double *st = wk->stat + i * s1;
        st[0] = wi;
        for (size_t o = 0; o < d; o++) {
            const double *row = Ai + (1 + o) * q;
            double s = 0.0;
            for (size_t e = 0; e < q; e++)
                s += row[e] * ui[e];
            st[1 + o] = wi * (s * res);
        }
        wk->small[i] = q > 1 && ui[1] < zmean;
        if (q == 2) {
            wk->zmom[2 * i] = wi * ui[1];
            wk->zmom[2 * i + 1] = wi * ui[1] * ui[1];
        }
    }
    return 1;
}

/* What a child must keep. Regression (grf's regression rule): an alpha share
 * of the node's rows. One instrument (binary causal, IV; grf's instrumental
 * rule): min_node_size rows on each side of the node's mean instrument, and
 * an alpha share of the node's instrument variation, size = sum w z^2 -
 * (sum w z)^2 / sum w, which is what identifies the child's effect; the
 * imbalance penalty then charges 1/size. Several treatment columns (K arms):
 * the alpha share of rows and of each side of the first column's mean. */
typedef struct split_limits {
    double min_child;            /* rows per child (>= min_leaf, >= 1) */
    double min_small, min_large; /* causal/IV: instrument below / above the node mean */
    int balance;
    int z_size;                  /* one instrument: the size rule below */
    double z1n, z2n;             /* node's sum w z, sum w z^2 */
    double min_size;             /* alpha x the node's size */
    double penalty;
} split_limits;

typedef struct best_split {
    double score;
    size_t feature;
    size_t pos; /* rows going left: the first pos of the feature's node range */
    double threshold;
    int found;
} best_split;

/* Score of the candidate with left totals (cl, wl, zl small rows, sl[d],
 * z1l = sum w z, z2l = sum w z^2); the node totals are cn, wn, zn, sn (and
 * lim's z1n, z2n). Returns -INF when it breaks a limit. */
static double score_of(const split_limits *lim, size_t d, double cl, double wl, double zl,
                       const double *sl, double z1l, double z2l, double cn, double wn,
                       double zn, const double *sn)
{
    const double cr = cn - cl, wr = wn - wl, zr = zn - zl;
    if (cl < lim->min_child || cr < lim->min_child || !(wl > 0.0) || !(wr > 0.0))
        return -INFINITY;
    if (lim->balance && (zl < lim->min_small || zr < lim->min_small ||
                         cl - zl < lim->min_large || cr - zr < lim->min_large))
        return -INFINITY;
    double pl = cl, pr = cr; /* what the imbalance penalty divides by */
    if (lim->z_size) {
        const double z1r = lim->z1n - z1l, z2r = lim->z2n - z2l;
        pl = z2l - z1l * z1l / wl;
        pr = z2r - z1r * z1r / wr;
        if (pl < lim->min_size || pr < lim->min_size ||
            (lim->penalty > 0.0 && (!(pl > 0.0) || !(pr > 0.0))))
            return -INFINITY;
    }
    double s = 0.0;
    for (size_t o = 0; o < d; o++) {
        const double sr = sn[o] - sl[o];
        s += sl[o] * sl[o] / wl + sr * sr / wr;
    }
    return lim->penalty > 0.0 ? s - lim->penalty * (1.0 / pl + 1.0 / pr) : s;
}

/* Records a better candidate: left = rows[0..r], threshold between row r's
 * value and the next (x is read only here). */
static void take(const tt_grf_grow_ctx *c, size_t j, const tt_grf_entry *rows, size_t r,
                 double s, best_split *bs)
{
    const double *col = c->x + j * c->n;
    const double here = col[rows[r].row], next = col[rows[r + 1].row];
    const double mid = here + (next - here) * 0.5;
    bs->score = s;
    bs->feature = j;
    bs->pos = r + 1;
    bs->threshold = mid < next ? mid : here;
    bs->found = 1;
}

/* Best threshold of feature j: a walk over the node's rows in x order. */
static void search_feature(const tt_grf_grow_ctx *c, const tt_grf_work *wk, size_t j,
                           const tt_grf_entry *rows, size_t m, const split_limits *lim,
                           double cn, double wn, double zn, const double *sn, best_split *bs)
{
    const size_t d = wk->d, s1 = 1 + d;
    if (rows[0].rank == rows[m - 1].rank)
        return;
    double cl = 0.0, wl = 0.0, zl = 0.0, sl[TT_GRF_MAX_D] = {0}, z1l = 0.0, z2l = 0.0;
    for (size_t r = 0; r + 1 < m; r++) {
        const size_t i = rows[r].row;
        const double *st = wk->stat + i * s1;
        cl += 1.0;
        wl += st[0];
        zl += wk->small[i];
        for (size_t o = 0; o < d; o++)
            sl[o] += st[1 + o];
        if (lim->z_size) {
            z1l += wk->zmom[2 * i];
            z2l += wk->zmom[2 * i + 1];
        }
        if (rows[r].rank == rows[r + 1].rank || cl < lim->min_child)
            continue;
        if (cn - cl < lim->min_child)
            break;
        double s = score_of(lim, d, cl, wl, zl, sl, z1l, z2l, cn, wn, zn, sn);
        if (s > bs->score)
            take(c, j, rows, r, s, bs);
    }
}

/* search_feature for one pseudo-outcome dimension without the instrument
 * balance (every regression on one column): the same arithmetic, with
 * nothing the compiler cannot keep in registers. */
static void search_feature_1(const tt_grf_grow_ctx *c, const tt_grf_work *wk, size_t j,
                             const tt_grf_entry *rows, size_t m, const split_limits *lim,
                             double cn, double wn, double sn, best_split *bs)
{
    if (rows[0].rank == rows[m - 1].rank)
        return;
    const double *stat = wk->stat, min_child = lim->min_child, pen = lim->penalty;
    double cl = 0.0, wl = 0.0, sl = 0.0;
    for (size_t r = 0; r + 1 < m; r++) {
        const double *st = stat + 2 * (size_t)rows[r].row;
        cl += 1.0;
        wl += st[0];
        sl += st[1];
        if (rows[r].rank == rows[r + 1].rank || cl < min_child)
            continue;
        const double cr = cn - cl, wr = wn - wl, sr = sn - sl;
        if (cr < min_child)
            break;
        if (!(wl > 0.0) || !(wr > 0.0))
            continue;
        const double s = sl * sl / wl + sr * sr / wr - pen * (1.0 / cl + 1.0 / cr);
        if (s > bs->score)
            take(c, j, rows, r, s, bs);
    }
}

/* Stable partition of every feature's range [start, end) by the split: the
 * chosen feature's first bs->pos rows first, each side still in x order.
 * The chosen feature's range is in that order already. Returns the
 * boundary. */
static size_t partition(const tt_grf_grow_ctx *c, tt_grf_work *wk, size_t start, size_t end,
                        const best_split *bs)
{
    const size_t m_cap = wk->m_cap, n_left = bs->pos;
    const tt_grf_entry *chosen = wk->sorted + bs->feature * m_cap + start;
    for (size_t r = 0; r < n_left; r++)
        wk->mask[chosen[r].row] = 1;
    for (size_t j = 0; j < c->p; j++) {
        if (j == bs->feature)
            continue;
        tt_grf_entry *list = wk->sorted + j * m_cap, *tmp = wk->tmp;
        size_t lo = start, hi = 0;
        /* Branch-free: a row goes either way at random, so a branch on the
         * mask mispredicted half the time (and partitioning is most of a
         * fit). Both slots are written; only one cursor moves. */
        for (size_t r = start; r < end; r++) {
            const tt_grf_entry e = list[r];
            const size_t left = wk->mask[e.row];
            list[lo] = e;
            tmp[hi] = e;
            lo += left;
            hi += 1 - left;
        }
        memcpy(list + lo, tmp, hi * sizeof *list);
    }
    for (size_t r = 0; r < n_left; r++) /* the mask must be clear for the next node */
        wk->mask[chosen[r].row] = 0;
    return start + n_left;
}

/* A Poisson(lambda) draw: unit-rate exponential gaps counted until they pass
 * lambda (lambda is an mtry, so the O(lambda) draws are cheap next to the
 * split search). grf draws each node's feature count this way, so a node
 * sometimes cannot pick the greedy feature: it decorrelates the trees when
 * mtry = p, as on the 10-feature benchmark. */
static size_t poisson(tt_rng *rng, double lambda)
{
    size_t k = 0;
    double t = -log1p(-tt_rng_uniform(rng));
    while (t < lambda) {
        k++;
        t -= log1p(-tt_rng_uniform(rng));
    }
    return k;
}

/* Chooses and applies the split of one node; 0 = the node stays a leaf. */
static int split_node(const tt_grf_grow_ctx *c, tt_grf_work *wk, size_t start, size_t end,
                      tt_rng *rng, best_split *bs, size_t *mid)
{
    const size_t d = c->d, p = c->p, s1 = 1 + d;
    const double cn = (double)(end - start);
    const size_t min_leaf = c->min_leaf < 1 ? 1 : c->min_leaf;
    if (end - start <= c->min_node_size || end - start < 2 * min_leaf || p == 0)
        return 0;
    const tt_grf_entry *idx = wk->sorted; /* feature 0's list: the node's rows */
    if (!relabel(c, wk, idx, start, end))
        return 0;
    const int balance = c->kind != TT_GRF_REGRESSION;
    double wn = 0.0, zn = 0.0, sn[TT_GRF_MAX_D] = {0};
    if (d == 1 && !balance) {
        for (size_t r = start; r < end; r++) {
            const double *st = wk->stat + 2 * (size_t)idx[r].row;
            wn += st[0];
            sn[0] += st[1];
        }
    } else {
        for (size_t r = start; r < end; r++) {
            const size_t i = idx[r].row;
            const double *st = wk->stat + i * s1;
            wn += st[0];
            if (balance)
                zn += wk->small[i];
            for (size_t o = 0; o < d; o++)
                sn[o] += st[1 + o];
        }
    }
    split_limits lim = {.min_child = fmax(ceil(c->alpha * cn), (double)min_leaf),
                        .balance = balance, .penalty = c->imbalance_penalty};
    if (balance && c->q == 2) {
        lim.z_size = 1;
        lim.min_child = (double)min_leaf;
        lim.min_small = lim.min_large = fmax((double)c->min_node_size, 1.0);
        for (size_t r = start; r < end; r++) {
            const size_t i = idx[r].row;
            lim.z1n += wk->zmom[2 * i];
            lim.z2n += wk->zmom[2 * i + 1];
        }
        lim.min_size = c->alpha * (lim.z2n - lim.z1n * lim.z1n / wn);
    } else if (balance) {
        /* Several treatment columns: min_node_size rows and an alpha share
         * on each side of the first column's node mean. */
        lim.min_small = fmax(ceil(c->alpha * zn), (double)c->min_node_size);
        lim.min_large = fmax(ceil(c->alpha * (cn - zn)), (double)c->min_node_size);
        if (lim.min_small < 1.0)
            lim.min_small = 1.0;
        if (lim.min_large < 1.0)
            lim.min_large = 1.0;
    }
    double parent = 0.0;
    for (size_t o = 0; o < d; o++)
        parent += sn[o] * sn[o] / wn;
    size_t mtry = c->mtry_fixed ? c->mtry : poisson(rng, (double)c->mtry);
    mtry = mtry < 1 ? 1 : (mtry > p ? p : mtry);
    for (size_t f = 0; f < mtry; f++) {
        size_t r = f + (size_t)tt_rng_below(rng, p - f);
        size_t t = wk->feat[f];
        wk->feat[f] = wk->feat[r];
        wk->feat[r] = t;
    }
    *bs = (best_split){parent + 1e-12 * fmax(parent, 1e-300), 0, 0, 0.0, 0};
    for (size_t f = 0; f < mtry; f++) {
        const size_t j = wk->feat[f];
        const tt_grf_entry *rows = wk->sorted + j * wk->m_cap + start;
        if (d == 1 && !balance)
            search_feature_1(c, wk, j, rows, end - start, &lim, cn, wn, sn[0], bs);
        else
            search_feature(c, wk, j, rows, end - start, &lim, cn, wn, zn, sn, bs);
    }
    if (!bs->found)
        return 0;
    size_t lo = partition(c, wk, start, end, bs);
    if (lo == start || lo == end)
        return 0; /* cannot happen with valid thresholds; stay safe */
    *mid = lo;
    return 1;
}

/* Leaf values from the filling rows (their leaves known from the growing
 * when leaf_known, else routed by x); empty leaves pruned into their
 * parent. */
static tt_status fill_leaves(const tt_grf_grow_ctx *c, tt_grf_work *wk, const size_t *fill,
                             size_t m_fill, const uint32_t *mult, int leaf_known, tt_tree *t)
{
    const size_t D = c->D, q = c->q, ny = c->ny, n = c->n;
    if (wk->acc_cap < t->n_nodes * D) {
        double *a = realloc(wk->acc, t->n_nodes * D * sizeof *a);
        if (!a)
            return TT_ERR_NOMEM;
        wk->acc = a;
        wk->acc_cap = t->n_nodes * D;
    }
    double *acc = wk->acc;
    memset(acc, 0, t->n_nodes * D * sizeof *acc);
    for (size_t r = 0; r < m_fill; r++) {
        const size_t i = fill[r];
        const size_t leaf = leaf_known ? wk->leaf_of[i] : tt_tree_leaf(t, c->x, n, i);
        const double wi = wk->wt ? wk->wt[i] : 1.0;
        const double *ui = c->u + i * q, *vi = c->v + i * q;
        double *a = acc + leaf * D;
        a[0] += mult ? (double)mult[i] : 1.0;
        for (size_t x = 0; x < q; x++) {
            const double wu = wi * ui[x];
            for (size_t e = 0; e < q; e++)
                a[1 + x * q + e] += wu * vi[e];
            for (size_t o = 0; o < ny; o++)
                a[1 + q * q + x * ny + o] += wu * c->y[o * n + i];
        }
    }
    /* Children always follow their parent: a reverse pass sees them first. */
    for (size_t k = t->n_nodes; k-- > 0;) {
        tt_tree_node *nd = &t->node[k];
        if (nd->feature < 0)
            continue;
        const double *l = acc + (size_t)nd->left * D, *r = l + D;
        for (size_t j = 0; j < D; j++)
            acc[k * D + j] = l[j] + r[j];
        if (c->prune && (l[0] == 0.0 || r[0] == 0.0)) {
            nd->feature = -1;
            nd->left = -1;
            nd->threshold = 0.0;
            t->bin[k] = 0;
        }
    }
    for (size_t k = 0; k < t->n_nodes; k++) {
        double *v = t->value + k * D;
        const double cnt = acc[k * D];
        v[0] = cnt;
        for (size_t j = 1; j < D; j++)
            v[j] = cnt > 0.0 ? acc[k * D + j] / cnt : 0.0;
    }
    return TT_OK;
}

/* The tree's weights: the data's, times the multiplicities when drawn with
 * replacement. */
static void tree_weights(const tt_grf_grow_ctx *c, tt_grf_work *wk, const size_t *rows,
                         size_t m, const uint32_t *mult)
{
    for (size_t r = 0; r < m; r++) {
        const size_t i = rows[r];
        wk->tw[i] = (c->wt ? c->wt[i] : 1.0) * (double)mult[i];
    }
}

tt_status tt_grf_grow_tree(const tt_grf_grow_ctx *c, tt_grf_work *wk, const size_t *idx,
                           size_t m_grow, const size_t *fill, size_t m_fill,
                           const uint32_t *mult, tt_rng *rng, tt_tree *t)
{
    memset(t, 0, sizeof *t);
    t->d = c->D;
    wk->wt = c->wt;
    if (mult) {
        tree_weights(c, wk, idx, m_grow, mult);
        tree_weights(c, wk, fill, m_fill, mult);
        wk->wt = wk->tw;
    }
    /* Without honesty the grow rows are the fill rows. */
    const int leaf_known = fill == idx && m_fill == m_grow;
    size_t top = 0;
    if (tt_tree_add(t) < 0 || !push(wk, &top, 0, 0, m_grow, 0))
        return TT_ERR_NOMEM;
    for (size_t j = 0; j < c->p; j++)
        wk->feat[j] = j;
    /* Each feature's grow rows in x order: the global order filtered. */
    for (size_t r = 0; r < m_grow; r++)
        wk->mask[idx[r]] = 1;
    for (size_t j = 0; j < c->p; j++) {
        const tt_grf_entry *o = c->order + j * c->n;
        tt_grf_entry *list = wk->sorted + j * wk->m_cap;
        size_t k = 0;
        for (size_t i = 0; i < c->n; i++) { /* branch-free, as partition(); see work_new */
            list[k] = o[i];
            k += wk->mask[o[i].row];
        }
    }
    for (size_t r = 0; r < m_grow; r++)
        wk->mask[idx[r]] = 0;
    if (c->p == 0) /* no features: one leaf; relabel still needs a row list */
        for (size_t r = 0; r < m_grow; r++)
            wk->sorted[r] = (tt_grf_entry){(uint32_t)idx[r], 0};
    while (top > 0) {
        const size_t *qq = wk->stack + 4 * --top;
        const size_t node = qq[0], start = qq[1], end = qq[2], depth = qq[3];
        best_split bs;
        size_t mid = 0;
        if ((c->max_depth > 0 && depth >= c->max_depth) ||
            !split_node(c, wk, start, end, rng, &bs, &mid)) {
            for (size_t r = start; leaf_known && r < end; r++)
                wk->leaf_of[wk->sorted[r].row] = (uint32_t)node;
            continue;
        }
        int32_t l = tt_tree_add(t), r = tt_tree_add(t);
        if (l < 0 || r < 0)
            return TT_ERR_NOMEM;
        t->node[node] = (tt_tree_node){bs.threshold, (int32_t)bs.feature, l};
        if (!push(wk, &top, (size_t)r, mid, end, depth + 1) ||
            !push(wk, &top, (size_t)l, start, mid, depth + 1))
            return TT_ERR_NOMEM;
    }
    return fill_leaves(c, wk, fill, m_fill, mult, leaf_known, t);
}
