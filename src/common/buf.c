/*
 * buf.c — capped growable buffer (see buf.h).
 *
 * SECURITY: runs in every process, including sanitizer workers on hostile
 * data. Growth is geometric and bounded by b->max; every size computation is
 * overflow-checked.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int buf_reserve(buf_t *b, size_t extra)
{
	size_t need, ncap, alloc;
	char *p;

	if (size_add(b->len, extra, &need) < 0 || need > b->max) {
		b->capped = true;
		return -1;
	}
	if (need <= b->cap && b->data)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = (ncap > SIZE_MAX / 2) ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if (size_add(ncap, 1, &alloc) < 0)
		return -1;
	p = realloc(b->data, alloc);
	if (!p) {
		b->oom = true;
		return -1;
	}
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
	return 0;
}

int buf_append_slow(buf_t *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(buf_t *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc_slow(buf_t *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int buf_put_utf8(buf_t *b, uint32_t cp)
{
	unsigned char s[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xC0 | (cp >> 6));
		s[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xE0 | (cp >> 12));
		s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xF0 | (cp >> 18));
		s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, s, n);
}

char *buf_steal(buf_t *b, size_t *len)
{
	char *p = b->data;

	if (!p && buf_reserve(b, 0) == 0)
		p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void buf_rtrim(buf_t *b, const char *set)
{
	while (b->len && strchr(set, b->data[b->len - 1]))
		b->data[--b->len] = '\0';
}

int buf_last(const buf_t *b)
{
	return b->len ? (unsigned char)b->data[b->len - 1] : -1;
}
