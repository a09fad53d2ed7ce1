/*
 * model.h - a fitted winner as one file that `tautune predict` applies to new
 * rows: everything between a CSV row and tau_hat.
 *
 * Contents, in order (text, C locale, numbers as %.17g so they read back
 * exactly, strings length-prefixed):
 *   "tautune-model 1"
 *   the plugin's name and version, its hyperparameter point, the seed;
 *   the arms (count and labels), the id column's name, the feature names;
 *   the preprocessing fitted on the training rows (data/prep.h), or none
 *     when the run's data came from a generator (features are then read
 *     by name, as numbers);
 *   the run's nuisance models fitted on all training rows (propensity,
 *     outcome, per-arm outcomes), each present only if the run had it, so a
 *     plugin that consults them at prediction time (the X-learner's
 *     propensity blend) gets the same answers as in the run;
 *   the plugin's own saved state (its save callback's bytes, length-prefixed,
 *     so a plugin's reader can never run past them);
 *   "end".
 * The file is written to a temporary name and renamed, so a crash never
 * leaves half a model under the real name.
 *
 * Ownership: tt_model_write borrows everything; tt_model_read returns a
 * tt_model that owns every pointer in it (tt_model_free).
 */
#ifndef TT_MODEL_MODEL_H
#define TT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data/prep.h"
#include "learn/learner.h"

typedef struct tt_model {
    char *plugin, *plugin_version;
    size_t n_params;
    double *params;          /* the schema's values (CHOICE: the index) */
    uint64_t seed;           /* the seed the instance was created with */
    int n_arms;
    char **arm_labels;       /* n_arms */
    char *id_name;           /* or NULL */
    size_t p_x, p_w;
    char **x_names, **w_names;
    tt_prep *prep;           /* or NULL */
    /* Nuisance models, each NULL when the run had none. */
    tt_learner *propensity;  /* predicts prop_width values per row */
    size_t prop_width;
    tt_learner *outcome;
    tt_learner **arm_outcome; /* n_arms entries, or NULL */
    unsigned char *state;    /* the plugin's saved bytes */
    size_t state_len;
} tt_model;

/* Write m to path (atomically). Errors name the file. */
tt_status tt_model_write(const char *path, const tt_model *m, char *err, size_t errlen);

/* Read a model file; on failure *out is NULL and err names the file and what
 * is wrong (not a model, a newer format, truncated). */
tt_status tt_model_read(const char *path, tt_model **out, char *err, size_t errlen);

void tt_model_free(tt_model *m); /* NULL is a no-op */

/* A source over the saved plugin state (for the plugin's load callback). */
typedef struct tt_model_state_reader {
    const unsigned char *bytes;
    size_t len, pos;
} tt_model_state_reader;
tt_plugin_source tt_model_state_source(tt_model_state_reader *r);

/* A growable in-memory sink (for the plugin's save callback): the bytes are
 * in buf->bytes (malloc'd, the caller frees). */
typedef struct tt_model_state_buffer {
    unsigned char *bytes;
    size_t len, cap;
    int failed;
} tt_model_state_buffer;
tt_plugin_sink tt_model_state_sink(tt_model_state_buffer *b);

#endif
