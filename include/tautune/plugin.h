/*
 * plugin.h - the estimator plugin ABI, version 1.
 *
 * A plugin is one shared object that exports a single function,
 * TT_PLUGIN_ENTRY_NAME ("tt_plugin_entry_v1"), returning a pointer to a static
 * tt_plugin_descriptor. The host validates the descriptor before it calls
 * anything else (see "What the host rejects" below), then creates instances,
 * fits them on training rows and asks for effects on other rows. The guide
 * for plugin authors is plugins.md in the installed docs (share/doc/tautune);
 * a template to copy is in share/tautune/plugin-template.
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
 * a name already registered; a malformed schema (see tt_plugin_param);
 * a malformed condition table (ABI 1.5, see tt_plugin_condition).
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
#define TT_PLUGIN_ABI_MINOR 10

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
/* ABI 1.1: the host's cached nuisance models the plugin asks for (see
 * nuisance_oof in tt_plugin_host). The host fits them once, before any trial,
 * so every trial shares them; a plugin that asks for a nuisance it did not
 * declare gets TT_ERR_UNSUPPORTED. */
#define TT_PLUGIN_CAP_NEEDS_PROPENSITY   (1u << 4) /* e_k(x, w) */
#define TT_PLUGIN_CAP_NEEDS_OUTCOME      (1u << 5) /* m(x, w) = E[Y | x, w] */
#define TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES (1u << 6) /* mu_k(x, w) = E[Y | x, w, T = k] */
/* ABI 1.7: the instrumental-variable nuisances (binary instrument: the first
 * z column, 0/1; binary treatment): r(x, w) = P(Z = 1 | x, w) and
 * p_z(x, w) = P(T = 1 | x, w, Z = z) for z = 0, 1, whose difference is the
 * compliance. Served only on data with instruments. */
#define TT_PLUGIN_CAP_NEEDS_IV_NUISANCES (1u << 7)
/* ABI 1.8: takes a continuous treatment (a price, a dose): the host runs a
 * plugin on such data only with this bit. There the training view has
 * t == NULL and t_value set (see tt_plugin_data), n_arms is 2 and effect()
 * returns one column, the marginal effect theta(x) = dE[Y | T, x, w]/dT per
 * unit of T (partially linear model). The propensity nuisance does not
 * exist there; TT_NUISANCE_KIND_TREATMENT_MEAN serves E[T | x, w]. */
#define TT_PLUGIN_CAP_CONTINUOUS_TREATMENT (1u << 8)
#define TT_PLUGIN_CAP_ALL        (0x1ffu)  /* every bit known to ABI 1.8 */

/* Nuisance roles for nuisance_oof / nuisance_predict (ABI 1.1). */
typedef enum tt_nuisance_kind {
    TT_NUISANCE_KIND_PROPENSITY = 0, /* width 1 (P(T = 1)) for 2 arms, else K (P(T = k)) */
    TT_NUISANCE_KIND_OUTCOME = 1,    /* width 1 */
    TT_NUISANCE_KIND_ARM_OUTCOME = 2, /* width 1, for the arm given */
    /* ABI 1.7 (TT_PLUGIN_CAP_NEEDS_IV_NUISANCES): */
    TT_NUISANCE_KIND_INSTRUMENT = 3,  /* width 1: P(Z = 1 | x, w); the design's value when
                                       * the config declares the instrument randomised
                                       * (data.z_propensity), then predict gives it too */
    TT_NUISANCE_KIND_TREATMENT_GIVEN_Z = 4, /* width 1: P(T = 1 | x, w, Z = arm), arm 0 or 1:
                                             * fitted on the rows with Z = arm, predicted
                                             * for every row */
    /* ABI 1.8, with TT_PLUGIN_CAP_NEEDS_PROPENSITY: */
    TT_NUISANCE_KIND_TREATMENT_MEAN = 5 /* width 1: E[T | x, w]; a regression of the
                                         * treatment on a continuous treatment, P(T = 1)
                                         * (the propensity) on a binary one */
} tt_nuisance_kind;

/* Kinds of generalised random forest (ABI 1.3, forest_fit). */
typedef enum tt_forest_kind {
    TT_FOREST_REGRESSION = 0, /* E[y | x] */
    TT_FOREST_CAUSAL = 1,     /* theta(x) of E[(y - c - w'theta) (1, w) | x] = 0, w: k columns */
    TT_FOREST_INSTRUMENTAL = 2 /* theta(x) of E[(y - c - w theta) (1, z) | x] = 0 */
} tt_forest_kind;

/* Forest settings (ABI 1.3); zero-initialise, set struct_size, then fill what
 * differs: a 0 field means grf's default (2000 trees, sample_fraction 0.5,
 * honesty on with fraction 0.5 and pruning, mtry min(ceil(sqrt(p) + 20), p),
 * min_node_size 5, alpha 0.05, no imbalance penalty, ci_group_size 2).
 * The booleans are tri-state: 0 default (on), 1 on, 2 off. */
typedef struct tt_forest_options {
    size_t struct_size;
    size_t n_trees;
    double sample_fraction;
    int honesty;               /* 0 default, 1 on, 2 off */
    double honesty_fraction;
    int prune_empty_leaves;    /* 0 default, 1 on, 2 off */
    size_t mtry;
    size_t min_node_size;
    double alpha;              /* minimum child share; a negative value means 0 */
    double imbalance_penalty;
    size_t ci_group_size;      /* 1: no variance estimates */
    int threads;               /* 0: all CPUs */
} tt_forest_options;

typedef struct tt_forest tt_forest; /* a fitted forest, owned by the plugin instance */

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

/* A condition (ABI 1.5): param is active only when parent, a CHOICE
 * parameter, takes one of values (choice names of parent, NULL-terminated).
 * An inactive parameter is not searched, not stored with a trial's chosen
 * values and not shown; create() still gets a value for it - its schema
 * default - so two points that differ only in inactive parameters are one
 * point. Conditions chain: a parameter whose parent is itself inactive is
 * inactive too. Well-formed means: param and parent name schema entries,
 * parent is a CHOICE, param != parent, values lists at least one distinct
 * choice of parent, at most one condition per param, and following parents
 * never comes back to where it started (no cycle). The layout is fixed: a
 * later ABI that needs more would add another table. */
typedef struct tt_plugin_condition {
    const char *param;               /* the conditioned parameter's name */
    const char *parent;              /* a CHOICE parameter's name */
    const char *const *values;       /* parent's choice names; NULL-terminated */
} tt_plugin_condition;

/* ---- data views (host-owned, read-only, column-major) -------------------- */

typedef struct tt_plugin_data {
    size_t struct_size;   /* sizeof(tt_plugin_data) of the host */
    size_t n;             /* rows */
    size_t p_x;           /* effect modifiers: columns of x */
    size_t p_w;           /* common causes: columns of w (used by nuisances only) */
    const double *x;      /* n * p_x, column j at x + j*n; NULL when p_x == 0 */
    const double *w;      /* n * p_w; NULL when p_w == 0 */
    const int *t;         /* n arms in 0..n_arms-1 on training rows; effect() must not
                           * read it (set on validation rows, NULL on new ones) */
    const double *y;      /* n outcomes on training rows; likewise not for effect() */
    const double *weight; /* n sample weights, or NULL for unit weights */
    int n_arms;           /* K >= 2 */
    const char *const *x_names; /* p_x column names */
    const char *const *w_names; /* p_w column names */

    /* ---- ABI 1.6: read only when struct_size covers them (TT_PLUGIN_DATA_HAS) ---- */

    /* Instruments (IV problems: data.z). A plugin with TT_PLUGIN_CAP_IV is
     * only run on data that have them; others never see them. */
    size_t p_z;                 /* columns of z; 0 without instruments */
    const double *z;            /* n * p_z column-major; NULL when p_z == 0 and on rows to
                                 * predict (effects depend on x only) */
    const char *const *z_names; /* p_z column names */

    /* ---- ABI 1.8 ---- */

    /* A continuous treatment (TT_PLUGIN_CAP_CONTINUOUS_TREATMENT): n values
     * on training rows, where t is then NULL; NULL on rows to predict and on
     * data with arms. */
    const double *t_value;
} tt_plugin_data;

/* Whether the host's view d carries `field` (a member added by a later ABI
 * minor): a plugin built against this header may be handed an older host's
 * smaller struct. */
#define TT_PLUGIN_DATA_HAS(d, field)                                                         \
    ((d)->struct_size >= offsetof(tt_plugin_data, field) + sizeof((d)->field))

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

/* A blob being written or read (ABI 1.10): see blob_writer_new below. */
typedef struct tt_blob_writer tt_blob_writer;
typedef struct tt_blob_reader tt_blob_reader;

typedef struct tt_plugin_host {
    size_t struct_size;   /* sizeof(tt_plugin_host) of the host */
    uint32_t abi_minor;   /* host's TT_PLUGIN_ABI_MINOR */

    /* Memory. Use these rather than malloc so the host can account for it. */
    void *(*alloc)(size_t size);
    void *(*alloc_zero)(size_t count, size_t size);
    void *(*resize)(void *ptr, size_t size);
    void (*release)(void *ptr);

    /* Logging: printf-style, one line, no trailing newline needed. In a
     * trial, ERROR to INFO lines (DEBUG is dropped) go into the trial's log
     * with whatever the plugin prints on stdout and stderr: trials.jsonl's
     * "log" (its last 50 lines), shown under a failed trial and by
     * `tautune run --verbose`; never on tautune's stdout. */
    void (*log)(void *host_ctx, tt_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /* The seed this instance must derive all its randomness from. Same seed,
     * same data => same results. */
    uint64_t seed;

    /* Non-zero when the host wants long work to end early (budget exhausted,
     * Ctrl-C). Poll it in long loops and return TT_ERR_STOPPED. Near a
     * deadline it turns non-zero as soon as the time since the previous poll
     * (or since create, for the first) would carry the next unit of work past
     * it: poll between units of similar length (trees, bootstrap replicas). */
    int (*should_stop)(void *host_ctx);

    /* Opaque context to pass to log, should_stop and learner_create. */
    void *host_ctx;

    /* Learners of core/learn by name: "ridge", "logistic" (binary: P(y = 1);
     * K classes: K probabilities), "lasso", "elastic_net", "forest", "gbm".
     * Each one's keys, ranges and defaults: `tautune plugins --learners`, or
     * learners.md in the installed docs (share/doc/tautune). tautune/slot.h
     * gives a plugin a searched choice among them (learner_from_slot below).
     * keys/values: n_params hyperparameters (may be 0); unknown keys are an
     * error. Inputs x are column-major n x p; weights may be NULL. */
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

    /* ---- ABI 1.1 (check abi_minor >= 1 or struct_size before use) ---- */

    /* Values per row a learner predicts (1, or K for a multi-class one). */
    size_t (*learner_n_outputs)(const tt_learner *learner);

    /* The run's nuisance models, cross-fitted once on the training rows with
     * [x, w] as features and chosen by out-of-fold loss. nuisance_oof gives
     * the out-of-fold predictions for exactly the rows fit() receives, in
     * their order: *values is n x width column-major, host-owned, valid until
     * the instance is destroyed. arm: the arm for ARM_OUTCOME, else ignored.
     * TT_ERR_UNSUPPORTED when the plugin did not declare the matching
     * TT_PLUGIN_CAP_NEEDS_* bit or the host has none. */
    int (*nuisance_oof)(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                        size_t *n, size_t *width, char *err, size_t errlen);
    /* The same nuisance, from the model fitted on all training rows, for
     * other rows (rows->x and rows->w set). out: rows->n x width. Known
     * propensity columns exist only for the data's rows: TT_ERR_UNSUPPORTED. */
    int (*nuisance_predict)(void *host_ctx, tt_nuisance_kind kind, int arm,
                            const tt_plugin_data *rows, double *out, char *err, size_t errlen);

    /* ---- ABI 1.2 (check abi_minor >= 2 before use) ---- */

    /* Resamples for bootstrap intervals, from the run's config
     * (intervals.resamples); 0 = the plugin's own default. A setting of the
     * run rather than a hyperparameter, so the search never tunes it. */
    size_t interval_resamples;

    /* ---- ABI 1.3 (check abi_minor >= 3 before use) ---- */

    /* Generalised random forests (the engine behind the regression forest,
     * the causal and instrumental forests and the forest final stages).
     * x column-major n x p; y n values; w: CAUSAL n x k column-major
     * (k <= 8), INSTRUMENTAL n x 1, else NULL; z: INSTRUMENTAL n values,
     * else NULL; weight n or NULL. The forest's randomness comes from the
     * instance's seed. Estimates: n x n_outputs (REGRESSION and INSTRUMENTAL
     * 1, CAUSAL k); var (may be NULL) the variance of each estimate (NAN
     * without variance groups). forest_predict_oob: out-of-bag estimates of
     * the training rows of the fit (not after load: TT_ERR_UNSUPPORTED). */
    int (*forest_fit)(void *host_ctx, tt_forest_kind kind, const tt_forest_options *opt,
                      size_t n, size_t p, const double *x, const double *y, const double *w,
                      size_t k, const double *z, const double *weight, tt_forest **out,
                      char *err, size_t errlen);
    size_t (*forest_n_outputs)(const tt_forest *forest);
    int (*forest_predict)(const tt_forest *forest, size_t n, size_t p, const double *x,
                          double *est, double *var, char *err, size_t errlen);
    int (*forest_predict_oob)(const tt_forest *forest, double *est, double *var, char *err,
                              size_t errlen);
    int (*forest_save)(const tt_forest *forest, const tt_plugin_sink *sink, char *err,
                       size_t errlen);
    int (*forest_load)(void *host_ctx, const tt_plugin_source *source, tt_forest **out,
                       char *err, size_t errlen);
    void (*forest_destroy)(tt_forest *forest); /* NULL is a no-op */

    /* ---- ABI 1.9 (check abi_minor >= 9 before use) ---- */

    /* grf's variable_importance of a fitted (or loaded) forest: per feature,
     * the depth-weighted share of the splits made on it (depths 1..4,
     * weights depth^-2), into out (p values, p the forest's features). */
    int (*forest_variable_importance)(const tt_forest *forest, double *out, size_t p,
                                      char *err, size_t errlen);

    /* ---- ABI 1.10 (check abi_minor >= 10 before use) ---- */

    /* Saved state without hand-written serialisation. A blob is a list of
     * named records - arrays of doubles or 64-bit integers, texts, fitted
     * learners and forests - that blob_writer_finish writes to save()'s sink
     * as one length-prefixed unit with the plugin's tag (its name, say), a
     * layout version of the plugin's choosing and a CRC-32 over every byte.
     * blob_reader_open takes exactly that unit from load()'s source and
     * refuses it, with a message, when a byte was damaged or the tag is
     * another; records are then found by name, in any order, so a later
     * version may add records that an older reader never asks for.
     *
     * Errors are sticky: after the first failed put or get (out of memory; a
     * record missing, of another kind, or of another count than asked) the
     * others do nothing, and blob_writer_finish / blob_reader_close return
     * that first error with a message naming the record. So save() and
     * load() need one check each, at the end:
     *
     *     tt_blob_writer *b = host->blob_writer_new(host->host_ctx, "knn", 1);
     *     host->blob_put_ints(b, "k", &k, 1);
     *     host->blob_put_doubles(b, "x", m->x, m->n * m->p);
     *     return host->blob_writer_finish(b, sink, err, errlen);
     *
     * blob_writer_new returns NULL only when out of memory (finish then says
     * so); finish and close free the writer or reader whatever happened.
     * blob_get_text's texts live until blob_reader_close; a learner or
     * forest from a get is the caller's (learner_destroy, forest_destroy);
     * blob_count is a record's value count (bytes for a text), 0 when it is
     * absent. */
    tt_blob_writer *(*blob_writer_new)(void *host_ctx, const char *tag, uint32_t version);
    void (*blob_put_doubles)(tt_blob_writer *w, const char *name, const double *v, size_t n);
    void (*blob_put_ints)(tt_blob_writer *w, const char *name, const int64_t *v, size_t n);
    void (*blob_put_text)(tt_blob_writer *w, const char *name, const char *text);
    void (*blob_put_learner)(tt_blob_writer *w, const char *name, const tt_learner *learner);
    void (*blob_put_forest)(tt_blob_writer *w, const char *name, const tt_forest *forest);
    int (*blob_writer_finish)(tt_blob_writer *w, const tt_plugin_sink *sink, char *err,
                              size_t errlen);
    tt_blob_reader *(*blob_reader_open)(void *host_ctx, const tt_plugin_source *source,
                                        const char *tag, uint32_t *version, char *err,
                                        size_t errlen);
    size_t (*blob_count)(tt_blob_reader *r, const char *name);
    void (*blob_get_doubles)(tt_blob_reader *r, const char *name, double *v, size_t n);
    void (*blob_get_ints)(tt_blob_reader *r, const char *name, int64_t *v, size_t n);
    const char *(*blob_get_text)(tt_blob_reader *r, const char *name);
    void (*blob_get_learner)(tt_blob_reader *r, const char *name, tt_learner **out);
    void (*blob_get_forest)(tt_blob_reader *r, const char *name, tt_forest **out);
    int (*blob_reader_close)(tt_blob_reader *r, char *err, size_t errlen);

    /* A learner slot's learner (tautune/slot.h): slot points at the
     * TT_SLOT_N values of a TT_SLOT_PARAMS block as create() got them
     * (params + the index of <prefix>_learner). classify != 0 asks a forest
     * or gbm for a classifier (labels 0..K-1); ridge and lasso refuse it
     * with TT_ERR_INVALID. The learner is unfitted and the caller's. */
    int (*learner_from_slot)(void *host_ctx, const double *slot, int classify,
                             tt_learner **out, char *err, size_t errlen);
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

    /* ---- ABI 1.2 (the host reads these only when struct_size covers them) ---- */

    /* How effect_interval makes its intervals, in a few words that go into
     * results.json ("HC1 sandwich", "debiased lasso", "bootstrap (normal,
     * B resamples)", ...); may be NULL. */
    const char *interval_method;

    /* Optional. The average effect over rows of each treated arm with its
     * two-sided (1 - alpha) interval: ate, lo and hi hold n_arms - 1 values.
     * Only the plugin knows how its row effects covary (a linear model's
     * average is phi_bar'beta; a bootstrap can average each replica), so this
     * is its job; without it the host reports the mean effect and the mean of
     * the row bounds, labelled as such. */
    int (*average_effect)(void *instance, const tt_plugin_data *rows, double alpha,
                          double *ate, double *lo, double *hi, char *err, size_t errlen);

    /* ---- ABI 1.3 ---- */

    /* How average_effect makes its interval when that differs from
     * interval_method (a causal forest's AIPW average, a mean of row bounds);
     * NULL: interval_method says it. */
    const char *average_method;

    /* ---- ABI 1.4 ---- */

    /* Optional. The average effect of each treated arm over the training
     * rows of the last fit, from out-of-bag estimates (a forest's estimate
     * of each row by the trees that did not see it, as grf's
     * average_treatment_effect uses): ate, lo, hi and se hold n_arms - 1
     * values, se the standard error and [lo, hi] the two-sided (1 - alpha)
     * normal interval ate -+ z se. The plugin computes it at fit time (only
     * then does it see the training rows, their out-of-bag estimates and the
     * host's cross-fitted nuisances) and keeps it in its saved state, so a
     * loaded instance answers too. Returns non-zero with a message when the
     * instance has none (not fitted, or loaded from a model saved without
     * it). */
    int (*average_effect_oob)(void *instance, double alpha, double *ate, double *lo,
                              double *hi, double *se, char *err, size_t errlen);

    /* How average_effect_oob is made, in a few words for results.json;
     * may be NULL. */
    const char *average_oob_method;

    /* ---- ABI 1.5 ---- */

    /* Optional. Which parameters are active under which parent choices (see
     * tt_plugin_condition); NULL with 0 when every parameter always counts.
     * The host reads it only from a descriptor of ABI >= 1.5 whose
     * struct_size covers it. */
    const tt_plugin_condition *conditions;
    size_t n_conditions;

    /* ---- ABI 1.9 ---- */

    /* Optional. How much the fitted model uses each of the p_x effect
     * modifiers, by the model's own measure (a forest's split frequency):
     * out holds p values, larger = more used; variable_importance_method
     * says how in a few words for results.json. The host adds its own
     * permutation importance for every model. */
    int (*variable_importance)(void *instance, double *out, size_t p, char *err,
                               size_t errlen);
    const char *variable_importance_method;
} tt_plugin_descriptor;

/* Layout size of ABI 1.0's descriptor: the smallest struct_size the host
 * accepts. Later minors only grow it. */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_0 \
    (offsetof(tt_plugin_descriptor, destroy) + sizeof(void (*)(void *)))

/* Layout size of ABI 1.2's descriptor: a struct_size at least this large
 * carries interval_method and average_effect. */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_2 \
    (offsetof(tt_plugin_descriptor, average_effect) + sizeof(void (*)(void)))

/* Layout size of ABI 1.3's descriptor (adds average_method). */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_3 \
    (offsetof(tt_plugin_descriptor, average_method) + sizeof(const char *))

/* Layout size of ABI 1.4's descriptor (adds average_effect_oob and
 * average_oob_method). */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_4 \
    (offsetof(tt_plugin_descriptor, average_oob_method) + sizeof(const char *))

/* Layout size of ABI 1.5's descriptor (adds conditions and n_conditions). */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_5 \
    (offsetof(tt_plugin_descriptor, n_conditions) + sizeof(size_t))

/* Layout size of ABI 1.9's descriptor (adds variable_importance and its
 * method). */
#define TT_PLUGIN_DESCRIPTOR_SIZE_V1_9 \
    (offsetof(tt_plugin_descriptor, variable_importance_method) + sizeof(const char *))

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
