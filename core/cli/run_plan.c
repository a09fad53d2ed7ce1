/* run_plan.c - one budget for the whole run.
 *
 * With budget.seconds = B the run is planned once the data are read and the
 * scores prepared (setup, measured):
 *   nuisance stage  candidates chosen by estimated work (nuisance_cost.h)
 *                   within 25 % of B (nuisance.seconds x roles when the
 *                   config sets it); the first candidate of every role is
 *                   always fitted;
 *   reserve         R = 4 % of B, at least 1 s and at most 60 s, kept after
 *                   the search for the winner's refit and the report (the
 *                   run should end within max(2 s, 3 %) of B, early or late);
 *   search          from the end of the nuisance stage to B - R (trials
 *                   still running then are stopped);
 *   refit           until B - min(0.5 s, R / 2); the report gets the rest.
 * The reserve grows with the best trial so far: a winner whose intervals
 * come from a bootstrap refits 1 + B times, so the search ends early enough
 * for about (1 + B) x its trial time, up to a quarter of the budget
 * (tt_run_refit_estimate). If the refit still cannot fit, its bootstrap
 * takes fewer replicas (at least 5), said on stderr and in results.json
 * (plan.refit_resamples) - a stated cut, never a silent overrun. Whatever
 * the bootstrap's share, the reserve holds the best trial's least refit
 * (tt_run_refit_least: the model handed on, up to half the budget); a
 * winner whose least refit still cannot finish gives way to the best trial
 * that can (run_winner.c). With K-fold scoring the nuisance allowance also
 * holds the chosen models' refits on the other K-1 folds.
 * When even the smallest plan (setup + the cheapest nuisance models + the
 * least search: two trials' scoring by estimate, at least 1 s + R) exceeds B, the run is refused before anything is fitted, with
 * the estimate and what to change. The plan's choices depend only on B and
 * the data's shape, never on the clock, so a busy machine gets the same
 * models and, trial for trial, the same results (fewer of them).
 * Without a budget the nuisance stage plans 60 s of estimated work. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/run.h"
#include "plugin/host_boot.h"
#include "util/mem.h"
#include "report/results.h"
#include "plugin/registry.h"
#include "util/clock.h"

#define NUISANCE_SHARE 0.25
#define RESERVE_SHARE 0.04
#define RESERVE_MIN 1.0
#define RESERVE_MAX 60.0
#define SEARCH_MIN 1.0
#define REPORT_TAIL 0.5
#define NO_BUDGET_NUISANCE 60.0
#define DYNAMIC_RESERVE_SHARE 0.25
#define REFIT_SHARE_OF_ESTIMATE 0.6
#define MIN_REFIT_RESAMPLES 5
/* Trials whose mean time guesses the next one's (tt_run_search_should_end). */
#define RECENT_TRIALS 20
/* Refit time per fit as a multiple of the trial's. 1: the trial's own pace
 * is already generous (it includes creating and predicting), and a refit
 * that runs late anyway stops its bootstrap at the deadline keeping the
 * replicas it has (pu_boot.h), so cutting more up front only loses
 * replicas. */
#define REFIT_SAFETY 1.0
/* The final nuisance refit's reserve as a multiple of its estimate: it
 * forks a worker and fits every chosen model again, and it cannot keep part
 * of its work when it runs late (measured: 0.7 s spent against 0.5 s
 * planned on a loaded 2-core machine, on 3,000 rows; 2.0 left 401(k)'s
 * 20 s run 2.7 s unused). */
#define NU_FINAL_SAFETY 1.5
/* The least refit's room for a busier machine (tt_run_refit_least): on a
 * million rows a 40 s estimate that ran 55 s was killed at the run's
 * tolerance, and nothing was handed on. */
#define LEAST_REFIT_SAFETY 1.5
/* The search keeps at least the best trial's least refit, up to this share
 * of the budget (the bootstrap's share stops at DYNAMIC_RESERVE_SHARE). */
#define LEAST_RESERVE_SHARE 0.5
/* Seconds per (row pair x column) of the energy scores on the reference
 * machine: about 0.6 s at 20,000 rows x 20 columns (README, Scores). */
#define ENERGY_RATE 7.5e-11

/* The least search worth running: two trials' scoring, at least 1 s. Every
 * trial is scored on the validation rows, and the energy distance (O(rows^2))
 * dominates on large data, so a search shorter than that could end empty. */
static double search_minimum(const run_state *s)
{
    double m = (double)tt_score_context_energy_rows(s->scores);
    double cols = (double)s->valid->p_x + 1;
    return fmax(SEARCH_MIN, 2 * ENERGY_RATE * m * m * cols);
}

static size_t count_roles(const run_state *s)
{
    return s->n_nu_roles ? s->n_nu_roles : 1;
}

/* The cheapest plan's nuisance models, for the refusal message. */
static void describe_minimum(const run_state *s, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t r = 0; r < s->n_nu_roles && used < len; r++) {
        const tt_nuisance_plan_role *pr = &s->nu_roles[r];
        if (!pr->n_cands)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s %s%s%s ~%.1fs", r ? ", " : "",
                                 pr->cands[0].learner, tt_nuisance_role_name(pr->role),
                                 pr->arm >= 0 ? " of arm " : "",
                                 pr->arm >= 0 ? s->data->arm_labels[pr->arm] : "", pr->cost[0]);
    }
    if (s->n_folds >= 2 && used < len)
        snprintf(buf + used, len - used, "; fitted again on each of the other %d scoring folds",
                 s->n_folds - 1);
}

int tt_run_make_plan(run_state *s, double start)
{
    const tt_config *c = s->cfg;
    run_plan *pl = &s->plan;
    double now = tt_now();
    pl->start = start;
    pl->budget = c->budget_seconds;
    pl->setup = now - start;
    double b = pl->budget;
    pl->reserve = b > 0 ? fmin(RESERVE_MAX, fmax(RESERVE_MIN, RESERVE_SHARE * b)) : 0;
    /* List the roles (nuisance.seconds is per role), then plan them. */
    int rc = tt_run_plan_nuisances(s, -1.0);
    if (rc)
        return rc;
    double allowance = c->nu_seconds > 0 ? c->nu_seconds * (double)count_roles(s)
                       : b > 0           ? NUISANCE_SHARE * b
                                         : NO_BUDGET_NUISANCE;
    tt_run_plan_nuisances(s, allowance);
    if (b <= 0)
        return TT_EXIT_OK;
    double search_min = search_minimum(s);
    double nu_min = s->nu_minimum + s->nu_fold_refits_minimum;
    double smallest = pl->setup + nu_min + search_min + pl->reserve;
    if (smallest > b) {
        char models[1024];
        describe_minimum(s, models, sizeof models);
        fprintf(stderr,
                "tautune: %s: a budget of %gs cannot fit this run: reading the data and "
                "preparing the scores took %.1fs; the cheapest nuisance models need ~%.1fs%s%s%s; "
                "the search needs at least %.1fs and the winner's refit and report %.1fs.\n"
                "  Give --budget %.0f or more (budget.seconds), or make the run cheaper: fewer "
                "rows, nuisance.outcome = \"ridge\"%s.\n",
                c->path, b, pl->setup, nu_min, models[0] ? " (" : "", models,
                models[0] ? ")" : "", search_min, pl->reserve,
                ceil(fmax(smallest * 1.2, smallest + 1)),
                s->valid->n > 5000 ? ", scoring.energy_max_rows = 5000" : "");
        return TT_EXIT_USAGE;
    }
    pl->end = start + b;
    pl->search_deadline = pl->end - pl->reserve;
    pl->refit_deadline = pl->end - fmin(REPORT_TAIL, pl->reserve / 2);
    return TT_EXIT_OK;
}

/* Seconds of one fit of the trial on its training rows: its create + fit +
 * effects, divided among its folds; older trials without that figure count
 * their whole time. */
static double one_fit(const run_state *s, const tt_trial_result *best)
{
    double t = isfinite(best->fit_seconds) ? best->fit_seconds : best->seconds;
    return t / (double)(s->n_folds >= 2 ? s->n_folds : 1);
}

double tt_run_refit_minimum(const run_state *s, const tt_trial_result *t)
{
    double rows = s->cfg->final_fit_train
                      ? 1.0
                      : (double)s->data->n / (double)(s->train->n ? s->train->n : 1);
    return one_fit(s, t) * rows;
}

double tt_run_refit_least(const run_state *s, const tt_trial_result *t)
{
    double one = tt_run_refit_minimum(s, t), fit = one;
    if (!s->cfg->final_fit_train) {
        fit += s->nu_final_estimate;
        if (s->n_folds < 2) /* the training-rows refit: one fit on n_train rows */
            fit += one * (double)s->train->n / (double)(s->data->n ? s->data->n : 1);
    }
    return LEAST_REFIT_SAFETY * fit;
}

/* Whether the winner's refit fits bootstrap replicas: the plugin's own
 * (its interval method says "bootstrap") or the host's, for a plugin
 * without intervals (plugin/host_boot.h). */
static int refit_bootstraps(const tt_plugin_descriptor *d)
{
    const char *method = tt_plugin_interval_method(d);
    return ((d->capabilities & TT_PLUGIN_CAP_INTERVALS) && method &&
            strstr(method, "bootstrap") != NULL) ||
           tt_host_boot_applies(d);
}

double tt_run_refit_estimate(const run_state *s, const tt_trial_result *best)
{
    if (!best)
        return 0;
    int bootstrap = refit_bootstraps(best->desc);
    size_t b = s->cfg->interval_resamples > 0 ? s->cfg->interval_resamples : 30;
    /* One fit: the trial's create + fit + effects (its scoring, which on
     * large validation sets dominates, is not refitted); older trials
     * without that figure count their whole time. */
    double one = one_fit(s, best);
    double refit = one * (bootstrap ? 1.0 + (double)b : 1.0);
    /* final_fit = "all": the chosen nuisance models on every row, and the
     * trial once more on every row (about n / n_train times the work). With
     * K folds the training-rows refit is not needed (the trial's
     * out-of-fold effects are kept): only the final fit. */
    double all = refit * (double)s->data->n / (double)(s->train->n ? s->train->n : 1);
    if (s->n_folds >= 2)
        return s->nu_final_estimate + all;
    if (!s->cfg->final_fit_train)
        refit += s->nu_final_estimate + all;
    return refit;
}

void tt_run_refit_resamples(run_state *s, const tt_trial_result *best, double now)
{
    const run_plan *pl = &s->plan;
    s->refit_resamples = 0;
    s->train_refit_deadline = pl->refit_deadline;
    if (pl->budget <= 0 || !best)
        return;
    /* Seconds per fit, with room for a busier machine than the trial saw;
     * the final fit repeats the work on n / n_train times the rows. */
    double one = REFIT_SAFETY * one_fit(s, best);
    double r = s->cfg->final_fit_train ? 0.0
                                       : (double)s->data->n / (double)(s->train->n ? s->train->n : 1);
    double nu_final = s->cfg->final_fit_train ? 0.0 : REFIT_SAFETY * s->nu_final_estimate;
    double left = pl->refit_deadline - now - nu_final;
    int bootstrap = refit_bootstraps(best->desc);
    size_t b = s->cfg->interval_resamples > 0 ? s->cfg->interval_resamples : 30;
    size_t fits = bootstrap ? 1 + b : 1;
    /* Fits per replica: the training-rows refit (1, none with K folds) and
     * the final fit (r). */
    double per = (s->n_folds >= 2 ? 0.0 : 1.0) + r;
    if ((double)fits * one * per > left && bootstrap) {
        double can = left > 0 && one > 0 ? floor(left / (one * per)) - 1 : 0;
        size_t cut = can < MIN_REFIT_RESAMPLES ? MIN_REFIT_RESAMPLES : (size_t)can;
        if (cut < b) {
            s->refit_resamples = cut;
            fits = 1 + cut;
            if (!s->quiet)
                fprintf(stderr, "tautune: the winner's bootstrap intervals use %zu of %zu "
                                "resamples: the budget leaves ~%.1fs for its refit%s "
                                "(results.json: plan.refit_resamples)\n", cut, b,
                        fmax(0.0, pl->refit_deadline - now),
                        r > 0 ? " and its final fit on every row" : "");
        }
    }
    /* The training-rows refit stops in time to leave the final fit its share
     * (it keeps the replicas fitted by then; pu_boot.h). */
    if (r > 0 && left > 0 && s->n_folds < 2)
        s->train_refit_deadline = fmin(pl->refit_deadline, now + left / (1 + r));
}

int tt_run_refit_affordable(void *ctx, const tt_trial_result *r)
{
    const run_state *s = ctx;
    const run_plan *pl = &s->plan;
    const tt_search_outcome *o = &s->outcome;
    const tt_trial_result *best =
        o->best_by_objective >= 0 ? &o->trials[o->best_by_objective] : NULL;
    const double now = tt_now();
    if (pl->budget <= 0 || !r || !best || r == best)
        return 1;
    /* What the search kept for the best trial's refit, or what is left,
     * whichever is more: the same share of the estimate as the search's rule. */
    double room = fmax(pl->refit_deadline - now, REFIT_SHARE_OF_ESTIMATE *
                                                     tt_run_refit_estimate(s, best));
    return REFIT_SHARE_OF_ESTIMATE * tt_run_refit_estimate(s, r) <= room;
}

int tt_run_search_should_end(const run_state *s, const tt_trial_result *best, double now)
{
    const run_plan *pl = &s->plan;
    if (pl->budget <= 0 || !best)
        return 0;
    /* The estimate counts every fit at its trial's pace and is generous (it
     * measured ~1.7x the refit on 401(k)); a refit that still runs short
     * cuts its bootstrap (tt_run_refit_resamples), so the search keeps
     * REFIT_SHARE_OF_ESTIMATE of it rather than ending seconds early. */
    /* The final nuisance refit cannot be cut short the way a bootstrap can
     * (a stage killed at its deadline hands on the training-rows model):
     * it is kept whole, with room for a busier machine. */
    double nu_final = s->cfg->final_fit_train ? 0.0 : NU_FINAL_SAFETY * s->nu_final_estimate;
    double rest = fmax(0.0, tt_run_refit_estimate(s, best) -
                                (s->cfg->final_fit_train ? 0.0 : s->nu_final_estimate));
    double need = fmax(nu_final + REFIT_SHARE_OF_ESTIMATE * rest, tt_run_ensemble_reserve(s));
    need = fmin(need, DYNAMIC_RESERVE_SHARE * pl->budget);
    /* Whatever the bootstrap's share, the model handed on must fit. */
    need = fmax(need, fmin(tt_run_refit_least(s, best), LEAST_RESERVE_SHARE * pl->budget));
    /* The refit's own window is the reserve less the report's tail. */
    if (need > pl->refit_deadline - pl->search_deadline && now > pl->refit_deadline - need)
        return 1;
    /* A trial launched now that cannot finish by the search's deadline is
     * stopped there and its time lost, and its grace eats the reserve: with
     * K folds a trial is K fits long. The recent trials' mean time is the
     * guess of the next one's. */
    const tt_search_outcome *o = &s->outcome;
    size_t m = 0;
    double sum = 0;
    for (size_t i = o->n_trials; i-- > 0 && m < RECENT_TRIALS;) {
        if (o->trials[i].seconds > 0) {
            sum += o->trials[i].seconds;
            m++;
        }
    }
    return m >= RECENT_TRIALS / 2 && now + sum / (double)m > pl->search_deadline ? 2 : 0;
}

static void add_number(cJSON *o, const char *name, double v)
{
    cJSON_AddItemToObject(o, name, tt_json_number(v));
}

cJSON *tt_run_plan_facts(const run_state *s)
{
    const run_plan *pl = &s->plan;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (pl->budget > 0)
        add_number(o, "budget_seconds", pl->budget);
    else
        cJSON_AddNullToObject(o, "budget_seconds");
    add_number(o, "reserve_seconds", pl->reserve);
    cJSON *nu = cJSON_AddObjectToObject(o, "nuisance");
    /* Estimates (deterministic: from the data's shape and the budget). */
    add_number(nu, "allowance_estimate", s->nu_allowance);
    add_number(nu, "planned_estimate", s->nu_planned);
    add_number(nu, "minimum_estimate", s->nu_minimum);
    /* K folds: refitting the chosen models on folds 1..K-1, inside the
     * allowance beside planned_estimate. */
    if (s->n_folds >= 2)
        add_number(nu, "fold_refits_estimate", s->nu_fold_refits_planned);
    cJSON_AddBoolToObject(nu, "reused", s->nu_reused);
    /* The planned models overran twice their estimate on this machine and
     * the cheapest ones were fitted instead (the results then differ from a
     * run where the plan finished). */
    cJSON_AddBoolToObject(nu, "degraded", s->nu_degraded);
    cJSON *roles = cJSON_AddArrayToObject(nu, "roles");
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        const tt_nuisance_plan_role *pr = &s->nu_roles[r];
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "role", tt_nuisance_role_name(pr->role));
        if (pr->arm >= 0)
            cJSON_AddNumberToObject(ro, "arm", pr->arm);
        cJSON *cands = cJSON_AddArrayToObject(ro, "candidates");
        for (size_t k = 0; k < pr->n_cands; k++) {
            cJSON *co = cJSON_CreateObject();
            cJSON_AddStringToObject(co, "learner", pr->cands[k].learner);
            add_number(co, "estimate", pr->cost[k]);
            cJSON_AddBoolToObject(co, "fitted", pr->take[k] != 0);
            cJSON_AddItemToArray(cands, co);
        }
        cJSON_AddItemToArray(roles, ro);
    }
    if (s->refit_resamples)
        cJSON_AddNumberToObject(o, "refit_resamples", (double)s->refit_resamples);
    cJSON *ph = cJSON_AddObjectToObject(o, "phases");
    add_number(ph, "setup_seconds", pl->setup);
    add_number(ph, "nuisance_seconds", pl->t_nuisance);
    add_number(ph, "search_seconds", pl->t_search);
    add_number(ph, "refit_seconds", pl->t_refit);
    add_number(ph, "report_seconds", pl->t_report);
    /* The main process only: trials run in forked workers of their own. */
    add_number(ph, "peak_rss_mb", tt_peak_rss_mb());
    /* The largest worker that has ended (a trial, the nuisance stage, a
     * refit): forked, so it shares the data's pages with the main process. */
    add_number(ph, "peak_worker_rss_mb", tt_peak_child_rss_mb());
    return o;
}
