/* space.c - checking a config's space against a plugin schema, and drawing points. */
#include "search/space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/conditions.h"
#include "util/err.h"

static const tt_plugin_param *schema_find(const tt_plugin_descriptor *desc, const char *name,
                                          size_t *index)
{
    for (size_t i = 0; i < desc->n_params; i++) {
        if (strcmp(desc->params[i].name, name) == 0) {
            if (index)
                *index = i;
            return &desc->params[i];
        }
    }
    return NULL;
}

static size_t choice_count(const tt_plugin_param *sp)
{
    size_t n = 0;
    while (sp->choices && sp->choices[n])
        n++;
    return n;
}

static long choice_index(const tt_plugin_param *sp, const char *s)
{
    for (size_t i = 0; sp->choices && sp->choices[i]; i++)
        if (strcmp(sp->choices[i], s) == 0)
            return (long)i;
    return -1;
}

/* Converts one config value to a point coordinate for this schema entry, or
 * explains why it does not fit. */
static int value_to_coord(const tt_plugin_param *sp, const tt_space_value *v, double *coord,
                          char *why, size_t whylen)
{
    switch (sp->kind) {
    case TT_PARAM_CHOICE: {
        if (!v->str) {
            snprintf(why, whylen, "expected one of the choices, got a number");
            return -1;
        }
        long idx = choice_index(sp, v->str);
        if (idx < 0) {
            int off = snprintf(why, whylen, "'%s' is not a choice (choices:", v->str);
            for (size_t i = 0; sp->choices[i] && off > 0 && (size_t)off < whylen; i++)
                off += snprintf(why + off, whylen - (size_t)off, " %s", sp->choices[i]);
            if (off > 0 && (size_t)off < whylen)
                snprintf(why + off, whylen - (size_t)off, ")");
            return -1;
        }
        *coord = (double)idx;
        return 0;
    }
    case TT_PARAM_BOOL:
        if (v->str || (v->num != 0.0 && v->num != 1.0)) {
            snprintf(why, whylen, "expected true or false");
            return -1;
        }
        *coord = v->num;
        return 0;
    default:
        break;
    }
    if (v->str || v->is_bool) {
        snprintf(why, whylen, "expected a number");
        return -1;
    }
    if (sp->kind == TT_PARAM_INT && v->num != floor(v->num)) {
        snprintf(why, whylen, "expected an integer, got %.17g", v->num);
        return -1;
    }
    if (!(v->num >= sp->lo && v->num <= sp->hi)) {
        snprintf(why, whylen, "%.17g is outside the plugin's range [%.17g, %.17g]", v->num, sp->lo,
                 sp->hi);
        return -1;
    }
    *coord = v->num;
    return 0;
}

static tt_status check_one(const tt_space_param *p, const tt_plugin_param *sp, char *why,
                           size_t whylen)
{
    double coord;
    switch (p->kind) {
    case TT_SPACE_FIXED:
        return value_to_coord(sp, &p->fixed, &coord, why, whylen) == 0 ? TT_OK : TT_ERR_CONFIG;
    case TT_SPACE_CHOICE:
        for (size_t i = 0; i < p->n_options; i++) {
            if (value_to_coord(sp, &p->options[i], &coord, why, whylen) != 0)
                return TT_ERR_CONFIG;
        }
        return TT_OK;
    case TT_SPACE_UNIFORM:
    case TT_SPACE_LOGUNIFORM:
    case TT_SPACE_RANDINT:
        if (sp->kind == TT_PARAM_BOOL || sp->kind == TT_PARAM_CHOICE) {
            snprintf(why, whylen, "a %s parameter takes a fixed value or choice(), not a range",
                     sp->kind == TT_PARAM_BOOL ? "bool" : "choice");
            return TT_ERR_CONFIG;
        }
        if (sp->kind == TT_PARAM_INT && p->kind != TT_SPACE_RANDINT) {
            snprintf(why, whylen, "an int parameter needs randint(), not a real range");
            return TT_ERR_CONFIG;
        }
        if (p->lo < sp->lo || p->hi > sp->hi) {
            snprintf(why, whylen, "range [%.17g, %.17g] is outside the plugin's range [%.17g, %.17g]",
                     p->lo, p->hi, sp->lo, sp->hi);
            return TT_ERR_CONFIG;
        }
        return TT_OK;
    }
    snprintf(why, whylen, "unknown space kind");
    return TT_ERR_CONFIG;
}

tt_status tt_space_check(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                         const char *config_path, char *err, size_t errlen)
{
    for (size_t i = 0; i < space->n_params; i++) {
        const tt_space_param *p = &space->params[i];
        char where[512];
        if (p->line > 0)
            snprintf(where, sizeof where, "%s:%d: estimators.%s.%s", config_path, p->line,
                     space->plugin, p->name);
        else
            snprintf(where, sizeof where, "%s: estimators.%s.%s", config_path, space->plugin,
                     p->name);
        const tt_plugin_param *sp = schema_find(desc, p->name, NULL);
        if (!sp) {
            char names[512] = "";
            size_t off = 0;
            for (size_t j = 0; j < desc->n_params && off < sizeof names; j++)
                off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", j ? ", " : "",
                                        desc->params[j].name);
            return tt_errf(err, errlen, TT_ERR_CONFIG,
                           "%s: plugin '%s' has no parameter '%s' (it has: %s)", where,
                           desc->name, p->name, desc->n_params ? names : "none");
        }
        char why[400];
        if (check_one(p, sp, why, sizeof why) != TT_OK)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: %s", where, why);
    }
    return TT_OK;
}

static const tt_space_param *space_find(const tt_space_estimator *space, const char *name)
{
    for (size_t i = 0; i < space->n_params; i++)
        if (strcmp(space->params[i].name, name) == 0)
            return &space->params[i];
    return NULL;
}

void tt_space_default_point(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                            double *point)
{
    char why[8];
    for (size_t i = 0; i < desc->n_params; i++) {
        const tt_plugin_param *sp = &desc->params[i];
        const tt_space_param *p = space_find(space, sp->name);
        double v = sp->default_value;
        if (p) {
            switch (p->kind) {
            case TT_SPACE_FIXED:
                value_to_coord(sp, &p->fixed, &v, why, sizeof why);
                break;
            case TT_SPACE_CHOICE: {
                /* Keep the schema default if the config lists it. */
                int listed = 0;
                for (size_t k = 0; k < p->n_options && !listed; k++) {
                    double c;
                    if (value_to_coord(sp, &p->options[k], &c, why, sizeof why) == 0 && c == v)
                        listed = 1;
                }
                if (!listed)
                    value_to_coord(sp, &p->options[0], &v, why, sizeof why);
                break;
            }
            case TT_SPACE_UNIFORM:
            case TT_SPACE_RANDINT:
                if (v < p->lo || v > p->hi)
                    v = p->kind == TT_SPACE_RANDINT ? floor((p->lo + p->hi) / 2)
                                                    : (p->lo + p->hi) / 2;
                break;
            case TT_SPACE_LOGUNIFORM:
                if (v < p->lo || v > p->hi)
                    v = sqrt(p->lo * p->hi);
                break;
            }
        }
        point[i] = v;
    }
    tt_point_canonical(desc, point);
}

/* Coordinates of a parameter's allowed values when they are a finite list:
 * a config choice(), or an unmentioned bool/choice parameter's whole range. */
static double *category_values(const tt_space_param *p, const tt_plugin_param *sp, size_t *n)
{
    char why[8];
    size_t count = p && p->kind == TT_SPACE_CHOICE ? p->n_options
                   : sp->kind == TT_PARAM_BOOL     ? 2
                                                   : choice_count(sp);
    double *v = malloc((count ? count : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t k = 0; k < count; k++) {
        if (p && p->kind == TT_SPACE_CHOICE)
            value_to_coord(sp, &p->options[k], &v[k], why, sizeof why);
        else
            v[k] = (double)k;
    }
    *n = count;
    return v;
}

static void fix_never_active(const tt_plugin_descriptor *desc, tt_space_dim *dims);

tt_status tt_space_dims(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                        tt_space_dim **out)
{
    char why[8];
    tt_space_dim *dims = calloc(desc->n_params + 1, sizeof *dims);
    if (!dims)
        return TT_ERR_NOMEM;
    for (size_t i = 0; i < desc->n_params; i++) {
        const tt_plugin_param *sp = &desc->params[i];
        const tt_space_param *p = space_find(space, sp->name);
        tt_space_dim *d = &dims[i];
        if (p && p->kind == TT_SPACE_FIXED) {
            d->kind = TT_DIM_FIXED;
            value_to_coord(sp, &p->fixed, &d->fixed, why, sizeof why);
        } else if ((p && p->kind == TT_SPACE_CHOICE) ||
                   (!p && (sp->kind == TT_PARAM_BOOL || sp->kind == TT_PARAM_CHOICE))) {
            d->kind = TT_DIM_CATEGORY;
            d->values = category_values(p, sp, &d->n_values);
            if (!d->values) {
                tt_space_dims_free(dims, desc->n_params);
                return TT_ERR_NOMEM;
            }
        } else {
            /* A range: the config's, or the plugin's own default space. */
            d->lo = p ? p->lo : sp->lo;
            d->hi = p ? p->hi : sp->hi;
            int integral = sp->kind == TT_PARAM_INT || (p && p->kind == TT_SPACE_RANDINT);
            int log_scale = p ? p->kind == TT_SPACE_LOGUNIFORM : sp->kind == TT_PARAM_LOG_REAL;
            d->kind = integral ? TT_DIM_INT : log_scale ? TT_DIM_LOG : TT_DIM_REAL;
            if (integral) {
                d->lo = ceil(d->lo);
                d->hi = floor(d->hi);
            }
        }
    }
    fix_never_active(desc, dims);
    *out = dims;
    return TT_OK;
}

/* 1 when some value the space allows for the parent of parameter i (and
 * its parent, and so on) makes i active. */
static int can_be_active(const tt_plugin_descriptor *desc, const tt_space_dim *dims, size_t i)
{
    for (size_t steps = 0; steps <= desc->n_params; steps++) {
        size_t parent;
        const tt_plugin_condition *k = tt_param_condition(desc, i, &parent);
        if (!k)
            return 1;
        const tt_space_dim *d = &dims[parent];
        const double *vals = d->kind == TT_DIM_FIXED ? &d->fixed : d->values;
        size_t n_vals = d->kind == TT_DIM_FIXED ? 1 : d->kind == TT_DIM_CATEGORY ? d->n_values : 0;
        const char *const *choices = desc->params[parent].choices;
        int any = 0;
        for (size_t v = 0; v < n_vals && !any; v++)
            for (size_t w = 0; k->values[w] && !any; w++)
                any = strcmp(k->values[w], choices[(size_t)vals[v]]) == 0;
        if (!any)
            return 0;
        i = parent;
    }
    return 0;
}

/* A parameter the space never activates (its parent is pinned to another
 * choice) is not searched: it stays at its schema default. */
static void fix_never_active(const tt_plugin_descriptor *desc, tt_space_dim *dims)
{
    unsigned char never[desc->n_params + 1];
    for (size_t i = 0; i < desc->n_params; i++)
        never[i] = !can_be_active(desc, dims, i);
    for (size_t i = 0; i < desc->n_params; i++) {
        if (!never[i])
            continue;
        free(dims[i].values);
        dims[i] = (tt_space_dim){.kind = TT_DIM_FIXED, .fixed = desc->params[i].default_value};
    }
}

void tt_space_dims_free(tt_space_dim *dims, size_t n)
{
    for (size_t i = 0; dims && i < n; i++)
        free(dims[i].values);
    free(dims);
}

size_t tt_space_free_dims(const tt_space_dim *dims, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += dims[i].kind != TT_DIM_FIXED;
    return k;
}

void tt_space_from_unit(const tt_space_dim *dims, size_t n, const double *u, double *point)
{
    for (size_t i = 0; i < n; i++) {
        const tt_space_dim *d = &dims[i];
        double t = u[i] < 0 ? 0 : u[i] > 1 ? 1 : u[i];
        switch (d->kind) {
        case TT_DIM_FIXED: point[i] = d->fixed; break;
        case TT_DIM_REAL: point[i] = d->lo + t * (d->hi - d->lo); break;
        case TT_DIM_LOG: point[i] = exp(log(d->lo) + t * (log(d->hi) - log(d->lo))); break;
        case TT_DIM_INT: point[i] = fmin(d->hi, d->lo + floor(t * (d->hi - d->lo + 1))); break;
        case TT_DIM_CATEGORY: {
            size_t k = (size_t)(t * (double)d->n_values);
            point[i] = d->values[k < d->n_values ? k : d->n_values - 1];
            break;
        }
        }
        /* exp(log(x)) can land a hair outside the range; the range is a promise. */
        if (d->kind == TT_DIM_LOG || d->kind == TT_DIM_REAL)
            point[i] = fmin(d->hi, fmax(d->lo, point[i]));
    }
}

void tt_space_to_unit(const tt_space_dim *dims, size_t n, const double *point, double *u)
{
    for (size_t i = 0; i < n; i++) {
        const tt_space_dim *d = &dims[i];
        double v = point[i];
        switch (d->kind) {
        case TT_DIM_FIXED: u[i] = 0.5; break;
        case TT_DIM_REAL: u[i] = d->hi > d->lo ? (v - d->lo) / (d->hi - d->lo) : 0.5; break;
        case TT_DIM_LOG:
            u[i] = d->hi > d->lo ? (log(v) - log(d->lo)) / (log(d->hi) - log(d->lo)) : 0.5;
            break;
        case TT_DIM_INT: u[i] = (v - d->lo + 0.5) / (d->hi - d->lo + 1); break;
        case TT_DIM_CATEGORY: {
            size_t k = 0;
            while (k < d->n_values && d->values[k] != v)
                k++;
            u[i] = ((double)(k < d->n_values ? k : 0) + 0.5) / (double)d->n_values;
            break;
        }
        }
        u[i] = u[i] < 0 ? 0 : u[i] > 1 ? 1 : u[i];
    }
}

tt_status tt_space_sample(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                          tt_rng *rng, double *point)
{
    tt_space_dim *dims = NULL;
    double *u = calloc(desc->n_params + 1, sizeof *u);
    if (!u || tt_space_dims(space, desc, &dims) != TT_OK) {
        free(u);
        return TT_ERR_NOMEM;
    }
    for (size_t i = 0; i < desc->n_params; i++)
        u[i] = tt_rng_uniform(rng);
    tt_space_from_unit(dims, desc->n_params, u, point);
    tt_point_canonical(desc, point);
    tt_space_dims_free(dims, desc->n_params);
    free(u);
    return TT_OK;
}

int tt_space_point_equal(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}
