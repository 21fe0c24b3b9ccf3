/*
 * mail_int.h — internals shared by the files of the mail engine.
 *
 * SECURITY: sanitizer worker only.
 */
#ifndef MUGAI_MAIL_INT_H
#define MUGAI_MAIL_INT_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include "common/config.h"
#include "mail/conv.h"
#include "mail/ppapscan.h"
#include "mail/report.h"
#include "text/charset.h"
#include "text/link.h"
#include "text/writer.h"

/* Decoded, rebuilt values of the kept headers of one message. */
typedef struct hdrset {
	InternetAddressList *from, *to, *cc, *reply_to;
	char *subject;
	GDateTime *date;
	char *message_id;     /* without <> */
	char *in_reply_to;    /* "<a> <b>" */
	char *references;     /* "<a> <b>" */
	char **extra_names;   /* other keep-list headers, decoded as text */
	char **extra_values;
	size_t n_extra;
} hdrset_t;

/* Structural defects remembered during the parse (by stream offset) to be
 * attributed afterwards: one inside an attached message withholds that
 * attachment; any other quarantines. More than MAIL_DEFECTS_MAX
 * (common/limits.h): quarantine. */

typedef struct mail_ctx {
	const cfg_t *cfg;
	const limits_t *lim;
	mail_report_t *rep;
	link_style_t link_style;
	bool ja;                 /* notice language */
	bool quarantine;         /* a limit or an ambiguity: stop and withhold */
	bool truncated;          /* the text hit text_size_max */
	size_t decoded_total;
	GMimeObject **out_parts; /* sanitized attachments for the output (attach.c) */
	size_t n_out_parts;
	conv_set_t *conv;        /* legacy conversions (conv.h), or NULL */
	size_t n_conv;           /* attachments that asked for conversion so far */
	struct ppap_cands *ppap_collect; /* password mail: candidates of the text (ppapscan.h) */
	const char *const *ppap_pw;      /* pairing: candidates for encrypted zips */
	size_t n_ppap_pw;
	charset_stats_t cs;      /* summed over everything decoded */
	size_t leaves_rendered;  /* MIME leaves that became text */
	size_t leaves_listed;    /* MIME leaves removed or attached (listed) */
	gint64 defects[MAIL_DEFECTS_MAX];          /* offsets of ambiguous findings */
	size_t n_defects;
	GMimeObject *withheld[MAIL_DEFECTS_MAX];   /* attached messages withheld */
	size_t n_withheld;
} mail_ctx_t;

/* sanitize.c: run the output check on the finished message `out`; on a
 * hit set rep->output_check and the verdict quarantined, rebuild `out` as
 * the notice alone under h's headers (h may be NULL), check again, and
 * failing that write a fixed minimal notice with fixed headers. -1 only
 * when even that fails (the caller withholds the message). */
int mail_output_gate(const cfg_t *cfg, const hdrset_t *h, mail_report_t *rep, buf_t *out) MUGAI_WUR;

/* headers.c */
void hdrset_free(hdrset_t *h);
int hdrset_collect(mail_ctx_t *c, GMimeObject *msg, hdrset_t *h) MUGAI_WUR;
void hdrset_apply(const hdrset_t *h, GMimeMessage *out);
/* "From: …\nDate: …\nSubject: …\nTo: …\n" for a forwarded message. */
int hdrset_display(const hdrset_t *h, bool ja, buf_t *out) MUGAI_WUR;
char *hdr_raw(GMimeObject *obj, const char *name);

/* headers.c: one kept header by name (the first of each wins). */
int hdrset_collect_field(mail_ctx_t *c, hdrset_t *h, const char *name, const char *raw) MUGAI_WUR;

/* whose.c: From/To/Cc/Subject/Date from the raw header block, bounded by
 * header_bytes_max (for notices when the parser did not run); and their
 * one-line display forms into the report. */
int whose_collect(mail_ctx_t *c, const char *in, size_t len, hdrset_t *h) MUGAI_WUR;
void whose_display(mail_report_t *r, const hdrset_t *h);

/* walk.c */
int walk_object(mail_ctx_t *c, GMimeObject *obj, int depth, buf_t *text) MUGAI_WUR;
/* Attribute the remembered defects of the parse (see MAIL_DEFECTS_MAX);
 * sets c->quarantine for any defect outside an attached message. */
void walk_attribute_defects(mail_ctx_t *c, GMimeObject *top, size_t len);

/* walk.c: a part's transfer encoding decoded (counts decoded_size_max) */
GByteArray *mail_part_decode(mail_ctx_t *c, GMimePart *p);

/* attach.c */
bool attach_wanted(const mail_ctx_t *c, GMimeObject *o, removal_t why, bool named);
int attach_sanitize(mail_ctx_t *c, GMimePart *p, const char *name, const char *mime) MUGAI_WUR;

/* sender.c: sender warnings into c->rep->sender_warn (m may be NULL:
 * then only From is looked at). */
void sender_check(mail_ctx_t *c, GMimeMessage *m, const hdrset_t *h);

/* The notice's rule line (the output check knows it), for the messages
 * built without notice.c (sanitize.c, reqnote.c). */
#define FIXED_RULE_JA "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
#define FIXED_RULE_EN "----------------------------------------------------------------"

/* sanitize.c: does a finished message of ours pass the output check, as
 * mail_output_gate runs it (console_url, id; the test hook
 * MUGAI_TEST_OUTCHECK makes the first `pass`es miss)? */
bool mail_output_passes(const cfg_t *cfg, const char *id, const buf_t *out, int pass);

/* notice.c */
int notice_build(const cfg_t *cfg, const mail_report_t *r, buf_t *out) MUGAI_WUR;

/* build.c: X-Mugai-Sanitized "verdict=V; [actions=TOKENS; ]id=I" and, with
 * sender warnings, X-Mugai-Warning (from rep; NULL: verdict and id only). */
typedef struct build_tags {
	const char *verdict, *id;
	const mail_report_t *rep;
} build_tags_t;
int build_message(const hdrset_t *h, const build_tags_t *tags,
		  const char *text, size_t len, GMimeObject *const *parts, size_t n_parts,
		  buf_t *out) MUGAI_WUR;
/* Append text (already through text/writer.h) with every line prefixed
 * by "> ". */
int text_quote(buf_t *out, const char *text, size_t len) MUGAI_WUR;

#endif
