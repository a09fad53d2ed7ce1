/* test_crc32.c - CRC-32 (util/crc32.h): the published check value and other
 * known vectors, agreement with the bit-at-a-time definition on every byte
 * value and on pseudo-random data, incremental use, and that flipping any
 * one bit or a burst of up to 32 bits changes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/crc32.h"

/* The definition, one bit at a time: reflected, polynomial 0xEDB88320. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t crc_of(const char *s)
{
    return tt_crc32(0, s, strlen(s));
}

static void test_known_vectors(void **state)
{
    (void)state;
    /* The catalogue's check value of CRC-32 (ISO-HDLC). */
    assert_int_equal(crc_of("123456789"), 0xCBF43926u);
    assert_int_equal(tt_crc32(0, NULL, 0), 0);
    assert_int_equal(crc_of("a"), 0xE8B7BE43u);
    assert_int_equal(crc_of("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof ones);
    assert_int_equal(tt_crc32(0, zeros, sizeof zeros), 0x190A55ADu);
    assert_int_equal(tt_crc32(0, ones, sizeof ones), 0xFF6CAB0Bu);
}

static void fill(unsigned char *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        b[i] = (unsigned char)(seed >> 56);
    }
}

static void test_matches_definition(void **state)
{
    (void)state;
    /* Every byte value alone exercises every table entry in both halves. */
    for (int v = 0; v < 256; v++) {
        unsigned char b = (unsigned char)v;
        assert_int_equal(tt_crc32(0, &b, 1), crc32_bitwise(&b, 1));
    }
    static unsigned char data[10007];
    fill(data, sizeof data, 42);
    assert_int_equal(tt_crc32(0, data, sizeof data), crc32_bitwise(data, sizeof data));
    /* Incremental in any split. */
    const uint32_t whole = tt_crc32(0, data, sizeof data);
    for (size_t cut = 0; cut <= sizeof data; cut += 997)
        assert_int_equal(tt_crc32(tt_crc32(0, data, cut), data + cut, sizeof data - cut), whole);
    assert_int_equal(tt_crc32(tt_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_detects_flips_and_bursts(void **state)
{
    (void)state;
    static unsigned char data[4096];
    fill(data, sizeof data, 7);
    const uint32_t clean = tt_crc32(0, data, sizeof data);
    for (size_t bit = 0; bit < 8 * sizeof data; bit++) {
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_not_equal(tt_crc32(0, data, sizeof data), clean);
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* Bursts: 32 bits starting at every bit of the first 64 bytes, with
     * both ends flipped and a pattern in between. */
    for (size_t start = 0; start < 8 * 64; start++) {
        uint32_t pattern = 0x80000001u | (uint32_t)(start * 2654435761u);
        for (int b = 0; b < 32; b++)
            if (pattern >> b & 1)
                data[(start + (size_t)b) / 8] ^= (unsigned char)(1u << ((start + (size_t)b) % 8));
        assert_int_not_equal(tt_crc32(0, data, sizeof data), clean);
        for (int b = 0; b < 32; b++)
            if (pattern >> b & 1)
                data[(start + (size_t)b) / 8] ^= (unsigned char)(1u << ((start + (size_t)b) % 8));
    }
    assert_int_equal(tt_crc32(0, data, sizeof data), clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_matches_definition),
        cmocka_unit_test(test_detects_flips_and_bursts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
