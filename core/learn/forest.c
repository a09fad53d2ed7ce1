/*
 * forest.c - the random forest learner ("forest"): an adapter over the
 * regression kind of the generalised random forest engine (grf.h), so the
 * learner, the forest final stages and the causal forests grow the same trees.
 *
 * Regression: one output. With unit weights a leaf's moment gives the mean
 * of its rows (bootstrap: counted with multiplicity) and the forest's
 * estimate is the mean of the trees' leaf means, a classical random forest.
 * Classification (classify = 1, labels 0..K-1): K > 2 regresses the K
 * one-hot columns in one tree per draw (the sum-of-squares criterion summed
 * over one-hot columns is the Gini criterion), predicting K class
 * frequencies that sum to 1; K = 2 regresses the 0/1 label, P(y = 1).
 *
 * The learner's parameters onto grf's options: min_leaf is the minimum of
 * distinct rows per child (grf's min_node_size is then implied: 0), min_share
 * is alpha, no little bags (ci_group_size 1: no variances, so subsamples may
 * use all rows), out-of-bag estimates only when oob = 1 (they cost a
 * prediction pass). Each tree's randomness comes from (seed, tree index), so
 * the forest is the same for any thread count.
 */
#include <math.h>
#include <stdlib.h>

#include "learn/grf_internal.h"
#include "learn/learner_impl.h"
#include "util/err.h"
#include "util/rng.h"

#define MAX_CLASSES TT_GRF_MAX_Y

enum {
    P_TREES, P_MTRY, P_MIN_LEAF, P_MAX_DEPTH, P_FRACTION, P_BOOTSTRAP, P_HONESTY,
    P_HONESTY_FRACTION, P_MIN_SHARE, P_CLASSIFY, P_OOB, P_THREADS
};

typedef struct forest {
    tt_grf *grf;
    size_t n_out;
    size_t n_train; /* rows of the fit; 0 after load */
} forest;

static void forest_free(void *model)
{
    forest *f = model;
    if (!f)
        return;
    tt_grf_free(f->grf);
    free(f);
}

/* Classification targets: NULL with *ny = 1 (regression, or K = 2: the 0/1
 * label itself), else n x K one-hot columns (column-major). */
static tt_status make_targets(const double *param, const tt_fit_input *in, double **onehot,
                              size_t *ny, char *err, size_t errlen)
{
    const size_t n = in->n;
    *onehot = NULL;
    *ny = 1;
    if (param[P_CLASSIFY] == 0.0)
        return TT_OK;
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
    if (k == 2)
        return TT_OK;
    *onehot = calloc(n * k, sizeof **onehot);
    if (!*onehot)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu x %zu labels", n, k);
    for (size_t i = 0; i < n; i++)
        (*onehot)[(size_t)in->y[i] * n + i] = 1.0;
    *ny = k;
    return TT_OK;
}

static void options_of(const double *param, size_t p, uint64_t seed, tt_grf_options *o)
{
    tt_grf_options_init(o);
    size_t mtry = (size_t)param[P_MTRY];
    if (mtry == 0) /* scikit-learn's defaults: all features (regression), sqrt(p) (classes) */
        mtry = param[P_CLASSIFY] != 0.0 ? (size_t)fmax(1.0, floor(sqrt((double)p))) : p;
    o->n_trees = (size_t)param[P_TREES];
    o->mtry = mtry;
    o->mtry_fixed = 1; /* scikit-learn's forests try exactly mtry features */
    o->min_leaf = (size_t)param[P_MIN_LEAF];
    o->min_node_size = 0;
    o->max_depth = (size_t)param[P_MAX_DEPTH];
    o->sample_fraction = param[P_FRACTION];
    o->bootstrap = param[P_BOOTSTRAP] != 0.0;
    o->honesty = param[P_HONESTY] != 0.0;
    o->honesty_fraction = param[P_HONESTY_FRACTION];
    o->alpha = param[P_MIN_SHARE];
    o->ci_group_size = 1;
    o->skip_oob = param[P_OOB] == 0.0;
    o->threads = (int)param[P_THREADS];
    o->seed = seed;
}

static tt_status forest_fit(const double *param, const tt_fit_input *in, void **model,
                            size_t *n_outputs, char *err, size_t errlen)
{
    if (in->n < 2)
        return tt_errf(err, errlen, TT_ERR_DATA, "a forest needs at least 2 rows, got %zu",
                       in->n);
    double *onehot = NULL;
    size_t ny = 1;
    tt_status st = make_targets(param, in, &onehot, &ny, err, errlen);
    if (st != TT_OK)
        return st;
    forest *f = calloc(1, sizeof *f);
    if (!f) {
        free(onehot);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory");
    }
    tt_grf_options o;
    options_of(param, in->p, tt_rng_derive(in->seed, "forest"), &o);
    tt_grf_data d = {.n = in->n, .p = in->p, .x = in->x, .y = onehot ? onehot : in->y,
                     .weight = in->w};
    st = tt_grf_fit_multi(&d, ny, &o, NULL, &f->grf, err, errlen);
    free(onehot);
    if (st != TT_OK) {
        forest_free(f);
        return st;
    }
    f->n_out = ny;
    f->n_train = in->n;
    *model = f;
    *n_outputs = ny;
    return TT_OK;
}

static void forest_predict(const void *model, size_t n, size_t p, const double *x, double *out)
{
    (void)p;
    const forest *f = model;
    /* Only a lack of memory for the prediction blocks can fail here. */
    if (tt_grf_predict(f->grf, n, x, out, NULL, NULL, 0) != TT_OK)
        for (size_t i = 0; i < n * f->n_out; i++)
            out[i] = NAN;
}

static tt_status forest_oob(const void *model, size_t n, double *out, char *err, size_t errlen)
{
    const forest *f = model;
    if (!f->grf->oob_est)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "forest: out-of-bag predictions need "
                       "oob = 1 at fit time (and are not saved)");
    if (n != f->n_train)
        return tt_errf(err, errlen, TT_ERR_INVALID, "forest: fitted on %zu rows, asked for %zu",
                       f->n_train, n);
    return tt_grf_predict_oob(f->grf, out, NULL, err, errlen);
}

/* Body: the engine's text (tt_grf_write). */
static tt_status forest_save(const void *model, tt_learn_writer *w)
{
    const forest *f = model;
    return tt_grf_write(f->grf, w);
}

static tt_status forest_load(tt_learn_reader *r, const double *param, size_t p,
                             size_t n_outputs, void **model)
{
    tt_grf *g = NULL;
    tt_status st = tt_grf_read(r, &g);
    if (st != TT_OK)
        return st;
    if (g->kind != TT_GRF_REGRESSION || g->p != p || g->d != n_outputs) {
        tt_grf_free(g);
        return tt_learn_parse_error(r, "the forest disagrees with the learner's kind, "
                                    "features or outputs");
    }
    forest *f = calloc(1, sizeof *f);
    if (!f) {
        tt_grf_free(g);
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
    }
    g->threads = tt_learn_threads(param[P_THREADS]);
    f->grf = g;
    f->n_out = n_outputs;
    *model = f;
    return TT_OK;
}

static const tt_learner_param_spec forest_params[] = {
    {"n_trees", TT_PARAM_INT, 100.0, 1.0, 100000.0, 0, "number of trees"},
    {"mtry", TT_PARAM_INT, 0.0, 0.0, 1e6, 0,
     "features tried per split; 0 = all (regression) or sqrt(p) (classification)"},
    {"min_leaf", TT_PARAM_INT, 5.0, 1.0, 1e9, 0, "minimum distinct rows per leaf"},
    {"max_depth", TT_PARAM_INT, 0.0, 0.0, 1000.0, 0, "0 = unlimited"},
    {"sample_fraction", TT_PARAM_REAL, 1.0, 1e-6, 1.0, 0, "rows drawn per tree / n"},
    {"bootstrap", TT_PARAM_BOOL, 1.0, 0.0, 1.0, 0, "draw with replacement (else subsample)"},
    {"honesty", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "split on one part, fill leaves from the other"},
    {"honesty_fraction", TT_PARAM_REAL, 0.5, 0.01, 0.99, 0, "share of the draw filling leaves"},
    {"min_share", TT_PARAM_REAL, 0.0, 0.0, 0.5, 0, "minimum child share of a node's rows"},
    {"classify", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "classification on labels 0..K-1"},
    {"oob", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0, "keep out-of-bag predictions of the training rows"},
    {"threads", TT_PARAM_INT, 0.0, 0.0, 1024.0, 0, "0 = all online CPUs"},
};

const tt_learner_ops tt_forest_ops = {
    .name = "forest",
    .summary = "random forest on the generalised random forest engine: regression, or class "
               "probabilities with classify = 1; out-of-bag predictions with oob = 1",
    /* 2: the grf engine's trees (1 was the histogram engine's, with max_bins
     * and exact_below); a version-1 text fails to load as unsupported. */
    .format_version = 2,
    .params = forest_params,
    .n_params = sizeof forest_params / sizeof forest_params[0],
    .model_fit = forest_fit,
    .model_predict = forest_predict,
    .model_save = forest_save,
    .model_load = forest_load,
    .model_free = forest_free,
    .model_oob = forest_oob,
};
