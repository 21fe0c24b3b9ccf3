/*
 * json.c — streaming JSON writer (see json.h). Follows RFC 8259.
 *
 * SECURITY: output only; input strings are validated as UTF-8 and escaped.
 */
#include "json.h"

#include <string.h>
#include "utf8.h"

void json_init(json_t *j, buf_t *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

static void emit(json_t *j, const char *s, size_t n)
{
	if (buf_append(j->out, s, n) < 0)
		j->failed = true;
}

static void sep(json_t *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		emit(j, ",", 1);
	j->first[j->depth] = false;
}

static void open_(json_t *j, char c)
{
	sep(j);
	emit(j, &c, 1);
	if (j->depth + 1 >= JSON_DEPTH_MAX) {
		j->failed = true;
		return;
	}
	j->first[++j->depth] = true;
}

static void close_(json_t *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	emit(j, &c, 1);
}

void json_obj_begin(json_t *j) { open_(j, '{'); }
void json_obj_end(json_t *j) { close_(j, '}'); }
void json_arr_begin(json_t *j) { open_(j, '['); }
void json_arr_end(json_t *j) { close_(j, ']'); }

int json_escape(buf_t *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	int rc = buf_putc(b, '"');

	while (rc == 0 && i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t used;

		if (c >= 0x80) {
			used = utf8_decode_one((const unsigned char *)s + i, n - i, &cp);
			rc = (cp == UTF8_INVALID) ? buf_puts(b, "\xEF\xBF\xBD")
						 : buf_append(b, s + i, used);
			i += used;
			continue;
		}
		i++;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			rc = buf_append(b, e, 2);
		} else if (c == '\n') {
			rc = buf_puts(b, "\\n");
		} else if (c == '\r') {
			rc = buf_puts(b, "\\r");
		} else if (c == '\t') {
			rc = buf_puts(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			rc = buf_append(b, e, 6);
		} else {
			rc = buf_putc(b, c);
		}
	}
	if (rc == 0)
		rc = buf_putc(b, '"');
	return rc;
}

void json_key(json_t *j, const char *k)
{
	sep(j);
	if (json_escape(j->out, k, strlen(k)) < 0)
		j->failed = true;
	emit(j, ":", 1);
	j->after_key = true;
}

void json_strn(json_t *j, const char *s, size_t n)
{
	sep(j);
	if (!s) {
		emit(j, "null", 4);
		return;
	}
	if (json_escape(j->out, s, n) < 0)
		j->failed = true;
}

void json_str(json_t *j, const char *s)
{
	json_strn(j, s, s ? strlen(s) : 0);
}

void json_kv(json_t *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void json_int(json_t *j, long long v)
{
	sep(j);
	if (buf_printf(j->out, "%lld", v) < 0)
		j->failed = true;
}

void json_bool(json_t *j, bool v)
{
	sep(j);
	emit(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(json_t *j)
{
	sep(j);
	emit(j, "null", 4);
}

void json_raw(json_t *j, const char *s, size_t n)
{
	sep(j);
	emit(j, s, n);
}

int json_finish(json_t *j)
{
	return (j->failed || j->depth != 0) ? -1 : 0;
}
