/*
 * tree.c - tree storage, routing and text, and feature binning (see tree.h).
 *
 * Why histograms (for gbm): one pass over a node's rows fills a table per
 * candidate feature and the best threshold is then a scan over <= 256 bins,
 * so a node costs O(rows x features) instead of sorting. Quantile edges come
 * from a strided sample of the rows.
 */
#include "learn/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"

#define SAMPLE_FOR_EDGES 65536

/* The distinct values of s[0..k) into u (sorted, at most limit) and their
 * count, or limit + 1 as soon as there are more. Few-valued columns (one-hot,
 * counts, codes) are most of a typical table: finding their values by
 * insertion into a short sorted list is O(k log limit), where sorting the
 * whole sample was ~10 % of a Hillstrom gbm fit. A many-valued column stops
 * after limit + 1 distinct values. */
/* The first index of a[0..n) (ascending) whose value is >= v; n if none. */
static size_t lower_bound(const double *a, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t few_distinct(const double *s, size_t k, size_t limit, double *u)
{
    size_t nu = 0;
    for (size_t i = 0; i < k; i++) {
        const double v = s[i];
        if (nu > 0 && v == u[nu - 1])
            continue; /* runs of one value: the common case */
        size_t lo = lower_bound(u, nu, v);
        if (lo < nu && u[lo] == v)
            continue;
        if (nu == limit)
            return limit + 1;
        memmove(u + lo + 1, u + lo, (nu - lo) * sizeof *u);
        u[lo] = v;
        nu++;
    }
    return nu;
}

tt_status tt_bins_build(size_t n, size_t p, const double *x, size_t max_bins, tt_bins *out)
{
    memset(out, 0, sizeof *out);
    if (max_bins < 2 || max_bins > TT_TREE_MAX_BINS)
        max_bins = TT_TREE_MAX_BINS;
    out->n = n;
    out->p = p;
    out->code = tt_malloc_array(n, p > 0 ? p : 1);
    out->edge = tt_malloc_array(p > 0 ? p : 1, (TT_TREE_MAX_BINS - 1) * sizeof *out->edge);
    out->n_bins = tt_malloc_array(p > 0 ? p : 1, sizeof *out->n_bins);
    /* Edges come from an evenly strided sample: quantiles of 64k values are
     * as good as of all n, and sorting all of a large n dominates otherwise. */
    size_t stride = n > SAMPLE_FOR_EDGES ? n / SAMPLE_FOR_EDGES : 1;
    size_t m = (n + stride - 1) / stride;
    double *s = tt_malloc_array(m, sizeof *s), u[TT_TREE_MAX_BINS];
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
        size_t uniq = few_distinct(s, k, max_bins, u);
        if (uniq <= max_bins) {
            memcpy(s, u, uniq * sizeof *s);
        } else {
            qsort(s, k, sizeof *s, tt_cmp_double);
            uniq = 0;
            for (size_t i = 0; i < k; i++)
                if (i == 0 || s[i] != s[i - 1])
                    s[uniq++] = s[i];
        }
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
            out->code[i * p + j] = (uint8_t)lower_bound(e, ne, v); /* first edge >= v */
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

size_t tt_tree_leaf_binned(const tt_tree *t, const tt_bins *b, size_t i)
{
    size_t k = 0;
    const uint8_t *code = b->code + i * b->p;
    while (t->node[k].feature >= 0)
        k = (size_t)t->node[k].left + (code[t->node[k].feature] <= t->bin[k] ? 0 : 1);
    return k;
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

tt_status tt_tree_read_count(tt_learn_reader *r, uint64_t *n_nodes)
{
    const char *rest = NULL;
    tt_status st = tt_learn_read_item(r, "tree", &rest);
    if (st == TT_OK)
        st = tt_learn_parse_u64(r, rest, n_nodes);
    if (st == TT_OK && (*n_nodes < 1 || *n_nodes > INT32_MAX))
        st = tt_learn_parse_error(r, "bad node count");
    return st;
}

tt_status tt_tree_load(tt_learn_reader *r, size_t p, size_t d, tt_tree *tr)
{
    uint64_t nn = 0;
    memset(tr, 0, sizeof *tr);
    tr->d = d;
    tt_status st = tt_tree_read_count(r, &nn);
    if (st != TT_OK)
        return st;
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
