/*
 * writer.h — the one text writer: every character that reaches a rebuilt
 * message (body, notice, rebuilt headers) passes through here, in a fixed
 * order:
 *   1. decoded UTF-8 in; invalid bytes → U+FFFD
 *   2. controls, bidi and invisible characters removed (one code-point rule
 *      for the whole program, output contract rule 1)
 *   3. notice look-alikes altered (contract rule 8): "━" → "─",
 *      【無害化済み】/【隔離】 → ［無害化済み］/［隔離］,
 *      [SANITIZED]/[QUARANTINED] → (SANITIZED)/(QUARANTINED)
 *   4. every link form disarmed (text/link.c, per link_style)
 *   5. untrusted strings of the notice: one line, cut on a character
 *      boundary ("…"), shown quoted 「…」
 * Steps 2 and 3 are one pass (3 looks at what step 2 wrote, so removed
 * characters cannot hide a marker); step 4 runs after it, so no removed
 * character can hide a link from the scan. For one-line strings the cut of
 * step 5 comes before step 4 (a cut cannot split an inert form).
 * Kinds of input: body text (multi-line, link_style), untrusted one-line
 * strings (file names, CDR actions, warnings), header values (Subject,
 * display names: always defanged), and the notice's fixed sentences
 * (trusted: step 2 only, so the real rule line survives).
 *
 * SECURITY: sanitizer worker (and the master for failure notices); hostile
 * text in, only inert text out; linear time, capped buffers.
 */
#ifndef MUGAI_WRITER_H
#define MUGAI_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include "common/buf.h"
#include "text/link.h"
#include "common/limits.h"

/* WR_FIELD_MAX (common/limits.h): longest untrusted string in the notice. */

enum {
	WR_TRUSTED = 1,  /* our own fixed text: no look-alike alteration */
	WR_ONELINE = 2,  /* TAB and line ends become spaces */
};

/* The one code-point rule (step 2): is cp removed? (TAB and LF are kept;
 * U+2028/U+2029 are line ends: not removed here, rewritten by wr_clean.) */
bool wr_cp_removed(uint32_t cp);

/* Steps 1–3: append s[0..n) cleaned. */
int wr_clean(buf_t *out, const char *s, size_t n, unsigned flags) MUGAI_WUR;

/* Body text: steps 1–4 with the given link style; c counts links. */
int wr_text(buf_t *out, const char *s, size_t n, link_style_t style,
	    link_counts_t *c) MUGAI_WUR;

/* An untrusted one-line string: steps 1–4 (defang style), at most
 * max_chars characters (then "…"). */
int wr_line(buf_t *out, const char *s, size_t n, size_t max_chars) MUGAI_WUR;

/* The same, quoted 「…」, at most WR_FIELD_MAX characters. */
int wr_quoted(buf_t *out, const char *s, size_t n) MUGAI_WUR;

/* A header value (Subject, display name, other kept text headers) as a
 * new string: wr_line with max_chars (0: no cut); NULL on failure. */
char *wr_header(const char *s, size_t n, size_t max_chars);

/* Our own fixed sentence. */
int wr_trusted(buf_t *out, const char *s) MUGAI_WUR;

/* Bytes of the first max_chars characters of s[0..n). */
size_t wr_prefix(const char *s, size_t n, size_t max_chars);

/* The text holds an e-mail address (local@host.tld): a display name that
 * pretends to be another sender. */
bool wr_has_address(const char *s, size_t n);

#endif
