/*
 * cmd_explain.c - `tautune explain RUN_DIR`: what a finished run says about
 * its effect - the answer (the estimand), whether the effect varies and
 * which features drive it, the groups, the policy - from RUN_DIR/results.json
 * (report/report.h's tt_report_write_explain), or that part of the JSON with
 * --json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "report/results.h"
#include "report/report.h"

int tt_cli_read_json(const char *path, cJSON **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;
    errno = 0;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0; /* EISDIR for a folder */
    fclose(f);
    if (!buf)
        return ENOMEM;
    if (read_errno) {
        free(buf);
        return read_errno;
    }
    *out = cJSON_ParseWithLength(buf, len);
    free(buf);
    return *out ? 0 : -1;
}

/* dir/results.json parsed, or NULL with a message on stderr. */
cJSON *tt_cli_read_results(const char *dir, const char *cmd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    cJSON *o;
    int rc = tt_cli_read_json(path, &o);
    if (rc == ENOMEM) {
        fprintf(stderr, "tautune %s: out of memory reading %s\n", cmd, path);
        return NULL;
    }
    if (rc > 0) {
        fprintf(stderr, "tautune %s: %s: %s (give a run folder, e.g. runs/NAME)\n", cmd, path,
                strerror(rc));
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        fprintf(stderr, "tautune %s: %s is not a results.json (not a JSON object)\n", cmd, path);
        return NULL;
    }
    return o;
}

int tt_cmd_explain(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "tautune explain: unknown option '%s'\nRun `tautune explain "
                            "--help` for the options.\n", argv[i]);
            return TT_EXIT_USAGE;
        } else if (dir) {
            fprintf(stderr, "tautune explain: more than one run folder ('%s', '%s')\n", dir,
                    argv[i]);
            return TT_EXIT_USAGE;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        fprintf(stderr, "tautune explain: no run folder given\nRun `tautune explain --help` "
                        "for the options.\n");
        return TT_EXIT_USAGE;
    }
    cJSON *r = tt_cli_read_results(dir, "explain");
    if (!r)
        return TT_EXIT_ERROR;
    int rc = TT_EXIT_OK;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        static const char *const keys[] = {"estimand", "insight", "policy"};
        for (size_t k = 0; k < 3; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[k]);
            if (v)
                cJSON_AddItemToObject(o, keys[k], cJSON_Duplicate(v, 1));
        }
        char *text = tt_json_text(o, 1);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else if (!tt_report_write_explain(stdout, r)) {
        fprintf(stderr, "tautune explain: %s/results.json has no estimand, insight or policy "
                        "(a run without a winner, or one made by an older tautune)\n",
                dir);
        rc = TT_EXIT_DATA;
    }
    cJSON_Delete(r);
    return rc;
}
