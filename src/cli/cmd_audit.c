/*
 * cmd_audit.c — `mugai audit`: verify the hash chain, export it for an
 * auditor, send the head to the external witness, record an admin action.
 *
 *   mugai audit [-c CONFIG] verify [--witness FILE]
 *   mugai audit export [--since T] [--format jsonl|csv] [-o FILE]
 *   mugai audit witness
 *   mugai audit note [--by NAME] --action NAME --object OBJ [--text TEXT]
 *
 * verify exits 0 when the chain holds, 1 when it is broken (the first broken
 * seq and the kind of damage go to stdout), 70/74/78 when it could not run.
 * Other commands: 0 ok, 64 usage, 70 internal, 74 I/O, 78 config.
 *
 * Export formats (README.md, "The audit trail"): jsonl carries every field as a JSON string
 * (details too, byte for byte) so the hash can be recomputed; csv is for
 * people (RFC 4180, cells starting with = + - @ get a leading ' against
 * spreadsheet formula injection, so use jsonl to recompute hashes).
 *
 * SECURITY: verify only reads. export writes a new file (O_EXCL) or stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/json.h"
#include "common/defs.h"
#include "store/audit.h"

static int a_usage(void)
{
	fputs("usage: mugai audit [-c CONFIG] verify [--witness FILE]\n"
	      "       mugai audit export [--since T] [--format jsonl|csv] [-o FILE]\n"
	      "       mugai audit witness\n"
	      "       mugai audit note [--by NAME] --action NAME --object OBJ [--text TEXT]\n",
	      stderr);
	return MUGAI_EXIT_USAGE;
}

static int a_verify(qstore_t *s, const store_opts_t *o)
{
	audit_verdict_t v;

	if (audit_verify(s, o->witness, &v) < 0) {
		fprintf(stderr, "mugai: audit verify: could not run: %s\n",
			v.what[0] ? v.what : qstore_errmsg(s));
		return o->witness && v.what[0] ? MUGAI_EXIT_IOERR : MUGAI_EXIT_SOFTWARE;
	}
	if (v.kind == AUDIT_INTACT) {
		printf("audit chain intact: %" PRId64 " records, head seq=%" PRId64 " hash=%s\n",
		       v.records, v.head_seq, v.head_hash);
		return 0;
	}
	printf("audit chain BROKEN at seq %" PRId64 ": %s: %s\n", v.seq,
	       audit_break_name(v.kind), v.what);
	printf("(%" PRId64 " records before it verified)\n", v.records);
	return 1;
}

/* ---- export ---- */

typedef struct exp {
	FILE *out;
	bool csv;
	int failed;
} exp_t;

static void csv_cell(FILE *f, const char *s, bool last)
{
	fputc('"', f);
	if (strchr("=+-@\t\r", s[0]) && s[0])
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

/* "2026-11-30T17:45:36.123Z" → "2026-12-01 02:45:36.123 JST" (UTC+9, no DST);
 * "" when the stored time does not parse. */
static void jst_time(const char *utc, char out[96])
{
	struct tm tm = { 0 };
	int ms = 0;
	time_t t;

	out[0] = '\0';
	if (sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm) + 9 * 3600;
	if (!gmtime_r(&t, &tm))
		return;
	snprintf(out, 96, "%04d-%02d-%02d %02d:%02d:%02d.%03d JST", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static int exp_csv(const audit_rec_t *r, FILE *f)
{
	char seq[32], jst[96];

	snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
	jst_time(r->time, jst);
	csv_cell(f, seq, false);
	csv_cell(f, r->time, false);
	csv_cell(f, jst, false);
	csv_cell(f, r->actor, false);
	csv_cell(f, r->action, false);
	csv_cell(f, r->object, false);
	csv_cell(f, r->details, false);
	csv_cell(f, r->prev_hash, false);
	csv_cell(f, r->hash, true);
	return ferror(f) ? -1 : 0;
}

static int exp_jsonl(const audit_rec_t *r, FILE *f)
{
	const char *k[] = { "time", "actor", "action", "object", "details", "prev_hash", "hash" };
	const char *v[] = { r->time, r->actor, r->action, r->object, r->details, r->prev_hash,
			    r->hash };
	buf_t b;
	json_t j;
	int rc = -1;

	buf_init(&b, UNCAPPED_BY(LIM_AUDIT_DETAILS)); /* checked at append */
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "seq");
	json_int(&j, r->seq);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(k); i++) {
		json_key(&j, k[i]);
		json_str(&j, v[i]);
	}
	json_obj_end(&j);
	if (json_finish(&j) == 0 && fprintf(f, "%s\n", b.data) > 0)
		rc = 0;
	buf_free(&b);
	return rc;
}

static int exp_cb(const audit_rec_t *r, void *arg)
{
	exp_t *e = arg;

	if ((e->csv ? exp_csv(r, e->out) : exp_jsonl(r, e->out)) < 0) {
		e->failed = 1;
		return -1;
	}
	return 0;
}

static FILE *open_out(const char *path)
{
	int fd;

	if (!path || strcmp(path, "-") == 0)
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static char *since_text(const char *since, char buf[32])
{
	int64_t t;
	time_t tt;
	struct tm tm;

	if (!since)
		return NULL;
	if (cli_parse_time(since, &t) < 0)
		return (char *)"";
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	return buf;
}

static int a_export(qstore_t *s, const store_opts_t *o)
{
	exp_t e = { .csv = o->format && strcmp(o->format, "csv") == 0 };
	char sb[32], det[64];
	const char *since = since_text(o->since, sb);
	int rc = MUGAI_EXIT_IOERR;

	if ((o->format && !e.csv && strcmp(o->format, "jsonl") != 0) || (since && !*since))
		return a_usage();
	snprintf(det, sizeof(det), "{\"format\":\"%s\"}", e.csv ? "csv" : "jsonl");
	if (audit_append(s, o->actor, "audit.export", "audit", det) < 0)
		return store_exit(s, "audit export");
	e.out = open_out(o->output);
	if (!e.out) {
		fprintf(stderr, "mugai: %s: %s\n", o->output, strerror(errno));
		return MUGAI_EXIT_IOERR;
	}
	/* UTF-8 BOM: Excel on a Japanese Windows otherwise reads CP932 */
	if (e.csv)
		fputs("\xef\xbb\xbfseq,time,time_jst,actor,action,object,details,prev_hash,hash\r\n",
		      e.out);
	if (audit_scan(s, 1, since, exp_cb, &e) < 0 && !e.failed)
		rc = store_exit(s, "audit export");
	else if (!e.failed)
		rc = 0;
	if (fflush(e.out) != 0 || (e.out != stdout && fclose(e.out) != 0))
		rc = MUGAI_EXIT_IOERR;
	return rc;
}

static int a_note(qstore_t *s, const store_opts_t *o)
{
	char action[CLI_ACTOR_MAX];
	buf_t det;
	json_t j;
	int rc = MUGAI_EXIT_USAGE;

	if (!o->action || !o->object)
		return a_usage();
	/* Admin notes cannot pose as system actions (quarantine.*, config.*). */
	snprintf(action, sizeof(action), "admin.%s", o->action);
	buf_init(&det, CLI_NOTE_MAX);
	json_init(&j, &det);
	json_obj_begin(&j);
	json_key(&j, "text");
	json_str(&j, o->text ? o->text : "");
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		goto out;
	rc = audit_append(s, o->actor, action, o->object, det.data) < 0
		? store_exit(s, "audit note") : 0;
out:
	buf_free(&det);
	return rc;
}

static int a_dispatch(qstore_t *s, const store_opts_t *o)
{
	const char *sub = o->args[0];

	if (strcmp(sub, "verify") == 0)
		return a_verify(s, o);
	if (strcmp(sub, "export") == 0)
		return a_export(s, o);
	if (strcmp(sub, "note") == 0)
		return a_note(s, o);
	if (audit_witness_now(s) < 0)
		return store_exit(s, "audit witness");
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	static const char *subs[] = { "verify", "export", "witness", "note" };
	store_opts_t o;
	qstore_t *s = NULL;
	cfg_t cfg;
	bool known = false;
	int rc;

	rc = store_opts_parse(argc, argv, &o);
	if (rc != 0)
		return rc;
	for (size_t i = 0; o.nargs >= 1 && i < MUGAI_ARRAY_LEN(subs); i++)
		known |= strcmp(o.args[0], subs[i]) == 0;
	if (!known || o.nargs != 1)
		return a_usage();
	/* An auditor's verify or export must not succeed on a store that a
	 * mistyped state_dir just created empty. */
	/* verify, export, witness: never on a new empty store; note is a write */
	o.must_exist = strcmp(o.args[0], "note") != 0;
	rc = store_open_cli(&o, &cfg, &s);
	if (rc != 0)
		return rc;
	rc = a_dispatch(s, &o);
	qstore_close(s);
	cfg_free(&cfg);
	return rc;
}
