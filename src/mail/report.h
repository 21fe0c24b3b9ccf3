/*
 * report.h — what the mail sanitizer decided and why: the verdict, every
 * removed item, counts, warnings and limits hit; serialized as the JSON
 * report of `mugai mail sanitize -r` (fields documented in README.md).
 *
 * SECURITY: holds decoded (hostile) strings; they are only ever written out
 * through the JSON escaper or as UTF-8 text in the notice.
 */
#ifndef MUGAI_MAIL_REPORT_H
#define MUGAI_MAIL_REPORT_H

#include <stdbool.h>
#include "common/buf.h"
#include "common/id.h"
#include "common/limits.h"

typedef enum { VERDICT_CLEAN, VERDICT_SANITIZED, VERDICT_QUARANTINED } verdict_t;

/* Why a part was removed; stable codes for the report, words for the notice. */
typedef enum {
	RM_ATTACHMENT,    /* a file */
	RM_IMAGE,         /* inline or attached image */
	RM_CALENDAR,      /* text/calendar, application/ics */
	RM_SIGNATURE,     /* S/MIME or PGP signature */
	RM_ENCRYPTED,     /* S/MIME or PGP encrypted content */
	RM_TNEF,          /* application/ms-tnef (winmail.dat) */
	RM_EXECUTABLE,    /* executable or script type */
	RM_ALTERNATIVE,   /* a non-text alternative of multipart/alternative */
	RM_UNSUPPORTED,   /* a type we do not render (message/partial, ...) */
	RM_BLOCKED,       /* file CDR refused it */
	RM_ENCODED,       /* a uuencode/BinHex/yEnc file cut out of the text */
	RM_NOT_TEXT,      /* labelled text, but the bytes are not text */
	RM_MALFORMED,     /* an attached message whose structure is ambiguous */
	RM__COUNT
} removal_t;

typedef struct removed_item {
	char *filename;      /* decoded UTF-8, or NULL */
	char *content_type;  /* lower-case type/subtype */
	size_t size;         /* decoded bytes */
	removal_t reason;
	char *detail;        /* optional extra words (e.g. CDR's reason), or NULL */
} removed_item_t;

/* An attachment that went through file CDR and is attached, rebuilt. */
typedef struct attached_item {
	char *filename;      /* decoded original name, or NULL */
	char *content_type;  /* original type/subtype */
	size_t size;         /* original decoded bytes */
	char *out_filename;  /* name of the attached, sanitized file */
	char *out_type;      /* CDR output type ("docx", "pdf", ...) */
	size_t out_size;
	char *actions;       /* what CDR did, "; "-separated */
} attached_item_t;

#define RELEASE_AT_LEN 16 /* "YYYY-MM-DD HH:MM" */

typedef struct mail_report {
	verdict_t verdict;
	char id[MUGAI_ID_LEN + 1];
	char *from;          /* decoded From for display */
	char *subject;       /* decoded Subject */
	char *to, *cc;       /* decoded To and Cc, one line each (notice) */
	char *date;          /* Date as "YYYY-MM-DD hh:mm:ss +zzzz" (notice) */
	char *envelope_sender;   /* SMTP MAIL FROM when known, or NULL */
	bool header_unreadable;  /* no From could be read from the header */
	size_t parts;
	size_t parts_total;     /* MIME leaves (non-multipart parts) */
	size_t parts_rendered;  /* leaves that became text */
	size_t parts_listed;    /* leaves removed or attached, each listed */
	removed_item_t *removed;
	size_t n_removed, removed_dropped;
	attached_item_t *attached;
	size_t n_attached;
	size_t links_defanged, links_removed;
	size_t decoding_losses;
	bool html_converted;
	bool truncated_multipart; /* an end boundary was missing; rendered anyway */
	char *warnings[REPORT_WARNINGS_MAX];
	size_t n_warnings;
	char *limits_hit[LIM__COUNT];
	size_t n_limits;
	char name_address[48]; /* "From, Reply-To": display names holding an address */
	/* "output-check:<rule>" when the output check fired (mail_output_gate),
	 * else empty: the message was then withheld as a notice only. */
	char output_check[32];
	/* antivirus (mugaid): "" not run, "clean", "virus", "error" */
	char antivirus[8];
	char *virus;             /* the signature clamd named (untrusted), or NULL */
	char *antivirus_error;   /* why the scan failed (antivirus_on_error = continue) */
	unsigned sender_warn;    /* SENDER_W_* bits (mail/sender.c) */
	/* PPAP: encrypted zips held for their password mail (ppap_window > 0),
	 * their names for the notice (the first PPAP_NAMES_MAX), the window in
	 * minutes; when pairing, the held original's id and the zips opened. */
	size_t ppap_waiting;
	char *ppap_names[PPAP_NAMES_MAX];
	size_t n_ppap_names;
	long long ppap_window;
	char ppap_of[MUGAI_ID_LEN + 1];
	size_t ppap_opened;
	size_t ppap_candidates; /* password candidates found in the text (never the candidates) */
	/* A release of sanitized files a person approved (mugaid's releaser,
	 * mail_facts_t): the approver and the approval time "YYYY-MM-DD HH:MM"
	 * in JST for the notice's first line and the Subject tag; "" when none. */
	char release_by[AUDIT_NAME_MAX];
	char release_at[RELEASE_AT_LEN + 1];
} mail_report_t;

/* Sender warnings (issue #11): report field sender_warnings, notice lines,
 * X-Mugai-Warning. */
enum {
	SENDER_W_LOOKALIKE = 1u << 0,   /* From's domain imitates an own domain */
	SENDER_W_NAME_OWN = 1u << 1,    /* an own domain in the display name of outside mail */
	SENDER_W_DMARC = 1u << 2,       /* trusted Authentication-Results: dmarc=fail */
	SENDER_W_DKIM = 1u << 3,        /* ... dkim=fail */
	SENDER_W_SPF = 1u << 4,         /* ... spf=fail */
	SENDER_W_FIRST = 1u << 5,       /* not seen within first_contact_days (mugaid) */
	SENDER_W__COUNT = 6
};
/* A report JSON (report_json's output) names a virus: "virus" is a string. */
bool report_json_has_virus(const char *json);
/* Its value into out (cut to cap - 1 bytes; a value holding a JSON escape
 * becomes "?"): true when there is one. */
bool report_json_virus(const char *json, char *out, size_t cap);
/* The report code of bit i ("lookalike-domain", ...). */
const char *report_sender_warning_code(unsigned i);
/* The X-Mugai-Sanitized action tokens of a finished report, space-separated
 * ("DEL_ATTACH CHG_TEXT ..."), "" when nothing was done. */
void report_action_tokens(const mail_report_t *r, char *out, size_t cap);

void report_init(mail_report_t *r, const char *id);
void report_free(mail_report_t *r);
/* Record a removed part (takes copies). Past REPORT_ITEMS_MAX only counts. */
int report_remove(mail_report_t *r, const char *filename, const char *ctype,
		  size_t size, removal_t why, const char *detail) MUGAI_WUR;
/* Record a sanitized, attached file (takes ownership of *it's strings). */
int report_attach(mail_report_t *r, attached_item_t *it) MUGAI_WUR;
/* Record a warning (deduplicated; copies). */
void report_warn(mail_report_t *r, const char *fmt, ...) MUGAI_PRINTF(2, 3);
/* A display name in header hname holds an e-mail address: a warning, and
 * the header's name for the notice. */
void report_name_address(mail_report_t *r, const char *hname);
/* An encrypted zip held for its password mail (name may be NULL). */
int report_ppap_wait(mail_report_t *r, const char *name, long long window) MUGAI_WUR;
/* Record a limit by its table name (deduplicated). */
void report_limit(mail_report_t *r, const char *limit_name);
bool report_has_limit(const mail_report_t *r, const char *limit_name);
const char *report_verdict_name(verdict_t v);
const char *report_removal_code(removal_t why);
int report_json(const mail_report_t *r, buf_t *out) MUGAI_WUR;

#endif
