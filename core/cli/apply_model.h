/*
 * apply_model.h - a run's saved model (model/model.h) applied to new rows:
 * the part `tautune predict` and `tautune assign` share, so both commands
 * see the same effects for the same rows from one implementation.
 *
 * Internal to cli/. Every function prints its own failure on stderr as
 * "tautune CMD: ..." (CMD: the command word the caller passes) and returns
 * an exit code of cli.h (TT_EXIT_OK on success).
 */
#ifndef TT_CLI_APPLY_MODEL_H
#define TT_CLI_APPLY_MODEL_H

#include <stddef.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "model/model.h"

/* A model with its plugins resolved and the new rows' features. Every
 * pointer is owned (tt_cli_apply_close); fields a failed open did not reach
 * are NULL. */
typedef struct tt_cli_applied {
    tt_model *m;
    tt_registry *reg;
    const tt_plugin_descriptor **d; /* m->n_members, each from reg */
    tt_csv_table *table;            /* the new rows as read */
    tt_dataset *ds;                 /* their features (x, w and names) */
} tt_cli_applied;

/* Read the model at model_path (one that cannot be opened is TT_EXIT_DATA;
 * a damaged one, another kind of file, or one of a newer format,
 * TT_EXIT_ERROR; one of an old
 * format without checksum is read with a warning), find each member's
 * plugin on paths (a missing plugin or one without load is TT_EXIT_PLUGIN;
 * another version
 * than the one that saved it is a warning), read data_path and put its rows
 * through the model's preprocessing (TT_EXIT_DATA naming the file, line and
 * column of a bad cell). The checks and messages run in that order. On
 * failure *ap holds what was made so far: close it all the same. */
int tt_cli_apply_open(const char *cmd, const char *model_path, const char *data_path,
                      const tt_plugin_paths *paths, tt_cli_applied *ap);

/* Free everything in ap and zero it. */
void tt_cli_apply_close(tt_cli_applied *ap);

/* The rows as the plugins see them (a view into ap->ds). */
tt_plugin_data tt_cli_apply_rows(const tt_cli_applied *ap);

/* The model's effects on the rows: tau (n x (K-1) column-major, the
 * caller's, n x (K-1) + 1 values) and, when intervals is set and every
 * member gives them, (1 - alpha) intervals in *lo, *hi (the caller's
 * buffers of the same size; freed and set to NULL when there are none).
 * Each member runs in its own child process (search/isolate.h); an
 * ensemble's effects are the weighted sum of its members', its bounds the
 * weighted averages of theirs. A plugin that fails or crashes is
 * TT_EXIT_REFIT, naming it and the step. */
int tt_cli_apply_effects(const char *cmd, const tt_cli_applied *ap, double alpha, int intervals,
                         double *tau, double **lo, double **hi);

/* The rows' ids as text when the model has an id column and the data have
 * it, else NULL; free with tt_cli_apply_free_ids(ids, n rows). */
char **tt_cli_apply_ids(const tt_cli_applied *ap);
void tt_cli_apply_free_ids(char **ids, size_t n);

#endif
