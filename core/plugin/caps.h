/*
 * caps.h - which data a plugin's capabilities let the host hand it.
 *
 * plugin.h promises that a plugin only sees data it claims to take: more
 * than two arms only with TT_PLUGIN_CAP_MULTI_ARM, a continuous treatment
 * only with TT_PLUGIN_CAP_CONTINUOUS_TREATMENT, and a plugin with
 * TT_PLUGIN_CAP_IV only data with an instrument. The host keeps that promise
 * by refusing the pairing before any plugin call; `run`, `check` and
 * `plugin-test` all ask this one function, so they cannot disagree.
 */
#ifndef TT_PLUGIN_CAPS_H
#define TT_PLUGIN_CAPS_H

#include <stdint.h>

typedef enum tt_data_misfit {
    TT_MISFIT_NONE = 0,
    TT_MISFIT_CONTINUOUS,    /* a continuous treatment; the plugin takes arms only */
    TT_MISFIT_ARMS,          /* more than two arms; the plugin handles two */
    TT_MISFIT_NO_INSTRUMENT  /* an IV plugin; the data have no instrument */
} tt_data_misfit;

/* The first reason (in the order above) the host must not run a plugin with
 * capabilities caps on data with n_arms arms, an instrument or not, and a
 * continuous treatment or not; TT_MISFIT_NONE when it may. */
tt_data_misfit tt_plugin_data_misfit(uint32_t caps, int n_arms, int has_instrument,
                                     int continuous);

/* A few words for messages: "takes arms, not a continuous treatment",
 * "handles two arms only", "needs an instrument (data.z)"; "" for NONE. */
const char *tt_data_misfit_text(tt_data_misfit m);

#endif
