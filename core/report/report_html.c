/* report_html.c - PLACEHOLDER until the report writer lands (report.h). */
#include "report/report.h"

tt_status tt_report_write_html(const char *dir, const tt_report_input *in, char *err,
                               size_t errlen)
{
    (void)dir, (void)in, (void)err, (void)errlen;
    return TT_OK;
}

tt_status tt_report_write_summary(const char *dir, const tt_report_input *in, char *err,
                                  size_t errlen)
{
    (void)dir, (void)in, (void)err, (void)errlen;
    return TT_OK;
}
