/*
 * pu_forest.h - the host's generalised random forests (ABI 1.3) as the forest
 * plugins use them: one hyperparameter schema, its mapping onto
 * tt_forest_options, the ABI check, intervals from the little-bags variance
 * and save/load framing.
 *
 * PU_FOREST_PARAMS(trees, min_node, sample_fraction, mtry_share) expands to PU_FOREST_N
 * schema entries, in this order (the four arguments are defaults, so each
 * plugin can start from its reference implementation's settings):
 *   trees             int [50, 2000]            forest size. The plugins default
 *                                               to 200, not grf's 2000, so that a
 *                                               search's trials stay cheap; the
 *                                               "wide" preset searches up to 2000
 *   min_node_size     int [1, 50]               grf min.node.size (EconML min_samples_leaf)
 *   sample_fraction   real [0.05, 0.5]          rows per tree / n (EconML max_samples);
 *                                               at most 0.5 because the variance
 *                                               groups draw from half-samples
 *   mtry_share        real [0, 1]               features tried per split:
 *                                               0 = grf's min(ceil(sqrt(p) + 20), p),
 *                                               s > 0: ceil(s p), at least 1
 *   honesty           bool, default 1
 *   honesty_fraction  real [0.3, 0.7], default 0.5
 *   alpha             real [0, 0.25], default 0.05  minimum child share (balance)
 * Threads: PU_FOREST_THREADS (2) per forest, not a hyperparameter (trials of a
 * search run in parallel workers already; 2 is this project's target machine).
 */
#ifndef TT_PLUGINS_PU_FOREST_H
#define TT_PLUGINS_PU_FOREST_H

#include <stddef.h>

#include <tautune/plugin.h>

#define PU_FOREST_N 7
#define PU_FOREST_THREADS 2

#define PU_FOREST_PARAMS(trees, min_node, sample_fraction, mtry_share)                        \
    {.name = "trees", .kind = TT_PARAM_INT, .lo = 50, .hi = 2000, .default_value = (trees),    \
     .help = "trees in the forest (grf's default is 2000)"},                                   \
    {.name = "min_node_size", .kind = TT_PARAM_INT, .lo = 1, .hi = 50,                         \
     .default_value = (min_node),                                                              \
     .help = "minimum rows in a leaf"},                                                        \
    {.name = "sample_fraction", .kind = TT_PARAM_REAL, .lo = 0.05, .hi = 0.5,                  \
     .default_value = (sample_fraction), .help = "share of the rows each tree draws"},         \
    {.name = "mtry_share", .kind = TT_PARAM_REAL, .lo = 0, .hi = 1,                            \
     .default_value = (mtry_share),                                                            \
     .help = "share of the features tried per split (0: grf's min(sqrt(p) + 20, p))"},         \
    {.name = "honesty", .kind = TT_PARAM_BOOL, .default_value = 1,                             \
     .help = "separate rows choose the splits and fill the leaves"},                           \
    {.name = "honesty_fraction", .kind = TT_PARAM_REAL, .lo = 0.3, .hi = 0.7,                  \
     .default_value = 0.5, .help = "share of a tree's rows that fill the leaves"},             \
    {.name = "alpha", .kind = TT_PARAM_REAL, .lo = 0, .hi = 0.25, .default_value = 0.05,       \
     .help = "minimum share of a node's rows in each child"}

typedef struct pu_forest_cfg {
    size_t trees, min_node_size;
    double sample_fraction, mtry_share;
    int honesty;
    double honesty_fraction, alpha;
} pu_forest_cfg;

/* params[first .. first + PU_FOREST_N - 1] as laid out by PU_FOREST_PARAMS. */
void pu_forest_read(const double *params, size_t first, pu_forest_cfg *cfg);

/* The engine's options for a forest on p features (threads PU_FOREST_THREADS,
 * variance groups of 2, the rest grf's defaults). */
void pu_forest_options(const pu_forest_cfg *cfg, size_t p, tt_forest_options *opt);

/* TT_ERR_UNSUPPORTED "<name> needs a host with forests (ABI 1.3 or newer)"
 * when the host is older or lacks the forest services. */
int pu_forest_check_host(const tt_plugin_host *host, const char *name, char *err, size_t errlen);

/* lo/hi = est -+ z_{1-alpha/2} sqrt(var) for m values; a negative little-bags
 * variance (possible: it is a difference of two estimates) counts as 0, a NaN
 * one is an error (a forest without variance groups). */
int pu_forest_bounds(size_t m, const double *est, const double *var, double alpha, double *lo,
                     double *hi, char *err, size_t errlen);

/* grf's split-frequency variable importance of a fitted forest (ABI 1.9's
 * forest_variable_importance) into out (p values); TT_ERR_UNSUPPORTED from
 * an older host. */
int pu_forest_importance(const tt_plugin_host *host, const tt_forest *forest, double *out,
                         size_t p, char *err, size_t errlen);
#define PU_FOREST_IMPORTANCE_METHOD \
    "split frequency (grf's variable_importance: depths 1-4, weight depth^-2)"

/* A forest in a stream as "forest <bytes>\n" and its bytes, so loading never
 * depends on how much the engine's reader consumes. */
int pu_forest_save(const tt_plugin_host *host, const tt_forest *forest,
                   const tt_plugin_sink *sink, char *err, size_t errlen);
int pu_forest_load(const tt_plugin_host *host, const tt_plugin_source *src, tt_forest **out,
                   char *err, size_t errlen);

#endif
