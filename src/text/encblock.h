/*
 * encblock.h — files encoded as text inside a text body: uuencode
 * ("begin 644 name" … "end", also "begin-base64"), BinHex 4.0 ("(This file
 * must be converted with BinHex 4.0)" + ":…:") and yEnc ("=ybegin" …
 * "=yend"). Mail clients (Outlook, Outlook Express, Becky!, Thunderbird)
 * turn such blocks into attachments, so the sanitizer cuts them out of the
 * text and lists them as removed items.
 *
 * SECURITY: runs in the sanitizer worker on hostile decoded text; linear
 * time, no allocation except the caller's capped output buffer. Strict
 * about what stays: a block whose end marker is missing or whose data is
 * malformed is still cut (a yEnc block without "=yend" runs to the end).
 */
#ifndef MUGAI_ENCBLOCK_H
#define MUGAI_ENCBLOCK_H

#include <stdbool.h>
#include "common/buf.h"
#include "common/limits.h"

/* ENCBLOCK_NAME_MAX (common/limits.h): longest name kept for the report. */

typedef enum { ENCBLOCK_UU, ENCBLOCK_BINHEX, ENCBLOCK_YENC } encblock_kind_t;

typedef struct encblock {
	encblock_kind_t kind;
	char name[ENCBLOCK_NAME_MAX + 1]; /* decoded file name (no NUL inside), or "" */
	size_t size;      /* decoded size: exact when the block is well formed */
	bool complete;    /* the end marker was found */
} encblock_t;

/* Called once per block cut; a negative return stops the scan with -1. */
typedef int (*encblock_fn)(void *arg, const encblock_t *b);

/* Copy in[0..len) to out without the encoded blocks. Returns the number of
 * blocks cut, or -1 (out full, or fn failed). */
int encblock_strip(const char *in, size_t len, buf_t *out, encblock_fn fn, void *arg) MUGAI_WUR;

/* Does any line of s[0..n) open a block? (Leading blanks are skipped.) */
bool encblock_has_start(const char *s, size_t n);

/* The MIME-like type shown for a cut block ("text/x-uuencode", …). */
const char *encblock_type(encblock_kind_t k);

#endif
