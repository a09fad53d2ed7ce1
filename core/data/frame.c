/* frame.c - roles resolved, non-feature columns read and checked (frame.h). */
#include "data/frame.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/roles.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"

#define NOMEM() tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory building the dataset", \
                        t->path)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Value of a cell that must be a number, whatever the column's type (a
 * numeric role in a STRING column reports the first bad cell). */
static tt_status cell_number(const tt_csv_table *t, long col, size_t i, const char *role,
                             double *v, char *err, size_t errlen)
{
    const tt_csv_column *c = &t->cols[col];
    if (c->kind == TT_CSV_NUMERIC) {
        *v = c->num[i];
        return TT_OK;
    }
    if (tt_csv_parse_number(c->str[i], v))
        return TT_OK;
    return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s column '%s' must be numeric, but "
                   "has '%s'", t->path, t->line[i], role, c->name, c->str[i]);
}

/* n_kept values of a numeric role column: no missing cells, finite. */
static tt_status gather_numeric(const tt_csv_table *t, long col, const char *role,
                                const size_t *rows, size_t n, double *dst, char *err,
                                size_t errlen)
{
    const tt_csv_column *c = &t->cols[col];
    for (size_t r = 0; r < n; r++) {
        size_t i = rows[r];
        if (c->missing[i])
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s column '%s' has a "
                           "missing value", t->path, t->line[i], role, c->name);
        tt_status st = cell_number(t, col, i, role, &dst[r], err, errlen);
        if (st)
            return st;
        if (!isfinite(dst[r]))
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s column '%s' has a "
                           "non-finite value (%g)", t->path, t->line[i], role, c->name, dst[r]);
        /* The scores square outcomes (and divide them by propensities): past
         * this the squares overflow and every score would be null. */
        if (fabs(dst[r]) > TT_FRAME_MAX_MAGNITUDE)
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s column '%s' has %g, "
                           "beyond +-%g, where the scores' squares overflow; rescale the "
                           "column (divide by a power of ten, or take logs)", t->path,
                           t->line[i], role, c->name, dst[r], TT_FRAME_MAX_MAGNITUDE);
    }
    return TT_OK;
}

static char *cell_text(const tt_csv_column *c, size_t i)
{
    if (c->missing[i])
        return tt_strdup("");
    if (c->kind == TT_CSV_STRING)
        return tt_strdup(c->str[i]);
    char buf[64];
    tt_csv_format_number(c->num[i], buf, sizeof buf);
    return tt_strdup(buf);
}

/* Distinct treatment values over the kept rows in sorted order (labels as
 * text) and each row's position in that order. 0 on allocation failure. */
static int distinct_arms(const tt_csv_column *c, const size_t *rows, size_t n,
                         char ***labels_out, size_t *k_out, int *pos)
{
    size_t k = 0;
    char **labels = NULL;
    if (c->kind == TT_CSV_NUMERIC) {
        double *v = tt_malloc_array(n, sizeof(double));
        if (!v)
            return 0;
        for (size_t r = 0; r < n; r++)
            v[r] = c->num[rows[r]] == 0.0 ? 0.0 : c->num[rows[r]];
        qsort(v, n, sizeof(double), tt_cmp_double);
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
        for (size_t r = 0; labels && r < n; r++) {
            double key = c->num[rows[r]] == 0.0 ? 0.0 : c->num[rows[r]];
            double *hit = bsearch(&key, v, k, sizeof(double), tt_cmp_double);
            pos[r] = (int)(hit - v);
        }
        free(v);
    } else {
        const char **s = tt_malloc_array(n, sizeof(char *));
        if (!s)
            return 0;
        for (size_t r = 0; r < n; r++)
            s[r] = c->str[rows[r]];
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
        for (size_t r = 0; labels && r < n; r++) {
            const char *key = c->str[rows[r]];
            const char **hit = bsearch(&key, s, k, sizeof(char *), cmp_str);
            pos[r] = (int)(hit - s);
        }
        free(s);
    }
    if (!labels)
        return 0;
    *labels_out = labels;
    *k_out = k;
    return 1;
}

/* A continuous treatment: t_value the numbers, t the stratum (0: at or below
 * the median, 1: above; ">=" when nothing lies above the median, so both
 * strata have rows whenever T takes two values), two "arms" named for the
 * strata (dataset.h). */
static tt_status continuous_treatment(const tt_csv_table *t, const tt_csv_column *tc,
                                      const size_t *rows, size_t n, tt_dataset *ds, char *err,
                                      size_t errlen)
{
    if (tc->kind != TT_CSV_NUMERIC) {
        size_t r = 0;
        while (r + 1 < n && tc->missing[rows[r]])
            r++;
        return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: treatment column '%s' holds "
                       "text ('%s'); a continuous treatment (data.treatment_kind = "
                       "\"continuous\") must be numeric", t->path, t->line[rows[r]], tc->name,
                       tc->str[rows[r]] ? tc->str[rows[r]] : "");
    }
    double *v = tt_malloc_array(n ? n : 1, sizeof(double));
    if (!v)
        return NOMEM();
    for (size_t r = 0; r < n; r++)
        v[r] = tc->num[rows[r]];
    int split = tt_median_split(v, n, ds->t);
    if (split <= 0) {
        free(v);
        if (split < 0)
            return NOMEM();
        return tt_errf(err, errlen, TT_ERR_DATA, "treatment column '%s' in %s has one value "
                       "(%g) on every row; a treatment must vary", tc->name, t->path,
                       n ? tc->num[rows[0]] : 0.0);
    }
    ds->t_value = v;
    ds->n_arms = 2;
    if (!(ds->arm_labels = calloc(2, sizeof(char *))) ||
        !(ds->arm_labels[0] = tt_strdup(TT_CONTINUOUS_ARM_LABEL_LOW)) ||
        !(ds->arm_labels[1] = tt_strdup(tc->name)))
        return NOMEM();
    return TT_OK;
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

static tt_status control_error(const tt_csv_table *t, const char *tname, char **labels, size_t k,
                               const char *control, char *err, size_t errlen)
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
                   "seen: %s", control, tname, t->path, list);
}

static int cell_equals(const tt_csv_column *c, size_t i, const char *value)
{
    if (c->missing[i])
        return 0;
    if (c->kind == TT_CSV_STRING)
        return strcmp(c->str[i], value) == 0;
    double v;
    return tt_csv_parse_number(value, &v) && v == c->num[i];
}

/* 1 when the row matches every exclude condition. */
static int excluded(const tt_csv_table *t, const long *ex, const tt_roles *r, size_t i)
{
    if (r->n_exclude == 0)
        return 0;
    for (size_t k = 0; k < r->n_exclude; k++)
        if (!cell_equals(&t->cols[ex[k]], i, r->exclude_vals[k]))
            return 0;
    return 1;
}

/* Rows kept: those not excluded with an outcome and a treatment, or all
 * (error on a gap) when drop_missing is off. */
static tt_status keep_rows(const tt_csv_table *t, const tt_role_cols *c, const tt_roles *roles,
                           tt_data_frame *fr, size_t **rows_out, size_t *n_out, char *err,
                           size_t errlen)
{
    int drop = roles->drop_missing;
    long ex[16];
    if (roles->n_exclude > 16)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: at most 16 exclude conditions", t->path);
    for (size_t k = 0; k < roles->n_exclude; k++) {
        ex[k] = tt_csv_find(t, roles->exclude_cols[k]);
        if (ex[k] < 0)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "exclude column '%s' not found in %s",
                           roles->exclude_cols[k], t->path);
    }
    size_t *rows = tt_malloc_array(t->n_rows, sizeof(size_t)), n = 0;
    if (!rows)
        return NOMEM();
    const tt_csv_column *yc = &t->cols[c->outcome], *tc = &t->cols[c->treatment];
    for (size_t i = 0; i < t->n_rows; i++) {
        if (excluded(t, ex, roles, i)) {
            fr->n_excluded++;
            continue;
        }
        const tt_csv_column *gap = yc->missing[i] ? yc : tc->missing[i] ? tc : NULL;
        if (gap && !drop) {
            free(rows);
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "%s: line %zu: %s column '%s' has a missing value (set data."
                           "drop_missing = true to drop such rows)", t->path, t->line[i],
                           gap == yc ? "outcome" : "treatment", gap->name);
        }
        if (!gap)
            rows[n++] = i;
    }
    *rows_out = rows;
    *n_out = n;
    return TT_OK;
}

/* Known or true propensities: K columns, or 1 = P(arm 1) for two arms. */
static tt_status read_propensity(const tt_csv_table *t, const long *cols, size_t n_cols,
                                 const char *role, int strict, const size_t *rows, size_t n,
                                 int k, double **out, char *err, size_t errlen)
{
    if (n_cols == 0)
        return TT_OK;
    if (!(n_cols == (size_t)k || (n_cols == 1 && k == 2)))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: %zu %s columns given, but the treatment "
                       "has %d arms (give one per arm in arm order, control first%s)", t->path,
                       n_cols, role, k, k == 2 ? ", or one column: P(treated)" : "");
    double *p = tt_malloc_array(n, (size_t)k * sizeof(double));
    if (!p)
        return NOMEM();
    tt_status st = TT_OK;
    size_t first = n_cols == 1 ? 1 : 0;
    for (size_t j = 0; j < n_cols && st == TT_OK; j++)
        st = gather_numeric(t, cols[j], role, rows, n, p + (first + j) * n, err, errlen);
    for (size_t r = 0; r < n && st == TT_OK; r++) {
        if (n_cols == 1)
            p[r] = 1.0 - p[n + r];
        double sum = 0;
        for (int a = 0; a < k && st == TT_OK; a++) {
            double v = p[(size_t)a * n + r];
            /* One column: check the given P(arm 1); 1 - p is then fine too. */
            int bad = strict ? !(v > 0.0 && v < 1.0) : !(v >= 0.0 && v <= 1.0);
            if (n_cols == 1 && a == 0)
                bad = 0;
            if (bad) {
                size_t jc = n_cols == 1 ? 0 : (size_t)a;
                st = tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s column '%s' has %g, "
                             "outside %s", t->path, t->line[rows[r]], role,
                             t->cols[cols[jc]].name, v, strict ? "(0, 1)" : "[0, 1]");
            }
            sum += v;
        }
        if (st == TT_OK && fabs(sum - 1.0) > 1e-6)
            st = tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: %s columns sum to %.9g across "
                         "arms, not 1 (within 1e-6)", t->path, t->line[rows[r]], role, sum);
    }
    if (st != TT_OK) {
        free(p);
        return st;
    }
    *out = p;
    return TT_OK;
}

static tt_status read_split(const tt_csv_table *t, long col, const size_t *rows, size_t n,
                            signed char *dst, char *err, size_t errlen)
{
    const tt_csv_column *c = &t->cols[col];
    for (size_t r = 0; r < n; r++) {
        size_t i = rows[r];
        int v = -1;
        if (c->missing[i]) {
            v = -1;
        } else if (c->kind == TT_CSV_NUMERIC) {
            v = c->num[i] == 0.0 ? 0 : c->num[i] == 1.0 ? 1 : -1;
        } else if (!strcasecmp(c->str[i], "train") || !strcmp(c->str[i], "0")) {
            v = 0;
        } else if (!strcasecmp(c->str[i], "validation") || !strcasecmp(c->str[i], "valid") ||
                   !strcmp(c->str[i], "1")) {
            v = 1;
        }
        if (v < 0)
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: split column '%s' must be "
                           "train/validation or 0/1 (1 = validation), got '%s'", t->path,
                           t->line[i], c->name, c->missing[i] ? "" :
                           c->kind == TT_CSV_STRING ? c->str[i] : "a number");
        dst[r] = (signed char)v;
    }
    return TT_OK;
}

static tt_status feature_list(const tt_role_cols *c, tt_data_frame *f)
{
    f->n_feat = c->n_x + c->n_w + c->n_z;
    f->feat_col = tt_malloc_array(f->n_feat, sizeof(long));
    f->feat_role = tt_malloc_array(f->n_feat, sizeof(int));
    if (!f->feat_col || !f->feat_role)
        return TT_ERR_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < c->n_x; i++, j++)
        f->feat_col[j] = c->x[i], f->feat_role[j] = TT_FEAT_X;
    for (size_t i = 0; i < c->n_w; i++, j++)
        f->feat_col[j] = c->w[i], f->feat_role[j] = TT_FEAT_W;
    for (size_t i = 0; i < c->n_z; i++, j++)
        f->feat_col[j] = c->z[i], f->feat_role[j] = TT_FEAT_Z;
    return TT_OK;
}

/* A share of numeric cells at or above which a text feature column is taken
 * for a numeric one with bad cells (a typo, "1.5abc", "."), not a category. */
#define FRAME_NUMERIC_SHARE 0.9

static int named_categorical(const tt_roles *roles, const char *name)
{
    for (size_t k = 0; k < roles->n_categorical; k++)
        if (roles->categorical[k] && !strcmp(roles->categorical[k], name))
            return 1;
    return 0;
}

/* One bad cell makes the reader type a column as text (csv.h); a feature
 * column that is numeric almost everywhere would then be one-hot encoded
 * level by level without a word. Such a column is an error naming its
 * first bad cell, unless the config lists it in data.categorical. */
static tt_status check_numeric_looking(const tt_csv_table *t, const tt_data_frame *f,
                                       const tt_roles *roles, char *err, size_t errlen)
{
    for (size_t j = 0; j < f->n_feat; j++) {
        const tt_csv_column *c = &t->cols[f->feat_col[j]];
        if (c->kind != TT_CSV_STRING || named_categorical(roles, c->name))
            continue;
        size_t present = 0, numeric = 0, first_bad = (size_t)-1;
        double v;
        for (size_t i = 0; i < t->n_rows; i++) {
            if (c->missing[i] || !c->str[i])
                continue;
            present++;
            if (tt_csv_parse_number(c->str[i], &v))
                numeric++;
            else if (first_bad == (size_t)-1)
                first_bad = i;
        }
        if (present == 0 || numeric == 0 || (double)numeric < FRAME_NUMERIC_SHARE * present)
            continue;
        return tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: column '%s' is a number in %zu "
                       "of its %zu cells, but here it is '%.60s'%s (%zu such cell%s); correct "
                       "them (or mark them missing), or list the column in data.categorical "
                       "if it really holds categories", t->path, t->line[first_bad], c->name,
                       numeric, present, c->str[first_bad],
                       strlen(c->str[first_bad]) > 60 ? "..." : "", present - numeric,
                       present - numeric == 1 ? "" : "s");
    }
    return TT_OK;
}

/* Outcome, arms, truths, propensities, weights, ids, split of kept rows. */
static tt_status fill_base(const tt_csv_table *t, const tt_roles *roles, const tt_role_cols *c,
                           tt_data_frame *f, size_t *rows, size_t n, char *err, size_t errlen)
{
    tt_dataset *ds = f->base;
    ds->row = rows;
    ds->n = n;
    ds->n_dropped = t->n_rows - n - f->n_excluded;
    ds->source = tt_strdup(t->path);
    ds->y_name = tt_strdup(t->cols[c->outcome].name);
    ds->t_name = tt_strdup(t->cols[c->treatment].name);
    ds->y = tt_malloc_array(n, sizeof(double));
    ds->t = tt_malloc_array(n, sizeof(int));
    int *pos = tt_malloc_array(n, sizeof(int));
    if (!ds->source || !ds->y_name || !ds->t_name || !ds->y || !ds->t || !pos) {
        free(pos);
        return NOMEM();
    }
    tt_status st = gather_numeric(t, c->outcome, "outcome", rows, n, ds->y, err, errlen);
    const tt_csv_column *tc = &t->cols[c->treatment];
    for (size_t r = 0; r < n && st == TT_OK; r++)
        if (tc->kind == TT_CSV_NUMERIC && !isfinite(tc->num[rows[r]]))
            st = tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: treatment column '%s' has a "
                         "non-finite value (%g)", t->path, t->line[rows[r]], tc->name,
                         tc->num[rows[r]]);
    if (st == TT_OK && n == 0)
        st = tt_errf(err, errlen, TT_ERR_DATA, "%s has no data rows%s", t->path,
                     t->n_rows ? " left after excluding rows and dropping rows with a missing "
                                 "outcome or treatment" : "");
    char **labels = NULL;
    size_t k = 0;
    if (st == TT_OK && roles->continuous) {
        free(pos);
        st = continuous_treatment(t, tc, rows, n, ds, err, errlen);
        k = 2;
        goto truths;
    }
    if (st == TT_OK && !distinct_arms(tc, rows, n, &labels, &k, pos))
        st = NOMEM();
    long control = -1;
    if (st == TT_OK && (control = find_control(tc, labels, k, roles->control)) < 0)
        st = control_error(t, tc->name, labels, k, roles->control, err, errlen);
    if (st == TT_OK && k < 2)
        st = tt_errf(err, errlen, TT_ERR_DATA, "treatment column '%s' in %s has only one value "
                     "('%s'); at least 2 arms are needed", tc->name, t->path, labels[0]);
    if (st == TT_OK && k > 64)
        st = tt_errf(err, errlen, TT_ERR_DATA, "treatment column '%s' in %s has %zu distinct "
                     "values, too many arms (at most 64)%s", tc->name, t->path, k,
                     tc->kind == TT_CSV_NUMERIC ? "; if it is a dose, a price or years of "
                     "something, set data.treatment_kind = \"continuous\"" : "");
    if (st == TT_OK) {
        /* Control first, the others keep their sorted order. */
        ds->n_arms = (int)k;
        if (!(ds->arm_labels = calloc(k, sizeof(char *)))) {
            st = NOMEM();
        } else {
            ds->arm_labels[0] = labels[control];
            for (size_t a = 0, o = 1; a < k; a++)
                if ((long)a != control)
                    ds->arm_labels[o++] = labels[a];
            free(labels);
            labels = NULL;
            for (size_t r = 0; r < n; r++)
                ds->t[r] = pos[r] == control ? 0 : pos[r] < control ? pos[r] + 1 : pos[r];
        }
    }
    free(pos);
    tt_free_strings(labels, k);
truths:
    if (st)
        return st;
    if (roles->continuous && c->n_true_effect > 1)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: %zu true-effect columns given, but a "
                       "continuous treatment ('%s') has one effect (per unit): give 0 or 1",
                       t->path, c->n_true_effect, tc->name);
    if (roles->continuous && (c->n_prop || c->n_true_prop))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: data.%spropensity names probabilities "
                       "of arms, and a continuous treatment ('%s') has none: remove it",
                       t->path, c->n_prop ? "" : "true_", tc->name);
    if (c->n_true_effect != 0 && c->n_true_effect != k - 1)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: %zu true-effect columns given, but "
                       "treatment '%s' has %zu arms (expected 0 or %zu, one per non-control "
                       "arm)", t->path, c->n_true_effect, tc->name, k, k - 1);
    if (c->n_true_effect) {
        if (!(ds->tau = tt_malloc_array(n, c->n_true_effect * sizeof(double))))
            return NOMEM();
        for (size_t j = 0; j < c->n_true_effect && st == TT_OK; j++) {
            double *dst = ds->tau + j * n;
            st = gather_numeric(t, c->true_effect[j], "true_effect", rows, n, dst, err, errlen);
            if (st || c->true_effect_minus[j] < 0)
                continue;
            double *minus = tt_malloc_array(n, sizeof(double));
            if (!minus)
                return NOMEM();
            st = gather_numeric(t, c->true_effect_minus[j], "true_effect", rows, n, minus, err,
                                errlen);
            for (size_t r = 0; r < n && st == TT_OK; r++)
                dst[r] -= minus[r];
            free(minus);
        }
    }
    if (st == TT_OK)
        st = read_propensity(t, c->prop, c->n_prop, "propensity", 1, rows, n, (int)k,
                             &ds->propensity, err, errlen);
    if (st == TT_OK)
        st = read_propensity(t, c->true_prop, c->n_true_prop, "true_propensity", 0, rows, n,
                             (int)k, &ds->true_propensity, err, errlen);
    if (st == TT_OK && c->weight >= 0) {
        if (!(ds->weight = tt_malloc_array(n, sizeof(double))))
            return NOMEM();
        st = gather_numeric(t, c->weight, "weight", rows, n, ds->weight, err, errlen);
        for (size_t r = 0; r < n && st == TT_OK; r++)
            if (ds->weight[r] < 0)
                st = tt_errf(err, errlen, TT_ERR_DATA, "%s: line %zu: weight column '%s' has "
                             "a negative value (%g)", t->path, t->line[rows[r]],
                             t->cols[c->weight].name, ds->weight[r]);
    }
    if (st == TT_OK && c->id >= 0) {
        if (!(ds->ids = calloc(n ? n : 1, sizeof(char *))) ||
            !(ds->id_name = tt_strdup(t->cols[c->id].name)))
            return NOMEM();
        for (size_t r = 0; r < n; r++)
            if (!(ds->ids[r] = cell_text(&t->cols[c->id], rows[r])))
                return NOMEM();
    }
    if (st == TT_OK && c->split >= 0) {
        if (!(f->user_split = tt_malloc_array(n, 1)))
            return NOMEM();
        st = read_split(t, c->split, rows, n, f->user_split, err, errlen);
    }
    return st;
}

tt_status tt_frame_build(const tt_csv_table *t, const tt_roles *roles, tt_data_frame **out,
                         char *err, size_t errlen)
{
    if (!out || !t || !roles)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_frame_build: NULL argument");
    *out = NULL;
    if (!roles->outcome || !roles->treatment)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: the outcome and treatment columns must "
                       "be named", t->path);
    if (!roles->control && !roles->continuous)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: the control arm label must be given",
                       t->path);
    tt_role_cols c;
    tt_status st = tt_roles_resolve(t, roles, &c, err, errlen);
    if (st)
        return st;
    tt_data_frame *f = calloc(1, sizeof *f);
    size_t *rows = NULL, n = 0;
    if (!f || !(f->base = calloc(1, sizeof *f->base)) || feature_list(&c, f) != TT_OK) {
        st = NOMEM();
        goto done;
    }
    f->table = t;
    f->level_cap = roles->level_cap ? roles->level_cap : 20;
    if ((st = check_numeric_looking(t, f, roles, err, errlen)) ||
        (st = keep_rows(t, &c, roles, f, &rows, &n, err, errlen)))
        goto done;
    st = fill_base(t, roles, &c, f, rows, n, err, errlen); /* base owns rows now */
done:
    if (st != TT_OK && f && !f->base)
        free(rows);
    tt_role_cols_free(&c);
    if (st != TT_OK) {
        tt_frame_free(f);
        return st;
    }
    *out = f;
    return TT_OK;
}

void tt_frame_free(tt_data_frame *f)
{
    if (!f)
        return;
    tt_dataset_free(f->base);
    free(f->feat_col);
    free(f->feat_role);
    free(f->user_split);
    free(f);
}

static tt_status check_parts(const tt_data_frame *f, const tt_split *s, char *err, size_t errlen)
{
    int k = f->base->n_arms;
    size_t *cnt = calloc(2 * (size_t)k, sizeof(size_t));
    if (!cnt)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n_train; i++)
        cnt[f->base->t[s->train[i]]]++;
    for (size_t i = 0; i < s->n_valid; i++)
        cnt[k + f->base->t[s->valid[i]]]++;
    tt_status st = TT_OK;
    for (int a = 0; a < k && st == TT_OK; a++)
        if (cnt[a] < 2 || cnt[k + a] < 2)
            st = tt_errf(err, errlen, TT_ERR_DATA, "%s: arm '%s' has %zu rows in training and "
                         "%zu in validation (split column), but each part needs at least 2",
                         f->base->source, f->base->arm_labels[a], cnt[a], cnt[k + a]);
    free(cnt);
    return st;
}

tt_status tt_frame_split(const tt_data_frame *f, double validation_share, uint64_t seed,
                         tt_split *out, char *err, size_t errlen)
{
    if (!f || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_frame_split: NULL argument");
    const tt_dataset *b = f->base;
    if (!f->user_split) {
        tt_status st = tt_split_stratified(b->t, b->n, b->n_arms,
                                           (const char *const *)b->arm_labels, validation_share,
                                           seed, out, err, errlen);
        if (st != TT_OK)
            tt_err_prefix(err, errlen, "%s", b->source);
        return st;
    }
    memset(out, 0, sizeof *out);
    size_t nv = 0;
    for (size_t i = 0; i < b->n; i++)
        nv += f->user_split[i] == 1;
    out->valid = tt_malloc_array(nv, sizeof(size_t));
    out->train = tt_malloc_array(b->n - nv, sizeof(size_t));
    if (!out->valid || !out->train) {
        tt_split_free(out);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->n; i++) {
        if (f->user_split[i])
            out->valid[out->n_valid++] = i;
        else
            out->train[out->n_train++] = i;
    }
    tt_status st = check_parts(f, out, err, errlen);
    if (st != TT_OK)
        tt_split_free(out);
    return st;
}
