/*
 * cmd_power.c - `tautune power`: rows per group for an experiment to detect
 * a lift, or the smallest lift a given size detects, with and without CUPED
 * (experiment/power.h: the two-sample t test as statsmodels computes it).
 * The outcome's spread comes from --sd, a conversion --rate, or a pilot CSV
 * (--pilot FILE --outcome COL [--pre COL], which also gives CUPED's rho).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/csv.h"
#include "experiment/power.h"

typedef struct power_args {
    double sd, rate, mean, lift, rel, alpha, power, ratio, rho, n;
    int one_sided, arms, has_sd, has_rate, has_mean, has_lift, has_rel, has_rho, has_n;
    const char *pilot, *outcome, *pre;
} power_args;

static int number(const char *opt, const char *val, double *out)
{
    char *end;
    *out = strtod(val, &end);
    if (*end || !isfinite(*out)) {
        fprintf(stderr, "tautune power: %s expects a number, got '%s'\n", opt, val);
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, power_args *a)
{
    memset(a, 0, sizeof *a);
    a->alpha = 0.05, a->power = 0.8, a->ratio = 1.0, a->arms = 2;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--one-sided")) {
            a->one_sided = 1;
            continue;
        }
        if (!val || arg[0] != '-') {
            fprintf(stderr, "tautune power: unknown argument or missing value: '%s'\n", arg);
            return -1;
        }
        i++;
        struct { const char *name; double *dst; int *has; } nums[] = {
            {"--sd", &a->sd, &a->has_sd}, {"--rate", &a->rate, &a->has_rate},
            {"--mean", &a->mean, &a->has_mean}, {"--lift", &a->lift, &a->has_lift},
            {"--relative-lift", &a->rel, &a->has_rel}, {"--alpha", &a->alpha, NULL},
            {"--power", &a->power, NULL}, {"--ratio", &a->ratio, NULL},
            {"--rho", &a->rho, &a->has_rho}, {"--n", &a->n, &a->has_n}};
        int done = 0;
        for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !done; k++)
            if (!strcmp(arg, nums[k].name)) {
                if (number(arg, val, nums[k].dst))
                    return -1;
                if (nums[k].has)
                    *nums[k].has = 1;
                done = 1;
            }
        if (done)
            continue;
        if (!strcmp(arg, "--arms")) {
            double k;
            if (number(arg, val, &k) || k < 2 || k > 64 || k != floor(k)) {
                fprintf(stderr, "tautune power: --arms expects a whole number from 2 to 64\n");
                return -1;
            }
            a->arms = (int)k;
        } else if (!strcmp(arg, "--pilot")) {
            a->pilot = val;
        } else if (!strcmp(arg, "--outcome")) {
            a->outcome = val;
        } else if (!strcmp(arg, "--pre")) {
            a->pre = val;
        } else {
            fprintf(stderr, "tautune power: unknown option '%s'\n", arg);
            return -1;
        }
    }
    return 0;
}

/* A pilot's outcome mean and sd, and rho with the pre-period column. */
static int pilot(power_args *a)
{
    char err[1024];
    tt_csv_table *t = NULL;
    if (!a->outcome) {
        fprintf(stderr, "tautune power: --pilot needs --outcome COLUMN\n");
        return TT_EXIT_USAGE;
    }
    if (tt_csv_read_opts(a->pilot, NULL, &t, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune power: %s\n", err);
        return TT_EXIT_DATA;
    }
    long cy = tt_csv_find(t, a->outcome), cx = a->pre ? tt_csv_find(t, a->pre) : -1;
    int rc = TT_EXIT_OK;
    if (cy < 0 || (a->pre && cx < 0)) {
        fprintf(stderr, "tautune power: %s has no column '%s'\n", a->pilot,
                cy < 0 ? a->outcome : a->pre);
        rc = TT_EXIT_DATA;
    }
    const long cols[2] = {cy, cx};
    for (int k = 0; rc == TT_EXIT_OK && k < 2; k++) {
        if (cols[k] < 0)
            continue;
        const tt_csv_column *c = &t->cols[cols[k]];
        for (size_t i = 0; rc == TT_EXIT_OK && i < t->n_rows; i++)
            if (c->kind != TT_CSV_NUMERIC || c->missing[i]) {
                fprintf(stderr, "tautune power: %s: line %zu: column '%s' must be a number on "
                                "every row\n", a->pilot, t->line[i], c->name);
                rc = TT_EXIT_DATA;
            }
    }
    if (rc == TT_EXIT_OK && t->n_rows < 3) {
        fprintf(stderr, "tautune power: %s has %zu rows; a pilot needs at least 3\n", a->pilot,
                t->n_rows);
        rc = TT_EXIT_DATA;
    }
    if (rc == TT_EXIT_OK) {
        const double *y = t->cols[cy].num, *x = cx >= 0 ? t->cols[cx].num : NULL;
        double n = (double)t->n_rows, my = 0, mx = 0, syy = 0, sxx = 0, sxy = 0;
        for (size_t i = 0; i < t->n_rows; i++)
            my += y[i] / n, mx += x ? x[i] / n : 0;
        for (size_t i = 0; i < t->n_rows; i++) {
            syy += (y[i] - my) * (y[i] - my);
            if (x)
                sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
        }
        a->sd = sqrt(syy / (n - 1)), a->has_sd = 1;
        if (!a->has_mean)
            a->mean = my, a->has_mean = 1;
        if (x && sxx > 0 && syy > 0 && !a->has_rho)
            a->rho = sxy / sqrt(sxx * syy), a->has_rho = 1;
        printf("pilot %s: %zu rows, %s mean %.6g, sd %.6g%s", a->pilot, t->n_rows, a->outcome,
               my, a->sd, x ? "" : "\n");
        if (x)
            printf(", correlation with %s %.4f\n", a->pre, a->rho);
    }
    tt_csv_free(t);
    return rc;
}

int tt_cmd_power(int argc, char **argv)
{
    power_args a;
    if (parse(argc, argv, &a)) {
        fprintf(stderr, "Run `tautune power --help` for the options.\n");
        return TT_EXIT_USAGE;
    }
    int rc;
    if (a.pilot && (rc = pilot(&a)))
        return rc;
    if (a.has_rate) {
        if (!(a.rate > 0 && a.rate < 1)) {
            fprintf(stderr, "tautune power: --rate is a conversion rate in (0, 1), got %g\n",
                    a.rate);
            return TT_EXIT_USAGE;
        }
        a.sd = sqrt(a.rate * (1 - a.rate)), a.has_sd = 1;
        a.mean = a.rate, a.has_mean = 1;
    }
    if (!a.has_sd || !(a.sd > 0)) {
        fprintf(stderr, "tautune power: the outcome's spread is needed: --sd S, --rate P (a "
                        "conversion), or --pilot FILE --outcome COLUMN\n");
        return TT_EXIT_USAGE;
    }
    if (a.has_rel && !a.has_mean) {
        fprintf(stderr, "tautune power: --relative-lift needs the baseline --mean (or --rate, "
                        "or a --pilot)\n");
        return TT_EXIT_USAGE;
    }
    if (a.has_rel)
        a.lift = a.rel * fabs(a.mean), a.has_lift = 1;
    if (!a.has_lift && !a.has_n) {
        fprintf(stderr, "tautune power: give the lift to detect (--lift L or --relative-lift "
                        "R) for rows per group, or --n N for the smallest lift N rows detect\n");
        return TT_EXIT_USAGE;
    }
    if (a.has_rho && !(fabs(a.rho) < 1)) {
        fprintf(stderr, "tautune power: --rho is a correlation in (-1, 1), got %g\n", a.rho);
        return TT_EXIT_USAGE;
    }
    /* Each treated arm against the control: the comparisons share alpha. */
    const int cmp = a.arms - 1;
    const double alpha = a.alpha / cmp;
    printf("two-sample t test (as statsmodels' TTestIndPower), alpha %g%s%s, power %g, groups "
           "1:%g, outcome sd %.6g\n", a.alpha, a.one_sided ? " one-sided" : " two-sided",
           cmp > 1 ? " split over the comparisons (Bonferroni)" : "", a.power, a.ratio, a.sd);
    if (cmp > 1)
        printf("%d treated arms, each against the control at alpha %g\n", cmp, alpha);
    const double sd_c = a.has_rho ? tt_power_cuped_sd(a.sd, a.rho) : NAN;
    char err[256];
    for (int cuped = 0; cuped < (a.has_rho ? 2 : 1); cuped++) {
        const double sd = cuped ? sd_c : a.sd;
        const char *how = cuped ? "with CUPED" : "without CUPED";
        if (a.has_lift) {
            double n1;
            if (tt_power_solve_n(a.lift / sd, a.power, a.ratio, alpha, a.one_sided, &n1, err,
                                 sizeof err) != TT_OK) {
                fprintf(stderr, "tautune power: %s\n", err);
                return TT_EXIT_USAGE;
            }
            double per = ceil(n1 - 1e-9), other = ceil(a.ratio * n1 - 1e-9);
            printf("%s: %.0f rows in the control and %.0f in each treated arm (%.0f in all) "
                   "to detect a lift of %.6g",
                   how, per, other, per + cmp * other, a.lift);
            if (a.has_mean && a.mean != 0)
                printf(" (%.4g %% of the mean %.6g)", 100 * a.lift / fabs(a.mean), a.mean);
            if (cuped)
                printf("; rho %.4f leaves sd %.6g, %.0f %% of the rows", a.rho, sd,
                       100 * (1 - a.rho * a.rho));
            printf("\n");
        }
        if (a.has_n) {
            double d;
            if (tt_power_solve_effect(a.n, a.power, a.ratio, alpha, a.one_sided, &d, err,
                                      sizeof err) != TT_OK) {
                fprintf(stderr, "tautune power: %s\n", err);
                return TT_EXIT_USAGE;
            }
            printf("%s: with %.0f rows in the control, the smallest lift detected is %.6g",
                   how, a.n, d * sd);
            if (a.has_mean && a.mean != 0)
                printf(" (%.4g %% of the mean)", 100 * d * sd / fabs(a.mean));
            printf("\n");
        }
    }
    return TT_EXIT_OK;
}
