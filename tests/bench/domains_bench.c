// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the domain matcher (not a test: prints figures).
 *
 *   domains_bench POLICY.DB NAMES.TXT
 *
 * POLICY.DB holds the names of NAMES.TXT in a list (tests/bench/run.sh
 * imports them with sluicectl import). Measures:
 *   - sluice_policy_compile of the whole policy: wall time, and the heap it
 *     keeps (RSS after minus RSS before; the peak, VmHWM, too);
 *   - a bare struct sluice_domains of the same names: build time, bytes it
 *     holds (sluice_domains_bytes) per pattern;
 *   - lookups/s of names that hit (each pattern's own name, "www." below a
 *     "*." pattern) and that miss (each name under an extra TLD, so every
 *     label suffix is probed), through the bare set and through
 *     sluice_policy_match (bucket scan included), on one core.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sqlite3.h>

#include "agent/domains.h"
#include "agent/policy.h"

struct names {
	char *text;		/* NUL-terminated names one after another */
	size_t len, cap;
	size_t *off;
	size_t n, ncap;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A "VmRSS:" style line of /proc/self/status, in KiB. */
static long status_kib(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void push(struct names *s, const char *a, size_t alen, const char *b, size_t blen)
{
	if (s->n == s->ncap) {
		s->ncap = s->ncap ? s->ncap * 2 : 65536;
		s->off = realloc(s->off, s->ncap * sizeof(*s->off));
	}
	if (s->len + alen + blen + 1 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 20;
		while (s->cap < s->len + alen + blen + 1)
			s->cap *= 2;
		s->text = realloc(s->text, s->cap);
	}
	if (!s->off || !s->text) {
		fprintf(stderr, "domains_bench: out of memory\n");
		exit(1);
	}
	s->off[s->n++] = s->len;
	memcpy(s->text + s->len, a, alen);
	memcpy(s->text + s->len + alen, b, blen);
	s->len += alen + blen;
	s->text[s->len++] = '\0';
}

static const char *at(const struct names *s, size_t i)
{
	return s->text + s->off[i];
}

/* Patterns from the file's lines (the last word of each), queries made from them. */
static void read_names(const char *path, struct names *patterns, struct names *hits,
		       struct names *misses)
{
	char *line = NULL, *w;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		w = strrchr(line, ' ');
		w = w ? w + 1 : line;
		if (!*w)
			continue;
		push(patterns, w, strlen(w), "", 0);
		if (w[0] == '*' && w[1] == '.')
			push(hits, "www", 3, w + 1, strlen(w + 1));
		else
			push(hits, w, strlen(w), "", 0);
		push(misses, at(hits, hits->n - 1), strlen(at(hits, hits->n - 1)), ".invalid", 8);
	}
	free(line);
	fclose(f);
}

static double rate_set(const struct sluice_domains *d, const struct names *q, size_t *found)
{
	double t0 = now(), t;
	size_t i;

	*found = 0;
	for (i = 0; i < q->n; i++) {
		const char *s = at(q, i);
		size_t len = (i + 1 < q->n ? q->off[i + 1] : q->len) - q->off[i] - 1;

		*found += sluice_domains_lookup(d, s, len) != SLUICE_DOMAINS_NONE;
	}
	t = now() - t0;
	return (double)q->n / t;
}

static double rate_policy(const struct sluice_policy *p, const struct names *q, size_t *denied)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 443, .uid = -1 };
	double t0 = now();
	size_t i;

	f.dst[0] = 192;
	f.dst[3] = 1;
	*denied = 0;
	for (i = 0; i < q->n; i++) {
		f.domain = at(q, i);
		*denied += !sluice_policy_match(p, &f).allow;
	}
	return (double)q->n / (now() - t0);
}

int main(int argc, char *argv[])
{
	struct names patterns = { 0 }, hits = { 0 }, misses = { 0 };
	struct sluice_domains *d;
	struct sluice_policy *p;
	double t0, t_compile, t_build, r;
	long rss0, rss1;
	char err[512];
	const char *why;
	sqlite3 *db;
	size_t i, found;

	if (argc != 3) {
		fprintf(stderr, "usage: domains_bench POLICY.DB NAMES.TXT\n");
		return 2;
	}
	if (sluice_policy_open(argv[1], &db, err, sizeof(err)) < 0) {
		fprintf(stderr, "domains_bench: %s\n", err);
		return 1;
	}

	rss0 = status_kib("VmRSS");
	t0 = now();
	p = sluice_policy_compile(db, err, sizeof(err));
	t_compile = now() - t0;
	rss1 = status_kib("VmRSS");
	if (!p) {
		fprintf(stderr, "domains_bench: %s\n", err);
		return 1;
	}
	sqlite3_close(db);
	printf("%-44s %12zu\n", "policy: lists", sluice_policy_list_count(p));
	printf("%-44s %12zu\n", "policy: distinct domain patterns", sluice_policy_domain_count(p));
	printf("%-44s %12.3f\n", "policy compile (SQLite read + build), s", t_compile);
	printf("%-44s %12.1f\n", "policy compile: RSS kept, MiB", (double)(rss1 - rss0) / 1024);
	printf("%-44s %12.1f\n", "policy compile: RSS kept, bytes/pattern",
	       (double)(rss1 - rss0) * 1024 / (double)(sluice_policy_domain_count(p) ? sluice_policy_domain_count(p) : 1));
	printf("%-44s %12.1f\n", "process peak RSS after compile (VmHWM), MiB",
	       (double)status_kib("VmHWM") / 1024);

	read_names(argv[2], &patterns, &hits, &misses);
	t0 = now();
	d = sluice_domains_new(0);
	for (i = 0; i < patterns.n; i++)
		if (sluice_domains_add(d, at(&patterns, i), strlen(at(&patterns, i)), (uint32_t)i,
				       &why) == -ENOMEM)
			return 1;
	if (!d || sluice_domains_finish(d) < 0)
		return 1;
	t_build = now() - t0;
	printf("%-44s %12.3f\n", "bare set: build from memory, s", t_build);
	printf("%-44s %12.1f\n", "bare set: bytes held / pattern",
	       (double)sluice_domains_bytes(d) / (double)sluice_domains_count(d));

	r = rate_set(d, &hits, &found);
	printf("%-44s %12.2f  (%zu/%zu hit)\n", "bare set: lookups/s, hits (M)", r / 1e6, found, hits.n);
	r = rate_set(d, &misses, &found);
	printf("%-44s %12.2f  (%zu/%zu hit)\n", "bare set: lookups/s, misses (M)", r / 1e6, found, misses.n);
	r = rate_policy(p, &hits, &found);
	printf("%-44s %12.2f  (%zu/%zu denied)\n", "policy match/s, hits (M)", r / 1e6, found, hits.n);
	r = rate_policy(p, &misses, &found);
	printf("%-44s %12.2f  (%zu/%zu denied)\n", "policy match/s, misses (M)", r / 1e6, found, misses.n);

	sluice_domains_free(d);
	sluice_policy_free(p);
	free(patterns.text);
	free(patterns.off);
	free(hits.text);
	free(hits.off);
	free(misses.text);
	free(misses.off);
	return 0;
}
