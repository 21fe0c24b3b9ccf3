/*
 * notify.c — the approvers are told of a release request by mail (issue
 * #10): when a clerk (page or API) asks for a release, one message
 * 「【取り出しの依頼】件名」 (mail/reqnote.c: the one writer, the output check)
 * is queued in the store's outbox, in the transaction of the request, for
 * the active approvers of the requester's department that have an address;
 * when there is none, for the active admins that have one
 * (qstore_notify_addrs). mugaid's releaser delivers it. When nobody has an
 * address nothing is queued and the request's audit record says so
 * ("notified": []).
 *
 * SECURITY: console; sends nothing itself (least privilege: no network
 * right to the next hop) and reads the message only from the index row
 * (decoded sender and subject, hostile: they go through the writer in
 * reqnote.c), never the original.
 */
#include "console/console.h"

#include <string.h>

#include "common/log.h"
#include "mail/mail.h"

int notify_request(creq_t *r, const qstore_item_t *it, const char *reason, const char *kind,
		   const char *deliver_to)
{
	mail_reqnote_t n = { .id = it->id, .requester = r->sess->name, .kind = kind,
			     .reason = reason, .subject = it->subject, .received = it->received,
			     .from = it->hdr_from && it->hdr_from[0] ? it->hdr_from : it->env_from };
	qstore_mailout_t out = { .kind = QSTORE_OUT_NOTICE, .rcpt = "" };
	buf_t to, msg;
	int rc = -1;

	buf_init(&to, OUTBOX_RCPT_MAX + 1);
	buf_init(&msg, NOTICE_TEXT_MAX * 8);
	if (qstore_notify_addrs(r->c->s, r->sess->name, &to) < 0)
		goto out;
	if (to.len) {
		n.to = to.data;
		if (mail_init() < 0 || mail_request_notice_message(r->c->cfg, &n, &msg) < 0) {
			log_err("console: id=%s: cannot build the approvers' notice", it->id);
			goto out;
		}
		out = (qstore_mailout_t){ .kind = QSTORE_OUT_NOTICE, .rcpt = to.data,
					  .msg = msg.data, .len = msg.len };
	}
	rc = qstore_request_notify(r->c->s, it->id, r->actor, reason, kind, deliver_to, &out);
out:
	buf_free(&to);
	buf_free(&msg);
	return rc;
}
