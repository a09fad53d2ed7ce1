/* cmd_check.c - `tautune check CONFIG.lua`: the stages of `tautune run` up to
 * the split (config, plugins and their spaces, data and roles), then a short
 * report. Nothing is scored or searched and no run folder is made. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/help.h"
#include "cli/run.h"
#include "lua/config.h"
#include "plugin/caps.h"
#include "search/space.h"
#include "util/paths.h"

/* Names printed per feature role before "... (N more)". */
#define CHECK_MAX_NAMES 8
/* A numeric treatment with more arms than this looks like a dose or a price. */
#define TT_CHECK_MANY_ARMS 10

static int parse_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            tt_help_print("check", stdout);
            exit(TT_EXIT_OK);
        } else if (arg[0] != '-') {
            if (a->config) {
                fprintf(stderr, "tautune check: more than one config given ('%s', '%s')\n",
                        a->config, arg);
                return -1;
            }
            a->config = arg;
        } else if (!val) {
            fprintf(stderr, "tautune check: unknown option or missing value: '%s'\n", arg);
            return -1;
        } else if (strcmp(arg, "--data") == 0) {
            a->data = val;
            i++;
        } else if (strcmp(arg, "--plugin-path") == 0) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
            i++;
        } else {
            fprintf(stderr, "tautune check: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->config) {
        fprintf(stderr, "tautune check: no config given\n");
        return -1;
    }
    return 0;
}

static void print_names(const char *role, char **names, size_t n)
{
    printf("%s %zu", role, n);
    for (size_t i = 0; i < n && i < CHECK_MAX_NAMES; i++)
        printf("%s%s", i ? ", " : " (", names[i]);
    if (n > CHECK_MAX_NAMES)
        printf(", ... %zu more", n - CHECK_MAX_NAMES);
    if (n)
        putchar(')');
}

/* What an estimator cannot do with these data; "" when nothing. The rules
 * are the host's (plugin/caps.h), as tt_run_check_data applies them. */
static const char *capability_problem(const tt_plugin_descriptor *d, int n_arms, size_t p_z,
                                      int continuous)
{
    return tt_data_misfit_text(
        tt_plugin_data_misfit(d->capabilities, n_arms, p_z > 0, continuous));
}

static void print_estimator(const tt_space_estimator *est, const tt_plugin_descriptor *d,
                            int n_arms, size_t p_z, int continuous)
{
    char caps[128];
    tt_capabilities_text(d->capabilities, caps, sizeof caps);
    tt_space_dim *dims = NULL;
    size_t searched = 0;
    if (tt_space_dims(est, d, &dims) == TT_OK) {
        searched = tt_space_free_dims(dims, d->n_params);
        tt_space_dims_free(dims, d->n_params);
    }
    const char *problem = capability_problem(d, n_arms, p_z, continuous);
    printf("  %-20s %zu of %zu parameters searched  [%s]%s%s\n", est->plugin, searched,
           (size_t)d->n_params, caps, problem[0] ? "  PROBLEM: " : "", problem);
}

static void print_estimators(const run_state *s, const tt_dataset *d)
{
    const tt_config *c = s->cfg;
    printf("estimators  %zu\n", c->n_estimators);
    for (size_t i = 0; i < c->n_estimators; i++)
        print_estimator(&c->estimators[i], s->descs[i], d->n_arms, d->p_z + c->n_z,
                        tt_dataset_continuous(d));
}

/* The treatment line: the arms with their rows, or a continuous treatment's
 * range; and a numeric treatment with many values read as arms gets the
 * suggestion to treat it as continuous. */
static void print_treatment(const run_state *s, const tt_dataset *d)
{
    if (tt_dataset_continuous(d)) {
        double lo = INFINITY, hi = -INFINITY, mean = 0.0;
        for (size_t i = 0; i < d->n; i++) {
            lo = fmin(lo, d->t_value[i]);
            hi = fmax(hi, d->t_value[i]);
            mean += d->t_value[i] / (double)d->n;
        }
        printf("treatment   '%s', continuous: from %g to %g, mean %g; effects are per unit of "
               "it\n", d->t_name, lo, hi, mean);
        return;
    }
    printf("arms        %d:", d->n_arms);
    for (int k = 0; k < d->n_arms; k++)
        printf("%s %s (%zu)", k ? "," : "", d->arm_labels[k],
               s->n_folds >= 2 ? s->valid_counts[k] : s->train_counts[k] + s->valid_counts[k]);
    printf("\n");
    int numeric = 1;
    for (int k = 0; k < d->n_arms && numeric; k++) {
        char *end;
        (void)strtod(d->arm_labels[k], &end);
        numeric = end != d->arm_labels[k] && *end == '\0';
    }
    if (numeric && d->n_arms > TT_CHECK_MANY_ARMS)
        fprintf(stderr, "tautune: warning: treatment '%s' is a number with %d distinct values, "
                        "read as %d arms; if it is a dose, a price or years of something, set "
                        "data.treatment_kind = \"continuous\" (effects per unit of it)\n",
                d->t_name, d->n_arms, d->n_arms);
}

static void print_report(const run_state *s)
{
    const tt_config *c = s->cfg;
    const tt_dataset *d = s->data;
    printf("config      %s (%s)\n", c->name, c->path);
    printf("data        %s\n", d->source);
    if (s->n_folds >= 2)
        printf("rows        %zu (%d-fold cross-validated scoring, folds of %zu-%zu rows)", d->n,
               s->n_folds, s->folds[s->n_folds - 1].rows, s->folds[0].rows);
    else
        printf("rows        %zu (%zu train, %zu validation)", d->n, s->train->n, s->valid->n);
    if (d->n_dropped)
        printf(", %zu dropped", d->n_dropped);
    if (s->n_excluded)
        printf(", %zu excluded", s->n_excluded);
    printf("\n");
    print_treatment(s, d);
    printf("features    ");
    print_names("x", d->x_names, d->p_x);
    printf("; ");
    print_names("w", d->w_names, d->p_w);
    printf("\ntruth       %s\n", d->tau ? "true effects present (oracle figures available)"
                                        : "none");
    if (d->p_z > 0)
        printf("instrument  %s%s%s\n", d->z_names && d->z_names[0] ? d->z_names[0] : "z",
               tt_run_binary_instrument(d) ? " (binary: IV nuisances, scores and diagnostics)"
                                           : " (not a 0/1 column: tsls only)",
               c->z_propensity > 0.0 ? ", randomised (data.z_propensity)" : "");
    if (!c->metric || strcmp(c->metric, "auto") == 0)
        printf("metric      auto: %s for these data\n", tt_run_auto_metric(c, d));
    else
        printf("metric      %s\n", c->metric);
    print_estimators(s, d);
}

/* The stages in run's order, so check exits as run would. */
static int check(run_state *s, const run_args *a)
{
    int rc;
    if ((rc = tt_cli_load_config(a->config, &s->cfg)))
        return rc;
    if ((rc = tt_run_resolve_plugins(s, a, 1)) || (rc = tt_run_load_data(s, a)))
        return rc;
    if ((rc = tt_run_check_data(s))) {
        /* Its message is on stderr; show every estimator's standing too. */
        const tt_dataset *d = s->data ? s->data : s->frame->base;
        printf("config      %s (%s)\n", s->cfg->name, s->cfg->path);
        print_estimators(s, d);
        return rc;
    }
    if ((rc = tt_run_split(s)))
        return rc;
    tt_run_warn_post_treatment(s);
    print_report(s);
    printf("check       ok: nothing was run, no run folder was made\n");
    return TT_EXIT_OK;
}

int tt_cmd_check(int argc, char **argv)
{
    run_args a;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "Run `tautune check --help` for the options.\n");
        return TT_EXIT_USAGE;
    }
    run_state s;
    memset(&s, 0, sizeof s);
    s.outcome.best = -1;
    int rc = check(&s, &a);
    tt_run_state_free(&s);
    return rc;
}
