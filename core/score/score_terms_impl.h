/*
 * score_terms_impl.h - internal to core/score: the policy scores' per-row
 * terms (policy_terms.c), for score_terms.c.
 */
#ifndef TT_SCORE_SCORE_TERMS_IMPL_H
#define TT_SCORE_SCORE_TERMS_IMPL_H

#include "score/scores_impl.h"

/* erupt (greedy policy), erupt_net (greedy), policy_value, policy_gain,
 * policy_gain_best: terms (n values) whose mean is the score; 0 when the
 * score is null for this candidate or out of memory. */
int tt_policy_terms(const tt_score_context *c, const char *metric, const double *tau,
                    double *terms);

#endif
