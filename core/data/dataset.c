/* dataset.c - turning a typed CSV table plus column roles into a dataset. */
#include "data/dataset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/mem.h"

/* One column the config refers to, with the role it plays in messages. */
typedef struct role_ref {
    const char *name;
    const char *role; /* "outcome", "treatment", "x", "w", "true_effect" */
    long col;
} role_ref;

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

static tt_status resolve(const tt_csv_table *t, role_ref *r, char *err, size_t errlen)
{
    size_t count = 0;
    long first = -1, second = -1;
    for (size_t j = 0; j < t->n_cols; j++) {
        if (strcmp(t->cols[j].name, r->name) != 0)
            continue;
        if (count == 0)
            first = (long)j;
        else if (count == 1)
            second = (long)j;
        count++;
    }
    if (count == 1) {
        r->col = first;
        return TT_OK;
    }
    if (count > 1)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "%s column '%s' is ambiguous in %s: the header has %zu columns with that "
                       "name (columns %ld and %ld%s); rename them", r->role, r->name, t->path,
                       count, first + 1, second + 1, count > 2 ? ", ..." : "");
    const char *hint = suggest(t, r->name);
    if (hint)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "%s column '%s' not found in %s; did you mean '%s'?", r->role, r->name,
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
    return tt_errf(err, errlen, TT_ERR_CONFIG, "%s column '%s' not found in %s; the columns are: %s",
                   r->role, r->name, t->path, list);
}

/* Checks shared by every numeric role: type, missing cells, non-finite values. */
static tt_status check_numeric(const tt_csv_table *t, const role_ref *r, char *err, size_t errlen)
{
    const tt_csv_column *c = &t->cols[r->col];
    if (c->kind != TT_CSV_NUMERIC) {
        for (size_t i = 0; i < t->n_rows; i++) {
            double v;
            if (!c->missing[i] && !tt_csv_parse_number(c->str[i], &v))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: line %zu: %s column '%s' must be numeric, but has '%s'",
                               t->path, t->line[i], r->role, r->name, c->str[i]);
        }
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        if (c->missing[i])
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "%s: line %zu: %s column '%s' has a missing value (missing values in "
                           "used columns are not supported yet)", t->path, t->line[i], r->role,
                           r->name);
        if (c->kind == TT_CSV_NUMERIC && !isfinite(c->num[i]))
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "%s: line %zu: %s column '%s' has a non-finite value (%g)", t->path,
                           t->line[i], r->role, r->name, c->num[i]);
    }
    return TT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void tt_dataset_free(tt_dataset *ds)
{
    if (!ds)
        return;
    free(ds->source);
    free(ds->x);
    free(ds->w);
    free(ds->y);
    free(ds->t);
    tt_free_strings(ds->arm_labels, ds->arm_labels ? (size_t)ds->n_arms : 0);
    free(ds->tau);
    tt_free_strings(ds->x_names, ds->p_x);
    tt_free_strings(ds->w_names, ds->p_w);
    free(ds->y_name);
    free(ds->t_name);
    free(ds);
}

/* The distinct treatment values in sorted order (labels as text), and for
 * each row its position in that order. Returns 0 on allocation failure. */
static int distinct_arms(const tt_csv_table *t, const tt_csv_column *c, char ***labels_out,
                         size_t *k_out, int *pos)
{
    size_t n = t->n_rows, k = 0;
    char **labels = NULL;
    if (c->kind == TT_CSV_NUMERIC) {
        double *v = tt_malloc_array(n, sizeof(double));
        if (!v)
            return 0;
        for (size_t i = 0; i < n; i++)
            v[i] = c->num[i] == 0.0 ? 0.0 : c->num[i];
        qsort(v, n, sizeof(double), cmp_double);
        for (size_t i = 0; i < n; i++)
            if (k == 0 || v[i] != v[k - 1])
                v[k++] = v[i];
        labels = calloc(k ? k : 1, sizeof(char *));
        for (size_t a = 0; labels && a < k; a++) {
            char buf[64];
            tt_csv_format_number(v[a], buf, sizeof buf);
            if (!(labels[a] = tt_strdup(buf))) {
                tt_free_strings(labels, k);
                labels = NULL;
            }
        }
        for (size_t i = 0; labels && i < n; i++) {
            double key = c->num[i] == 0.0 ? 0.0 : c->num[i];
            double *hit = bsearch(&key, v, k, sizeof(double), cmp_double);
            pos[i] = (int)(hit - v);
        }
        free(v);
    } else {
        const char **s = tt_malloc_array(n, sizeof(char *));
        if (!s)
            return 0;
        memcpy(s, c->str, n * sizeof(char *));
        qsort(s, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
            if (k == 0 || strcmp(s[i], s[k - 1]) != 0)
                s[k++] = s[i];
        labels = calloc(k ? k : 1, sizeof(char *));
        for (size_t a = 0; labels && a < k; a++) {
            if (!(labels[a] = tt_strdup(s[a]))) {
                tt_free_strings(labels, k);
                labels = NULL;
            }
        }
        for (size_t i = 0; labels && i < n; i++) {
            const char *key = c->str[i];
            const char **hit = bsearch(&key, s, k, sizeof(char *), cmp_str);
            pos[i] = (int)(hit - s);
        }
        free(s);
    }
    if (!labels)
        return 0;
    *labels_out = labels;
    *k_out = k;
    return 1;
}

/* The config's control may be written differently from the printed label
 * ("1.0" for value 1), so numeric columns also compare by value. */
static long find_control(const tt_csv_column *c, char **labels, size_t k, const char *control)
{
    for (size_t a = 0; a < k; a++)
        if (strcmp(labels[a], control) == 0)
            return (long)a;
    double want;
    if (c->kind == TT_CSV_NUMERIC && tt_csv_parse_number(control, &want)) {
        for (size_t a = 0; a < k; a++) {
            double v;
            if (tt_csv_parse_number(labels[a], &v) && v == want)
                return (long)a;
        }
    }
    return -1;
}

static tt_status control_error(const tt_csv_table *t, const role_ref *tr, char **labels,
                               size_t k, const char *control, char *err, size_t errlen)
{
    char list[768];
    size_t used = 0;
    list[0] = '\0';
    for (size_t a = 0; a < k && a < 10 && used < sizeof list; a++) {
        int w = snprintf(list + used, sizeof list - used, "%s'%s'", a ? ", " : "", labels[a]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (k > 10 && used < sizeof list)
        snprintf(list + used, sizeof list - used, " and %zu more", k - 10);
    return tt_errf(err, errlen, TT_ERR_CONFIG,
                   "control label '%s' is not a value of treatment column '%s' in %s; values "
                   "seen: %s", control, tr->name, t->path, list);
}

static int copy_names(char ***dst, const char *const *src, size_t n)
{
    if (n == 0)
        return 1;
    *dst = calloc(n, sizeof(char *));
    if (!*dst)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((*dst)[i] = tt_strdup(src[i])))
            return 0;
    return 1;
}

/* Column-major copy of the listed numeric columns. */
static double *gather(const tt_csv_table *t, const role_ref *refs, size_t p)
{
    if (p == 0)
        return NULL;
    size_t n = t->n_rows;
    if (n != 0 && p > ((size_t)-1) / n)
        return NULL;
    double *m = tt_malloc_array(n * p, sizeof(double));
    for (size_t j = 0; m && j < p; j++)
        memcpy(m + j * n, t->cols[refs[j].col].num, n * sizeof(double));
    return m;
}

tt_status tt_dataset_from_csv(const tt_csv_table *table, const tt_roles *roles,
                              tt_dataset **out, char *err, size_t errlen)
{
    if (!out || !table || !roles)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_dataset_from_csv: NULL argument");
    *out = NULL;
    if (!roles->outcome || !roles->treatment)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: the outcome and treatment columns must "
                       "be named", table->path);
    if (!roles->control)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: the control arm label must be given",
                       table->path);
    if ((roles->n_x && !roles->x) || (roles->n_w && !roles->w) ||
        (roles->n_true_effect && !roles->true_effect))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_dataset_from_csv: NULL role list");

    size_t n_refs = 2 + roles->n_x + roles->n_w + roles->n_true_effect;
    role_ref *refs = tt_malloc_array(n_refs, sizeof *refs);
    if (!refs)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    size_t r = 0;
    refs[r++] = (role_ref){roles->outcome, "outcome", -1};
    refs[r++] = (role_ref){roles->treatment, "treatment", -1};
    for (size_t i = 0; i < roles->n_x; i++)
        refs[r++] = (role_ref){roles->x[i], "x", -1};
    for (size_t i = 0; i < roles->n_w; i++)
        refs[r++] = (role_ref){roles->w[i], "w", -1};
    for (size_t i = 0; i < roles->n_true_effect; i++)
        refs[r++] = (role_ref){roles->true_effect[i], "true_effect", -1};
    const role_ref *x_refs = refs + 2, *w_refs = x_refs + roles->n_x;
    const role_ref *te_refs = w_refs + roles->n_w;

    tt_status st = TT_OK;
    tt_dataset *ds = NULL;
    int *pos = NULL;
    char **labels = NULL;
    size_t k = 0;
    for (r = 0; r < n_refs && st == TT_OK; r++) {
        if (!refs[r].name)
            st = tt_errf(err, errlen, TT_ERR_INVALID, "%s column name is NULL", refs[r].role);
        else
            st = resolve(table, &refs[r], err, errlen);
    }
    /* Names are unique by now (ambiguity was an error), so the same index
     * means the same name. */
    for (size_t a = 0; a < n_refs && st == TT_OK; a++)
        for (size_t b = a + 1; b < n_refs && st == TT_OK; b++)
            if (refs[a].col == refs[b].col)
                st = tt_errf(err, errlen, TT_ERR_CONFIG,
                             "column '%s' of %s is used twice: as %s and as %s", refs[a].name,
                             table->path, refs[a].role, refs[b].role);
    for (r = 0; r < n_refs && st == TT_OK; r++) {
        if (r == 1)
            continue; /* the treatment may be text; checked below */
        st = check_numeric(table, &refs[r], err, errlen);
    }
    if (st != TT_OK)
        goto done;

    const tt_csv_column *tc = &table->cols[refs[1].col];
    for (size_t i = 0; i < table->n_rows; i++) {
        if (tc->missing[i]) {
            st = tt_errf(err, errlen, TT_ERR_DATA,
                         "%s: line %zu: treatment column '%s' has a missing value (missing "
                         "values in used columns are not supported yet)", table->path,
                         table->line[i], refs[1].name);
            goto done;
        }
        if (tc->kind == TT_CSV_NUMERIC && !isfinite(tc->num[i])) {
            st = tt_errf(err, errlen, TT_ERR_DATA,
                         "%s: line %zu: treatment column '%s' has a non-finite value (%g)",
                         table->path, table->line[i], refs[1].name, tc->num[i]);
            goto done;
        }
    }
    if (table->n_rows == 0) {
        st = tt_errf(err, errlen, TT_ERR_DATA, "%s has no data rows", table->path);
        goto done;
    }
    pos = tt_malloc_array(table->n_rows, sizeof(int));
    if (!pos || !distinct_arms(table, tc, &labels, &k, pos))
        goto nomem;
    long control = find_control(tc, labels, k, roles->control);
    if (control < 0) {
        st = control_error(table, &refs[1], labels, k, roles->control, err, errlen);
        goto done;
    }
    if (k < 2) {
        st = tt_errf(err, errlen, TT_ERR_DATA,
                     "treatment column '%s' in %s has only one value ('%s'); at least 2 arms "
                     "are needed", refs[1].name, table->path, labels[0]);
        goto done;
    }
    if (k > INT_MAX) {
        st = tt_errf(err, errlen, TT_ERR_DATA, "treatment column '%s' in %s has %zu distinct "
                     "values, too many arms", refs[1].name, table->path, k);
        goto done;
    }
    if (roles->n_true_effect != 0 && roles->n_true_effect != k - 1) {
        st = tt_errf(err, errlen, TT_ERR_CONFIG,
                     "%s: %zu true-effect columns given, but treatment '%s' has %zu arms "
                     "(expected 0 or %zu, one per non-control arm)", table->path,
                     roles->n_true_effect, refs[1].name, k, k - 1);
        goto done;
    }

    ds = calloc(1, sizeof *ds);
    if (!ds)
        goto nomem;
    size_t n = table->n_rows;
    ds->n = n;
    ds->p_x = roles->n_x;
    ds->p_w = roles->n_w;
    ds->n_arms = (int)k;
    /* Control first, the others keep their sorted order. */
    ds->arm_labels = calloc(k, sizeof(char *));
    if (!ds->arm_labels)
        goto nomem;
    ds->arm_labels[0] = labels[control];
    for (size_t a = 0, o = 1; a < k; a++)
        if ((long)a != control)
            ds->arm_labels[o++] = labels[a];
    free(labels);
    labels = NULL;
    ds->t = tt_malloc_array(n, sizeof(int));
    ds->y = tt_malloc_array(n, sizeof(double));
    ds->source = tt_strdup(table->path);
    ds->y_name = tt_strdup(refs[0].name);
    ds->t_name = tt_strdup(refs[1].name);
    if (!ds->t || !ds->y || !ds->source || !ds->y_name || !ds->t_name)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        ds->t[i] = pos[i] == control ? 0 : pos[i] < control ? pos[i] + 1 : pos[i];
    memcpy(ds->y, table->cols[refs[0].col].num, n * sizeof(double));
    ds->x = gather(table, x_refs, ds->p_x);
    ds->w = gather(table, w_refs, ds->p_w);
    ds->tau = gather(table, te_refs, roles->n_true_effect);
    if ((ds->p_x && !ds->x) || (ds->p_w && !ds->w) || (roles->n_true_effect && !ds->tau))
        goto nomem;
    if (!copy_names(&ds->x_names, roles->x, ds->p_x) ||
        !copy_names(&ds->w_names, roles->w, ds->p_w))
        goto nomem;
    *out = ds;
    ds = NULL;
    goto done;

nomem:
    st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory building the dataset",
                 table->path);
done:
    tt_free_strings(labels, k);
    free(pos);
    free(refs);
    tt_dataset_free(ds);
    return st;
}

tt_status tt_dataset_subset(const tt_dataset *ds, const size_t *idx, size_t m,
                            tt_dataset **out, char *err, size_t errlen)
{
    if (!out || !ds || (!idx && m > 0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_dataset_subset: NULL argument");
    *out = NULL;
    for (size_t i = 0; i < m; i++)
        if (idx[i] >= ds->n)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "tt_dataset_subset: row %zu out of range (n = %zu)", idx[i], ds->n);
    size_t n = ds->n, p_tau = ds->tau ? (size_t)ds->n_arms - 1 : 0;
    tt_dataset *s = calloc(1, sizeof *s);
    if (!s)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    s->n = m;
    s->p_x = ds->p_x;
    s->p_w = ds->p_w;
    s->n_arms = ds->n_arms;
    s->source = tt_strdup(ds->source);
    s->y_name = tt_strdup(ds->y_name);
    s->t_name = tt_strdup(ds->t_name);
    s->y = tt_malloc_array(m, sizeof(double));
    s->t = tt_malloc_array(m, sizeof(int));
    if (s->p_x)
        s->x = tt_malloc_array(m, s->p_x * sizeof(double));
    if (s->p_w)
        s->w = tt_malloc_array(m, s->p_w * sizeof(double));
    if (p_tau)
        s->tau = tt_malloc_array(m, p_tau * sizeof(double));
    int ok = (!ds->source || s->source) && (!ds->y_name || s->y_name) &&
             (!ds->t_name || s->t_name) && s->y && s->t && (!s->p_x || s->x) &&
             (!s->p_w || s->w) && (!p_tau || s->tau) &&
             copy_names(&s->x_names, (const char *const *)ds->x_names, ds->x_names ? s->p_x : 0) &&
             copy_names(&s->w_names, (const char *const *)ds->w_names, ds->w_names ? s->p_w : 0) &&
             copy_names(&s->arm_labels, (const char *const *)ds->arm_labels,
                        ds->arm_labels ? (size_t)ds->n_arms : 0);
    if (!ok) {
        tt_dataset_free(s);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory copying rows");
    }
    for (size_t i = 0; i < m; i++) {
        size_t r = idx[i];
        s->y[i] = ds->y[r];
        s->t[i] = ds->t[r];
        for (size_t j = 0; j < s->p_x; j++)
            s->x[j * m + i] = ds->x[j * n + r];
        for (size_t j = 0; j < s->p_w; j++)
            s->w[j * m + i] = ds->w[j * n + r];
        for (size_t j = 0; j < p_tau; j++)
            s->tau[j * m + i] = ds->tau[j * n + r];
    }
    *out = s;
    return TT_OK;
}

void tt_dataset_arm_counts(const tt_dataset *ds, size_t *counts)
{
    if (!ds || !counts)
        return;
    for (int a = 0; a < ds->n_arms; a++)
        counts[a] = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (ds->t[i] >= 0 && ds->t[i] < ds->n_arms)
            counts[ds->t[i]]++;
}
