/*
 * grf.c - generalised random forests (grf.h): sampling in little bags,
 * threads over groups of trees, prediction as the weighted local moment,
 * little-bags variance by the delta method, out-of-bag estimates, save/load.
 *
 * The moment of every kind is written with an intercept (grf_internal.h), so
 * one code path serves all: a leaf keeps the averages of w u v' and w u y
 * over its filling rows, the forest averages them over trees (the forest
 * weights) and solves S_uv beta = S_uy.
 *
 * Variance (grf's little bags): trees come in groups of ci_group_size grown
 * on one shared half-sample. Linearising the solution around the forest's
 * beta, tree b contributes psi_b = S_uv^-1 (s_uy,b - s_uv,b beta) (its theta
 * components). The between-group variance of the group means of psi, minus
 * the part due to groups having only ci_group_size trees
 * ((total - between) / (size - 1)), estimates the variance of theta(x); the
 * difference can be negative in small forests, so like grf we report its
 * posterior mean under a flat prior on [0, inf) (a truncated normal mean).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* newlocale, uselocale */
#endif
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/grf_internal.h"
#include "learn/learner_impl.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

#define CHUNK 128
#define VALUES_PER_LINE 8
#define FORMAT_VERSION 2 /* 2 added ny to the header; 1 (ny = 1) still loads */

void tt_grf_options_init(tt_grf_options *opt)
{
    *opt = (tt_grf_options){.n_trees = 2000,
                            .sample_fraction = 0.5,
                            .honesty = 1,
                            .honesty_fraction = 0.5,
                            .honesty_prune_leaves = 1,
                            .mtry = 0,
                            .min_node_size = 5,
                            .alpha = 0.05,
                            .imbalance_penalty = 0.0,
                            .ci_group_size = 2,
                            .threads = 0,
                            .seed = 0,
                            .bootstrap = 0,
                            .max_depth = 0,
                            .min_leaf = 0,
                            .skip_oob = 0,
                            .mtry_fixed = 0};
}

void tt_grf_free(tt_grf *f)
{
    if (!f)
        return;
    for (size_t t = 0; f->trees && t < f->n_trees; t++)
        tt_tree_free(&f->trees[t]);
    free(f->trees);
    free(f->oob_est);
    free(f->oob_var);
    free(f);
}

size_t tt_grf_n_features(const tt_grf *f)
{
    return f ? f->p : 0;
}

size_t tt_grf_n_outputs(const tt_grf *f)
{
    return f ? f->d : 0;
}

void tt_grf_trace_free(tt_grf_trace *t)
{
    if (!t)
        return;
    for (size_t b = 0; b < t->n_trees; b++) {
        if (t->split_rows)
            free(t->split_rows[b]);
        if (t->fill_rows)
            free(t->fill_rows[b]);
    }
    for (size_t b = 0; b < t->n_trees; b++) {
        if (t->split_mult)
            free(t->split_mult[b]);
        if (t->fill_mult)
            free(t->fill_mult[b]);
    }
    free(t->split_rows);
    free(t->fill_rows);
    free(t->split_mult);
    free(t->fill_mult);
    free(t->n_split);
    free(t->n_fill);
    memset(t, 0, sizeof *t);
}

/* ---- validation ------------------------------------------------------------ */

static tt_status check_options(const tt_grf_options *o, size_t n, char *err, size_t errlen)
{
    if (o->n_trees < 1 || o->n_trees > 10000000)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: n_trees must be in 1..10^7");
    if (!(o->sample_fraction > 0.0 && o->sample_fraction <= 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: sample_fraction must be in (0, 1]");
    if (o->ci_group_size < 1)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: ci_group_size must be >= 1");
    if (o->ci_group_size > 1 && o->sample_fraction > 0.5)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: sample_fraction must be <= 0.5 when "
                       "ci_group_size > 1 (trees draw from half-samples)");
    if (o->honesty && !(o->honesty_fraction > 0.0 && o->honesty_fraction < 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: honesty_fraction must be in (0, 1)");
    if (!(o->alpha >= 0.0 && o->alpha <= 0.5))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: alpha must be in [0, 0.5]");
    if (!(o->imbalance_penalty >= 0.0) || !isfinite(o->imbalance_penalty))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: imbalance_penalty must be >= 0");
    if (o->threads < 0 || o->threads > 1024)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: threads must be in 0..1024");
    if (n < 2 || n >= UINT32_MAX)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: n must be in 2..2^32 - 2");
    return TT_OK;
}

static tt_status check_column(const double *v, size_t n, const char *name, size_t col,
                              char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "grf: %s column %zu is not finite at row "
                           "%zu", name, col, i);
    return TT_OK;
}

static tt_status check_data(tt_grf_kind kind, const tt_grf_data *d, size_t ny, char *err,
                            size_t errlen)
{
    if (!d || !d->y || (d->p > 0 && !d->x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: data needs x and y");
    if (kind == TT_GRF_CAUSAL && (!d->w || d->k < 1 || d->k > TT_GRF_MAX_K))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: causal data needs w with k in 1..%d "
                       "treatment columns", TT_GRF_MAX_K);
    if (kind == TT_GRF_INSTRUMENTAL && (!d->w || !d->z || d->k > 1))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: instrumental data needs w (k = 1) "
                       "and z");
    if (kind != TT_GRF_REGRESSION && kind != TT_GRF_CAUSAL && kind != TT_GRF_INSTRUMENTAL)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: unknown kind %d", (int)kind);
    if (ny < 1 || ny > TT_GRF_MAX_Y || (kind != TT_GRF_REGRESSION && ny != 1))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: ny must be in 1..%d (regression)",
                       TT_GRF_MAX_Y);
    tt_status st = TT_OK;
    for (size_t j = 0; j < d->p && st == TT_OK; j++)
        st = check_column(d->x + j * d->n, d->n, "x", j, err, errlen);
    for (size_t j = 0; j < ny && st == TT_OK; j++)
        st = check_column(d->y + j * d->n, d->n, "y", j, err, errlen);
    size_t kw = kind == TT_GRF_CAUSAL ? d->k : (kind == TT_GRF_INSTRUMENTAL ? 1 : 0);
    for (size_t j = 0; j < kw && st == TT_OK; j++)
        st = check_column(d->w + j * d->n, d->n, "w", j, err, errlen);
    if (st == TT_OK && kind == TT_GRF_INSTRUMENTAL)
        st = check_column(d->z, d->n, "z", 0, err, errlen);
    if (st == TT_OK && d->weight)
        for (size_t i = 0; i < d->n; i++)
            if (!isfinite(d->weight[i]) || d->weight[i] < 0.0)
                return tt_errf(err, errlen, TT_ERR_DATA, "grf: weight at row %zu is %g; "
                               "weights must be finite and >= 0", i, d->weight[i]);
    return st;
}

/* ---- fitting ---------------------------------------------------------------- */

typedef struct fit_job {
    const tt_grf_grow_ctx *c;
    tt_grf *f;
    size_t m, m_grow, half;
    int honesty;
    double honesty_fraction;
    uint64_t group_stream, tree_stream;
    tt_grf_work **wk;
    size_t **pool, **sub; /* per thread: n-row pool, m-row tree draw */
    uint32_t **mult;      /* bootstrap, per thread: n multiplicities (0 between trees) */
    uint8_t *inbag;       /* n_trees x bytes */
    size_t bytes;
    tt_grf_trace *trace;
    volatile const int *stop;
    atomic_int failed, stopped;
} fit_job;

/* The first m of a partial Fisher-Yates shuffle of a[0..len). */
static void draw(tt_rng *rng, size_t *a, size_t len, size_t m)
{
    for (size_t r = 0; r < m && r < len; r++) {
        size_t k = r + (size_t)tt_rng_below(rng, len - r);
        size_t t = a[r];
        a[r] = a[k];
        a[k] = t;
    }
}

static size_t *copy_rows(const size_t *rows, size_t m)
{
    size_t *c = tt_malloc_array(m ? m : 1, sizeof *c);
    if (c)
        memcpy(c, rows, m * sizeof *c);
    return c;
}

static uint32_t *copy_mult(const uint32_t *mult, const size_t *rows, size_t m)
{
    uint32_t *c = tt_malloc_array(m ? m : 1, sizeof *c);
    for (size_t r = 0; c && r < m; r++)
        c[r] = mult ? mult[rows[r]] : 1;
    return c;
}

static void grow_group(void *ctx, size_t g, size_t thread)
{
    fit_job *j = ctx;
    const size_t n = j->c->n, G = j->f->group;
    if (atomic_load(&j->failed) || atomic_load(&j->stopped))
        return;
    if (j->stop && *j->stop) {
        atomic_store(&j->stopped, 1);
        return;
    }
    size_t *pool = j->pool[thread], *sub = j->sub[thread];
    tt_rng rng;
    for (size_t i = 0; i < n; i++)
        pool[i] = i;
    size_t avail = n;
    if (G > 1) {
        tt_rng_seed(&rng, j->group_stream + g, "grf-group");
        draw(&rng, pool, n, j->half);
        avail = j->half;
    }
    for (size_t t = g * G; t < (g + 1) * G && t < j->f->n_trees; t++) {
        tt_rng_seed(&rng, j->tree_stream + t, "grf-tree");
        uint32_t *mult = j->c->bootstrap ? j->mult[thread] : NULL;
        size_t rows = j->m, m_grow = j->m_grow;
        if (mult) {
            /* m draws with replacement; sub lists the distinct rows in the
             * order they were first drawn, a uniformly random order. */
            rows = 0;
            for (size_t r = 0; r < j->m; r++) {
                const size_t i = pool[tt_rng_below(&rng, avail)];
                if (mult[i]++ == 0)
                    sub[rows++] = i;
            }
            m_grow = rows;
            if (j->honesty && rows >= 2) {
                size_t h = (size_t)llround((1.0 - j->honesty_fraction) * (double)rows);
                m_grow = h < 1 ? 1 : (h >= rows ? rows - 1 : h);
            }
        } else {
            memcpy(sub, pool, avail * sizeof *sub);
            draw(&rng, sub, avail, j->m);
        }
        uint8_t *bits = j->inbag + t * j->bytes;
        for (size_t r = 0; r < rows; r++)
            bits[sub[r] / 8] |= (uint8_t)(1u << (sub[r] % 8));
        const int honest = m_grow < rows;
        const size_t *fill = honest ? sub + m_grow : sub;
        const size_t m_fill = honest ? rows - m_grow : m_grow;
        if (j->trace) {
            j->trace->n_split[t] = m_grow;
            j->trace->n_fill[t] = m_fill;
            j->trace->split_rows[t] = copy_rows(sub, m_grow);
            j->trace->fill_rows[t] = copy_rows(fill, m_fill);
            j->trace->split_mult[t] = copy_mult(mult, sub, m_grow);
            j->trace->fill_mult[t] = copy_mult(mult, fill, m_fill);
        }
        tt_status st = tt_grf_grow_tree(j->c, j->wk[thread], sub, m_grow, fill, m_fill, mult,
                                        &rng, &j->f->trees[t]);
        for (size_t r = 0; mult && r < rows; r++)
            mult[sub[r]] = 0;
        if (st != TT_OK) {
            atomic_store(&j->failed, 1);
            return;
        }
    }
}

/* ---- prediction -------------------------------------------------------------
 * Rows go in blocks and each block meets the trees one at a time (tree-major),
 * so a tree's nodes stay in cache while the block's rows walk it: row-major
 * walks missed the cache at nearly every level.
 *
 * The variance needs psi_b = l . s_b per tree (s_b the leaf's E = D - 1
 * statistics, l built from S_uv^-1 and beta, known only after all trees), so
 * the block keeps what the quadratic forms need instead of the leaves: per
 * row the sum over good groups of the group means G_g, and the upper
 * triangles of sum_g G_g G_g' and sum_b s_b s_b'. Then between-group and
 * total second moments are l' M l. */

typedef struct pred_job {
    const tt_grf *f;
    size_t n, block;      /* rows; rows per block */
    const double *x;      /* column-major n x p */
    double *est, *var;    /* n x d column-major; var may be NULL */
    const uint8_t *inbag; /* OOB: skip trees holding the row; else NULL */
    size_t bytes;
    double **buf;         /* per thread: the block's rows and accumulators */
} pred_job;

/* Posterior mean of a variance under a flat prior on [0, inf) when the
 * unbiased estimate is approximately N(v, se^2): v + se phi(r) / Phi(r). */
static double debias(double between, double noise, double groups)
{
    const double v = between - noise;
    const double se = fmax(between, noise) * sqrt(2.0 / groups);
    if (!(se > 0.0))
        return fmax(v, 0.0);
    const double r = v / se;
    double ratio; /* phi(r) / Phi(r) */
    if (r < -30.0)
        ratio = -r - 1.0 / r + 2.0 / (r * r * r); /* Mills ratio asymptotics */
    else
        ratio = exp(-0.5 * r * r) / sqrt(2.0 * M_PI) / (0.5 * erfc(-r / sqrt(2.0)));
    return v + se * ratio;
}

/* Per-row accumulator layout inside a block buffer (doubles). */
typedef struct layout {
    size_t E, T;                 /* statistics; upper-triangle size E (E + 1) / 2 */
    size_t S, used, Sg, good, Mg, Mt, gsum, gcnt, tMt, per_row;
} layout;

static layout layout_of(const tt_grf *f, int with_var)
{
    layout L = {0};
    L.E = f->D - 1;
    L.T = L.E * (L.E + 1) / 2;
    size_t o = 0;
    L.S = o, o += L.E;
    L.used = o, o += 1;
    if (with_var) {
        L.Sg = o, o += L.E;
        L.good = o, o += 1;
        L.Mg = o, o += L.T;
        L.Mt = o, o += L.T;
        L.gsum = o, o += L.E;
        L.gcnt = o, o += 1;
        L.tMt = o, o += L.T;
    }
    L.per_row = o;
    return L;
}

/* Rows per block: as many as fit ~512 KB of rows and accumulators, since
 * every block reloads every tree (a 128-row block made a 50k-row regression
 * forest stream each tree from memory 100 times); at least 4 blocks per
 * thread so the threads stay balanced. */
static size_t block_rows(const tt_grf *f, size_t n, size_t threads, int with_var)
{
    const layout L = layout_of(f, with_var);
    size_t rows = 65536 / (L.per_row + (f->p ? f->p : 1));
    size_t balanced = (n + 4 * threads - 1) / (4 * threads);
    rows = rows < balanced ? rows : balanced;
    return rows < 16 ? 16 : (rows > 8192 ? 8192 : rows);
}

static void add_upper(double *M, const double *v, size_t E, double scale)
{
    size_t k = 0;
    for (size_t a = 0; a < E; a++) {
        const double va = scale * v[a];
        for (size_t b = a; b < E; b++)
            M[k++] += va * v[b];
    }
}

static double quad_upper(const double *M, const double *l, size_t E)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t a = 0; a < E; a++)
        for (size_t b = a; b < E; b++, k++)
            s += (a == b ? 1.0 : 2.0) * l[a] * l[b] * M[k];
    return s;
}

/* Trees of group g (or all trees, without variance) for the block's rows. */
static void walk_group(const pred_job *j, const layout *L, size_t t0, size_t t1, size_t lo,
                       size_t hi, const double *rows, double *acc, int with_var)
{
    const tt_grf *f = j->f;
    const size_t p = f->p, D = f->D, E = L->E;
    for (size_t t = t0; t < t1; t++) {
        const tt_tree *tr = &f->trees[t];
        const uint8_t *bits = j->inbag ? j->inbag + t * j->bytes : NULL;
        for (size_t i = lo; i < hi; i++) {
            if (bits && (bits[i / 8] & (1u << (i % 8))))
                continue;
            const double *v = tr->value + tt_tree_leaf_row(tr, rows + (i - lo) * p) * D;
            if (v[0] == 0.0)
                continue; /* empty honest leaf (pruning off): the tree abstains */
            double *a = acc + (i - lo) * L->per_row;
            for (size_t e = 0; e < E; e++)
                a[L->S + e] += v[1 + e];
            a[L->used] += 1.0;
            if (!with_var)
                continue;
            for (size_t e = 0; e < E; e++)
                a[L->gsum + e] += v[1 + e];
            a[L->gcnt] += 1.0;
            add_upper(a + L->tMt, v + 1, E, 1.0);
        }
    }
}

/* Solves one row from its accumulators. */
static void finish_row(const pred_job *j, const layout *L, size_t i, const double *a)
{
    const tt_grf *f = j->f;
    const size_t q = f->q, d = f->d, ny = f->ny, E = L->E, G = f->group;
    const int reg = f->kind == TT_GRF_REGRESSION;
    double S[TT_GRF_MAX_E];
    double Ji[TT_GRF_MAX_Q * TT_GRF_MAX_Q], B[TT_GRF_MAX_E] = {0}; /* q x ny, row-major */
    const double used = a[L->used];
    int ok = used > 0.0;
    if (ok) {
        for (size_t e = 0; e < E; e++)
            S[e] = a[L->S + e] / used;
        ok = tt_grf_invert(q, S, Ji);
    }
    if (ok)
        for (size_t r = 0; r < q; r++)
            for (size_t c = 0; c < ny; c++)
                for (size_t e = 0; e < q; e++)
                    B[r * ny + c] += Ji[r * q + e] * S[q * q + e * ny + c];
    for (size_t o = 0; o < d; o++) {
        /* Output o: regression's intercept for column o, else theta_o. */
        const size_t br = reg ? 0 : 1 + o, bc = reg ? o : 0;
        j->est[o * j->n + i] = ok ? B[br * ny + bc] : NAN;
        if (!j->var)
            continue;
        const double good = G > 1 ? a[L->good] : 0.0;
        if (!ok || good < 2.0) {
            j->var[o * j->n + i] = NAN;
            continue;
        }
        /* psi_o(s) = l . s with l from m = s_uy,bc - s_uv B_bc, psi = Ji m
         * (row br); the other columns of s_uy do not enter. */
        double l[TT_GRF_MAX_E] = {0};
        const double *row = Ji + br * q;
        for (size_t r = 0; r < q; r++) {
            l[q * q + r * ny + bc] = row[r];
            for (size_t e = 0; e < q; e++)
                l[r * q + e] = -row[r] * B[e * ny + bc];
        }
        double mean = 0.0;
        for (size_t e = 0; e < E; e++)
            mean += l[e] * a[L->Sg + e];
        mean /= good;
        const double between = quad_upper(a + L->Mg, l, E) / good - mean * mean;
        const double total = quad_upper(a + L->Mt, l, E) / (good * (double)G) - mean * mean;
        const double noise = (total - between) / (double)(G - 1);
        j->var[o * j->n + i] = debias(between, noise, good);
    }
}

static void predict_block(void *ctx, size_t c, size_t thread)
{
    const pred_job *j = ctx;
    const tt_grf *f = j->f;
    const int with_var = j->var && f->group > 1;
    const layout L = layout_of(f, with_var);
    const size_t p = f->p, lo = c * j->block, hi = lo + j->block < j->n ? lo + j->block : j->n;
    double *rows = j->buf[thread], *acc = rows + j->block * (p ? p : 1);
    for (size_t i = lo; i < hi; i++)
        for (size_t k = 0; k < p; k++)
            rows[(i - lo) * p + k] = j->x[k * j->n + i];
    memset(acc, 0, (hi - lo) * L.per_row * sizeof *acc);
    if (!with_var) {
        walk_group(j, &L, 0, f->n_trees, lo, hi, rows, acc, 0);
    } else {
        const size_t G = f->group, E = L.E;
        for (size_t t0 = 0; t0 < f->n_trees; t0 += G) {
            const size_t t1 = t0 + G < f->n_trees ? t0 + G : f->n_trees;
            for (size_t i = lo; i < hi; i++) {
                double *a = acc + (i - lo) * L.per_row;
                memset(a + L.gsum, 0, E * sizeof *a);
                a[L.gcnt] = 0.0;
                memset(a + L.tMt, 0, L.T * sizeof *a);
            }
            walk_group(j, &L, t0, t1, lo, hi, rows, acc, 1);
            for (size_t i = lo; i < hi; i++) {
                double *a = acc + (i - lo) * L.per_row;
                if (a[L.gcnt] != (double)G)
                    continue; /* a tree abstained or held the row: not a good group */
                for (size_t e = 0; e < E; e++)
                    a[L.Sg + e] += a[L.gsum + e] / (double)G;
                add_upper(a + L.Mg, a + L.gsum, E, 1.0 / ((double)G * (double)G));
                for (size_t k = 0; k < L.T; k++)
                    a[L.Mt + k] += a[L.tMt + k];
                a[L.good] += 1.0;
            }
        }
    }
    for (size_t i = lo; i < hi; i++)
        finish_row(j, &L, i, acc + (i - lo) * L.per_row);
}

static tt_status run_predict(pred_job *j, size_t threads, char *err, size_t errlen)
{
    const int with_var = j->var && j->f->group > 1;
    const layout L = layout_of(j->f, with_var);
    const size_t p = j->f->p ? j->f->p : 1;
    tt_status st = TT_OK;
    j->block = block_rows(j->f, j->n, threads, with_var);
    j->buf = calloc(threads, sizeof *j->buf);
    if (!j->buf)
        st = TT_ERR_NOMEM;
    for (size_t t = 0; st == TT_OK && t < threads; t++) {
        j->buf[t] = tt_malloc_array(j->block, (p + L.per_row) * sizeof **j->buf);
        if (!j->buf[t])
            st = TT_ERR_NOMEM;
    }
    if (st == TT_OK)
        tt_learn_parallel(threads, (j->n + j->block - 1) / j->block, predict_block, j);
    for (size_t t = 0; j->buf && t < threads; t++)
        free(j->buf[t]);
    free(j->buf);
    if (st != TT_OK)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "grf: no memory for prediction buffers");
    return TT_OK;
}

tt_status tt_grf_predict(const tt_grf *f, size_t n, const double *x, double *est, double *var,
                         char *err, size_t errlen)
{
    if (!f || !est || (n > 0 && f->p > 0 && !x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf predict: NULL forest, x or est");
    if (n == 0)
        return TT_OK;
    pred_job j = {.f = f, .n = n, .x = x, .est = est, .var = var};
    return run_predict(&j, f->threads, err, errlen);
}

tt_status tt_grf_predict_oob(const tt_grf *f, double *est, double *var, char *err,
                             size_t errlen)
{
    if (!f || !est)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf oob: NULL forest or est");
    if (!f->oob_est)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "grf oob: out-of-bag estimates exist "
                       "only for a forest fitted in this process without skip_oob (they are "
                       "not saved)");
    memcpy(est, f->oob_est, f->n_train * f->d * sizeof *est);
    if (var)
        memcpy(var, f->oob_var, f->n_train * f->d * sizeof *var);
    return TT_OK;
}

/* ---- fit ---------------------------------------------------------------------- */

/* u and v rows (grf_internal.h) from the caller's columns. */
static tt_status build_uv(tt_grf_kind kind, const tt_grf_data *d, size_t q, double **u,
                          double **v)
{
    const size_t n = d->n;
    *u = tt_malloc_array(n, q * sizeof **u);
    *v = kind == TT_GRF_INSTRUMENTAL ? tt_malloc_array(n, q * sizeof **v) : *u;
    if (!*u || !*v)
        return TT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        (*u)[i * q] = 1.0;
        (*v)[i * q] = 1.0;
        if (kind == TT_GRF_CAUSAL)
            for (size_t c = 1; c < q; c++)
                (*u)[i * q + c] = d->w[(c - 1) * n + i];
        if (kind == TT_GRF_INSTRUMENTAL) {
            (*u)[i * q + 1] = d->z[i];
            (*v)[i * q + 1] = d->w[i];
        }
    }
    return TT_OK;
}

static tt_status alloc_trace(tt_grf_trace *tr, size_t n_trees)
{
    memset(tr, 0, sizeof *tr);
    tr->n_split = calloc(n_trees, sizeof *tr->n_split);
    tr->n_fill = calloc(n_trees, sizeof *tr->n_fill);
    tr->split_rows = calloc(n_trees, sizeof *tr->split_rows);
    tr->fill_rows = calloc(n_trees, sizeof *tr->fill_rows);
    tr->split_mult = calloc(n_trees, sizeof *tr->split_mult);
    tr->fill_mult = calloc(n_trees, sizeof *tr->fill_mult);
    tr->n_trees = n_trees;
    return tr->n_split && tr->n_fill && tr->split_rows && tr->fill_rows && tr->split_mult &&
                   tr->fill_mult
               ? TT_OK
               : TT_ERR_NOMEM;
}

static size_t sizes(const tt_grf_options *o, size_t n, fit_job *j)
{
    j->half = n / 2;
    size_t avail = o->ci_group_size > 1 ? j->half : n;
    size_t m = (size_t)llround(o->sample_fraction * (double)n);
    m = m < 2 ? 2 : m;
    j->m = m > avail && !o->bootstrap ? avail : m;
    j->honesty = o->honesty && j->m >= 2;
    j->honesty_fraction = o->honesty_fraction;
    j->m_grow = j->m;
    if (j->honesty) {
        size_t g = (size_t)llround((1.0 - o->honesty_fraction) * (double)j->m);
        j->m_grow = g < 1 ? 1 : (g >= j->m ? j->m - 1 : g);
    }
    return avail;
}

static tt_status fit(tt_grf_kind kind, const tt_grf_data *d, size_t ny,
                     const tt_grf_options *opt, volatile const int *stop, tt_grf_trace *trace,
                     tt_grf **out, char *err, size_t errlen)
{
    if (!out || !opt)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf: NULL options or out");
    *out = NULL;
    tt_status st = check_data(kind, d, ny, err, errlen);
    if (st == TT_OK)
        st = check_options(opt, d->n, err, errlen);
    if (st != TT_OK)
        return st;
    const size_t n = d->n, p = d->p;
    const size_t k = kind == TT_GRF_CAUSAL ? d->k : (kind == TT_GRF_INSTRUMENTAL ? 1 : 0);
    tt_grf *f = calloc(1, sizeof *f);
    double *u = NULL, *v = NULL;
    tt_grf_entry *order = NULL;
    fit_job job = {0};
    tt_grf_grow_ctx c = {0};
    size_t threads = tt_learn_threads((double)opt->threads);
    if (!f)
        goto nomem;
    f->kind = kind, f->p = p, f->k = k, f->q = k + 1;
    f->ny = ny;
    f->d = kind == TT_GRF_REGRESSION ? f->ny : k;
    f->D = 1 + f->q * f->q + f->q * f->ny;
    f->n_trees = opt->n_trees, f->group = opt->ci_group_size, f->threads = threads;
    f->n_train = n;
    f->trees = calloc(f->n_trees, sizeof *f->trees);
    if (!f->trees || build_uv(kind, d, f->q, &u, &v) != TT_OK)
        goto nomem;
    if (tt_grf_presort(n, p, d->x, threads, &order) != TT_OK)
        goto nomem;
    size_t mtry = opt->mtry ? opt->mtry : (size_t)ceil(sqrt((double)p) + 20.0);
    size_t avail = sizes(opt, n, &job);
    c = (tt_grf_grow_ctx){.kind = kind, .n = n, .p = p, .k = k, .q = f->q, .ny = f->ny,
                          .d = f->d, .D = f->D, .order = order, .x = d->x, .u = u, .v = v,
                          .y = d->y, .wt = d->weight, .mtry = mtry > p ? p : mtry,
                          .min_node_size = opt->min_node_size, .alpha = opt->alpha,
                          .imbalance_penalty = opt->imbalance_penalty,
                          .prune = opt->honesty_prune_leaves, .bootstrap = opt->bootstrap != 0,
                          .max_depth = opt->max_depth, .min_leaf = opt->min_leaf,
                          .mtry_fixed = opt->mtry_fixed != 0,
                          /* bootstrap: the distinct rows of m draws, all growing
                           * at worst; else the fixed grow part */
                          .max_grow = opt->bootstrap ? (job.m < avail ? job.m : avail)
                                                     : job.m_grow};
    job.c = &c, job.f = f, job.stop = stop, job.trace = trace;
    job.group_stream = tt_rng_derive(opt->seed, "grf-groups");
    job.tree_stream = tt_rng_derive(opt->seed, "grf-trees");
    job.bytes = (n + 7) / 8;
    job.inbag = calloc(f->n_trees, job.bytes);
    job.wk = calloc(threads, sizeof *job.wk);
    job.pool = calloc(threads, sizeof *job.pool);
    job.sub = calloc(threads, sizeof *job.sub);
    job.mult = calloc(threads, sizeof *job.mult);
    if (!job.inbag || !job.wk || !job.pool || !job.sub || !job.mult)
        goto nomem;
    for (size_t t = 0; t < threads; t++) {
        job.wk[t] = tt_grf_work_new(&c);
        job.pool[t] = tt_malloc_array(n, sizeof **job.pool);
        job.sub[t] = tt_malloc_array(avail, sizeof **job.sub);
        if (c.bootstrap && !(job.mult[t] = calloc(n, sizeof **job.mult)))
            goto nomem;
        if (!job.wk[t] || !job.pool[t] || !job.sub[t])
            goto nomem;
    }
    if (trace && alloc_trace(trace, f->n_trees) != TT_OK)
        goto nomem;
    const size_t groups = (f->n_trees + f->group - 1) / f->group;
    tt_learn_parallel(threads, groups, grow_group, &job);
    if (atomic_load(&job.failed))
        goto nomem;
    if (atomic_load(&job.stopped) || (stop && *stop)) {
        st = tt_errf(err, errlen, TT_ERR_STOPPED, "grf: stopped while growing trees");
        goto done;
    }
    if (!opt->skip_oob) {
        f->oob_est = tt_malloc_array(n, f->d * sizeof *f->oob_est);
        f->oob_var = tt_malloc_array(n, f->d * sizeof *f->oob_var);
        if (!f->oob_est || !f->oob_var)
            goto nomem;
        pred_job pj = {.f = f, .n = n, .x = d->x, .est = f->oob_est, .var = f->oob_var,
                       .inbag = job.inbag, .bytes = job.bytes};
        if ((st = run_predict(&pj, threads, err, errlen)) != TT_OK)
            goto done;
    }
    *out = f;
    f = NULL;
    goto done;
nomem:
    st = tt_errf(err, errlen, TT_ERR_NOMEM, "grf: no memory for %zu trees on %zu x %zu data",
                 opt->n_trees, n, p);
done:
    for (size_t t = 0; t < threads; t++) {
        if (job.wk)
            tt_grf_work_free(job.wk[t]);
        if (job.pool)
            free(job.pool[t]);
        if (job.sub)
            free(job.sub[t]);
        if (job.mult)
            free(job.mult[t]);
    }
    free(job.wk);
    free(job.pool);
    free(job.sub);
    free(job.mult);
    free(job.inbag);
    if (v != u)
        free(v);
    free(u);
    free(order);
    tt_grf_free(f);
    return st;
}

tt_status tt_grf_fit_traced(tt_grf_kind kind, const tt_grf_data *d, const tt_grf_options *opt,
                            volatile const int *stop, tt_grf_trace *trace, tt_grf **out,
                            char *err, size_t errlen)
{
    return fit(kind, d, 1, opt, stop, trace, out, err, errlen);
}

tt_status tt_grf_fit_multi_traced(const tt_grf_data *d, size_t ny, const tt_grf_options *opt,
                                  volatile const int *stop, tt_grf_trace *trace, tt_grf **out,
                                  char *err, size_t errlen)
{
    return fit(TT_GRF_REGRESSION, d, ny, opt, stop, trace, out, err, errlen);
}

tt_status tt_grf_fit(tt_grf_kind kind, const tt_grf_data *d, const tt_grf_options *opt,
                     volatile const int *stop, tt_grf **out, char *err, size_t errlen)
{
    return fit(kind, d, 1, opt, stop, NULL, out, err, errlen);
}

tt_status tt_grf_fit_multi(const tt_grf_data *d, size_t ny, const tt_grf_options *opt,
                           volatile const int *stop, tt_grf **out, char *err, size_t errlen)
{
    return fit(TT_GRF_REGRESSION, d, ny, opt, stop, NULL, out, err, errlen);
}

/* ---- save / load ---------------------------------------------------------------
 * "grf <version>"
 * "forest <kind> <p> <k> <n_trees> <ci_group_size> <ny>" (version 1: no ny, 1)
 * per tree "tree <n_nodes>", then per node either "split <feature> <threshold>
 * <left>" (right = left + 1) or "leaf <count>" followed by "v ..." lines of at
 * most 8 values (the D - 1 averaged statistics); finally "end grf". */

static tt_status save_leaf(tt_learn_writer *w, const double *v, size_t D)
{
    tt_status st = tt_learn_emit(w, "leaf %.17g\n", v[0]);
    for (size_t s = 1; s < D && st == TT_OK; s += VALUES_PER_LINE) {
        char line[TT_LEARN_LINE_MAX];
        size_t used = (size_t)snprintf(line, sizeof line, "v");
        for (size_t e = s; e < D && e < s + VALUES_PER_LINE; e++)
            used += (size_t)snprintf(line + used, sizeof line - used, " %.17g", v[e]);
        st = tt_learn_emit(w, "%s\n", line);
    }
    return st;
}

tt_status tt_grf_write(const tt_grf *f, tt_learn_writer *w)
{
    tt_status st = tt_learn_emit(w, "grf %d\n", FORMAT_VERSION);
    if (st == TT_OK)
        st = tt_learn_emit(w, "forest %d %zu %zu %zu %zu %zu\n", (int)f->kind, f->p, f->k,
                           f->n_trees, f->group, f->ny);
    for (size_t t = 0; t < f->n_trees && st == TT_OK; t++) {
        const tt_tree *tr = &f->trees[t];
        st = tt_learn_emit(w, "tree %zu\n", tr->n_nodes);
        for (size_t k = 0; k < tr->n_nodes && st == TT_OK; k++) {
            const tt_tree_node *nd = &tr->node[k];
            if (nd->feature >= 0)
                st = tt_learn_emit(w, "split %d %.17g %d\n", (int)nd->feature, nd->threshold,
                                   (int)nd->left);
            else
                st = save_leaf(w, tr->value + k * f->D, f->D);
        }
    }
    if (st == TT_OK)
        st = tt_learn_emit(w, "end grf\n");
    return st;
}

tt_status tt_grf_save(const tt_grf *f, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    if (!f || !sink || !sink->write)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf save: NULL forest or sink");
    locale_t c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "grf save: cannot create the C locale");
    locale_t old = uselocale(c_loc);
    tt_learn_writer w = {sink, err, errlen};
    tt_status st = tt_grf_write(f, &w);
    uselocale(old);
    freelocale(c_loc);
    return st;
}

static tt_status load_values(tt_learn_reader *r, double *v, size_t D)
{
    tt_status st = TT_OK;
    for (size_t s = 1; s < D && st == TT_OK; s += VALUES_PER_LINE) {
        const char *rest = NULL;
        if ((st = tt_learn_read_item(r, "v", &rest)) != TT_OK)
            return st;
        for (size_t e = s; e < D && e < s + VALUES_PER_LINE && st == TT_OK; e++)
            st = tt_learn_next_double(r, &rest, &v[e]);
        if (st == TT_OK && *rest != '\0')
            return tt_learn_parse_error(r, "trailing text on a value line");
    }
    return st;
}

static tt_status load_node(tt_learn_reader *r, const tt_grf *f, tt_tree *tr, size_t k, size_t nn)
{
    tt_status st = tt_learn_read_line(r);
    if (st != TT_OK)
        return st;
    const char *s = r->line;
    if (strncmp(s, "split ", 6) == 0) {
        long feat = 0, left = 0;
        double thr = 0.0;
        s += 6;
        if ((st = tt_learn_next_long(r, &s, &feat)) != TT_OK ||
            (st = tt_learn_next_double(r, &s, &thr)) != TT_OK ||
            (st = tt_learn_next_long(r, &s, &left)) != TT_OK)
            return st;
        if (*s != '\0' || feat < 0 || (size_t)feat >= f->p || left <= (long)k ||
            (size_t)left + 1 >= nn)
            return tt_learn_parse_error(r, "bad split node");
        tr->node[k] = (tt_tree_node){thr, (int32_t)feat, (int32_t)left};
        return TT_OK;
    }
    if (strncmp(s, "leaf ", 5) != 0)
        return tt_learn_parse_error(r, "expected a split or leaf node");
    s += 5;
    double *v = tr->value + k * f->D;
    if ((st = tt_learn_next_double(r, &s, &v[0])) != TT_OK)
        return st;
    if (*s != '\0' || !(v[0] >= 0.0))
        return tt_learn_parse_error(r, "bad leaf count");
    return load_values(r, v, f->D);
}

static tt_status load_tree(tt_learn_reader *r, const tt_grf *f, tt_tree *tr)
{
    uint64_t nn = 0;
    tr->d = f->D;
    tt_status st = tt_tree_read_count(r, &nn);
    if (st != TT_OK)
        return st;
    for (size_t k = 0; k < nn && st == TT_OK; k++) {
        if (tt_tree_add(tr) < 0)
            return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "grf load: no memory");
        memset(tr->value + k * f->D, 0, f->D * sizeof *tr->value);
        st = load_node(r, f, tr, k, nn);
    }
    return st;
}

tt_status tt_grf_read(tt_learn_reader *r, tt_grf **out)
{
    const char *rest = NULL;
    long ver = 0, kind = 0, p = 0, k = 0, nt = 0, group = 0, ny = 1;
    tt_status st = tt_learn_read_item(r, "grf", &rest);
    if (st == TT_OK && (st = tt_learn_next_long(r, &rest, &ver)) == TT_OK &&
        ver != FORMAT_VERSION && ver != 1)
        return tt_learn_parse_error(r, "unknown grf format version");
    if (st == TT_OK)
        st = tt_learn_read_item(r, "forest", &rest);
    if (st == TT_OK && ((st = tt_learn_next_long(r, &rest, &kind)) != TT_OK ||
                        (st = tt_learn_next_long(r, &rest, &p)) != TT_OK ||
                        (st = tt_learn_next_long(r, &rest, &k)) != TT_OK ||
                        (st = tt_learn_next_long(r, &rest, &nt)) != TT_OK ||
                        (st = tt_learn_next_long(r, &rest, &group)) != TT_OK ||
                        (ver >= 2 && (st = tt_learn_next_long(r, &rest, &ny)) != TT_OK)))
        return st;
    if (st != TT_OK)
        return st;
    int kind_ok = (kind == TT_GRF_REGRESSION && k == 0 && ny >= 1 && ny <= TT_GRF_MAX_Y) ||
                  (kind == TT_GRF_CAUSAL && k >= 1 && k <= TT_GRF_MAX_K && ny == 1) ||
                  (kind == TT_GRF_INSTRUMENTAL && k == 1 && ny == 1);
    if (*rest != '\0' || !kind_ok || p < 0 || p > 100000000 || nt < 1 || nt > 10000000 ||
        group < 1 || group > nt)
        return tt_learn_parse_error(r, "bad grf header");
    tt_grf *f = calloc(1, sizeof *f);
    if (!f || !(f->trees = calloc((size_t)nt, sizeof *f->trees))) {
        free(f);
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "grf load: no memory");
    }
    f->kind = (tt_grf_kind)kind, f->p = (size_t)p, f->k = (size_t)k, f->q = f->k + 1;
    f->ny = (size_t)ny;
    f->d = f->kind == TT_GRF_REGRESSION ? f->ny : f->k;
    f->D = 1 + f->q * f->q + f->q * f->ny;
    f->n_trees = (size_t)nt, f->group = (size_t)group, f->threads = tt_learn_threads(0.0);
    for (size_t t = 0; t < f->n_trees && st == TT_OK; t++)
        st = load_tree(r, f, &f->trees[t]);
    if (st == TT_OK && (st = tt_learn_read_item(r, "end", &rest)) == TT_OK &&
        strcmp(rest, "grf") != 0)
        st = tt_learn_parse_error(r, "expected 'end grf'");
    if (st != TT_OK) {
        tt_grf_free(f);
        return st;
    }
    *out = f;
    return TT_OK;
}

tt_status tt_grf_load(const tt_plugin_source *src, tt_grf **out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf load: out is NULL");
    *out = NULL;
    if (!src || !src->read)
        return tt_errf(err, errlen, TT_ERR_INVALID, "grf load: NULL source");
    tt_learn_reader r = {.src = src, .err = err, .errlen = errlen};
    r.c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (r.c_loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "grf load: cannot create the C locale");
    tt_status st = tt_grf_read(&r, out);
    freelocale(r.c_loc);
    return st;
}

tt_status tt_grf_split_frequency(const tt_grf *f, int max_depth, double decay, double *out,
                                 char *err, size_t errlen)
{
    if (!f || !out || max_depth < 1 || max_depth > 32 || !(decay >= 0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "split frequency: bad arguments");
    const size_t p = f->p;
    double *count = calloc((size_t)max_depth * p + 1, sizeof *count);
    double *total = calloc((size_t)max_depth + 1, sizeof *total);
    int32_t *queue = NULL;
    int *depth = NULL;
    size_t cap = 0;
    tt_status st = count && total ? TT_OK : TT_ERR_NOMEM;
    for (size_t b = 0; st == TT_OK && b < f->n_trees; b++) {
        const tt_tree *t = &f->trees[b];
        if (t->n_nodes == 0)
            continue;
        if (t->n_nodes > cap) {
            cap = t->n_nodes;
            int32_t *q2 = realloc(queue, cap * sizeof *q2);
            int *d2 = q2 ? realloc(depth, cap * sizeof *d2) : NULL;
            if (q2)
                queue = q2;
            if (d2)
                depth = d2;
            if (!q2 || !d2) {
                st = TT_ERR_NOMEM;
                break;
            }
        }
        /* Breadth first from the root (depth 1) down to max_depth. */
        size_t head = 0, tail = 0;
        queue[tail] = 0, depth[tail++] = 1;
        while (head < tail) {
            int32_t node = queue[head];
            int dd = depth[head++];
            const tt_tree_node *nd = &t->node[node];
            if (nd->feature < 0 || dd > max_depth)
                continue;
            count[(size_t)(dd - 1) * p + (size_t)nd->feature] += 1.0;
            total[dd - 1] += 1.0;
            if (tail + 2 <= cap) {
                queue[tail] = nd->left, depth[tail++] = dd + 1;
                queue[tail] = nd->left + 1, depth[tail++] = dd + 1;
            }
        }
    }
    if (st == TT_OK) {
        double wsum = 0.0;
        for (size_t j = 0; j < p; j++)
            out[j] = 0.0;
        /* As grf: every depth's weight counts, a depth without splits adds 0. */
        for (int dd = 1; dd <= max_depth; dd++) {
            double w = pow((double)dd, -decay);
            wsum += w;
            for (size_t j = 0; total[dd - 1] > 0 && j < p; j++)
                out[j] += w * count[(size_t)(dd - 1) * p + j] / total[dd - 1];
        }
        for (size_t j = 0; wsum > 0 && j < p; j++)
            out[j] /= wsum;
    } else {
        tt_errf(err, errlen, st, "split frequency: out of memory");
    }
    free(count), free(total), free(queue), free(depth);
    return st;
}
