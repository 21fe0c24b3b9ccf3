/*
 * ppapscan.h — password candidates in the decoded text of a PPAP password
 * mail ("パスワード: Abc123", "【PW】Abc123", "The password is Abc123", or the
 * line after "解凍パスワードは以下の通りです。"). A pure function over UTF-8
 * text: no I/O, no allocation beyond the candidates.
 *
 * Rules: a keyword line holds パスワード, ﾊﾟｽﾜｰﾄﾞ, 暗証, 解凍, パス, or the
 * ASCII words password, passwd, pass, pwd, pw, passcode (any case, as a
 * whole word). Full-width ASCII (Ａ-Ｚ, ０-９, ！-～) and U+3000 are read as
 * ASCII first. The candidates are the runs of printable ASCII after the
 * first separator that follows the keyword (: ： = ＝ は 】 」 or an ASCII
 * "is"), or after the keyword when there is none; common words (is, the,
 * for, zip, file...) are skipped; a token in brackets or quotes also gives
 * its inside, one ending in . or , also gives it without. A keyword line
 * that gives nothing looks at the next non-blank line instead. Candidates
 * are distinct, in text order, at most `max_count`, each 1..max_len bytes;
 * longer tokens are skipped (a password is something a person types).
 * After PPAP_KEYLINES_MAX keyword lines the rest of the text is not read.
 *
 * SECURITY: runs in the sanitizer worker on hostile text. The candidates
 * are secrets: they never leave the worker (mail/wire.h carries none),
 * are never logged, and are wiped by ppap_cands_free.
 */
#ifndef MUGAI_MAIL_PPAPSCAN_H
#define MUGAI_MAIL_PPAPSCAN_H

#include <stddef.h>

#include "common/defs.h"
#include "common/limits.h"

typedef struct ppap_cands {
	char *v[PPAP_CANDS_CAP];
	size_t n;
	size_t max_count; /* ppap_candidates_max (at most PPAP_CANDS_CAP) */
	size_t max_len;   /* ppap_candidate_max (at most PPAP_CAND_LEN_CAP) */
} ppap_cands_t;

/* Empty set taking at most max_count candidates of at most max_len bytes
 * (both clamped to their caps). */
void ppap_cands_init(ppap_cands_t *c, long long max_count, long long max_len);
/* Add the candidates of text (appends to c; stops when c is full).
 * 0, or -1 when out of memory. */
int ppap_scan(const char *text, size_t len, ppap_cands_t *c) MUGAI_WUR;
/* A password typed by an administrator (`mugai quarantine ppap`): the
 * bytes up to the first CR or LF as one candidate, taken as they are
 * (1..max_len bytes, no NUL). 0, or -1 when out of memory. */
int ppap_add_typed(const char *p, size_t n, ppap_cands_t *c) MUGAI_WUR;
/* Wipe and free every candidate. */
void ppap_cands_free(ppap_cands_t *c);

#endif
