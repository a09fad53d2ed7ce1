/*
 * gbm.c - histogram gradient boosting ("gbm"): squared error, binary
 * log-loss and multiclass softmax, second-order (Newton) leaf values.
 *
 * Each round fits one tree per output to the gradients g and hessians h of
 * the loss at the current scores: leaf value -G / (H + lambda), split gain
 * G_L^2/(H_L + l) + G_R^2/(H_R + l) - G^2/(H + l) (XGBoost's formulation),
 * children need hessian >= min_child_weight. Trees grow level by level; at
 * each level one parallel pass builds the histograms of the smaller child of
 * every split node (the larger is parent minus smaller). Work is split by
 * feature, and every feature's histogram is accumulated in row order by one
 * thread, so the model is bit-identical for any thread count.
 * The learning rate is folded into the stored leaf values.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/gbm_impl.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

typedef struct level_node {
    size_t start, end;  /* rows in the index array */
    double G, H;
    int32_t tree_node;
    int build;          /* histogram computed directly (else by subtraction) */
    int64_t parent_hist, sibling; /* slots in the previous / this level, -1 = none */
    /* best split */
    double gain;
    size_t feature, bin;
} level_node;

typedef struct grow_ctx {
    const tt_bins *bins;
    const uint8_t *colcode; /* p x n column-major codes */
    const double *gh;       /* (g, h) pairs in idx order */
    const size_t *idx;
    const uint8_t *use_feat;
    level_node *nodes;
    size_t n_nodes;
    double *hist, *prev_hist; /* slot x p x 256 x 2 */
    double lambda, min_child, min_gain;
    /* per-(node, feature) best split, reduced in feature order afterwards */
    double *fbest_gain, *fbest_gl, *fbest_hl;
    size_t *fbest_bin;
    /* gradient gather: row chunks of the nodes whose histograms are built */
    const double *g, *h;
    double *gh_out;
    const size_t *chunk_lo, *chunk_hi;
} grow_ctx;

#define GATHER_CHUNK 8192

#define HSTRIDE (TT_TREE_MAX_BINS * 2)

static double leaf_score(double G, double H, double lambda)
{
    return G * G / (H + lambda);
}

static void feature_task(void *ctx, size_t f, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    const size_t p = c->bins->p, nb = c->bins->n_bins[f];
    if (!c->use_feat[f])
        return;
    for (size_t k = 0; k < c->n_nodes; k++) {
        level_node *nd = &c->nodes[k];
        double *hist = c->hist + (k * p + f) * HSTRIDE;
        if (nd->build) {
            /* Column codes and gradients gathered in row order keep this
             * loop on two sequential streams and one small random one. */
            const uint8_t *code = c->colcode + f * c->bins->n;
            const double *gh = c->gh;
            memset(hist, 0, nb * 2 * sizeof *hist);
            for (size_t r = nd->start; r < nd->end; r++) {
                double *hb = hist + 2 * code[c->idx[r]];
                hb[0] += gh[2 * r];
                hb[1] += gh[2 * r + 1];
            }
        }
    }
    for (size_t k = 0; k < c->n_nodes; k++) {
        level_node *nd = &c->nodes[k];
        double *hist = c->hist + (k * p + f) * HSTRIDE;
        if (!nd->build) {
            const double *ph = c->prev_hist + ((size_t)nd->parent_hist * p + f) * HSTRIDE;
            const double *sh = c->hist + ((size_t)nd->sibling * p + f) * HSTRIDE;
            for (size_t b = 0; b < 2 * nb; b++)
                hist[b] = ph[b] - sh[b];
        }
        double gl = 0.0, hl = 0.0, best = -INFINITY, best_gl = 0.0, best_hl = 0.0;
        size_t best_bin = 0;
        const double parent = leaf_score(nd->G, nd->H, c->lambda);
        for (size_t b = 0; b + 1 < nb; b++) {
            if (hist[2 * b + 1] == 0.0 && hist[2 * b] == 0.0)
                continue; /* empty bin: same split as the previous one */
            gl += hist[2 * b];
            hl += hist[2 * b + 1];
            double gr = nd->G - gl, hr = nd->H - hl;
            if (hl < c->min_child || hr < c->min_child)
                continue;
            double gain = leaf_score(gl, hl, c->lambda) + leaf_score(gr, hr, c->lambda) - parent;
            if (gain > best) {
                best = gain;
                best_bin = b;
                best_gl = gl;
                best_hl = hl;
            }
        }
        c->fbest_gain[k * p + f] = best;
        c->fbest_bin[k * p + f] = best_bin;
        c->fbest_gl[k * p + f] = best_gl;
        c->fbest_hl[k * p + f] = best_hl;
    }
}

/* Gathers (g, h) into row order for one chunk: random reads of g and h,
 * parallel because they are the slowest serial part of a level. */
static void gather_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    for (size_t r = c->chunk_lo[task]; r < c->chunk_hi[task]; r++) {
        const size_t i = c->idx[r];
        c->gh_out[2 * r] = c->g[i];
        c->gh_out[2 * r + 1] = c->h[i];
    }
}

tt_status tt_gbm_grow(tt_gbm_work *wk, const tt_bins *bins, const uint8_t *colcode,
                      const double *g, const double *h, size_t *idx, size_t m,
                      const uint8_t *use_feat, size_t max_depth, double lambda,
                      double min_child, double min_gain, double lr, tt_learn_pool *pool,
                      tt_tree *t, double *row_delta)
{
    const size_t p = bins->p;
    memset(t, 0, sizeof *t);
    t->d = 1;
    if (tt_tree_add(t) < 0)
        return TT_ERR_NOMEM;
    level_node *cur = wk->nodes, *next = wk->nodes + wk->max_level;
    double G = 0.0, H = 0.0;
    for (size_t r = 0; r < m; r++) {
        G += g[idx[r]];
        H += h[idx[r]];
    }
    cur[0] = (level_node){0, m, G, H, 0, 1, -1, -1, 0.0, 0, 0};
    size_t n_cur = 1;
    grow_ctx c = {bins, colcode, wk->gh, idx, use_feat, NULL, 0, wk->hist[0], wk->hist[1],
                  lambda, min_child, min_gain, wk->fbest_gain, wk->fbest_gl, wk->fbest_hl,
                  wk->fbest_bin, g, h, wk->gh, wk->chunk_lo, wk->chunk_hi};
    const size_t n = bins->n;
    for (size_t depth = 0; n_cur > 0; depth++) {
        int split_level = max_depth == 0 || depth < max_depth;
        if (split_level) {
            size_t n_chunks = 0;
            for (size_t k = 0; k < n_cur; k++)
                for (size_t r = cur[k].start; cur[k].build && r < cur[k].end;
                     r += GATHER_CHUNK, n_chunks++) {
                    wk->chunk_lo[n_chunks] = r;
                    wk->chunk_hi[n_chunks] =
                        r + GATHER_CHUNK < cur[k].end ? r + GATHER_CHUNK : cur[k].end;
                }
            tt_learn_pool_run(pool, n_chunks, gather_task, &c);
            c.nodes = cur;
            c.n_nodes = n_cur;
            tt_learn_pool_run(pool, p, feature_task, &c);
        }
        size_t n_next = 0;
        for (size_t k = 0; k < n_cur; k++) {
            level_node *nd = &cur[k];
            double best = -INFINITY, gl = 0.0, hl = 0.0;
            size_t bf = 0, bb = 0;
            for (size_t f = 0; split_level && f < p; f++)
                if (use_feat[f] && c.fbest_gain[k * p + f] > best) {
                    best = c.fbest_gain[k * p + f];
                    bf = f;
                    bb = c.fbest_bin[k * p + f];
                    gl = c.fbest_gl[k * p + f];
                    hl = c.fbest_hl[k * p + f];
                }
            const int32_t tn = nd->tree_node;
            if (!(best > min_gain) || best <= 1e-12 * leaf_score(nd->G, nd->H, lambda) ||
                n_next + 2 > wk->max_level) {
                double v = -lr * nd->G / (nd->H + lambda);
                t->value[tn] = v;
                for (size_t r = nd->start; r < nd->end; r++)
                    row_delta[idx[r]] = v;
                continue;
            }
            size_t lo = nd->start, hi = nd->end;
            while (lo < hi) {
                if (colcode[bf * n + idx[lo]] <= bb) {
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
            t->node[tn] = (tt_tree_node){bins->edge[bf * (TT_TREE_MAX_BINS - 1) + bb],
                                         (int32_t)bf, l};
            t->bin[tn] = (uint8_t)bb;
            t->value[tn] = 0.0;
            /* Child sums come from the histogram scan (no pass over rows). */
            int left_small = lo - nd->start <= nd->end - lo;
            level_node *a = &next[n_next], *b = &next[n_next + 1];
            *a = (level_node){nd->start, lo, gl, hl, l, left_small, (int64_t)k,
                              (int64_t)(n_next + 1), 0.0, 0, 0};
            *b = (level_node){lo, nd->end, nd->G - gl, nd->H - hl, r, !left_small, (int64_t)k,
                              (int64_t)n_next, 0.0, 0, 0};
            n_next += 2;
        }
        /* This level's histograms become the parents of the next level. */
        double *tmp = c.hist;
        c.hist = c.prev_hist;
        c.prev_hist = tmp;
        level_node *tl = cur;
        cur = next;
        next = tl;
        n_cur = n_next;
    }
    return TT_OK;
}

tt_gbm_work *tt_gbm_work_new(size_t n, size_t p, size_t max_depth)
{
    tt_gbm_work *wk = calloc(1, sizeof *wk);
    if (!wk)
        return NULL;
    /* Nodes per level: 2^depth, capped at 256 to bound the histogram memory
     * (levels x p x 256 bins); nodes beyond the cap become leaves. */
    size_t d = max_depth == 0 || max_depth > 8 ? 8 : max_depth;
    wk->max_level = (size_t)1 << d;
    wk->nodes = calloc(2 * wk->max_level, sizeof *wk->nodes);
    for (int k = 0; k < 2; k++)
        wk->hist[k] = tt_malloc_array(wk->max_level * (p ? p : 1), HSTRIDE * sizeof(double));
    wk->fbest_gain = tt_malloc_array(wk->max_level * (p ? p : 1), sizeof *wk->fbest_gain);
    wk->fbest_bin = tt_malloc_array(wk->max_level * (p ? p : 1), sizeof *wk->fbest_bin);
    wk->gh = tt_malloc_array(n ? n : 1, 2 * sizeof *wk->gh);
    wk->fbest_gl = tt_malloc_array(wk->max_level * (p ? p : 1), sizeof *wk->fbest_gl);
    wk->fbest_hl = tt_malloc_array(wk->max_level * (p ? p : 1), sizeof *wk->fbest_hl);
    /* Chunks: at most one partial chunk per node plus the full ones. */
    size_t n_chunks = n / GATHER_CHUNK + wk->max_level + 1;
    wk->chunk_lo = tt_malloc_array(n_chunks, sizeof *wk->chunk_lo);
    wk->chunk_hi = tt_malloc_array(n_chunks, sizeof *wk->chunk_hi);
    if (!wk->gh || !wk->fbest_gl || !wk->fbest_hl || !wk->chunk_lo || !wk->chunk_hi || !wk->nodes || !wk->hist[0] || !wk->hist[1] || !wk->fbest_gain || !wk->fbest_bin) {
        tt_gbm_work_free(wk);
        return NULL;
    }
    return wk;
}

void tt_gbm_work_free(tt_gbm_work *wk)
{
    if (!wk)
        return;
    free(wk->nodes);
    free(wk->hist[0]);
    free(wk->hist[1]);
    free(wk->fbest_gain);
    free(wk->fbest_bin);
    free(wk->gh);
    free(wk->fbest_gl);
    free(wk->fbest_hl);
    free(wk->chunk_lo);
    free(wk->chunk_hi);
    free(wk);
}
