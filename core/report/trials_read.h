/*
 * trials_read.h - reading a run's trials.jsonl back, to resume the run.
 *
 * Each line becomes a finished tt_trial_result again: its estimator matched
 * by name against the config, its params turned back into a point of that
 * plugin's schema, its status, scores and timings restored. A last line cut
 * short by a crash is skipped (and counted); a bad line anywhere else, an
 * estimator the config no longer lists, or a parameter the plugin no longer
 * has is an error naming the file and line, because resuming with a
 * different search would silently mix two runs.
 */
#ifndef TT_REPORT_TRIALS_READ_H
#define TT_REPORT_TRIALS_READ_H

#include <stddef.h>

#include "lua/config.h"
#include "search/trial.h"

/* On success *trials (n of them, caller frees each with tt_trial_result_clear
 * and the array with free) in file order; *n_skipped is 0 or 1. A missing
 * file is TT_ERR_IO. */
tt_status tt_trials_read(const char *path, const tt_config *config,
                         const tt_plugin_descriptor *const *descs, tt_trial_result **trials,
                         size_t *n, size_t *n_skipped, char *err, size_t errlen);

#endif
