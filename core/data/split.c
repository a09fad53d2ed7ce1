/* split.c - seeded train/validation split, stratified by arm. */
#include "data/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

void tt_split_free(tt_split *split)
{
    if (!split)
        return;
    free(split->train);
    free(split->valid);
    memset(split, 0, sizeof *split);
}

static const char *arm_name(const char *const *labels, int a, char *buf, size_t len)
{
    if (labels && labels[a])
        return labels[a];
    snprintf(buf, len, "arm %d", a);
    return buf;
}

tt_status tt_split_stratified(const int *t, size_t n, int n_arms, const char *const *arm_labels,
                              double validation_share, uint64_t seed, tt_split *out,
                              char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_split_stratified: out is NULL");
    memset(out, 0, sizeof *out);
    if ((!t && n > 0) || n_arms < 1)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_split_stratified: bad arguments");
    if (!(validation_share > 0.0 && validation_share < 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "validation share must be in (0, 1), got %g", validation_share);
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0 || t[i] >= n_arms)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "tt_split_stratified: row %zu has arm %d, outside 0..%d", i, t[i],
                           n_arms - 1);

    /* Bucket rows by arm (counting sort keeps each bucket in row order, so
     * the shuffle alone decides the outcome). */
    size_t *start = calloc((size_t)n_arms + 1, sizeof(size_t));
    size_t *rows = tt_malloc_array(n, sizeof(size_t));
    unsigned char *in_valid = calloc(n ? n : 1, 1);
    tt_status st = TT_OK;
    if (!start || !rows || !in_valid) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory splitting %zu rows", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        start[t[i] + 1]++;
    for (int a = 0; a < n_arms; a++)
        start[a + 1] += start[a];
    {
        size_t *fill = tt_malloc_array((size_t)n_arms, sizeof(size_t));
        if (!fill) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory splitting %zu rows", n);
            goto done;
        }
        memcpy(fill, start, (size_t)n_arms * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            rows[fill[t[i]]++] = i;
        free(fill);
    }

    tt_rng rng;
    tt_rng_seed(&rng, seed, "split");
    size_t n_valid = 0;
    for (int a = 0; a < n_arms; a++) {
        size_t nk = start[a + 1] - start[a];
        size_t nv = (size_t)round((double)nk * validation_share);
        if (nv < 2 || nk - nv < 2) {
            char buf[32];
            st = tt_errf(err, errlen, TT_ERR_DATA,
                         "arm '%s' has %zu rows: %zu would go to validation and %zu to training, "
                         "but each part needs at least 2", arm_name(arm_labels, a, buf, sizeof buf),
                         nk, nv, nk - nv);
            goto done;
        }
        tt_rng_shuffle_size(&rng, rows + start[a], nk);
        for (size_t r = 0; r < nv; r++)
            in_valid[rows[start[a] + r]] = 1;
        n_valid += nv;
    }

    out->valid = tt_malloc_array(n_valid, sizeof(size_t));
    out->train = tt_malloc_array(n - n_valid, sizeof(size_t));
    if (!out->valid || !out->train) {
        tt_split_free(out);
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory splitting %zu rows", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (in_valid[i])
            out->valid[out->n_valid++] = i;
        else
            out->train[out->n_train++] = i;
    }

done:
    free(start);
    free(rows);
    free(in_valid);
    return st;
}

tt_status tt_split_folds(const int *t, size_t n, int n_arms, const char *const *arm_labels,
                         int folds, uint64_t seed, int *fold_of, char *err, size_t errlen)
{
    if ((!t && n > 0) || n_arms < 1 || folds < 2 || !fold_of)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_split_folds: bad arguments");
    size_t *count = calloc((size_t)n_arms, sizeof *count);
    size_t *rows = tt_malloc_array(n ? n : 1, sizeof *rows);
    tt_status st = TT_OK;
    if (!count || !rows) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory cutting %zu rows into folds", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 0 || t[i] >= n_arms) {
            st = tt_errf(err, errlen, TT_ERR_INVALID,
                         "tt_split_folds: row %zu has arm %d, outside 0..%d", i, t[i], n_arms - 1);
            goto done;
        }
        count[t[i]]++;
    }
    for (int a = 0; a < n_arms; a++)
        if (count[a] < 2 * (size_t)folds) {
            char buf[32];
            st = tt_errf(err, errlen, TT_ERR_DATA,
                         "arm '%s' has %zu rows; %d folds need at least %d (2 per fold)",
                         arm_name(arm_labels, a, buf, sizeof buf), count[a], folds, 2 * folds);
            goto done;
        }
    tt_rng rng;
    tt_rng_seed(&rng, seed, "folds");
    size_t turn = 0;
    for (int a = 0; a < n_arms; a++) {
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i] == a)
                rows[nk++] = i;
        tt_rng_shuffle_size(&rng, rows, nk);
        for (size_t r = 0; r < nk; r++)
            fold_of[rows[r]] = (int)(turn++ % (size_t)folds);
    }
done:
    free(count);
    free(rows);
    return st;
}
