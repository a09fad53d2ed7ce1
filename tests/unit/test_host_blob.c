/* test_host_blob.c - the host table's blob writer and reader (ABI 1.10,
 * plugin/host_blob.h), used as a plugin would, through tt_plugin_host:
 *   - every kind of record reads back exactly (doubles bit for bit, a
 *     learner and a forest predicting the same), found by name in any order,
 *     and the reader takes only the blob's bytes from a longer stream;
 *   - a missing record, another kind or another count fails with a message
 *     naming the record, and the failure is sticky (later gets do nothing);
 *   - every single-byte change and every cut of the blob is refused at open,
 *     never read into other values; another plugin's tag is refused;
 *   - a damaged length is refused without allocating it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "test_memstream.h"

enum { N = 60, P = 2 };

typedef struct fixture {
    tt_host_ctx ctx;
    tt_plugin_host host;
    double x[N * P], y[N];
    tt_learner *learner;
    tt_forest *forest;
    membuf blob;  /* a blob, then "TAIL" */
} fixture;

static const double g_values[4] = {0.1, -1e300, 5e-324, 1.0 / 3.0};
static const int64_t g_ints[3] = {INT64_MIN, 0, 42};

static void write_blob(fixture *f, membuf *m, const char *tag)
{
    const tt_plugin_host *h = &f->host;
    tt_plugin_sink sink = mem_sink(m);
    char err[256];
    tt_blob_writer *w = h->blob_writer_new(h->host_ctx, tag, 3);
    h->blob_put_doubles(w, "values", g_values, 4);
    h->blob_put_ints(w, "ints", g_ints, 3);
    h->blob_put_text(w, "note", "fitted on 60 rows");
    h->blob_put_doubles(w, "empty", NULL, 0);
    h->blob_put_learner(w, "outcome", f->learner);
    h->blob_put_forest(w, "forest", f->forest);
    assert_int_equal(h->blob_writer_finish(w, &sink, err, sizeof err), TT_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx.plugin_name = "blob-test";
    tt_host_services_init(&f->host, &f->ctx, 11);
    for (size_t i = 0; i < N; i++) {
        f->x[i] = (double)i / N;
        f->x[N + i] = (double)((i * 7) % 13) / 13.0;
        f->y[i] = 1.0 + f->x[i] - 2.0 * f->x[N + i] + 0.1 * (double)(i % 4);
    }
    char err[256];
    const tt_plugin_host *h = &f->host;
    assert_int_equal(h->learner_create(h->host_ctx, "ridge", NULL, NULL, 0, &f->learner, err,
                                       sizeof err), TT_OK);
    assert_int_equal(h->learner_fit(f->learner, N, P, f->x, f->y, NULL, err, sizeof err),
                     TT_OK);
    tt_forest_options opt = {.struct_size = sizeof opt, .n_trees = 20, .threads = 1};
    assert_int_equal(h->forest_fit(h->host_ctx, TT_FOREST_REGRESSION, &opt, N, P, f->x, f->y,
                                   NULL, 0, NULL, NULL, &f->forest, err, sizeof err), TT_OK);
    write_blob(f, &f->blob, "demo");
    assert_int_equal(mem_write(&f->blob, "TAIL", 4), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    f->host.learner_destroy(f->learner);
    f->host.forest_destroy(f->forest);
    free(f->blob.data);
    free(f);
    return 0;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    const tt_plugin_host *h = &f->host;
    char err[256];
    tt_plugin_source src = mem_source(&f->blob);
    uint32_t version = 0;
    tt_blob_reader *r = h->blob_reader_open(h->host_ctx, &src, "demo", &version, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(version, 3);
    /* The reader took exactly the blob: what follows is still there. */
    char tail[4];
    assert_int_equal(mem_read(&f->blob, tail, 4), 0);
    assert_memory_equal(tail, "TAIL", 4);
    /* Any order. */
    tt_forest *forest = NULL;
    tt_learner *learner = NULL;
    h->blob_get_forest(r, "forest", &forest);
    h->blob_get_learner(r, "outcome", &learner);
    int64_t ints[3];
    double values[4];
    h->blob_get_ints(r, "ints", ints, 3);
    h->blob_get_doubles(r, "values", values, 4);
    assert_int_equal(h->blob_count(r, "values"), 4);
    assert_int_equal(h->blob_count(r, "absent"), 0);
    assert_int_equal(h->blob_count(r, "empty"), 0);
    h->blob_get_doubles(r, "empty", NULL, 0);
    const char *note = h->blob_get_text(r, "note");
    assert_int_equal(h->blob_reader_close(r, err, sizeof err), TT_OK);
    assert_memory_equal(values, g_values, sizeof values);
    assert_memory_equal(ints, g_ints, sizeof ints);
    (void)note; /* freed by close: checked below while open */
    double a[N], b[N], va[N], vb[N];
    assert_int_equal(h->learner_predict(f->learner, N, P, f->x, a, err, sizeof err), TT_OK);
    assert_int_equal(h->learner_predict(learner, N, P, f->x, b, err, sizeof err), TT_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(h->forest_predict(f->forest, N, P, f->x, a, va, err, sizeof err), TT_OK);
    assert_int_equal(h->forest_predict(forest, N, P, f->x, b, vb, err, sizeof err), TT_OK);
    assert_memory_equal(a, b, sizeof a);
    h->learner_destroy(learner);
    h->forest_destroy(forest);

    src = mem_source(&f->blob);
    r = h->blob_reader_open(h->host_ctx, &src, "demo", NULL, err, sizeof err);
    assert_string_equal(h->blob_get_text(r, "note"), "fitted on 60 rows");
    assert_int_equal(h->blob_reader_close(r, err, sizeof err), TT_OK);
}

static void test_named_sticky_errors(void **state)
{
    fixture *f = *state;
    const tt_plugin_host *h = &f->host;
    char err[256];
    double v[4] = {7, 7, 7, 7};
    struct {
        const char *name;
        size_t n;
        const char *says;
    } cases[] = {{"absent", 4, "record 'absent' is missing"},
                 {"ints", 3, "record 'ints' is of kind 'i', not 'd'"},
                 {"values", 5, "record 'values' holds 4 values, not 5"}};
    for (size_t c = 0; c < 3; c++) {
        tt_plugin_source src = mem_source(&f->blob);
        tt_blob_reader *r = h->blob_reader_open(h->host_ctx, &src, "demo", NULL, err, sizeof err);
        assert_non_null(r);
        h->blob_get_doubles(r, cases[c].name, v, cases[c].n);
        /* Sticky: a good get after the failure changes nothing. */
        h->blob_get_doubles(r, "values", v, 4);
        assert_true(v[0] == 7);
        assert_null(h->blob_get_text(r, "note"));
        assert_int_equal(h->blob_reader_close(r, err, sizeof err), TT_ERR_PARSE);
        assert_non_null(strstr(err, cases[c].says));
    }
    /* The writer's errors are sticky and named too. */
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    tt_blob_writer *w = h->blob_writer_new(h->host_ctx, "demo", 1);
    h->blob_put_learner(w, "model", NULL);
    h->blob_put_doubles(w, "after", v, 4);
    assert_int_equal(h->blob_writer_finish(w, &sink, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "record 'model': no learner given"));
    assert_int_equal(m.len, 0); /* nothing half-written */
    free(m.data);
}

static void test_damage_refused(void **state)
{
    fixture *f = *state;
    const tt_plugin_host *h = &f->host;
    char err[256];
    size_t len = f->blob.len - 4; /* the blob without the tail */
    membuf m = {0};
    m.data = malloc(len);
    m.len = m.cap = len;
    for (size_t i = 0; i < len; i++) {
        memcpy(m.data, f->blob.data, len);
        m.data[i] ^= (char)(1 << (i % 8));
        tt_plugin_source src = mem_source(&m);
        tt_blob_reader *r = h->blob_reader_open(h->host_ctx, &src, "demo", NULL, err, sizeof err);
        assert_null(r);
        assert_non_null(strstr(err, "saved state"));
    }
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(m.data, f->blob.data, len);
        m.len = cut;
        tt_plugin_source src = mem_source(&m);
        assert_null(h->blob_reader_open(h->host_ctx, &src, "demo", NULL, err, sizeof err));
    }
    /* A length claiming 2^40 bytes is refused before any allocation. */
    memcpy(m.data, f->blob.data, len);
    m.len = len;
    uint64_t huge = 1ull << 40;
    memcpy(m.data + 8, &huge, 8);
    tt_plugin_source src = mem_source(&m);
    assert_null(h->blob_reader_open(h->host_ctx, &src, "demo", NULL, err, sizeof err));
    assert_non_null(strstr(err, "damaged blob (length"));
    free(m.data);
    /* Another plugin's blob. */
    src = mem_source(&f->blob);
    assert_null(h->blob_reader_open(h->host_ctx, &src, "other", NULL, err, sizeof err));
    assert_non_null(strstr(err, "written by another plugin (tag 'demo', expected 'other')"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_named_sticky_errors),
        cmocka_unit_test(test_damage_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
