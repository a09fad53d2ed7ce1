/*
 * cli.h - pieces shared by the `tautune` subcommands.
 */
#ifndef TT_CLI_CLI_H
#define TT_CLI_CLI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "data/csv.h"
#include "data/frame.h"
#include "data/prep.h"
#include "lua/config.h"
#include "plugin/registry.h"
#include "search/search.h"

/* Exit codes of the `tautune` command (documented in README.md). */
enum {
    TT_EXIT_OK = 0,
    TT_EXIT_ERROR = 1,       /* I/O or internal error; predict, assign: a damaged
                              * model file, or one of a newer format */
    TT_EXIT_USAGE = 2,       /* bad command line or config */
    TT_EXIT_DATA = 3,        /* the data cannot be used */
    TT_EXIT_PLUGIN = 4,      /* a configured estimator is missing or unusable */
    TT_EXIT_NO_TRIAL = 5,    /* the search finished without one successful trial */
    TT_EXIT_THRESHOLD = 6,   /* run --fail-under/--fail-over: the winner missed a threshold */
    TT_EXIT_REFIT = 7,       /* a plugin failed or crashed after the search: run: the winner's
                              * refit (a fallback may have been written); predict: load/effect */
    TT_EXIT_INTERRUPTED = 130 /* Ctrl-C / SIGTERM; finished work was written */
};

/* Plugin folders, searched in this order: the folders a model recorded
 * (model_dirs: predict and assign, see apply_model.h), every --plugin-path
 * given (each may be a colon-separated list), then TAUTUNE_PLUGIN_PATH, then
 * the built-in folder next to the binary. A folder met again (the same
 * folder by another name included) is searched once, where it first came.
 * A plugin name seen twice keeps the first one (so users can override a
 * built-in) and the later file is reported. */
typedef struct tt_plugin_paths {
    const char *dirs[64];
    size_t n;
    const char *model_dirs[64]; /* one folder each (a ':' in one is part of its name) */
    size_t n_model_dirs;
} tt_plugin_paths;

/* Fill a registry from the paths (plugins_load.c). Each candidate file is
 * first probed in a child process (plugin/probe.h; verdicts cached under
 * $XDG_CACHE_HOME/tautune, TAUTUNE_PROBE_CACHE=0 turns that off); a file that
 * fails, crashes, aborts or hangs there is recorded as a reject of the
 * registry and never dlopened by this process. Rejects are not printed:
 * the command decides (tt_cli_warn_rejects, or an error when a config needs
 * that plugin). A folder that cannot be read is a warning when verbose.
 * Returns NULL on out of memory. The caller frees the registry. */
tt_registry *tt_cli_load_plugins(const tt_plugin_paths *paths, int verbose);

/* One plugin file loaded the same way (probed in a child, then dlopened
 * here only if it passed): a registry holding its plugin, or holding one
 * reject with the reason. NULL on out of memory. */
tt_registry *tt_cli_load_plugin_file(const char *path);

/* "tautune: warning: <path>: rejected: <why>" on stderr for every reject of
 * reg whose flag in reported (indexed like tt_registry_reject_at; may be
 * NULL) is 0. */
void tt_cli_warn_rejects(const tt_registry *reg, const unsigned char *reported);

int tt_cmd_run(int argc, char **argv);
int tt_cmd_plugins(int argc, char **argv);
int tt_cmd_gen(int argc, char **argv);
int tt_cmd_score(int argc, char **argv);
int tt_cmd_predict(int argc, char **argv);
int tt_cmd_check(int argc, char **argv);
int tt_cmd_explain(int argc, char **argv);
int tt_cmd_policy(int argc, char **argv);
int tt_cmd_power(int argc, char **argv);
int tt_cmd_abtest(int argc, char **argv);
int tt_cmd_assign(int argc, char **argv);
int tt_cmd_plugin_test(int argc, char **argv);

/* Reads the config at path with the shipped prelude (config_load.c). On
 * failure prints the message and returns TT_EXIT_USAGE, or
 * TT_EXIT_INTERRUPTED when Ctrl-C or SIGTERM stopped the evaluation; *out
 * is then NULL. */
int tt_cli_load_config(const char *path, tt_config **out);

/* runs/<name>-<UTC time>, with -2, -3 ... when that folder exists
 * (out_dir.c); only the name, the folder is not made. */
void tt_cli_default_dir(const char *name, char *dir, size_t len);

/* The JSON file at path parsed into *out (the caller's, cJSON_Delete; NULL
 * on failure) (cmd_explain.c): 0, the errno of a failed open or read (ENOMEM:
 * out of memory), or -1 when the text is not JSON. */
int tt_cli_read_json(const char *path, cJSON **out);

/* dir/results.json parsed (cmd_explain.c), or NULL with a message naming the
 * command on stderr. */
cJSON *tt_cli_read_results(const char *dir, const char *cmd);

/* The data path of `tautune run` (run_data.c). Reads cfg's data.path, or its
 * list of files stacked into one table. */
tt_status tt_cli_read_tables(const tt_config *cfg, const tt_csv_options *opt, tt_csv_table **out,
                             char *err, size_t errlen);
/* Print the best trial of every estimator, best first, on stdout. */
void tt_cli_print_leaderboard(const tt_search_outcome *out, const tt_plugin_descriptor *const *descs,
                              size_t n_est, const char *metric, int maximize, size_t n_valid,
                              int truth);

/* "did you mean" helper: the registered name closest to name, or NULL. */
const char *tt_cli_closest_plugin(const tt_registry *reg, const char *name);

#endif
