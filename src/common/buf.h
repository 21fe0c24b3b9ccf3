/*
 * buf.h — the one growable byte buffer, with a hard cap (after curl's dynbuf).
 *
 * buf_init(&b, max) fixes the largest size the buffer may ever reach; any
 * append past it fails with -1 and sets b->capped, so a limit becomes a
 * verdict instead of an allocation storm. The data is always NUL-terminated
 * (the NUL is not counted in len and not counted against max).
 *
 * SECURITY: used by every process on hostile data; all size arithmetic is
 * checked.
 */
#ifndef MUGAI_BUF_H
#define MUGAI_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include "defs.h"

typedef struct buf {
	char *data;   /* NUL-terminated when non-NULL */
	size_t len;   /* bytes used */
	size_t cap;   /* bytes allocated, excluding the NUL slot */
	size_t max;   /* hard cap on len */
	bool capped;  /* an append hit max */
	bool oom;     /* an allocation failed */
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
int buf_reserve(buf_t *b, size_t extra) MUGAI_WUR;
int buf_append_slow(buf_t *b, const void *p, size_t n) MUGAI_WUR;
/* Fast path inline: n bytes into spare capacity (cap <= max always). */
static inline MUGAI_WUR int buf_append(buf_t *b, const void *p, size_t n)
{
	if (b->data && n <= b->cap - b->len) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append_slow(b, p, n);
}
int buf_puts(buf_t *b, const char *s) MUGAI_WUR;
int buf_putc_slow(buf_t *b, int c) MUGAI_WUR;
/* Fast path inline: one byte into spare capacity. */
static inline MUGAI_WUR int buf_putc(buf_t *b, int c)
{
	if (b->data && b->len < b->cap) {
		b->data[b->len++] = (char)c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_putc_slow(b, c);
}
int buf_printf(buf_t *b, const char *fmt, ...) MUGAI_PRINTF(2, 3) MUGAI_WUR;
int buf_vprintf(buf_t *b, const char *fmt, va_list ap) MUGAI_PRINTF(2, 0) MUGAI_WUR;
int buf_put_utf8(buf_t *b, uint32_t cp) MUGAI_WUR;
/* Take ownership of the data (caller frees); the buffer is left empty. */
char *buf_steal(buf_t *b, size_t *len);
/* Remove trailing bytes in set. */
void buf_rtrim(buf_t *b, const char *set);
/* Last byte, or -1 when empty. */
int buf_last(const buf_t *b);

#endif
