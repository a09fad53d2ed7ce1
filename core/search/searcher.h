/*
 * searcher.h - what to try next, after every estimator's defaults.
 *
 * "random": an estimator uniformly at random (among those with something
 * left to search), a point uniformly over its space.
 *
 * "cfo" (default): a cost-frugal local search in the spirit of FLAML's CFO.
 * Every estimator keeps an incumbent (its best point so far, starting from
 * the low-cost defaults tried first) and a step size in the unit cube of its
 * space (space.h). A proposal moves the incumbent by one step along a random
 * direction; if that does not improve, the opposite direction comes next.
 * After 2d unimproved proposals (d = searched dimensions) the step halves;
 * below a minimum the estimator restarts from a random point. The estimator
 * to try is drawn with probability proportional to 1/ECI, its estimated cost
 * for improvement: (trials since it last improved, at least 1) x (its cost
 * per trial) x (1 + its relative gap to the best score). Cheap estimators
 * that keep improving get more trials; the rest keep a share. The cost per
 * trial is 1 by default, which keeps runs reproducible; with cost_in_seconds
 * it is the estimator's mean trial time (faster, but timing-dependent).
 *
 * Conditional parameters (plugin/conditions.h): a step moves only the
 * dimensions active at the incumbent, category resampling and the 2d rule
 * use their count, and every proposal is canonical (inactive parameters at
 * their defaults), so the loop sees points equal on what counts as one.
 *
 * Learning from failures (both searchers; the ECI part is cfo's). A failed
 * or timed-out trial
 *  - counts as a trial without improvement, and with cost_in_seconds costs
 *    its seconds (a timeout: the time until it was killed, the whole
 *    trial timeout);
 *  - raises its estimator's cost per trial by the factor
 *    (trials + 1) / (trials that ran + 1), so an estimator whose every trial
 *    fails sees its 1/ECI fall with the square of its failures;
 *  - is blamed on a choice value (a CHOICE or BOOL parameter's value, e.g.
 *    featurizer=poly2 or a slot's learner) when that value is the only one
 *    in the point that never ran; a value blamed TT_PRUNE_FAILS (2) times
 *    that never ran is pruned: later proposals draw another value of that
 *    parameter (prune.h). A timeout counts as TT_PRUNE_FAILS failures: one
 *    prunes (it already cost the whole trial timeout).
 * Only statuses are counted, never seconds (unless cost_in_seconds), so the
 * same seed and jobs propose the same sequence whatever the machine's load.
 *
 * Not thread-safe.
 */
#ifndef TT_SEARCH_SEARCHER_H
#define TT_SEARCH_SEARCHER_H

#include <stddef.h>
#include <stdint.h>

#include "lua/config.h"
#include "search/trial.h"

typedef struct tt_searcher tt_searcher;

/* kind: "random" or "cfo". Unknown kind: TT_ERR_CONFIG. maximize: the
 * objective is better when higher. */
tt_status tt_searcher_new(const char *kind, const tt_config *config,
                          const tt_plugin_descriptor *const *descs, uint64_t seed,
                          int cost_in_seconds, int maximize, tt_searcher **out, char *err,
                          size_t errlen);

/* The next candidate (never an estimator's default point: the loop tries
 * those first). point: descs[*estimator]->n_params values. */
tt_status tt_searcher_propose(tt_searcher *s, size_t *estimator, double *point);

/* The proposal for this estimator repeated a tried point: count it as a
 * proposal that did not improve. */
void tt_searcher_reject(tt_searcher *s, size_t estimator);

/* A finished trial, default ones included, in id order. */
void tt_searcher_observe(tt_searcher *s, const tt_trial_result *r);

void tt_searcher_free(tt_searcher *s); /* NULL is a no-op */

#endif
