/*
 * ensemble.h - an ensemble of trials by greedy forward selection with
 * replacement (Caruana, Niculescu-Mizil, Crew and Ksikes 2004, "Ensemble
 * selection from libraries of models"), on their out-of-sample effects.
 *
 * The ensemble's effects are the average of a list of candidates, a
 * candidate appearing as often as it was chosen (weight = count / length).
 * The list starts with the single best candidate; each step appends the
 * candidate whose addition gives the best metric (the mean of its per-row
 * terms, score/score_terms.h) on the selection rows, with replacement. The
 * list has at most max_steps entries, the first included; the prefix with
 * the best metric is kept (Caruana's rule), a tie going to the shorter
 * prefix, so a single candidate that no mix beats stays alone.
 *
 * Selecting and scoring on the same rows flatters the ensemble (score).
 * The honest score nests the whole procedure: the rows are split into two
 * halves (seeded, stratified by arm when strata are given); the ensemble
 * selected on one half is scored by its terms on the other, both ways, and
 * honest is the mean of those out-of-half terms over all n rows. The rival,
 * "pick the best single candidate", goes through the same protocol
 * (single_honest), and the two are compared row by row (diff, diff_se), as
 * search/rank.h compares trials. The members and weights reported are those
 * of the selection on all rows.
 *
 * Pure computation: no I/O, no clock, no threads; the same inputs and seed
 * give the same result. Each step costs n_cands calls of the terms function
 * (on n rows); the procedure runs three times (all rows, each half).
 *
 * Ownership: cands, ctx, opt and strata are borrowed for the call;
 * tt_ensemble_result owns member and weight (tt_ensemble_result_free).
 */
#ifndef TT_SEARCH_ENSEMBLE_H
#define TT_SEARCH_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

/* Per-row terms of the run's metric for effects tau (n x cols, column-major):
 * the metric's value on a set of rows is the mean of its terms over them
 * (score/score_terms.h: exact for dr_mse). Returns 1, or 0 when the metric is
 * undefined for tau. */
typedef int (*tt_ensemble_terms_fn)(void *ctx, const double *tau, double *terms);

#define TT_ENSEMBLE_DEFAULT_STEPS 50
/* How many paired standard errors the ensemble's honest score must beat the
 * best single candidate's by to win (as search/rank.h calls a difference
 * within two s.e. a tie, and a tie keeps the simpler model). */
#define TT_ENSEMBLE_MARGIN_SE 2.0

typedef struct tt_ensemble_options {
    size_t max_steps;   /* greedy additions, with replacement; 0 = 50 */
    int maximize;       /* the metric's direction (0: lower is better) */
    uint64_t seed;      /* the nested halves (stream "ensemble") */
    const int *strata;  /* n labels (the arm of each row) to stratify the halves, or NULL */
} tt_ensemble_options;

typedef struct tt_ensemble_result {
    size_t n_members;   /* distinct candidates with weight > 0 */
    size_t *member;     /* their indices into cands, ascending (owned) */
    double *weight;     /* their weights, sum 1 (owned) */
    double score;       /* the final ensemble's metric on all rows (in sample: optimistic) */
    double honest;      /* nested estimate: selection on one half, metric on the other, both ways */
    double honest_se;   /* s.e. of honest (from the out-of-half terms) */
    double single_honest;     /* the same protocol for "pick the best single candidate" */
    size_t single_best;       /* the best single candidate on all rows (index into cands) */
    double diff, diff_se;     /* honest - single_honest, paired over rows, and its s.e. */
    int wins;                 /* it has >= 2 members and its honest score beats single_honest
                               * by more than TT_ENSEMBLE_MARGIN_SE x diff_se */
    /* Additions to the agreed interface: */
    double single_score;      /* the metric of cands[single_best] on all rows */
    size_t steps;             /* length of the kept list: weight = count / steps */
} tt_ensemble_result;

/* cands[m]: candidate m's out-of-sample effects (n x cols column-major).
 * opt may be NULL (defaults: 50 steps, minimise, seed 0, no strata).
 * Errors: n < 4, n_cands == 0, cols == 0, a NULL candidate or fn
 * (TT_ERR_INVALID); fn failing on every candidate (TT_ERR_NUMERIC);
 * TT_ERR_NOMEM. A candidate whose terms are undefined (fn returns 0, or a
 * term is not finite) is never chosen. When a half admits no candidate, the
 * honest figures are NaN and wins is 0. On error *out is zeroed. */
tt_status tt_ensemble_build(const double *const *cands, size_t n_cands, size_t n, size_t cols,
                            tt_ensemble_terms_fn fn, void *ctx, const tt_ensemble_options *opt,
                            tt_ensemble_result *out, char *err, size_t errlen);

/* The ensemble's effects: sum over members of weight * cands[member]
 * (n x cols), into tau. This is what `tautune predict` computes on new rows
 * from the members' own effects. */
void tt_ensemble_effects(const double *const *cands, size_t n, size_t cols,
                         const tt_ensemble_result *r, double *tau);

/* The nested halves tt_ensemble_build uses: half[i] in {0, 1} for each of
 * the n rows (seeded by seed, stream "ensemble"; strata as in the options,
 * or NULL). Each stratum splits within one row, and so do the halves.
 * Returns TT_OK or TT_ERR_NOMEM. */
tt_status tt_ensemble_halves(size_t n, const int *strata, uint64_t seed, unsigned char *half);

void tt_ensemble_result_free(tt_ensemble_result *r); /* frees, zeroes; NULL ok */

#endif
