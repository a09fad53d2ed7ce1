/*
 * nuisance.c - the engine: fold plan, cross-fitting, cache and selection.
 */
#include "nuisance/nuisance.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

#define DEFAULT_FOLDS 5
#define KEY_LEN 1024

typedef struct entry {
    char key[KEY_LEN];
    tt_nuisance_result r;
} entry;

struct tt_nuisance_engine {
    tt_nuisance_data d;
    size_t folds;
    uint32_t *fold;
    uint64_t seed, plan_hash;
    entry **cache;
    size_t n_cache, cap;
    const tt_nuisance_result *chosen_prop, *chosen_m, *chosen_r, *chosen_pz[2], *chosen_t;
    const tt_nuisance_result **chosen_mu; /* n_arms */
    tt_nuisance_result *known_prop;       /* owned, from set_propensity */
    tt_nuisance_result *known_r;          /* owned, from set_instrument */
    tt_nuisance_result **adopted;         /* owned, from tt_nuisance_adopt */
    size_t n_adopted;
    tt_nuisance_progress_fn progress;
    void *progress_ctx;
};

const char *tt_nuisance_role_name(tt_nuisance_role role)
{
    switch (role) {
    case TT_NUISANCE_PROPENSITY:
        return "propensity";
    case TT_NUISANCE_OUTCOME:
        return "outcome";
    case TT_NUISANCE_ARM_OUTCOME:
        return "mu";
    case TT_NUISANCE_INSTRUMENT:
        return "instrument";
    case TT_NUISANCE_TREATMENT_GIVEN_Z:
        return "treatment_given_z";
    case TT_NUISANCE_TREATMENT:
        return "treatment";
    }
    return "?";
}

int tt_nuisance_role_classifies(tt_nuisance_role role)
{
    return role == TT_NUISANCE_PROPENSITY || role == TT_NUISANCE_INSTRUMENT ||
           role == TT_NUISANCE_TREATMENT_GIVEN_Z;
}

int tt_nuisance_role_per_group(tt_nuisance_role role)
{
    return role == TT_NUISANCE_ARM_OUTCOME || role == TT_NUISANCE_TREATMENT_GIVEN_Z;
}

/* Whether row i trains (role, group): a per-group role uses its group's rows. */
static int in_group(const tt_nuisance_data *d, tt_nuisance_role role, int group, size_t i)
{
    if (role == TT_NUISANCE_ARM_OUTCOME)
        return d->arm[i] == group;
    if (role == TT_NUISANCE_TREATMENT_GIVEN_Z)
        return d->zbin[i] == group;
    return 1;
}

/* Stratified folds: each arm's rows are shuffled and dealt round-robin,
 * continuing where the previous arm stopped, so every fold gets its share
 * of every arm and fold sizes differ by at most one. */
static tt_status make_folds(tt_nuisance_engine *e, char *err, size_t errlen)
{
    const size_t n = e->d.n;
    const size_t n_strata = (e->d.arm ? e->d.n_arms : 1) * (e->d.zbin ? 2 : 1);
    size_t *rows = tt_malloc_array(n, sizeof *rows);
    e->fold = tt_malloc_array(n, sizeof *e->fold);
    if (!rows || !e->fold) {
        free(rows);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory for %zu rows", n);
    }
    tt_rng rng;
    tt_rng_seed(&rng, e->seed, "nuisance-folds");
    size_t next = 0;
    for (size_t s = 0; s < n_strata; s++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)(e->d.arm ? e->d.arm[i] : 0) * (e->d.zbin ? 2 : 1) +
                    (size_t)(e->d.zbin ? e->d.zbin[i] : 0) ==
                s)
                rows[m++] = i;
        /* With an instrument the strata are arm x instrument cells; a small
         * cell (one-sided non-compliance leaves none treated without the
         * instrument) is dealt like the others, and the arm is checked below. */
        if (e->d.arm && m < e->folds && !e->d.zbin) {
            free(rows);
            return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: arm %zu has %zu rows, fewer "
                           "than the %zu folds", s, m, e->folds);
        }
        if (e->d.arm && e->d.zbin && s % 2 == 1) {
            size_t arm_rows = 0;
            for (size_t i = 0; i < n; i++)
                arm_rows += (size_t)e->d.arm[i] == s / 2;
            if (arm_rows < e->folds) {
                free(rows);
                return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: arm %zu has %zu rows, "
                               "fewer than the %zu folds", s / 2, arm_rows, e->folds);
            }
        }
        tt_rng_shuffle_size(&rng, rows, m);
        for (size_t r = 0; r < m; r++, next++)
            e->fold[rows[r]] = (uint32_t)(next % e->folds);
    }
    free(rows);
    /* FNV-1a over the plan: the cache key's fold-plan part. */
    uint64_t h = 1469598103934665603ull ^ e->folds;
    for (size_t i = 0; i < n; i++)
        h = (h ^ e->fold[i]) * 1099511628211ull;
    e->plan_hash = h;
    return TT_OK;
}

tt_status tt_nuisance_engine_new(const tt_nuisance_data *data, size_t folds, uint64_t seed,
                                 tt_nuisance_engine **out, char *err, size_t errlen)
{
    if (!out || !data || (data->p > 0 && !data->x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL data or out");
    *out = NULL;
    if (folds == 0)
        folds = DEFAULT_FOLDS;
    if (folds < 2 || data->n < 2 * folds)
        return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: %zu folds need at least %zu rows "
                       "(have %zu)", folds, 2 * folds, data->n);
    for (size_t i = 0; data->zbin && i < data->n; i++)
        if (data->zbin[i] != 0 && data->zbin[i] != 1)
            return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: the instrument at row %zu is "
                           "%d, not 0 or 1", i, (int)data->zbin[i]);
    if (data->arm) {
        if (data->n_arms < 2)
            return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: need at least two arms");
        for (size_t i = 0; i < data->n; i++)
            if (data->arm[i] < 0 || (size_t)data->arm[i] >= data->n_arms)
                return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: arm at row %zu is %d, not "
                               "in 0..%zu", i, (int)data->arm[i], data->n_arms - 1);
    }
    tt_nuisance_engine *e = calloc(1, sizeof *e);
    if (!e)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    e->d = *data;
    e->folds = folds;
    e->seed = seed;
    tt_status st = make_folds(e, err, errlen);
    if (st == TT_OK && data->arm &&
        !(e->chosen_mu = calloc(data->n_arms, sizeof *e->chosen_mu)))
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    if (st != TT_OK) {
        tt_nuisance_engine_free(e);
        return st;
    }
    *out = e;
    return TT_OK;
}

static void result_clear(tt_nuisance_result *r)
{
    free(r->oof);
    tt_learner_destroy(r->full);
    memset(r, 0, sizeof *r);
}

void tt_nuisance_result_clear(tt_nuisance_result *r)
{
    if (r)
        result_clear(r);
}

void tt_nuisance_engine_free(tt_nuisance_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_cache; i++) {
        result_clear(&e->cache[i]->r);
        free(e->cache[i]);
    }
    if (e->known_prop)
        result_clear(e->known_prop);
    free(e->known_prop);
    if (e->known_r)
        result_clear(e->known_r);
    free(e->known_r);
    for (size_t i = 0; i < e->n_adopted; i++) {
        result_clear(e->adopted[i]);
        free(e->adopted[i]);
    }
    free(e->adopted);
    free(e->cache);
    free(e->fold);
    free((void *)e->chosen_mu);
    free(e);
}

const uint32_t *tt_nuisance_folds(const tt_nuisance_engine *e, size_t *folds)
{
    if (folds)
        *folds = e->folds;
    return e->fold;
}

/* The spec with every schema parameter resolved (defaults filled in, the
 * propensity's classify forced), so equal models get equal cache keys. */
static tt_status resolve(tt_nuisance_role role, const tt_nuisance_spec *spec,
                         tt_nuisance_spec *full, char *err, size_t errlen)
{
    const tt_learner_param_info *info = NULL;
    size_t np = 0;
    tt_status st = tt_learner_describe(spec->learner, &info, &np, err, errlen);
    if (st != TT_OK)
        return st;
    if (np > TT_NUISANCE_MAX_PARAMS || spec->n_params > TT_NUISANCE_MAX_PARAMS)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "nuisance: too many parameters");
    memset(full, 0, sizeof *full);
    full->learner = spec->learner;
    full->n_params = np;
    for (size_t j = 0; j < np; j++) {
        full->keys[j] = info[j].name;
        full->values[j] = info[j].default_value;
    }
    for (size_t i = 0; i < spec->n_params; i++) {
        size_t j = 0;
        while (j < np && strcmp(info[j].name, spec->keys[i]) != 0)
            j++;
        if (j == np)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "nuisance: learner %s has no "
                           "hyperparameter '%s'", spec->learner, spec->keys[i]);
        full->values[j] = spec->values[i];
    }
    for (size_t j = 0; j < np; j++)
        if (tt_nuisance_role_classifies(role) && strcmp(full->keys[j], "classify") == 0)
            full->values[j] = 1.0;
    return TT_OK;
}

static void make_key(const tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                     const tt_nuisance_spec *full, char *key)
{
    size_t used = (size_t)snprintf(key, KEY_LEN, "%s|%d|%s", tt_nuisance_role_name(role), arm,
                                   full->learner);
    for (size_t j = 0; j < full->n_params && used < KEY_LEN; j++)
        used += (size_t)snprintf(key + used, KEY_LEN - used, "|%s=%.17g", full->keys[j],
                                 full->values[j]);
    if (used < KEY_LEN)
        snprintf(key + used, KEY_LEN - used, "|plan=%016" PRIx64, e->plan_hash);
}

typedef struct gathered {
    size_t m;
    double *x, *y, *w;
} gathered;

/* Copies the rows where take[i] into column-major x (and y, w). */
static int gather(const tt_nuisance_data *d, const double *label, const unsigned char *take,
                  gathered *g)
{
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        m += take[i];
    g->m = m;
    g->x = tt_malloc_array(m ? m : 1, (d->p ? d->p : 1) * sizeof *g->x);
    g->y = tt_malloc_array(m ? m : 1, sizeof *g->y);
    g->w = d->weight ? tt_malloc_array(m ? m : 1, sizeof *g->w) : NULL;
    if (!g->x || !g->y || (d->weight && !g->w))
        return 0;
    size_t r = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (!take[i])
            continue;
        for (size_t j = 0; j < d->p; j++)
            g->x[j * m + r] = d->x[j * d->n + i];
        if (label)
            g->y[r] = label[i];
        if (g->w)
            g->w[r] = d->weight[i];
        r++;
    }
    return 1;
}

static void gathered_free(gathered *g)
{
    free(g->x);
    free(g->y);
    free(g->w);
}

static tt_status fit_rows(const tt_nuisance_engine *e, const tt_nuisance_spec *full,
                          const double *label, const unsigned char *take, uint64_t seed,
                          size_t width, tt_learner **out, char *err, size_t errlen)
{
    gathered g = {0};
    tt_status st = TT_OK;
    *out = NULL;
    if (!gather(&e->d, label, take, &g)) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory to gather rows");
    } else if ((st = tt_learner_create(full->learner, full->keys, full->values, full->n_params,
                                       seed, out, err, errlen)) == TT_OK &&
               (st = tt_learner_fit(*out, g.m, e->d.p, g.x, g.y, g.w, err, errlen)) == TT_OK &&
               tt_learner_n_outputs(*out) != width) {
        st = tt_errf(err, errlen, TT_ERR_DATA, "nuisance: %s gives %zu outputs per row, the "
                     "role needs %zu", full->learner, tt_learner_n_outputs(*out), width);
    }
    if (st != TT_OK) {
        tt_learner_destroy(*out);
        *out = NULL;
    }
    gathered_free(&g);
    return st;
}

static tt_status crossfit(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                          const tt_nuisance_spec *full, tt_nuisance_result *r,
                          char *err, size_t errlen)
{
    const tt_nuisance_data *d = &e->d;
    const size_t n = d->n;
    const int prop = tt_nuisance_role_classifies(role);
    r->role = role;
    r->arm = tt_nuisance_role_per_group(role) ? arm : -1;
    r->n = n;
    r->width = role == TT_NUISANCE_PROPENSITY && d->n_arms > 2 ? d->n_arms : 1;
    double *label = NULL;
    unsigned char *take = malloc(n);
    r->oof = tt_malloc_array(n, r->width * sizeof *r->oof);
    tt_status st = TT_OK;
    /* Class labels: the instrument's value, else the arm. */
    if (prop && (label = tt_malloc_array(n, sizeof *label)))
        for (size_t i = 0; i < n; i++)
            label[i] = (double)(role == TT_NUISANCE_INSTRUMENT ? d->zbin[i] : d->arm[i]);
    if (!take || !r->oof || (prop && !label)) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
        goto done;
    }
    const double *y = prop ? label : role == TT_NUISANCE_TREATMENT ? d->t_value : d->y;
    if (prop && r->width == 1) {
        /* One class in the role's rows (one-sided non-compliance: nobody
         * without the instrument is treated): the probability is that class,
         * exactly, and no classifier can be fitted to one class. */
        int seen[2] = {0, 0};
        for (size_t i = 0; i < n; i++)
            if (in_group(d, role, r->arm, i))
                seen[label[i] != 0.0] = 1;
        if (seen[0] != seen[1]) {
            for (size_t i = 0; i < n; i++)
                r->oof[i] = seen[1];
            snprintf(r->diag.learner, sizeof r->diag.learner, "%s", TT_NUISANCE_CONSTANT);
            goto done;
        }
    }
    gathered test = {0};
    for (size_t k = 0; k < e->folds && st == TT_OK; k++) {
        for (size_t i = 0; i < n; i++)
            take[i] = e->fold[i] != k && in_group(d, role, r->arm, i);
        tt_learner *l = NULL;
        uint64_t seed = tt_rng_derive(e->seed + 0x9E3779B97F4A7C15ull * (k + 1), "nuisance");
        if (e->progress)
            e->progress(e->progress_ctx, role, r->arm, full->learner, k, e->folds);
        st = fit_rows(e, full, y, take, seed, r->width, &l, err, errlen);
        if (st == TT_OK) {
            /* Held-out rows of every group: mu_k and p_z are needed for all rows. */
            for (size_t i = 0; i < n; i++)
                take[i] = e->fold[i] == k;
            if (!gather(d, NULL, take, &test)) {
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
            } else {
                double *pred = tt_malloc_array(test.m ? test.m : 1, r->width * sizeof *pred);
                if (!pred)
                    st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
                else
                    st = tt_learner_predict(l, test.m, d->p, test.x, pred, err, errlen);
                for (size_t i = 0, t = 0; st == TT_OK && i < n; i++)
                    if (take[i]) {
                        for (size_t c = 0; c < r->width; c++)
                            r->oof[c * n + i] = pred[c * test.m + t];
                        t++;
                    }
                free(pred);
            }
            gathered_free(&test);
            memset(&test, 0, sizeof test);
        }
        tt_learner_destroy(l);
        if (st != TT_OK)
            tt_err_prefix(err, errlen, "nuisance %s, fold %zu", tt_nuisance_role_name(role), k);
    }
    if (st == TT_OK) {
        if (e->progress)
            e->progress(e->progress_ctx, role, r->arm, full->learner, e->folds, e->folds);
        for (size_t i = 0; i < n; i++)
            take[i] = in_group(d, role, r->arm, i);
        st = fit_rows(e, full, y, take, tt_rng_derive(e->seed, "nuisance-full"), r->width,
                      &r->full, err, errlen);
    }
done:
    free(take);
    free(label);
    return st;
}

static void record_spec(tt_nuisance_diag *dg, const tt_nuisance_spec *full)
{
    snprintf(dg->learner, sizeof dg->learner, "%s", full->learner);
    dg->n_params = full->n_params;
    for (size_t j = 0; j < full->n_params; j++) {
        snprintf(dg->keys[j], sizeof dg->keys[j], "%s", full->keys[j]);
        dg->values[j] = full->values[j];
    }
}

static tt_status check_role(const tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                            char *err, size_t errlen)
{
    if (role != TT_NUISANCE_OUTCOME && !e->d.arm)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs arms",
                       tt_nuisance_role_name(role));
    if (!tt_nuisance_role_classifies(role) && !e->d.y)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs y",
                       tt_nuisance_role_name(role));
    if (role == TT_NUISANCE_ARM_OUTCOME && (arm < 0 || (size_t)arm >= e->d.n_arms))
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: arm %d out of range", arm);
    if ((unsigned)role > TT_NUISANCE_TREATMENT)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: unknown role");
    if (role == TT_NUISANCE_TREATMENT && !e->d.t_value)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs a continuous "
                       "treatment (with arms it is the propensity)", tt_nuisance_role_name(role));
    if (e->d.t_value && role != TT_NUISANCE_TREATMENT && role != TT_NUISANCE_OUTCOME)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs arms; the treatment is "
                       "continuous (ask for the treatment regression E[T | x])",
                       tt_nuisance_role_name(role));
    if ((role == TT_NUISANCE_INSTRUMENT || role == TT_NUISANCE_TREATMENT_GIVEN_Z) && !e->d.zbin)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs a binary instrument",
                       tt_nuisance_role_name(role));
    if (role == TT_NUISANCE_TREATMENT_GIVEN_Z && (arm < 0 || arm > 1 || e->d.n_arms != 2))
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: %s needs two arms and an "
                       "instrument value 0 or 1 (got %d)", tt_nuisance_role_name(role), arm);
    return TT_OK;
}

tt_status tt_nuisance_fit(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                          const tt_nuisance_spec *spec, const tt_nuisance_result **out,
                          char *err, size_t errlen)
{
    if (!e || !spec || !spec->learner || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL argument");
    *out = NULL;
    tt_status st = check_role(e, role, arm, err, errlen);
    if (st != TT_OK)
        return st;
    if (!tt_nuisance_role_per_group(role))
        arm = -1;
    tt_nuisance_spec full;
    if ((st = resolve(role, spec, &full, err, errlen)) != TT_OK)
        return st;
    char key[KEY_LEN];
    make_key(e, role, arm, &full, key);
    for (size_t i = 0; i < e->n_cache; i++)
        if (strcmp(e->cache[i]->key, key) == 0) {
            *out = &e->cache[i]->r;
            return TT_OK;
        }
    if (e->n_cache == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 8;
        entry **c = realloc(e->cache, cap * sizeof *c);
        if (!c)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
        e->cache = c;
        e->cap = cap;
    }
    entry *en = calloc(1, sizeof *en);
    if (!en)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    memcpy(en->key, key, KEY_LEN);
    double t0 = tt_now();
    st = crossfit(e, role, arm, &full, &en->r, err, errlen);
    if (st != TT_OK) {
        result_clear(&en->r);
        free(en);
        return st;
    }
    if (strcmp(en->r.diag.learner, TT_NUISANCE_CONSTANT) != 0)
        record_spec(&en->r.diag, &full);
    tt_nuisance_diagnose(&e->d, &en->r);
    en->r.diag.n_candidates = 1;
    en->r.diag.seconds = tt_now() - t0;
    e->cache[e->n_cache++] = en;
    *out = &en->r;
    return TT_OK;
}

static const tt_nuisance_spec prop_cands[] = {
    {"logistic", 1, {"alpha"}, {1.0}},
    {"logistic", 1, {"alpha"}, {100.0}},
    {"forest", 2, {"min_leaf", "n_trees"}, {10.0, 200.0}},
    {"forest", 2, {"min_leaf", "n_trees"}, {40.0, 200.0}},
    {"gbm", 5, {"n_rounds", "learning_rate", "max_depth", "early_stopping", "subsample"},
     {500.0, 0.05, 3.0, 20.0, 0.8}},
};
static const tt_nuisance_spec outcome_cands[] = {
    {"ridge", 1, {"alpha"}, {1.0}},
    {"lasso", 0, {0}, {0}},
    {"forest", 2, {"min_leaf", "mtry"}, {5.0, 0.0}},
    {"forest", 2, {"min_leaf", "mtry"}, {20.0, 0.0}},
    {"gbm", 5, {"n_rounds", "learning_rate", "max_depth", "early_stopping", "subsample"},
     {500.0, 0.05, 4.0, 20.0, 0.8}},
};

void tt_nuisance_default_candidates(tt_nuisance_role role, const tt_nuisance_spec **cands,
                                    size_t *n)
{
    if (tt_nuisance_role_classifies(role)) {
        *cands = prop_cands;
        *n = sizeof prop_cands / sizeof prop_cands[0];
    } else {
        *cands = outcome_cands;
        *n = sizeof outcome_cands / sizeof outcome_cands[0];
    }
}

static void set_chosen(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                       const tt_nuisance_result *r)
{
    if (role == TT_NUISANCE_PROPENSITY)
        e->chosen_prop = r;
    else if (role == TT_NUISANCE_OUTCOME)
        e->chosen_m = r;
    else if (role == TT_NUISANCE_INSTRUMENT)
        e->chosen_r = r;
    else if (role == TT_NUISANCE_TREATMENT_GIVEN_Z)
        e->chosen_pz[arm] = r;
    else if (role == TT_NUISANCE_TREATMENT)
        e->chosen_t = r;
    else
        e->chosen_mu[arm] = r;
}

tt_status tt_nuisance_select(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                             const tt_nuisance_spec *cands, size_t n_cands,
                             const tt_nuisance_result **out, char *err, size_t errlen)
{
    if (!e || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL argument");
    *out = NULL;
    tt_status st = check_role(e, role, arm, err, errlen);
    if (st != TT_OK)
        return st;
    if (!cands || n_cands == 0)
        tt_nuisance_default_candidates(role, &cands, &n_cands);
    const double t0 = tt_now(); /* reported only; never decides anything */
    const tt_nuisance_result *best = NULL;
    for (size_t c = 0; c < n_cands; c++) {
        const tt_nuisance_result *r = NULL;
        st = tt_nuisance_fit(e, role, arm, &cands[c], &r, err, errlen);
        if (st != TT_OK)
            continue; /* e.g. logistic on separable arms: the next candidate may fit */
        if (!best || r->diag.oof_loss < best->diag.oof_loss)
            best = r;
    }
    if (!best)
        return st;
    /* The choice's diagnostics describe the selection that made it. */
    tt_nuisance_result *b = (tt_nuisance_result *)best;
    b->diag.n_candidates = n_cands;
    b->diag.seconds = tt_now() - t0;
    set_chosen(e, role, tt_nuisance_role_per_group(role) ? arm : -1, best);
    *out = best;
    return TT_OK;
}

void tt_nuisance_set_progress(tt_nuisance_engine *e, tt_nuisance_progress_fn fn, void *ctx)
{
    e->progress = fn;
    e->progress_ctx = ctx;
}

tt_status tt_nuisance_adopt(tt_nuisance_engine *e, tt_nuisance_result *r, char *err,
                            size_t errlen)
{
    if (!e || !r)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL argument");
    tt_status st = check_role(e, r->role, r->arm, err, errlen);
    if (st != TT_OK)
        return st;
    if (r->n != e->d.n || !r->oof)
        return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: a %s model for %zu rows cannot "
                       "serve %zu", tt_nuisance_role_name(r->role), r->n, e->d.n);
    tt_nuisance_result **a = realloc(e->adopted, (e->n_adopted + 1) * sizeof *a);
    if (!a)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    e->adopted = a;
    e->adopted[e->n_adopted++] = r;
    set_chosen(e, r->role, tt_nuisance_role_per_group(r->role) ? r->arm : -1, r);
    return TT_OK;
}

tt_status tt_nuisance_set_propensity(tt_nuisance_engine *e, const double *prop, size_t width,
                                     const tt_nuisance_result **out, char *err,
                                     size_t errlen)
{
    if (!e || !prop || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL argument");
    *out = NULL;
    tt_status st = check_role(e, TT_NUISANCE_PROPENSITY, -1, err, errlen);
    if (st != TT_OK)
        return st;
    const size_t n = e->d.n, want = e->d.n_arms > 2 ? e->d.n_arms : 1;
    if (width != want)
        return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: known propensities need %zu "
                       "column(s) for %zu arms, got %zu", want, e->d.n_arms, width);
    for (size_t i = 0; i < n * width; i++)
        if (!(prop[i] > 0.0 && prop[i] < 1.0))
            return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: known propensity at row %zu "
                           "is %g; must be in (0, 1)", i % n, prop[i]);
    tt_nuisance_result *r = calloc(1, sizeof *r);
    if (!r || !(r->oof = tt_malloc_array(n, width * sizeof *r->oof))) {
        free(r);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    }
    memcpy(r->oof, prop, n * width * sizeof *r->oof);
    r->role = TT_NUISANCE_PROPENSITY;
    r->arm = -1;
    r->n = n;
    r->width = width;
    snprintf(r->diag.learner, sizeof r->diag.learner, "known");
    tt_nuisance_diagnose(&e->d, r);
    if (e->known_prop) {
        result_clear(e->known_prop);
        free(e->known_prop);
    }
    e->known_prop = r;
    e->chosen_prop = r;
    *out = r;
    return TT_OK;
}

tt_status tt_nuisance_set_instrument(tt_nuisance_engine *e, double p_z1,
                                     const tt_nuisance_result **out, char *err, size_t errlen)
{
    if (!e || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "nuisance: NULL argument");
    *out = NULL;
    tt_status st = check_role(e, TT_NUISANCE_INSTRUMENT, -1, err, errlen);
    if (st != TT_OK)
        return st;
    if (!(p_z1 > 0.0 && p_z1 < 1.0))
        return tt_errf(err, errlen, TT_ERR_DATA, "nuisance: a known instrument propensity "
                       "must be in (0, 1), got %g", p_z1);
    const size_t n = e->d.n;
    tt_nuisance_result *r = calloc(1, sizeof *r);
    if (!r || !(r->oof = tt_malloc_array(n ? n : 1, sizeof *r->oof))) {
        free(r);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance: no memory");
    }
    for (size_t i = 0; i < n; i++)
        r->oof[i] = p_z1;
    r->role = TT_NUISANCE_INSTRUMENT;
    r->arm = -1;
    r->n = n;
    r->width = 1;
    snprintf(r->diag.learner, sizeof r->diag.learner, "known");
    tt_nuisance_diagnose(&e->d, r);
    if (e->known_r) {
        result_clear(e->known_r);
        free(e->known_r);
    }
    e->known_r = r;
    e->chosen_r = r;
    *out = r;
    return TT_OK;
}

const tt_nuisance_result *tt_nuisance_chosen(const tt_nuisance_engine *e,
                                             tt_nuisance_role role, int arm)
{
    if (!e)
        return NULL;
    if (role == TT_NUISANCE_PROPENSITY)
        return e->chosen_prop;
    if (role == TT_NUISANCE_OUTCOME)
        return e->chosen_m;
    if (role == TT_NUISANCE_INSTRUMENT)
        return e->chosen_r;
    if (role == TT_NUISANCE_TREATMENT_GIVEN_Z)
        return arm == 0 || arm == 1 ? e->chosen_pz[arm] : NULL;
    if (role == TT_NUISANCE_TREATMENT)
        return e->chosen_t;
    if (e->chosen_mu && arm >= 0 && (size_t)arm < e->d.n_arms)
        return e->chosen_mu[arm];
    return NULL;
}
