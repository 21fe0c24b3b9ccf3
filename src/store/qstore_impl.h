/*
 * qstore_impl.h — what a quarantine-store backend implements: the ops table
 * and the shared store handle. Only src/store/ includes this header.
 *
 * The generic layer (qstore.c) validates every argument, then calls the
 * backend; a backend may assume ids are valid, strings are UTF-8 within
 * their limits, and details are JSON objects. Each op returns 0 / -1 and on
 * -1 has called qstore_fail().
 *
 * SECURITY: store process only.
 */
#ifndef MUGAI_QSTORE_IMPL_H
#define MUGAI_QSTORE_IMPL_H

#include "store/qstore.h"

typedef struct qstore_ops {
	const char *name;
	int (*open)(qstore_t *s);
	void (*close)(qstore_t *s);
	int (*put_batch)(qstore_t *s, size_t n, const qstore_meta_t *meta,
			 const void *const *orig, const size_t *len,
			 const char *const *report, const char (*hex)[65]);
	/* Group commit: one transaction around many operations (qstore.h). */
	int (*batch_begin)(qstore_t *s);
	int (*batch_end)(qstore_t *s, bool commit);
	int (*show)(qstore_t *s, const char *actor, const char *id, qstore_item_t *it,
		    buf_t *orig);  /* orig NULL: show, else get */
	int (*list)(qstore_t *s, const char *actor, const qstore_filter_t *f,
		    const char *filter_json, qstore_item_cb cb, void *arg);
	int (*request)(qstore_t *s, const char *id, const char *by, const char *reason,
		       const char *kind, const char *rcpt, const qstore_mailout_t *out);
	int (*approve)(qstore_t *s, const char *id, const char *by, bool to_queue,
		       buf_t *orig);
	int (*release_next)(qstore_t *s, const char *after_at, const char *after_id,
			    qstore_item_t *it, buf_t *orig);
	int (*release_done)(qstore_t *s, const char *actor, const char *id, const char *details);
	int (*purge)(qstore_t *s, const char *actor, int64_t cutoff, long days,
		     long *n_expired, long *n_blobs);
	int (*seen_since)(qstore_t *s, const char *env_from, int64_t since, const char *exclude,
			  char id[MUGAI_ID_LEN + 1]);
	int (*find_undelivered)(qstore_t *s, const char *queue_id, const char *sha256,
				char id[MUGAI_ID_LEN + 1]);
	int (*delivered)(qstore_t *s, const char *id);
	int (*ppap_next)(qstore_t *s, int64_t since, int64_t skip, const char *env_from,
			 const char *hdr_from, const char *rcpt_json, qstore_item_t *it, buf_t *orig);
	int (*ppap_stale)(qstore_t *s, int64_t before, qstore_item_t *it);
	int (*ppap_mark)(qstore_t *s, const char *actor, const char *id, const char *action,
			 const char *details, const qstore_mailout_t *out);
	/* The outbox (schema v7). */
	int (*outbox_next)(qstore_t *s, int64_t after, qstore_outbox_t *ob, buf_t *msg);
	int (*outbox_done)(qstore_t *s, const char *actor, int64_t seq, const char *details);
	int (*audit_append)(qstore_t *s, const char *actor, const char *action,
			    const char *object, const char *details);
	int (*audit_scan)(qstore_t *s, int64_t from_seq, const char *since,
			  audit_rec_cb cb, void *arg);
	int (*audit_find_hash)(qstore_t *s, const char *hash, int64_t *seq);
	int (*audit_head)(qstore_t *s, int64_t *seq, char hash[65]);
	int (*audit_max_ref)(qstore_t *s, int64_t *seq);
	/* Append config.load unless the last one recorded has this sha256. */
	int (*note_config)(qstore_t *s, const char *actor, const char *sha256,
			   const char *details);
	/* Console: refusal of a request, and accounts (qstore_account.c). */
	int (*refuse)(qstore_t *s, const char *id, const char *by, const char *comment,
		      const char *details);
	int (*admin_confirm)(qstore_t *s, const char *id, const char *by, const char *details,
			     bool *released);
	int (*acct_add)(qstore_t *s, const char *actor, const qaccount_t *a,
			const char *details);
	int (*acct_get)(qstore_t *s, const char *name, qaccount_t *a, bool *found);
	int (*acct_list)(qstore_t *s, qaccount_cb cb, void *arg);
	int (*acct_set)(qstore_t *s, const char *actor, const char *action,
			const qaccount_t *a, const char *details);
	int (*acct_login)(qstore_t *s, const qstore_login_t *l, bool *locked);
	/* The self-inspection counts; t_since/t_until: the period in the
	 * audit time format. */
	int (*counts)(qstore_t *s, int64_t since, int64_t until, const char *t_since,
		      const char *t_until, qstore_count_cb cb, void *arg);
} qstore_ops_t;

struct qstore {
	const qstore_ops_t *ops;
	void *be;                 /* backend state */
	char *state_dir;
	char *blob_root;          /* state_dir/blobs */
	char *witness_file;       /* "" when none */
	long retention_days, undelivered_days;
	bool distinct_approver;
	bool admin;               /* the approver acts as administrator (qstore_set_admin) */
	char *display;            /* qstore_set_display: "by" in every record's details */
	long witness_every, witness_minutes;
	size_t report_max, details_max, orig_max, rcpt_max;
	size_t out_max;           /* result_size_max: one outbox message */
	int busy_ms;
	uint64_t seg_max;         /* store_segment_max */
	qstore_err_t err;
	char errmsg[ERR_TEXT_MAX];
	char id[QSTORE_ID_HEX + 1]; /* identity, set by the backend's open */
};

extern const qstore_ops_t qstore_sqlite_ops;

/* Record an error on the handle; returns -1 for `return qstore_fail(...)`. */
int qstore_fail(qstore_t *s, qstore_err_t code, const char *fmt, ...) MUGAI_PRINTF(3, 4);
/* Helpers for backends. */
char *qstore_strdup(const char *s);
/* Comma-separated lower-case addresses, at most max bytes ("" is fine). */
bool qstore_addrs_ok(const char *p, size_t max);
/* A mail to queue: known kind, envelope addresses (at most OUTBOX_RCPT_MAX
 * bytes), 1..out_max bytes of message. */
int qstore_mailout_check(qstore_t *s, const qstore_mailout_t *out) MUGAI_WUR;

#endif
