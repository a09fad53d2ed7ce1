/* rank.c - paired differences to the best trial (rank.h). */
#include "search/rank.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "score/score_terms.h"

/* a ranks before b: ok with an objective, better objective, then lower id. */
static int ahead(const tt_trial_result *a, const tt_trial_result *b, int maximize)
{
    const int a_ok = a->status == TT_TRIAL_OK && !isnan(a->objective);
    const int b_ok = b->status == TT_TRIAL_OK && !isnan(b->objective);
    if (a_ok != b_ok)
        return a_ok;
    if (a->objective != b->objective)
        return maximize ? a->objective > b->objective : a->objective < b->objective;
    return a->id < b->id;
}

void tt_rank_keep_terms(tt_trial_result *trials, size_t n, int maximize, size_t keep)
{
    for (;;) {
        size_t held = 0;
        long worst = -1;
        for (size_t i = 0; i < n; i++) {
            if (!trials[i].terms && !trials[i].effects)
                continue;
            held++;
            if (worst < 0 || ahead(&trials[worst], &trials[i], maximize))
                worst = (long)i;
        }
        if (held <= keep)
            return;
        free(trials[worst].terms);
        trials[worst].terms = NULL;
        trials[worst].n_terms = 0;
        free(trials[worst].effects);
        trials[worst].effects = NULL;
        trials[worst].n_effects = 0;
    }
}

size_t tt_rank_keep(size_t per_trial)
{
    const size_t bytes = sizeof(double) * (per_trial ? per_trial : 1);
    size_t k = TT_RANK_BYTES / bytes;
    if (k > TT_RANK_KEEP_MAX)
        return TT_RANK_KEEP_MAX;
    if (k < TT_RANK_KEEP_MIN) { /* the minimum, while it stays affordable */
        k = TT_RANK_BYTES_MAX / bytes;
        k = k > TT_RANK_KEEP_MIN ? TT_RANK_KEEP_MIN : k;
    }
    return k < TT_RANK_KEEP_FLOOR ? TT_RANK_KEEP_FLOOR : k;
}

size_t tt_rank_ties(tt_trial_result *trials, size_t n, long best, int *at_least)
{
    if (at_least)
        *at_least = 0;
    for (size_t i = 0; i < n; i++) {
        trials[i].has_diff = trials[i].tied_with_best = 0;
        trials[i].diff_to_best = trials[i].diff_se = NAN;
    }
    if (best < 0 || !trials[best].terms)
        return 0;
    const tt_trial_result *b = &trials[best];
    size_t tied = 0, kept = 0, dropped = 0;
    for (size_t i = 0; i < n; i++) {
        tt_trial_result *r = &trials[i];
        if (r->status != TT_TRIAL_OK || !isfinite(r->objective))
            continue;
        /* Dropped: terms freed by tt_rank_keep_terms (an s.e. says it had
         * some); a resumed trial never had them here. */
        dropped += !r->terms && isfinite(r->objective_se);
        if (!r->terms || r->n_terms != b->n_terms)
            continue;
        kept++;
        double mean_diff, se;
        tt_terms_paired(r->terms, b->terms, b->n_terms, &mean_diff, &se);
        /* The difference shown is that of the objectives, as the leaderboard
         * shows them; the terms' mean differs from it only by rounding. */
        r->diff_to_best = (long)i == best ? 0.0 : r->objective - b->objective;
        r->diff_se = (long)i == best ? 0.0 : se;
        r->has_diff = isfinite(r->diff_se);
        /* rank.h: both bounds; a best without its own s.e. leaves the first. */
        r->tied_with_best = r->has_diff && fabs(r->diff_to_best) <= 2.0 * r->diff_se &&
                            !(fabs(r->diff_to_best) > 2.0 * b->objective_se);
        tied += (size_t)r->tied_with_best;
    }
    if (at_least)
        *at_least = tied == kept && dropped > 0;
    return tied;
}

static int dumpable(const tt_trial_result *r, const tt_trial_result *b)
{
    return r->status == TT_TRIAL_OK && r->terms && r->effects && r->n_terms == b->n_terms &&
           r->n_effects == b->n_effects;
}

int tt_rank_dump_kept(const tt_trial_result *trials, size_t n, long best, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t count = 0;
    const tt_trial_result *b = best >= 0 ? &trials[best] : NULL;
    for (size_t i = 0; b && i < n; i++)
        count += (size_t)dumpable(&trials[i], b);
    fprintf(f, "tautune-kept 1 %zu %zu %zu\n", count, b ? b->n_terms : 0,
            b ? b->n_effects : 0);
    for (size_t i = 0; b && i < n; i++) {
        const tt_trial_result *r = &trials[i];
        if (!dumpable(r, b))
            continue;
        const double head[4] = {(double)r->id, r->objective, r->objective_se,
                                (double)r->tied_with_best};
        fwrite(head, sizeof(double), 4, f);
        fwrite(r->terms, sizeof(double), r->n_terms, f);
        fwrite(r->effects, sizeof(double), r->n_effects, f);
    }
    const int bad = ferror(f);
    return (fclose(f) != 0 || bad) ? -1 : 0;
}
