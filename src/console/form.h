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

#include <stddef.h>

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

#endif
