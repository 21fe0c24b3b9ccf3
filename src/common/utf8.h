/*
 * utf8.h — UTF-8 validation and decoding (RFC 3629): no overlongs, no
 * surrogates, nothing above U+10FFFF.
 *
 * SECURITY: pure functions over hostile bytes; bounds-checked.
 */
#ifndef MUGAI_UTF8_H
#define MUGAI_UTF8_H

#include <stdbool.h>
#include "defs.h"

#define UTF8_INVALID 0xFFFFFFFFu

/* Decode one sequence at s (n > 0 bytes available). Returns bytes consumed
 * (>= 1); *cp is UTF8_INVALID for an invalid sequence (consume 1 byte). */
size_t utf8_decode_one(const unsigned char *s, size_t n, uint32_t *cp);
/* True when all n bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* Number of code points (invalid bytes count one each). */
size_t utf8_count(const char *s, size_t n);

#endif
