/*
 * server.c — `mugai console [-c CONFIG]`: the web console's process. GNU
 * libmicrohttpd in one thread (MHD_run_wait), listening on console_listen;
 * sessions in memory (a restart signs everyone out); routing; the security
 * headers of every response; request size, connection and time limits from
 * the limits table.
 *
 *   GET  /login, POST /login           password + TOTP (views.c)
 *   GET  /                             the list for the account's role
 *   GET  /mail/ID                      one message
 *   GET  /report.csv                   the auditor's release report (CSV)
 *   GET  /report/self[.csv]?from=&to=  the self-inspection report (selfrep.c)
 *   GET  /search?...                   the admin's search (search.c)
 *   POST /mail/ID/request|approve|refuse
 *   GET, POST /mail/ID/original        an admin downloads the original (original.c)
 *   POST /mail/ID/admin-release        two admins release a dangerous original (adminrel.c)
 *   GET, POST /users, POST /users/NAME/disable|enable|reset   accounts (users.c, admin)
 *   POST /logout
 *   GET  /style.css
 *
 * Specs: RFC 9110 (HTTP semantics: 303 after POST, 413), RFC 6265 (cookies:
 * HttpOnly, SameSite=Strict, Path), CSP Level 3 (default-src 'none').
 *
 * HTTPS with console_tls_cert and console_tls_key (GnuTLS inside
 * libmicrohttpd; cookies Secure, HSTS); without them plain HTTP, and then
 * console_listen must be a loopback address (127.0.0.0/8).
 *
 * SECURITY: every request except the login page, the login form and the
 * style sheet needs a live session (cookie mugai_session, a 256-bit random
 * token); every POST needs the session's CSRF token in the form field csrf
 * (the login form: the token of its own cookie, mugai_login). A session idle
 * for console_idle_timeout is ended. Refusals are audited with the client
 * address. The process holds state_dir through the store API only.
 */
#include "console/console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "common/json.h"
#include "console/form.h"
#include "mail/mail.h"

#define SESSION_COOKIE "mugai_session"
#define MSG_IDLE "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"

static volatile sig_atomic_t stop_flag;

static const char style_css[] =
	"body{font-family:sans-serif;margin:0;color:#222;background:#fafafa}"
	"header{background:#1d3557;color:#fff;padding:.5em 1em;display:flex;"
	"justify-content:space-between}main{padding:1em}"
	"table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;"
	"padding:.3em .5em;text-align:left;vertical-align:top}th{background:#eef}"
	".msg{padding:.5em;border:1px solid #c00;background:#fee}"
	".ok{padding:.5em;border:1px solid #080;background:#efe}"
	"label{display:block;margin:.4em 0}textarea{width:30em;height:5em}"
	"form.inline{display:inline}dt{font-weight:bold}dd{margin:0 0 .5em 1em}"
	"td.n{text-align:right}@media print{header,.noprint{display:none}}";

/* ---- sessions ---- */

csess_t *console_session_new(console_t *c, const char *name, int64_t now)
{
	csess_t *slot = NULL;

	for (size_t i = 0; i < c->n_sess; i++) {
		csess_t *s = &c->sess[i];

		if (!s->id[0]) {
			slot = s;
			break;
		}
		if (!slot || s->last < slot->last)
			slot = s;  /* full: the oldest idle one is ended */
	}
	if (!slot)
		return NULL;
	auth_new_token(slot->id);
	auth_new_token(slot->csrf);
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->last = now;
	return slot;
}

void console_session_end(console_t *c, csess_t *s)
{
	(void)c;
	memset(s, 0, sizeof(*s));
}

static csess_t *session_find(console_t *c, const char *id)
{
	csess_t *found = NULL;

	for (size_t i = 0; i < c->n_sess; i++)
		if (c->sess[i].id[0] && auth_token_eq(c->sess[i].id, id))
			found = &c->sess[i];
	return found;
}

/* ---- audit and errors ---- */

int console_details(const creq_t *r, const char *why, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "client");
	json_str(&j, r->client);
	if (why) {
		json_key(&j, "why");
		json_str(&j, why);
	}
	json_obj_end(&j);
	return json_finish(&j);
}

/* The object of an audit record: printable ASCII of at most AUDIT_NAME_MAX
 * bytes (a URL or a name the client sent), else "-". */
static const char *audit_object(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > AUDIT_NAME_MAX)
		return "-";
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return "-";
	return s;
}

void console_audit(creq_t *r, const char *actor, const char *action, const char *object,
		   const char *why)
{
	buf_t det;

	object = audit_object(object);
	buf_init(&det, STORE_DET_MAX);
	if (console_details(r, why, &det) < 0 ||
	    audit_append(r->c->s, actor, action, object, det.data) < 0)
		fprintf(stderr, "mugai console: audit %s: %s\n", action, qstore_errmsg(r->c->s));
	buf_free(&det);
}

/* The JSON API's error: {"error": text}. */
static void api_error(creq_t *r, const char *text)
{
	json_t j;

	r->content_type = "application/json; charset=utf-8";
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_key(&j, "error");
	json_str(&j, text);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		r->page.err = -1;
}

void console_error(creq_t *r, int status, const char *title, const char *text)
{
	r->status = status;
	r->location = NULL;
	page_free(&r->page);
	page_init(&r->page, CONSOLE_PAGE_MAX);
	if (r->api) {
		api_error(r, text);
		return;
	}
	page_begin(&r->page, title, r->sess ? r->sess->name : NULL);
	PAGE_LIT(&r->page, "<p class=\"msg\">");
	page_text(&r->page, text);
	PAGE_LIT(&r->page, "</p><p><a href=\"/\">一覧に戻る</a></p>");
	page_end(&r->page);
}

const char *console_query(const creq_t *r, const char *key)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

/* ---- routing ---- */

/* The signed-in account, or NULL after the response was set (login page). */
static bool need_session(creq_t *r)
{
	char id[AUTH_TOKEN_LEN + 1];
	const cfg_t *cfg = r->c->cfg;
	int k = r->cookie ? form_cookie(r->cookie, SESSION_COOKIE, id, sizeof(id)) : 0;
	csess_t *s = k == 1 ? session_find(r->c, id) : NULL;

	if (s && r->now - s->last > lim(&cfg->lim, LIM_CONSOLE_IDLE)) {
		char actor[CONSOLE_ACTOR_LEN + 1];

		snprintf(actor, sizeof(actor), "console:%s", s->name);
		console_audit(r, actor, "console.session.expired", s->name, NULL);
		console_session_end(r->c, s);
		if (r->api)
			console_error(r, MHD_HTTP_UNAUTHORIZED, "ログイン", MSG_IDLE);
		else
			view_login(r, MSG_IDLE);
		r->status = MHD_HTTP_UNAUTHORIZED;
		return false;
	}
	if (s && qstore_account_get(r->c->s, s->name, &r->acct) == 0 && !r->acct.disabled) {
		s->last = r->now;
		r->sess = s;
		snprintf(r->actor, sizeof(r->actor), "console:%s", s->name);
		return true;
	}
	if (s)
		console_session_end(r->c, s);
	if (strcmp(r->method, "GET") == 0 && !r->api) {
		r->status = MHD_HTTP_SEE_OTHER;
		r->location = "/login";
	} else {
		console_audit(r, "console", "console.refused", r->url, "no session");
		console_error(r, r->api ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN, "ログインしてください",
			      "ログインしていないか、セッションが終了しています。");
	}
	return false;
}

static bool csrf_ok(creq_t *r)
{
	buf_t tok;
	bool ok;

	buf_init(&tok, AUTH_TOKEN_LEN + 1);
	if (r->api)
		ok = auth_token_eq(r->csrf_header, r->sess->csrf);
	else
		ok = view_field(r, "csrf", &tok) == 1 && auth_token_eq(tok.data, r->sess->csrf);
	buf_free(&tok);
	if (!ok) {
		console_audit(r, r->actor, "console.refused", r->url, "csrf");
		console_error(r, MHD_HTTP_FORBIDDEN, "要求を受け付けられません",
			      "フォームの確認用の値が一致しないため、この操作を受け付けませんでした。"
			      "画面を開き直してからもう一度操作してください。");
	}
	return ok;
}

/* "/mail/ID" or "/mail/ID/ACTION": the id into id, the action (or "") into act. */
static bool mail_path(const char *url, char id[MUGAI_ID_LEN + 1], const char **act)
{
	const char *p = url + strlen("/mail/");
	const char *slash;

	if (strncmp(url, "/mail/", strlen("/mail/")) != 0)
		return false;
	slash = strchr(p, '/');
	if ((slash ? (size_t)(slash - p) : strlen(p)) != MUGAI_ID_LEN)
		return false;
	memcpy(id, p, MUGAI_ID_LEN);
	id[MUGAI_ID_LEN] = '\0';
	*act = slash ? slash + 1 : "";
	return mugai_id_valid(id);
}

static void route_session(creq_t *r)
{
	bool get = strcmp(r->method, "GET") == 0;
	char id[MUGAI_ID_LEN + 1];
	const char *act;

	if (!need_session(r) || (!get && !csrf_ok(r)))
		return;
	if (r->api) {
		api_dispatch(r, r->url + strlen("/api"), get);
		return;
	}
	if (get && strcmp(r->url, "/") == 0)
		view_home(r);
	else if (get && strcmp(r->url, "/report.csv") == 0)
		view_report_csv(r);
	else if (get && strcmp(r->url, "/report/self") == 0)
		selfrep_page(r);
	else if (get && strcmp(r->url, "/report/self.csv") == 0)
		selfrep_csv(r);
	else if (get && strcmp(r->url, "/search") == 0)
		search_page(r);
	else if (!get && strcmp(r->url, "/logout") == 0)
		act_logout(r);
	else if (mail_path(r->url, id, &act) && get && !act[0])
		view_detail(r, id);
	else if (get && strncmp(r->url, "/q/", strlen("/q/")) == 0)
		view_lookup(r, r->url + strlen("/q/"));
	else if (mail_path(r->url, id, &act) && !get && strcmp(act, "request") == 0)
		act_request(r, id);
	else if (mail_path(r->url, id, &act) && !get && strcmp(act, "approve") == 0)
		act_decide(r, id, true);
	else if (mail_path(r->url, id, &act) && !get && strcmp(act, "refuse") == 0)
		act_decide(r, id, false);
	else if (mail_path(r->url, id, &act) && !get && strcmp(act, "ppap") == 0)
		act_ppap(r, id);
	else if (mail_path(r->url, id, &act) && strcmp(act, "original") == 0 && get)
		original_warning(r, id);
	else if (mail_path(r->url, id, &act) && strcmp(act, "original") == 0)
		original_download(r, id);
	else if (mail_path(r->url, id, &act) && !get && strcmp(act, "admin-release") == 0)
		adminrel_act(r, id);
	else if (users_route(r, r->url, get))
		;  /* user management (users.c) */
	else
		console_error(r, MHD_HTTP_NOT_FOUND, "ページがありません",
			      "指定されたページはありません。");
}

/* Content-Type is want, optionally followed by parameters (";charset=..."). */
static bool ctype_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	return ctype && strncasecmp(ctype, want, n) == 0 &&
	       (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

static void route(creq_t *r)
{
	bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;

	r->api = strncmp(r->url, "/api/", strlen("/api/")) == 0;

	if (!get && !post) {
		console_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "要求を受け付けられません",
			      "この方法の要求には対応していません。");
	} else if (r->too_big) {
		console_audit(r, "console", "console.refused", r->url, "request too large");
		console_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "要求が大きすぎます",
			      "送信された内容が大きすぎるため、受け付けませんでした。");
	} else if (post && !ctype_is(r->ctype, r->api ? "application/json"
						       : "application/x-www-form-urlencoded")) {
		console_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "要求を受け付けられません",
			      "フォームの形式が正しくありません。");
	} else if (get && strcmp(r->url, "/style.css") == 0) {
		r->content_type = "text/css; charset=utf-8";
		page_lit_(&r->page, style_css);  /* a constant of this file */
	} else if (strcmp(r->url, "/login") == 0) {
		if (get)
			view_login(r, NULL);
		else
			act_login(r);
	} else if (post && strcmp(r->url, "/api/login") == 0) {
		act_login(r);
		api_login_done(r);
	} else {
		route_session(r);
	}
}

/* ---- libmicrohttpd glue ---- */

typedef struct conn_state {
	buf_t body;
	bool too_big;
} conn_state_t;

static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, cap, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)cap);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)cap);
}

static void add_headers(struct MHD_Response *resp, const creq_t *r)
{
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; form-action 'self'; "
				"frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->location)
		MHD_add_response_header(resp, "Location", r->location);
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(r->set_cookie); i++) {
		char ck[sizeof(r->set_cookie[i]) + sizeof("; Secure")];

		if (!r->set_cookie[i][0])
			continue;
		snprintf(ck, sizeof(ck), "%s%s", r->set_cookie[i], r->c->tls ? "; Secure" : "");
		MHD_add_response_header(resp, "Set-Cookie", ck);
	}
	if (r->c->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result respond(struct MHD_Connection *conn, creq_t *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (page_finish(&r->page) < 0) {
		page_free(&r->page);
		page_init(&r->page, CONSOLE_PAGE_MAX);
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		if (page_finish(&r->page) < 0)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(r->page.b.len, r->page.b.data ? r->page.b.data : "",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	add_headers(resp, r);
	ret = MHD_queue_response(conn, (unsigned)(r->location ? MHD_HTTP_SEE_OTHER : r->status),
				 resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool declared_too_big(struct MHD_Connection *conn, size_t cap)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	long long n;

	return cl && cfg_parse_number(cl, &n) == 0 && (n < 0 || (unsigned long long)n > cap);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	console_t *c = cls;
	conn_state_t *st = *con_cls;
	creq_t r = { 0 };
	enum MHD_Result ret;

	(void)version;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		buf_init(&st->body, (size_t)lim(&c->cfg->lim, LIM_CONSOLE_REQUEST));
		*con_cls = st;
		/* A declared body over the cap is refused before it is read (MHD
		 * then discards the rest and closes the connection). */
		if (!declared_too_big(conn, st->body.max))
			return MHD_YES;
		st->too_big = true;
	}
	if (*upload_size) {
		if (!st->too_big && buf_append(&st->body, upload, *upload_size) < 0)
			st->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	r.c = c, r.method = method, r.url = url, r.status = MHD_HTTP_OK, r.conn = conn;
	r.body = st->body.data ? st->body.data : "", r.body_len = st->body.len;
	r.too_big = st->too_big;
	r.cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
	r.ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	r.csrf_header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	r.now = (int64_t)time(NULL);
	client_addr(conn, r.client, sizeof(r.client));
	page_init(&r.page, CONSOLE_PAGE_MAX);
	route(&r);
	ret = respond(conn, &r);
	page_free(&r.page);
	qstore_account_free(&r.acct);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	conn_state_t *st = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (st) {
		buf_free(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

/* ---- the program ---- */

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	long long port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || cfg_parse_number(colon + 1, &port) < 0 ||
	    port < 1 || port > 65535)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int serve(console_t *c, const struct sockaddr_in *sa)
{
	const limits_t *l = &c->cfg->lim;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, c->tls_cert.data },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, c->tls_key.data },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_ERROR_LOG | (c->tls ? MHD_USE_TLS : 0), 0, NULL, NULL, handle, c,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim(l, LIM_CONSOLE_CONNECTIONS),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)lim(l, LIM_CONSOLE_CONN_TIMEOUT),
		MHD_OPTION_NOTIFY_COMPLETED, completed, c,
		MHD_OPTION_ARRAY, c->tls ? tls : tls + 2, MHD_OPTION_END);
	struct sigaction act = { .sa_handler = on_signal };

	if (!d) {
		fprintf(stderr, "mugai console: cannot listen on %s: %s\n",
			cfg_str(c->cfg, CFG_CONSOLE_LISTEN), strerror(errno));
		return MUGAI_EXIT_IOERR;
	}
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "mugai console: listening on %s://%s/\n", c->tls ? "https" : "http",
		cfg_str(c->cfg, CFG_CONSOLE_LISTEN));
	while (!stop_flag)
		(void)MHD_run_wait(d, 1000);
	MHD_stop_daemon(d);
	return MUGAI_EXIT_OK;
}

static int store_exit_status(const qstore_t *s)
{
	qstore_err_t e = qstore_errcode(s);

	return e == QS_ERR_IO || e == QS_ERR_FULL || e == QS_ERR_DB ? MUGAI_EXIT_IOERR
								     : MUGAI_EXIT_SOFTWARE;
}

static int read_pem(const char *key, const char *path, buf_t *b)
{
	FILE *f = fopen(path, "re");
	char chunk[IO_CHUNK];
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "mugai console: %s %s: %s\n", key, path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(b, chunk, n);
	if (rc == 0 && ferror(f))
		rc = -1;
	if (rc == 0)
		rc = buf_putc(b, '\0');
	if (rc < 0)
		fprintf(stderr, "mugai console: %s %s: unreadable or over %d bytes\n", key, path,
			CONSOLE_TLS_FILE_MAX);
	fclose(f);
	return rc;
}

/* HTTPS when console_tls_cert and console_tls_key are both set. */
static int load_tls(console_t *c, const cfg_t *cfg)
{
	const char *cert = cfg_str(cfg, CFG_CONSOLE_TLS_CERT), *key = cfg_str(cfg, CFG_CONSOLE_TLS_KEY);

	buf_init(&c->tls_cert, CONSOLE_TLS_FILE_MAX);
	buf_init(&c->tls_key, CONSOLE_TLS_FILE_MAX);
	if (!cert[0] && !key[0])
		return 0;
	if (!cert[0] || !key[0]) {
		fputs("mugai console: console_tls_cert and console_tls_key go together\n", stderr);
		return -1;
	}
	if (read_pem("console_tls_cert", cert, &c->tls_cert) < 0 ||
	    read_pem("console_tls_key", key, &c->tls_key) < 0)
		return -1;
	c->tls = true;
	return 0;
}

/* The listener's address and TLS files: 0, or -1 after the message. */
static int check_listen(console_t *c, const cfg_t *cfg, struct sockaddr_in *sa)
{
	if (parse_listen(cfg_str(cfg, CFG_CONSOLE_LISTEN), sa) < 0) {
		fprintf(stderr, "mugai console: console_listen is IPV4:PORT, not '%s'\n",
			cfg_str(cfg, CFG_CONSOLE_LISTEN));
		return -1;
	}
	if (load_tls(c, cfg) < 0)
		return -1;
	if (!c->tls && (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "mugai console: console_listen %s is not a loopback address: "
			"without console_tls_cert and console_tls_key the console speaks plain "
			"HTTP, so it listens on 127.0.0.0/8 only\n", cfg_str(cfg, CFG_CONSOLE_LISTEN));
		return -1;
	}
	return 0;
}

static int audit_start(console_t *c, const cfg_t *cfg)
{
	buf_t det;
	json_t j;
	int rc;

	buf_init(&det, STORE_DET_MAX);
	json_init(&j, &det);
	json_obj_begin(&j);
	json_key(&j, "listen");
	json_str(&j, cfg_str(cfg, CFG_CONSOLE_LISTEN));
	json_key(&j, "tls");
	json_bool(&j, c->tls);
	json_obj_end(&j);
	rc = json_finish(&j) == 0 ? audit_append(c->s, "console", "console.start", "console",
						  det.data) : -1;
	buf_free(&det);
	return rc;
}

/* 0, or the exit status after the message. */
static int open_console(console_t *c, const cfg_t *cfg, struct sockaddr_in *sa)
{
	c->cfg = cfg;
	if (check_listen(c, cfg, sa) < 0)
		return MUGAI_EXIT_CONFIG;
	c->n_sess = (size_t)lim(&cfg->lim, LIM_CONSOLE_SESSIONS);
	c->sess = calloc(c->n_sess, sizeof(*c->sess));
	if (!c->sess || auth_init() < 0 || qstore_open(&c->s, cfg) < 0 ||
	    audit_note_config(c->s, cfg, "console") < 0 || audit_start(c, cfg) < 0) {
		fprintf(stderr, "mugai console: %s\n", c->s ? qstore_errmsg(c->s) : "out of memory");
		return c->s ? store_exit_status(c->s) : MUGAI_EXIT_SOFTWARE;
	}
	return 0;
}

int cmd_console(int argc, char **argv)
{
	const char *config = NULL;
	console_t c = { 0 };
	struct sockaddr_in sa;
	cfg_t cfg;
	int opt, rc;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fputs("usage: mugai console [-c CONFIG]\n", stderr);
			return MUGAI_EXIT_USAGE;
		}
		config = optarg;
	}
	if (optind != argc) {
		fputs("usage: mugai console [-c CONFIG]\n", stderr);
		return MUGAI_EXIT_USAGE;
	}
	rc = cli_load_config(&cfg, config);
	if (rc != 0)
		return rc;
	rc = open_console(&c, &cfg, &sa);
	if (rc == 0)
		rc = serve(&c, &sa);
	qstore_close(c.s);
	free(c.sess);
	if (c.tls_key.data)
		explicit_bzero(c.tls_key.data, c.tls_key.len);
	buf_free(&c.tls_cert);
	buf_free(&c.tls_key);
	cfg_free(&cfg);
	return rc;
}
