/*
 * test_plugin.c - the plugin loader, the validator and the host table.
 *
 * Rejections are tested twice: against real shared objects built from
 * tests/fixtures/fixture_plugin.c (the dlopen path, the "<file>: rejected:"
 * message, the library really being closed) and against in-memory
 * descriptors (every schema rule, without one .so per rule).
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "plugin/registry.h"
#include "util/clock.h"
#include "util/log.h"
#include "test_memstream.h"

#ifndef TT_FIXTURE_DIR
#error "TT_FIXTURE_DIR must be defined by the build"
#endif

#define ERRLEN 1024

static void fixture_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/%s", TT_FIXTURE_DIR, file);
}

/* 1 while the dynamic loader still has the file mapped. */
static int still_loaded(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return 0;
    dlclose(h);
    return 1;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* ---- fixtures on disk ------------------------------------------------------ */

typedef struct reject_case {
    const char *file;
    const char *expect;
} reject_case;

static const reject_case reject_cases[] = {
    {"fx_no_entry.so", "no entry symbol 'tt_plugin_entry_v1'"},
    {"fx_null_descriptor.so", "NULL descriptor"},
    {"fx_bad_magic.so", "bad magic 0x4c505455, expected 0x4c505454"},
    {"fx_bad_major.so", "ABI major 2, host supports 1"},
    {"fx_newer_minor.so", "ABI 1.11 is newer than the host's 1.10"},
    {"fx_short_struct.so", "smaller than the ABI 1.0 layout"},
    {"fx_bad_build_tag.so", "build tag 'real=f32;blasint=64', host expects 'real=f64;blasint=32'"},
    {"fx_missing_callback.so", "missing required callback 'fit'"},
    {"fx_caps_without_callback.so", "capability 'intervals' without an effect_interval callback"},
    {"fx_unknown_cap_bit.so", "unknown bits 0x200"},
    {"fx_bad_name.so", "name 'Bad-Name' does not match [a-z][a-z0-9_]{0,62}"},
    {"fx_bad_schema_default.so", "parameter 'offset': default 50 outside [-10, 10]"},
    {"fx_bad_schema_log_real.so", "parameter 'tolerance': log-real range [0, 1] needs lo > 0"},
    {"fx_bad_schema_dup_param.so", "parameter 'min_rows' is declared twice"},
    {"fx_bad_schema_choice.so", "parameter 'report': choice without choices"},
    {"fx_bad_cond_param.so", "condition 1: parameter 'no_such_param' is not in the schema"},
    {"fx_bad_cond_parent.so", "condition on 'offset': parent 'no_such_parent' is not in the schema"},
    {"fx_bad_cond_not_choice.so",
     "condition on 'offset': parent 'weighted' is a bool parameter, not a choice"},
    {"fx_bad_cond_value.so", "condition on 'offset': 'loud' is not a choice of 'report'"},
    {"fx_bad_cond_self.so", "condition on 'report': a parameter cannot be conditioned on itself"},
    {"fx_bad_cond_no_values.so", "condition on 'offset': no values of 'report' listed"},
    {"fx_bad_cond_twice.so", "parameter 'tolerance' has two conditions (entries 0 and 1)"},
    {"fx_bad_cond_null_table.so", "n_conditions is 2 but conditions is NULL"},
};
#define N_REJECT (sizeof reject_cases / sizeof reject_cases[0])

/* A registry that already holds fixture_good, so "unchanged" is tested
 * against a non-empty registry. */
static tt_registry *registry_with_good(void)
{
    tt_registry *reg = tt_registry_new();
    assert_non_null(reg);
    char path[512], err[ERRLEN];
    fixture_path(path, sizeof path, "fx_good.so");
    if (tt_registry_load_file(reg, path, err, sizeof err) != TT_OK)
        fail_msg("fx_good.so did not load: %s", err);
    return reg;
}

typedef struct reject_state {
    const reject_case *rc;
    tt_registry *reg;
} reject_state;

/* Setup/teardown own the registry so that a failed assertion in one case
 * cannot leave fixture_good loaded for the cases after it. */
static int reject_setup(void **state)
{
    reject_state *rs = calloc(1, sizeof *rs);
    if (!rs)
        return -1;
    rs->rc = *state;
    rs->reg = registry_with_good();
    *state = rs;
    return 0;
}

static int reject_teardown(void **state)
{
    reject_state *rs = *state;
    tt_registry_free(rs->reg);
    free(rs);
    return 0;
}

static void test_reject_fixture(void **state)
{
    const reject_state *rs = *state;
    const reject_case *rc = rs->rc;
    tt_registry *reg = rs->reg;
    const tt_plugin_entry *before = tt_registry_at(reg, 0);

    char path[512], err[ERRLEN] = "";
    fixture_path(path, sizeof path, rc->file);
    assert_int_equal(tt_registry_load_file(reg, path, err, sizeof err), TT_ERR_PLUGIN);

    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s: rejected: ", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("message does not start with \"%s\": \"%s\"", prefix, err);
    assert_contains(err, rc->expect);

    assert_int_equal(tt_registry_count(reg), 1);
    assert_ptr_equal(tt_registry_at(reg, 0), before);
    assert_non_null(tt_registry_find(reg, "fixture_good"));
    assert_false(still_loaded(path));
}

static void test_good_loads_and_duplicate_rejected(void **state)
{
    (void)state;
    tt_registry *reg = registry_with_good();
    char good[512], dup[512], err[ERRLEN];
    fixture_path(good, sizeof good, "fx_good.so");
    fixture_path(dup, sizeof dup, "fx_good_dup.so");

    assert_int_equal(tt_registry_count(reg), 1);
    const tt_plugin_entry *e = tt_registry_find(reg, "fixture_good");
    assert_non_null(e);
    assert_ptr_equal(e, tt_registry_at(reg, 0));
    assert_string_equal(e->path, good);
    assert_string_equal(e->desc->name, "fixture_good");
    assert_int_equal(e->desc->n_params, 5);
    assert_int_equal(e->desc->capabilities, TT_PLUGIN_CAP_MULTI_ARM);
    assert_null(tt_registry_find(reg, "nope"));
    assert_null(tt_registry_at(reg, 1));
    assert_true(still_loaded(good));

    assert_int_equal(tt_registry_load_file(reg, dup, err, sizeof err), TT_ERR_PLUGIN);
    assert_contains(err, dup);
    assert_contains(err, ": rejected: a plugin named 'fixture_good' is already registered");
    assert_contains(err, good);
    assert_int_equal(tt_registry_count(reg), 1);
    assert_ptr_equal(tt_registry_find(reg, "fixture_good"), e);
    assert_false(still_loaded(dup));

    /* The very same file again is a duplicate too, and must not close the
     * handle the registry holds (dlopen reference-counts it). */
    assert_int_equal(tt_registry_load_file(reg, good, err, sizeof err), TT_ERR_PLUGIN);
    assert_contains(err, "already registered");
    assert_true(still_loaded(good));
    assert_string_equal(tt_registry_find(reg, "fixture_good")->desc->name, "fixture_good");

    tt_registry_free(reg);
    assert_false(still_loaded(good));
}

static void test_entries_sorted_by_name(void **state)
{
    (void)state;
    tt_registry *reg = registry_with_good();
    char path[512], err[ERRLEN];
    fixture_path(path, sizeof path, "fx_good_alt.so");
    assert_int_equal(tt_registry_load_file(reg, path, err, sizeof err), TT_OK);
    assert_int_equal(tt_registry_count(reg), 2);
    assert_string_equal(tt_registry_at(reg, 0)->desc->name, "alt_fixture");
    assert_string_equal(tt_registry_at(reg, 1)->desc->name, "fixture_good");
    assert_string_equal(tt_registry_find(reg, "alt_fixture")->path, path);
    tt_registry_free(reg);
}

static void test_missing_file(void **state)
{
    (void)state;
    tt_registry *reg = tt_registry_new();
    char path[512], err[ERRLEN];
    fixture_path(path, sizeof path, "does_not_exist.so");
    assert_int_equal(tt_registry_load_file(reg, path, err, sizeof err), TT_ERR_IO);
    assert_contains(err, path);
    assert_contains(err, "rejected: cannot open");
    assert_int_equal(tt_registry_count(reg), 0);
    tt_registry_free(reg);
    tt_registry_free(NULL);
}

typedef struct reject_log {
    char *messages[64];
    size_t n;
} reject_log;

static void collect_reject(void *ctx, const char *message)
{
    reject_log *log = ctx;
    assert_true(log->n < 64);
    log->messages[log->n] = strdup(message);
    assert_non_null(log->messages[log->n]);
    log->n++;
}

static void test_load_dir(void **state)
{
    (void)state;
    tt_registry *reg = tt_registry_new();
    reject_log log = {0};
    size_t n_loaded = 99;
    char err[ERRLEN];
    assert_int_equal(tt_registry_load_dir(reg, TT_FIXTURE_DIR, collect_reject, &log, &n_loaded,
                                          err, sizeof err),
                     TT_OK);
    assert_int_equal(n_loaded, 2);
    assert_int_equal(tt_registry_count(reg), 2);
    assert_string_equal(tt_registry_at(reg, 0)->desc->name, "alt_fixture");
    assert_string_equal(tt_registry_at(reg, 1)->desc->name, "fixture_good");
    /* fx_good.so sorts before fx_good_dup.so, so the first file wins. */
    char good[512];
    fixture_path(good, sizeof good, "fx_good.so");
    assert_string_equal(tt_registry_find(reg, "fixture_good")->path, good);

    assert_int_equal(log.n, N_REJECT + 1);
    for (size_t i = 0; i < N_REJECT; i++) {
        char path[512], prefix[600];
        fixture_path(path, sizeof path, reject_cases[i].file);
        snprintf(prefix, sizeof prefix, "%s: rejected: ", path);
        size_t hits = 0;
        for (size_t j = 0; j < log.n; j++) {
            if (strncmp(log.messages[j], prefix, strlen(prefix)) == 0) {
                assert_contains(log.messages[j], reject_cases[i].expect);
                hits++;
            }
        }
        if (hits != 1)
            fail_msg("%s reported %zu times", reject_cases[i].file, hits);
    }
    size_t dup_hits = 0;
    for (size_t j = 0; j < log.n; j++)
        if (strstr(log.messages[j], "fx_good_dup.so: rejected: a plugin named 'fixture_good'"))
            dup_hits++;
    assert_int_equal(dup_hits, 1);
    /* Reported in file-name order. */
    for (size_t j = 1; j < log.n; j++)
        assert_true(strcmp(log.messages[j - 1], log.messages[j]) < 0);

    for (size_t j = 0; j < log.n; j++)
        free(log.messages[j]);
    tt_registry_free(reg);
}

static void test_load_dir_errors(void **state)
{
    (void)state;
    tt_registry *reg = tt_registry_new();
    char err[ERRLEN];
    size_t n_loaded = 7;
    assert_int_equal(tt_registry_load_dir(reg, TT_FIXTURE_DIR "/no_such_dir", NULL, NULL,
                                          &n_loaded, err, sizeof err),
                     TT_ERR_IO);
    assert_contains(err, "no_such_dir");
    assert_int_equal(n_loaded, 0);
    /* A NULL callback just skips the rejects. */
    assert_int_equal(tt_registry_load_dir(reg, TT_FIXTURE_DIR, NULL, NULL, NULL, err, sizeof err),
                     TT_OK);
    assert_int_equal(tt_registry_count(reg), 2);
    tt_registry_free(reg);
}

/* ---- validate() on in-memory descriptors ----------------------------------- */

static int dummy_create(const tt_plugin_host *host, const double *params, int n_arms,
                        void **instance, char *err, size_t errlen)
{
    (void)host, (void)params, (void)n_arms, (void)instance, (void)err, (void)errlen;
    return TT_OK;
}
static int dummy_fit(void *instance, const tt_plugin_data *train, char *err, size_t errlen)
{
    (void)instance, (void)train, (void)err, (void)errlen;
    return TT_OK;
}
static int dummy_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                        size_t errlen)
{
    (void)instance, (void)rows, (void)out, (void)err, (void)errlen;
    return TT_OK;
}
static int dummy_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                          double *hi, char *err, size_t errlen)
{
    (void)instance, (void)rows, (void)alpha, (void)lo, (void)hi, (void)err, (void)errlen;
    return TT_OK;
}
static int dummy_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    (void)instance, (void)sink, (void)err, (void)errlen;
    return TT_OK;
}
static int dummy_load(const tt_plugin_host *host, const tt_plugin_source *source,
                      void **instance, char *err, size_t errlen)
{
    (void)host, (void)source, (void)instance, (void)err, (void)errlen;
    return TT_OK;
}
static void dummy_destroy(void *instance)
{
    (void)instance;
}

static const char *const two_choices[] = {"a", "b", NULL};
static const char *const no_choices[] = {NULL};
static const char *const empty_choice[] = {"a", "", NULL};
static const char *const dup_choices[] = {"a", "b", "a", NULL};

enum { V_INT, V_REAL, V_LOG, V_BOOL, V_CHOICE, V_N };

static void base_descriptor(tt_plugin_descriptor *d, tt_plugin_param *p)
{
    p[V_INT] = (tt_plugin_param){.name = "depth", .kind = TT_PARAM_INT, .lo = 1, .hi = 8,
                                 .default_value = 3};
    p[V_REAL] = (tt_plugin_param){.name = "alpha", .kind = TT_PARAM_REAL, .lo = 0, .hi = 1,
                                  .default_value = 0.5};
    p[V_LOG] = (tt_plugin_param){.name = "lambda", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4,
                                 .hi = 10, .default_value = 1};
    p[V_BOOL] = (tt_plugin_param){.name = "honest", .kind = TT_PARAM_BOOL, .default_value = 1};
    p[V_CHOICE] = (tt_plugin_param){.name = "loss", .kind = TT_PARAM_CHOICE,
                                    .default_value = 1, .choices = two_choices};
    *d = (tt_plugin_descriptor){
        TT_PLUGIN_DESCRIPTOR_HEADER,
        .name = "in_memory",
        .version = "0",
        .capabilities = TT_PLUGIN_CAP_ALL,
        .params = p,
        .n_params = V_N,
        .create = dummy_create,
        .fit = dummy_fit,
        .effect = dummy_effect,
        .effect_interval = dummy_interval,
        .save = dummy_save,
        .load = dummy_load,
        .destroy = dummy_destroy,
    };
}

/* Names of 63 and 64 characters: the longest allowed and one too long. */
#define NAME63 "a23456789012345678901234567890123456789012345678901234567890123"
#define NAME64 NAME63 "4"

typedef struct validate_case {
    const char *what;
    const char *expect; /* NULL: must be accepted */
} validate_case;

enum {
    C_BASE, C_NO_PARAMS, C_BIGGER_STRUCT, C_OLDER_MINOR_OK, C_NAME63, C_DEFAULT_AT_BOUNDS,
    C_NULL, C_MAGIC, C_MAJOR0, C_MINOR, C_SHORT, C_TAG, C_TAG_NULL, C_NO_CREATE, C_NO_EFFECT,
    C_NO_DESTROY, C_INTERVALS, C_SAVE_ONLY, C_LOAD_ONLY, C_SAVE_LOAD_NONE, C_CAP_BIT,
    C_NAME_NULL, C_NAME_EMPTY, C_NAME_UPPER, C_NAME_DIGIT_FIRST, C_NAME64, C_PARAMS_NULL,
    C_PNAME_BAD, C_PNAME_NULL, C_PNAME_DUP, C_KIND_UNKNOWN, C_KIND_ZERO, C_INT_DEFAULT_FRAC,
    C_INT_BOUND_FRAC, C_REAL_DEFAULT_HIGH, C_REAL_DEFAULT_NAN, C_REAL_LO_GT_HI, C_REAL_INF,
    C_LOG_LO_ZERO, C_LOG_LO_NEG, C_BOOL_DEFAULT_2, C_CHOICE_NULL, C_CHOICE_EMPTY_LIST,
    C_CHOICE_EMPTY_STRING, C_CHOICE_DUP, C_CHOICE_DEFAULT_RANGE, C_CHOICE_DEFAULT_FRAC,
    C_COUNT
};

static const validate_case validate_cases[C_COUNT] = {
    [C_BASE] = {"all kinds, all capabilities", NULL},
    [C_NO_PARAMS] = {"no schema", NULL},
    [C_BIGGER_STRUCT] = {"struct from a later layout", NULL},
    [C_OLDER_MINOR_OK] = {"same minor", NULL},
    [C_NAME63] = {"63-character name", NULL},
    [C_DEFAULT_AT_BOUNDS] = {"defaults on the bounds", NULL},
    [C_NULL] = {"NULL", "NULL descriptor"},
    [C_MAGIC] = {"magic", "bad magic 0x00000000"},
    [C_MAJOR0] = {"major 0", "ABI major 0, host supports 1"},
    [C_MINOR] = {"minor", "ABI 1.11 is newer"},
    [C_SHORT] = {"short", "struct_size 8 is smaller"},
    [C_TAG] = {"tag", "build tag 'real=f64;blasint=64'"},
    [C_TAG_NULL] = {"tag NULL", "build tag '(null)'"},
    [C_NO_CREATE] = {"create", "missing required callback 'create'"},
    [C_NO_EFFECT] = {"effect", "missing required callback 'effect'"},
    [C_NO_DESTROY] = {"destroy", "missing required callback 'destroy'"},
    [C_INTERVALS] = {"intervals", "capability 'intervals' without an effect_interval"},
    [C_SAVE_ONLY] = {"save only", "capability 'save-load' without a load callback"},
    [C_LOAD_ONLY] = {"load only", "capability 'save-load' without a save callback"},
    [C_SAVE_LOAD_NONE] = {"neither", "capability 'save-load' without save and load callbacks"},
    [C_CAP_BIT] = {"cap bit", "unknown bits 0x200"},
    [C_NAME_NULL] = {"name NULL", "name '(null)' does not match"},
    [C_NAME_EMPTY] = {"name empty", "name '' does not match"},
    [C_NAME_UPPER] = {"name upper", "name 'In_memory' does not match"},
    [C_NAME_DIGIT_FIRST] = {"name digit", "name '1abc' does not match"},
    [C_NAME64] = {"name 64", "does not match [a-z][a-z0-9_]{0,62}"},
    [C_PARAMS_NULL] = {"params NULL", "n_params 5 but params is NULL"},
    [C_PNAME_BAD] = {"param name", "parameter 1: name 'Alpha' does not match"},
    [C_PNAME_NULL] = {"param name NULL", "parameter 2: name '(null)' does not match"},
    [C_PNAME_DUP] = {"param dup", "parameter 'alpha' is declared twice (entries 1 and 3)"},
    [C_KIND_UNKNOWN] = {"kind 99", "parameter 'alpha': unknown kind 99"},
    [C_KIND_ZERO] = {"kind 0", "parameter 'depth': unknown kind 0"},
    [C_INT_DEFAULT_FRAC] = {"int default", "parameter 'depth': int default 2.5 is not integral"},
    [C_INT_BOUND_FRAC] = {"int bound", "parameter 'depth': int range [1.5, 8] has non-integral"},
    [C_REAL_DEFAULT_HIGH] = {"default high", "parameter 'alpha': default 5 outside [0, 1]"},
    [C_REAL_DEFAULT_NAN] = {"default nan", "parameter 'alpha': default nan outside [0, 1]"},
    [C_REAL_LO_GT_HI] = {"lo > hi", "parameter 'alpha': empty range [1, 0]"},
    [C_REAL_INF] = {"inf", "parameter 'alpha': range [0, inf] is not finite"},
    [C_LOG_LO_ZERO] = {"log lo 0", "parameter 'lambda': log-real range [0, 10] needs lo > 0"},
    [C_LOG_LO_NEG] = {"log lo < 0", "parameter 'lambda': log-real range [-1, 10] needs lo > 0"},
    [C_BOOL_DEFAULT_2] = {"bool 2", "parameter 'honest': bool default 2 is not 0 or 1"},
    [C_CHOICE_NULL] = {"choices NULL", "parameter 'loss': choice without choices"},
    [C_CHOICE_EMPTY_LIST] = {"choices {}", "parameter 'loss': choice without choices"},
    [C_CHOICE_EMPTY_STRING] = {"choice ''", "parameter 'loss': choice 1 is empty"},
    [C_CHOICE_DUP] = {"choice dup", "parameter 'loss': choice 'a' appears twice"},
    [C_CHOICE_DEFAULT_RANGE] = {"choice index", "parameter 'loss': default index 2 is not in 0..1"},
    [C_CHOICE_DEFAULT_FRAC] = {"choice frac", "parameter 'loss': default index 0.5 is not in"},
};

static void mutate(int c, tt_plugin_descriptor *d, tt_plugin_param *p)
{
    switch (c) {
    case C_NO_PARAMS: d->params = NULL, d->n_params = 0; break;
    case C_BIGGER_STRUCT: d->struct_size += 64; break;
    case C_OLDER_MINOR_OK: d->abi_minor = TT_PLUGIN_ABI_MINOR; break;
    case C_NAME63: d->name = NAME63; break;
    case C_DEFAULT_AT_BOUNDS:
        p[V_INT].default_value = 8, p[V_REAL].default_value = 0;
        p[V_LOG].default_value = 1e-4, p[V_BOOL].default_value = 0;
        p[V_CHOICE].default_value = 0;
        p[V_REAL].lo = p[V_REAL].hi = 0; /* a one-point range is allowed */
        break;
    case C_MAGIC: d->magic = 0; break;
    case C_MAJOR0: d->abi_major = 0; break;
    case C_MINOR: d->abi_minor = TT_PLUGIN_ABI_MINOR + 1; break;
    case C_SHORT: d->struct_size = 8; break;
    case C_TAG: d->build_tag = "real=f64;blasint=64"; break;
    case C_TAG_NULL: d->build_tag = NULL; break;
    case C_NO_CREATE: d->create = NULL; break;
    case C_NO_EFFECT: d->effect = NULL; break;
    case C_NO_DESTROY: d->destroy = NULL; break;
    case C_INTERVALS: d->effect_interval = NULL; break;
    case C_SAVE_ONLY: d->load = NULL; break;
    case C_LOAD_ONLY: d->save = NULL; break;
    case C_SAVE_LOAD_NONE: d->save = NULL, d->load = NULL; break;
    case C_CAP_BIT: d->capabilities |= 1u << 9; break;
    case C_NAME_NULL: d->name = NULL; break;
    case C_NAME_EMPTY: d->name = ""; break;
    case C_NAME_UPPER: d->name = "In_memory"; break;
    case C_NAME_DIGIT_FIRST: d->name = "1abc"; break;
    case C_NAME64: d->name = NAME64; break;
    case C_PARAMS_NULL: d->params = NULL; break;
    case C_PNAME_BAD: p[V_REAL].name = "Alpha"; break;
    case C_PNAME_NULL: p[V_LOG].name = NULL; break;
    case C_PNAME_DUP: p[V_BOOL].name = "alpha"; break;
    case C_KIND_UNKNOWN: p[V_REAL].kind = (tt_param_kind)99; break;
    case C_KIND_ZERO: p[V_INT].kind = (tt_param_kind)0; break;
    case C_INT_DEFAULT_FRAC: p[V_INT].default_value = 2.5; break;
    case C_INT_BOUND_FRAC: p[V_INT].lo = 1.5; break;
    case C_REAL_DEFAULT_HIGH: p[V_REAL].default_value = 5; break;
    case C_REAL_DEFAULT_NAN: p[V_REAL].default_value = NAN; break;
    case C_REAL_LO_GT_HI: p[V_REAL].lo = 1, p[V_REAL].hi = 0; break;
    case C_REAL_INF: p[V_REAL].hi = INFINITY; break;
    case C_LOG_LO_ZERO: p[V_LOG].lo = 0; break;
    case C_LOG_LO_NEG: p[V_LOG].lo = -1; break;
    case C_BOOL_DEFAULT_2: p[V_BOOL].default_value = 2; break;
    case C_CHOICE_NULL: p[V_CHOICE].choices = NULL; break;
    case C_CHOICE_EMPTY_LIST: p[V_CHOICE].choices = no_choices; break;
    case C_CHOICE_EMPTY_STRING: p[V_CHOICE].choices = empty_choice; break;
    case C_CHOICE_DUP: p[V_CHOICE].choices = dup_choices; break;
    case C_CHOICE_DEFAULT_RANGE: p[V_CHOICE].default_value = 2; break;
    case C_CHOICE_DEFAULT_FRAC: p[V_CHOICE].default_value = 0.5; break;
    default: break;
    }
}

static void test_validate(void **state)
{
    (void)state;
    for (int c = 0; c < C_COUNT; c++) {
        const validate_case *vc = &validate_cases[c];
        assert_non_null(vc->what);
        tt_plugin_descriptor d;
        tt_plugin_param p[V_N];
        base_descriptor(&d, p);
        mutate(c, &d, p);
        char err[ERRLEN] = "";
        tt_status st = tt_plugin_validate(c == C_NULL ? NULL : &d, err, sizeof err);
        if (!vc->expect) {
            if (st != TT_OK)
                fail_msg("case '%s' rejected: %s", vc->what, err);
        } else {
            if (st != TT_ERR_PLUGIN)
                fail_msg("case '%s' accepted (status %d)", vc->what, (int)st);
            if (!strstr(err, vc->expect))
                fail_msg("case '%s': expected \"%s\" in \"%s\"", vc->what, vc->expect, err);
        }
    }
    /* A tiny or absent buffer must not be overrun or dereferenced. */
    tt_plugin_descriptor d;
    tt_plugin_param p[V_N];
    base_descriptor(&d, p);
    d.magic = 1;
    char tiny[4] = "xxx";
    assert_int_equal(tt_plugin_validate(&d, tiny, sizeof tiny), TT_ERR_PLUGIN);
    assert_string_equal(tiny, "bad");
    assert_int_equal(tt_plugin_validate(&d, NULL, 0), TT_ERR_PLUGIN);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(tt_param_kind_name(TT_PARAM_INT), "int");
    assert_string_equal(tt_param_kind_name(TT_PARAM_REAL), "real");
    assert_string_equal(tt_param_kind_name(TT_PARAM_LOG_REAL), "log-real");
    assert_string_equal(tt_param_kind_name(TT_PARAM_BOOL), "bool");
    assert_string_equal(tt_param_kind_name(TT_PARAM_CHOICE), "choice");
    assert_string_equal(tt_param_kind_name((tt_param_kind)42), "unknown");

    char buf[128];
    tt_capabilities_text(0, buf, sizeof buf);
    assert_string_equal(buf, "-");
    tt_capabilities_text(TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS, buf, sizeof buf);
    assert_string_equal(buf, "multi-arm,intervals");
    tt_capabilities_text(TT_PLUGIN_CAP_ALL, buf, sizeof buf);
    assert_string_equal(buf, "multi-arm,iv,intervals,save-load,needs-propensity,needs-outcome,"
                             "needs-arm-outcomes,needs-iv-nuisances,continuous-treatment");
    tt_capabilities_text(TT_PLUGIN_CAP_IV | 0x200u, buf, sizeof buf);
    assert_string_equal(buf, "iv,unknown(0x200)");
    char small[6];
    tt_capabilities_text(TT_PLUGIN_CAP_ALL, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

/* ---- the host table --------------------------------------------------------- */

typedef struct captured_log {
    char last[1100];
    tt_log_level level;
    int calls;
} captured_log;

static void capture_sink(void *ctx, tt_log_level level, const char *message)
{
    captured_log *c = ctx;
    snprintf(c->last, sizeof c->last, "%s", message);
    c->level = level;
    c->calls++;
}

static void test_host_table(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "probe"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 12345);
    assert_int_equal(host.struct_size, sizeof(tt_plugin_host));
    assert_int_equal(host.abi_minor, TT_PLUGIN_ABI_MINOR);
    assert_int_equal(host.seed, 12345);
    assert_int_equal(ctx.seed, 12345);
    assert_ptr_equal(host.host_ctx, &ctx);

    double *v = host.alloc(4 * sizeof *v);
    assert_non_null(v);
    double *z = host.alloc_zero(4, sizeof *z);
    assert_non_null(z);
    for (int i = 0; i < 4; i++)
        assert_true(z[i] == 0.0);
    v = host.resize(v, 1000 * sizeof *v);
    assert_non_null(v);
    host.release(v);
    host.release(z);

    captured_log cap = {0};
    tt_log_set_sink(capture_sink, &cap, TT_LOG_DEBUG);
    host.log(host.host_ctx, TT_LOG_WARN, "value %d of %s", 7, "x");
    assert_int_equal(cap.calls, 1);
    assert_string_equal(cap.last, "[probe] value 7 of x");
    assert_int_equal(cap.level, TT_LOG_WARN);
    tt_log_set_sink(NULL, NULL, TT_LOG_INFO);
}

static void test_should_stop(void **state)
{
    (void)state;
    volatile sig_atomic_t flag = 0;
    tt_host_ctx ctx = {.plugin_name = "probe", .stop_flag = &flag};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 1);
    assert_int_equal(host.should_stop(host.host_ctx), 0);
    flag = 1;
    assert_int_not_equal(host.should_stop(host.host_ctx), 0);
    flag = 0;
    assert_int_equal(host.should_stop(host.host_ctx), 0);

    ctx.deadline = tt_now() - 1.0;
    assert_int_not_equal(host.should_stop(host.host_ctx), 0);
    ctx.deadline = tt_now() + 3600.0;
    assert_int_equal(host.should_stop(host.host_ctx), 0);

    /* No flag at all means "never stop" apart from the deadline. */
    ctx.stop_flag = NULL;
    ctx.deadline = 0;
    assert_int_equal(host.should_stop(host.host_ctx), 0);
}

static void default_params(const tt_plugin_descriptor *d, double *out)
{
    for (size_t i = 0; i < d->n_params; i++)
        out[i] = d->params[i].default_value;
}

static void test_good_fixture_through_host(void **state)
{
    (void)state;
    tt_registry *reg = registry_with_good();
    const tt_plugin_descriptor *d = tt_registry_find(reg, "fixture_good")->desc;
    tt_host_ctx ctx = {.plugin_name = d->name};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 42);

    double par[5];
    assert_int_equal(d->n_params, 5);
    default_params(d, par);
    assert_string_equal(d->params[4].name, "report");
    par[4] = 1; /* verbose: logs each arm through the host */

    captured_log cap = {0};
    tt_log_set_sink(capture_sink, &cap, TT_LOG_DEBUG);

    char err[ERRLEN] = "";
    void *inst = NULL;
    assert_int_equal(d->create(&host, par, 3, &inst, err, sizeof err), TT_OK);
    assert_non_null(inst);

    /* Arm means 2, 5 and 11 (exact in binary floating point). */
    const int t[] = {0, 1, 2, 0, 1, 2};
    const double y[] = {1, 4, 10, 3, 6, 12};
    const double x[] = {0, 1, 2, 3, 4, 5};
    tt_plugin_data train = {.struct_size = sizeof train, .n = 6, .p_x = 1, .x = x,
                            .t = t, .y = y, .n_arms = 3};
    assert_int_equal(d->fit(inst, &train, err, sizeof err), TT_OK);
    assert_int_equal(cap.calls, 2);
    assert_string_equal(cap.last, "[fixture_good] arm 2: mean 11, effect 9");
    tt_log_set_sink(NULL, NULL, TT_LOG_INFO);

    const double xr[] = {-1, 7, 100};
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 3, .p_x = 1, .x = xr, .n_arms = 3};
    double out[6];
    assert_int_equal(d->effect(inst, &rows, out, err, sizeof err), TT_OK);
    const double want[6] = {3, 3, 3, 9, 9, 9}; /* column k-1 is arm k vs arm 0 */
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == want[i]);

    /* Weighted: arm 0 -> (1*1 + 3*3)/4 = 2.5, arm 1 -> (4 + 6*3)/4 = 5.5,
     * arm 2 -> (10 + 12*3)/4 = 11.5. */
    const double w[] = {1, 1, 1, 3, 3, 3};
    train.weight = w;
    assert_int_equal(d->fit(inst, &train, err, sizeof err), TT_OK);
    assert_int_equal(d->effect(inst, &rows, out, err, sizeof err), TT_OK);
    assert_true(out[0] == 3.0 && out[3] == 9.0);
    train.weight = NULL;

    /* A missing arm is the plugin's error, reported through err. */
    const int t_missing[] = {0, 1, 0, 1, 0, 1};
    train.t = t_missing;
    assert_int_equal(d->fit(inst, &train, err, sizeof err), TT_ERR_DATA);
    assert_contains(err, "arm 2 has 0 rows");
    d->destroy(inst);
    d->destroy(NULL);

    /* With offset 0.5 every effect moves by 0.5. */
    default_params(d, par);
    par[0] = 0.5;
    assert_int_equal(d->create(&host, par, 3, &inst, err, sizeof err), TT_OK);
    train.t = t;
    assert_int_equal(d->fit(inst, &train, err, sizeof err), TT_OK);
    assert_int_equal(d->effect(inst, &rows, out, err, sizeof err), TT_OK);
    assert_true(out[0] == 3.5 && out[5] == 9.5);
    d->destroy(inst);
    tt_registry_free(reg);
}

static void test_learner_through_host(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "probe"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);

    char err[ERRLEN] = "";
    tt_learner *lr = NULL;
    const char *const keys[] = {"alpha"};
    const double values[] = {1e-8};
    assert_int_equal(host.learner_create(host.host_ctx, "ridge", keys, values, 1, &lr, err,
                                         sizeof err),
                     TT_OK);
    assert_non_null(lr);

    enum { N = 20 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (double)i / 4.0 - 2.0;
        y[i] = 1.0 + 2.0 * x[i];
    }
    assert_int_equal(host.learner_fit(lr, N, 1, x, y, NULL, err, sizeof err), TT_OK);
    const double xq[] = {-3, 0, 0.5, 10};
    double pred[4];
    assert_int_equal(host.learner_predict(lr, 4, 1, xq, pred, err, sizeof err), TT_OK);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(pred[i] - (1.0 + 2.0 * xq[i])) < 1e-6);

    /* save/load through the table: the reloaded learner predicts the same. */
    membuf ms = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &ms, .write = mem_write};
    tt_plugin_source source = {.struct_size = sizeof source, .ctx = &ms, .read = mem_read};
    assert_int_equal(host.learner_save(lr, &sink, err, sizeof err), TT_OK);
    assert_true(ms.len > 0);
    tt_learner *again = NULL;
    assert_int_equal(host.learner_load(host.host_ctx, &source, &again, err, sizeof err), TT_OK);
    double pred2[4];
    assert_int_equal(host.learner_predict(again, 4, 1, xq, pred2, err, sizeof err), TT_OK);
    assert_memory_equal(pred, pred2, sizeof pred);
    host.learner_destroy(again);
    free(ms.data);

    host.learner_destroy(lr);
    host.learner_destroy(NULL);

    /* Errors come back as the core's status with its message. */
    lr = NULL;
    assert_int_equal(host.learner_create(host.host_ctx, "no_such_learner", NULL, NULL, 0, &lr,
                                         err, sizeof err),
                     TT_ERR_CONFIG);
    assert_contains(err, "no_such_learner");
}

int main(void)
{
    struct CMUnitTest tests[N_REJECT + 12];
    size_t n = 0;
    for (size_t i = 0; i < N_REJECT; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
            test_reject_fixture, reject_setup, reject_teardown, (void *)&reject_cases[i]);
        tests[n].name = reject_cases[i].file;
        n++;
    }
    const struct CMUnitTest rest[] = {
        cmocka_unit_test(test_good_loads_and_duplicate_rejected),
        cmocka_unit_test(test_entries_sorted_by_name),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_dir_errors),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_host_table),
        cmocka_unit_test(test_should_stop),
        cmocka_unit_test(test_good_fixture_through_host),
        cmocka_unit_test(test_learner_through_host),
    };
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        tests[n++] = rest[i];
    return _cmocka_run_group_tests("plugin", tests, n, NULL, NULL);
}
