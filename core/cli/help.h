/*
 * help.h - the usage text of every `tautune` command, in one table.
 *
 * `tautune COMMAND --help`, `tautune help [COMMAND]` and docs/cli.md (the
 * output of `tautune help --markdown`) all print from this table, so the
 * documentation cannot say something the binary does not.
 */
#ifndef TT_CLI_HELP_H
#define TT_CLI_HELP_H

#include <stdio.h>

typedef struct tt_help_entry {
    const char *name;     /* the command word: "run", "check", ... */
    const char *synopsis; /* one line for the command list */
    /* The full usage text as `COMMAND --help` prints it. */
    void (*print)(FILE *out);
} tt_help_entry;

/* The table, in the order `tautune help` lists it; *n receives its length. */
const tt_help_entry *tt_help_table(size_t *n);

/* Entry by command word, or NULL. */
const tt_help_entry *tt_help_find(const char *name);

/* Print a command's usage text; -1 when no command has that name. */
int tt_help_print(const char *name, FILE *out);

/* The command list with the program version (`tautune`, `tautune help`). */
void tt_help_overview(FILE *out);

/* The exit-code list every command shares ("  0  success" lines). */
void tt_help_exit_codes(FILE *out);

/* Markdown for docs/cli.md: every command's usage text and the exit codes. */
void tt_help_markdown(FILE *out);

/* `tautune help [COMMAND | --markdown]`. */
int tt_cmd_help(int argc, char **argv);

#endif
