/* run_nuisance.c - the nuisance models of a run: fitted once, before any
 * trial, for the roles the configured plugins declare they need, so every
 * trial (in whichever worker) shares them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "util/clock.h"
#include "util/rng.h"

static uint32_t needed(const run_state *s)
{
    uint32_t caps = 0;
    for (size_t i = 0; i < s->cfg->n_estimators; i++)
        caps |= s->descs[i]->capabilities;
    return caps & (TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME |
                   TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES);
}

/* Candidate specs from the config's learner names (defaults for the rest);
 * NULL when the config says "auto". */
static tt_nuisance_spec *specs_of(char **names, size_t n)
{
    if (!names)
        return NULL;
    tt_nuisance_spec *specs = calloc(n, sizeof *specs);
    for (size_t i = 0; specs && i < n; i++)
        specs[i].learner = names[i];
    return specs;
}

static int select_role(run_state *s, tt_nuisance_role role, int arm, char **names, size_t n,
                       double seconds, const tt_nuisance_result **out)
{
    char err[1024];
    tt_nuisance_spec *specs = specs_of(names, n);
    if (names && !specs) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    tt_status st = tt_nuisance_select(s->engine, role, arm, specs, names ? n : 0, seconds, out,
                                      err, sizeof err);
    free(specs);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: cannot fit the %s nuisance model%s: %s\n",
                s->data->source, tt_nuisance_role_name(role), arm >= 0 ? " of an arm" : "", err);
        return st == TT_ERR_DATA ? TT_EXIT_DATA : TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}

int tt_run_fit_nuisances(run_state *s)
{
    uint32_t need = needed(s);
    if (!need)
        return TT_EXIT_OK;
    const tt_config *c = s->cfg;
    const tt_dataset *tr = s->train;
    size_t n = tr->n, p = tr->p_x + tr->p_w;
    int k_arms = s->data->n_arms;
    char err[1024];
    s->nu_features = malloc(sizeof *s->nu_features * (n * p + 1));
    s->nu_arm_outcome = calloc((size_t)k_arms, sizeof *s->nu_arm_outcome);
    if (!s->nu_features || !s->nu_arm_outcome) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    if (tr->p_x)
        memcpy(s->nu_features, tr->x, sizeof(double) * n * tr->p_x);
    if (tr->p_w)
        memcpy(s->nu_features + n * tr->p_x, tr->w, sizeof(double) * n * tr->p_w);
    s->nu_data = (tt_nuisance_data){.n = n, .p = p, .x = s->nu_features, .y = tr->y,
                                    .arm = tr->t, .n_arms = (size_t)k_arms, .weight = tr->weight};
    if (tt_nuisance_engine_new(&s->nu_data, (size_t)c->nu_folds,
                               tt_rng_derive(c->seed, "nuisance"), &s->engine, err,
                               sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: nuisance models: %s\n", s->data->source, err);
        return TT_EXIT_DATA;
    }
    /* Selection time per role: the config's, or a share of the budget so the
     * search keeps most of it. */
    int roles = !!(need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) + !!(need & TT_PLUGIN_CAP_NEEDS_OUTCOME) +
                ((need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) ? k_arms : 0);
    double seconds = c->nu_seconds > 0 ? c->nu_seconds
                     : c->budget_seconds > 0 ? fmax(0.5, 0.2 * c->budget_seconds / roles)
                                             : 10.0;
    double start = tt_now();
    int rc = TT_EXIT_OK;
    const tt_nuisance_result *r = NULL;
    if (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) {
        if (tr->propensity) {
            /* Known propensities bypass fitting; two arms keep P(T = 1) only. */
            const double *prop = k_arms == 2 ? tr->propensity + n : tr->propensity;
            if (tt_nuisance_set_propensity(s->engine, prop, k_arms == 2 ? 1 : (size_t)k_arms, &r,
                                           err, sizeof err) != TT_OK) {
                fprintf(stderr, "tautune: %s: known propensities: %s\n", s->data->source, err);
                return TT_EXIT_DATA;
            }
        } else if ((rc = select_role(s, TT_NUISANCE_PROPENSITY, -1, c->nu_propensity,
                                     c->n_nu_propensity, seconds, &r))) {
            return rc;
        }
        s->nuisances.propensity = r;
    }
    if ((need & TT_PLUGIN_CAP_NEEDS_OUTCOME) &&
        (rc = select_role(s, TT_NUISANCE_OUTCOME, -1, c->nu_outcome, c->n_nu_outcome, seconds,
                          &s->nuisances.outcome)))
        return rc;
    for (int k = 0; (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && k < k_arms; k++)
        if ((rc = select_role(s, TT_NUISANCE_ARM_OUTCOME, k, c->nu_outcome, c->n_nu_outcome,
                              seconds, &s->nu_arm_outcome[k])))
            return rc;
    s->nuisances.arm_outcome = (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) ? s->nu_arm_outcome : NULL;
    s->nuisances.n_arms = k_arms;
    s->nuisances.p_x = tr->p_x;
    s->nuisances.p_w = tr->p_w;
    if (!s->quiet)
        fprintf(stderr, "tautune: nuisance models fitted in %.1fs\n", tt_now() - start);
    return TT_EXIT_OK;
}

static void add_result(cJSON *arr, const tt_nuisance_result *r)
{
    if (!r)
        return;
    const tt_nuisance_diag *d = &r->diag;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", tt_nuisance_role_name(r->role));
    if (r->arm >= 0)
        cJSON_AddNumberToObject(o, "arm", r->arm);
    cJSON_AddStringToObject(o, "learner", d->learner);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (size_t i = 0; i < d->n_params; i++) {
        /* "auto" parameters (the lasso's penalty) are reported as chosen. */
        double v = d->values[i];
        if (v == TT_LEARNER_AUTO && r->full)
            v = tt_learner_param(r->full, d->keys[i]);
        cJSON_AddNumberToObject(params, d->keys[i], v);
    }
    const struct {
        const char *name;
        double v;
    } nums[] = {{"oof_loss", d->oof_loss}, {"r2", d->r2}, {"auc", d->auc},
                {"calibration", d->calibration}, {"propensity_min", d->prop_min},
                {"propensity_max", d->prop_max}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (isfinite(nums[i].v))
            cJSON_AddNumberToObject(o, nums[i].name, nums[i].v);
    if (r->role == TT_NUISANCE_PROPENSITY)
        cJSON_AddNumberToObject(o, "rows_outside_0.05_0.95", (double)d->n_outside);
    cJSON_AddNumberToObject(o, "candidates", (double)d->n_candidates);
    cJSON_AddNumberToObject(o, "seconds", d->seconds);
    cJSON_AddItemToArray(arr, o);
}

cJSON *tt_run_nuisance_facts(const run_state *s)
{
    if (!s->engine)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    add_result(arr, s->nuisances.propensity);
    add_result(arr, s->nuisances.outcome);
    for (int k = 0; s->nuisances.arm_outcome && k < s->nuisances.n_arms; k++)
        add_result(arr, s->nuisances.arm_outcome[k]);
    return arr;
}
