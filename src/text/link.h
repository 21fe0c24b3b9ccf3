/*
 * link.h — links as text that no mail client will make clickable.
 *
 * Styles (config link_style):
 *   defang  https://www.example.com/a → hxxps://www[.]example[.]com/a
 *           http→hxxp, ftp→fxp; every '.' of the host → "[.]";
 *           mailto:taro@example.jp → taro[@]example[.]jp; tel:03-1234 → tel[:]03-1234;
 *           bare www.example.com → www[.]example[.]com
 *   plain   http, https and mailto URLs as plain text, unchanged; every other
 *           form as in defang
 *   remove  the URL is dropped (HTML: the label stays; text: "[URL]")
 * javascript:, vbscript:, data:, file: and every other scheme are removed in
 * every style as hrefs (HTML: the label stays). In text, in every style:
 * UNC \\host\share → [\\]host\share; any other "scheme:" + non-space
 * (ms-msdt:, search-ms:, file:, https:host …) → "scheme[:]"; bare domains
 * with a path example.com/reset → example[.]com/reset; bare e-mail
 * addresses taro@example.jp → taro[@]example[.]jp; hosts nested in a path
 * ?u=http://evil.com → ?u=http[:]//evil[.]com (output contract of issue #8).
 *
 * SECURITY: runs in the sanitizer worker on hostile text; linear time.
 */
#ifndef MUGAI_LINK_H
#define MUGAI_LINK_H

#include "common/buf.h"

typedef enum { LINK_DEFANG, LINK_PLAIN, LINK_REMOVE } link_style_t;

typedef struct link_counts {
	size_t defanged;  /* links written as text in defang or plain style */
	size_t removed;   /* links dropped (remove style or dangerous scheme) */
} link_counts_t;

/* Append one HTML link: `label <URL-as-text>`, or only the URL when the
 * label is empty or equals the URL, or only the label when removed. */
int link_emit(buf_t *out, const char *label, size_t llen, const char *url,
	      size_t ulen, link_style_t style, link_counts_t *c) MUGAI_WUR;

/* Copy UTF-8 text (already cleaned of controls: see text/writer.h),
 * rewriting every link form above in the given style. */
int link_rewrite_text(const char *in, size_t len, link_style_t style, buf_t *out,
		      link_counts_t *c) MUGAI_WUR;

#endif
