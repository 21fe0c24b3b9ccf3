/*
 * form.c — urlencoded forms and query strings, and the Cookie header (see
 * form.h). Specs: WHATWG URL Standard, application/x-www-form-urlencoded
 * parsing; RFC 6265 section 4.2.1 (cookie-string) and 5.4.
 *
 * Also the strict readers of a date, a page number and a search text.
 *
 * SECURITY: bounded loops over (pointer, length); decoded values go through
 * one check (UTF-8, no controls but TAB CR LF) before the caller sees them.
 */
#include "console/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/utf8.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode p[0..n) into out (appending); -1 on a bad escape or the cap. */
static int decode(const char *p, size_t n, buf_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(p[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (buf_putc(out, c) < 0)
			return -1;
	}
	return 0;
}

static int value_ok(const buf_t *v)
{
	if (!utf8_valid(v->data ? v->data : "", v->len))
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->data[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return -1;
	}
	return 0;
}

/* Does the field name p[0..n) decode to key? */
static int name_is(const char *p, size_t n, const char *key, buf_t *scratch)
{
	buf_reset(scratch);
	if (decode(p, n, scratch) < 0)
		return -1;
	return scratch->len == strlen(key) && memcmp(scratch->data, key, scratch->len) == 0;
}

int form_get(const char *body, size_t len, const char *key, buf_t *out)
{
	buf_t name;
	size_t i = 0;
	int found = 0, rc = -1;

	buf_init(&name, out->max);
	buf_reset(out);
	while (i < len) {
		const char *f = body + i, *amp = memchr(f, '&', len - i), *eq;
		size_t flen = amp ? (size_t)(amp - f) : len - i;
		int is;

		i += flen + 1;
		eq = memchr(f, '=', flen);
		is = name_is(f, eq ? (size_t)(eq - f) : flen, key, &name);
		if (is < 0)
			goto out;
		if (!is)
			continue;
		if (found++ || (eq && decode(eq + 1, flen - (size_t)(eq + 1 - f), out) < 0))
			goto out;
	}
	if (buf_putc(out, '\0') < 0)
		goto out;
	out->len--;
	rc = found && value_ok(out) < 0 ? -1 : found;
out:
	buf_free(&name);
	return rc;
}

/* RFC 6265 cookie-octet: printable US-ASCII except space " , ; \ */
static int cookie_octet(char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

int form_cookie(const char *header, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = header;
	int found = 0;

	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t plen = end ? (size_t)(end - p) : strlen(p);

		while (plen && *p == ' ')
			p++, plen--;
		if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = plen - nlen - 1;

			if (found++ || vlen == 0 || vlen >= cap)
				return -1;
			for (size_t k = 0; k < vlen; k++)
				if (!cookie_octet(p[nlen + 1 + k]))
					return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
		}
		p = end ? end + 1 : NULL;
	}
	return found;
}

/* ---- query values ---- */

#define JST_SECONDS (9 * 3600)
#define DATE_LEN 10

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int form_date_jst(const char *s, int64_t *t)
{
	struct tm tm = { 0 }, back;
	time_t u;

	if (!s || strlen(s) != DATE_LEN || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || atoi(s) < 1)
		return -1;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	u = timegm(&tm);
	if (u == (time_t)-1 || !gmtime_r(&u, &back) || back.tm_year != atoi(s) - 1900 ||
	    back.tm_mon != atoi(s + 5) - 1 || back.tm_mday != atoi(s + 8))
		return -1;
	*t = (int64_t)u - JST_SECONDS;
	return 0;
}

int form_page(const char *s, long *page)
{
	size_t n = s ? strlen(s) : 0;
	long v = 0;

	if (n == 0 || n > SEARCH_PAGE_DIGITS || !digits(s, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < 1)
		return -1;
	*page = v;
	return 0;
}

bool form_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}
