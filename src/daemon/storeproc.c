/*
 * storeproc.c — `mugaid-store ROLE CONFIG`: mugaid's store process, the only
 * mugaid process that opens state_dir (DESIGN.md "Processes by trust"). The
 * master starts one per session (and one for the releaser, one for each
 * startup or reload check) with descriptor 3 its end of an AF_UNIX
 * socketpair and descriptor 4 a sealed memfd with the config file's bytes
 * (the file itself may be readable only by root); it answers the records of store/storewire.h one at a time
 * until the peer hangs up. Roles limit what a peer may ask:
 *   session  PUT, AUDIT (mail.verdict, mail.deferred), FIND, DELIVERED, SEEN,
 *            PPAP_NEXT, PPAP_MARK (daemon/ppap.c)
 *   release  RELEASE_NEXT, RELEASE_DONE, PPAP_STALE, PPAP_MARK
 *   master   CONFIG (the startup check: state_dir and blobs writable, the
 *            store opens, config.load appended)
 * It is a separate executable so that the session's binary does not link
 * SQLite at all.
 *
 * SECURITY: runs as the daemon user; every field of a request is checked by
 * storewire_decode_req (lengths, ids, UTF-8, the strict JSON checker) and
 * then by the store's own checks; the original arrives as a memfd that must
 * be sealed against writes, shrinking and growth, of the announced length.
 * It never parses the message or the report beyond these checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/io.h"
#include "common/log.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/qstore.h"
#include "store/storewire.h"
#include "mail/report.h"

#define SOCK_FD 3
#define CONFIG_FD 4 /* with a config file: its bytes, as mugaid read them */

typedef enum { ROLE_SESSION, ROLE_RELEASE, ROLE_MASTER } role_t;

typedef struct sproc {
	cfg_t cfg;
	role_t role;
	qstore_t *st;
	sw_caps_t caps;
	size_t frame_max;
	buf_t in, out;
	int fds[STORE_FRAME_FDS_MAX];
	int n_fds;
	char err[SW_ERRMSG_MAX];
	uint32_t cls;
} sproc_t;

/* ---- I/O ---- */

static void take_fds(sproc_t *p, struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		size_t n = c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
			   ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (p->n_fds < STORE_FRAME_FDS_MAX)
				p->fds[p->n_fds++] = fd;
			else
				close(fd); /* n_fds stays > 1: any request refuses it */
		}
	}
}

/* Read exactly n more bytes into p->in. 0, or -1 on EOF or error. */
static int read_n(sproc_t *p, size_t n)
{
	char chunk[IO_CHUNK];

	while (n) {
		union { struct cmsghdr c; char b[CMSG_SPACE(STORE_FRAME_FDS_MAX * sizeof(int))]; } u;
		struct iovec iov = { chunk, n < sizeof(chunk) ? n : sizeof(chunk) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
				    .msg_controllen = sizeof(u.b) };
		ssize_t r = recvmsg(SOCK_FD, &m, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		take_fds(p, &m);
		if (buf_append(&p->in, chunk, (size_t)r) < 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

static void drop_fds(sproc_t *p)
{
	for (int i = 0; i < p->n_fds; i++)
		close(p->fds[i]);
	p->n_fds = 0;
}

static int send_frame(const buf_t *b, int fd)
{
	return io_send_fds(SOCK_FD, b->data, b->len, &fd, fd >= 0);
}

static int answer(sproc_t *p, const sw_ans_t *a, int fd)
{
	buf_reset(&p->out);
	if (storewire_encode_ans(&p->out, a) < 0)
		return -1;
	return send_frame(&p->out, fd);
}

static int fail(sproc_t *p, uint32_t cls, const char *fmt, ...) MUGAI_PRINTF(3, 4);
static int fail(sproc_t *p, uint32_t cls, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	p->cls = cls;
	return -1;
}

/* The store's error as a class, and the handle dropped (reopened later). */
static int store_fail(sproc_t *p)
{
	qstore_err_t e = p->st ? qstore_errcode(p->st) : QS_ERR_IO;
	const char *msg = p->st ? qstore_errmsg(p->st) : "cannot open";
	uint32_t cls = e == QS_ERR_FULL ? SW_E_FULL
		       : e == QS_ERR_IO || e == QS_ERR_CORRUPT ? SW_E_IO
		       : e == QS_ERR_DB ? (strstr(msg, "locked") || strstr(msg, "busy") ? SW_E_BUSY
					   : SW_E_IO)
		       : SW_E_PROTO;

	fail(p, cls, "%s", e == QS_ERR_FULL ? "disk full" : msg);
	log_err("quarantine store: %s", msg);
	if (cls != SW_E_PROTO) {
		qstore_close(p->st);
		p->st = NULL;
	}
	return -1;
}

static int store_open(sproc_t *p)
{
	if (p->st)
		return 0;
	if (qstore_open(&p->st, &p->cfg) == 0)
		return 0;
	return store_fail(p);
}

/* ---- requests ---- */

/* The one memfd of a PUT: sealed, exactly len bytes, mapped. */
static int map_original(sproc_t *p, uint64_t len, const void **map)
{
	int want = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW, seals;
	struct stat sb;

	*map = "";
	if (p->n_fds != 1)
		return fail(p, SW_E_PROTO, "a put carries exactly one descriptor (got %d)", p->n_fds);
	seals = fcntl(p->fds[0], F_GET_SEALS);
	if (seals < 0 || (seals & want) != want || fstat(p->fds[0], &sb) < 0 ||
	    !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != len)
		return fail(p, SW_E_PROTO, "the original is not a sealed memfd of %llu bytes",
			    (unsigned long long)len);
	if (len > (uint64_t)lim(&p->cfg.lim, LIM_MESSAGE_SIZE))
		return fail(p, SW_E_PROTO, "the original exceeds message_size_max");
	if (len && (*map = mmap(NULL, len, PROT_READ, MAP_SHARED, p->fds[0], 0)) == MAP_FAILED) {
		*map = NULL;
		return fail(p, SW_E_IO, "mmap: %s", strerror(errno));
	}
	return 0;
}

static int do_put(sproc_t *p, const sw_req_t *q)
{
	qstore_meta_t m = { .received = q->received, .flow = "inbound", .env_from = q->env_from,
			    .rcpt = q->rcpt, .n_rcpt = q->n_rcpt,
			    .hdr_from = *q->hdr_from ? q->hdr_from : NULL,
			    .subject = *q->subject ? q->subject : NULL, .verdict = q->verdict,
			    .actor = "mugaid", .verdict_details = q->details,
			    .queue_id = q->queue_id, .pending = true };
	const void *map = NULL;
	int rc = map_original(p, q->orig_len, &map);

	snprintf(m.id, sizeof(m.id), "%s", q->id);
	if (rc == 0 && store_open(p) == 0)
		rc = qstore_put(p->st, &m, map, (size_t)q->orig_len, q->report) == 0 ? 0
		     : store_fail(p);
	else
		rc = -1;
	if (map && q->orig_len)
		munmap((void *)map, q->orig_len);
	return rc;
}

static int do_audit(sproc_t *p, const sw_req_t *q)
{
	if (strcmp(q->action, "mail.verdict") != 0 && strcmp(q->action, "mail.deferred") != 0)
		return fail(p, SW_E_PROTO, "action %s is not a session's to record", q->action);
	if (!mugai_id_valid(q->object))
		return fail(p, SW_E_PROTO, "bad object id");
	if (store_open(p) < 0)
		return -1;
	return audit_append(p->st, "mugaid", q->action, q->object, q->details) == 0 ? 0
	       : store_fail(p);
}

static int do_find(sproc_t *p, const sw_req_t *q, char id[MUGAI_ID_LEN + 1])
{
	if (store_open(p) < 0)
		return -1;
	return qstore_find_undelivered(p->st, q->queue_id, q->hash, id) == 0 ? 0 : store_fail(p);
}

/* A sealed memfd holding the original of a queued release. */
static int release_memfd(sproc_t *p, const buf_t *orig)
{
	int fd = memfd_create("mugaid-release", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;

	while (fd >= 0 && off < orig->len) {
		ssize_t w = write(fd, orig->data + off, orig->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (fd >= 0 && (off != orig->len || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK |
						   F_SEAL_GROW | F_SEAL_SEAL) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fail(p, SW_E_IO, "memfd: %s", strerror(errno));
	return fd;
}

static int do_release_next(sproc_t *p)
{
	char virus[CLAMD_SIG_MAX];
	qstore_item_t it;
	buf_t orig;
	sw_ans_t a = { .type = SW_OK, .id = "" };
	int r, fd = -1, rc = -1;

	memset(&it, 0, sizeof(it));
	buf_init(&orig, (size_t)lim(&p->cfg.lim, LIM_MESSAGE_SIZE) + 1);
	if (store_open(p) < 0)
		goto out;
	r = qstore_release_next(p->st, &it, &orig);
	if (r < 0) {
		store_fail(p);
		goto out;
	}
	if (r == 1) {
		if ((fd = release_memfd(p, &orig)) < 0)
			goto out;
		if (!report_json_virus(it.report, virus, sizeof(virus)))
			virus[0] = '\0';
		a = (sw_ans_t){ .type = SW_OK, .id = it.id, .item = true, .virus = virus,
				.env_from = it.env_from ? it.env_from : "",
				.rcpt = it.rcpt ? it.rcpt : "",
				.approved_by = it.approved_by ? it.approved_by : "",
				.kind = it.release_kind ? it.release_kind : "",
				.approved_at = it.approved_at ? it.approved_at : "",
				.subject = it.subject ? it.subject : "", .orig_len = orig.len };
	}
	rc = answer(p, &a, fd) < 0 ? -2 : 0;
out:
	if (fd >= 0)
		close(fd);
	qstore_item_free(&it);
	buf_free(&orig);
	return rc;
}

/* ---- PPAP ---- */

/* A held PPAP original for a session's pairing, with its bytes. */
static int do_ppap_next(sproc_t *p, const sw_req_t *q)
{
	qstore_item_t it;
	buf_t orig;
	sw_ans_t a = { .type = SW_OK, .id = "" };
	int r, fd = -1, rc = -1;

	memset(&it, 0, sizeof(it));
	buf_init(&orig, (size_t)lim(&p->cfg.lim, LIM_MESSAGE_SIZE) + 1);
	if (store_open(p) < 0)
		goto out;
	r = qstore_ppap_next(p->st, q->received, q->skip, q->env_from, q->hdr_from, q->rcpt,
			     q->n_rcpt, &it, &orig);
	if (r < 0) {
		store_fail(p);
		goto out;
	}
	if (r == 1) {
		if ((fd = release_memfd(p, &orig)) < 0)
			goto out;
		a = (sw_ans_t){ .type = SW_OK, .id = it.id, .item = true,
				.env_from = it.env_from ? it.env_from : "",
				.rcpt = it.rcpt ? it.rcpt : "", .approved_by = "",
				.orig_len = orig.len };
	}
	rc = answer(p, &a, fd) < 0 ? -2 : 0;
out:
	if (fd >= 0)
		close(fd);
	qstore_item_free(&it);
	buf_free(&orig);
	return rc;
}

/* A PPAP original whose window passed, for the releaser's notice (an
 * item comes with a descriptor: an empty sealed memfd, the original is
 * not needed). */
static int do_ppap_stale(sproc_t *p, const sw_req_t *q)
{
	qstore_item_t it;
	sw_ans_t a = { .type = SW_OK, .id = "" };
	buf_t none = { 0 };
	int r, fd = -1, rc = -1;

	memset(&it, 0, sizeof(it));
	if (store_open(p) < 0)
		goto out;
	r = qstore_ppap_stale(p->st, q->received, &it);
	if (r < 0) {
		store_fail(p);
		goto out;
	}
	if (r == 1) {
		if ((fd = release_memfd(p, &none)) < 0)
			goto out;
		a = (sw_ans_t){ .type = SW_OK, .id = it.id, .item = true,
				.env_from = it.env_from ? it.env_from : "",
				.rcpt = it.rcpt ? it.rcpt : "", .approved_by = "", .orig_len = 0 };
	}
	rc = answer(p, &a, fd) < 0 ? -2 : 0;
out:
	if (fd >= 0)
		close(fd);
	qstore_item_free(&it);
	return rc;
}

/* ---- startup check (role master) ---- */

static const char *whoami(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : "?";
}


static int fail_path(sproc_t *p, const char *path, const char *why)
{
	return fail(p, SW_E_IO, "state_dir %s: cannot write as user %s (%s); fix: make it writable "
		    "by that user (chown -R %s: %s, and every parent directory searchable), or "
		    "set state_dir to a directory that user can reach", path, whoami(), why,
		    whoami(), path);
}

static int do_config(sproc_t *p, const sw_req_t *q)
{
	const char *dir = cfg_str(&p->cfg, CFG_STATE_DIR);
	char blobs[PATH_BUF_MAX];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail_path(p, dir, strerror(errno));
	if (io_probe_dir(dir) < 0)
		return fail_path(p, dir, strerror(errno));
	if (qstore_open(&p->st, &p->cfg) < 0 ||
	    audit_config_load(p->st, &p->cfg, "mugaid", q->hash) < 0) {
		fail_path(p, dir, p->st ? qstore_errmsg(p->st) : "out of memory");
		qstore_close(p->st);
		p->st = NULL;
		return -1;
	}
	snprintf(blobs, sizeof(blobs), "%s/blobs", dir);
	return io_probe_dir(blobs) < 0 ? fail_path(p, blobs, strerror(errno)) : 0;
}

/* ---- dispatch ---- */

static bool allowed(role_t role, uint32_t type)
{
	switch (role) {
	case ROLE_SESSION:
		return type == SW_PUT || type == SW_AUDIT || type == SW_FIND || type == SW_DELIVERED ||
		       type == SW_SEEN || type == SW_PPAP_NEXT || type == SW_PPAP_MARK;
	case ROLE_RELEASE:
		return type == SW_RELEASE_NEXT || type == SW_RELEASE_DONE || type == SW_PPAP_STALE ||
		       type == SW_PPAP_MARK;
	default: return type == SW_CONFIG;
	}
}

/* One decoded request: 0 answered OK, -1 answer ERR, -2 cannot answer. */
static int handle(sproc_t *p, const sw_req_t *q)
{
	char id[MUGAI_ID_LEN + 1] = "";
	int64_t seq = 0;
	char hash[65];
	int rc;

	if (!allowed(p->role, q->type))
		return fail(p, SW_E_PROTO, "request %u is not allowed for this peer", q->type);
	if (q->type != SW_PUT && p->n_fds)
		return fail(p, SW_E_PROTO, "unexpected descriptor");
	switch (q->type) {
	case SW_PUT: rc = do_put(p, q); snprintf(id, sizeof(id), "%s", q->id); break;
	case SW_AUDIT: rc = do_audit(p, q); break;
	case SW_FIND: rc = do_find(p, q, id); break;
	case SW_SEEN:
		rc = store_open(p) < 0 ? -1
		     : qstore_seen_since(p->st, q->env_from, q->received, q->id, id) == 0 ? 0
		     : store_fail(p);
		break;
	case SW_DELIVERED:
		rc = store_open(p) < 0 ? -1 : qstore_delivered(p->st, q->id) == 0 ? 0 : store_fail(p);
		break;
	case SW_RELEASE_NEXT: return do_release_next(p);
	case SW_PPAP_NEXT: return do_ppap_next(p, q);
	case SW_PPAP_STALE: return do_ppap_stale(p, q);
	case SW_PPAP_MARK:
		rc = store_open(p) < 0 ? -1
		     : qstore_ppap_mark(p->st, "mugaid", q->id, q->action, q->details) == 0 ? 0
		     : store_fail(p);
		break;
	case SW_RELEASE_DONE:
		rc = store_open(p) < 0 ? -1
		     : qstore_release_done(p->st, "mugaid", q->id, q->details) == 0 ? 0
		     : store_fail(p);
		break;
	default: rc = do_config(p, q); break;
	}
	if (rc < 0)
		return -1;
	if (p->st && audit_head(p->st, &seq, hash) < 0)
		seq = 0;
	return answer(p, &(sw_ans_t){ .type = SW_OK, .id = id, .seq = seq }, -1) < 0 ? -2 : 0;
}

/* One frame: 1 served, 0 peer gone, -1 unrecoverable. */
static int serve_one(sproc_t *p)
{
	sw_req_t q;
	size_t len;
	int rc;

	buf_reset(&p->in);
	drop_fds(p);
	if (read_n(p, SW_HDR_LEN) < 0)
		return 0;
	len = storewire_frame_len(p->in.data, p->frame_max);
	if (len == 0) {
		fail(p, SW_E_PROTO, "bad frame header or frame too large");
		(void)!answer(p, &(sw_ans_t){ .type = SW_ERR, .cls = p->cls, .msg = p->err }, -1);
		return -1;
	}
	if (read_n(p, len - SW_HDR_LEN) < 0)
		return 0;
	rc = storewire_decode_req(p->in.data, p->in.len, &p->caps, &q) < 0
	     ? fail(p, SW_E_PROTO, "malformed record") : handle(p, &q);
	storewire_req_free(&q);
	drop_fds(p);
	if (rc == -1) {
		log_warn("store request refused: %s: %s", storewire_class_name(p->cls), p->err);
		rc = answer(p, &(sw_ans_t){ .type = SW_ERR, .cls = p->cls, .msg = p->err }, -1);
	}
	return rc < 0 ? -1 : 1;
}

static int setup(sproc_t *p, const char *role, const char *path)
{
	char err[ERR_TEXT_MAX];

	p->role = strcmp(role, "session") == 0 ? ROLE_SESSION
		  : strcmp(role, "release") == 0 ? ROLE_RELEASE : ROLE_MASTER;
	if (strcmp(role, "session") && strcmp(role, "release") && strcmp(role, "master"))
		return -1;
	if (cfg_init(&p->cfg) < 0)
		return -1;
	/* the bytes mugaid read (descriptor 4), under the file's own name */
	if (strcmp(path, "-") != 0 && cfg_load(&p->cfg, "/proc/self/fd/4", err, sizeof(err)) < 0) {
		log_err("config %s: %s", path, err);
		return -1;
	}
	if (strcmp(path, "-") != 0) {
		free(p->cfg.path);
		p->cfg.path = strdup(path);
		if (!p->cfg.path)
			return -1;
	}
	log_init("mugaid", cfg_is(&p->cfg, CFG_LOG_TARGET, "syslog"), LOG_LV_INFO);
	p->caps = (sw_caps_t){ (size_t)lim(&p->cfg.lim, LIM_SMTP_RECIPIENTS),
			       (size_t)lim(&p->cfg.lim, LIM_REPORT_SIZE),
			       (size_t)lim(&p->cfg.lim, LIM_AUDIT_DETAILS) };
	p->frame_max = storewire_frame_max(&p->caps);
	buf_init(&p->in, p->frame_max);
	buf_init(&p->out, STORE_ANSWER_MAX);
	return 0;
}

int main(int argc, char **argv)
{
	static sproc_t p;
	int rc;

	log_init("mugaid", false, LOG_LV_INFO);
	if (argc != 3 || fcntl(SOCK_FD, F_GETFD) < 0 ||
	    (strcmp(argv[2], "-") != 0 && fcntl(CONFIG_FD, F_GETFD) < 0)) {
		fputs("usage: mugaid-store session|release|master CONFIG|- (started by mugaid, "
		      "descriptor 3 its socket)\n", stderr);
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "mugaid-store");
	if (setup(&p, argv[1], argv[2]) < 0)
		return 78;
	while ((rc = serve_one(&p)) > 0)
		;
	drop_fds(&p);
	qstore_close(p.st);
	buf_free(&p.in);
	buf_free(&p.out);
	cfg_free(&p.cfg);
	return rc < 0 ? 1 : 0;
}
