/* main.c - the `tautune` command: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "tautune/plugin.h"
#include "tautune/tautune.h"

static void usage(FILE *out)
{
    fprintf(out,
            "tautune %s - find the best causal-effect estimator for a data set\n"
            "\n"
            "Usage:\n"
            "  tautune run CONFIG.lua [options]   search estimators, write a run folder\n"
            "  tautune plugins [NAME] [options]   list plugins, or one plugin's schema\n"
            "  tautune gen NAME --out FILE.csv    write a synthetic data set (generators)\n"
            "  tautune score CONFIG.lua --cate F  score effects made by any tool (JSON)\n"
            "  tautune predict MODEL --data F     apply a run's winner (model.ttm) to new rows\n"
            "  tautune version                    program and plugin ABI versions\n"
            "  tautune help                       this text\n"
            "\n"
            "Run `tautune COMMAND --help` for a command's options.\n",
            TT_VERSION_STRING);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return tt_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "plugins") == 0)
        return tt_cmd_plugins(argc - 1, argv + 1);
    if (strcmp(cmd, "gen") == 0)
        return tt_cmd_gen(argc - 1, argv + 1);
    if (strcmp(cmd, "score") == 0)
        return tt_cmd_score(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0)
        return tt_cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tautune %s (plugin ABI %d.%d, build tag %s, results schema %d)\n",
               TT_VERSION_STRING, TT_PLUGIN_ABI_MAJOR, TT_PLUGIN_ABI_MINOR, TT_PLUGIN_BUILD_TAG,
               TT_RESULTS_SCHEMA_VERSION);
        return TT_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return TT_EXIT_OK;
    }
    fprintf(stderr, "tautune: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return TT_EXIT_USAGE;
}
