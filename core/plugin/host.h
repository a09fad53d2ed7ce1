/*
 * host.h - the services table the core hands to plugin instances.
 *
 * tt_host_services_init() fills a tt_plugin_host whose allocator is malloc,
 * whose logger forwards to tt_log (prefixed with the plugin name), whose
 * learners are core/learn's, and whose should_stop reads *stop_flag (may be
 * NULL = never stop). The table and ctx must outlive every instance created
 * with it. tt_host_services_init() also stores the seed in ctx, because the
 * learner_create callback only gets host_ctx and derives learner seeds from it.
 */
#ifndef TT_PLUGIN_HOST_H
#define TT_PLUGIN_HOST_H

#include <signal.h>
#include <stdint.h>

#include "tautune/plugin.h"

typedef struct tt_host_ctx {
    const char *plugin_name;        /* for log prefixes */
    volatile sig_atomic_t *stop_flag;
    double deadline;                /* tt_now() value after which should_stop is true; 0 = none */
    uint64_t seed;                  /* set by tt_host_services_init */
} tt_host_ctx;

void tt_host_services_init(tt_plugin_host *host, tt_host_ctx *ctx, uint64_t seed);

#endif
