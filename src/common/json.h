/*
 * json.h — a small streaming JSON writer (RFC 8259) into a capped buf_t.
 *
 * Strings are escaped; invalid UTF-8 is replaced by U+FFFD so the output is
 * always valid JSON. Nesting is tracked to place commas; depth is bounded.
 *
 * SECURITY: writes values derived from hostile input; never emits raw control
 * characters or invalid UTF-8.
 */
#ifndef MUGAI_JSON_H
#define MUGAI_JSON_H

#include <stdbool.h>
#include "buf.h"
#include "limits.h"

typedef struct json {
	buf_t *out;
	int depth;
	bool first[JSON_DEPTH_MAX];
	bool after_key;
	bool failed;
} json_t;

void json_init(json_t *j, buf_t *out);
void json_obj_begin(json_t *j);
void json_obj_end(json_t *j);
void json_arr_begin(json_t *j);
void json_arr_end(json_t *j);
void json_key(json_t *j, const char *k);
void json_str(json_t *j, const char *s);
/* json_key(k) then json_str(v): one string member of an object. */
void json_kv(json_t *j, const char *k, const char *v);
void json_strn(json_t *j, const char *s, size_t n);
void json_int(json_t *j, long long v);
void json_bool(json_t *j, bool v);
void json_null(json_t *j);
/* Raw, already-valid JSON text (e.g. a stored report). */
void json_raw(json_t *j, const char *s, size_t n);
/* 0 when every write succeeded. */
int json_finish(json_t *j) MUGAI_WUR;

/* Append s as an escaped JSON string (with quotes) to b. */
int json_escape(buf_t *b, const char *s, size_t n) MUGAI_WUR;

#endif
