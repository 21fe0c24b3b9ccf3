/*
 * metrics.c — shared counters and the Prometheus text file (see metrics.h).
 *
 * Spec: Prometheus text exposition format 0.0.4.
 *
 * SECURITY: master and session processes; no input from clients reaches
 * a metric name, only counts.
 */
#include "daemon/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

/* "name{labels}" → the bare name, for HELP/TYPE lines. */
static void base_name(const char *name, char *out, size_t n)
{
	size_t k = strcspn(name, "{");

	snprintf(out, n, "%.*s", (int)k, name);
}

static void write_all_metrics(FILE *f)
{
	for (int i = 0; i < M__COUNT; i++) {
		char base[128];

		base_name(table[i].name, base, sizeof(base));
		if (table[i].help[0]) {
			fprintf(f, "# HELP %s %s\n", base, table[i].help);
			fprintf(f, "# TYPE %s %s\n", base,
				strstr(base, "_sum") || strstr(base, "_count") ? "untyped" : "counter");
		}
		fprintf(f, "%s %llu\n", table[i].name, (unsigned long long)metrics_get(i));
	}
}

int metrics_write(const char *path)
{
	char tmp[PATH_BUF_MAX];
	FILE *f;
	int rc = -1;

	if (!path || !*path || !counters)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
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
