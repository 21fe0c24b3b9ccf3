/*
 * fuzz_hdr.c — libFuzzer target for hdr_decode_text,
 * hdr_normalize_structured and hdr_param over the same bytes. Aborts on
 * invalid UTF-8, on CR/LF/NUL/C0 in decoded text, and on CR/LF/NUL in the
 * normalised structured value.
 *
 * SECURITY: test harness only.
 */
#include <stdlib.h>

#include "common/utf8.h"
#include "text/hdr.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(const buf_t *b, bool no_c0)
{
	size_t i;

	if (!b->len)
		return;
	if (!utf8_valid(b->data, b->len))
		abort();
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\r' || c == '\n' || c == '\0' || (no_c0 && c < 0x20))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static int inited;
	const char *s = (const char *)data;
	charset_stats_t st = { 0 };
	buf_t b;

	if (!inited)
		inited = charset_init() == 0 ? 1 : -1;
	buf_init(&b, 1u << 20);
	if (hdr_decode_text(s, size, &b, &st) == 0)
		check(&b, true);
	buf_reset(&b);
	if (hdr_normalize_structured(s, size, &b, &st) == 0)
		check(&b, true);
	buf_reset(&b);
	if (hdr_param(s, size, "filename", &b, &st) >= 0)
		check(&b, true);
	buf_reset(&b);
	if (hdr_param(s, size, "name", &b, &st) >= 0)
		check(&b, true);
	buf_free(&b);
	return 0;
}
