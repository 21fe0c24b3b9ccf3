/*
 * bench_store.c — durable quarantine puts per second for 40 KB originals
 * (blob + index row + audit record, every fsync on), against the ceiling of
 * the same disk measured in the same run: write 40 KB to a temp file, fsync,
 * rename, fsync the directory.
 *
 *   bench_store DIR [N] [BATCH]
 *
 * Prints the ceiling, single puts (one transaction each) and group-committed
 * puts (BATCH originals per transaction), with their ratios to the ceiling.
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

/* Interleave the three measurements in rounds so that load from other
 * processes on a shared disk hits all of them alike. */
static int run(qstore_t *s, const char *root, int n, int batch, char *data, double t[3])
{
	int per = (n / ROUNDS + batch - 1) / batch * batch;

	for (int r = 0; r < ROUNDS; r++) {
		double a = ceiling(root, r * per, per, data);
		double b = puts_time(s, per, 1, data);
		double c = puts_time(s, per, batch, data);

		if (a < 0 || b < 0 || c < 0)
			return -1;
		t[0] += a;
		t[1] += b;
		t[2] += c;
	}
	for (int i = 0; i < 3; i++)
		t[i] = per * ROUNDS / t[i];
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "bench-store.tmp";
	int n = argc > 2 ? atoi(argv[2]) : 300, batch = argc > 3 ? atoi(argv[3]) : 16;
	char *data = malloc(ORIG_SIZE), err[256];
	double t[3] = { 0, 0, 0 };
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
	printf("store: raw fsync ceiling (40 KB write+fsync+rename+dir fsync): %.0f ops/s\n", t[0]);
	printf("store: durable puts/s, one transaction each:  %.0f (%.0f%% of ceiling)\n",
	       t[1], 100 * t[1] / t[0]);
	printf("store: durable puts/s, group commit of %d:     %.0f (%.0f%% of ceiling)\n",
	       batch, t[2], 100 * t[2] / t[0]);
	rc = 0;
out:
	qstore_close(s);
	cfg_free(&cfg);
	free(data);
	return rc;
}
