/* search.c - random search with defaults first, under a budget. */
#include "search/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/space.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/rng.h"

/* How often a repeated random point is redrawn before it is accepted: small
 * spaces (all-bool, a single choice) run out of new points quickly. */
#define TT_REDRAWS 8
/* Consecutive repeated draws after which the space counts as exhausted. */
#define TT_MAX_MISSES 200

static int stop_requested(const tt_search_options *opt, size_t n_done)
{
    if (opt->stop_flag && *opt->stop_flag)
        return 1;
    if (opt->max_trials > 0 && n_done >= (size_t)opt->max_trials)
        return 1;
    if (opt->deadline > 0 && tt_now() >= opt->deadline)
        return 1;
    return 0;
}

static int already_tried(const tt_search_outcome *out, size_t est, const double *point, size_t np)
{
    for (size_t i = 0; i < out->n_trials; i++)
        if (out->trials[i].estimator == est && tt_space_point_equal(out->trials[i].point, point, np))
            return 1;
    return 0;
}

static int better(const tt_trial_result *a, const tt_trial_result *b)
{
    return a->status == TT_TRIAL_OK && !isnan(a->objective) &&
           (!b || isnan(b->objective) || a->objective < b->objective);
}

tt_status tt_search_run(const tt_trial_problem *problem, const tt_config *config,
                        const tt_plugin_descriptor *const *descs, const tt_search_options *opt,
                        tt_trial_sink sink, void *sink_ctx, tt_search_outcome *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->best = -1;
    if (config->n_estimators == 0)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "no estimators to search");

    tt_rng rng;
    tt_rng_seed(&rng, opt->seed, "search");
    size_t cap = 16;
    out->trials = calloc(cap, sizeof *out->trials);
    if (!out->trials)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");

    size_t misses = 0;
    for (size_t id = 1;;) {
        if (stop_requested(opt, out->n_trials))
            break;
        if (out->n_trials == cap) {
            tt_trial_result *grown = realloc(out->trials, 2 * cap * sizeof *grown);
            if (!grown)
                return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
            memset(grown + cap, 0, cap * sizeof *grown);
            out->trials = grown;
            cap *= 2;
        }
        tt_trial_result *r = &out->trials[out->n_trials];
        int is_default = out->n_trials < config->n_estimators;
        size_t est = is_default ? out->n_trials : (size_t)tt_rng_below(&rng, config->n_estimators);
        const tt_plugin_descriptor *desc = descs[est];
        free(r->point); /* left over from a repeated draw */
        r->point = calloc(desc->n_params + 1, sizeof *r->point);
        if (!r->point)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        if (is_default) {
            tt_space_default_point(&config->estimators[est], desc, r->point);
        } else {
            int fresh = 0;
            for (int tries = 0; tries <= TT_REDRAWS && !fresh; tries++) {
                tt_space_sample(&config->estimators[est], desc, &rng, r->point);
                fresh = !already_tried(out, est, r->point, desc->n_params);
            }
            /* Re-running a point only repeats a deterministic result. Many
             * misses in a row mean the whole space has been tried. */
            if (!fresh) {
                if (++misses >= TT_MAX_MISSES) {
                    out->exhausted = 1;
                    break;
                }
                continue;
            }
        }
        misses = 0;
        r->id = id++;
        r->estimator = est;
        r->desc = desc;
        r->is_default = is_default;

        /* Each trial's randomness depends only on the run seed and its id. */
        char stream[32];
        snprintf(stream, sizeof stream, "trial:%zu", r->id);
        tt_trial_evaluate(problem, desc, r->point, tt_rng_derive(opt->seed, stream), opt->deadline,
                          opt->stop_flag, r);
        out->n_trials++;

        if (better(r, out->best >= 0 ? &out->trials[out->best] : NULL))
            out->best = (long)(out->n_trials - 1);
        if (sink && sink(sink_ctx, r) != 0)
            break;
    }
    /* A point drawn but never run belongs to the unused slot after the last trial. */
    if (out->n_trials < cap && out->trials[out->n_trials].point) {
        free(out->trials[out->n_trials].point);
        out->trials[out->n_trials].point = NULL;
    }
    out->interrupted = opt->stop_flag && *opt->stop_flag;
    return TT_OK;
}

void tt_search_outcome_free(tt_search_outcome *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < out->n_trials; i++)
        tt_trial_result_clear(&out->trials[i]);
    free(out->trials);
    memset(out, 0, sizeof *out);
    out->best = -1;
}
