/*
 * release.c — deliver the originals an administrator approved with
 * `mugai quarantine approve ID --by ADMIN --queue`: a short-lived child of
 * the master (like Postfix's pickup) that takes each queued release from the
 * store, delivers the original to its envelope recipients through next_hop
 * with an X-Mugai-Released header on top, and marks it delivered (audited as
 * quarantine.release.delivered). A failed delivery stays queued for the next
 * run. RFC 5321 (CRLF line ends on the wire).
 *
 * The store is reached through this run's own store process (role
 * "release": RELEASE_NEXT answers with the item and a sealed memfd of the
 * original, RELEASE_DONE marks it delivered); the releaser opens no file of
 * state_dir and makes the network connection the store process never makes.
 * Each run then tells the recipients of held PPAP zips whose ppap_window
 * passed what to do next (ppap_expire_run, daemon/ppap.c).
 *
 * SECURITY: runs as the daemon user, never parses the original (it was
 * approved by a person after review; it is sent byte for byte apart from
 * line-end normalization and the header line); two-person approval is
 * enforced by the store.
 */
#include "daemon/daemon.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/id.h"
#include "common/log.h"
#include "daemon/ppap.h"
#include "daemon/storeclient.h"

/* The header line, then the original with every line end as CRLF. */
static int release_message(const char *id, const char *approved_by, const buf_t *orig,
			   buf_t *out)
{
	const char *p = orig->data ? orig->data : "";
	int rc = buf_printf(out, "X-Mugai-Released: id=%s; approved-by=%s\r\n", id, approved_by);

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

/* The original from the store's sealed memfd. */
static int read_original(int fd, uint64_t len, const cfg_t *cfg, buf_t *orig)
{
	struct stat sb;
	const char *map;
	int rc;

	if (len > (uint64_t)lim(&cfg->lim, LIM_MESSAGE_SIZE) || fstat(fd, &sb) < 0 ||
	    (uint64_t)sb.st_size != len)
		return -1;
	if (len == 0)
		return 0;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	rc = buf_append(orig, map, len);
	munmap((void *)map, len);
	return rc;
}

static int release_one(const daemon_ctx_t *d, storecl_t *st, const sw_ans_t *it,
		       const buf_t *orig)
{
	deliver_result_t dr = { .text = "" };
	buf_t msg;
	char *list = strdup(it->rcpt);
	deliver_env_t e = { .from = it->env_from, .helo = d->hostname, .id = it->id,
			    .timeout = (int)lim(&d->cfg.lim, LIM_NEXT_HOP_TIMEOUT) };
	const char **rcpt = list ? split_rcpt(list, &e.n_rcpt) : NULL;
	sw_req_t q = { .type = SW_RELEASE_DONE, .id = it->id };
	char id[MUGAI_ID_LEN + 1], by[AUDIT_NAME_MAX];
	sw_ans_t a;
	int rc = -1, rfd = -1;

	/* the answer's strings live in st's buffer until the next call */
	snprintf(id, sizeof(id), "%s", it->id);
	snprintf(by, sizeof(by), "%s", it->approved_by);
	e.rcpt = rcpt;
	e.id = q.id = id;
	if (!rcpt || e.n_rcpt == 0) {
		log_err("release id=%s: no envelope recipients stored%s; deliver it by hand "
			"(mugai quarantine get)", id, rcpt ? "" : " (out of memory)");
		free(rcpt);
		free(list);
		return -1;
	}
	buf_init(&msg, orig->len * 2 + 512);
	if (release_message(id, by, orig, &msg) == 0 &&
	    deliver(&d->hop, &e, msg.data, msg.len, &dr) == 0)
		rc = storecl_call(st, &q, -1, &a, &rfd);
	if (rfd >= 0)
		close(rfd);
	if (rc == 0)
		log_info("release id=%s approved-by=%s delivered to %zu recipient(s): %s", id, by,
			 e.n_rcpt, dr.text);
	else
		log_warn("release id=%s not delivered, stays queued: %s%s%s", id,
			 dr.code[0] ? dr.code : "", dr.code[0] ? " " : "", dr.text[0] ? dr.text : st->err);
	buf_free(&msg);
	free(rcpt);
	free(list);
	return rc;
}

int release_run(const daemon_ctx_t *d, int store_fd)
{
	storecl_t st;
	int failures = 0;

	storecl_init(&st, store_fd, &d->cfg);
	for (int i = 0; i < RELEASES_PER_RUN && failures == 0; i++) {
		sw_req_t q = { .type = SW_RELEASE_NEXT };
		sw_ans_t a;
		buf_t orig;
		int fd, r = storecl_call(&st, &q, -1, &a, &fd);

		if (r < 0) {
			log_err("release: quarantine store: %s", st.err);
			break;
		}
		if (!a.item)
			break;
		buf_init(&orig, (size_t)lim(&d->cfg.lim, LIM_MESSAGE_SIZE) + 1);
		if (read_original(fd, a.orig_len, &d->cfg, &orig) < 0) {
			log_err("release id=%s: cannot read the original from the store process", a.id);
			failures++;
		} else if (release_one(d, &st, &a, &orig) < 0) {
			failures++;
		}
		close(fd);
		buf_free(&orig);
	}
	if (failures == 0 && ppap_expire_run(d, &st) < 0)
		failures++;
	storecl_close(&st);
	return failures ? 1 : 0;
}
