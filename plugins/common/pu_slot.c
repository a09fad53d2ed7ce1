/* pu_slot.c - learner slots: a schema block that picks and tunes a host learner. */
#include "pu_slot.h"

#include <math.h>
#include <stddef.h>

#include "pu.h"

/* The host validated the values against the schema, so rounding only
 * removes the representation noise of integers carried as doubles. */
void pu_slot_read(const double *params, size_t first, pu_slot *slot)
{
    const double *v = params + first;
    slot->learner = (int)lround(v[0]);
    slot->alpha = v[1];
    slot->trees = (int)lround(v[2]);
    slot->depth = (int)lround(v[3]);
    slot->min_leaf = (int)lround(v[4]);
    slot->learning_rate = v[5];
    slot->featurizer = (int)lround(v[6]);
}

const char *pu_slot_name(const pu_slot *slot)
{
    if (slot->learner < PU_SLOT_RIDGE || slot->learner > PU_SLOT_GBM)
        return "unknown";
    return pu_slot_learners[slot->learner];
}

int pu_slot_create(const tt_plugin_host *host, const pu_slot *slot, int classify,
                   tt_learner **out, char *err, size_t errlen)
{
    const double v[PU_SLOT_N] = {slot->learner,  slot->alpha,         slot->trees,
                                 slot->depth,    slot->min_leaf,      slot->learning_rate,
                                 slot->featurizer};
    *out = NULL;
    /* The table's size says whether it has the member (as abi_minor would;
     * the kit's tests mimic older hosts by their abi_minor alone). */
    if (host->struct_size < offsetof(tt_plugin_host, learner_from_slot) + sizeof(void (*)(void)))
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "the host predates learner slots");
    return host->learner_from_slot(host->host_ctx, v, classify, out, err, errlen);
}

int pu_slot_save(const pu_slot *slot, const tt_plugin_sink *sink)
{
    double v[PU_SLOT_N] = {slot->learner,  slot->alpha,         slot->trees,     slot->depth,
                           slot->min_leaf, slot->learning_rate, slot->featurizer};
    return pu_write_doubles(sink, "slot", v, PU_SLOT_N);
}

/* An integer field read back from a double: must be integral and in range. */
static int whole(double v, double lo, double hi, int *out)
{
    if (!(v >= lo && v <= hi) || v != floor(v))
        return -1;
    *out = (int)v;
    return 0;
}

int pu_slot_load(const tt_plugin_source *src, pu_slot *slot)
{
    double v[PU_SLOT_N];
    size_t got = 0;
    if (pu_read_doubles_upto(src, "slot", v, PU_SLOT_N - 1, PU_SLOT_N, &got) != 0)
        return -1;
    if (got == PU_SLOT_N - 1)
        v[PU_SLOT_N - 1] = 0.0; /* saved before the featurizer existed */
    pu_slot s;
    if (whole(v[0], PU_SLOT_RIDGE, PU_SLOT_GBM, &s.learner) != 0 ||
        whole(v[6], 0, 1, &s.featurizer) != 0 ||
        whole(v[2], 0, 1e9, &s.trees) != 0 || whole(v[3], 0, 1e9, &s.depth) != 0 ||
        whole(v[4], 0, 1e9, &s.min_leaf) != 0 || !isfinite(v[1]) || !isfinite(v[5]))
        return -1;
    s.alpha = v[1];
    s.learning_rate = v[5];
    *slot = s;
    return 0;
}
