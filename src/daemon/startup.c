/*
 * startup.c — what mugaid proves before it says "ready" (issue 14): as its
 * run user a store process (mugaid-store, storeproc.c) opens and writes the
 * quarantine store (the config.load audit record is the write), writes the maildir or resolves the next hop's
 * address, and writes the metrics file. A check that fails names the path
 * and the fix, and mugaid exits 78 instead of answering 451 for ever.
 * Also: the config digest (sha256 of the effective configuration) that
 * config.load and every mail.verdict record carry.
 *
 * SECURITY: master process, after privileges are dropped and before any
 * client is accepted; no hostile input. Probe files are created O_EXCL with
 * mode 0600 and removed at once.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "daemon/metrics.h"
#include "daemon/storeclient.h"
#include "store/blob.h"

/* The name of the user we run as, for messages. */
static const char *whoami(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : "?";
}


static int fail_path(const char *what, const char *path, const char *why, char *err,
		     size_t errlen)
{
	snprintf(err, errlen, "%s %s: cannot write as user %s (%s); fix: make it writable by "
		 "that user (chown -R %s: %s, and every parent directory searchable), or "
		 "set %s to a directory that user can reach", what, path, whoami(), why,
		 whoami(), path, what);
	return -1;
}

/* A store process (role master) checks state_dir and its blobs directory,
 * opens the store and appends config.load with digest: 0, or -1 with err. */
static int store_config(const daemon_ctx_t *d, char *err, size_t errlen)
{
	sw_req_t q = { .type = SW_CONFIG, .hash = d->cfg_digest };
	storecl_t st;
	sw_ans_t a;
	int rc, rfd, ws;

	if (storecl_spawn(d, "master", &st) < 0) {
		snprintf(err, errlen, "cannot start the store process %s: %s", d->store_bin,
			 strerror(errno));
		return -1;
	}
	rc = storecl_call(&st, &q, -1, &a, &rfd);
	if (rc < 0)
		snprintf(err, errlen, "%s", st.err);
	if (rfd >= 0)
		close(rfd);
	storecl_close(&st);
	while (waitpid(st.pid, &ws, 0) < 0 && errno == EINTR)
		;
	return rc;
}

static int check_store(const daemon_ctx_t *d, char *err, size_t errlen)
{
	if (d->store_exe < 0) { /* opened before root was given up (main.c) */
		snprintf(err, errlen, "store process %s: cannot open it; fix: install mugaid-store "
			 "next to mugaid (make install does)", d->store_bin);
		return -1;
	}
	return store_config(d, err, errlen);
}

/* The maildir root is written, or the next hop's address resolves. */
static int check_hop(const daemon_ctx_t *d, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	int r;

	if (d->hop.kind == HOP_MAILDIR) {
		if (mkdir(d->hop.dir, 0700) < 0 && errno != EEXIST)
			return fail_path("next_hop maildir", d->hop.dir, strerror(errno), err, errlen);
		if (io_probe_dir(d->hop.dir) < 0)
			return fail_path("next_hop maildir", d->hop.dir, strerror(errno), err, errlen);
		return 0;
	}
	r = getaddrinfo(d->hop.host, d->hop.port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "next_hop %s: cannot resolve '%s' (%s); fix: use an IP "
			 "address or a name this host resolves", cfg_str(&d->cfg, CFG_NEXT_HOP),
			 d->hop.host, gai_strerror(r));
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

static int check_metrics(const daemon_ctx_t *d, char *err, size_t errlen)
{
	const char *path = cfg_str(&d->cfg, CFG_METRICS_FILE);

	if (*path && metrics_write(path) < 0)
		return fail_path("metrics_file", path, strerror(errno), err, errlen);
	return 0;
}

int startup_check(const daemon_ctx_t *d, char *err, size_t errlen)
{
	if (check_store(d, err, errlen) < 0 || check_hop(d, err, errlen) < 0 ||
	    check_metrics(d, err, errlen) < 0)
		return -1;
	return 0;
}

int startup_digest(daemon_ctx_t *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = -1;

	if (!f)
		return -1;
	cfg_dump(&d->cfg, f, false);
	if (d->cfg.notice_text)
		fprintf(f, "notice_template_text = %s\n", d->cfg.notice_text);
	if (fclose(f) == 0)
		rc = blob_sha256(text, len, d->cfg_digest);
	free(text);
	return rc;
}

int startup_note_reload(const daemon_ctx_t *d)
{
	char err[ERR_PATH_TEXT_MAX];
	int rc = store_config(d, err, sizeof(err));

	if (rc < 0)
		log_err("SIGHUP: config.load audit record: %s", err);
	return rc;
}
