/*
 * forest.c - the random forest learner ("forest") on the tree engine.
 *
 * Regression: leaves hold the weighted mean of y, the forest averages trees.
 * Classification (classify = 1, labels 0..K-1): trees grow on one-hot labels
 * (the sum-of-squares criterion on one-hot vectors is the Gini criterion) and
 * leaves hold class frequencies; K = 2 predicts P(y = 1) as one output.
 * Each tree draws its own random stream from (seed, tree index), so the
 * forest is the same for any thread count; predictions sum trees in index
 * order, so they are bit-identical too.
 */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "learn/tree.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

#define MAX_CLASSES 32

enum {
    P_TREES, P_MTRY, P_MIN_LEAF, P_MAX_DEPTH, P_FRACTION, P_BOOTSTRAP, P_HONESTY,
    P_HONESTY_FRACTION, P_MIN_SHARE, P_CLASSIFY, P_OOB, P_THREADS, P_MAX_BINS, P_EXACT
};

typedef struct forest {
    size_t p, d, n_out, n_trees, threads;
    tt_tree *trees;
    double *oob; /* n_oob x n_out column-major, training rows; NULL unless asked */
    size_t n_oob;
} forest;

static void forest_free(void *model)
{
    forest *f = model;
    if (!f)
        return;
    for (size_t t = 0; t < f->n_trees; t++)
        tt_tree_free(&f->trees[t]);
    free(f->trees);
    free(f->oob);
    free(f);
}

typedef struct fit_job {
    const double *param;
    const tt_fit_input *in;
    const tt_bins *bins;
    const double *g;
    size_t d, m, m_grow;
    tt_tree_params tp;
    forest *f;
    tt_tree_work **wk;
    size_t **idx;
    uint8_t *inbag; /* n_trees x n bits, or NULL */
    uint64_t stream;
    atomic_int failed;
} fit_job;

static void grow_one(void *ctx, size_t t, size_t thread)
{
    fit_job *j = ctx;
    const size_t n = j->in->n;
    size_t *idx = j->idx[thread];
    tt_rng rng;
    tt_rng_seed(&rng, j->stream + t, "forest-tree");
    if (j->param[P_BOOTSTRAP] != 0.0) {
        for (size_t r = 0; r < j->m; r++)
            idx[r] = (size_t)tt_rng_below(&rng, n);
    } else {
        /* Without replacement: the first m places of a partial shuffle. */
        for (size_t r = 0; r < n; r++)
            idx[r] = r;
        for (size_t r = 0; r < j->m; r++) {
            size_t k = r + (size_t)tt_rng_below(&rng, n - r);
            size_t tmp = idx[r];
            idx[r] = idx[k];
            idx[k] = tmp;
        }
    }
    if (j->inbag) {
        uint8_t *bits = j->inbag + t * ((n + 7) / 8);
        for (size_t r = 0; r < j->m; r++)
            bits[idx[r] / 8] |= (uint8_t)(1u << (idx[r] % 8));
    }
    tt_tree *tree = &j->f->trees[t];
    tt_status st = tt_tree_grow(j->bins, j->g, j->d, j->in->w, idx, j->m_grow, &j->tp, &rng,
                                j->wk[thread], tree);
    /* Honesty: the rows after m_grow never saw a split; they set the leaves. */
    if (st == TT_OK && j->m_grow < j->m)
        st = tt_tree_refill(tree, j->bins, j->g, j->in->w, idx + j->m_grow, j->m - j->m_grow);
    if (st != TT_OK)
        atomic_store(&j->failed, 1);
}

typedef struct oob_job {
    const forest *f;
    const tt_bins *bins;
    const uint8_t *inbag;
    size_t n;
} oob_job;

#define CHUNK 256

static void oob_chunk(void *ctx, size_t c, size_t thread)
{
    (void)thread;
    oob_job *j = ctx;
    const forest *f = j->f;
    const size_t d = f->d, bytes = (j->n + 7) / 8;
    double acc[MAX_CLASSES];
    for (size_t i = c * CHUNK; i < j->n && i < (c + 1) * CHUNK; i++) {
        size_t cnt = 0;
        memset(acc, 0, sizeof acc);
        for (size_t t = 0; t < f->n_trees; t++) {
            if (j->inbag[t * bytes + i / 8] & (1u << (i % 8)))
                continue;
            size_t leaf = tt_tree_leaf_train(&f->trees[t], j->bins, i);
            for (size_t k = 0; k < d; k++)
                acc[k] += f->trees[t].value[leaf * d + k];
            cnt++;
        }
        for (size_t k = 0; k < d; k++)
            f->oob[k * j->n + i] = cnt ? acc[k] / (double)cnt : NAN;
    }
}

static tt_status make_targets(const double *param, const tt_fit_input *in, double **g,
                              size_t *d, size_t *n_out, char *err, size_t errlen)
{
    const size_t n = in->n;
    if (param[P_CLASSIFY] == 0.0) {
        *g = NULL; /* y itself: n x 1 row-major */
        *d = *n_out = 1;
        return TT_OK;
    }
    double kmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = in->y[i];
        if (v < 0.0 || v != floor(v) || v >= MAX_CLASSES)
            return tt_errf(err, errlen, TT_ERR_DATA, "y at row %zu is %g; class labels must "
                           "be 0, 1, ..., %d", i, v, MAX_CLASSES - 1);
        kmax = fmax(kmax, v);
    }
    size_t k = (size_t)kmax + 1;
    if (k < 2)
        return tt_errf(err, errlen, TT_ERR_DATA, "classification needs labels 0 and 1 at least");
    *n_out = *d = k == 2 ? 1 : k;
    if (k == 2) {
        *g = NULL;
        return TT_OK;
    }
    *g = calloc(n * k, sizeof **g);
    if (!*g)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu x %zu labels", n, k);
    for (size_t i = 0; i < n; i++)
        (*g)[i * k + (size_t)in->y[i]] = 1.0;
    return TT_OK;
}

static tt_status forest_fit(const double *param, const tt_fit_input *in, void **model,
                            size_t *n_outputs, char *err, size_t errlen)
{
    const size_t n = in->n, p = in->p;
    double *g_own = NULL;
    size_t d = 1, n_out = 1;
    tt_status st = make_targets(param, in, &g_own, &d, &n_out, err, errlen);
    if (st != TT_OK)
        return st;
    forest *f = calloc(1, sizeof *f);
    tt_bins bins = {0};
    fit_job job = {.param = param, .in = in, .bins = &bins, .g = g_own ? g_own : in->y, .d = d};
    size_t threads = tt_learn_threads(param[P_THREADS]);
    if (!f) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory");
        goto done;
    }
    f->p = p, f->d = d, f->n_out = n_out, f->threads = threads;
    f->n_trees = (size_t)param[P_TREES];
    f->trees = calloc(f->n_trees, sizeof *f->trees);
    job.f = f;
    job.m = (size_t)llround(param[P_FRACTION] * (double)n);
    if (job.m < 1)
        job.m = 1;
    if (param[P_BOOTSTRAP] == 0.0 && job.m > n)
        job.m = n;
    job.m_grow = job.m;
    if (param[P_HONESTY] != 0.0 && job.m >= 2) {
        job.m_grow = (size_t)llround((1.0 - param[P_HONESTY_FRACTION]) * (double)job.m);
        job.m_grow = job.m_grow < 1 ? 1 : (job.m_grow >= job.m ? job.m - 1 : job.m_grow);
    }
    size_t mtry = (size_t)param[P_MTRY];
    if (mtry == 0) /* scikit-learn's defaults: all features (regression), sqrt(p) (classes) */
        mtry = param[P_CLASSIFY] != 0.0 ? (size_t)fmax(1.0, floor(sqrt((double)p))) : p;
    job.tp = (tt_tree_params){mtry, (size_t)param[P_MIN_LEAF], (size_t)param[P_MAX_DEPTH],
                              param[P_MIN_SHARE], (size_t)param[P_EXACT]};
    job.stream = tt_rng_derive(in->seed, "forest");
    job.wk = calloc(threads, sizeof *job.wk);
    job.idx = calloc(threads, sizeof *job.idx);
    if (param[P_OOB] != 0.0) {
        job.inbag = calloc(f->n_trees, (n + 7) / 8);
        f->oob = tt_malloc_array(n, n_out * sizeof *f->oob);
        f->n_oob = n;
    }
    if (!f->trees || !job.wk || !job.idx || (param[P_OOB] != 0.0 && (!job.inbag || !f->oob))) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu trees", f->n_trees);
        goto done;
    }
    for (size_t t = 0; t < threads; t++) {
        job.wk[t] = tt_tree_work_new(p, d, TT_TREE_MAX_BINS);
        job.idx[t] = tt_malloc_array(n > job.m ? n : job.m, sizeof **job.idx);
        if (!job.wk[t] || !job.idx[t]) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for tree workspaces");
            goto done;
        }
    }
    if (tt_bins_build(n, p, in->x, (size_t)param[P_MAX_BINS], &bins) != TT_OK) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory to bin %zu x %zu features", n, p);
        goto done;
    }
    tt_learn_parallel(threads, f->n_trees, grow_one, &job);
    if (atomic_load(&job.failed)) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory while growing trees");
        goto done;
    }
    if (job.inbag) {
        oob_job oj = {f, &bins, job.inbag, n};
        tt_learn_parallel(threads, (n + CHUNK - 1) / CHUNK, oob_chunk, &oj);
    }
    *model = f;
    *n_outputs = n_out;
    f = NULL;
done:
    for (size_t t = 0; job.wk && t < threads; t++)
        tt_tree_work_free(job.wk[t]);
    for (size_t t = 0; job.idx && t < threads; t++)
        free(job.idx[t]);
    free(job.wk);
    free(job.idx);
    free(job.inbag);
    free(g_own);
    tt_bins_free(&bins);
    forest_free(f);
    return st;
}

typedef struct predict_job {
    const forest *f;
    size_t n;
    const double *x;
    double *out;
} predict_job;

static void predict_chunk(void *ctx, size_t c, size_t thread)
{
    (void)thread;
    predict_job *j = ctx;
    const forest *f = j->f;
    const size_t d = f->d, p = f->p, n = j->n, lo = c * CHUNK;
    const size_t hi = lo + CHUNK < n ? lo + CHUNK : n;
    double acc[MAX_CLASSES];
    double *rows = tt_malloc_array(CHUNK, (p ? p : 1) * sizeof *rows);
    if (rows)
        for (size_t i = lo; i < hi; i++)
            for (size_t q = 0; q < p; q++)
                rows[(i - lo) * p + q] = j->x[q * n + i];
    for (size_t i = lo; i < hi; i++) {
        memset(acc, 0, sizeof acc);
        for (size_t t = 0; t < f->n_trees; t++) {
            /* Without memory for the block, walk the columns directly. */
            size_t leaf = rows ? tt_tree_leaf_row(&f->trees[t], rows + (i - lo) * p)
                               : tt_tree_leaf(&f->trees[t], j->x, n, i);
            for (size_t k = 0; k < d; k++)
                acc[k] += f->trees[t].value[leaf * d + k];
        }
        for (size_t k = 0; k < d; k++)
            j->out[k * n + i] = acc[k] / (double)f->n_trees;
    }
    free(rows);
}

static void forest_predict(const void *model, size_t n, size_t p, const double *x, double *out)
{
    (void)p;
    const forest *f = model;
    predict_job j = {f, n, x, out};
    tt_learn_parallel(f->threads, (n + CHUNK - 1) / CHUNK, predict_chunk, &j);
}

static tt_status forest_oob(const void *model, size_t n, double *out, char *err, size_t errlen)
{
    const forest *f = model;
    if (!f->oob)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "forest: out-of-bag predictions need "
                       "oob = 1 at fit time (and are not saved)");
    if (n != f->n_oob)
        return tt_errf(err, errlen, TT_ERR_INVALID, "forest: fitted on %zu rows, asked for %zu",
                       f->n_oob, n);
    memcpy(out, f->oob, n * f->n_out * sizeof *out);
    return TT_OK;
}

/* Body: "forest <n_trees> <d>", then the trees (tt_tree_save). */
static tt_status forest_save(const void *model, tt_learn_writer *w)
{
    const forest *f = model;
    tt_status st = tt_learn_emit(w, "forest %zu %zu\n", f->n_trees, f->d);
    for (size_t t = 0; t < f->n_trees && st == TT_OK; t++)
        st = tt_tree_save(&f->trees[t], w);
    return st;
}

static tt_status forest_load(tt_learn_reader *r, const double *param, size_t p,
                             size_t n_outputs, void **model)
{
    const char *rest = NULL;
    tt_status st = tt_learn_read_item(r, "forest", &rest);
    if (st != TT_OK)
        return st;
    long nt = 0, d = 0;
    if ((st = tt_learn_next_long(r, &rest, &nt)) != TT_OK ||
        (st = tt_learn_next_long(r, &rest, &d)) != TT_OK)
        return st;
    if (*rest != '\0' || nt < 1 || nt > 1000000 || d < 1 || d > MAX_CLASSES ||
        (size_t)d != n_outputs)
        return tt_learn_parse_error(r, "bad forest header");
    forest *f = calloc(1, sizeof *f);
    if (!f || !(f->trees = calloc((size_t)nt, sizeof *f->trees))) {
        free(f);
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
    }
    f->p = p, f->d = (size_t)d, f->n_out = n_outputs, f->n_trees = (size_t)nt;
    f->threads = tt_learn_threads(param[P_THREADS]);
    for (size_t t = 0; t < f->n_trees && st == TT_OK; t++)
        st = tt_tree_load(r, p, f->d, &f->trees[t]);
    if (st != TT_OK) {
        forest_free(f);
        return st;
    }
    *model = f;
    return TT_OK;
}

static const tt_learner_param_spec forest_params[] = {
    {"n_trees", TT_PARAM_INT, 100.0, 1.0, 100000.0, 0, "number of trees"},
    {"mtry", TT_PARAM_INT, 0.0, 0.0, 1e6, 0,
     "features tried per split; 0 = all (regression) or sqrt(p) (classification)"},
    {"min_leaf", TT_PARAM_INT, 5.0, 1.0, 1e9, 0, "minimum rows per leaf"},
    {"max_depth", TT_PARAM_INT, 0.0, 0.0, 1000.0, 0, "0 = unlimited"},
    {"sample_fraction", TT_PARAM_REAL, 1.0, 1e-6, 1.0, 0, "rows drawn per tree / n"},
    {"bootstrap", TT_PARAM_BOOL, 1.0, 0.0, 1.0, 0, "draw with replacement (else subsample)"},
    {"honesty", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "split on one part, fill leaves from the other"},
    {"honesty_fraction", TT_PARAM_REAL, 0.5, 0.01, 0.99, 0, "share of the draw filling leaves"},
    {"min_share", TT_PARAM_REAL, 0.0, 0.0, 0.5, 0, "minimum child share of a node's rows"},
    {"classify", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "classification on labels 0..K-1"},
    {"oob", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "keep out-of-bag predictions of the training rows"},
    {"threads", TT_PARAM_INT, 0.0, 0.0, 1024.0, 0, "0 = all online CPUs"},
    {"max_bins", TT_PARAM_INT, 256.0, 2.0, 256.0, 0, "histogram bins per feature"},
    {"exact_below", TT_PARAM_INT, 64.0, 0.0, 4096.0, 0,
     "nodes of at most this many rows split on exact values; 0 = bins only"},
};

const tt_learner_ops tt_forest_ops = {
    .name = "forest",
    .format_version = 1,
    .params = forest_params,
    .n_params = sizeof forest_params / sizeof forest_params[0],
    .model_fit = forest_fit,
    .model_predict = forest_predict,
    .model_save = forest_save,
    .model_load = forest_load,
    .model_free = forest_free,
    .model_oob = forest_oob,
};
