/* cmd_run.c - `tautune run`: config -> data -> plugins -> search -> run folder. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/split.h"
#include "data/synth.h"
#include "lua/config.h"
#include "report/results.h"
#include "search/search.h"
#include "search/space.h"
#include "score/propensity.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/rng.h"

/* METRICS.md: propensities in scores are clipped to [c, 1 - c]. */
#define TT_PROPENSITY_CLIP 0.05

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct run_args {
    const char *config;
    const char *out;
    int has_seed, has_budget, has_trials, quiet;
    unsigned long long seed;
    double budget;
    long trials;
    tt_plugin_paths paths;
} run_args;

static void run_usage(FILE *out)
{
    fprintf(out,
            "Usage: tautune run CONFIG.lua [options]\n"
            "\n"
            "Searches the estimators of CONFIG.lua within its budget, scores every\n"
            "candidate on held-out rows, prints a leaderboard and writes a run folder\n"
            "(trials.jsonl, results.json, config.lua).\n"
            "\n"
            "Options (each overrides the config):\n"
            "  --out DIR            run folder (default runs/<config name>-<UTC time>)\n"
            "  --seed N             run seed (same seed, same results)\n"
            "  --budget SECONDS     wall-clock budget for the whole run\n"
            "  --trials N           stop after N trials\n"
            "  --plugin-path DIRS   extra plugin folders (colon-separated; repeatable)\n"
            "  --quiet              no per-trial progress lines\n"
            "\n"
            "Exit codes: 0 ok, 1 I/O or internal error, 2 usage or config error,\n"
            "3 data error, 4 plugin error, 5 no successful trial, 130 interrupted.\n");
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

static int parse_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
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
        } else if (strcmp(arg, "--plugin-path") == 0) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
        } else if (strcmp(arg, "--seed") == 0) {
            if (parse_number(arg, val, &num) || num < 0 || num != floor(num) || num > 9.0e15) {
                fprintf(stderr, "tautune run: --seed expects a non-negative integer\n");
                return -1;
            }
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
            if (parse_number(arg, val, &num) || num < 1 || num != floor(num) || num > 1e9) {
                fprintf(stderr, "tautune run: --trials expects a positive integer\n");
                return -1;
            }
            a->has_trials = 1;
            a->trials = (long)num;
        } else {
            fprintf(stderr, "tautune run: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->config) {
        fprintf(stderr, "tautune run: no config given\n");
        return -1;
    }
    return 0;
}

static void log_to_stderr(void *ctx, tt_log_level level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "tautune: %s: %s\n", names[level], msg);
}

/* Everything the run owns, so one cleanup frees it whatever step failed. */
typedef struct run_state {
    tt_config *cfg;
    tt_registry *reg;
    const tt_plugin_descriptor **descs;
    tt_dataset *data, *train, *valid;
    tt_split split;
    FILE *trials_fp;
    tt_search_outcome outcome;
    size_t *train_counts, *valid_counts;
    double *valid_prop;          /* n_valid x K scoring propensities */
    tt_propensity_summary prop_summary;
    const char *metric;          /* the objective, "auto" resolved */
    int quiet;
    double best_so_far;
} run_state;

static void run_state_free(run_state *s)
{
    tt_config_free(s->cfg);
    tt_registry_free(s->reg);
    free(s->descs);
    tt_dataset_free(s->data);
    tt_dataset_free(s->train);
    tt_dataset_free(s->valid);
    tt_split_free(&s->split);
    if (s->trials_fp)
        fclose(s->trials_fp);
    tt_search_outcome_free(&s->outcome);
    free(s->train_counts);
    free(s->valid_counts);
    free(s->valid_prop);
}

static int resolve_plugins(run_state *s, const run_args *a)
{
    s->reg = tt_cli_load_plugins(&a->paths, 1);
    s->descs = calloc(s->cfg->n_estimators + 1, sizeof *s->descs);
    if (!s->reg || !s->descs) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    for (size_t i = 0; i < s->cfg->n_estimators; i++) {
        const tt_space_estimator *est = &s->cfg->estimators[i];
        const tt_plugin_entry *e = tt_registry_find(s->reg, est->plugin);
        if (!e) {
            const char *near = tt_cli_closest_plugin(s->reg, est->plugin);
            char line[32] = "";
            if (est->line > 0)
                snprintf(line, sizeof line, "%d:", est->line);
            fprintf(stderr,
                    "tautune: %s:%s estimators.%s: no plugin named '%s' on the plugin path%s%s%s"
                    " (see `tautune plugins`)\n",
                    s->cfg->path, line, est->plugin, est->plugin, near ? "; did you mean '" : "",
                    near ? near : "", near ? "'?" : "");
            return TT_EXIT_PLUGIN;
        }
        char err[1024];
        if (tt_space_check(est, e->desc, s->cfg->path, err, sizeof err) != TT_OK) {
            fprintf(stderr, "tautune: %s\n", err);
            return TT_EXIT_USAGE;
        }
        s->descs[i] = e->desc;
    }
    return TT_EXIT_OK;
}

static int load_data(run_state *s)
{
    char err[2048];
    tt_status st;
    const tt_config *c = s->cfg;
    if (c->generator) {
        tt_synth_options opt;
        tt_synth_options_init(&opt);
        opt.rows = c->gen_rows;
        opt.arms = c->gen_arms;
        opt.seed = c->gen_seed;
        st = tt_synth_generate(c->generator, &opt, &s->data, err, sizeof err);
    } else {
        tt_csv_table *table = NULL;
        st = tt_csv_read(c->data_path, &table, err, sizeof err);
        if (st == TT_OK) {
            tt_roles roles = {
                .outcome = c->outcome, .treatment = c->treatment, .control = c->control,
                .x = (const char *const *)c->x, .n_x = c->n_x,
                .w = (const char *const *)c->w, .n_w = c->n_w,
                .true_effect = (const char *const *)c->true_effect,
                .n_true_effect = c->n_true_effect,
            };
            st = tt_dataset_from_csv(table, &roles, &s->data, err, sizeof err);
        }
        tt_csv_free(table);
    }
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        /* A column the config names wrongly is a config error; a file that is
         * missing, unreadable or malformed is a data error. */
        return st == TT_ERR_CONFIG ? TT_EXIT_USAGE : TT_EXIT_DATA;
    }
    return TT_EXIT_OK;
}

/* Checks that need both the data and the plugins. */
static int check_fit(const run_state *s)
{
    const tt_config *c = s->cfg;
    for (size_t i = 0; i < c->n_estimators; i++) {
        const tt_plugin_descriptor *d = s->descs[i];
        if (s->data->n_arms > 2 && !(d->capabilities & TT_PLUGIN_CAP_MULTI_ARM)) {
            fprintf(stderr, "tautune: %s: estimators.%s: '%s' handles two arms only; the data have %d\n",
                    c->path, d->name, d->name, s->data->n_arms);
            return TT_EXIT_PLUGIN;
        }
        if (d->capabilities & TT_PLUGIN_CAP_IV) {
            fprintf(stderr, "tautune: %s: estimators.%s: '%s' needs instruments, which this "
                            "version does not read yet\n", c->path, d->name, d->name);
            return TT_EXIT_PLUGIN;
        }
    }
    if ((!strcmp(s->metric, "pehe") || !strcmp(s->metric, "ate_error")) && !s->data->tau) {
        fprintf(stderr, "tautune: %s: metric '%s' is an oracle figure and needs a true-effect "
                        "column (data.true_effect)\n", c->path, s->metric);
        return TT_EXIT_USAGE;
    }
    return TT_EXIT_OK;
}

static int split_data(run_state *s)
{
    char err[1024];
    const tt_dataset *d = s->data;
    tt_status st = tt_split_stratified(d->t, d->n, d->n_arms, (const char *const *)d->arm_labels,
                                       s->cfg->validation, s->cfg->seed, &s->split, err,
                                       sizeof err);
    if (st == TT_OK)
        st = tt_dataset_subset(d, s->split.train, s->split.n_train, &s->train, err, sizeof err);
    if (st == TT_OK)
        st = tt_dataset_subset(d, s->split.valid, s->split.n_valid, &s->valid, err, sizeof err);
    s->train_counts = calloc((size_t)d->n_arms, sizeof(size_t));
    s->valid_counts = calloc((size_t)d->n_arms, sizeof(size_t));
    if (st == TT_OK && (!s->train_counts || !s->valid_counts))
        st = TT_ERR_NOMEM;
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: %s\n", d->source, st == TT_ERR_NOMEM ? "out of memory" : err);
        return TT_EXIT_DATA;
    }
    tt_dataset_arm_counts(s->train, s->train_counts);
    tt_dataset_arm_counts(s->valid, s->valid_counts);
    return TT_EXIT_OK;
}

static tt_plugin_data view_of(const tt_dataset *d);

/* The scoring propensity: fitted once, shared by every trial's scores. */
static int fit_scoring_propensity(run_state *s)
{
    char err[1024];
    tt_plugin_data train = view_of(s->train), valid = view_of(s->valid);
    s->valid_prop = calloc(s->valid->n * (size_t)s->data->n_arms + 1, sizeof *s->valid_prop);
    if (!s->valid_prop) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    if (tt_scoring_propensity(&train, &valid, 1.0, tt_rng_derive(s->cfg->seed, "scoring"),
                              s->valid_prop, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: cannot fit the scoring propensity: %s\n", s->data->source,
                err);
        return TT_EXIT_DATA;
    }
    tt_propensity_summarise(s->valid_prop, s->valid->t, s->valid->n, TT_PROPENSITY_CLIP,
                            &s->prop_summary);
    if (s->prop_summary.outside_clip > 0 && !s->quiet)
        fprintf(stderr, "tautune: warning: %zu of %zu validation rows have a propensity outside "
                        "[%g, %g] (clipped in the scores; overlap is weak)\n",
                s->prop_summary.outside_clip, s->valid->n, TT_PROPENSITY_CLIP,
                1 - TT_PROPENSITY_CLIP);
    return TT_EXIT_OK;
}

static tt_plugin_data view_of(const tt_dataset *d)
{
    tt_plugin_data v = {
        .struct_size = sizeof v, .n = d->n, .p_x = d->p_x, .p_w = d->p_w,
        .x = d->x, .w = d->w, .t = d->t, .y = d->y, .weight = NULL, .n_arms = d->n_arms,
        .x_names = (const char *const *)d->x_names, .w_names = (const char *const *)d->w_names,
    };
    return v;
}

/* runs/<name>-<UTC time>, with -2, -3 ... if that folder exists. */
static int make_out_dir(const run_state *s, const char *given, char *dir, size_t len)
{
    if (given) {
        snprintf(dir, len, "%s", given);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(dir, len, "runs/%s-%s", s->cfg->name, stamp);
        for (int k = 2; tt_is_dir(dir) && k < 1000; k++)
            snprintf(dir, len, "runs/%s-%s-%d", s->cfg->name, stamp, k);
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/trials.jsonl", dir);
    if (access(probe, F_OK) == 0) {
        fprintf(stderr, "tautune: %s already holds a run; choose another --out or remove it\n",
                dir);
        return TT_EXIT_USAGE;
    }
    if (tt_mkdir_p(dir) != 0) {
        fprintf(stderr, "tautune: cannot create run folder %s: %s\n", dir, strerror(errno));
        return TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static const char *oracle_text(const tt_trial_result *r, const char *name, char *buf, size_t len)
{
    const tt_score_value *v = tt_trial_find_score(r, name);
    if (!v)
        return "";
    if (v->is_null)
        snprintf(buf, len, " %s=null", name);
    else
        snprintf(buf, len, " %s=%.4g", name, v->value);
    return buf;
}

static int on_trial(void *ctx, const tt_trial_result *r)
{
    run_state *s = ctx;
    char err[512];
    if (tt_trials_append(s->trials_fp, r, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return 1; /* losing the log would lose work: stop */
    }
    if (r->status == TT_TRIAL_OK && !isnan(r->objective) &&
        (isnan(s->best_so_far) || r->objective < s->best_so_far))
        s->best_so_far = r->objective;
    if (s->quiet)
        return 0;
    if (r->status == TT_TRIAL_OK) {
        char pehe[64];
        fprintf(stderr, "[trial %3zu] %-16s %s=%-10.5g best=%-10.5g%s %.2fs\n", r->id, r->desc->name,
                s->metric, r->objective, s->best_so_far,
                oracle_text(r, "pehe", pehe, sizeof pehe), r->seconds);
    } else {
        fprintf(stderr, "[trial %3zu] %-16s %s: %s\n", r->id, r->desc->name,
                tt_trial_status_name(r->status), r->error);
    }
    return 0;
}

static int execute(run_state *s, const run_args *a, double start)
{
    char err[2048], dir[4096];
    int rc;
    char scripts[4096];
    const char *scripts_dir = tt_default_scripts_dir(scripts, sizeof scripts) == 0 &&
                                      tt_is_dir(scripts) ? scripts : NULL;
    if (tt_config_load(a->config, scripts_dir, &s->cfg, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return TT_EXIT_USAGE;
    }
    tt_config *c = s->cfg;
    if (a->has_seed)
        c->seed = a->seed;
    if (a->has_budget)
        c->budget_seconds = a->budget;
    if (a->has_trials)
        c->max_trials = a->trials;
    s->quiet = a->quiet;
    s->best_so_far = NAN;
    /* METRICS.md: "auto" is energy for randomized assignment, otherwise the
     * propensity-weighted energy (plain energy is fooled by confounding). */
    s->metric = strcmp(c->metric, "auto") ? c->metric : c->randomized ? "energy" : "psw_energy";

    if ((rc = resolve_plugins(s, a)) || (rc = load_data(s)) || (rc = check_fit(s)) ||
        (rc = split_data(s)) || (rc = fit_scoring_propensity(s)))
        return rc;
    if ((rc = make_out_dir(s, a->out ? a->out : c->out_dir, dir, sizeof dir)))
        return rc;
    char path[4200];
    snprintf(path, sizeof path, "%s/config.lua", dir);
    if (copy_file(c->path, path) != 0)
        fprintf(stderr, "tautune: warning: could not copy the config into %s\n", dir);
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    s->trials_fp = fopen(path, "w");
    if (!s->trials_fp) {
        fprintf(stderr, "tautune: cannot write %s: %s\n", path, strerror(errno));
        return TT_EXIT_ERROR;
    }

    if (!a->quiet)
        fprintf(stderr, "tautune: %s: %zu rows (%zu train, %zu validation), %d arms, %zu estimators, "
                        "budget %s%.0fs%s, seed %llu\n",
                s->data->source, s->data->n, s->train->n, s->valid->n, s->data->n_arms,
                c->n_estimators, c->budget_seconds > 0 ? "" : "none ",
                c->budget_seconds, c->max_trials > 0 ? " / trial cap" : "",
                (unsigned long long)c->seed);

    tt_trial_problem problem = {
        .train = view_of(s->train), .valid = view_of(s->valid), .valid_tau = s->valid->tau,
        .valid_propensity = s->valid_prop, .propensity_clip = TT_PROPENSITY_CLIP,
        .n_arms = s->data->n_arms, .metric = s->metric,
    };
    tt_search_options opt = {
        .deadline = c->budget_seconds > 0 ? start + c->budget_seconds : 0,
        .max_trials = c->max_trials, .seed = c->seed, .stop_flag = &g_stop,
    };
    if (tt_search_run(&problem, c, s->descs, &opt, on_trial, s, &s->outcome, err, sizeof err) !=
        TT_OK) {
        fprintf(stderr, "tautune: search: %s\n", err);
        rc = TT_EXIT_ERROR; /* still write what finished */
    }

    tt_run_info info = {
        .config_path = c->path, .config_name = c->name, .seed = c->seed, .metric = s->metric,
        .metric_requested = c->metric, .propensity = &s->prop_summary,
        .propensity_clip = TT_PROPENSITY_CLIP,
        .direction = "min", .data_source = s->data->source, .rows = s->data->n,
        .train_rows = s->train->n, .validation_rows = s->valid->n, .n_arms = s->data->n_arms,
        .arm_labels = (const char *const *)s->data->arm_labels,
        .train_arm_counts = s->train_counts, .valid_arm_counts = s->valid_counts,
        .has_truth = s->data->tau != NULL, .budget_seconds = c->budget_seconds,
        .max_trials = c->max_trials, .elapsed_seconds = tt_now() - start,
        .status = s->outcome.interrupted ? "interrupted" : "complete",
    };
    if (tt_results_write(dir, &info, &s->outcome, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return TT_EXIT_ERROR;
    }
    tt_cli_print_leaderboard(&s->outcome, s->descs, c->n_estimators, s->metric, s->valid->n,
                             s->valid->tau != NULL);
    printf("Run folder: %s\n", dir);
    if (rc)
        return rc;
    if (s->outcome.interrupted) {
        fprintf(stderr, "tautune: interrupted; %zu finished trials are in %s\n",
                s->outcome.n_trials, dir);
        return TT_EXIT_INTERRUPTED;
    }
    if (s->outcome.best < 0) {
        fprintf(stderr, "tautune: no trial succeeded (see %s/trials.jsonl for each error)\n", dir);
        return TT_EXIT_NO_TRIAL;
    }
    return TT_EXIT_OK;
}

int tt_cmd_run(int argc, char **argv)
{
    double start = tt_now();
    run_args a;
    if (parse_args(argc, argv, &a) != 0) {
        run_usage(stderr);
        return TT_EXIT_USAGE;
    }
    tt_log_set_sink(log_to_stderr, NULL, TT_LOG_INFO);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run_state s;
    memset(&s, 0, sizeof s);
    s.outcome.best = -1;
    int rc = execute(&s, &a, start);
    run_state_free(&s);
    return rc;
}
