/*
 * milter.h — the milter protocol (version 6, as Sendmail's libmilter and
 * Postfix's milter8 speak it), written as pure functions over bytes like
 * smtp.h: packet framing, option negotiation, macros, the envelope and
 * header arguments, the header/body accumulation into an RFC 5322 message,
 * and the reply and modification packets that replace a message by its
 * rebuilt form. No I/O: the milter front (milterfront.c) feeds bytes in;
 * unit tests (tests/unit/test_milter.c) and fuzz_milter do too.
 *
 * Specs: Sendmail libmilter/mfdef.h and docs (smfi_chgheader, smfi_addheader,
 * smfi_replacebody, smfi_setreply), Postfix MILTER_README and milter8.c
 * (protocol 6, SMFIP_HDR_LEADSPC, the no-reply flags).
 *
 * SECURITY: runs in the session process on bytes from the MTA (a local,
 * configured peer, but it relays the sender's headers and body verbatim).
 * Every packet is bounded (milter_packet_max) before it is read; every
 * string argument must be NUL-terminated inside its packet; addresses are
 * bounded by SMTP_PATH_MAX and refused with control characters.
 */
#ifndef MUGAI_DAEMON_MILTER_H
#define MUGAI_DAEMON_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "common/defs.h"
#include "common/limits.h"

#define MILTER_VERSION 6u

/* Commands from the MTA (SMFIC_*). */
enum {
	MILTER_C_ABORT = 'A', MILTER_C_BODY = 'B', MILTER_C_CONNECT = 'C', MILTER_C_MACRO = 'D',
	MILTER_C_EOB = 'E', MILTER_C_HELO = 'H', MILTER_C_QUIT_NC = 'K', MILTER_C_HEADER = 'L',
	MILTER_C_MAIL = 'M', MILTER_C_EOH = 'N', MILTER_C_OPTNEG = 'O', MILTER_C_QUIT = 'Q',
	MILTER_C_RCPT = 'R', MILTER_C_DATA = 'T', MILTER_C_UNKNOWN = 'U',
};

/* Replies and actions to the MTA (SMFIR_*). */
enum {
	MILTER_R_ACCEPT = 'a', MILTER_R_REPLBODY = 'b', MILTER_R_CONTINUE = 'c',
	MILTER_R_ADDHEADER = 'h', MILTER_R_CHGHEADER = 'm', MILTER_R_TEMPFAIL = 't',
	MILTER_R_REPLYCODE = 'y',
};

/* Actions (SMFIF_*) we need: add and change headers, replace the body. */
#define MILTER_F_ADDHDRS 0x01u
#define MILTER_F_CHGBODY 0x02u
#define MILTER_F_CHGHDRS 0x10u
#define MILTER_ACTIONS (MILTER_F_ADDHDRS | MILTER_F_CHGBODY | MILTER_F_CHGHDRS)

/* Protocol flags (SMFIP_*) we ask for when the MTA offers them. */
#define MILTER_P_NOHELO 0x00002u
#define MILTER_P_NR_HDR 0x00080u
#define MILTER_P_NOUNKNOWN 0x00100u
#define MILTER_P_NODATA 0x00200u
#define MILTER_P_NR_CONN 0x01000u
#define MILTER_P_NR_HELO 0x02000u
#define MILTER_P_NR_MAIL 0x04000u
#define MILTER_P_NR_RCPT 0x08000u
#define MILTER_P_NR_DATA 0x10000u
#define MILTER_P_NR_UNKN 0x20000u
#define MILTER_P_NR_EOH 0x40000u
#define MILTER_P_NR_BODY 0x80000u
#define MILTER_P_HDR_LEADSPC 0x100000u
#define MILTER_PROTO_WANT (MILTER_P_NOHELO | MILTER_P_NR_HDR | MILTER_P_NOUNKNOWN | \
			   MILTER_P_NODATA | MILTER_P_NR_CONN | MILTER_P_NR_EOH | \
			   MILTER_P_NR_BODY | MILTER_P_HDR_LEADSPC)

/* ---- framing ---- */
typedef enum {
	MILTER_FRAME_OK,    /* one packet: *cmd, data[0..*dlen), *used bytes to consume */
	MILTER_FRAME_MORE,  /* need more bytes */
	MILTER_FRAME_BAD,   /* length 0 or larger than max: end the connection */
} milter_frame_t;

/* Find the first packet in buf[0..n): a 4-byte big-endian length (command
 * byte included, at most max), the command, its data. */
milter_frame_t milter_frame_find(const char *buf, size_t n, size_t max, char *cmd,
				 const char **data, size_t *dlen, size_t *used);
/* Append one packet (cmd, data[0..len)) to out. */
int milter_put(buf_t *out, char cmd, const void *data, size_t len) MUGAI_WUR;

/* ---- negotiation ---- */
typedef struct milter_neg {
	uint32_t version, actions, proto;
} milter_neg_t;

/* The MTA's SMFIC_OPTNEG offer: on success *ours is what we answer (our
 * version, MILTER_ACTIONS, the wanted flags it offers). -1: malformed, an
 * old version or the actions we need are not allowed (the front closes,
 * and the MTA applies milter_default_action = tempfail). */
int milter_negotiate(const char *data, size_t len, milter_neg_t *ours) MUGAI_WUR;
/* The SMFIC_OPTNEG answer packet. */
int milter_put_neg(buf_t *out, const milter_neg_t *ours) MUGAI_WUR;
/* Whether command cmd wants an answer under the negotiated flags. */
bool milter_wants_reply(uint32_t proto, char cmd);

/* ---- macros and envelope ---- */
typedef struct milter_macros {
	char queue_id[SMTP_IDENT_MAX + 1];    /* "i" */
	char mail_addr[SMTP_PATH_MAX + 1];    /* "{mail_addr}" of the current MAIL */
	char rcpt_addr[SMTP_PATH_MAX + 1];    /* "{rcpt_addr}" of the next RCPT */
	bool have_mail, have_rcpt;
} milter_macros_t;

/* An SMFIC_MACRO packet: remember i, {mail_addr} (sent for MAIL) and
 * {rcpt_addr} (sent for RCPT); other macros are ignored. -1: malformed. */
int milter_macros(const char *data, size_t len, milter_macros_t *m) MUGAI_WUR;
/* The address of an SMFIC_MAIL or SMFIC_RCPT packet ("<addr>\0ARGS..."),
 * without <>, into out (SMTP_PATH_MAX + 1). -1: malformed or too long. */
int milter_addr(const char *data, size_t len, char *out, size_t outsz) MUGAI_WUR;
/* An SMFIC_CONNECT packet's host name (bounded, printable) into out. */
int milter_connect_host(const char *data, size_t len, char *out, size_t outsz) MUGAI_WUR;

/* ---- the message as the MTA gives it ---- */
/* An SMFIC_HEADER packet ("name\0value\0"): append "name:value\r\n" to msg
 * (a space after the colon unless the MTA sends it, HDR_LEADSPC; a bare LF
 * in a folded value becomes CRLF) and "name\0" to names (the original
 * headers, in order, for their deletion). -1: malformed or a cap hit. */
int milter_header(const char *data, size_t len, bool leadspc, buf_t *msg,
		  buf_t *names) MUGAI_WUR;

/* ---- replies and modifications ---- */
/* SMFIR_REPLYCODE: "CODE X.Y.Z text" (a control character or '%' in
 * text becomes a space). */
int milter_put_reply(buf_t *out, const char *code, const char *text) MUGAI_WUR;
/* The actions that make the MTA's message the rebuilt one: every original
 * header (names: "name\0" each, in order) deleted (SMFIR_CHGHEADER, empty
 * value, each name's occurrences from the last to the first), each header of
 * msg[0..len) added in order (SMFIR_ADDHEADER; folded lines joined by "\n"),
 * the body replaced (SMFIR_REPLBODY, MILTER_CHUNK bytes at a time; an empty
 * body is one empty chunk). -1: out of memory or msg has no header block. */
int milter_put_edits(buf_t *out, const char *names, size_t names_len, const char *msg,
		     size_t len, bool leadspc) MUGAI_WUR;

#endif
