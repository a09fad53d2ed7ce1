/* crc32.c - CRC-32 (crc32.h), half a byte at a time. */
#include "util/crc32.h"

/* The CRC of each 4-bit value: a 16-entry table rather than the usual 256
 * keeps it small enough to write out (no table built at run time, so no
 * first-call race), at two look-ups a byte, fast enough next to the file
 * reading and writing it checks. Entry i is i shifted through the reflected
 * polynomial 0xEDB88320 four times; test_crc32 checks every entry against
 * the bit-at-a-time definition. */
static const uint32_t nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
    0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
    0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t tt_crc32(uint32_t crc, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    crc = ~crc; /* the running register; crc carries the final xor */
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return ~crc;
}
