/* test_model.c - the model file (model/model.h): a one-member model is
 * written byte for byte as format 4 (a fixture, with the plugin's file and
 * folder), a format-3 file (written before plugin files were recorded) still
 * reads verified with no file, and a format-1 file written before checksums
 * (a fixture made by that writer) still reads, as one member of weight 1
 * marked unverified; a three-member model round-trips every field, weights
 * and plugin files exactly; every truncation of a format-4 file and
 * every flip of 1 to 4 bits tried is "damaged model file", never a model;
 * behind the checksum every corrupt count is an error naming the
 * file, never a crash or a huge allocation; a newer format says so; the
 * writer refuses what the format cannot hold. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/model.h"
#include "util/crc32.h"

/* Written by tautune's model writer before checksums (format 1) for the
 * model of one_member_model(): old files like it must keep reading. */
static const char FORMAT1_FIXTURE[] =
    "tautune-model 1\n"
    "plugin 10 dr_learner\n"
    "version 5 1.2.0\n"
    "seed 18446744073709551615\n"
    "params 3 0.10000000000000001 3 -2.4999999999999999e-07\n"
    "arms 2\n"
    "s 7 control\n"
    "s 7 treated\n"
    "id 2 id\n"
    "x 2\n"
    "s 3 age\n"
    "s 3 x 2\n"
    "w 1\n"
    "s 2 w1\n"
    "prep 0\n"
    "\n"
    "prop_width 0\n"
    "propensity 0\n"
    "outcome 0\n"
    "arm_outcomes 0\n"
    "state 8\n"
    "a\n"
    "\0"
    "\377end\n"
    "\n"
    "end\n";

/* The same model as the writer wrote it before plugin files were recorded
 * (format 3); the checksum line is the CRC-32 of every byte before it
 * (computed with Python's zlib). */
static const char FORMAT3_FIXTURE[] =
    "tautune-model 3\n"
    "members 1\n"
    "plugin 10 dr_learner\n"
    "version 5 1.2.0\n"
    "seed 18446744073709551615\n"
    "params 3 0.10000000000000001 3 -2.4999999999999999e-07\n"
    "weight 1\n"
    "arms 2\n"
    "s 7 control\n"
    "s 7 treated\n"
    "id 2 id\n"
    "x 2\n"
    "s 3 age\n"
    "s 3 x 2\n"
    "w 1\n"
    "s 2 w1\n"
    "prep 0\n"
    "\n"
    "prop_width 0\n"
    "propensity 0\n"
    "outcome 0\n"
    "arm_outcomes 0\n"
    "state 8\n"
    "a\n"
    "\0"
    "\377end\n"
    "\n"
    "end\n"
    "crc32 6ec92cbf\n";

/* The same model as the writer writes it now (format 4): format 3 with the
 * plugin's file and folder after its version (a folder with a space: the
 * strings are length-prefixed). Checksum by Python's zlib. */
static const char FORMAT4_FIXTURE[] =
    "tautune-model 4\n"
    "members 1\n"
    "plugin 10 dr_learner\n"
    "version 5 1.2.0\n"
    "plugin_file 13 dr_learner.so\n"
    "plugin_dir 20 /opt/tautune plugins\n"
    "seed 18446744073709551615\n"
    "params 3 0.10000000000000001 3 -2.4999999999999999e-07\n"
    "weight 1\n"
    "arms 2\n"
    "s 7 control\n"
    "s 7 treated\n"
    "id 2 id\n"
    "x 2\n"
    "s 3 age\n"
    "s 3 x 2\n"
    "w 1\n"
    "s 2 w1\n"
    "prep 0\n"
    "\n"
    "prop_width 0\n"
    "propensity 0\n"
    "outcome 0\n"
    "arm_outcomes 0\n"
    "state 8\n"
    "a\n"
    "\0"
    "\377end\n"
    "\n"
    "end\n"
    "crc32 e6b6e575\n";

static char g_dir[] = "/tmp/tt_test_model_XXXXXX";

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", g_dir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

static void spill(const char *path, const void *bytes, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
}

static double g_params[3] = {0.1, 3, -2.5e-7};
static char *g_arms[] = {"control", "treated"};
static char *g_x[] = {"age", "x 2"};
static char *g_w[] = {"w1"};
static unsigned char g_state[] = {'a', '\n', 0, 255, 'e', 'n', 'd', '\n'};

static tt_model one_member_model(tt_model_member *one)
{
    *one = (tt_model_member){.plugin = "dr_learner", .plugin_version = "1.2.0",
                             .plugin_file = "dr_learner.so",
                             .plugin_dir = "/opt/tautune plugins", .n_params = 3,
                             .params = g_params, .seed = UINT64_MAX, .state = g_state,
                             .state_len = sizeof g_state, .weight = 1};
    return (tt_model){.n_members = 1, .members = one, .n_arms = 2, .arm_labels = g_arms,
                      .id_name = "id", .p_x = 2, .p_w = 1, .x_names = g_x, .w_names = g_w};
}

/* with_file: the file read is of format 4 (older ones have no plugin file). */
static void assert_one_member(const tt_model *r, int with_file)
{
    assert_int_equal(r->n_members, 1);
    const tt_model_member *mb = &r->members[0];
    assert_string_equal(mb->plugin, "dr_learner");
    assert_string_equal(mb->plugin_version, "1.2.0");
    if (with_file) {
        assert_string_equal(mb->plugin_file, "dr_learner.so");
        assert_string_equal(mb->plugin_dir, "/opt/tautune plugins");
    } else {
        assert_null(mb->plugin_file);
        assert_null(mb->plugin_dir);
    }
    assert_true(mb->seed == UINT64_MAX);
    assert_int_equal(mb->n_params, 3);
    assert_memory_equal(mb->params, g_params, sizeof g_params);
    assert_int_equal(mb->state_len, sizeof g_state);
    assert_memory_equal(mb->state, g_state, sizeof g_state);
    assert_true(mb->weight == 1.0);
    assert_int_equal(r->n_arms, 2);
    assert_string_equal(r->arm_labels[1], "treated");
    assert_string_equal(r->id_name, "id");
    assert_int_equal(r->p_x, 2);
    assert_string_equal(r->x_names[1], "x 2");
    assert_int_equal(r->p_w, 1);
    assert_null(r->prep);
    assert_null(r->propensity);
    assert_null(r->arm_outcome);
}

static void test_one_member_formats_4_3_and_1(void **state)
{
    (void)state;
    tt_model_member one;
    tt_model m = one_member_model(&one);
    char err[512];
    for (int w = 0; w < 2; w++) {
        one.weight = w ? 1.0 : 0.0; /* a lone member's weight is 1 whatever it says */
        assert_int_equal(tt_model_write(path_of("one.ttm"), &m, err, sizeof err), TT_OK);
        size_t len;
        unsigned char *bytes = slurp(path_of("one.ttm"), &len);
        assert_int_equal(len, sizeof FORMAT4_FIXTURE - 1);
        assert_memory_equal(bytes, FORMAT4_FIXTURE, len);
        free(bytes);
    }
    /* The checksum lines are the CRC-32 of the bytes before them. */
    const char *fixtures[] = {FORMAT3_FIXTURE, FORMAT4_FIXTURE};
    const size_t sizes[] = {sizeof FORMAT3_FIXTURE - 1, sizeof FORMAT4_FIXTURE - 1};
    for (int f = 0; f < 2; f++) {
        char line[16];
        snprintf(line, sizeof line, "crc32 %08lx\n",
                 (unsigned long)tt_crc32(0, fixtures[f], sizes[f] - 15));
        assert_string_equal(fixtures[f] + sizes[f] - 15, line);
    }
    tt_model *r = NULL;
    assert_int_equal(tt_model_read(path_of("one.ttm"), &r, err, sizeof err), TT_OK);
    assert_one_member(r, 1);
    assert_int_equal(r->unverified, 0);
    tt_model_free(r);
    /* A member without a known file is written "-" and read back NULL. */
    one.plugin_file = one.plugin_dir = NULL;
    assert_int_equal(tt_model_write(path_of("nofile.ttm"), &m, err, sizeof err), TT_OK);
    r = NULL;
    assert_int_equal(tt_model_read(path_of("nofile.ttm"), &r, err, sizeof err), TT_OK);
    assert_one_member(r, 0);
    tt_model_free(r);
    /* Format 3 (checksum, no plugin file) reads verified, without a file. */
    spill(path_of("fixture3.ttm"), FORMAT3_FIXTURE, sizeof FORMAT3_FIXTURE - 1);
    r = NULL;
    assert_int_equal(tt_model_read(path_of("fixture3.ttm"), &r, err, sizeof err), TT_OK);
    assert_one_member(r, 0);
    assert_int_equal(r->unverified, 0);
    tt_model_free(r);
    /* A model written before checksums reads as it did, marked unverified. */
    spill(path_of("fixture.ttm"), FORMAT1_FIXTURE, sizeof FORMAT1_FIXTURE - 1);
    r = NULL;
    assert_int_equal(tt_model_read(path_of("fixture.ttm"), &r, err, sizeof err), TT_OK);
    assert_one_member(r, 0);
    assert_int_equal(r->unverified, 1);
    tt_model_free(r);
    tt_model_free(NULL);
}

/* ---- three members ------------------------------------------------------------ */

static tt_learner *fitted_ridge(double shift)
{
    enum { N = 20 };
    double x[N * 2], y[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = sin((double)i);
        x[N + i] = cos(0.3 * (double)i);
        y[i] = shift + 2 * x[i] - x[N + i] + 0.1 * sin(7.0 * (double)i);
    }
    tt_learner *l = NULL;
    char err[256];
    assert_int_equal(tt_learner_create("ridge", NULL, NULL, 0, 1, &l, err, sizeof err), TT_OK);
    assert_int_equal(tt_learner_fit(l, N, 2, x, y, NULL, err, sizeof err), TT_OK);
    return l;
}

static void assert_same_predictions(const tt_learner *a, const tt_learner *b)
{
    const double x[6] = {0.1, -2, 3.5, 0.7, 0.2, -1};
    double pa[3], pb[3];
    char err[256];
    assert_non_null(b);
    assert_int_equal(tt_learner_predict(a, 3, 2, x, pa, err, sizeof err), TT_OK);
    assert_int_equal(tt_learner_predict(b, 3, 2, x, pb, err, sizeof err), TT_OK);
    assert_memory_equal(pa, pb, sizeof pa);
}

typedef struct three {
    tt_model_member mb[3];
    tt_learner *prop, *outcome, *mu[3];
    tt_model m;
} three;

static double g_p0[2] = {0.25, 7}, g_p2[4] = {1e-300, -0.0, 12345.678, 1.0 / 3};
static unsigned char g_s0[] = "dml_linear state\n\0with a NUL", g_s2[] = {'\n', '\n', 0};
static char *g_arms3[] = {"a", "b b", "c"};

static void three_make(three *t)
{
    memset(t, 0, sizeof *t);
    t->mb[0] = (tt_model_member){.plugin = "dml_linear", .plugin_version = "0.9",
                                 .plugin_file = "dml_linear.so",
                                 .plugin_dir = "/usr/lib/tautune/plugins", .n_params = 2,
                                 .params = g_p0, .seed = 17, .state = g_s0,
                                 .state_len = sizeof g_s0, .weight = 0.1};
    /* A member without version, plugin file, hyperparameters or state. */
    t->mb[1] = (tt_model_member){.plugin = "diff_in_means", .seed = 0, .weight = 0.7};
    t->mb[2] = (tt_model_member){.plugin = "x_learner", .plugin_version = "2.0.1-rc",
                                 .plugin_file = "x learner.so", .plugin_dir = "/",
                                 .n_params = 4, .params = g_p2, .seed = (uint64_t)1 << 63,
                                 .state = g_s2, .state_len = sizeof g_s2, .weight = 0.2};
    t->prop = fitted_ridge(0.5);
    t->outcome = fitted_ridge(-1);
    for (int k = 0; k < 3; k++)
        t->mu[k] = fitted_ridge(k);
    t->m = (tt_model){.n_members = 3, .members = t->mb, .n_arms = 3, .arm_labels = g_arms3,
                      .p_x = 2, .x_names = g_x, .propensity = t->prop, .prop_width = 1,
                      .outcome = t->outcome, .arm_outcome = t->mu};
}

static void three_free(three *t)
{
    tt_learner_destroy(t->prop);
    tt_learner_destroy(t->outcome);
    for (int k = 0; k < 3; k++)
        tt_learner_destroy(t->mu[k]);
}

static void test_three_members_round_trip(void **state)
{
    (void)state;
    three t;
    three_make(&t);
    char err[512];
    assert_int_equal(tt_model_write(path_of("three.ttm"), &t.m, err, sizeof err), TT_OK);
    size_t len;
    unsigned char *bytes = slurp(path_of("three.ttm"), &len);
    assert_memory_equal(bytes, "tautune-model 4\nmembers 3\n", 26);
    free(bytes);
    tt_model *r = NULL;
    assert_int_equal(tt_model_read(path_of("three.ttm"), &r, err, sizeof err), TT_OK);
    assert_int_equal(r->n_members, 3);
    assert_int_equal(r->unverified, 0);
    for (size_t k = 0; k < 3; k++) {
        const tt_model_member *a = &t.mb[k], *b = &r->members[k];
        assert_string_equal(a->plugin, b->plugin);
        const char *want[3] = {a->plugin_version, a->plugin_file, a->plugin_dir};
        const char *got[3] = {b->plugin_version, b->plugin_file, b->plugin_dir};
        for (int f = 0; f < 3; f++)
            if (want[f])
                assert_string_equal(want[f], got[f]);
            else
                assert_null(got[f]);
        assert_int_equal(a->n_params, b->n_params);
        if (a->n_params)
            assert_memory_equal(a->params, b->params, sizeof(double) * a->n_params);
        assert_true(a->seed == b->seed);
        assert_int_equal(a->state_len, b->state_len);
        if (a->state_len)
            assert_memory_equal(a->state, b->state, a->state_len);
        assert_memory_equal(&a->weight, &b->weight, sizeof a->weight);
    }
    assert_true(signbit(r->members[2].params[1])); /* -0 stays -0 */
    assert_int_equal(r->n_arms, 3);
    for (int k = 0; k < 3; k++)
        assert_string_equal(r->arm_labels[k], g_arms3[k]);
    assert_null(r->id_name);
    assert_int_equal(r->p_x, 2);
    assert_string_equal(r->x_names[0], "age");
    assert_int_equal(r->p_w, 0);
    assert_null(r->prep);
    assert_int_equal(r->prop_width, 1);
    assert_same_predictions(t.prop, r->propensity);
    assert_same_predictions(t.outcome, r->outcome);
    assert_non_null(r->arm_outcome);
    for (int k = 0; k < 3; k++)
        assert_same_predictions(t.mu[k], r->arm_outcome[k]);

    /* Written again from what was read: the same bytes. */
    assert_int_equal(tt_model_write(path_of("again.ttm"), r, err, sizeof err), TT_OK);
    size_t len2;
    unsigned char *b1 = slurp(path_of("three.ttm"), &len), *b2 = slurp(path_of("again.ttm"), &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(b1, b2, len);
    free(b1);
    free(b2);
    tt_model_free(r);
    three_free(&t);
}

/* ---- damaged, truncated and corrupt files ------------------------------------- */

/* name holding bytes must not read; err names the file, says "damaged model
 * file" unless why_not_damaged, and contains why (when given). */
static void expect_refused(const char *name, const void *bytes, size_t len, const char *why,
                           int why_not_damaged)
{
    const char *path = path_of(name);
    spill(path, bytes, len);
    tt_model *r = (tt_model *)1;
    char err[1024] = "";
    tt_status st = tt_model_read(path, &r, err, sizeof err);
    if (st == TT_OK)
        fail_msg("%s (%zu bytes) was read", name, len);
    assert_null(r);
    assert_non_null(strstr(err, path));
    if (!why_not_damaged && !strstr(err, "damaged model file"))
        fail_msg("%s: '%s' does not say 'damaged model file'", name, err);
    if (why && !strstr(err, why))
        fail_msg("%s: '%s' does not say '%s'", name, err, why);
}

static void expect_unreadable(const char *name, const void *bytes, size_t len, const char *why)
{
    expect_refused(name, bytes, len, why, 0);
}

/* The three-member model as written, in *len bytes (the caller frees). */
static unsigned char *three_bytes(size_t *len)
{
    three t;
    three_make(&t);
    char err[512];
    assert_int_equal(tt_model_write(path_of("three.ttm"), &t.m, err, sizeof err), TT_OK);
    three_free(&t);
    return slurp(path_of("three.ttm"), len);
}

/* States given as files (how a run's refit hands them over, so the main
 * process never holds them) make the same bytes as states in memory; a
 * file that is not the length announced is refused, naming it. */
static void test_states_from_files(void **state)
{
    (void)state;
    three t;
    three_make(&t);
    char err[512];
    assert_int_equal(tt_model_write(path_of("mem.ttm"), &t.m, err, sizeof err), TT_OK);
    char files[3][256];
    unsigned char *kept[3];
    for (size_t k = 0; k < 3; k++) {
        snprintf(files[k], sizeof files[k], "%s", path_of(k == 0 ? "s0" : k == 1 ? "s1" : "s2"));
        FILE *fp = fopen(files[k], "wb");
        assert_non_null(fp);
        if (t.mb[k].state_len) /* member 1 has none: an empty file */
            assert_int_equal(fwrite(t.mb[k].state, 1, t.mb[k].state_len, fp),
                             t.mb[k].state_len);
        fclose(fp);
        kept[k] = t.mb[k].state;
        t.mb[k].state = NULL;
        t.mb[k].state_file = files[k];
    }
    assert_int_equal(tt_model_write(path_of("files.ttm"), &t.m, err, sizeof err), TT_OK);
    size_t la, lb;
    unsigned char *a = slurp(path_of("mem.ttm"), &la), *b = slurp(path_of("files.ttm"), &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    /* One byte short of what the member says. */
    t.mb[2].state_len++;
    assert_int_not_equal(tt_model_write(path_of("short.ttm"), &t.m, err, sizeof err), TT_OK);
    assert_non_null(strstr(err, files[2]));
    t.mb[2].state_len--;
    for (size_t k = 0; k < 3; k++) {
        t.mb[k].state = kept[k];
        t.mb[k].state_file = NULL;
        unlink(files[k]);
    }
    unlink(path_of("mem.ttm"));
    unlink(path_of("files.ttm"));
    three_free(&t);
}

static void test_truncated_format_4(void **state)
{
    (void)state;
    size_t len;
    unsigned char *bytes = three_bytes(&len);
    /* Every prefix, the one that ends right after "end" included. */
    for (size_t cut = 0; cut < len; cut++)
        expect_unreadable("cut.ttm", bytes, cut, NULL);
    free(bytes);
}

/* Single-bit flips of a format-4 file (every bit of its first and last 64
 * bytes, where the header and the checksum line are, and one bit of every
 * other byte) and 1000 flips of 2 to 4 bits at seeded positions are
 * refused: before the checksum, some of them changed numbers the file still
 * parsed with. */
static void test_flipped_bits(void **state)
{
    (void)state;
    size_t len;
    unsigned char *bytes = three_bytes(&len);
    const char *path = path_of("flip.ttm");
    char err[1024];
    for (size_t bit = 0; bit < 8 * len; bit++) {
        size_t byte = bit / 8;
        if (byte >= 64 && byte + 64 < len && bit % 8 != byte % 8)
            continue;
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        spill(path, bytes, len);
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        tt_model *r = NULL;
        if (tt_model_read(path, &r, err, sizeof err) == TT_OK)
            fail_msg("bit %zu flipped: the model was read", bit);
        if (!strstr(err, "damaged model file"))
            fail_msg("bit %zu flipped: %s", bit, err);
    }
    uint64_t x = 20;
    for (int trial = 0; trial < 1000; trial++) {
        size_t at[4];
        int k = 2 + trial % 3;
        for (int j = 0; j < k; j++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            at[j] = (size_t)((x >> 16) % (8 * len));
            for (int i = 0; i < j; i++)
                if (at[i] == at[j]) /* the same bit twice would undo the flip */
                    j--;
        }
        for (int j = 0; j < k; j++)
            bytes[at[j] / 8] ^= (unsigned char)(1u << (at[j] % 8));
        spill(path, bytes, len);
        for (int j = 0; j < k; j++)
            bytes[at[j] / 8] ^= (unsigned char)(1u << (at[j] % 8));
        tt_model *r = NULL;
        if (tt_model_read(path, &r, err, sizeof err) == TT_OK || !strstr(err, "damaged model file"))
            fail_msg("%d bits flipped at %zu, %zu, ...: %s", k, at[0], at[1], err);
    }
    /* The untouched bytes still read. */
    spill(path, bytes, len);
    tt_model *r = NULL;
    assert_int_equal(tt_model_read(path, &r, err, sizeof err), TT_OK);
    tt_model_free(r);
    free(bytes);
}

/* Copy of bytes with the first `from` replaced by `to`. */
static char *edited(const unsigned char *bytes, size_t len, const char *from, const char *to,
                    size_t *out_len)
{
    const char *at = memmem(bytes, len, from, strlen(from));
    assert_non_null(at);
    size_t head = (size_t)(at - (const char *)bytes), tail = len - head - strlen(from);
    char *e = malloc(len + strlen(to) + 1);
    memcpy(e, bytes, head);
    memcpy(e + head, to, strlen(to));
    memcpy(e + head + strlen(to), at + strlen(from), tail);
    *out_len = head + strlen(to) + tail;
    return e;
}

/* A format-3 or 4 file's bytes with its checksum line made again for what the
 * body now holds: what gets past the checksum reaches the parser. */
static void reseal(char *bytes, size_t len)
{
    char line[16];
    snprintf(line, sizeof line, "crc32 %08lx\n", (unsigned long)tt_crc32(0, bytes, len - 15));
    memcpy(bytes + len - 15, line, 15);
}

/* A format-4 file's bytes as an older writer would have written them:
 * version digit v ('2' or '3') and no plugin_file/plugin_dir lines (the
 * member headers come before any saved state, so the lines are found by
 * their keys there). The checksum line is left as it was. */
static char *as_format(const unsigned char *bytes, size_t len, char v, size_t *out_len)
{
    char *e = malloc(len);
    assert_non_null(e);
    const char *arms = memmem(bytes, len, "\narms ", 6);
    assert_non_null(arms);
    size_t head = (size_t)(arms - (const char *)bytes), n = 0;
    for (size_t i = 0; i < head;) {
        const char *line = (const char *)bytes + i;
        const char *nl = memchr(line, '\n', head + 1 - i);
        size_t l = (size_t)(nl - line) + 1;
        if (strncmp(line, "plugin_file ", 12) != 0 && strncmp(line, "plugin_dir ", 11) != 0) {
            memcpy(e + n, line, l);
            n += l;
        }
        i += l;
    }
    memcpy(e + n, bytes + head + 1, len - head - 1);
    n += len - head - 1;
    assert_memory_equal(e, "tautune-model 4", 15);
    e[14] = v;
    *out_len = n;
    return e;
}

static void test_corrupt_format_4(void **state)
{
    (void)state;
    size_t len, elen;
    unsigned char *bytes = three_bytes(&len);
    static const struct {
        const char *from, *to, *why;
    } cases[] = {
        {"members 3", "members 4000000000", "members"},
        {"members 3", "members 0", "members"},
        {"members 3", "members 1", "sum to 1"},   /* weight 0.1 alone */
        {"members 3", "members 4", NULL},          /* the 4th header is the arms */
        {"members 3", "members 2", NULL},          /* weights 0.1 + 0.7 */
        {"weight 0.69999999999999996", "weight 0.6", "sum to 1"},
        {"weight 0.69999999999999996", "weight -0.7", "weight"},
        {"weight 0.69999999999999996", "weight nan", "weight"},
        {"state 0\n", "state 1099511627775\n", "state"}, /* 2^40 - 1 bytes: not in the file */
        {"state 0\n", "state 99999999999999999999\n", "state"},
        {"x 2\n", "x 9999999\n", NULL},
        {"arms 3\n", "arms 99999\n", "arms"},
        {"params 4 ", "params 4000000000 ", NULL},
        {"tautune-model 4", "tautune-model x", "format version"},
        {"tautune-model 4", "tautune-model 0", "format version 0"},
        {"plugin 10 dml_linear", "plugin -", "plugin"},
        {"plugin_file 13 dml_linear.so", "plugin_file 99 dml_linear.so", "plugin_dir"},
        {"plugin_dir 24 ", "plugin_dir 4000000000 ", "plugin_dir"},
        {"plugin_file 13 dml_linear.so\n", "", "plugin_file"}, /* a line missing */
        /* Format 3 has no plugin files: the format-4 lines are damage there. */
        {"tautune-model 4", "tautune-model 3", "seed"},
        {"end\ncrc32", "end\nEND\ncrc32", "bytes after 'end'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *e = edited(bytes, len, cases[c].from, cases[c].to, &elen);
        /* As edited, the checksum gives it away... */
        expect_unreadable("corrupt.ttm", e, elen, "do not match their checksum");
        /* ...and resealed, the parser does. */
        reseal(e, elen);
        expect_unreadable("corrupt.ttm", e, elen, cases[c].why);
        free(e);
    }
    /* A newer format says so (resealed: a future tautune's checksum). */
    char *e = edited(bytes, len, "tautune-model 4", "tautune-model 5", &elen);
    reseal(e, elen);
    expect_refused("new.ttm", e, elen, "version 5 was written by a newer tautune", 1);
    free(e);
    expect_refused("new.ttm", "tautune-model 9\n", 16, "written by a newer tautune", 1);
    /* Format 4 without its checksum line, or with one in capitals. */
    expect_unreadable("nosum.ttm", bytes, len - 15, "no checksum line");
    e = malloc(len);
    memcpy(e, bytes, len);
    for (size_t i = len - 9; i < len - 1; i++)
        if (e[i] >= 'a' && e[i] <= 'f')
            e[i] = (char)(e[i] - 'a' + 'A');
    if (memcmp(e, bytes, len) != 0) /* the checksum has a letter */
        expect_unreadable("upper.ttm", e, len, "no checksum line");
    free(e);
    /* Another kind of file. */
    expect_unreadable("csv.ttm", "a,b\n1,2\n", 8, "not a model at all");
    expect_unreadable("empty.ttm", "", 0, "not a model at all");
    /* A format-2 file (an ensemble written before checksums and plugin
     * files) still reads; bytes after its "end" do not. */
    e = as_format(bytes, len, '2', &elen);
    tt_model *r = NULL;
    char err[512];
    spill(path_of("old2.ttm"), e, elen - 15);
    assert_int_equal(tt_model_read(path_of("old2.ttm"), &r, err, sizeof err), TT_OK);
    assert_int_equal(r->n_members, 3);
    assert_int_equal(r->unverified, 1);
    tt_model_free(r);
    memcpy(e + elen - 15, "more\n", 5);
    expect_unreadable("old2.ttm", e, elen - 10, "bytes after 'end'");
    free(e);
    /* A format-3 ensemble (checksum, no plugin files) reads verified. */
    e = as_format(bytes, len, '3', &elen);
    reseal(e, elen);
    r = NULL;
    spill(path_of("old3.ttm"), e, elen);
    assert_int_equal(tt_model_read(path_of("old3.ttm"), &r, err, sizeof err), TT_OK);
    assert_int_equal(r->n_members, 3);
    assert_int_equal(r->unverified, 0);
    assert_null(r->members[0].plugin_file);
    assert_string_equal(r->members[2].plugin, "x_learner");
    tt_model_free(r);
    free(e);
    free(bytes);
    r = NULL;
    assert_int_equal(tt_model_read(path_of("missing.ttm"), &r, err, sizeof err), TT_ERR_IO);
    assert_null(r);
}

static void test_writer_refusals(void **state)
{
    (void)state;
    three t;
    three_make(&t);
    char err[512];
    tt_model m = t.m;
    m.n_members = 0;
    assert_int_equal(tt_model_write(path_of("bad.ttm"), &m, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "at least one member"));
    m = t.m;
    t.mb[1].weight = 0.6;
    assert_int_equal(tt_model_write(path_of("bad.ttm"), &m, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "sum to"));
    t.mb[1].weight = 0;
    t.mb[0].weight = 0.8;
    assert_int_equal(tt_model_write(path_of("bad.ttm"), &m, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "positive"));
    t.mb[0].weight = 0.1;
    t.mb[1].weight = 0.7;
    t.mb[2].plugin = NULL;
    assert_int_equal(tt_model_write(path_of("bad.ttm"), &m, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "no plugin name"));
    assert_int_not_equal(access(path_of("bad.ttm"), F_OK), 0); /* nothing written */
    three_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_member_formats_4_3_and_1),
        cmocka_unit_test(test_three_members_round_trip),
        cmocka_unit_test(test_states_from_files),
        cmocka_unit_test(test_truncated_format_4),
        cmocka_unit_test(test_flipped_bits),
        cmocka_unit_test(test_corrupt_format_4),
        cmocka_unit_test(test_writer_refusals),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
