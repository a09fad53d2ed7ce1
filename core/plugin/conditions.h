/*
 * conditions.h - conditional parameters (ABI 1.5): checking a plugin's
 * condition table and asking which parameters of a point are active.
 *
 * A parameter with a condition is active only when its parent (a CHOICE)
 * takes one of the listed values and the parent is active itself. The
 * canonical form of a point gives every inactive parameter its schema
 * default, so "same point" stays plain coordinate equality: the search
 * canonicalises every point it proposes, resume canonicalises what it reads,
 * and writers show only the active parameters.
 *
 * Descriptors of ABI <= 1.4 (or a struct_size that ends before the table)
 * have no conditions: every parameter is always active. Nothing here
 * allocates or keeps pointers; the descriptor owns the table.
 */
#ifndef TT_PLUGIN_CONDITIONS_H
#define TT_PLUGIN_CONDITIONS_H

#include <stddef.h>

#include "tautune/plugin.h"

/* The table when the descriptor has one (*n its length), else NULL with *n 0. */
const tt_plugin_condition *tt_plugin_conditions(const tt_plugin_descriptor *desc, size_t *n);

/* Every rejection of plugin.h's tt_plugin_condition, with a message naming
 * the entry: unknown param or parent, parent not a CHOICE, param conditioned
 * on itself, no values, unknown or repeated value, two conditions on one
 * param, a cycle. Assumes a valid schema (names checked first). */
tt_status tt_conditions_validate(const tt_plugin_descriptor *desc, char *err, size_t errlen);

/* The condition on schema entry i, or NULL; *parent (may be NULL) gets the
 * parent's schema index. */
const tt_plugin_condition *tt_param_condition(const tt_plugin_descriptor *desc, size_t i,
                                              size_t *parent);

/* 1 when parameter i counts in point (desc->n_params values). */
int tt_param_active(const tt_plugin_descriptor *desc, const double *point, size_t i);

/* Sets every inactive parameter of point to its schema default. */
void tt_point_canonical(const tt_plugin_descriptor *desc, double *point);

/* "only when model_learner is forest or gbm" into buf; "" without a condition. */
void tt_param_condition_text(const tt_plugin_descriptor *desc, size_t i, char *buf, size_t len);

#endif
