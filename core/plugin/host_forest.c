/* host_forest.c - plugin.h's forest services over core/learn/grf.h. The
 * plugin sees an opaque tt_forest; here it is a core forest plus the
 * column count it was fitted on, so a wrong-width predict is an error rather
 * than a read past the caller's array. */
#include "plugin/host_forest.h"

#include <stdio.h>
#include <stdlib.h>

#include "learn/grf.h"
#include "plugin/host.h"
#include "util/err.h"
#include "util/rng.h"

struct tt_forest {
    tt_grf *grf;
    size_t p;
};

/* plugin.h's tri-state booleans and zero-means-default fields onto grf's. */
static tt_status options_of(const tt_forest_options *o, uint64_t seed, tt_grf_options *g,
                            char *err, size_t errlen)
{
    tt_grf_options_init(g);
    g->seed = seed;
    if (!o)
        return TT_OK;
    if (o->struct_size < sizeof *o)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "tt_forest_options.struct_size %zu is smaller than the host's %zu",
                       o->struct_size, sizeof *o);
    if (o->n_trees)
        g->n_trees = o->n_trees;
    if (o->sample_fraction > 0)
        g->sample_fraction = o->sample_fraction;
    if (o->honesty)
        g->honesty = o->honesty == 1;
    if (o->honesty_fraction > 0)
        g->honesty_fraction = o->honesty_fraction;
    if (o->prune_empty_leaves)
        g->honesty_prune_leaves = o->prune_empty_leaves == 1;
    if (o->mtry)
        g->mtry = o->mtry;
    if (o->min_node_size)
        g->min_node_size = o->min_node_size;
    if (o->alpha > 0)
        g->alpha = o->alpha;
    else if (o->alpha < 0)
        g->alpha = 0;
    if (o->imbalance_penalty > 0)
        g->imbalance_penalty = o->imbalance_penalty;
    if (o->ci_group_size)
        g->ci_group_size = o->ci_group_size;
    g->threads = o->threads;
    return TT_OK;
}

int tt_host_forest_fit(void *host_ctx, tt_forest_kind kind, const tt_forest_options *opt,
                       size_t n, size_t p, const double *x, const double *y, const double *w,
                       size_t k, const double *z, const double *weight, tt_forest **out,
                       char *err, size_t errlen)
{
    const tt_host_ctx *ctx = host_ctx;
    *out = NULL;
    if ((unsigned)kind > TT_FOREST_INSTRUMENTAL)
        return tt_errf(err, errlen, TT_ERR_INVALID, "unknown forest kind %d", (int)kind);
    static const tt_grf_kind kinds[] = {TT_GRF_REGRESSION, TT_GRF_CAUSAL, TT_GRF_INSTRUMENTAL};
    /* Its own stream, so a forest does not share the plugin's host->seed. */
    uint64_t seed = tt_rng_derive(ctx ? ctx->seed : 0, "forest");
    tt_grf_options g;
    tt_status st = options_of(opt, seed, &g, err, errlen);
    if (st != TT_OK)
        return st;
    tt_forest *f = calloc(1, sizeof *f);
    if (!f)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    tt_grf_data d = {.n = n, .p = p, .x = x, .y = y, .w = w, .k = k, .z = z, .weight = weight};
    /* sig_atomic_t is an int on the platforms we build for; the deadline is
     * the worker's to enforce (it kills an overrunning trial). */
    volatile const int *stop = ctx ? (volatile const int *)ctx->stop_flag : NULL;
    st = tt_grf_fit(kinds[kind], &d, &g, stop, &f->grf, err, errlen);
    if (st != TT_OK) {
        free(f);
        return st;
    }
    f->p = p;
    *out = f;
    return TT_OK;
}

size_t tt_host_forest_n_outputs(const tt_forest *f)
{
    return f && f->grf ? tt_grf_n_outputs(f->grf) : 0;
}

int tt_host_forest_predict(const tt_forest *f, size_t n, size_t p, const double *x, double *est,
                           double *var, char *err, size_t errlen)
{
    if (!f || !f->grf)
        return tt_errf(err, errlen, TT_ERR_INVALID, "no fitted forest");
    if (p != f->p)
        return tt_errf(err, errlen, TT_ERR_INVALID, "the forest was fitted on %zu columns, got %zu",
                       f->p, p);
    return tt_grf_predict(f->grf, n, x, est, var, err, errlen);
}

int tt_host_forest_predict_oob(const tt_forest *f, double *est, double *var, char *err,
                               size_t errlen)
{
    if (!f || !f->grf)
        return tt_errf(err, errlen, TT_ERR_INVALID, "no fitted forest");
    return tt_grf_predict_oob(f->grf, est, var, err, errlen);
}

int tt_host_forest_save(const tt_forest *f, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    if (!f || !f->grf)
        return tt_errf(err, errlen, TT_ERR_INVALID, "no fitted forest");
    char head[64];
    int len = snprintf(head, sizeof head, "forest_p %zu\n", f->p);
    if (sink->write(sink->ctx, head, (size_t)len) != 0)
        return tt_errf(err, errlen, TT_ERR_IO, "cannot write the forest");
    return tt_grf_save(f->grf, sink, err, errlen);
}

int tt_host_forest_load(void *host_ctx, const tt_plugin_source *src, tt_forest **out, char *err,
                        size_t errlen)
{
    (void)host_ctx; /* a saved forest is fitted; it needs no seed */
    *out = NULL;
    /* "forest_p <digits>\n", read a byte at a time so nothing past it is taken. */
    char line[64];
    size_t len = 0;
    while (len + 1 < sizeof line && src->read(src->ctx, &line[len], 1) == 0 && line[len] != '\n')
        len++;
    line[len] = '\0';
    unsigned long long p;
    char tail;
    if (sscanf(line, "forest_p %llu%c", &p, &tail) != 1)
        return tt_errf(err, errlen, TT_ERR_PARSE, "not a saved forest (header '%.20s')", line);
    tt_forest *f = calloc(1, sizeof *f);
    if (!f)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    tt_status st = tt_grf_load(src, &f->grf, err, errlen);
    if (st != TT_OK) {
        free(f);
        return st;
    }
    f->p = (size_t)p;
    *out = f;
    return TT_OK;
}

void tt_host_forest_destroy(tt_forest *f)
{
    if (!f)
        return;
    tt_grf_free(f->grf);
    free(f);
}

int tt_host_forest_variable_importance(const tt_forest *f, double *out, size_t p, char *err,
                                       size_t errlen)
{
    if (!f || !f->grf || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "no fitted forest");
    if (p != tt_grf_n_features(f->grf))
        return tt_errf(err, errlen, TT_ERR_INVALID, "the forest has %zu features, asked %zu",
                       tt_grf_n_features(f->grf), p);
    return tt_grf_split_frequency(f->grf, 4, 2.0, out, err, errlen);
}
