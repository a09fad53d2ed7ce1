/* fuzz_config.c - libFuzzer target: a config's Lua source (lua/config.h),
 * run in the sandbox with its instruction and memory limits; whatever the
 * script does, loading must end with a config or a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1), err[1024];
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    tt_config *cfg = NULL;
    if (tt_config_load_string(src, "/tmp/fuzz.lua", NULL, &cfg, err, sizeof err) == TT_OK)
        tt_config_free(cfg);
    free(src);
    return 0;
}
