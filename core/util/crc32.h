/*
 * crc32.h - CRC-32 as in zlib, gzip and PNG (IEEE 802.3: polynomial
 * 0xEDB88320 reflected, initial value and final xor 0xFFFFFFFF), to tell a
 * file that reads back as written from a damaged one (model/model.h).
 *
 * Detects every change of one or two bits in up to 512 MB (of three bits in
 * up to 11 KB) and every burst of up to 32 bits; other damage goes unseen
 * with probability about 2^-32. Not a defence against deliberate tampering.
 *
 * Incremental: tt_crc32(tt_crc32(0, a, m), b, n) equals the CRC of a then b.
 * Pure function: no state, thread-safe.
 */
#ifndef TT_UTIL_CRC32_H
#define TT_UTIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of the bytes that gave crc (0 for none) followed by bytes[0..len).
 * bytes may be NULL when len is 0. */
uint32_t tt_crc32(uint32_t crc, const void *bytes, size_t len);

#endif
