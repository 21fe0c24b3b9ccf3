/*
 * metrics.c — shared counters and the Prometheus text file (see metrics.h).
 *
 * Spec: Prometheus text exposition format 0.0.4 (HELP and TYPE once per
 * family; counters, and the message time as a summary without quantiles),
 * as node_exporter's textfile collector reads it: a *.prom file replaced
 * whole (tmp + rename), readable by the collector's user (0644).
 *
 * SECURITY: master and session processes; no input from clients reaches
 * a metric name, only counts.
 */
#include "daemon/metrics.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/limits.h"

static const struct {
	const char *name, *help;
} table[M__COUNT] = {
#define MUGAID_METRIC_ROW(id, n, h) [M_##id] = { n, h },
	MUGAID_METRICS(MUGAID_METRIC_ROW)
#undef MUGAID_METRIC_ROW
};

static _Atomic uint64_t *counters;

int metrics_init(void)
{
	void *p = mmap(NULL, sizeof(*counters) * M__COUNT, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	counters = p;
	return 0;
}

void metrics_add(metric_id_t id, uint64_t n)
{
	if (counters)
		atomic_fetch_add(&counters[id], n);
}

uint64_t metrics_get(metric_id_t id)
{
	return counters ? atomic_load(&counters[id]) : 0;
}

/* "name{labels}" → its family: the bare name, without the _sum/_count of a
 * summary. *summary says which. */
static void family_name(const char *name, char *out, size_t n, bool *summary)
{
	size_t k = strcspn(name, "{");
	static const char *const sfx[] = { "_sum", "_count" };

	*summary = false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);

		if (k > l && strncmp(name + k - l, sfx[i], l) == 0) {
			k -= l;
			*summary = true;
		}
	}
	snprintf(out, n, "%.*s", (int)k, name);
}

/* Text format 0.0.4: one HELP and one TYPE line per family, before its
 * samples; a family's samples are contiguous in the table. */
static void write_all_metrics(FILE *f)
{
	char prev[METRIC_NAME_MAX] = "";

	for (int i = 0; i < M__COUNT; i++) {
		char fam[METRIC_NAME_MAX];
		bool summary;

		family_name(table[i].name, fam, sizeof(fam), &summary);
		if (strcmp(fam, prev) != 0) {
			fprintf(f, "# HELP %s %s\n", fam, table[i].help);
			fprintf(f, "# TYPE %s %s\n", fam, summary ? "summary" : "counter");
			snprintf(prev, sizeof(prev), "%s", fam);
		}
		fprintf(f, "%s %llu\n", table[i].name, (unsigned long long)metrics_get(i));
	}
}

bool metrics_path_ok(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);

	base = base ? base + 1 : path;
	return !*path || (n > 5 && strcmp(path + n - 5, ".prom") == 0 && base[0] != '.' &&
			  strlen(base) > 5);
}

/* The temp file is PATH.tmp: not *.prom, so node_exporter's textfile
 * collector never reads it half written; rename makes the new file appear
 * whole. Mode 0644 whatever the umask: the collector runs as another user,
 * and the file holds only counts. */
int metrics_write(const char *path)
{
	char tmp[PATH_BUF_MAX];
	FILE *f;
	int fd, rc = -1;

	if (!path || !*path || !counters)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	write_all_metrics(f);
	if (fflush(f) == 0 && !ferror(f))
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
