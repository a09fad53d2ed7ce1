/*
 * cate_tree.c - the shallow least-squares tree on tau_hat (see cate_tree.h).
 *
 * Each node's rows are a contiguous range of one index array; a split
 * partitions the range stably, so row order, and with it every floating
 * point sum, depends only on the input. The search sorts (value, tau) pairs
 * of the node per feature, which costs O(depth x p x n log n) for the whole
 * tree (about 2.5 s for 300,000 rows x 10 features at depth 3 on one core).
 * Presorting each feature once would save the log factor but hold p x n
 * indices; not worth it at these depths.
 */
#include "insight/cate_tree.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* A split must remove more than this share of the node's sum of squares;
 * below it the "gain" is rounding in the sums, not structure. */
#define MIN_RELATIVE_GAIN 1e-12

void tt_cate_tree_params_default(tt_cate_tree_params *params)
{
    params->max_depth = 2;
    params->min_leaf_share = 0.05;
    params->z = 1.959963984540054;
}

typedef struct pair {
    double v;   /* feature value */
    double t;   /* tau_hat minus the node mean */
    size_t row; /* tie-break, so qsort's order is fully determined */
} pair;

static int cmp_pair(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

typedef struct builder {
    size_t n, p;
    const double *x, *tau, *gamma;
    size_t min_leaf;
    int max_depth;
    double z;
    size_t *idx; /* n: node rows, contiguous per node */
    size_t *tmp; /* n: scratch for partitioning */
    pair *pairs; /* n: scratch for sorting */
    tt_cate_tree *out;
} builder;

static void node_stats(const builder *b, tt_cate_node *nd, size_t start, size_t count)
{
    const size_t *rows = b->idx + start;
    double s = 0.0;
    for (size_t k = 0; k < count; k++)
        s += b->tau[rows[k]];
    nd->n = count;
    nd->tau_mean = s / (double)count;
    nd->gamma_mean = nd->gamma_sd = nd->gamma_lo = nd->gamma_hi = NAN;
    if (!b->gamma)
        return;
    s = 0.0;
    for (size_t k = 0; k < count; k++)
        s += b->gamma[rows[k]];
    const double mean = s / (double)count;
    nd->gamma_mean = mean;
    if (count < 2)
        return;
    double ss = 0.0; /* second pass: no cancellation against a large mean */
    for (size_t k = 0; k < count; k++) {
        const double d = b->gamma[rows[k]] - mean;
        ss += d * d;
    }
    nd->gamma_sd = sqrt(ss / (double)(count - 1));
    const double half = b->z * nd->gamma_sd / sqrt((double)count);
    nd->gamma_lo = mean - half;
    nd->gamma_hi = mean + half;
}

/* Best split of rows idx[start .. start+count): feature and threshold, or
 * feature -1 when none removes enough of the node's sum of squares. */
static void best_split(const builder *b, size_t start, size_t count, double mean, int *feature,
                       double *threshold)
{
    const size_t *rows = b->idx + start;
    *feature = -1;
    double sse = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < count; k++) {
        const double t = b->tau[rows[k]];
        sse += (t - mean) * (t - mean);
        lo = fmin(lo, t);
        hi = fmax(hi, t);
    }
    if (lo == hi)
        return;
    double best = MIN_RELATIVE_GAIN * sse;
    for (size_t j = 0; j < b->p; j++) {
        const double *xj = b->x + j * b->n;
        pair *pr = b->pairs;
        double tot = 0.0;
        for (size_t k = 0; k < count; k++) {
            pr[k].v = xj[rows[k]];
            pr[k].t = b->tau[rows[k]] - mean;
            pr[k].row = rows[k];
            tot += pr[k].t;
        }
        qsort(pr, count, sizeof *pr, cmp_pair);
        /* Gain of a split = SSE(node) - SSE(left) - SSE(right)
         *                 = sl^2/nl + sr^2/nr - tot^2/n  on centred values. */
        const double base = tot * tot / (double)count;
        double sl = 0.0;
        for (size_t k = 0; k + 1 < count; k++) {
            sl += pr[k].t;
            const size_t nl = k + 1, nr = count - nl;
            if (nr < b->min_leaf)
                break;
            if (nl < b->min_leaf || pr[k].v == pr[k + 1].v)
                continue;
            const double sr = tot - sl;
            const double gain = sl * sl / (double)nl + sr * sr / (double)nr - base;
            if (gain > best) {
                best = gain;
                *feature = (int)j;
                *threshold = pr[k].v;
            }
        }
    }
}

static int grow(builder *b, size_t start, size_t count, int depth, int parent)
{
    tt_cate_tree *t = b->out;
    const int id = (int)t->n_nodes++;
    tt_cate_node *nd = &t->nodes[id];
    nd->feature = -1;
    nd->threshold = NAN;
    nd->left = nd->right = -1;
    nd->parent = parent;
    nd->depth = depth;
    nd->leaf = -1;
    node_stats(b, nd, start, count);

    int feature = -1;
    double thr = 0.0;
    if (depth < b->max_depth && count >= 2 * b->min_leaf)
        best_split(b, start, count, nd->tau_mean, &feature, &thr);
    if (feature < 0) {
        nd->leaf = (int)t->n_leaves;
        t->leaf_node[t->n_leaves++] = id;
        return id;
    }

    /* Stable partition: left rows keep their order, then right rows. */
    size_t *rows = b->idx + start;
    const double *xj = b->x + (size_t)feature * b->n;
    size_t nl = 0, nr = 0;
    for (size_t k = 0; k < count; k++) {
        if (xj[rows[k]] <= thr)
            rows[nl++] = rows[k];
        else
            b->tmp[nr++] = rows[k];
    }
    memcpy(rows + nl, b->tmp, nr * sizeof *rows);

    nd->feature = feature;
    nd->threshold = thr;
    const int l = grow(b, start, nl, depth + 1, id);
    const int r = grow(b, start + nl, nr, depth + 1, id);
    nd->left = l;
    nd->right = r;
    return id;
}

tt_status tt_cate_tree_fit(size_t n, size_t p, const double *x, const double *tau_hat,
                           const double *gamma, const tt_cate_tree_params *params,
                           tt_cate_tree *out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: out is NULL");
    memset(out, 0, sizeof *out);
    tt_cate_tree_params def;
    tt_cate_tree_params_default(&def);
    const tt_cate_tree_params *pr = params ? params : &def;
    if (!tau_hat || (p > 0 && !x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: tau_hat (and x when p > 0) "
                                                    "are required");
    if (pr->max_depth < 0 || pr->max_depth > TT_CATE_TREE_MAX_DEPTH)
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: max_depth %d is outside 0..%d",
                       pr->max_depth, TT_CATE_TREE_MAX_DEPTH);
    if (!(pr->min_leaf_share > 0.0 && pr->min_leaf_share <= 0.5))
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "cate tree: min_leaf_share %g is outside (0, 0.5]", pr->min_leaf_share);
    if (!(pr->z > 0.0 && isfinite(pr->z)))
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: z %g must be finite and > 0",
                       pr->z);
    if (n == 0)
        return tt_errf(err, errlen, TT_ERR_DATA, "cate tree: no rows");
    if ((size_t)INT32_MAX < p)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "cate tree: %zu features", p);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(tau_hat[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "cate tree: tau_hat at row %zu is %g", i,
                           tau_hat[i]);
        if (gamma && !isfinite(gamma[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "cate tree: gamma at row %zu is %g", i,
                           gamma[i]);
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "cate tree: x at row %zu, column %zu is %g", i, j, x[j * n + i]);

    builder b = {.n = n, .p = p, .x = x, .tau = tau_hat, .gamma = gamma,
                 .max_depth = pr->max_depth, .z = pr->z, .out = out};
    /* ceil without floating surprises at exact products (0.05 * 200 = 10) */
    double ml = ceil(pr->min_leaf_share * (double)n - 1e-9);
    b.min_leaf = ml < 1.0 ? 1 : (size_t)ml;
    b.idx = tt_malloc_array(n, sizeof *b.idx);
    b.tmp = tt_malloc_array(n, sizeof *b.tmp);
    b.pairs = tt_malloc_array(n, sizeof *b.pairs);
    if (!b.idx || !b.tmp || !b.pairs) {
        free(b.idx);
        free(b.tmp);
        free(b.pairs);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "cate tree: no memory for %zu rows", n);
    }
    for (size_t i = 0; i < n; i++)
        b.idx[i] = i;
    out->p = p;
    out->min_leaf = b.min_leaf;
    out->z = pr->z;
    grow(&b, 0, n, 0, -1);
    free(b.idx);
    free(b.tmp);
    free(b.pairs);
    return TT_OK;
}

tt_status tt_cate_tree_assign(const tt_cate_tree *tree, size_t n, size_t p, const double *x,
                              size_t *leaf, char *err, size_t errlen)
{
    if (!tree || !leaf || (n > 0 && p > 0 && !x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: NULL argument");
    if (p != tree->p)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "cate tree: x has %zu columns; the tree was fitted on %zu", p, tree->p);
    if (tree->n_nodes == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "cate tree: the tree is empty (not fitted)");
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (tree->nodes[k].feature >= 0) {
            const tt_cate_node *nd = &tree->nodes[k];
            const double v = x[(size_t)nd->feature * n + i];
            if (!isfinite(v))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "cate tree: x at row %zu, column %d is %g", i, nd->feature, v);
            k = v <= nd->threshold ? nd->left : nd->right;
        }
        leaf[i] = (size_t)tree->nodes[k].leaf;
    }
    return TT_OK;
}

/* ---- text ---------------------------------------------------------------- */

/* Fewest significant digits that read back as v; integers from 1,000 on with
 * thousands separators. */
static void fmt_value(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) >= 1000.0 && fabs(v) < 1e15) {
        char digits[32];
        snprintf(digits, sizeof digits, "%.0f", fabs(v));
        const size_t nd = strlen(digits);
        char tmp[48];
        size_t o = 0;
        if (v < 0)
            tmp[o++] = '-';
        for (size_t k = 0; k < nd; k++) {
            if (k > 0 && (nd - k) % 3 == 0)
                tmp[o++] = ',';
            tmp[o++] = digits[k];
        }
        tmp[o] = '\0';
        snprintf(buf, len, "%s", tmp);
        return;
    }
    /* Four significant digits at most: a description for people (the
     * tree routes rows by the exact threshold). */
    for (int prec = 1; prec <= 4; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, len, "%.4g", v);
}

typedef struct bound {
    size_t feature;
    int has_lo, has_hi;
    double lo, hi; /* lo < x <= hi */
} bound;

/* Appends like snprintf into buf at *pos, tracking the full length even when
 * the buffer is too short. */
static void put(char *buf, size_t buflen, size_t *pos, const char *s)
{
    const size_t l = strlen(s);
    if (*pos < buflen) {
        const size_t room = buflen - *pos - 1;
        const size_t c = l < room ? l : room;
        memcpy(buf + *pos, s, c);
        buf[*pos + c] = '\0';
    }
    *pos += l;
}

size_t tt_cate_tree_describe_leaf(const tt_cate_tree *tree, size_t leaf,
                                  const char *const *names, char *buf, size_t buflen)
{
    size_t pos = 0;
    if (buflen > 0)
        buf[0] = '\0';
    if (!tree || leaf >= tree->n_leaves)
        return 0;
    /* Path from the root: at most max depth steps. */
    int path[TT_CATE_TREE_MAX_DEPTH + 1];
    int depth = 0;
    for (int k = tree->leaf_node[leaf]; tree->nodes[k].parent >= 0; k = tree->nodes[k].parent)
        path[depth++] = k;
    if (depth == 0) {
        put(buf, buflen, &pos, "all rows");
        return pos;
    }
    bound bd[TT_CATE_TREE_MAX_DEPTH];
    int nb = 0;
    for (int s = depth - 1; s >= 0; s--) { /* root first */
        const int child = path[s];
        const tt_cate_node *par = &tree->nodes[tree->nodes[child].parent];
        const size_t f = (size_t)par->feature;
        int k = 0;
        while (k < nb && bd[k].feature != f)
            k++;
        if (k == nb)
            bd[nb++] = (bound){.feature = f};
        if (par->left == child) { /* x <= thr */
            if (!bd[k].has_hi || par->threshold < bd[k].hi)
                bd[k].hi = par->threshold;
            bd[k].has_hi = 1;
        } else {
            if (!bd[k].has_lo || par->threshold > bd[k].lo)
                bd[k].lo = par->threshold;
            bd[k].has_lo = 1;
        }
    }
    for (int k = 0; k < nb; k++) {
        char name[64], lo[48], hi[48], part[256];
        const char *nm = names && names[bd[k].feature] ? names[bd[k].feature] : NULL;
        if (!nm) {
            snprintf(name, sizeof name, "x%zu", bd[k].feature + 1);
            nm = name;
        }
        fmt_value(bd[k].lo, lo, sizeof lo);
        fmt_value(bd[k].hi, hi, sizeof hi);
        if (k > 0)
            put(buf, buflen, &pos, " and ");
        if (bd[k].has_lo && bd[k].has_hi) {
            snprintf(part, sizeof part, "%s < ", lo);
            put(buf, buflen, &pos, part);
            put(buf, buflen, &pos, nm);
            snprintf(part, sizeof part, " <= %s", hi);
        } else {
            put(buf, buflen, &pos, nm);
            snprintf(part, sizeof part, bd[k].has_lo ? " > %s" : " <= %s",
                     bd[k].has_lo ? lo : hi);
        }
        put(buf, buflen, &pos, part);
    }
    return pos;
}
