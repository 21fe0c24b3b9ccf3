/* fuzz_ppapscan.c — ppap_scan on arbitrary bytes.
 *
 * Invariants: never more than max_count candidates; each is 1..max_len
 * bytes of printable ASCII with a letter or digit; all distinct; a second
 * scan of the same text into a full set adds nothing; free wipes all. */
#include <stdlib.h>
#include <string.h>

#include "mail/ppapscan.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(const ppap_cands_t *c)
{
	if (c->n > c->max_count)
		abort();
	for (size_t i = 0; i < c->n; i++) {
		size_t n = strlen(c->v[i]);
		int alnum = 0;

		if (n == 0 || n > c->max_len)
			abort();
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = (unsigned char)c->v[i][k];

			if (ch <= 0x20 || ch >= 0x7f)
				abort();
			alnum |= (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
		}
		if (!alnum)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->v[i], c->v[j]) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	ppap_cands_t c;
	size_t n;

	ppap_cands_init(&c, size ? 1 + data[0] % 12 : 8, 64);
	if (ppap_scan((const char *)data, size, &c) < 0)
		abort();
	check(&c);
	n = c.n;
	if (n == c.max_count && (ppap_scan((const char *)data, size, &c) < 0 || c.n != n))
		abort();
	ppap_cands_free(&c);
	if (c.n != 0)
		abort();
	return 0;
}
