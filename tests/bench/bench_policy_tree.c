/*
 * bench_policy_tree.c - times the exact policy tree search
 * (insight/policy_tree.h) and its brute-force reference on the same data
 * (driven by tests/bench/policy_tree).
 *
 *   bench_policy_tree [--rows N] [--features P] [--actions K] [--depth D]
 *                     [--min M] [--step S] [--seed S] [--side fast|brute|both]
 *                     [--dump FILE] [--show 1]
 *
 * Data: x1..xP, where every third feature is an integer 0..9 (ties, as in
 * age or income brackets) and the rest N(0, 1); rewards look like AIPW
 * scores: a smooth arm mean plus heavy noise,
 *   G[., 0] = N(0, 4),
 *   G[., 1] = 0.5 (x1 > 0.3) - 0.25 + 0.2 x2 + N(0, 4),
 *   G[., a] = 0.3 x_{a+1} - 0.1 a + N(0, 4) for a >= 2.
 * Prints one line per side run:
 *   RESULT side=fast n=.. p=.. k=.. depth=.. seconds=.. cpu=.. value=.. nodes=..
 * --side both runs the two on the same data and exits 1 (after printing)
 * when the values differ by more than 1e-12 relative. --dump writes the data
 * as CSV (x1..xP, g0..g{K-1}, %.17g) for policy_tree_reference.py.
 * --show 1 prints our tree's rules and JSON after its RESULT line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "insight/policy_tree.h"
#include "util/rng.h"
#include "util/clock.h"

static void generate(size_t n, size_t p, size_t k, uint64_t seed, double *x, double *g)
{
    tt_rng r;
    tt_rng_seed(&r, seed, "bench-policy-tree");
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            x[j * n + i] = j % 3 == 2 ? (double)tt_rng_below(&r, 10) : tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        const double x1 = x[i], x2 = p > 1 ? x[n + i] : 0.0;
        for (size_t a = 0; a < k; a++) {
            double mu = 0.0;
            if (a == 1)
                mu = 0.5 * (x1 > 0.3) - 0.25 + 0.2 * x2;
            else if (a >= 2)
                mu = (a + 1 < p ? 0.3 * x[(a + 1) * n + i] : 0.0) - 0.1 * (double)a;
            g[a * n + i] = mu + 2.0 * tt_rng_normal(&r);
        }
    }
}

static int run(const char *side, size_t n, size_t p, size_t k, const double *x, const double *g,
               const tt_policy_tree_options *o, int show, double *value)
{
    char err[256] = "";
    tt_policy_tree *t = NULL;
    const int brute = strcmp(side, "brute") == 0;
    const double w0 = tt_now(), c0 = tt_cpu_now();
    tt_status st = brute ? tt_policy_tree_fit_brute(n, p, x, k, g, o, &t, err, sizeof err)
                         : tt_policy_tree_fit(n, p, x, k, g, o, &t, err, sizeof err);
    const double wall = tt_now() - w0, cpu = tt_cpu_now() - c0;
    if (st != TT_OK) {
        fprintf(stderr, "bench_policy_tree: %s: %s\n", side, err);
        return 1;
    }
    *value = tt_policy_tree_value(t);
    printf("RESULT side=%s n=%zu p=%zu k=%zu depth=%d seconds=%.4f cpu=%.4f value=%.17g "
           "nodes=%zu\n",
           side, n, p, k, o->depth, wall, cpu, *value, tt_policy_tree_n_nodes(t));
    if (show && !brute) {
        if (tt_policy_tree_write_rules(t, NULL, NULL, stdout, err, sizeof err) != TT_OK)
            fprintf(stderr, "bench_policy_tree: %s\n", err);
        cJSON *j = tt_policy_tree_to_json(t, NULL, NULL);
        char *text = j ? cJSON_Print(j) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(j);
    }
    fflush(stdout);
    tt_policy_tree_free(t);
    return 0;
}

static int dump(const char *path, size_t n, size_t p, size_t k, const double *x, const double *g)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    for (size_t j = 0; j < p; j++)
        fprintf(f, "x%zu,", j + 1);
    for (size_t a = 0; a < k; a++)
        fprintf(f, "g%zu%s", a, a + 1 < k ? "," : "\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            fprintf(f, "%.17g,", x[j * n + i]);
        for (size_t a = 0; a < k; a++)
            fprintf(f, "%.17g%s", g[a * n + i], a + 1 < k ? "," : "\n");
    }
    return fclose(f) != 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_policy_tree [--rows N] [--features P] [--actions K] "
                    "[--depth D] [--min M] [--step S] [--seed S] [--side fast|brute|both] "
                    "[--dump FILE] [--show 1]\n");
}

int main(int argc, char **argv)
{
    size_t n = 10000, p = 10, k = 3;
    unsigned long long seed = 1;
    const char *side = "fast", *dump_path = NULL;
    int show = 0;
    tt_policy_tree_options o;
    tt_policy_tree_options_init(&o);
    for (int a = 1; a < argc; a++) {
        if (a + 1 >= argc) {
            usage();
            return 2;
        }
        const char *key = argv[a], *val = argv[++a];
        if (strcmp(key, "--rows") == 0)
            n = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "--features") == 0)
            p = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "--actions") == 0)
            k = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "--depth") == 0)
            o.depth = atoi(val);
        else if (strcmp(key, "--min") == 0)
            o.min_node_size = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "--step") == 0)
            o.split_step = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "--seed") == 0)
            seed = strtoull(val, NULL, 10);
        else if (strcmp(key, "--side") == 0)
            side = val;
        else if (strcmp(key, "--dump") == 0)
            dump_path = val;
        else if (strcmp(key, "--show") == 0)
            show = atoi(val);
        else {
            usage();
            return 2;
        }
    }
    if (strcmp(side, "fast") != 0 && strcmp(side, "brute") != 0 && strcmp(side, "both") != 0) {
        usage();
        return 2;
    }
    double *x = malloc(n * (p ? p : 1) * sizeof *x), *g = malloc(n * (k ? k : 1) * sizeof *g);
    if (!x || !g) {
        fprintf(stderr, "bench_policy_tree: out of memory\n");
        return 1;
    }
    generate(n, p, k, seed, x, g);
    if (dump_path && dump(dump_path, n, p, k, x, g)) {
        fprintf(stderr, "bench_policy_tree: cannot write %s\n", dump_path);
        return 1;
    }
    int rc = 0;
    double vf = 0.0, vb = 0.0;
    if (strcmp(side, "brute") != 0)
        rc |= run("fast", n, p, k, x, g, &o, show, &vf);
    if (strcmp(side, "fast") != 0)
        rc |= run("brute", n, p, k, x, g, &o, show, &vb);
    if (rc == 0 && strcmp(side, "both") == 0) {
        const int agree = fabs(vf - vb) <= 1e-12 * fmax(1.0, fabs(vb));
        printf("AGREE %d fast=%.17g brute=%.17g\n", agree, vf, vb);
        rc = !agree;
    }
    free(x), free(g);
    return rc;
}
