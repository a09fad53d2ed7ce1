/* config_load.c - reading the config for the commands that take one (run,
 * check, score, abtest): the prelude from the scripts folder next to the
 * binary, the message on failure, and Ctrl-C during evaluation. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lua/sandbox.h"
#include "util/paths.h"

/* Lua cannot be stopped from a signal handler directly; the sandbox polls
 * the flag this sets (within milliseconds, in C string work too). */
static void on_interrupt(int sig)
{
    (void)sig;
    tt_sandbox_interrupt();
}

int tt_cli_load_config(const char *path, tt_config **out)
{
    char err[2048], scripts[4096];
    const char *scripts_dir = tt_default_scripts_dir(scripts, sizeof scripts) == 0 &&
                                      tt_is_dir(scripts) ? scripts : NULL;
    /* The command's own handlers (run has some) come back afterwards; a
     * second Ctrl-C during the evaluation kills at once (SA_RESETHAND). */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    tt_sandbox_interrupt_reset();
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    tt_status st = tt_config_load(path, scripts_dir, out, err, sizeof err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    /* A signal may also have come while the file was read (a read that
     * then failed with EINTR) or after the last Lua call. */
    if (st == TT_ERR_STOPPED || tt_sandbox_interrupted()) {
        tt_config_free(*out);
        *out = NULL;
        if (st == TT_ERR_STOPPED)
            fprintf(stderr, "tautune: %s\n", err);
        else
            fprintf(stderr, "tautune: %s: interrupted\n", path);
        return TT_EXIT_INTERRUPTED;
    }
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s\n", err);
        return TT_EXIT_USAGE;
    }
    return TT_EXIT_OK;
}
