/*
 * prescan.h — one linear pass over the raw message before any parser sees
 * it: enforce the size, line-length and header-size limits, and make a
 * canonical copy with LF line ends and no NUL bytes.
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; O(n), one
 * allocation of at most the input size.
 */
#ifndef MUGAI_MAIL_PRESCAN_H
#define MUGAI_MAIL_PRESCAN_H

#include "common/limits.h"
#include "mail/report.h"

typedef struct prescan {
	char *data;          /* canonical copy: LF line ends, NULs removed */
	size_t len;
	size_t longest_line;
	size_t header_bytes; /* top-level header block */
	size_t nul_bytes;
	size_t bare_cr;      /* CRs not followed by LF */
	size_t bare_lf;      /* LFs not preceded by CR */
	size_t crlf;         /* CRLF pairs */
} prescan_t;

/* 0: canonical copy made; 1: a limit was hit (recorded in r, no copy);
 * -1: out of memory. */
int mail_prescan(const char *in, size_t len, const limits_t *l, prescan_t *ps,
		 mail_report_t *r) MUGAI_WUR;
void prescan_free(prescan_t *ps);

#endif
