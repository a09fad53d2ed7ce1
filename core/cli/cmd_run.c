/* cmd_run.c - `tautune run`: config -> data -> plugins -> search -> run folder.
 * The data and scoring stages live in run_data.c and run_scoring.c. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cli/help.h"
#include "cli/run.h"
#include "cli/run_mpi.h"
#include "lua/config.h"
#include "report/results.h"
#include "score/estimand.h"
#include "search/rank.h"
#include "search/search.h"
#include "search/select.h"
#include "search/space.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/log.h"
#include "util/paths.h"

/* When an ensemble wins, the share of the refit time the best trial's own
 * refit gets first (the members get the rest). */
#define ENSEMBLE_SINGLE_SHARE 0.35

/* The run may end this much after its budget (issue: max(2 s, 3 %)); trials
 * still running then are killed after this grace. */
#define BUDGET_GRACE_SECONDS 1.0

static volatile sig_atomic_t g_stop;
/* Before the run folder holds anything (config, data, scores, plan),
 * nothing is finished and nothing can be lost: a signal then ends the
 * process at once, whatever long call (a Lua config, a big CSV) is running.
 * From the nuisance stage on, the phases poll g_stop instead, so finished
 * work is written before exit 130. */
static volatile sig_atomic_t g_exit_at_once = 1;

static void on_signal(int sig)
{
    (void)sig;
    if (g_exit_at_once) {
        static const char msg[] = "\ntautune: interrupted before any model was fitted; nothing "
                                  "to keep\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(TT_EXIT_INTERRUPTED);
    }
    g_stop = 1;
}

static void log_to_stderr(void *ctx, tt_log_level level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "tautune: %s: %s\n", names[level], msg);
}

void tt_run_state_free(run_state *s)
{
    tt_config_free(s->cfg);
    tt_registry_free(s->reg);
    free(s->descs);
    tt_dataset_free(s->data);
    tt_dataset_free(s->train);
    tt_dataset_free(s->valid);
    free(s->winner_tau);
    free(s->winner_importance);
    free(s->winner_model_importance);
    free(s->winner_lo);
    free(s->winner_hi);
    tt_split_free(&s->split);
    tt_run_folds_free(s);
    tt_prep_free(s->prep);
    tt_frame_free(s->frame);
    tt_csv_free(s->table);
    free(s->train_counts);
    free(s->valid_counts);
    tt_score_context_free(s->scores);
    tt_nuisance_engine_free(s->engine);
    free(s->nu_features);
    free(s->nu_arm_outcome);
    free(s->costs);
    free(s->arm_share_prop);
    free(s->nu_roles);
    for (size_t i = 0; i < s->n_nu_owned; i++)
        free(s->nu_owned[i]);
    free(s->nu_owned);
    tt_nuisance_engine_free(s->engine_all);
    free(s->nu_features_all);
    free(s->nu_arm_outcome_all);
    free(s->final_roles);
    free(s->final_specs);
    if (s->trials_fp)
        fclose(s->trials_fp);
    tt_search_outcome_free(&s->outcome);
    tt_run_ensemble_free(&s->ensemble);
    cJSON_Delete(s->estimand_facts);
    cJSON_Delete(s->insight_facts);
    cJSON_Delete(s->policy_facts);
    for (size_t i = 0; i < s->n_prior; i++)
        tt_trial_result_clear(&s->prior[i]);
    free(s->prior);
}

static int on_trial(void *ctx, const tt_trial_result *r)
{
    run_state *s = ctx;
    char err[512];
    if (tt_trials_append(s->trials_fp, r, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return 1; /* losing the log would lose work: stop */
    }
    tt_progress_trial(&s->progress, r);
    /* Leave the best trial so far the time its refit will need (the search
     * fills s->outcome as it goes; best is set before the sink is called). */
    const tt_search_outcome *o = &s->outcome;
    int end = o->best >= 0 ? tt_run_search_should_end(s, &o->trials[o->best], tt_now()) : 0;
    if (end == 1) {
        if (!s->quiet)
            fprintf(stderr, "tautune: ending the search early to leave the best trial (%s) "
                            "time for its refit (~%.1fs)\n", o->trials[o->best].desc->name,
                    tt_run_refit_estimate(s, &o->trials[o->best]));
        s->ended_for_refit = 1;
        return 1;
    }
    if (end == 2) { /* the next trial would be stopped unfinished at the deadline */
        s->ended_for_refit = 1;
        return 1;
    }
    return 0;
}

/* Worker limits from the config and the machine. */
static void search_options(const run_state *s, double start, tt_search_options *opt)
{
    const tt_config *c = s->cfg;
    memset(opt, 0, sizeof *opt);
    (void)start;
    opt->deadline = s->plan.search_deadline;
    opt->max_trials = c->max_trials;
    opt->seed = c->seed;
    opt->stop_flag = &g_stop;
    opt->isolate = 1;
    opt->jobs = c->jobs > 0 ? c->jobs : 1;
    /* A trial still running at the search's deadline may finish within the
     * grace, but not into the winner's refit: on a small budget the refit's
     * window (the reserve less the report's tail) is under a second. */
    opt->grace = BUDGET_GRACE_SECONDS;
    if (s->plan.budget > 0)
        opt->grace = fmin(opt->grace,
                          0.5 * fmax(0.0, s->plan.refit_deadline - s->plan.search_deadline));
    opt->searcher = c->searcher;
    opt->cost_in_seconds = c->cost_in_seconds;
    opt->prior = s->prior;
    opt->n_prior = s->n_prior;
    /* Without a setting, one trial may take a quarter of the budget (10
     * minutes when only trials are counted): enough for any sane candidate,
     * and a hung one cannot eat the run. */
    opt->trial_timeout = c->trial_seconds > 0 ? c->trial_seconds
                         : c->budget_seconds > 0 ? fmax(5.0, 0.25 * c->budget_seconds)
                                                 : 600.0;
    /* Default cap: the machine's memory shared by the workers, so one runaway
     * plugin fails its trial instead of the machine. AddressSanitizer builds
     * reserve terabytes of address space and cannot take a cap. */
    struct sysinfo si;
    size_t cap = 0;
    if (c->memory_mb >= 0)
        cap = (size_t)c->memory_mb << 20;
    else if (sysinfo(&si) == 0)
        cap = (size_t)((double)si.totalram * si.mem_unit * 0.8 / opt->jobs);
#if defined(__SANITIZE_ADDRESS__)
    cap = 0;
#endif
    opt->memory_cap = cap;
}

/* results.json; with pages, also report.html and summary.md. */
static void report(run_state *s, const char *dir, double start, const cJSON *winner, int pages)
{
    const tt_config *c = s->cfg;
    char err[1024];
    cJSON *facts = tt_run_data_facts(s), *nuisances = tt_run_nuisance_facts(s);
    cJSON *plan = tt_run_plan_facts(s), *iv = tt_run_iv_facts(s);
    tt_run_info info = {
        .config_path = c->path, .config_name = c->name, .seed = c->seed, .metric = s->metric,
        .metric_requested = c->metric,
        /* A continuous treatment has no scoring propensity to describe. */
        .propensity = tt_dataset_continuous(s->data) ? NULL : &s->prop_summary,
        .propensity_clip = c->clip, .known_propensity = s->valid->propensity != NULL,
        .energy_rows = tt_score_context_energy_rows(s->scores), .data_facts = facts,
        .nuisances = nuisances, .winner = winner, .plan = plan,
        .ensemble = s->ensemble.facts, .iv = iv, .estimand = s->estimand_facts,
        .insight = s->insight_facts, .policy = s->policy_facts,
        .propensity_model = s->prop_model,
        .direction = s->maximize ? "max" : "min", .data_source = s->data->source,
        .rows = s->data->n, .train_rows = s->train->n, .validation_rows = s->valid->n,
        .n_arms = s->data->n_arms, .arm_labels = (const char *const *)s->data->arm_labels,
        .train_arm_counts = s->train_counts, .valid_arm_counts = s->valid_counts,
        .has_truth = s->data->tau != NULL, .budget_seconds = c->budget_seconds,
        .max_trials = c->max_trials, .elapsed_seconds = tt_now() - start,
        .status = s->outcome.interrupted ? "interrupted" : "complete",
    };
    if (tt_results_write(dir, &info, &s->outcome, err, sizeof err) != TT_OK)
        fprintf(stderr, "tautune: %s\n", err);
    if (pages) {
        cJSON *root = tt_results_json_no_trials(&info, &s->outcome);
        if (root)
            tt_run_report(s, dir, root);
        cJSON_Delete(root);
    }
    cJSON_Delete(facts);
    cJSON_Delete(nuisances);
    cJSON_Delete(plan);
    cJSON_Delete(iv);
    tt_run_write_preprocessing(s, dir);
}

/* --ci without --out (and no out_dir in the config): the fixed folder
 * runs/<config name>, so scripts know where the run lands. An existing
 * folder with anything in it is refused rather than mixed into. */
static int ci_out_dir(run_cli *cli, const tt_config *c)
{
    run_args *a = &cli->a;
    if (!cli->ci || a->out || a->resume || c->out_dir)
        return TT_EXIT_OK;
    snprintf(cli->ci_dir, sizeof cli->ci_dir, "runs/%s", c->name);
    DIR *d = opendir(cli->ci_dir);
    if (d) {
        struct dirent *e;
        int empty = 1;
        while (empty && (e = readdir(d)) != NULL)
            empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        closedir(d);
        if (!empty) {
            fprintf(stderr, "tautune: --ci: the run folder %s already exists and is not empty; "
                            "pass --out DIR or remove it\n", cli->ci_dir);
            return TT_EXIT_USAGE;
        }
    } else if (errno != ENOENT) {
        fprintf(stderr, "tautune: --ci: cannot use %s: %s\n", cli->ci_dir, strerror(errno));
        return TT_EXIT_USAGE;
    }
    a->out = cli->ci_dir;
    return TT_EXIT_OK;
}

/* Why there is no winner: every trial failed, or some finished without a
 * value of the objective (say why, from the first one's null reason). */
static void explain_no_trial(const run_state *s, const char *dir)
{
    size_t ok = 0;
    const tt_trial_result *first = NULL;
    for (size_t i = 0; i < s->outcome.n_trials; i++)
        if (s->outcome.trials[i].status == TT_TRIAL_OK && ok++ == 0)
            first = &s->outcome.trials[i];
    if (!first) {
        fprintf(stderr, "tautune: no trial succeeded (see %s/trials.jsonl for each error)\n",
                dir);
        return;
    }
    const char *why = "its value is not a number";
    for (size_t k = 0; k < first->n_scores; k++)
        if (!strcmp(first->scores[k].name, s->metric) && first->scores[k].is_null &&
            first->scores[k].reason && first->scores[k].reason[0])
            why = first->scores[k].reason;
    fprintf(stderr, "tautune: %zu trial%s finished, but none has a value of the objective %s "
                    "(trial %zu: %s); see %s/trials.jsonl\n", ok, ok == 1 ? "" : "s", s->metric,
            first->id, why, dir);
}

/* The winner's value of every --fail-under/--fail-over score; all misses
 * are printed. TT_EXIT_THRESHOLD when one is missed or was not computed. */
static int check_thresholds(const run_state *s, const run_cli *cli)
{
    int rc = TT_EXIT_OK;
    const tt_trial_result *best = &s->outcome.trials[s->outcome.best];
    for (size_t i = 0; i < cli->n_th; i++) {
        const run_threshold *t = &cli->th[i];
        const tt_score_value *v = tt_trial_find_score(best, t->score);
        if (!v || v->is_null || !isfinite(v->value)) {
            fprintf(stderr, "tautune: threshold missed: %s was not computed for the winner (%s)\n",
                    t->score, v && v->reason && v->reason[0] ? v->reason
                              : !v ? "not among this run's scores: check scoring.scores, "
                                     "and oracle figures need true effects"
                                   : "null");
            rc = TT_EXIT_THRESHOLD;
        } else if (t->over ? v->value > t->value : v->value < t->value) {
            fprintf(stderr, "tautune: threshold missed: %s = %.6g %s %s\n", t->score, v->value,
                    t->over ? ">" : "<", t->text);
            rc = TT_EXIT_THRESHOLD;
        }
    }
    return rc;
}

static int execute(run_state *s, run_cli *cli, double start)
{
    const run_args *a = &cli->a;
    char err[2048], dir[4096];
    int rc;
    if ((rc = tt_cli_load_config(a->config, &s->cfg)))
        return rc;
    tt_config *c = s->cfg;
    if (c->n_estimators == 0) {
        fprintf(stderr, "tautune: %s has no estimators to search (only experiment = {...}): "
                        "analyse it with `tautune abtest %s`, or add estimators = {...}\n",
                c->path, c->path);
        return TT_EXIT_USAGE;
    }
    tt_run_apply_args(c, a);
    /* Over MPI the batch width defaults to the worker ranks' slots; the
     * config's search.jobs is a local run's. */
    if (s->mpi && !a->has_jobs)
        c->jobs = tt_run_mpi_total_slots(s->mpi);
    s->quiet = a->quiet;
    s->live = !a->quiet && !cli->ci && isatty(STDERR_FILENO);
    s->resuming = a->resume != NULL;
    if ((rc = ci_out_dir(cli, c)))
        return rc;

    if ((rc = tt_run_resolve_plugins(s, a, 0)) || (rc = tt_run_load_data(s, a)) ||
        (rc = tt_run_check_data(s)) || (rc = tt_run_split(s)) ||
        (tt_run_warn_post_treatment(s), 0) || (rc = tt_run_build_scores(s)) ||
        (rc = tt_run_iv_diagnostics(s)) || (tt_run_release_all_rows(s), 0) ||
        (rc = tt_run_make_plan(s, start)) || (rc = tt_run_open_folder(s, a, dir, sizeof dir)))
        return rc;
    /* From here on finished work exists or is being made: signals are
     * polled (within 0.1 s) so it is written before exit 130. */
    g_exit_at_once = 0;
    double t_phase = tt_now();
    rc = tt_run_fit_nuisances(s, dir, &g_stop, s->plan.search_deadline);
    if (rc == TT_EXIT_OK && !g_stop) /* K folds: the other folds' nuisance models */
        rc = tt_run_fit_fold_nuisances(s, dir, &g_stop, s->plan.search_deadline);
    s->plan.t_nuisance = tt_now() - t_phase;
    if (rc == TT_EXIT_INTERRUPTED || g_stop) {
        fprintf(stderr, "tautune: interrupted in the nuisance stage; %s holds the run so far "
                        "(continue with --resume %s)\n", dir, dir);
        s->outcome.interrupted = 1;
        report(s, dir, start, NULL, 0);
        return TT_EXIT_INTERRUPTED;
    }
    if (rc) {
        report(s, dir, start, NULL, 0); /* results.json says what the run got to */
        return rc;
    }

    char rows_text[128];
    if (s->n_folds >= 2)
        snprintf(rows_text, sizeof rows_text, "%d-fold cross-validated scoring", s->n_folds);
    else
        snprintf(rows_text, sizeof rows_text, "%zu train, %zu validation", s->train->n,
                 s->valid->n);
    char arms_text[160];
    if (tt_dataset_continuous(s->data))
        snprintf(arms_text, sizeof arms_text, "continuous treatment '%s'", s->data->t_name);
    else
        snprintf(arms_text, sizeof arms_text, "%d arms", s->data->n_arms);
    if (!a->quiet)
        fprintf(stderr, "tautune: %s: %zu rows (%s), %s, %zu estimators, "
                        "%s %s, budget %s%.0fs%s, %d job%s, seed %llu\n",
                s->data->source, s->data->n, rows_text, arms_text,
                c->n_estimators, c->searcher, s->metric, c->budget_seconds > 0 ? "" : "none ",
                c->budget_seconds, c->max_trials > 0 ? " / trial cap" : "",
                c->jobs > 0 ? c->jobs : 1, c->jobs > 1 ? "s" : "", (unsigned long long)c->seed);

    tt_trial_problem problem;
    tt_trial_fold *folds = NULL;
    if ((rc = tt_run_trial_problem(s, &problem, &folds)))
        return rc;
    tt_search_options opt;
    search_options(s, start, &opt);
    /* Over MPI: the worker ranks get the set-up and become the trial pool. */
    if (s->mpi && (rc = tt_run_mpi_share(s->mpi, s, dir, &opt, &g_stop))) {
        free(folds);
        s->outcome.interrupted = rc == TT_EXIT_INTERRUPTED;
        report(s, dir, start, NULL, 0);
        return rc;
    }
    tt_progress_init(&s->progress, stderr, a->quiet, start, c->budget_seconds, c->max_trials,
                     s->metric);
    if (cli->ci)
        tt_progress_plain(&s->progress);
    s->progress.verbose = cli->verbose;
    s->progress.maximize = s->maximize;
    tt_progress_seed(&s->progress, s->prior, s->n_prior);
    t_phase = tt_now();
    if (tt_search_run(&problem, c, s->descs, &opt, on_trial, s, &s->outcome, err, sizeof err) !=
        TT_OK) {
        fprintf(stderr, "tautune: search: %s\n", err);
        rc = TT_EXIT_ERROR; /* still write what finished */
    }
    free(folds);
    tt_run_mpi_search_over(s->mpi);
    tt_search_select(&s->outcome, (tt_selection)c->selection, tt_run_refit_affordable, s);
    const char *dump = getenv("TAUTUNE_DUMP_KEPT"); /* benchmarks only (search/rank.h) */
    if (dump && *dump &&
        tt_rank_dump_kept(s->outcome.trials, s->outcome.n_trials, s->outcome.best_by_objective,
                          dump) != 0)
        fprintf(stderr, "tautune: warning: TAUTUNE_DUMP_KEPT=%s: %s\n", dump, strerror(errno));
    if (s->outcome.best >= 0 && !s->outcome.interrupted)
        tt_run_ensemble(s);
    /* The per-row score terms served the ranking (rank.h) and the ensemble:
     * nothing reads them again (the kept effects stay, for the report's
     * comparisons). At 300,000 validation rows 2.4 MB a kept trial. */
    for (size_t i = 0; i < s->outcome.n_trials; i++) {
        free(s->outcome.trials[i].terms);
        s->outcome.trials[i].terms = NULL;
        s->outcome.trials[i].n_terms = 0;
    }
    tt_progress_end(&s->progress);
    s->plan.t_search = tt_now() - t_phase;
    /* Finished trials go to disk first: refitting the winner must never put
     * them at risk. */
    report(s, dir, start, NULL, 0);
    cJSON *winner = NULL;
    t_phase = tt_now();
    int refit_rc = TT_EXIT_OK; /* the refit runs in an isolated child, by the plan's deadline */
    if (rc == TT_EXIT_OK && s->outcome.best >= 0 && !s->outcome.interrupted && !g_stop) {
        const tt_trial_result *b = &s->outcome.trials[s->outcome.best];
        if (!a->quiet)
            fprintf(stderr, "tautune: refitting the winner (%s, trial %zu; ~%.1fs) ...\n",
                    b->desc->name, b->id, tt_run_refit_estimate(s, b));
        tt_run_refit_resamples(s, b, tt_now());
        /* The best trial is handed on first, so the run has a model
         * whatever happens next; when the ensemble's honest score beats
         * it, the ensemble replaces it if its members' refits work in the
         * time left (the best trial gets a share of the time first). */
        double dl = s->plan.refit_deadline, now = tt_now();
        int ens = s->ensemble.wins;
        double single_by = dl;
        if (ens && dl > 0) {
            /* Its share, but never less than twice what its final fit needs
             * at least: a starved refit would hand on the training-rows
             * model instead. */
            double least = 2.0 * (tt_run_refit_minimum(s, b) +
                                  (c->final_fit_train ? 0.0 : s->nu_final_estimate));
            single_by = fmin(dl, now + fmax(ENSEMBLE_SINGLE_SHARE * (dl - now), least));
        }
        refit_rc = tt_run_winner(s, dir, single_by, &g_stop, &winner);
        if (ens && refit_rc != TT_EXIT_INTERRUPTED && !g_stop) {
            if (!a->quiet)
                fprintf(stderr, "tautune: an ensemble of %zu trials beats the best trial "
                                "(honest %s); refitting its members ...\n",
                        s->ensemble.n_members, s->metric);
            cJSON *members = NULL;
            int erc = tt_run_ensemble_winner(s, dir, dl, &g_stop, &members);
            if (erc == TT_EXIT_OK) {
                cJSON_Delete(winner);
                winner = members;
            } else if (erc == TT_EXIT_INTERRUPTED) {
                refit_rc = erc;
            }
        }
    }
    /* The headline average over the rows the user asked for, from the
     * nuisance models of every row (or, without them, the training rows'). */
    /* The refit's messages, the estimand's and insight's per-row work are
     * tens of MB at a million rows, freed in the heap's middle: back to the
     * system after each, so the next does not stack on them. */
    tt_mem_give_back();
    if (!g_stop && s->engine)
        tt_run_estimand(s);
    tt_mem_give_back();
    if (!g_stop)
        tt_run_insight(s, dir);
    tt_mem_give_back();
    if (g_stop)
        s->outcome.interrupted = 1; /* stopped in the refit: say so in results.json */
    s->plan.t_refit = tt_now() - t_phase;
    t_phase = tt_now();
    report(s, dir, start, winner, 1);
    s->plan.t_report = tt_now() - t_phase;
    report(s, dir, start, winner, 0); /* results.json with the report's time and the end */
    cJSON_Delete(winner);
    tt_cli_print_leaderboard(&s->outcome, s->descs, c->n_estimators, s->metric, s->maximize,
                             s->valid->n, s->valid->tau != NULL);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s->ensemble.facts, "chosen")))
        printf("Handed on: an ensemble of %zu trials (results.json: ensemble)\n",
               s->ensemble.n_members);
    if (!a->quiet)
        printf("Time: setup %.1fs, nuisance models %.1fs, search %.1fs, refit %.1fs, report "
               "%.1fs; peak memory %.0f MB in the main process, %.0f MB in the largest "
               "worker (results.json: plan.phases)\n",
               s->plan.setup, s->plan.t_nuisance, s->plan.t_search, s->plan.t_refit,
               s->plan.t_report, tt_peak_rss_mb(), tt_peak_child_rss_mb());
    printf("Run folder: %s\n", dir);
    if (rc)
        return rc;
    if (s->outcome.interrupted) {
        fprintf(stderr, "tautune: interrupted; %zu finished trials are in %s (continue with "
                        "--resume %s)\n", s->outcome.n_trials, dir, dir);
        return TT_EXIT_INTERRUPTED;
    }
    if (s->outcome.best < 0) {
        explain_no_trial(s, dir);
        return TT_EXIT_NO_TRIAL;
    }
    int th = check_thresholds(s, cli);
    return refit_rc ? refit_rc : th;
}

int tt_cmd_run(int argc, char **argv)
{
    double start = tt_now();
    run_cli cli;
    if (tt_run_parse_args(argc, argv, &cli) != 0) {
        fprintf(stderr, "Run `tautune run --help` for the options.\n");
        return TT_EXIT_USAGE;
    }
    run_mpi *mpi = NULL;
    if (tt_run_mpi_begin(&cli.a, &mpi) < 0)
        return TT_EXIT_USAGE;
    if (mpi && mpi->rank > 0) /* a worker rank: rank 0 is the run */
        return tt_run_mpi_worker(mpi, &cli);
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
    s.mpi = mpi;
    int rc = execute(&s, &cli, start);
    tt_run_state_free(&s);
    return tt_run_mpi_end(mpi, rc, cli.a.quiet);
}
