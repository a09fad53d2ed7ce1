/* csv_concat.c - stacking tables with the same header (csv.h). */
#include "data/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* Cell text of a column as the reader typed it (numbers in shortest form:
 * a column that is a number in one file and text in another becomes text). */
static char *text_of(const tt_csv_column *c, size_t i)
{
    if (c->kind == TT_CSV_STRING)
        return tt_strdup(c->str[i]);
    char buf[64];
    tt_csv_format_number(c->num[i], buf, sizeof buf);
    return tt_strdup(buf);
}

static int fill_column(tt_csv_column *dst, tt_csv_table *const *in, size_t n_in, size_t j,
                       size_t rows)
{
    int numeric = 1;
    for (size_t k = 0; k < n_in; k++)
        numeric &= in[k]->cols[j].kind == TT_CSV_NUMERIC;
    dst->kind = numeric ? TT_CSV_NUMERIC : TT_CSV_STRING;
    dst->missing = calloc(rows ? rows : 1, 1);
    if (numeric)
        dst->num = tt_malloc_array(rows ? rows : 1, sizeof(double));
    else
        dst->str = calloc(rows ? rows : 1, sizeof(char *));
    if (!dst->missing || (numeric ? !dst->num : !dst->str))
        return 0;
    size_t at = 0;
    for (size_t k = 0; k < n_in; k++) {
        const tt_csv_column *c = &in[k]->cols[j];
        for (size_t i = 0; i < in[k]->n_rows; i++, at++) {
            dst->missing[at] = c->missing[i];
            dst->n_missing += c->missing[i];
            if (numeric)
                dst->num[at] = c->num[i];
            else if (!c->missing[i] && !(dst->str[at] = text_of(c, i)))
                return 0;
        }
    }
    return 1;
}

tt_status tt_csv_concat(tt_csv_table *const *in, size_t n_in, tt_csv_table **out, char *err,
                        size_t errlen)
{
    if (!out || !in || n_in == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_concat: bad arguments");
    *out = NULL;
    const tt_csv_table *first = in[0];
    size_t rows = 0, plen = 0;
    for (size_t k = 0; k < n_in; k++) {
        const tt_csv_table *t = in[k];
        rows += t->n_rows;
        plen += strlen(t->path) + 3;
        if (t->n_cols != first->n_cols)
            return tt_errf(err, errlen, TT_ERR_DATA, "%s has %zu columns but %s has %zu; files "
                           "read together need the same header", t->path, t->n_cols,
                           first->path, first->n_cols);
        for (size_t j = 0; j < t->n_cols; j++)
            if (strcmp(t->cols[j].name, first->cols[j].name) != 0)
                return tt_errf(err, errlen, TT_ERR_DATA, "%s: column %zu is '%s' but in %s it "
                               "is '%s'; files read together need the same header", t->path,
                               j + 1, t->cols[j].name, first->path, first->cols[j].name);
    }
    tt_csv_table *t = calloc(1, sizeof *t);
    if (!t)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    t->n_cols = first->n_cols;
    t->path = malloc(plen + 1);
    t->cols = calloc(t->n_cols ? t->n_cols : 1, sizeof *t->cols);
    t->line = tt_malloc_array(rows ? rows : 1, sizeof(size_t));
    int ok = t->path && t->cols && t->line;
    if (ok) {
        /* Messages name "a.csv + b.csv"; lines count within each file. */
        t->path[0] = '\0';
        for (size_t k = 0; k < n_in; k++)
            strcat(strcat(t->path, k ? " + " : ""), in[k]->path);
        size_t at = 0;
        for (size_t k = 0; k < n_in; k++)
            for (size_t i = 0; i < in[k]->n_rows; i++)
                t->line[at++] = in[k]->line[i];
    }
    t->n_rows = rows;
    for (size_t j = 0; ok && j < t->n_cols; j++)
        ok = (t->cols[j].name = tt_strdup(first->cols[j].name)) &&
             fill_column(&t->cols[j], in, n_in, j, rows);
    if (!ok || tt_csv_index_names(t) != 0) {
        tt_csv_free(t);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory stacking files");
    }
    *out = t;
    return TT_OK;
}
