/* prep.c - fitting and applying the feature preprocessing (prep.h). */
#include "data/prep_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"

void tt_prep_free(tt_prep *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->f[i].name);
        tt_free_strings(p->f[i].levels, p->f[i].n_levels);
    }
    free(p->f);
    free(p);
}

static size_t width(const tt_prep_feature *pf);

static int bool_value(const char *s, double *v)
{
    if (!strcasecmp(s, "true")) {
        *v = 1;
        return 1;
    }
    if (!strcasecmp(s, "false")) {
        *v = 0;
        return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct level_count {
    const char *text;
    size_t count;
} level_count;

/* Frequency descending, then byte order: deterministic whatever the row order. */
static int cmp_level(const void *a, const void *b)
{
    const level_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Value of a NUM/BOOL feature cell: 0 = missing, 1 = value, -1 = error. */
static int feature_value(const tt_prep_feature *pf, const tt_csv_column *c, size_t i, double *v)
{
    if (c->missing[i])
        return 0;
    if (c->kind == TT_CSV_NUMERIC) {
        *v = c->num[i];
        return 1;
    }
    if (pf->kind == TT_PREP_BOOL && bool_value(c->str[i], v))
        return 1;
    return tt_csv_parse_number(c->str[i], v) ? 1 : -1;
}

static tt_status bad_cell(const tt_csv_table *t, const tt_csv_column *c, size_t i, char *err,
                          size_t errlen)
{
    return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: column '%s' must be %s, but has '%s'",
                   t->path, t->line[i], c->name, "numeric (as when the preprocessing was fitted)",
                   c->kind == TT_CSV_STRING ? c->str[i] : "?");
}

static tt_status fit_numeric(const tt_csv_table *t, const tt_csv_column *c, const size_t *rows,
                             size_t n, tt_prep_feature *pf, char *err, size_t errlen)
{
    double *v = tt_malloc_array(n, sizeof(double));
    if (!v)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t r = 0; r < n; r++) {
        int got = feature_value(pf, c, rows[r], &v[m]);
        if (got < 0) {
            free(v);
            return bad_cell(t, c, rows[r], err, errlen);
        }
        if (got == 0) {
            pf->indicator = 1;
            continue;
        }
        if (!isfinite(v[m])) {
            double bad = v[m];
            free(v);
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: column '%s' has a non-finite "
                           "value (%g)", t->path, t->line[rows[r]], c->name, bad);
        }
        m++;
    }
    if (m == 0) {
        free(v);
        return tt_errf(err, errlen, TT_ERR_DATA, "%s: column '%s' has no value in the %zu "
                       "training rows; drop it from the roles", t->path, c->name, n);
    }
    pf->fill = tt_median_double(v, m);
    free(v);
    return TT_OK;
}

static tt_status fit_categorical(const tt_csv_column *c, const size_t *rows, size_t n,
                                 size_t cap, tt_prep_feature *pf, char *err, size_t errlen)
{
    const char **s = tt_malloc_array(n, sizeof(char *));
    level_count *lc = tt_malloc_array(n, sizeof(level_count));
    if (!s || !lc) {
        free(s);
        free(lc);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++)
        s[r] = c->missing[rows[r]] ? TT_PREP_MISSING_LEVEL : c->str[rows[r]];
    qsort(s, n, sizeof(char *), cmp_str);
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        if (k && strcmp(lc[k - 1].text, s[r]) == 0)
            lc[k - 1].count++;
        else
            lc[k++] = (level_count){s[r], 1};
    }
    qsort(lc, k, sizeof(level_count), cmp_level);
    size_t keep = k < cap ? k : cap;
    pf->has_other = k > keep;
    pf->levels = calloc(keep ? keep : 1, sizeof(char *));
    tt_status st = pf->levels ? TT_OK : TT_ERR_NOMEM;
    for (size_t l = 0; l < keep && st == TT_OK; l++) {
        if (!(pf->levels[l] = tt_strdup(lc[l].text)))
            st = TT_ERR_NOMEM;
        else
            pf->n_levels++;
    }
    free(s);
    free(lc);
    return st ? tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory") : TT_OK;
}

static int all_boolean(const tt_csv_column *c, const size_t *rows, size_t n)
{
    size_t seen = 0;
    for (size_t r = 0; r < n; r++) {
        double v;
        if (c->missing[rows[r]])
            continue;
        if (!bool_value(c->str[rows[r]], &v))
            return 0;
        seen++;
    }
    return seen > 0;
}

tt_status tt_prep_fit(const tt_data_frame *f, const size_t *train, size_t n_train,
                      tt_prep **out, char *err, size_t errlen)
{
    if (!f || !out || (!train && n_train))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_fit: NULL argument");
    *out = NULL;
    const tt_csv_table *t = f->table;
    tt_prep *p = calloc(1, sizeof *p);
    size_t *rows = tt_malloc_array(n_train, sizeof(size_t));
    if (!p || !rows || !(p->f = calloc(f->n_feat ? f->n_feat : 1, sizeof *p->f))) {
        free(rows);
        tt_prep_free(p);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    /* Train indices refer to kept rows; the statistics read table rows. */
    for (size_t r = 0; r < n_train; r++) {
        if (train[r] >= f->base->n) {
            free(rows);
            tt_prep_free(p);
            return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_fit: row out of range");
        }
        rows[r] = f->base->row[train[r]];
    }
    tt_status st = TT_OK;
    for (size_t j = 0; j < f->n_feat && st == TT_OK; j++) {
        const tt_csv_column *c = &t->cols[f->feat_col[j]];
        tt_prep_feature *pf = &p->f[j];
        p->n++;
        pf->role = f->feat_role[j];
        if (!(pf->name = tt_strdup(c->name))) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
            break;
        }
        if (c->kind == TT_CSV_NUMERIC) {
            pf->kind = TT_PREP_NUM;
            st = fit_numeric(t, c, rows, n_train, pf, err, errlen);
        } else if (all_boolean(c, rows, n_train)) {
            pf->kind = TT_PREP_BOOL;
            st = fit_numeric(t, c, rows, n_train, pf, err, errlen);
        } else {
            pf->kind = TT_PREP_CAT;
            st = fit_categorical(c, rows, n_train, f->level_cap, pf, err, errlen);
        }
    }
    free(rows);
    /* tau(x) needs at least one column of x that varies in training. */
    size_t x_width = 0, n_x = 0;
    for (size_t j = 0; st == TT_OK && j < p->n; j++) {
        if (p->f[j].role != TT_FEAT_X)
            continue;
        n_x++;
        x_width += width(&p->f[j]);
    }
    if (st == TT_OK && n_x > 0 && x_width == 0)
        st = tt_errf(err, errlen, TT_ERR_DATA, "%s: the x columns have a single value each in "
                     "the training rows, so no effect modifier is left after encoding",
                     t->path);
    if (st != TT_OK) {
        tt_prep_free(p);
        return st;
    }
    *out = p;
    return TT_OK;
}

size_t tt_prep_indicators(const tt_prep *p, const char **names, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; p && i < p->n; i++) {
        if (!p->f[i].indicator)
            continue;
        if (names && k < max)
            names[k] = p->f[i].name;
        k++;
    }
    return k;
}

/* Output columns of one feature in its own role (indicators not counted). */
static size_t width(const tt_prep_feature *pf)
{
    if (pf->kind != TT_PREP_CAT)
        return 1;
    return (pf->n_levels ? pf->n_levels - 1 : 0) + (size_t)pf->has_other;
}

typedef struct block {
    size_t p, used;
    double *m;
    char **names;
} block;

static int name_col(block *b, const char *base, const char *sep, const char *suffix)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", base, sep, suffix) < 0)
        return 0;
    b->names[b->used] = s;
    return 1;
}

/* Level index of a text, n_levels = other. Linear: caps are small. */
static size_t level_of(const tt_prep_feature *pf, const char *text)
{
    for (size_t l = 0; l < pf->n_levels; l++)
        if (strcmp(pf->levels[l], text) == 0)
            return l;
    return pf->n_levels;
}

static tt_status apply_one(const tt_prep_feature *pf, const tt_csv_table *t, const tt_csv_column *c,
                           const size_t *rows, size_t n, block *b, block *wb, char *err,
                           size_t errlen)
{
    if (pf->kind != TT_PREP_CAT) {
        double *dst = b->m + b->used * n;
        double *ind = pf->indicator ? wb->m + wb->used * n : NULL;
        for (size_t r = 0; r < n; r++) {
            double v;
            int got = feature_value(pf, c, rows[r], &v);
            if (got < 0)
                return bad_cell(t, c, rows[r], err, errlen);
            if (got && !isfinite(v))
                return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: column '%s' has a "
                               "non-finite value (%g)", t->path, t->line[rows[r]], c->name, v);
            dst[r] = got ? v : pf->fill;
            if (ind)
                ind[r] = got ? 0.0 : 1.0;
        }
        if (!name_col(b, pf->name, "", ""))
            return TT_ERR_NOMEM;
        b->used++;
        if (ind) {
            if (!name_col(wb, pf->name, ":", "missing"))
                return TT_ERR_NOMEM;
            wb->used++;
        }
        return TT_OK;
    }
    size_t w = width(pf), first = b->used;
    memset(b->m + first * n, 0, w * n * sizeof(double));
    for (size_t r = 0; r < n; r++) {
        size_t i = rows[r];
        char buf[64];
        const char *text = buf;
        if (c->missing[i])
            text = TT_PREP_MISSING_LEVEL;
        else if (c->kind == TT_CSV_STRING)
            text = c->str[i];
        else
            tt_csv_format_number(c->num[i], buf, sizeof buf);
        size_t l = level_of(pf, text);
        /* Level 0 is the reference; unseen levels go to other when it has a
         * column, else to the reference. */
        if (l > 0 && l < pf->n_levels)
            b->m[(first + l - 1) * n + r] = 1.0;
        else if (l == pf->n_levels && pf->has_other)
            b->m[(first + w - 1) * n + r] = 1.0;
    }
    for (size_t l = 1; l < pf->n_levels; l++) {
        if (!name_col(b, pf->name, "=", pf->levels[l]))
            return TT_ERR_NOMEM;
        b->used++;
    }
    if (pf->has_other) {
        if (!name_col(b, pf->name, "=", "(other)"))
            return TT_ERR_NOMEM;
        b->used++;
    }
    return TT_OK;
}

static tt_status apply_cols(const tt_prep *p, const tt_csv_table *t, const size_t *rows,
                            size_t n, block *bl, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        const tt_prep_feature *pf = &p->f[i];
        long col = tt_csv_find(t, pf->name);
        if (col < 0)
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: column '%s' (a feature when the "
                           "preprocessing was fitted) is not in the file", t->path, pf->name);
        /* Indicators land in bl[3], a window after W's own columns. */
        tt_status st = apply_one(pf, t, &t->cols[col], rows, n, &bl[pf->role], &bl[3], err,
                                 errlen);
        if (st == TT_ERR_NOMEM)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        if (st)
            return st;
    }
    return TT_OK;
}

tt_status tt_prep_apply(const tt_prep *p, const tt_csv_table *t, const size_t *rows, size_t n,
                        tt_dataset *ds, char *err, size_t errlen)
{
    if (!p || !t || !ds || (!rows && n))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_apply: NULL argument");
    if (ds->x || ds->w || ds->z)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_apply: features already set");
    /* Blocks X, W, Z, and the indicators (later appended to W). */
    block bl[4];
    memset(bl, 0, sizeof bl);
    for (size_t i = 0; i < p->n; i++) {
        bl[p->f[i].role].p += width(&p->f[i]);
        bl[3].p += (size_t)p->f[i].indicator;
    }
    tt_status st = TT_OK;
    size_t wp = bl[TT_FEAT_W].p;
    bl[TT_FEAT_W].p += bl[3].p;
    /* X and W in one allocation (tt_dataset_xw): the nuisance models read
     * [x, w] in place instead of a copy as large. */
    const int joint = bl[TT_FEAT_X].p > 0 && bl[TT_FEAT_W].p > 0;
    for (int b = 0; b < 3 && st == TT_OK; b++) {
        if (!bl[b].p)
            continue;
        if (joint && b == TT_FEAT_W)
            bl[b].m = bl[TT_FEAT_X].m + n * bl[TT_FEAT_X].p;
        else if (joint && b == TT_FEAT_X)
            bl[b].m = tt_malloc_array(n ? n : 1,
                                      (bl[TT_FEAT_X].p + bl[TT_FEAT_W].p) * sizeof(double));
        else
            bl[b].m = tt_malloc_array(n ? n : 1, bl[b].p * sizeof(double));
        bl[b].names = calloc(bl[b].p, sizeof(char *));
        if (!bl[b].m || !bl[b].names)
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    /* The indicator block is a window at the end of W's storage. */
    bl[3].m = bl[TT_FEAT_W].m ? bl[TT_FEAT_W].m + wp * n : NULL;
    bl[3].names = bl[TT_FEAT_W].names ? bl[TT_FEAT_W].names + wp : NULL;
    if (st == TT_OK)
        st = apply_cols(p, t, rows, n, bl, err, errlen);
    if (st != TT_OK) {
        for (int b = 0; b < 3; b++) {
            tt_free_strings(bl[b].names, bl[b].p);
            if (!(joint && b == TT_FEAT_W))
                free(bl[b].m);
        }
        return st;
    }
    ds->xw_joint = joint;
    ds->p_x = bl[TT_FEAT_X].p, ds->x = bl[TT_FEAT_X].m, ds->x_names = bl[TT_FEAT_X].names;
    ds->p_w = bl[TT_FEAT_W].p, ds->w = bl[TT_FEAT_W].m, ds->w_names = bl[TT_FEAT_W].names;
    ds->p_z = bl[TT_FEAT_Z].p, ds->z = bl[TT_FEAT_Z].m, ds->z_names = bl[TT_FEAT_Z].names;
    return TT_OK;
}

tt_status tt_frame_dataset(const tt_data_frame *f, const tt_prep *p, tt_dataset **out,
                           char *err, size_t errlen)
{
    if (!f || !p || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_frame_dataset: NULL argument");
    *out = NULL;
    size_t *all = tt_malloc_array(f->base->n, sizeof(size_t));
    if (!all)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->base->n; i++)
        all[i] = i;
    tt_dataset *ds = NULL;
    tt_status st = tt_dataset_subset(f->base, all, f->base->n, &ds, err, errlen);
    free(all);
    if (st == TT_OK)
        st = tt_prep_apply(p, f->table, f->base->row, f->base->n, ds, err, errlen);
    if (st != TT_OK) {
        tt_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TT_OK;
}
