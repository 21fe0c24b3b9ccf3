/*
 * page.c — the console's HTML writer (see page.h). Spec: HTML Living
 * Standard, 13.1 (text and attribute values: escaping & < > " ' is enough
 * in element content and in double-quoted attribute values).
 *
 * SECURITY: the only path from data to markup. Invalid UTF-8 becomes U+FFFD,
 * C0 controls (except LF, TAB) and DEL are dropped, so no byte sequence can
 * change the parser's state.
 */
#include "console/page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/utf8.h"

#define JST_OFFSET (9 * 3600)

void page_init(page_t *p, size_t cap)
{
	buf_init(&p->b, cap);
	p->err = 0;
}

void page_free(page_t *p)
{
	buf_free(&p->b);
}

static void put(page_t *p, const char *s, size_t n)
{
	if (!p->err && buf_append(&p->b, s, n) < 0)
		p->err = -1;
}

void page_lit_(page_t *p, const char *html)
{
	put(p, html, strlen(html));
}

static const char *entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

void page_textn(page_t *p, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !p->err) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t k;

		if (c < 0x80) {
			const char *e = entity(c);

			if (e)
				put(p, e, strlen(e));
			else if (c >= 0x20 ? c != 0x7f : (c == '\n' || c == '\t'))
				put(p, s + i, 1);
			i++;
			continue;
		}
		k = utf8_decode_one((const unsigned char *)s + i, n - i, &cp);
		if (cp == UTF8_INVALID || (cp >= 0x80 && cp < 0xa0)) {
			put(p, "\xef\xbf\xbd", 3);  /* U+FFFD */
			i += k;
		} else {
			put(p, s + i, k);
			i += k;
		}
	}
}

void page_text(page_t *p, const char *s)
{
	if (s)
		page_textn(p, s, strlen(s));
}

void page_int(page_t *p, long long v)
{
	if (!p->err && buf_printf(&p->b, "%lld", v) < 0)
		p->err = -1;
}

void page_time_jst(page_t *p, int64_t t)
{
	time_t j = (time_t)(t + JST_OFFSET);
	struct tm tm;
	char s[32];

	if (!gmtime_r(&j, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(s, sizeof(s), "-");
	page_text(p, s);
}

void page_time_rfc3339_jst(page_t *p, const char *utc)
{
	struct tm tm = { 0 };
	const char *end = utc ? strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	time_t t;
	char s[32];

	if (!end || (*end != '.' && *end != 'Z')) {
		page_text(p, utc);
		return;
	}
	t = timegm(&tm) + JST_OFFSET;
	if (!gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		page_text(p, utc);
		return;
	}
	page_text(p, s);
}

void page_begin(page_t *p, const char *title, const char *account)
{
	PAGE_LIT(p, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	page_text(p, title);
	PAGE_LIT(p, " — mugai</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\n"
		 "<body><header><span class=\"brand\">mugai 無害化装置 コンソール</span>");
	if (account) {
		PAGE_LIT(p, "<span class=\"who\">");
		page_text(p, account);
		PAGE_LIT(p, "</span>");
	}
	PAGE_LIT(p, "</header>\n<main><h1>");
	page_text(p, title);
	PAGE_LIT(p, "</h1>\n");
}

void page_end(page_t *p)
{
	PAGE_LIT(p, "</main></body></html>\n");
}

int page_finish(page_t *p)
{
	if (!p->err && buf_putc(&p->b, '\0') < 0)
		p->err = -1;
	if (!p->err)
		p->b.len--;
	return p->err;
}
