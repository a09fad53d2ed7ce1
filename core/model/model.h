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
 * Format 1, a model of one member (text, C locale, numbers as %.17g so they
 * read back exactly, strings length-prefixed), in order:
 *   "tautune-model 1"
 *   the member's plugin name and version, its seed, its hyperparameter point;
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
 *   the plugin's own saved state (its save callback's bytes, length-prefixed,
 *     so a plugin's reader can never run past them);
 *   "end".
 * Format 2, a model of K >= 2 members (an ensemble), is format 1 with:
 *   "tautune-model 2", then "members K";
 *   K member headers where format 1 has one, each followed by "weight W"
 *     (W > 0; the K weights sum to 1);
 *   the shared parts as in format 1;
 *   K saved states, in member order, each as format 1's state;
 *   "end".
 * A one-member model is always written as format 1 (byte for byte what
 * tautune wrote before ensembles), so older tautunes read every
 * single-trial model; the reader accepts both formats and refuses newer
 * ones. The file is written to a temporary name and renamed, so a crash
 * never leaves half a model under the real name.
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
    size_t n_params;
    double *params;          /* the schema's values (CHOICE: the index) */
    uint64_t seed;           /* the seed the instance was created with */
    unsigned char *state;    /* the plugin's saved bytes */
    size_t state_len;
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
} tt_model;

/* Write m to path (atomically): format 1 with one member, format 2 with
 * more. No members, a member without a plugin name, or (K >= 2) a weight
 * that is not positive and finite or weights not summing to 1 (within 1e-9)
 * are TT_ERR_INVALID; errors name the file. */
tt_status tt_model_write(const char *path, const tt_model *m, char *err, size_t errlen);

/* Read a model file of format 1 or 2; on failure *out is NULL and err names
 * the file and what is wrong (not a model, a newer format, truncated or
 * corrupt: counts larger than the file could hold are errors, never
 * allocations). A format-1 model has one member of weight 1. */
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
