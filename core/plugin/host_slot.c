/* host_slot.c - a learner slot's learner (host_slot.h, tautune/slot.h). */
#include "plugin/host_slot.h"

#include <math.h>

#include "plugin/host.h"
#include "tautune/slot.h"
#include "util/err.h"

enum { SLOT_RIDGE = 0, SLOT_LASSO, SLOT_FOREST, SLOT_GBM };

/* The block's values as the schema allows them: a choice or integer carried
 * as a double must be whole and in its range (the host validated a
 * searched point; a plugin passing its own numbers gets them checked). */
static int whole(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

int tt_host_learner_from_slot(void *host_ctx, const double *slot, int classify,
                              tt_learner **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!slot)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner slot: no values");
    const double learner = slot[0], alpha = slot[1], trees = slot[2], depth = slot[3];
    const double min_leaf = slot[4], rate = slot[5], featurizer = slot[6];
    /* Only the values the chosen learner reads are checked: the others are
     * inactive (TT_SLOT_CONDITIONS) and may hold anything. */
    int ok = whole(learner, SLOT_RIDGE, SLOT_GBM) && whole(featurizer, 0, 1);
    if (ok && learner == SLOT_RIDGE)
        ok = alpha > 0 && isfinite(alpha);
    if (ok && (learner == SLOT_FOREST || learner == SLOT_GBM))
        ok = whole(trees, 1, 1e6) && whole(min_leaf, 1, 1e6);
    if (ok && learner == SLOT_GBM)
        ok = whole(depth, 1, 64) && rate > 0 && rate <= 1;
    if (!ok)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "learner slot: values outside a TT_SLOT_PARAMS block's ranges (learner "
                       "%g, alpha %g, trees %g, depth %g, min_leaf %g, learning_rate %g, "
                       "featurizer %g): is the pointer at <prefix>_learner?",
                       learner, alpha, trees, depth, min_leaf, rate, featurizer);
    const int kind = (int)learner;
    const char *name = tt_slot_learners[kind];
    const char *keys[6];
    double values[6];
    size_t n = 0;
    switch (kind) {
    case SLOT_RIDGE:
        keys[n] = "alpha", values[n++] = alpha;
        break;
    case SLOT_LASSO: /* no penalty key: the lasso's default is cross-validation */
        break;
    case SLOT_FOREST:
        keys[n] = "n_trees", values[n++] = trees;
        keys[n] = "min_leaf", values[n++] = min_leaf;
        break;
    default:
        keys[n] = "n_rounds", values[n++] = trees;
        keys[n] = "max_depth", values[n++] = depth;
        keys[n] = "learning_rate", values[n++] = rate;
        keys[n] = "min_child_weight", values[n++] = min_leaf;
        break;
    }
    const int linear = kind == SLOT_RIDGE || kind == SLOT_LASSO;
    if (featurizer == 1 && linear) /* trees need no featurizer */
        keys[n] = "poly2", values[n++] = 1.0, keys[n] = "standardize", values[n++] = 1.0;
    if (classify) {
        if (linear)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "the %s learner cannot classify; use forest or gbm, or the host's "
                           "nuisance models", name);
        keys[n] = "classify", values[n++] = 1.0;
    }
    return tt_host_learner_create(host_ctx, name, keys, values, n, out, err, errlen);
}
