/*
 * learner_catalogue.h - the host's learners as a plugin author sees them:
 * `tautune plugins --learners` and docs/learners.md (also installed as
 * share/doc/tautune/learners.md).
 *
 * Printed from core/learn's own tables (tt_learner_info_at), the ones
 * learner_create validates against, so the page cannot disagree with what
 * the host accepts.
 */
#ifndef TT_CLI_LEARNER_CATALOGUE_H
#define TT_CLI_LEARNER_CATALOGUE_H

#include <stdio.h>

/* Every learner with its summary and each parameter's kind, range, default
 * and help; markdown != 0: the Markdown page (docs/learners.md). */
void tt_cli_print_learners(FILE *out, int markdown);

#endif
