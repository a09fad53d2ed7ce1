/* run_nuisance.c - the nuisance models of a run: planned by estimated work
 * (nuisance_cost.h), fitted once before any trial in a worker process, kept
 * in the run folder, and shared by every trial.
 *
 * Why a worker process (run_nuisance_stage.c): the stage can run for minutes
 * on large data inside learners that do not poll a stop flag; in a child it
 * can be killed the moment Ctrl-C or the budget says so, and a crash in it
 * costs the stage, not the terminal. Why a file: the child hands its models
 * over through it, and `--resume` reuses the same models instead of
 * selecting again. With final_fit = "all" the chosen models are fitted once
 * more on every row, the same way, for the winner's final fit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "nuisance/nuisance_cost.h"
#include "util/clock.h"
#include "util/rng.h"

#define NUISANCE_FILE "nuisance.ttn"
#define NUISANCE_ALL_FILE "nuisance_all.ttn"

/* The spec of a chosen model (keys point into its diagnostics). A role whose
 * rows had one class got no learner ("constant", nuisance.h): its refits on
 * other rows take the role's first candidate, which meets the same one
 * class again (and becomes constant) or, on rows with both, is fitted. */
static void spec_of(const tt_nuisance_plan_role *pr, const tt_nuisance_result *r,
                    tt_nuisance_spec *sp)
{
    if (strcmp(r->diag.learner, TT_NUISANCE_CONSTANT) == 0 && pr->n_cands > 0) {
        *sp = pr->cands[0];
        return;
    }
    memset(sp, 0, sizeof *sp);
    sp->learner = r->diag.learner;
    sp->n_params = r->diag.n_params;
    for (size_t j = 0; j < sp->n_params; j++) {
        sp->keys[j] = r->diag.keys[j];
        sp->values[j] = r->diag.values[j];
    }
}

/* What the plugins declare they need, and what the headline estimand
 * (run_estimand.c) needs whatever the plugins: the propensity and every
 * arm's outcome model (a continuous treatment: E[T | x, w] and E[Y | x, w]);
 * not with an instrument, whose problem those models cannot answer. */
static uint32_t needed(const run_state *s)
{
    uint32_t caps = 0;
    for (size_t i = 0; i < s->cfg->n_estimators; i++)
        caps |= s->descs[i]->capabilities;
    if (s->data->p_z == 0) /* with an instrument the headline is the IV winner's */
        caps |= TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                (tt_dataset_continuous(s->data) ? TT_PLUGIN_CAP_NEEDS_OUTCOME
                                                : TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES);
    return caps & (TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME |
                   TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES | TT_PLUGIN_CAP_NEEDS_IV_NUISANCES);
}

/* Rows of d with instrument value z (the rows p_z trains on). */
static size_t rows_with_z(const tt_dataset *d, int z)
{
    size_t m = 0;
    for (size_t i = 0; d->z && i < d->n; i++)
        m += d->z[i] == (double)z;
    return m;
}

/* Candidate specs from the config's learner names (defaults for the rest),
 * or the role's default candidates when the config says "auto". */
static int candidates(run_state *s, tt_nuisance_role role, const tt_nuisance_spec **out,
                      size_t *n)
{
    const tt_config *c = s->cfg;
    const int classify = tt_nuisance_role_classifies(role); /* the propensity's learners */
    char **names = classify ? c->nu_propensity : c->nu_outcome;
    size_t count = classify ? c->n_nu_propensity : c->n_nu_outcome;
    if (!names) {
        tt_nuisance_default_candidates(role, out, n);
        return 0;
    }
    tt_nuisance_spec *specs = calloc(count, sizeof *specs);
    if (!specs)
        return -1;
    for (size_t i = 0; i < count; i++)
        specs[i].learner = names[i];
    /* One allocation per role list; freed with the plan. */
    tt_nuisance_spec **keep = realloc(s->nu_owned, (s->n_nu_owned + 1) * sizeof *keep);
    if (!keep) {
        free(specs);
        return -1;
    }
    s->nu_owned = keep;
    s->nu_owned[s->n_nu_owned++] = specs;
    *out = specs;
    *n = count;
    return 0;
}

/* The propensity without a model: given columns, or the arm shares of the
 * training rows when the data are randomized (every row had the same odds,
 * so the shares are the propensity; a model could only add noise). */
static int fixed_propensity(run_state *s, tt_nuisance_engine *engine, const tt_dataset *tr)
{
    size_t n = tr->n;
    int k_arms = s->data->n_arms;
    size_t width = k_arms == 2 ? 1 : (size_t)k_arms;
    const tt_nuisance_result *r = NULL;
    char err[1024];
    double *shares = NULL;
    const double *prop;
    if (tr->propensity) {
        /* Known propensities bypass fitting; two arms keep P(T = 1) only. */
        prop = k_arms == 2 ? tr->propensity + n : tr->propensity;
    } else {
        shares = malloc(sizeof *shares * n * width);
        if (!shares) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        size_t count[k_arms];
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[tr->t[i]]++;
        for (size_t c = 0; c < width; c++) {
            size_t arm = k_arms == 2 ? 1 : c;
            double share = (double)count[arm] / (double)n;
            for (size_t i = 0; i < n; i++)
                shares[c * n + i] = share;
        }
        prop = shares;
    }
    tt_status st = tt_nuisance_set_propensity(engine, prop, width, &r, err, sizeof err);
    free(shares);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: %s propensities: %s\n", s->data->source,
                tr->propensity ? "known" : "randomized", err);
        return TT_EXIT_DATA;
    }
    if (!tr->propensity)
        snprintf(((tt_nuisance_result *)r)->diag.learner, TT_NUISANCE_NAME_LEN, "arm_shares");
    return TT_EXIT_OK;
}

/* data.z_propensity: the instrument's design probability, never fitted. */
static int known_instrument(run_state *s, tt_nuisance_engine *engine)
{
    if (!(s->nu_need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES) || !(s->cfg->z_propensity > 0.0))
        return TT_EXIT_OK;
    const tt_nuisance_result *r = NULL;
    char err[1024];
    if (tt_nuisance_set_instrument(engine, s->cfg->z_propensity, &r, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: data.z_propensity: %s\n", s->data->source, err);
        return TT_EXIT_DATA;
    }
    return TT_EXIT_OK;
}

static int add_role(run_state *s, tt_nuisance_role role, int arm, size_t n_rows)
{
    tt_nuisance_plan_role *pr = &s->nu_roles[s->n_nu_roles];
    memset(pr, 0, sizeof *pr);
    pr->role = role;
    pr->arm = arm;
    pr->n_rows = n_rows;
    pr->classes = role == TT_NUISANCE_PROPENSITY ? (size_t)s->data->n_arms
                  : tt_nuisance_role_classifies(role) ? 2 : 1;
    if (candidates(s, role, &pr->cands, &pr->n_cands)) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    s->n_nu_roles++;
    return TT_EXIT_OK;
}

/* Plans the roles already listed within the allowance. */
static void replan(run_state *s, double allowance)
{
    const tt_dataset *tr = s->train;
    size_t folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5;
    /* K-fold scoring refits fold 0's chosen models on the other folds'
     * training rows (tt_run_fit_fold_nuisances): the same allowance holds
     * them, so a budget's nuisance share does not grow K-fold. */
    size_t refits = s->n_folds >= 2 ? (size_t)s->n_folds - 1 : 0;
    s->nu_allowance = allowance;
    double total = tt_nuisance_plan(s->nu_roles, s->n_nu_roles, tr->p_x + tr->p_w, folds,
                                    refits, allowance, &s->nu_minimum);
    s->nu_fold_refits_planned = (double)refits * tt_nuisance_plan_refit(s->nu_roles,
                                                                         s->n_nu_roles);
    s->nu_fold_refits_minimum = (double)refits * s->nu_minimum;
    s->nu_planned = total - s->nu_fold_refits_planned;
}

int tt_run_plan_nuisances(run_state *s, double allowance)
{
    if (s->nu_roles) {
        replan(s, allowance);
        return TT_EXIT_OK;
    }
    uint32_t need = needed(s);
    s->nu_need = need;
    if (!need)
        return TT_EXIT_OK;
    const tt_dataset *tr = s->train;
    int k_arms = s->data->n_arms;
    s->nu_roles = calloc((size_t)k_arms + 5, sizeof *s->nu_roles);
    if (!s->nu_roles) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    /* A continuous treatment has no propensity: its place is taken by the
     * regression E[T | x, w] (always fitted, randomised or not: a dose
     * drawn at random still has a mean to subtract). */
    const int cont = tt_dataset_continuous(tr);
    s->nu_fixed_propensity = (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) && !cont &&
                             (tr->propensity || s->cfg->randomized);
    if ((need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) && !s->nu_fixed_propensity)
        rc = add_role(s, cont ? TT_NUISANCE_TREATMENT : TT_NUISANCE_PROPENSITY, -1, tr->n);
    if (!rc && (need & TT_PLUGIN_CAP_NEEDS_OUTCOME))
        rc = add_role(s, TT_NUISANCE_OUTCOME, -1, tr->n);
    for (int k = 0; !rc && (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && k < k_arms; k++)
        rc = add_role(s, TT_NUISANCE_ARM_OUTCOME, k, s->train_counts[k]);
    if (!rc && (need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES)) {
        rc = tt_run_require_binary_instrument(s->data);
        /* A declared randomised instrument (data.z_propensity) is not fitted. */
        if (!rc && !(s->cfg->z_propensity > 0.0))
            rc = add_role(s, TT_NUISANCE_INSTRUMENT, -1, tr->n);
        for (int z = 0; !rc && z < 2; z++)
            rc = add_role(s, TT_NUISANCE_TREATMENT_GIVEN_Z, z, rows_with_z(tr, z));
    }
    if (rc)
        return rc;
    replan(s, allowance);
    return TT_EXIT_OK;
}

/* Cuts the plan to the first candidate of every role; 1 if it was that
 * already. */
static int minimal(run_state *s)
{
    int was = 1;
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        tt_nuisance_plan_role *pr = &s->nu_roles[r];
        for (size_t c = 1; c < pr->n_cands; c++) {
            was &= !pr->take[c];
            pr->take[c] = 0;
        }
        pr->n_take = pr->n_cands > 0;
    }
    return was;
}

/* The engine's view of rows d - their own [x, w] block, or a copy owned by
 * the caller through *features (NULL when none was needed) - and an engine
 * with the run's folds over them. */
static int make_engine(run_state *s, const tt_dataset *d, const char *stream,
                       double **features, tt_nuisance_data *data, tt_nuisance_engine **engine,
                       uint64_t *seed)
{
    size_t n = d->n, p = d->p_x + d->p_w;
    char err[1024];
    /* With IV roles the block ends with the instrument's 0/1 codes (n int32,
     * half a column's bytes), so the engine's borrowed view lives as long. */
    const int iv = (s->nu_need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES) && d->z && d->p_z > 0;
    /* Without IV roles the data's own [x, w] block serves when x and w are
     * one allocation (tt_dataset_xw): no copy. */
    const double *xw = iv ? NULL : tt_dataset_xw(d);
    *features = NULL;
    if (!xw) {
        *features = malloc(sizeof **features * (n * p + (iv ? n / 2 + 1 : 0) + 1));
        if (!*features) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        if (d->p_x)
            memcpy(*features, d->x, sizeof(double) * n * d->p_x);
        if (d->p_w)
            memcpy(*features + n * d->p_x, d->w, sizeof(double) * n * d->p_w);
        xw = *features;
    }
    int32_t *zbin = iv && *features ? (int32_t *)(*features + n * p) : NULL;
    for (size_t i = 0; zbin && i < n; i++)
        zbin[i] = d->z[i] == 1.0;
    *data = (tt_nuisance_data){.n = n, .p = p, .x = xw, .y = d->y, .arm = d->t,
                               .n_arms = (size_t)s->data->n_arms, .weight = d->weight,
                               .zbin = zbin, .t_value = d->t_value};
    size_t folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5;
    *seed = tt_rng_derive(s->cfg->seed, stream);
    if (tt_nuisance_engine_new(data, folds, *seed, engine, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: nuisance models: %s\n", s->data->source, err);
        return TT_EXIT_DATA;
    }
    return TT_EXIT_OK;
}

/* The host's view of an engine's chosen models (arm_outcome: K slots). */
static void point_at(const run_state *s, const tt_nuisance_engine *e,
                     const tt_nuisance_result **arm_outcome, tt_host_nuisances *nu)
{
    uint32_t need = s->nu_need;
    int k_arms = s->data->n_arms;
    if (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) {
        nu->propensity = tt_nuisance_chosen(e, TT_NUISANCE_PROPENSITY, -1);
        nu->treatment = tt_nuisance_chosen(e, TT_NUISANCE_TREATMENT, -1);
    }
    nu->continuous = tt_dataset_continuous(s->data);
    if (need & TT_PLUGIN_CAP_NEEDS_OUTCOME)
        nu->outcome = tt_nuisance_chosen(e, TT_NUISANCE_OUTCOME, -1);
    for (int k = 0; (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && k < k_arms; k++)
        arm_outcome[k] = tt_nuisance_chosen(e, TT_NUISANCE_ARM_OUTCOME, k);
    nu->arm_outcome = (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) ? arm_outcome : NULL;
    if (need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES) {
        nu->instrument = tt_nuisance_chosen(e, TT_NUISANCE_INSTRUMENT, -1);
        for (int z = 0; z < 2; z++)
            nu->treatment_given_z[z] = tt_nuisance_chosen(e, TT_NUISANCE_TREATMENT_GIVEN_Z, z);
        nu->instrument_known = s->cfg->z_propensity > 0.0 ? s->cfg->z_propensity : 0.0;
    }
    nu->n_arms = k_arms;
    nu->p_x = s->data->p_x;
    nu->p_w = s->data->p_w;
}

int tt_run_fit_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                         double deadline)
{
    if (!s->nu_need)
        return TT_EXIT_OK;
    char path[4200];
    double start = tt_now();
    uint64_t seed;
    s->nu_arm_outcome = calloc((size_t)s->data->n_arms, sizeof *s->nu_arm_outcome);
    if (!s->nu_arm_outcome) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    int rc = make_engine(s, s->train, "nuisance", &s->nu_features, &s->nu_data, &s->engine,
                         &seed);
    if (rc)
        return rc;
    if (s->nu_fixed_propensity && (rc = fixed_propensity(s, s->engine, s->train)))
        return rc;
    if ((rc = known_instrument(s, s->engine)))
        return rc;
    run_nu_stage stg = {.engine = s->engine, .data = &s->nu_data, .seed = seed,
                        .folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5,
                        .roles = s->nu_roles, .n_roles = s->n_nu_roles,
                        .planned = s->nu_planned, .what = "nuisance models"};
    if (s->n_nu_roles > 0) {
        uint64_t fp = tt_run_nu_fingerprint(&stg);
        int mismatch = 0;
        snprintf(path, sizeof path, "%s/%s", dir, NUISANCE_FILE);
        int reused = s->resuming && tt_run_nu_adopt(&stg, path, fp, &mismatch) == 0;
        if (!reused && s->resuming && mismatch > 0 && !minimal(s)) {
            /* The run being resumed may have fallen back to the cheapest plan. */
            uint64_t fp_min = tt_run_nu_fingerprint(&stg);
            reused = tt_run_nu_adopt(&stg, path, fp_min, &mismatch) == 0;
            if (reused) {
                fp = fp_min;
                s->nu_planned = s->nu_minimum;
                s->nu_fold_refits_planned = s->nu_fold_refits_minimum;
                s->nu_degraded = 1;
            } else {
                tt_run_plan_nuisances(s, s->nu_allowance); /* back to the full plan */
            }
        }
        if (reused) {
            s->nu_reused = 1;
            if (!s->quiet)
                fprintf(stderr, "tautune: nuisance models: reused from %s (no new selection)\n",
                        path);
        } else {
            if (s->resuming && !s->quiet)
                fprintf(stderr, "tautune: nuisance models: %s\n",
                        mismatch > 0  ? "the saved ones were fitted for other data, seed or "
                                        "candidates; fitting again"
                        : mismatch < 0 ? "the saved ones cannot be read; fitting again"
                                       : "none saved in the run folder; fitting them");
            /* The plan gets twice its estimate (at least its allowance)
             * before it counts as overrun: then the cheapest plan runs
             * instead, and the run says so. */
            double started = tt_now();
            double limit = started + fmax(2.0 * s->nu_planned,
                                          s->nu_allowance - s->nu_fold_refits_planned);
            if (deadline > 0 && limit > deadline)
                limit = deadline;
            if (deadline <= 0)
                limit = 0;
            rc = tt_run_nu_fit(s, &stg, path, fp, stop, limit, deadline > 0 && limit < deadline);
            if (rc == TT_EXIT_NO_TRIAL && limit > 0 && limit < deadline && !minimal(s)) {
                fp = tt_run_nu_fingerprint(&stg);
                if (!s->quiet)
                    fprintf(stderr, "tautune: nuisance models: the plan (~%.1fs) overran %.1fs "
                                    "on this machine; fitting the cheapest models instead "
                                    "(results.json: plan.nuisance.degraded)\n",
                            s->nu_planned, tt_now() - started);
                s->nu_planned = stg.planned = s->nu_minimum;
                s->nu_fold_refits_planned = s->nu_fold_refits_minimum;
                s->nu_degraded = 1;
                rc = tt_run_nu_fit(s, &stg, path, fp, stop, deadline, 0);
            }
            if (rc)
                return rc;
            if (tt_run_nu_adopt(&stg, path, fp, &mismatch) != 0) {
                fprintf(stderr, "tautune: nuisance models: cannot read back %s\n", path);
                return TT_EXIT_ERROR;
            }
        }
    }
    point_at(s, s->engine, s->nu_arm_outcome, &s->nuisances);
    s->nu_seconds_taken = tt_now() - start;
    if (!s->quiet && s->n_nu_roles > 0 && !s->nu_reused)
        fprintf(stderr, "tautune: nuisance models fitted in %.1fs (plan ~%.1fs)\n",
                s->nu_seconds_taken, s->nu_planned);
    /* What refitting the chosen models on every row would cost (final_fit). */
    s->nu_final_estimate = 0;
    size_t folds = stg.folds, p = s->nu_data.p;
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        const tt_nuisance_plan_role *pr = &s->nu_roles[r];
        const tt_nuisance_result *ch = tt_nuisance_chosen(s->engine, pr->role, pr->arm);
        if (ch) {
            tt_nuisance_spec sp;
            spec_of(pr, ch, &sp);
            /* Every row of the arm: with folds, valid holds them all. */
            size_t rows = pr->arm < 0 ? s->data->n
                          : pr->role == TT_NUISANCE_TREATMENT_GIVEN_Z
                              ? rows_with_z(s->data, pr->arm)
                          : s->n_folds >= 2 ? s->valid_counts[pr->arm]
                                            : s->train_counts[pr->arm] + s->valid_counts[pr->arm];
            s->nu_final_estimate += tt_nuisance_cost(&sp, pr->role, rows, p, pr->classes, folds);
        }
    }
    /* The cost model is for the reference machine; this machine's pace on
     * the stage just run (not below 1: a cut estimate squeezes the refit). */
    if (!s->nu_reused && s->nu_planned > 0.05) {
        double pace = s->nu_seconds_taken / s->nu_planned;
        s->nu_final_estimate *= pace < 1 ? 1 : pace > 10 ? 10 : pace;
    }
    return TT_EXIT_OK;
}

/* Every role keeps the learner fold 0's (or the holdout's) training rows
 * chose: one candidate per role, for the refits below. */
static int chosen_roles(run_state *s)
{
    size_t n_roles = s->n_nu_roles;
    if (s->final_roles)
        return TT_EXIT_OK;
    s->final_roles = calloc(n_roles + 1, sizeof *s->final_roles);
    s->final_specs = calloc(n_roles + 1, sizeof *s->final_specs);
    if (!s->final_roles || !s->final_specs) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    for (size_t r = 0; r < n_roles; r++) {
        tt_nuisance_plan_role *fr = &s->final_roles[r];
        *fr = s->nu_roles[r];
        spec_of(&s->nu_roles[r], tt_nuisance_chosen(s->engine, fr->role, fr->arm),
                &s->final_specs[r]);
        fr->cands = &s->final_specs[r];
        fr->n_cands = fr->n_take = 1;
        memset(fr->take, 0, sizeof fr->take);
        fr->take[0] = 1;
    }
    return TT_EXIT_OK;
}

/* Where one refit of the chosen models goes. */
typedef struct refit_target {
    const tt_dataset *rows;        /* the rows to cross-fit on */
    const char *stream, *file, *what;
    double planned;                /* estimated seconds */
    tt_nuisance_engine **engine;
    tt_nuisance_data *data;
    double **features;
    const tt_nuisance_result ***arm_outcome;
    tt_host_nuisances *nuisances;
} refit_target;

/* The chosen models cross-fitted again on other rows, no new selection, in a
 * worker process writing dir/file (reused by --resume when made for the same
 * rows, seed and models). */
static int refit_chosen(run_state *s, const refit_target *tg, const char *dir,
                        volatile sig_atomic_t *stop, double deadline)
{
    char path[4200];
    uint64_t seed;
    int rc = chosen_roles(s);
    if (rc)
        return rc;
    *tg->arm_outcome = calloc((size_t)s->data->n_arms, sizeof **tg->arm_outcome);
    if (!*tg->arm_outcome) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    if ((rc = make_engine(s, tg->rows, tg->stream, tg->features, tg->data, tg->engine, &seed)))
        return rc;
    if (s->nu_fixed_propensity && (rc = fixed_propensity(s, *tg->engine, tg->rows)))
        return rc;
    if ((rc = known_instrument(s, *tg->engine)))
        return rc;
    size_t n_roles = s->n_nu_roles;
    run_nu_stage stg = {.engine = *tg->engine, .data = tg->data, .seed = seed,
                        .folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5,
                        .roles = s->final_roles, .n_roles = n_roles, .planned = tg->planned,
                        .what = tg->what};
    if (n_roles > 0) {
        uint64_t fp = tt_run_nu_fingerprint(&stg);
        int mismatch = 0;
        snprintf(path, sizeof path, "%s/%s", dir, tg->file);
        if (!(s->resuming && tt_run_nu_adopt(&stg, path, fp, &mismatch) == 0)) {
            if ((rc = tt_run_nu_fit(s, &stg, path, fp, stop, deadline, 0)))
                return rc;
            if (tt_run_nu_adopt(&stg, path, fp, &mismatch) != 0) {
                fprintf(stderr, "tautune: %s: cannot read back %s\n", tg->what, path);
                return TT_EXIT_ERROR;
            }
        }
    }
    point_at(s, *tg->engine, *tg->arm_outcome, tg->nuisances);
    return TT_EXIT_OK;
}

int tt_run_fit_final_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                               double deadline)
{
    if (!s->engine)
        return TT_EXIT_OK;
    if (s->engine_all) /* tried already (for an earlier candidate): same answer */
        return s->final_nu_rc;
    s->final_nu_rc = TT_EXIT_ERROR;
    /* Every row's features, kept for the rest of the run (the training
     * rows' copy goes instead): the engine borrows them. */
    if (tt_run_swap_to_all_rows(s))
        return s->final_nu_rc;
    refit_target tg = {.rows = s->data, .stream = "nuisance-all", .file = NUISANCE_ALL_FILE,
                       .what = "final nuisance models", .planned = s->nu_final_estimate,
                       .engine = &s->engine_all, .data = &s->nu_data_all,
                       .features = &s->nu_features_all, .arm_outcome = &s->nu_arm_outcome_all,
                       .nuisances = &s->nuisances_all};
    int rc = refit_chosen(s, &tg, dir, stop, deadline);
    s->final_nu_rc = rc;
    return rc;
}

int tt_run_fit_fold_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                              double deadline)
{
    if (s->n_folds < 2 || !s->engine)
        return TT_EXIT_OK;
    double start = tt_now();
    /* Each fold's training rows are (K-1)/K of the data, as fold 0's were:
     * the chosen models' cost there is fold 0's estimate for them. */
    double each = s->nu_final_estimate * (double)s->train->n / (double)s->data->n;
    for (int k = 1; k < s->n_folds; k++) {
        run_fold *f = &s->folds[k];
        char stream[32], file[64], what[64];
        snprintf(stream, sizeof stream, "nuisance-fold%d", k);
        snprintf(file, sizeof file, "nuisance_fold%d.ttn", k);
        snprintf(what, sizeof what, "nuisance models of fold %d/%d", k + 1, s->n_folds);
        refit_target tg = {.rows = f->train, .stream = stream, .file = file, .what = what,
                           .planned = each, .engine = &f->engine, .data = &f->nu_data,
                           .features = &f->nu_features, .arm_outcome = &f->nu_arm_outcome,
                           .nuisances = &f->nuisances};
        int rc = refit_chosen(s, &tg, dir, stop, deadline);
        if (rc)
            return rc;
    }
    double took = tt_now() - start;
    if (!s->quiet && s->n_nu_roles > 0)
        fprintf(stderr, "tautune: nuisance models of the other %d folds fitted in %.1fs\n",
                s->n_folds - 1, took);
    /* The final fit repeats one fold's work on n / n_train times the rows:
     * measured here, a better estimate than the cost model's. */
    double measured = took / (double)(s->n_folds - 1) * (double)s->data->n / (double)s->train->n;
    if (measured > s->nu_final_estimate)
        s->nu_final_estimate = measured;
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
        cJSON_AddNumberToObject(o, r->role == TT_NUISANCE_TREATMENT_GIVEN_Z ? "z" : "arm",
                                r->arm);
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
    if (tt_nuisance_role_classifies(r->role))
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
    add_result(arr, s->nuisances.treatment);
    add_result(arr, s->nuisances.outcome);
    for (int k = 0; s->nuisances.arm_outcome && k < s->nuisances.n_arms; k++)
        add_result(arr, s->nuisances.arm_outcome[k]);
    add_result(arr, s->nuisances.instrument);
    for (int z = 0; z < 2; z++)
        add_result(arr, s->nuisances.treatment_given_z[z]);
    return arr;
}
