/*
 * cmd_quarantine.c — `mugai quarantine`: list, show, get, request, approve,
 * purge and put (manual import) on the quarantine store (store/qstore.h).
 *
 *   mugai quarantine [-c CONFIG] list [--since T] [--until T] [--verdict V]
 *                    [--sender A] [--rcpt A] [--status S] [--limit N] [--json] [--undelivered]
 *   mugai quarantine show ID [--json]
 *   mugai quarantine get ID -o FILE
 *   mugai quarantine request ID [--by NAME] --reason TEXT
 *   mugai quarantine approve ID [--by NAME] (-o FILE | --queue) [--admin]
 *   mugai quarantine purge [--older-than DAYS]
 *   mugai quarantine put FILE --verdict V [--flow F] [--sender A] [--rcpt A]...
 *                    [--from TEXT] [--subject TEXT] [--report JSONFILE]
 * The actor of every audit record is the OS user ("os:LOGIN", or
 * "os:root(sudo:NAME)" through sudo); --by NAME is a display name added to
 * the records' details as "by". A request and its approval by the same OS
 * identity is a self-approval. A request or approval refused for its state
 * (not found, not requested, already requested) is audited as cli.refused.
 * Exit: 0 ok, 64 usage, 65 not found / wrong state / refused / corrupt,
 * 70 internal or database, 74 I/O, 78 config.
 *
 * SECURITY: runs with the invoking user's rights on state_dir (0700).
 * `show` prints the report and decoded headers with control characters
 * escaped; the original bytes are only ever written to a new file (O_EXCL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/json.h"
#include "common/defs.h"

static int q_usage(void)
{
	fputs("usage: mugai quarantine [-c CONFIG] list [--since T] [--until T] [--verdict V]\n"
	      "                  [--sender A] [--rcpt A] [--status S] [--limit N] [--json]\n"
	      "                  [--undelivered]\n"
	      "       mugai quarantine show ID [--json]\n"
	      "       mugai quarantine get ID -o FILE\n"
	      "       mugai quarantine request ID [--by NAME] --reason TEXT\n"
	      "       mugai quarantine approve ID [--by NAME] (-o FILE | --queue) [--admin]\n"
	      "       mugai quarantine ppap ID [--by NAME] -o FILE   (the password on stdin)\n"
	      "       mugai quarantine purge [--older-than DAYS]\n"
	      "       mugai quarantine put FILE --verdict V [--flow F] [--sender A] [--rcpt A]...\n"
	      "                  [--from TEXT] [--subject TEXT] [--report JSONFILE]\n", stderr);
	return MUGAI_EXIT_USAGE;
}

static int write_new_file(const char *path, const buf_t *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	const char *p = b->data;
	size_t n = b->len;
	int rc = -1;

	if (fd < 0)
		goto out;
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "mugai: %s: %s\n", path, strerror(errno));
	return rc;
}

static int read_file(const char *path, size_t max, buf_t *b)
{
	FILE *f = fopen(path, "rbe");
	char chunk[IO_CHUNK];
	size_t n;
	int rc = -1;

	buf_init(b, max);
	if (!f)
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0)
			goto out;
	rc = ferror(f) ? -1 : 0;
out:
	if (f)
		fclose(f);
	if (rc < 0)
		fprintf(stderr, "mugai: %s: cannot read (or larger than %zu bytes)\n", path, max);
	return rc;
}

/* ---- output ---- */

static int item_json(const qstore_item_t *it, bool with_report, buf_t *b)
{
	json_t j;
	char t[32];

	cli_fmt_time(it->received, t);
	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "id"); json_str(&j, it->id);
	json_key(&j, "received"); json_str(&j, t);
	json_key(&j, "flow"); json_str(&j, it->flow);
	json_key(&j, "status"); json_str(&j, qstatus_name(it->status));
	json_key(&j, "delivery"); json_str(&j, it->undelivered ? "undelivered" : "done");
	json_key(&j, "verdict"); json_str(&j, it->verdict);
	json_key(&j, "env_from"); json_str(&j, it->env_from);
	json_key(&j, "rcpt"); json_str(&j, it->rcpt);
	json_key(&j, "from"); json_str(&j, it->hdr_from);
	json_key(&j, "subject"); json_str(&j, it->subject);
	json_key(&j, "sha256"); json_str(&j, it->sha256);
	json_key(&j, "size"); json_int(&j, it->size);
	json_key(&j, "requested_by"); json_str(&j, it->requested_by);
	json_key(&j, "request_reason"); json_str(&j, it->request_reason);
	json_key(&j, "approved_by"); json_str(&j, it->approved_by);
	json_key(&j, "audit_seq"); json_int(&j, it->audit_seq);
	if (with_report) {
		json_key(&j, "report");
		json_raw(&j, it->report, strlen(it->report));
	}
	json_obj_end(&j);
	return json_finish(&j);
}

static int list_cb(const qstore_item_t *it, void *arg)
{
	const store_opts_t *o = arg;
	char t[32];
	buf_t b;

	if (o->json) {
		int r;

		buf_init(&b, UNCAPPED_BY(LIM_SMTP_RECIPIENTS)); /* checked at put */
		r = item_json(it, false, &b);
		if (r == 0)
			printf("%s\n", b.data);
		buf_free(&b);
		return r < 0 || ferror(stdout) ? -1 : 0;
	}
	cli_fmt_time(it->received, t);
	printf("%s\t%s\t%s%s\t%s\t", it->id, t, qstatus_name(it->status),
	       it->undelivered ? " (undelivered)" : "", it->verdict);
	cli_put_safe(stdout, it->env_from);
	fputc('\t', stdout);
	cli_put_safe(stdout, it->subject);
	fputc('\n', stdout);
	return ferror(stdout) ? -1 : 0;
}

static void show_text(const qstore_item_t *it)
{
	const char *k[] = { "flow", "verdict", "envelope-from", "envelope-to", "from",
			    "subject", "sha256", "requested-by", "request-reason",
			    "approved-by" };
	const char *v[] = { it->flow, it->verdict, it->env_from, it->rcpt, it->hdr_from,
			    it->subject, it->sha256, it->requested_by, it->request_reason,
			    it->approved_by };
	char t[32];

	cli_fmt_time(it->received, t);
	printf("id: %s\nreceived: %s\nstatus: %s\ndelivery: %s\nsize: %lld\n", it->id, t,
	       qstatus_name(it->status), it->undelivered ? "undelivered" : "done",
	       (long long)it->size);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(k); i++) {
		printf("%s: ", k[i]);
		cli_put_safe(stdout, v[i]);
		fputc('\n', stdout);
	}
	printf("report: ");
	cli_put_safe(stdout, it->report);
	fputc('\n', stdout);
}

/* ---- subcommands ---- */

static int q_list(qstore_t *s, store_opts_t *o)
{
	qstore_filter_t f = { .status = -1, .limit = o->limit };

	if ((o->since && cli_parse_time(o->since, &f.since) < 0) ||
	    (o->until && cli_parse_time(o->until, &f.until) < 0)) {
		fputs("mugai: quarantine list: bad time (YYYY-MM-DD[THH:MM[:SS]Z] or @UNIX)\n",
		      stderr);
		return MUGAI_EXIT_USAGE;
	}
	if (o->status && (f.status = qstatus_parse(o->status)) < 0) {
		fputs("mugai: quarantine list: status is held|release-requested|released|expired\n",
		      stderr);
		return MUGAI_EXIT_USAGE;
	}
	f.verdict = o->verdict;
	f.undelivered = o->undelivered;
	f.sender = o->sender;
	f.rcpt = o->rcpt;
	if (qstore_list(s, o->actor, &f, list_cb, o) < 0)
		return store_exit(s, "quarantine list");
	return 0;
}

static int q_show(qstore_t *s, store_opts_t *o)
{
	qstore_item_t it;
	buf_t b;

	if (o->nargs != 2)
		return q_usage();
	if (qstore_show(s, o->actor, o->args[1], &it) < 0)
		return store_exit(s, "quarantine show");
	if (o->json) {
		buf_init(&b, UNCAPPED_BY(LIM_REPORT_SIZE)); /* checked at put */
		if (item_json(&it, true, &b) == 0)
			printf("%s\n", b.data);
		buf_free(&b);
	} else {
		show_text(&it);
	}
	qstore_item_free(&it);
	return 0;
}

static int q_get(qstore_t *s, store_opts_t *o)
{
	qstore_item_t it;
	buf_t orig;
	int rc = 0;

	if (o->nargs != 2 || !o->output)
		return q_usage();
	buf_init(&orig, UNCAPPED_BY(LIM_FILE_SIZE)); /* or message_size_max */
	if (qstore_get(s, o->actor, o->args[1], &it, &orig) < 0)
		rc = store_exit(s, "quarantine get");
	else if (write_new_file(o->output, &orig) < 0)
		rc = MUGAI_EXIT_IOERR;
	else
		printf("%s: %zu bytes written to %s\n", it.id, orig.len, o->output);
	qstore_item_free(&it);
	buf_free(&orig);
	return rc;
}

/* The store's error (printed, with its exit status, as store_exit); a
 * request or approval refused for the message's state or a missing message
 * is also recorded as cli.refused {command, why} (refusals by policy the
 * store records itself: quarantine.approve.refused). */
static int cli_refused(qstore_t *s, const store_opts_t *o, const char *what)
{
	qstore_err_t e = qstore_errcode(s);
	char why[ERR_TEXT_MAX];
	buf_t det;
	json_t j;
	int rc;

	snprintf(why, sizeof(why), "%s", qstore_errmsg(s));
	rc = store_exit(s, what);
	if (e != QS_ERR_STATE && e != QS_ERR_NOTFOUND)
		return rc;
	buf_init(&det, STORE_DET_MAX);
	json_init(&j, &det);
	json_obj_begin(&j);
	json_key(&j, "command");
	json_str(&j, o->args[0]);
	json_key(&j, "why");
	json_str(&j, why);
	json_obj_end(&j);
	if (json_finish(&j) < 0 || audit_append(s, o->actor, "cli.refused", o->args[1], det.data) < 0)
		fprintf(stderr, "mugai: %s: the refusal could not be recorded\n", what);
	buf_free(&det);
	return rc;
}

static int q_request(qstore_t *s, store_opts_t *o)
{
	if (o->nargs != 2 || !o->reason)
		return q_usage();
	if (qstore_request(s, o->args[1], o->actor, o->reason) < 0)
		return cli_refused(s, o, "quarantine request");
	printf("%s: release requested by %s\n", o->args[1], o->actor);
	return 0;
}

static int q_approve(qstore_t *s, store_opts_t *o)
{
	buf_t orig;
	int rc = 0;

	if (o->nargs != 2 || (!o->output == !o->queue))
		return q_usage();
	buf_init(&orig, UNCAPPED_BY(LIM_FILE_SIZE)); /* or message_size_max */
	qstore_set_admin(s, o->admin);
	if (qstore_approve(s, o->args[1], o->actor, o->queue, &orig) < 0)
		rc = cli_refused(s, o, "quarantine approve");
	else if (o->output && write_new_file(o->output, &orig) < 0)
		rc = MUGAI_EXIT_IOERR;
	else
		printf("%s: released by %s to %s\n", o->args[1], o->actor,
		       o->queue ? "the delivery queue" : o->output);
	buf_free(&orig);
	return rc;
}

static int q_purge(qstore_t *s, const cfg_t *cfg, store_opts_t *o)
{
	long days = o->older_than >= 0 ? o->older_than : (long)cfg_int(cfg, CFG_RETENTION_DAYS);
	long n = 0, nb = 0;

	if (o->nargs != 1)
		return q_usage();
	if (qstore_purge(s, o->actor, days, &n, &nb) < 0)
		return store_exit(s, "quarantine purge");
	printf("purged: %ld originals older than %ld days expired, %ld blobs removed\n",
	       n, days, nb);
	return 0;
}

static int q_put(qstore_t *s, const cfg_t *cfg, store_opts_t *o)
{
	qstore_meta_t m = { .flow = o->flow ? o->flow : "inbound", .env_from = o->sender,
			    .rcpt = o->rcpts, .n_rcpt = o->n_rcpt, .hdr_from = o->from,
			    .subject = o->subject, .verdict = o->verdict, .actor = o->actor };
	buf_t orig, report;
	int rc = MUGAI_EXIT_IOERR;

	if (o->nargs != 2 || !o->verdict)
		return q_usage();
	buf_init(&report, (size_t)lim(&cfg->lim, LIM_REPORT_SIZE));
	if (read_file(o->args[1], (size_t)lim(&cfg->lim, LIM_MESSAGE_SIZE), &orig) < 0 ||
	    (o->report && read_file(o->report, report.max, &report) < 0))
		goto out;
	m.received = (int64_t)time(NULL);
	if (mugai_id_new(m.id) < 0) {
		rc = MUGAI_EXIT_SOFTWARE;
		goto out;
	}
	if (qstore_put(s, &m, orig.data ? orig.data : "", orig.len,
		       o->report ? report.data : NULL) < 0) {
		rc = store_exit(s, "quarantine put");
		goto out;
	}
	printf("%s\n", m.id);
	rc = 0;
out:
	buf_free(&orig);
	buf_free(&report);
	return rc;
}

/* Content of a self-test original: a function of its id, so that the
 * crash test can check the bytes read back (tests/cli/test_quarantine_crash.py). */
static int selftest_content(const char *id, buf_t *b)
{
	unsigned long n = strtoul(id + 16, NULL, 16) % 2000 + 1;

	for (unsigned long i = 0; i < n; i++)
		if (buf_puts(b, id) < 0 || buf_putc(b, '\n') < 0)
			return -1;
	return 0;
}

static int side_append(int fd, const char *id)
{
	char line[MUGAI_ID_LEN + 2];

	snprintf(line, sizeof(line), "%s\n", id);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0)
		return -1;
	return 0;
}

/* Hidden: `selftest-writer SIDEFILE COUNT` — COUNT puts and appends; each id
 * goes to SIDEFILE only after its put returned. Used by the SIGKILL test. */
static int q_selftest_writer(qstore_t *s, store_opts_t *o)
{
	const char *rcpt[] = { "test@example.lg.jp" };
	qstore_meta_t m = { .flow = "inbound", .env_from = "sender@example.com",
			    .rcpt = rcpt, .n_rcpt = 1, .verdict = "selftest" };
	long count = o->nargs == 3 ? atol(o->args[2]) : 0;
	int fd = -1, rc = MUGAI_EXIT_SOFTWARE;
	buf_t b;

	buf_init(&b, CLI_SELFTEST_MAX);
	if (count <= 0)
		goto out;
	fd = open(o->args[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	for (long i = 0; fd >= 0 && i < count; i++) {
		buf_reset(&b);
		m.received = (int64_t)time(NULL);
		if (mugai_id_new(m.id) < 0 || selftest_content(m.id, &b) < 0 ||
		    qstore_put(s, &m, b.data, b.len, "{\"selftest\":true}") < 0 ||
		    side_append(fd, m.id) < 0 ||
		    audit_append(s, o->actor, "selftest.append", m.id, NULL) < 0)
			goto out;
	}
	rc = fd >= 0 ? 0 : MUGAI_EXIT_IOERR;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}

static int q_dispatch(qstore_t *s, const cfg_t *cfg, store_opts_t *o)
{
	const char *sub = o->args[0];

	if (strcmp(sub, "list") == 0)
		return q_list(s, o);
	if (strcmp(sub, "show") == 0)
		return q_show(s, o);
	if (strcmp(sub, "get") == 0)
		return q_get(s, o);
	if (strcmp(sub, "request") == 0)
		return q_request(s, o);
	if (strcmp(sub, "approve") == 0)
		return q_approve(s, o);
	if (strcmp(sub, "purge") == 0)
		return q_purge(s, cfg, o);
	if (strcmp(sub, "ppap") == 0)
		return o->nargs != 2 || !o->output ? q_usage() : q_ppap(s, cfg, o);
	if (strcmp(sub, "put") == 0)
		return q_put(s, cfg, o);
	if (strcmp(sub, "selftest-writer") == 0)
		return q_selftest_writer(s, o);
	return q_usage();
}

static bool known_sub(const char *sub)
{
	static const char *subs[] = { "list", "show", "get", "request", "approve", "purge",
				      "put", "selftest-writer", "ppap" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(subs); i++)
		if (strcmp(sub, subs[i]) == 0)
			return true;
	return false;
}

int cmd_quarantine(int argc, char **argv)
{
	store_opts_t o;
	qstore_t *s = NULL;
	cfg_t cfg;
	int rc;

	rc = store_opts_parse(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.nargs < 1 || !known_sub(o.args[0]))
		return q_usage();
	/* only put may create a store; list on a missing store must not show an
	 * empty one (the wrong directory, a missing config) */
	o.must_exist = strcmp(o.args[0], "put") != 0;
	rc = store_open_cli(&o, &cfg, &s);
	if (rc != 0)
		return rc;
	rc = q_dispatch(s, &cfg, &o);
	qstore_close(s);
	cfg_free(&cfg);
	return rc;
}
