/*
 * qstore.c — the backend-neutral half of the quarantine store: argument
 * checks, backend selection and dispatch through qstore_ops_t (qstore.h).
 *
 * Validation is straight-line: every check must pass before the backend is
 * called; nothing is stored on a partial pass.
 *
 * SECURITY: store process only. Meta fields come from decoded hostile mail
 * (From, Subject): they must be valid UTF-8 within header_value_max, and are
 * only ever bound as SQL parameters, never interpolated.
 */
#include "store/jsoncheck.h"
#include "store/qstore_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/utf8.h"
#include "store/audit.h"
#include "store/blob.h"

int qstore_fail(qstore_t *s, qstore_err_t code, const char *fmt, ...)
{
	int saved = errno;
	size_t n = 0;
	va_list ap;

	s->err = code;
	/* ENOSPC from a blob or temp file write, or SQLITE_FULL (the backend
	 * passes QS_ERR_FULL): say so in both languages, not "I/O error". */
	if (code == QS_ERR_FULL || (code == QS_ERR_IO && saved == ENOSPC)) {
		s->err = QS_ERR_FULL;
		n = (size_t)snprintf(s->errmsg, sizeof(s->errmsg), "%s", QSTORE_DISK_FULL ": ");
	}
	va_start(ap, fmt);
	vsnprintf(s->errmsg + n, sizeof(s->errmsg) - n, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

char *qstore_strdup(const char *s)
{
	return strdup(s ? s : "");
}

qstore_err_t qstore_errcode(const qstore_t *s) { return s->err; }
const char *qstore_errmsg(const qstore_t *s) { return s->errmsg; }

static const char *const status_names[QSTATUS__COUNT] = {
	"held", "release-requested", "released", "expired"
};

const char *qstatus_name(qstatus_t st)
{
	return (unsigned)st < QSTATUS__COUNT ? status_names[st] : "?";
}

int qstatus_parse(const char *name)
{
	for (int i = 0; i < QSTATUS__COUNT; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -1;
}

void qstore_item_free(qstore_item_t *it)
{
	if (!it)
		return;
	free(it->flow);
	free(it->env_from);
	free(it->rcpt);
	free(it->hdr_from);
	free(it->subject);
	free(it->verdict);
	free(it->report);
	free(it->requested_by);
	free(it->request_reason);
	free(it->approved_by);
	free(it->release_kind);
	free(it->refused_by);
	free(it->refuse_comment);
	free(it->requested_at);
	free(it->approved_at);
	free(it->release_to);
	free(it->admin_confirmed_by);
	memset(it, 0, sizeof(*it));
}

/* ---- open / close ---- */

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

static int copy_config(qstore_t *s, const cfg_t *cfg)
{
	const char *dir = cfg_str(cfg, CFG_STATE_DIR);
	size_t n = strlen(dir) + sizeof("/blobs");

	s->state_dir = strdup(dir);
	s->blob_root = malloc(n);
	s->witness_file = strdup(cfg_str(cfg, CFG_AUDIT_WITNESS_FILE));
	if (!s->state_dir || !s->blob_root || !s->witness_file)
		return -1;
	snprintf(s->blob_root, n, "%s/blobs", dir);
	s->retention_days = (long)cfg_int(cfg, CFG_RETENTION_DAYS);
	s->undelivered_days = (long)cfg_int(cfg, CFG_UNDELIVERED_DAYS);
	s->distinct_approver = cfg_int(cfg, CFG_RELEASE_DISTINCT_APPROVER) != 0;
	s->witness_every = (long)cfg_int(cfg, CFG_AUDIT_WITNESS_EVERY);
	s->witness_minutes = (long)cfg_int(cfg, CFG_AUDIT_WITNESS_MINUTES);
	s->report_max = (size_t)lim(&cfg->lim, LIM_REPORT_SIZE);
	s->details_max = (size_t)lim(&cfg->lim, LIM_AUDIT_DETAILS);
	s->orig_max = (size_t)lim(&cfg->lim, LIM_MESSAGE_SIZE);
	s->out_max = (size_t)lim(&cfg->lim, LIM_RESULT_SIZE);
	/* as many recipients as mugaid accepts (the CLI's --rcpt cap is lower) */
	s->rcpt_max = (size_t)lim(&cfg->lim, LIM_SMTP_RECIPIENTS);
	s->busy_ms = (int)lim(&cfg->lim, LIM_STORE_BUSY) * 1000;
	s->seg_max = (uint64_t)lim(&cfg->lim, LIM_STORE_SEGMENT);
	return 0;
}

int qstore_open(qstore_t **out, const cfg_t *cfg)
{
	qstore_t *s = calloc(1, sizeof(*s));
	int rc = -1;

	*out = s;
	if (!s)
		return -1;
	if (copy_config(s, cfg) < 0) {
		qstore_fail(s, QS_ERR_IO, "out of memory");
		goto out;
	}
	if (make_dir(s->state_dir) < 0 || blob_root_init(s->blob_root) < 0) {
		qstore_fail(s, QS_ERR_IO, "%s: %s", s->state_dir, strerror(errno));
		goto out;
	}
	if (!cfg_is(cfg, CFG_STORE_BACKEND, "sqlite")) {
		qstore_fail(s, QS_ERR_INVAL, "unknown store_backend");
		goto out;
	}
	s->ops = &qstore_sqlite_ops;
	if (s->ops->open(s) < 0)
		goto out;
	rc = 0;
out:
	return rc;
}

const char *qstore_id(const qstore_t *s)
{
	return s->id;
}

void qstore_close(qstore_t *s)
{
	if (!s)
		return;
	if (s->ops && s->be)
		s->ops->close(s);
	free(s->state_dir);
	free(s->blob_root);
	free(s->witness_file);
	free(s->display);
	free(s);
}

/* ---- checks ---- */

static bool text_ok(const char *p, size_t max, bool empty_ok)
{
	size_t n = p ? strlen(p) : 0;

	if (!p)
		return empty_ok;
	if ((n == 0 && !empty_ok) || n > max || !utf8_valid(p, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			return false;
	return true;
}

/* A JSON object by the strict checker (no duplicate top-level key). */
static bool json_object_ok(const char *j, size_t max)
{
	return jsoncheck_object(j, strlen(j), max);
}

static int check_actor(qstore_t *s, const char *actor)
{
	if (!text_ok(actor, AUDIT_NAME_MAX, false) || strchr(actor, '\t'))
		return qstore_fail(s, QS_ERR_INVAL, "bad actor name");
	return 0;
}

static int check_meta(qstore_t *s, const qstore_meta_t *m, const char *report)
{
	static const char *flows[] = { "inbound", "outbound", "file" };
	bool flow_ok = false;

	for (size_t i = 0; m->flow && i < MUGAI_ARRAY_LEN(flows); i++)
		flow_ok |= strcmp(m->flow, flows[i]) == 0;
	if (!mugai_id_valid(m->id))
		return qstore_fail(s, QS_ERR_INVAL, "bad id '%.40s'", m->id);
	if (m->actor && check_actor(s, m->actor) < 0)
		return -1;
	if (!flow_ok || m->received <= 0 || m->n_rcpt > s->rcpt_max)
		return qstore_fail(s, QS_ERR_INVAL, "%s: bad flow, time or recipients", m->id);
	if (!text_ok(m->env_from, ADDR_MAX, true) || !text_ok(m->hdr_from, STORE_HDR_MAX, true) ||
	    !text_ok(m->subject, STORE_HDR_MAX, true) || !text_ok(m->verdict, VERDICT_NAME_MAX, false))
		return qstore_fail(s, QS_ERR_INVAL, "%s: bad sender, From, Subject or verdict",
				   m->id);
	if (m->queue_id && !text_ok(m->queue_id, ADDR_MAX, true))
		return qstore_fail(s, QS_ERR_INVAL, "%s: bad queue id", m->id);
	for (size_t i = 0; i < m->n_rcpt; i++)
		if (!text_ok(m->rcpt[i], ADDR_MAX, false) || strchr(m->rcpt[i], ','))
			return qstore_fail(s, QS_ERR_INVAL, "%s: bad recipient", m->id);
	if (report && !json_object_ok(report, s->report_max))
		return qstore_fail(s, QS_ERR_INVAL, "%s: report is not a JSON object within "
				   "report_size_max", m->id);
	if (m->verdict_details && !json_object_ok(m->verdict_details, s->details_max))
		return qstore_fail(s, QS_ERR_INVAL, "%s: verdict details are not a JSON object "
				   "within audit_details_max", m->id);
	return 0;
}

static int check_id(qstore_t *s, const char *id)
{
	if (!id || !mugai_id_valid(id))
		return qstore_fail(s, QS_ERR_INVAL, "bad id '%.40s'", id ? id : "");
	return 0;
}

/* ---- originals ---- */

int qstore_put_batch(qstore_t *s, size_t n, const qstore_meta_t *meta,
		     const void *const *orig, const size_t *len,
		     const char *const *report_json)
{
	char (*hex)[65] = NULL;
	int rc = -1;

	s->err = QS_OK;
	if (n == 0 || !(hex = calloc(n, sizeof(*hex)))) {
		qstore_fail(s, QS_ERR_INVAL, "empty batch or out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_meta(s, &meta[i], report_json ? report_json[i] : NULL) < 0)
			goto out;
		if (len[i] > s->orig_max) {
			qstore_fail(s, QS_ERR_INVAL, "%s: original exceeds message_size_max",
				    meta[i].id);
			goto out;
		}
		if (blob_sha256(len[i] ? orig[i] : "", len[i], hex[i]) < 0) {
			qstore_fail(s, QS_ERR_IO, "sha256 failed");
			goto out;
		}
	}
	rc = s->ops->put_batch(s, n, meta, orig, len, report_json, (const char (*)[65])hex);
out:
	free(hex);
	return rc;
}

int qstore_put(qstore_t *s, const qstore_meta_t *meta, const void *orig, size_t len,
	       const char *report_json)
{
	return qstore_put_batch(s, 1, meta, &orig, &len, &report_json);
}

int qstore_batch_begin(qstore_t *s)
{
	s->err = QS_OK;
	return s->ops->batch_begin(s);
}

int qstore_batch_end(qstore_t *s, bool commit)
{
	s->err = QS_OK;
	return s->ops->batch_end(s, commit);
}

/* The recipients as a JSON array of strings (for the backend's query). */
static int rcpt_json(const char *const *rcpt, size_t n, buf_t *out)
{
	json_t j;

	json_init(&j, out);
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++)
		json_str(&j, rcpt[i]);
	json_arr_end(&j);
	return json_finish(&j);
}

int qstore_ppap_next(qstore_t *s, int64_t since, int64_t skip, const char *env_from,
		     const char *hdr_from, const char *const *rcpt, size_t n_rcpt,
		     qstore_item_t *it, buf_t *orig)
{
	buf_t j;
	int rc;

	s->err = QS_OK;
	memset(it, 0, sizeof(*it));
	if (!text_ok(env_from, ADDR_MAX, true) || !text_ok(hdr_from, STORE_HDR_MAX, true) ||
	    n_rcpt == 0 || n_rcpt > s->rcpt_max || skip < 0)
		return qstore_fail(s, QS_ERR_INVAL, "ppap: bad sender, From or recipients");
	for (size_t i = 0; i < n_rcpt; i++)
		if (!text_ok(rcpt[i], ADDR_MAX, false))
			return qstore_fail(s, QS_ERR_INVAL, "ppap: bad recipient");
	buf_init(&j, (n_rcpt + 1) * (ADDR_MAX * 6 + 4));
	rc = rcpt_json(rcpt, n_rcpt, &j);
	if (rc < 0)
		rc = qstore_fail(s, QS_ERR_INVAL, "ppap: recipients too long");
	else
		rc = s->ops->ppap_next(s, since, skip, env_from ? env_from : "",
				       hdr_from ? hdr_from : "", j.data, it, orig);
	buf_free(&j);
	return rc;
}

int qstore_ppap_stale(qstore_t *s, int64_t before, qstore_item_t *it)
{
	s->err = QS_OK;
	memset(it, 0, sizeof(*it));
	return s->ops->ppap_stale(s, before, it);
}

int qstore_ppap_mark(qstore_t *s, const char *actor, const char *id, const char *action,
		     const char *details)
{
	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || check_id(s, id) < 0)
		return -1;
	if (strcmp(action, "ppap.paired") != 0 && strcmp(action, "ppap.expired") != 0 &&
	    strcmp(action, "ppap.failed") != 0)
		return qstore_fail(s, QS_ERR_INVAL, "ppap: unknown step %.40s", action);
	if (details && !json_object_ok(details, s->details_max))
		return qstore_fail(s, QS_ERR_INVAL, "ppap: details are not a JSON object");
	return s->ops->ppap_mark(s, actor, id, action, details ? details : "{}", NULL);
}

/* ---- the outbox ---- */

/* Envelope addresses "a,b": UTF-8 without controls, blanks, quotes or
 * angle brackets, each with an '@', none empty ("" is fine: nobody). */
static bool out_rcpt_ok(const char *p)
{
	size_t at = 0, len = 0;

	if (!text_ok(p, OUTBOX_RCPT_MAX, true) || (*p && p[strlen(p) - 1] == ','))
		return false;
	for (;; p++) {
		if (*p == ',' || *p == '\0') {
			if ((len || *p) && (at != 1 || len < 3))
				return false;
			if (!*p)
				return true;
			at = len = 0;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '"' || *p == '<' || *p == '>')
			return false;
		at += *p == '@';
		len++;
	}
}

int qstore_mailout_check(qstore_t *s, const qstore_mailout_t *out)
{
	if (!out->kind || (strcmp(out->kind, QSTORE_OUT_NOTICE) != 0 &&
			   strcmp(out->kind, QSTORE_OUT_PPAP) != 0))
		return qstore_fail(s, QS_ERR_INVAL, "outbox: unknown kind");
	if (!out_rcpt_ok(out->rcpt))
		return qstore_fail(s, QS_ERR_INVAL, "outbox: bad recipient list");
	if (out->rcpt[0] && (!out->msg || out->len == 0 || out->len > s->out_max))
		return qstore_fail(s, QS_ERR_INVAL, "outbox: no message or larger than "
				   "result_size_max");
	return 0;
}

int qstore_ppap_paired_out(qstore_t *s, const char *actor, const char *id,
			   const char *details, const qstore_mailout_t *out)
{
	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || check_id(s, id) < 0)
		return -1;
	if (!out || !out->kind || strcmp(out->kind, QSTORE_OUT_PPAP) != 0 || !out->rcpt ||
	    !out->rcpt[0])
		return qstore_fail(s, QS_ERR_INVAL, "outbox: not a PPAP follow-up with recipients");
	if (qstore_mailout_check(s, out) < 0)
		return -1;
	if (details && !json_object_ok(details, s->details_max))
		return qstore_fail(s, QS_ERR_INVAL, "ppap: details are not a JSON object");
	return s->ops->ppap_mark(s, actor, id, "ppap.paired", details ? details : "{}", out);
}

void qstore_outbox_free(qstore_outbox_t *ob)
{
	if (!ob)
		return;
	free(ob->kind);
	free(ob->rcpt);
	memset(ob, 0, sizeof(*ob));
}

int qstore_outbox_next(qstore_t *s, int64_t after, qstore_outbox_t *ob, buf_t *msg)
{
	s->err = QS_OK;
	memset(ob, 0, sizeof(*ob));
	if (after < 0)
		return qstore_fail(s, QS_ERR_INVAL, "outbox: bad position");
	return s->ops->outbox_next(s, after, ob, msg);
}

int qstore_outbox_done(qstore_t *s, const char *actor, int64_t seq, const char *details)
{
	s->err = QS_OK;
	if (check_actor(s, actor) < 0)
		return -1;
	if (seq <= 0)
		return qstore_fail(s, QS_ERR_INVAL, "outbox: bad row");
	if (!details || !json_object_ok(details, s->details_max))
		return qstore_fail(s, QS_ERR_INVAL, "outbox: details are not a JSON object");
	return s->ops->outbox_done(s, actor, seq, details);
}

int qstore_release_next(qstore_t *s, const char *after_at, const char *after_id,
			qstore_item_t *it, buf_t *orig)
{
	s->err = QS_OK;
	memset(it, 0, sizeof(*it));
	return s->ops->release_next(s, after_at ? after_at : "", after_id ? after_id : "", it, orig);
}

int qstore_release_done(qstore_t *s, const char *actor, const char *id, const char *details)
{
	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || check_id(s, id) < 0)
		return -1;
	if (details && !json_object_ok(details, s->details_max))
		return qstore_fail(s, QS_ERR_INVAL, "release: details are not a JSON object");
	return s->ops->release_done(s, actor, id, details && strcmp(details, "{}") ? details : NULL);
}

int qstore_show(qstore_t *s, const char *actor, const char *id, qstore_item_t *it)
{
	s->err = QS_OK;
	memset(it, 0, sizeof(*it));
	if (check_actor(s, actor) < 0 || check_id(s, id) < 0)
		return -1;
	return s->ops->show(s, actor, id, it, NULL);
}

int qstore_get(qstore_t *s, const char *actor, const char *id, qstore_item_t *it,
	       buf_t *orig)
{
	s->err = QS_OK;
	memset(it, 0, sizeof(*it));
	if (check_actor(s, actor) < 0 || check_id(s, id) < 0)
		return -1;
	return s->ops->show(s, actor, id, it, orig);
}

static void filter_str(json_t *j, const char *k, const char *v)
{
	if (!v)
		return;
	json_key(j, k);
	json_str(j, v);
}

/* The filter as the details of the quarantine.list audit record. */
static int filter_json(const qstore_filter_t *f, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	if (f->since) {
		json_key(&j, "since");
		json_int(&j, f->since);
	}
	if (f->until) {
		json_key(&j, "until");
		json_int(&j, f->until);
	}
	filter_str(&j, "verdict", f->verdict);
	filter_str(&j, "sender", f->sender);
	filter_str(&j, "rcpt", f->rcpt);
	filter_str(&j, "status", f->status >= 0 ? qstatus_name(f->status) : NULL);
	filter_str(&j, "from_part", f->from_part);
	filter_str(&j, "rcpt_part", f->rcpt_part);
	filter_str(&j, "subject_part", f->subject_part);
	filter_str(&j, "file_part", f->file_part);
	if (f->offset) {
		json_key(&j, "offset");
		json_int(&j, f->offset);
	}
	if (f->undelivered) {
		json_key(&j, "undelivered");
		json_bool(&j, true);
	}
	json_obj_end(&j);
	return json_finish(&j);
}

int qstore_list(qstore_t *s, const char *actor, const qstore_filter_t *f,
		qstore_item_cb cb, void *arg)
{
	buf_t fj;
	int rc = -1;

	s->err = QS_OK;
	buf_init(&fj, STORE_FILTER_JSON_MAX);
	if (check_actor(s, actor) < 0)
		goto out;
	if (!text_ok(f->verdict, VERDICT_NAME_MAX, true) || !text_ok(f->sender, ADDR_MAX, true) ||
	    !text_ok(f->rcpt, ADDR_MAX, true) || f->status >= QSTATUS__COUNT ||
	    !text_ok(f->from_part, SEARCH_TEXT_MAX, true) ||
	    !text_ok(f->rcpt_part, SEARCH_TEXT_MAX, true) ||
	    !text_ok(f->subject_part, SEARCH_TEXT_MAX, true) ||
	    !text_ok(f->file_part, SEARCH_TEXT_MAX, true) || f->offset < 0) {
		qstore_fail(s, QS_ERR_INVAL, "bad filter");
		goto out;
	}
	if (filter_json(f, &fj) < 0) {
		qstore_fail(s, QS_ERR_INVAL, "filter too large");
		goto out;
	}
	rc = s->ops->list(s, actor, f, fj.data, cb, arg);
out:
	buf_free(&fj);
	return rc;
}

/* ---- release ---- */

int qstore_request(qstore_t *s, const char *id, const char *by, const char *reason)
{
	s->err = QS_OK;
	if (check_actor(s, by) < 0 || check_id(s, id) < 0)
		return -1;
	if (!text_ok(reason, STORE_REASON_MAX, false))
		return qstore_fail(s, QS_ERR_INVAL, "a reason (UTF-8, up to %d bytes) is required",
				   STORE_REASON_MAX);
	return s->ops->request(s, id, by, reason, "original", "", NULL);
}

void qstore_set_admin(qstore_t *s, bool admin)
{
	s->admin = admin;
}

int qstore_set_display(qstore_t *s, const char *name)
{
	s->err = QS_OK;
	free(s->display);
	s->display = NULL;
	if (!name)
		return 0;
	if (!text_ok(name, AUDIT_NAME_MAX, false) || strchr(name, '\t'))
		return qstore_fail(s, QS_ERR_INVAL, "bad display name (--by)");
	s->display = qstore_strdup(name);
	return s->display ? 0 : qstore_fail(s, QS_ERR_IO, "out of memory");
}

int qstore_approve(qstore_t *s, const char *id, const char *by, bool to_queue, buf_t *orig)
{
	s->err = QS_OK;
	if (check_actor(s, by) < 0 || check_id(s, id) < 0)
		return -1;
	return s->ops->approve(s, id, by, to_queue, orig);
}

/* ---- retention ---- */

int qstore_purge(qstore_t *s, const char *actor, long days, long *n_expired, long *n_blobs)
{
	char det[128];

	s->err = QS_OK;
	*n_expired = *n_blobs = 0;
	if (check_actor(s, actor) < 0)
		return -1;
	if (days < s->retention_days || days > RETENTION_DAYS_MAX) {
		snprintf(det, sizeof(det), "{\"older_than_days\":%ld,\"retention_days\":%ld}",
			 days, s->retention_days);
		if (s->ops->audit_append(s, actor, "quarantine.purge.refused", "*", det) < 0)
			return -1;
		return qstore_fail(s, QS_ERR_DENIED, "retention_days is %ld: purge refuses to "
				   "remove originals younger than that (asked: %ld days)",
				   s->retention_days, days);
	}
	return s->ops->purge(s, actor, (int64_t)time(NULL) - (int64_t)days * 86400, days,
			     n_expired, n_blobs);
}

/* ---- audit ---- */

int audit_append(qstore_t *s, const char *actor, const char *action, const char *object,
		 const char *details_json)
{
	const char *d = details_json ? details_json : "{}";

	s->err = QS_OK;
	if (audit_fields_ok(actor, action, object, d, s->details_max) < 0)
		return qstore_fail(s, QS_ERR_INVAL, "bad audit record fields (names must be "
				   "printable UTF-8, details a JSON object within audit_details_max)");
	return s->ops->audit_append(s, actor, action, object, d);
}

int audit_scan(qstore_t *s, int64_t from_seq, const char *since, audit_rec_cb cb, void *arg)
{
	s->err = QS_OK;
	return s->ops->audit_scan(s, from_seq, since, cb, arg);
}

int audit_find_hash(qstore_t *s, const char *hash, int64_t *seq)
{
	*seq = 0;
	if (!blob_hex_valid(hash))
		return 0;
	return s->ops->audit_find_hash(s, hash, seq);
}

int audit_head(qstore_t *s, int64_t *seq, char hash[65])
{
	return s->ops->audit_head(s, seq, hash);
}

int audit_max_ref(qstore_t *s, int64_t *seq)
{
	return s->ops->audit_max_ref(s, seq);
}

int audit_witness_now(qstore_t *s)
{
	int64_t seq;
	char hash[65];

	if (audit_head(s, &seq, hash) < 0)
		return -1;
	if (audit_witness_emit(s->witness_file, s->id, seq, hash) < 0)
		return qstore_fail(s, QS_ERR_IO, "%s: %s", s->witness_file, strerror(errno));
	return 0;
}

static int read_small_file(const char *path, buf_t *b)
{
	FILE *f = fopen(path, "re");
	char chunk[SCAN_CHUNK];
	size_t n;
	int rc = -1;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0)
			goto out;
	rc = ferror(f) ? -1 : 0;
out:
	fclose(f);
	return rc;
}

int audit_note_config(qstore_t *s, const cfg_t *cfg, const char *actor)
{
	char hex[65];
	buf_t file, det;
	json_t j;
	int rc = -1;

	buf_init(&file, CONFIG_FILE_MAX);
	buf_init(&det, STORE_DET_MAX);
	if (check_actor(s, actor) < 0)
		goto out;
	if (cfg->path && read_small_file(cfg->path, &file) < 0) {
		qstore_fail(s, QS_ERR_IO, "%s: cannot read", cfg->path);
		goto out;
	}
	if (blob_sha256(file.data ? file.data : "", file.len, hex) < 0)
		goto out;
	json_init(&j, &det);
	json_obj_begin(&j);
	json_key(&j, "path");
	json_str(&j, cfg->path ? cfg->path : "(embedded defaults)");
	json_key(&j, "sha256");
	json_str(&j, hex);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		goto out;
	rc = s->ops->note_config(s, actor, hex, det.data);
out:
	buf_free(&file);
	buf_free(&det);
	return rc;
}

/* The effective config as "key = value" lines (cfg_dump), into b. */
static int dump_config(const cfg_t *cfg, buf_t *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = -1;

	if (!f)
		return -1;
	cfg_dump(cfg, f, false);
	if (fclose(f) == 0)
		rc = buf_append(b, text, len);
	free(text);
	return rc;
}

int audit_config_load(qstore_t *s, const cfg_t *cfg, const char *actor, const char *digest)
{
	char hex[65];
	buf_t file, det, dump;
	json_t j;
	int rc = -1;

	buf_init(&file, CONFIG_FILE_MAX);
	buf_init(&dump, CONFIG_FILE_MAX);
	buf_init(&det, s->details_max);
	if (check_actor(s, actor) < 0)
		goto out;
	if (cfg->path && read_small_file(cfg->path, &file) < 0) {
		qstore_fail(s, QS_ERR_IO, "%s: cannot read", cfg->path);
		goto out;
	}
	if (blob_sha256(file.data ? file.data : "", file.len, hex) < 0 ||
	    dump_config(cfg, &dump) < 0)
		goto out;
	json_init(&j, &det);
	json_obj_begin(&j);
	json_key(&j, "path");
	json_str(&j, cfg->path ? cfg->path : "(embedded defaults)");
	json_key(&j, "digest");
	json_str(&j, digest);
	json_key(&j, "sha256");
	json_str(&j, hex);
	json_key(&j, "config");
	json_strn(&j, dump.data ? dump.data : "", dump.len);
	json_obj_end(&j);
	if (json_finish(&j) < 0) {
		qstore_fail(s, QS_ERR_INVAL, "config.load: details too large");
		goto out;
	}
	rc = audit_append(s, actor, "config.load", "config", det.data);
out:
	buf_free(&file);
	buf_free(&dump);
	buf_free(&det);
	return rc;
}

/* Unix seconds as an audit time ("YYYY-MM-DDTHH:MM:SS.000Z"), for
 * comparing with the audit records' time text. */
static int audit_time_of(int64_t t, char out[AUDIT_TIME_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;
	char tmp[96];

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.000Z",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, AUDIT_TIME_LEN);
	out[AUDIT_TIME_LEN] = '\0';
	return 0;
}

int qstore_counts(qstore_t *s, int64_t since, int64_t until, qstore_count_cb cb, void *arg)
{
	char t_since[AUDIT_TIME_LEN + 1], t_until[AUDIT_TIME_LEN + 1];

	s->err = QS_OK;
	if (since < 0 || until < since || audit_time_of(since, t_since) < 0 ||
	    audit_time_of(until, t_until) < 0)
		return qstore_fail(s, QS_ERR_INVAL, "bad period");
	return s->ops->counts(s, since, until, t_since, t_until, cb, arg);
}

int qstore_find_undelivered(qstore_t *s, const char *queue_id, const char *sha256,
			    char id[MUGAI_ID_LEN + 1])
{
	id[0] = '\0';
	if (!queue_id || !*queue_id)
		return 0;
	if (!text_ok(queue_id, ADDR_MAX, false) || strlen(sha256) != 64)
		return qstore_fail(s, QS_ERR_INVAL, "bad queue id or digest");
	return s->ops->find_undelivered(s, queue_id, sha256, id);
}

int qstore_seen_since(qstore_t *s, const char *env_from, int64_t since, const char *exclude,
		      char id[MUGAI_ID_LEN + 1])
{
	id[0] = '\0';
	if (!env_from || !*env_from)
		return 0;
	if (!text_ok(env_from, ADDR_MAX, false))
		return qstore_fail(s, QS_ERR_INVAL, "bad sender address");
	return s->ops->seen_since(s, env_from, since, exclude ? exclude : "", id);
}

int qstore_delivered(qstore_t *s, const char *id)
{
	if (!mugai_id_valid(id))
		return qstore_fail(s, QS_ERR_INVAL, "bad id '%.40s'", id);
	return s->ops->delivered(s, id);
}
