/*
 * outbox.c — mugaid's releaser drains the outbox (schema v7, store/qstore.h):
 * each pending row (OUTBOX_NEXT: the message as a sealed memfd, its kind
 * and recipients) is delivered through next_hop to its recipients only,
 * with notice_from's address as envelope sender, then marked sent
 * (OUTBOX_DONE, audited as outbox.delivered {kind, to}, actor mugaid). A
 * refused or failed delivery leaves the row queued for the next run; the
 * next request asks for the rows after it, so one failing row never blocks
 * the others.
 *
 * Specs: the store protocol (store/storewire.h), RFC 5321 (deliver.c).
 *
 * SECURITY: releaser, no sandbox: the message bytes are passed on as the
 * console finished them (writer + output check there); nothing here parses
 * them. The strings of the store's answer were checked by storewire.
 */
#include "daemon/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/id.h"
#include "common/json.h"
#include "common/log.h"

/* One row, copied out of the store's answer. */
typedef struct orow {
	char id[MUGAI_ID_LEN + 1];
	char kind[32];
	int64_t row;
	char *rcpt_list;
	const char **rcpt;
	size_t n_rcpt;
} orow_t;

static void orow_free(orow_t *o)
{
	free(o->rcpt_list);
	free(o->rcpt);
	memset(o, 0, sizeof(*o));
}

static int orow_load(orow_t *o, const sw_ans_t *a)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", a->id);
	snprintf(o->kind, sizeof(o->kind), "%s", a->kind ? a->kind : "");
	o->row = a->seq;
	return storecl_rcpt_split(a->rcpt, &o->rcpt_list, &o->rcpt, &o->n_rcpt);
}

/* notice_from's address ("Name <a@b>" or "a@b") as the envelope sender. */
static void envelope_sender(const cfg_t *cfg, char *out, size_t cap)
{
	const char *f = cfg_str(cfg, CFG_NOTICE_FROM), *lt = strchr(f, '<');
	size_t n;

	if (lt) {
		f = lt + 1;
		n = strcspn(f, ">");
	} else {
		f += strspn(f, " ");
		n = strcspn(f, " ");
	}
	snprintf(out, cap, "%.*s", (int)n, f);
}

static bool non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static int done_details(const orow_t *o, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "kind");
	json_str(&j, o->kind);
	json_key(&j, "to");
	json_arr_begin(&j);
	for (size_t i = 0; i < o->n_rcpt; i++)
		json_str(&j, o->rcpt[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	return json_finish(&j);
}

/* Deliver one row and mark it sent: 0, or -1 (it stays queued). */
static int deliver_row(const daemon_ctx_t *d, storecl_t *st, const orow_t *o, const buf_t *msg)
{
	deliver_result_t dr = { .text = "" };
	char did[MUGAI_ID_LEN + 1], from[ADDR_MAX + 1];
	deliver_env_t e = { .from = from, .rcpt = o->rcpt, .n_rcpt = o->n_rcpt, .helo = d->hostname,
			    .id = did, .timeout = (int)lim(&d->cfg.lim, LIM_NEXT_HOP_TIMEOUT) };
	buf_t det;
	sw_ans_t a;
	int rc = -1, rfd = -1;

	envelope_sender(&d->cfg, from, sizeof(from));
	e.smtputf8 = non_ascii(from);
	for (size_t i = 0; i < o->n_rcpt; i++)
		e.smtputf8 |= non_ascii(o->rcpt[i]);
	if (mugai_id_new(did) < 0)
		snprintf(did, sizeof(did), "%s", o->id);
	buf_init(&det, STORE_DET_MAX);
	if (done_details(o, &det) == 0 && deliver(&d->hop, &e, msg->data, msg->len, &dr) == 0)
		rc = storecl_call(st, &(sw_req_t){ .type = SW_OUTBOX_DONE, .row = o->row,
						   .details = det.data }, -1, &a, &rfd);
	if (rfd >= 0)
		close(rfd);
	if (rc == 0)
		log_info("outbox id=%s row=%lld kind=%s delivered to %zu recipient(s): %s", o->id,
			 (long long)o->row, o->kind, o->n_rcpt, dr.text);
	else
		log_warn("outbox id=%s row=%lld kind=%s not delivered, stays queued: %s%s%s", o->id,
			 (long long)o->row, o->kind, dr.code[0] ? dr.code : "", dr.code[0] ? " " : "",
			 dr.text[0] ? dr.text : st->err);
	buf_free(&det);
	return rc;
}

/* The row after *after: 1 tried (0 or -1 in *ok), 0 none left, -1 store error. */
static int outbox_next(const daemon_ctx_t *d, storecl_t *st, int64_t *after, bool *ok)
{
	sw_ans_t a;
	orow_t o;
	buf_t msg;
	int fd = -1;

	if (storecl_call(st, &(sw_req_t){ .type = SW_OUTBOX_NEXT, .row = *after }, -1, &a, &fd) < 0) {
		log_err("outbox: quarantine store: %s", st->err);
		return -1;
	}
	if (!a.item) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	*after = a.seq;
	buf_init(&msg, (size_t)lim(&d->cfg.lim, LIM_RESULT_SIZE) + 1);
	*ok = false;
	if (orow_load(&o, &a) < 0 || o.n_rcpt == 0)
		log_err("outbox id=%s row=%lld: no recipients (or out of memory)", a.id,
			(long long)a.seq);
	else if (fd < 0 || a.orig_len == 0 ||
		 storecl_read_memfd(fd, a.orig_len, (size_t)lim(&d->cfg.lim, LIM_RESULT_SIZE), &msg) < 0)
		log_err("outbox id=%s row=%lld: cannot read the message from the store process",
			o.id, (long long)o.row);
	else
		*ok = deliver_row(d, st, &o, &msg) == 0;
	if (fd >= 0)
		close(fd);
	buf_free(&msg);
	orow_free(&o);
	return 1;
}

int outbox_run(const daemon_ctx_t *d, storecl_t *st)
{
	int64_t after = 0;
	int failures = 0;

	for (int i = 0; i < RELEASES_PER_RUN; i++) {
		bool ok = false;
		int r = outbox_next(d, st, &after, &ok);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		failures += !ok;
	}
	return failures ? -1 : 0;
}
