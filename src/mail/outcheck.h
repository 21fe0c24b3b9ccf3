/*
 * outcheck.h — the independent output check (issue #8): a scanner of the
 * FINAL message bytes, written without the text writer, that flags anything
 * live the writer should have disarmed. Its only spec is the contract
 * between the writer and the check (README "The output check"): control and
 * invisible characters, schemes, UNC and //host, www., bare domains with a
 * path, bare e-mail addresses, encoded executables, notice forgery; the
 * only link let through is the notice's console line (console_url).
 *
 * It reads only our own output format: a header block, then one
 * text/plain; charset=utf-8 part in 7bit or base64, or multipart/mixed with
 * that text part first and sanitized attachments after. Anything else is
 * itself a hit (rule `format`).
 *
 * SECURITY: pure function over untrusted bytes; linear time; the only
 * allocation is one buffer no larger than the message.
 */
#ifndef MUGAI_OUTCHECK_H
#define MUGAI_OUTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include "common/defs.h"

typedef enum {
	OUTCHECK_PASS,
	OUTCHECK_CONTROL,  /* rule 1: control, invisible, bidi, invalid UTF-8 */
	OUTCHECK_SCHEME,   /* rule 2: "name:x" */
	OUTCHECK_UNC,      /* rule 3: \\host, \/host, //dotted.host */
	OUTCHECK_WWW,      /* rule 4: www. */
	OUTCHECK_DOMAIN,   /* rule 5: example.com/path */
	OUTCHECK_EMAIL,    /* rule 6: local@domain.tld */
	OUTCHECK_ENCODED,  /* rule 7: uuencode, BinHex, yEnc block header */
	OUTCHECK_NOTICE,   /* rule 8: ━, 【無害化済み】, 【隔離】 outside the notice */
	OUTCHECK_FORMAT,   /* not our own output format (cannot be read safely) */
	OUTCHECK__COUNT
} outcheck_rule_t;

typedef struct outcheck_opts {
	bool plain_links;   /* link_style = plain: http(s)/mailto URLs allowed */
	bool en;            /* notice_lang = en (rule line = 64 '-') */
	bool custom_notice; /* a notice_template is used: only the markers rule */
	/* console_url (or NULL/""): the one link a body may carry is exactly
	 * console_url + "/q/" + id, in the notice (between its rule lines; a
	 * custom template: its first block), at the start of a line after the
	 * label 「取り出しの依頼: 」 ("Release request: "), followed by
	 * 「（」 (" ("). Every other link, and a second copy, is still a hit. */
	const char *console_url;
	const char *id;
} outcheck_opts_t;

typedef struct outcheck_result {
	outcheck_rule_t rule;
	const char *where;  /* "body", "header", "filename", "message" */
	size_t offset;      /* byte offset of the hit in the examined (decoded) text */
	size_t at;          /* byte offset in the message where that text starts */
} outcheck_result_t;

/* Check a finished message. Returns 0 and res->rule = OUTCHECK_PASS when it
 * passes, 1 with res filled on a hit, -1 when out of memory (caller: treat
 * as a hit). */
int outcheck_message(const char *msg, size_t len, const outcheck_opts_t *o,
		     outcheck_result_t *res) MUGAI_WUR;

/* Check one decoded text (UTF-8). `body`: the text part's body (notice at
 * the top, CRLF allowed); otherwise a header value or filename. */
int outcheck_text(const char *s, size_t n, bool body, const outcheck_opts_t *o,
		  outcheck_result_t *res);

/* "control", "scheme", ... ("pass" for OUTCHECK_PASS). */
const char *outcheck_rule_name(outcheck_rule_t r);
/* The rule with that name, or OUTCHECK__COUNT. */
outcheck_rule_t outcheck_rule_from_name(const char *name);

#endif
