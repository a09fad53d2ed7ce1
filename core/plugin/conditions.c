/* conditions.c - checking condition tables and evaluating them on points (see conditions.h). */
#include "plugin/conditions.h"

#include <stdio.h>
#include <string.h>

#include "plugin/registry.h"
#include "util/err.h"

const tt_plugin_condition *tt_plugin_conditions(const tt_plugin_descriptor *d, size_t *n)
{
    /* A 1.4 descriptor ends before the table: reading it would read past the
     * plugin's struct. */
    if (d->abi_minor < 5 || d->struct_size < TT_PLUGIN_DESCRIPTOR_SIZE_V1_5 || !d->conditions ||
        d->n_conditions == 0) {
        *n = 0;
        return NULL;
    }
    *n = d->n_conditions;
    return d->conditions;
}

static long param_index(const tt_plugin_descriptor *d, const char *name)
{
    for (size_t i = 0; name && i < d->n_params; i++)
        if (strcmp(d->params[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int has_choice(const tt_plugin_param *p, const char *name)
{
    for (size_t k = 0; p->choices[k]; k++)
        if (strcmp(p->choices[k], name) == 0)
            return 1;
    return 0;
}

/* The checks of one entry that need no other entry. */
static tt_status validate_entry(const tt_plugin_descriptor *d, size_t c, char *err, size_t errlen)
{
    const tt_plugin_condition *k = &d->conditions[c];
    if (!k->param || param_index(d, k->param) < 0)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "condition %zu: parameter '%.64s' is not in the schema", c,
                       k->param ? k->param : "(null)");
    long parent = param_index(d, k->parent);
    if (parent < 0)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "condition on '%s': parent '%.64s' is not in the schema", k->param,
                       k->parent ? k->parent : "(null)");
    if (strcmp(k->param, k->parent) == 0)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "condition on '%s': a parameter cannot be conditioned on itself",
                       k->param);
    const tt_plugin_param *pp = &d->params[parent];
    if (pp->kind != TT_PARAM_CHOICE)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "condition on '%s': parent '%s' is a %s parameter, not a choice",
                       k->param, k->parent, tt_param_kind_name(pp->kind));
    if (!k->values || !k->values[0])
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "condition on '%s': no values of '%s' listed", k->param, k->parent);
    for (size_t v = 0; k->values[v]; v++) {
        if (!has_choice(pp, k->values[v]))
            return tt_errf(err, errlen, TT_ERR_PLUGIN,
                           "condition on '%s': '%.64s' is not a choice of '%s'", k->param,
                           k->values[v], k->parent);
        for (size_t w = 0; w < v; w++)
            if (strcmp(k->values[w], k->values[v]) == 0)
                return tt_errf(err, errlen, TT_ERR_PLUGIN,
                               "condition on '%s': value '%s' is listed twice", k->param,
                               k->values[v]);
    }
    for (size_t j = 0; j < c; j++)
        if (strcmp(d->conditions[j].param, k->param) == 0)
            return tt_errf(err, errlen, TT_ERR_PLUGIN,
                           "parameter '%s' has two conditions (entries %zu and %zu)", k->param,
                           j, c);
    return TT_OK;
}

tt_status tt_conditions_validate(const tt_plugin_descriptor *d, char *err, size_t errlen)
{
    if (d->abi_minor < 5 || d->struct_size < TT_PLUGIN_DESCRIPTOR_SIZE_V1_5)
        return TT_OK;
    if (d->n_conditions > 0 && !d->conditions)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "n_conditions is %zu but conditions is NULL", d->n_conditions);
    for (size_t c = 0; c < d->n_conditions; c++) {
        tt_status st = validate_entry(d, c, err, errlen);
        if (st != TT_OK)
            return st;
    }
    /* With one condition per parameter every chain of parents is a path; it
     * is a cycle when it is longer than the schema. */
    for (size_t i = 0; i < d->n_params; i++) {
        size_t at = i, steps = 0, parent;
        while (tt_param_condition(d, at, &parent)) {
            at = parent;
            if (++steps > d->n_params)
                return tt_errf(err, errlen, TT_ERR_PLUGIN,
                               "conditions form a cycle through parameter '%s'",
                               d->params[i].name);
        }
    }
    return TT_OK;
}

const tt_plugin_condition *tt_param_condition(const tt_plugin_descriptor *d, size_t i,
                                              size_t *parent)
{
    size_t n;
    const tt_plugin_condition *table = tt_plugin_conditions(d, &n);
    for (size_t c = 0; c < n; c++) {
        if (strcmp(table[c].param, d->params[i].name) != 0)
            continue;
        long p = param_index(d, table[c].parent);
        if (p < 0)
            return NULL; /* only an unvalidated descriptor gets here */
        if (parent)
            *parent = (size_t)p;
        return &table[c];
    }
    return NULL;
}

int tt_param_active(const tt_plugin_descriptor *d, const double *point, size_t i)
{
    /* Walk up the chain of parents; validation guarantees it ends, the step
     * bound keeps an unvalidated table from looping. */
    for (size_t steps = 0; steps <= d->n_params; steps++) {
        size_t parent;
        const tt_plugin_condition *k = tt_param_condition(d, i, &parent);
        if (!k)
            return 1;
        const tt_plugin_param *pp = &d->params[parent];
        double v = point[parent];
        size_t n_choices = 0;
        while (pp->choices && pp->choices[n_choices])
            n_choices++;
        if (!(v >= 0 && v < (double)n_choices))
            return 0;
        int listed = 0;
        for (size_t w = 0; k->values[w] && !listed; w++)
            listed = strcmp(k->values[w], pp->choices[(size_t)v]) == 0;
        if (!listed)
            return 0;
        i = parent;
    }
    return 0;
}

void tt_point_canonical(const tt_plugin_descriptor *d, double *point)
{
    size_t n;
    if (!tt_plugin_conditions(d, &n))
        return;
    /* Resetting a parent can deactivate its children, so decide every
     * parameter's activity on the point as given before changing any. */
    unsigned char inactive[d->n_params + 1];
    for (size_t i = 0; i < d->n_params; i++)
        inactive[i] = !tt_param_active(d, point, i);
    for (size_t i = 0; i < d->n_params; i++)
        if (inactive[i])
            point[i] = d->params[i].default_value;
}

void tt_param_condition_text(const tt_plugin_descriptor *d, size_t i, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    const tt_plugin_condition *k = tt_param_condition(d, i, NULL);
    if (!k)
        return;
    size_t used = 0;
    int n = snprintf(buf, len, "only when %s is ", k->parent);
    for (size_t w = 0; n >= 0 && (size_t)n < len - used && k->values[w]; w++) {
        used += (size_t)n;
        const char *sep = w == 0 ? "" : k->values[w + 1] ? ", " : " or ";
        n = snprintf(buf + used, len - used, "%s%s", sep, k->values[w]);
    }
}
