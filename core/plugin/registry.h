/*
 * registry.h - loading, validating and keeping estimator plugins.
 *
 * tt_registry_load_file() dlopens one shared object, calls its entry symbol,
 * validates the descriptor (every rejection listed in include/tautune/plugin.h)
 * and registers it; on any rejection the library is closed again, the
 * registry is left exactly as it was and err names the file and the reason.
 * tt_registry_load_dir() loads every "*.so" in a folder in name order.
 *
 * Ownership: the registry owns the dlopen handles and closes them in
 * tt_registry_free(); descriptors stay valid until then.
 */
#ifndef TT_PLUGIN_REGISTRY_H
#define TT_PLUGIN_REGISTRY_H

#include <stddef.h>

#include "tautune/plugin.h"

typedef struct tt_registry tt_registry;

typedef struct tt_plugin_entry {
    const tt_plugin_descriptor *desc;
    char *path;  /* file it came from */
} tt_plugin_entry;

tt_registry *tt_registry_new(void); /* NULL on out of memory */
void tt_registry_free(tt_registry *reg); /* NULL is a no-op */

tt_status tt_registry_load_file(tt_registry *reg, const char *path, char *err, size_t errlen);

/* Load every *.so in dir (sorted by file name). Each rejected file is reported
 * through on_reject(ctx, message) (may be NULL) and skipped; the others load.
 * Returns TT_ERR_IO only if the folder cannot be read. *n_loaded (may be NULL)
 * gets the number registered. */
tt_status tt_registry_load_dir(tt_registry *reg, const char *dir,
                               void (*on_reject)(void *ctx, const char *message), void *ctx,
                               size_t *n_loaded, char *err, size_t errlen);

/* Validate a descriptor without registering it (used by the loader and by
 * tests). Checks everything except duplicates and the file. */
tt_status tt_plugin_validate(const tt_plugin_descriptor *desc, char *err, size_t errlen);

size_t tt_registry_count(const tt_registry *reg);
const tt_plugin_entry *tt_registry_at(const tt_registry *reg, size_t i); /* sorted by name */
const tt_plugin_entry *tt_registry_find(const tt_registry *reg, const char *name);

/* ABI 1.2 fields, NULL when the descriptor predates them or leaves them out. */
const char *tt_plugin_interval_method(const tt_plugin_descriptor *desc);
typedef int (*tt_plugin_average_fn)(void *instance, const tt_plugin_data *rows, double alpha,
                                    double *ate, double *lo, double *hi, char *err,
                                    size_t errlen);
tt_plugin_average_fn tt_plugin_average_effect(const tt_plugin_descriptor *desc);
/* How the average effect's interval is made: average_method (ABI 1.3) when
 * given, else interval_method, else NULL. */
const char *tt_plugin_average_method(const tt_plugin_descriptor *desc);

/* ABI 1.4: the out-of-bag average effect over the training rows of the last
 * fit and how it is made; NULL when the descriptor predates them (abi_minor
 * < 4 or a struct_size that does not cover them) or leaves them out. */
typedef int (*tt_plugin_average_oob_fn)(void *instance, double alpha, double *ate, double *lo,
                                        double *hi, double *se, char *err, size_t errlen);
tt_plugin_average_oob_fn tt_plugin_average_effect_oob(const tt_plugin_descriptor *desc);

/* The plugin's own variable importance (ABI 1.9) and how it is made, or
 * NULL for a plugin without one or built against an older ABI. */
typedef int (*tt_plugin_importance_fn)(void *instance, double *out, size_t p, char *err,
                                       size_t errlen);
tt_plugin_importance_fn tt_plugin_variable_importance(const tt_plugin_descriptor *desc);
const char *tt_plugin_variable_importance_method(const tt_plugin_descriptor *desc);
const char *tt_plugin_average_oob_method(const tt_plugin_descriptor *desc);

/* Text names for messages and listings. */
const char *tt_param_kind_name(tt_param_kind kind);        /* "int", "real", "log-real", "bool", "choice" */
void tt_capabilities_text(uint32_t caps, char *buf, size_t len); /* "multi-arm,intervals" or "-" */

#endif
