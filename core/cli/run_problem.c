/* run_problem.c - what every trial of a run sees (tt_run_trial_problem):
 * made the same way by rank 0 (or a local run) and by each MPI worker rank,
 * so a trial computes the same numbers wherever it runs. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/run.h"
#include "score/scores.h"

/* Trials ask for intervals only when something uses them: a bootstrap
 * interval costs its plugin dozens of refits. */
static int wants_intervals(const tt_config *c, const char *metric)
{
    if (c->intervals_in_trials || c->erupt_thompson)
        return 1;
    const tt_score_info *m = tt_score_find(metric);
    if (m && (m->needs & TT_SCORE_NEEDS_INTERVALS))
        return 1;
    for (size_t i = 0; i < c->n_scores; i++) {
        const tt_score_info *info = tt_score_find(c->scores[i]);
        if (info && (info->needs & TT_SCORE_NEEDS_INTERVALS))
            return 1;
    }
    return 0;
}

int tt_run_trial_problem(const run_state *s, tt_trial_problem *problem, tt_trial_fold **folds)
{
    const tt_config *c = s->cfg;
    *problem = (tt_trial_problem){
        .train = tt_run_view(s->train), .valid = tt_run_view(s->valid),
        .valid_tau = s->valid->tau, .scores = s->scores,
        .score_names = (const char *const *)c->scores, .n_score_names = c->n_scores,
        .cost = s->costs, .nuisances = s->engine ? &s->nuisances : NULL,
        .n_arms = s->data->n_arms, .metric = s->metric,
        .maximize = s->maximize, .want_intervals = wants_intervals(c, s->metric),
        .interval_resamples = c->interval_resamples,
    };
    *folds = NULL;
    if (s->n_folds < 2)
        return TT_EXIT_OK;
    *folds = calloc((size_t)s->n_folds, sizeof **folds);
    if (!*folds) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    for (int k = 0; k < s->n_folds; k++) {
        const run_fold *f = &s->folds[k];
        (*folds)[k] = (tt_trial_fold){
            .train = tt_run_view(tt_run_fold_train(s, k)), .valid = tt_run_view(f->valid),
            .nuisances = !s->engine ? NULL : k == 0 ? &s->nuisances : &f->nuisances,
            .first = f->first};
    }
    problem->n_folds = (size_t)s->n_folds;
    problem->folds = *folds;
    return TT_EXIT_OK;
}
