/* cmd_plugins.c - `tautune plugins [NAME]`: what is installed and what it
 * takes; `tautune plugins --learners`: the host's learners a plugin can use. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "cli/learner_catalogue.h"
#include "plugin/conditions.h"
#include "plugin/host_boot.h"

static void print_param(const tt_plugin_descriptor *d, size_t index)
{
    const tt_plugin_param *p = &d->params[index];
    char range[128] = "";
    char def[128];
    switch (p->kind) {
    case TT_PARAM_INT:
    case TT_PARAM_REAL:
    case TT_PARAM_LOG_REAL:
        snprintf(range, sizeof range, "[%g, %g]", p->lo, p->hi);
        snprintf(def, sizeof def, "%g", p->default_value);
        break;
    case TT_PARAM_BOOL:
        snprintf(def, sizeof def, "%s", p->default_value != 0 ? "true" : "false");
        break;
    case TT_PARAM_CHOICE: {
        size_t off = 0;
        for (size_t i = 0; p->choices[i] && off < sizeof range; i++)
            off += (size_t)snprintf(range + off, sizeof range - off, "%s%s", i ? "|" : "{",
                                    p->choices[i]);
        if (off < sizeof range)
            snprintf(range + off, sizeof range - off, "}");
        snprintf(def, sizeof def, "%s", p->choices[(size_t)p->default_value]);
        break;
    }
    }
    char when[256];
    tt_param_condition_text(d, index, when, sizeof when);
    printf("    %-16s %-8s %-22s default %-10s %s%s%s%s\n", p->name, tt_param_kind_name(p->kind),
           range, def, p->help ? p->help : "", when[0] ? " (" : "", when, when[0] ? ")" : "");
}

static void print_plugin(const tt_plugin_entry *e)
{
    const tt_plugin_descriptor *d = e->desc;
    char caps[128];
    tt_capabilities_text(d->capabilities, caps, sizeof caps);
    printf("%s %s  [%s]  ABI %u.%u\n", d->name, d->version ? d->version : "?", caps,
           (unsigned)d->abi_major, (unsigned)d->abi_minor);
    if (d->summary)
        printf("    %s\n", d->summary);
    printf("    file: %s\n", e->path);
    const char *method = tt_plugin_interval_method(d);
    const char *avg = tt_plugin_average_method(d);
    if (method && (d->capabilities & TT_PLUGIN_CAP_INTERVALS))
        printf("    intervals: %s\n", method);
    else if (tt_host_boot_applies(d))
        printf("    intervals: bootstrap by the host (normal, refits on resamples; the plugin "
               "has none of its own)\n");
    else if (!(d->capabilities & TT_PLUGIN_CAP_INTERVALS))
        printf("    intervals: none (the plugin has none, and it reads the run's nuisance "
               "models, which a resample would misalign)\n");
    if (tt_plugin_average_effect(d) && avg)
        printf("    average effect: with its own interval (%s)\n", avg);
    const char *oob = tt_plugin_average_oob_method(d);
    if (tt_plugin_average_effect_oob(d))
        printf("    out-of-bag average effect on the training rows: %s\n",
               oob ? oob : "(method not named)");
    if (d->n_params == 0)
        printf("    (no hyperparameters)\n");
    for (size_t i = 0; i < d->n_params; i++)
        print_param(d, i);
}

/* Refused files are part of the listing (stdout), after the plugins: a
 * file someone installed and that does not show up needs its reason. */
static void print_rejects(const tt_registry *reg)
{
    size_t n = tt_registry_reject_count(reg);
    if (n)
        printf("\nrejected: %zu file%s on the plugin path, not loaded\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const tt_plugin_reject *r = tt_registry_reject_at(reg, i);
        printf("%s\n    %s\n", r->path, r->why);
    }
}

int tt_cmd_plugins(int argc, char **argv)
{
    tt_plugin_paths paths = {.n = 0};
    const char *name = NULL;
    int learners = 0, markdown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            tt_help_print("plugins", stdout);
            return TT_EXIT_OK;
        } else if (strcmp(argv[i], "--learners") == 0) {
            learners = 1;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            markdown = 1;
        } else if (strcmp(argv[i], "--plugin-path") == 0 && i + 1 < argc) {
            if (paths.n < sizeof paths.dirs / sizeof paths.dirs[0])
                paths.dirs[paths.n++] = argv[++i];
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            fprintf(stderr, "tautune plugins: unexpected argument '%s'\n", argv[i]);
            tt_help_print("plugins", stderr);
            return TT_EXIT_USAGE;
        }
    }
    if (markdown && !learners) {
        fprintf(stderr, "tautune plugins: --markdown goes with --learners\n");
        return TT_EXIT_USAGE;
    }
    if (learners && (name || paths.n)) {
        fprintf(stderr, "tautune plugins: --learners lists the host's learners; it takes no "
                        "plugin name or --plugin-path\n");
        return TT_EXIT_USAGE;
    }
    /* The catalogue is the core's own tables: no plugin is loaded for it. */
    if (learners) {
        tt_cli_print_learners(stdout, markdown);
        return TT_EXIT_OK;
    }
    tt_registry *reg = tt_cli_load_plugins(&paths, 1);
    if (!reg) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    if (name) {
        const tt_plugin_entry *e = tt_registry_find(reg, name);
        const tt_plugin_reject *r = e ? NULL : tt_registry_find_reject(reg, name);
        if (e) {
            print_plugin(e);
        } else if (r) {
            fprintf(stderr, "tautune plugins: plugin '%s' cannot be used: %s: rejected: %s\n",
                    name, r->path, r->why);
            rc = TT_EXIT_PLUGIN;
        } else {
            const char *near = tt_cli_closest_plugin(reg, name);
            fprintf(stderr, "tautune plugins: no plugin named '%s'%s%s%s\n", name,
                    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
            rc = TT_EXIT_PLUGIN;
        }
    } else {
        if (tt_registry_count(reg) == 0)
            fprintf(stderr, "tautune plugins: no plugins found on the plugin path\n");
        for (size_t i = 0; i < tt_registry_count(reg); i++)
            print_plugin(tt_registry_at(reg, i));
        print_rejects(reg);
    }
    tt_registry_free(reg);
    return rc;
}
