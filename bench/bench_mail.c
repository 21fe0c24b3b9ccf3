/*
 * bench_mail.c — mail sanitizer throughput over a corpus directory, with a
 * GMime parse-only pass over the same bytes as the ceiling. One core, no
 * sandbox (the engine's cost alone); prints messages/s, MB/s, the ratio to
 * the ceiling and peak RSS.
 *
 * SECURITY: benchmark tool; trusted input.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <gmime/gmime.h>
#include "mail/mail.h"

typedef struct corpus {
	char **data;
	size_t *len;
	size_t n, bytes;
} corpus_t;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *dir, corpus_t *c)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0)
		return -1;
	c->data = calloc((size_t)n, sizeof(char *));
	c->len = calloc((size_t)n, sizeof(size_t));
	for (int i = 0; i < n; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
		if (!strstr(path, ".eml") || !(f = fopen(path, "rb")))
			continue;
		fseek(f, 0, SEEK_END);
		c->len[c->n] = (size_t)ftell(f);
		rewind(f);
		c->data[c->n] = malloc(c->len[c->n]);
		if (fread(c->data[c->n], 1, c->len[c->n], f) == c->len[c->n])
			c->bytes += c->len[c->n++];
		fclose(f);
	}
	free(ents);
	return 0;
}

static void parse_only(const corpus_t *c)
{
	for (size_t i = 0; i < c->n; i++) {
		GMimeStream *s = g_mime_stream_mem_new_with_buffer(c->data[i], c->len[i]);
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

		if (m)
			g_object_unref(m);
		g_object_unref(p);
		g_object_unref(s);
	}
}

static size_t sanitize_all(const cfg_t *cfg, const corpus_t *c)
{
	size_t out_bytes = 0;

	for (size_t i = 0; i < c->n; i++) {
		mail_report_t rep;
		buf_t out;

		buf_init(&out, 1 << 30);
		if (mail_sanitize(cfg, "20261125-000000-00000000", c->data[i], c->len[i], &out, &rep) < 0)
			abort();
		out_bytes += out.len;
		report_free(&rep);
		buf_free(&out);
	}
	return out_bytes;
}

static void report(const char *name, const corpus_t *c, double secs, int rounds)
{
	double msgs = (double)c->n * rounds;

	printf("%-28s %9.0f msg/s %8.1f MB/s\n", name, msgs / secs,
	       (double)c->bytes * rounds / secs / 1e6);
}

int main(int argc, char **argv)
{
	corpus_t c = { 0 };
	cfg_t cfg;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double t0, t_parse, t_san;
	struct rusage ru;

	if (argc < 2 || load(argv[1], &c) < 0 || c.n == 0 || cfg_init(&cfg) < 0 || mail_init() < 0) {
		fprintf(stderr, "usage: bench_mail CORPUS_DIR [ROUNDS]\n");
		return 64;
	}
	printf("corpus: %zu messages, %.1f MB, mean %.1f KB, %d rounds\n", c.n, c.bytes / 1e6,
	       c.bytes / 1024.0 / (double)c.n, rounds);
	sanitize_all(&cfg, &c); /* warm up */
	t0 = now();
	for (int r = 0; r < rounds; r++)
		parse_only(&c);
	t_parse = now() - t0;
	t0 = now();
	for (int r = 0; r < rounds; r++)
		sanitize_all(&cfg, &c);
	t_san = now() - t0;
	report("gmime parse-only (ceiling)", &c, t_parse, rounds);
	report("mugai mail sanitize", &c, t_san, rounds);
	printf("sanitize / ceiling: %.0f%%   (target >= 50%%, and >= 2000 msg/s)\n",
	       100.0 * t_parse / t_san);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %.1f MB (whole corpus held in memory: %.1f MB)\n", ru.ru_maxrss / 1024.0,
	       c.bytes / 1e6);
	return 0;
}
