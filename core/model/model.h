/*
 * model.h - a fitted winner as one file that `tautune predict` applies to new
 * rows: everything between a CSV row and tau_hat.
 *
 * A model has one or more members (trials: a plugin with its hyperparameters,
 * seed and saved state, and a weight) and the parts they share (arms, id
 * column, features, preprocessing, nuisance models). Its effects are the
 * weighted sum of its members' effects; a model of one trial is a model with
 * one member of weight 1.
 *
 * Format 4, the one written (text, C locale, numbers as %.17g so they read
 * back exactly, strings length-prefixed), in order:
 *   "tautune-model 4", then "members K" (K >= 1);
 *   per member its plugin name and version, the plugin's file name
 *     ("plugin_file", its basename as found on the plugin path) and the
 *     absolute folder it was loaded from ("plugin_dir"), each "-" when not
 *     known, its seed, its hyperparameter point, and "weight W" (W > 0; the
 *     K weights sum to 1; K = 1: 1);
 *   the arms (count and labels); "treatment_kind continuous" for a
 *     continuous treatment (then absent for arms); the id column's name, the
 *     feature names;
 *   the preprocessing fitted on the training rows (data/prep.h), or none
 *     when the run's data came from a generator (features are then read
 *     by name, as numbers);
 *   the run's nuisance models fitted on all training rows (propensity,
 *     outcome, per-arm outcomes), each present only if the run had it, so a
 *     plugin that consults them at prediction time (the X-learner's
 *     propensity blend) gets the same answers as in the run;
 *   K saved states, in member order, each the plugin's save callback's
 *     bytes, length-prefixed, so a plugin's reader can never run past them;
 *   "end";
 *   "crc32 XXXXXXXX": the CRC-32 (util/crc32.h) of every byte before this
 *     line, 8 lowercase hex digits, then a newline; nothing follows.
 * Format 3 is format 4 without the plugin_file and plugin_dir lines (what
 * tautune wrote before it recorded where a plugin came from); formats 1
 * (one member, "tautune-model 1" and no "members" or "weight" lines) and 2
 * (K >= 2 members, "tautune-model 2") are format 3 without the checksum
 * line. All are still read, so saved models keep working: formats 1 to 3
 * with plugin_file and plugin_dir NULL, formats 1 and 2 with
 * tt_model.unverified set for the caller to warn that damage cannot be
 * told. Tautunes before format 4 refuse it as a newer version (their
 * reader would take the new lines for damage), as those before format 3
 * refuse format 3. The checksum came with a new version number, not as a
 * last line older readers would skip, so that a format-3 or 4 file cut just
 * before its checksum line cannot pass for an older, unchecked one.
 *
 * The reader checks the checksum before it interprets anything, so a damaged
 * file (a flipped bit anywhere, the version included) is refused as
 * "damaged model file", never read into different effects. A format version
 * above 4 is refused as "written by a newer tautune". The file is written to
 * a temporary name and renamed, so a crash never leaves half a model under
 * the real name.
 *
 * Ownership: tt_model_write borrows everything (the members array included,
 * so a caller can point it at an array of its own); tt_model_read returns a
 * tt_model that owns every pointer in it (tt_model_free).
 */
#ifndef TT_MODEL_MODEL_H
#define TT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data/prep.h"
#include "learn/learner.h"

/* Sanity cap on a model's members (an ensemble has at most its greedy
 * steps, 50 by default). */
#define TT_MODEL_MAX_MEMBERS 10000

/* One trial of a model. */
typedef struct tt_model_member {
    char *plugin, *plugin_version;
    /* Where the plugin was loaded from when the model was made: its file's
     * basename and the absolute folder (`tautune predict` looks there
     * first); NULL when not known (formats 1 to 3). */
    char *plugin_file, *plugin_dir;
    size_t n_params;
    double *params;          /* the schema's values (CHOICE: the index) */
    uint64_t seed;           /* the seed the instance was created with */
    unsigned char *state;    /* the plugin's saved bytes */
    size_t state_len;
    /* Writing only (borrowed; NULL when read): with state NULL, the file
     * that holds the state_len bytes, copied into the model in chunks so a
     * writer of hundreds of MB of state never holds them at once. */
    const char *state_file;
    double weight;           /* > 0, the members' sum 1; a lone member's is
                              * taken as 1 when writing */
} tt_model_member;

typedef struct tt_model {
    size_t n_members;        /* >= 1 */
    tt_model_member *members;
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
    /* A continuous treatment (dataset.h): effects per unit of T, the arms
     * are its strata, and propensity holds E[T | x, w] (prop_width 1). */
    int continuous;
    /* Set by tt_model_read for a file of format 1 or 2: no checksum, so
     * damage could not be ruled out. The writer ignores it. */
    int unverified;
} tt_model;

/* Write m to path (atomically) in format 4, with its checksum. No members,
 * a member without a plugin name, or (K >= 2) a weight
 * that is not positive and finite or weights not summing to 1 (within 1e-9)
 * are TT_ERR_INVALID; errors name the file. */
tt_status tt_model_write(const char *path, const tt_model *m, char *err, size_t errlen);

/* Read a model file of format 1 to 4 (a pipe is read into memory
 * first); on failure *out is NULL and err names the file and what is wrong:
 * TT_ERR_IO when it cannot be opened or read; TT_ERR_PARSE with "damaged
 * model file" when the checksum does not match or the contents do not fit
 * the format (counts larger than the file could hold are errors, never
 * allocations); TT_ERR_UNSUPPORTED with "written by a newer tautune" for a
 * newer format. A file of another kind is "damaged model file (or not a
 * model at all: ...)" (TT_ERR_PARSE). A format-1 model has one member of
 * weight 1. */
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
