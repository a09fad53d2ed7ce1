/* trial.c - create, fit, predict and score one candidate. */
#include "search/trial.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"
#include "plugin/host_boot.h"
#include "score/oracle.h"
#include "score/score_terms.h"
#include "search/log_tail.h"
#include "util/clock.h"
#include "util/intern.h"
#include "util/rng.h"

const char *tt_trial_status_name(tt_trial_status status)
{
    switch (status) {
    case TT_TRIAL_OK: return "ok";
    case TT_TRIAL_FAILED: return "failed";
    case TT_TRIAL_TIMEOUT: return "timeout";
    }
    return "unknown";
}

static void set_score(tt_score_value *s, const char *name, double value)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->value = value;
}

static void set_null(tt_score_value *s, const char *name, const char *reason)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->value = NAN;
    s->is_null = 1;
    s->reason = tt_intern_text(reason);
}

const tt_score_value *tt_trial_find_score(const tt_trial_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_scores; i++)
        if (strcmp(r->scores[i].name, name) == 0)
            return &r->scores[i];
    for (size_t i = 0; i < r->n_oracle; i++)
        if (strcmp(r->oracle[i].name, name) == 0)
            return &r->oracle[i];
    return NULL;
}

/* A plugin that stopped because the deadline passed has timed out; one that
 * failed for its own reasons has failed, even if it happened late. */
static void fail(tt_trial_result *r, tt_status st, double deadline, const char *stage,
                 const char *msg)
{
    int late = deadline > 0 && tt_now() >= deadline;
    r->status = (st == TT_ERR_STOPPED && late) ? TT_TRIAL_TIMEOUT : TT_TRIAL_FAILED;
    tt_trial_set_error(r, "%s: %s", stage, msg[0] ? msg : tt_strerror(st));
}

/* The objective's per-row terms and its standard error, when the metric has
 * terms (score_terms.h). Out of memory only loses the s.e. */
static void objective_terms(const tt_trial_problem *pb, const double *tau_hat,
                            tt_trial_result *r)
{
    const size_t n = tt_score_context_rows(pb->scores);
    if (isnan(r->objective) || tt_score_terms_missing(pb->scores, pb->metric) || n < 2)
        return;
    double *terms = malloc(n * sizeof *terms);
    if (!terms || !tt_score_terms(pb->scores, pb->metric, tau_hat, terms)) {
        free(terms);
        return;
    }
    r->terms = terms;
    r->n_terms = n;
    r->objective_se = tt_terms_se(terms, n);
}

static void score_effects(const tt_trial_problem *pb, const double *tau_hat, const double *lo,
                          const double *hi, tt_trial_result *r)
{
    size_t n = pb->valid.n;
    char err[256] = "";
    tt_score_value scores[TT_MAX_SCORES];
    size_t n_scores = 0;
    if (tt_scores_compute(pb->scores, tau_hat, lo, hi, pb->score_names, pb->n_score_names,
                          scores, TT_MAX_SCORES, &n_scores, err, sizeof err) != TT_OK) {
        r->status = TT_TRIAL_FAILED;
        tt_trial_set_error(r, "scores: %s", err);
        return;
    }
    if (tt_trial_set_scores(r, scores, n_scores) != 0) {
        r->status = TT_TRIAL_FAILED;
        tt_trial_set_error(r, "scores: out of memory");
        return;
    }
    const tt_score_value *ate = tt_trial_find_score(r, "ate");
    r->ate = ate && !ate->is_null ? ate->value : NAN;
    if (pb->valid_tau) {
        const double *tau = pb->valid_tau;
        tt_score_value oracle[TT_MAX_ORACLE];
        size_t k = 0;
        set_score(&oracle[k++], "pehe", tt_oracle_pehe(n, pb->n_arms, tau_hat, tau));
        set_score(&oracle[k++], "ate_error", tt_oracle_ate_error(n, pb->n_arms, tau_hat, tau));
        double corr = tt_oracle_cate_corr(n, pb->n_arms, tau_hat, tau);
        if (isnan(corr))
            set_null(&oracle[k++], "cate_corr", "tau_hat or tau is constant");
        else
            set_score(&oracle[k++], "cate_corr", corr);
        set_score(&oracle[k++], "policy_true",
                  tt_oracle_policy_true(n, pb->n_arms, tau_hat, tau, pb->cost));
        if (tt_trial_set_oracle(r, oracle, k) != 0) {
            r->status = TT_TRIAL_FAILED;
            tt_trial_set_error(r, "scores: out of memory");
            return;
        }
    }
    const tt_score_value *obj = tt_trial_find_score(r, pb->metric);
    r->objective = (obj && !obj->is_null) ? obj->value : NAN;
    objective_terms(pb, tau_hat, r);
}

/* One fit of the candidate: created with the fold's nuisances, fitted on
 * train, its effects (and, when asked, intervals) on valid written into
 * rows [first, first + valid.n) of the n-row column-major tau/lo/hi. lo/hi
 * NULL: no intervals; *no_intervals is set when the plugin gave none. 0, or
 * -1 with r failed. */
static int fit_fold(const tt_trial_problem *pb, const tt_plugin_descriptor *desc,
                    const double *point, uint64_t seed, double deadline,
                    volatile sig_atomic_t *stop_flag, const tt_trial_fold *fold, size_t n,
                    double *tau, double *lo, double *hi, int *no_intervals, tt_trial_result *r)
{
    char err[1024] = "";
    void *inst = NULL;
    size_t cols = (size_t)(pb->n_arms - 1), nf = fold->valid.n;
    double *buf = malloc(sizeof *buf * (nf * cols * 3 + 1));
    int rc = -1;
    tt_host_ctx ctx = {.plugin_name = desc->name, .stop_flag = stop_flag, .deadline = deadline,
                       .nuisances = fold->nuisances, .capabilities = desc->capabilities,
                       .interval_resamples = pb->interval_resamples};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, seed);
    if (!buf) {
        fail(r, TT_ERR_NOMEM, deadline, "effect", "out of memory");
        return -1;
    }
    tt_status st = (tt_status)desc->create(&host, point, pb->n_arms, &inst, err, sizeof err);
    if (st != TT_OK || !inst) {
        fail(r, st ? st : TT_ERR_PLUGIN, deadline, "create",
             st ? err : "create() returned no instance");
        goto done;
    }
    if ((st = (tt_status)desc->fit(inst, &fold->train, err, sizeof err)) != TT_OK) {
        fail(r, st, deadline, "fit", err);
        goto done;
    }
    /* Pre-filled with NaN so a plugin that forgets to write some cells is
     * caught below instead of being scored on garbage. */
    for (size_t i = 0; i < nf * cols; i++)
        buf[i] = NAN;
    if ((st = (tt_status)desc->effect(inst, &fold->valid, buf, err, sizeof err)) != TT_OK) {
        fail(r, st, deadline, "effect", err);
        goto done;
    }
    for (size_t i = 0; i < nf * cols; i++) {
        if (!isfinite(buf[i])) {
            snprintf(err, sizeof err, "non-finite effect at validation row %zu, arm %zu",
                     fold->first + i % nf + 1, i / nf + 1);
            fail(r, TT_ERR_NUMERIC, deadline, "effect", err);
            goto done;
        }
    }
    for (size_t c = 0; c < cols; c++)
        memcpy(tau + c * n + fold->first, buf + c * nf, nf * sizeof *tau);
    /* Intervals: a plugin that fails to give them is still scored, without. */
    if (lo && !*no_intervals) {
        double *l = buf + nf * cols, *h = l + nf * cols;
        int usable;
        if (desc->capabilities & TT_PLUGIN_CAP_INTERVALS) {
            usable = desc->effect_interval(inst, &fold->valid, 0.05, l, h, err, sizeof err) == 0;
        } else { /* the host's bootstrap (plugin/host_boot.h) */
            tt_host_boot *boot = NULL;
            usable = tt_host_boot_fit(desc, &host, point, &fold->train, pb->interval_resamples,
                                      tt_rng_derive(seed, "host-bootstrap"), &boot, err,
                                      sizeof err) == TT_OK &&
                     tt_host_boot_interval(boot, &fold->valid, buf, 0.05, l, h, err,
                                           sizeof err) == TT_OK;
            tt_host_boot_free(boot);
        }
        for (size_t i = 0; usable && i < nf * cols; i++)
            usable = isfinite(l[i]) && isfinite(h[i]) && l[i] <= h[i];
        for (size_t c = 0; usable && c < cols; c++) {
            memcpy(lo + c * n + fold->first, l + c * nf, nf * sizeof *lo);
            memcpy(hi + c * n + fold->first, h + c * nf, nf * sizeof *hi);
        }
        *no_intervals = !usable;
    }
    rc = 0;
done:
    if (inst)
        desc->destroy(inst);
    free(buf);
    return rc;
}

void tt_trial_evaluate(const tt_trial_problem *problem, const tt_plugin_descriptor *desc,
                       const double *point, uint64_t seed, double deadline,
                       volatile sig_atomic_t *stop_flag, tt_trial_result *r)
{
    double start = tt_now();
    double *tau_hat = NULL, *lo = NULL, *hi = NULL;

    r->status = TT_TRIAL_OK;
    r->error = NULL; /* not freed either, like terms below */
    r->scores = NULL;
    r->n_scores = 0;
    r->oracle = NULL;
    r->objective = NAN;
    r->objective_se = NAN;
    r->terms = NULL; /* not freed: the caller's r may be uninitialised (trial.h) */
    r->n_terms = 0;
    r->effects = NULL;
    r->n_effects = 0;
    r->log = NULL; /* in process nothing is captured; a worker's parent sets it */
    r->ate = NAN;
    r->fit_seconds = NAN;
    r->n_scores = r->n_oracle = 0;

    /* One holdout is one fold: fit on train, predict every valid row. */
    tt_trial_fold single = {.train = problem->train, .valid = problem->valid,
                            .nuisances = problem->nuisances, .first = 0};
    const tt_trial_fold *folds = problem->n_folds >= 2 ? problem->folds : &single;
    size_t n_folds = problem->n_folds >= 2 ? problem->n_folds : 1;
    size_t n = problem->valid.n, cells = n * (size_t)(problem->n_arms - 1);
    tau_hat = malloc(sizeof *tau_hat * (cells + 1));
    if (!tau_hat) {
        fail(r, TT_ERR_NOMEM, deadline, "effect", "out of memory");
        goto done;
    }
    /* Intervals, where the plugin has them (or the host bootstraps it) and a
     * score uses them (Thompson ERUPT, the interval of the mean), feed those
     * scores. Only then: a bootstrap interval costs many refits. */
    int no_intervals = 1;
    if (problem->want_intervals &&
        (((desc->capabilities & TT_PLUGIN_CAP_INTERVALS) && desc->effect_interval) ||
         tt_host_boot_applies(desc))) {
        lo = malloc(sizeof *lo * (cells + 1));
        hi = malloc(sizeof *hi * (cells + 1));
        no_intervals = !lo || !hi;
    }
    double fit_total = 0;
    for (size_t k = 0; k < n_folds; k++) {
        double t0 = tt_now();
        /* Every fold's instance gets the trial's seed: fold k's fit is the
         * trial's model on other rows, not another candidate. */
        if (fit_fold(problem, desc, point, seed, deadline, stop_flag, &folds[k], n, tau_hat,
                     no_intervals ? NULL : lo, hi, &no_intervals, r))
            goto done;
        fit_total += tt_now() - t0;
    }
    r->fit_seconds = fit_total;
    if (no_intervals) {
        free(lo);
        free(hi);
        lo = hi = NULL;
    }
    score_effects(problem, tau_hat, lo, hi, r);
    if (r->status == TT_TRIAL_OK) {
        r->effects = tau_hat; /* the caller's now */
        r->n_effects = cells;
        tau_hat = NULL;
    }

done:
    free(tau_hat);
    free(lo);
    free(hi);
    r->seconds = tt_now() - start;
}

void tt_trial_set_error(tt_trial_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = strdup(buf);
}

const char *tt_trial_error(const tt_trial_result *r)
{
    return r->error ? r->error : "";
}

/* *dst := a copy of the n (at most max) values of s, allocated to size. */
static int set_values(tt_score_value **dst, size_t *n_dst, const tt_score_value *s, size_t n,
                      size_t max)
{
    free(*dst);
    *dst = NULL;
    *n_dst = 0;
    if (n == 0)
        return 0;
    if (n > max)
        n = max;
    *dst = malloc(n * sizeof **dst);
    if (!*dst)
        return -1;
    memcpy(*dst, s, n * sizeof *s);
    *n_dst = n;
    return 0;
}

int tt_trial_set_scores(tt_trial_result *r, const tt_score_value *s, size_t n)
{
    return set_values(&r->scores, &r->n_scores, s, n, TT_MAX_SCORES);
}

int tt_trial_set_oracle(tt_trial_result *r, const tt_score_value *s, size_t n)
{
    return set_values(&r->oracle, &r->n_oracle, s, n, TT_MAX_ORACLE);
}

void tt_trial_result_clear(tt_trial_result *r)
{
    free(r->error);
    free(r->scores);
    free(r->oracle);
    free(r->point);
    free(r->terms);
    free(r->effects);
    tt_log_tail_free(r->log);
    memset(r, 0, sizeof *r);
}
