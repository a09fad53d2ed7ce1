/*
 * trials_read.h - reading a run's trials.jsonl back, to resume the run.
 *
 * Each line becomes a finished tt_trial_result again: its estimator matched
 * by name against the config, its params turned back into a point of that
 * plugin's schema, its status, scores and timings restored. A last line cut
 * short by a crash (no newline, not JSON) is dropped and described in the
 * tail; a bad line anywhere else, an estimator the config no longer lists,
 * or a parameter the plugin no longer has is an error naming the file and
 * line, because resuming with a different search would silently mix two
 * runs. tt_trials_reopen then makes the file well formed for appending.
 */
#ifndef TT_REPORT_TRIALS_READ_H
#define TT_REPORT_TRIALS_READ_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "lua/config.h"
#include "search/trial.h"

/* The end of a trials.jsonl as read: where appending must start. */
typedef struct tt_trials_tail {
    long long keep_bytes; /* bytes of the lines kept: the whole file unless a
                           * torn last line follows */
    size_t torn_line;     /* 1-based number of the dropped torn last line, 0: none */
    size_t torn_bytes;    /* its length */
    int unterminated;     /* the last kept line is a whole record without '\n' */
} tt_trials_tail;

/* On success *trials (n of them, caller frees each with tt_trial_result_clear
 * and the array with free) in file order, and *tail. A missing file is
 * TT_ERR_IO, a damaged line other than a torn last one TT_ERR_PARSE. */
tt_status tt_trials_read(const char *path, const tt_config *config,
                         const tt_plugin_descriptor *const *descs, tt_trial_result **trials,
                         size_t *n, tt_trials_tail *tail, char *err, size_t errlen);

/* One trial object of trials.jsonl or results.json as a record. Its
 * estimator is matched by name against descs[0..n_descs) (a config's
 * estimators' plugins: r->estimator is that index). TT_ERR_DATA with the
 * reason in why when it does not fit them; r is then the caller's to clear
 * (it may own part of the record). */
tt_status tt_trial_from_json(const cJSON *o, const tt_plugin_descriptor *const *descs,
                             size_t n_descs, tt_trial_result *r, char *why, size_t whylen);

/* Open path (read by tt_trials_read with this tail) for appending, after
 * cutting off the torn last line, or after ending an unterminated last
 * record with its newline, so the next record starts on a line of its own.
 * A file whose size is no longer what was read is TT_ERR_IO (not cut). *out
 * is the caller's (fclose). */
tt_status tt_trials_reopen(const char *path, const tt_trials_tail *tail, FILE **out, char *err,
                           size_t errlen);

#endif
