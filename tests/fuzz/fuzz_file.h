/* fuzz_file.h - the fuzz input as a file, for readers that take a path
 * (model.ttm, trials.jsonl): one temporary file per process, rewritten for
 * every input. */
#ifndef TT_FUZZ_FILE_H
#define TT_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/tt-fuzz-%ld.bin", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return path;
}

#endif
