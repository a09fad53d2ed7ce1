/*
 * gbm.c - histogram gradient boosting ("gbm"): squared error, binary
 * log-loss and multiclass softmax, second-order (Newton) leaf values.
 *
 * Each round fits one tree per output to the gradients g and hessians h of
 * the loss at the current scores: leaf value -G / (H + lambda), split gain
 * G_L^2/(H_L + l) + G_R^2/(H_R + l) - G^2/(H + l) (XGBoost's formulation),
 * children need hessian >= min_child_weight. Trees grow level by level.
 *
 * Against xgboost's hist booster (1.7) with the same parameters the
 * differences found are the base score (the training mean here and in
 * xgboost 2.x; 1.7 starts at 0.5), the bin edges of many-valued columns
 * (quantiles of the distinct values, tree.c; xgboost: a quantile sketch of
 * the rows), the routing of a value strictly between two training values,
 * and xgboost's single-precision gradients. Given the same bins and base
 * score the models agree to that precision (test_learn_gbm); on Hillstrom
 * (30 splits) the held-out losses differ by -0.05 % (standard error 0.19 %).
 *
 * A level is one parallel pass (two for row-split nodes) and some serial
 * bookkeeping:
 *  - histograms: of the smaller child of every split only (the larger is
 *    parent minus smaller). A task is one built node and one block of
 *    features; it reads the node's rows row-wise (the row-major codes: one
 *    cache line per row, and the features' bins, packed by their true bin
 *    counts, give independent adds, so a one-hot column's two bins are no
 *    dependency chain; two-bin columns are summed in registers, bin 1 as
 *    the masked sum and bin 0 as the total minus it), then subtracts for the
 *    sibling and scans both nodes' splits on its features. Nodes of
 *    ROWSPLIT_MIN rows or more are built row-parallel instead, in fixed
 *    chunks whose partial histograms are added in chunk order. Either way
 *    the order of every sum depends on the rows only, so the model is
 *    bit-identical for any thread count. Levels with little work run on
 *    the calling thread.
 *  - partition: stable, so each node's rows stay in ascending row order and
 *    the next level's reads of codes and gradients are forward streams.
 *    Large levels partition in parallel chunks (local split, then placement).
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
    size_t start, end, mid; /* rows in the index array; mid: first right row */
    double G, H;
    int32_t tree_node;
    int build;              /* histogram computed directly (else by subtraction) */
    int64_t parent_hist, sibling; /* slots in the previous / this level, -1 = none */
    size_t hc0, hcn;        /* row-split: its chunks' first scratch slot, count */
    /* chosen split */
    int split; /* 0 leaf, 1 split, 2 split into two leaves (last level) */
    size_t feature, bin;
    double gl, hl;
    double vl, vr; /* split == 2: the children are leaves of these values */
} level_node;

typedef struct grow_ctx {
    const tt_bins *bins;
    const uint8_t *colcode; /* p x n column-major codes */
    const double *gh; /* (g, h) pairs by row */
    double *row_delta;
    size_t *idx, *tmp;
    level_node *nodes;
    double *hist, *prev_hist; /* slot x (2 x total bins) */
    size_t slot;              /* doubles per slot */
    const size_t *hoff, *flist;
    size_t n_used, n_blocks;
    const size_t *task_node;
    /* row-split nodes: partial histograms of fixed row chunks */
    double *scratch;
    size_t n_hchunks;
    const size_t *hchunk_lo, *hchunk_hi, *split_node;
    double lambda, min_child;
    double *fbest_gain, *fbest_gl, *fbest_hl;
    size_t *fbest_bin;
    /* partition chunks */
    const size_t *chunk_lo, *chunk_hi, *chunk_node;
    size_t *chunk_nl, *chunk_ldst, *chunk_rdst;
} grow_ctx;

#define HSTRIDE (TT_TREE_MAX_BINS * 2)
#define MAX_BLOCKS 16
/* Below this many row x feature adds a level's histograms run on the
 * calling thread (handing work to the spinning pool costs ~ as much). */
#ifndef SERIAL_HIST_WORK
#define SERIAL_HIST_WORK 2000
#endif
/* Levels with more split rows than this partition in parallel chunks. */
#ifndef PARALLEL_PARTITION
#define PARALLEL_PARTITION 8192
#endif
#ifndef PART_CHUNK
#define PART_CHUNK 4096
#endif
/* Built nodes of this many rows are histogrammed in HIST_CHUNK-row chunks
 * (row-parallel, partial histograms summed in chunk order); smaller ones
 * by feature blocks. */
#define ROWSPLIT_MIN 131072
#define HIST_CHUNK 65536
/* Rows ahead whose codes and gradients are prefetched. */
#define PREFETCH 24

typedef double v2d __attribute__((vector_size(16)));

static double leaf_score(double G, double H, double lambda)
{
    return G * G / (H + lambda);
}

/* Best split of one feature's histogram for node nd (slot k). */
static void scan_feature(grow_ctx *c, size_t k, size_t f, const double *hist)
{
    const level_node *nd = &c->nodes[k];
    const size_t nb = c->bins->n_bins[f], p = c->bins->p;
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

/* Binary features (two bins: one-hot columns) go to register accumulators,
 * up to NBIN per pass over the rows: bin 1 sums the rows' (g, h) masked by
 * the code (exact: g or +0.0 is added), bin 0 is the rows' total minus bin
 * 1. Wider features are added to their bins in memory. A pass is compiled
 * for 0, 4, 8 or 12 accumulators and takes the narrowest that holds its
 * binary features: 12 fit in SSE registers beside the rest, so Hillstrom's
 * 12 binary columns are one pass, not two (-15 % CPU of its fit), and 401(k)'s
 * 5 do not pay for 12. */
#define NBIN 12

static const uint64_t bin_mask[2] = {0, ~(uint64_t)0};

/* One pass over rows [r0, r1): the nw wide features (columns col, offsets
 * off) in memory, the binary features bcol[0..nb) into acc (slots past the
 * real ones repeat a real column; their sums are dropped), and the rows'
 * total. nb is a constant at every call (always inlined). */
static inline __attribute__((always_inline)) void
accumulate_pass(const grow_ctx *c, double *hk, size_t r0, size_t r1, const size_t *col,
                const size_t *off, size_t nw, const size_t *bcol, v2d *acc, v2d *total,
                const int nb)
{
    const size_t p = c->bins->p;
    const uint8_t *code = c->bins->code;
    const size_t *idx = c->idx;
    const size_t pf_end = r1 > PREFETCH ? r1 - PREFETCH : 0;
    size_t bc[NBIN] = {0};
    for (int k = 0; k < nb; k++)
        bc[k] = bcol[k];
    v2d a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, t = a0;
    v2d a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (size_t r = r0; r < r1; r++) {
        const size_t i = idx[r];
        const uint8_t *cr = code + i * p;
        if (r < pf_end) {
            /* Rows of deep nodes are scattered: fetch ahead. */
            const size_t ia = idx[r + PREFETCH];
            __builtin_prefetch(code + ia * p);
            __builtin_prefetch(c->gh + 2 * ia);
        }
        const v2d gh = *(const v2d *)(c->gh + 2 * i);
        size_t j = 0;
        for (; j + 4 <= nw; j += 4) {
            double *h0 = hk + off[j] + 2 * (size_t)cr[col[j]];
            double *h1 = hk + off[j + 1] + 2 * (size_t)cr[col[j + 1]];
            double *h2 = hk + off[j + 2] + 2 * (size_t)cr[col[j + 2]];
            double *h3 = hk + off[j + 3] + 2 * (size_t)cr[col[j + 3]];
            *(v2d *)h0 += gh;
            *(v2d *)h1 += gh;
            *(v2d *)h2 += gh;
            *(v2d *)h3 += gh;
        }
        for (; j < nw; j++)
            *(v2d *)(hk + off[j] + 2 * (size_t)cr[col[j]]) += gh;
        if (nb > 0) {
            typedef uint64_t v2u __attribute__((vector_size(16)));
            const v2u g = (v2u)gh;
            a0 += (v2d)(g & bin_mask[cr[bc[0]]]);
            a1 += (v2d)(g & bin_mask[cr[bc[1]]]);
            a2 += (v2d)(g & bin_mask[cr[bc[2]]]);
            a3 += (v2d)(g & bin_mask[cr[bc[3]]]);
            if (nb > 4) {
                a4 += (v2d)(g & bin_mask[cr[bc[4]]]);
                a5 += (v2d)(g & bin_mask[cr[bc[5]]]);
                a6 += (v2d)(g & bin_mask[cr[bc[6]]]);
                a7 += (v2d)(g & bin_mask[cr[bc[7]]]);
            }
            if (nb > 8) {
                a8 += (v2d)(g & bin_mask[cr[bc[8]]]);
                a9 += (v2d)(g & bin_mask[cr[bc[9]]]);
                a10 += (v2d)(g & bin_mask[cr[bc[10]]]);
                a11 += (v2d)(g & bin_mask[cr[bc[11]]]);
            }
            t += gh;
        }
    }
    if (nb > 0) {
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
        acc[8] = a8, acc[9] = a9, acc[10] = a10, acc[11] = a11;
        *total = t;
    }
}

/* The pass for k binary features (0..NBIN): the narrowest compiled width. */
static void accumulate_pass_k(const grow_ctx *c, double *hk, size_t r0, size_t r1,
                              const size_t *col, const size_t *off, size_t nw,
                              const size_t *bcol, v2d *acc, v2d *total, size_t k)
{
    if (k == 0)
        accumulate_pass(c, hk, r0, r1, col, off, nw, bcol, acc, total, 0);
    else if (k <= 4)
        accumulate_pass(c, hk, r0, r1, col, off, nw, bcol, acc, total, 4);
    else if (k <= 8)
        accumulate_pass(c, hk, r0, r1, col, off, nw, bcol, acc, total, 8);
    else
        accumulate_pass(c, hk, r0, r1, col, off, nw, bcol, acc, total, 12);
}

/* Histograms at hk of the used features j0..j1-1 over rows [r0, r1) of the
 * index array, each accumulated in row order. */
static void accumulate(const grow_ctx *c, double *hk, size_t r0, size_t r1, size_t j0, size_t j1)
{
    size_t col[HSTRIDE], off[HSTRIDE], bcol[HSTRIDE + NBIN], boff[HSTRIDE];
    for (size_t done = j0; done < j1;) {
        /* Features in groups of at most HSTRIDE (any p works). */
        const size_t q = j1 - done < HSTRIDE ? j1 - done : HSTRIDE;
        size_t nw = 0, nbin = 0;
        for (size_t j = 0; j < q; j++) {
            const size_t f = c->flist[done + j];
            if (c->bins->n_bins[f] == 2) {
                bcol[nbin] = f;
                boff[nbin++] = c->hoff[f];
            } else {
                col[nw] = f;
                off[nw] = c->hoff[f];
                memset(hk + off[nw], 0, 2 * c->bins->n_bins[f] * sizeof *hk);
                nw++;
            }
        }
        for (size_t j = nbin; j < nbin + NBIN; j++)
            bcol[j] = nbin ? bcol[0] : 0;
        v2d acc[NBIN], total = {0, 0};
        size_t b = 0;
        do {
            /* The first pass also does the wide features. */
            accumulate_pass_k(c, hk, r0, r1, col, off, b == 0 ? nw : 0, bcol + b, acc, &total,
                              nbin > b ? (nbin - b < NBIN ? nbin - b : NBIN) : 0);
            for (size_t j = b; j < nbin && j < b + NBIN; j++) {
                double *hb = hk + boff[j];
                *(v2d *)(hb + 2) = acc[j - b];
                *(v2d *)hb = total - acc[j - b];
            }
            b += NBIN;
        } while (b < nbin);
        done += q;
    }
}

/* With node k's histograms of features j0..j1-1 built: the sibling's by
 * subtraction, and both nodes' best splits on those features. */
static void finish_block(grow_ctx *c, size_t k, size_t j0, size_t j1)
{
    const level_node *nd = &c->nodes[k];
    const double *hk = c->hist + k * c->slot;
    const int64_t s = nd->sibling;
    double *hs = s >= 0 ? c->hist + (size_t)s * c->slot : NULL;
    const double *ph = s >= 0 ? c->prev_hist + (size_t)nd->parent_hist * c->slot : NULL;
    for (size_t j = j0; j < j1; j++) {
        const size_t f = c->flist[j], o = c->hoff[f], nb2 = 2 * (size_t)c->bins->n_bins[f];
        scan_feature(c, k, f, hk + o);
        if (hs) {
            for (size_t q = 0; q < nb2; q++)
                hs[o + q] = ph[o + q] - hk[o + q];
            scan_feature(c, (size_t)s, f, hs + o);
        }
    }
}

/* Tasks of a level's first pass: the row chunks of the row-split nodes
 * (partial histograms of all used features into scratch slots), then
 * (node, feature block) for the other built nodes. */
static void hist_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    if (task < c->n_hchunks) {
        accumulate(c, c->scratch + task * c->slot, c->hchunk_lo[task], c->hchunk_hi[task], 0,
                   c->n_used);
        return;
    }
    task -= c->n_hchunks;
    const size_t k = c->task_node[task / c->n_blocks], b = task % c->n_blocks;
    const size_t j0 = b * c->n_used / c->n_blocks, j1 = (b + 1) * c->n_used / c->n_blocks;
    const level_node *nd = &c->nodes[k];
    accumulate(c, c->hist + k * c->slot, nd->start, nd->end, j0, j1);
    finish_block(c, k, j0, j1);
}

/* Second pass for row-split nodes, per (node, feature block): the chunks'
 * partial histograms summed in chunk order, then finish_block. */
static void reduce_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    const size_t k = c->split_node[task / c->n_blocks], b = task % c->n_blocks;
    const size_t j0 = b * c->n_used / c->n_blocks, j1 = (b + 1) * c->n_used / c->n_blocks;
    const level_node *nd = &c->nodes[k];
    double *hk = c->hist + k * c->slot;
    for (size_t j = j0; j < j1; j++) {
        const size_t f = c->flist[j], o = c->hoff[f], nb2 = 2 * (size_t)c->bins->n_bins[f];
        const double *first = c->scratch + nd->hc0 * c->slot + o;
        memcpy(hk + o, first, nb2 * sizeof *hk);
        for (size_t t = 1; t < nd->hcn; t++) {
            const double *part = c->scratch + (nd->hc0 + t) * c->slot + o;
            for (size_t q = 0; q < nb2; q++)
                hk[o + q] += part[q];
        }
    }
    finish_block(c, k, j0, j1);
}

/* Rows [lo, hi) of a node split into two leaves: their leaf values. */
static void write_leaves(const grow_ctx *c, const level_node *nd, size_t lo, size_t hi)
{
    const uint8_t *col = c->colcode + nd->feature * c->bins->n;
    const size_t bb = nd->bin;
    const double vl = nd->vl, vr = nd->vr;
    for (size_t r = lo; r < hi; r++) {
        const size_t i = c->idx[r];
        c->row_delta[i] = col[i] <= bb ? vl : vr;
    }
}

/* Stable partition of one chunk of a split node's rows into tmp: left rows
 * forward from the chunk's start, right rows backward from its end. */
static void part_local_task(void *ctx, size_t ch, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    const level_node *nd = &c->nodes[c->chunk_node[ch]];
    const uint8_t *col = c->colcode + nd->feature * c->bins->n;
    const size_t lo = c->chunk_lo[ch], hi = c->chunk_hi[ch], bb = nd->bin;
    if (nd->split == 2) {
        write_leaves(c, nd, lo, hi);
        return;
    }
    size_t nl = 0, nr = 0;
    for (size_t r = lo; r < hi; r++) {
        const size_t i = c->idx[r];
        const int left = col[i] <= bb;
        c->tmp[lo + nl] = i;
        c->tmp[hi - 1 - nr] = i;
        nl += (size_t)left;
        nr += (size_t)!left;
    }
    c->chunk_nl[ch] = nl;
}

static void part_place_task(void *ctx, size_t ch, size_t thread)
{
    (void)thread;
    grow_ctx *c = ctx;
    if (c->nodes[c->chunk_node[ch]].split != 1)
        return;
    const size_t lo = c->chunk_lo[ch], hi = c->chunk_hi[ch], nl = c->chunk_nl[ch];
    memcpy(c->idx + c->chunk_ldst[ch], c->tmp + lo, nl * sizeof *c->idx);
    size_t *dst = c->idx + c->chunk_rdst[ch];
    for (size_t j = 0; j < hi - lo - nl; j++)
        dst[j] = c->tmp[hi - 1 - j];
}

static void partition_serial(grow_ctx *c, level_node *nd)
{
    if (nd->split == 2) {
        write_leaves(c, nd, nd->start, nd->end);
        return;
    }
    const uint8_t *col = c->colcode + nd->feature * c->bins->n;
    const size_t bb = nd->bin;
    size_t *idx = c->idx, *tmp = c->tmp, lo = nd->start, nr = 0;
    for (size_t r = nd->start; r < nd->end; r++) {
        const size_t i = idx[r];
        const int left = col[i] <= bb;
        idx[lo] = i; /* lo <= r: row r is already read */
        tmp[nr] = i;
        lo += (size_t)left;
        nr += (size_t)!left;
    }
    memcpy(idx + lo, tmp, nr * sizeof *idx);
    nd->mid = lo;
}

static void partition_level(grow_ctx *c, tt_gbm_work *wk, size_t n_cur, size_t split_rows,
                            tt_learn_pool *pool)
{
    if (split_rows <= PARALLEL_PARTITION || tt_learn_pool_threads(pool) < 2) {
        for (size_t k = 0; k < n_cur; k++)
            if (c->nodes[k].split)
                partition_serial(c, &c->nodes[k]);
        return;
    }
    size_t n_chunks = 0;
    for (size_t k = 0; k < n_cur; k++) {
        const level_node *nd = &c->nodes[k];
        for (size_t r = nd->start; nd->split && r < nd->end; r += PART_CHUNK, n_chunks++) {
            wk->chunk_lo[n_chunks] = r;
            wk->chunk_hi[n_chunks] = r + PART_CHUNK < nd->end ? r + PART_CHUNK : nd->end;
            wk->chunk_node[n_chunks] = k;
        }
    }
    tt_learn_pool_run(pool, n_chunks, part_local_task, c);
    /* Placement: chunk order within each node keeps the partition stable. */
    size_t ch = 0;
    for (size_t k = 0; k < n_cur; k++) {
        level_node *nd = &c->nodes[k];
        if (!nd->split)
            continue;
        if (nd->split == 2) {
            while (ch < n_chunks && wk->chunk_node[ch] == k)
                ch++;
            continue;
        }
        size_t first = ch, nl = 0;
        for (; ch < n_chunks && wk->chunk_node[ch] == k; ch++)
            nl += wk->chunk_nl[ch];
        nd->mid = nd->start + nl;
        size_t ld = nd->start, rd = nd->mid;
        for (size_t q = first; q < ch; q++) {
            c->chunk_ldst[q] = ld;
            c->chunk_rdst[q] = rd;
            ld += wk->chunk_nl[q];
            rd += wk->chunk_hi[q] - wk->chunk_lo[q] - wk->chunk_nl[q];
        }
    }
    tt_learn_pool_run(pool, n_chunks, part_place_task, c);
}

typedef struct root_job {
    const double *gh;
    const size_t *idx;
    size_t m;
    double *sums;
} root_job;

static void root_sum_task(void *ctx, size_t q, size_t thread)
{
    (void)thread;
    const root_job *j = ctx;
    const size_t r1 = (q + 1) * HIST_CHUNK < j->m ? (q + 1) * HIST_CHUNK : j->m;
    double G = 0.0, H = 0.0;
    for (size_t r = q * HIST_CHUNK; r < r1; r++) {
        G += j->gh[2 * j->idx[r]];
        H += j->gh[2 * j->idx[r] + 1];
    }
    j->sums[2 * q] = G;
    j->sums[2 * q + 1] = H;
}

tt_status tt_gbm_grow(tt_gbm_work *wk, const tt_bins *bins, const uint8_t *colcode,
                      const double *gh, size_t *idx, size_t m,
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
    if (m >= ROWSPLIT_MIN && wk->rootsum) {
        /* Sums of fixed row chunks, added in chunk order. */
        root_job rj = {gh, idx, m, wk->rootsum};
        const size_t n_chunks = (m + HIST_CHUNK - 1) / HIST_CHUNK;
        tt_learn_pool_run(pool, n_chunks, root_sum_task, &rj);
        for (size_t q = 0; q < n_chunks; q++) {
            G += wk->rootsum[2 * q];
            H += wk->rootsum[2 * q + 1];
        }
    } else {
        for (size_t r = 0; r < m; r++) {
            G += gh[2 * idx[r]];
            H += gh[2 * idx[r] + 1];
        }
    }
    cur[0] = (level_node){.start = 0, .end = m, .G = G, .H = H, .tree_node = 0, .build = 1,
                          .parent_hist = -1, .sibling = -1};
    size_t n_cur = 1, n_used = 0, slot = 0;
    for (size_t f = 0; f < p; f++) {
        wk->hoff[f] = slot;
        slot += 2 * (size_t)bins->n_bins[f];
        if (use_feat[f])
            wk->flist[n_used++] = f;
    }
    const size_t threads = tt_learn_pool_threads(pool);
    grow_ctx c = {.bins = bins, .colcode = colcode, .gh = gh, .row_delta = row_delta, .idx = idx, .tmp = wk->tmp,
                  .hist = wk->hist[0], .prev_hist = wk->hist[1], .slot = slot,
                  .hoff = wk->hoff, .flist = wk->flist, .n_used = n_used,
                  .task_node = wk->task_node, .scratch = wk->scratch,
                  .hchunk_lo = wk->hchunk_lo, .hchunk_hi = wk->hchunk_hi,
                  .split_node = wk->split_node, .lambda = lambda, .min_child = min_child,
                  .fbest_gain = wk->fbest_gain, .fbest_gl = wk->fbest_gl,
                  .fbest_hl = wk->fbest_hl, .fbest_bin = wk->fbest_bin,
                  .chunk_lo = wk->chunk_lo, .chunk_hi = wk->chunk_hi,
                  .chunk_node = wk->chunk_node, .chunk_nl = wk->chunk_nl};
    /* chunk_ldst / chunk_rdst: second halves of chunk_lo / chunk_hi (see work_new). */
    c.chunk_ldst = wk->chunk_lo + (wk->n / PART_CHUNK + wk->max_level + 1);
    c.chunk_rdst = wk->chunk_hi + (wk->n / PART_CHUNK + wk->max_level + 1);
    for (size_t depth = 0; n_cur > 0; depth++) {
        const int split_level = (max_depth == 0 || depth < max_depth) && n_used > 0;
        c.nodes = cur;
        if (split_level) {
            /* Built nodes, largest first (task order does not change
             * results); nodes of ROWSPLIT_MIN rows or more are built in
             * fixed row chunks instead (whatever the thread count). */
            size_t nb = 0, n_rs = 0, work = 0;
            c.n_hchunks = 0;
            for (size_t k = 0; k < n_cur; k++) {
                level_node *nd = &cur[k];
                if (!nd->build)
                    continue;
                const size_t rows = nd->end - nd->start;
                work += rows;
                if (rows >= ROWSPLIT_MIN && wk->scratch) {
                    nd->hc0 = c.n_hchunks;
                    for (size_t r = nd->start; r < nd->end; r += HIST_CHUNK) {
                        wk->hchunk_lo[c.n_hchunks] = r;
                        wk->hchunk_hi[c.n_hchunks++] =
                            r + HIST_CHUNK < nd->end ? r + HIST_CHUNK : nd->end;
                    }
                    nd->hcn = c.n_hchunks - nd->hc0;
                    wk->split_node[n_rs++] = k;
                    continue;
                }
                size_t q = nb++;
                while (q > 0 && cur[wk->task_node[q - 1]].end - cur[wk->task_node[q - 1]].start < rows) {
                    wk->task_node[q] = wk->task_node[q - 1];
                    q--;
                }
                wk->task_node[q] = k;
            }
            work *= n_used;
            if (threads < 2 || work < SERIAL_HIST_WORK) {
                c.n_blocks = 1;
                for (size_t q = 0; q < c.n_hchunks + nb; q++)
                    hist_task(&c, q, 0);
                for (size_t q = 0; q < n_rs; q++)
                    reduce_task(&c, q, 0);
            } else {
                size_t blocks = threads < MAX_BLOCKS ? threads : MAX_BLOCKS;
                c.n_blocks = blocks < n_used ? blocks : n_used;
                tt_learn_pool_run(pool, c.n_hchunks + nb * c.n_blocks, hist_task, &c);
                if (n_rs > 0)
                    tt_learn_pool_run(pool, n_rs * c.n_blocks, reduce_task, &c);
            }
        }
        size_t n_next = 0, split_rows = 0;
        for (size_t k = 0; k < n_cur; k++) {
            level_node *nd = &cur[k];
            double best = -INFINITY, gl = 0.0, hl = 0.0;
            size_t bf = 0, bb = 0;
            for (size_t j = 0; split_level && j < n_used; j++) {
                const size_t f = wk->flist[j];
                if (c.fbest_gain[k * p + f] > best) {
                    best = c.fbest_gain[k * p + f];
                    bf = f;
                    bb = c.fbest_bin[k * p + f];
                    gl = c.fbest_gl[k * p + f];
                    hl = c.fbest_hl[k * p + f];
                }
            }
            const int32_t tn = nd->tree_node;
            nd->split = 0;
            if (!(best > min_gain) || best <= 1e-12 * leaf_score(nd->G, nd->H, lambda) ||
                n_next + 2 > wk->max_level) {
                double v = -lr * nd->G / (nd->H + lambda);
                t->value[tn] = v;
                for (size_t r = nd->start; r < nd->end; r++)
                    row_delta[idx[r]] = v;
                continue;
            }
            int32_t l = tt_tree_add(t), r = tt_tree_add(t);
            if (l < 0 || r < 0)
                return TT_ERR_NOMEM;
            t->node[tn] = (tt_tree_node){bins->edge[bf * (TT_TREE_MAX_BINS - 1) + bb],
                                         (int32_t)bf, l};
            t->bin[tn] = (uint8_t)bb;
            t->value[tn] = 0.0;
            if (max_depth != 0 && depth + 1 >= max_depth) {
                /* The children are leaves: their rows need no partition,
                 * only their values (partition_level writes them). */
                nd->vl = -lr * gl / (hl + lambda);
                nd->vr = -lr * (nd->G - gl) / (nd->H - hl + lambda);
                t->value[l] = nd->vl;
                t->value[r] = nd->vr;
                nd->split = 2;
                nd->feature = bf;
                nd->bin = bb;
                n_next += 2;
                split_rows += nd->end - nd->start;
                continue;
            }
            nd->split = 1;
            nd->feature = bf;
            nd->bin = bb;
            nd->gl = gl;
            nd->hl = hl;
            n_next += 2;
            split_rows += nd->end - nd->start;
        }
        partition_level(&c, wk, n_cur, split_rows, pool);
        n_next = 0;
        for (size_t k = 0; k < n_cur; k++) {
            const level_node *nd = &cur[k];
            if (nd->split != 1)
                continue;
            const int32_t l = t->node[nd->tree_node].left;
            /* Child sums come from the histogram scan (no pass over rows). */
            const int left_small = nd->mid - nd->start <= nd->end - nd->mid;
            next[n_next] = (level_node){.start = nd->start, .end = nd->mid, .G = nd->gl,
                                        .H = nd->hl, .tree_node = l, .build = left_small,
                                        .parent_hist = (int64_t)k,
                                        .sibling = left_small ? (int64_t)(n_next + 1) : -1};
            next[n_next + 1] = (level_node){.start = nd->mid, .end = nd->end,
                                            .G = nd->G - nd->gl, .H = nd->H - nd->hl,
                                            .tree_node = l + 1, .build = !left_small,
                                            .parent_hist = (int64_t)k,
                                            .sibling = left_small ? -1 : (int64_t)n_next};
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
    const size_t pp = p ? p : 1;
    wk->n = n;
    wk->p = p;
    wk->max_level = (size_t)1 << d;
    wk->nodes = calloc(2 * wk->max_level, sizeof *wk->nodes);
    for (int k = 0; k < 2; k++)
        wk->hist[k] = tt_malloc_array(wk->max_level * pp, HSTRIDE * sizeof(double));
    wk->fbest_gain = tt_malloc_array(wk->max_level * pp, sizeof *wk->fbest_gain);
    wk->fbest_bin = tt_malloc_array(wk->max_level * pp, sizeof *wk->fbest_bin);
    wk->fbest_gl = tt_malloc_array(wk->max_level * pp, sizeof *wk->fbest_gl);
    wk->fbest_hl = tt_malloc_array(wk->max_level * pp, sizeof *wk->fbest_hl);
    wk->tmp = tt_malloc_array(n ? n : 1, sizeof *wk->tmp);
    wk->task_node = tt_malloc_array(wk->max_level, sizeof *wk->task_node);
    /* Partition chunks: at most one partial chunk per node plus the full
     * ones; lo / hi hold the chunks' destinations in their second halves. */
    size_t n_chunks = n / PART_CHUNK + wk->max_level + 1;
    wk->chunk_lo = tt_malloc_array(2 * n_chunks, sizeof *wk->chunk_lo);
    wk->chunk_hi = tt_malloc_array(2 * n_chunks, sizeof *wk->chunk_hi);
    wk->chunk_node = tt_malloc_array(n_chunks, sizeof *wk->chunk_node);
    wk->chunk_nl = tt_malloc_array(n_chunks, sizeof *wk->chunk_nl);
    wk->hoff = tt_malloc_array(pp + 1, sizeof *wk->hoff);
    wk->split_node = tt_malloc_array(wk->max_level, sizeof *wk->split_node);
    if (n >= ROWSPLIT_MIN) {
        /* Row-split nodes hold at most n rows in all: n / HIST_CHUNK full
         * chunks plus one partial chunk per node (n / ROWSPLIT_MIN). */
        size_t hc = n / HIST_CHUNK + n / ROWSPLIT_MIN + 1;
        wk->scratch = tt_malloc_array(hc * pp, HSTRIDE * sizeof(double));
        wk->hchunk_lo = tt_malloc_array(hc, sizeof *wk->hchunk_lo);
        wk->hchunk_hi = tt_malloc_array(hc, sizeof *wk->hchunk_hi);
        wk->rootsum = tt_malloc_array(hc, 2 * sizeof *wk->rootsum);
        if (!wk->scratch || !wk->hchunk_lo || !wk->hchunk_hi || !wk->rootsum) {
            tt_gbm_work_free(wk);
            return NULL;
        }
    }
    wk->flist = tt_malloc_array(pp, sizeof *wk->flist);
    if (!wk->nodes || !wk->hist[0] || !wk->hist[1] || !wk->fbest_gain || !wk->fbest_bin ||
        !wk->fbest_gl || !wk->fbest_hl || !wk->tmp || !wk->task_node || !wk->chunk_lo ||
        !wk->chunk_hi || !wk->chunk_node || !wk->chunk_nl || !wk->hoff || !wk->flist || !wk->split_node) {
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
    free(wk->fbest_gl);
    free(wk->fbest_hl);
    free(wk->tmp);
    free(wk->task_node);
    free(wk->chunk_lo);
    free(wk->chunk_hi);
    free(wk->chunk_node);
    free(wk->chunk_nl);
    free(wk->hoff);
    free(wk->split_node);
    free(wk->scratch);
    free(wk->hchunk_lo);
    free(wk->hchunk_hi);
    free(wk->rootsum);
    free(wk->flist);
    free(wk);
}
