/* cate.c - per-row effects as CSV (cate.h). */
#include "report/cate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

static void put_text(FILE *fp, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static void put_prefixed(FILE *fp, const char *prefix, const char *label)
{
    size_t len = strlen(prefix) + strlen(label) + 1;
    char *name = malloc(len);
    if (!name)
        return;
    snprintf(name, len, "%s%s", prefix, label);
    fputc(',', fp);
    put_text(fp, name);
    free(name);
}

static void write_rows(FILE *fp, const tt_cate_rows *r)
{
    int intervals = r->lo && r->hi;
    fputs("row", fp);
    if (r->id_name) {
        fputc(',', fp);
        put_text(fp, r->id_name);
    }
    if (r->t_value) {
        fputc(',', fp);
        put_text(fp, r->t_name ? r->t_name : "treatment");
    } else if (r->t) {
        fputs(",arm", fp);
    }
    if (r->is_valid)
        fputs(",split", fp);
    for (int k = 1; k < r->n_arms; k++) {
        put_prefixed(fp, "tau_", r->arm_labels[k]);
        if (intervals) {
            put_prefixed(fp, "lo_", r->arm_labels[k]);
            put_prefixed(fp, "hi_", r->arm_labels[k]);
        }
    }
    for (int k = 1; r->oos_tau && k < r->n_arms; k++)
        put_prefixed(fp, "oos_tau_", r->arm_labels[k]);
    if (r->policy_arm)
        fputs(",policy_arm", fp);
    for (int k = 0; r->prob && k < r->n_arms; k++)
        put_prefixed(fp, "p_", r->arm_labels[k]);
    if (r->assigned)
        fputs(",assigned", fp);
    fputc('\n', fp);
    for (size_t i = 0; i < r->n; i++) {
        fprintf(fp, "%zu", (r->row ? r->row[i] : i) + 1);
        if (r->id_name) {
            fputc(',', fp);
            put_text(fp, r->ids ? r->ids[i] : NULL);
        }
        if (r->t_value) {
            fprintf(fp, ",%.17g", r->t_value[i]);
        } else if (r->t) {
            fputc(',', fp);
            put_text(fp, r->arm_labels[r->t[i]]);
        }
        if (r->is_valid)
            fputs(r->is_valid[i] ? ",validation" : ",train", fp);
        for (int k = 1; k < r->n_arms; k++) {
            size_t at = (size_t)(k - 1) * r->n + i;
            fprintf(fp, ",%.17g", r->tau[at]);
            if (intervals)
                fprintf(fp, ",%.17g,%.17g", r->lo[at], r->hi[at]);
        }
        for (int k = 1; r->oos_tau && k < r->n_arms; k++) {
            if (r->is_valid && r->is_valid[i])
                fprintf(fp, ",%.17g", r->oos_tau[(size_t)(k - 1) * r->n + i]);
            else
                fputc(',', fp);
        }
        if (r->policy_arm) {
            fputc(',', fp);
            put_text(fp, r->arm_labels[r->policy_arm[i]]);
        }
        for (int k = 0; r->prob && k < r->n_arms; k++)
            fprintf(fp, ",%.17g", r->prob[(size_t)k * r->n + i]);
        if (r->assigned) {
            fputc(',', fp);
            put_text(fp, r->arm_labels[r->assigned[i]]);
        }
        fputc('\n', fp);
    }
}

tt_status tt_cate_write(const char *path, const tt_cate_rows *r, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        write_rows(stdout, r);
        return fflush(stdout) == 0 ? TT_OK
                                   : tt_errf(err, errlen, TT_ERR_IO, "standard output: %s",
                                             strerror(errno));
    }
    size_t len = strlen(path) + 8;
    char *tmp = malloc(len);
    if (!tmp)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    tt_status st = TT_OK;
    if (!fp) {
        st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", tmp, strerror(errno));
    } else {
        write_rows(fp, r);
        int bad = ferror(fp) != 0;
        bad |= fclose(fp) != 0;
        if (bad || rename(tmp, path) != 0) {
            st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(tmp);
    return st;
}
