/*
 * registry.h - loading, validating and keeping estimator plugins.
 *
 * tt_registry_load_file() dlopens one shared object, calls its entry symbol,
 * validates the descriptor (every rejection listed in include/tautune/plugin.h)
 * and registers it; on any rejection the library is closed again, the
 * registry's plugins are left exactly as they were, err names the file and
 * the reason, and the refusal is added to the registry's reject list.
 * tt_registry_load_dir() loads every "*.so" in a folder in name order.
 *
 * The registry also keeps the files it refused (tt_registry_add_reject), so
 * that a command can tell "no such plugin" from "its file was refused, and
 * why" when a config asks for it.
 *
 * Ownership: the registry owns the dlopen handles and closes them in
 * tt_registry_free(); descriptors stay valid until then. Reject records are
 * the registry's too. Not thread-safe.
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

/* A file on the plugin path that was refused. */
typedef struct tt_plugin_reject {
    char *path;  /* the file, as it was found */
    char *why;   /* the reason, without the path ("bad magic ...") */
} tt_plugin_reject;

tt_registry *tt_registry_new(void); /* NULL on out of memory */
void tt_registry_free(tt_registry *reg); /* NULL is a no-op */

tt_status tt_registry_load_file(tt_registry *reg, const char *path, char *err, size_t errlen);

/* Load every *.so in dir (sorted by file name). Each rejected file is
 * recorded like any refusal of tt_registry_load_file, reported through
 * on_reject(ctx, message) (may be NULL) with that message, and skipped; the
 * others load.
 * Returns TT_ERR_IO only if the folder cannot be read. *n_loaded (may be NULL)
 * gets the number registered. */
tt_status tt_registry_load_dir(tt_registry *reg, const char *dir,
                               void (*on_reject)(void *ctx, const char *message), void *ctx,
                               size_t *n_loaded, char *err, size_t errlen);

/* The plugin candidates of a folder: "dir/name" for every regular file named
 * *.so, sorted by name. *paths is the caller's (tt_free_strings(*paths, *n)).
 * TT_ERR_IO when the folder cannot be read, TT_ERR_NOMEM. */
tt_status tt_plugin_dir_list(const char *dir, char ***paths, size_t *n, char *err,
                             size_t errlen);

/* The steps of tt_registry_load_file one by one, for a caller that must know
 * which step a plugin died in (plugin/probe.c). Each writes only the reason
 * into why ("cannot load: ...", no path).
 * tt_plugin_open: stat and dlopen (the plugin's constructors run here);
 *   *handle is the caller's to dlclose; TT_ERR_IO for a missing file.
 * tt_plugin_call_entry: find and call the entry symbol; *desc is what it
 *   returned, not yet validated (tt_plugin_validate). */
tt_status tt_plugin_open(const char *path, void **handle, char *why, size_t len);
tt_status tt_plugin_call_entry(void *handle, const tt_plugin_descriptor **desc, char *why,
                               size_t len);

/* Record a refused file (copies both strings). TT_ERR_NOMEM, TT_ERR_INVALID. */
tt_status tt_registry_add_reject(tt_registry *reg, const char *path, const char *why);
size_t tt_registry_reject_count(const tt_registry *reg);
const tt_plugin_reject *tt_registry_reject_at(const tt_registry *reg, size_t i); /* found order */
/* The first refused file that would have provided plugin name: a file named
 * "<name>.so" (a refused file has no name we can trust but its file name).
 * NULL when there is none. */
const tt_plugin_reject *tt_registry_find_reject(const tt_registry *reg, const char *name);

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
