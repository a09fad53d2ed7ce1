/* point_set.c - open addressing with linear probing over trial indices. */
#include "search/point_set.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/space.h"

static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

static uint64_t hash_point(size_t est, const double *point, size_t np)
{
    uint64_t h = mix((uint64_t)est + 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < np; i++) {
        /* -0.0 == 0.0 for the search: both hash as 0. */
        double v = point[i] == 0.0 ? 0.0 : point[i];
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        h = mix(h ^ bits);
    }
    return h;
}

static size_t params_of(const tt_trial_result *r)
{
    return r->desc ? r->desc->n_params : 0;
}

static void place(size_t *slots, size_t cap, const tt_trial_result *trials, size_t i)
{
    const tt_trial_result *r = &trials[i];
    size_t k = (size_t)hash_point(r->estimator, r->point, params_of(r)) & (cap - 1);
    while (slots[k])
        k = (k + 1) & (cap - 1);
    slots[k] = i + 1;
}

int tt_point_set_add(tt_point_set *set, const tt_trial_result *trials, size_t i)
{
    /* At most half full, so probes stay short. */
    if (2 * (set->n + 1) > set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 64;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t k = 0; k < set->cap; k++)
            if (set->slots[k])
                place(slots, cap, trials, set->slots[k] - 1);
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    place(set->slots, set->cap, trials, i);
    set->n++;
    return 0;
}

int tt_point_set_has(const tt_point_set *set, const tt_trial_result *trials, size_t est,
                     const double *point, size_t np)
{
    if (set->cap == 0)
        return 0;
    size_t k = (size_t)hash_point(est, point, np) & (set->cap - 1);
    for (; set->slots[k]; k = (k + 1) & (set->cap - 1)) {
        const tt_trial_result *r = &trials[set->slots[k] - 1];
        if (r->estimator == est && params_of(r) == np && tt_space_point_equal(r->point, point, np))
            return 1;
    }
    return 0;
}

void tt_point_set_clear(tt_point_set *set)
{
    if (set->slots)
        memset(set->slots, 0, set->cap * sizeof *set->slots);
    set->n = 0;
}

void tt_point_set_free(tt_point_set *set)
{
    free(set->slots);
    memset(set, 0, sizeof *set);
}
