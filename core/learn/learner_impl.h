/*
 * learner_impl.h - what learner.c needs from each learner (internal to learn/).
 *
 * Two kinds of learner share one tt_learner_ops:
 *  - linear learners (ridge, logistic, lasso, elastic_net) supply fit (an
 *    intercept and p coefficients) and inverse_link; learner.c owns the
 *    featurizers (poly2, standardize), prediction and the saved text;
 *  - model learners (forest) supply model_* hooks that own opaque state,
 *    prediction and the body of the saved text (through tt_learn_writer /
 *    tt_learn_reader so that every learner writes the same line format).
 */
#ifndef TT_LEARN_LEARNER_IMPL_H
#define TT_LEARN_LEARNER_IMPL_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "learn/learner.h"

#define TT_LEARNER_MAX_PARAMS 16
#define TT_LEARN_LINE_MAX 1024

typedef tt_learner_param_info tt_learner_param_spec;

/* Validated training data: n >= 1, dims fit BLAS ints, x/y finite, w NULL or
 * finite >= 0 with w_sum > 0 (w_sum = n for NULL). */
typedef struct tt_fit_input {
    size_t n, p;
    const double *x, *y, *w;
    double w_sum;
    uint64_t seed;
    /* p positive column scales, or NULL. Given only to a fit whose ops say
     * scales_in_place: it fits as if column j were x_j / x_scale[j] and
     * returns the coefficients of those scaled columns (the intercept is
     * the same on either scale). "standardize" then needs no n x p copy. */
    const double *x_scale;
} tt_fit_input;

typedef struct tt_learn_writer {
    const tt_plugin_sink *sink;
    char *err;
    size_t errlen;
} tt_learn_writer;

typedef struct tt_learn_reader {
    const tt_plugin_source *src;
    locale_t c_loc;
    size_t line_no;
    char line[TT_LEARN_LINE_MAX];
    char *err;
    size_t errlen;
} tt_learn_reader;

tt_status tt_learn_emit(tt_learn_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
tt_status tt_learn_parse_error(tt_learn_reader *r, const char *what);
tt_status tt_learn_read_line(tt_learn_reader *r);
/* Reads "<keyword> <rest>" and points *rest after the space. */
tt_status tt_learn_read_item(tt_learn_reader *r, const char *keyword, const char **rest);
tt_status tt_learn_parse_double(tt_learn_reader *r, const char *s, double *out);
tt_status tt_learn_parse_u64(tt_learn_reader *r, const char *s, uint64_t *out);
/* Parses the next whitespace-separated number of *s and advances it. */
tt_status tt_learn_next_double(tt_learn_reader *r, const char **s, double *out);
tt_status tt_learn_next_long(tt_learn_reader *r, const char **s, long *out);

typedef struct tt_learner_ops {
    const char *name;
    const char *summary; /* one line for the catalogue (tt_learner_summary) */
    int format_version; /* of the saved text; bump when its meaning changes */
    const tt_learner_param_spec *params;
    size_t n_params; /* <= TT_LEARNER_MAX_PARAMS */

    /* ---- linear learners ---- */
    /* param holds n_params values in schema order and may be updated (a
     * chosen "auto" value). Writes b0 and coef[0..p) in the coordinates of x.
     * Error messages need no learner-name prefix; learner.c adds it. */
    tt_status (*fit)(double *param, const tt_fit_input *in, double *b0, double *coef,
                     char *err, size_t errlen);
    /* Maps the linear predictor to the prediction in place; NULL = identity. */
    void (*inverse_link)(size_t n, double *values);
    /* Non-zero: integer labels 0..K-1 with K > 2 go to the multinomial fit. */
    int multinomial;
    /* Non-zero: fit honours tt_fit_input.x_scale (two-class fits only). */
    int scales_in_place;

    /* ---- model learners (fit == NULL) ---- */
    tt_status (*model_fit)(const double *param, const tt_fit_input *in, void **model,
                           size_t *n_outputs, char *err, size_t errlen);
    /* out: n x n_outputs column-major. Cannot fail: inputs were checked. */
    void (*model_predict)(const void *model, size_t n, size_t p, const double *x,
                          double *out);
    tt_status (*model_save)(const void *model, tt_learn_writer *w);
    tt_status (*model_load)(tt_learn_reader *r, const double *param, size_t p,
                            size_t n_outputs, void **model);
    void (*model_free)(void *model);
    /* Optional: out-of-bag predictions of the training rows (n x n_outputs). */
    tt_status (*model_oob)(const void *model, size_t n, double *out, char *err,
                           size_t errlen);
} tt_learner_ops;

extern const tt_learner_ops tt_ridge_ops;
extern const tt_learner_ops tt_logistic_ops;
extern const tt_learner_ops tt_lasso_ops;
extern const tt_learner_ops tt_elastic_net_ops;
extern const tt_learner_ops tt_forest_ops;
extern const tt_learner_ops tt_gbm_ops;

/* Multinomial logistic regression (logistic_multi.c): labels 0..k-1 in
 * in->y, k > 2; writes k blocks [c_k, b_k(p)] to out (k (p + 1) values). */
tt_status tt_logistic_multi_fit(double alpha, const tt_fit_input *in, size_t k, double *out,
                                char *err, size_t errlen);

/* Shared featurizer params of the linear learners, appended to their own. */
#define TT_FEATURIZER_PARAMS                                                                \
    {"poly2", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0,                                              \
     "add squares and pairwise products of the features"},                                  \
    {"standardize", TT_PARAM_BOOL, 0.0, 0.0, 1.0, 0,                                        \
     "scale features to unit weighted variance before the penalty"}

/* The learner object (learner.c, learner_save.c). */
struct tt_learner {
    const tt_learner_ops *ops;
    double param[TT_LEARNER_MAX_PARAMS];     /* as created (or loaded) */
    double fit_param[TT_LEARNER_MAX_PARAMS]; /* as used by the last fit: "auto" resolved */
    uint64_t seed;
    int fitted;
    size_t p;         /* raw features */
    size_t n_outputs;
    /* linear learners */
    double intercept;
    double *coef;     /* q values (q = featurized width); NULL when q == 0;
                       * multinomial (n_outputs K > 1): K blocks [c_k, b_k(q)] */
    /* model learners */
    void *model;
};

/* Shared by learner.c and learner_save.c. */
const tt_learner_ops *tt_learn_find_ops(const char *name);
int tt_learn_find_param(const tt_learner_ops *ops, const char *key);
tt_status tt_learn_check_param(const tt_learner_ops *ops, size_t idx, double v,
                               tt_status status, char *err, size_t errlen);
int tt_learn_flag(const tt_learner *l, const char *key); /* a boolean param is set */
size_t tt_learn_feature_width(size_t p, int poly2);       /* columns after poly2 */

/* learn_pool.c. Number of worker threads: requested > 0 as is, 0 = online
 * CPUs (>= 1). */
size_t tt_learn_threads(double requested);
/* Runs fn(ctx, task, thread) for task in [0, n_tasks) on up to n_threads
 * threads (tasks handed out in order; thread index < n_threads). Falls back
 * to the calling thread if threads cannot start. */
void tt_learn_parallel(size_t n_threads, size_t n_tasks,
                       void (*fn)(void *ctx, size_t task, size_t thread), void *ctx);

/* A pool of n_threads - 1 parked threads plus the caller, for many short
 * parallel phases; run has tt_learn_parallel's contract (fewer than two
 * tasks run on the caller). Idle workers spin up to 0.2 ms before they
 * sleep, so back-to-back runs skip the wake-up. The caller owns the pool
 * and runs one job at a time on it. NULL from new (no memory) is accepted
 * by run (serial) and free. */
typedef struct tt_learn_pool tt_learn_pool;
tt_learn_pool *tt_learn_pool_new(size_t n_threads);
void tt_learn_pool_run(tt_learn_pool *lp, size_t n_tasks,
                       void (*fn)(void *ctx, size_t task, size_t thread), void *ctx);
size_t tt_learn_pool_threads(const tt_learn_pool *lp);
void tt_learn_pool_free(tt_learn_pool *lp);

#endif
