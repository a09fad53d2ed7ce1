/* nuisance_io.c - nuisance results to and from a file (nuisance_io.h). */
#include "nuisance/nuisance_io.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/crc32.h"
#include "util/err.h"
#include "util/mem.h"

#define IO_MAGIC "tautune-nuisance"
/* 2: a CRC-32 trailer over every byte before it. Version 1 files (no
 * trailer) are still read, unchecked, for --resume of older run folders. */
#define IO_VERSION 2
#define TRAILER_LEN 15 /* "crc32 " + 8 hex digits + "\n" */
#define MAX_RESULTS 4096
#define MAX_ROWS 2000000000ull

uint64_t tt_fnv1a(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int file_write(void *ctx, const void *bytes, size_t len)
{
    return fwrite(bytes, 1, len, ctx) == len ? 0 : -1;
}

static int file_read(void *ctx, void *bytes, size_t len)
{
    return fread(bytes, 1, len, ctx) == len ? 0 : -1;
}

static tt_nuisance_role role_of(const char *name, int *ok)
{
    *ok = 1;
    if (strcmp(name, "propensity") == 0)
        return TT_NUISANCE_PROPENSITY;
    if (strcmp(name, "outcome") == 0)
        return TT_NUISANCE_OUTCOME;
    if (strcmp(name, "mu") == 0)
        return TT_NUISANCE_ARM_OUTCOME;
    if (strcmp(name, "instrument") == 0)
        return TT_NUISANCE_INSTRUMENT;
    if (strcmp(name, "treatment_given_z") == 0)
        return TT_NUISANCE_TREATMENT_GIVEN_Z;
    if (strcmp(name, "treatment") == 0)
        return TT_NUISANCE_TREATMENT;
    *ok = 0;
    return TT_NUISANCE_OUTCOME;
}

static tt_status write_one(FILE *f, const tt_nuisance_result *r, char *err, size_t errlen)
{
    const tt_nuisance_diag *d = &r->diag;
    fprintf(f, "result %s %d %zu %zu\nlearner %s %zu", tt_nuisance_role_name(r->role), r->arm,
            r->n, r->width, d->learner[0] ? d->learner : "-", d->n_params);
    for (size_t j = 0; j < d->n_params; j++)
        fprintf(f, " %s %.17g", d->keys[j], d->values[j]);
    fprintf(f, "\ndiag %.17g %.17g %.17g %.17g %.17g %.17g %zu %zu %.17g\noof\n", d->oof_loss,
            d->r2, d->auc, d->calibration, d->prop_min, d->prop_max, d->n_outside,
            d->n_candidates, d->seconds);
    for (size_t i = 0; i < r->n * r->width; i++)
        fprintf(f, "%.17g\n", r->oof[i]);
    fprintf(f, "model %d\n", r->full != NULL);
    if (r->full) {
        tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = f, .write = file_write};
        tt_status st = tt_learner_save(r->full, &sink, err, errlen);
        if (st != TT_OK)
            return st;
    }
    fprintf(f, "end\n");
    return ferror(f) ? tt_errf(err, errlen, TT_ERR_IO, "nuisance file: write error") : TT_OK;
}

/* Writes pass through a stream that keeps the CRC of what went by. */
typedef struct crc_stream {
    FILE *to;
    uint32_t crc;
} crc_stream;

static ssize_t crc_write(void *cookie, const char *buf, size_t len)
{
    crc_stream *c = cookie;
    size_t done = fwrite(buf, 1, len, c->to);
    c->crc = tt_crc32(c->crc, buf, done);
    return done == len ? (ssize_t)len : -1;
}

static tt_status write_body(FILE *f, uint64_t fingerprint, const tt_nuisance_result *const *res,
                            size_t n, char *err, size_t errlen)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += res[i] != NULL;
    fprintf(f, "%s %d\nfingerprint %016" PRIx64 "\nresults %zu\n", IO_MAGIC, IO_VERSION,
            fingerprint, count);
    for (size_t i = 0; i < n; i++) {
        if (!res[i])
            continue;
        tt_status st = write_one(f, res[i], err, errlen);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

tt_status tt_nuisance_write(FILE *f, uint64_t fingerprint, const tt_nuisance_result *const *res,
                            size_t n, char *err, size_t errlen)
{
    crc_stream c = {.to = f, .crc = 0};
    FILE *g = fopencookie(&c, "w", (cookie_io_functions_t){.write = crc_write});
    if (!g)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance file: no memory");
    tt_status st = write_body(g, fingerprint, res, n, err, errlen);
    int bad = ferror(g);
    bad |= fclose(g) != 0; /* flushes the last bytes through the CRC */
    if (st != TT_OK)
        return st;
    fprintf(f, "crc32 %08" PRIx32 "\n", c.crc);
    return bad || fflush(f) != 0 || ferror(f)
               ? tt_errf(err, errlen, TT_ERR_IO, "nuisance file: write error")
               : TT_OK;
}

/* Version 2: the trailer's CRC against the bytes before it, read in a pass
 * of their own (the file is read again to parse it: at a million rows it
 * is too large to hold twice). Leaves f at the start. */
static tt_status check_crc(FILE *f, char *err, size_t errlen)
{
    static const char damaged[] = "damaged nuisance file (checksum mismatch)";
    char trailer[TRAILER_LEN + 1];
    unsigned crc_want;
    char nl;
    if (fseeko(f, 0, SEEK_END) != 0)
        return tt_errf(err, errlen, TT_ERR_IO, "nuisance file: cannot seek");
    off_t size = ftello(f);
    if (size < TRAILER_LEN || fseeko(f, size - TRAILER_LEN, SEEK_SET) != 0 ||
        fread(trailer, 1, TRAILER_LEN, f) != TRAILER_LEN)
        return tt_errf(err, errlen, TT_ERR_PARSE, "%s", damaged);
    trailer[TRAILER_LEN] = '\0';
    /* Exactly as written: lower-case hex (a case flip is damage too). */
    if (strspn(trailer + 6, "0123456789abcdef") != 8 ||
        sscanf(trailer, "crc32 %8x%c", &crc_want, &nl) != 2 || nl != '\n')
        return tt_errf(err, errlen, TT_ERR_PARSE, "damaged nuisance file (no checksum line)");
    rewind(f);
    uint32_t crc = 0;
    unsigned char buf[1 << 16];
    for (off_t left = size - TRAILER_LEN; left > 0;) {
        size_t want = left < (off_t)sizeof buf ? (size_t)left : sizeof buf;
        if (fread(buf, 1, want, f) != want)
            return tt_errf(err, errlen, TT_ERR_IO, "nuisance file: read error");
        crc = tt_crc32(crc, buf, want);
        left -= (off_t)want;
    }
    rewind(f);
    return crc == crc_want ? TT_OK : tt_errf(err, errlen, TT_ERR_PARSE, "%s", damaged);
}

static tt_status bad(char *err, size_t errlen, size_t k, const char *what)
{
    return tt_errf(err, errlen, TT_ERR_PARSE, "nuisance file: result %zu: %s", k + 1, what);
}

static tt_status read_one(FILE *f, size_t k, tt_nuisance_result *r, char *err, size_t errlen)
{
    char role[32], learner[TT_NUISANCE_NAME_LEN], word[16];
    int arm, ok;
    size_t n, width, np;
    tt_nuisance_diag *d = &r->diag;
    if (fscanf(f, " result %31s %d %zu %zu", role, &arm, &n, &width) != 4)
        return bad(err, errlen, k, "no 'result' line");
    r->role = role_of(role, &ok);
    if (!ok || n == 0 || n > MAX_ROWS || width == 0 || width > MAX_RESULTS)
        return bad(err, errlen, k, "malformed 'result' line");
    r->arm = arm;
    r->n = n;
    r->width = width;
    if (fscanf(f, " learner %31s %zu", learner, &np) != 2 || np > TT_NUISANCE_MAX_PARAMS)
        return bad(err, errlen, k, "malformed 'learner' line");
    snprintf(d->learner, sizeof d->learner, "%s", learner);
    d->n_params = np;
    for (size_t j = 0; j < np; j++)
        if (fscanf(f, " %31s %lf", d->keys[j], &d->values[j]) != 2)
            return bad(err, errlen, k, "malformed learner parameter");
    if (fscanf(f, " diag %lf %lf %lf %lf %lf %lf %zu %zu %lf", &d->oof_loss, &d->r2, &d->auc,
               &d->calibration, &d->prop_min, &d->prop_max, &d->n_outside, &d->n_candidates,
               &d->seconds) != 9)
        return bad(err, errlen, k, "malformed 'diag' line");
    if (fscanf(f, " %15s", word) != 1 || strcmp(word, "oof") != 0)
        return bad(err, errlen, k, "no 'oof' line");
    if (!(r->oof = tt_malloc_array(n, width * sizeof *r->oof)))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance file: no memory for %zu rows", n);
    for (size_t i = 0; i < n * width; i++)
        if (fscanf(f, " %lf", &r->oof[i]) != 1)
            return bad(err, errlen, k, "out-of-fold values cut short");
    int has_model;
    if (fscanf(f, " model %d", &has_model) != 1 || (has_model != 0 && has_model != 1))
        return bad(err, errlen, k, "malformed 'model' line");
    if (has_model) {
        if (fgetc(f) != '\n')
            return bad(err, errlen, k, "malformed 'model' line");
        tt_plugin_source src = {.struct_size = sizeof src, .ctx = f, .read = file_read};
        tt_status st = tt_learner_load(&src, &r->full, err, errlen);
        if (st != TT_OK) {
            tt_err_prefix(err, errlen, "nuisance file: result %zu", k + 1);
            return st;
        }
    }
    if (fscanf(f, " %15s", word) != 1 || strcmp(word, "end") != 0)
        return bad(err, errlen, k, "no 'end' line");
    return TT_OK;
}

tt_status tt_nuisance_read(FILE *f, uint64_t *fingerprint, tt_nuisance_result ***out,
                           size_t *n, char *err, size_t errlen)
{
    char magic[32];
    int version;
    size_t count;
    *out = NULL;
    *n = 0;
    if (fscanf(f, "%31s %d", magic, &version) != 2 || strcmp(magic, IO_MAGIC) != 0)
        return tt_errf(err, errlen, TT_ERR_PARSE, "not a tautune nuisance file");
    if (version != IO_VERSION && version != 1)
        return tt_errf(err, errlen, TT_ERR_PARSE, "nuisance file version %d; this tautune "
                       "reads versions 1 to %d", version, IO_VERSION);
    if (version >= 2) {
        tt_status st = check_crc(f, err, errlen);
        if (st != TT_OK || fscanf(f, "%31s %d", magic, &version) != 2)
            return st != TT_OK ? st : tt_errf(err, errlen, TT_ERR_IO, "nuisance file: read error");
    }
    if (fscanf(f, " fingerprint %" SCNx64 " results %zu", fingerprint, &count) != 2 ||
        count > MAX_RESULTS)
        return tt_errf(err, errlen, TT_ERR_PARSE, "nuisance file: malformed header");
    tt_nuisance_result **res = calloc(count + 1, sizeof *res);
    if (!res)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance file: no memory");
    tt_status st = TT_OK;
    size_t k = 0;
    for (; k < count && st == TT_OK; k++) {
        if (!(res[k] = calloc(1, sizeof *res[k]))) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "nuisance file: no memory");
            break;
        }
        st = read_one(f, k, res[k], err, errlen);
    }
    if (st != TT_OK) {
        for (size_t i = 0; i < count; i++)
            if (res[i]) {
                tt_nuisance_result_clear(res[i]);
                free(res[i]);
            }
        free(res);
        return st;
    }
    /* Version 2: the checksum line, and nothing else, follows the results;
     * version 1: nothing (so a version 2 file whose "2" was damaged into a
     * "1" is not read unchecked). */
    char word[16];
    unsigned crc;
    if ((version >= 2 && (fscanf(f, " %15s %8x", word, &crc) != 2 || strcmp(word, "crc32") != 0)) ||
        fscanf(f, " %15s", word) != EOF) {
        for (size_t i = 0; i < count; i++) {
            tt_nuisance_result_clear(res[i]);
            free(res[i]);
        }
        free(res);
        return tt_errf(err, errlen, TT_ERR_PARSE, "nuisance file: text after the last result");
    }
    *out = res;
    *n = count;
    return TT_OK;
}
