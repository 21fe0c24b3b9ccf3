/*
 * jsoncheck.c — strict bounded JSON checker (see jsoncheck.h). RFC 8259.
 *
 * SECURITY: a straight scanner over hostile bytes; accepts only at the end.
 */
#include "store/jsoncheck.h"

#include <string.h>

#include "common/json.h"
#include "common/utf8.h"

typedef struct scan {
	const char *p;
	size_t n, i;
} scan_t;

typedef struct key {
	size_t off, len;
} jkey_t;

static void ws(scan_t *s)
{
	while (s->i < s->n && strchr(" \t\r\n", s->p[s->i]) && s->p[s->i])
		s->i++;
}

static bool eat(scan_t *s, char c)
{
	ws(s);
	if (s->i < s->n && s->p[s->i] == c) {
		s->i++;
		return true;
	}
	return false;
}

static int hex4(const scan_t *s, size_t at)
{
	int v = 0;

	if (at + 4 > s->n)
		return -1;
	for (size_t k = at; k < at + 4; k++) {
		char c = s->p[k];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* \uXXXX at s->i (after the backslash and 'u'): a surrogate must pair. */
static bool uescape(scan_t *s)
{
	int v = hex4(s, s->i), w;

	if (v < 0)
		return false;
	s->i += 4;
	if (v >= 0xdc00 && v <= 0xdfff)
		return false;
	if (v < 0xd800 || v > 0xdbff)
		return true;
	if (s->i + 2 > s->n || s->p[s->i] != '\\' || s->p[s->i + 1] != 'u')
		return false;
	w = hex4(s, s->i + 2);
	if (w < 0xdc00 || w > 0xdfff)
		return false;
	s->i += 6;
	return true;
}

/* A string at s->i (the opening quote); the span of its body into k. */
static bool string(scan_t *s, jkey_t *k)
{
	size_t start;

	if (!eat(s, '"'))
		return false;
	start = s->i;
	while (s->i < s->n) {
		unsigned char c = (unsigned char)s->p[s->i];

		if (c == '"') {
			if (!utf8_valid(s->p + start, s->i - start))
				return false;
			if (k)
				*k = (jkey_t){ start, s->i - start };
			s->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		s->i++;
		if (c != '\\')
			continue;
		if (s->i >= s->n)
			return false;
		c = (unsigned char)s->p[s->i++];
		if (c == 'u' ? !uescape(s) : !strchr("\"\\/bfnrt", c) || !c)
			return false;
	}
	return false;
}

static bool digits(scan_t *s)
{
	size_t start = s->i;

	while (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9')
		s->i++;
	return s->i > start;
}

static bool number(scan_t *s)
{
	if (s->i < s->n && s->p[s->i] == '-')
		s->i++;
	if (s->i < s->n && s->p[s->i] == '0')
		s->i++;
	else if (!digits(s))
		return false;
	if (s->i < s->n && s->p[s->i] == '.' && (s->i++, !digits(s)))
		return false;
	if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
		s->i++;
		if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
			s->i++;
		if (!digits(s))
			return false;
	}
	return true;
}

static bool literal(scan_t *s, const char *word)
{
	size_t n = strlen(word);

	if (s->n - s->i < n || memcmp(s->p + s->i, word, n) != 0)
		return false;
	s->i += n;
	return true;
}

/* A scalar value, or the opening of a container (*open = '{' or '['). */
static bool value_start(scan_t *s, char *open)
{
	char c;

	ws(s);
	*open = 0;
	if (s->i >= s->n)
		return false;
	c = s->p[s->i];
	if (c == '{' || c == '[') {
		*open = c;
		s->i++;
		return true;
	}
	if (c == '"')
		return string(s, NULL);
	if (c == 't')
		return literal(s, "true");
	if (c == 'f')
		return literal(s, "false");
	if (c == 'n')
		return literal(s, "null");
	return number(s);
}

static bool top_key_new(const scan_t *s, jkey_t *keys, size_t *nk, jkey_t k)
{
	for (size_t i = 0; i < *nk; i++)
		if (keys[i].len == k.len && memcmp(s->p + keys[i].off, s->p + k.off, k.len) == 0)
			return false;
	if (*nk == JSONCHECK_TOP_KEYS_MAX)
		return false;
	keys[(*nk)++] = k;
	return true;
}

bool jsoncheck_object(const char *p, size_t n, size_t max)
{
	jkey_t keys[JSONCHECK_TOP_KEYS_MAX];
	char stack[JSON_DEPTH_MAX];
	scan_t s = { p, n, 0 };
	size_t nk = 0;
	int depth = 1;
	bool first = true;

	if (!p || n > max || !eat(&s, '{'))
		return false;
	stack[0] = '{';
	while (depth > 0) {
		char open, top = stack[depth - 1];
		jkey_t k;

		if (first && eat(&s, top == '{' ? '}' : ']')) {
			depth--;
			first = false;
			continue;
		}
		if (!first) {
			if (eat(&s, top == '{' ? '}' : ']')) {
				depth--;
				continue;
			}
			if (!eat(&s, ','))
				return false;
		}
		first = false;
		if (top == '{') {
			ws(&s);
			if (!string(&s, &k) || !eat(&s, ':'))
				return false;
			if (depth == 1 && !top_key_new(&s, keys, &nk, k))
				return false;
		}
		if (!value_start(&s, &open))
			return false;
		if (open) {
			if (depth == JSON_DEPTH_MAX)
				return false;
			stack[depth++] = open;
			first = true;
		}
	}
	ws(&s);
	return s.i == s.n;
}
