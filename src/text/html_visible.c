/*
 * html_visible.c — html_text_chars: the visible characters of an HTML
 * document estimated in one linear pass without a parser (see html.h), for
 * the multipart/alternative stub rule.
 *
 * Counts non-space code points outside tags, comments and the content of
 * script/style/head/title/template/iframe/noembed/noframes/xmp; an entity
 * counts as one (at most HTML_ENTITY_LEN bytes are read as its name),
 * &nbsp;, U+00A0 and U+3000 as space.
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML; linear, no
 * allocation, reads only within [s, s + n).
 */
#include "text/html_int.h"

#include <string.h>
#include <strings.h>

/* Skip past "</name" (ASCII case-insensitive) or to the end. */
static size_t skip_raw(const char *s, size_t n, size_t i, const char *name)
{
	size_t m = strlen(name);

	for (; i < n; i++)
		if (s[i] == '<' && n - i > m + 1 && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, m) == 0)
			return i;
	return n;
}

/* At s[i] == '<': the index just past the markup, and *raw the element
 * whose content is not shown (or NULL). */
static size_t skip_markup(const char *s, size_t n, size_t i, const char **raw)
{
	static const char *const hidden[] = {
		"script", "style", "head", "title", "template", "iframe", "noembed",
		"noframes", "xmp",
	};
	const char *gt, *end;
	size_t k, m;

	*raw = NULL;
	if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		end = memmem(s + i + 4, n - i - 4, "-->", 3);
		return end ? (size_t)(end - s) + 3 : n;
	}
	gt = memchr(s + i, '>', n - i);
	k = gt ? (size_t)(gt - s) + 1 : n;
	for (m = 0; m < MUGAI_ARRAY_LEN(hidden); m++) {
		size_t l = strlen(hidden[m]);

		if (n - i > l + 1 && strncasecmp(s + i + 1, hidden[m], l) == 0 &&
		    (i + 1 + l >= n || !is_alpha(s[i + 1 + l])))
			*raw = hidden[m];
	}
	return k;
}

size_t html_text_chars(const char *s, size_t n)
{
	size_t i = 0, v = 0;
	const char *raw;
	unsigned char b;

	while (i < n) {
		b = (unsigned char)s[i];
		if (b == '<' && i + 1 < n && (is_alpha(s[i + 1]) || s[i + 1] == '/' ||
					      s[i + 1] == '!' || s[i + 1] == '?')) {
			i = skip_markup(s, n, i, &raw);
			if (raw)
				i = skip_raw(s, n, i, raw);
			continue;
		}
		if (b == '&' && n - i >= 6 && strncasecmp(s + i, "&nbsp;", 6) == 0) {
			i += 6;
			continue;
		}
		if (b == '&') {
			size_t k = i + 1;

			while (k < n && k - i < HTML_ENTITY_LEN && (is_alpha(s[k]) || (s[k] >= '0' && s[k] <= '9') ||
						       s[k] == '#'))
				k++;
			v++;
			i = (k < n && s[k] == ';') ? k + 1 : i + 1;
			continue;
		}
		if (b == 0xE3 && n - i >= 3 && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x80) {
			i += 3;  /* U+3000 */
			continue;
		}
		if (b == 0xC2 && n - i >= 2 && (unsigned char)s[i + 1] == 0xA0) {
			i += 2;  /* U+00A0 */
			continue;
		}
		v += (b & 0xC0) != 0x80 && b != ' ' && (b < '\t' || b > '\r');
		i++;
	}
	return v;
}
