/*
 * rjson.h — read what the console shows from a stored report (the JSON the
 * engine wrote, mail/report.c): the entries of one top-level array, each an
 * object whose "filename" and "reason" strings are handed over, or a string;
 * and the string members of a JSON API request body.
 *
 * SECURITY: the report holds sender-controlled strings (file names, warning
 * text). The reader is a bounded recursive-descent parser (RFC 8259) with a
 * depth cap (JSON_DEPTH_MAX); strings are decoded into capped buffers and
 * checked as UTF-8; the caller escapes them for HTML (page.c).
 */
#ifndef MUGAI_CONSOLE_RJSON_H
#define MUGAI_CONSOLE_RJSON_H

#include <stddef.h>

#include "common/buf.h"
#include "common/defs.h"

/* For an object entry: name = its "filename" (NULL when absent or null),
 * code = its "reason" (NULL when absent). For a string entry: name = the
 * string, code = NULL. Return 0 to go on, -1 to stop. */
typedef int (*rjson_cb)(const char *name, const char *code, void *arg);

/* Walk the top-level array named key: 0 (also when absent), -1 malformed. */
int rjson_each(const char *json, size_t len, const char *key, rjson_cb cb,
	       void *arg) MUGAI_WUR;

/* The string member key of the top-level object (the API's JSON input) into
 * out (NUL-terminated, within out's cap): 1 found, 0 absent, -1 when the
 * document is malformed, the member is not a string or appears twice. */
int rjson_get_str(const char *json, size_t len, const char *key, buf_t *out) MUGAI_WUR;

#endif
