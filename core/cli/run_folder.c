/* run_folder.c - the run folder of `tautune run`: a new one, or the one of
 * the run being resumed with its finished trials read back (run.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/run.h"
#include "report/trials_read.h"
#include "util/paths.h"

/* runs/<name>-<UTC time>, with -2, -3 ... if that folder exists. */
static int make_out_dir(const run_state *s, const char *given, char *dir, size_t len)
{
    if (given) {
        snprintf(dir, len, "%s", given);
    } else {
        tt_cli_default_dir(s->cfg->name, dir, len);
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/trials.jsonl", dir);
    if (access(probe, F_OK) == 0) {
        fprintf(stderr, "tautune: %s already holds a run; continue it with --resume %s, or "
                        "choose another --out\n", dir, dir);
        return TT_EXIT_USAGE;
    }
    if (tt_mkdir_p(dir) != 0) {
        fprintf(stderr, "tautune: cannot create run folder %s: %s\n", dir, strerror(errno));
        return TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

int tt_run_open_folder(run_state *s, const run_args *a, char *dir, size_t len)
{
    char path[4200], err[1024];
    int rc;
    if (a->resume) {
        snprintf(dir, len, "%s", a->resume);
        snprintf(path, sizeof path, "%s/trials.jsonl", dir);
        tt_trials_tail tail;
        if (tt_trials_read(path, s->cfg, s->descs, &s->prior, &s->n_prior, &tail, err,
                           sizeof err) != TT_OK) {
            fprintf(stderr, "tautune: cannot resume: %s\n", err);
            return TT_EXIT_USAGE;
        }
        /* Always said, --quiet or not: a record is being thrown away. */
        if (tail.torn_line)
            fprintf(stderr, "tautune: warning: %s:%zu: the last line was cut short (%zu bytes, "
                            "no complete trial: a crash while it was written?); dropped it\n",
                    path, tail.torn_line, tail.torn_bytes);
        if (!s->quiet)
            fprintf(stderr, "tautune: resuming %s: %zu finished trials kept\n", dir, s->n_prior);
        if (tt_trials_reopen(path, &tail, &s->trials_fp, err, sizeof err) != TT_OK) {
            fprintf(stderr, "tautune: cannot resume: %s\n", err);
            return TT_EXIT_ERROR;
        }
    } else {
        if ((rc = make_out_dir(s, a->out ? a->out : s->cfg->out_dir, dir, len)))
            return rc;
        snprintf(path, sizeof path, "%s/config.lua", dir);
        if (copy_file(s->cfg->path, path) != 0)
            fprintf(stderr, "tautune: warning: could not copy the config into %s\n", dir);
        snprintf(path, sizeof path, "%s/trials.jsonl", dir);
        s->trials_fp = fopen(path, "w");
    }
    if (!s->trials_fp) {
        fprintf(stderr, "tautune: cannot write %s: %s\n", path, strerror(errno));
        return TT_EXIT_ERROR;
    }
    return TT_EXIT_OK;
}
