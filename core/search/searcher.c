/* searcher.c - random search and cost-frugal local search (see searcher.h). */
#include "search/searcher.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/space.h"
#include "util/err.h"
#include "util/rng.h"

#define STEP_START 0.25  /* in the unit cube: a quarter of each range */
#define STEP_MIN 0.004   /* below this the neighbourhood is exhausted */
#define GAP_CAP 10.0     /* an estimator far behind still keeps some chance */

/* One estimator's local search. */
typedef struct est_state {
    tt_space_dim *dims;
    size_t n;                 /* schema parameters */
    size_t n_free;            /* searched dimensions */
    double *incumbent;        /* n values in [0, 1]; valid when has_incumbent */
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
        st->n = descs[e]->n_params;
        st->incumbent = calloc(st->n + 1, sizeof *st->incumbent);
        st->direction = calloc(st->n + 1, sizeof *st->direction);
        st->category = calloc(st->n + 1, sizeof *st->category);
        if (!st->incumbent || !st->direction || !st->category ||
            tt_space_dims(&config->estimators[e], descs[e], &st->dims) != TT_OK) {
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

/* A random step: a unit direction over the ordered dimensions (real, log,
 * int), and for each category dimension - which has no order to step along -
 * the incumbent's value or, with probability 1/d, a random one. */
static void random_direction(tt_searcher *s, est_state *st)
{
    double norm = 0.0, resample = 1.0 / (double)(st->n_free ? st->n_free : 1);
    for (size_t i = 0; i < st->n; i++) {
        tt_dim_kind kind = st->dims[i].kind;
        int ordered = kind == TT_DIM_REAL || kind == TT_DIM_LOG || kind == TT_DIM_INT;
        st->direction[i] = ordered ? tt_rng_normal(&s->rng) : 0.0;
        norm += st->direction[i] * st->direction[i];
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
    *estimator = e;
    return TT_OK;
}

/* A proposal that did not beat the incumbent: after 2d of them the step
 * halves; below the minimum the estimator starts over somewhere random. */
static void note_unimproved(est_state *st)
{
    if (!st->has_incumbent)
        return;
    if (++st->unimproved >= 2 * st->n_free) {
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
    st->seconds += r->seconds;
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
        tt_space_to_unit(st->dims, st->n, r->point, st->incumbent);
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
