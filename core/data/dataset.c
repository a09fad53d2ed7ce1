/* dataset.c - turning a typed CSV table plus column roles into a dataset. */
#include "data/dataset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/frame.h"
#include "data/prep.h"
#include "util/err.h"
#include "util/mem.h"

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

const double *tt_dataset_xw(const tt_dataset *ds)
{
    if (ds->p_w == 0)
        return ds->x;
    if (ds->p_x == 0)
        return ds->w;
    return ds->xw_joint ? ds->x : NULL;
}

void tt_dataset_drop_features(tt_dataset *ds)
{
    if (!ds->xw_joint)
        free(ds->w);
    free(ds->x);
    ds->x = ds->w = NULL;
    ds->xw_joint = 0;
}

void tt_dataset_free(tt_dataset *ds)
{
    if (!ds)
        return;
    free(ds->source);
    tt_dataset_drop_features(ds);
    free(ds->y);
    free(ds->t);
    free(ds->t_value);
    tt_free_strings(ds->arm_labels, ds->arm_labels ? (size_t)ds->n_arms : 0);
    free(ds->tau);
    tt_free_strings(ds->x_names, ds->p_x);
    tt_free_strings(ds->w_names, ds->p_w);
    free(ds->y_name);
    free(ds->t_name);
    free(ds->z);
    tt_free_strings(ds->z_names, ds->p_z);
    free(ds->propensity);
    free(ds->true_propensity);
    free(ds->weight);
    tt_free_strings(ds->ids, ds->ids ? ds->n : 0);
    free(ds->id_name);
    free(ds->row);
    free(ds->mu0);
    free(ds);
}

tt_status tt_dataset_from_csv(const tt_csv_table *table, const tt_roles *roles,
                              tt_dataset **out, char *err, size_t errlen)
{
    if (!out || !table || !roles)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_dataset_from_csv: NULL argument");
    *out = NULL;
    tt_data_frame *f = NULL;
    tt_prep *p = NULL;
    size_t *all = NULL;
    tt_status st = tt_frame_build(table, roles, &f, err, errlen);
    if (st == TT_OK && !(all = tt_malloc_array(f->base->n, sizeof(size_t))))
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == TT_OK && i < f->base->n; i++)
        all[i] = i;
    if (st == TT_OK)
        st = tt_prep_fit(f, all, f->base->n, &p, err, errlen);
    if (st == TT_OK)
        st = tt_frame_dataset(f, p, out, err, errlen);
    free(all);
    tt_prep_free(p);
    tt_frame_free(f);
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
    /* x and w in one block: the nuisance models read [x, w] in place. */
    if (s->p_x && s->p_w) {
        s->x = tt_malloc_array(m ? m : 1, (s->p_x + s->p_w) * sizeof(double));
        s->w = s->x ? s->x + m * s->p_x : NULL;
        s->xw_joint = s->x != NULL;
    } else if (s->p_x) {
        s->x = tt_malloc_array(m, s->p_x * sizeof(double));
    } else if (s->p_w) {
        s->w = tt_malloc_array(m, s->p_w * sizeof(double));
    }
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
    /* Fields added with column roles. */
    size_t k = (size_t)ds->n_arms;
    ok = 1;
    s->n_dropped = ds->n_dropped;
    s->p_z = ds->p_z;
    s->z = tt_gather_rows(ds->z, n, ds->p_z, idx, m, &ok);
    s->propensity = tt_gather_rows(ds->propensity, n, k, idx, m, &ok);
    s->true_propensity = tt_gather_rows(ds->true_propensity, n, k, idx, m, &ok);
    s->weight = tt_gather_rows(ds->weight, n, 1, idx, m, &ok);
    s->mu0 = tt_gather_rows(ds->mu0, n, 1, idx, m, &ok);
    s->t_value = tt_gather_rows(ds->t_value, n, 1, idx, m, &ok);
    if (ok && ds->z_names && !copy_names(&s->z_names, (const char *const *)ds->z_names, ds->p_z))
        ok = 0;
    if (ok && ds->id_name && !(s->id_name = tt_strdup(ds->id_name)))
        ok = 0;
    if (ok && ds->row) {
        if (!(s->row = tt_malloc_array(m ? m : 1, sizeof(size_t))))
            ok = 0;
        for (size_t i = 0; ok && i < m; i++)
            s->row[i] = ds->row[idx[i]];
    }
    if (ok && ds->ids) {
        if (!(s->ids = calloc(m ? m : 1, sizeof(char *))))
            ok = 0;
        for (size_t i = 0; ok && i < m; i++)
            if (!(s->ids[i] = tt_strdup(ds->ids[idx[i]])))
                ok = 0;
    }
    if (!ok) {
        tt_dataset_free(s);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory copying rows");
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
