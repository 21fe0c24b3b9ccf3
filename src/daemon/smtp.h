/*
 * smtp.h — the SMTP server protocol, as pure functions over bytes: command
 * line framing (CRLF only), command parsing (verbs, paths, ESMTP
 * parameters) and the DATA decoder (end-of-data, dot-unstuffing). No I/O:
 * the session (session.c) feeds bytes in; unit tests and fuzz_smtp do too.
 *
 * RFCs: RFC 5321 (SMTP; 4.1.1 commands, 4.1.2 path syntax, 4.5.2
 * transparency, 4.5.3.1 size limits), RFC 1870 (SIZE), RFC 6152 (8BITMIME),
 * RFC 6531 (SMTPUTF8), Postfix XFORWARD_README (XFORWARD IDENT).
 * Bare CR and bare LF are refused (Postfix smtpd_forbid_bare_newline; the
 * 2023 "SMTP smuggling" class of attacks lives in that ambiguity).
 *
 * SECURITY: runs in the session process on bytes from the SMTP client.
 * Every length is bounded (line: smtp_line_length_max; path: 256 octets);
 * validation is a straight line that accepts only at the end.
 */
#ifndef MUGAI_DAEMON_SMTP_H
#define MUGAI_DAEMON_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include "common/defs.h"
#include "common/limits.h"

/* SMTP_PATH_MAX, SMTP_IDENT_MAX: common/limits.h. */

/* ---- command lines ---- */
typedef enum {
	SMTP_LINE_OK,        /* a line ending in CRLF: *len excludes the CRLF */
	SMTP_LINE_MORE,      /* need more bytes */
	SMTP_LINE_TOO_LONG,  /* max bytes without CRLF */
	SMTP_LINE_BARE_CR,   /* CR not followed by LF */
	SMTP_LINE_BARE_LF,   /* LF not preceded by CR */
} smtp_line_t;

/* Find the first line in buf[0..n). On OK, *len is the line length and
 * *used the bytes to consume (len + 2). */
smtp_line_t smtp_line_find(const char *buf, size_t n, size_t max, size_t *len, size_t *used);

/* ---- commands ---- */
typedef enum {
	SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_RSET,
	SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_HELP, SMTP_XFORWARD, SMTP_BDAT, SMTP_STARTTLS,
} smtp_verb_t;

typedef enum { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME } smtp_body_t;

typedef struct smtp_cmd {
	smtp_verb_t verb;
	char path[SMTP_PATH_MAX + 1]; /* MAIL/RCPT: address without <> ("" = null path) */
	bool path_utf8;               /* path has non-ASCII (needs SMTPUTF8) */
	long long size;               /* MAIL SIZE=, or -1 */
	smtp_body_t body;             /* MAIL BODY= */
	bool smtputf8;                /* MAIL SMTPUTF8 */
	char ident[SMTP_IDENT_MAX + 1]; /* XFORWARD IDENT= (Postfix queue id) */
	char helo[SMTP_PATH_MAX + 1];   /* HELO/EHLO argument */
} smtp_cmd_t;

/* Parse one command line (without CRLF). Returns 0, or -1 with *reply set
 * to the complete reply line to send (code, enhanced code, text). */
int smtp_cmd_parse(const char *line, size_t len, smtp_cmd_t *c, const char **reply) MUGAI_WUR;

/* ---- DATA ---- */
typedef enum {
	SMTP_DATA_MORE,    /* all input consumed, end not seen yet */
	SMTP_DATA_DONE,    /* the "." line was seen; *used tells where it ended */
	SMTP_DATA_BARE_CR,
	SMTP_DATA_BARE_LF,
} smtp_data_status_t;

typedef struct smtp_data {
	int state;
} smtp_data_t;

void smtp_data_init(smtp_data_t *d);
/* Decode in[0..n): unstuffed message bytes (CRLF line ends kept, the final
 * "." line dropped) go to out, which must hold n + 1 bytes; *outlen is set.
 * *used is the number of input bytes consumed (all of them unless DONE). */
smtp_data_status_t smtp_data_feed(smtp_data_t *d, const char *in, size_t n, char *out,
				  size_t *outlen, size_t *used);

#endif
