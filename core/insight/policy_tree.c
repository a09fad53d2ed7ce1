/*
 * policy_tree.c - the policy tree object (see policy_tree.h): argument
 * checks, the finishing step of a fit, prediction, rules text and JSON.
 * The searches live in policy_tree_search.c (fast, exact) and
 * policy_tree_brute.c (the naive reference).
 */
#include "insight/policy_tree_int.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

#define JSON_FORMAT "tautune-policy-tree"
#define JSON_VERSION 1

void tt_policy_tree_options_init(tt_policy_tree_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->depth = 2;
    opt->min_node_size = 1;
    opt->split_step = 1;
}

tt_status tt_pt_check(size_t n, size_t p, const double *x, size_t k, const double *reward,
                      const tt_policy_tree_options *opt, tt_policy_tree_options *o, char *err,
                      size_t errlen)
{
    if (opt)
        *o = *opt;
    else
        tt_policy_tree_options_init(o);
    if (o->min_node_size == 0)
        o->min_node_size = 1;
    if (o->split_step == 0)
        o->split_step = 1;
    if (n == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree: no rows");
    if (k == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree: no actions (k = 0)");
    if (o->depth < 0 || o->depth > TT_POLICY_TREE_MAX_DEPTH)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree: depth %d is outside 0..%d",
                       o->depth, TT_POLICY_TREE_MAX_DEPTH);
    /* Rows are stored as 32-bit indices in the search's sorted orders. */
    if (n >= UINT32_MAX || p > INT_MAX || k > INT_MAX)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "policy tree: %zu rows, %zu features, %zu actions is too many", n, p, k);
    if ((p > 0 && !x) || !reward)
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy tree: no %s array",
                       reward ? "feature" : "reward");
    if (o->min_node_size > n)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "policy tree: min_node_size %zu is larger than the %zu rows",
                       o->min_node_size, n);
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "policy tree: feature value at row %zu, column %zu is %g "
                               "(0-based; trees need finite features)",
                               i, j, x[j * n + i]);
    for (size_t a = 0; a < k; a++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(reward[a * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "policy tree: reward at row %zu, action %zu is %g (0-based)", i,
                               a, reward[a * n + i]);
    return TT_OK;
}

tt_policy_tree *tt_pt_new(size_t p, size_t k, const tt_policy_tree_options *o)
{
    tt_policy_tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->p = p;
    t->k = k;
    t->depth_asked = o->depth;
    t->min_node_size = o->min_node_size;
    t->split_step = o->split_step;
    t->cap = ((size_t)2 << o->depth) - 1;
    t->nodes = tt_malloc_array(t->cap, sizeof *t->nodes);
    if (!t->nodes) {
        free(t);
        return NULL;
    }
    return t;
}

static int push(tt_policy_tree *t, tt_policy_tree_node nd)
{
    if (t->n_nodes >= t->cap) /* a search bug: never more than a full tree */
        abort();
    t->nodes[t->n_nodes] = nd;
    return (int)t->n_nodes++;
}

int tt_pt_push_leaf(tt_policy_tree *t, int action)
{
    tt_policy_tree_node nd = {-1, 0.0, -1, -1, action, 0, 0.0};
    return push(t, nd);
}

int tt_pt_push_split(tt_policy_tree *t, int feature, double threshold)
{
    tt_policy_tree_node nd = {feature, threshold, (int)t->n_nodes + 1, -1, -1, 0, 0.0};
    return push(t, nd);
}

void tt_pt_set_right(tt_policy_tree *t, int node, int right)
{
    t->nodes[node].right = right;
}

/* Copies the subtree at src[i] into dst in preorder, merging idle splits on
 * the way up; returns the copy's index. */
static int prune_copy(const tt_policy_tree_node *src, int i, tt_policy_tree_node *dst,
                      size_t *m)
{
    const int at = (int)(*m)++;
    dst[at] = src[i];
    if (src[i].feature < 0)
        return at;
    const int l = prune_copy(src, src[i].left, dst, m);
    const int r = prune_copy(src, src[i].right, dst, m);
    if (dst[l].feature < 0 && dst[r].feature < 0 && dst[l].action == dst[r].action) {
        const int action = dst[l].action;
        tt_policy_tree_node leaf = {-1, 0.0, -1, -1, action, 0, 0.0};
        dst[at] = leaf;
        *m = (size_t)at + 1;
        return at;
    }
    dst[at].left = l;
    dst[at].right = r;
    return at;
}

static int leaf_of(const tt_policy_tree *t, const double *x, size_t n, size_t p, size_t i)
{
    int v = 0;
    while (t->nodes[v].feature >= 0) {
        const tt_policy_tree_node *nd = &t->nodes[v];
        /* A tree used on fewer columns than it splits on cannot route: that
         * row goes right, like a missing value. */
        const int left = (size_t)nd->feature < p && x[(size_t)nd->feature * n + i] <= nd->threshold;
        v = left ? nd->left : nd->right;
    }
    return v;
}

tt_status tt_pt_finish(tt_policy_tree *t, size_t n, const double *x, const double *reward)
{
    tt_policy_tree_node *copy = tt_malloc_array(t->cap, sizeof *copy);
    double *sum = tt_malloc_array(t->cap, sizeof *sum);
    if (!copy || !sum) {
        free(copy), free(sum);
        return TT_ERR_NOMEM;
    }
    size_t m = 0;
    prune_copy(t->nodes, 0, copy, &m);
    memcpy(t->nodes, copy, m * sizeof *copy);
    t->n_nodes = m;
    for (size_t v = 0; v < m; v++) {
        t->nodes[v].rows = 0;
        sum[v] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const int leaf = leaf_of(t, x, n, t->p, i);
        const double g = reward[(size_t)t->nodes[leaf].action * n + i];
        int v = 0;
        for (;;) {
            t->nodes[v].rows++;
            sum[v] += g;
            const tt_policy_tree_node *nd = &t->nodes[v];
            if (nd->feature < 0)
                break;
            v = x[(size_t)nd->feature * n + i] <= nd->threshold ? nd->left : nd->right;
        }
    }
    for (size_t v = 0; v < m; v++)
        t->nodes[v].value = t->nodes[v].rows ? sum[v] / (double)t->nodes[v].rows : 0.0;
    t->n_rows = n;
    t->value = sum[0] / (double)n;
    free(copy), free(sum);
    return TT_OK;
}

void tt_policy_tree_predict(const tt_policy_tree *t, size_t n, size_t p, const double *x,
                            int *action)
{
    for (size_t i = 0; i < n; i++)
        action[i] = t->nodes[leaf_of(t, x, n, p, i)].action;
}

double tt_policy_tree_value(const tt_policy_tree *t)
{
    return t->value;
}

size_t tt_policy_tree_n_nodes(const tt_policy_tree *t)
{
    return t->n_nodes;
}

const tt_policy_tree_node *tt_policy_tree_node_at(const tt_policy_tree *t, size_t i)
{
    return i < t->n_nodes ? &t->nodes[i] : NULL;
}

size_t tt_policy_tree_n_features(const tt_policy_tree *t)
{
    return t->p;
}

size_t tt_policy_tree_n_actions(const tt_policy_tree *t)
{
    return t->k;
}

size_t tt_policy_tree_n_rows(const tt_policy_tree *t)
{
    return t->n_rows;
}

static int depth_at(const tt_policy_tree *t, int v)
{
    if (t->nodes[v].feature < 0)
        return 0;
    const int l = depth_at(t, t->nodes[v].left), r = depth_at(t, t->nodes[v].right);
    return 1 + (l > r ? l : r);
}

int tt_policy_tree_depth(const tt_policy_tree *t)
{
    return depth_at(t, 0);
}

void tt_policy_tree_free(tt_policy_tree *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t);
}

/* ---- rules text ---- */

/* snprintf into a bounded buffer that keeps counting past its end. */
typedef struct text {
    char *buf;
    size_t len, used;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const size_t room = s->used < s->len ? s->len - s->used : 0;
    const int w = vsnprintf(room ? s->buf + s->used : NULL, room, fmt, ap);
    va_end(ap);
    if (w > 0)
        s->used += (size_t)w;
}

/* Fewest significant digits that read back as v, so a printed threshold
 * routes every fitted row as the tree does. */
static void shortest(double v, char out[32])
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* A threshold for people: a whole number whole ("37320", never "3.732e+04"),
 * others with at most four significant digits (fewer when exact). The rules
 * text is a description; policy.json keeps every digit, and predict uses it. */
static void readable(double v, char out[32])
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 32, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 4; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
    snprintf(out, 32, "%.4g", v);
}

/* A feature's name, or x1..xp into fallback. */
static const char *feature_text(int j, const char *const *names, char fallback[24])
{
    if (names && names[j])
        return names[j];
    snprintf(fallback, 24, "x%d", j + 1);
    return fallback;
}

static void rules_node(const tt_policy_tree *t, int v, int depth, const char *const *fn,
                       const char *const *an, text *s)
{
    const tt_policy_tree_node *nd = &t->nodes[v];
    const int ind = 2 * depth;
    if (nd->feature < 0) {
        if (an && an[nd->action])
            put(s, "%*saction \"%s\"", ind, "", an[nd->action]);
        else
            put(s, "%*saction %d", ind, "", nd->action);
        put(s, "  # %zu rows, mean reward %.6g\n", nd->rows, nd->value);
        return;
    }
    char fallback[24], thr[32];
    const char *name = feature_text(nd->feature, fn, fallback);
    readable(nd->threshold, thr);
    put(s, "%*sif %s <= %s:\n", ind, "", name, thr);
    rules_node(t, nd->left, depth + 1, fn, an, s);
    put(s, "%*selse:  # %s > %s\n", ind, "", name, thr);
    rules_node(t, nd->right, depth + 1, fn, an, s);
}

size_t tt_policy_tree_rules(const tt_policy_tree *t, const char *const *feature_names,
                            const char *const *action_names, char *buf, size_t len)
{
    text s = {buf, len, 0};
    if (buf && len)
        buf[0] = '\0';
    rules_node(t, 0, 0, feature_names, action_names, &s);
    return s.used;
}

tt_status tt_policy_tree_write_rules(const tt_policy_tree *t, const char *const *feature_names,
                                     const char *const *action_names, FILE *f, char *err,
                                     size_t errlen)
{
    const size_t len = tt_policy_tree_rules(t, feature_names, action_names, NULL, 0);
    char *buf = malloc(len + 1);
    if (!buf)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree rules: out of memory");
    tt_policy_tree_rules(t, feature_names, action_names, buf, len + 1);
    const int bad = fwrite(buf, 1, len, f) != len || fflush(f) != 0;
    free(buf);
    if (bad)
        return tt_errf(err, errlen, TT_ERR_IO, "policy tree rules: write failed");
    return TT_OK;
}

/* ---- JSON ---- */

/* Adds a number member; counts failures in *bad so a builder checks once. */
static void add_num(cJSON *o, const char *key, double v, int *bad)
{
    if (!cJSON_AddNumberToObject(o, key, v))
        (*bad)++;
}

/* A number that must read back bit for bit (thresholds decide the side of
 * rows equal to them): cJSON prints 15 digits whenever they come within an
 * epsilon, so it goes in as raw text with the fewest exact digits. */
static void add_exact(cJSON *o, const char *key, double v, int *bad)
{
    char digits[32];
    shortest(v, digits);
    if (!cJSON_AddRawToObject(o, key, digits))
        (*bad)++;
}

static cJSON *names_array(const char *const *names, size_t count)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < count; i++) {
        cJSON *s = names[i] ? cJSON_CreateString(names[i]) : cJSON_CreateNull();
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *tt_policy_tree_to_json(const tt_policy_tree *t, const char *const *feature_names,
                              const char *const *action_names)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int bad = 0;
    if (!cJSON_AddStringToObject(o, "format", JSON_FORMAT))
        bad++;
    add_num(o, "version", JSON_VERSION, &bad);
    add_num(o, "depth", t->depth_asked, &bad);
    add_num(o, "n_features", (double)t->p, &bad);
    add_num(o, "n_actions", (double)t->k, &bad);
    add_num(o, "rows", (double)t->n_rows, &bad);
    add_exact(o, "value", t->value, &bad);
    add_num(o, "min_node_size", (double)t->min_node_size, &bad);
    add_num(o, "split_step", (double)t->split_step, &bad);
    if (feature_names) {
        cJSON *a = names_array(feature_names, t->p);
        if (!a || !cJSON_AddItemToObject(o, "feature_names", a))
            bad++, cJSON_Delete(a);
    }
    if (action_names) {
        cJSON *a = names_array(action_names, t->k);
        if (!a || !cJSON_AddItemToObject(o, "action_names", a))
            bad++, cJSON_Delete(a);
    }
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    if (!nodes)
        bad++;
    for (size_t v = 0; nodes && v < t->n_nodes; v++) {
        const tt_policy_tree_node *nd = &t->nodes[v];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(nodes, e)) {
            cJSON_Delete(e);
            bad++;
            break;
        }
        if (nd->feature >= 0) {
            add_num(e, "feature", nd->feature, &bad);
            if (feature_names && feature_names[nd->feature] &&
                !cJSON_AddStringToObject(e, "feature_name", feature_names[nd->feature]))
                bad++;
            add_exact(e, "threshold", nd->threshold, &bad);
            add_num(e, "left", nd->left, &bad);
            add_num(e, "right", nd->right, &bad);
        } else {
            add_num(e, "action", nd->action, &bad);
            if (action_names && action_names[nd->action] &&
                !cJSON_AddStringToObject(e, "action_name", action_names[nd->action]))
                bad++;
        }
        add_num(e, "rows", (double)nd->rows, &bad);
        add_exact(e, "value", nd->value, &bad);
    }
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A member that must be an integer in [lo, hi]. */
static int get_int(const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble))
        return 0;
    *out = v->valuedouble;
    return 1;
}

/* A finite number: parsed, or still the raw text add_exact made. */
static int get_finite(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    double d;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsRaw(v) && v->valuestring) {
        char *end;
        d = strtod(v->valuestring, &end);
        if (end == v->valuestring || *end != '\0')
            return 0;
    } else {
        return 0;
    }
    if (!isfinite(d))
        return 0;
    *out = d;
    return 1;
}

/* Checks that the subtree at v is stored in preorder and returns the index
 * after it, or -1. */
static int walk_preorder(const tt_policy_tree *t, int v, int depth)
{
    if (v < 0 || (size_t)v >= t->n_nodes || depth > TT_POLICY_TREE_MAX_DEPTH)
        return -1;
    const tt_policy_tree_node *nd = &t->nodes[v];
    if (nd->feature < 0)
        return v + 1;
    if (nd->left != v + 1)
        return -1;
    const int after_left = walk_preorder(t, nd->left, depth + 1);
    if (after_left < 0 || nd->right != after_left)
        return -1;
    return walk_preorder(t, nd->right, depth + 1);
}

tt_status tt_policy_tree_from_json(const cJSON *json, tt_policy_tree **out, char *err,
                                   size_t errlen)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(json, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, JSON_FORMAT) != 0)
        return tt_errf(err, errlen, TT_ERR_PARSE, "policy tree JSON: format is not \"%s\"",
                       JSON_FORMAT);
    double version, depth, p, k, rows, value, mns = 1, step = 1;
    if (!get_int(json, "version", 1, 1, &version))
        return tt_errf(err, errlen, TT_ERR_PARSE, "policy tree JSON: unknown version");
    if (!get_int(json, "depth", 0, TT_POLICY_TREE_MAX_DEPTH, &depth) ||
        !get_int(json, "n_features", 0, INT_MAX, &p) ||
        !get_int(json, "n_actions", 1, INT_MAX, &k) ||
        !get_int(json, "rows", 0, 9007199254740992.0, &rows) ||
        !get_finite(json, "value", &value))
        return tt_errf(err, errlen, TT_ERR_PARSE,
                       "policy tree JSON: depth, n_features, n_actions, rows or value missing "
                       "or out of range");
    if (cJSON_GetObjectItemCaseSensitive(json, "min_node_size") &&
        !get_int(json, "min_node_size", 1, 9007199254740992.0, &mns))
        return tt_errf(err, errlen, TT_ERR_PARSE, "policy tree JSON: bad min_node_size");
    if (cJSON_GetObjectItemCaseSensitive(json, "split_step") &&
        !get_int(json, "split_step", 1, 9007199254740992.0, &step))
        return tt_errf(err, errlen, TT_ERR_PARSE, "policy tree JSON: bad split_step");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(json, "nodes");
    const int count = cJSON_GetArraySize(nodes);
    const int max_nodes = (2 << TT_POLICY_TREE_MAX_DEPTH) - 1;
    if (!cJSON_IsArray(nodes) || count < 1 || count > max_nodes)
        return tt_errf(err, errlen, TT_ERR_PARSE,
                       "policy tree JSON: \"nodes\" must be an array of 1..%d nodes", max_nodes);
    tt_policy_tree_options o;
    tt_policy_tree_options_init(&o);
    o.depth = (int)depth;
    o.min_node_size = (size_t)mns;
    o.split_step = (size_t)step;
    tt_policy_tree *t = tt_pt_new((size_t)p, (size_t)k, &o);
    if (!t)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree JSON: out of memory");
    /* Room for any tree the reader accepts, whatever depth the file says. */
    tt_policy_tree_node *room = realloc(t->nodes, (size_t)max_nodes * sizeof *room);
    if (!room) {
        tt_policy_tree_free(t);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "policy tree JSON: out of memory");
    }
    t->nodes = room;
    t->cap = (size_t)max_nodes;
    t->n_rows = (size_t)rows;
    t->value = value;
    int v = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, nodes) {
        tt_policy_tree_node nd = {-1, 0.0, -1, -1, -1, 0, 0.0};
        double f, a, l, r, nr;
        int ok = cJSON_IsObject(e) && get_int(e, "rows", 0, rows, &nr) &&
                 get_finite(e, "value", &nd.value);
        if (ok && cJSON_GetObjectItemCaseSensitive(e, "feature")) {
            ok = get_int(e, "feature", 0, p - 1, &f) && get_finite(e, "threshold", &nd.threshold) &&
                 get_int(e, "left", 0, count - 1, &l) && get_int(e, "right", 0, count - 1, &r);
            if (ok)
                nd.feature = (int)f, nd.left = (int)l, nd.right = (int)r;
        } else if (ok) {
            ok = get_int(e, "action", 0, k - 1, &a);
            nd.action = (int)a;
        }
        if (!ok) {
            tt_policy_tree_free(t);
            return tt_errf(err, errlen, TT_ERR_PARSE,
                           "policy tree JSON: node %d is neither a split (feature < %g, finite "
                           "threshold, left, right) nor a leaf (action < %g) with rows and value",
                           v, p, k);
        }
        nd.rows = (size_t)nr;
        t->nodes[v++] = nd;
    }
    t->n_nodes = (size_t)count;
    if (walk_preorder(t, 0, 0) != count) {
        tt_policy_tree_free(t);
        return tt_errf(err, errlen, TT_ERR_PARSE,
                       "policy tree JSON: nodes are not one tree of depth <= %d in preorder",
                       TT_POLICY_TREE_MAX_DEPTH);
    }
    *out = t;
    return TT_OK;
}
