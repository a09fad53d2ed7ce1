/*
 * point_set.h - the points a search has tried, found in constant time.
 *
 * The search never runs a point twice (search.h). Finding out whether a
 * proposal was tried used to scan every trial so far: quadratic over a run,
 * seconds at 10,000 trials and more with every proposal the searcher has to
 * redraw. This set hashes (estimator, point) to the index of the trial that
 * holds it; the points stay in the trials' records, so the set costs two
 * words per trial.
 *
 * Equality is the search's (tt_space_point_equal: ==, so 0.0 and -0.0 are
 * one value and a NaN equals nothing); the hash agrees with it.
 * Not thread-safe; the caller owns the set and the trials it indexes.
 */
#ifndef TT_SEARCH_POINT_SET_H
#define TT_SEARCH_POINT_SET_H

#include <stddef.h>

#include "search/trial.h"

typedef struct tt_point_set {
    size_t *slots; /* index + 1 into the trials; 0 = empty */
    size_t cap;    /* a power of two, or 0 */
    size_t n;
} tt_point_set;

/* Record that trials[i] holds its (estimator, point). 0, or -1 when out of
 * memory (the set is unchanged). */
int tt_point_set_add(tt_point_set *set, const tt_trial_result *trials, size_t i);

/* Does some added trial hold estimator est at point (np values)? */
int tt_point_set_has(const tt_point_set *set, const tt_trial_result *trials, size_t est,
                     const double *point, size_t np);

/* Forget every trial (after the trials moved); keeps the memory. */
void tt_point_set_clear(tt_point_set *set);

void tt_point_set_free(tt_point_set *set);

#endif
