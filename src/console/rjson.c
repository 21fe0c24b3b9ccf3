/*
 * rjson.c — a small bounded JSON reader for stored reports (see rjson.h).
 * Spec: RFC 8259 (strings with \u escapes and surrogate pairs).
 *
 * SECURITY: every read checks the end; recursion is capped at
 * JSON_DEPTH_MAX; decoded strings are capped at WIRE_STR_MAX and must be
 * valid UTF-8 without NUL.
 */
#include "console/rjson.h"

#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/limits.h"
#include "common/utf8.h"

typedef struct rj {
	const char *p, *end;
} rj_t;

static void ws(rj_t *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool eat(rj_t *r, char c)
{
	ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(rj_t *r, uint32_t *v)
{
	*v = 0;
	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		*v = *v * 16 + (uint32_t)d;
	}
	return 0;
}

static int escape(rj_t *r, buf_t *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	uint32_t cp, lo;

	if (r->p >= r->end)
		return -1;
	k = strchr(from, *r->p);
	if (k && *k) {
		r->p++;
		return buf_putc(out, to[k - from]);
	}
	if (*r->p++ != 'u' || hex4(r, &cp) < 0)
		return -1;
	if (cp >= 0xD800 && cp < 0xDC00) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return -1;
		r->p += 2;
		if (hex4(r, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xDC00 && cp < 0xE000) {
		return -1;
	}
	return cp == 0 ? -1 : buf_put_utf8(out, cp);
}

/* A string into out (NULL: skip it); NUL-terminated, valid UTF-8. */
static int string(rj_t *r, buf_t *out)
{
	buf_t skip;
	int rc = -1;

	buf_init(&skip, WIRE_STR_MAX);
	if (!out)
		out = &skip;
	buf_reset(out);
	if (!eat(r, '"'))
		goto out;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p++;

		if (c < 0x20 || (c == '\\' ? escape(r, out) : buf_putc(out, c)) < 0)
			goto out;
	}
	if (r->p >= r->end || buf_putc(out, '\0') < 0)
		goto out;
	r->p++;
	out->len--;
	rc = utf8_valid(out->data, out->len) ? 0 : -1;
out:
	buf_free(&skip);
	return rc;
}

static int value(rj_t *r, int depth);

static int container(rj_t *r, int depth, char close, bool obj)
{
	if (depth >= JSON_DEPTH_MAX)
		return -1;
	if (eat(r, close))
		return 0;
	do {
		if (obj && (string(r, NULL) < 0 || !eat(r, ':')))
			return -1;
		if (value(r, depth + 1) < 0)
			return -1;
	} while (eat(r, ','));
	return eat(r, close) ? 0 : -1;
}

static int literal(rj_t *r)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(words); i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(r->end - r->p) >= n && memcmp(r->p, words[i], n) == 0) {
			r->p += n;
			return 0;
		}
	}
	return -1;
}

static int number(rj_t *r)
{
	const char *start = r->p;

	while (r->p < r->end && strchr("+-0123456789.eE", *r->p) && *r->p)
		r->p++;
	return r->p > start ? 0 : -1;
}

static int value(rj_t *r, int depth)
{
	ws(r);
	if (r->p >= r->end)
		return -1;
	if (*r->p == '{' || *r->p == '[') {
		bool obj = *r->p++ == '{';

		return container(r, depth, obj ? '}' : ']', obj);
	}
	if (*r->p == '"')
		return string(r, NULL);
	if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
		return number(r);
	return literal(r);
}

/* One object entry: its "filename" and "reason". */
static int entry_object(rj_t *r, rjson_cb cb, void *arg, buf_t *name, buf_t *code)
{
	buf_t key;
	bool has_name = false, has_code = false;
	int rc = -1;

	buf_init(&key, WIRE_STR_MAX);
	r->p++;
	if (!eat(r, '}')) {
		do {
			if (string(r, &key) < 0 || !eat(r, ':'))
				goto out;
			ws(r);
			if (strcmp(key.data, "filename") == 0 && r->p < r->end && *r->p == '"') {
				if (has_name || string(r, name) < 0)
					goto out;
				has_name = true;
			} else if (strcmp(key.data, "reason") == 0 && r->p < r->end && *r->p == '"') {
				if (has_code || string(r, code) < 0)
					goto out;
				has_code = true;
			} else if (value(r, 2) < 0) {
				goto out;
			}
		} while (eat(r, ','));
		if (!eat(r, '}'))
			goto out;
	}
	rc = cb(has_name ? name->data : NULL, has_code ? code->data : NULL, arg);
out:
	buf_free(&key);
	return rc;
}

static int walk_array(rj_t *r, rjson_cb cb, void *arg)
{
	buf_t name, code;
	int rc = -1;

	buf_init(&name, WIRE_STR_MAX);
	buf_init(&code, WIRE_STR_MAX);
	if (!eat(r, '['))
		goto out;
	if (!eat(r, ']')) {
		do {
			ws(r);
			if (r->p < r->end && *r->p == '{') {
				if (entry_object(r, cb, arg, &name, &code) < 0)
					goto out;
			} else if (r->p < r->end && *r->p == '"') {
				if (string(r, &name) < 0 || cb(name.data, NULL, arg) < 0)
					goto out;
			} else if (value(r, 1) < 0) {
				goto out;
			}
		} while (eat(r, ','));
		if (!eat(r, ']'))
			goto out;
	}
	rc = 0;
out:
	buf_free(&name);
	buf_free(&code);
	return rc;
}

int rjson_each(const char *json, size_t len, const char *key, rjson_cb cb, void *arg)
{
	rj_t r = { json, json + len };
	buf_t k;
	bool done = false;
	int rc = -1;

	buf_init(&k, WIRE_STR_MAX);
	if (!eat(&r, '{'))
		goto out;
	if (!eat(&r, '}')) {
		do {
			if (string(&r, &k) < 0 || !eat(&r, ':'))
				goto out;
			ws(&r);
			if (!done && strcmp(k.data, key) == 0 && r.p < r.end && *r.p == '[') {
				done = true;
				if (walk_array(&r, cb, arg) < 0)
					goto out;
			} else if (value(&r, 1) < 0) {
				goto out;
			}
		} while (eat(&r, ','));
		if (!eat(&r, '}'))
			goto out;
	}
	ws(&r);
	rc = r.p == r.end ? 0 : -1;
out:
	buf_free(&k);
	return rc;
}

/* One top-level member: key into k, then the value (a string into val when
 * the key is the wanted one). */
static int member(rj_t *r, const char *key, buf_t *k, buf_t *val, int *found)
{
	if (string(r, k) < 0 || !eat(r, ':'))
		return -1;
	ws(r);
	if (strcmp(k->data, key) != 0)
		return value(r, 1);
	if ((*found)++ || r->p >= r->end || *r->p != '"')
		return -1;  /* twice, or not a string */
	return string(r, val);
}

int rjson_get_str(const char *json, size_t len, const char *key, buf_t *out)
{
	rj_t r = { json, json + len };
	buf_t k;
	int found = 0, rc = -1;

	buf_init(&k, WIRE_STR_MAX);
	if (!eat(&r, '{'))
		goto out;
	if (!eat(&r, '}')) {
		do {
			if (member(&r, key, &k, out, &found) < 0)
				goto out;
		} while (eat(&r, ','));
		if (!eat(&r, '}'))
			goto out;
	}
	ws(&r);
	rc = r.p == r.end ? found : -1;
out:
	buf_free(&k);
	return rc;
}
