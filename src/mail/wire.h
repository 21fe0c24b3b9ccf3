/*
 * wire.h — the sanitizer worker's result as it crosses from the sandbox to
 * a higher-trust process: a small, versioned, length-prefixed record.
 *
 *   u32 magic "MGW4" | u32 verdict | u64 len + rebuilt message |
 *   u32 len + From | u32 len + Subject | u32 len + output check code |
 *   u32 PPAP zips waiting | u32 PPAP zips opened | u32 password candidates found |
 *   u32 count + count × (u32 len + legacy type | u64 len + bytes) |
 *   u64 len + report JSON
 *
 * The count part lists the legacy attachments the worker asks the
 * receiver to convert (first pass of mail/conv.h), each with its decoded
 * bytes; never for a quarantined message, at most legacy_message_max.
 *
 * The receiver checks lengths, the verdict range, that From and Subject
 * are valid UTF-8 without controls, and that the output check code is empty
 * or "output-check:<rule>" with a known rule (then the verdict must be
 * quarantined), that the PPAP counts are at most mime_parts' cap and zero
 * for a quarantined message, and that each conversion request names a legacy type;
 * it never parses the message, the report or a request's bytes.
 *
 * SECURITY: encode runs in the worker, decode in the CLI or daemon on data
 * from the worker (lower trust).
 */
#ifndef MUGAI_MAIL_WIRE_H
#define MUGAI_MAIL_WIRE_H

#include "common/config.h"
#include "mail/conv.h"
#include "mail/mail.h"
#include "mail/report.h"

typedef struct mail_result {
	verdict_t verdict;
	buf_t msg;       /* rebuilt message */
	buf_t report;    /* report JSON */
	char *from;      /* decoded display From, or NULL */
	char *subject;   /* decoded Subject, or NULL */
	char output_check[32]; /* "output-check:<rule>" when the output check fired, else "" */
	conv_set_t conv; /* legacy attachments to convert (first pass, conv.h) */
	uint32_t ppap_waiting; /* encrypted zips held for their password mail */
	uint32_t ppap_opened;  /* pairing: encrypted zips opened with a candidate */
	uint32_t ppap_candidates; /* password candidates in this message's text (how many, never which) */
} mail_result_t;

void mail_result_init(mail_result_t *r);
void mail_result_free(mail_result_t *r);
/* Worker side: sanitize and encode into out (see mail_sanitize). */
int mail_wire_run(const cfg_t *cfg, const char *id, const char *in, size_t len,
		  buf_t *out) MUGAI_WUR;
/* The same with the envelope (mail_sanitize_env; env may be NULL). */
int mail_wire_run_env(const cfg_t *cfg, const char *id, const mail_env_t *env, const char *in,
		      size_t len, buf_t *out) MUGAI_WUR;
/* Receiver side: check and split a record. -1 when malformed. */
int mail_wire_decode(const char *blob, size_t len, mail_result_t *r) MUGAI_WUR;
/* Receiver side: a notice-only result when the worker failed. */
int mail_result_failure(const cfg_t *cfg, const char *id, const char *reason,
			size_t orig_size, mail_result_t *r) MUGAI_WUR;
/* The same, naming the envelope sender in the notice (may be NULL). */
int mail_result_failure_env(const cfg_t *cfg, const char *id, const char *sender,
			    const char *reason, size_t orig_size, mail_result_t *r) MUGAI_WUR;
/* The same with what mugaid's session learned (facts may be NULL). */
int mail_result_failure_facts(const cfg_t *cfg, const char *id, const char *sender,
			      const mail_facts_t *facts, const char *reason, size_t orig_size,
			      mail_result_t *r) MUGAI_WUR;

#endif
