/*
 * gbm_learner.c - the "gbm" learner: boosting rounds, losses, early
 * stopping, prediction and save/load around gbm.c's tree growth.
 *
 * Losses: squared error (regression), log-loss on one score (classify with
 * labels 0/1; predicts P(y = 1)), softmax over K scores (labels 0..K-1, K > 2;
 * predicts K probabilities). Early stopping holds out validation_fraction of
 * the rows (seeded) and keeps the rounds up to the best held-out loss.
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

#define MAX_CLASSES 32
#define CHUNK 256

enum {
    P_ROUNDS, P_LR, P_DEPTH, P_MIN_CHILD, P_LAMBDA, P_MIN_GAIN, P_SUBSAMPLE, P_COLSAMPLE,
    P_EARLY, P_VALFRAC, P_CLASSIFY, P_THREADS, P_MAX_BINS
};

typedef struct gbm {
    size_t d, n_rounds, threads; /* d scores per row; d trees per round */
    int kind;                    /* 0 regression, 1 binary, 2 softmax */
    double base[MAX_CLASSES];
    tt_tree *trees;              /* n_rounds x d */
} gbm;

static void gbm_free(void *model)
{
    gbm *m = model;
    if (!m)
        return;
    for (size_t t = 0; t < m->n_rounds * m->d; t++)
        tt_tree_free(&m->trees[t]);
    free(m->trees);
    free(m);
}

/* One exp and no data-dependent branch: e = exp(-|t|) is exp(-t) for
 * t >= 0 and exp(t) below, so the values are those of the two-sided form. */
static inline double sigmoid(double t)
{
    const double e = exp(-fabs(t));
    return (t >= 0.0 ? 1.0 : e) / (1.0 + e);
}

/* Scores of one row (stride n) to probabilities in place. */
static void softmax(double *s, size_t d, size_t stride)
{
    double mx = -INFINITY, z = 0.0;
    for (size_t k = 0; k < d; k++)
        mx = fmax(mx, s[k * stride]);
    for (size_t k = 0; k < d; k++)
        z += (s[k * stride] = exp(s[k * stride] - mx));
    for (size_t k = 0; k < d; k++)
        s[k * stride] /= z;
}

/* Loss of one row given its scores F (stride n). */
static double row_loss(int kind, const double *F, size_t d, size_t n, double y)
{
    if (kind == 0)
        return (F[0] - y) * (F[0] - y);
    if (kind == 1) {
        double p = sigmoid(F[0]);
        return -log(fmax(y == 1.0 ? p : 1.0 - p, 1e-15));
    }
    double mx = -INFINITY, z = 0.0;
    for (size_t k = 0; k < d; k++)
        mx = fmax(mx, F[k * n]);
    for (size_t k = 0; k < d; k++)
        z += exp(F[k * n] - mx);
    return -(F[(size_t)y * n] - mx - log(z));
}

typedef struct fit_state {
    size_t n, n_train, d;
    int kind;
    double *F, *gh, *delta; /* gh: d x n (g, h) pairs */
    size_t *rows, *idx;
} fit_state;

/* Rows per task of the per-round passes (gradients, score update); fewer
 * rows than two chunks run on the calling thread. */
#define ROW_CHUNK 4096

typedef struct round_job {
    fit_state *s;
    const tt_fit_input *in;
    size_t k;
    const tt_tree *tree;
    const tt_bins *bins;
} round_job;

static void gradient_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    const round_job *j = ctx;
    fit_state *s = j->s;
    const tt_fit_input *in = j->in;
    const size_t n = s->n, k = j->k;
    const size_t r1 = (task + 1) * ROW_CHUNK < s->n_train ? (task + 1) * ROW_CHUNK : s->n_train;
    double pr[MAX_CLASSES];
    for (size_t r = task * ROW_CHUNK; r < r1; r++) {
        size_t i = s->rows[r];
        double w = in->w ? in->w[i] : 1.0, y = in->y[i], gi, hi;
        if (s->kind == 0) {
            gi = s->F[i] - y;
            hi = 1.0;
        } else if (s->kind == 1) {
            double p = sigmoid(s->F[i]);
            gi = p - y;
            hi = p * (1.0 - p);
            hi = hi > 1e-16 ? hi : 1e-16;
        } else {
            for (size_t c = 0; c < s->d; c++)
                pr[c] = s->F[c * n + i];
            softmax(pr, s->d, 1);
            gi = pr[k] - (y == (double)k);
            hi = pr[k] * (1.0 - pr[k]);
            hi = hi > 1e-16 ? hi : 1e-16;
        }
        s->gh[2 * (k * n + i)] = w * gi;
        s->gh[2 * (k * n + i) + 1] = w * hi;
    }
}

/* Adds tree k's values to the scores: rows the tree was grown on have them
 * in delta, the others (subsample, validation) walk it. Resets delta. */
static void apply_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    const round_job *j = ctx;
    fit_state *s = j->s;
    const size_t n = s->n;
    double *F = s->F + j->k * n;
    const size_t i1 = (task + 1) * ROW_CHUNK < n ? (task + 1) * ROW_CHUNK : n;
    for (size_t i = task * ROW_CHUNK; i < i1; i++) {
        double v = s->delta[i];
        if (isnan(v))
            v = j->tree->value[tt_tree_leaf_binned(j->tree, j->bins, i)];
        F[i] += v;
        s->delta[i] = NAN;
    }
}

static void run_rows(tt_learn_pool *pool, size_t rows, void (*fn)(void *, size_t, size_t),
                     void *ctx)
{
    const size_t tasks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks < 2) {
        for (size_t t = 0; t < tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    tt_learn_pool_run(pool, tasks, fn, ctx);
}

static tt_status check_labels(const tt_fit_input *in, size_t *k_out, char *err, size_t errlen)
{
    double kmax = 0.0;
    for (size_t i = 0; i < in->n; i++) {
        double v = in->y[i];
        if (v < 0.0 || v != floor(v) || v >= MAX_CLASSES)
            return tt_errf(err, errlen, TT_ERR_DATA, "y at row %zu is %g; class labels must "
                           "be 0, 1, ..., %d", i, v, MAX_CLASSES - 1);
        kmax = fmax(kmax, v);
    }
    if (kmax < 1.0)
        return tt_errf(err, errlen, TT_ERR_DATA, "classification needs labels 0 and 1 at least");
    *k_out = (size_t)kmax + 1;
    return TT_OK;
}

static void base_scores(gbm *m, const tt_fit_input *in, const size_t *rows, size_t n_train)
{
    double cnt[MAX_CLASSES] = {0}, W = 0.0, sy = 0.0;
    for (size_t r = 0; r < n_train; r++) {
        size_t i = rows[r];
        double w = in->w ? in->w[i] : 1.0;
        W += w;
        sy += w * in->y[i];
        if (m->kind == 2)
            cnt[(size_t)in->y[i]] += w;
    }
    if (m->kind == 0) {
        m->base[0] = W > 0.0 ? sy / W : 0.0;
    } else if (m->kind == 1) {
        double p = W > 0.0 ? fmin(fmax(sy / W, 1e-6), 1.0 - 1e-6) : 0.5;
        m->base[0] = log(p / (1.0 - p));
    } else {
        for (size_t k = 0; k < m->d; k++)
            m->base[k] = log(fmax(cnt[k] / W, 1e-6));
    }
}

static tt_status gbm_fit(const double *param, const tt_fit_input *in, void **model,
                         size_t *n_outputs, char *err, size_t errlen)
{
    const size_t n = in->n, p = in->p;
    size_t k_classes = 1;
    tt_status st = TT_OK;
    if (param[P_CLASSIFY] != 0.0 && (st = check_labels(in, &k_classes, err, errlen)) != TT_OK)
        return st;
    gbm *m = calloc(1, sizeof *m);
    fit_state s = {0};
    tt_bins bins = {0};
    tt_gbm_work *wk = NULL;
    uint8_t *use = NULL, *colcode = NULL;
    size_t *feat = NULL;
    tt_learn_pool *pool = NULL;
    if (!m)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory");
    m->kind = param[P_CLASSIFY] == 0.0 ? 0 : (k_classes == 2 ? 1 : 2);
    m->d = m->kind == 2 ? k_classes : 1;
    m->threads = tt_learn_threads(param[P_THREADS]);
    const size_t rounds = (size_t)param[P_ROUNDS], depth = (size_t)param[P_DEPTH];
    const size_t early = (size_t)param[P_EARLY];
    s.n = n, s.d = m->d, s.kind = m->kind;
    s.F = tt_malloc_array(n, m->d * sizeof *s.F);
    s.gh = tt_malloc_array(n, 2 * m->d * sizeof *s.gh);
    s.delta = tt_malloc_array(n, sizeof *s.delta);
    s.rows = tt_malloc_array(n, sizeof *s.rows);
    s.idx = tt_malloc_array(n, sizeof *s.idx);
    m->trees = calloc(rounds * m->d, sizeof *m->trees);
    use = calloc(p ? p : 1, 1);
    feat = tt_malloc_array(p ? p : 1, sizeof *feat);
    wk = tt_gbm_work_new(n, p, depth);
    colcode = tt_malloc_array(n ? n : 1, p ? p : 1);
    pool = tt_learn_pool_new(m->threads);
    if (!s.F || !s.gh || !s.delta || !s.rows || !s.idx || !m->trees || !use || !feat ||
        !wk || !colcode || !pool ||
        tt_gbm_bins(n, p, in->x, (size_t)param[P_MAX_BINS], pool, &bins, colcode) != TT_OK) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu rows x %zu features", n, p);
        goto done;
    }
    tt_rng rng;
    tt_rng_seed(&rng, in->seed, "gbm");
    for (size_t i = 0; i < n; i++)
        s.rows[i] = i;
    size_t n_val = 0;
    if (early > 0 && n >= 4) {
        tt_rng_shuffle_size(&rng, s.rows, n);
        n_val = (size_t)llround(param[P_VALFRAC] * (double)n);
        n_val = n_val < 1 ? 1 : (n_val >= n ? n - 1 : n_val);
    }
    s.n_train = n - n_val;
    base_scores(m, in, s.rows, s.n_train);
    for (size_t k = 0; k < m->d; k++)
        for (size_t i = 0; i < n; i++)
            s.F[k * n + i] = m->base[k];
    for (size_t i = 0; i < n; i++)
        s.delta[i] = NAN;
    const size_t m_rows = (size_t)fmax(1.0, llround(param[P_SUBSAMPLE] * (double)s.n_train));
    const size_t m_feat = p ? (size_t)fmax(1.0, llround(param[P_COLSAMPLE] * (double)p)) : 0;
    double best_loss = INFINITY;
    size_t best_round = 0, done_rounds = 0;
    for (size_t t = 0; t < rounds; t++) {
        for (size_t k = 0; k < m->d; k++) {
            round_job j = {&s, in, k, NULL, &bins};
            run_rows(pool, s.n_train, gradient_task, &j);
        }
        for (size_t k = 0; k < m->d; k++) {
            /* Row subsample without replacement; all rows when subsample = 1. */
            memcpy(s.idx, s.rows, s.n_train * sizeof *s.idx);
            if (m_rows < s.n_train)
                for (size_t r = 0; r < m_rows; r++) {
                    size_t q = r + (size_t)tt_rng_below(&rng, s.n_train - r);
                    size_t tmp = s.idx[r];
                    s.idx[r] = s.idx[q];
                    s.idx[q] = tmp;
                }
            memset(use, 0, p);
            for (size_t j = 0; j < p; j++)
                feat[j] = j;
            for (size_t c = 0; c < m_feat; c++) {
                size_t q = c + (size_t)tt_rng_below(&rng, p - c);
                size_t tmp = feat[c];
                feat[c] = feat[q];
                feat[q] = tmp;
                use[feat[c]] = 1;
            }
            tt_tree *tree = &m->trees[t * m->d + k];
            if (tt_gbm_grow(wk, &bins, colcode, s.gh + 2 * k * n, s.idx, m_rows, use,
                            depth, param[P_LAMBDA], param[P_MIN_CHILD], param[P_MIN_GAIN],
                            param[P_LR], pool, tree, s.delta) != TT_OK) {
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory growing tree %zu", t);
                goto done;
            }
            round_job j = {&s, in, k, tree, &bins};
            run_rows(pool, n, apply_task, &j);
        }
        done_rounds = t + 1;
        if (n_val > 0) {
            double loss = 0.0;
            for (size_t r = s.n_train; r < n; r++)
                loss += (in->w ? in->w[s.rows[r]] : 1.0) *
                        row_loss(m->kind, s.F + s.rows[r], m->d, n, in->y[s.rows[r]]);
            if (loss < best_loss) {
                best_loss = loss;
                best_round = t + 1;
            } else if (t + 1 - best_round >= early) {
                break;
            }
        }
    }
    m->n_rounds = n_val > 0 ? best_round : done_rounds;
    for (size_t t = m->n_rounds * m->d; t < rounds * m->d; t++)
        tt_tree_free(&m->trees[t]);
    *model = m;
    *n_outputs = m->d;
    m = NULL;
done:
    if (m)
        m->n_rounds = rounds; /* free every (possibly empty) tree */
    gbm_free(m);
    free(s.F), free(s.gh), free(s.delta), free(s.rows), free(s.idx);
    free(use);
    free(colcode);
    free(feat);
    tt_learn_pool_free(pool);
    tt_gbm_work_free(wk);
    tt_bins_free(&bins);
    return st;
}

typedef struct predict_job {
    const gbm *m;
    size_t n;
    const double *x;
    double *out;
} predict_job;

static void predict_chunk(void *ctx, size_t c, size_t thread)
{
    (void)thread;
    predict_job *j = ctx;
    const gbm *m = j->m;
    const size_t n = j->n, d = m->d;
    for (size_t i = c * CHUNK; i < n && i < (c + 1) * CHUNK; i++) {
        for (size_t k = 0; k < d; k++) {
            double f = m->base[k];
            for (size_t t = 0; t < m->n_rounds; t++) {
                const tt_tree *tr = &m->trees[t * d + k];
                f += tr->value[tt_tree_leaf(tr, j->x, n, i)];
            }
            j->out[k * n + i] = f;
        }
        if (m->kind == 1)
            j->out[i] = sigmoid(j->out[i]);
        else if (m->kind == 2)
            softmax(j->out + i, d, n);
    }
}

static void gbm_predict(const void *model, size_t n, size_t p, const double *x, double *out)
{
    (void)p;
    const gbm *m = model;
    predict_job j = {m, n, x, out};
    tt_learn_parallel(m->threads, (n + CHUNK - 1) / CHUNK, predict_chunk, &j);
}

/* Body: "gbm <rounds> <d> <kind>", "base <b_0..b_{d-1}>", rounds x d trees. */
static tt_status gbm_save(const void *model, tt_learn_writer *w)
{
    const gbm *m = model;
    tt_status st = tt_learn_emit(w, "gbm %zu %zu %d\n", m->n_rounds, m->d, m->kind);
    char vals[TT_LEARN_LINE_MAX / 2];
    size_t used = 0;
    for (size_t k = 0; k < m->d && used < sizeof vals; k++)
        used += (size_t)snprintf(vals + used, sizeof vals - used, " %.17g", m->base[k]);
    if (st == TT_OK)
        st = tt_learn_emit(w, "base%s\n", vals);
    for (size_t t = 0; t < m->n_rounds * m->d && st == TT_OK; t++)
        st = tt_tree_save(&m->trees[t], w);
    return st;
}

static tt_status gbm_load(tt_learn_reader *r, const double *param, size_t p, size_t n_outputs,
                          void **model)
{
    const char *rest = NULL;
    long rounds = 0, d = 0, kind = 0;
    tt_status st = tt_learn_read_item(r, "gbm", &rest);
    if (st == TT_OK && (st = tt_learn_next_long(r, &rest, &rounds)) == TT_OK &&
        (st = tt_learn_next_long(r, &rest, &d)) == TT_OK)
        st = tt_learn_next_long(r, &rest, &kind);
    if (st != TT_OK)
        return st;
    if (*rest || rounds < 0 || rounds > 10000000 || d < 1 || d > MAX_CLASSES ||
        (size_t)d != n_outputs || kind < 0 || kind > 2 || (kind == 2) != (d > 1))
        return tt_learn_parse_error(r, "bad gbm header");
    gbm *m = calloc(1, sizeof *m);
    if (!m || !(m->trees = calloc((size_t)(rounds ? rounds : 1) * (size_t)d, sizeof *m->trees))) {
        free(m);
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
    }
    m->d = (size_t)d, m->kind = (int)kind, m->n_rounds = (size_t)rounds;
    m->threads = tt_learn_threads(param[P_THREADS]);
    if ((st = tt_learn_read_item(r, "base", &rest)) == TT_OK)
        for (size_t k = 0; k < m->d && st == TT_OK; k++)
            st = tt_learn_next_double(r, &rest, &m->base[k]);
    if (st == TT_OK && *rest)
        st = tt_learn_parse_error(r, "trailing text after the base scores");
    for (size_t t = 0; t < m->n_rounds * m->d && st == TT_OK; t++)
        st = tt_tree_load(r, p, 1, &m->trees[t]);
    if (st != TT_OK) {
        gbm_free(m);
        return st;
    }
    *model = m;
    return TT_OK;
}

static const tt_learner_param_spec gbm_params[] = {
    {"n_rounds", TT_PARAM_INT, 100.0, 1.0, 100000.0, 0, "boosting rounds (maximum with early stopping)"},
    {"learning_rate", TT_PARAM_REAL, 0.1, 1e-6, 1.0, 0, "shrinkage of every tree"},
    {"max_depth", TT_PARAM_INT, 6.0, 0.0, 64.0, 0, "tree depth; 0 = until 256 nodes per level"},
    {"min_child_weight", TT_PARAM_REAL, 1.0, 0.0, DBL_MAX, 0, "minimum hessian per child"},
    {"lambda", TT_PARAM_REAL, 1.0, 0.0, DBL_MAX, 0, "L2 penalty on leaf values"},
    {"min_split_gain", TT_PARAM_REAL, 0.0, 0.0, DBL_MAX, 0, "minimum loss reduction to split"},
    {"subsample", TT_PARAM_REAL, 1.0, 1e-6, 1.0, 0, "rows per tree / training rows"},
    {"colsample", TT_PARAM_REAL, 1.0, 1e-6, 1.0, 0, "features per tree / p"},
    {"early_stopping", TT_PARAM_INT, 0.0, 0.0, 100000.0, 0,
     "stop after this many rounds without held-out improvement; 0 = off"},
    {"validation_fraction", TT_PARAM_REAL, 0.1, 0.01, 0.5, 0, "rows held out for early stopping"},
    {"classify", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "classification on labels 0..K-1"},
    {"threads", TT_PARAM_INT, 0.0, 0.0, 1024.0, 0, "0 = all online CPUs"},
    {"max_bins", TT_PARAM_INT, 256.0, 2.0, 256.0, 0, "histogram bins per feature"},
};

const tt_learner_ops tt_gbm_ops = {
    .name = "gbm",
    .summary = "histogram gradient boosting: squared error, or with classify = 1 binary log-loss "
               "(P(y = 1)) / softmax (K class probabilities); optional early stopping",
    .format_version = 1,
    .params = gbm_params,
    .n_params = sizeof gbm_params / sizeof gbm_params[0],
    .model_fit = gbm_fit,
    .model_predict = gbm_predict,
    .model_save = gbm_save,
    .model_load = gbm_load,
    .model_free = gbm_free,
};
