/* bench_nuisance_cost.c - the nuisance cost model (nuisance_cost.h) against
 * the measured cross-fitting time of every default candidate, for
 * tests/bench/nuisance_cost.
 *
 *   bench_nuisance_cost [--quick]
 * For data shapes (rows x features) it cross-fits each default propensity
 * and outcome candidate with 5 folds and prints estimate, wall seconds and
 * CPU seconds / 2; the ratio compares the estimate with what a quiet 2-core
 * machine would take (for the threaded forest and gbm their wall time held
 * between CPU / 2 and CPU; CPU for the single-threaded linear learners),
 * then per
 * learner the geometric mean of measured / estimated, and one line
 *   BENCH nuisance_cost median_ratio=R worst_over=O worst_under=U fits=N
 * (ratio = that measured time over the estimate; the plan is safe while estimates
 * are not far under the truth). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nuisance/nuisance.h"
#include "nuisance/nuisance_cost.h"
#include "util/rng.h"
#include "util/clock.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct tally {
    char learner[32];
    double log_sum;
    int n;
} tally;

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const size_t shapes[][2] = {{2000, 10}, {10000, 10}, {10000, 30}, {40000, 12}};
    size_t n_shapes = quick ? 2 : sizeof shapes / sizeof shapes[0];
    double ratios[256];
    size_t n_ratios = 0;
    tally tallies[16];
    size_t n_tallies = 0;
    printf("%-8s %-4s %-10s %-10s %10s %10s %10s %8s\n", "rows", "p", "role", "learner",
           "estimate", "wall", "cpu/2", "ratio");
    for (size_t s = 0; s < n_shapes; s++) {
        size_t n = shapes[s][0], p = shapes[s][1];
        double *x = malloc(sizeof *x * n * p), *y = malloc(sizeof *y * n);
        int32_t *arm = malloc(sizeof *arm * n);
        tt_rng rng;
        tt_rng_seed(&rng, 7, "bench");
        for (size_t i = 0; i < n * p; i++)
            x[i] = tt_rng_normal(&rng);
        for (size_t i = 0; i < n; i++) {
            double e = 1 / (1 + exp(-(0.8 * x[i] + 0.4 * x[n + i])));
            arm[i] = tt_rng_uniform(&rng) < e;
            y[i] = x[i] + 0.5 * x[n + i] * x[n + i] + arm[i] * (1 + x[2 * n + i]) +
                   tt_rng_normal(&rng);
        }
        tt_nuisance_data d = {.n = n, .p = p, .x = x, .y = y, .arm = arm, .n_arms = 2};
        for (int role = 0; role < 2; role++) {
            const tt_nuisance_spec *cands;
            size_t nc;
            tt_nuisance_role r = role == 0 ? TT_NUISANCE_PROPENSITY : TT_NUISANCE_OUTCOME;
            tt_nuisance_default_candidates(r, &cands, &nc);
            for (size_t c = 0; c < nc; c++) {
                tt_nuisance_engine *e;
                char err[512];
                if (tt_nuisance_engine_new(&d, 5, 1, &e, err, sizeof err) != TT_OK) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                const tt_nuisance_result *res;
                double est = tt_nuisance_cost(&cands[c], r, n, p, role == 0 ? 2 : 1, 5);
                double t0 = tt_now(), c0 = cpu_seconds();
                tt_status st = tt_nuisance_fit(e, r, -1, &cands[c], &res, err, sizeof err);
                double wall = tt_now() - t0, cpu = (cpu_seconds() - c0) / 2;
                tt_nuisance_engine_free(e);
                if (st != TT_OK) {
                    printf("%-8zu %-4zu %-10s %-10s failed: %s\n", n, p,
                           tt_nuisance_role_name(r), cands[c].learner, err);
                    continue;
                }
                /* What a quiet 2-core machine takes, with CPU time as the
                 * bounds so other work does not bend it: a threaded learner
                 * (forest, gbm) takes its wall time, at least half and at
                 * most all of its CPU time (gbm on few rows keeps one core
                 * busy, not two); the linear ones use one core. */
                int threaded = strcmp(cands[c].learner, "forest") == 0 ||
                               strcmp(cands[c].learner, "gbm") == 0;
                double measured = threaded ? fmin(fmax(wall, cpu), 2 * cpu) : 2 * cpu;
                double ratio = measured / est;
                printf("%-8zu %-4zu %-10s %-10s %10.3f %10.3f %10.3f %8.2f\n", n, p,
                       tt_nuisance_role_name(r), cands[c].learner, est, wall, cpu, ratio);
                fflush(stdout);
                if (n_ratios < 256)
                    ratios[n_ratios++] = ratio;
                size_t t = 0;
                while (t < n_tallies && strcmp(tallies[t].learner, cands[c].learner) != 0)
                    t++;
                if (t == n_tallies && n_tallies < 16) {
                    snprintf(tallies[t].learner, sizeof tallies[t].learner, "%s",
                             cands[c].learner);
                    tallies[t].log_sum = 0;
                    tallies[t].n = 0;
                    n_tallies++;
                }
                if (t < n_tallies) {
                    tallies[t].log_sum += log(ratio);
                    tallies[t].n++;
                }
            }
        }
        free(x);
        free(y);
        free(arm);
    }
    printf("\nper learner, geometric mean of measured / estimate:\n");
    for (size_t t = 0; t < n_tallies; t++)
        printf("  %-10s %6.2f (%d fits)\n", tallies[t].learner,
               exp(tallies[t].log_sum / tallies[t].n), tallies[t].n);
    qsort(ratios, n_ratios, sizeof *ratios, cmp_double);
    double median = n_ratios ? ratios[n_ratios / 2] : NAN;
    printf("BENCH nuisance_cost median_ratio=%.3f worst_over=%.3f worst_under=%.3f fits=%zu\n",
           median, n_ratios ? ratios[n_ratios - 1] : NAN, n_ratios ? ratios[0] : NAN, n_ratios);
    return 0;
}
