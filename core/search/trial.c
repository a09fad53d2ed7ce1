/* trial.c - create, fit, predict and score one candidate. */
#include "search/trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"
#include "score/energy.h"
#include "score/oracle.h"
#include "util/clock.h"

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
    snprintf(s->reason, sizeof s->reason, "%s", reason);
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
    snprintf(r->error, sizeof r->error, "%s: %s", stage, msg[0] ? msg : tt_strerror(st));
}

static void score_effects(const tt_trial_problem *pb, const double *tau_hat, tt_trial_result *r)
{
    const tt_plugin_data *v = &pb->valid;
    size_t n = v->n;
    char err[256] = "";

    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += tau_hat[i];
    r->ate = n ? mean / (double)n : NAN;

    double energy;
    tt_status st = tt_energy_score(n, v->p_x, v->x, v->y, v->t, pb->n_arms, tau_hat, 1, &energy,
                                   err, sizeof err);
    if (st == TT_OK)
        set_score(&r->scores[r->n_scores++], "energy", energy);
    else
        set_null(&r->scores[r->n_scores++], "energy", err);

    if (pb->valid_propensity) {
        double psw;
        st = tt_psw_energy_score(n, v->p_x, v->x, v->y, v->t, pb->n_arms, tau_hat,
                                 pb->valid_propensity, pb->propensity_clip, 1, &psw, err,
                                 sizeof err);
        if (st == TT_OK)
            set_score(&r->scores[r->n_scores++], "psw_energy", psw);
        else
            set_null(&r->scores[r->n_scores++], "psw_energy", err);
    } else {
        set_null(&r->scores[r->n_scores++], "psw_energy", "no scoring propensity in this run");
    }

    if (pb->valid_tau) {
        set_score(&r->oracle[r->n_oracle++], "pehe",
                  tt_oracle_pehe(n, pb->n_arms, tau_hat, pb->valid_tau));
        set_score(&r->oracle[r->n_oracle++], "ate_error",
                  tt_oracle_ate_error(n, pb->n_arms, tau_hat, pb->valid_tau));
    }

    const tt_score_value *obj = tt_trial_find_score(r, pb->metric);
    r->objective = (obj && !obj->is_null) ? obj->value : NAN;
}

void tt_trial_evaluate(const tt_trial_problem *problem, const tt_plugin_descriptor *desc,
                       const double *point, uint64_t seed, double deadline,
                       volatile sig_atomic_t *stop_flag, tt_trial_result *r)
{
    double start = tt_now();
    char err[1024] = "";
    void *inst = NULL;
    double *tau_hat = NULL;
    tt_status st;

    r->status = TT_TRIAL_OK;
    r->error[0] = '\0';
    r->objective = NAN;
    r->ate = NAN;
    r->n_scores = r->n_oracle = 0;

    tt_host_ctx ctx = {.plugin_name = desc->name, .stop_flag = stop_flag, .deadline = deadline};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, seed);

    st = (tt_status)desc->create(&host, point, problem->n_arms, &inst, err, sizeof err);
    if (st != TT_OK || !inst) {
        fail(r, st ? st : TT_ERR_PLUGIN, deadline, "create",
             st ? err : "create() returned no instance");
        goto done;
    }
    st = (tt_status)desc->fit(inst, &problem->train, err, sizeof err);
    if (st != TT_OK) {
        fail(r, st, deadline, "fit", err);
        goto done;
    }
    size_t cols = (size_t)(problem->n_arms - 1);
    tau_hat = malloc(sizeof *tau_hat * (problem->valid.n * cols + 1));
    if (!tau_hat) {
        fail(r, TT_ERR_NOMEM, deadline, "effect", "out of memory");
        goto done;
    }
    /* Pre-fill with NaN so a plugin that forgets to write some cells is
     * caught below instead of being scored on garbage. */
    for (size_t i = 0; i < problem->valid.n * cols; i++)
        tau_hat[i] = NAN;
    st = (tt_status)desc->effect(inst, &problem->valid, tau_hat, err, sizeof err);
    if (st != TT_OK) {
        fail(r, st, deadline, "effect", err);
        goto done;
    }
    for (size_t i = 0; i < problem->valid.n * cols; i++) {
        if (!isfinite(tau_hat[i])) {
            snprintf(err, sizeof err, "non-finite effect at validation row %zu, arm %zu",
                     i % problem->valid.n + 1, i / problem->valid.n + 1);
            fail(r, TT_ERR_NUMERIC, deadline, "effect", err);
            goto done;
        }
    }
    score_effects(problem, tau_hat, r);

done:
    if (inst)
        desc->destroy(inst);
    free(tau_hat);
    r->seconds = tt_now() - start;
}

void tt_trial_result_clear(tt_trial_result *r)
{
    free(r->point);
    memset(r, 0, sizeof *r);
}
