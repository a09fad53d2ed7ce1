/*
 * cmd_policy.c - `tautune policy RUN_DIR [--depth D] [--cost C,...]`: the
 * exact policy tree over a finished run's doubly robust rewards
 * (RUN_DIR/dr_scores.csv, written by the run: per out-of-sample row its
 * features, the AIPW reward of every arm and the winner's effects), learnt
 * on half of the rows and valued on the other half against treating no one,
 * everyone, and the greedy policy of the winner's effects
 * (insight/policy_eval.h). Prints the rules and the values and writes
 * policy.json and policy.txt (RUN_DIR, or --out DIR); `tautune predict
 * --policy policy.json` applies it to new rows.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "data/csv.h"
#include "insight/policy_eval.h"
#include "util/rng.h"

typedef struct policy_args {
    const char *dir, *out;
    int depth;
    double min_leaf;
    double costs[64];
    size_t n_costs;
    unsigned long long seed;
    int has_seed;
} policy_args;

static int parse(int argc, char **argv, policy_args *a)
{
    memset(a, 0, sizeof *a);
    a->depth = 2;
    a->min_leaf = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (arg[0] != '-') {
            if (a->dir) {
                fprintf(stderr, "tautune policy: more than one run folder ('%s', '%s')\n",
                        a->dir, arg);
                return -1;
            }
            a->dir = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune policy: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        i++;
        if (strcmp(arg, "--depth") == 0) {
            long d = strtol(val, &end, 10);
            if (*end || d < 0 || d > 3) {
                fprintf(stderr, "tautune policy: --depth expects 0, 1, 2 or 3 (3 can take "
                                "minutes beyond a thousand rows), got '%s'\n", val);
                return -1;
            }
            a->depth = (int)d;
        } else if (strcmp(arg, "--min-leaf") == 0) {
            a->min_leaf = strtod(val, &end);
            if (*end || !(a->min_leaf > 0 && a->min_leaf <= 0.5)) {
                fprintf(stderr, "tautune policy: --min-leaf expects a share in (0, 0.5], got "
                                "'%s'\n", val);
                return -1;
            }
        } else if (strcmp(arg, "--cost") == 0) {
            const char *p = val;
            a->n_costs = 0;
            while (*p && a->n_costs < 64) {
                double c = strtod(p, &end);
                if (end == p || !isfinite(c)) {
                    fprintf(stderr, "tautune policy: --cost expects numbers separated by "
                                    "commas (one per treated arm), got '%s'\n", val);
                    return -1;
                }
                a->costs[a->n_costs++] = c;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',') {
                    fprintf(stderr, "tautune policy: --cost: unexpected '%s'\n", end);
                    return -1;
                }
            }
        } else if (strcmp(arg, "--seed") == 0) {
            a->seed = strtoull(val, &end, 10);
            if (*end) {
                fprintf(stderr, "tautune policy: --seed expects a whole number\n");
                return -1;
            }
            a->has_seed = 1;
        } else if (strcmp(arg, "--out") == 0) {
            a->out = val;
        } else {
            fprintf(stderr, "tautune policy: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->dir) {
        fprintf(stderr, "tautune policy: no run folder given\n");
        return -1;
    }
    return 0;
}

/* A column of t as doubles (numeric, no gaps), or NULL with a message. */
static const double *numbers(const tt_csv_table *t, size_t c)
{
    const tt_csv_column *col = &t->cols[c];
    if (col->kind != TT_CSV_NUMERIC) {
        fprintf(stderr, "tautune policy: %s: column '%s' is not numeric\n", t->path, col->name);
        return NULL;
    }
    for (size_t i = 0; i < t->n_rows; i++)
        if (col->missing[i]) {
            fprintf(stderr, "tautune policy: %s: line %zu: column '%s' is empty\n", t->path,
                    t->line[i], col->name);
            return NULL;
        }
    return col->num;
}

int tt_cmd_policy(int argc, char **argv)
{
    policy_args a;
    if (parse(argc, argv, &a) != 0) {
        fprintf(stderr, "Run `tautune policy --help` for the options.\n");
        return TT_EXIT_USAGE;
    }
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/dr_scores.csv", a.dir);
    tt_csv_table *t = NULL;
    if (tt_csv_read_opts(path, NULL, &t, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune policy: %s (a run folder of a run with arms and a winner has "
                        "dr_scores.csv)\n", err);
        return TT_EXIT_DATA;
    }
    /* Columns: row, the features, reward_<arm> per arm, tau_<arm> per treated arm. */
    size_t m = t->n_rows, p = 0, k = 0, nt = 0;
    size_t *xc = calloc(t->n_cols + 1, sizeof *xc), *rc = calloc(t->n_cols + 1, sizeof *rc);
    size_t *tc = calloc(t->n_cols + 1, sizeof *tc);
    const char **xn = calloc(t->n_cols + 1, sizeof *xn), **an = calloc(t->n_cols + 1, sizeof *an);
    double *x = NULL, *reward = NULL, *tau = NULL, cost[65] = {0};
    int rcode = TT_EXIT_DATA;
    tt_policy_eval e = {0};
    cJSON *json = NULL;
    if (!xc || !rc || !tc || !xn || !an)
        goto done;
    for (size_t c = 0; c < t->n_cols; c++) {
        const char *name = t->cols[c].name;
        if (strcmp(name, "row") == 0)
            continue;
        if (strncmp(name, "reward_", 7) == 0)
            rc[k] = c, an[k++] = name + 7;
        else if (strncmp(name, "tau_", 4) == 0)
            tc[nt++] = c;
        else
            xc[p] = c, xn[p++] = name;
    }
    if (k < 2 || p == 0 || (nt && nt != k - 1)) {
        fprintf(stderr, "tautune policy: %s has %zu reward columns and %zu features; a run with "
                        "arms writes one reward per arm (a continuous treatment has no policy "
                        "tree)\n", path, k, p);
        goto done;
    }
    if (a.n_costs && a.n_costs != k - 1) {
        fprintf(stderr, "tautune policy: --cost has %zu values; the run has %zu treated arms\n",
                a.n_costs, k - 1);
        rcode = TT_EXIT_USAGE;
        goto done;
    }
    for (size_t j = 0; j < a.n_costs; j++)
        cost[j + 1] = a.costs[j];
    x = malloc(sizeof *x * (m * p + 1));
    reward = malloc(sizeof *reward * (m * k + 1));
    tau = nt ? malloc(sizeof *tau * (m * nt + 1)) : NULL;
    if (!x || !reward || (nt && !tau)) {
        rcode = TT_EXIT_ERROR;
        goto done;
    }
    struct { size_t *cols, n; double *dst; } blocks[] = {{xc, p, x}, {rc, k, reward},
                                                          {tc, nt, tau}};
    for (size_t b = 0; b < 3; b++)
        for (size_t j = 0; j < blocks[b].n; j++) {
            const double *v = numbers(t, blocks[b].cols[j]);
            if (!v)
                goto done;
            memcpy(blocks[b].dst + j * m, v, sizeof(double) * m);
        }
    tt_policy_eval_options opt;
    tt_policy_eval_options_init(&opt);
    opt.depth = a.depth;
    opt.min_leaf_share = a.min_leaf;
    opt.seed = a.has_seed ? tt_rng_derive(a.seed, "policy") : tt_rng_derive(0, "policy");
    if (a.depth == 3 && m > 1000)
        fprintf(stderr, "tautune policy: depth 3 on %zu rows: the exact search grows as rows "
                        "squared and may take minutes\n", m / 2);
    if (tt_policy_evaluate(m, p, x, k, reward, cost, tau, &opt, &e, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune policy: %s: %s\n", path, err);
        goto done;
    }
    const char *out = a.out ? a.out : a.dir;
    if (a.out && mkdir(a.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "tautune policy: --out %s: %s\n", a.out, strerror(errno));
        rcode = TT_EXIT_ERROR;
        goto done;
    }
    json = tt_run_policy_json(&e, xn, an, k, out);
    if (!json || !cJSON_GetObjectItemCaseSensitive(json, "file")) {
        fprintf(stderr, "tautune policy: cannot write %s/policy.json\n", out);
        rcode = TT_EXIT_ERROR;
        goto done;
    }
    printf("Policy tree (depth %d, fitted on %zu rows, valued on %zu held-out rows; leaves of "
           "at least %zu rows):\n%s\n", e.depth, e.n_fit, e.n_eval, e.min_leaf,
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "rules")));
    printf("%-38s %14s %12s\n", "policy (value per row, net of costs)", "value", "s.e.");
    printf("%-38s %14.6g %12.4g\n", "the tree", e.policy.value, e.policy.se);
    printf("%-38s %14.6g %12.4g\n", "treat no one", e.no_one.value, e.no_one.se);
    char everyone[128];
    snprintf(everyone, sizeof everyone, "everyone arm '%s'", an[e.everyone_arm]);
    printf("%-38s %14.6g %12.4g\n", everyone, e.everyone.value, e.everyone.se);
    if (e.has_greedy)
        printf("%-38s %14.6g %12.4g\n", "greedy (each row its best estimate)", e.greedy.value,
               e.greedy.se);
    printf("gain of the tree: %.6g (s.e. %.4g) over no one, %.6g (s.e. %.4g) over everyone%s",
           e.gain_no_one.value, e.gain_no_one.se, e.gain_everyone.value, e.gain_everyone.se,
           e.has_greedy ? "" : "\n");
    if (e.has_greedy)
        printf(", %.6g (s.e. %.4g) over greedy\n", e.gain_greedy.value, e.gain_greedy.se);
    printf("Written: %s/policy.json, %s/policy.txt\n", out, out);
    rcode = TT_EXIT_OK;
done:
    if (rcode == TT_EXIT_ERROR && !json && !x)
        fprintf(stderr, "tautune policy: out of memory\n");
    cJSON_Delete(json);
    tt_policy_eval_free(&e);
    free(xc), free(rc), free(tc), free(xn), free(an), free(x), free(reward), free(tau);
    tt_csv_free(t);
    return rcode;
}
