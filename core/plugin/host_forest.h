/*
 * host_forest.h - the host table's forest services (ABI 1.3): core/learn's
 * generalised random forests (grf.h) behind the opaque tt_forest of
 * plugin.h. Internal to core/plugin (host.c puts them in the table).
 */
#ifndef TT_PLUGIN_HOST_FOREST_H
#define TT_PLUGIN_HOST_FOREST_H

#include "tautune/plugin.h"

int tt_host_forest_fit(void *host_ctx, tt_forest_kind kind, const tt_forest_options *opt,
                       size_t n, size_t p, const double *x, const double *y, const double *w,
                       size_t k, const double *z, const double *weight, tt_forest **out,
                       char *err, size_t errlen);
size_t tt_host_forest_n_outputs(const tt_forest *forest);
int tt_host_forest_predict(const tt_forest *forest, size_t n, size_t p, const double *x,
                           double *est, double *var, char *err, size_t errlen);
int tt_host_forest_predict_oob(const tt_forest *forest, double *est, double *var, char *err,
                               size_t errlen);
int tt_host_forest_save(const tt_forest *forest, const tt_plugin_sink *sink, char *err,
                        size_t errlen);
int tt_host_forest_load(void *host_ctx, const tt_plugin_source *source, tt_forest **out,
                        char *err, size_t errlen);
void tt_host_forest_destroy(tt_forest *forest);
int tt_host_forest_variable_importance(const tt_forest *forest, double *out, size_t p,
                                       char *err, size_t errlen);

#endif
