/* cmd_gen.c - `tautune gen`: write a synthetic data set (data/gen.h) as CSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "data/gen.h"

static int parse_count(const char *opt, const char *v, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi) {
        fprintf(stderr, "tautune gen: %s expects an integer in [%llu, %llu], got '%s'\n", opt, lo,
                hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

int tt_cmd_gen(int argc, char **argv)
{
    tt_gen_options opt;
    tt_gen_options_init(&opt);
    const char *name = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            tt_help_print("gen", stdout);
            return TT_EXIT_OK;
        }
        if (arg[0] != '-') {
            if (name) {
                fprintf(stderr, "tautune gen: more than one generator given\n");
                return TT_EXIT_USAGE;
            }
            name = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune gen: unknown option or missing value: '%s'\n", arg);
            return TT_EXIT_USAGE;
        }
        i++;
        if (!strcmp(arg, "--out")) {
            out = val;
        } else if (!strcmp(arg, "--rows")) {
            if (parse_count(arg, val, 10, 1000000000ull, &n))
                return TT_EXIT_USAGE;
            opt.rows = (size_t)n;
        } else if (!strcmp(arg, "--seed")) {
            if (parse_count(arg, val, 0, 9000000000000000000ull, &n))
                return TT_EXIT_USAGE;
            opt.seed = n;
        } else if (!strcmp(arg, "--arms")) {
            if (parse_count(arg, val, 2, 16, &n))
                return TT_EXIT_USAGE;
            opt.arms = (int)n;
        } else if (!strcmp(arg, "--x")) {
            if (parse_count(arg, val, 2, 10000, &n))
                return TT_EXIT_USAGE;
            opt.p_x = (size_t)n;
        } else {
            fprintf(stderr, "tautune gen: unknown option '%s'\n", arg);
            return TT_EXIT_USAGE;
        }
    }
    if (!name || !out) {
        fprintf(stderr, "tautune gen: %s\n\n",
                !name ? "no generator named" : "--out FILE is required");
        tt_help_print("gen", stderr);
        return TT_EXIT_USAGE;
    }
    char err[1024];
    tt_dataset *ds = NULL;
    tt_status st = tt_gen_generate(name, &opt, &ds, err, sizeof err);
    if (st != TT_OK) {
        fprintf(stderr, "tautune gen: %s\n", err);
        return st == TT_ERR_CONFIG ? TT_EXIT_USAGE : TT_EXIT_ERROR;
    }
    FILE *fp = strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!fp) {
        fprintf(stderr, "tautune gen: cannot write %s: %s\n", out, strerror(errno));
        tt_dataset_free(ds);
        return TT_EXIT_ERROR;
    }
    st = tt_gen_write_csv(ds, fp, err, sizeof err);
    tt_dataset_free(ds);
    if ((fp != stdout && fclose(fp) != 0) || (fp == stdout && fflush(fp) != 0))
        st = st ? st : TT_ERR_IO;
    if (st != TT_OK) {
        fprintf(stderr, "tautune gen: cannot write %s\n", out);
        return TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}
