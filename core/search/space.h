/*
 * space.h - a config's search space for one estimator, checked against the
 * plugin's schema, and the points drawn from it.
 *
 * A point is one double per schema parameter, in schema order (INT/BOOL as
 * integral doubles, CHOICE as the index) - exactly what a plugin's create()
 * takes. Parameters the config does not mention are searched over the
 * plugin's own schema range (the plugin's default space); parameters the
 * config fixes stay fixed; the rest follow the config's distribution.
 *
 * Conditional parameters (plugin/conditions.h): every point made here is
 * canonical - an inactive parameter holds its schema default - and a
 * parameter whose parent the space pins to other choices is a FIXED
 * dimension at its default (never searched). from_unit does not
 * canonicalise (it knows only dimensions); its callers do.
 */
#ifndef TT_SEARCH_SPACE_H
#define TT_SEARCH_SPACE_H

#include <stddef.h>

#include "lua/config.h"
#include "tautune/plugin.h"
#include "util/rng.h"

/* Check every config parameter against the schema: the name exists (else
 * the error lists the schema's names), the kind fits (a real distribution on
 * an INT parameter is an error; randint on a REAL parameter is allowed), and
 * every value or range lies inside the schema's range or choices. Errors read
 * "CONFIG:LINE: estimators.NAME.PARAM: ...". */
tt_status tt_space_check(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                         const char *config_path, char *err, size_t errlen);

/* The default point: schema defaults, with config-fixed values applied, and a
 * default that falls outside a config range moved to the range's centre
 * (geometric centre for log-uniform; first option for a choice). */
void tt_space_default_point(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                            double *point);

/* The space as one dimension per schema parameter, for searchers that move
 * through it: every point is the image of a u in [0, 1]^n. */
typedef enum tt_dim_kind {
    TT_DIM_FIXED = 0, /* not searched */
    TT_DIM_REAL,      /* lo + u (hi - lo) */
    TT_DIM_LOG,       /* log-uniform on [lo, hi] */
    TT_DIM_INT,       /* integers lo..hi, each an equal share of [0, 1] */
    TT_DIM_CATEGORY   /* values[k], each an equal share of [0, 1] */
} tt_dim_kind;

typedef struct tt_space_dim {
    tt_dim_kind kind;
    double lo, hi;
    double fixed;
    double *values;   /* CATEGORY: n_values point coordinates (owned) */
    size_t n_values;
} tt_space_dim;

/* desc->n_params dimensions; free with tt_space_dims_free. */
tt_status tt_space_dims(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                        tt_space_dim **out);
void tt_space_dims_free(tt_space_dim *dims, size_t n);
size_t tt_space_free_dims(const tt_space_dim *dims, size_t n); /* how many are searched */
/* u outside [0, 1] is clamped. to_unit maps a point to the centre of its cell
 * (INT, CATEGORY), so from_unit(to_unit(p)) == p for every point of the space. */
void tt_space_from_unit(const tt_space_dim *dims, size_t n, const double *u, double *point);
void tt_space_to_unit(const tt_space_dim *dims, size_t n, const double *point, double *u);

/* A point drawn uniformly over the unit cube's image. TT_ERR_NOMEM only. */
tt_status tt_space_sample(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                          tt_rng *rng, double *point);

/* 1 if two points are equal in every coordinate (canonical points: equal
 * on their active parameters). */
int tt_space_point_equal(const double *a, const double *b, size_t n);

#endif
