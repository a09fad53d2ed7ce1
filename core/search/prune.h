/*
 * prune.h - one estimator's memory of which choice values keep failing.
 *
 * Every finished trial is counted against the values its active category
 * dimensions (config choices, choice and bool parameters) took. A trial that
 * ran (status ok) proves each of its values. A trial that failed or timed
 * out is blamed on a value only when that value is the point's sole
 * unproven one: when two untried values fail together nobody can tell which
 * one broke it, and a value that has worked once is never blamed again.
 * A value blamed TT_PRUNE_FAILS times that never worked is pruned: the
 * searcher replaces it in every later proposal. A timeout weighs
 * TT_PRUNE_FAILS failures on its own: it already cost the most a trial may
 * cost, and trying the value again would most likely cost that again. A dimension all of whose
 * values are pruned is left alone (pruning cannot choose among them).
 *
 * Only statuses are counted, never seconds, so a run repeats itself whatever
 * the machine's load (a timeout is a status). Not thread-safe; owns its
 * counts, borrows dims and desc (both must outlive it).
 */
#ifndef TT_SEARCH_PRUNE_H
#define TT_SEARCH_PRUNE_H

#include <stddef.h>

#include "search/space.h"
#include "search/trial.h"
#include "tautune/plugin.h"
#include "util/rng.h"

/* Failures of a never-working value after which it is not proposed again. */
#define TT_PRUNE_FAILS 2

typedef struct tt_prune tt_prune;

/* NULL on out of memory. dims: desc->n_params dimensions (space.h). */
tt_prune *tt_prune_new(const tt_plugin_descriptor *desc, const tt_space_dim *dims);
void tt_prune_free(tt_prune *p); /* NULL is a no-op */

/* A finished trial of this estimator at point. */
void tt_prune_observe(tt_prune *p, const double *point, tt_trial_status status);

/* 1 when value (a point coordinate) of dimension i is pruned. */
int tt_prune_is_pruned(const tt_prune *p, size_t i, double value);

/* Replaces every pruned value of an active category dimension of point (a
 * canonical point) by a value drawn from rng among the dimension's unpruned
 * ones, then canonicalises again (a new parent value changes which children
 * count). Draws from rng only when something is pruned. */
void tt_prune_repair(const tt_prune *p, tt_rng *rng, double *point);

#endif
