/*
 * utf8.c — UTF-8 decoding per RFC 3629 (see utf8.h).
 *
 * SECURITY: runs on hostile bytes in every process; never reads past n.
 */
#include "utf8.h"

size_t utf8_decode_one(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2; v = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3; v = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4; v = c & 0x07; min = 0x10000;
	} else {
		*cp = UTF8_INVALID;
		return 1;
	}
	if (n < len) {
		*cp = UTF8_INVALID;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = UTF8_INVALID;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = UTF8_INVALID;
		return 1;
	}
	*cp = v;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		i += utf8_decode_one(p + i, n - i, &cp);
		if (cp == UTF8_INVALID)
			return false;
	}
	return true;
}

size_t utf8_count(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;
	uint32_t cp;

	while (i < n) {
		i += utf8_decode_one(p + i, n - i, &cp);
		count++;
	}
	return count;
}
