/*
 * bench_store.c — durable quarantine puts per second for 40 KB originals
 * (segment append + index row + audit record, every flush on), against two
 * ceilings of the same disk measured in the same run: the raw fsync rate
 * (append 40 KB to one file, fdatasync: the least one durable original can
 * cost), and the per-file recipe the store used before segments (write 40 KB
 * to a temp file, fsync, rename, fsync the directory).
 *
 *   bench_store DIR [N] [BATCH]
 *
 * Prints the ceilings, single puts (one transaction each), group-committed
 * puts (BATCH originals per qstore_put_batch) and the store process's way
 * (qstore_batch_begin, BATCH qstore_put calls, one commit), with their
 * ratios to the raw fsync rate. Rounds alternate so that load from other
 * processes on a shared disk hits all of them alike.
 *
 * SECURITY: benchmark only; writes under DIR.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "store/qstore.h"

#define ORIG_SIZE (40 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ceiling_once(const char *dir, int i, const char *data)
{
	char tmp[4200], dst[4200];
	int fd, dfd, rc = -1;

	if (strlen(dir) > 4000)
		return -1;
	snprintf(tmp, sizeof(tmp), "%.4000s/.tmp-%d", dir, i);
	snprintf(dst, sizeof(dst), "%.4000s/f%d", dir, i);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, ORIG_SIZE) == ORIG_SIZE && fsync(fd) == 0 && rename(tmp, dst) == 0)
		rc = 0;
	close(fd);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fsync(dfd) < 0)
		rc = -1;
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* Seconds for n ceiling operations (file names continue across rounds). */
static double ceiling(const char *root, int first, int n, char *data)
{
	char dir[4096];
	double t0;

	snprintf(dir, sizeof(dir), "%.4000s/ceiling", root);
	mkdir(dir, 0700);
	t0 = now_s();
	for (int i = first; i < first + n; i++) {
		data[0] = (char)i;
		data[1] = (char)(i >> 8);
		if (ceiling_once(dir, i, data) < 0)
			return -1;
	}
	return now_s() - t0;
}

static void fill_meta(qstore_meta_t *m, const char *const *rcpt)
{
	memset(m, 0, sizeof(*m));
	if (mugai_id_new(m->id) < 0)
		exit(70);
	m->received = (int64_t)time(NULL);
	m->flow = "inbound";
	m->env_from = "sender@example.com";
	m->rcpt = rcpt;
	m->n_rcpt = 1;
	m->hdr_from = "Sender <sender@example.com>";
	m->subject = "ベンチマーク";
	m->verdict = "sanitized";
}

/* Seconds for n appends of 40 KB to one file, each followed by fdatasync. */
static double raw_fsync(const char *root, int n, const char *data)
{
	char path[4200];
	double t0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%.4000s/raw-fsync", root);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return -1;
	t0 = now_s();
	for (int i = 0; i < n && rc == 0; i++)
		if (write(fd, data, ORIG_SIZE) != ORIG_SIZE || fdatasync(fd) < 0)
			rc = -1;
	close(fd);
	return rc < 0 ? -1 : now_s() - t0;
}

/* Seconds for n puts the store process's way: batch of batch qstore_put. */
static double batch_api_time(qstore_t *s, int n, int batch, char *data)
{
	static const char *rcpt[] = { "user@city.example.lg.jp" };
	const char *rep = "{\"verdict\":\"sanitized\",\"removed\":[]}";
	double t0 = now_s();
	qstore_meta_t m;

	for (int i = 0; i < n; i += batch) {
		if (qstore_batch_begin(s) < 0)
			return -1;
		for (int k = 0; k < batch; k++) {
			fill_meta(&m, rcpt);
			memcpy(data, m.id, MUGAI_ID_LEN);
			if (qstore_put(s, &m, data, ORIG_SIZE, rep) < 0) {
				fprintf(stderr, "put: %s\n", qstore_errmsg(s));
				return -1;
			}
		}
		if (qstore_batch_end(s, true) < 0) {
			fprintf(stderr, "commit: %s\n", qstore_errmsg(s));
			return -1;
		}
	}
	return now_s() - t0;
}

/* Seconds for n puts in batches of batch (n a multiple of batch). */
static double puts_time(qstore_t *s, int n, int batch, char *data)
{
	static const char *rcpt[] = { "user@city.example.lg.jp" };
	qstore_meta_t m[64];
	const void *orig[64];
	size_t len[64];
	const char *rep[64];
	double t0 = now_s();
	char *bufs = malloc((size_t)batch * ORIG_SIZE);

	if (!bufs || batch > 64)
		return -1;
	for (int i = 0; i < n; i += batch) {
		for (int k = 0; k < batch; k++) {
			fill_meta(&m[k], rcpt);
			memcpy(bufs + (size_t)k * ORIG_SIZE, data, ORIG_SIZE);
			memcpy(bufs + (size_t)k * ORIG_SIZE, m[k].id, MUGAI_ID_LEN);
			orig[k] = bufs + (size_t)k * ORIG_SIZE;
			len[k] = ORIG_SIZE;
			rep[k] = "{\"verdict\":\"sanitized\",\"removed\":[]}";
		}
		if (qstore_put_batch(s, (size_t)batch, m, orig, len, rep) < 0) {
			fprintf(stderr, "put: %s\n", qstore_errmsg(s));
			free(bufs);
			return -1;
		}
	}
	free(bufs);
	return now_s() - t0;
}

#define ROUNDS 5

#define MEASURES 5

/* Interleave the measurements in rounds so that load from other processes
 * on a shared disk hits all of them alike. */
static int run(qstore_t *s, const char *root, int n, int batch, char *data,
	       double t[MEASURES])
{
	int per = (n / ROUNDS + batch - 1) / batch * batch;

	for (int r = 0; r < ROUNDS; r++) {
		double x[MEASURES] = { raw_fsync(root, per, data), ceiling(root, r * per, per, data),
				       puts_time(s, per, 1, data), puts_time(s, per, batch, data),
				       batch_api_time(s, per, batch, data) };

		for (int i = 0; i < MEASURES; i++) {
			if (x[i] < 0)
				return -1;
			t[i] += x[i];
		}
	}
	for (int i = 0; i < MEASURES; i++)
		t[i] = per * ROUNDS / t[i];
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "bench-store.tmp";
	int n = argc > 2 ? atoi(argv[2]) : 300, batch = argc > 3 ? atoi(argv[3]) : 16;
	char *data = malloc(ORIG_SIZE), err[256];
	double t[MEASURES] = { 0 };
	qstore_t *s = NULL;
	cfg_t cfg;
	int rc = 70;

	if (!data || n <= 0 || batch <= 0 || batch > 64 || cfg_init(&cfg) < 0 ||
	    cfg_set(&cfg, "state_dir", root, err, sizeof(err)) < 0 ||
	    getrandom(data, ORIG_SIZE, 0) != ORIG_SIZE)
		return 70;
	mkdir(root, 0700);
	if (qstore_open(&s, &cfg) < 0) {
		fprintf(stderr, "open: %s\n", s ? qstore_errmsg(s) : "oom");
		goto out;
	}
	if (run(s, root, n, batch, data, t) < 0)
		goto out;
	printf("store: raw fsync ceiling (40 KB append+fdatasync): %.0f ops/s\n", t[0]);
	printf("store: per-file recipe (40 KB write+fsync+rename+dir fsync): %.0f ops/s "
	       "(%.0f%% of raw)\n", t[1], 100 * t[1] / t[0]);
	printf("store: durable puts/s, one transaction each:  %.0f (%.0f%% of raw fsync)\n",
	       t[2], 100 * t[2] / t[0]);
	printf("store: durable puts/s, put_batch of %d:        %.0f (%.0f%% of raw fsync)\n",
	       batch, t[3], 100 * t[3] / t[0]);
	printf("store: durable puts/s, store-process batch of %d: %.0f (%.0f%% of raw fsync)\n",
	       batch, t[4], 100 * t[4] / t[0]);
	rc = 0;
out:
	qstore_close(s);
	cfg_free(&cfg);
	free(data);
	return rc;
}
