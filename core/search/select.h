/*
 * select.h - which trial wins: the best by objective, or the simplest of the
 * trials statistically tied with it (the one-standard-error rule).
 *
 * Called once after tt_search_run, before the winner is refitted: it only
 * moves outcome->best (the trial refitted, reported and saved) and sets
 * outcome->rule. outcome->best_by_objective and the ties (rank.h) stay.
 *
 * "one_se": among the trials tied with the best (rank.h: |diff| <= 2 diff_se),
 * the first in this deterministic simplicity order (never timing):
 *   1. fewest active hyperparameters (tt_param_active: a ridge slot's
 *      _trees do not count);
 *   2. the estimator's place in a fixed order of the built-ins, from
 *      constant effects through single-model and linear final stages to
 *      learner-based meta-learners and forests (tt_select_simplicity);
 *      plugins not in the list come after, by name;
 *   3. the lower trial id.
 * When the metric has no standard error (no ties known), one_se keeps the
 * best by objective.
 */
#ifndef TT_SEARCH_SELECT_H
#define TT_SEARCH_SELECT_H

#include "search/search.h"

typedef enum tt_selection {
    TT_SELECT_BEST = 0, /* the best objective (the default; ties: lowest id) */
    TT_SELECT_ONE_SE    /* the simplest trial tied with the best */
} tt_selection;

void tt_search_select(tt_search_outcome *out, tt_selection rule);

/* The estimator's rank in the simplicity order (0 = simplest); plugins not in
 * the built-in list get the list's length. */
int tt_select_simplicity(const char *plugin);

/* Active hyperparameters of a trial's point. */
size_t tt_select_active_params(const tt_trial_result *r);

#endif
