/*
 * bench_charset.c — throughput of charset_decode on ASCII, CP932,
 * ISO-2022-JP, EUC-JP and UTF-8 (8 MiB inputs, best of 5 runs).
 *
 * SECURITY: benchmark only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/charset.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *fill(const char *unit, size_t size)
{
	size_t ul = strlen(unit), i;
	char *p = malloc(size);

	if (!p)
		exit(1);
	for (i = 0; i + ul <= size; i += ul)
		memcpy(p + i, unit, ul);
	memset(p + i, ' ', size - i);
	return p;
}

static void bench(const char *name, const char *label, const char *unit)
{
	const size_t size = 8u << 20;
	char *in = fill(unit, size);
	double best = 1e9, t;
	charset_stats_t st = { 0 };
	buf_t b;
	int r;

	buf_init(&b, 64u << 20);
	for (r = 0; r < 5; r++) {
		buf_reset(&b);
		t = now();
		if (charset_decode(label, in, size, &b, &st) < 0)
			exit(1);
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("%-12s %-12s %8.0f MB/s  (losses %zu, used %s)\n", name,
	       label ? label : "(sniffed)",
	       (double)size / best / 1e6, st.losses, st.used);
	buf_free(&b);
	free(in);
}

int main(void)
{
	if (charset_init() < 0)
		return 1;
	bench("ascii", "iso-2022-jp", "The quick brown fox jumps over the lazy dog.\r\n");
	bench("ascii", "utf-8", "The quick brown fox jumps over the lazy dog.\r\n");
	bench("cp932", "shift_jis",
	      "\x82\xA8\x90\xA2\x98\x62\x82\xC9\x82\xC8\x82\xC1\x82\xC4\x82\xA8"
	      "\x82\xE8\x82\xDC\x82\xB7\x81\x42\r\n");
	bench("iso-2022-jp", "iso-2022-jp",
	      "\x1B$B$*@$OC$K$J$C$F$*$j$^$9!#\x1B(B\r\n");
	bench("euc-jp", "euc-jp",
	      "\xA4\xAA\xC0\xA4\xCF\xC3\xA4\xCB\xA4\xCA\xA4\xC3\xA4\xC6\xA4\xAA"
	      "\xA4\xEA\xA4\xDE\xA4\xB9\xA1\xA3\r\n");
	bench("utf-8", "utf-8", "お世話になっております。\r\n");
	bench("cp932", NULL, "\x82\xA8\x90\xA2\x98\x62\x82\xC9\x82\xC8\r\n");
	return 0;
}
