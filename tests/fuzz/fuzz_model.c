/* fuzz_model.c - libFuzzer target: the model-file reader (model/model.h) on
 * any bytes: a model or a message, never a crash or an overread. */
#include "fuzz_file.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    tt_model *m = NULL;
    if (tt_model_read(fuzz_file(data, size), &m, err, sizeof err) == TT_OK)
        tt_model_free(m);
    return 0;
}
