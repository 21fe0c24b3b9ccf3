/* fuzz_html.c — html_to_text on arbitrary bytes.
 *
 * First byte: bits 0-1 link style, bit 2 small depth (16), bit 3 ratio 1.
 * Invariants: returns 0 (no cap in play: out is large), output is valid
 * UTF-8, has no trailing space on a line, no leading/trailing blank line, no
 * two blank lines in a row, and in defang/remove style no live link is left:
 * every "://" is preceded by an empty scheme run or hxxp/hxxps/fxp, and no
 * run starts with "www." followed by a letter or digit. (A bare "http://"
 * inside other text is also rewritten, so this holds for all text.)
 * Also runs html_text_chars (the stub-rule estimate): at most one counted
 * character per input byte. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "text/html.h"

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

static void check_lines(const char *s, size_t n)
{
	size_t i;

	if (n && (s[0] == '\n' || s[n - 1] == '\n'))
		abort();
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && i && s[i - 1] == ' ')
			abort();
		if (i + 2 < n && s[i] == '\n' && s[i + 1] == '\n' && s[i + 2] == '\n')
			abort();
	}
	if (n && s[n - 1] == ' ')
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	html_opts_t o;
	html_result_t r;
	buf_t b;

	if (size < 1)
		return 0;
	o.link_style = (link_style_t)(data[0] & 3) % 3;
	o.depth_max = (data[0] & 4) ? 16 : 256;
	o.expansion_max = (data[0] & 8) ? 1 : 8;
	o.links_by_writer = (data[0] & 16) != 0;
	buf_init(&b, (size_t)1 << 30);
	if (html_to_text((const char *)data + 1, size - 1, &o, &b, &r) != 0)
		abort();
	if (!utf8_valid(b.data ? b.data : "", b.len))
		abort();
	check_lines(b.data, b.len);
	if (o.link_style != LINK_PLAIN)
		check_inert(b.data, b.len);
	/* the stub rule's estimate: one counted character per input byte at most */
	if (html_text_chars((const char *)data + 1, size - 1) > size - 1)
		abort();
	buf_free(&b);
	return 0;
}
