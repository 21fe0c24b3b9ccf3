/*
 * release.c — deliver the originals an administrator approved with
 * `mugai quarantine approve ID --by ADMIN --queue`: a short-lived child of
 * the master (like Postfix's pickup) that takes each queued release from the
 * store, delivers the original to its envelope recipients through next_hop
 * with an X-Mugai-Released header on top, and marks it delivered (audited as
 * quarantine.release.delivered). A failed delivery stays queued for the next
 * run. RFC 5321 (CRLF line ends on the wire).
 *
 * SECURITY: runs as the daemon user, never parses the original (it was
 * approved by a person after review; it is sent byte for byte apart from
 * line-end normalization and the header line); two-person approval is
 * enforced by the store.
 */
#include "daemon/daemon.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/qstore.h"

/* The header line, then the original with every line end as CRLF. */
static int release_message(const qstore_item_t *it, const buf_t *orig, buf_t *out)
{
	const char *p = orig->data ? orig->data : "";
	int rc = buf_printf(out, "X-Mugai-Released: id=%s; approved-by=%s\r\n", it->id,
			    it->approved_by ? it->approved_by : "");

	for (size_t i = 0; rc == 0 && i < orig->len; i++) {
		if (p[i] == '\r' && i + 1 < orig->len && p[i + 1] == '\n')
			continue;
		rc = (p[i] == '\n' || p[i] == '\r') ? buf_append(out, "\r\n", 2) : buf_putc(out, p[i]);
	}
	return rc;
}

/* Split the stored "a@x,b@y" recipients in place into a new array (every
 * one of them: the store bounded the list by smtp_recipients_max). */
static const char **split_rcpt(char *list, size_t *n)
{
	size_t cap = 1;
	const char **rcpt;

	for (const char *p = list; *p; p++)
		cap += *p == ',';
	rcpt = calloc(cap, sizeof(*rcpt));
	*n = 0;
	if (!rcpt)
		return NULL;
	for (char *tok = strtok(list, ","); tok && *n < cap; tok = strtok(NULL, ","))
		rcpt[(*n)++] = tok;
	return rcpt;
}

static int release_one(const daemon_ctx_t *d, qstore_t *st, qstore_item_t *it, const buf_t *orig)
{
	char why[ERR_TEXT_MAX] = "";
	buf_t msg;
	deliver_env_t e = { .from = it->env_from ? it->env_from : "",
			    .helo = d->hostname, .id = it->id,
			    .timeout = (int)lim(&d->cfg.lim, LIM_NEXT_HOP_TIMEOUT) };
	const char **rcpt = split_rcpt(it->rcpt ? it->rcpt : (char *)"", &e.n_rcpt);
	int rc = -1;

	e.rcpt = rcpt;
	if (e.n_rcpt == 0) {
		log_err("release id=%s: no envelope recipients stored%s; deliver it by hand "
			"(mugai quarantine get)", it->id, rcpt ? "" : " (out of memory)");
		free(rcpt);
		return -1;
	}
	buf_init(&msg, orig->len * 2 + 512);
	if (release_message(it, orig, &msg) == 0 &&
	    deliver(&d->hop, &e, msg.data, msg.len, why, sizeof(why)) == 0)
		rc = qstore_release_done(st, "mugaid", it->id);
	if (rc == 0)
		log_info("release id=%s approved-by=%s delivered to %zu recipient(s): %s", it->id,
			 it->approved_by ? it->approved_by : "", e.n_rcpt, why);
	else
		log_warn("release id=%s not delivered, stays queued: %s", it->id,
			 *why ? why : qstore_errmsg(st));
	buf_free(&msg);
	free(rcpt);
	return rc;
}

int release_run(const daemon_ctx_t *d)
{
	qstore_t *st = NULL;
	int failures = 0;

	if (qstore_open(&st, &d->cfg) < 0) {
		log_err("release: quarantine store: %s", st ? qstore_errmsg(st) : "cannot open");
		qstore_close(st);
		return 1;
	}
	for (int i = 0; i < RELEASES_PER_RUN && failures == 0; i++) {
		qstore_item_t it;
		buf_t orig;
		int r;

		buf_init(&orig, (size_t)lim(&d->cfg.lim, LIM_MESSAGE_SIZE) + 1);
		r = qstore_release_next(st, &it, &orig);
		if (r == 1 && release_one(d, st, &it, &orig) < 0)
			failures++;
		if (r < 0)
			log_err("release: %s", qstore_errmsg(st));
		qstore_item_free(&it);
		buf_free(&orig);
		if (r != 1)
			break;
	}
	qstore_close(st);
	return failures ? 1 : 0;
}
