/*
 * pu_slot.h - learner slots: a host learner that a plugin's search space
 * chooses and tunes (the X-learner's stage-2 model, the DR final model, ...).
 *
 * PU_SLOT_PARAMS("final", "the final model") expands to PU_SLOT_N schema
 * entries, in this order (names are the prefix plus the suffix):
 *   <prefix>_learner        choice {ridge, lasso, forest, gbm}, default ridge
 *   <prefix>_alpha          log-real [1e-3, 1e3], default 1    ridge's penalty
 *   <prefix>_trees          int [20, 500], default 100         forest trees / gbm rounds
 *   <prefix>_depth          int [2, 10], default 4             gbm max_depth
 *   <prefix>_min_leaf       int [1, 50], default 5             forest min_leaf / gbm min_child_weight
 *   <prefix>_learning_rate  log-real [0.01, 0.3], default 0.1  gbm
 *   <prefix>_featurizer     choice {none, poly2}, default none ridge / lasso features
 * lasso takes its penalty by cross-validation ("auto"), forest grows full
 * depth. poly2 adds squares and pairwise products and standardises the
 * columns before the penalty (they live on very different scales); it is how
 * a linear slot fits curved surfaces: on IHDP replication 9 (an exponential
 * response surface) a ridge T-learner's sqrt(PEHE) drops from 15.3 (alpha 1)
 * to 7.8 (alpha 10) with it. The defaults are the cheap ones (ridge first), since the searcher
 * tries defaults first. A plugin puts the macro inside its params[] array and
 * reads the slot back with pu_slot_read(params, index of <prefix>_learner).
 *
 * PU_SLOT_CONDITIONS("final") expands to PU_SLOT_NCOND entries of the
 * descriptor's condition table (ABI 1.5): each parameter counts only under
 * the learners that read it - alpha: ridge; trees, min_leaf: forest, gbm;
 * depth, learning_rate: gbm; featurizer: ridge, lasso (lasso picks its own
 * penalty, forests grow full depth, trees need no featurizer). The search
 * then neither moves nor shows the others, and the slot's code may ignore
 * them: create() gets their schema defaults.
 */
#ifndef TT_PLUGINS_PU_SLOT_H
#define TT_PLUGINS_PU_SLOT_H

#include <stddef.h>

#include <tautune/plugin.h>
#include <tautune/slot.h>

#include "pu.h"

enum { PU_SLOT_RIDGE = 0, PU_SLOT_LASSO, PU_SLOT_FOREST, PU_SLOT_GBM };
/* The schema block and its conditions are the public ones (tautune/slot.h),
 * so a third-party plugin's slot is the built-ins' slot. */
#define PU_SLOT_N TT_SLOT_N
#define PU_SLOT_NCOND TT_SLOT_NCOND
#define PU_SLOT_PARAMS(prefix, what) TT_SLOT_PARAMS(prefix, what)
#define PU_SLOT_CONDITIONS(prefix) TT_SLOT_CONDITIONS(prefix)
#define pu_slot_learners tt_slot_learners

typedef struct pu_slot {
    int learner;          /* PU_SLOT_* */
    double alpha;
    int trees, depth, min_leaf;
    double learning_rate;
    int featurizer;       /* index into pu_featurizers: 0 none, 1 poly2 */
} pu_slot;

/* params[first .. first + PU_SLOT_N - 1] as laid out by PU_SLOT_PARAMS. */
void pu_slot_read(const double *params, size_t first, pu_slot *slot);

const char *pu_slot_name(const pu_slot *slot); /* "ridge", ... */

/* A new unfitted host learner for the slot, made by the host
 * (host->learner_from_slot, as for any plugin). classify != 0 asks a forest
 * or gbm for classification (labels 0..K-1); ridge and lasso refuse it
 * (TT_ERR_INVALID): a plugin that needs a classifier uses the host's nuisances. */
int pu_slot_create(const tt_plugin_host *host, const pu_slot *slot, int classify,
                   tt_learner **out, char *err, size_t errlen);

/* Save / load the slot's settings as one text line "slot <7 numbers>"; load
 * also reads the 6-number line of models saved before the featurizer (none). */
int pu_slot_save(const pu_slot *slot, const tt_plugin_sink *sink);
int pu_slot_load(const tt_plugin_source *src, pu_slot *slot);

#endif
