/*
 * test_problem.h - a small search problem for the tests of trials, searches,
 * workers and the host's nuisance services: the built-in synthetic data set,
 * split 70/30 by arm, with a scoring context (no validation nuisances, which
 * none of these tests are about) and the trial problem over it.
 */
#ifndef TT_TEST_PROBLEM_H
#define TT_TEST_PROBLEM_H

#include <stdio.h>
#include <stdlib.h>

#include "data/split.h"
#include "data/synth.h"
#include "score/scores.h"
#include "search/trial.h"

typedef struct test_problem {
    tt_dataset *data, *train, *valid;
    tt_split split;
    tt_score_context *scores;
    tt_trial_problem problem;
} test_problem;

static inline tt_plugin_data test_view(const tt_dataset *d)
{
    tt_plugin_data v = {.struct_size = sizeof v, .n = d->n, .p_x = d->p_x, .p_w = d->p_w,
                        .x = d->x, .w = d->w, .t = d->t, .y = d->y, .n_arms = d->n_arms};
    return v;
}

/* 0 on success; prints the reason and returns -1 otherwise. */
static inline int test_problem_make(test_problem *tp, size_t rows)
{
    char err[1024];
    tt_synth_options opt;
    tt_synth_options_init(&opt);
    opt.rows = rows;
    tt_score_options so;
    tt_score_options_init(&so);
    so.seed = 1;
    so.fit_nuisances = 0;
    if (tt_synth_generate("synthetic", &opt, &tp->data, err, sizeof err) ||
        tt_split_stratified(tp->data->t, tp->data->n, 2, NULL, 0.3, 1, &tp->split, err,
                            sizeof err) ||
        tt_dataset_subset(tp->data, tp->split.train, tp->split.n_train, &tp->train, err,
                          sizeof err) ||
        tt_dataset_subset(tp->data, tp->split.valid, tp->split.n_valid, &tp->valid, err,
                          sizeof err)) {
        fprintf(stderr, "test problem: %s\n", err);
        return -1;
    }
    tp->problem.train = test_view(tp->train);
    tp->problem.valid = test_view(tp->valid);
    tp->problem.valid_tau = tp->valid->tau;
    if (tt_score_context_build(&tp->problem.train, &tp->problem.valid, &so, &tp->scores, err,
                               sizeof err) != TT_OK) {
        fprintf(stderr, "test problem: %s\n", err);
        return -1;
    }
    tp->problem.scores = tp->scores;
    tp->problem.n_arms = 2;
    tp->problem.metric = "energy";
    return 0;
}

static inline void test_problem_free(test_problem *tp)
{
    tt_score_context_free(tp->scores);
    tt_dataset_free(tp->data);
    tt_dataset_free(tp->train);
    tt_dataset_free(tp->valid);
    tt_split_free(&tp->split);
}

#endif
