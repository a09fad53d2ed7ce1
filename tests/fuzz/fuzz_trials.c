/* fuzz_trials.c - libFuzzer target: reading trials.jsonl back for --resume
 * (report/trials_read.h) against a config of one estimator whose schema has
 * a real, an integer and a choice parameter: trials or a message naming the
 * line, never a crash. */
#include <math.h>
#include <string.h>

#include "fuzz_file.h"
#include "lua/config.h"
#include "report/trials_read.h"
#include "search/trial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = {"a", "b", NULL};
static const tt_plugin_param params[] = {
    {"alpha", TT_PARAM_LOG_REAL, 1e-3, 1e3, 1.0, NULL, NULL},
    {"depth", TT_PARAM_INT, 1, 10, 3, NULL, NULL},
    {"kind", TT_PARAM_CHOICE, 0, 0, 0, kinds, NULL},
};
static tt_plugin_descriptor desc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_config *cfg;
    char err[1024];
    if (!cfg) {
        desc.name = "fake";
        desc.version = "1";
        desc.params = params;
        desc.n_params = sizeof params / sizeof params[0];
        if (tt_config_load_string("return { data = { generator = 'synthetic' },\n"
                                  "  estimators = { fake = {} } }", "/tmp/fuzz.lua", NULL, &cfg,
                                  err, sizeof err) != TT_OK)
            abort();
    }
    const tt_plugin_descriptor *descs[] = {&desc};
    tt_trial_result *trials = NULL;
    size_t n = 0;
    tt_trials_tail tail;
    if (tt_trials_read(fuzz_file(data, size), cfg, descs, &trials, &n, &tail, err,
                       sizeof err) == TT_OK) {
        for (size_t i = 0; i < n; i++)
            tt_trial_result_clear(&trials[i]);
        free(trials);
    }
    return 0;
}
