/*
 * cli_store.c — shared option parsing and output helpers for the store
 * commands (see cli_store.h).
 *
 * SECURITY: program layer. Never writes raw decoded header bytes to the
 * terminal: control characters are escaped.
 */
#include "cli/cli_store.h"

#include <ctype.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/defs.h"

enum {
	O_BY = 256, O_REASON, O_SINCE, O_UNTIL, O_VERDICT, O_SENDER, O_RCPT, O_STATUS,
	O_FORMAT, O_WITNESS, O_FROM, O_SUBJECT, O_REPORT, O_FLOW, O_JSON, O_QUEUE, O_ADMIN,
	O_LIMIT, O_OLDER, O_ACTION, O_OBJECT, O_TEXT, O_UNDELIVERED,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "by", required_argument, NULL, O_BY },
	{ "reason", required_argument, NULL, O_REASON },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "verdict", required_argument, NULL, O_VERDICT },
	{ "sender", required_argument, NULL, O_SENDER },
	{ "rcpt", required_argument, NULL, O_RCPT },
	{ "status", required_argument, NULL, O_STATUS },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "witness", required_argument, NULL, O_WITNESS },
	{ "from", required_argument, NULL, O_FROM },
	{ "subject", required_argument, NULL, O_SUBJECT },
	{ "report", required_argument, NULL, O_REPORT },
	{ "flow", required_argument, NULL, O_FLOW },
	{ "json", no_argument, NULL, O_JSON },
	{ "queue", no_argument, NULL, O_QUEUE },
	{ "admin", no_argument, NULL, O_ADMIN },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "older-than", required_argument, NULL, O_OLDER },
	{ "action", required_argument, NULL, O_ACTION },
	{ "object", required_argument, NULL, O_OBJECT },
	{ "text", required_argument, NULL, O_TEXT },
	{ "undelivered", no_argument, NULL, O_UNDELIVERED },
	{ NULL, 0, NULL, 0 },
};

static int parse_long(const char *s, long *v)
{
	char *end;

	*v = strtol(s, &end, 10);
	return (end == s || *end || *v < 0) ? -1 : 0;
}

static int set_opt(store_opts_t *o, int c, const char *a)
{
	switch (c) {
	case 'c': o->config = a; return 0;
	case 'o': o->output = a; return 0;
	case O_BY: o->by = a; return 0;
	case O_REASON: o->reason = a; return 0;
	case O_SINCE: o->since = a; return 0;
	case O_UNTIL: o->until = a; return 0;
	case O_VERDICT: o->verdict = a; return 0;
	case O_SENDER: o->sender = a; return 0;
	case O_STATUS: o->status = a; return 0;
	case O_FORMAT: o->format = a; return 0;
	case O_WITNESS: o->witness = a; return 0;
	case O_FROM: o->from = a; return 0;
	case O_SUBJECT: o->subject = a; return 0;
	case O_REPORT: o->report = a; return 0;
	case O_FLOW: o->flow = a; return 0;
	case O_ACTION: o->action = a; return 0;
	case O_UNDELIVERED: o->undelivered = true; return 0;
	case O_OBJECT: o->object = a; return 0;
	case O_TEXT: o->text = a; return 0;
	case O_JSON: o->json = true; return 0;
	case O_QUEUE: o->queue = true; return 0;
	case O_ADMIN: o->admin = true; return 0;
	case O_LIMIT: return parse_long(a, &o->limit);
	case O_OLDER: return parse_long(a, &o->older_than);
	case O_RCPT:
		if (o->n_rcpt >= CLI_RCPT_MAX)
			return -1;
		o->rcpt = a;
		o->rcpts[o->n_rcpt++] = a;
		return 0;
	default: return -1;
	}
}

/* A login name as sudo sets SUDO_USER: [A-Za-z0-9._-], 1..SUDO_USER_MAX. */
static bool login_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > SUDO_USER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* The OS identity of the caller: "os:LOGIN" of the effective user; as root
 * through sudo, "os:root(sudo:NAME)" with the SUDO_USER that sudo set (only
 * root's environment is believed: anyone else could set it to anything). */
static void default_actor(store_opts_t *o)
{
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	const char *sudo = uid == 0 ? getenv("SUDO_USER") : NULL;
	size_t n;

	if (pw && pw->pw_name && login_name_ok(pw->pw_name))
		snprintf(o->actor, sizeof(o->actor), "os:%s", pw->pw_name);
	else
		snprintf(o->actor, sizeof(o->actor), "os:uid%ld", (long)uid);
	n = strlen(o->actor);
	if (login_name_ok(sudo))  /* both names are short: this always fits */
		snprintf(o->actor + n, sizeof(o->actor) - n, "(sudo:%s)", sudo);
}

int store_opts_parse(int argc, char **argv, store_opts_t *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->older_than = -1;
	optind = 1;
	opterr = 1;
	/* GNU getopt permutes: options may come before or after the operands. */
	while ((c = getopt_long(argc, argv, "c:o:", long_opts, NULL)) != -1) {
		if (c == '?' || set_opt(o, c, optarg) < 0) {
			fprintf(stderr, "mugai: %s: bad option or value\n", argv[0]);
			return MUGAI_EXIT_USAGE;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	default_actor(o);
	return 0;
}

/* Is there a store database under dir? (Opening would create one.) */
static bool store_exists(const char *dir)
{
	char path[PATH_BUF_MAX];

	if (snprintf(path, sizeof(path), "%s/mugai.db", dir) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

int store_open_cli(const store_opts_t *o, cfg_t *cfg, qstore_t **s)
{
	int rc = cli_load_config(cfg, o->config);

	*s = NULL;
	if (rc != 0)
		return rc;
	if (o->must_exist && !store_exists(cfg_str(cfg, CFG_STATE_DIR))) {
		fprintf(stderr, "mugai: no quarantine store at %s (state_dir): nothing to %s\n",
			cfg_str(cfg, CFG_STATE_DIR), o->args[0]);
		cfg_free(cfg);
		return MUGAI_EXIT_IOERR;
	}
	if (qstore_open(s, cfg) < 0 || qstore_set_display(*s, o->by) < 0 ||
	    audit_note_config(*s, cfg, o->actor) < 0) {
		rc = *s ? store_exit(*s, "store") : MUGAI_EXIT_SOFTWARE;
		qstore_close(*s);
		*s = NULL;
		cfg_free(cfg);
		return rc;
	}
	return 0;
}

int store_exit(qstore_t *s, const char *what)
{
	fprintf(stderr, "mugai: %s: ", what);
	cli_put_safe(stderr, qstore_errmsg(s));
	fputc('\n', stderr);
	switch (qstore_errcode(s)) {
	case QS_ERR_INVAL: return MUGAI_EXIT_USAGE;
	case QS_ERR_NOTFOUND:
	case QS_ERR_EXISTS:
	case QS_ERR_STATE:
	case QS_ERR_DENIED:
	case QS_ERR_CORRUPT: return MUGAI_EXIT_DATAERR;
	case QS_ERR_IO:
	case QS_ERR_FULL: return MUGAI_EXIT_IOERR;
	default: return MUGAI_EXIT_SOFTWARE;
	}
}

int cli_parse_time(const char *t, int64_t *out)
{
	static const char *fmts[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d" };
	struct tm tm;
	long v;

	if (t[0] == '@')
		return parse_long(t + 1, &v) < 0 ? -1 : (*out = v, 0);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(fmts); i++) {
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(t, fmts[i], &tm);
		if (end && *end == '\0') {
			*out = (int64_t)timegm(&tm);
			return 0;
		}
	}
	return -1;
}

void cli_fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

void cli_put_safe(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void store_default_actor(store_opts_t *o)
{
	default_actor(o);
}
