/* run_refit.c - refitting one trial in an isolated child (run.h).
 *
 * No plugin code runs in the main process after the search: a plugin that
 * crashes or hangs while the winner (or a report candidate) is refitted must
 * cost that refit, not the run's outputs. So the whole refit - create, fit,
 * effects, intervals, average effects, save - runs in a child forked by
 * search/isolate.c, and only plain numbers and bytes come back: effects,
 * intervals and the average-effect facts as JSON text. The plugin's saved
 * state, which can be hundreds of MB, the child writes to a hidden file in
 * the run folder, and the parent copies it into model.ttm in chunks; the
 * parent writes the files (run_winner.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run.h"
#include "report/results.h"
#include "model/model.h"
#include "plugin/host_boot.h"
#include "plugin/registry.h"
#include "search/isolate.h"
#include "search/search.h"
#include "insight/importance.h"
#include "util/clock.h"
#include "util/rng.h"

#define REFIT_ALPHA 0.05

/* A child still running this long after its deadline is killed. */
#define REFIT_GRACE_SECONDS 1.0

/* The instance being refitted, in the child. */
typedef struct fitted {
    const tt_plugin_descriptor *desc;
    void *inst;
    tt_host_ctx ctx;
    tt_plugin_host host;
    tt_plugin_data train;  /* the rows of the fit */
    tt_host_boot *boot;    /* the host's bootstrap of a plugin without intervals, or NULL */
} fitted;

/* What the child job needs. */
typedef struct refit_job {
    run_state *s;
    const tt_trial_result *trial;
    int winner;
    double deadline;
    volatile sig_atomic_t *stop;
    int all_rows;               /* final_fit: every row, with the every-row nuisances */
    int light;                  /* effects and average effects only: no row intervals, no save */
    int importance;             /* also the permutation importance (importance()) */
    const char *state_path;     /* winner: where the child writes the saved state */
} refit_job;

/* Create the trial's instance with the trial's seed and fit it on the
 * training rows. */
static int create_and_fit(const refit_job *j, fitted *f, char *err, size_t errlen)
{
    run_state *s = j->s;
    f->desc = j->trial->desc;
    uint64_t seed = tt_search_trial_seed(s->cfg->seed, j->trial->id);
    f->ctx = (tt_host_ctx){.plugin_name = f->desc->name, .stop_flag = j->stop,
                           .deadline = j->deadline,
                           .nuisances = !s->engine ? NULL
                                        : j->all_rows ? &s->nuisances_all
                                                      : &s->nuisances,
                           .capabilities = f->desc->capabilities,
                           .interval_resamples = s->refit_resamples
                                                     ? s->refit_resamples
                                                     : s->cfg->interval_resamples};
    tt_host_services_init(&f->host, &f->ctx, seed);
    tt_plugin_data train = tt_run_view(j->all_rows ? s->data : s->train);
    f->train = train;
    tt_isolate_stage("create");
    if (f->desc->create(&f->host, j->trial->point, s->data->n_arms, &f->inst, err, errlen) ||
        !f->inst) {
        f->inst = NULL;
        return -1;
    }
    tt_isolate_stage("fit");
    return f->desc->fit(f->inst, &train, err, errlen) == TT_OK ? 0 : -1;
}

/* "average_effect": per treated arm on the validation rows; from the
 * plugin's average_effect, or else the mean effect with the mean of the row
 * bounds (an interval at least as wide as the average's when rows covary
 * fully). NULL when neither works. */
static cJSON *average_effect(run_state *s, fitted *f)
{
    tt_plugin_data valid = tt_run_view(s->valid);
    int k_eff = s->data->n_arms - 1;
    double ate[k_eff], lo[k_eff], hi[k_eff];
    char err[512] = "";
    const char *method = tt_plugin_average_method(f->desc);
    tt_plugin_average_fn avg = tt_plugin_average_effect(f->desc);
    tt_isolate_stage("average_effect");
    int have = avg && avg(f->inst, &valid, REFIT_ALPHA, ate, lo, hi, err, sizeof err) == TT_OK;
    if (avg && !have)
        fprintf(stderr, "tautune: warning: the winner's average_effect failed: %s\n", err);
    if (!have && !avg && f->boot) {
        size_t cells = s->valid->n * (size_t)k_eff;
        double *tau = malloc(sizeof *tau * (cells + 1));
        tt_isolate_stage("effect");
        have = tau && f->desc->effect(f->inst, &valid, tau, err, sizeof err) == TT_OK &&
               tt_host_boot_average(f->boot, &valid, tau, REFIT_ALPHA, ate, lo, hi, err,
                                    sizeof err) == TT_OK;
        free(tau);
        if (!have)
            fprintf(stderr, "tautune: warning: the host's bootstrap average failed: %s\n", err);
        method = have ? tt_host_boot_method(f->boot) : NULL;
    }
    if (!have) {
        size_t nv = s->valid->n, cells = nv * (size_t)k_eff + 1;
        int iv = (f->desc->capabilities & TT_PLUGIN_CAP_INTERVALS) != 0;
        double *tau = malloc(sizeof *tau * cells);
        double *rl = iv ? malloc(sizeof *rl * cells) : NULL;
        double *rh = iv ? malloc(sizeof *rh * cells) : NULL;
        tt_isolate_stage("effect");
        int ok = tau && f->desc->effect(f->inst, &valid, tau, err, sizeof err) == TT_OK;
        tt_isolate_stage("interval");
        int ok_iv = ok && rl && rh &&
                    f->desc->effect_interval(f->inst, &valid, REFIT_ALPHA, rl, rh, err,
                                             sizeof err) == TT_OK;
        for (int k = 0; ok && k < k_eff; k++) {
            double m = 0, ml = 0, mh = 0;
            for (size_t i = 0; i < nv; i++) {
                m += tau[(size_t)k * nv + i];
                if (ok_iv) {
                    ml += rl[(size_t)k * nv + i];
                    mh += rh[(size_t)k * nv + i];
                }
            }
            ate[k] = m / (double)nv;
            lo[k] = ok_iv ? ml / (double)nv : NAN;
            hi[k] = ok_iv ? mh / (double)nv : NAN;
        }
        free(tau);
        free(rl);
        free(rh);
        if (!ok)
            return NULL;
        method = ok_iv ? "mean of the row intervals (conservative)" : NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rows", "validation");
    cJSON_AddNumberToObject(o, "alpha", REFIT_ALPHA);
    cJSON_AddItemToObject(o, "interval_method",
                          method ? cJSON_CreateString(method) : cJSON_CreateNull());
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (int k = 0; k < k_eff; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k + 1]);
        cJSON_AddNumberToObject(a, "estimate", ate[k]);
        cJSON_AddItemToObject(a, "lo", tt_json_number(lo[k]));
        cJSON_AddItemToObject(a, "hi", tt_json_number(hi[k]));
        cJSON_AddItemToArray(arms, a);
    }
    return o;
}

/* "average_effect_oob": the plugin's own average over the training rows of
 * the refit, from out-of-bag estimates (grf's average_treatment_effect),
 * when it offers one; NULL (with a warning if it failed) otherwise. */
static cJSON *average_effect_oob(run_state *s, fitted *f)
{
    tt_plugin_average_oob_fn oob = tt_plugin_average_effect_oob(f->desc);
    if (!oob)
        return NULL;
    int k_eff = s->data->n_arms - 1;
    double ate[k_eff], lo[k_eff], hi[k_eff], se[k_eff];
    char err[512] = "";
    tt_isolate_stage("average_effect_oob");
    if (oob(f->inst, REFIT_ALPHA, ate, lo, hi, se, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: warning: the winner's average_effect_oob failed: %s\n", err);
        return NULL;
    }
    const char *method = tt_plugin_average_oob_method(f->desc);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rows", "training (out-of-bag)");
    cJSON_AddNumberToObject(o, "alpha", REFIT_ALPHA);
    cJSON_AddItemToObject(o, "method", method ? cJSON_CreateString(method) : cJSON_CreateNull());
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (int k = 0; k < k_eff; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k + 1]);
        cJSON_AddItemToObject(a, "estimate", tt_json_number(ate[k]));
        cJSON_AddItemToObject(a, "se", tt_json_number(se[k]));
        cJSON_AddItemToObject(a, "lo", tt_json_number(lo[k]));
        cJSON_AddItemToObject(a, "hi", tt_json_number(hi[k]));
        cJSON_AddItemToArray(arms, a);
    }
    return o;
}

/* cJSON as text on the message ("" for NULL); takes o. */
static int put_json(tt_msg *m, cJSON *o)
{
    char *text = tt_json_text(o, 0);
    int bad = (o && !text) || tt_msg_put_str(m, text ? text : "");
    free(text);
    cJSON_Delete(o);
    return bad;
}

/* Permutation importance (insight/importance.h) of the fitted winner's
 * effect of the first treated arm, on at most IMPORTANCE_ROWS seeded rows,
 * IMPORTANCE_REPEATS shuffles per feature: a handful of effect calls per
 * feature, in the child where the plugin runs. */
#define IMPORTANCE_ROWS 2000
#define IMPORTANCE_REPEATS 2

typedef struct importance_ctx {
    fitted *f;
    tt_plugin_data rows;       /* the sampled rows; x replaced per call */
    double *all;               /* rows.n x (K-1) scratch */
} importance_ctx;

static int importance_effect(void *vctx, size_t n, size_t p, const double *x, double *tau)
{
    importance_ctx *c = vctx;
    char err[256];
    (void)p;
    c->rows.x = x;
    int rc = c->f->desc->effect(c->f->inst, &c->rows, c->all, err, sizeof err);
    if (rc == TT_OK)
        memcpy(tau, c->all, sizeof *tau * n); /* column 0: the first treated arm */
    return rc;
}

/* mse per x column (p values, malloc'd) or NULL when it cannot be made. */
static double *importance(const refit_job *j, fitted *f)
{
    run_state *s = j->s;
    const tt_dataset *d = s->data;
    size_t n = d->n < IMPORTANCE_ROWS ? d->n : IMPORTANCE_ROWS, p = d->p_x, pw = d->p_w;
    if (p == 0 || n < 10)
        return NULL;
    size_t *idx = malloc(sizeof *idx * d->n);
    double *x = malloc(sizeof *x * n * p), *w = pw ? malloc(sizeof *w * n * pw) : NULL;
    double *all = malloc(sizeof *all * (n * (size_t)(d->n_arms - 1) + 1));
    double *out = NULL;
    if (idx && x && (!pw || w) && all) {
        for (size_t i = 0; i < d->n; i++)
            idx[i] = i;
        tt_rng rng;
        tt_rng_seed(&rng, s->cfg->seed, "importance-rows");
        tt_rng_shuffle_size(&rng, idx, d->n);
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < p; c++)
                x[c * n + i] = d->x[c * d->n + idx[i]];
            for (size_t c = 0; c < pw; c++)
                w[c * n + i] = d->w[c * d->n + idx[i]];
        }
        importance_ctx ctx = {.f = f, .rows = tt_run_view(d), .all = all};
        ctx.rows.n = n, ctx.rows.w = w, ctx.rows.t = NULL, ctx.rows.y = NULL;
        ctx.rows.weight = NULL, ctx.rows.z = NULL, ctx.rows.t_value = NULL;
        tt_importance imp;
        char err[256];
        tt_isolate_stage("importance");
        /* An extra, never worth the refit: one timed effect call says whether
         * the p x repeats calls fit in half the time left. */
        double t0 = tt_now(), *probe = malloc(sizeof *probe * n);
        int afford = probe && importance_effect(&ctx, n, p, x, probe) == TT_OK;
        double one = tt_now() - t0;
        free(probe);
        if (afford && j->deadline > 0)
            afford = (double)(p * IMPORTANCE_REPEATS) * one < 0.5 * (j->deadline - tt_now());
        if (afford &&
            tt_permutation_importance(n, p, x, importance_effect, &ctx, IMPORTANCE_REPEATS,
                                      tt_rng_derive(s->cfg->seed, "importance"), &imp, err,
                                      sizeof err) == TT_OK) {
            if ((out = malloc(sizeof *out * p)))
                memcpy(out, imp.mse, sizeof *out * p);
            tt_importance_free(&imp);
        }
    }
    free(idx), free(x), free(w), free(all);
    return out;
}

/* The plugin's saved state into path, through a file sink: neither this
 * child nor the main process holds the whole state (model.ttm copies the
 * file in chunks). *len: the bytes written. */
typedef struct state_file {
    FILE *fp;
    uint64_t len;
} state_file;

static int state_write(void *ctx, const void *data, size_t len)
{
    state_file *sf = ctx;
    if (len && fwrite(data, 1, len, sf->fp) != len)
        return -1;
    sf->len += len;
    return 0;
}

static int save_state(fitted *f, const char *path, uint64_t *len, char *err, size_t errlen)
{
    state_file sf = {.fp = fopen(path, "wb")};
    if (!sf.fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &sf, .write = state_write};
    int bad = f->desc->save(f->inst, &sink, err, errlen) != TT_OK;
    int io = ferror(sf.fp) != 0;
    io |= fclose(sf.fp) != 0;
    if (!bad && io)
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
    if (bad || io)
        return -1;
    *len = sf.len;
    return 0;
}

/* The winner's part after the fit: effects and intervals for every row,
 * the average effects, the saved state, and (the model handed on: not light)
 * the permutation importance. The message:
 *   f64s tau, f64s lo, f64s hi (count 0: none), str average_effect JSON,
 *   str average_effect_oob JSON, u64 the length of the state written to
 *   j->state_path (or u64 ~0: no state),
 *   f64s importance, f64s the plugin's own variable importance (count 0: none)
 * where f64s is u64 count + doubles. */
static int winner_part(const refit_job *j, fitted *f, tt_msg *out, char *err, size_t errlen)
{
    run_state *s = j->s;
    tt_plugin_data all = tt_run_view(s->data);
    size_t cells = all.n * (size_t)(s->data->n_arms - 1);
    double *tau = malloc(sizeof *tau * (cells + 1)), *lo = NULL, *hi = NULL;
    int rc = -1;
    tt_isolate_stage("effect");
    if (!tau) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    double t_effect = tt_now();
    if (f->desc->effect(f->inst, &all, tau, err, errlen) != TT_OK)
        goto out;
    t_effect = tt_now() - t_effect;
    /* Intervals cost at least two more effect passes (a bootstrap's
     * replicas many more) and cannot be cut short once begun: too near the
     * deadline they are skipped, so the model is handed on without them
     * rather than killed with them (a million-row refit was). */
    int hurry = j->deadline > 0 && tt_now() + 3.0 * t_effect > j->deadline;
    int boot = tt_host_boot_applies(f->desc);
    if ((f->desc->capabilities & TT_PLUGIN_CAP_INTERVALS || boot) && !j->light && hurry)
        fprintf(stderr, "tautune: warning: the winner's intervals are skipped: the budget "
                        "leaves no time for them (a larger --budget gives them)\n");
    if (boot && !j->light && !hurry) {
        /* The plugin has no intervals: the host refits it on resamples. */
        char why[512] = "";
        tt_isolate_stage("host bootstrap");
        size_t b = s->refit_resamples ? s->refit_resamples : s->cfg->interval_resamples;
        if (tt_host_boot_fit(f->desc, &f->host, j->trial->point, &f->train, b,
                             tt_rng_derive(f->ctx.seed, "host-bootstrap"), &f->boot, why,
                             sizeof why) != TT_OK)
            fprintf(stderr, "tautune: warning: the host's bootstrap of the winner failed (%s); "
                            "it has no intervals\n", why);
        lo = f->boot ? malloc(sizeof *lo * (cells + 1)) : NULL;
        hi = f->boot ? malloc(sizeof *hi * (cells + 1)) : NULL;
        tt_isolate_stage("interval");
        if (f->boot && (!lo || !hi ||
                        tt_host_boot_interval(f->boot, &all, tau, REFIT_ALPHA, lo, hi, why,
                                              sizeof why) != TT_OK)) {
            fprintf(stderr, "tautune: warning: the winner gave no intervals (%s)\n",
                    why[0] ? why : "out of memory");
            free(lo);
            free(hi);
            lo = hi = NULL;
        }
    }
    if ((f->desc->capabilities & TT_PLUGIN_CAP_INTERVALS) && !j->light && !hurry) {
        lo = malloc(sizeof *lo * (cells + 1));
        hi = malloc(sizeof *hi * (cells + 1));
        char why[512] = "";
        tt_isolate_stage("interval");
        if (!lo || !hi ||
            f->desc->effect_interval(f->inst, &all, REFIT_ALPHA, lo, hi, why, sizeof why)) {
            /* Intervals are an extra: without them the refit still stands. */
            fprintf(stderr, "tautune: warning: the winner gave no intervals (%s)\n",
                    why[0] ? why : "out of memory");
            free(lo);
            free(hi);
            lo = hi = NULL;
        }
    }
    cJSON *avg = average_effect(s, f), *oob = average_effect_oob(s, f);
    int has_state = (f->desc->capabilities & TT_PLUGIN_CAP_SAVE_LOAD) != 0 && !j->light &&
                    j->state_path;
    uint64_t state_len = UINT64_MAX;
    if (has_state) {
        tt_isolate_stage("save");
        if (save_state(f, j->state_path, &state_len, err, errlen) != 0) {
            cJSON_Delete(avg);
            cJSON_Delete(oob);
            goto out;
        }
    }
    double *imp = j->importance && !j->light ? importance(j, f) : NULL;
    /* The model's own measure (a forest's split frequency, ABI 1.9). */
    double *own = NULL;
    tt_plugin_importance_fn vi = j->importance && !j->light
                                     ? tt_plugin_variable_importance(f->desc) : NULL;
    if (vi && s->data->p_x > 0 && (own = malloc(sizeof *own * s->data->p_x))) {
        char why[256];
        tt_isolate_stage("variable_importance");
        if (vi(f->inst, own, s->data->p_x, why, sizeof why) != TT_OK) {
            free(own);
            own = NULL;
        }
    }
    tt_isolate_stage("send");
    int bad = tt_msg_put_f64s(out, tau, cells) || tt_msg_put_f64s(out, lo, cells) ||
              tt_msg_put_f64s(out, hi, cells) || put_json(out, avg) || put_json(out, oob) ||
              tt_msg_put_u64(out, state_len) ||
              tt_msg_put_f64s(out, imp, imp ? s->data->p_x : 0) ||
              tt_msg_put_f64s(out, own, own ? s->data->p_x : 0);
    free(imp);
    free(own);
    if (bad)
        snprintf(err, errlen, "out of memory sending the refit's results");
    rc = bad ? -1 : 0;
out:
    free(tau);
    free(lo);
    free(hi);
    return rc;
}

/* The child: the whole refit, then its answer. A report candidate sends
 * only its validation-row effects (f64s tau). */
static int refit_in_child(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const refit_job *j = arg;
    fitted f = {0};
    /* The main process may have released every row's features (during the
     * search) or the training rows' (after the final fit's nuisance models):
     * this child rebuilds its own copy of what it reads. */
    if (((j->all_rows || j->winner) && tt_run_all_rows(j->s) != 0) ||
        (!j->all_rows && tt_run_train_rows(j->s) != 0)) {
        snprintf(err, errlen, "out of memory for the rows' features");
        return -1;
    }
    int rc = create_and_fit(j, &f, err, errlen);
    if (rc == 0 && j->winner) {
        rc = winner_part(j, &f, out, err, errlen);
    } else if (rc == 0) {
        tt_plugin_data valid = tt_run_view(j->s->valid);
        size_t cells = valid.n * (size_t)(j->s->data->n_arms - 1);
        double *tau = malloc(sizeof *tau * (cells + 1));
        tt_isolate_stage("effect");
        rc = tau && f.desc->effect(f.inst, &valid, tau, err, errlen) == TT_OK ? 0 : -1;
        if (rc == 0 && tt_msg_put_f64s(out, tau, cells))
            rc = -1, snprintf(err, errlen, "out of memory sending the refit's results");
        free(tau);
    }
    /* No destroy: the child exits next and takes its memory along, and a
     * plugin that crashes in destroy must not spoil a finished refit. */
    return rc;
}

static cJSON *get_json(tt_msg_reader *c)
{
    uint32_t n = tt_msg_get_u32(c);
    const unsigned char *p = tt_msg_get_bytes(c, n);
    return p && n ? cJSON_ParseWithLength((const char *)p, n) : NULL;
}

static int decode(const run_state *s, const tt_msg *m, const char *state_path, run_refit *r)
{
    tt_msg_reader c = tt_msg_reader_of(m->data, m->len);
    size_t cells = (r->winner ? s->data->n : s->valid->n) * (size_t)(s->data->n_arms - 1);
    if (tt_msg_get_f64s(&c, cells, &r->tau) || !r->tau)
        return -1;
    if (!r->winner)
        return tt_msg_done(&c) ? 0 : -1;
    if (tt_msg_get_f64s(&c, cells, &r->lo) || tt_msg_get_f64s(&c, cells, &r->hi))
        return -1;
    r->average_effect = get_json(&c);
    r->average_effect_oob = get_json(&c);
    uint64_t len = tt_msg_get_u64(&c);
    if (len != UINT64_MAX) {
        if (!state_path || !(r->state_file = strdup(state_path)))
            return -1;
        r->state_len = (size_t)len;
        r->has_state = 1;
    }
    if (tt_msg_get_f64s(&c, s->data->p_x, &r->importance) ||
        tt_msg_get_f64s(&c, s->data->p_x, &r->model_importance))
        return -1;
    if (!r->lo || !r->hi) { /* both or neither */
        free(r->lo);
        free(r->hi);
        r->lo = r->hi = NULL;
    }
    return tt_msg_done(&c) ? 0 : -1;
}

int tt_run_refit(run_state *s, run_refit *r, double deadline, volatile sig_atomic_t *stop)
{
    /* Hidden, and named by process and count: the ensemble's members and a
     * fallback each write their own. */
    static unsigned n_states;
    char state_path[4200] = "";
    if (r->winner && !r->light && r->state_dir)
        snprintf(state_path, sizeof state_path, "%s/.state-%ld-%u.part", r->state_dir,
                 (long)getpid(), n_states++);
    refit_job j = {s, r->trial, r->winner, deadline, stop, r->all_rows, r->light,
                   r->importance_wanted, state_path[0] ? state_path : NULL};
    /* At its deadline the plugin is asked to stop (a bootstrap keeps the
     * replicas it has); it is killed only past the run's tolerance, since a
     * late model beats none. */
    double grace = REFIT_GRACE_SECONDS;
    if (deadline > 0 && s->plan.end > 0)
        grace = fmax(grace, s->plan.end + fmax(2.0, 0.03 * s->plan.budget) - 0.5 - deadline);
    tt_isolate_limits lim = {.deadline = deadline, .grace = grace,
                             .echo_stderr = 1};
    tt_isolate_report rep;
    char err[1024];
    double start = tt_now();
    r->step[0] = r->error[0] = '\0';
    r->crashed = r->late = 0;
    if (tt_isolate_run(&lim, refit_in_child, &j, stop, &rep, err, sizeof err) != TT_OK) {
        snprintf(r->step, sizeof r->step, "start");
        snprintf(r->error, sizeof r->error, "%s", err);
        return -1;
    }
    r->seconds = tt_now() - start;
    int rc = 0;
    if (rep.end == TT_ISOLATE_STOPPED) {
        rc = -2;
    } else if (rep.end != TT_ISOLATE_OK) {
        snprintf(r->step, sizeof r->step, "%s", rep.stage[0] ? rep.stage : "start");
        tt_isolate_describe(&rep, &lim, "the refit", r->error, sizeof r->error);
        r->crashed = rep.end != TT_ISOLATE_FAILED;
        r->late = rep.end == TT_ISOLATE_DEADLINE || rep.end == TT_ISOLATE_TIMEOUT;
        rc = -1;
    } else if (decode(s, &rep.result, j.state_path, r) != 0) {
        snprintf(r->step, sizeof r->step, "send");
        snprintf(r->error, sizeof r->error, "the refit's answer could not be read");
        rc = -1;
    }
    tt_isolate_report_free(&rep);
    if (rc)
        tt_run_refit_clear(r);
    /* A file the child wrote that r does not own (a failed or killed refit,
     * a plugin that cannot save) goes now. */
    if (j.state_path && !(r->state_file && !strcmp(r->state_file, j.state_path)))
        unlink(j.state_path);
    return rc;
}

void tt_run_refit_clear(run_refit *r)
{
    free(r->importance);
    free(r->model_importance);
    r->importance = r->model_importance = NULL;
    free(r->tau);
    free(r->lo);
    free(r->hi);
    if (r->state_file)
        unlink(r->state_file);
    free(r->state_file);
    cJSON_Delete(r->average_effect);
    cJSON_Delete(r->average_effect_oob);
    r->tau = r->lo = r->hi = NULL;
    r->state_file = NULL;
    r->state_len = 0;
    r->has_state = 0;
    r->average_effect = r->average_effect_oob = NULL;
}

int tt_run_refit_effects(run_state *s, const tt_trial_result *r, volatile sig_atomic_t *stop,
                         double *tau, char *err, size_t errlen)
{
    size_t cells = s->valid->n * (size_t)(s->data->n_arms - 1);
    /* The search kept the trial's effects on these rows (out of fold with K
     * folds): the refit would only repeat them (same seed, same rows). */
    if (r->effects && r->n_effects == cells) {
        memcpy(tau, r->effects, sizeof *tau * cells);
        return 0;
    }
    if (s->n_folds >= 2) {
        snprintf(err, errlen, "effects: its out-of-fold effects were not kept");
        return -1;
    }
    run_refit rf = {.trial = r};
    /* The report's refits share what is left of the budget (none: no limit). */
    int rc = tt_run_refit(s, &rf, s->plan.end, stop);
    if (rc == 0)
        memcpy(tau, rf.tau, sizeof *tau * cells);
    else if (rc == -2)
        snprintf(err, errlen, "interrupted");
    else
        snprintf(err, errlen, "%s: %s", rf.step, rf.error);
    tt_run_refit_clear(&rf);
    return rc ? -1 : 0;
}
