/*
 * host.c - the services table handed to plugin instances.
 *
 * The table's callbacks return int while the core returns tt_status; calling
 * through a pointer of a different function type is undefined, so every core
 * function gets a small adapter here instead of a cast.
 */
#include "plugin/host.h"
#include "plugin/host_blob.h"
#include "plugin/host_forest.h"
#include "plugin/host_slot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/rng.h"

static void host_log(void *host_ctx, tt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(void *host_ctx, tt_log_level level, const char *fmt, ...)
{
    const tt_host_ctx *ctx = host_ctx;
    const char *name = ctx && ctx->plugin_name ? ctx->plugin_name : "plugin";
    /* A plugin may pass any int; keep the sink's contract of known levels. */
    if ((int)level < (int)TT_LOG_ERROR)
        level = TT_LOG_ERROR;
    else if ((int)level > (int)TT_LOG_DEBUG)
        level = TT_LOG_DEBUG;
    char msg[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    tt_log(level, "[%s] %s", name, msg);
}

/* Stop at the deadline, or a poll's gap before it: plugins poll between
 * units of work (a bootstrap replica, a tree), and the time since the last
 * poll is the guess of the next unit's length. A unit that cannot end by
 * the deadline is better not started: a million-row refit began a bootstrap
 * replica 20 s before its deadline, ran past the run's tolerance and was
 * killed, model and all. */
static int host_should_stop(void *host_ctx)
{
    tt_host_ctx *ctx = host_ctx;
    if (!ctx)
        return 0;
    if (ctx->stop_flag && *ctx->stop_flag != 0)
        return 1;
    if (!(ctx->deadline > 0))
        return 0;
    /* Exchanged atomically: a plugin's threads may poll at once (each then
     * sees the gap since whichever poll came last). */
    double now = tt_now(), last;
    __atomic_exchange(&ctx->last_poll, &now, &last, __ATOMIC_RELAXED);
    double gap = last > 0 ? now - last : 0.0;
    return now + gap > ctx->deadline;
}

int tt_host_learner_create(void *host_ctx, const char *name, const char *const *keys,
                           const double *values, size_t n_params, tt_learner **out, char *err,
                           size_t errlen)
{
    const tt_host_ctx *ctx = host_ctx;
    /* Derived per learner kind so that a plugin's learners do not share the
     * exact stream the plugin itself gets as host->seed. */
    char stream[128];
    snprintf(stream, sizeof stream, "learner:%s", name ? name : "");
    uint64_t seed = tt_rng_derive(ctx ? ctx->seed : 0, stream);
    return (int)tt_learner_create(name, keys, values, n_params, seed, out, err, errlen);
}

static int host_learner_fit(tt_learner *learner, size_t n, size_t p, const double *x,
                            const double *y, const double *weight, char *err, size_t errlen)
{
    return (int)tt_learner_fit(learner, n, p, x, y, weight, err, errlen);
}

static int host_learner_predict(const tt_learner *learner, size_t n, size_t p, const double *x,
                                double *out, char *err, size_t errlen)
{
    return (int)tt_learner_predict(learner, n, p, x, out, err, errlen);
}

static int host_learner_save(const tt_learner *learner, const tt_plugin_sink *sink, char *err,
                             size_t errlen)
{
    return (int)tt_learner_save(learner, sink, err, errlen);
}

static int host_learner_load(void *host_ctx, const tt_plugin_source *source, tt_learner **out,
                             char *err, size_t errlen)
{
    (void)host_ctx; /* a saved learner is already fitted; it needs no seed */
    return (int)tt_learner_load(source, out, err, errlen);
}

static size_t host_learner_n_outputs(const tt_learner *learner)
{
    return tt_learner_n_outputs(learner);
}

/* The result serving (kind, arm), if the plugin declared it and the run has it. */
static const tt_nuisance_result *find_nuisance(const tt_host_ctx *ctx, tt_nuisance_kind kind,
                                               int arm, char *err, size_t errlen)
{
    static const uint32_t need[] = {TT_PLUGIN_CAP_NEEDS_PROPENSITY, TT_PLUGIN_CAP_NEEDS_OUTCOME,
                                    TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES,
                                    TT_PLUGIN_CAP_NEEDS_IV_NUISANCES,
                                    TT_PLUGIN_CAP_NEEDS_IV_NUISANCES,
                                    TT_PLUGIN_CAP_NEEDS_PROPENSITY};
    static const char *const names[] = {"propensity", "outcome", "per-arm outcome",
                                        "instrument propensity", "treatment-given-instrument",
                                        "treatment mean"};
    if ((unsigned)kind > TT_NUISANCE_KIND_TREATMENT_MEAN) {
        tt_errf(err, errlen, TT_ERR_INVALID, "unknown nuisance kind %d", (int)kind);
        return NULL;
    }
    const tt_host_nuisances *nu = ctx ? ctx->nuisances : NULL;
    if (!(ctx && (ctx->capabilities & need[kind]))) {
        tt_errf(err, errlen, TT_ERR_UNSUPPORTED,
                "the %s nuisance was not declared (capability TT_PLUGIN_CAP_NEEDS_*)", names[kind]);
        return NULL;
    }
    const tt_nuisance_result *r = NULL;
    if (nu && kind == TT_NUISANCE_KIND_PROPENSITY)
        r = nu->propensity;
    else if (nu && kind == TT_NUISANCE_KIND_OUTCOME)
        r = nu->outcome;
    else if (nu && kind == TT_NUISANCE_KIND_INSTRUMENT)
        r = nu->instrument;
    else if (nu && kind == TT_NUISANCE_KIND_TREATMENT_GIVEN_Z)
        r = arm == 0 || arm == 1 ? nu->treatment_given_z[arm] : NULL;
    else if (nu && kind == TT_NUISANCE_KIND_ARM_OUTCOME && nu->arm_outcome && arm >= 0 &&
             arm < nu->n_arms)
        r = nu->arm_outcome[arm];
    else if (nu && kind == TT_NUISANCE_KIND_TREATMENT_MEAN)
        /* E[T | x, w]: the regression on a continuous treatment, P(T = 1) on two arms. */
        r = nu->continuous ? nu->treatment
            : nu->n_arms == 2 && nu->propensity && nu->propensity->width == 1 ? nu->propensity
                                                                             : NULL;
    if (!r && nu && nu->continuous && (kind == TT_NUISANCE_KIND_PROPENSITY ||
                                       kind == TT_NUISANCE_KIND_ARM_OUTCOME)) {
        tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "the treatment is continuous: there are no "
                "arms, so no %s nuisance (TT_NUISANCE_KIND_TREATMENT_MEAN serves E[T | x, w])",
                names[kind]);
        return NULL;
    }
    if (!r)
        tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "the host has no %s nuisance%s", names[kind],
                kind == TT_NUISANCE_KIND_ARM_OUTCOME ? " for that arm"
                : kind == TT_NUISANCE_KIND_TREATMENT_GIVEN_Z
                    ? " for that instrument value (a binary instrument's 0 or 1, on data "
                      "with data.z)"
                : kind == TT_NUISANCE_KIND_INSTRUMENT ? " (data without a binary data.z)"
                : kind == TT_NUISANCE_KIND_TREATMENT_MEAN ? " (several arms: ask for the "
                                                            "propensity)" : "");
    return r;
}

static int host_nuisance_oof(void *host_ctx, tt_nuisance_kind kind, int arm,
                             const double **values, size_t *n, size_t *width, char *err,
                             size_t errlen)
{
    const tt_nuisance_result *r = find_nuisance(host_ctx, kind, arm, err, errlen);
    if (!r)
        return TT_ERR_UNSUPPORTED;
    *values = r->oof;
    *n = r->n;
    *width = r->width;
    return TT_OK;
}

static int host_nuisance_predict(void *host_ctx, tt_nuisance_kind kind, int arm,
                                 const tt_plugin_data *rows, double *out, char *err,
                                 size_t errlen)
{
    const tt_host_ctx *ctx = host_ctx;
    const tt_nuisance_result *r = find_nuisance(ctx, kind, arm, err, errlen);
    if (!r)
        return TT_ERR_UNSUPPORTED;
    const tt_host_nuisances *nu = ctx->nuisances;
    if (!r->full && kind == TT_NUISANCE_KIND_INSTRUMENT && nu->instrument_known > 0.0) {
        for (size_t i = 0; i < rows->n; i++) /* the design's constant, as declared */
            out[i] = nu->instrument_known;
        return TT_OK;
    }
    if (!r->full && r->width == 1 && r->n > 0 &&
        strcmp(r->diag.learner, TT_NUISANCE_CONSTANT) == 0) {
        for (size_t i = 0; i < rows->n; i++) /* one class in the training rows */
            out[i] = r->oof[0];
        return TT_OK;
    }
    if (!r->full)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "the propensities are the data's known columns: there is no model for "
                       "other rows");
    if (rows->p_x != nu->p_x || rows->p_w != nu->p_w)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "rows have %zu + %zu columns; the nuisance models use %zu + %zu",
                       rows->p_x, rows->p_w, nu->p_x, nu->p_w);
    size_t n = rows->n, p = nu->p_x + nu->p_w;
    double *f = malloc(sizeof *f * (n * p + 1));
    if (!f)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (nu->p_x)
        memcpy(f, rows->x, sizeof *f * n * nu->p_x);
    if (nu->p_w)
        memcpy(f + n * nu->p_x, rows->w, sizeof *f * n * nu->p_w);
    /* A two-arm propensity model predicts P(T = 1) only, as oof holds. */
    int rc = (int)tt_learner_predict(r->full, n, p, f, out, err, errlen);
    free(f);
    return rc;
}

void tt_host_services_init(tt_plugin_host *host, tt_host_ctx *ctx, uint64_t seed)
{
    if (ctx) {
        ctx->seed = seed;
        ctx->last_poll = tt_now(); /* the first poll's gap: the work since now */
    }
    *host = (tt_plugin_host){
        .struct_size = sizeof(tt_plugin_host),
        .abi_minor = TT_PLUGIN_ABI_MINOR,
        .alloc = malloc,
        .alloc_zero = calloc,
        .resize = realloc,
        .release = free,
        .log = host_log,
        .seed = seed,
        .should_stop = host_should_stop,
        .host_ctx = ctx,
        .learner_create = tt_host_learner_create,
        .learner_fit = host_learner_fit,
        .learner_predict = host_learner_predict,
        .learner_save = host_learner_save,
        .learner_load = host_learner_load,
        .learner_destroy = tt_learner_destroy,
        .learner_n_outputs = host_learner_n_outputs,
        .nuisance_oof = host_nuisance_oof,
        .nuisance_predict = host_nuisance_predict,
        .interval_resamples = ctx ? ctx->interval_resamples : 0,
        .forest_fit = tt_host_forest_fit,
        .forest_n_outputs = tt_host_forest_n_outputs,
        .forest_predict = tt_host_forest_predict,
        .forest_predict_oob = tt_host_forest_predict_oob,
        .forest_save = tt_host_forest_save,
        .forest_load = tt_host_forest_load,
        .forest_destroy = tt_host_forest_destroy,
        .forest_variable_importance = tt_host_forest_variable_importance,
        .blob_writer_new = tt_blob_writer_new,
        .blob_put_doubles = tt_blob_put_doubles,
        .blob_put_ints = tt_blob_put_ints,
        .blob_put_text = tt_blob_put_text,
        .blob_put_learner = tt_blob_put_learner,
        .blob_put_forest = tt_blob_put_forest,
        .blob_writer_finish = tt_blob_writer_finish,
        .blob_reader_open = tt_blob_reader_open,
        .blob_count = tt_blob_count,
        .blob_get_doubles = tt_blob_get_doubles,
        .blob_get_ints = tt_blob_get_ints,
        .blob_get_text = tt_blob_get_text,
        .blob_get_learner = tt_blob_get_learner,
        .blob_get_forest = tt_blob_get_forest,
        .blob_reader_close = tt_blob_reader_close,
        .learner_from_slot = tt_host_learner_from_slot,
    };
}
