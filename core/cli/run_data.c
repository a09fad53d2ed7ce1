/* run_data.c - the data stages of `tautune run`: read the file (or run the
 * generator), check it against the plugins, split it, fit the preprocessing
 * on the training rows, and describe what happened for results.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/run.h"
#include "data/gen.h"
#include "plugin/caps.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/paths.h"

/* data.path, or the files of a data.path list stacked into one table. */
tt_status tt_cli_read_tables(const tt_config *c, const tt_csv_options *opt, tt_csv_table **out,
                             char *err, size_t errlen)
{
    if (c->n_data_paths < 2)
        return tt_csv_read_opts(c->data_path, opt, out, err, errlen);
    tt_csv_table **parts = calloc(c->n_data_paths, sizeof *parts);
    tt_status st = parts ? TT_OK : tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->n_data_paths && st == TT_OK; i++)
        st = tt_csv_read_opts(c->data_paths[i], opt, &parts[i], err, errlen);
    if (st == TT_OK)
        st = tt_csv_concat(parts, c->n_data_paths, out, err, errlen);
    for (size_t i = 0; parts && i < c->n_data_paths; i++)
        tt_csv_free(parts[i]);
    free(parts);
    return st;
}

static cJSON *names_json(char **names, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
    return arr;
}

/* Generators give the whole dataset at once; a CSV file stops at the frame
 * (roles resolved and checked) because its features are preprocessed with
 * statistics of the training rows, which exist only after the split. */
int tt_run_load_data(run_state *s, const run_args *a)
{
    char err[2048];
    tt_status st;
    tt_config *c = s->cfg;
    if (a->data) {
        if (c->generator) {
            fprintf(stderr, "tautune: --data needs a config that reads a file (data.path and "
                            "its column roles); %s uses data.generator\n", c->path);
            return TT_EXIT_USAGE;
        }
        /* As for data.path (lua/config_sections.c): a FIFO would block. */
        const char *what = tt_path_not_regular(a->data);
        if (what) {
            fprintf(stderr, "tautune: --data %s is %s, not a regular file; give a CSV "
                            "file\n", a->data, what);
            return TT_EXIT_USAGE;
        }
        char *p = strdup(a->data);
        if (!p) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        free(c->data_path);
        c->data_path = p;
        tt_free_strings(c->data_paths, c->n_data_paths);
        c->data_paths = NULL;
        c->n_data_paths = 0;
    }
    if (c->generator) {
        tt_gen_options opt;
        tt_gen_options_init(&opt);
        opt.rows = c->gen_rows;
        opt.arms = c->gen_arms;
        opt.seed = c->gen_seed;
        st = tt_gen_generate(c->generator, &opt, &s->data, err, sizeof err);
        if (st == TT_OK && c->treatment_continuous && !tt_dataset_continuous(s->data))
            st = tt_errf(err, sizeof err, TT_ERR_CONFIG, "%s: data.treatment_kind = "
                         "\"continuous\", but the generator '%s' makes arms (the continuous "
                         "one is \"pricing\")", c->path, c->generator);
    } else {
        tt_csv_options copt = {.missing = (const char *const *)c->missing,
                               .n_missing = c->n_missing, .has_missing = c->missing != NULL};
        /* Large files take seconds: say what is happening, and how long it took. */
        struct stat sb;
        double t0 = tt_now();
        int tell = !a->quiet && stat(c->data_path, &sb) == 0 && sb.st_size >= (8 << 20);
        if (tell)
            fprintf(stderr, "tautune: reading %s (%.0f MB) ...\n", c->data_path,
                    (double)sb.st_size / 1048576.0);
        st = tt_cli_read_tables(c, &copt, &s->table, err, sizeof err);
        if (tell && st == TT_OK)
            fprintf(stderr, "tautune: read %zu rows in %.1fs\n", s->table->n_rows,
                    tt_now() - t0);
        if (st == TT_OK) {
            tt_roles roles = {
                .outcome = c->outcome, .treatment = c->treatment, .control = c->control,
                .x = (const char *const *)c->x, .n_x = c->n_x,
                .w = (const char *const *)c->w, .n_w = c->n_w,
                .true_effect = (const char *const *)c->true_effect,
                .n_true_effect = c->n_true_effect,
                .z = (const char *const *)c->z, .n_z = c->n_z,
                .propensity = (const char *const *)c->propensity, .n_propensity = c->n_propensity,
                .true_propensity = (const char *const *)c->true_propensity,
                .n_true_propensity = c->n_true_propensity,
                .id = c->id_col, .weight = c->weight_col, .split = c->split_col,
                .drop_missing = c->drop_missing, .level_cap = (size_t)c->level_cap,
                .exclude_cols = (const char *const *)c->exclude_cols,
                .exclude_vals = (const char *const *)c->exclude_vals, .n_exclude = c->n_exclude,
                .continuous = c->treatment_continuous,
                .categorical = (const char *const *)c->categorical,
                .n_categorical = c->n_categorical,
            };
            st = tt_frame_build(s->table, &roles, &s->frame, err, sizeof err);
        }
    }
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        /* A column the config names wrongly is a config error; a file that is
         * missing, unreadable or malformed is a data error. */
        return st == TT_ERR_CONFIG ? TT_EXIT_USAGE : TT_EXIT_DATA;
    }
    if (s->frame && s->frame->base->n_dropped > 0 && !s->quiet)
        fprintf(stderr, "tautune: %s: dropped %zu rows with a missing outcome or treatment "
                        "(data.drop_missing)\n", c->data_path, s->frame->base->n_dropped);
    return TT_EXIT_OK;
}

/* The dataset the checks look at: the whole data, or the frame's base. */
static const tt_dataset *data_of(const run_state *s)
{
    return s->data ? s->data : s->frame->base;
}

/* Checks that need both the data and the plugins. */
int tt_run_check_data(const run_state *s)
{
    const tt_config *c = s->cfg;
    const int cont = tt_dataset_continuous(data_of(s));
    for (size_t i = 0; i < c->n_estimators; i++) {
        const tt_plugin_descriptor *d = s->descs[i];
        /* A CSV's instruments reach the data with the preprocessing (after
         * the split): the config's data.z says whether there are any. */
        switch (tt_plugin_data_misfit(d->capabilities, data_of(s)->n_arms,
                                      data_of(s)->p_z > 0 || c->n_z > 0, cont)) {
        case TT_MISFIT_NONE:
            break;
        case TT_MISFIT_CONTINUOUS:
            fprintf(stderr, "tautune: %s: estimators.%s: '%s' takes arms, and the treatment "
                            "'%s' is continuous (data.treatment_kind); estimators for a "
                            "continuous treatment: %s\n", c->path, d->name, d->name,
                    data_of(s)->t_name, TT_CONTINUOUS_ESTIMATORS);
            return TT_EXIT_PLUGIN;
        case TT_MISFIT_ARMS:
            fprintf(stderr, "tautune: %s: estimators.%s: '%s' handles two arms only; the data have %d\n",
                    c->path, d->name, d->name, data_of(s)->n_arms);
            return TT_EXIT_PLUGIN;
        case TT_MISFIT_NO_INSTRUMENT:
            fprintf(stderr, "tautune: %s: estimators.%s: '%s' is an instrumental-variable "
                            "estimator and the data name no instrument; set data.z (e.g. "
                            "z = { \"nearc4\" })\n", c->path, d->name, d->name);
            return TT_EXIT_PLUGIN;
        }
    }
    return TT_EXIT_OK;
}

/* The rows the preprocessing is fitted on and the split: one holdout
 * (tt_frame_split / tt_split_stratified), or K folds (run_folds.c). */
static tt_status split_rows(run_state *s, const int *t, size_t n, int n_arms,
                            const char *const *labels, char *err, size_t errlen)
{
    if (s->n_folds >= 2) {
        if (tt_run_make_folds(s, t, n, n_arms, labels, err, errlen) == 0)
            return TT_OK;
        if (s->cfg->folds >= 2) /* asked for: say why not */
            return TT_ERR_DATA;
        /* Chosen by size: an arm too small for folds keeps one holdout. */
        tt_run_folds_free(s);
        tt_split_free(&s->split);
        s->n_folds = 1;
        s->folds_rule = "auto: an arm too small for 5 folds";
    }
    if (s->frame)
        return tt_frame_split(s->frame, s->cfg->validation, s->cfg->seed, &s->split, err,
                              errlen);
    return tt_split_stratified(t, n, n_arms, labels, s->cfg->validation, s->cfg->seed,
                               &s->split, err, errlen);
}

/* CSV: split the frame (user column, stratified, or folds), fit the
 * preprocessing on the training rows only (fold 0's with folds: it learns no
 * outcome, only levels, medians and scales), then run every row through it. */
static tt_status split_frame(run_state *s, char *err, size_t errlen)
{
    const tt_dataset *b = s->frame->base;
    tt_status st = split_rows(s, b->t, b->n, b->n_arms, (const char *const *)b->arm_labels,
                              err, errlen);
    if (st == TT_OK)
        st = tt_prep_fit(s->frame, s->split.train, s->split.n_train, &s->prep, err, errlen);
    if (st == TT_OK)
        st = tt_frame_dataset(s->frame, s->prep, &s->data, err, errlen);
    /* Every row now lives in s->data, preprocessed: the raw table and the
     * frame's base are copies nothing reads again, together larger than the
     * data - released before the training and validation copies are made
     * (a million rows x 28 columns: `check` peaked at 706 MB with them, 506
     * MB without), keeping the two facts results.json still reports. */
    if (st == TT_OK) {
        s->n_excluded = s->frame->n_excluded;
        s->user_split = s->frame->user_split != NULL;
        tt_frame_free(s->frame);
        tt_csv_free(s->table);
        s->frame = NULL;
        s->table = NULL;
        /* The table's many small blocks left a large hole in the heap: back
         * to the system, or the copies below fill it and stay resident
         * when they are released. */
        tt_mem_give_back();
    }
    return st;
}

int tt_run_split(run_state *s)
{
    char err[1024];
    tt_status st;
    size_t n_rows = s->frame ? s->frame->base->n : s->data->n;
    int rc = tt_run_choose_folds(s, n_rows, s->frame && s->frame->user_split);
    if (rc)
        return rc;
    if (s->frame) {
        st = split_frame(s, err, sizeof err);
    } else {
        const tt_dataset *g = s->data;
        st = split_rows(s, g->t, g->n, g->n_arms, (const char *const *)g->arm_labels, err,
                        sizeof err);
        if (st != TT_OK)
            tt_err_prefix(err, sizeof err, "%s", g->source);
    }
    const tt_dataset *d = s->data;
    if (st == TT_OK)
        st = tt_dataset_subset(d, s->split.train, s->split.n_train, &s->train, err, sizeof err);
    if (st == TT_OK)
        st = tt_dataset_subset(d, s->split.valid, s->split.n_valid, &s->valid, err, sizeof err);
    if (st == TT_OK && s->n_folds >= 2 && tt_run_fold_datasets(s, err, sizeof err))
        st = TT_ERR_DATA;
    if (st == TT_OK) {
        s->train_counts = calloc((size_t)d->n_arms, sizeof(size_t));
        s->valid_counts = calloc((size_t)d->n_arms, sizeof(size_t));
        if (!s->train_counts || !s->valid_counts)
            st = tt_errf(err, sizeof err, TT_ERR_NOMEM, "out of memory");
    }
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return st == TT_ERR_CONFIG ? TT_EXIT_USAGE : TT_EXIT_DATA;
    }
    tt_dataset_arm_counts(s->train, s->train_counts);
    tt_dataset_arm_counts(s->valid, s->valid_counts);
    return TT_EXIT_OK;
}

void tt_run_release_all_rows(run_state *s)
{
    tt_dataset *d = s->data;
    if (s->n_folds >= 2 || !d || !s->train || !s->valid ||
        s->split.n_train + s->split.n_valid != d->n || d->p_x + d->p_w == 0)
        return;
    tt_dataset_drop_features(d);
    s->all_rows_released = 1;
    tt_mem_give_back();
}

/* Rows rows[0..part->n) of the n x p block xw from part's x and w. */
static void scatter_rows(double *xw, size_t n, const tt_dataset *part, const size_t *rows)
{
    for (size_t j = 0; j < part->p_x + part->p_w; j++) {
        const double *src = j < part->p_x ? part->x + j * part->n
                                          : part->w + (j - part->p_x) * part->n;
        double *dst = xw + j * n;
        for (size_t r = 0; r < part->n; r++)
            dst[rows[r]] = src[r];
    }
}

int tt_run_all_rows(run_state *s)
{
    tt_dataset *d = s->data;
    if (!s->all_rows_released || d->x || d->w)
        return 0;
    const size_t n = d->n, px = d->p_x, pw = d->p_w;
    double *xw = tt_malloc_array(n, (px + pw) * sizeof *xw);
    if (!xw) {
        fprintf(stderr, "tautune: out of memory for every row's features (%zu x %zu)\n", n,
                px + pw);
        return -1;
    }
    scatter_rows(xw, n, s->train, s->split.train);
    scatter_rows(xw, n, s->valid, s->split.valid);
    d->x = px ? xw : NULL;
    d->w = pw ? xw + n * px : NULL;
    d->xw_joint = px > 0 && pw > 0; /* w lives in x's allocation */
    return 0;
}

/* Every row's features grown out of the training rows' own block, in
 * place: realloc to n rows (mremap for a block this size: no copy), then
 * each column moved to its new place, the last first. Within column j the
 * training rows go from j n_train + r to j n + train[r] >= that (the rows
 * ascend), so walking r downwards never overwrites a value not yet moved,
 * and a column never reaches below its old start into the columns before
 * it. The training and every row's features are never held twice. */
static double *grow_train_block(run_state *s)
{
    tt_dataset *t = s->train;
    const size_t n = s->data->n, m = t->n, p = t->p_x + t->p_w;
    double *block = (double *)tt_dataset_xw(t);
    if (!block || (t->p_x > 0 && t->p_w > 0 && !t->xw_joint))
        return NULL;
    double *xw = realloc(block, sizeof *xw * n * p);
    if (!xw)
        return NULL;
    t->x = t->w = NULL; /* the block is every row's now */
    t->xw_joint = 0;
    for (size_t j = p; j-- > 0;)
        for (size_t r = m; r-- > 0;)
            xw[j * n + s->split.train[r]] = xw[j * m + r];
    return xw;
}

int tt_run_swap_to_all_rows(run_state *s)
{
    if (!s->all_rows_released || s->train_rows_released)
        return 0;
    tt_dataset *d = s->data;
    const size_t n = d->n, px = d->p_x, pw = d->p_w;
    double *xw = grow_train_block(s);
    if (!xw) {
        /* Not one block: build every row's, then let the training rows' go. */
        if (tt_run_all_rows(s))
            return -1;
        tt_dataset_drop_features(s->train);
    } else {
        scatter_rows(xw, n, s->valid, s->split.valid);
        d->x = px ? xw : NULL;
        d->w = pw ? xw + n * px : NULL;
        d->xw_joint = px > 0 && pw > 0;
    }
    /* (The training rows' nuisance engine still points at the old block:
     * only its fitted results are read from here on.) */
    s->all_rows_released = 0; /* kept from now on */
    s->train_rows_released = 1;
    tt_mem_give_back();
    return 0;
}

int tt_run_train_rows(run_state *s)
{
    tt_dataset *t = s->train;
    const tt_dataset *d = s->data;
    if (!s->train_rows_released || t->x || t->w)
        return 0;
    const size_t n = t->n, px = d->p_x, pw = d->p_w;
    int ok = 1; /* every row's block is one allocation: tt_run_swap_to_all_rows made it */
    double *xw = tt_gather_rows(tt_dataset_xw(d), d->n, px + pw, s->split.train, n, &ok);
    if (!xw) {
        fprintf(stderr, "tautune: out of memory for the training rows' features\n");
        return -1;
    }
    t->x = px ? xw : NULL;
    t->w = pw ? xw + n * px : NULL;
    t->xw_joint = px > 0 && pw > 0;
    return 0;
}

/* A feature the treatment seems to determine: constant on every row of one
 * arm (at least 30 of them) while it varies elsewhere (p401 is 0 on every row
 * not eligible for a 401(k): participation comes after eligibility), or
 * correlated with the treatment beyond 0.95. Adjusting for a consequence of
 * the treatment removes part of the effect, or all of it. */
static const char *post_treatment(const tt_dataset *d, const double *col, char *why,
                                  size_t len)
{
    const size_t n = d->n;
    double mt = 0, mc = 0, stt = 0, scc = 0, stc = 0;
    for (size_t i = 0; i < n; i++) {
        mt += (d->t_value ? d->t_value[i] : d->t[i]) / (double)n;
        mc += col[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        double a = (d->t_value ? d->t_value[i] : d->t[i]) - mt, b = col[i] - mc;
        stt += a * a, scc += b * b, stc += a * b;
    }
    double r = stt > 0 && scc > 0 ? stc / sqrt(stt * scc) : 0.0;
    if (fabs(r) > 0.95) {
        snprintf(why, len, "its correlation with the treatment is %.3f", r);
        return why;
    }
    for (int k = 0; !d->t_value && d->n_arms <= 16 && k < d->n_arms; k++) {
        size_t in = 0, out = 0;
        double first = 0, other = 0;
        int same = 1, varies = 0, have_other = 0;
        for (size_t i = 0; i < n; i++) {
            if (d->t[i] == k) {
                if (in++ == 0)
                    first = col[i];
                else if (col[i] != first)
                    same = 0;
            } else {
                out++;
                if (!have_other)
                    other = col[i], have_other = 1;
                else if (col[i] != other)
                    varies = 1;
            }
        }
        if (same && in >= 30 && out > 0 && varies) {
            snprintf(why, len, "it is %g on every row of arm '%s' and varies on the others",
                     first, d->arm_labels[k]);
            return why;
        }
    }
    return NULL;
}

void tt_run_warn_post_treatment(const run_state *s)
{
    const tt_dataset *d = s->data;
    char why[256];
    for (int blk = 0; blk < 2; blk++) {
        size_t p = blk ? d->p_w : d->p_x;
        const double *m = blk ? d->w : d->x;
        char **names = blk ? d->w_names : d->x_names;
        for (size_t j = 0; j < p; j++)
            if (post_treatment(d, m + j * d->n, why, sizeof why))
                fprintf(stderr, "tautune: warning: feature '%s' (data.%s) looks like a "
                                "consequence of the treatment '%s': %s. A column the "
                                "treatment changes must not be a feature (it would absorb "
                                "part of the effect); drop it unless it was measured "
                                "before the treatment\n",
                        names[j], blk ? "w" : "x", d->t_name, why);
    }
}

tt_plugin_data tt_run_view(const tt_dataset *d)
{
    tt_plugin_data v = {
        .struct_size = sizeof v, .n = d->n, .p_x = d->p_x, .p_w = d->p_w,
        .x = d->x, .w = d->w, .t = d->t, .y = d->y, .weight = d->weight, .n_arms = d->n_arms,
        .x_names = (const char *const *)d->x_names, .w_names = (const char *const *)d->w_names,
        .p_z = d->p_z, .z = d->p_z ? d->z : NULL, .z_names = (const char *const *)d->z_names,
        .t_value = d->t_value,
    };
    /* A continuous treatment's t holds strata, never arms: plugins see none. */
    if (d->t_value)
        v.t = NULL;
    return v;
}


/* Data facts beyond tt_run_info's own fields. */
cJSON *tt_run_data_facts(const run_state *s)
{
    const tt_dataset *d = s->data;
    cJSON *data = cJSON_CreateObject();
    if (!data)
        return NULL;
    cJSON_AddNumberToObject(data, "dropped_rows", (double)d->n_dropped);
    cJSON_AddNumberToObject(data, "excluded_rows", (double)s->n_excluded);
    cJSON_AddBoolToObject(data, "known_propensity", d->propensity != NULL);
    /* What kind of treatment: arms, or a continuous one (effects per unit). */
    cJSON *tr = cJSON_AddObjectToObject(data, "treatment");
    if (tr) {
        cJSON_AddStringToObject(tr, "name", d->t_name ? d->t_name : "t");
        cJSON_AddStringToObject(tr, "kind", tt_dataset_continuous(d) ? "continuous" : "arms");
        if (tt_dataset_continuous(d)) {
            double lo = d->n ? d->t_value[0] : 0, hi = lo, mean = 0;
            for (size_t i = 0; i < d->n; i++) {
                lo = d->t_value[i] < lo ? d->t_value[i] : lo;
                hi = d->t_value[i] > hi ? d->t_value[i] : hi;
                mean += d->t_value[i] / (double)d->n;
            }
            cJSON_AddNumberToObject(tr, "min", lo);
            cJSON_AddNumberToObject(tr, "max", hi);
            cJSON_AddNumberToObject(tr, "mean", mean);
            cJSON_AddStringToObject(tr, "effect", "per unit of the treatment (marginal effect "
                                                  "under a partially linear model)");
        }
    }
    cJSON_AddStringToObject(data, "split", s->user_split ? "column" : "stratified");
    cJSON *validation = tt_run_validation_facts(s);
    if (validation)
        cJSON_AddItemToObject(data, "validation", validation);
    cJSON *feat = cJSON_AddObjectToObject(data, "features");
    if (feat) {
        cJSON_AddItemToObject(feat, "x", names_json(d->x_names, d->p_x));
        cJSON_AddItemToObject(feat, "w", names_json(d->w_names, d->p_w));
        cJSON_AddItemToObject(feat, "z", names_json(d->z_names, d->p_z));
    }
    const char *ind[256];
    size_t n_ind = tt_prep_indicators(s->prep, ind, 256);
    cJSON *mi = cJSON_AddArrayToObject(data, "missing_indicators");
    for (size_t i = 0; mi && i < n_ind && i < 256; i++)
        cJSON_AddItemToArray(mi, cJSON_CreateString(ind[i]));
    return data;
}

void tt_run_write_preprocessing(const run_state *s, const char *dir)
{
    char err[512], path[4200];
    if (!s->prep)
        return;
    snprintf(path, sizeof path, "%s/preprocessing.txt", dir);
    FILE *fp = fopen(path, "w");
    if (!fp || tt_prep_save(s->prep, fp, err, sizeof err) != TT_OK)
        fprintf(stderr, "tautune: warning: cannot write %s\n", path);
    if (fp && fclose(fp) != 0)
        fprintf(stderr, "tautune: warning: cannot write %s\n", path);
}
