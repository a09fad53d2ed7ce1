/*
 * registry.c - dlopen, validate and keep estimator plugins.
 *
 * A plugin is untrusted input: every field is checked before the host relies
 * on it, in the order in which later checks depend on earlier ones (the ABI
 * identity first, because a wrong major or a short struct means the remaining
 * fields may not even be where we look for them). Messages are formatted
 * while the library is still open, since they quote strings that live in it.
 */
#include "plugin/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin/conditions.h"
#include "util/err.h"
#include "util/mem.h"

typedef struct reg_item {
    tt_plugin_entry entry;
    void *handle;
} reg_item;

struct tt_registry {
    reg_item *items; /* sorted by desc->name */
    size_t count, cap;
    tt_plugin_reject *rejects; /* in the order they were found */
    size_t n_rejects, cap_rejects;
};

tt_registry *tt_registry_new(void)
{
    return calloc(1, sizeof(tt_registry));
}

void tt_registry_free(tt_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++) {
        free(reg->items[i].entry.path);
        dlclose(reg->items[i].handle);
    }
    for (size_t i = 0; i < reg->n_rejects; i++) {
        free(reg->rejects[i].path);
        free(reg->rejects[i].why);
    }
    free(reg->rejects);
    free(reg->items);
    free(reg);
}

size_t tt_registry_count(const tt_registry *reg)
{
    return reg ? reg->count : 0;
}

const tt_plugin_entry *tt_registry_at(const tt_registry *reg, size_t i)
{
    if (!reg || i >= reg->count)
        return NULL;
    return &reg->items[i].entry;
}

/* Index of the first item whose name is >= name; *found tells equality. */
static size_t lower_bound(const tt_registry *reg, const char *name, int *found)
{
    size_t lo = 0, hi = reg->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(reg->items[mid].entry.desc->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < reg->count && strcmp(reg->items[lo].entry.desc->name, name) == 0;
    return lo;
}

const tt_plugin_entry *tt_registry_find(const tt_registry *reg, const char *name)
{
    if (!reg || !name)
        return NULL;
    int found;
    size_t i = lower_bound(reg, name, &found);
    return found ? &reg->items[i].entry : NULL;
}

/* ---- names ---------------------------------------------------------------- */

const char *tt_param_kind_name(tt_param_kind kind)
{
    switch (kind) {
    case TT_PARAM_INT: return "int";
    case TT_PARAM_REAL: return "real";
    case TT_PARAM_LOG_REAL: return "log-real";
    case TT_PARAM_BOOL: return "bool";
    case TT_PARAM_CHOICE: return "choice";
    }
    return "unknown";
}

static const struct {
    uint32_t bit;
    const char *name;
} cap_names[] = {
    {TT_PLUGIN_CAP_MULTI_ARM, "multi-arm"},
    {TT_PLUGIN_CAP_IV, "iv"},
    {TT_PLUGIN_CAP_INTERVALS, "intervals"},
    {TT_PLUGIN_CAP_SAVE_LOAD, "save-load"},
    {TT_PLUGIN_CAP_NEEDS_PROPENSITY, "needs-propensity"},
    {TT_PLUGIN_CAP_NEEDS_OUTCOME, "needs-outcome"},
    {TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES, "needs-arm-outcomes"},
    {TT_PLUGIN_CAP_NEEDS_IV_NUISANCES, "needs-iv-nuisances"},
    {TT_PLUGIN_CAP_CONTINUOUS_TREATMENT, "continuous-treatment"},
};

void tt_capabilities_text(uint32_t caps, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++) {
        if (!(caps & cap_names[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", cap_names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            return; /* truncated, still NUL-terminated */
        used += (size_t)n;
    }
    /* Listings should not hide bits a newer plugin set. */
    if (caps & ~TT_PLUGIN_CAP_ALL) {
        int n = snprintf(buf + used, len - used, "%sunknown(0x%x)", used ? "," : "",
                         (unsigned)(caps & ~TT_PLUGIN_CAP_ALL));
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, len, "-");
}

/* ---- validation ----------------------------------------------------------- */

/* [a-z][a-z0-9_]{0,62}; checked without reading past the 64th byte so that an
 * unterminated string in a broken plugin cannot run us far off the end. */
static int valid_identifier(const char *s)
{
    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < 64; i++) {
        char c = s[i];
        if (c == '\0')
            return 1;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 0;
}

static int is_integral(double v)
{
    return isfinite(v) && v == floor(v);
}

static tt_status validate_range(const tt_plugin_param *p, char *err, size_t errlen)
{
    if (!isfinite(p->lo) || !isfinite(p->hi))
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': range [%g, %g] is not finite",
                       p->name, p->lo, p->hi);
    if (p->lo > p->hi)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': empty range [%g, %g] (lo > hi)",
                       p->name, p->lo, p->hi);
    if (p->kind == TT_PARAM_INT && (!is_integral(p->lo) || !is_integral(p->hi)))
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "parameter '%s': int range [%g, %g] has non-integral bounds",
                       p->name, p->lo, p->hi);
    if (p->kind == TT_PARAM_LOG_REAL && !(p->lo > 0))
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "parameter '%s': log-real range [%g, %g] needs lo > 0", p->name, p->lo,
                       p->hi);
    /* Written so that NaN fails too. */
    if (!(p->default_value >= p->lo && p->default_value <= p->hi))
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': default %g outside [%g, %g]",
                       p->name, p->default_value, p->lo, p->hi);
    if (p->kind == TT_PARAM_INT && !is_integral(p->default_value))
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': int default %g is not integral",
                       p->name, p->default_value);
    return TT_OK;
}

static tt_status validate_choice(const tt_plugin_param *p, char *err, size_t errlen)
{
    if (!p->choices || !p->choices[0])
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': choice without choices",
                       p->name);
    size_t n = 0;
    for (; p->choices[n]; n++) {
        if (p->choices[n][0] == '\0')
            return tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': choice %zu is empty",
                           p->name, n);
        for (size_t j = 0; j < n; j++)
            if (strcmp(p->choices[j], p->choices[n]) == 0)
                return tt_errf(err, errlen, TT_ERR_PLUGIN,
                               "parameter '%s': choice '%s' appears twice", p->name,
                               p->choices[n]);
    }
    double d = p->default_value;
    if (!is_integral(d) || d < 0 || d >= (double)n)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "parameter '%s': default index %g is not in 0..%zu", p->name, d, n - 1);
    return TT_OK;
}

static tt_status validate_schema(const tt_plugin_descriptor *d, char *err, size_t errlen)
{
    if (d->n_params > 0 && !d->params)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "schema has n_params %zu but params is NULL",
                       d->n_params);
    for (size_t i = 0; i < d->n_params; i++) {
        const tt_plugin_param *p = &d->params[i];
        if (!valid_identifier(p->name))
            return tt_errf(err, errlen, TT_ERR_PLUGIN,
                           "parameter %zu: name '%.64s' does not match [a-z][a-z0-9_]{0,62}", i,
                           p->name ? p->name : "(null)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->params[j].name, p->name) == 0)
                return tt_errf(err, errlen, TT_ERR_PLUGIN,
                               "parameter '%s' is declared twice (entries %zu and %zu)", p->name,
                               j, i);
        tt_status st;
        switch (p->kind) {
        case TT_PARAM_INT:
        case TT_PARAM_REAL:
        case TT_PARAM_LOG_REAL:
            st = validate_range(p, err, errlen);
            break;
        case TT_PARAM_BOOL:
            st = (p->default_value == 0 || p->default_value == 1)
                     ? TT_OK
                     : tt_errf(err, errlen, TT_ERR_PLUGIN,
                               "parameter '%s': bool default %g is not 0 or 1", p->name,
                               p->default_value);
            break;
        case TT_PARAM_CHOICE:
            st = validate_choice(p, err, errlen);
            break;
        default:
            st = tt_errf(err, errlen, TT_ERR_PLUGIN, "parameter '%s': unknown kind %d", p->name,
                         (int)p->kind);
            break;
        }
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

/* A descriptor built against ABI 1.0 or 1.1 ends at destroy: reading past
 * its struct_size would read someone else's memory. */
static int has_v1_2_fields(const tt_plugin_descriptor *d)
{
    return d->abi_minor >= 2 && d->struct_size >= TT_PLUGIN_DESCRIPTOR_SIZE_V1_2;
}

const char *tt_plugin_interval_method(const tt_plugin_descriptor *d)
{
    return has_v1_2_fields(d) ? d->interval_method : NULL;
}

tt_plugin_average_fn tt_plugin_average_effect(const tt_plugin_descriptor *d)
{
    return has_v1_2_fields(d) ? d->average_effect : NULL;
}

const char *tt_plugin_average_method(const tt_plugin_descriptor *d)
{
    if (d->abi_minor >= 3 && d->struct_size >= TT_PLUGIN_DESCRIPTOR_SIZE_V1_3 && d->average_method)
        return d->average_method;
    return tt_plugin_interval_method(d);
}

static int has_v1_4_fields(const tt_plugin_descriptor *d)
{
    return d->abi_minor >= 4 && d->struct_size >= TT_PLUGIN_DESCRIPTOR_SIZE_V1_4;
}

tt_plugin_average_oob_fn tt_plugin_average_effect_oob(const tt_plugin_descriptor *d)
{
    return has_v1_4_fields(d) ? d->average_effect_oob : NULL;
}

const char *tt_plugin_average_oob_method(const tt_plugin_descriptor *d)
{
    return has_v1_4_fields(d) ? d->average_oob_method : NULL;
}

static int has_v1_9_fields(const tt_plugin_descriptor *d)
{
    return d->abi_minor >= 9 && d->struct_size >= TT_PLUGIN_DESCRIPTOR_SIZE_V1_9;
}

tt_plugin_importance_fn tt_plugin_variable_importance(const tt_plugin_descriptor *d)
{
    return has_v1_9_fields(d) ? d->variable_importance : NULL;
}

const char *tt_plugin_variable_importance_method(const tt_plugin_descriptor *d)
{
    return has_v1_9_fields(d) ? d->variable_importance_method : NULL;
}

tt_status tt_plugin_validate(const tt_plugin_descriptor *d, char *err, size_t errlen)
{
    if (!d)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "entry returned a NULL descriptor");
    if (d->magic != TT_PLUGIN_MAGIC)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "bad magic 0x%08x, expected 0x%08x",
                       (unsigned)d->magic, (unsigned)TT_PLUGIN_MAGIC);
    if (d->abi_major != TT_PLUGIN_ABI_MAJOR)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "ABI major %u, host supports %u",
                       (unsigned)d->abi_major, (unsigned)TT_PLUGIN_ABI_MAJOR);
    if (d->abi_minor > TT_PLUGIN_ABI_MINOR)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "ABI %u.%u is newer than the host's %u.%u",
                       (unsigned)d->abi_major, (unsigned)d->abi_minor,
                       (unsigned)TT_PLUGIN_ABI_MAJOR, (unsigned)TT_PLUGIN_ABI_MINOR);
    if (d->struct_size < TT_PLUGIN_DESCRIPTOR_SIZE_V1_0)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "descriptor struct_size %zu is smaller than the ABI 1.0 layout (%zu)",
                       d->struct_size, (size_t)TT_PLUGIN_DESCRIPTOR_SIZE_V1_0);
    if (!d->build_tag || strcmp(d->build_tag, TT_PLUGIN_BUILD_TAG) != 0)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "build tag '%.64s', host expects '%s'",
                       d->build_tag ? d->build_tag : "(null)", TT_PLUGIN_BUILD_TAG);

    const char *missing = !d->create ? "create"
                          : !d->fit ? "fit"
                          : !d->effect ? "effect"
                          : !d->destroy ? "destroy"
                                        : NULL;
    if (missing)
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "missing required callback '%s'", missing);

    if (d->capabilities & ~TT_PLUGIN_CAP_ALL)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "capabilities 0x%x name unknown bits 0x%x (ABI %u.%u knows 0x%x)",
                       (unsigned)d->capabilities, (unsigned)(d->capabilities & ~TT_PLUGIN_CAP_ALL),
                       (unsigned)TT_PLUGIN_ABI_MAJOR, (unsigned)TT_PLUGIN_ABI_MINOR,
                       (unsigned)TT_PLUGIN_CAP_ALL);
    if ((d->capabilities & TT_PLUGIN_CAP_INTERVALS) && !d->effect_interval)
        return tt_errf(err, errlen, TT_ERR_PLUGIN,
                       "capability 'intervals' without an effect_interval callback");
    if ((d->capabilities & TT_PLUGIN_CAP_SAVE_LOAD) && (!d->save || !d->load))
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "capability 'save-load' without %s",
                       !d->save && !d->load ? "save and load callbacks"
                       : !d->save           ? "a save callback"
                                            : "a load callback");

    if (!valid_identifier(d->name))
        return tt_errf(err, errlen, TT_ERR_PLUGIN, "name '%.64s' does not match [a-z][a-z0-9_]{0,62}",
                       d->name ? d->name : "(null)");

    tt_status st = validate_schema(d, err, errlen);
    if (st == TT_OK)
        st = tt_conditions_validate(d, err, errlen);
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "plugin '%s'", d->name);
    return st;
}

/* ---- loading -------------------------------------------------------------- */

static tt_status insert_item(tt_registry *reg, size_t at, const tt_plugin_descriptor *desc,
                             const char *path, void *handle)
{
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        reg_item *items = realloc(reg->items, cap * sizeof *items);
        if (!items)
            return TT_ERR_NOMEM;
        reg->items = items;
        reg->cap = cap;
    }
    char *copy = tt_strdup(path);
    if (!copy)
        return TT_ERR_NOMEM;
    memmove(&reg->items[at + 1], &reg->items[at], (reg->count - at) * sizeof *reg->items);
    reg->items[at] = (reg_item){.entry = {.desc = desc, .path = copy}, .handle = handle};
    reg->count++;
    return TT_OK;
}

tt_status tt_plugin_open(const char *path, void **handle, char *why, size_t len)
{
    *handle = NULL;
    /* dlopen's own text for a missing file is vague about the cause; stat
     * gives the errno and lets us call it an I/O error rather than a bad plugin. */
    struct stat sb;
    if (stat(path, &sb) != 0)
        return tt_errf(why, len, TT_ERR_IO, "cannot open: %s", strerror(errno));

    /* Without a slash dlopen would search the library path instead of
     * opening the file we just checked. */
    char local[4096];
    const char *open_path = path;
    if (!strchr(path, '/')) {
        if ((size_t)snprintf(local, sizeof local, "./%s", path) >= sizeof local)
            return tt_errf(why, len, TT_ERR_IO, "path too long");
        open_path = local;
    }
    /* RTLD_NOW: an unresolved symbol should fail here, not halfway through a
     * search. RTLD_LOCAL: plugins must not see or shadow each other's symbols. */
    *handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
    if (!*handle) {
        const char *dl = dlerror();
        return tt_errf(why, len, TT_ERR_PLUGIN, "cannot load: %s",
                       dl ? dl : "unknown dlopen error");
    }
    return TT_OK;
}

tt_status tt_plugin_call_entry(void *handle, const tt_plugin_descriptor **desc, char *why,
                               size_t len)
{
    *desc = NULL;
    dlerror();
    void *sym = dlsym(handle, TT_PLUGIN_ENTRY_NAME);
    if (!sym)
        return tt_errf(why, len, TT_ERR_PLUGIN,
                       "no entry symbol '%s' (not a tautune ABI %d plugin)",
                       TT_PLUGIN_ENTRY_NAME, TT_PLUGIN_ABI_MAJOR);
    /* POSIX guarantees dlsym's object pointer converts to a function pointer;
     * memcpy keeps -Wpedantic quiet about the cast. */
    tt_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    *desc = entry();
    return TT_OK;
}

/* tt_registry_load_file with only the reason in why, which the reject list
 * keeps apart from the path. */
static tt_status load_file(tt_registry *reg, const char *path, char *why, size_t len)
{
    void *handle;
    tt_status st = tt_plugin_open(path, &handle, why, len);
    if (st != TT_OK)
        return st;
    const tt_plugin_descriptor *desc;
    st = tt_plugin_call_entry(handle, &desc, why, len);
    if (st == TT_OK)
        st = tt_plugin_validate(desc, why, len);
    if (st != TT_OK)
        goto reject;

    int found;
    size_t at = lower_bound(reg, desc->name, &found);
    if (found) {
        st = tt_errf(why, len, TT_ERR_PLUGIN,
                     "a plugin named '%s' is already registered (from %s)", desc->name,
                     reg->items[at].entry.path);
        goto reject;
    }
    st = insert_item(reg, at, desc, path, handle);
    if (st != TT_OK) {
        tt_errf(why, len, st, "out of memory while registering");
        goto reject;
    }
    return TT_OK;

reject:
    dlclose(handle);
    return st;
}

tt_status tt_registry_load_file(tt_registry *reg, const char *path, char *err, size_t errlen)
{
    if (!reg || !path)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_registry_load_file: NULL argument");
    char why[768];
    tt_status st = load_file(reg, path, why, sizeof why);
    if (st != TT_OK) {
        tt_errf(err, errlen, st, "%s: rejected: %s", path, why);
        /* Best effort: without memory for the record the refusal is still
         * in err. */
        tt_registry_add_reject(reg, path, why);
    }
    return st;
}

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

tt_status tt_plugin_dir_list(const char *dir, char ***paths, size_t *n_paths, char *err,
                            size_t errlen)
{
    *paths = NULL;
    *n_paths = 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: cannot read plugin folder: %s", dir,
                       strerror(errno));

    /* Collect first, then sort: readdir order is arbitrary, and with
     * duplicates the first file by name must win on every machine. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    tt_status st = TT_OK;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dh)) != NULL) {
        if (!has_so_suffix(de->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(names, ncap * sizeof *grown);
            if (!grown) {
                st = TT_ERR_NOMEM;
                break;
            }
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = tt_strdup(de->d_name))) {
            st = TT_ERR_NOMEM;
            break;
        }
        n++;
    }
    int read_errno = errno;
    closedir(dh);
    if (st == TT_OK && read_errno != 0) {
        tt_free_strings(names, n);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: cannot read plugin folder: %s", dir,
                       strerror(read_errno));
    }
    if (st == TT_OK && n > 1)
        qsort(names, n, sizeof *names, cmp_names);

    /* Names become paths in place; subfolders named *.so are not plugins,
     * and skipping them quietly keeps the reject list about real files. */
    size_t kept = 0;
    for (size_t i = 0; i < n && st == TT_OK; i++) {
        size_t plen = strlen(dir) + 1 + strlen(names[i]) + 1;
        char *path = malloc(plen);
        if (!path) {
            st = TT_ERR_NOMEM;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, names[i]);
        free(names[i]);
        names[i] = NULL;
        struct stat sb;
        if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
            free(path);
        else
            names[kept++] = path;
    }
    if (st != TT_OK) {
        /* Slots past kept are either freed (NULL) or still names. */
        for (size_t i = kept; i < n; i++)
            free(names[i]);
        tt_free_strings(names, kept);
        return tt_errf(err, errlen, st, "%s: out of memory while listing plugins", dir);
    }
    *paths = names;
    *n_paths = kept;
    return TT_OK;
}

tt_status tt_registry_load_dir(tt_registry *reg, const char *dir,
                               void (*on_reject)(void *ctx, const char *message), void *ctx,
                               size_t *n_loaded, char *err, size_t errlen)
{
    if (n_loaded)
        *n_loaded = 0;
    if (!reg || !dir)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_registry_load_dir: NULL argument");
    char **paths;
    size_t n;
    tt_status st = tt_plugin_dir_list(dir, &paths, &n, err, errlen);
    if (st != TT_OK)
        return st;
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        char msg[1024];
        if (tt_registry_load_file(reg, paths[i], msg, sizeof msg) == TT_OK)
            loaded++;
        else if (on_reject)
            on_reject(ctx, msg);
    }
    tt_free_strings(paths, n);
    if (n_loaded)
        *n_loaded = loaded;
    return TT_OK;
}

/* ---- rejects --------------------------------------------------------------- */

tt_status tt_registry_add_reject(tt_registry *reg, const char *path, const char *why)
{
    if (!reg || !path || !why)
        return TT_ERR_INVALID;
    if (reg->n_rejects == reg->cap_rejects) {
        size_t cap = reg->cap_rejects ? reg->cap_rejects * 2 : 4;
        tt_plugin_reject *grown = realloc(reg->rejects, cap * sizeof *grown);
        if (!grown)
            return TT_ERR_NOMEM;
        reg->rejects = grown;
        reg->cap_rejects = cap;
    }
    tt_plugin_reject r = {tt_strdup(path), tt_strdup(why)};
    if (!r.path || !r.why) {
        free(r.path);
        free(r.why);
        return TT_ERR_NOMEM;
    }
    reg->rejects[reg->n_rejects++] = r;
    return TT_OK;
}

size_t tt_registry_reject_count(const tt_registry *reg)
{
    return reg ? reg->n_rejects : 0;
}

const tt_plugin_reject *tt_registry_reject_at(const tt_registry *reg, size_t i)
{
    return reg && i < reg->n_rejects ? &reg->rejects[i] : NULL;
}

/* A plugin whose file did not load has no trustworthy name (its entry may
 * never have returned), so the file name stands in for it: built-in and
 * third-party plugins alike are named after their file. */
static int file_names_plugin(const char *path, const char *name)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(name);
    return strncmp(base, name, n) == 0 && strcmp(base + n, ".so") == 0;
}

const tt_plugin_reject *tt_registry_find_reject(const tt_registry *reg, const char *name)
{
    if (!reg || !name)
        return NULL;
    for (size_t i = 0; i < reg->n_rejects; i++)
        if (file_names_plugin(reg->rejects[i].path, name))
            return &reg->rejects[i];
    return NULL;
}
