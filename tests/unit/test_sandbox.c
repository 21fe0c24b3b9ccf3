/* test_sandbox.c — the worker sandbox is really in force. */
#include "testutil.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include "common/sandbox.h"
#include "common/worker.h"

static limits_t L;

static int fn_ok(void *arg, buf_t *out)
{
	(void)arg;
	return buf_puts(out, "result");
}

static int fn_open(void *arg, buf_t *out)
{
	int fd = open("/etc/passwd", O_RDONLY);

	(void)arg;
	return buf_printf(out, "opened %d", fd);
}

static int fn_socket(void *arg, buf_t *out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	return buf_printf(out, "socket %d", fd);
}

static int fn_spin(void *arg, buf_t *out)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (;;)
		n++;
	return buf_putc(out, 'x');
}

/* Closes its end of the result pipe (every descriptor above stderr), then
 * lingers: the parent sees EOF at once but must still keep the wall clock. */
static int fn_linger(void *arg, buf_t *out)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (int fd = 3; fd < 64; fd++)
		close(fd);
	for (;;)
		n++;
	return buf_putc(out, 'x');
}

static int fn_hog(void *arg, buf_t *out)
{
	size_t want = (size_t)lim(&L, LIM_WORKER_MEMORY) * 2;
	char *p = malloc(want);

	(void)arg;
	if (!p)
		return -1;
	memset(p, 1, want);
	return buf_putc(out, p[want - 1]);
}

static void skip_under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* ASan's runtime needs syscalls and address space the sandbox denies */
#endif
}

static void worker_returns_result(void **state)
{
	buf_t r;

	(void)state;
	skip_under_asan();
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&L, fn_ok, NULL, 1024, &r), WORKER_OK);
	assert_str_eq_msg(r.data, "result");
	buf_free(&r);
}

static void open_kills_the_worker(void **state)
{
	buf_t r;

	(void)state;
	skip_under_asan();
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&L, fn_open, NULL, 1024, &r), WORKER_CRASHED);
	assert_int_equal(r.len, 0);
	buf_free(&r);
}

static void socket_kills_the_worker(void **state)
{
	buf_t r;

	(void)state;
	skip_under_asan();
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&L, fn_socket, NULL, 1024, &r), WORKER_CRASHED);
	buf_free(&r);
}

static void open_dies_by_sigsys(void **state)
{
	int ws;
	pid_t pid;

	(void)state;
	skip_under_asan();
	pid = fork();
	if (pid == 0) {
		if (sandbox_enter(&L) < 0)
			_exit(3);
		(void)open("/etc/passwd", O_RDONLY);
		_exit(0);
	}
	assert_true(waitpid(pid, &ws, 0) == pid);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGSYS);
}

/* The persistent worker's filter allows recvmsg() on its one socket only. */
static int recv_on(int allowed, int used)
{
	int ws;
	pid_t pid = fork();

	if (pid == 0) {
		char c;
		struct iovec io = { &c, 1 };
		struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };

		if (sandbox_enter_recv(&L, allowed) < 0)
			_exit(3);
		_exit(recvmsg(used, &m, MSG_DONTWAIT) == 1 ? 0 : 4);
	}
	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	return WIFSIGNALED(ws) ? -WTERMSIG(ws) : WEXITSTATUS(ws);
}

static void recvmsg_only_on_the_job_socket(void **state)
{
	int a[2], b[2];

	(void)state;
	skip_under_asan();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	assert_int_equal(recv_on(a[0], a[0]), 0);          /* allowed socket: works */
	assert_int_equal(recv_on(a[0], b[0]), -SIGSYS);    /* any other fd: killed */
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void wall_clock_kills_a_spinning_worker(void **state)
{
	limits_t l = L;
	buf_t r;

	(void)state;
	skip_under_asan();
	l.v[LIM_WALL_TIME] = 1;
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&l, fn_spin, NULL, 1024, &r), WORKER_TIMEOUT);
	buf_free(&r);
}

static void wall_clock_kills_a_worker_that_closed_its_pipe(void **state)
{
	limits_t l = L;
	buf_t r;
	time_t t0;

	(void)state;
	skip_under_asan();
	l.v[LIM_WALL_TIME] = 1;
	l.v[LIM_CPU_TIME] = 60;
	buf_init(&r, 1024);
	t0 = time(NULL);
	assert_int_equal(worker_run(&l, fn_linger, NULL, 1024, &r), WORKER_TIMEOUT);
	assert_true(time(NULL) - t0 < 10); /* the wall clock, not RLIMIT_CPU's 60 s */
	buf_free(&r);
}

static void memory_cap_stops_a_hog(void **state)
{
	limits_t l = L;
	buf_t r;

	(void)state;
	skip_under_asan();
	l.v[LIM_WORKER_MEMORY] = 128 * MiB;
	L.v[LIM_WORKER_MEMORY] = 128 * MiB;
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&l, fn_hog, NULL, 1024, &r), WORKER_CRASHED);
	buf_free(&r);
}

static void result_over_cap_is_refused(void **state)
{
	buf_t r;

	(void)state;
	skip_under_asan();
	buf_init(&r, 1024);
	assert_int_equal(worker_run(&L, fn_ok, NULL, 3, &r), WORKER_TOO_BIG);
	buf_free(&r);
}

/* sandbox_close_fds keeps exactly the listed descriptors (in any order,
 * -1 ignored), however high the others are, and closes the gaps between. */
static void close_fds_keeps_only_the_listed(void **state)
{
	int hi = 900, st = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int a = dup(2), b = dup(2), c = dup2(2, hi), bad = 0;

		if (a < 0 || b < 0 || c != hi)
			_exit(2);
		sandbox_close_fds((int[]){ hi, -1, 2, a }, 4);
		for (int fd = 0; fd <= hi + 5; fd++) {
			bool open = fcntl(fd, F_GETFD) >= 0;

			bad += open != (fd == 2 || fd == a || fd == hi);
		}
		_exit(bad ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worker_returns_result),
		cmocka_unit_test(open_kills_the_worker),
		cmocka_unit_test(socket_kills_the_worker),
		cmocka_unit_test(open_dies_by_sigsys),
		cmocka_unit_test(recvmsg_only_on_the_job_socket),
		cmocka_unit_test(wall_clock_kills_a_spinning_worker),
		cmocka_unit_test(wall_clock_kills_a_worker_that_closed_its_pipe),
		cmocka_unit_test(memory_cap_stops_a_hog),
		cmocka_unit_test(result_over_cap_is_refused),
		cmocka_unit_test(close_fds_keeps_only_the_listed),
	};
	limits_default(&L);
	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
