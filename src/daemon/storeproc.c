/*
 * storeproc.c — `mugaid-store daemon|master CONFIG`: mugaid's store
 * process, the only mugaid process that opens state_dir (DESIGN.md
 * "Processes by trust"). Descriptor 4 is a sealed memfd with the config
 * file's bytes (the file itself may be readable only by root).
 *
 *   daemon  the one store process of a running mugaid. Descriptor 3 is a
 *           control channel from the master, which hands it one end of a
 *           socketpair per session and per releaser run (one byte, 's' or
 *           'r', the peer's role, with the descriptor). It serves every
 *           peer in one poll loop, and serves the requests that arrive
 *           together (up to store_batch_max, waiting at most
 *           store_batch_wait_ms for peers that were busy in the last batch):
 *           lookups outside any transaction, answered as soon as they are in
 *           (they never wait for the batch), then
 *           the rest in one transaction: one blob segment flush and one WAL
 *           commit (qstore_batch_begin/end). Each of those peers gets its
 *           answer only after that commit; when the commit fails, every
 *           request of the batch is answered with the error (the session
 *           answers 451). It exits when the master has gone and every peer
 *           has hung up.
 *   master  the startup and reload check: descriptor 3 is one peer, served
 *           until it hangs up.
 *
 * Roles limit what a peer may ask, checked per peer:
 *   session  PUT, AUDIT (mail.verdict, mail.deferred), FIND, DELIVERED, SEEN,
 *            PPAP_NEXT, PPAP_MARK (daemon/ppap.c)
 *   release  RELEASE_NEXT, RELEASE_DONE, PPAP_STALE, PPAP_MARK, OUTBOX_NEXT,
 *            OUTBOX_DONE (the outbox the console fills)
 *   master   CONFIG (the startup check: state_dir and blobs writable, the
 *            store opens, config.load appended)
 * It is a separate executable so that the session's binary does not link
 * SQLite at all.
 *
 * SECURITY: runs as the daemon user; every field of a request is checked by
 * storewire_decode_req (lengths, ids, UTF-8, the strict JSON checker) and
 * then by the store's own checks; the original arrives as a memfd that must
 * be sealed against writes, shrinking and growth, of the announced length.
 * A peer is read without blocking, frame by frame into its own capped
 * buffer, and answered with a send timeout, so a stalled or hostile
 * session cannot hold the others up; only the master's channel hands out
 * peers and roles. It never parses the message or the report beyond these
 * checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
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

/* One channel: a session, the releaser, or (role master) the startup check. */
typedef struct peer {
	int fd;              /* -1: a free slot */
	role_t role;
	buf_t in;            /* the frame being read */
	size_t want;         /* its whole length once its header is in, else 0 */
	int fds[STORE_FRAME_FDS_MAX];
	int n_fds;
	bool ready;          /* a whole frame is in, waiting for the batch */
	buf_t out;           /* its answer, sent after the batch's commit */
	int out_fd;          /* a descriptor sent with the answer, or -1 */
	bool has_out, out_ok;
	unsigned long batch; /* the last batch that answered it */
} peer_t;

typedef struct sproc {
	cfg_t cfg;
	qstore_t *st;
	sw_caps_t caps;
	size_t frame_max;
	int ctl;             /* daemon: the master's control channel, -1 when gone */
	bool batching;       /* daemon: requests run in batches */
	peer_t *peers;       /* STORE_PEERS_MAX slots */
	size_t hi;           /* slots in use are below this (the loops stop there) */
	size_t live;         /* connected peers */
	peer_t *cur;         /* the peer whose request is being handled */
	char err[SW_ERRMSG_MAX];
	uint32_t cls;
	bool reopen;         /* the store failed: close it after this batch */
	unsigned long batch; /* batches run */
	unsigned long served, largest; /* requests run in batches, the largest batch */
	unsigned long lookups; /* lookups answered at once, outside the batches */
	size_t batch_max;
	long long wait_ms;
} sproc_t;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- peers ---- */

/* Descriptors of a message into fds (at most max; the rest are closed). */
static void take_fds(struct msghdr *m, int *fds, int *n, int max)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		size_t k = c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
			   ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n < max)
				fds[(*n)++] = fd;
			else
				close(fd); /* a put with more than one is refused anyway */
		}
	}
}

static void drop_fds(peer_t *pe)
{
	for (int i = 0; i < pe->n_fds; i++)
		close(pe->fds[i]);
	pe->n_fds = 0;
}

static void clear_out(peer_t *pe)
{
	if (pe->out_fd >= 0)
		close(pe->out_fd);
	pe->out_fd = -1;
	pe->has_out = pe->out_ok = false;
	buf_reset(&pe->out);
}

static void drop_peer(sproc_t *p, peer_t *pe)
{
	drop_fds(pe);
	clear_out(pe);
	close(pe->fd);
	pe->fd = -1;
	buf_free(&pe->in);
	buf_free(&pe->out);
	p->live--;
	while (p->hi > 0 && p->peers[p->hi - 1].fd < 0)
		p->hi--;
}

static int add_peer(sproc_t *p, int fd, role_t role)
{
	struct timeval tv = { STORE_SEND_MS / 1000, (STORE_SEND_MS % 1000) * 1000 };

	for (size_t i = 0; i < STORE_PEERS_MAX; i++) {
		peer_t *pe = &p->peers[i];

		if (pe->fd >= 0)
			continue;
		memset(pe, 0, sizeof(*pe));
		pe->fd = fd;
		pe->role = role;
		pe->out_fd = -1;
		buf_init(&pe->in, p->frame_max);
		buf_init(&pe->out, STORE_ANSWER_MAX);
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		p->live++;
		if (i >= p->hi)
			p->hi = i + 1;
		return 0;
	}
	return -1;
}

/* The master hands over a peer: one byte (its role) and its descriptor. */
static void ctl_read(sproc_t *p)
{
	union { struct cmsghdr c; char b[CMSG_SPACE(STORE_FRAME_FDS_MAX * sizeof(int))]; } u;
	char role = 0;
	struct iovec iov = { &role, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	int fds[STORE_FRAME_FDS_MAX], n = 0;
	ssize_t r = recvmsg(p->ctl, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) { /* the master has gone: serve the peers we have, then exit */
		close(p->ctl);
		p->ctl = -1;
		return;
	}
	take_fds(&m, fds, &n, STORE_FRAME_FDS_MAX);
	for (int i = 1; i < n; i++)
		close(fds[i]);
	if (n == 0)
		return;
	if ((role != 's' && role != 'r') ||
	    add_peer(p, fds[0], role == 's' ? ROLE_SESSION : ROLE_RELEASE) < 0) {
		log_err("store process: refused a channel (role %d, %zu peers)", role, p->live);
		close(fds[0]);
	}
}

/* Read what has arrived of a peer's frame, without blocking: 1 a whole
 * frame is in, 0 not yet, -1 the peer has gone, -2 a bad frame header. */
static int peer_read(sproc_t *p, peer_t *pe)
{
	char chunk[IO_CHUNK];

	for (;;) {
		size_t need = pe->want ? pe->want - pe->in.len : SW_HDR_LEN - pe->in.len;
		union { struct cmsghdr c; char b[CMSG_SPACE(STORE_FRAME_FDS_MAX * sizeof(int))]; } u;
		struct iovec iov = { chunk, need < sizeof(chunk) ? need : sizeof(chunk) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
				    .msg_controllen = sizeof(u.b) };
		ssize_t r;

		if (need == 0 && pe->want)
			return 1;
		if (need == 0) {
			pe->want = storewire_frame_len(pe->in.data, p->frame_max);
			if (pe->want < SW_HDR_LEN)
				return -2;
			continue;
		}
		r = recvmsg(pe->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return -1;
		take_fds(&m, pe->fds, &pe->n_fds, STORE_FRAME_FDS_MAX);
		if (buf_append(&pe->in, chunk, (size_t)r) < 0)
			return -2;
	}
}

/* ---- answers ---- */

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

/* The answer to the current peer, kept until the batch is durable (fd is
 * duplicated: the caller keeps its own). */
static int answer(sproc_t *p, const sw_ans_t *a, int fd)
{
	peer_t *pe = p->cur;

	clear_out(pe);
	if (storewire_encode_ans(&pe->out, a) < 0)
		return -1;
	if (fd >= 0 && (pe->out_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	pe->has_out = true;
	pe->out_ok = a->type == SW_OK;
	return 0;
}

static int answer_err(sproc_t *p)
{
	return answer(p, &(sw_ans_t){ .type = SW_ERR, .cls = p->cls, .msg = p->err }, -1);
}

/* The store's error as a class; the handle is dropped after this batch
 * (reopened by the next request). */
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
	if (cls != SW_E_PROTO)
		p->reopen = true;
	return -1;
}

static int store_open(sproc_t *p)
{
	if (p->st)
		return 0;
	if (qstore_open(&p->st, &p->cfg) == 0)
		return 0;
	store_fail(p);
	qstore_close(p->st);
	p->st = NULL;
	return -1;
}

/* ---- requests ---- */

/* The one memfd of a PUT: sealed, exactly len bytes, mapped. */
static int map_original(sproc_t *p, uint64_t len, const void **map)
{
	int want = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW, seals;
	struct stat sb;

	*map = "";
	if (p->cur->n_fds != 1)
		return fail(p, SW_E_PROTO, "a put carries exactly one descriptor (got %d)", p->cur->n_fds);
	seals = fcntl(p->cur->fds[0], F_GET_SEALS);
	if (seals < 0 || (seals & want) != want || fstat(p->cur->fds[0], &sb) < 0 ||
	    !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != len)
		return fail(p, SW_E_PROTO, "the original is not a sealed memfd of %llu bytes",
			    (unsigned long long)len);
	if (len > (uint64_t)lim(&p->cfg.lim, LIM_MESSAGE_SIZE))
		return fail(p, SW_E_PROTO, "the original exceeds message_size_max");
	if (len && (*map = mmap(NULL, len, PROT_READ, MAP_SHARED, p->cur->fds[0], 0)) == MAP_FAILED) {
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

static int do_release_next(sproc_t *p, const sw_req_t *q)
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
	r = qstore_release_next(p->st, q->after_at, q->id, &it, &orig);
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

/* The next pending outbox row after q->row: its message as a sealed memfd. */
static int do_outbox_next(sproc_t *p, const sw_req_t *q)
{
	qstore_outbox_t ob;
	buf_t msg;
	sw_ans_t a = { .type = SW_OK, .id = "" };
	int r, fd = -1, rc = -1;

	memset(&ob, 0, sizeof(ob));
	buf_init(&msg, (size_t)lim(&p->cfg.lim, LIM_RESULT_SIZE) + 1);
	if (store_open(p) < 0)
		goto out;
	r = qstore_outbox_next(p->st, q->row, &ob, &msg);
	if (r < 0) {
		store_fail(p);
		goto out;
	}
	if (r == 1) {
		if ((fd = release_memfd(p, &msg)) < 0)
			goto out;
		a = (sw_ans_t){ .type = SW_OK, .id = ob.id, .seq = ob.seq, .item = true,
				.env_from = "", .rcpt = ob.rcpt, .approved_by = "", .kind = ob.kind,
				.approved_at = "", .subject = "", .virus = "", .orig_len = msg.len };
	}
	rc = answer(p, &a, fd) < 0 ? -2 : 0;
out:
	if (fd >= 0)
		close(fd);
	qstore_outbox_free(&ob);
	buf_free(&msg);
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
		       type == SW_PPAP_MARK || type == SW_OUTBOX_NEXT || type == SW_OUTBOX_DONE;
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

	if (!allowed(p->cur->role, q->type))
		return fail(p, SW_E_PROTO, "request %u is not allowed for this peer", q->type);
	if (q->type != SW_PUT && p->cur->n_fds)
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
	case SW_RELEASE_NEXT: return do_release_next(p, q);
	case SW_OUTBOX_NEXT: return do_outbox_next(p, q);
	case SW_OUTBOX_DONE:
		rc = store_open(p) < 0 ? -1
		     : qstore_outbox_done(p->st, "mugaid", q->row, q->details) == 0 ? 0
		     : store_fail(p);
		break;
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

/* One whole frame of the current peer: decoded, handled, answered (the
 * answer waits in the peer). -1: it cannot be answered (drop the peer). */
static int serve_frame(sproc_t *p)
{
	peer_t *pe = p->cur;
	sw_req_t q;
	int rc;

	rc = storewire_decode_req(pe->in.data, pe->in.len, &p->caps, &q) < 0
	     ? fail(p, SW_E_PROTO, "malformed record") : handle(p, &q);
	storewire_req_free(&q);
	drop_fds(pe);
	buf_reset(&pe->in);
	pe->want = 0;
	pe->ready = false;
	if (rc == -1) {
		log_warn("store request refused: %s: %s", storewire_class_name(p->cls), p->err);
		rc = answer_err(p);
	}
	return rc < 0 ? -1 : 0;
}

/* The batch did not commit: every OK answer becomes the commit's error. */
static void batch_failed(sproc_t *p)
{
	store_fail(p);
	for (size_t i = 0; i < p->hi; i++) {
		peer_t *pe = &p->peers[i];

		p->cur = pe;
		if (pe->fd >= 0 && pe->has_out && pe->out_ok && answer_err(p) < 0)
			clear_out(pe);
	}
}

static void send_answers(sproc_t *p)
{
	for (size_t i = 0; i < p->hi; i++) {
		peer_t *pe = &p->peers[i];

		if (pe->fd < 0 || !pe->has_out)
			continue;
		if (io_send_fds(pe->fd, pe->out.data, pe->out.len, &pe->out_fd, pe->out_fd >= 0) < 0)
			drop_peer(p, pe); /* gone, or not reading its answers */
		else
			clear_out(pe);
	}
}

/* The type a whole frame announces (validated again by the decoder). */
static uint32_t frame_type(const peer_t *pe)
{
	uint32_t t;

	memcpy(&t, pe->in.data + sizeof(uint32_t), sizeof(t)); /* after the magic */
	return t;
}

/* Lookups change nothing: they need no flush and no commit. */
static bool read_only(uint32_t type)
{
	return type == SW_FIND || type == SW_SEEN || type == SW_PPAP_NEXT ||
	       type == SW_RELEASE_NEXT || type == SW_PPAP_STALE || type == SW_OUTBOX_NEXT;
}

/* The ready requests of one kind (reads, or the rest inside the batch's
 * transaction when open): served, their answers kept. Returns how many. */
static unsigned long serve_ready(sproc_t *p, bool reads, bool open)
{
	unsigned long n = 0;

	for (size_t i = 0; i < p->hi; i++) {
		peer_t *pe = &p->peers[i];

		if (pe->fd < 0 || !pe->ready || read_only(frame_type(pe)) != reads)
			continue;
		p->cur = pe;
		pe->batch = p->batch;
		n++;
		if (!reads && p->batching && !open) { /* the store cannot take a batch now */
			pe->ready = false;
			drop_fds(pe);
			buf_reset(&pe->in);
			pe->want = 0;
			if (answer_err(p) < 0)
				drop_peer(p, pe);
		} else if (serve_frame(p) < 0) {
			drop_peer(p, pe);
		}
	}
	return n;
}

static bool any_ready(const sproc_t *p)
{
	for (size_t i = 0; i < p->hi; i++)
		if (p->peers[i].fd >= 0 && p->peers[i].ready)
			return true;
	return false;
}

/* Every ready request. Daemon: lookups first, outside any transaction (they
 * see only committed state and are answered at once), then the rest in one
 * transaction, answered after its commit. */
static void run_batch(sproc_t *p)
{
	bool open = false;
	unsigned long n = 0;

	p->batch++;
	p->reopen = false;
	if (p->batching) {
		n += serve_ready(p, true, false);
		send_answers(p);
	}
	if (any_ready(p)) {
		if (p->batching && store_open(p) == 0)
			open = qstore_batch_begin(p->st) == 0 || store_fail(p) == 0;
		n += serve_ready(p, false, open);
		if (!p->batching)
			n += serve_ready(p, true, false);
		if (open && qstore_batch_end(p->st, true) < 0)
			batch_failed(p);
		send_answers(p);
	}
	p->served += n;
	if (n > p->largest)
		p->largest = n;
	if (p->reopen) {
		qstore_close(p->st);
		p->st = NULL;
	}
}

/* Daemon: the lookups that are in, served at once (they need no commit, so
 * waiting for the batch would only add store_batch_wait_ms to each: a
 * session makes two per message, FIND and SEEN). How many. */
static size_t serve_lookups(sproc_t *p)
{
	unsigned long n = p->batching ? serve_ready(p, true, false) : 0;

	if (n) {
		send_answers(p);
		p->lookups += n;
	}
	return n;
}

/* Worth waiting for: a peer in the middle of a frame, or a session that
 * was answered in the last batch (it is in a request loop). */
static bool more_expected(const sproc_t *p)
{
	for (size_t i = 0; i < p->hi; i++) {
		const peer_t *pe = &p->peers[i];

		if (pe->fd >= 0 && !pe->ready &&
		    (pe->in.len > 0 || (pe->batch == p->batch && pe->role == ROLE_SESSION)))
			return true;
	}
	return false;
}

/* Poll the control channel and every peer that has no whole frame yet.
 * A new whole frame counts in *ready (the first one stamps *first). */
static int poll_once(sproc_t *p, struct pollfd *pf, peer_t **map, int timeout,
		     size_t *ready, long long *first)
{
	nfds_t n = 0;
	int r;

	if (p->ctl >= 0) {
		pf[n] = (struct pollfd){ p->ctl, POLLIN, 0 };
		map[n++] = NULL;
	}
	for (size_t i = 0; i < p->hi; i++)
		if (p->peers[i].fd >= 0 && !p->peers[i].ready) {
			pf[n] = (struct pollfd){ p->peers[i].fd, POLLIN, 0 };
			map[n++] = &p->peers[i];
		}
	r = poll(pf, n, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	for (nfds_t i = 0; i < n; i++) {
		peer_t *pe = map[i];
		int x;

		if (!pf[i].revents)
			continue;
		if (!pe) {
			ctl_read(p);
			continue;
		}
		x = peer_read(p, pe);
		if (x == 1) {
			pe->ready = true;
			if ((*ready)++ == 0)
				*first = now_ms();
		} else if (x == -2) {
			p->cur = pe;
			fail(p, SW_E_PROTO, "bad frame header or frame too large");
			if (answer_err(p) == 0)
				send_answers(p);
			if (pe->fd >= 0)
				drop_peer(p, pe);
		} else if (x < 0) {
			drop_peer(p, pe);
		}
	}
	return 0;
}

/* Until the master has gone and every peer hung up. */
static int serve(sproc_t *p)
{
	struct pollfd *pf = calloc(STORE_PEERS_MAX + 1, sizeof(*pf));
	peer_t **map = calloc(STORE_PEERS_MAX + 1, sizeof(*map));
	long long first = 0;
	size_t ready = 0;
	int rc = -1;

	if (!pf || !map)
		goto out;
	while (p->ctl >= 0 || p->live > 0) {
		int timeout = -1;

		if (ready) {
			long long left = first + p->wait_ms - now_ms();

			if (ready >= p->batch_max || left <= 0 || !more_expected(p)) {
				run_batch(p);
				ready = 0;
				continue;
			}
			timeout = (int)left;
		}
		if (poll_once(p, pf, map, timeout, &ready, &first) < 0)
			goto out;
		if (ready)
			ready -= serve_lookups(p);
	}
	rc = 0;
out:
	free(pf);
	free(map);
	return rc;
}

static int setup(sproc_t *p, const char *role, const char *path)
{
	char err[ERR_TEXT_MAX];
	bool daemon = strcmp(role, "daemon") == 0;

	if (!daemon && strcmp(role, "master") != 0)
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
	p->batch_max = (size_t)lim(&p->cfg.lim, LIM_STORE_BATCH);
	p->wait_ms = lim(&p->cfg.lim, LIM_STORE_BATCH_WAIT);
	p->peers = calloc(STORE_PEERS_MAX, sizeof(*p->peers));
	if (!p->peers)
		return -1;
	for (size_t i = 0; i < STORE_PEERS_MAX; i++)
		p->peers[i].fd = -1;
	p->batching = daemon;
	p->ctl = daemon ? SOCK_FD : -1;
	return daemon ? 0 : add_peer(p, SOCK_FD, ROLE_MASTER);
}

int main(int argc, char **argv)
{
	static sproc_t p;
	int rc;

	log_init("mugaid", false, LOG_LV_INFO);
	if (argc != 3 || fcntl(SOCK_FD, F_GETFD) < 0 ||
	    (strcmp(argv[2], "-") != 0 && fcntl(CONFIG_FD, F_GETFD) < 0)) {
		fputs("usage: mugaid-store daemon|master CONFIG|- (started by mugaid, "
		      "descriptor 3 its socket)\n", stderr);
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN); /* it ends when the master and its peers have gone */
	prctl(PR_SET_NAME, "mugaid-store");
	if (setup(&p, argv[1], argv[2]) < 0)
		return 78;
	rc = serve(&p);
	if (p.batching)
		log_info("store process: %lu requests in %lu batches (largest %lu), %lu lookups "
			 "answered at once", p.served, p.batch, p.largest, p.lookups);
	for (size_t i = 0; i < p.hi; i++)
		if (p.peers[i].fd >= 0)
			drop_peer(&p, &p.peers[i]);
	free(p.peers);
	qstore_close(p.st);
	cfg_free(&p.cfg);
	return rc < 0 ? 1 : 0;
}
