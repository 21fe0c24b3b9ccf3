/*
 * rec.h — the length-prefixed records our processes send each other (the
 * worker's result, mail/wire.c; the legacy converter's answers, mail/conv.c;
 * the store protocol, store/storewire.c): fixed-width integers in host
 * order (both ends are the same build on the same machine) and byte strings
 * as a u32 length then the bytes. One writer and one bounds-checked reader
 * for all three; each format keeps its own fields and its own checks.
 *
 * SECURITY: the reader takes records from a less trusted process (a
 * sandboxed worker, a jailed converter, a session): every read is checked
 * against what is left, nothing is read past it, and a failed read leaves
 * the reader where it was.
 */
#ifndef MUGAI_COMMON_REC_H
#define MUGAI_COMMON_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "common/defs.h"

int rec_put_u32(buf_t *b, uint32_t v) MUGAI_WUR;
int rec_put_u64(buf_t *b, uint64_t v) MUGAI_WUR;
/* u32 n, then n bytes (n must fit in a u32). */
int rec_put_bytes(buf_t *b, const void *p, size_t n) MUGAI_WUR;

typedef struct rec_reader {
	const char *p;
	size_t left;
} rec_reader_t;

static inline rec_reader_t rec_reader(const void *p, size_t n)
{
	return (rec_reader_t){ (const char *)p, n };
}

/* n bytes copied into v; -1 when fewer are left. */
int rec_get(rec_reader_t *r, void *v, size_t n) MUGAI_WUR;
int rec_get_u32(rec_reader_t *r, uint32_t *v) MUGAI_WUR;
int rec_get_u64(rec_reader_t *r, uint64_t *v) MUGAI_WUR;
/* A view of the next n bytes (no copy); -1 when fewer are left. */
int rec_view(rec_reader_t *r, uint64_t n, const char **p) MUGAI_WUR;
/* u32 n then n bytes, n at most max: a view of them. */
int rec_get_bytes(rec_reader_t *r, size_t max, const char **p, size_t *n) MUGAI_WUR;
/* Display text as the records carry it: valid UTF-8 without a C0 control
 * character or DEL (so no NUL can cut it, no CR or LF can split a line). */
bool rec_text_ok(const char *s, size_t n);

#endif
