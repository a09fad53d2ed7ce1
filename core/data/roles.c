/* roles.c - column roles to header indices (see roles.h). */
#include "data/roles.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/mem.h"

static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t *row = tt_malloc_array(m + 1, sizeof(size_t));
    if (!row)
        return (size_t)-1;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[m];
    free(row);
    return d;
}

/* A case-insensitive match wins over any typo; otherwise the closest name
 * within distance 2 (first in header order on ties). */
static const char *suggest(const tt_csv_table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (strcasecmp(t->cols[j].name, name) == 0)
            return t->cols[j].name;
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t j = 0; j < t->n_cols; j++) {
        size_t d = edit_distance(t->cols[j].name, name);
        if (d < best_d) {
            best_d = d;
            best = t->cols[j].name;
        }
    }
    return best;
}

static size_t count_name(const tt_csv_table *t, const char *name, long *first, long *second)
{
    return tt_csv_name_count(t, name, first, second);
}

static tt_status resolve_name(const tt_csv_table *t, const char *role, const char *name,
                              long *col, char *err, size_t errlen)
{
    long first = -1, second = -1;
    size_t count = count_name(t, name, &first, &second);
    if (count == 1) {
        *col = first;
        return TT_OK;
    }
    if (count > 1)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "%s column '%s' is ambiguous in %s: the header has %zu columns with that "
                       "name (columns %ld and %ld%s); rename them", role, name, t->path,
                       count, first + 1, second + 1, count > 2 ? ", ..." : "");
    const char *hint = suggest(t, name);
    if (hint)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "%s column '%s' not found in %s; did you mean '%s'?", role, name,
                       t->path, hint);
    /* No close name: list the header so the user can pick. */
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t j = 0; j < t->n_cols && used < sizeof list; j++) {
        int w = snprintf(list + used, sizeof list - used, "%s'%s'", j ? ", " : "",
                         t->cols[j].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return tt_errf(err, errlen, TT_ERR_CONFIG,
                   "%s column '%s' not found in %s; the columns are: %s", role, name, t->path,
                   list);
}

static int is_rest(const char *s)
{
    return strcmp(s, "...") == 0;
}

/* A glob only when it has glob characters and is not literally a header
 * name (a column may be called "a*b"). */
static int is_glob(const tt_csv_table *t, const char *s)
{
    return strpbrk(s, "*?[") && count_name(t, s, NULL, NULL) == 0;
}

/* Role name of each column for "used twice" messages. */
typedef struct usage {
    const char **role;
    const char **name;
} usage;

static tt_status mark(const tt_csv_table *t, usage *u, long col, const char *role,
                      const char *name, char *err, size_t errlen)
{
    if (u->role[col])
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "column '%s' of %s is used twice: as %s and as %s", name, t->path,
                       u->role[col], role);
    u->role[col] = role;
    u->name[col] = name;
    return TT_OK;
}

static tt_status one(const tt_csv_table *t, usage *u, const char *role, const char *name,
                     long *col, char *err, size_t errlen)
{
    *col = -1;
    if (!name)
        return TT_OK;
    tt_status st = resolve_name(t, role, name, col, err, errlen);
    return st ? st : mark(t, u, *col, role, name, err, errlen);
}

/* Explicit list (no patterns allowed): propensities, truths. */
static tt_status list(const tt_csv_table *t, usage *u, const char *role,
                      const char *const *names, size_t n, long **cols, size_t *n_out,
                      char *err, size_t errlen)
{
    *n_out = 0;
    if (n == 0)
        return TT_OK;
    if (!names)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: NULL role list", role);
    if (!(*cols = tt_malloc_array(n, sizeof(long))))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s column name is NULL", role);
        tt_status st = one(t, u, role, names[i], &(*cols)[i], err, errlen);
        if (st)
            return st;
        (*n_out)++;
    }
    return TT_OK;
}

/* true_effect entries: a column, or "A - B" (semi-synthetic data ship the
 * two potential-outcome means, e.g. IHDP's mu1 and mu0). */
static tt_status true_effects(const tt_csv_table *t, usage *u, const tt_roles *r,
                              tt_role_cols *c, char *err, size_t errlen)
{
    size_t n = r->n_true_effect;
    if (n == 0)
        return TT_OK;
    if (!r->true_effect)
        return tt_errf(err, errlen, TT_ERR_INVALID, "true_effect: NULL role list");
    c->true_effect = tt_malloc_array(n, sizeof(long));
    c->true_effect_minus = tt_malloc_array(n, sizeof(long));
    if (!c->true_effect || !c->true_effect_minus)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *nm = r->true_effect[i];
        const char *minus = nm ? strstr(nm, " - ") : NULL;
        c->true_effect_minus[i] = -1;
        c->n_true_effect++;
        tt_status st;
        if (minus && count_name(t, nm, NULL, NULL) == 0) {
            char a[256], b[256];
            snprintf(a, sizeof a, "%.*s", (int)(minus - nm), nm);
            snprintf(b, sizeof b, "%s", minus + 3);
            if ((st = one(t, u, "true_effect", a, &c->true_effect[i], err, errlen)) ||
                (st = one(t, u, "true_effect", b, &c->true_effect_minus[i], err, errlen)))
                return st;
            continue;
        }
        if (!nm)
            return tt_errf(err, errlen, TT_ERR_INVALID, "true_effect column name is NULL");
        if ((st = one(t, u, "true_effect", nm, &c->true_effect[i], err, errlen)))
            return st;
    }
    return TT_OK;
}

/* A name the header holds twice cannot be taken by a pattern either: which
 * of the two would the user mean? */
static tt_status unique_for_pattern(const tt_csv_table *t, size_t j, const char *role,
                                    const char *pattern, char *err, size_t errlen)
{
    long first = -1, second = -1;
    if (count_name(t, t->cols[j].name, &first, &second) > 1)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "%s: duplicate column name '%s' (columns %ld and %ld) matched by %s "
                       "entry '%s'; rename the columns", t->path, t->cols[j].name, first + 1,
                       second + 1, role, pattern);
    return TT_OK;
}

typedef struct feature_list {
    const char *role;
    const char *const *names;
    size_t n;
    long **cols;
    size_t *n_out;
    size_t cap;
} feature_list;

static tt_status push(feature_list *f, long col, char *err, size_t errlen)
{
    if (*f->n_out == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        long *p = realloc(*f->cols, cap * sizeof(long));
        if (!p)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        *f->cols = p;
        f->cap = cap;
    }
    (*f->cols)[(*f->n_out)++] = col;
    return TT_OK;
}

tt_status tt_roles_resolve(const tt_csv_table *t, const tt_roles *r, tt_role_cols *c,
                           char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->outcome = c->treatment = c->id = c->weight = c->split = -1;
    usage u = {calloc(t->n_cols + 1, sizeof(char *)), calloc(t->n_cols + 1, sizeof(char *))};
    tt_status st = TT_OK;
    if (!u.role || !u.name) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = one(t, &u, "outcome", r->outcome, &c->outcome, err, errlen)) ||
        (st = one(t, &u, "treatment", r->treatment, &c->treatment, err, errlen)) ||
        (st = one(t, &u, "id", r->id, &c->id, err, errlen)) ||
        (st = one(t, &u, "weight", r->weight, &c->weight, err, errlen)) ||
        (st = one(t, &u, "split", r->split, &c->split, err, errlen)) ||
        (st = list(t, &u, "propensity", r->propensity, r->n_propensity, &c->prop, &c->n_prop,
                   err, errlen)) ||
        (st = list(t, &u, "true_propensity", r->true_propensity, r->n_true_propensity,
                   &c->true_prop, &c->n_true_prop, err, errlen)) ||
        (st = true_effects(t, &u, r, c, err, errlen)))
        goto done;

    feature_list fl[3] = {
        {"x", r->x, r->n_x, &c->x, &c->n_x, 0},
        {"w", r->w, r->n_w, &c->w, &c->n_w, 0},
        {"z", r->z, r->n_z, &c->z, &c->n_z, 0},
    };
    /* Explicit feature names claim their columns before any pattern runs, so
     * x = {"x*"}, w = {"x9"} puts x9 in w whatever the order. */
    for (int k = 0; k < 3; k++) {
        if (fl[k].n && !fl[k].names) {
            st = tt_errf(err, errlen, TT_ERR_INVALID, "%s: NULL role list", fl[k].role);
            goto done;
        }
        for (size_t i = 0; i < fl[k].n; i++) {
            const char *nm = fl[k].names[i];
            if (!nm) {
                st = tt_errf(err, errlen, TT_ERR_INVALID, "%s column name is NULL", fl[k].role);
                goto done;
            }
            if (is_rest(nm) || is_glob(t, nm))
                continue;
            long col;
            if ((st = resolve_name(t, fl[k].role, nm, &col, err, errlen)) ||
                (st = mark(t, &u, col, fl[k].role, nm, err, errlen)))
                goto done;
        }
    }
    int rest_list = -1;
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < fl[k].n; i++) {
            const char *nm = fl[k].names[i];
            if (is_rest(nm)) {
                if (rest_list >= 0) {
                    st = tt_errf(err, errlen, TT_ERR_CONFIG,
                                 "\"...\" (all remaining columns) appears more than once (in %s "
                                 "and %s)", fl[rest_list].role, fl[k].role);
                    goto done;
                }
                rest_list = k;
                continue;
            }
            if (!is_glob(t, nm)) {
                long col = -1;
                count_name(t, nm, &col, NULL);
                if ((st = push(&fl[k], col, err, errlen)))
                    goto done;
                continue;
            }
            size_t hits = 0;
            for (size_t j = 0; j < t->n_cols; j++) {
                if (u.role[j] || fnmatch(nm, t->cols[j].name, 0) != 0)
                    continue;
                if ((st = unique_for_pattern(t, j, fl[k].role, nm, err, errlen)) ||
                    (st = push(&fl[k], (long)j, err, errlen)))
                    goto done;
                u.role[j] = fl[k].role;
                u.name[j] = t->cols[j].name;
                hits++;
            }
            if (hits == 0) {
                st = tt_errf(err, errlen, TT_ERR_CONFIG,
                             "%s pattern '%s' matches no column of %s that another role does "
                             "not already use", fl[k].role, nm, t->path);
                goto done;
            }
        }
    }
    if (rest_list >= 0) {
        for (size_t j = 0; j < t->n_cols; j++) {
            if (u.role[j])
                continue;
            if ((st = unique_for_pattern(t, j, fl[rest_list].role, "...", err, errlen)) ||
                (st = push(&fl[rest_list], (long)j, err, errlen)))
                goto done;
            u.role[j] = fl[rest_list].role;
        }
    }
    /* A duplicated name is an error even in a column no role uses: the file
     * is ambiguous, and a later config change would meet it by surprise. */
    for (size_t j = 0; j < t->n_cols; j++) {
        long first = -1, second = -1;
        if (count_name(t, t->cols[j].name, &first, &second) > 1) {
            st = tt_errf(err, errlen, TT_ERR_DATA, "%s: duplicate column name '%s' (columns "
                         "%ld and %ld); every column needs its own name, used or not: rename "
                         "one", t->path, t->cols[j].name, first + 1, second + 1);
            goto done;
        }
    }
done:
    free(u.role);
    free(u.name);
    if (st != TT_OK)
        tt_role_cols_free(c);
    return st;
}

void tt_role_cols_free(tt_role_cols *c)
{
    if (!c)
        return;
    free(c->x);
    free(c->w);
    free(c->z);
    free(c->prop);
    free(c->true_prop);
    free(c->true_effect);
    free(c->true_effect_minus);
    memset(c, 0, sizeof *c);
    c->outcome = c->treatment = c->id = c->weight = c->split = -1;
}
