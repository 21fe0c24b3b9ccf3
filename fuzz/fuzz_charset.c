/*
 * fuzz_charset.c — libFuzzer target for charset_decode. The first input
 * byte picks a label (including NULL, unknown and lying labels); the rest
 * is decoded. Aborts unless the output is valid UTF-8 and the stats agree.
 *
 * SECURITY: test harness only.
 */
#include <stdlib.h>

#include "common/utf8.h"
#include "text/charset.h"

static const char *const labels[] = {
	NULL, "", "iso-2022-jp", "ISO-2022-JP-2", "shift_jis", "x-sjis",
	"cp932", "euc-jp", "utf-8", "us-ascii", "iso-8859-1", "windows-1252",
	"koi8-r", "gb2312", "big5", "euc-kr", "utf-16", "utf-16le", "utf-32",
	"utf-7", "iso-2022-kr", "x-bogus", "iso-8859-5", "gb18030",
	"\"Shift_JIS\"", "hz-gb-2312", "iso-2022-cn", "iso-8859-7",
	"iso-8859-8-i", "windows-1251", "euc-tw", "johab", "ibm437",
	"iso-8859-2",
};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static int inited;
	charset_stats_t st = { 0 };
	const char *label;
	buf_t b;

	if (!inited)
		inited = charset_init() == 0 ? 1 : -1;
	if (size < 1)
		return 0;
	label = labels[data[0] % (sizeof(labels) / sizeof(labels[0]))];
	buf_init(&b, 1u << 22);
	if (charset_decode(label, (const char *)data + 1, size - 1, &b, &st) == 0) {
		if (b.len && !utf8_valid(b.data, b.len))
			abort();
		if (b.len && utf8_count(b.data, b.len) != st.chars)
			abort();
		if (!st.used || st.losses > st.chars)
			abort();
	}
	buf_free(&b);
	return 0;
}
