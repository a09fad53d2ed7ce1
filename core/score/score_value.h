/*
 * score_value.h - one named figure of a trial (a score or an oracle figure).
 * A figure that cannot be computed is null with a reason, never NaN posing as
 * a number and never a silent substitute.
 */
#ifndef TT_SCORE_SCORE_VALUE_H
#define TT_SCORE_SCORE_VALUE_H

typedef struct tt_score_value {
    const char *name;   /* static string */
    double value;
    int is_null;
    const char *reason; /* why it is null: an interned text (util/intern.h), "" or NULL
                         * when the score has a value */
} tt_score_value;

#endif
