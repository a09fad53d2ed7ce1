/* searcher.c - random search and cost-frugal local search (see searcher.h). */
#include "search/searcher.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/conditions.h"
#include "search/prune.h"
#include "search/space.h"
#include "util/err.h"
#include "util/rng.h"

#define STEP_START 0.25  /* in the unit cube: a quarter of each range */
#define STEP_MIN 0.004   /* below this the neighbourhood is exhausted */
#define GAP_CAP 10.0     /* an estimator far behind still keeps some chance */

/* One estimator's local search. */
typedef struct est_state {
    const tt_plugin_descriptor *desc;
    tt_space_dim *dims;
    size_t n;                 /* schema parameters */
    size_t n_free;            /* searched dimensions */
    double *incumbent;        /* n values in [0, 1]; valid when has_incumbent */
    unsigned char *active;    /* per dimension: searched and active at the incumbent */
    size_t n_active;          /* how many; the d of the 2d rule */
    tt_prune *prune;          /* choice values that keep failing */
    size_t ok, failed;        /* trials that ran / failed or timed out */
    double *direction;        /* the last step's direction (for its opposite) */
    double *category;         /* the last step's unit values of category dimensions */
    int has_incumbent, opposite_pending;
    double local_best;        /* incumbent's objective (since the last restart) */
    double best;              /* best objective ever, for the gap */
    double step;
    size_t unimproved;        /* proposals since the incumbent last moved */
    size_t since_improvement; /* trials since `best` last improved */
    size_t trials;
    double seconds;
} est_state;

struct tt_searcher {
    int cfo, cost_in_seconds;
    double sign;              /* +1 to minimise the objective, -1 to maximise it */
    size_t n_est;
    est_state *est;
    double global_best;
    tt_rng rng;
};

void tt_searcher_free(tt_searcher *s)
{
    if (!s)
        return;
    for (size_t e = 0; s->est && e < s->n_est; e++) {
        tt_space_dims_free(s->est[e].dims, s->est[e].n);
        free(s->est[e].incumbent);
        free(s->est[e].direction);
        free(s->est[e].category);
        free(s->est[e].active);
        tt_prune_free(s->est[e].prune);
    }
    free(s->est);
    free(s);
}

tt_status tt_searcher_new(const char *kind, const tt_config *config,
                          const tt_plugin_descriptor *const *descs, uint64_t seed,
                          int cost_in_seconds, int maximize, tt_searcher **out, char *err,
                          size_t errlen)
{
    int cfo = strcmp(kind, "cfo") == 0;
    if (!cfo && strcmp(kind, "random") != 0)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "unknown searcher '%s' (expected \"cfo\" or \"random\")", kind);
    tt_searcher *s = calloc(1, sizeof *s);
    if (!s || !(s->est = calloc(config->n_estimators + 1, sizeof *s->est))) {
        free(s);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    s->cfo = cfo;
    s->cost_in_seconds = cost_in_seconds;
    s->sign = maximize ? -1.0 : 1.0;
    s->n_est = config->n_estimators;
    s->global_best = INFINITY;
    tt_rng_seed(&s->rng, seed, cfo ? "search:cfo" : "search:random");
    for (size_t e = 0; e < s->n_est; e++) {
        est_state *st = &s->est[e];
        st->desc = descs[e];
        st->n = descs[e]->n_params;
        st->incumbent = calloc(st->n + 1, sizeof *st->incumbent);
        st->direction = calloc(st->n + 1, sizeof *st->direction);
        st->category = calloc(st->n + 1, sizeof *st->category);
        st->active = calloc(st->n + 1, sizeof *st->active);
        if (!st->incumbent || !st->direction || !st->category || !st->active ||
            tt_space_dims(&config->estimators[e], descs[e], &st->dims) != TT_OK ||
            !(st->prune = tt_prune_new(descs[e], st->dims))) {
            tt_searcher_free(s);
            return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        }
        st->n_free = tt_space_free_dims(st->dims, st->n);
        st->step = STEP_START;
        st->local_best = st->best = INFINITY;
    }
    *out = s;
    return TT_OK;
}

/* 1/ECI of an estimator; 0 when it has nothing left to search. */
static double appeal(const tt_searcher *s, const est_state *st)
{
    if (st->n_free == 0)
        return 0.0;
    if (!s->cfo)
        return 1.0;
    double cost = 1.0;
    if (s->cost_in_seconds && st->trials > 0)
        cost = fmax(st->seconds / (double)st->trials, 1e-3);
    /* Failures are paid for twice: each counts as a trial without
     * improvement (since_improvement), and the cost is divided by the
     * smoothed share of trials that ran, so an estimator whose every trial
     * fails loses its share quadratically. Counts only: deterministic. */
    cost *= (double)(st->ok + st->failed + 1) / (double)(st->ok + 1);
    double gap = 1.0; /* no successful trial yet: as if one range behind */
    if (isfinite(st->best) && isfinite(s->global_best))
        gap = fmin(GAP_CAP, (st->best - s->global_best) /
                                fmax(fabs(s->global_best), 1e-12));
    double since = st->since_improvement > 0 ? (double)st->since_improvement : 1.0;
    return 1.0 / (since * cost * (1.0 + gap));
}

static size_t pick_estimator(tt_searcher *s)
{
    double total = 0.0, w[s->n_est];
    for (size_t e = 0; e < s->n_est; e++)
        total += w[e] = appeal(s, &s->est[e]);
    if (!(total > 0.0)) /* nothing searchable: let the loop find the space exhausted */
        return (size_t)tt_rng_below(&s->rng, s->n_est);
    double r = tt_rng_uniform(&s->rng) * total;
    for (size_t e = 0; e < s->n_est; e++) {
        if (r < w[e])
            return e;
        r -= w[e];
    }
    return s->n_est - 1;
}

/* Which searched dimensions count at the incumbent: only they are stepped
 * along, and their number is the d of the 2d rule. */
static void set_incumbent(est_state *st, const double *point)
{
    tt_space_to_unit(st->dims, st->n, point, st->incumbent);
    st->n_active = 0;
    for (size_t i = 0; i < st->n; i++) {
        st->active[i] = st->dims[i].kind != TT_DIM_FIXED && tt_param_active(st->desc, point, i);
        st->n_active += st->active[i];
    }
}

/* A random step: a unit direction over the active ordered dimensions (real,
 * log, int), and for each active category dimension - which has no order to
 * step along - the incumbent's value or, with probability 1/d, a random one.
 * Inactive dimensions stay where the incumbent has them (its defaults). */
static void random_direction(tt_searcher *s, est_state *st)
{
    double norm = 0.0, resample = 1.0 / (double)(st->n_active ? st->n_active : 1);
    for (size_t i = 0; i < st->n; i++) {
        tt_dim_kind kind = st->active[i] ? st->dims[i].kind : TT_DIM_FIXED;
        int ordered = kind == TT_DIM_REAL || kind == TT_DIM_LOG || kind == TT_DIM_INT;
        st->direction[i] = ordered ? tt_rng_normal(&s->rng) : 0.0;
        norm += st->direction[i] * st->direction[i];
        st->category[i] = st->incumbent[i];
        if (kind == TT_DIM_CATEGORY)
            st->category[i] = tt_rng_uniform(&s->rng) < resample ? tt_rng_uniform(&s->rng)
                                                                   : st->incumbent[i];
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < st->n && norm > 0; i++)
        st->direction[i] /= norm;
}

tt_status tt_searcher_propose(tt_searcher *s, size_t *estimator, double *point)
{
    size_t e = pick_estimator(s);
    est_state *st = &s->est[e];
    double u[st->n + 1];
    if (!s->cfo || !st->has_incumbent) {
        for (size_t i = 0; i < st->n; i++)
            u[i] = tt_rng_uniform(&s->rng);
    } else {
        double sign = 1.0;
        if (st->opposite_pending) {
            sign = -1.0;
            st->opposite_pending = 0;
        } else {
            random_direction(s, st);
            st->opposite_pending = 1;
        }
        for (size_t i = 0; i < st->n; i++)
            u[i] = st->dims[i].kind == TT_DIM_CATEGORY
                       ? st->category[i]
                       : st->incumbent[i] + sign * st->step * st->direction[i];
    }
    tt_space_from_unit(st->dims, st->n, u, point);
    /* Inactive parameters take their defaults, so points equal on what
     * counts are one point for the loop's "already tried". */
    tt_point_canonical(st->desc, point);
    tt_prune_repair(st->prune, &s->rng, point);
    *estimator = e;
    return TT_OK;
}

/* A proposal that did not beat the incumbent: after 2d of them the step
 * halves; below the minimum the estimator starts over somewhere random. */
static void note_unimproved(est_state *st)
{
    if (!st->has_incumbent)
        return;
    if (++st->unimproved >= 2 * (st->n_active ? st->n_active : st->n_free)) {
        st->step *= 0.5;
        st->unimproved = 0;
        if (st->step < STEP_MIN) {
            st->has_incumbent = 0;
            st->opposite_pending = 0;
            st->local_best = INFINITY;
            st->step = STEP_START;
        }
    }
}

void tt_searcher_observe(tt_searcher *s, const tt_trial_result *r)
{
    if (r->estimator >= s->n_est)
        return;
    est_state *st = &s->est[r->estimator];
    st->trials++;
    /* With cost_in_seconds a failure costs the time it took; a timeout the
     * whole timeout (the worker records the time until it was killed). */
    st->seconds += r->seconds;
    if (r->status == TT_TRIAL_OK)
        st->ok++;
    else
        st->failed++;
    tt_prune_observe(st->prune, r->point, r->status);
    /* Internally lower is better: a maximised objective is negated. */
    double loss = s->sign * r->objective;
    int ok = r->status == TT_TRIAL_OK && isfinite(loss);
    if (ok && loss < st->best) {
        st->best = loss;
        st->since_improvement = 0;
    } else {
        st->since_improvement++;
    }
    if (ok && loss < s->global_best)
        s->global_best = loss;
    if (!s->cfo)
        return;
    if (ok && loss < st->local_best) {
        /* The incumbent moves here; the next step starts a new direction. */
        st->local_best = loss;
        set_incumbent(st, r->point);
        st->has_incumbent = 1;
        st->opposite_pending = 0;
        st->unimproved = 0;
        return;
    }
    note_unimproved(st);
}

void tt_searcher_reject(tt_searcher *s, size_t estimator)
{
    if (s->cfo && estimator < s->n_est)
        note_unimproved(&s->est[estimator]);
}
