/* same_results.c - do two results.json files say the same, timing aside?
 *
 *   same_results A/results.json B/results.json
 * Exits 0 when the two JSON documents are equal after removing every member
 * whose name ends in "seconds" (elapsed_seconds, a trial's seconds and
 * finished_seconds, the phases' times, the nuisance models' seconds) or in
 * "_mb" (the phases' peak_rss_mb): those measure the machine, everything else is a result and must repeat
 * for the same config, data, seed and job count. Otherwise prints the first
 * differing path and both values, and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static int is_timing(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return (n >= 7 && strcmp(name + n - 7, "seconds") == 0) ||
           (n >= 3 && strcmp(name + n - 3, "_mb") == 0);
}

static void strip(cJSON *node)
{
    cJSON *child = node ? node->child : NULL;
    while (child) {
        cJSON *next = child->next;
        if (cJSON_IsObject(node) && is_timing(child->string))
            cJSON_Delete(cJSON_DetachItemViaPointer(node, child));
        else
            strip(child);
        child = next;
    }
}

/* First difference under path; 0 when equal. */
static int diff(const cJSON *a, const cJSON *b, const char *path)
{
    if (cJSON_Compare(a, b, 1))
        return 0;
    char sub[1024];
    if ((cJSON_IsObject(a) && cJSON_IsObject(b)) || (cJSON_IsArray(a) && cJSON_IsArray(b))) {
        const cJSON *x = a->child, *y = b->child;
        for (int i = 0; x || y; i++, x = x ? x->next : NULL, y = y ? y->next : NULL) {
            if (cJSON_IsObject(a))
                snprintf(sub, sizeof sub, "%s.%s", path, x ? x->string : y->string);
            else
                snprintf(sub, sizeof sub, "%s[%d]", path, i);
            if (!x || !y || (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0)) {
                fprintf(stderr, "same_results: %s: present in only one file, or members in "
                                "another order\n", sub);
                return 1;
            }
            if (diff(x, y, sub))
                return 1;
        }
    }
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    fprintf(stderr, "same_results: %s differs:\n  %.300s\n  %.300s\n", path, ta ? ta : "?",
            tb ? tb : "?");
    free(ta);
    free(tb);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: same_results A.json B.json\n");
        return 2;
    }
    cJSON *doc[2];
    for (int i = 0; i < 2; i++) {
        char *text = slurp(argv[i + 1]);
        doc[i] = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!doc[i]) {
            fprintf(stderr, "same_results: cannot read %s as JSON\n", argv[i + 1]);
            return 2;
        }
        strip(doc[i]);
    }
    int d = diff(doc[0], doc[1], "$");
    cJSON_Delete(doc[0]);
    cJSON_Delete(doc[1]);
    if (!d)
        printf("same_results: identical apart from timing fields\n");
    return d;
}
