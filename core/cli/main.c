/* main.c - the `tautune` command: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "tautune/plugin.h"
#include "tautune/tautune.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", tt_cmd_run},         {"check", tt_cmd_check},     {"plugins", tt_cmd_plugins},
    {"gen", tt_cmd_gen},         {"score", tt_cmd_score},     {"predict", tt_cmd_predict},
    {"explain", tt_cmd_explain}, {"policy", tt_cmd_policy},   {"power", tt_cmd_power},
    {"abtest", tt_cmd_abtest},   {"assign", tt_cmd_assign},   {"help", tt_cmd_help},
    {"plugin-test", tt_cmd_plugin_test},
};

/* `tautune COMMAND ... --help` prints the command's text from help.c, so
 * what a user sees is what docs/cli.md says, whatever the command's own
 * parser does. `help --help` is left to tt_cmd_help. */
static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tt_help_overview(stderr);
        return TT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        cmd = "help";
    if (strcmp(cmd, "help") != 0 && wants_help(argc, argv) && tt_help_print(cmd, stdout) == 0)
        return TT_EXIT_OK;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0) {
        printf("tautune %s (plugin ABI %d.%d, build tag %s, results schema %d)\n",
               TT_VERSION_STRING, TT_PLUGIN_ABI_MAJOR, TT_PLUGIN_ABI_MINOR, TT_PLUGIN_BUILD_TAG,
               TT_RESULTS_SCHEMA_VERSION);
        return TT_EXIT_OK;
    }
    fprintf(stderr, "tautune: unknown command '%s'\n\n", cmd);
    tt_help_overview(stderr);
    return TT_EXIT_USAGE;
}
