/* search.c - the search loop: propose, run (in workers or in process), record. */
#include "search/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/conditions.h"
#include "score/score_terms.h"
#include "search/log_tail.h"
#include "search/point_set.h"
#include "search/rank.h"
#include "search/searcher.h"
#include "search/space.h"
#include "search/worker.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/rng.h"

/* How often a repeated random point is redrawn before the draw counts as a
 * miss: small spaces (all-bool, a single choice) run out of new points. */
#define TT_REDRAWS 8
/* Consecutive misses after which the space counts as exhausted. */
#define TT_MAX_MISSES 200

/* The loop's bookkeeping beside the outcome it fills. */
typedef struct loop {
    const tt_trial_problem *problem;
    const tt_config *config;
    const tt_plugin_descriptor *const *descs;
    const tt_search_options *opt;
    tt_search_outcome *out;     /* trials[0..n_trials) launched, in id order */
    unsigned char *done;        /* per trial: finished (recorded) */
    unsigned char *default_tried; /* per estimator */
    tt_point_set tried;         /* every launched trial's (estimator, point) */
    size_t cap, n_done, next_id;
    tt_searcher *searcher;
    size_t observed;            /* trials with id 1..observed were shown to the searcher */
    size_t jobs;                /* trials that may run at once */
    tt_trial_sink sink;
    void *sink_ctx;
    int sink_stop;
    double t0;                  /* tt_now() when this search began */
    double offset;              /* a resumed run's timeline: its prior trials' last finish */
} loop;

static int stop_requested(const loop *lp)
{
    const tt_search_options *opt = lp->opt;
    if (lp->sink_stop || (opt->stop_flag && *opt->stop_flag))
        return 1;
    if (opt->max_trials > 0 && lp->out->n_trials >= (size_t)opt->max_trials)
        return 1;
    return opt->deadline > 0 && tt_now() >= opt->deadline;
}

/* The better objective wins (lower, or higher for a maximised metric);
 * among equal objectives the earlier trial, so the winner does not depend on
 * the order in which parallel trials finished. A failure never wins. */
static int better(const tt_trial_result *a, const tt_trial_result *b, int maximize)
{
    if (a->status != TT_TRIAL_OK || isnan(a->objective))
        return 0;
    if (!b || isnan(b->objective))
        return 1;
    if (a->objective != b->objective)
        return maximize ? a->objective > b->objective : a->objective < b->objective;
    return a->id < b->id;
}

static tt_status grow(loop *lp)
{
    if (lp->out->n_trials < lp->cap)
        return TT_OK;
    size_t cap = lp->cap ? 2 * lp->cap : 16;
    tt_trial_result *trials = realloc(lp->out->trials, cap * sizeof *trials);
    if (trials)
        lp->out->trials = trials;
    unsigned char *done = realloc(lp->done, cap);
    if (done)
        lp->done = done;
    if (!trials || !done)
        return TT_ERR_NOMEM;
    memset(trials + lp->cap, 0, (cap - lp->cap) * sizeof *trials);
    memset(done + lp->cap, 0, cap - lp->cap);
    lp->cap = cap;
    return TT_OK;
}

/* Next candidate into trials[n_trials]: an estimator whose defaults have not
 * been tried yet (config order), else the searcher's proposal. A point
 * already tried is not run again (plugins are deterministic, so it would only
 * repeat a result): the searcher hears it was no improvement and proposes
 * again. Returns 1 with a proposal, 0 when the space is exhausted, -1 on out
 * of memory. */
static int propose(loop *lp)
{
    const tt_config *cfg = lp->config;
    tt_trial_result *r = &lp->out->trials[lp->out->n_trials];
    size_t est = cfg->n_estimators;
    for (size_t e = 0; e < cfg->n_estimators && est == cfg->n_estimators; e++)
        if (!lp->default_tried[e])
            est = e;
    int is_default = est < cfg->n_estimators;
    size_t max_params = 0;
    for (size_t e = 0; e < cfg->n_estimators; e++)
        max_params = lp->descs[e]->n_params > max_params ? lp->descs[e]->n_params : max_params;
    free(r->point);
    r->point = calloc(max_params + 1, sizeof *r->point);
    if (!r->point)
        return -1;
    if (is_default) {
        tt_space_default_point(&cfg->estimators[est], lp->descs[est], r->point);
        lp->default_tried[est] = 1;
    } else {
        for (size_t misses = 0;; misses++) {
            if (misses >= TT_MAX_MISSES)
                return 0;
            if (tt_searcher_propose(lp->searcher, &est, r->point) != TT_OK)
                return -1;
            if (!tt_point_set_has(&lp->tried, lp->out->trials, est, r->point,
                                  lp->descs[est]->n_params))
                break;
            tt_searcher_reject(lp->searcher, est);
        }
    }
    r->id = lp->next_id++;
    r->estimator = est;
    r->desc = lp->descs[est];
    r->is_default = is_default;
    return 1;
}

/* Show the searcher the finished trials in id order, never skipping one and
 * never looking further than slot `limit` - 1: it proposes slot k knowing
 * exactly slots 0..k-jobs, whatever order they finished in, so a run with the
 * same number of workers repeats itself. */
static void observe_upto(loop *lp, size_t limit)
{
    while (lp->observed < limit && lp->observed < lp->out->n_trials && lp->done[lp->observed]) {
        tt_searcher_observe(lp->searcher, &lp->out->trials[lp->observed]);
        lp->observed++;
    }
}

uint64_t tt_search_trial_seed(uint64_t run_seed, size_t id)
{
    /* Each trial's randomness depends only on the run seed and its id. */
    char stream[32];
    snprintf(stream, sizeof stream, "trial:%zu", id);
    return tt_rng_derive(run_seed, stream);
}

static uint64_t trial_seed(const loop *lp, size_t id)
{
    return tt_search_trial_seed(lp->opt->seed, id);
}

/* Why a trial with an objective has no standard error: its metric has no
 * per-row terms (the worker then sends none). */
static void se_missing(const tt_trial_problem *pb, tt_trial_result *r)
{
    r->se_missing = NULL;
    if (r->status == TT_TRIAL_OK && isfinite(r->objective) && isnan(r->objective_se) &&
        pb->metric)
        r->se_missing = tt_score_terms_missing(pb->scores, pb->metric);
}

/* Record a finished trial whose computed fields are already in place. */
static void finish(loop *lp, size_t slot)
{
    tt_search_outcome *out = lp->out;
    lp->done[slot] = 1;
    lp->n_done++;
    out->trials[slot].finished = lp->offset + (tt_now() - lp->t0);
    se_missing(lp->problem, &out->trials[slot]);
    if (better(&out->trials[slot], out->best >= 0 ? &out->trials[out->best] : NULL, lp->problem->maximize))
        out->best = (long)slot;
    tt_rank_keep_terms(out->trials, out->n_trials, lp->problem->maximize,
                       tt_rank_keep(lp->problem->valid.n * (size_t)lp->problem->n_arms));
    if (lp->sink_stop == 0 && lp->sink && lp->sink(lp->sink_ctx, &out->trials[slot]))
        lp->sink_stop = 1;
    /* The sink has written the log (trials.jsonl); the record kept for
     * ranking must not hold up to 16 KiB per trial for the rest of the run. */
    tt_log_tail_free(out->trials[slot].log);
    out->trials[slot].log = NULL;
}

/* Copy what a worker computed into the launched trial. */
static void take_result(tt_trial_result *dst, const tt_trial_result *src)
{
    dst->status = src->status;
    free(dst->error);
    dst->error = src->error; /* moved, like the arrays below */
    dst->seconds = src->seconds;
    dst->fit_seconds = src->fit_seconds;
    dst->objective = src->objective;
    dst->objective_se = src->objective_se;
    free(dst->terms);
    dst->terms = src->terms; /* moved: the worker's decoded array */
    dst->n_terms = src->n_terms;
    free(dst->effects);
    dst->effects = src->effects; /* moved too */
    dst->n_effects = src->n_effects;
    tt_log_tail_free(dst->log);
    dst->log = src->log; /* moved too, until finish() */
    dst->ate = src->ate;
    free(dst->scores);
    dst->scores = src->scores;
    dst->n_scores = src->n_scores;
    free(dst->oracle);
    dst->oracle = src->oracle; /* moved too */
    dst->n_oracle = src->n_oracle;
}

/* Drop trials that were launched but never finished (killed at a stop), so
 * the outcome holds exactly the recorded trials, in id order. */
static void compact(loop *lp)
{
    tt_search_outcome *out = lp->out;
    size_t k = 0;
    for (size_t i = 0; i < out->n_trials; i++) {
        if (!lp->done[i]) {
            tt_trial_result_clear(&out->trials[i]);
            continue;
        }
        if (k != i) {
            out->trials[k] = out->trials[i];
            memset(&out->trials[i], 0, sizeof out->trials[i]);
        }
        k++;
    }
    /* The slot after the last trial may hold a point drawn but never used. */
    for (size_t i = k; i < lp->cap; i++)
        tt_trial_result_clear(&out->trials[i]);
    out->n_trials = k;
    out->best = -1;
    for (size_t i = 0; i < k; i++)
        if (better(&out->trials[i], out->best >= 0 ? &out->trials[out->best] : NULL, lp->problem->maximize))
            out->best = (long)i;
}

static int by_id(const void *a, const void *b)
{
    size_t x = ((const tt_trial_result *)a)->id, y = ((const tt_trial_result *)b)->id;
    return (x > y) - (x < y);
}

/* A resumed run's finished trials: recorded as done (not re-run, not sent to
 * the sink again), in id order, so the searcher rebuilds its state from them
 * and new trials continue the ids. */
static tt_status add_prior(loop *lp, const tt_trial_result *prior, size_t n)
{
    tt_search_outcome *out = lp->out;
    for (size_t i = 0; i < n; i++) {
        if (grow(lp) != TT_OK)
            return TT_ERR_NOMEM;
        tt_trial_result *r = &out->trials[out->n_trials];
        *r = prior[i];
        r->terms = NULL; /* the caller's; a read-back trial has none anyway */
        r->n_terms = 0;
        r->effects = NULL;
        r->n_effects = 0;
        r->log = NULL; /* a read-back trial has none; its log stays in the file */
        r->error = NULL;
        r->scores = NULL;
        r->n_scores = 0;
        r->oracle = NULL;
        r->n_oracle = 0;
        r->point = NULL;
        if ((prior[i].error && !(r->error = strdup(prior[i].error))) ||
            tt_trial_set_scores(r, prior[i].scores, prior[i].n_scores) != 0 ||
            tt_trial_set_oracle(r, prior[i].oracle, prior[i].n_oracle) != 0)
            return TT_ERR_NOMEM;
        se_missing(lp->problem, r);
        r->point = malloc((prior[i].desc->n_params + 1) * sizeof *r->point);
        if (!r->point)
            return TT_ERR_NOMEM;
        memcpy(r->point, prior[i].point, prior[i].desc->n_params * sizeof *r->point);
        /* An older trials.jsonl stored inactive parameters with whatever
         * value they had: canonical, they match the points proposed now. */
        tt_point_canonical(r->desc, r->point);
        lp->done[out->n_trials++] = 1;
        lp->n_done++;
        if (r->is_default)
            lp->default_tried[r->estimator] = 1;
        if (r->id >= lp->next_id)
            lp->next_id = r->id + 1;
        if (isfinite(r->finished) && r->finished > lp->offset)
            lp->offset = r->finished;
    }
    qsort(out->trials, out->n_trials, sizeof *out->trials, by_id);
    for (size_t i = 0; i < out->n_trials; i++)
        if (tt_point_set_add(&lp->tried, out->trials, i) != 0)
            return TT_ERR_NOMEM;
    for (size_t i = 0; i < out->n_trials; i++)
        if (better(&out->trials[i], out->best >= 0 ? &out->trials[out->best] : NULL, lp->problem->maximize))
            out->best = (long)i;
    return TT_OK;
}

static tt_status run_loop(loop *lp, const tt_trial_pool *pool, char *err, size_t errlen)
{
    tt_search_outcome *out = lp->out;
    for (;;) {
        while (!stop_requested(lp) && (!pool || pool->ops->has_room(pool->impl))) {
            size_t k = out->n_trials; /* the slot to fill */
            size_t need = k + 1 > lp->jobs ? k + 1 - lp->jobs : 0;
            observe_upto(lp, need);
            if (lp->observed < need)
                break; /* wait until the trial `jobs` places back is known */
            if (grow(lp) != TT_OK)
                return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
            int got = propose(lp);
            if (got < 0)
                return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
            if (got == 0) {
                out->exhausted = 1;
                break;
            }
            size_t slot = out->n_trials++;
            if (tt_point_set_add(&lp->tried, out->trials, slot) != 0)
                return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
            tt_trial_result *r = &out->trials[slot];
            if (pool) {
                tt_trial_launch t = {.slot = slot, .id = r->id, .estimator = r->estimator,
                                     .problem = lp->problem, .desc = r->desc, .point = r->point,
                                     .seed = trial_seed(lp, r->id),
                                     .stop_flag = lp->opt->stop_flag};
                tt_status st = pool->ops->launch(pool->impl, &t, err, errlen);
                if (st != TT_OK)
                    return st;
            } else {
                tt_trial_evaluate(lp->problem, r->desc, r->point, trial_seed(lp, r->id),
                                  lp->opt->deadline, lp->opt->stop_flag, r);
                finish(lp, slot);
            }
            if (out->exhausted)
                break;
        }
        if (!pool || pool->ops->running(pool->impl) == 0)
            return TT_OK;
        if (lp->opt->stop_flag && *lp->opt->stop_flag) {
            pool->ops->kill_all(pool->impl); /* unfinished trials are dropped, not recorded */
            return TT_OK;
        }
        size_t slot;
        tt_trial_result fields;
        if (pool->ops->wait(pool->impl, 0.25, &slot, &fields)) {
            take_result(&out->trials[slot], &fields);
            finish(lp, slot);
        }
        if (out->exhausted && pool->ops->running(pool->impl) == 0)
            return TT_OK;
    }
}

tt_status tt_search_run(const tt_trial_problem *problem, const tt_config *config,
                        const tt_plugin_descriptor *const *descs, const tt_search_options *opt,
                        tt_trial_sink sink, void *sink_ctx, tt_search_outcome *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->best = out->best_by_objective = -1;
    out->picks[0] = out->picks[1] = out->picks[2] = -1;
    out->rule = "best";
    if (config->n_estimators == 0)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "no estimators to search");

    loop lp = {.problem = problem, .config = config, .descs = descs, .opt = opt, .out = out,
               .next_id = 1, .sink = sink, .sink_ctx = sink_ctx,
               .jobs = opt->isolate && opt->jobs > 1 ? (size_t)opt->jobs : 1,
               .t0 = tt_now()};
    tt_status st = tt_searcher_new(opt->searcher ? opt->searcher : "cfo", config, descs,
                                   opt->seed, opt->cost_in_seconds, problem->maximize,
                                   &lp.searcher, err, errlen);
    if (st != TT_OK)
        return st;
    lp.default_tried = calloc(config->n_estimators, 1);
    if (lp.default_tried && opt->n_prior > 0 && add_prior(&lp, opt->prior, opt->n_prior) != TT_OK)
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    /* The caller's backend (MPI ranks), else a local pool of forked workers. */
    tt_pool *local = NULL;
    tt_trial_pool backend = {0};
    if (opt->isolate && opt->pool) {
        backend = *opt->pool;
    } else if (opt->isolate) {
        tt_worker_limits lim = {.jobs = opt->jobs, .trial_timeout = opt->trial_timeout,
                                .deadline = opt->deadline, .grace = opt->grace,
                                .memory_cap = opt->memory_cap};
        if ((local = tt_pool_new(&lim)) != NULL)
            backend = tt_pool_backend(local);
    }
    if (st == TT_OK)
        st = (!lp.default_tried || (opt->isolate && !backend.ops))
                 ? tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory")
                 : run_loop(&lp, backend.ops ? &backend : NULL, err, errlen);
    tt_pool_free(local);
    compact(&lp);
    out->best_by_objective = out->best;
    out->n_tied = tt_rank_ties(out->trials, out->n_trials, out->best, &out->tied_at_least);
    out->rule = "best";
    out->picks[0] = out->picks[1] = out->picks[2] = out->best; /* until tt_search_select */
    out->interrupted = opt->stop_flag && *opt->stop_flag;
    free(lp.done);
    free(lp.default_tried);
    tt_point_set_free(&lp.tried);
    tt_searcher_free(lp.searcher);
    return st;
}

void tt_search_outcome_free(tt_search_outcome *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < out->n_trials; i++)
        tt_trial_result_clear(&out->trials[i]);
    free(out->trials);
    memset(out, 0, sizeof *out);
    out->best = out->best_by_objective = -1;
}
