/* caps.c - which data a plugin's capabilities let the host hand it (caps.h). */
#include "plugin/caps.h"

#include "tautune/plugin.h"

tt_data_misfit tt_plugin_data_misfit(uint32_t caps, int n_arms, int has_instrument,
                                     int continuous)
{
    if (continuous && !(caps & TT_PLUGIN_CAP_CONTINUOUS_TREATMENT))
        return TT_MISFIT_CONTINUOUS;
    if (n_arms > 2 && !(caps & TT_PLUGIN_CAP_MULTI_ARM))
        return TT_MISFIT_ARMS;
    if ((caps & TT_PLUGIN_CAP_IV) && !has_instrument)
        return TT_MISFIT_NO_INSTRUMENT;
    return TT_MISFIT_NONE;
}

const char *tt_data_misfit_text(tt_data_misfit m)
{
    switch (m) {
    case TT_MISFIT_NONE: return "";
    case TT_MISFIT_CONTINUOUS: return "takes arms, not a continuous treatment";
    case TT_MISFIT_ARMS: return "handles two arms only";
    case TT_MISFIT_NO_INSTRUMENT: return "needs an instrument (data.z)";
    }
    return "";
}
