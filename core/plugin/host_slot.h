/*
 * host_slot.h - the host table's learner_from_slot (ABI 1.10): the learner
 * a TT_SLOT_PARAMS block (tautune/slot.h) chose, with its settings mapped to
 * learner_create's keys. Internal to core/plugin (host.c puts it in the table).
 */
#ifndef TT_PLUGIN_HOST_SLOT_H
#define TT_PLUGIN_HOST_SLOT_H

#include "tautune/plugin.h"

int tt_host_learner_from_slot(void *host_ctx, const double *slot, int classify,
                              tt_learner **out, char *err, size_t errlen);

#endif
