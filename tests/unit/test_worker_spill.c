/*
 * test_worker_spill.c — the parent's reader of a one-shot worker's spilled
 * parts and result (recv_spills in src/common/worker.c), on frames written
 * here into a pipe as a child could write them, well-formed or not: parts
 * reach the callback byte for byte and the result follows; an empty or
 * oversized part, a truncated one, parts and result over out_max, and a
 * callback that refuses each end the job with the right status. This file
 * includes src/common/worker.c (recv_spills is static).
 */
#include "testutil.h"
#include "../../src/common/worker.c"

typedef struct got {
	char data[256];
	size_t len;
	int calls, refuse;
} got_t;

static int take(void *arg, const char *p, size_t n)
{
	got_t *g = arg;

	if (g->refuse)
		return -1;
	assert_true(g->len + n <= sizeof(g->data));
	memcpy(g->data + g->len, p, n);
	g->len += n;
	g->calls++;
	return 0;
}

/* Frames: a part when spill, else the result; len may lie (raw). */
static void frame(int fd, bool spill, uint64_t len, const char *p, size_t n)
{
	uint64_t h = len | (spill ? WORKER_SPILL_FLAG : 0);

	assert_int_equal(io_write_all(fd, &h, sizeof(h)), 0);
	if (n)
		assert_int_equal(io_write_all(fd, p, n), 0);
}

/* Run the reader over what write_frames wrote (the write end closed). */
static worker_status_t read_back(void (*write_frames)(int), size_t out_max, got_t *g, buf_t *res)
{
	int fds[2];
	worker_status_t st;

	assert_int_equal(pipe(fds), 0);
	write_frames(fds[1]);
	close(fds[1]);
	buf_init(res, 1 << 20);
	st = recv_spills(fds[0], worker_now_ms() + 5000, out_max, res, take, g);
	close(fds[0]);
	return st;
}

static void w_good(int fd)
{
	frame(fd, true, 5, "hello", 5);
	frame(fd, true, 6, " world", 6);
	frame(fd, false, 4, "tail", 4);
}

static void w_empty_part(int fd) { frame(fd, true, 0, "", 0); }
static void w_huge_part(int fd) { frame(fd, true, (uint64_t)WORKER_SPILL_MAX + 1, "", 0); }
static void w_cut_part(int fd) { frame(fd, true, 10, "abc", 3); }
static void w_no_result(int fd) { frame(fd, true, 3, "abc", 3); }

static void w_over(int fd)
{
	frame(fd, true, 8, "12345678", 8);
	frame(fd, true, 8, "12345678", 8);
}

static void w_result_over(int fd)
{
	frame(fd, true, 8, "12345678", 8);
	frame(fd, false, 8, "12345678", 8);
}

static void parts_then_result(void **state)
{
	got_t g = { 0 };
	buf_t r;

	(void)state;
	assert_int_equal(read_back(w_good, 64, &g, &r), WORKER_OK);
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.len, 11);
	assert_memory_equal(g.data, "hello world", 11);
	assert_int_equal(r.len, 4);
	assert_string_equal(r.data, "tail");
	buf_free(&r);
}

static void malformed_parts(void **state)
{
	got_t g = { 0 };
	buf_t r;

	(void)state;
	assert_int_equal(read_back(w_empty_part, 64, &g, &r), WORKER_CRASHED);
	buf_free(&r);
	assert_int_equal(read_back(w_huge_part, 1ull << 40, &g, &r), WORKER_CRASHED);
	buf_free(&r);
	assert_int_equal(read_back(w_cut_part, 64, &g, &r), WORKER_CRASHED);
	buf_free(&r);
	assert_int_equal(read_back(w_no_result, 64, &g, &r), WORKER_CRASHED);
	buf_free(&r);
	assert_int_equal(g.len, 3); /* the whole part before the missing result */
}

static void out_max_counts_parts_and_result(void **state)
{
	got_t g = { 0 };
	buf_t r;

	(void)state;
	assert_int_equal(read_back(w_over, 15, &g, &r), WORKER_TOO_BIG);
	assert_int_equal(g.len, 8); /* the second part was not taken */
	buf_free(&r);
	memset(&g, 0, sizeof(g));
	assert_int_equal(read_back(w_result_over, 15, &g, &r), WORKER_TOO_BIG);
	buf_free(&r);
	memset(&g, 0, sizeof(g));
	assert_int_equal(read_back(w_result_over, 16, &g, &r), WORKER_OK);
	buf_free(&r);
}

static void refusing_callback_is_ours(void **state)
{
	got_t g = { .refuse = 1 };
	buf_t r;

	(void)state;
	assert_int_equal(read_back(w_good, 64, &g, &r), WORKER_SYSERR);
	buf_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parts_then_result),
		cmocka_unit_test(malformed_parts),
		cmocka_unit_test(out_max_counts_parts_and_result),
		cmocka_unit_test(refusing_callback_is_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
