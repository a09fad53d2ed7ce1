/* csv_names.c - a table's header names by hash (csv.h: tt_csv_find,
 * tt_csv_name_count): role matching and preprocessing look every feature up
 * by name, which by linear scans made a 100,000-column file quadratic.
 *
 * Open addressing over the first column of each name (FNV-1a, linear
 * probing, at most half full); columns sharing a name are chained through
 * next_same, so counting a duplicated name costs its duplicates only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"

struct tt_csv_names {
    size_t cap;                  /* power of two, >= 2 n_cols */
    long *slot;                  /* first column of a name, or -1 */
    long *next_same;             /* n_cols: the next column with the same name, or -1 */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t probe(const tt_csv_table *t, const char *name)
{
    const struct tt_csv_names *ix = t->names;
    size_t i = (size_t)hash(name) & (ix->cap - 1);
    while (ix->slot[i] >= 0 && strcmp(t->cols[ix->slot[i]].name, name) != 0)
        i = (i + 1) & (ix->cap - 1);
    return i;
}

int tt_csv_index_names(tt_csv_table *t)
{
    tt_csv_names_free(t);
    struct tt_csv_names *ix = calloc(1, sizeof *ix);
    if (!ix)
        return -1;
    ix->cap = 16;
    while (ix->cap < 2 * t->n_cols)
        ix->cap *= 2;
    ix->slot = malloc(sizeof *ix->slot * ix->cap);
    ix->next_same = malloc(sizeof *ix->next_same * (t->n_cols ? t->n_cols : 1));
    if (!ix->slot || !ix->next_same) {
        free(ix->slot);
        free(ix->next_same);
        free(ix);
        return -1;
    }
    memset(ix->slot, 0xff, sizeof *ix->slot * ix->cap); /* -1 everywhere */
    t->names = ix;
    long *last = malloc(sizeof *last * ix->cap); /* per slot: the chain's tail */
    if (!last) {
        tt_csv_names_free(t);
        return -1;
    }
    for (size_t j = 0; j < t->n_cols; j++) {
        size_t i = probe(t, t->cols[j].name);
        ix->next_same[j] = -1;
        if (ix->slot[i] < 0)
            ix->slot[i] = (long)j;
        else
            ix->next_same[last[i]] = (long)j;
        last[i] = (long)j;
    }
    free(last);
    return 0;
}

void tt_csv_names_free(tt_csv_table *t)
{
    if (!t || !t->names)
        return;
    free(t->names->slot);
    free(t->names->next_same);
    free(t->names);
    t->names = NULL;
}

size_t tt_csv_name_count(const tt_csv_table *t, const char *name, long *first, long *second)
{
    size_t count = 0;
    if (!t || !name)
        return 0;
    if (!t->names) { /* a table built by hand: scan */
        for (size_t j = 0; j < t->n_cols; j++) {
            if (strcmp(t->cols[j].name, name) != 0)
                continue;
            if (count == 0 && first)
                *first = (long)j;
            else if (count == 1 && second)
                *second = (long)j;
            count++;
        }
        return count;
    }
    for (long j = t->names->slot[probe(t, name)]; j >= 0; j = t->names->next_same[j]) {
        if (count == 0 && first)
            *first = j;
        else if (count == 1 && second)
            *second = j;
        count++;
    }
    return count;
}

long tt_csv_find(const tt_csv_table *table, const char *name)
{
    long first = -1;
    return tt_csv_name_count(table, name, &first, NULL) ? first : -1;
}
