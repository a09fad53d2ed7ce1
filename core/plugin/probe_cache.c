/* probe_cache.c - the plugin probe's verdicts on disk (probe_cache.h). */
#include "plugin/probe_cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/paths.h"

#define CACHE_FORMAT "tautune-probe-cache"
#define CACHE_VERSION 1

typedef struct cache_entry {
    char *path, *id, *why;
    int ok;
    int current; /* looked up or put by this command */
} cache_entry;

struct tt_probe_cache {
    char *host;
    cache_entry *e;
    size_t n, cap;
};

void tt_probe_file_id(const struct stat *sb, char *buf, size_t len)
{
    /* ctime as well as mtime: copying with the times kept (cp -p, rsync -t,
     * tar) keeps mtime but not ctime, and the same size is easy to hit. */
    snprintf(buf, len, "%jd:%jd.%09ld:%jd.%09ld:%ju:%ju", (intmax_t)sb->st_size,
             (intmax_t)sb->st_mtim.tv_sec, (long)sb->st_mtim.tv_nsec,
             (intmax_t)sb->st_ctim.tv_sec, (long)sb->st_ctim.tv_nsec, (uintmax_t)sb->st_dev,
             (uintmax_t)sb->st_ino);
}

/* FNV-1a over the fields of an entry and the host, NUL-separated: a flipped
 * byte or a hand-edited verdict no longer matches its sum. It guards
 * against damage, not against someone who can write the file (they could
 * as well replace the plugin). */
static uint64_t entry_sum(const char *host, const char *path, const char *id, int ok,
                          const char *why)
{
    const char *parts[] = {host, path, id, ok ? "1" : "0", why};
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0u) * 1099511628211ull;
    }
    return h;
}

static void free_entry(cache_entry *e)
{
    free(e->path);
    free(e->id);
    free(e->why);
}

void tt_probe_cache_free(tt_probe_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free_entry(&c->e[i]);
    free(c->e);
    free(c->host);
    free(c);
}

static cache_entry *find(const tt_probe_cache *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].path, path) == 0)
            return &c->e[i];
    return NULL;
}

static tt_status add(tt_probe_cache *c, const char *path, const char *id, int ok,
                     const char *why, int current)
{
    cache_entry *e = find(c, path);
    if (!e) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 32;
            cache_entry *grown = realloc(c->e, cap * sizeof *grown);
            if (!grown)
                return TT_ERR_NOMEM;
            c->e = grown;
            c->cap = cap;
        }
        e = &c->e[c->n++];
        memset(e, 0, sizeof *e);
    }
    cache_entry fresh = {tt_strdup(path), tt_strdup(id), tt_strdup(why ? why : ""), ok != 0,
                         current};
    if (!fresh.path || !fresh.id || !fresh.why) {
        free_entry(&fresh);
        if (!e->path) /* the slot just made: give it back */
            c->n--;
        return TT_ERR_NOMEM;
    }
    free_entry(e);
    *e = fresh;
    return TT_OK;
}

/* Read at most TT_PROBE_CACHE_MAX_BYTES of path; NULL with *missing set when
 * it cannot be opened, NULL with a note when it cannot be read whole. */
static char *read_small_file(const char *path, int *missing, char *note, size_t notelen)
{
    *missing = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *missing = 1;
        return NULL;
    }
    char *buf = malloc(TT_PROBE_CACHE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, TT_PROBE_CACHE_MAX_BYTES + 1, fp) : 0;
    int bad = !buf || ferror(fp) || n > TT_PROBE_CACHE_MAX_BYTES;
    fclose(fp);
    if (bad) {
        tt_errf(note, notelen, TT_ERR_IO, "ignored: %s",
                !buf ? "out of memory" : "unreadable or too big");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static const char *str_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Fill c from the parsed document; "" when every part checks out, else
 * what did not (c may then hold some entries, which the caller drops). */
static const char *take_entries(tt_probe_cache *c, const cJSON *doc, const char *host)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
    const char *fmt = str_field(doc, "format"), *h = str_field(doc, "host");
    if (!fmt || strcmp(fmt, CACHE_FORMAT) != 0 || !cJSON_IsNumber(ver) ||
        ver->valuedouble != CACHE_VERSION)
        return "not a version 1 probe cache";
    if (!h || strcmp(h, host) != 0)
        return "made by another tautune build";
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "files");
    if (!cJSON_IsArray(files))
        return "no files array";
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        const char *path = str_field(f, "path"), *id = str_field(f, "id"),
                   *why = str_field(f, "why"), *sum = str_field(f, "sum");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(f, "ok");
        if (!path || !id || !why || !sum || !cJSON_IsBool(ok) || path[0] != '/')
            return "an entry with missing or mistyped fields";
        char want[17];
        snprintf(want, sizeof want, "%016" PRIx64,
                 entry_sum(host, path, id, cJSON_IsTrue(ok), why));
        if (strcmp(sum, want) != 0)
            return "an entry whose checksum does not match";
        if (cJSON_IsTrue(ok) && why[0])
            return "an accepted entry with a reason";
        if (!cJSON_IsTrue(ok) && !why[0])
            return "a rejected entry without a reason";
        if (add(c, path, id, cJSON_IsTrue(ok), why, 0) != TT_OK)
            return "out of memory";
    }
    return "";
}

tt_probe_cache *tt_probe_cache_load(const char *path, const char *host,
                                    tt_probe_cache_state *state, char *note, size_t notelen)
{
    *state = TT_PROBE_CACHE_MISSING;
    if (note && notelen)
        note[0] = '\0';
    tt_probe_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->host = tt_strdup(host))) {
        free(c);
        return NULL;
    }
    if (!path)
        return c;
    int missing;
    char *text = read_small_file(path, &missing, note, notelen);
    if (!text) {
        if (!missing)
            *state = TT_PROBE_CACHE_IGNORED;
        return c;
    }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const char *bad = doc ? take_entries(c, doc, host) : "not JSON";
    cJSON_Delete(doc);
    if (bad[0]) {
        for (size_t i = 0; i < c->n; i++)
            free_entry(&c->e[i]);
        c->n = 0;
        *state = TT_PROBE_CACHE_IGNORED;
        tt_errf(note, notelen, TT_ERR_IO, "ignored: %s", bad);
        return c;
    }
    *state = TT_PROBE_CACHE_LOADED;
    return c;
}

int tt_probe_cache_get(tt_probe_cache *c, const char *real_path, const char *file_id, int *ok,
                       const char **why)
{
    cache_entry *e = c ? find(c, real_path) : NULL;
    if (!e || strcmp(e->id, file_id) != 0)
        return 0;
    e->current = 1;
    *ok = e->ok;
    *why = e->why;
    return 1;
}

tt_status tt_probe_cache_put(tt_probe_cache *c, const char *real_path, const char *file_id,
                             int ok, const char *why)
{
    if (!c || !real_path || !file_id)
        return TT_ERR_INVALID;
    return add(c, real_path, file_id, ok, ok ? "" : why, 1);
}

/* An entry this command did not touch is still worth keeping while its file
 * is unchanged (another plugin folder, used by another config). */
static int still_valid(const cache_entry *e)
{
    struct stat sb;
    char id[128];
    if (stat(e->path, &sb) != 0)
        return 0;
    tt_probe_file_id(&sb, id, sizeof id);
    return strcmp(id, e->id) == 0;
}

static cJSON *entry_json(const tt_probe_cache *c, const cache_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    char sum[17];
    snprintf(sum, sizeof sum, "%016" PRIx64, entry_sum(c->host, e->path, e->id, e->ok, e->why));
    if (o && cJSON_AddStringToObject(o, "path", e->path) && cJSON_AddStringToObject(o, "id", e->id) &&
        cJSON_AddBoolToObject(o, "ok", e->ok) && cJSON_AddStringToObject(o, "why", e->why) &&
        cJSON_AddStringToObject(o, "sum", sum))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static char *render(const tt_probe_cache *c)
{
    cJSON *doc = cJSON_CreateObject(), *files = NULL;
    int ok = doc && cJSON_AddStringToObject(doc, "format", CACHE_FORMAT) &&
             cJSON_AddNumberToObject(doc, "version", CACHE_VERSION) &&
             cJSON_AddStringToObject(doc, "host", c->host) &&
             (files = cJSON_AddArrayToObject(doc, "files")) != NULL;
    size_t written = 0;
    /* This command's verdicts first, so the cap drops old ones. */
    for (int pass = 1; pass >= 0 && ok; pass--) {
        for (size_t i = 0; i < c->n && ok && written < TT_PROBE_CACHE_MAX_ENTRIES; i++) {
            const cache_entry *e = &c->e[i];
            if (e->current != pass || (!pass && !still_valid(e)))
                continue;
            cJSON *o = entry_json(c, e);
            ok = o && cJSON_AddItemToArray(files, o);
            written++;
        }
    }
    char *text = ok ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    return text;
}

/* mkdir -p with 0700 for the parts it makes: verdicts name the user's
 * plugin files, which is nobody else's business. */
static int make_dirs(const char *dir)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", dir) >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat sb;
    return stat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

tt_status tt_probe_cache_save(const tt_probe_cache *c, const char *path, char *err,
                              size_t errlen)
{
    if (!c || !path)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_probe_cache_save: NULL argument");
    char dir[4096], tmp[4160];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (make_dirs(dir) != 0)
            return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", dir, strerror(errno));
    }
    char *text = render(c);
    if (!text)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing %s", path);
    /* The pid keeps two commands saving at once off each other's file. No
     * fsync: a cache torn by a power cut fails its checks and is rebuilt. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        free(text);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", tmp, strerror(e));
    }
    int bad = tt_write_all(fd, text, strlen(text)) != 0;
    int e = errno;
    free(text);
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(e));
    }
    return TT_OK;
}
