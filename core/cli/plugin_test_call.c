/* plugin_test_call.c - one sequence of plugin calls, in an isolated child
 * (plugin_test.h).
 *
 * The child does what a trial, a refit or `tautune predict` does with the
 * same host table (plugin/host.c) and sends back only numbers and bytes, so
 * the parent judges them after the plugin's code is gone with the child.
 * Output arrays are pre-filled with a NaN whose payload says "never
 * written" and have PT_GUARD extra cells after them: the parent can then
 * tell a column the plugin forgot (still marked) from a NaN it wrote, and
 * see a write past the end. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/plugin_test.h"
#include "plugin/host_boot.h"
#include "util/rng.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "search/isolate.h"
#include "util/msg.h"
#include "util/clock.h"
#include "util/err.h"

/* Quiet NaN with a payload no arithmetic produces ("unwritten"). */
#define PT_UNWRITTEN_BITS 0x7ff8dead0bad0badull

double pt_unwritten(void)
{
    uint64_t bits = PT_UNWRITTEN_BITS;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

int pt_is_unwritten(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == PT_UNWRITTEN_BITS;
}

static double *marked(size_t n)
{
    double *v = malloc(sizeof *v * (n + PT_GUARD));
    for (size_t i = 0; v && i < n + PT_GUARD; i++)
        v[i] = pt_unwritten();
    return v;
}

/* A plugin's failure as "<what>: <its message>" (the status's name when it
 * wrote none). */
static int failed(char *err, size_t errlen, const char *what, int st, const char *msg)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", msg && msg[0] ? msg : tt_strerror((tt_status)st));
    snprintf(err, errlen, "%s: %s", what, copy);
    return -1;
}

/* Out of memory in the child (the job's own, not the plugin's). */
static int no_memory(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory in the test process");
    return -1;
}

/* The effects (with intervals and averages as asked) of a fitted instance,
 * appended to out. */
static int effects(const pt_call *c, void *inst, tt_msg *out, char *err, size_t errlen)
{
    const tt_plugin_descriptor *d = c->desc;
    const pt_problem *pb = c->pb;
    size_t cells = pt_cells(pb);
    double *tau = marked(cells);
    if (!tau)
        return no_memory(err, errlen);
    char msg[1024] = "";
    tt_isolate_stage("effect");
    double t0 = tt_now();
    int st = d->effect(inst, &pb->eval_view, tau, msg, sizeof msg);
    double secs = tt_now() - t0;
    if (st != TT_OK) {
        free(tau);
        return failed(err, errlen, "effect", st, msg);
    }
    int bad = tt_msg_put_f64(out, secs) || tt_msg_put_f64s(out, tau, cells + PT_GUARD);
    free(tau);
    return bad ? no_memory(err, errlen) : 0;
}

/* A plugin without intervals of its own gets the host's bootstrap
 * (plugin/host_boot.h), as a run would give it: replicas refitted on
 * resamples of train, intervals around the effects on the eval rows.
 * *boot is NULL (with msg set) when that fails. */
static void host_bootstrap(const pt_call *c, const tt_plugin_host *host,
                           const tt_plugin_data *train, void *inst, tt_host_boot **boot,
                           double **point, char *msg, size_t len)
{
    const tt_plugin_descriptor *d = c->desc;
    size_t cells = pt_cells(c->pb);
    *boot = NULL;
    *point = malloc(sizeof **point * (cells + 1));
    tt_isolate_stage("host bootstrap");
    if (!*point || d->effect(inst, &c->pb->eval_view, *point, msg, len) != TT_OK ||
        tt_host_boot_fit(d, host, c->point, train, c->resamples,
                         tt_rng_derive(c->seed, "host-bootstrap"), boot, msg, len) != TT_OK) {
        if (!msg[0])
            snprintf(msg, len, "out of memory");
        tt_host_boot_free(*boot);
        *boot = NULL;
    }
}

static int intervals(const pt_call *c, const tt_plugin_host *host, const tt_plugin_data *train,
                     void *inst, tt_msg *out, char *err, size_t errlen)
{
    const tt_plugin_descriptor *d = c->desc;
    const pt_problem *pb = c->pb;
    size_t cells = pt_cells(pb), k = (size_t)pb->n_arms - 1;
    int own = (d->capabilities & TT_PLUGIN_CAP_INTERVALS) && d->effect_interval;
    int by_host = c->intervals && !own && !c->state && tt_host_boot_applies(d);
    int has = c->intervals && (own || by_host);
    double *lo = has ? marked(cells) : NULL, *hi = has ? marked(cells) : NULL;
    char msg[1024] = "";
    tt_host_boot *boot = NULL;
    double *point = NULL;
    if (has && (!lo || !hi)) {
        free(lo);
        free(hi);
        return no_memory(err, errlen);
    }
    if (by_host) {
        host_bootstrap(c, host, train, inst, &boot, &point, msg, sizeof msg);
        tt_isolate_stage("host bootstrap interval");
        if (boot)
            tt_host_boot_interval(boot, &pb->eval_view, point, PT_ALPHA, lo, hi, msg,
                                  sizeof msg);
    } else if (has) {
        tt_isolate_stage("effect_interval");
        int st = d->effect_interval(inst, &pb->eval_view, PT_ALPHA, lo, hi, msg, sizeof msg);
        if (st != TT_OK && !msg[0])
            snprintf(msg, sizeof msg, "%s", tt_strerror((tt_status)st));
        if (st != TT_OK && !msg[0])
            snprintf(msg, sizeof msg, "failed");
    }
    int bad = tt_msg_put_u32(out, (uint32_t)has) ||
              (has && (tt_msg_put_f64s(out, lo, cells + PT_GUARD) ||
                       tt_msg_put_f64s(out, hi, cells + PT_GUARD) || tt_msg_put_str(out, msg)));
    free(lo);
    free(hi);
    if (bad) {
        tt_host_boot_free(boot);
        free(point);
        return no_memory(err, errlen);
    }
    tt_plugin_average_fn avg = c->intervals ? tt_plugin_average_effect(d) : NULL;
    if (by_host) { /* the host's average: every replica's mean effect */
        double ate[PT_MAX_ARMS], alo[PT_MAX_ARMS], ahi[PT_MAX_ARMS];
        msg[0] = '\0';
        for (size_t i = 0; i < k; i++)
            ate[i] = alo[i] = ahi[i] = pt_unwritten();
        if (boot)
            tt_host_boot_average(boot, &pb->eval_view, point, PT_ALPHA, ate, alo, ahi, msg,
                                 sizeof msg);
        else if (!msg[0])
            snprintf(msg, sizeof msg, "the host's bootstrap failed");
        tt_host_boot_free(boot);
        free(point);
        bad = tt_msg_put_u32(out, 1) || tt_msg_put_f64s(out, ate, k) ||
              tt_msg_put_f64s(out, alo, k) || tt_msg_put_f64s(out, ahi, k) ||
              tt_msg_put_str(out, msg);
        return bad ? no_memory(err, errlen) : 0;
    }
    double ate[PT_MAX_ARMS], alo[PT_MAX_ARMS], ahi[PT_MAX_ARMS];
    msg[0] = '\0';
    for (size_t i = 0; i < k; i++)
        ate[i] = alo[i] = ahi[i] = pt_unwritten();
    if (avg) {
        tt_isolate_stage("average_effect");
        int st = avg(inst, &pb->eval_view, PT_ALPHA, ate, alo, ahi, msg, sizeof msg);
        if (st != TT_OK && !msg[0])
            snprintf(msg, sizeof msg, "%s", tt_strerror((tt_status)st));
        if (st != TT_OK && !msg[0])
            snprintf(msg, sizeof msg, "failed");
    }
    bad = tt_msg_put_u32(out, avg != NULL) ||
          (avg && (tt_msg_put_f64s(out, ate, k) || tt_msg_put_f64s(out, alo, k) ||
                   tt_msg_put_f64s(out, ahi, k) || tt_msg_put_str(out, msg)));
    return bad ? no_memory(err, errlen) : 0;
}

static int save(const pt_call *c, void *inst, tt_msg *out, char *err, size_t errlen)
{
    tt_model_state_buffer buf = {0};
    tt_plugin_sink sink = tt_model_state_sink(&buf);
    char msg[1024] = "";
    tt_isolate_stage("save");
    int st = c->desc->save(inst, &sink, msg, sizeof msg);
    if (st == TT_OK && buf.failed)
        st = TT_ERR_NOMEM, snprintf(msg, sizeof msg, "out of memory holding the saved state");
    if (st != TT_OK) {
        free(buf.bytes);
        return failed(err, errlen, "save", st, msg);
    }
    int bad = tt_msg_put_u64(out, buf.len) || tt_msg_put(out, buf.bytes, buf.len);
    free(buf.bytes);
    return bad ? no_memory(err, errlen) : 0;
}

/* An instance as the host makes one: loaded from c->state with its own
 * host table (as `tautune predict` does), or created with c's point. */
static int open_instance(const pt_call *c, const tt_plugin_host *host, void **inst, char *err,
                         size_t errlen)
{
    const tt_plugin_descriptor *d = c->desc;
    char msg[1024] = "";
    int st;
    *inst = NULL;
    if (c->state) {
        tt_model_state_reader rd = {.bytes = c->state, .len = c->state_len};
        tt_plugin_source src = tt_model_state_source(&rd);
        tt_isolate_stage("load");
        st = d->load(host, &src, inst, msg, sizeof msg);
        if (st != TT_OK || !*inst)
            return failed(err, errlen, "load", st ? st : TT_ERR_PLUGIN,
                          st ? msg : "load gave no instance");
        return 0;
    }
    tt_isolate_stage("create");
    st = d->create(host, c->point, c->pb->n_arms, inst, msg, sizeof msg);
    if (st != TT_OK || !*inst)
        return failed(err, errlen, "create", st ? st : TT_ERR_PLUGIN,
                      st ? msg : "create gave no instance");
    return 0;
}

/* The job: per fit a new instance (the host never refits one), fitted
 * (timed) and asked for effects; after the last, intervals and save as
 * asked. Its message is decoded by decode() in the same order. */
static int call_job(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const pt_call *c = arg;
    const tt_plugin_descriptor *d = c->desc;
    const pt_problem *pb = c->pb;
    static volatile sig_atomic_t stop_now = 1;
    tt_plugin_data train = pb->train_view;
    if (c->weighted)
        train.weight = pb->weight;
    int fits = c->state ? 1 : c->fits < 1 ? 1 : c->fits > PT_MAX_FITS ? PT_MAX_FITS : c->fits;
    int rc = tt_msg_put_u32(out, (uint32_t)fits) ? no_memory(err, errlen) : 0;
    for (int f = 0; rc == 0 && f < fits; f++) {
        tt_host_ctx ctx = {.plugin_name = d->name, .stop_flag = c->stop_now ? &stop_now : NULL,
                           .nuisances = &pb->nu, .capabilities = d->capabilities,
                           .interval_resamples = c->resamples};
        tt_plugin_host host;
        tt_host_services_init(&host, &ctx, c->seed);
        void *inst;
        if ((rc = open_instance(c, &host, &inst, err, errlen)) != 0)
            break;
        double secs = 0;
        int st = TT_OK;
        char msg[1024] = "";
        if (!c->state) {
            tt_isolate_stage("fit");
            double t0 = tt_now();
            st = d->fit(inst, &train, msg, sizeof msg);
            secs = tt_now() - t0;
        }
        if (c->stop_now) /* the status is the answer, not a failure */
            rc = tt_msg_put_f64(out, secs) || tt_msg_put_u32(out, (uint32_t)st) ||
                 tt_msg_put_str(out, msg) ? no_memory(err, errlen) : 0;
        else if (st != TT_OK)
            rc = failed(err, errlen, "fit", st, msg);
        else if (tt_msg_put_f64(out, secs))
            rc = no_memory(err, errlen);
        else
            rc = effects(c, inst, out, err, errlen);
        if (rc == 0 && !c->stop_now && f == fits - 1) {
            rc = intervals(c, &host, &train, inst, out, err, errlen);
            if (rc == 0 && c->save)
                rc = save(c, inst, out, err, errlen);
        }
        tt_isolate_stage("destroy");
        d->destroy(inst);
        if (c->stop_now)
            break;
    }
    return rc;
}

/* Reads what call_job sent into o (o->ok stays 0 when it does not parse). */
static void decode(const pt_call *c, const unsigned char *data, size_t len, pt_outcome *o)
{
    const pt_problem *pb = c->pb;
    size_t cells = pt_cells(pb), k = (size_t)pb->n_arms - 1;
    tt_msg_reader r = tt_msg_reader_of(data, len);
    o->n_fits = tt_msg_get_u32(&r);
    if (o->n_fits > PT_MAX_FITS)
        r.bad = 1;
    for (size_t f = 0; !r.bad && f < o->n_fits; f++) {
        o->fit_seconds[f] = tt_msg_get_f64(&r);
        if (c->stop_now) {
            o->fit_status = (int)tt_msg_get_u32(&r);
            tt_msg_get_str(&r, o->fit_error, sizeof o->fit_error);
            break;
        }
        o->effect_seconds[f] = tt_msg_get_f64(&r);
        if (tt_msg_get_f64s(&r, cells + PT_GUARD, &o->effects[f]) != 0 || !o->effects[f])
            r.bad = 1;
    }
    if (!r.bad && !c->stop_now) {
        if (tt_msg_get_u32(&r)) {
            if (tt_msg_get_f64s(&r, cells + PT_GUARD, &o->lo) != 0 ||
                tt_msg_get_f64s(&r, cells + PT_GUARD, &o->hi) != 0 || !o->lo || !o->hi)
                r.bad = 1;
            tt_msg_get_str(&r, o->interval_error, sizeof o->interval_error);
        }
        o->has_average = (int)tt_msg_get_u32(&r);
        if (o->has_average) {
            if (tt_msg_get_f64s(&r, k, &o->ate) != 0 || tt_msg_get_f64s(&r, k, &o->ate_lo) != 0 ||
                tt_msg_get_f64s(&r, k, &o->ate_hi) != 0)
                r.bad = 1;
            tt_msg_get_str(&r, o->average_error, sizeof o->average_error);
        }
        if (c->save) {
            uint64_t n = tt_msg_get_u64(&r);
            const unsigned char *b = n <= len ? tt_msg_get_bytes(&r, (size_t)n) : NULL;
            o->state = b ? malloc((size_t)n + 1) : NULL;
            if (!o->state)
                r.bad = 1;
            else
                memcpy(o->state, b, (size_t)n), o->state_len = (size_t)n;
        }
    }
    if (r.bad || !tt_msg_done(&r)) {
        snprintf(o->why, sizeof o->why, "the test process's answer could not be read");
        return;
    }
    o->ok = 1;
}

/* In the child: what the plugin prints on stdout goes to stderr (whose
 * tail the parent keeps for its message), so the table stays clean. */
static int child_job(void *arg, tt_msg *out, char *err, size_t errlen)
{
    fflush(stdout);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    return call_job(arg, out, err, errlen);
}

int pt_call_run(const pt_call *c, double timeout, pt_outcome *o)
{
    memset(o, 0, sizeof *o);
    tt_isolate_limits lim = {.timeout = timeout};
    tt_isolate_report rep;
    char err[1024];
    if (tt_isolate_run(&lim, child_job, (void *)c, NULL, &rep, err, sizeof err) != TT_OK) {
        snprintf(o->why, sizeof o->why, "cannot start a test process: %s", err);
        return -1;
    }
    o->seconds = rep.seconds;
    snprintf(o->stage, sizeof o->stage, "%s", rep.stage);
    o->refused = rep.end == TT_ISOLATE_FAILED;
    if (rep.end == TT_ISOLATE_OK) {
        decode(c, rep.result.data, rep.result.len, o);
    } else {
        char how[1400];
        tt_isolate_describe(&rep, &lim, "the plugin", how, sizeof how);
        /* A plugin's own error already names its call; a crash gets it here. */
        if (rep.end != TT_ISOLATE_FAILED && rep.stage[0])
            snprintf(o->why, sizeof o->why, "in %s: %s", rep.stage, how);
        else
            snprintf(o->why, sizeof o->why, "%s", how);
    }
    tt_isolate_report_free(&rep);
    return 0;
}

int pt_call_here(const pt_call *c, pt_outcome *o)
{
    memset(o, 0, sizeof *o);
    tt_msg m = {0};
    char err[1024] = "";
    double t0 = tt_now();
    int rc = call_job((void *)c, &m, err, sizeof err);
    o->seconds = tt_now() - t0;
    if (rc == 0)
        decode(c, m.data, m.len, o);
    else
        snprintf(o->why, sizeof o->why, "%s", err[0] ? err : "failed without a message");
    o->refused = rc != 0;
    tt_msg_free(&m);
    return o->ok ? 0 : -1;
}

void pt_outcome_free(pt_outcome *o)
{
    if (!o)
        return;
    for (size_t f = 0; f < PT_MAX_FITS; f++)
        free(o->effects[f]);
    free(o->lo);
    free(o->hi);
    free(o->ate);
    free(o->ate_lo);
    free(o->ate_hi);
    free(o->state);
    memset(o, 0, sizeof *o);
}
