/* fuzz_link.c — link_rewrite_text and link_emit on arbitrary bytes.
 *
 * First byte: style (bits 0-1), mode (bit 2: emit, the rest split at the
 * first NUL into label and URL). Invariants: returns 0; in defang/remove
 * style the output has no live form of the output contract (issue #8,
 * rules 2–6, written here independently of link.c); rewriting defanged
 * text again changes nothing (idempotence); plain text output ⊆ UTF-8 when
 * the input was valid UTF-8; and the output check of mail/outcheck.c (the
 * gate's own reading, wider than the one here: IDN labels after "//") finds
 * no link rule (scheme, unc, www, domain, email) in defang/remove output
 * (its control, notice and encoded rules are other stages' work); and the
 * output of wr_text is left unchanged by wr_clean (mail/walk.c skips the
 * second cleaning of plain text on that promise). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "text/link.h"
#include "text/writer.h"
#include "mail/outcheck.h"

static int run_ch(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

static int letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int slash(unsigned char c)
{
	return c == '/' || c == '\\';
}

static int host_ch(unsigned char c)
{
	return run_ch(c) && c != '+';
}

/* label '.' label, the last label with 2+ letters */
static int host_shape(const char *s, size_t i, size_t e)
{
	size_t d = e, letters = 0;

	while (d > i && s[d - 1] != '.')
		d--;
	if (d <= i + 1 || s[d - 2] == '.')
		return 0;
	for (size_t k = d; k < e; k++)
		letters += letter((unsigned char)s[k]);
	return letters >= 2;
}

static int inert_prefix(const char *s, size_t i, size_t e, size_t n)
{
	return (e - i == 4 && !strncasecmp(s + i, "hxxp", 4)) ||
	       (e - i == 5 && !strncasecmp(s + i, "hxxps", 5)) ||
	       (e - i == 3 && !strncasecmp(s + i, "fxp", 3))
		       ? e + 2 < n && s[e + 1] == '/' && s[e + 2] == '/' : 0;
}

static void check_run(const char *s, size_t i, size_t n)
{
	size_t e = i;

	while (e < n && run_ch((unsigned char)s[e]))
		e++;
	if (letter((unsigned char)s[i]) && e - i >= 2 && e + 1 < n && s[e] == ':' &&
	    !ws((unsigned char)s[e + 1]) && !inert_prefix(s, i, e, n))
		abort(); /* rule 2 */
	if (e - i >= 4 && !strncasecmp(s + i, "www.", 4))
		abort(); /* rule 4 */
	if (host_shape(s, i, e) && ((e < n && s[e] == '/') ||
				    (i >= 2 && s[i - 1] == '/' && s[i - 2] == '/')))
		abort(); /* rules 3b and 5 */
}

static void check_inert(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (run_ch(c) && (i == 0 || !run_ch((unsigned char)s[i - 1])))
			check_run(s, i, n);
		if (i + 2 < n && slash(c) && slash((unsigned char)s[i + 1]) &&
		    (c == '\\' || s[i + 1] == '\\') && !ws((unsigned char)s[i + 2]) && s[i + 2] != ']')
			abort(); /* rule 3a */
		if (c == '@' && i > 0 && (run_ch((unsigned char)s[i - 1]) || s[i - 1] == '_' ||
					  s[i - 1] == '%')) {
			size_t e = i + 1, dot = 0;

			while (e < n && host_ch((unsigned char)s[e]))
				e++;
			for (size_t k = i + 2; k + 1 < e; k++)
				dot |= s[k] == '.' && s[k - 1] != '.' && s[k + 1] != '.';
			if (dot)
				abort(); /* rule 6 */
		}
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

static void check_gate(const buf_t *b)
{
	outcheck_opts_t o = { .plain_links = false };
	outcheck_result_t r;

	if (outcheck_text(b->data ? b->data : "", b->len, false, &o, &r) <= 0)
		return;
	if (r.rule == OUTCHECK_SCHEME || r.rule == OUTCHECK_UNC || r.rule == OUTCHECK_WWW ||
	    r.rule == OUTCHECK_DOMAIN || r.rule == OUTCHECK_EMAIL)
		abort();
}

static void check_writer_fixed_point(const char *s, size_t n, link_style_t st)
{
	link_counts_t c = { 0, 0 };
	buf_t w, again;

	buf_init(&w, (size_t)1 << 30);
	buf_init(&again, (size_t)1 << 30);
	if (wr_text(&w, s, n, st, &c) != 0 || wr_clean(&again, w.data ? w.data : "", w.len, 0) != 0)
		abort();
	if (again.len != w.len || (w.len && memcmp(again.data, w.data, w.len)))
		abort();
	buf_free(&w);
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
		check_gate(&b);
		if (!(data[0] & 4))
			check_idempotent(&b, st);
	}
	if (!(data[0] & 4) && utf8_valid(s, n) && !utf8_valid(b.data ? b.data : "", b.len))
		abort();
	if (!(data[0] & 4))
		check_writer_fixed_point(s, n, st);
	buf_free(&b);
	return 0;
}
