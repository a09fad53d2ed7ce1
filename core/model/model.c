/* model.c - writing and reading a fitted winner (model.h has the format). */
#include "model/model.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crc32.h"
#include "util/err.h"

#define MODEL_MAGIC "tautune-model"
#define MODEL_VERSION_ONE 1      /* one member, no checksum (read only) */
#define MODEL_VERSION_ENSEMBLE 2 /* two or more members, no checksum (read only) */
#define MODEL_VERSION_CHECKED 3  /* K >= 1 members and a checksum (read only) */
#define MODEL_VERSION_ORIGIN 4   /* format 3 and each member's plugin file; the newest */
#define MODEL_VERSION_NEWEST MODEL_VERSION_ORIGIN
/* The last line: "crc32 " and 8 lowercase hex digits, the CRC-32 of every
 * byte before it. Fixed length, so the reader finds it without parsing. */
#define CHECKSUM_KEY "crc32 "
#define CHECKSUM_LINE_LEN 15
/* Sanity caps for counts read from a file: a corrupt count must give an
 * error, not a huge allocation. */
#define MAX_ARMS 100000
#define MAX_COLUMNS 10000000
#define MAX_STRING (1u << 20)

/* ---- FILE streams as the plugin ABI's sink/source ---------------------- */

static int file_write(void *ctx, const void *bytes, size_t len)
{
    return fwrite(bytes, 1, len, ctx) == len ? 0 : -1;
}

static int file_read(void *ctx, void *bytes, size_t len)
{
    return fread(bytes, 1, len, ctx) == len ? 0 : -1;
}

/* ---- in-memory state ----------------------------------------------------- */

static int buffer_write(void *ctx, const void *bytes, size_t len)
{
    tt_model_state_buffer *b = ctx;
    if (b->failed)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *grown = realloc(b->bytes, cap);
        if (!grown) {
            b->failed = 1;
            return -1;
        }
        b->bytes = grown;
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, bytes, len);
    b->len += len;
    return 0;
}

tt_plugin_sink tt_model_state_sink(tt_model_state_buffer *b)
{
    return (tt_plugin_sink){.struct_size = sizeof(tt_plugin_sink), .ctx = b, .write = buffer_write};
}

static int reader_read(void *ctx, void *bytes, size_t len)
{
    tt_model_state_reader *r = ctx;
    if (len > r->len - r->pos)
        return -1;
    memcpy(bytes, r->bytes + r->pos, len);
    r->pos += len;
    return 0;
}

tt_plugin_source tt_model_state_source(tt_model_state_reader *r)
{
    return (tt_plugin_source){.struct_size = sizeof(tt_plugin_source), .ctx = r,
                              .read = reader_read};
}

/* ---- writing ---------------------------------------------------------------- */

static void put_string(FILE *fp, const char *key, const char *s)
{
    if (!s)
        fprintf(fp, "%s -\n", key);
    else
        fprintf(fp, "%s %zu %s\n", key, strlen(s), s);
}

static void put_strings(FILE *fp, const char *key, char *const *v, size_t n)
{
    fprintf(fp, "%s %zu\n", key, n);
    for (size_t i = 0; i < n; i++)
        put_string(fp, "s", v[i]);
}

static tt_status put_learner(FILE *fp, const char *key, const tt_learner *l, char *err,
                             size_t errlen)
{
    if (!l) {
        fprintf(fp, "%s 0\n", key);
        return TT_OK;
    }
    fprintf(fp, "%s 1\n", key);
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = fp, .write = file_write};
    return tt_learner_save(l, &sink, err, errlen);
}

/* A member's header: format 1's lines with the plugin's file and folder
 * after its version (format 4), then its weight (formats 2 to 4). */
static void put_member(FILE *fp, const tt_model_member *mb, int ensemble)
{
    put_string(fp, "plugin", mb->plugin);
    put_string(fp, "version", mb->plugin_version);
    put_string(fp, "plugin_file", mb->plugin_file);
    put_string(fp, "plugin_dir", mb->plugin_dir);
    fprintf(fp, "seed %llu\nparams %zu", (unsigned long long)mb->seed, mb->n_params);
    for (size_t i = 0; i < mb->n_params; i++)
        fprintf(fp, " %.17g", mb->params[i]);
    fprintf(fp, "\n");
    if (ensemble)
        fprintf(fp, "weight %.17g\n", mb->weight);
}

/* A member's state from its file: exactly state_len bytes, or an error
 * naming the file (it changed under us, or cannot be read). */
static tt_status copy_state(FILE *fp, const tt_model_member *mb, char *err, size_t errlen)
{
    FILE *in = fopen(mb->state_file, "rb");
    if (!in)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", mb->state_file, strerror(errno));
    unsigned char buf[65536];
    size_t left = mb->state_len, got = 0;
    while (left > 0 && (got = fread(buf, 1, left < sizeof buf ? left : sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, got, fp) != got)
            break;
        left -= got;
    }
    int extra = left == 0 && fgetc(in) != EOF;
    fclose(in);
    if (left > 0 || extra)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: not the %zu bytes of saved state expected",
                       mb->state_file, mb->state_len);
    return TT_OK;
}

static tt_status write_body(FILE *fp, const tt_model *m, char *err, size_t errlen)
{
    fprintf(fp, "%s %d\nmembers %zu\n", MODEL_MAGIC, MODEL_VERSION_NEWEST, m->n_members);
    for (size_t k = 0; k < m->n_members; k++) {
        tt_model_member one = m->members[k];
        if (m->n_members == 1)
            one.weight = 1; /* a lone member's weight is 1 whatever it says */
        put_member(fp, &one, 1);
    }
    put_strings(fp, "arms", m->arm_labels, (size_t)m->n_arms);
    if (m->continuous) /* absent for arms, as in formats 1 and 2 before it existed */
        fprintf(fp, "treatment_kind continuous\n");
    put_string(fp, "id", m->id_name);
    put_strings(fp, "x", m->x_names, m->p_x);
    put_strings(fp, "w", m->w_names, m->p_w);
    fprintf(fp, "prep %d\n", m->prep != NULL);
    tt_status st = m->prep ? tt_prep_save(m->prep, fp, err, errlen) : TT_OK;
    if (st == TT_OK)
        fprintf(fp, "\nprop_width %zu\n", m->prop_width);
    if (st == TT_OK)
        st = put_learner(fp, "propensity", m->propensity, err, errlen);
    if (st == TT_OK)
        st = put_learner(fp, "outcome", m->outcome, err, errlen);
    if (st == TT_OK)
        fprintf(fp, "arm_outcomes %d\n", m->arm_outcome != NULL);
    for (int k = 0; st == TT_OK && m->arm_outcome && k < m->n_arms; k++)
        st = put_learner(fp, "mu", m->arm_outcome[k], err, errlen);
    for (size_t k = 0; st == TT_OK && k < m->n_members; k++) {
        const tt_model_member *mb = &m->members[k];
        fprintf(fp, "state %zu\n", mb->state_len);
        if (!mb->state && mb->state_file)
            st = copy_state(fp, mb, err, errlen);
        else if (mb->state_len && fwrite(mb->state, 1, mb->state_len, fp) != mb->state_len)
            st = TT_ERR_IO;
        fprintf(fp, "\n");
    }
    if (st == TT_OK)
        fprintf(fp, "end\n");
    return st;
}

/* The checksum line after the body written to fp. The body is read back
 * from the file rather than summed as it is written: the plugins' and
 * learners' savers write straight to the stream, and what counts is the
 * bytes the file holds. */
static tt_status put_checksum(FILE *fp)
{
    if (fflush(fp) != 0)
        return TT_ERR_IO;
    long body = ftell(fp);
    if (body < 0 || fseek(fp, 0, SEEK_SET) != 0)
        return TT_ERR_IO;
    unsigned char buf[65536];
    uint32_t crc = 0;
    long done = 0;
    size_t got;
    while (done < body && (got = fread(buf, 1, sizeof buf, fp)) > 0) {
        crc = tt_crc32(crc, buf, got);
        done += (long)got;
    }
    if (done != body || fseek(fp, 0, SEEK_END) != 0)
        return TT_ERR_IO;
    return fprintf(fp, CHECKSUM_KEY "%08" PRIx32 "\n", crc) == CHECKSUM_LINE_LEN ? TT_OK
                                                                                  : TT_ERR_IO;
}

/* What the format cannot hold, refused before the file is touched. */
static tt_status check_members(const char *path, const tt_model *m, char *err, size_t errlen)
{
    if (m->n_members == 0 || !m->members)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: a model needs at least one member",
                       path);
    if (m->n_members > TT_MODEL_MAX_MEMBERS)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: %zu members (at most %d)", path,
                       m->n_members, TT_MODEL_MAX_MEMBERS);
    double sum = 0;
    for (size_t k = 0; k < m->n_members; k++) {
        const tt_model_member *mb = &m->members[k];
        if (!mb->plugin)
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: member %zu has no plugin name",
                           path, k + 1);
        if (m->n_members > 1 && !(isfinite(mb->weight) && mb->weight > 0))
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "%s: member %zu (%s) has weight %g; weights must be positive", path,
                           k + 1, mb->plugin, mb->weight);
        sum += mb->weight;
    }
    if (m->n_members > 1 && fabs(sum - 1) > 1e-9)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: the members' weights sum to %.17g, not 1",
                       path, sum);
    return TT_OK;
}

tt_status tt_model_write(const char *path, const tt_model *m, char *err, size_t errlen)
{
    tt_status checked = check_members(path, m, err, errlen);
    if (checked != TT_OK)
        return checked;
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w+b"); /* read back for the checksum */
    if (!fp) {
        tt_status st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    char why[512] = "";
    tt_status st = write_body(fp, m, why, sizeof why);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    if (st == TT_OK)
        st = put_checksum(fp);
    if (fflush(fp) != 0 || ferror(fp))
        st = st ? st : TT_ERR_IO;
    if (fclose(fp) != 0)
        st = st ? st : TT_ERR_IO;
    if (st == TT_OK && rename(tmp, path) != 0)
        st = TT_ERR_IO;
    if (st != TT_OK) {
        tt_errf(err, errlen, st, "%s: cannot write the model: %s", path,
                why[0] ? why : strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return st;
}

/* ---- reading ----------------------------------------------------------------- */

typedef struct reader {
    FILE *fp;
    const char *path;
    char *err;
    size_t errlen;
    tt_status st;
    long long size; /* of the body: the file less its checksum line */
    int checked;    /* the checksum line is there and matches */
} reader;

/* Body bytes left: a count read from the file that would need more is
 * corrupt, and is refused before anything is allocated for it. */
static size_t remaining(reader *r)
{
    long pos = ftell(r->fp);
    if (pos < 0 || r->size < pos)
        return 0;
    return (size_t)(r->size - pos);
}

/* Every refusal of the file's contents says "damaged model file": with the
 * checksum checked first, that is what a file it does not fit is. */
static int bad(reader *r, const char *what)
{
    if (r->st == TT_OK)
        r->st = tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: damaged model file (%s)", r->path,
                        what);
    return -1;
}

/* Expect the word key, then whitespace. */
static int get_key(reader *r, const char *key)
{
    char word[32];
    if (r->st != TT_OK)
        return -1;
    if (fscanf(r->fp, " %31s", word) != 1 || strcmp(word, key) != 0)
        return bad(r, key);
    return 0;
}

static int get_size(reader *r, const char *key, size_t max, size_t *out)
{
    unsigned long long v;
    if (get_key(r, key) || fscanf(r->fp, " %llu", &v) != 1 || v > max)
        return bad(r, key);
    *out = (size_t)v;
    return 0;
}

/* "key <len> <bytes>" or "key -" (NULL). */
static int get_string(reader *r, const char *key, char **out)
{
    *out = NULL;
    if (get_key(r, key))
        return -1;
    int c;
    while ((c = fgetc(r->fp)) == ' ')
        ;
    if (c == '-')
        return 0;
    ungetc(c, r->fp);
    unsigned long long len;
    if (fscanf(r->fp, "%llu", &len) != 1 || len > MAX_STRING || fgetc(r->fp) != ' ')
        return bad(r, key);
    char *s = malloc((size_t)len + 1);
    if (!s)
        return bad(r, "out of memory");
    if (fread(s, 1, (size_t)len, r->fp) != len) {
        free(s);
        return bad(r, key);
    }
    s[len] = '\0';
    *out = s;
    return 0;
}

static int get_strings(reader *r, const char *key, size_t max, char ***out, size_t *n)
{
    if (get_size(r, key, max, n))
        return -1;
    if (*n > remaining(r) / 3) { /* each entry is at least "s -" */
        *n = 0;
        return bad(r, key);
    }
    *out = calloc(*n + 1, sizeof **out);
    if (!*out)
        return bad(r, "out of memory");
    for (size_t i = 0; i < *n; i++)
        if (get_string(r, "s", &(*out)[i]))
            return -1;
    return 0;
}

static int get_learner(reader *r, const char *key, tt_learner **out)
{
    size_t present;
    if (get_size(r, key, 1, &present))
        return -1;
    if (!present)
        return 0;
    if (fgetc(r->fp) != '\n')
        return bad(r, key);
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = r->fp, .read = file_read};
    char why[512];
    if (tt_learner_load(&src, out, why, sizeof why) != TT_OK) {
        r->st = tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: damaged model file (%s model: %s)",
                        r->path, key, why);
        return -1;
    }
    return 0;
}

/* A member's header: plugin, version, in format 4 the plugin's file and
 * folder, seed, params, and from format 2 on its weight (format 1: weight
 * 1). */
static int get_member(reader *r, tt_model_member *mb, int ensemble, int origin)
{
    unsigned long long seed;
    if (get_string(r, "plugin", &mb->plugin) || get_string(r, "version", &mb->plugin_version) ||
        (origin && (get_string(r, "plugin_file", &mb->plugin_file) ||
                    get_string(r, "plugin_dir", &mb->plugin_dir))) ||
        get_key(r, "seed") || fscanf(r->fp, " %llu", &seed) != 1 ||
        get_size(r, "params", 4096, &mb->n_params))
        return bad(r, "header");
    if (!mb->plugin)
        return bad(r, "no plugin name");
    mb->seed = seed;
    mb->params = calloc(mb->n_params + 1, sizeof *mb->params);
    if (!mb->params)
        return bad(r, "out of memory");
    for (size_t i = 0; i < mb->n_params; i++)
        if (fscanf(r->fp, " %lf", &mb->params[i]) != 1)
            return bad(r, "params");
    mb->weight = 1;
    if (ensemble && (get_key(r, "weight") || fscanf(r->fp, " %lf", &mb->weight) != 1 ||
                     !(isfinite(mb->weight) && mb->weight > 0)))
        return bad(r, "weight");
    return 0;
}

/* The magic, the format version and the members' headers. */
static int read_members(reader *r, tt_model *m)
{
    size_t version, n_members = 1;
    char word[32];
    /* Another kind of file (the data passed as the model) cannot be told
     * from a model damaged in its header and its checksum line alike (a cut
     * inside the header, a few flipped bits in a small file): both are
     * refused as damage, by one message that names both. */
    if (fscanf(r->fp, " %31s", word) != 1 || strcmp(word, MODEL_MAGIC) != 0)
        return bad(r, "or not a model at all: it does not start with 'tautune-model'");
    if (fscanf(r->fp, " %zu", &version) != 1)
        return bad(r, "no format version");
    /* After the checksum, so that a damaged version digit is damage. A newer
     * format may end otherwise; it is named either way. */
    if (version > MODEL_VERSION_NEWEST) {
        r->st = tt_errf(r->err, r->errlen, TT_ERR_UNSUPPORTED,
                        "%s: model format version %zu was written by a newer tautune (this one "
                        "reads versions %d to %d)",
                        r->path, version, MODEL_VERSION_ONE, MODEL_VERSION_NEWEST);
        return -1;
    }
    if (version < MODEL_VERSION_ONE)
        return bad(r, "format version 0");
    if (version >= MODEL_VERSION_CHECKED && !r->checked)
        return bad(r, "no checksum line at its end, which formats 3 and later have: cut short?");
    const int ensemble = version != MODEL_VERSION_ONE;
    if (ensemble && (get_size(r, "members", TT_MODEL_MAX_MEMBERS, &n_members) || n_members < 1 ||
                     (version == MODEL_VERSION_ENSEMBLE && n_members < 2)))
        return bad(r, "members");
    m->members = calloc(n_members, sizeof *m->members);
    if (!m->members)
        return bad(r, "out of memory");
    m->n_members = n_members; /* before reading, so tt_model_free frees what was read */
    double sum = 0;
    for (size_t k = 0; k < n_members; k++) {
        if (get_member(r, &m->members[k], ensemble, version >= MODEL_VERSION_ORIGIN))
            return -1;
        sum += m->members[k].weight;
    }
    if (ensemble && fabs(sum - 1) > 1e-9)
        return bad(r, "the weights do not sum to 1");
    return 0;
}

/* len bytes into *out (malloc'd, one spare byte). The buffer grows as bytes
 * arrive, so a corrupt length costs an error, not that much memory. */
static int get_bytes(reader *r, size_t len, unsigned char **out)
{
    size_t cap = len < ((size_t)1 << 20) ? len : (size_t)1 << 20, have = 0;
    unsigned char *b = malloc(cap + 1);
    while (b && have < len) {
        if (have == cap) {
            cap = cap > len / 2 ? len : cap * 2;
            unsigned char *grown = realloc(b, cap + 1);
            if (!grown) {
                free(b);
                return bad(r, "out of memory (state)");
            }
            b = grown;
        }
        size_t got = fread(b + have, 1, cap - have, r->fp);
        if (!got)
            break;
        have += got;
    }
    if (!b)
        return bad(r, "out of memory (state)");
    *out = b; /* owned by the model even when short, so it is freed with it */
    return have == len ? 0 : bad(r, "state");
}

/* One member's saved state: "state <len>", newline, the bytes. */
static int get_state(reader *r, tt_model_member *mb)
{
    if (get_size(r, "state", (size_t)1 << 40, &mb->state_len) || fgetc(r->fp) != '\n' ||
        mb->state_len > remaining(r))
        return bad(r, "state");
    return get_bytes(r, mb->state_len, &mb->state);
}

static void read_body(reader *r, tt_model *m)
{
    size_t n_arms, has_prep, has_mu;
    if (read_members(r, m))
        return;
    n_arms = 0;
    int rc = get_strings(r, "arms", MAX_ARMS, &m->arm_labels, &n_arms);
    m->n_arms = (int)n_arms; /* set before checking, so tt_model_free frees what was read */
    if (rc || n_arms < 2)
        return (void)bad(r, "arms");
    /* Optional "treatment_kind continuous": the next key is "id" otherwise. */
    int c;
    while ((c = fgetc(r->fp)) == ' ' || c == '\n')
        ;
    ungetc(c, r->fp);
    if (c == 't') {
        char kind[32];
        if (get_key(r, "treatment_kind") || fscanf(r->fp, " %31s", kind) != 1 ||
            strcmp(kind, "continuous") != 0)
            return (void)bad(r, "treatment_kind");
        m->continuous = 1;
    }
    if (get_string(r, "id", &m->id_name) ||
        get_strings(r, "x", MAX_COLUMNS, &m->x_names, &m->p_x) ||
        get_strings(r, "w", MAX_COLUMNS, &m->w_names, &m->p_w) ||
        get_size(r, "prep", 1, &has_prep))
        return;
    char why[512];
    if (has_prep && fgetc(r->fp) != '\n') /* the prep reader expects its header first */
        return (void)bad(r, "prep");
    if (has_prep && tt_prep_load(r->fp, &m->prep, why, sizeof why) != TT_OK) {
        r->st = tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                        "%s: damaged model file (preprocessing: %s)", r->path, why);
        return;
    }
    if (get_size(r, "prop_width", MAX_ARMS, &m->prop_width) ||
        get_learner(r, "propensity", &m->propensity) || get_learner(r, "outcome", &m->outcome) ||
        get_size(r, "arm_outcomes", 1, &has_mu))
        return;
    if (has_mu) {
        m->arm_outcome = calloc(n_arms, sizeof *m->arm_outcome);
        if (!m->arm_outcome)
            return (void)bad(r, "out of memory");
        for (size_t k = 0; k < n_arms; k++)
            if (get_learner(r, "mu", &m->arm_outcome[k]))
                return;
    }
    for (size_t k = 0; k < m->n_members; k++)
        if (get_state(r, &m->members[k]))
            return;
    /* "end" closes the body: nothing may follow but the checksum line. */
    if (get_key(r, "end") == 0 && (fgetc(r->fp) != '\n' || ftell(r->fp) != r->size))
        bad(r, "bytes after 'end'");
}

/* r->fp's checksum line, when the file ends with one: r->size becomes the
 * body's length and r->checked 1, or a mismatch is an error. A file without
 * one is left to the format version (formats 1 and 2 had none). Nothing of
 * the file is interpreted before this, so damage anywhere, the version
 * included, is reported as damage. */
static void check_sum(reader *r)
{
    char line[CHECKSUM_LINE_LEN];
    if (r->size < CHECKSUM_LINE_LEN || fseek(r->fp, (long)(r->size - CHECKSUM_LINE_LEN), SEEK_SET) ||
        fread(line, 1, sizeof line, r->fp) != sizeof line) {
        rewind(r->fp);
        return;
    }
    const size_t key = sizeof CHECKSUM_KEY - 1;
    int shaped = memcmp(line, CHECKSUM_KEY, key) == 0 && line[CHECKSUM_LINE_LEN - 1] == '\n';
    uint32_t stored = 0;
    /* Lowercase only: an uppercase digit (one flipped bit) is damage too. */
    for (size_t i = key; shaped && i < CHECKSUM_LINE_LEN - 1; i++) {
        const char *digits = "0123456789abcdef", *d = memchr(digits, line[i], 16);
        shaped = d != NULL;
        stored = stored << 4 | (uint32_t)(d ? d - digits : 0);
    }
    rewind(r->fp);
    if (!shaped)
        return;
    const long long body = r->size - CHECKSUM_LINE_LEN;
    unsigned char buf[65536];
    uint32_t crc = 0;
    long long done = 0;
    while (done < body) {
        size_t want = body - done < (long long)sizeof buf ? (size_t)(body - done) : sizeof buf;
        size_t got = fread(buf, 1, want, r->fp);
        if (got == 0)
            break;
        crc = tt_crc32(crc, buf, got);
        done += (long long)got;
    }
    rewind(r->fp);
    if (done != body) {
        r->st = tt_errf(r->err, r->errlen, TT_ERR_IO, "%s: read error: %s", r->path,
                        strerror(errno));
        return;
    }
    if (crc != stored) {
        r->st = tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                        "%s: damaged model file: its contents do not match their checksum "
                        "(crc32 %08" PRIx32 " written, %08" PRIx32 " now); it was changed "
                        "after tautune wrote it",
                        r->path, stored, crc);
        return;
    }
    r->size = body;
    r->checked = 1;
}

/* A stream the reader can seek in, and its size: the file itself, or (a
 * pipe, a terminal) all of it read into memory first, in *buf (the
 * caller's, free). NULL with err set on failure. */
static FILE *open_seekable(const char *path, long long *size, char **buf, char *err,
                           size_t errlen)
{
    *buf = NULL;
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    if (!fp || fstat(fileno(fp), &sb) != 0) {
        tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
        if (fp)
            fclose(fp);
        return NULL;
    }
    if (S_ISREG(sb.st_mode)) {
        *size = (long long)sb.st_size;
        return fp;
    }
    size_t len = 0;
    FILE *mem = open_memstream(buf, &len);
    char chunk[65536];
    size_t got;
    int failed = !mem;
    while (!failed && (got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        failed = fwrite(chunk, 1, got, mem) != got;
    failed = ferror(fp) || failed;
    fclose(fp);
    if (mem && fclose(mem) != 0)
        failed = 1;
    FILE *in = !failed ? fmemopen(*buf, len ? len : 1, "rb") : NULL;
    if (!in) {
        tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno ? errno : EIO));
        free(*buf);
        *buf = NULL;
        return NULL;
    }
    *size = (long long)len;
    return in;
}

tt_status tt_model_read(const char *path, tt_model **out, char *err, size_t errlen)
{
    *out = NULL;
    char *buf;
    long long size;
    FILE *fp = open_seekable(path, &size, &buf, err, errlen);
    if (!fp)
        return TT_ERR_IO;
    tt_model *m = calloc(1, sizeof *m);
    if (!m) {
        fclose(fp);
        free(buf);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    reader r = {.fp = fp, .path = path, .err = err, .errlen = errlen, .st = TT_OK, .size = size};
    check_sum(&r);
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    if (r.st == TT_OK)
        read_body(&r, m);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    fclose(fp);
    free(buf);
    if (r.st != TT_OK) {
        tt_model_free(m);
        return r.st;
    }
    m->unverified = !r.checked;
    *out = m;
    return TT_OK;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void tt_model_free(tt_model *m)
{
    if (!m)
        return;
    for (size_t k = 0; m->members && k < m->n_members; k++) {
        free(m->members[k].plugin);
        free(m->members[k].plugin_version);
        free(m->members[k].plugin_file);
        free(m->members[k].plugin_dir);
        free(m->members[k].params);
        free(m->members[k].state);
    }
    free(m->members);
    free_strings(m->arm_labels, (size_t)m->n_arms);
    free(m->id_name);
    free_strings(m->x_names, m->p_x);
    free_strings(m->w_names, m->p_w);
    tt_prep_free(m->prep);
    tt_learner_destroy(m->propensity);
    tt_learner_destroy(m->outcome);
    for (int k = 0; m->arm_outcome && k < m->n_arms; k++)
        tt_learner_destroy(m->arm_outcome[k]);
    free(m->arm_outcome);
    free(m);
}
