/*
 * policy_eval.h - a policy tree learnt on one half of the rows and valued on
 * the other, against the policies a user would otherwise follow: treat no
 * one, give everyone the best single arm, or give each row the arm its
 * effect estimate says is best (greedy).
 *
 * Inputs are doubly robust rewards R (m x K: R_ij estimates row i's outcome
 * under arm j, e.g. AIPW's mu_j + 1{T = j}(Y - mu_j)/e_j), per-arm costs
 * (taken off R_j) and optionally the effect estimates tau (m x (K-1)) for the
 * greedy policy. The rows are shuffled with the seed and halved: the exact
 * tree (policy_tree.h) of the given depth, each leaf holding at least
 * min_leaf_share of the fitted rows, is fitted on the first half (at most
 * max_fit rows of it) and every policy is valued on the second half as the
 * mean net reward of the arms it chooses, with the s.e. of that mean, and
 * the tree's gain over each other policy with its paired s.e. - honest,
 * because the valued rows took no part in choosing the tree.
 *
 * Ownership: the result owns its tree and shares (tt_policy_eval_free).
 */
#ifndef TT_INSIGHT_POLICY_EVAL_H
#define TT_INSIGHT_POLICY_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "insight/policy_tree.h"

typedef struct tt_policy_value {
    double value, se;
} tt_policy_value;

typedef struct tt_policy_eval {
    tt_policy_tree *tree;     /* fitted on the first half */
    int depth;                /* asked for */
    size_t n_fit, n_eval, min_leaf;
    double *shares;           /* K: share of the valued rows the tree gives each arm */
    tt_policy_value policy, no_one, everyone, greedy;
    size_t everyone_arm;      /* the best single arm on the valued rows */
    tt_policy_value gain_no_one, gain_everyone, gain_greedy; /* tree minus each, paired */
    int has_greedy;           /* tau was given */
} tt_policy_eval;

typedef struct tt_policy_eval_options {
    int depth;                /* 0..3 (default 2) */
    double min_leaf_share;    /* (0, 0.5], default 0.05 */
    size_t max_fit;           /* rows the tree is fitted on at most (default 20,000) */
    uint64_t seed;            /* the halves' shuffle */
    int (*should_stop)(void *ctx); /* passed to the tree search; NULL = never */
    void *stop_ctx;
} tt_policy_eval_options;

void tt_policy_eval_options_init(tt_policy_eval_options *o);

/* x: m x p column-major; reward: m x k; cost: k values (arm 0 usually 0) or
 * NULL; tau: m x (k - 1) or NULL. TT_ERR_INVALID: fewer than 20 rows, k < 2,
 * bad options; the tree's errors (a non-finite value names the row);
 * TT_ERR_STOPPED; TT_ERR_NOMEM. */
tt_status tt_policy_evaluate(size_t m, size_t p, const double *x, size_t k,
                             const double *reward, const double *cost, const double *tau,
                             const tt_policy_eval_options *opt, tt_policy_eval *out, char *err,
                             size_t errlen);

void tt_policy_eval_free(tt_policy_eval *e);

#endif
