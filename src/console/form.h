/*
 * form.h — the console's own request parsers: an HTML form body or a query
 * string (application/x-www-form-urlencoded, WHATWG URL Standard 5.1), and
 * one cookie of a Cookie header (RFC 6265 5.4).
 *
 * SECURITY: input is hostile (any client that reaches console_listen). Pure
 * functions over bytes; every result is bounded by the caller's cap; a
 * value that is not UTF-8 or holds a control character other than TAB, CR,
 * LF is refused (-1), never repaired. libFuzzer target: fuzz/fuzz_console.c.
 */
#ifndef MUGAI_CONSOLE_FORM_H
#define MUGAI_CONSOLE_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

/* The value of the first field named key in body[0..len) into out (NUL
 * terminated; '+' is a space, %XX a byte): 1 found, 0 absent, -1 malformed
 * (bad escape, not UTF-8, control character, over out's cap). A field is
 * counted once: a second field of the same name makes it -1 (no ambiguity
 * between what we check and what we use). */
int form_get(const char *body, size_t len, const char *key, buf_t *out) MUGAI_WUR;
/* The value of cookie name in a Cookie header into out[cap]: 1 found (value
 * of 1..cap-1 cookie-octets), 0 absent, -1 malformed or repeated. */
int form_cookie(const char *header, const char *name, char *out, size_t cap) MUGAI_WUR;

/* Query values of the reports and the search (already percent-decoded). */
#define FORM_DAY 86400
/* "YYYY-MM-DD", a real date of years 0001-9999 (RFC 3339 full-date), into
 * the unix seconds of its midnight in JST (UTC+9, no daylight saving):
 * 0, or -1 for anything else. */
int form_date_jst(const char *s, int64_t *t) MUGAI_WUR;
/* A page number: 1 to SEARCH_PAGE_DIGITS decimal digits, not 0: 0 or -1. */
int form_page(const char *s, long *page) MUGAI_WUR;
/* UTF-8 of at most max bytes without a control character (C0, DEL). */
bool form_text_ok(const char *s, size_t max);

#endif
