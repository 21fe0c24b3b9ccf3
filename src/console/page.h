/*
 * page.h — the console's one HTML writer. Markup comes only from string
 * literals (PAGE_LIT refuses anything else at compile time); every other
 * value goes through page_text(), which escapes & < > " ' and replaces what
 * is not UTF-8 or is a control character. Errors are sticky: one check at
 * page_finish().
 *
 * SECURITY: the sender controls subjects, names and file names shown here;
 * with markup from literals and every value escaped, no value can open an
 * element, an attribute or a script. CSP forbids scripts besides.
 */
#ifndef MUGAI_CONSOLE_PAGE_H
#define MUGAI_CONSOLE_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

typedef struct page {
	buf_t b;
	int err;
} page_t;

void page_init(page_t *p, size_t cap);
void page_free(page_t *p);
/* Markup: a string literal only. */
#define PAGE_LIT(p, s) page_lit_((p), "" s "")
void page_lit_(page_t *p, const char *html);
/* Escaped text (also inside a double-quoted attribute value). */
void page_text(page_t *p, const char *s);
void page_textn(page_t *p, const char *s, size_t n);
void page_int(page_t *p, long long v);
/* Unix seconds as "YYYY-MM-DD HH:MM" in JST (UTC+9, no daylight saving). */
void page_time_jst(page_t *p, int64_t t);
/* An audit time "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) as "YYYY-MM-DD HH:MM:SS" JST;
 * anything else is shown as it is (escaped). */
void page_time_rfc3339_jst(page_t *p, const char *utc);
/* The document head: <!DOCTYPE html>, lang ja, charset, title, the style
 * sheet, and the header line with the signed-in account (NULL: none). */
void page_begin(page_t *p, const char *title, const char *account);
void page_end(page_t *p);
/* 0 when everything fit, else -1. The document is p->b.data (NUL-terminated). */
int page_finish(page_t *p) MUGAI_WUR;

#endif
