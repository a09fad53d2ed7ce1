/*
 * tree.c - histogram-binned CART growth on pseudo-outcomes (see tree.h).
 *
 * Why histograms: one pass over a node's rows fills a (bins x d) table per
 * candidate feature and the best threshold is then a scan over <= 256 bins,
 * so a node costs O(rows x mtry) instead of the O(rows log rows x mtry) of
 * sorting (scikit-learn's exact splitter). Small nodes, where clearing and
 * scanning 256 bins would dominate, are split exactly by sorting their few
 * codes instead; both paths choose among the same bin boundaries.
 */
#include "learn/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "util/err.h"
#include "util/mem.h"

#define SMALL_NODE 48
#define SAMPLE_FOR_EDGES 65536

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

tt_status tt_bins_build(size_t n, size_t p, const double *x, size_t max_bins, tt_bins *out)
{
    memset(out, 0, sizeof *out);
    if (max_bins < 2 || max_bins > TT_TREE_MAX_BINS)
        max_bins = TT_TREE_MAX_BINS;
    out->n = n;
    out->p = p;
    out->x = x;
    out->code = tt_malloc_array(n, p > 0 ? p : 1);
    out->edge = tt_malloc_array(p > 0 ? p : 1, (TT_TREE_MAX_BINS - 1) * sizeof *out->edge);
    out->n_bins = tt_malloc_array(p > 0 ? p : 1, sizeof *out->n_bins);
    /* Edges come from an evenly strided sample: quantiles of 64k values are
     * as good as of all n, and sorting all of a large n dominates otherwise. */
    size_t stride = n > SAMPLE_FOR_EDGES ? n / SAMPLE_FOR_EDGES : 1;
    size_t m = (n + stride - 1) / stride;
    double *s = tt_malloc_array(m, sizeof *s);
    if (!out->code || !out->edge || !out->n_bins || !s) {
        free(s);
        tt_bins_free(out);
        return TT_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) {
        const double *col = x + j * n;
        double *e = out->edge + j * (TT_TREE_MAX_BINS - 1);
        size_t k = 0;
        for (size_t i = 0; i < n && k < m; i += stride)
            s[k++] = col[i];
        qsort(s, k, sizeof *s, cmp_double);
        size_t uniq = 0;
        for (size_t i = 0; i < k; i++)
            if (i == 0 || s[i] != s[i - 1])
                s[uniq++] = s[i];
        size_t ne = 0;
        if (uniq <= max_bins) {
            /* Few distinct values: one bin each, boundaries halfway. */
            for (size_t i = 0; i + 1 < uniq; i++)
                e[ne++] = s[i] + (s[i + 1] - s[i]) * 0.5;
        } else {
            for (size_t b = 1; b < max_bins; b++) {
                double v = s[b * uniq / max_bins];
                if (ne == 0 || v > e[ne - 1])
                    e[ne++] = v;
            }
        }
        out->n_bins[j] = (uint16_t)(ne + 1);
        for (size_t i = 0; i < n; i++) {
            double v = col[i];
            size_t lo = 0, hi = ne; /* first edge >= v */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (e[mid] < v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            out->code[i * p + j] = (uint8_t)lo;
        }
    }
    free(s);
    return TT_OK;
}

void tt_bins_free(tt_bins *b)
{
    free(b->code);
    free(b->edge);
    free(b->n_bins);
    memset(b, 0, sizeof *b);
}

typedef struct keyed {
    double v;
    size_t row;
} keyed;

struct tt_tree_work {
    size_t p, d, stride;
    double *hist;   /* p x 256 x (2 + d): count, weight, sums */
    size_t *feat;   /* feature permutation for mtry */
    double *sum;    /* d: node sums, then left sums */
    double *tmp;    /* d */
    size_t *stack;  /* node, start, end, depth quadruples */
    size_t stack_cap;
    uint32_t *pair; /* small nodes: (code << 24 | position) keys */
    keyed *keyed; /* exact splits: (value, row) */
};

tt_tree_work *tt_tree_work_new(size_t p, size_t d, size_t max_bins)
{
    (void)max_bins;
    tt_tree_work *wk = calloc(1, sizeof *wk);
    if (!wk)
        return NULL;
    wk->p = p;
    wk->d = d;
    wk->stride = 2 + d;
    wk->hist = calloc((p > 0 ? p : 1) * TT_TREE_MAX_BINS * wk->stride, sizeof *wk->hist);
    wk->feat = tt_malloc_array(p > 0 ? p : 1, sizeof *wk->feat);
    wk->sum = tt_malloc_array(2 * d, sizeof *wk->sum);
    wk->tmp = wk->sum + d;
    wk->stack_cap = 256;
    wk->stack = tt_malloc_array(wk->stack_cap * 4, sizeof *wk->stack);
    wk->pair = tt_malloc_array(SMALL_NODE, sizeof *wk->pair);
    wk->keyed = tt_malloc_array(TT_TREE_EXACT_MAX, sizeof *wk->keyed);
    if (!wk->hist || !wk->feat || !wk->sum || !wk->stack || !wk->pair || !wk->keyed) {
        tt_tree_work_free(wk);
        return NULL;
    }
    return wk;
}

void tt_tree_work_free(tt_tree_work *wk)
{
    if (!wk)
        return;
    free(wk->hist);
    free(wk->feat);
    free(wk->sum);
    free(wk->stack);
    free(wk->pair);
    free(wk->keyed);
    free(wk);
}

int32_t tt_tree_add(tt_tree *t)
{
    if (t->n_nodes == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        tt_tree_node *nd = realloc(t->node, cap * sizeof *nd);
        if (nd)
            t->node = nd;
        uint8_t *bn = realloc(t->bin, cap * sizeof *bn);
        if (bn)
            t->bin = bn;
        double *v = realloc(t->value, cap * (t->d ? t->d : 1) * sizeof *v);
        if (v)
            t->value = v;
        if (!nd || !bn || !v || cap > INT32_MAX)
            return -1;
        t->cap = cap;
    }
    size_t k = t->n_nodes++;
    t->node[k] = (tt_tree_node){0.0, -1, -1};
    t->bin[k] = 0;
    return (int32_t)k;
}

size_t tt_tree_leaf_row(const tt_tree *t, const double *row)
{
    size_t k = 0;
    while (t->node[k].feature >= 0) {
        const tt_tree_node *nd = &t->node[k];
        k = (size_t)nd->left + (row[nd->feature] <= nd->threshold ? 0 : 1);
    }
    return k;
}

void tt_tree_free(tt_tree *t)
{
    free(t->node);
    free(t->bin);
    free(t->value);
    memset(t, 0, sizeof *t);
}

typedef struct best_split {
    double score;
    size_t feature, bin;
    int exact;        /* threshold on raw x (exact split) rather than a bin */
    double threshold; /* exact splits only */
} best_split;

/* Candidate after bin b with left totals (cl, wl, sl[d]); keeps the best. */
static void consider(best_split *bs, size_t f, size_t b, double cl, double wl, const double *sl,
                     double cn, double wn, const double *sn, size_t d, double min_rows)
{
    double cr = cn - cl, wr = wn - wl;
    if (cl < min_rows || cr < min_rows || !(wl > 0.0) || !(wr > 0.0))
        return;
    double score = 0.0;
    for (size_t k = 0; k < d; k++) {
        double sr = sn[k] - sl[k];
        score += sl[k] * sl[k] / wl + sr * sr / wr;
    }
    if (score > bs->score) {
        bs->score = score;
        bs->feature = f;
        bs->bin = b;
        bs->exact = 0;
    }
}

static int keyed_less(const keyed *x, const keyed *y)
{
    return x->v < y->v || (x->v == y->v && x->row < y->row); /* total order */
}

/* Quicksort with an inline comparison (qsort's callback made exact splits
 * three times slower), insertion sort below 16 elements. */
static void sort_keyed(keyed *k, size_t m)
{
    while (m > 16) {
        keyed *a = &k[0], *b = &k[m / 2], *c = &k[m - 1], pivot;
        if (keyed_less(b, a)) { keyed t = *a; *a = *b; *b = t; }
        if (keyed_less(c, b)) { keyed t = *b; *b = *c; *c = t; }
        if (keyed_less(b, a)) { keyed t = *a; *a = *b; *b = t; }
        pivot = *b;
        size_t i = 0, j = m - 1;
        for (;;) {
            while (keyed_less(&k[i], &pivot))
                i++;
            while (keyed_less(&pivot, &k[j]))
                j--;
            if (i >= j)
                break;
            keyed t = k[i];
            k[i] = k[j];
            k[j] = t;
            i++;
            j--;
        }
        /* Recurse into the smaller side, loop on the larger: O(log m) depth. */
        size_t left = j + 1;
        if (left < m - left) {
            sort_keyed(k, left);
            k += left;
            m -= left;
        } else {
            sort_keyed(k + left, m - left);
            m = left;
        }
    }
    for (size_t r = 1; r < m; r++) {
        keyed v = k[r];
        size_t s = r;
        for (; s > 0 && keyed_less(&v, &k[s - 1]); s--)
            k[s] = k[s - 1];
        k[s] = v;
    }
}

/* Exact split of a small node on raw values (scikit-learn's splitter): deep
 * nodes hold few rows in a narrow range that 256 global bins cannot divide,
 * which costs accuracy on large data; sorting a few rows is cheap. */
static void search_exact(const tt_bins *b, const double *g, size_t d, const double *w,
                         const size_t *idx, size_t start, size_t end, size_t mtry,
                         tt_tree_work *wk, double cn, double wn, const double *sn,
                         double min_rows, best_split *bs)
{
    const size_t n = b->n, m = end - start;
    keyed *k = wk->keyed;
    double *sl = wk->tmp;
    for (size_t c = 0; c < mtry; c++) {
        const size_t f = wk->feat[c];
        const double *col = b->x + f * n;
        for (size_t r = 0; r < m; r++)
            k[r] = (keyed){col[idx[start + r]], idx[start + r]};
        sort_keyed(k, m);
        if (k[0].v == k[m - 1].v)
            continue;
        double cl = 0.0, wl = 0.0;
        memset(sl, 0, d * sizeof *sl);
        for (size_t r = 0; r + 1 < m; r++) {
            const size_t i = k[r].row;
            const double wi = w ? w[i] : 1.0;
            cl += 1.0;
            wl += wi;
            for (size_t q = 0; q < d; q++)
                sl[q] += wi * g[i * d + q];
            if (k[r].v == k[r + 1].v)
                continue;
            const double before = bs->score;
            consider(bs, f, 0, cl, wl, sl, cn, wn, sn, d, min_rows);
            if (bs->score > before) {
                double mid = k[r].v + (k[r + 1].v - k[r].v) * 0.5;
                bs->exact = 1;
                bs->threshold = mid < k[r + 1].v ? mid : k[r].v;
            }
        }
    }
}

static void search_hist(const tt_bins *b, const double *g, size_t d, const double *w,
                        const size_t *idx, size_t start, size_t end, size_t mtry,
                        tt_tree_work *wk, double cn, double wn, const double *sn,
                        double min_rows, best_split *bs)
{
    const size_t p = b->p, st = wk->stride;
    for (size_t c = 0; c < mtry; c++) {
        size_t f = wk->feat[c];
        memset(wk->hist + f * TT_TREE_MAX_BINS * st, 0, b->n_bins[f] * st * sizeof(double));
    }
    for (size_t r = start; r < end; r++) {
        const size_t i = idx[r];
        const uint8_t *code = b->code + i * p;
        const double wi = w ? w[i] : 1.0;
        const double *gi = g + i * d;
        for (size_t c = 0; c < mtry; c++) {
            size_t f = wk->feat[c];
            double *h = wk->hist + (f * TT_TREE_MAX_BINS + code[f]) * st;
            h[0] += 1.0;
            h[1] += wi;
            for (size_t k = 0; k < d; k++)
                h[2 + k] += wi * gi[k];
        }
    }
    double *sl = wk->tmp;
    for (size_t c = 0; c < mtry; c++) {
        size_t f = wk->feat[c];
        const double *h = wk->hist + f * TT_TREE_MAX_BINS * st;
        double cl = 0.0, wl = 0.0;
        memset(sl, 0, d * sizeof *sl);
        for (size_t bin = 0; bin + 1 < b->n_bins[f]; bin++) {
            const double *hb = h + bin * st;
            if (hb[0] == 0.0)
                continue;
            cl += hb[0];
            wl += hb[1];
            for (size_t k = 0; k < d; k++)
                sl[k] += hb[2 + k];
            consider(bs, f, bin, cl, wl, sl, cn, wn, sn, d, min_rows);
        }
    }
}

static void search_small(const tt_bins *b, const double *g, size_t d, const double *w,
                         const size_t *idx, size_t start, size_t end, size_t mtry,
                         tt_tree_work *wk, double cn, double wn, const double *sn,
                         double min_rows, best_split *bs)
{
    const size_t p = b->p, m = end - start;
    uint32_t *key = wk->pair;
    double *sl = wk->tmp;
    for (size_t c = 0; c < mtry; c++) {
        size_t f = wk->feat[c];
        for (size_t r = 0; r < m; r++)
            key[r] = (uint32_t)b->code[idx[start + r] * p + f] << 24 | (uint32_t)r;
        for (size_t r = 1; r < m; r++) { /* insertion sort: m <= SMALL_NODE */
            uint32_t v = key[r];
            size_t s = r;
            for (; s > 0 && key[s - 1] > v; s--)
                key[s] = key[s - 1];
            key[s] = v;
        }
        double cl = 0.0, wl = 0.0;
        memset(sl, 0, d * sizeof *sl);
        for (size_t r = 0; r + 1 < m; r++) {
            size_t i = idx[start + (key[r] & 0xFFFFFFu)];
            double wi = w ? w[i] : 1.0;
            cl += 1.0;
            wl += wi;
            for (size_t k = 0; k < d; k++)
                sl[k] += wi * g[i * d + k];
            if ((key[r] >> 24) != (key[r + 1] >> 24))
                consider(bs, f, key[r] >> 24, cl, wl, sl, cn, wn, sn, d, min_rows);
        }
    }
}

static int push(tt_tree_work *wk, size_t *top, size_t node, size_t s, size_t e, size_t depth)
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

tt_status tt_tree_grow(const tt_bins *b, const double *g, size_t d, const double *w,
                       size_t *idx, size_t m, const tt_tree_params *prm, tt_rng *rng,
                       tt_tree_work *wk, tt_tree *t)
{
    const size_t p = b->p;
    size_t mtry = prm->mtry < 1 ? 1 : (prm->mtry > p ? p : prm->mtry);
    const double min_leaf = (double)(prm->min_leaf < 1 ? 1 : prm->min_leaf);
    const size_t exact_below = prm->exact_below > TT_TREE_EXACT_MAX ? TT_TREE_EXACT_MAX
                                                                    : prm->exact_below;
    memset(t, 0, sizeof *t);
    t->d = d;
    size_t top = 0;
    if (tt_tree_add(t) < 0 || !push(wk, &top, 0, 0, m, 0))
        return TT_ERR_NOMEM;
    for (size_t j = 0; j < p; j++)
        wk->feat[j] = j;
    while (top > 0) {
        size_t *q = wk->stack + 4 * --top;
        const size_t node = q[0], start = q[1], end = q[2], depth = q[3];
        double cn = (double)(end - start), wn = 0.0;
        double *sn = wk->sum;
        memset(sn, 0, d * sizeof *sn);
        for (size_t r = start; r < end; r++) {
            size_t i = idx[r];
            double wi = w ? w[i] : 1.0;
            wn += wi;
            for (size_t k = 0; k < d; k++)
                sn[k] += wi * g[i * d + k];
        }
        double parent = 0.0;
        for (size_t k = 0; k < d; k++) {
            t->value[node * d + k] = wn > 0.0 ? sn[k] / wn : 0.0;
            parent += wn > 0.0 ? sn[k] * sn[k] / wn : 0.0;
        }
        double min_rows = min_leaf;
        if (prm->min_share > 0.0 && prm->min_share * cn > min_rows)
            min_rows = prm->min_share * cn;
        if (cn < 2.0 * min_rows || (prm->max_depth > 0 && depth >= prm->max_depth) ||
            !(wn > 0.0) || p == 0)
            continue;
        /* mtry distinct features: a partial Fisher-Yates shuffle. */
        for (size_t c = 0; c < mtry; c++) {
            size_t r = c + (size_t)tt_rng_below(rng, p - c);
            size_t tmp = wk->feat[c];
            wk->feat[c] = wk->feat[r];
            wk->feat[r] = tmp;
        }
        /* A split must beat the parent by more than rounding. */
        best_split bs = {parent + 1e-12 * (parent > 0.0 ? parent : 1.0), 0, 0, 0, 0.0};
        if (b->x && end - start <= exact_below)
            search_exact(b, g, d, w, idx, start, end, mtry, wk, cn, wn, sn, min_rows, &bs);
        else if (end - start <= SMALL_NODE)
            search_small(b, g, d, w, idx, start, end, mtry, wk, cn, wn, sn, min_rows, &bs);
        else
            search_hist(b, g, d, w, idx, start, end, mtry, wk, cn, wn, sn, min_rows, &bs);
        if (bs.score <= parent + 1e-12 * (parent > 0.0 ? parent : 1.0))
            continue;
        /* Partition rows: code <= bin to the front. */
        size_t lo = start, hi = end;
        while (lo < hi) {
            const size_t i = idx[lo];
            if (bs.exact ? b->x[bs.feature * b->n + i] <= bs.threshold
                         : b->code[i * p + bs.feature] <= bs.bin) {
                lo++;
            } else {
                size_t tmp = idx[lo];
                idx[lo] = idx[--hi];
                idx[hi] = tmp;
            }
        }
        int32_t l = tt_tree_add(t), r = tt_tree_add(t);
        if (l < 0 || r < 0)
            return TT_ERR_NOMEM;
        double thr = bs.exact ? bs.threshold
                              : b->edge[bs.feature * (TT_TREE_MAX_BINS - 1) + bs.bin];
        t->node[node] = (tt_tree_node){thr, (int32_t)bs.feature, l};
        t->bin[node] = (uint8_t)bs.bin;
        t->exact |= bs.exact;
        if (!push(wk, &top, (size_t)r, lo, end, depth + 1) ||
            !push(wk, &top, (size_t)l, start, lo, depth + 1))
            return TT_ERR_NOMEM;
    }
    return TT_OK;
}

size_t tt_tree_leaf_binned(const tt_tree *t, const tt_bins *b, size_t i)
{
    size_t k = 0;
    const uint8_t *code = b->code + i * b->p;
    while (t->node[k].feature >= 0)
        k = (size_t)t->node[k].left + (code[t->node[k].feature] <= t->bin[k] ? 0 : 1);
    return k;
}

size_t tt_tree_leaf_train(const tt_tree *t, const tt_bins *b, size_t i)
{
    return t->exact ? tt_tree_leaf(t, b->x, b->n, i) : tt_tree_leaf_binned(t, b, i);
}

size_t tt_tree_leaf(const tt_tree *t, const double *x, size_t n, size_t i)
{
    size_t k = 0;
    while (t->node[k].feature >= 0) {
        const tt_tree_node *nd = &t->node[k];
        k = (size_t)nd->left + (x[(size_t)nd->feature * n + i] <= nd->threshold ? 0 : 1);
    }
    return k;
}

tt_status tt_tree_refill(tt_tree *t, const tt_bins *b, const double *g, const double *w,
                    const size_t *idx, size_t m)
{
    const size_t d = t->d;
    double *acc = calloc(t->n_nodes * (d + 1), sizeof *acc);
    if (!acc)
        return TT_ERR_NOMEM;
    for (size_t r = 0; r < m; r++) {
        size_t i = idx[r], leaf = tt_tree_leaf_train(t, b, i);
        double wi = w ? w[i] : 1.0;
        acc[leaf * (d + 1)] += wi;
        for (size_t k = 0; k < d; k++)
            acc[leaf * (d + 1) + 1 + k] += wi * g[i * d + k];
    }
    for (size_t node = 0; node < t->n_nodes; node++) {
        double wl = acc[node * (d + 1)];
        if (t->node[node].feature < 0 && wl > 0.0)
            for (size_t k = 0; k < d; k++)
                t->value[node * d + k] = acc[node * (d + 1) + 1 + k] / wl;
    }
    free(acc);
    return TT_OK;
}

/* ---- save / load ------------------------------------------------------------
 * "tree <n_nodes>", then one line per node
 * "<feature> <bin> <threshold> <left> <right> <value_0..d-1>" (feature -1 =
 * leaf). Children always come after their parent and right = left + 1, which
 * load checks, so a loaded tree cannot loop. */

tt_status tt_tree_save(const tt_tree *tr, tt_learn_writer *w)
{
    tt_status st = tt_learn_emit(w, "tree %zu\n", tr->n_nodes);
    for (size_t k = 0; k < tr->n_nodes && st == TT_OK; k++) {
        char vals[TT_LEARN_LINE_MAX / 2];
        size_t used = 0;
        for (size_t c = 0; c < tr->d && used < sizeof vals; c++)
            used += (size_t)snprintf(vals + used, sizeof vals - used, " %.17g",
                                     tr->value[k * tr->d + c]);
        const tt_tree_node *nd = &tr->node[k];
        st = tt_learn_emit(w, "%d %u %.17g %d %d%s\n", (int)nd->feature, (unsigned)tr->bin[k],
                           nd->threshold, (int)nd->left, nd->left < 0 ? -1 : (int)nd->left + 1,
                           vals);
    }
    return st;
}

tt_status tt_tree_load(tt_learn_reader *r, size_t p, size_t d, tt_tree *tr)
{
    const char *rest = NULL;
    uint64_t nn = 0;
    memset(tr, 0, sizeof *tr);
    tr->d = d;
    tt_status st = tt_learn_read_item(r, "tree", &rest);
    if (st == TT_OK)
        st = tt_learn_parse_u64(r, rest, &nn);
    if (st != TT_OK)
        return st;
    if (nn < 1 || nn > INT32_MAX)
        return tt_learn_parse_error(r, "bad node count");
    for (size_t k = 0; k < nn; k++) {
        if (tt_tree_add(tr) < 0)
            return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
        if ((st = tt_learn_read_line(r)) != TT_OK)
            return st;
        const char *s = r->line;
        long feat = 0, bin = 0, left = 0, right = 0;
        double thr = 0.0;
        if ((st = tt_learn_next_long(r, &s, &feat)) != TT_OK ||
            (st = tt_learn_next_long(r, &s, &bin)) != TT_OK ||
            (st = tt_learn_next_double(r, &s, &thr)) != TT_OK ||
            (st = tt_learn_next_long(r, &s, &left)) != TT_OK ||
            (st = tt_learn_next_long(r, &s, &right)) != TT_OK)
            return st;
        for (size_t c = 0; c < d; c++)
            if ((st = tt_learn_next_double(r, &s, &tr->value[k * d + c])) != TT_OK)
                return st;
        if (*s != '\0')
            return tt_learn_parse_error(r, "trailing text on a node line");
        int leaf = feat == -1 && left == -1 && right == -1;
        int split = feat >= 0 && (size_t)feat < p && bin >= 0 && bin < TT_TREE_MAX_BINS &&
                    left > (long)k && right == left + 1 && (uint64_t)right < nn;
        if (!leaf && !split)
            return tt_learn_parse_error(r, "bad node");
        tr->node[k] = (tt_tree_node){thr, (int32_t)feat, (int32_t)left};
        tr->bin[k] = (uint8_t)bin;
    }
    return TT_OK;
}
