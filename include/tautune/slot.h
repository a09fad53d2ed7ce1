/*
 * tautune/slot.h - learner slots for plugins: a block of hyperparameters
 * with which the search chooses and tunes one of the host's learners (an
 * outcome model, a final-stage model, ...). The built-in plugins' slots are
 * these same blocks.
 *
 * TT_SLOT_PARAMS("final", "the final model") expands to TT_SLOT_N entries of
 * a params[] schema, in this order (names: the prefix and the suffix):
 *   <prefix>_learner        choice {ridge, lasso, forest, gbm}, default ridge
 *   <prefix>_alpha          log-real [1e-3, 1e3], default 1    ridge's penalty
 *   <prefix>_trees          int [20, 500], default 100         forest trees / gbm rounds
 *   <prefix>_depth          int [2, 10], default 4             gbm max_depth
 *   <prefix>_min_leaf       int [1, 50], default 5             forest min_leaf /
 *                                                              gbm min_child_weight
 *   <prefix>_learning_rate  log-real [0.01, 0.3], default 0.1  gbm
 *   <prefix>_featurizer     choice {none, poly2}, default none ridge / lasso features
 * lasso picks its penalty by cross-validation; a forest grows full depth;
 * poly2 adds squares and pairwise products and standardises the columns
 * before the penalty. The defaults are the cheap ones: the search tries
 * defaults first.
 *
 * TT_SLOT_CONDITIONS("final") expands to TT_SLOT_NCOND entries of the
 * descriptor's conditions (ABI 1.5): each parameter counts only under the
 * learners that read it, so the search neither moves nor shows the others.
 *
 * At create(), host->learner_from_slot (ABI 1.10) makes the slot's learner
 * from params + i, where i is the index of <prefix>_learner in params[]:
 *
 *     static const tt_plugin_param params[] = {
 *         TT_SLOT_PARAMS("final", "the final model"),   // indices 0..6
 *         {.name = "k", ...},
 *     };
 *     host->learner_from_slot(host->host_ctx, params_values + 0, 0, &learner, err, errlen);
 *
 * The choice lists are static arrays of this header (one copy per file
 * that includes it; unused ones are not warned about).
 */
#ifndef TAUTUNE_SLOT_H
#define TAUTUNE_SLOT_H

#include "plugin.h"

#define TT_SLOT_N 7
#define TT_SLOT_NCOND 6

#if defined(__GNUC__)
#define TT_SLOT_UNUSED __attribute__((unused))
#else
#define TT_SLOT_UNUSED
#endif

static const char *const tt_slot_learners[] TT_SLOT_UNUSED = {"ridge", "lasso", "forest",
                                                              "gbm", NULL};
static const char *const tt_slot_featurizers[] TT_SLOT_UNUSED = {"none", "poly2", NULL};
static const char *const tt_slot_when_ridge[] TT_SLOT_UNUSED = {"ridge", NULL};
static const char *const tt_slot_when_trees[] TT_SLOT_UNUSED = {"forest", "gbm", NULL};
static const char *const tt_slot_when_gbm[] TT_SLOT_UNUSED = {"gbm", NULL};
static const char *const tt_slot_when_linear[] TT_SLOT_UNUSED = {"ridge", "lasso", NULL};

#define TT_SLOT_PARAMS(prefix, what)                                                          \
    {.name = prefix "_learner", .kind = TT_PARAM_CHOICE, .default_value = 0,                   \
     .choices = tt_slot_learners, .help = "learner of " what},                                 \
    {.name = prefix "_alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 1e3,                \
     .default_value = 1.0, .help = "ridge penalty of " what},                                  \
    {.name = prefix "_trees", .kind = TT_PARAM_INT, .lo = 20, .hi = 500, .default_value = 100, \
     .help = "trees (forest) or rounds (gbm) of " what},                                       \
    {.name = prefix "_depth", .kind = TT_PARAM_INT, .lo = 2, .hi = 10, .default_value = 4,     \
     .help = "tree depth (gbm) of " what},                                                     \
    {.name = prefix "_min_leaf", .kind = TT_PARAM_INT, .lo = 1, .hi = 50, .default_value = 5,  \
     .help = "minimum leaf size (forest) or child weight (gbm) of " what},                     \
    {.name = prefix "_learning_rate", .kind = TT_PARAM_LOG_REAL, .lo = 0.01, .hi = 0.3,        \
     .default_value = 0.1, .help = "learning rate (gbm) of " what},                            \
    {.name = prefix "_featurizer", .kind = TT_PARAM_CHOICE, .default_value = 0,                \
     .choices = tt_slot_featurizers,                                                           \
     .help = "features of a ridge or lasso " what ": x, or x with squares and products"}

#define TT_SLOT_CONDITIONS(prefix)                                                     \
    {prefix "_alpha", prefix "_learner", tt_slot_when_ridge},                          \
    {prefix "_trees", prefix "_learner", tt_slot_when_trees},                          \
    {prefix "_depth", prefix "_learner", tt_slot_when_gbm},                            \
    {prefix "_min_leaf", prefix "_learner", tt_slot_when_trees},                       \
    {prefix "_learning_rate", prefix "_learner", tt_slot_when_gbm},                    \
    {prefix "_featurizer", prefix "_learner", tt_slot_when_linear}

#endif
