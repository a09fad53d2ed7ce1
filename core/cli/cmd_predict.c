/* cmd_predict.c - `tautune predict`: a run's winner applied to new rows.
 *
 * The model file (model/model.h) holds everything between a CSV row and
 * tau_hat: the run's preprocessing, its nuisance models and each member's
 * plugin state. New rows go through the same preprocessing, each member's
 * plugin is loaded from its saved state, and the effects (and intervals)
 * come out in the same CSV layout as the run's cate.csv, so the two compare
 * cell for cell. A model of several members (an ensemble) gives the
 * weighted sum of their effects. Plugin code runs only in isolated children
 * (search/isolate.h), one per member. */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "data/dataset.h"
#include "model/model.h"
#include "plugin/host.h"
#include "insight/policy_tree.h"
#include "report/cate.h"
#include "search/isolate.h"

typedef struct predict_args {
    const char *model, *data, *out;
    const char *policy;          /* --policy policy.json: each row's arm by that tree */
    double alpha;
    int intervals;
    tt_plugin_paths paths;
} predict_args;

static int parse_args(int argc, char **argv, predict_args *a)
{
    memset(a, 0, sizeof *a);
    a->out = "-";
    a->alpha = 0.05;
    a->intervals = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            tt_help_print("predict", stdout);
            exit(TT_EXIT_OK);
        }
        if (!strcmp(arg, "--no-intervals")) {
            a->intervals = 0;
            continue;
        }
        if (arg[0] != '-' && !a->model) {
            a->model = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune predict: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        if (!strcmp(arg, "--data")) {
            a->data = val;
        } else if (!strcmp(arg, "--out")) {
            a->out = val;
        } else if (!strcmp(arg, "--policy")) {
            a->policy = val;
        } else if (!strcmp(arg, "--alpha")) {
            char *end;
            a->alpha = strtod(val, &end);
            if (*end || !(a->alpha > 0 && a->alpha < 1)) {
                fprintf(stderr, "tautune predict: --alpha must be in (0, 1), got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(arg, "--plugin-path")) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
        } else {
            fprintf(stderr, "tautune predict: unknown option '%s'\n", arg);
            return -1;
        }
        i++;
    }
    if (!a->model || !a->data) {
        fprintf(stderr, "tautune predict: %s\n",
                !a->model ? "no MODEL file given" : "--data FILE.csv is required");
        return -1;
    }
    return 0;
}

/* Features of a generated-data run: the named columns, numbers without gaps. */
static int read_named(const tt_csv_table *t, char *const *names, size_t p, double **out)
{
    *out = p ? malloc(sizeof **out * p * (t->n_rows + 1)) : NULL;
    if (p && !*out) {
        fprintf(stderr, "tautune predict: out of memory\n");
        return TT_EXIT_ERROR;
    }
    for (size_t j = 0; j < p; j++) {
        long c = tt_csv_find(t, names[j]);
        if (c < 0) {
            fprintf(stderr, "tautune predict: %s: no column '%s' (the model uses it)\n", t->path,
                    names[j]);
            return TT_EXIT_DATA;
        }
        const tt_csv_column *col = &t->cols[c];
        for (size_t i = 0; i < t->n_rows; i++) {
            if (col->kind != TT_CSV_NUMERIC || col->missing[i]) {
                fprintf(stderr, "tautune predict: %s: line %zu, column '%s': %s\n", t->path,
                        t->line[i], names[j],
                        col->kind != TT_CSV_NUMERIC && !col->missing[i] ? "not a number"
                                                                          : "missing value");
                return TT_EXIT_DATA;
            }
            (*out)[j * t->n_rows + i] = col->num[i];
        }
    }
    return TT_EXIT_OK;
}

/* The rows' features into ds (x, w, names). */
static int features(const tt_model *m, const tt_csv_table *t, tt_dataset *ds)
{
    char err[1024];
    ds->n = t->n_rows;
    if (m->prep) {
        size_t *rows = malloc(sizeof *rows * (t->n_rows + 1));
        if (!rows)
            return TT_EXIT_ERROR;
        for (size_t i = 0; i < t->n_rows; i++)
            rows[i] = i;
        tt_status st = tt_prep_apply(m->prep, t, rows, t->n_rows, ds, err, sizeof err);
        free(rows);
        if (st != TT_OK) {
            fprintf(stderr, "tautune predict: %s\n", err);
            return TT_EXIT_DATA;
        }
    } else {
        int rc = read_named(t, m->x_names, m->p_x, &ds->x);
        if (!rc)
            rc = read_named(t, m->w_names, m->p_w, &ds->w);
        if (rc)
            return rc;
        ds->p_x = m->p_x;
        ds->p_w = m->p_w;
    }
    if (ds->p_x != m->p_x || ds->p_w != m->p_w) {
        fprintf(stderr, "tautune predict: %s: the preprocessing gave %zu + %zu feature columns; "
                        "the model was fitted on %zu + %zu\n", t->path, ds->p_x, ds->p_w,
                m->p_x, m->p_w);
        return TT_EXIT_DATA;
    }
    return TT_EXIT_OK;
}

/* The ids of the rows as text, when the run had an id column and FILE has it. */
static char **ids_of(const tt_model *m, const tt_csv_table *t)
{
    long c = m->id_name ? tt_csv_find(t, m->id_name) : -1;
    if (c < 0)
        return NULL;
    char **ids = calloc(t->n_rows + 1, sizeof *ids);
    const tt_csv_column *col = &t->cols[c];
    for (size_t i = 0; ids && i < t->n_rows; i++) {
        char buf[64];
        const char *s = "";
        if (!col->missing[i] && col->kind == TT_CSV_NUMERIC) {
            tt_csv_format_number(col->num[i], buf, sizeof buf);
            s = buf;
        } else if (!col->missing[i]) {
            s = col->str[i];
        }
        ids[i] = strdup(s);
    }
    return ids;
}

typedef struct predictor {
    tt_nuisance_result prop, outcome, *mu;
    const tt_nuisance_result **mu_ptr;
    tt_host_nuisances nu;
    tt_host_ctx ctx;
    tt_plugin_host host;
    void *inst;
} predictor;

/* The model's nuisance learners as the host serves them (prediction only:
 * there are no out-of-fold values for new rows). */
static int serve_nuisances(const tt_model *m, predictor *pr)
{
    pr->nu = (tt_host_nuisances){.n_arms = m->n_arms, .p_x = m->p_x, .p_w = m->p_w,
                                 .continuous = m->continuous};
    if (m->propensity) {
        /* A continuous treatment's model keeps E[T | x, w] in this slot. */
        pr->prop = (tt_nuisance_result){
            .role = m->continuous ? TT_NUISANCE_TREATMENT : TT_NUISANCE_PROPENSITY, .arm = -1,
            .width = m->prop_width, .full = m->propensity};
        *(m->continuous ? &pr->nu.treatment : &pr->nu.propensity) = &pr->prop;
    }
    if (m->outcome) {
        pr->outcome = (tt_nuisance_result){.role = TT_NUISANCE_OUTCOME, .arm = -1, .width = 1,
                                           .full = m->outcome};
        pr->nu.outcome = &pr->outcome;
    }
    if (m->arm_outcome) {
        pr->mu = calloc((size_t)m->n_arms, sizeof *pr->mu);
        pr->mu_ptr = calloc((size_t)m->n_arms, sizeof *pr->mu_ptr);
        if (!pr->mu || !pr->mu_ptr)
            return -1;
        for (int k = 0; k < m->n_arms; k++) {
            pr->mu[k] = (tt_nuisance_result){.role = TT_NUISANCE_ARM_OUTCOME, .arm = k,
                                             .width = 1, .full = m->arm_outcome[k]};
            pr->mu_ptr[k] = &pr->mu[k];
        }
        pr->nu.arm_outcome = pr->mu_ptr;
    }
    return 0;
}

/* What the isolated child needs: the plugin's code (load, effect,
 * effect_interval) runs only there, so a plugin that crashes on a model
 * costs a message and an exit code, never predict itself. */
typedef struct predict_job {
    const predict_args *a;
    const tt_model *m;
    const tt_model_member *mb;
    const tt_plugin_descriptor *d;
    const tt_plugin_data *rows;
    size_t cells;
} predict_job;

/* The child: load the plugin's state, compute the effects (and intervals),
 * send f64s tau, lo, hi (msg.h; lo/hi count 0 without intervals). Nothing
 * is freed: the child exits next. */
static int predict_in_child(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const predict_job *j = arg;
    const tt_plugin_descriptor *d = j->d;
    predictor pr;
    memset(&pr, 0, sizeof pr);
    if (serve_nuisances(j->m, &pr))
        return snprintf(err, errlen, "out of memory"), -1;
    pr.ctx = (tt_host_ctx){.plugin_name = d->name, .nuisances = &pr.nu,
                           .capabilities = d->capabilities};
    tt_host_services_init(&pr.host, &pr.ctx, j->mb->seed);
    tt_model_state_reader rd = {.bytes = j->mb->state, .len = j->mb->state_len};
    tt_plugin_source src = tt_model_state_source(&rd);
    tt_isolate_stage("load");
    if (d->load(&pr.host, &src, &pr.inst, err, errlen) != TT_OK || !pr.inst)
        return err[0] ? -1 : (snprintf(err, errlen, "load gave no instance"), -1);
    double *tau = malloc(sizeof *tau * (j->cells + 1)), *lo = NULL, *hi = NULL;
    tt_isolate_stage("effect");
    if (!tau)
        return snprintf(err, errlen, "out of memory"), -1;
    if (d->effect(pr.inst, j->rows, tau, err, errlen) != TT_OK)
        return -1;
    if (j->a->intervals && (d->capabilities & TT_PLUGIN_CAP_INTERVALS)) {
        char why[1024] = "";
        lo = malloc(sizeof *lo * (j->cells + 1));
        hi = malloc(sizeof *hi * (j->cells + 1));
        tt_isolate_stage("interval");
        if (!lo || !hi ||
            d->effect_interval(pr.inst, j->rows, j->a->alpha, lo, hi, why, sizeof why) != TT_OK) {
            /* Intervals are an extra: the effects still stand. */
            fprintf(stderr, "tautune predict: warning: %s gave no intervals: %s\n", d->name,
                    why[0] ? why : "out of memory");
            lo = hi = NULL;
        }
    }
    tt_isolate_stage("send");
    if (tt_msg_put_f64s(out, tau, j->cells) || tt_msg_put_f64s(out, lo, j->cells) ||
        tt_msg_put_f64s(out, hi, j->cells))
        return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

/* Run the child and read its answer; prints the failure, naming the plugin
 * and the step. */
static int effects_isolated(const predict_job *j, double **tau, double **lo, double **hi)
{
    tt_isolate_limits lim = {.echo_stderr = 1};
    tt_isolate_report rep;
    char err[1024], what[1200];
    if (tt_isolate_run(&lim, predict_in_child, (void *)j, NULL, &rep, err, sizeof err) !=
        TT_OK) {
        fprintf(stderr, "tautune predict: %s\n", err);
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    if (rep.end == TT_ISOLATE_OK) {
        tt_msg_reader c = tt_msg_reader_of(rep.result.data, rep.result.len);
        if (tt_msg_get_f64s(&c, j->cells, tau) || !*tau || tt_msg_get_f64s(&c, j->cells, lo) ||
            tt_msg_get_f64s(&c, j->cells, hi) || !tt_msg_done(&c)) {
            fprintf(stderr, "tautune predict: %s: the effects could not be read back\n",
                    j->d->name);
            rc = TT_EXIT_ERROR;
        }
    } else {
        tt_isolate_describe(&rep, &lim, "the plugin", what, sizeof what);
        fprintf(stderr, "tautune predict: plugin '%s' failed at %s: %s\n", j->d->name,
                rep.stage[0] ? rep.stage : "start", what);
        rc = TT_EXIT_REFIT;
    }
    tt_isolate_report_free(&rep);
    return rc;
}

/* Add w * v into acc (cells values). The first member sets acc rather than
 * adding to zeros, so a lone member's effects (w = 1) pass through bit for
 * bit, -0 included, and predict still matches the run's cate.csv. */
static void add_weighted(double *acc, const double *v, double w, size_t cells, int first)
{
    for (size_t i = 0; i < cells; i++)
        acc[i] = first ? w * v[i] : acc[i] + w * v[i];
}

/* The model's effects: each member's in its own child, weighted and summed
 * into tau (and lo, hi). An ensemble's interval is the weighted average of
 * its members' bounds (exact when their errors are perfectly correlated,
 * wider otherwise); a member without intervals leaves the ensemble without
 * them. */
static int model_effects(const predict_args *a, const tt_model *m,
                         const tt_plugin_descriptor *const *d, const tt_plugin_data *rows,
                         size_t cells, double *tau, double **lo, double **hi)
{
    int intervals = 1, rc = TT_EXIT_OK;
    for (size_t k = 0; k < m->n_members && rc == TT_EXIT_OK; k++) {
        const tt_model_member *mb = &m->members[k];
        predict_job job = {a, m, mb, d[k], rows, cells};
        double *t = NULL, *l = NULL, *h = NULL;
        if ((rc = effects_isolated(&job, &t, &l, &h)) == TT_EXIT_OK) {
            const double w = m->n_members == 1 ? 1.0 : mb->weight;
            add_weighted(tau, t, w, cells, k == 0);
            if (l && h && intervals) {
                add_weighted(*lo, l, w, cells, k == 0);
                add_weighted(*hi, h, w, cells, k == 0);
            } else if (intervals) {
                intervals = 0;
                if (a->intervals && m->n_members > 1)
                    fprintf(stderr, "tautune predict: warning: no intervals for the ensemble: "
                                    "member %zu (%s) gave none\n", k + 1, mb->plugin);
            }
        }
        free(t);
        free(l);
        free(h);
    }
    if (!intervals || rc != TT_EXIT_OK) {
        free(*lo);
        free(*hi);
        *lo = *hi = NULL;
    }
    return rc;
}

/* The arm a policy tree (policy.json of `tautune policy` or a run) gives
 * each row: the tree must name the model's features and arms, in order. */
static int policy_arms(const char *path, const tt_model *m, const tt_dataset *ds, int **out)
{
    cJSON *j;
    int rc = tt_cli_read_json(path, &j);
    if (rc > 0) {
        fprintf(stderr, "tautune predict: --policy %s: %s\n", path, strerror(rc));
        return rc == ENOMEM ? TT_EXIT_ERROR : TT_EXIT_USAGE;
    }
    tt_policy_tree *tree = NULL;
    char err[512];
    if (!j || tt_policy_tree_from_json(j, &tree, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: --policy %s: %s\n", path,
                j ? err : "not JSON (a policy.json written by `tautune policy` or a run)");
        cJSON_Delete(j);
        return TT_EXIT_DATA;
    }
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(j, "feature_names");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "action_names");
    int ok = tt_policy_tree_n_features(tree) == ds->p_x &&
             tt_policy_tree_n_actions(tree) == (size_t)m->n_arms;
    for (size_t k = 0; ok && fn && k < ds->p_x; k++)
        ok = cJSON_IsString(cJSON_GetArrayItem(fn, (int)k)) &&
             strcmp(cJSON_GetArrayItem(fn, (int)k)->valuestring, ds->x_names[k]) == 0;
    for (int k = 0; ok && an && k < m->n_arms; k++)
        ok = cJSON_IsString(cJSON_GetArrayItem(an, k)) &&
             strcmp(cJSON_GetArrayItem(an, k)->valuestring, m->arm_labels[k]) == 0;
    cJSON_Delete(j);
    if (!ok) {
        fprintf(stderr, "tautune predict: --policy %s was learnt on other features or arms "
                        "than the model's (%zu features, %d arms): use the policy of the same "
                        "run\n", path, ds->p_x, m->n_arms);
        tt_policy_tree_free(tree);
        return TT_EXIT_USAGE;
    }
    *out = malloc(sizeof **out * (ds->n + 1));
    if (!*out) {
        tt_policy_tree_free(tree);
        fprintf(stderr, "tautune predict: out of memory\n");
        return TT_EXIT_ERROR;
    }
    tt_policy_tree_predict(tree, ds->n, ds->p_x, ds->x, *out);
    tt_policy_tree_free(tree);
    return TT_EXIT_OK;
}

static int predict(const predict_args *a, const tt_model *m,
                   const tt_plugin_descriptor *const *d, const tt_csv_table *t, tt_dataset *ds)
{
    char err[1024] = "";
    int rc = features(m, t, ds);
    if (rc)
        return rc;
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = ds->n, .p_x = ds->p_x,
                           .p_w = ds->p_w, .x = ds->x, .w = ds->w, .n_arms = m->n_arms,
                           .x_names = (const char *const *)ds->x_names,
                           .w_names = (const char *const *)ds->w_names};
    const size_t cells = ds->n * (size_t)(m->n_arms - 1);
    double *tau = malloc(sizeof *tau * (cells + 1)), *lo = malloc(sizeof *lo * (cells + 1)),
           *hi = malloc(sizeof *hi * (cells + 1));
    char **ids = NULL;
    int *arms = NULL;
    if (!tau || !lo || !hi) {
        fprintf(stderr, "tautune predict: out of memory\n");
        rc = TT_EXIT_ERROR;
        goto out;
    }
    if ((rc = model_effects(a, m, d, &rows, cells, tau, &lo, &hi)))
        goto out;
    if (a->policy && (rc = policy_arms(a->policy, m, ds, &arms)))
        goto out;
    ids = ids_of(m, t);
    tt_cate_rows out = {.n = ds->n, .n_arms = m->n_arms,
                        .arm_labels = (const char *const *)m->arm_labels,
                        .id_name = ids ? m->id_name : NULL, .ids = (const char *const *)ids,
                        .tau = tau, .lo = lo, .hi = hi, .policy_arm = arms};
    if (tt_cate_write(a->out, &out, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: %s\n", err);
        rc = TT_EXIT_ERROR;
    }
out:
    for (size_t i = 0; ids && i < t->n_rows; i++)
        free(ids[i]);
    free(ids);
    free(arms);
    free(tau);
    free(lo);
    free(hi);
    return rc;
}

/* Each member's plugin from the registry, into d (n_members): a missing
 * plugin, or one that cannot load models, is named; a version other than
 * the one that saved the member is a warning. */
static int member_plugins(const char *path, const tt_model *m, const tt_registry *reg,
                          const tt_plugin_descriptor **d)
{
    for (size_t k = 0; k < m->n_members; k++) {
        const tt_model_member *mb = &m->members[k];
        const tt_plugin_entry *e = reg ? tt_registry_find(reg, mb->plugin) : NULL;
        if (!e) {
            fprintf(stderr, "tautune predict: %s: the model needs plugin '%s', which is not "
                            "installed (see `tautune plugins`, --plugin-path)\n", path,
                    mb->plugin);
            return TT_EXIT_PLUGIN;
        }
        d[k] = e->desc;
        if (strcmp(d[k]->version, mb->plugin_version ? mb->plugin_version : "") != 0)
            fprintf(stderr,
                    "tautune predict: warning: %s was saved by %s %s; %s %s is loading it\n",
                    path, mb->plugin, mb->plugin_version ? mb->plugin_version : "?",
                    d[k]->name, d[k]->version);
        if (!(d[k]->capabilities & TT_PLUGIN_CAP_SAVE_LOAD)) {
            fprintf(stderr, "tautune predict: plugin '%s' cannot load the model: it has no "
                            "load callback\n", d[k]->name);
            return TT_EXIT_PLUGIN;
        }
    }
    return TT_EXIT_OK;
}

int tt_cmd_predict(int argc, char **argv)
{
    predict_args a;
    if (parse_args(argc, argv, &a) != 0) {
        tt_help_print("predict", stderr);
        return TT_EXIT_USAGE;
    }
    char err[2048];
    tt_model *m = NULL;
    tt_registry *reg = NULL;
    tt_csv_table *table = NULL;
    tt_dataset *ds = calloc(1, sizeof *ds);
    int rc = TT_EXIT_OK;
    const tt_plugin_descriptor **d = NULL;
    if (!ds) {
        rc = TT_EXIT_ERROR;
        goto out;
    }
    if (tt_model_read(a.model, &m, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: %s\n", err);
        rc = TT_EXIT_DATA;
        goto out;
    }
    reg = tt_cli_load_plugins(&a.paths, 0);
    d = calloc(m->n_members, sizeof *d);
    if (!d) {
        rc = TT_EXIT_ERROR;
        goto out;
    }
    if ((rc = member_plugins(a.model, m, reg, d)))
        goto out;
    if (tt_csv_read(a.data, &table, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: %s\n", err);
        rc = TT_EXIT_DATA;
        goto out;
    }
    rc = predict(&a, m, d, table, ds);
out:
    free(d);
    tt_dataset_free(ds);
    tt_csv_free(table);
    tt_registry_free(reg);
    tt_model_free(m);
    return rc;
}
