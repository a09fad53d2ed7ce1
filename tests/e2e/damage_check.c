/*
 * damage_check.c - the end-to-end tests' checks of damaged run files
 * (issue 20).
 *   damage_check jsonl FILE   every line of FILE ends with '\n' and is one
 *                             JSON object with a numeric id; prints the ids,
 *                             one a line, in file order
 * Exits non-zero with a message naming the file and line otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "jsonl") == 0)
        return check_jsonl(argv[2]);
    fprintf(stderr, "usage: damage_check jsonl FILE\n");
    return 2;
}
