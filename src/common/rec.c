/*
 * rec.c — length-prefixed records between our processes (see rec.h).
 *
 * Specs: none (our own format, host byte order, same build on both ends).
 *
 * SECURITY: every read is bounds-checked against the bytes left; a failed
 * read consumes nothing.
 */
#include "common/rec.h"

#include <string.h>
#include "common/utf8.h"

int rec_put_u32(buf_t *b, uint32_t v) { return buf_append(b, &v, sizeof(v)); }
int rec_put_u64(buf_t *b, uint64_t v) { return buf_append(b, &v, sizeof(v)); }

int rec_put_bytes(buf_t *b, const void *p, size_t n)
{
	if (n > UINT32_MAX || rec_put_u32(b, (uint32_t)n) < 0)
		return -1;
	return buf_append(b, n ? p : "", n);
}

int rec_get(rec_reader_t *r, void *v, size_t n)
{
	if (r->left < n)
		return -1;
	memcpy(v, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

int rec_get_u32(rec_reader_t *r, uint32_t *v) { return rec_get(r, v, sizeof(*v)); }
int rec_get_u64(rec_reader_t *r, uint64_t *v) { return rec_get(r, v, sizeof(*v)); }

int rec_view(rec_reader_t *r, uint64_t n, const char **p)
{
	if (n > r->left)
		return -1;
	*p = r->p;
	r->p += n;
	r->left -= (size_t)n;
	return 0;
}

int rec_get_bytes(rec_reader_t *r, size_t max, const char **p, size_t *n)
{
	rec_reader_t save = *r;
	uint32_t len;

	if (rec_get_u32(r, &len) < 0 || len > max || rec_view(r, len, p) < 0) {
		*r = save;
		return -1;
	}
	*n = len;
	return 0;
}

bool rec_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return utf8_valid(s, n);
}
