/*
 * pu_final_model.h - the instance of a plugin whose whole fitted state is one
 * final stage (pu_final.h): dr and its variants, ra_learner. Such plugins
 * differ only in how they make the pseudo-outcomes their final stage
 * regresses; creating the instance, checking rows, effects, intervals, the
 * average effect, saving, loading and destroying are the same callbacks,
 * written once here.
 *
 * Saved form: the plugin's header "<name> <save_version>", "arms K",
 * "p_x P" (pu_plugin.h), then pu_final's lines.
 *
 * Ownership: the instance is allocated through the host and freed with
 * pu_final_model_destroy (NULL is a no-op); it owns its final stage.
 */
#ifndef TT_PLUGINS_PU_FINAL_MODEL_H
#define TT_PLUGINS_PU_FINAL_MODEL_H

#include <stddef.h>

#include <tautune/plugin.h>

#include "pu_final.h"

#define PU_FINAL_MODEL_MAX_PARAMS 32

typedef struct pu_final_model {
    const tt_plugin_host *host;
    const char *name;          /* the plugin's name: messages, save header */
    int save_version;
    int n_arms;
    double params[PU_FINAL_MODEL_MAX_PARAMS]; /* as given to create (unused after load) */
    size_t p_x;                /* effect modifiers seen by fit */
    pu_final *final;           /* NULL until fitted */
} pu_final_model;

/* create(): checks n_arms >= 2 and params against schema (n_params of them,
 * at most PU_FINAL_MODEL_MAX_PARAMS), then allocates the unfitted instance. */
int pu_final_model_create(const tt_plugin_host *host, const char *name, int save_version,
                          const tt_plugin_param *schema, size_t n_params, const double *params,
                          int n_arms, void **instance, char *err, size_t errlen);

/* The callbacks, for the descriptor as they are (instance: a pu_final_model). */
void pu_final_model_destroy(void *instance);
int pu_final_model_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                          size_t errlen);
int pu_final_model_interval(void *instance, const tt_plugin_data *rows, double alpha,
                            double *lo, double *hi, char *err, size_t errlen);
int pu_final_model_average(void *instance, const tt_plugin_data *rows, double alpha,
                           double *ate, double *lo, double *hi, char *err, size_t errlen);
int pu_final_model_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen);

/* load(): the plugin wraps this with its own name and save version. */
int pu_final_model_load(const tt_plugin_host *host, const char *name, int save_version,
                        const tt_plugin_source *src, void **instance, char *err,
                        size_t errlen);

#endif
