/*
 * test_jail.c — the LibreOffice jail (common/jail.c): refusal when it
 * cannot be built, the wall clock, the output cap, what a process inside
 * it can see and reach, and the concurrency slots (legacy_concurrent_max).
 *
 * Also a tool for the CLI tests and the benchmark (never installed):
 *   test_jail convert IN OUT.pdf   write the jail's intermediate PDF
 *   test_jail probe PORT SECRET    run a probe in the jail: connect to
 *                                  127.0.0.1:PORT and read SECRET; print
 *                                  what happened (one line each)
 * Tests that need bwrap and LibreOffice skip when they are missing.
 */
#include "testutil.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common/config.h"
#include <stdlib.h>
#include "common/jail.h"

static const char *bwrap = "/usr/bin/bwrap";

/* bwrap installed AND able to build namespaces here (not, e.g., inside a
 * chroot, where CLONE_NEWUSER is refused): the tests that run a real jail
 * skip otherwise, the refusal tests run everywhere. */
static int have_jail(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = access(bwrap, X_OK) == 0 &&
		     system("/usr/bin/bwrap --unshare-user --unshare-net --ro-bind / / /bin/true "
			    ">/dev/null 2>&1") == 0;
	return ok;
}

static void cfg_with(cfg_t *c, const char *key, const char *val)
{
	char err[256];

	assert_int_equal(cfg_init(c), 0);
	if (key)
		assert_int_equal(cfg_set(c, key, val, err, sizeof(err)), 0);
}

static void test_refused_without_bwrap(void **st)
{
	cfg_t c;
	buf_t out;
	char why[256];

	(void)st;
	cfg_with(&c, "legacy_bwrap", "/nonexistent/bwrap");
	assert_int_equal(jail_convert(&c, "{\\rtf1 x}", 9, "rtf", &out, why, sizeof(why)),
			 JAIL_UNAVAILABLE);
	assert_str_eq_msg(why, "bubblewrap (/nonexistent/bwrap) is not installed");
	assert_int_equal(out.len, 0);
	buf_free(&out);
	cfg_free(&c);
}

/* A "bwrap" that fails like one on a host without user namespaces: its
 * message becomes the reason, and nothing is converted. */
static void test_refused_when_bwrap_fails(void **st)
{
	char dir[] = "/tmp/test_jail.XXXXXX", path[64], why[256];
	cfg_t c;
	buf_t out;
	FILE *f;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bwrap", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
	cfg_with(&c, "legacy_bwrap", path);
	assert_int_equal(jail_convert(&c, "{\\rtf1 x}", 9, "rtf", &out, why, sizeof(why)),
			 JAIL_UNAVAILABLE);
	assert_str_eq_msg(why, "bwrap: No permissions to creating new namespace ");
	assert_int_equal(out.len, 0);
	buf_free(&out);
	cfg_free(&c);
	/* One that exits silently: no PDF, a plain failure. */
	cfg_with(&c, "legacy_bwrap", "/bin/false");
	assert_int_equal(jail_convert(&c, "{\\rtf1 x}", 9, "rtf", &out, why, sizeof(why)),
			 JAIL_FAILED);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	cfg_free(&c);
	unlink(path);
	rmdir(dir);
}

static void test_wall_clock_kills_the_jail(void **st)
{
	cfg_t c;
	buf_t out;
	char why[256];

	(void)st;
	if (!have_jail())
		skip();
	cfg_with(&c, "legacy_time_max", "1");
	assert_int_equal(jail_run(&c, "x", 1, "/tmp/in/x", "sleep 30 & sleep 30; echo late", &out,
				  why, sizeof(why)), JAIL_TIMEOUT);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	cfg_free(&c);
}

/* Output from a jail that did not finish cleanly (e.g. LibreOffice killed by
 * a limit half-way through the PDF) is not a result. */
static void test_unclean_exit_is_failure(void **st)
{
	cfg_t c;
	buf_t out;
	char why[256];

	(void)st;
	if (!have_jail())
		skip();
	cfg_with(&c, NULL, NULL);
	assert_int_equal(jail_run(&c, "x", 1, "/tmp/in/x", "echo %PDF-1.4 partial; exit 3", &out,
				  why, sizeof(why)), JAIL_FAILED);
	assert_int_equal(out.len, 0);
	assert_str_eq_msg(why, "the jail exited with status 3");
	buf_free(&out);
	cfg_free(&c);
}

static void test_output_cap(void **st)
{
	cfg_t c;
	buf_t out;
	char why[256];

	(void)st;
	if (!have_jail())
		skip();
	cfg_with(&c, "legacy_output_max", "1048576");
	assert_int_equal(jail_run(&c, "x", 1, "/tmp/in/x", "head -c 3000000 /dev/zero", &out, why,
				  sizeof(why)), JAIL_TOO_BIG);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	cfg_free(&c);
}

/* Inside: only the input, the profile, /usr and the font/LO config; no
 * network interface but a down loopback; an unprivileged user. */
static void test_inside_the_jail(void **st)
{
	cfg_t c;
	buf_t out;
	char why[256];

	(void)st;
	if (!have_jail())
		skip();
	cfg_with(&c, NULL, NULL);
	assert_int_equal(jail_run(&c, "hello", 5, "/tmp/in/document.rtf",
				  "cat /tmp/in/document.rtf; echo; ls / | tr '\\n' ' '; echo;"
				  " ls /tmp /tmp/profile/user | tr '\\n' ' '; echo;"
				  " ls /etc | tr '\\n' ' '; echo;"
				  " cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' \\n'; echo;"
				  " [ -e /work ] || [ -e /root ] || [ -e /home ] || echo nohome",
				  &out, why, sizeof(why)), JAIL_OK);
	assert_int_equal(buf_putc(&out, '\0'), 0);
	assert_str_eq_msg(out.data, "hello\n"
			  "bin dev etc lib lib64 proc sbin tmp usr \n"
			  "/tmp: in out profile  /tmp/profile/user: registrymodifications.xcu \n"
			  "fonts libreoffice \n"
			  "lo\n"
			  "nohome\n");
	buf_free(&out);
	cfg_free(&c);
}

static int tool_convert(const char *in, const char *outpath)
{
	cfg_t c;
	buf_t data, pdf;
	char why[600], tmp[65536];
	FILE *f = fopen(in, "rb");
	size_t n;
	const char *dot = strrchr(in, '.');
	jail_status_t st;

	if (!f || cfg_init(&c) < 0)
		return 2;
	buf_init(&data, 1UL << 30);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_append(&data, tmp, n) < 0)
			return 2;
	fclose(f);
	st = jail_convert(&c, data.data, data.len, dot ? dot + 1 : "", &pdf, why, sizeof(why));
	if (st != JAIL_OK) {
		fprintf(stderr, "test_jail: status %d: %s\n", (int)st, why);
		return 1;
	}
	f = fopen(outpath, "wb");
	if (!f || fwrite(pdf.data, 1, pdf.len, f) != pdf.len || fclose(f) != 0)
		return 2;
	buf_free(&data);
	buf_free(&pdf);
	cfg_free(&c);
	return 0;
}

static int tool_probe(const char *port, const char *secret)
{
	cfg_t c;
	buf_t out;
	char why[600], script[2048];

	if (cfg_init(&c) < 0)
		return 2;
	snprintf(script, sizeof(script),
		 "python3 -c \"import socket\ntry:\n socket.create_connection(('127.0.0.1', %d),"
		 " 3); print('connect: ok')\nexcept OSError as e: print('connect:', e.strerror)\"; "
		 "cat '%s' >/dev/null 2>&1 && echo 'read: ok' || echo 'read: failed'",
		 atoi(port), secret);
	if (jail_run(&c, "", 0, "/tmp/in/x", script, &out, why, sizeof(why)) != JAIL_OK) {
		fprintf(stderr, "test_jail: %s\n", why);
		return 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	cfg_free(&c);
	return 0;
}

/* legacy_concurrent_max (mugaid): with one slot, a second conversion waits
 * and, after legacy_time_max without a slot, is refused JAIL_BUSY; a holder
 * killed with SIGKILL frees its slot at once. A stub "bwrap" that only
 * sleeps holds the slot (no namespaces needed). */
static void test_slots(void **st)
{
	char dir[] = "/tmp/test_jail.XXXXXX", path[64], started[64], why[256], script[256];
	cfg_t hold, wait;
	buf_t out;
	pid_t pid;
	FILE *f;
	int ws;
	struct timespec t0, t1;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bwrap", dir);
	snprintf(started, sizeof(started), "%s/started", dir);
	snprintf(script, sizeof(script), "#!/bin/sh\n: > %s\nexec sleep 30\n", started);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(script, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
	cfg_with(&hold, "legacy_bwrap", path);
	assert_int_equal(cfg_set(&hold, "legacy_concurrent_max", "1", why, sizeof(why)), 0);
	cfg_with(&wait, "legacy_time_max", "1");
	assert_int_equal(jail_slots_init(&hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)jail_convert(&hold, "x", 1, "doc", &out, why, sizeof(why));
		_exit(0);
	}
	for (int i = 0; i < 200 && access(started, F_OK) < 0; i++)
		usleep(50000);
	assert_int_equal(access(started, F_OK), 0); /* the holder's jail runs */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(jail_convert(&wait, "x", 1, "doc", &out, why, sizeof(why)), JAIL_BUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= 0 && (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 900);
	buf_free(&out);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	cfg_free(&wait);
	cfg_with(&wait, "legacy_bwrap", "/bin/false"); /* a slot now: it runs (and fails) */
	assert_int_equal(jail_convert(&wait, "x", 1, "doc", &out, why, sizeof(why)), JAIL_FAILED);
	buf_free(&out);
	cfg_free(&wait);
	cfg_free(&hold);
	unlink(started);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_without_bwrap),
		cmocka_unit_test(test_refused_when_bwrap_fails),
		cmocka_unit_test(test_wall_clock_kills_the_jail),
		cmocka_unit_test(test_unclean_exit_is_failure),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_inside_the_jail),
		cmocka_unit_test(test_slots), /* last: it leaves one slot counted */
	};

	if (argc == 4 && strcmp(argv[1], "convert") == 0)
		return tool_convert(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "probe") == 0)
		return tool_probe(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
