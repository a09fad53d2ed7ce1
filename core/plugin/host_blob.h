/*
 * host_blob.h - the blob writer and reader the host table serves (ABI 1.10):
 * a plugin's saved state as named records, checked on the way back in.
 *
 * Wire format (host byte order, like the rest of model.ttm):
 *   "TTBLOB1\0"                         8 bytes
 *   u64 body length
 *   body: str tag, u32 version, u32 record count, then per record
 *         str name, u8 kind ('d' doubles, 'i' int64s, 't' text, 'L' learner,
 *         'F' forest), u64 count (values, or bytes for t/L/F), payload
 *   u32 CRC-32 (util/crc32.h) of everything before it
 * where str is u32 length + bytes. The length prefix lets the reader take
 * exactly the blob's bytes from a source that carries more after it.
 *
 * Errors are sticky: once a put or get fails (out of memory, a record
 * missing or of another kind or count), the others do nothing and
 * finish/close return that first error with its message naming the record.
 * Ownership: the writer and reader are the caller's until finish/close,
 * which free them; a learner or forest a get returns is the caller's.
 */
#ifndef TT_PLUGIN_HOST_BLOB_H
#define TT_PLUGIN_HOST_BLOB_H

#include "tautune/plugin.h"

tt_blob_writer *tt_blob_writer_new(void *host_ctx, const char *tag, uint32_t version);
void tt_blob_put_doubles(tt_blob_writer *w, const char *name, const double *v, size_t n);
void tt_blob_put_ints(tt_blob_writer *w, const char *name, const int64_t *v, size_t n);
void tt_blob_put_text(tt_blob_writer *w, const char *name, const char *text);
void tt_blob_put_learner(tt_blob_writer *w, const char *name, const tt_learner *learner);
void tt_blob_put_forest(tt_blob_writer *w, const char *name, const tt_forest *forest);
int tt_blob_writer_finish(tt_blob_writer *w, const tt_plugin_sink *sink, char *err,
                          size_t errlen);

tt_blob_reader *tt_blob_reader_open(void *host_ctx, const tt_plugin_source *source,
                                    const char *tag, uint32_t *version, char *err,
                                    size_t errlen);
size_t tt_blob_count(tt_blob_reader *r, const char *name);
void tt_blob_get_doubles(tt_blob_reader *r, const char *name, double *v, size_t n);
void tt_blob_get_ints(tt_blob_reader *r, const char *name, int64_t *v, size_t n);
const char *tt_blob_get_text(tt_blob_reader *r, const char *name);
void tt_blob_get_learner(tt_blob_reader *r, const char *name, tt_learner **out);
void tt_blob_get_forest(tt_blob_reader *r, const char *name, tt_forest **out);
int tt_blob_reader_close(tt_blob_reader *r, char *err, size_t errlen);

#endif
