/* fuzz_encblock.c — encblock_strip on arbitrary bytes.
 *
 * Invariants: returns the number of blocks it reported; no line of the
 * output opens a block (uuencode, BinHex, yEnc); the output is a
 * subsequence of whole lines of the input (never longer); every reported
 * name is NUL-free and at most ENCBLOCK_NAME_MAX bytes. */
#include <stdlib.h>
#include <string.h>

#include "text/encblock.h"

static int count_cb(void *arg, const encblock_t *b)
{
	size_t n = strnlen(b->name, sizeof(b->name));

	if (n > ENCBLOCK_NAME_MAX)
		abort();
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data;
	int seen = 0, rc;
	buf_t out;

	buf_init(&out, size + 1);
	rc = encblock_strip(s, size, &out, count_cb, &seen);
	if (rc < 0 || rc != seen || out.len > size)
		abort();
	if (encblock_has_start(out.data ? out.data : "", out.len))
		abort();
	if (rc == 0 && (out.len != size || (size && memcmp(out.data, s, size))))
		abort();
	buf_free(&out);
	return 0;
}
