/*
 * learner_impl.h - what learner.c needs from each learner (internal to learn/).
 *
 * Every learner today is a linear model: it fits an intercept and p
 * coefficients, and predicts inverse_link(b0 + x'b). learner.c owns the
 * shared parts (hyperparameter parsing, input validation, prediction,
 * save/load); a learner file supplies one tt_learner_ops. A learner with
 * other state (trees, ...) will need its own state hooks here.
 */
#ifndef TT_LEARN_LEARNER_IMPL_H
#define TT_LEARN_LEARNER_IMPL_H

#include <stddef.h>

#include "learn/learner.h"

#define TT_LEARNER_MAX_PARAMS 4

/* A real hyperparameter; valid values are finite and within [lo, hi]. */
typedef struct tt_learner_param_spec {
    const char *name;
    double default_value;
    double lo, hi;
} tt_learner_param_spec;

typedef struct tt_learner_ops {
    const char *name;
    int format_version; /* of the saved text; bump when its meaning changes */
    const tt_learner_param_spec *params;
    size_t n_params; /* <= TT_LEARNER_MAX_PARAMS */

    /* Inputs are already validated by learner.c: n >= 1, dimensions fit in
     * BLAS ints, x and y finite, w NULL or finite and >= 0 with sum w_sum > 0
     * (w_sum = n for NULL). param holds n_params values in schema order.
     * Writes b0 and coef[0..p) in the coordinates of x. Error messages need
     * no learner-name prefix; learner.c adds it. */
    tt_status (*fit)(const double *param, size_t n, size_t p, const double *x,
                     const double *y, const double *w, double w_sum, double *b0,
                     double *coef, char *err, size_t errlen);

    /* Maps the linear predictor to the prediction in place; NULL = identity. */
    void (*inverse_link)(size_t n, double *values);
} tt_learner_ops;

extern const tt_learner_ops tt_ridge_ops;
extern const tt_learner_ops tt_logistic_ops;

#endif
