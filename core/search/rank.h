/*
 * rank.h - how sure the ranking is: paired differences to the best trial.
 *
 * Every trial of a metric with per-row terms (score/score_terms.h) comes back
 * from its worker with them, and every trial with its out-of-sample effects
 * (for ensembles). The search keeps both only for the best
 * tt_rank_keep(n_valid) trials by objective (the others are the least likely
 * to be tied with the best): memory is bounded by TT_RANK_BYTES (32 MB), but
 * at least TT_RANK_KEEP_MIN trials are kept while they fit in
 * TT_RANK_BYTES_MAX (48 MB), and never fewer than TT_RANK_KEEP_FLOOR: 72
 * trials on Hillstrom (19,200 validation rows, 3 arms), TT_RANK_KEEP_MAX on
 * IHDP (224 rows), 10 at 300,000 validation rows of 2 arms (where 50 trials
 * held 240 MB, more than the data), whatever the number of trials.
 *
 * At the end of the search, every kept trial j gets, against the best trial b
 * by objective (on the same validation rows):
 *   diff_to_best = objective_j - objective_b   (>= 0 when minimising)
 *   diff_se      = sd_i(term_ji - term_bi) / sqrt(n)   (paired)
 *   tied_with_best = |diff_to_best| <= 2 diff_se
 *                    and |diff_to_best| <= 2 objective_se_b
 * "<=" rather than "<" so that two trials with identical effects (diff 0,
 * s.e. 0) are tied; the best is tied with itself. The second bound guards
 * the normal approximation: a paired s.e. larger than the best's own comes
 * from differences concentrated on a few rows (on IHDP a dml_linear trial
 * with dr_mse 5,935 against 34.3 had a paired s.e. of 3,500), where
 * "within two s.e." says nothing; for ordinary near-ties the paired s.e. is
 * the smaller one and decides. Only kept trials are
 * compared: when every kept trial is tied and some were dropped, the count
 * is a lower bound (*at_least).
 */
#ifndef TT_SEARCH_RANK_H
#define TT_SEARCH_RANK_H

#include <stddef.h>

#include "search/trial.h"

#define TT_RANK_KEEP_MIN 50
#define TT_RANK_KEEP_MAX 5000
#define TT_RANK_KEEP_FLOOR 8
#define TT_RANK_BYTES ((size_t)32 << 20)
#define TT_RANK_BYTES_MAX ((size_t)48 << 20)

/* How many trials keep their terms (and effects) when each holds
 * per_trial doubles: n_valid terms + n_valid x (K-1) effects. */
size_t tt_rank_keep(size_t per_trial);

/* Free the terms of every trial but the best `keep` (by objective under the
 * direction; among equal objectives the lower id stays). Call after each
 * finished trial so at most keep + 1 trials hold terms. */
void tt_rank_keep_terms(tt_trial_result *trials, size_t n, int maximize, size_t keep);

/* Fill has_diff, diff_to_best, diff_se, tied_with_best of every trial
 * holding terms of the same length as trials[best]'s (best: index of the best
 * trial by objective, or -1: nothing is set). Returns how many trials are
 * tied with the best (the best included; 0 when the best has no terms);
 * *at_least (may be NULL): every kept trial is tied and an ok trial of the
 * same metric lost its terms, so the count is a lower bound. */
size_t tt_rank_ties(tt_trial_result *trials, size_t n, long best, int *at_least);

/* For benchmarks that compare selection rules offline: write every trial
 * still holding terms and effects of trials[best]'s lengths to `path`, as a
 * text line "tautune-kept 1 <trials> <n_terms> <n_effects>\n" then, per
 * trial in id order, native doubles: id, objective, objective_se,
 * tied_with_best (0/1), its n_terms terms, its n_effects effects. `tautune
 * run` calls it when TAUTUNE_DUMP_KEPT names a file (tests/bench/search).
 * Returns 0, or -1 with errno set. */
int tt_rank_dump_kept(const tt_trial_result *trials, size_t n, long best, const char *path);

#endif
