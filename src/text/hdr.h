/*
 * hdr.h — decoding of header values to UTF-8: RFC 5322 unfolding, RFC 2047
 * encoded-words, RFC 2231 parameters, raw 8-bit (RFC 6532 UTF-8 or legacy
 * CP932/EUC-JP), all through charset.h so nothing Japanese is lost.
 *
 * SECURITY: runs in the sanitizer worker on hostile header bytes; output is
 * bounded by the caller's buf_t and never contains CR, LF, NUL or other C0
 * controls.
 */
#ifndef MUGAI_HDR_H
#define MUGAI_HDR_H

#include "text/charset.h"

/* Unstructured value (Subject; display text). Unfolds; decodes encoded-words,
 * merging adjacent words of the same charset before decoding so that a
 * character split across words or folded lines survives; whitespace between
 * adjacent encoded-words is dropped (RFC 2047 §6.2); a wrong charset label is
 * overridden by sniffing; raw 8-bit is sniffed. Controls become spaces. */
int hdr_decode_text(const char *raw, size_t len, buf_t *out,
		    charset_stats_t *st) MUGAI_WUR;

/* Structured value (address lists, message ids). Unfolds, then replaces each
 * run of adjacent encoded-words in place by one "=?UTF-8?B?...?=" word and
 * turns raw 8-bit runs into raw UTF-8; every other byte (specials, quotes,
 * comments, angle brackets) stays where it was. The result can be given to
 * GMime's address parser with no lossy charset step. */
int hdr_normalize_structured(const char *raw, size_t len, buf_t *out,
			     charset_stats_t *st) MUGAI_WUR;

/* Find parameter `name` (e.g. "filename", "name") in a raw Content-Type or
 * Content-Disposition value and decode it to UTF-8: RFC 2231 (name*=, name*0=,
 * name*0*=, continuations in any order), RFC 2047 words inside the value,
 * raw 8-bit sniffed. Returns 1 when found, 0 when absent, -1 on error. */
int hdr_param(const char *raw, size_t len, const char *name, buf_t *out,
	      charset_stats_t *st) MUGAI_WUR;

/* Encode UTF-8 text s[0..n) for an unstructured header value (Subject) as
 * RFC 2047 "=?UTF-8?B?...?=" words of at most 39 bytes of text each (64
 * characters), never splitting a character, folded by CRLF SP between
 * words. For headers a higher-trust process writes itself (the releaser). */
int hdr_encode_text(buf_t *out, const char *s, size_t n) MUGAI_WUR;

#endif
