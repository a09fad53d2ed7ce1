/* prune.c - counting failures per choice value and steering proposals away (see prune.h). */
#include "search/prune.h"

#include <stdlib.h>

#include "plugin/conditions.h"

struct tt_prune {
    const tt_plugin_descriptor *desc;
    const tt_space_dim *dims;
    size_t n;
    size_t *first;  /* n + 1 offsets into ok/bad: dimension i's values start at first[i] */
    size_t *ok;     /* per value: trials that ran with it */
    size_t *bad;    /* per value: failures blamed on it */
};

void tt_prune_free(tt_prune *p)
{
    if (!p)
        return;
    free(p->first);
    free(p->ok);
    free(p->bad);
    free(p);
}

tt_prune *tt_prune_new(const tt_plugin_descriptor *desc, const tt_space_dim *dims)
{
    tt_prune *p = calloc(1, sizeof *p);
    size_t n = desc->n_params;
    if (!p || !(p->first = calloc(n + 1, sizeof *p->first))) {
        tt_prune_free(p);
        return NULL;
    }
    p->desc = desc;
    p->dims = dims;
    p->n = n;
    for (size_t i = 0; i < n; i++)
        p->first[i + 1] = p->first[i] + (dims[i].kind == TT_DIM_CATEGORY ? dims[i].n_values : 0);
    p->ok = calloc(p->first[n] + 1, sizeof *p->ok);
    p->bad = calloc(p->first[n] + 1, sizeof *p->bad);
    if (!p->ok || !p->bad) {
        tt_prune_free(p);
        return NULL;
    }
    return p;
}

/* The slot of value v of category dimension i, or -1 (not a category, or a
 * value outside the space: a resumed trial of an older config). */
static long slot_of(const tt_prune *p, size_t i, double v)
{
    const tt_space_dim *d = &p->dims[i];
    if (d->kind != TT_DIM_CATEGORY)
        return -1;
    for (size_t k = 0; k < d->n_values; k++)
        if (d->values[k] == v)
            return (long)(p->first[i] + k);
    return -1;
}

void tt_prune_observe(tt_prune *p, const double *point, tt_trial_status status)
{
    int ran = status == TT_TRIAL_OK;
    long suspect = -1;
    size_t n_suspects = 0;
    for (size_t i = 0; i < p->n; i++) {
        long s = slot_of(p, i, point[i]);
        if (s < 0 || !tt_param_active(p->desc, point, i))
            continue;
        if (ran)
            p->ok[s]++;
        else if (p->ok[s] == 0) {
            suspect = s;
            n_suspects++;
        }
    }
    if (!ran && n_suspects == 1)
        p->bad[suspect] += status == TT_TRIAL_TIMEOUT ? TT_PRUNE_FAILS : 1;
}

static int slot_pruned(const tt_prune *p, size_t s)
{
    return p->ok[s] == 0 && p->bad[s] >= TT_PRUNE_FAILS;
}

int tt_prune_is_pruned(const tt_prune *p, size_t i, double value)
{
    long s = slot_of(p, i, value);
    return s >= 0 && slot_pruned(p, (size_t)s);
}

void tt_prune_repair(const tt_prune *p, tt_rng *rng, double *point)
{
    int changed = 0;
    for (size_t i = 0; i < p->n; i++) {
        long s = slot_of(p, i, point[i]);
        /* Activity on the point as repaired so far: parents come first in
         * every schema the kit builds, so a parent's new value is in place. */
        if (s < 0 || !slot_pruned(p, (size_t)s) || !tt_param_active(p->desc, point, i))
            continue;
        const tt_space_dim *d = &p->dims[i];
        size_t open = 0;
        for (size_t k = 0; k < d->n_values; k++)
            open += !slot_pruned(p, p->first[i] + k);
        if (open == 0)
            continue;
        size_t pick = (size_t)tt_rng_below(rng, open);
        for (size_t k = 0; k < d->n_values; k++) {
            if (slot_pruned(p, p->first[i] + k))
                continue;
            if (pick-- == 0) {
                point[i] = d->values[k];
                break;
            }
        }
        changed = 1;
    }
    if (changed)
        tt_point_canonical(p->desc, point);
}
