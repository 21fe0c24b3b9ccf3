/*
 * charset.h — decode bytes in a declared (possibly lying) charset to UTF-8,
 * losing no Japanese character.
 *
 * Japanese charsets (ISO-2022-JP and its CP50220/CP50221 practice, CP932 /
 * Shift_JIS, EUC-JP incl. JIS X 0212 via SS3) are decoded by table-driven
 * decoders of our own; the tables are generated at build time from glibc's
 * CP932 and EUC-JP-MS converters, so NEC row 13 (①), NEC-selected IBM and
 * IBM extensions survive where glibc's ISO-2022-JP drops them. Other
 * charsets go through iconv; an honest label is honoured in every language.
 * Sniffing overrides only a label the bytes prove false (or a missing,
 * unknown or us-ascii one): ESC sequences, valid UTF-8, plausible Japanese
 * (CP932 vs EUC-JP), else windows-1252. Rules in charset.c.
 *
 * A character that still cannot be decoded becomes U+FFFD and is counted in
 * stats->losses. Nothing is dropped silently. Output is always valid UTF-8.
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; no allocation
 * beyond the caller's capped buf_t; iconv converters are opened by
 * charset_init() before the sandbox closes the file system.
 */
#ifndef MUGAI_CHARSET_H
#define MUGAI_CHARSET_H

#include <stdbool.h>
#include "common/buf.h"

typedef struct charset_stats {
	size_t losses;     /* characters that became U+FFFD (added to, never reset) */
	size_t chars;      /* code points written (added to) */
	bool relabelled;   /* the bytes did not fit the label (or the label is
			    * unknown): decoded as `used`. Set per call. */
	const char *used;  /* static canonical name of the last decoder used */
} charset_stats_t;

/* Open the iconv converters used for non-Japanese charsets. Call once per
 * process before entering the sandbox. Idempotent. A converter glibc cannot
 * open makes its labels unknown (sniffed). The converters are process-wide:
 * decode from one thread only (the worker is single-threaded). */
int charset_init(void) MUGAI_WUR;

/* Canonical name for a label ("x-sjis" → "CP932"), or NULL when unknown. */
const char *charset_canonical(const char *label);

/* Decode len bytes of `label` (NULL or "" = unlabelled) into UTF-8 appended
 * to out. Returns -1 only when out hits its cap or memory runs out. */
int charset_decode(const char *label, const char *in, size_t len, buf_t *out,
		   charset_stats_t *st) MUGAI_WUR;

/* Canonical name of the charset the bytes look like when unlabelled
 * (ISO-2022-JP escapes, UTF-8, CP932 vs EUC-JP, else WINDOWS-1252;
 * "US-ASCII" for 7-bit). Used to lex raw 8-bit header values. */
const char *charset_sniff(const char *in, size_t len);

#endif
