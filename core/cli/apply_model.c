/* apply_model.c - a saved model applied to new rows (apply_model.h).
 *
 * The model file (model/model.h) holds everything between a CSV row and
 * tau_hat: the run's preprocessing, its nuisance models and each member's
 * plugin state. New rows go through the same preprocessing, each member's
 * plugin is loaded from its saved state, and a model of several members (an
 * ensemble) gives the weighted sum of their effects. Plugin code runs only
 * in isolated children (search/isolate.h), one per member. */
#include "cli/apply_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/host.h"
#include "search/isolate.h"

/* Features of a generated-data run: the named columns, numbers without gaps. */
static int read_named(const char *cmd, const tt_csv_table *t, char *const *names, size_t p,
                      double **out)
{
    *out = p ? malloc(sizeof **out * p * (t->n_rows + 1)) : NULL;
    if (p && !*out) {
        fprintf(stderr, "tautune %s: out of memory\n", cmd);
        return TT_EXIT_ERROR;
    }
    for (size_t j = 0; j < p; j++) {
        long c = tt_csv_find(t, names[j]);
        if (c < 0) {
            fprintf(stderr, "tautune %s: %s: no column '%s' (the model uses it)\n", cmd, t->path,
                    names[j]);
            return TT_EXIT_DATA;
        }
        const tt_csv_column *col = &t->cols[c];
        for (size_t i = 0; i < t->n_rows; i++) {
            if (col->kind != TT_CSV_NUMERIC || col->missing[i]) {
                fprintf(stderr, "tautune %s: %s: line %zu, column '%s': %s\n", cmd, t->path,
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
static int features(const char *cmd, const tt_model *m, const tt_csv_table *t, tt_dataset *ds)
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
            fprintf(stderr, "tautune %s: %s\n", cmd, err);
            return TT_EXIT_DATA;
        }
    } else {
        int rc = read_named(cmd, t, m->x_names, m->p_x, &ds->x);
        if (!rc)
            rc = read_named(cmd, t, m->w_names, m->p_w, &ds->w);
        if (rc)
            return rc;
        ds->p_x = m->p_x;
        ds->p_w = m->p_w;
    }
    if (ds->p_x != m->p_x || ds->p_w != m->p_w) {
        fprintf(stderr, "tautune %s: %s: the preprocessing gave %zu + %zu feature columns; "
                        "the model was fitted on %zu + %zu\n", cmd, t->path, ds->p_x, ds->p_w,
                m->p_x, m->p_w);
        return TT_EXIT_DATA;
    }
    return TT_EXIT_OK;
}

char **tt_cli_apply_ids(const tt_cli_applied *ap)
{
    const tt_model *m = ap->m;
    const tt_csv_table *t = ap->table;
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

void tt_cli_apply_free_ids(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
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
 * costs a message and an exit code, never the command itself. */
typedef struct effects_job {
    const char *cmd;
    double alpha;
    int intervals;
    const tt_model *m;
    const tt_model_member *mb;
    const tt_plugin_descriptor *d;
    const tt_plugin_data *rows;
    size_t cells;
} effects_job;

/* The child: load the plugin's state, compute the effects (and intervals),
 * send f64s tau, lo, hi (msg.h; lo/hi count 0 without intervals). Nothing
 * is freed: the child exits next. */
static int effects_in_child(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const effects_job *j = arg;
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
    if (j->intervals && (d->capabilities & TT_PLUGIN_CAP_INTERVALS)) {
        char why[1024] = "";
        lo = malloc(sizeof *lo * (j->cells + 1));
        hi = malloc(sizeof *hi * (j->cells + 1));
        tt_isolate_stage("interval");
        if (!lo || !hi ||
            d->effect_interval(pr.inst, j->rows, j->alpha, lo, hi, why, sizeof why) != TT_OK) {
            /* Intervals are an extra: the effects still stand. */
            fprintf(stderr, "tautune %s: warning: %s gave no intervals: %s\n", j->cmd, d->name,
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
static int effects_isolated(const effects_job *j, double **tau, double **lo, double **hi)
{
    tt_isolate_limits lim = {.echo_stderr = 1};
    tt_isolate_report rep;
    char err[1024], what[1200];
    if (tt_isolate_run(&lim, effects_in_child, (void *)j, NULL, &rep, err, sizeof err) !=
        TT_OK) {
        fprintf(stderr, "tautune %s: %s\n", j->cmd, err);
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    if (rep.end == TT_ISOLATE_OK) {
        tt_msg_reader c = tt_msg_reader_of(rep.result.data, rep.result.len);
        if (tt_msg_get_f64s(&c, j->cells, tau) || !*tau || tt_msg_get_f64s(&c, j->cells, lo) ||
            tt_msg_get_f64s(&c, j->cells, hi) || !tt_msg_done(&c)) {
            fprintf(stderr, "tautune %s: %s: the effects could not be read back\n", j->cmd,
                    j->d->name);
            rc = TT_EXIT_ERROR;
        }
    } else {
        tt_isolate_describe(&rep, &lim, "the plugin", what, sizeof what);
        fprintf(stderr, "tautune %s: plugin '%s' failed at %s: %s\n", j->cmd, j->d->name,
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

tt_plugin_data tt_cli_apply_rows(const tt_cli_applied *ap)
{
    const tt_dataset *ds = ap->ds;
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = ds->n, .p_x = ds->p_x,
                            .p_w = ds->p_w, .x = ds->x, .w = ds->w, .n_arms = ap->m->n_arms,
                            .x_names = (const char *const *)ds->x_names,
                            .w_names = (const char *const *)ds->w_names};
}

/* Each member in its own child, weighted and summed into tau (and lo, hi).
 * An ensemble's interval is the weighted average of its members' bounds
 * (exact when their errors are perfectly correlated, wider otherwise); a
 * member without intervals leaves the ensemble without them. */
int tt_cli_apply_effects(const char *cmd, const tt_cli_applied *ap, double alpha, int intervals,
                         double *tau, double **lo, double **hi)
{
    const tt_model *m = ap->m;
    const tt_plugin_data rows = tt_cli_apply_rows(ap);
    const size_t cells = rows.n * (size_t)(m->n_arms - 1);
    int have = 1, rc = TT_EXIT_OK;
    for (size_t k = 0; k < m->n_members && rc == TT_EXIT_OK; k++) {
        const tt_model_member *mb = &m->members[k];
        effects_job job = {cmd, alpha, intervals, m, mb, ap->d[k], &rows, cells};
        double *t = NULL, *l = NULL, *h = NULL;
        if ((rc = effects_isolated(&job, &t, &l, &h)) == TT_EXIT_OK) {
            const double w = m->n_members == 1 ? 1.0 : mb->weight;
            add_weighted(tau, t, w, cells, k == 0);
            if (l && h && have) {
                add_weighted(*lo, l, w, cells, k == 0);
                add_weighted(*hi, h, w, cells, k == 0);
            } else if (have) {
                have = 0;
                if (intervals && m->n_members > 1)
                    fprintf(stderr, "tautune %s: warning: no intervals for the ensemble: "
                                    "member %zu (%s) gave none\n", cmd, k + 1, mb->plugin);
            }
        }
        free(t);
        free(l);
        free(h);
    }
    if (!have || rc != TT_EXIT_OK) {
        free(*lo);
        free(*hi);
        *lo = *hi = NULL;
    }
    return rc;
}

/* "the file DIR/FILE" of a member that recorded one, for messages: where
 * its plugin was loaded from when the model was made. */
static void recorded_text(const tt_model_member *mb, char *buf, size_t len)
{
    if (mb->plugin_file && mb->plugin_dir)
        snprintf(buf, len, "%s%s%s", mb->plugin_dir,
                 mb->plugin_dir[strlen(mb->plugin_dir) - 1] == '/' ? "" : "/", mb->plugin_file);
    else
        buf[0] = '\0';
}

/* 1 when the two paths name the same file (the recorded path is already
 * absolute; the registry's is as found). */
static int same_file(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

/* The refusal of the recorded file itself, when it was refused. */
static const tt_plugin_reject *recorded_reject(const tt_registry *reg, const char *recorded)
{
    for (size_t i = 0; recorded[0] && i < tt_registry_reject_count(reg); i++) {
        const tt_plugin_reject *r = tt_registry_reject_at(reg, i);
        if (same_file(r->path, recorded))
            return r;
    }
    return NULL;
}

/* Each member's plugin from the registry, into d (n_members). A missing
 * plugin, one whose file was refused (the ABI or build tag says it cannot
 * work with this host, among others), or one that cannot load models is an
 * error naming it and where the model's plugin came from. Found, but not
 * the recorded file: a note saying which file is used instead. Another
 * version than the one that saved the member: a warning naming both, as
 * the state may read differently (the ABI already said the plugin and host
 * fit together, so it is not refused). */
static int member_plugins(const char *cmd, const char *path, const tt_model *m,
                          const tt_registry *reg, const tt_plugin_descriptor **d)
{
    for (size_t k = 0; k < m->n_members; k++) {
        const tt_model_member *mb = &m->members[k];
        char rec[4600], from[4700] = "";
        recorded_text(mb, rec, sizeof rec);
        if (rec[0])
            snprintf(from, sizeof from, " (loaded from %s when the model was made)", rec);
        const tt_plugin_entry *e = reg ? tt_registry_find(reg, mb->plugin) : NULL;
        const tt_plugin_reject *rr = reg ? recorded_reject(reg, rec) : NULL;
        const tt_plugin_reject *r = e ? NULL : rr ? rr : tt_registry_find_reject(reg, mb->plugin);
        if (r) {
            fprintf(stderr, "tautune %s: %s: the model needs plugin '%s'%s, which cannot be "
                            "used: %s: rejected: %s\n", cmd, path, mb->plugin, from, r->path,
                    r->why);
            return TT_EXIT_PLUGIN;
        }
        if (!e) {
            fprintf(stderr, "tautune %s: %s: the model needs plugin '%s'%s, which is %s "
                            "(see `tautune plugins`, --plugin-path)\n", cmd, path, mb->plugin,
                    from, rec[0] ? "no longer there nor on the plugin path" : "not installed");
            return TT_EXIT_PLUGIN;
        }
        d[k] = e->desc;
        if (rec[0] && !same_file(e->path, rec))
            fprintf(stderr, "tautune %s: note: %s: plugin '%s' was loaded from %s when the "
                            "model was made; that file %s%s%s, so %s is used\n", cmd, path,
                    mb->plugin, rec,
                    rr ? "was refused (" : access(rec, F_OK) != 0 ? "is gone"
                                                                  : "is another plugin now",
                    rr ? rr->why : "", rr ? ")" : "", e->path);
        if (strcmp(d[k]->version, mb->plugin_version ? mb->plugin_version : "") != 0)
            fprintf(stderr, "tautune %s: warning: %s was saved by %s version %s; %s version %s "
                            "(%s) is loading it, and may read it differently\n", cmd, path,
                    mb->plugin, mb->plugin_version ? mb->plugin_version : "?", d[k]->name,
                    d[k]->version, e->path);
        if (!(d[k]->capabilities & TT_PLUGIN_CAP_SAVE_LOAD)) {
            fprintf(stderr, "tautune %s: plugin '%s' cannot load the model: it has no "
                            "load callback\n", cmd, d[k]->name);
            return TT_EXIT_PLUGIN;
        }
    }
    return TT_EXIT_OK;
}

/* The plugin path for the model: the folders its members' plugins were
 * loaded from first, then the command's own (--plugin-path,
 * TAUTUNE_PLUGIN_PATH, the built-in folder). The recorded folder comes
 * first because it holds the very file that wrote the saved state: a
 * plugin's state is only sure to read back the same in the build that
 * wrote it, while a plugin of the same name elsewhere (the built-in folder
 * of a newer tautune, a colleague's build on the path) may be another
 * version. --plugin-path is for when the recorded folder is gone (the model
 * moved to another machine): it is searched next, before the folders the
 * environment and the installation provide. */
static tt_plugin_paths model_paths(const tt_model *m, const tt_plugin_paths *given)
{
    tt_plugin_paths p = *given;
    p.n_model_dirs = 0;
    const size_t max = sizeof p.model_dirs / sizeof p.model_dirs[0];
    for (size_t k = 0; k < m->n_members && p.n_model_dirs < max; k++) {
        const char *dir = m->members[k].plugin_dir;
        size_t i = 0;
        while (dir && i < p.n_model_dirs && strcmp(p.model_dirs[i], dir) != 0)
            i++;
        if (dir && i == p.n_model_dirs)
            p.model_dirs[p.n_model_dirs++] = dir;
    }
    return p;
}

int tt_cli_apply_open(const char *cmd, const char *model_path, const char *data_path,
                      const tt_plugin_paths *paths, tt_cli_applied *ap)
{
    char err[2048];
    memset(ap, 0, sizeof *ap);
    if (!(ap->ds = calloc(1, sizeof *ap->ds)))
        return TT_EXIT_ERROR;
    tt_status st = tt_model_read(model_path, &ap->m, err, sizeof err);
    if (st != TT_OK) {
        fprintf(stderr, "tautune %s: %s\n", cmd, err);
        /* A damaged model (or another kind of file: the reader cannot tell
         * them apart) or a newer one is neither the data's fault nor a
         * plugin's: exit 1. A model file that is not there stays exit 3, as
         * a data file that is not there. */
        return st == TT_ERR_IO ? TT_EXIT_DATA : TT_EXIT_ERROR;
    }
    if (ap->m->unverified)
        fprintf(stderr, "tautune %s: warning: %s was written by an older tautune without a "
                        "checksum, so damage to it cannot be detected (a new run writes one "
                        "with it)\n", cmd, model_path);
    tt_plugin_paths search = model_paths(ap->m, paths);
    ap->reg = tt_cli_load_plugins(&search, 0);
    if (!(ap->d = calloc(ap->m->n_members, sizeof *ap->d)))
        return TT_EXIT_ERROR;
    int rc = member_plugins(cmd, model_path, ap->m, ap->reg, ap->d);
    if (rc)
        return rc;
    if (tt_csv_read(data_path, &ap->table, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune %s: %s\n", cmd, err);
        return TT_EXIT_DATA;
    }
    return features(cmd, ap->m, ap->table, ap->ds);
}

void tt_cli_apply_close(tt_cli_applied *ap)
{
    free(ap->d);
    tt_dataset_free(ap->ds);
    tt_csv_free(ap->table);
    tt_registry_free(ap->reg);
    tt_model_free(ap->m);
    memset(ap, 0, sizeof *ap);
}
