/* fuzz_link.c — link_rewrite_text and link_emit on arbitrary bytes.
 *
 * First byte: style (bits 0-1), mode (bit 2: emit, the rest split at the
 * first NUL into label and URL). Invariants: returns 0; in defang/remove
 * style the output has no live link (see fuzz_html.c); rewriting defanged
 * text again changes nothing (idempotence); plain text output ⊆ UTF-8 when
 * the input was valid UTF-8. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "text/link.h"

static int run_ch(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

static int alnum(unsigned char c)
{
	return run_ch(c) && c != '+' && c != '.' && c != '-';
}

static void check_inert(const char *s, size_t n)
{
	size_t i, b;

	for (i = 0; i + 2 < n; i++) {
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			for (b = i; b > 0 && run_ch((unsigned char)s[b - 1]); b--)
				;
			if (b != i && !(i - b == 4 && !strncasecmp(s + b, "hxxp", 4)) &&
			    !(i - b == 5 && !strncasecmp(s + b, "hxxps", 5)) &&
			    !(i - b == 3 && !strncasecmp(s + b, "fxp", 3)))
				abort();
		}
		if ((i == 0 || !run_ch((unsigned char)s[i - 1])) && i + 4 < n &&
		    !strncasecmp(s + i, "www.", 4) && alnum((unsigned char)s[i + 4]))
			abort();
	}
}

static void check_idempotent(const buf_t *b, link_style_t st)
{
	link_counts_t c = { 0, 0 };
	buf_t again;

	buf_init(&again, (size_t)1 << 30);
	if (link_rewrite_text(b->data ? b->data : "", b->len, st, &again, &c) != 0)
		abort();
	if (again.len != b->len || (b->len && memcmp(again.data, b->data, b->len)))
		abort();
	if (c.defanged || c.removed)
		abort();
	buf_free(&again);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	link_counts_t c = { 0, 0 };
	const char *s = (const char *)data + 1, *nul;
	link_style_t st;
	size_t n;
	buf_t b;
	int rc;

	if (size < 1)
		return 0;
	st = (link_style_t)(data[0] & 3) % 3;
	n = size - 1;
	buf_init(&b, (size_t)1 << 30);
	if (data[0] & 4) {
		nul = memchr(s, '\0', n);
		if (!nul)
			nul = s + n;
		rc = link_emit(&b, s, (size_t)(nul - s), nul + (nul < s + n),
			       (size_t)(s + n - nul) - (nul < s + n), st, &c);
	} else {
		rc = link_rewrite_text(s, n, st, &b, &c);
	}
	if (rc != 0)
		abort();
	if (st != LINK_PLAIN) {
		check_inert(b.data, b.len);
		if (!(data[0] & 4))
			check_idempotent(&b, st);
	}
	if (!(data[0] & 4) && utf8_valid(s, n) && !utf8_valid(b.data ? b.data : "", b.len))
		abort();
	buf_free(&b);
	return 0;
}
