/*
 * fuzz_console.c — libFuzzer target for the console's own parsers: the form
 * and query decoder (form_get), the Cookie header (form_cookie), the stored
 * report reader (rjson_each), the query values of the reports and the search
 * (form_date_jst, form_page, form_text_ok), the address list an admin
 * types for a new account (qstore_account_addrs_parse), and the HTML writer
 * over the decoded values.
 * The input is split at the first NUL: a Cookie header, then a form body
 * that is also read as a report and as a JSON API body (rjson_get_str). Invariants: a found field is valid UTF-8
 * without a control character other than TAB CR LF; a found cookie is 1..43
 * cookie-octets; whatever page_text() writes has no '<', '>', '"' or '\'';
 * an accepted date is written back the same (JST midnight), an accepted
 * page is >= 1, an accepted text is UTF-8 without controls; an address
 * list has no empty item, no separator but ',' and no upper-case letter.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/utf8.h"
#include "console/form.h"
#include "console/page.h"
#include "console/rjson.h"
#include "store/qstore.h"

static void check_escaped(const char *s)
{
	page_t p;

	page_init(&p, 1 << 20);
	page_text(&p, s);
	if (page_finish(&p) == 0 && strpbrk(p.b.data, "<>\"'"))
		abort();
	if (p.b.len && !utf8_valid(p.b.data, p.b.len))
		abort();
	page_free(&p);
}

static void check_field(const char *body, size_t n, const char *key)
{
	buf_t v;

	buf_init(&v, 4096);
	if (form_get(body, n, key, &v) == 1) {
		if (!utf8_valid(v.data, v.len) || strlen(v.data) != v.len)
			abort();
		for (size_t i = 0; i < v.len; i++) {
			unsigned char c = (unsigned char)v.data[i];

			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				abort();
		}
		check_escaped(v.data);
	}
	buf_free(&v);
}

static void check_json_field(const char *body, size_t n, const char *key)
{
	buf_t v;
	int rc;

	buf_init(&v, 4096);
	rc = rjson_get_str(body, n, key, &v);
	if (rc < -1 || rc > 1 || (rc == 1 && (!utf8_valid(v.data, v.len) ||
					     strlen(v.data) != v.len)))
		abort();
	if (rc == 1)
		check_escaped(v.data);
	buf_free(&v);
}

static int on_entry(const char *name, const char *code, void *arg)
{
	(void)arg;
	if (name)
		check_escaped(name);
	if (code)
		check_escaped(code);
	return 0;
}

/* The query readers over the header text. */
static void check_query(const char *s)
{
	int64_t t;
	long page;

	if (form_date_jst(s, &t) == 0) {
		time_t j = (time_t)(t + 9 * 3600);
		struct tm tm;
		char back[64];

		if (!gmtime_r(&j, &tm) || tm.tm_hour || tm.tm_min || tm.tm_sec)
			abort();
		snprintf(back, sizeof(back), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
		if (strcmp(back, s) != 0)
			abort();
	}
	if (form_page(s, &page) == 0 && page < 1)
		abort();
	if (form_text_ok(s, SEARCH_TEXT_MAX)) {
		if (!utf8_valid(s, strlen(s)) || strlen(s) > SEARCH_TEXT_MAX)
			abort();
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
}

/* The addrs field of the add form, as the console reads it. */
static void check_addrs(const char *body, size_t n)
{
	buf_t v, out;

	buf_init(&v, QACCT_ADDRS_MAX);
	buf_init(&out, QACCT_ADDRS_MAX);
	if (form_get(body, n, "addrs", &v) == 1 && qstore_account_addrs_parse(&out, v.data) == 0) {
		const char *p = out.data;

		if (strlen(p) != out.len || (out.len && (p[0] == ',' || p[out.len - 1] == ',')) ||
		    strstr(p, ",,") || strpbrk(p, " \t\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ"))
			abort();
	}
	buf_free(&v);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	size_t hlen = nul ? (size_t)(nul - (const char *)data) : size;
	char *header = malloc(hlen + 1), cookie[44];
	const char *body = nul ? nul + 1 : "";
	size_t blen = nul ? size - hlen - 1 : 0;

	if (!header)
		return 0;
	memcpy(header, data, hlen);
	header[hlen] = '\0';
	if (form_cookie(header, "mugai_session", cookie, sizeof(cookie)) == 1 &&
	    (strlen(cookie) == 0 || strpbrk(cookie, " ;,\"\\")))
		abort();
	check_field(body, blen, "csrf");
	check_field(body, blen, "reason");
	check_addrs(body, blen);
	if (rjson_each(body, blen, "removed", on_entry, NULL) < -1 ||
	    rjson_each(body, blen, "limits_hit", on_entry, NULL) < -1)
		abort();
	check_json_field(body, blen, "reason");
	check_query(header);
	free(header);
	return 0;
}
