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

/* What the front knows besides the bytes. */
typedef struct mail_env {
	const char *sender;  /* SMTP MAIL FROM (envelope sender), or NULL */
	bool too_big;        /* the input is only the first message_size_max
			      * bytes of a larger message: withhold it, but read
			      * whose it is from the header */
	conv_set_t *conv;    /* legacy conversions (mail/conv.h), or NULL:
			      * first pass: requests are appended here;
			      * second pass (conv->answered): the answers */
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

/* The notice's Japanese words for a limit name (limits_hit) and a removal
 * code (report "removed"[].reason), for the console (notice.c). */
const char *notice_limit_ja(const char *limit);
const char *notice_removal_ja(const char *code);

#endif
