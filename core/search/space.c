/* space.c - checking a config's space against a plugin schema, and drawing points. */
#include "search/space.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
}

static double draw_range(tt_rng *rng, tt_param_kind kind, int log_scale, double lo, double hi)
{
    if (kind == TT_PARAM_INT) {
        double span = floor(hi) - ceil(lo) + 1;
        return ceil(lo) + (double)tt_rng_below(rng, (uint64_t)span);
    }
    double u = tt_rng_uniform(rng);
    if (log_scale)
        return exp(log(lo) + u * (log(hi) - log(lo)));
    return lo + u * (hi - lo);
}

void tt_space_sample(const tt_space_estimator *space, const tt_plugin_descriptor *desc,
                     tt_rng *rng, double *point)
{
    char why[8];
    for (size_t i = 0; i < desc->n_params; i++) {
        const tt_plugin_param *sp = &desc->params[i];
        const tt_space_param *p = space_find(space, sp->name);
        double v = sp->default_value;
        if (!p) {
            /* The plugin's own default space. */
            switch (sp->kind) {
            case TT_PARAM_BOOL: v = (double)tt_rng_below(rng, 2); break;
            case TT_PARAM_CHOICE: v = (double)tt_rng_below(rng, choice_count(sp)); break;
            default: v = draw_range(rng, sp->kind, sp->kind == TT_PARAM_LOG_REAL, sp->lo, sp->hi);
            }
        } else {
            switch (p->kind) {
            case TT_SPACE_FIXED:
                value_to_coord(sp, &p->fixed, &v, why, sizeof why);
                break;
            case TT_SPACE_CHOICE:
                value_to_coord(sp, &p->options[tt_rng_below(rng, p->n_options)], &v, why,
                               sizeof why);
                break;
            case TT_SPACE_UNIFORM:
            case TT_SPACE_LOGUNIFORM:
            case TT_SPACE_RANDINT:
                v = draw_range(rng, p->kind == TT_SPACE_RANDINT ? TT_PARAM_INT : sp->kind,
                               p->kind == TT_SPACE_LOGUNIFORM, p->lo, p->hi);
                if (sp->kind == TT_PARAM_INT || p->kind == TT_SPACE_RANDINT)
                    v = floor(v);
                break;
            }
        }
        point[i] = v;
    }
}

int tt_space_point_equal(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}
