/* run_args.c - the command line of `tautune run` (run.h: run_cli): the
 * options, the --fail-under / --fail-over thresholds and their checks
 * against the score catalogue. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/help.h"
#include "cli/run.h"
#include "score/estimand.h"
#include "score/scores.h"

/* run --help; the text lives in help.c with every other command's. */
static void run_usage(FILE *out)
{
    tt_help_print("run", out);
}


/* The oracle figures a trial can carry besides the catalogue scores (trial.c). */
static const char *const oracle_names[] = {"pehe", "ate_error", "cate_corr", "policy_true", NULL};

static int known_score(const char *name)
{
    if (tt_score_find(name))
        return 1;
    for (size_t i = 0; oracle_names[i]; i++)
        if (strcmp(oracle_names[i], name) == 0)
            return 1;
    return 0;
}

static void list_scores(FILE *out)
{
    size_t n;
    const tt_score_info *cat = tt_score_catalogue(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", cat[i].name);
    for (size_t i = 0; oracle_names[i]; i++)
        fprintf(out, ", %s", oracle_names[i]);
}

static int parse_number(const char *opt, const char *text, double *out);

/* SCORE=VALUE; the name is checked now so a typo fails before the search. */
static int parse_threshold(run_cli *cli, const char *opt, const char *text)
{
    const char *eq = strchr(text, '=');
    if (cli->n_th == sizeof cli->th / sizeof cli->th[0]) {
        fprintf(stderr, "tautune run: too many thresholds (at most %zu)\n",
                sizeof cli->th / sizeof cli->th[0]);
        return -1;
    }
    run_threshold *t = &cli->th[cli->n_th];
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof t->score) {
        fprintf(stderr, "tautune run: %s expects SCORE=VALUE (e.g. %s qini=0.02), got '%s'\n",
                opt, opt, text);
        return -1;
    }
    memcpy(t->score, text, (size_t)(eq - text));
    t->score[eq - text] = '\0';
    if (!known_score(t->score)) {
        fprintf(stderr, "tautune run: %s: '%s' is not a score or oracle figure; known: ", opt,
                t->score);
        list_scores(stderr);
        fputc('\n', stderr);
        return -1;
    }
    if (parse_number(opt, eq + 1, &t->value))
        return -1;
    t->text = eq + 1;
    t->over = strcmp(opt, "--fail-over") == 0;
    cli->n_th++;
    return 0;
}

static int parse_number(const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) {
        fprintf(stderr, "tautune run: %s expects a number, got '%s'\n", opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_whole(const char *opt, const char *text, double lo, double hi, double *out)
{
    if (parse_number(opt, text, out) || *out < lo || *out > hi || *out != floor(*out)) {
        fprintf(stderr, "tautune run: %s expects a whole number from %.0f to %.0f\n", opt, lo, hi);
        return -1;
    }
    return 0;
}

int tt_run_parse_args(int argc, char **argv, run_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    run_args *a = &cli->a;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        double num;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            run_usage(stdout);
            exit(TT_EXIT_OK);
        } else if (strcmp(arg, "--quiet") == 0) {
            a->quiet = 1;
            continue;
        } else if (strcmp(arg, "--ci") == 0) {
            cli->ci = 1;
            continue;
        } else if (strcmp(arg, "--mpi") == 0) {
            a->mpi = 1;
            continue;
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            cli->verbose = 1;
            continue;
        } else if (arg[0] != '-') {
            if (a->config) {
                fprintf(stderr, "tautune run: more than one config given ('%s', '%s')\n",
                        a->config, arg);
                return -1;
            }
            a->config = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune run: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        i++;
        if (strcmp(arg, "--out") == 0) {
            a->out = val;
        } else if (strcmp(arg, "--data") == 0) {
            a->data = val;
        } else if (strcmp(arg, "--resume") == 0) {
            a->resume = val;
        } else if (strcmp(arg, "--plugin-path") == 0) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
        } else if (strcmp(arg, "--fail-under") == 0 || strcmp(arg, "--fail-over") == 0) {
            if (parse_threshold(cli, arg, val))
                return -1;
        } else if (strcmp(arg, "--seed") == 0) {
            if (parse_whole(arg, val, 0, 9.0e15, &num))
                return -1;
            a->has_seed = 1;
            a->seed = (unsigned long long)num;
        } else if (strcmp(arg, "--budget") == 0) {
            if (parse_number(arg, val, &num) || num <= 0) {
                fprintf(stderr, "tautune run: --budget expects a positive number of seconds\n");
                return -1;
            }
            a->has_budget = 1;
            a->budget = num;
        } else if (strcmp(arg, "--trials") == 0) {
            if (parse_whole(arg, val, 1, 1e9, &num))
                return -1;
            a->has_trials = 1;
            a->trials = (long)num;
        } else if (strcmp(arg, "--jobs") == 0) {
            if (parse_whole(arg, val, 1, 1024, &num))
                return -1;
            a->has_jobs = 1;
            a->jobs = (int)num;
        } else if (strcmp(arg, "--mpi-timeout") == 0) {
            if (parse_number(arg, val, &num) || num < 1 || num > 86400) {
                fprintf(stderr, "tautune run: --mpi-timeout expects seconds from 1 to 86400\n");
                return -1;
            }
            a->mpi_timeout = num;
        } else if (strcmp(arg, "--mpi-slots") == 0) {
            if (parse_whole(arg, val, 1, 1024, &num))
                return -1;
            a->mpi_slots = (int)num;
        } else if (strcmp(arg, "--estimand") == 0) {
            if ((a->estimand = tt_estimand_parse(val)) < 0) {
                fprintf(stderr, "tautune run: --estimand expects ate, att, atc or overlap, got "
                                "'%s'\n", val);
                return -1;
            }
            a->has_estimand = 1;
        } else {
            fprintf(stderr, "tautune run: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->config) {
        fprintf(stderr, "tautune run: no config given\n");
        return -1;
    }
    if (cli->verbose && a->quiet) {
        fprintf(stderr, "tautune run: --verbose shows every trial's log and --quiet shows "
                        "nothing: give one of them\n");
        return -1;
    }
    if (a->resume && a->out) {
        fprintf(stderr, "tautune run: --resume DIR continues in DIR; do not give --out too\n");
        return -1;
    }
    return 0;
}


void tt_run_apply_args(tt_config *c, const run_args *a)
{
    if (a->has_seed)
        c->seed = a->seed;
    if (a->has_budget)
        c->budget_seconds = a->budget;
    if (a->has_trials)
        c->max_trials = a->trials;
    if (a->has_jobs)
        c->jobs = a->jobs;
    if (a->has_estimand)
        c->estimand = a->estimand;
}
