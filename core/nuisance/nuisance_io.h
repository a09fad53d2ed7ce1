/*
 * nuisance_io.h - the chosen nuisance models of a run as a file, so they can
 * be fitted in a worker process and handed to the run, and kept in the run
 * folder for `--resume` (which must reuse them, not select again).
 *
 * Format (text, C locale, doubles as %.17g so they round-trip):
 *   tautune-nuisance 2
 *   fingerprint <16 hex digits>      what the models were fitted for (caller's)
 *   results <count>
 *   then per result:
 *   result <role> <arm> <n> <width>
 *   learner <name> <n_params> [<key> <value>]...
 *   diag <oof_loss> <r2> <auc> <calibration> <prop_min> <prop_max> <n_outside>
 *        <n_candidates> <seconds>                    (one line)
 *   oof                               then n x width values, one per line,
 *                                     column-major
 *   model 0 | model 1                 1: the fitted model follows, as
 *                                     tt_learner_save writes it
 *   end
 *   crc32 <8 hex digits>              after the last result: the CRC-32
 *                                     (util/crc32.h) of every byte before
 *                                     this line. A file whose bytes do not
 *                                     match is refused as damaged (version
 *                                     1 files, which have no such line, are
 *                                     read unchecked).
 *
 * Library code: never prints.
 */
#ifndef TT_NUISANCE_NUISANCE_IO_H
#define TT_NUISANCE_NUISANCE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "nuisance/nuisance.h"

/* Writes the header and the results (NULL entries are skipped) to f. */
tt_status tt_nuisance_write(FILE *f, uint64_t fingerprint, const tt_nuisance_result *const *res,
                            size_t n, char *err, size_t errlen);

/* Reads a file written by tt_nuisance_write; f must be seekable (its
 * checksum is verified in a pass of its own before it is parsed). *out gets *n results, each
 * allocated (the caller hands them to tt_nuisance_adopt, or frees each with
 * tt_nuisance_result_clear + free, and the array with free). TT_ERR_PARSE
 * naming what is wrong on a malformed file. */
tt_status tt_nuisance_read(FILE *f, uint64_t *fingerprint, tt_nuisance_result ***out,
                           size_t *n, char *err, size_t errlen);

/* FNV-1a of bytes, continuing from h (start with TT_FNV_START): the
 * fingerprint's building block. */
#define TT_FNV_START 1469598103934665603ull
uint64_t tt_fnv1a(uint64_t h, const void *bytes, size_t len);

#endif
