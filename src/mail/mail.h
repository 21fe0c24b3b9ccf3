/*
 * mail.h — the mail sanitizer engine: one RFC 5322 message in, one message
 * rebuilt from decoded values out (text/plain; charset=utf-8 with a notice
 * at the top), plus a report. A pure function of (config, limits, bytes):
 * it opens no file and no socket, so it can run inside the sandbox.
 *
 * SECURITY: called only in a sanitizer worker (or a test); see sandbox.h.
 */
#ifndef MUGAI_MAIL_H
#define MUGAI_MAIL_H

#include "common/config.h"
#include "mail/conv.h"
#include "mail/report.h"

/* Process-wide setup (GMime, charset converters). Call before the sandbox. */
int mail_init(void) MUGAI_WUR;

/* Sanitize `len` bytes. `out` receives the rebuilt message (CRLF line ends),
 * `rep` the report (initialized here; caller frees with report_free).
 * Returns 0 whatever the verdict; -1 only on an internal failure (memory),
 * in which case the caller must treat the message as quarantined. */
int mail_sanitize(const cfg_t *cfg, const char *id, const char *in, size_t len,
		  buf_t *out, mail_report_t *rep) MUGAI_WUR;

/* What mugaid's session learned before the worker runs (NULL elsewhere):
 * the antivirus answer and the store's first-contact lookup. */
typedef struct mail_facts {
	char av[8];                      /* "" (no antivirus), "clean", "virus" or "error" */
	char virus[CLAMD_SIG_MAX];       /* av "virus": the signature name (untrusted) */
	char av_error[AV_WHY_MAX];       /* av "error" (antivirus_on_error = continue): why */
	int first_contact;               /* 1: the sender was not seen within
					  * first_contact_days; 0: seen; -1: not asked */
	/* mugaid's releaser, a release of sanitized files: who approved it
	 * and when ("YYYY-MM-DD HH:MM", JST); "" otherwise. The notice opens
	 * with 「このメールは 承認者 X が … に無害化ファイルの取り出しを承認しました。」
	 * and the Subject is tagged 【承認済・無害化ファイル】. */
	char release_by[AUDIT_NAME_MAX];
	char release_at[RELEASE_AT_LEN + 1];
} mail_facts_t;

/* What the front knows besides the bytes. */
typedef struct mail_env {
	const char *sender;  /* SMTP MAIL FROM (envelope sender), or NULL */
	bool too_big;        /* the input is only the first message_size_max
			      * bytes of a larger message: withhold it, but read
			      * whose it is from the header */
	conv_set_t *conv;    /* legacy conversions (mail/conv.h), or NULL:
			      * first pass: requests are appended here;
			      * second pass (conv->answered): the answers */
	const mail_facts_t *facts; /* mugaid's session, or NULL */
	/* PPAP (mail/ppapscan.h). A password mail: the candidates of its
	 * text are collected here (NULL: not scanned). Pairing a held
	 * original: its encrypted zips are tried with these candidates and
	 * the notice opens with 「受付番号 ppap_of のパスワード付きZIPを無害化しました」.
	 * The candidates never reach the output, the report or a log. */
	struct ppap_cands *ppap_collect;
	const char *const *ppap_pw;
	size_t n_ppap_pw;
	const char *ppap_of;
} mail_env_t;

/* mail_sanitize with the envelope (env may be NULL). The envelope sender is
 * shown in a quarantine notice whose header could not be read. */
int mail_sanitize_env(const cfg_t *cfg, const char *id, const mail_env_t *env,
		      const char *in, size_t len, buf_t *out, mail_report_t *rep) MUGAI_WUR;

/* A notice-only message built WITHOUT looking at the original: for use by
 * a higher-trust process when a worker crashed, timed out or hit a limit.
 * `reason` is a limit name or a short code ("worker-crash", "timeout"). */
int mail_failure_message(const cfg_t *cfg, const char *id, const char *reason,
			 size_t orig_size, buf_t *out, mail_report_t *rep) MUGAI_WUR;
/* The same with the envelope sender (may be NULL): the notice says the
 * header was not read and shows the envelope sender. */
int mail_failure_message_env(const cfg_t *cfg, const char *id, const char *sender,
			     const char *reason, size_t orig_size, buf_t *out,
			     mail_report_t *rep) MUGAI_WUR;
/* The same with what mugaid's session learned (facts may be NULL). */
int mail_failure_message_facts(const cfg_t *cfg, const char *id, const char *sender,
			       const mail_facts_t *facts, const char *reason, size_t orig_size,
			       buf_t *out, mail_report_t *rep) MUGAI_WUR;

/* PPAP: the notice to the recipients of a held original (id) whose
 * ppap_window passed without a password mail: what happened and what to
 * do next (with console_url: type the password on the console page, the
 * console line). Built without looking at the original (a releaser calls it). */
int mail_ppap_expired_message(const cfg_t *cfg, const char *id, buf_t *out) MUGAI_WUR;

/* A release request, for its approvers' notice (reqnote.c). The strings
 * of the sender (from, subject) and of the clerk (reason) are hostile. */
typedef struct mail_reqnote {
	const char *id;        /* the message's id (受付番号) */
	const char *requester; /* the account that asked */
	const char *kind;      /* "sanitized" | "original" */
	const char *reason, *from, *subject;
	int64_t received;      /* unix seconds (shown in JST) */
	const char *to;        /* the approvers' addresses, comma-separated */
} mail_reqnote_t;
/* The gateway's own message 【取り出しの依頼】件名 to the approvers: 受付番号,
 * 依頼者, 依頼の種類, 依頼の理由, 差出人, 件名, 受信日時 and, with console_url,
 * the notice's console line; every character through the one writer, the
 * finished message through the output check (a hit: built again without
 * the hostile strings, then -1). Built without looking at the original. */
int mail_request_notice_message(const cfg_t *cfg, const mail_reqnote_t *n,
				buf_t *out) MUGAI_WUR;

/* The notice's Japanese words for a limit name (limits_hit) and a removal
 * code (report "removed"[].reason), for the console (notice.c). */
const char *notice_limit_ja(const char *limit);
const char *notice_removal_ja(const char *code);

#endif
