/*
 * plugin.h - the estimator plugin ABI, version 1.
 *
 * A plugin is one shared object that exports a single function,
 * TT_PLUGIN_ENTRY_NAME ("tt_plugin_entry_v1"), returning a pointer to a static
 * tt_plugin_descriptor. The host validates the descriptor before it calls
 * anything else (see "What the host rejects" below), then creates instances,
 * fits them on training rows and asks for effects on other rows.
 *
 * Rules of the boundary
 *  - A plugin includes only <tautune/tautune.h> and <tautune/plugin.h> and links
 *    against nothing from tautune. Everything it needs from the host (memory,
 *    logging, the seed, the stop flag, the core's learners) comes through the
 *    tt_plugin_host table handed to create() and load().
 *  - Data crosses as host-owned, read-only, column-major arrays
 *    (tt_plugin_data). A plugin never frees or writes them and must not keep
 *    pointers into them after the callback returns.
 *  - Output arrays are allocated by the caller.
 *  - Every struct that crosses the boundary starts with its size and is
 *    append-only: later minor versions add fields at the end, never reorder.
 *    A reader checks struct_size before touching a field added after 1.0.
 *  - Arms are 0..K-1 with 0 the control. effect() returns n x (K-1) values,
 *    column-major: column k-1 holds tau_k(x) = effect of arm k versus arm 0.
 *  - Callbacks return 0 (TT_OK) on success or a tt_status, and on failure write
 *    a NUL-terminated message of at most errlen bytes into err.
 *  - Instances are used by one thread at a time; different instances may be
 *    used from different threads or processes.
 *
 * What the host rejects (each with the file and the reason, after which the
 * library is closed and nothing of it stays registered): no entry symbol;
 * a NULL descriptor; wrong magic; ABI major other than TT_PLUGIN_ABI_MAJOR;
 * ABI minor newer than the host's; struct_size smaller than the 1.0 layout;
 * a build tag other than TT_PLUGIN_BUILD_TAG; a missing required callback
 * (create, fit, effect, destroy); capabilities that promise a callback the
 * descriptor lacks (INTERVALS without effect_interval, SAVE_LOAD without save
 * and load) or name unknown bits; a name that is not [a-z][a-z0-9_]{0,62};
 * a name already registered; a malformed schema (see tt_plugin_param).
 */
#ifndef TAUTUNE_PLUGIN_H
#define TAUTUNE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "tautune.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions and identity ------------------------------------------------ */

#define TT_PLUGIN_ABI_MAJOR 1
#define TT_PLUGIN_ABI_MINOR 0

/* "TTPL" read as a little-endian 32-bit integer. */
#define TT_PLUGIN_MAGIC 0x4c505454u

/* The entry symbol's name carries the ABI major, so a plugin built for another
 * major simply has no symbol the host looks for. */
#define TT_PLUGIN_ENTRY tt_plugin_entry_v1
#define TT_PLUGIN_ENTRY_NAME "tt_plugin_entry_v1"

/* Build tag: the real type and the BLAS integer width the plugin was built
 * for. Data views carry doubles; learners behind the host table use 32-bit
 * BLAS integers. A mismatch would silently corrupt numbers, so it is checked. */
#define TT_PLUGIN_BUILD_TAG "real=f64;blasint=32"

#if defined(_WIN32)
#define TT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define TT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- capabilities ------------------------------------------------------- */

#define TT_PLUGIN_CAP_MULTI_ARM  (1u << 0) /* handles K > 2 arms */
#define TT_PLUGIN_CAP_IV         (1u << 1) /* uses instruments (needs Z) */
#define TT_PLUGIN_CAP_INTERVALS  (1u << 2) /* implements effect_interval */
#define TT_PLUGIN_CAP_SAVE_LOAD  (1u << 3) /* implements save and load */
#define TT_PLUGIN_CAP_ALL        (0xfu)    /* every bit known to ABI 1.0 */

/* ---- hyperparameter schema ---------------------------------------------- */

typedef enum tt_param_kind {
    TT_PARAM_INT = 1,   /* integer in [lo, hi] */
    TT_PARAM_REAL,      /* real in [lo, hi], searched uniformly */
    TT_PARAM_LOG_REAL,  /* real in [lo, hi], 0 < lo, searched log-uniformly */
    TT_PARAM_BOOL,      /* 0 or 1 */
    TT_PARAM_CHOICE     /* one of choices[]; the value is the index */
} tt_param_kind;

/* One hyperparameter. Well-formed means: name matches [a-z][a-z0-9_]{0,62} and
 * is unique within the plugin; kind is known; for INT/REAL/LOG_REAL lo <= hi,
 * both finite, lo <= default_value <= hi (INT: integral bounds and default);
 * LOG_REAL: lo > 0; BOOL: default 0 or 1; CHOICE: choices is a NULL-terminated
 * list of at least one non-empty, distinct string and default_value is an
 * index into it. */
typedef struct tt_plugin_param {
    const char *name;
    tt_param_kind kind;
    double lo, hi;              /* range (INT, REAL, LOG_REAL) */
    double default_value;       /* value, or index for CHOICE */
    const char *const *choices; /* CHOICE only, NULL-terminated */
    const char *help;           /* one line for `tautune plugins NAME`; may be NULL */
} tt_plugin_param;

/* ---- data views (host-owned, read-only, column-major) -------------------- */

typedef struct tt_plugin_data {
    size_t struct_size;   /* sizeof(tt_plugin_data) of the host */
    size_t n;             /* rows */
    size_t p_x;           /* effect modifiers: columns of x */
    size_t p_w;           /* common causes: columns of w (used by nuisances only) */
    const double *x;      /* n * p_x, column j at x + j*n; NULL when p_x == 0 */
    const double *w;      /* n * p_w; NULL when p_w == 0 */
    const int *t;         /* n arms in 0..n_arms-1; NULL on rows to predict */
    const double *y;      /* n outcomes; NULL on rows to predict */
    const double *weight; /* n sample weights, or NULL for unit weights */
    int n_arms;           /* K >= 2 */
    const char *const *x_names; /* p_x column names */
    const char *const *w_names; /* p_w column names */
} tt_plugin_data;

/* ---- byte streams for save/load ----------------------------------------- */

/* write() returns 0 on success. The host owns ctx. */
typedef struct tt_plugin_sink {
    size_t struct_size;
    void *ctx;
    int (*write)(void *ctx, const void *bytes, size_t len);
} tt_plugin_sink;

/* read() fills exactly len bytes and returns 0, or returns non-zero at end of
 * data or on error. */
typedef struct tt_plugin_source {
    size_t struct_size;
    void *ctx;
    int (*read)(void *ctx, void *bytes, size_t len);
} tt_plugin_source;

/* ---- host services -------------------------------------------------------- */

typedef enum tt_log_level {
    TT_LOG_ERROR = 0,
    TT_LOG_WARN,
    TT_LOG_INFO,
    TT_LOG_DEBUG
} tt_log_level;

/* A supervised learner of the core (ridge, logistic, ...), owned by the
 * plugin instance that created it and destroyed through learner_destroy. */
typedef struct tt_learner tt_learner;

typedef struct tt_plugin_host {
    size_t struct_size;   /* sizeof(tt_plugin_host) of the host */
    uint32_t abi_minor;   /* host's TT_PLUGIN_ABI_MINOR */

    /* Memory. Use these rather than malloc so the host can account for it. */
    void *(*alloc)(size_t size);
    void *(*alloc_zero)(size_t count, size_t size);
    void *(*resize)(void *ptr, size_t size);
    void (*release)(void *ptr);

    /* Logging: printf-style, one line, no trailing newline needed. */
    void (*log)(void *host_ctx, tt_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /* The seed this instance must derive all its randomness from. Same seed,
     * same data => same results. */
    uint64_t seed;

    /* Non-zero when the host wants long work to end early (budget exhausted,
     * Ctrl-C). Poll it in long loops and return TT_ERR_STOPPED. */
    int (*should_stop)(void *host_ctx);

    /* Opaque context to pass to log, should_stop and learner_create. */
    void *host_ctx;

    /* Learners of core/learn. name: "ridge" (regression; param "alpha",
     * default 1) or "logistic" (binary 0/1 labels, predicts P(y = 1); param
     * "alpha" = L2 penalty, default 1). keys/values: n_params hyperparameters
     * (may be 0). Inputs x are column-major n x p; weights may be NULL. */
    int (*learner_create)(void *host_ctx, const char *name,
                          const char *const *keys, const double *values, size_t n_params,
                          tt_learner **out, char *err, size_t errlen);
    int (*learner_fit)(tt_learner *learner, size_t n, size_t p, const double *x,
                       const double *y, const double *weight, char *err, size_t errlen);
    int (*learner_predict)(const tt_learner *learner, size_t n, size_t p, const double *x,
                           double *out, char *err, size_t errlen);
    int (*learner_save)(const tt_learner *learner, const tt_plugin_sink *sink,
                        char *err, size_t errlen);
    int (*learner_load)(void *host_ctx, const tt_plugin_source *source, tt_learner **out,
                        char *err, size_t errlen);
    void (*learner_destroy)(tt_learner *learner); /* NULL is a no-op */
} tt_plugin_host;

/* ---- the descriptor -------------------------------------------------------- */

typedef struct tt_plugin_descriptor {
    uint32_t magic;        /* TT_PLUGIN_MAGIC */
    uint16_t abi_major;    /* TT_PLUGIN_ABI_MAJOR */
    uint16_t abi_minor;    /* TT_PLUGIN_ABI_MINOR the plugin was built with */
    size_t struct_size;    /* sizeof(tt_plugin_descriptor) */
    const char *build_tag; /* TT_PLUGIN_BUILD_TAG */

    const char *name;      /* [a-z][a-z0-9_]{0,62}; what configs call it */
    const char *version;   /* the plugin's own version, free text */
    const char *summary;   /* one line; may be NULL */
    uint32_t capabilities; /* TT_PLUGIN_CAP_* */

    const tt_plugin_param *params; /* hyperparameter schema */
    size_t n_params;

    /* Required. Make an unfitted instance. params[i] is the value of
     * params-schema entry i (CHOICE: the index), already validated by the
     * host. n_arms: K of the problem. host stays valid until destroy. */
    int (*create)(const tt_plugin_host *host, const double *params, int n_arms,
                  void **instance, char *err, size_t errlen);

    /* Required. Fit on training rows (t and y are set). */
    int (*fit)(void *instance, const tt_plugin_data *train, char *err, size_t errlen);

    /* Required. out: rows->n * (n_arms - 1), column-major. */
    int (*effect)(void *instance, const tt_plugin_data *rows, double *out,
                  char *err, size_t errlen);

    /* With TT_PLUGIN_CAP_INTERVALS. Two-sided (1 - alpha) intervals of each
     * effect; lo and hi shaped like effect()'s out. */
    int (*effect_interval)(void *instance, const tt_plugin_data *rows, double alpha,
                           double *lo, double *hi, char *err, size_t errlen);

    /* With TT_PLUGIN_CAP_SAVE_LOAD. save writes the fitted state; load makes a
     * fitted instance from it (load gets its own host table). */
    int (*save)(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen);
    int (*load)(const tt_plugin_host *host, const tt_plugin_source *source,
                void **instance, char *err, size_t errlen);

    /* Required. Free the instance and everything it owns; NULL is a no-op. */
    void (*destroy)(void *instance);
} tt_plugin_descriptor;

/* Layout size of ABI 1.0's descriptor: the smallest struct_size the host
 * accepts. Later minors only grow it. */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_0 \
    (offsetof(tt_plugin_descriptor, destroy) + sizeof(void (*)(void *)))

typedef const tt_plugin_descriptor *(*tt_plugin_entry_fn)(void);

/* Convenience for plugin authors: fills the identity fields. */
#define TT_PLUGIN_DESCRIPTOR_HEADER                                       \
    .magic = TT_PLUGIN_MAGIC, .abi_major = TT_PLUGIN_ABI_MAJOR,           \
    .abi_minor = TT_PLUGIN_ABI_MINOR,                                     \
    .struct_size = sizeof(tt_plugin_descriptor), .build_tag = TT_PLUGIN_BUILD_TAG

#ifdef __cplusplus
}
#endif

#endif /* TAUTUNE_PLUGIN_H */
