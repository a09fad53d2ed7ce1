/*
 * damage_check.c - the end-to-end tests' checks of damaged run files
 * (issue 20).
 *   damage_check jsonl FILE   every line of FILE ends with '\n' and is one
 *                             JSON object with a numeric id; prints the ids,
 *                             one a line, in file order
 *   damage_check flips MODEL SEED SINGLE MULTI TAUTUNE DATA WORK
 *                             SINGLE copies of MODEL with one bit flipped and
 *                             MULTI with 2 to 4 bits flipped, at positions a
 *                             seeded generator picks, each refused by the
 *                             model reader with "damaged model file" and by
 *                             `TAUTUNE predict COPY --data DATA` with exit 1
 *                             and that message (WORK: a scratch folder)
 *   damage_check old MODEL OUT
 *                             OUT: MODEL (format 4) as tautune wrote it before
 *                             checksums: format 1 for one member, format 2
 *                             for more
 *   damage_check old3 MODEL OUT
 *                             OUT: MODEL (format 4) as tautune wrote it before
 *                             it recorded plugin files: format 3 (no
 *                             plugin_file, plugin_dir lines; its checksum)
 * Exits non-zero with a message on the first failed check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "model/model.h"
#include "util/crc32.h"

static int check_jsonl(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int bad = 0;
    while (!bad && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        cJSON *o = NULL;
        if (len == 0 || line[len - 1] != '\n' || memchr(line, '\0', (size_t)len))
            bad = 1;
        else
            o = cJSON_ParseWithOpts(line, NULL, 1);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        if (!cJSON_IsObject(o) || !cJSON_IsNumber(id))
            bad = 1;
        else
            printf("%.17g\n", id->valuedouble);
        cJSON_Delete(o);
    }
    if (bad)
        fprintf(stderr, "damage_check: %s:%zu: not one JSON object with an id on a whole line\n",
                path, lineno);
    free(line);
    fclose(fp);
    return bad;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16;
    unsigned char *b = malloc(cap);
    *len = 0;
    size_t got;
    while (b && (got = fread(b + *len, 1, cap - *len, fp)) > 0) {
        *len += got;
        if (*len == cap) {
            unsigned char *grown = realloc(b, cap *= 2);
            if (!grown)
                free(b);
            b = grown;
        }
    }
    fclose(fp);
    return b;
}

static int spill(const char *path, const unsigned char *b, size_t len)
{
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(b, 1, len, fp) == len;
    if (fp && fclose(fp) != 0)
        ok = 0;
    if (!ok)
        perror(path);
    return ok ? 0 : -1;
}

static uint64_t next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* `tautune predict model --data data --out work/pred.csv`, stderr into
 * work/pred.err: its exit code, or -1 when it did not exit. */
static int predict(const char *tt, const char *model, const char *data, const char *work)
{
    char out[4096], err[4096];
    snprintf(out, sizeof out, "%s/pred.csv", work);
    snprintf(err, sizeof err, "%s/pred.err", work);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(127);
        execl(tt, tt, "predict", model, "--data", data, "--out", out, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int file_has(const char *path, const char *text)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    int has = b && memmem(b, len, text, strlen(text)) != NULL;
    free(b);
    return has;
}

static int check_flips(char **argv)
{
    const char *model = argv[2], *tt = argv[6], *data = argv[7], *work = argv[8];
    uint64_t seed = strtoull(argv[3], NULL, 10);
    long single = atol(argv[4]), multi = atol(argv[5]);
    size_t len;
    unsigned char *b = slurp(model, &len);
    if (!b || len == 0)
        return 1;
    char path[4096], err_path[4096], out_path[4096], err[2048];
    snprintf(path, sizeof path, "%s/flipped.ttm", work);
    snprintf(err_path, sizeof err_path, "%s/pred.err", work);
    snprintf(out_path, sizeof out_path, "%s/pred.csv", work);
    int failures = 0;
    for (long t = 0; t < single + multi && failures < 5; t++) {
        int k = t < single ? 1 : 2 + (int)(next(&seed) % 3);
        size_t at[4];
        for (int j = 0; j < k; j++) {
            at[j] = (size_t)(next(&seed) % (8 * (uint64_t)len));
            for (int i = 0; i < j; i++)
                if (at[i] == at[j]) /* the same bit twice would undo the flip */
                    j--;
        }
        for (int j = 0; j < k; j++)
            b[at[j] / 8] ^= (unsigned char)(1u << (at[j] % 8));
        int written = spill(path, b, len);
        for (int j = 0; j < k; j++)
            b[at[j] / 8] ^= (unsigned char)(1u << (at[j] % 8));
        if (written != 0)
            return 1;
        tt_model *m = NULL;
        err[0] = '\0';
        if (tt_model_read(path, &m, err, sizeof err) == TT_OK || !strstr(err, "damaged model file")) {
            fprintf(stderr, "damage_check: %d bit(s) flipped, the first at byte %zu: the reader "
                            "said '%s'\n", k, at[0] / 8, m ? "ok" : err);
            tt_model_free(m);
            failures++;
            continue;
        }
        unlink(out_path);
        int code = predict(tt, path, data, work);
        if (code != 1 || !file_has(err_path, "damaged model file") ||
            access(out_path, F_OK) == 0) {
            fprintf(stderr, "damage_check: %d bit(s) flipped, the first at byte %zu: predict "
                            "exit %d\n", k, at[0] / 8, code);
            failures++;
        }
    }
    free(b);
    if (failures)
        return 1;
    printf("damage_check: %ld one-bit and %ld two-to-four-bit flips of %s (%zu bytes): every "
           "one refused by the reader and by predict (exit 1)\n", single, multi, model, len);
    return 0;
}

/* Format 4's bytes b (*len) back to format 3 in place: its members'
 * plugin_file and plugin_dir lines dropped (they come before the "arms"
 * line, ahead of any saved state, so they are found by their keys), the
 * version 3, the checksum line made for the new body. 0, or 1 when b is not
 * a format-4 model. */
static int to_format3(unsigned char *b, size_t *len)
{
    static const char v4[] = "tautune-model 4\nmembers ";
    const unsigned char *arms = memmem(b, *len, "\narms ", 6);
    if (*len < 15 + sizeof v4 || memcmp(b, v4, sizeof v4 - 1) != 0 || !arms)
        return 1;
    size_t head = (size_t)(arms - b) + 1, out = 0;
    for (size_t i = 0; i < head;) {
        const unsigned char *nl = memchr(b + i, '\n', head - i);
        size_t l = (size_t)(nl - (b + i)) + 1;
        if (memcmp(b + i, "plugin_file ", 12) != 0 && memcmp(b + i, "plugin_dir ", 11) != 0) {
            memmove(b + out, b + i, l);
            out += l;
        }
        i += l;
    }
    memmove(b + out, b + head, *len - head);
    *len = out + *len - head;
    b[14] = '3';
    char line[16];
    snprintf(line, sizeof line, "crc32 %08lx\n", (unsigned long)tt_crc32(0, b, *len - 15));
    memcpy(b + *len - 15, line, 15);
    return 0;
}

/* Format 4 back to what tautune wrote before it recorded plugin files:
 * format 3. */
static int make_old3(const char *model, const char *out)
{
    size_t len;
    unsigned char *b = slurp(model, &len);
    int rc = !b || to_format3(b, &len) || spill(out, b, len);
    if (b && rc)
        fprintf(stderr, "damage_check: %s is not a format-4 model\n", model);
    free(b);
    return rc ? 1 : 0;
}

/* Format 4 back to what tautune wrote before checksums: format 3 less its
 * checksum line; one member: header "tautune-model 1", no "members" line,
 * no "weight" line; more: header "tautune-model 2". */
static int make_old(const char *model, const char *out)
{
    size_t len;
    unsigned char *b = slurp(model, &len);
    static const char v3[] = "tautune-model 3\nmembers ";
    if (!b || to_format3(b, &len) != 0) {
        fprintf(stderr, "damage_check: %s is not a format-4 model\n", model);
        free(b);
        return 1;
    }
    len -= 15;
    int rc;
    if (memcmp(b + sizeof v3 - 1, "1\n", 2) != 0) {
        b[14] = '2';
        rc = spill(out, b, len);
    } else {
        /* The lone member's "weight 1" follows its params line. */
        const unsigned char *w = memmem(b, len, "\nweight 1\n", 10);
        if (!w) {
            free(b);
            return 1;
        }
        size_t at = (size_t)(w - b) + 1, head = sizeof v3 - 1 + 2;
        FILE *fp = fopen(out, "wb");
        rc = !fp || fputs("tautune-model 1\n", fp) < 0 ||
             fwrite(b + head, 1, at - head, fp) != at - head ||
             fwrite(b + at + 9, 1, len - at - 9, fp) != len - at - 9;
        if (fp && fclose(fp) != 0)
            rc = 1;
    }
    free(b);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "jsonl") == 0)
        return check_jsonl(argv[2]);
    if (argc == 9 && strcmp(argv[1], "flips") == 0)
        return check_flips(argv);
    if (argc == 4 && strcmp(argv[1], "old") == 0)
        return make_old(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "old3") == 0)
        return make_old3(argv[2], argv[3]);
    fprintf(stderr, "usage: damage_check jsonl FILE | flips MODEL SEED SINGLE MULTI TAUTUNE "
                    "DATA WORK | old MODEL OUT | old3 MODEL OUT\n");
    return 2;
}
