/*
 * cmd_abtest.c - `tautune abtest CONFIG.lua`: the analysis of a randomised
 * experiment. The config's data = {...} names the rows as for `run`; its
 * experiment = {...} the outcomes, the designed shares, CUPED's pre-period
 * column, alpha and the correction (lua/config.h). Every treated arm is
 * compared with the control per outcome (abtest_analyse.c says by which
 * methods); the table goes to the terminal and results.json, summary.md and
 * report.html to the run folder (--out, the config's out, or
 * runs/<name>-abtest-<UTC time>).
 *
 * With --search (or experiment.search) the outcome models of AIPW are the
 * nuisance stage's cross-fitted learners, chosen by out-of-fold loss among
 * the default candidates the plan affords (nuisance/nuisance_cost.h) within
 * nuisance.seconds per outcome.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/abtest.h"
#include "cli/help.h"
#include "cli/run.h"
#include "nuisance/nuisance_cost.h"
#include "report/report.h"
#include "report/results.h"
#include "util/clock.h"
#include "util/paths.h"
#include "util/rng.h"

/* Planned seconds of outcome models per outcome when nuisance.seconds is not
 * given (estimated on the reference machine, so the same on any machine). */
#define AB_NUISANCE_SECONDS 20.0

typedef struct ab_args {
    run_args run;                /* config, data, quiet, seed */
    int search;
} ab_args;

static int parse_args(int argc, char **argv, ab_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            tt_help_print("abtest", stdout);
            exit(TT_EXIT_OK);
        } else if (!strcmp(arg, "--search")) {
            a->search = 1;
        } else if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) {
            a->run.quiet = 1;
        } else if (arg[0] != '-') {
            if (a->run.config) {
                fprintf(stderr, "tautune abtest: more than one config given ('%s', '%s')\n",
                        a->run.config, arg);
                return -1;
            }
            a->run.config = arg;
        } else if (!val) {
            fprintf(stderr, "tautune abtest: unknown option or missing value: '%s'\n", arg);
            return -1;
        } else if (!strcmp(arg, "--data")) {
            a->run.data = val, i++;
        } else if (!strcmp(arg, "--out")) {
            a->run.out = val, i++;
        } else if (!strcmp(arg, "--seed")) {
            char *end;
            a->run.seed = strtoull(val, &end, 10);
            if (*end || val[0] == '-') {
                fprintf(stderr, "tautune abtest: --seed expects a whole number >= 0, got "
                                "'%s'\n", val);
                return -1;
            }
            a->run.has_seed = 1, i++;
        } else {
            fprintf(stderr, "tautune abtest: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->run.config) {
        fprintf(stderr, "tautune abtest: no config given\n");
        return -1;
    }
    return 0;
}

/* Everything the command owns, freed in one place. */
typedef struct ab_state {
    run_state s;
    double t_read, t_prepare, t_analyse; /* seconds per phase, for results.json */
    double *features;            /* n x p: x then w (the dataset's own x, w are freed) */
    double **y;                  /* n_outcomes outcome columns */
    const char *const *outcome_names;
    size_t n_outcomes;
    double *pre;                 /* CUPED's column, or NULL */
    double *design;              /* K shares, or NULL */
    double *e_aipw, *mu;         /* n x K each (AIPW), or NULL */
    cJSON *results;
} ab_state;

static void ab_free(ab_state *st)
{
    free(st->features);
    for (size_t j = 0; st->y && j < st->n_outcomes; j++)
        free(st->y[j]);
    free(st->y);
    free(st->pre);
    free(st->design);
    free(st->e_aipw);
    free(st->mu);
    cJSON_Delete(st->results);
    tt_run_state_free(&st->s);
}

static int columns_then_release(ab_state *st);

/* The whole table through the preprocessing fitted on every row (an
 * experiment has no holdout to protect), or the generator's data as made. */
static int load(ab_state *st, const ab_args *a)
{
    run_state *s = &st->s;
    double t0 = tt_now();
    int rc = tt_run_load_data(s, &a->run);
    st->t_read = tt_now() - t0;
    if (rc)
        return rc;
    if (s->frame) {
        char err[2048];
        size_t n = s->frame->base->n;
        size_t *all = malloc(sizeof *all * (n ? n : 1));
        if (!all) {
            fprintf(stderr, "tautune abtest: out of memory\n");
            return TT_EXIT_ERROR;
        }
        for (size_t i = 0; i < n; i++)
            all[i] = i;
        tt_status ts = tt_prep_fit(s->frame, all, n, &s->prep, err, sizeof err);
        free(all);
        if (ts == TT_OK)
            ts = tt_frame_dataset(s->frame, s->prep, &s->data, err, sizeof err);
        if (ts != TT_OK) {
            fprintf(stderr, "tautune abtest: %s\n", err);
            return ts == TT_ERR_CONFIG ? TT_EXIT_USAGE : TT_EXIT_DATA;
        }
    }
    st->t_prepare = tt_now() - t0 - st->t_read;
    const tt_dataset *d = s->data;
    if (tt_dataset_continuous(d)) {
        fprintf(stderr, "tautune abtest: %s: the treatment '%s' is continuous; an experiment "
                        "compares arms (use tautune run for effects per unit)\n",
                s->cfg->path, d->t_name);
        return TT_EXIT_USAGE;
    }
    size_t *counts = calloc((size_t)d->n_arms, sizeof *counts);
    if (!counts)
        return TT_EXIT_ERROR;
    tt_dataset_arm_counts(d, counts);
    for (int k = 0; k < d->n_arms; k++)
        if (counts[k] < 2) {
            fprintf(stderr, "tautune abtest: %s: arm '%s' has %zu row%s; every arm needs at "
                            "least 2\n", d->source, d->arm_labels[k], counts[k],
                    counts[k] == 1 ? "" : "s");
            free(counts);
            return TT_EXIT_DATA;
        }
    free(counts);
    return columns_then_release(st);
}

/* A numeric column of the data by name, one value per kept row, as a new
 * array: the outcome, a column of the file (every kept row a number), or a
 * feature. NULL with a message on error. */
static double *column(const run_state *s, const char *name, const char *what)
{
    const tt_dataset *d = s->data;
    const double *src = NULL;
    long c = s->table ? tt_csv_find(s->table, name) : -1;
    if (d->y_name && !strcmp(name, d->y_name))
        src = d->y;
    for (size_t j = 0; !src && c < 0 && j < d->p_x; j++)
        if (!strcmp(d->x_names[j], name))
            src = d->x + j * d->n;
    for (size_t j = 0; !src && c < 0 && j < d->p_w; j++)
        if (!strcmp(d->w_names[j], name))
            src = d->w + j * d->n;
    if (!src && c < 0) {
        fprintf(stderr, "tautune abtest: %s: %s '%s' is not a column of %s\n", s->cfg->path,
                what, name, d->source);
        return NULL;
    }
    double *v = malloc(sizeof *v * (d->n ? d->n : 1));
    if (!v) {
        fprintf(stderr, "tautune abtest: out of memory\n");
        return NULL;
    }
    if (src) {
        memcpy(v, src, sizeof *v * d->n);
        return v;
    }
    const tt_csv_column *col = &s->table->cols[c];
    for (size_t i = 0; i < d->n; i++) {
        size_t r = d->row[i];
        if (col->kind != TT_CSV_NUMERIC || col->missing[r] || !isfinite(col->num[r])) {
            fprintf(stderr, "tautune abtest: %s: line %zu: %s '%s' must be a number on every "
                            "row, got '%s'\n", d->source, s->table->line[r], what, name,
                    col->kind == TT_CSV_STRING && col->str[r] ? col->str[r] : "(missing)");
            free(v);
            return NULL;
        }
        v[i] = col->num[r];
    }
    return v;
}

/* Every column the analysis reads (outcomes, CUPED's pre) copied out, the
 * features moved into st->features as [x, w], and then the file's table,
 * its frame and the dataset's own feature arrays freed: at a million rows
 * that halves the peak memory. */
static int columns_then_release(ab_state *st)
{
    run_state *s = &st->s;
    const tt_config *c = s->cfg;
    tt_dataset *d = s->data;
    st->n_outcomes = c->exp_outcomes ? c->n_exp_outcomes : 1;
    st->outcome_names = c->exp_outcomes ? (const char *const *)c->exp_outcomes
                                        : (const char *const *)&d->y_name;
    st->y = calloc(st->n_outcomes, sizeof *st->y);
    if (!st->y)
        return TT_EXIT_ERROR;
    for (size_t j = 0; j < st->n_outcomes; j++)
        if (!(st->y[j] = column(s, st->outcome_names[j], "outcome")))
            return TT_EXIT_DATA;
    if (c->exp_pre && !(st->pre = column(s, c->exp_pre, "experiment.pre")))
        return TT_EXIT_DATA;
    tt_frame_free(s->frame);
    tt_csv_free(s->table);
    s->frame = NULL, s->table = NULL;
    size_t p = d->p_x + d->p_w;
    st->features = malloc(sizeof *st->features * (d->n * p + 1));
    if (!st->features)
        return TT_EXIT_ERROR;
    if (d->p_x)
        memcpy(st->features, d->x, sizeof(double) * d->n * d->p_x);
    if (d->p_w)
        memcpy(st->features + d->n * d->p_x, d->w, sizeof(double) * d->n * d->p_w);
    tt_dataset_drop_features(d); /* the names stay; the values live in st->features */
    return TT_EXIT_OK;
}

/* experiment.design as K shares in arm order, normalised. */
static int design_shares(ab_state *st)
{
    const tt_config *c = st->s.cfg;
    const tt_dataset *d = st->s.data;
    const size_t K = (size_t)d->n_arms;
    if (!c->exp_design)
        return TT_EXIT_OK;
    char arms[1024] = "";
    size_t off = 0;
    for (size_t k = 0; k < K && off < sizeof arms; k++)
        off += (size_t)snprintf(arms + off, sizeof arms - off, "%s'%s'", k ? ", " : "",
                                d->arm_labels[k]);
    if (c->n_exp_design != K) {
        fprintf(stderr, "tautune abtest: %s: experiment.design has %zu share%s for %zu arms "
                        "(%s)\n", c->path, c->n_exp_design, c->n_exp_design == 1 ? "" : "s", K,
                arms);
        return TT_EXIT_USAGE;
    }
    st->design = calloc(K, sizeof *st->design);
    if (!st->design)
        return TT_EXIT_ERROR;
    double sum = 0;
    for (size_t i = 0; i < K; i++) {
        size_t k = i;
        if (c->exp_design_labels) {
            for (k = 0; k < K && strcmp(d->arm_labels[k], c->exp_design_labels[i]); k++)
                ;
            if (k == K) {
                fprintf(stderr, "tautune abtest: %s: experiment.design names arm '%s', which "
                                "is not an arm of %s (arms: %s)\n", c->path,
                        c->exp_design_labels[i], d->t_name, arms);
                return TT_EXIT_USAGE;
            }
        }
        st->design[k] = c->exp_design[i];
        sum += c->exp_design[i];
    }
    for (size_t k = 0; k < K; k++)
        st->design[k] /= sum;
    return TT_EXIT_OK;
}

/* The sample-ratio check against the design (or the known propensities). */
static cJSON *sample_ratio(const ab_state *st)
{
    const tt_dataset *d = st->s.data;
    const size_t K = (size_t)d->n_arms;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!st->design && !d->propensity) {
        cJSON_AddStringToObject(o, "skipped", "no experiment.design (the planned share of each "
                                              "arm) to compare the counts with");
        return o;
    }
    size_t counts[256];
    double expected[256];
    if (K > 256) {
        cJSON_AddStringToObject(o, "skipped", "more than 256 arms");
        return o;
    }
    tt_dataset_arm_counts(d, counts);
    char against[1024] = "";
    size_t off = 0;
    for (size_t k = 0; k < K; k++) {
        expected[k] = 0;
        if (d->propensity)
            for (size_t i = 0; i < d->n; i++)
                expected[k] += d->propensity[k * d->n + i];
        else
            expected[k] = st->design[k] * (double)d->n;
    }
    if (d->propensity)
        snprintf(against, sizeof against, "the known propensities' expected counts");
    else
        for (size_t k = 0; k < K && off < sizeof against; k++)
            off += (size_t)snprintf(against + off, sizeof against - off, "%s%.4g",
                                    k ? " : " : "the design ", st->design[k]);
    tt_ab_srm r = tt_ab_srm_test((int)K, counts, expected);
    cJSON_AddStringToObject(o, "against", against);
    cJSON_AddItemToObject(o, "chi2", tt_json_number(r.chi2));
    cJSON_AddNumberToObject(o, "df", r.df);
    cJSON_AddItemToObject(o, "p", tt_json_number(r.p));
    cJSON_AddNumberToObject(o, "threshold", TT_AB_SRM_ALPHA);
    cJSON_AddBoolToObject(o, "flagged", r.flagged);
    cJSON *obs = cJSON_CreateArray(), *exp = cJSON_CreateArray();
    for (size_t k = 0; k < K; k++) {
        cJSON_AddItemToArray(obs, cJSON_CreateNumber((double)counts[k]));
        cJSON_AddItemToArray(exp, tt_json_number(expected[k]));
    }
    cJSON_AddItemToObject(o, "observed", obs);
    cJSON_AddItemToObject(o, "expected", exp);
    return o;
}

/* AIPW's outcome models for y: every arm's mu_k cross-fitted on [x, w] by
 * the nuisance engine, candidates planned within the allowance. *how says
 * which learners won. */
static int fit_outcome_models(ab_state *st, const double *y, cJSON *models)
{
    const run_state *s = &st->s;
    const tt_dataset *d = s->data;
    const size_t n = d->n, K = (size_t)d->n_arms, p = d->p_x + d->p_w;
    const size_t folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5;
    char err[1024];
    tt_nuisance_data nd = {.n = n, .p = p, .x = st->features, .y = y, .arm = d->t,
                           .n_arms = K, .weight = NULL};
    tt_nuisance_engine *eng = NULL;
    if (tt_nuisance_engine_new(&nd, folds, tt_rng_derive(s->cfg->seed, "abtest:nuisance"), &eng,
                               err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune abtest: %s: outcome models: %s\n", d->source, err);
        return TT_EXIT_DATA;
    }
    tt_nuisance_plan_role *roles = calloc(K, sizeof *roles);
    size_t *counts = calloc(K, sizeof *counts);
    if (!roles || !counts) {
        free(roles);
        free(counts);
        tt_nuisance_engine_free(eng);
        return TT_EXIT_ERROR;
    }
    tt_dataset_arm_counts(d, counts);
    for (size_t k = 0; k < K; k++) {
        roles[k] = (tt_nuisance_plan_role){.role = TT_NUISANCE_ARM_OUTCOME, .arm = (int)k,
                                           .n_rows = counts[k], .classes = 1};
        tt_nuisance_default_candidates(TT_NUISANCE_ARM_OUTCOME, &roles[k].cands,
                                       &roles[k].n_cands);
    }
    double allowance = s->cfg->nu_seconds > 0 ? s->cfg->nu_seconds : AB_NUISANCE_SECONDS;
    double minimum = 0;
    tt_nuisance_plan(roles, K, p, folds, 0, allowance, &minimum);
    int rc = TT_EXIT_OK;
    for (size_t k = 0; k < K && rc == TT_EXIT_OK; k++) {
        tt_nuisance_spec take[TT_NUISANCE_MAX_CANDS];
        size_t m = 0;
        for (size_t c = 0; c < roles[k].n_cands; c++)
            if (roles[k].take[c])
                take[m++] = roles[k].cands[c];
        const tt_nuisance_result *r = NULL;
        if (tt_nuisance_select(eng, TT_NUISANCE_ARM_OUTCOME, (int)k, take, m, &r, err,
                               sizeof err) != TT_OK) {
            fprintf(stderr, "tautune abtest: %s: outcome model of arm '%s': %s\n", d->source,
                    d->arm_labels[k], err);
            rc = TT_EXIT_DATA;
            break;
        }
        memcpy(st->mu + k * n, r->oof, sizeof(double) * n);
        cJSON *mo = cJSON_CreateObject();
        cJSON_AddStringToObject(mo, "arm", d->arm_labels[k]);
        cJSON_AddStringToObject(mo, "learner", r->diag.learner);
        cJSON_AddItemToObject(mo, "r2", tt_json_number(r->diag.r2));
        cJSON_AddNumberToObject(mo, "candidates", (double)r->diag.n_candidates);
        cJSON_AddItemToArray(models, mo);
    }
    free(roles);
    free(counts);
    tt_nuisance_engine_free(eng);
    return rc;
}

/* The run folder: --out, the config's out, or runs/<name>-abtest-<UTC>. */
static int out_dir(const ab_state *st, const ab_args *a, char *dir, size_t len)
{
    const char *given = a->run.out ? a->run.out : st->s.cfg->out_dir;
    if (given) {
        snprintf(dir, len, "%s", given);
    } else {
        char name[512];
        snprintf(name, sizeof name, "%s-abtest", st->s.cfg->name);
        tt_cli_default_dir(name, dir, len);
    }
    if (tt_mkdir_p(dir) != 0) {
        fprintf(stderr, "tautune abtest: cannot create folder %s: %s\n", dir, strerror(errno));
        return TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}

static cJSON *data_json(const ab_state *st)
{
    const tt_dataset *d = st->s.data;
    cJSON *o = cJSON_CreateObject(), *arms = cJSON_CreateArray(), *f = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "source", d->source);
    cJSON_AddNumberToObject(o, "rows", (double)d->n);
    cJSON_AddNumberToObject(o, "arms", d->n_arms);
    cJSON_AddStringToObject(o, "treatment", d->t_name);
    cJSON_AddStringToObject(o, "control", d->arm_labels[0]);
    for (int k = 0; k < d->n_arms; k++)
        cJSON_AddItemToArray(arms, cJSON_CreateString(d->arm_labels[k]));
    cJSON_AddItemToObject(o, "arm_labels", arms);
    for (size_t j = 0; j < d->p_x; j++)
        cJSON_AddItemToArray(f, cJSON_CreateString(d->x_names[j]));
    for (size_t j = 0; j < d->p_w; j++)
        cJSON_AddItemToArray(f, cJSON_CreateString(d->w_names[j]));
    cJSON_AddItemToObject(o, "features", f);
    cJSON_AddStringToObject(o, "assignment", d->propensity ? "known per row (data.propensity)"
                                                           : "one probability per arm");
    if (d->n_dropped)
        cJSON_AddNumberToObject(o, "dropped", (double)d->n_dropped);
    return o;
}

static int analyse(ab_state *st, int search)
{
    run_state *s = &st->s;
    const tt_config *c = s->cfg;
    const tt_dataset *d = s->data;
    const size_t n = d->n, K = (size_t)d->n_arms;
    int rc;
    if ((rc = design_shares(st)))
        return rc;
    double *uniform = NULL;
    if (d->propensity && !st->design) {
        /* What a fully random assignment would have earned. */
        uniform = malloc(sizeof *uniform * K);
        if (!uniform)
            return TT_EXIT_ERROR;
        for (size_t k = 0; k < K; k++)
            uniform[k] = 1.0 / (double)K;
    }
    if (search) {
        st->mu = malloc(sizeof *st->mu * n * K);
        st->e_aipw = malloc(sizeof *st->e_aipw * n * K);
        if (!st->mu || !st->e_aipw) {
            free(uniform);
            return TT_EXIT_ERROR;
        }
        /* Known propensities where given; otherwise each arm's share of the
         * rows, which in an experiment is the efficient choice. */
        size_t *counts = calloc(K, sizeof *counts);
        if (!counts) {
            free(uniform);
            return TT_EXIT_ERROR;
        }
        tt_dataset_arm_counts(d, counts);
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < n; i++)
                st->e_aipw[k * n + i] = d->propensity ? d->propensity[k * n + i]
                                                      : (double)counts[k] / (double)n;
        free(counts);
    }
    st->results = cJSON_CreateObject();
    cJSON *r = st->results, *outs = cJSON_CreateArray();
    cJSON_AddStringToObject(r, "kind", "abtest");
    cJSON_AddStringToObject(r, "tautune_version", TT_VERSION_STRING);
    cJSON_AddStringToObject(r, "name", c->name);
    cJSON_AddStringToObject(r, "config", c->path);
    cJSON_AddItemToObject(r, "data", data_json(st));
    cJSON_AddNumberToObject(r, "alpha", c->exp_alpha);
    cJSON_AddStringToObject(r, "correction", tt_ab_correction_name(c->exp_correction));
    char ctext[256];
    if (K == 2)
        snprintf(ctext, sizeof ctext, "one comparison per outcome and method");
    else if (c->exp_correction == TT_AB_HOLM)
        snprintf(ctext, sizeof ctext, "p adj. by Holm over the %zu arms of each outcome and "
                 "method", K - 1);
    else if (c->exp_correction == TT_AB_BONFERRONI)
        snprintf(ctext, sizeof ctext, "p adj. and intervals by Bonferroni over the %zu arms "
                 "of each outcome and method", K - 1);
    else
        snprintf(ctext, sizeof ctext, "no correction over the %zu arms "
                 "(experiment.correction = \"none\")", K - 1);
    cJSON_AddStringToObject(r, "correction_text", ctext);
    if (st->design) {
        cJSON *des = cJSON_CreateArray();
        for (size_t k = 0; k < K; k++)
            cJSON_AddItemToArray(des, cJSON_CreateNumber(st->design[k]));
        cJSON_AddItemToObject(r, "design", des);
    }
    cJSON_AddItemToObject(r, "sample_ratio", sample_ratio(st));
    cJSON_AddItemToObject(r, "outcomes", outs);
    rc = TT_EXIT_OK;
    for (size_t j = 0; j < st->n_outcomes && rc == TT_EXIT_OK; j++) {
        const char *name = st->outcome_names[j];
        const double *y = st->y[j];
        cJSON *models = search ? cJSON_CreateArray() : NULL;
        if (search) {
            double t0 = tt_now();
            if (!s->quiet)
                fprintf(stderr, "tautune abtest: cross-fitting outcome models for %s ...\n",
                        name);
            rc = fit_outcome_models(st, y, models);
            if (!s->quiet && rc == TT_EXIT_OK)
                fprintf(stderr, "tautune abtest: %s: outcome models in %.1fs\n", name,
                        tt_now() - t0);
        }
        const char *aipw_how = d->propensity ? "cross-fitted outcome models, known propensities"
                                             : "cross-fitted outcome models";
        ab_input in = {.n = n, .n_arms = d->n_arms,
                       .arm_labels = (const char *const *)d->arm_labels, .t = d->t,
                       .outcome = name, .y = y, .p = d->p_x + d->p_w, .x = st->features,
                       .pre_name = c->exp_pre, .pre = st->pre, .e_known = d->propensity,
                       .design = st->design ? st->design : uniform,
                       .mu = search ? st->mu : NULL, .e_aipw = st->e_aipw, .aipw_how = aipw_how,
                       .alpha = c->exp_alpha, .correction = (tt_ab_correction)c->exp_correction,
                       .resamples = c->exp_resamples,
                       .seed = tt_rng_derive(c->seed, name)};
        char err[1024];
        cJSON *o = rc == TT_EXIT_OK ? tt_ab_analyse(&in, err, sizeof err) : NULL;
        if (rc == TT_EXIT_OK && !o) {
            fprintf(stderr, "tautune abtest: %s: outcome '%s': %s\n", d->source, name, err);
            rc = TT_EXIT_DATA;
        }
        if (o) {
            /* Which learners AIPW's outcome models are, next to its effects. */
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "methods"))
                if (models && !strcmp(cJSON_GetObjectItemCaseSensitive(m, "method")->valuestring,
                                      "aipw")) {
                    cJSON_AddItemToObject((cJSON *)m, "models", models);
                    models = NULL;
                }
            cJSON_AddItemToArray(outs, o);
        }
        cJSON_Delete(models);
    }
    free(uniform);
    return rc;
}

int tt_cmd_abtest(int argc, char **argv)
{
    ab_args a;
    if (parse_args(argc, argv, &a)) {
        fprintf(stderr, "Run `tautune abtest --help` for the options.\n");
        return TT_EXIT_USAGE;
    }
    ab_state st;
    memset(&st, 0, sizeof st);
    st.s.outcome.best = -1;
    st.s.quiet = a.run.quiet;
    char err[2048], dir[4096];
    double t0 = tt_now();
    int rc = tt_cli_load_config(a.run.config, &st.s.cfg);
    if (rc == TT_EXIT_OK && a.run.has_seed)
        st.s.cfg->seed = a.run.seed;
    if (rc == TT_EXIT_OK && (rc = load(&st, &a)) == TT_EXIT_OK) {
        double t1 = tt_now();
        rc = analyse(&st, a.search || st.s.cfg->exp_search);
        st.t_analyse = tt_now() - t1;
    }
    if (rc == TT_EXIT_OK && (rc = out_dir(&st, &a, dir, sizeof dir)) == TT_EXIT_OK) {
        cJSON *tm = cJSON_AddObjectToObject(st.results, "seconds");
        cJSON_AddNumberToObject(tm, "read", st.t_read);
        cJSON_AddNumberToObject(tm, "prepare", st.t_prepare);
        cJSON_AddNumberToObject(tm, "analyse", st.t_analyse);
        cJSON_AddNumberToObject(tm, "total", tt_now() - t0);
        tt_ab_print(st.results, stdout);
        if (tt_json_write_atomic(dir, "results.json", st.results, err, sizeof err) != TT_OK ||
            tt_report_abtest_write(st.results, dir, err, sizeof err) != TT_OK) {
            fprintf(stderr, "tautune abtest: %s\n", err);
            rc = TT_EXIT_ERROR;
        } else {
            printf("\nwrote %s/results.json, summary.md and report.html\n", dir);
        }
    }
    ab_free(&st);
    return rc;
}
