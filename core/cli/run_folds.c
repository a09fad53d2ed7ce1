/* run_folds.c - how a run's candidates are scored: one holdout, or K-fold
 * cross-validated scoring (validation = { folds = K }).
 *
 * One holdout: the seeded stratified split of data/split.h; candidates fit
 * on the training part and are scored on the validation part.
 *
 * K folds: every row belongs to one fold (stratified by arm, seeded). For
 * fold k a candidate is fitted on the other folds' rows and predicts fold
 * k's; the K predictions together give an out-of-fold effect for every row,
 * and the scores are computed once on all rows, with scoring nuisances
 * cross-fitted over the same folds (score/score_nuisance.h). So a score
 * uses every row (its noise shrinks by about sqrt(1 / share) against a
 * holdout of that share) and costs K fits. The plugins' nuisance models are
 * cross-fitted per fold on that fold's training rows: fold 0's are chosen by
 * the nuisance stage (run_nuisance.c), and folds 1..K-1 refit the chosen
 * learners (no new selection), so nothing a candidate is fitted with has
 * seen the rows it is scored on.
 *
 * In the run state the K-fold case keeps the holdout's shape: s->train is
 * fold 0's training part (the nuisance stage and the cost model see it as
 * before), and s->valid is every row in fold-major order (fold 0's rows,
 * then fold 1's, ...: the rows the scores see, each out of fold), with
 * s->split.valid mapping them back to data rows. folds[k] holds fold k's
 * training rows and its scoring rows' range within s->valid.
 *
 * Default (no validation key): 5 folds up to AUTO_FOLD_ROWS rows, one
 * holdout of 30 % above; one holdout too when the data name their own split
 * column or final_fit = "train" (that keeps the old behaviour whole). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "data/split.h"
#include "util/rng.h"

/* Below this many rows a holdout's noise decides among near-ties (IHDP's 224
 * validation rows; issue 15) and trials are cheap enough to fit K times. */
#define AUTO_FOLD_ROWS 5000
#define AUTO_FOLDS 5

int tt_run_choose_folds(run_state *s, size_t n_rows, int user_split)
{
    const tt_config *c = s->cfg;
    if (c->folds >= 2) {
        if (user_split) {
            fprintf(stderr, "tautune: %s: validation.folds = %d, but data.split names a "
                            "train/validation column (one holdout); remove one of them\n",
                    c->path, c->folds);
            return TT_EXIT_USAGE;
        }
        if (c->final_fit_train) {
            fprintf(stderr, "tautune: %s: final_fit = \"train\" keeps the model of one holdout's "
                            "training rows; with validation.folds = %d there is none. Use "
                            "final_fit = \"all\" or validation = { folds = 1 }\n",
                    c->path, c->folds);
            return TT_EXIT_USAGE;
        }
        s->n_folds = c->folds;
        s->folds_rule = "config";
        return TT_EXIT_OK;
    }
    if (c->folds == 1) {
        s->n_folds = 1;
        s->folds_rule = "config";
        return TT_EXIT_OK;
    }
    s->n_folds = n_rows <= AUTO_FOLD_ROWS && !user_split && !c->final_fit_train ? AUTO_FOLDS : 1;
    s->folds_rule = user_split ? "auto: the data's split column"
                    : c->final_fit_train ? "auto: final_fit = \"train\""
                    : n_rows <= AUTO_FOLD_ROWS ? "auto: 5 folds up to 5000 rows"
                                               : "auto: one holdout above 5000 rows";
    return TT_EXIT_OK;
}

int tt_run_make_folds(run_state *s, const int *t, size_t n, int n_arms,
                      const char *const *arm_labels, char *err, size_t errlen)
{
    int k_folds = s->n_folds;
    int *fold_of = malloc(sizeof *fold_of * (n + 1));
    if (!fold_of)
        return snprintf(err, errlen, "out of memory"), -1;
    tt_status st = tt_split_folds(t, n, n_arms, arm_labels, k_folds, s->cfg->seed, fold_of, err,
                                  errlen);
    if (st != TT_OK) {
        free(fold_of);
        return -1;
    }
    tt_split *sp = &s->split;
    memset(sp, 0, sizeof *sp);
    s->folds = calloc((size_t)k_folds, sizeof *s->folds);
    sp->train = malloc(sizeof *sp->train * (n + 1));
    sp->valid = malloc(sizeof *sp->valid * (n + 1));
    if (!s->folds || !sp->train || !sp->valid) {
        free(fold_of);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    /* s->split: fold 0's training rows ascending; every row, fold-major. */
    for (size_t i = 0; i < n; i++)
        if (fold_of[i] != 0)
            sp->train[sp->n_train++] = i;
    for (int k = 0; k < k_folds; k++) {
        run_fold *f = &s->folds[k];
        f->first = sp->n_valid;
        for (size_t i = 0; i < n; i++)
            if (fold_of[i] == k)
                sp->valid[sp->n_valid++] = i;
        f->rows = sp->n_valid - f->first;
    }
    free(fold_of);
    return 0;
}

int tt_run_fold_datasets(run_state *s, char *err, size_t errlen)
{
    const tt_dataset *d = s->data;
    size_t n = d->n;
    size_t *rows = malloc(sizeof *rows * (n + 1));
    unsigned char *in_fold = malloc(n + 1);
    if (!rows || !in_fold) {
        free(rows);
        free(in_fold);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    int rc = 0;
    for (int k = 0; k < s->n_folds && !rc; k++) {
        run_fold *f = &s->folds[k];
        memset(in_fold, 0, n);
        for (size_t r = 0; r < f->rows; r++)
            in_fold[s->split.valid[f->first + r]] = 1;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!in_fold[i])
                rows[m++] = i;
        /* Fold 0's training part is s->train, made by the caller. */
        if (k > 0 && tt_dataset_subset(d, rows, m, &f->train, err, errlen) != TT_OK)
            rc = -1;
        if (!rc && tt_dataset_subset(d, s->split.valid + f->first, f->rows, &f->valid, err,
                                     errlen) != TT_OK)
            rc = -1;
    }
    free(rows);
    free(in_fold);
    return rc;
}

const tt_dataset *tt_run_fold_train(const run_state *s, int k)
{
    return k == 0 ? s->train : s->folds[k].train;
}

void tt_run_folds_free(run_state *s)
{
    for (int k = 0; s->folds && k < s->n_folds; k++) {
        run_fold *f = &s->folds[k];
        tt_dataset_free(f->train);
        tt_dataset_free(f->valid);
        tt_nuisance_engine_free(f->engine);
        free(f->nu_features);
        free(f->nu_arm_outcome);
    }
    free(s->folds);
    s->folds = NULL;
}

cJSON *tt_run_validation_facts(const run_state *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int k = s->n_folds > 1 ? s->n_folds : 1;
    cJSON_AddStringToObject(o, "kind", k > 1 ? "cross-validated" : "holdout");
    cJSON_AddNumberToObject(o, "folds", k);
    cJSON_AddStringToObject(o, "rule", s->folds_rule ? s->folds_rule : "config");
    cJSON_AddNumberToObject(o, "rows_scored", (double)s->valid->n);
    if (k > 1) {
        cJSON *sizes = cJSON_AddArrayToObject(o, "fold_rows");
        for (int f = 0; f < k; f++)
            cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)s->folds[f].rows));
    } else {
        cJSON_AddNumberToObject(o, "share", s->cfg->validation);
    }
    return o;
}
