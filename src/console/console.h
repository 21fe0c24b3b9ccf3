/*
 * console.h — the web console's shared types: the process state (config,
 * store handle, session table) and one request with its response. server.c
 * owns HTTP and sessions; views.c renders pages and performs actions.
 *
 * SECURITY: program layer. The console reads and writes state only through
 * the store API and never parses an original: what it shows comes from the
 * index row and the stored report (rjson.c), through page.c.
 */
#ifndef MUGAI_CONSOLE_H
#define MUGAI_CONSOLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/limits.h"
#include "console/auth.h"
#include "console/page.h"
#include "store/audit.h"
#include "store/qstore.h"

/* "console:" + account name */
#define CONSOLE_ACTOR_LEN (8 + QACCT_NAME_MAX)

typedef struct csess {
	char id[AUTH_TOKEN_LEN + 1];   /* "" when the slot is free */
	char csrf[AUTH_TOKEN_LEN + 1];
	char name[QACCT_NAME_MAX + 1];
	int64_t last;                  /* time of the last request */
} csess_t;

typedef struct console {
	const cfg_t *cfg;
	qstore_t *s;
	bool tls;                      /* HTTPS (console_tls_cert/key) */
	buf_t tls_cert, tls_key;       /* their PEM text */
	csess_t *sess;
	size_t n_sess;
} console_t;

typedef struct creq {
	console_t *c;
	const char *method, *url, *cookie, *ctype;
	const char *csrf_header;       /* X-CSRF-Token (the JSON API) */
	bool api;                      /* /api/: JSON in and out */
	const char *body;
	size_t body_len;
	void *conn;                    /* the MHD connection (query arguments) */
	bool too_big;
	char client[INET6_ADDRSTRLEN];
	int64_t now;
	/* the signed-in account, when sess is set */
	csess_t *sess;
	qaccount_t acct;
	char actor[CONSOLE_ACTOR_LEN + 1];
	/* the response */
	int status;
	page_t page;
	const char *location;          /* 303 target, or NULL */
	char location_buf[sizeof("/mail/") + MUGAI_ID_LEN]; /* a location made per request */
	const char *content_type;
	const char *disposition;       /* Content-Disposition, or NULL */
	char disposition_buf[sizeof("attachment; filename=\"\".eml") + MUGAI_ID_LEN];
	char set_cookie[2][AUTH_TOKEN_LEN * 3];
} creq_t;

/* server.c */
csess_t *console_session_new(console_t *c, const char *name, int64_t now);
void console_session_end(console_t *c, csess_t *s);
/* Audit details {"client": ..., "why": ...} (why may be NULL) into b. */
int console_details(const creq_t *r, const char *why, buf_t *b) MUGAI_WUR;
/* Append an audit record with the client address; failures are logged. */
void console_audit(creq_t *r, const char *actor, const char *action, const char *object,
		   const char *why);
/* A one-line error page with its status. */
void console_error(creq_t *r, int status, const char *title, const char *text);
/* The first query argument named key (percent-decoded by libmicrohttpd;
 * unchecked: the caller validates it), or NULL. */
const char *console_query(const creq_t *r, const char *key);

/* views.c */
void view_login(creq_t *r, const char *message);
void act_login(creq_t *r);
void view_home(creq_t *r);
void view_detail(creq_t *r, const char *id);
/* GET /q/ID or /q/受付番号 (the notice's console line): views.c. */
void view_lookup(creq_t *r, const char *key);
/* Whom a release or a PPAP follow-up typed by this account goes to: its
 * own recipients of the message, comma-separated into to ("" for an admin
 * who is none of them: every recipient). 0, or -1 (too long). */
int view_deliver_to(creq_t *r, const qstore_item_t *it, buf_t *to) MUGAI_WUR;
/* GET /api/q/KEY: {"ids": [...]} (views.c). */
void view_lookup_api(creq_t *r, const char *key);
/* The recipients of the message (and an admin) may request its release. */
bool view_may_request(creq_t *r, const qstore_item_t *it);
/* ppap_view.c: on the page of a held PPAP zip (ppap-pending or
 * ppap-expired) the form for its password, and POST /mail/ID/ppap. */
void ppap_form(creq_t *r, const qstore_item_t *it);
void act_ppap(creq_t *r, const char *id);
void act_request(creq_t *r, const char *id);
/* notify.c: request the release (qstore_request_notify) with the notice to
 * the approvers queued in the outbox; 0, or -1 (the store's error set, or
 * the notice could not be built). */
int notify_request(creq_t *r, const qstore_item_t *it, const char *reason, const char *kind,
		   const char *deliver_to) MUGAI_WUR;
void act_decide(creq_t *r, const char *id, bool approve);
void act_logout(creq_t *r);
/* audit_view.c: the chain's verification and the latest records, into the
 * page already begun (the auditor's home page). */
void view_audit(creq_t *r);
/* The chain's verification result in Japanese. */
const char *view_break_ja(audit_break_t k);
typedef struct row {
	char id[MUGAI_ID_LEN + 1];
	int64_t received;
	char *from, *subject, *verdict, *requested_by, *reason, *kind;
	qstatus_t status;
} row_t;

typedef struct rows {
	creq_t *r;
	row_t *v;
	size_t n, cap;
	bool dept_requests;  /* keep only requests of the approver's department */
} rows_t;

/* views.c, shared with api.c */
const char *view_verdict_ja(const char *verdict);
const char *view_status_ja(qstatus_t st);
const char *view_kind_ja(const char *kind);
const char *view_who(const char *actor);   /* "console:NAME" → NAME */
bool view_is_role(const creq_t *r, const char *role);
int view_rows_init(creq_t *r, rows_t *rs) MUGAI_WUR;
void view_rows_free(rows_t *rs);
/* The messages addressed to the account (all, for an admin), newest first. */
int view_my_mail(creq_t *r, rows_t *rs) MUGAI_WUR;
/* Pending requests the account may decide. */
int view_pending(creq_t *r, rows_t *rs) MUGAI_WUR;
/* The item if the account may see it; else the refusal is set (audited). */
bool view_load_item(creq_t *r, const char *id, qstore_item_t *it);

/* report_view.c: the release report on the auditor's page, and as CSV
 * (GET /report.csv, auditor only). */
void view_release_report(creq_t *r);
void view_report_csv(creq_t *r);
/* One RFC 4180 CSV cell of s (quoted; a leading = + - @ TAB CR gets a ')
 * and its separator: "," or, when last, CRLF. */
int view_csv_cell(buf_t *b, const char *s, bool last) MUGAI_WUR;

/* selfrep.c: the self-inspection report (auditor and admin): GET
 * /report/self (HTML), /report/self.csv, /api/report (JSON). */
void selfrep_page(creq_t *r);
void selfrep_csv(creq_t *r);
void selfrep_api(creq_t *r);
/* A verdict in Japanese (view_verdict_ja, and the PPAP verdicts). */
const char *selfrep_verdict_ja(const char *v);

/* original.c: an admin downloads an original after a warning (GET and
 * POST /mail/ID/original). */
void original_warning(creq_t *r, const char *id);
void original_download(creq_t *r, const char *id);

/* adminrel.c: the admin release of a virus-detected or limit-quarantined
 * original (two admins; POST /mail/ID/admin-release). */
bool adminrel_needed(const qstore_item_t *it);
void adminrel_section(creq_t *r, const qstore_item_t *it);
void adminrel_act(creq_t *r, const char *id);
/* true (the refusal is set, audited) when it needs the admin release. */
bool adminrel_refuse_approval(creq_t *r, const qstore_item_t *it);

/* users.c: user management (admin): GET, POST /users, POST
 * /users/NAME/disable|enable|reset, and the same under /api/. path is the
 * URL without /api; false when it is none of these. */
bool users_route(creq_t *r, const char *path, bool get);

/* search.c: the admin's search (GET /search, /api/search). */
void search_page(creq_t *r);
void search_api(creq_t *r);

/* api.c: the JSON API under /api/ (path without the /api prefix). */
void api_dispatch(creq_t *r, const char *path, bool get);
/* POST /api/login after act_login: {"csrf": ...} when it succeeded. */
void api_login_done(creq_t *r);

/* A form field into out (capped by out); 1 found, 0 absent, -1 malformed. */
int view_field(creq_t *r, const char *key, buf_t *out) MUGAI_WUR;

#endif
