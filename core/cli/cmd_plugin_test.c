/* cmd_plugin_test.c - `tautune plugin-test PATH.so`: a plugin loaded as the
 * host loads it, then exercised check by check on generated data with known
 * effects (plugin_test.h), one line per check, exit 4 on any FAIL.
 *
 * For plugin authors before they ship, and for the built-ins in CI: what
 * the search would only show as a failed trial (or worse, a wrong winner) is
 * named here with its cause. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "cli/plugin_test.h"
#include "plugin/registry.h"

/* Rows and repetitions: the full test, --quick (CI runs it on every
 * built-in), and the valgrind cycle (valgrind is 20-50x slower). */
static const pt_settings full = {.n_train = 5000, .n_eval = 1000, .n_points = 8, .n_seeds = 5,
                                 .resamples = 0, .timeout = 300};
static const pt_settings quick = {.quick = 1, .n_train = 2000, .n_eval = 500, .n_points = 3,
                                  .n_seeds = 3, .resamples = 20, .timeout = 120};
static const pt_settings cycle = {.n_train = 300, .n_eval = 100, .resamples = 10};

typedef struct pt_args {
    const char *path;
    int quick, valgrind, no_valgrind, cycle;
    unsigned long long seed;
    double timeout;
} pt_args;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tautune plugin-test: ");
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    tt_help_print("plugin-test", stderr);
    return TT_EXIT_USAGE;
}

static int parse(int argc, char **argv, pt_args *a)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char *end;
        if (strcmp(arg, "--quick") == 0) {
            a->quick = 1;
        } else if (strcmp(arg, "--valgrind") == 0) {
            a->valgrind = 1;
        } else if (strcmp(arg, "--no-valgrind") == 0) {
            a->no_valgrind = 1;
        } else if (strcmp(arg, "--cycle") == 0) { /* internal: run under valgrind */
            a->cycle = 1;
        } else if (strcmp(arg, "--seed") == 0 && i + 1 < argc) {
            errno = 0;
            a->seed = strtoull(argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-' || !argv[i][0])
                return usage_error("--seed needs a whole number, got '%s'", argv[i]);
        } else if (strcmp(arg, "--timeout") == 0 && i + 1 < argc) {
            errno = 0;
            a->timeout = strtod(argv[++i], &end);
            if (errno || *end || !(a->timeout > 0) || a->timeout > 86400)
                return usage_error("--timeout needs seconds in (0, 86400], got '%s'", argv[i]);
        } else if (arg[0] != '-' && !a->path) {
            a->path = arg;
        } else {
            return usage_error("unexpected argument '%s'", arg);
        }
    }
    if (!a->path)
        return usage_error("%s", "which plugin? give the path of its .so file");
    if (a->valgrind && a->no_valgrind)
        return usage_error("%s", "--valgrind and --no-valgrind contradict each other");
    return TT_EXIT_OK;
}

/* The file as the host loads it: probed in a child, then dlopened. A
 * refusal is the first line of the table and the end of the test. */
static const tt_plugin_entry *load(tt_registry **reg, const char *path, pt_table *t)
{
    *reg = tt_cli_load_plugin_file(path);
    if (!*reg) {
        fprintf(stderr, "tautune plugin-test: out of memory\n");
        return NULL;
    }
    if (tt_registry_count(*reg) == 1) {
        const tt_plugin_entry *e = tt_registry_at(*reg, 0);
        const tt_plugin_descriptor *d = e->desc;
        char caps[160];
        tt_capabilities_text(d->capabilities, caps, sizeof caps);
        pt_row(t, "load", PT_PASS, "probed in a child, validated, loaded: %s %s, ABI %u.%u "
               "[%s]", d->name, d->version ? d->version : "?", (unsigned)d->abi_major,
               (unsigned)d->abi_minor, caps);
        return e;
    }
    if (tt_registry_reject_count(*reg) > 0)
        pt_row(t, "load", PT_FAIL, "rejected: %s", tt_registry_reject_at(*reg, 0)->why);
    else
        pt_row(t, "load", PT_FAIL, "the plugin could not be probed (see above)");
    return NULL;
}

int tt_cmd_plugin_test(int argc, char **argv)
{
    pt_args a;
    int rc = parse(argc, argv, &a);
    if (rc != TT_EXIT_OK)
        return rc;
    pt_settings s = a.cycle ? cycle : a.quick ? quick : full;
    s.seed = a.seed;
    if (a.timeout > 0)
        s.timeout = a.timeout;
    if (a.cycle)
        return pt_cycle(a.path, &s) == 0 ? TT_EXIT_OK : TT_EXIT_ERROR;
    char valgrind[4096];
    int want_vg = a.valgrind || (!a.quick && !a.no_valgrind);
    int have_vg = want_vg && pt_find_valgrind(valgrind, sizeof valgrind) == 0;
    if (a.valgrind && !have_vg) {
        fprintf(stderr, "tautune plugin-test: --valgrind: no valgrind on PATH\n");
        return TT_EXIT_USAGE;
    }
    printf("plugin-test %s%s: %zu training rows, %zu new rows, seed %llu\n", a.path,
           a.quick ? " (--quick)" : "", s.n_train, s.n_eval, a.seed);
    fflush(stdout);
    pt_table t = {0};
    tt_registry *reg = NULL;
    const tt_plugin_entry *e = load(&reg, a.path, &t);
    if (!reg)
        return TT_EXIT_ERROR;
    if (e && pt_run_checks(e->desc, &s, &t) != 0) {
        tt_registry_free(reg);
        return TT_EXIT_ERROR;
    }
    pt_settings vs = cycle;
    vs.seed = a.seed;
    if (e && have_vg)
        pt_valgrind_check(valgrind, a.path, &vs, &t);
    else if (e)
        pt_row(&t, "valgrind", PT_SKIP, "%s", !want_vg ? (a.no_valgrind ? "--no-valgrind"
                                                          : "--quick (add --valgrind)")
                                                       : "no valgrind on PATH");
    printf("\n%s: %zu passed, %zu failed, %zu skipped\n", e ? e->desc->name : a.path, t.passed,
           t.failed, t.skipped);
    tt_registry_free(reg);
    return t.failed ? TT_EXIT_PLUGIN : TT_EXIT_OK;
}
