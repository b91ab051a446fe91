// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics file: every line is valid Prometheus text exposition, every
 * family has its HELP and TYPE before its samples, values are numbers,
 * counters end in _total; every counter of the module has a metric; the
 * nfnetlink_queue lines of our queues are read and a bad one refused; a
 * reader in a loop never sees a partial file while it is rewritten, and
 * the check that says so does see every cut file (its control); a path
 * that cannot be written is one sentence naming it.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/metrics.h"
#include "agent/status.h"

/* A snapshot with everything in it: module, queues, counters. */
static void full_metrics(struct sluice_metrics *m, unsigned int nq)
{
	unsigned int s, i;

	memset(m, 0, sizeof(*m));
	m->now = 1700000000.25;
	m->agent_up = true;
	m->agent_start = 1699999000.5;
	m->version = "0.1.0 \"x\"\\";	/* a label value to escape */
	m->answered = 12;
	m->allowed = 7;
	m->denied = 3;
	m->reloads = 2;
	m->reload_failures = 1;
	m->rules = 5;
	m->policy_error = true;
	m->log_on = m->journal_on = true;
	m->log_written = 9;
	m->threads = 2;
	m->module_loaded = true;
	m->module.mode = SLUICE_MODE_ENFORCING;
	m->module.heartbeat_age_ms = 40;
	m->module.config.watchdog_ms = 250;
	m->module.have = SLUICE_HAVE_HEARTBEAT | SLUICE_HAVE_WATCHDOG;
	for (s = 0; s < __SLUICE_STAT_MAX; s++) {
		m->module.stats[s] = 1000 + s;
		m->module.stats_have |= 1ULL << s;
	}
	m->nfq_readable = true;
	m->nfq_n = nq;
	for (i = 0; i < nq; i++) {
		m->nfq[i].queue_num = (uint16_t)i;
		m->nfq[i].total = i;
		m->nfq[i].dropped = 2 * i;
		m->nfq[i].user_dropped = 3 * i;
	}
}

static char *format(const struct sluice_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	sluice_metrics_format(f, m);
	fclose(f);
	return buf;
}

#define LAST_LINE	"sluice_metrics_timestamp_seconds "

/*
 * Checks @text as the exposition format wants it; returns the number of
 * samples, or -1 with the reason in @why. @whole: also that it ends with
 * the timestamp's line, which sluice_metrics_format() writes last, so a
 * file cut at any byte fails.
 */
static int validate(const char *text, bool whole, char *why, size_t whylen)
{
	static regex_t help, type, sample;
	static int compiled;
	char helped[128][96], typed[128][96];
	int nhelp = 0, ntype = 0, samples = 0;
	const char *line = text;

	if (!compiled) {
		assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]+$", REG_EXTENDED), 0);
		assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$", REG_EXTENDED), 0);
		assert_int_equal(regcomp(&sample,
					 "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
					 "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
					 "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})?"
					 " ([-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?)$",
					 REG_EXTENDED), 0);
		compiled = 1;
	}
	if (whole) {
		size_t len = strlen(text);
		const char *last;

		if (!len || text[len - 1] != '\n') {
			snprintf(why, whylen, "the file does not end with a newline");
			return -1;
		}
		last = text + len - 1;
		while (last > text && last[-1] != '\n')
			last--;
		if (strncmp(last, LAST_LINE, strlen(LAST_LINE))) {
			snprintf(why, whylen, "the last line is not the timestamp's");
			return -1;
		}
	}
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512], name[96];
		regmatch_t mt[8];
		int i, found;

		if (n >= sizeof(buf)) {
			snprintf(why, whylen, "a line of %zu bytes", n);
			return -1;
		}
		memcpy(buf, line, n);
		buf[n] = '\0';
		line += n + (nl ? 1 : 0);
		if (!regexec(&help, buf, 2, mt, 0)) {
			snprintf(helped[nhelp++ & 127], 96, "%.*s",
				 (int)(mt[1].rm_eo - mt[1].rm_so), buf + mt[1].rm_so);
			continue;
		}
		if (!regexec(&type, buf, 3, mt, 0)) {
			snprintf(name, sizeof(name), "%.*s",
				 (int)(mt[1].rm_eo - mt[1].rm_so), buf + mt[1].rm_so);
			for (i = 0; i < ntype; i++)
				if (!strcmp(typed[i], name)) {
					snprintf(why, whylen, "TYPE of %s twice", name);
					return -1;
				}
			if (!strcmp(buf + mt[2].rm_so, "counter") &&
			    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total"))) {
				snprintf(why, whylen, "counter %s does not end in _total", name);
				return -1;
			}
			snprintf(typed[ntype++ & 127], 96, "%s", name);
			continue;
		}
		if (regexec(&sample, buf, 8, mt, 0)) {
			snprintf(why, whylen, "not an exposition line: \"%s\"", buf);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s",
			 (int)(mt[1].rm_eo - mt[1].rm_so), buf + mt[1].rm_so);
		for (found = 0, i = 0; i < nhelp && i < 128; i++)
			found |= !strcmp(helped[i], name);
		for (i = 0; i < ntype && i < 128; i++)
			found |= (!strcmp(typed[i], name)) << 1;
		if (found != 3) {
			snprintf(why, whylen, "sample of %s without %s before it", name,
				 found & 1 ? "TYPE" : "HELP");
			return -1;
		}
		samples++;
	}
	return samples;
}

static void every_line_is_exposition_format_with_help_and_type(void **state)
{
	struct sluice_metrics m;
	char why[256] = "";
	char *text;
	int n;

	(void)state;
	full_metrics(&m, 3);
	text = format(&m);
	n = validate(text, false, why, sizeof(why));
	if (n < 0)
		fail_msg("%s in:\n%s", why, text);
	/* What operators look for, by name and label. */
	assert_non_null(strstr(text, "\nsluice_decisions_total{action=\"allow\"} 7\n"));
	assert_non_null(strstr(text, "\nsluice_decisions_total{action=\"deny\"} 3\n"));
	assert_non_null(strstr(text, "\nsluice_agent_up 1\n"));
	assert_non_null(strstr(text, "\nsluice_metrics_timestamp_seconds 1700000000.250\n"));
	assert_non_null(strstr(text, "\nsluice_policy_refused_edits_total 1\n"));
	assert_non_null(strstr(text, "\nsluice_module_queued_packets_total 1002\n"));
	assert_non_null(strstr(text, "\nsluice_module_mode{mode=\"enforcing\"} 1\n"));
	assert_non_null(strstr(text, "\nsluice_module_mode{mode=\"no-agent\"} 0\n"));
	assert_non_null(strstr(text, "\nsluice_nfqueue_dropped_packets_total{queue=\"2\"} 4\n"));
	assert_non_null(strstr(text, "\nsluice_nfqueue_user_dropped_packets_total{queue=\"2\"} 6\n"));
	assert_non_null(strstr(text, "\nsluice_nfqueue_waiting_packets{queue=\"1\"} 1\n"));
	assert_non_null(strstr(text, "sluice_agent_info{version=\"0.1.0 \\\"x\\\"\\\\\"} 1\n"));
	free(text);

	/* Without module and queues: still valid, and says so. */
	full_metrics(&m, 0);
	m.module_loaded = false;
	m.nfq_readable = false;
	m.agent_up = false;
	text = format(&m);
	if (validate(text, false, why, sizeof(why)) < 0)
		fail_msg("%s in:\n%s", why, text);
	assert_non_null(strstr(text, "\nsluice_module_loaded 0\n"));
	assert_non_null(strstr(text, "\nsluice_agent_up 0\n"));
	assert_null(strstr(text, "sluice_module_queued"));
	free(text);
}

/* The control of the checker: it refuses what is not the format. */
static void the_checker_refuses_bad_lines(void **state)
{
	static const char *const bad[] = {
		"# HELP a_total x\n# TYPE a_total counter\na_total one\n",
		"# HELP a x\n# TYPE a counter\na 1\n",		/* counter without _total */
		"a_total 1\n",					/* no HELP, no TYPE */
		"# HELP a_total x\na_total 1\n",		/* no TYPE */
		"# HELP a_total x\n# TYPE a_total counter\na_total{x=1} 1\n",
		"# HELP a_total x\n# TYPE a_total counter\na_total 1 2 3\n",
		"# HELP a_total x\n# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n",
	};
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (validate(bad[i], false, why, sizeof(why)) >= 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(validate("# HELP a_total x\n# TYPE a_total counter\na_total{q=\"1\"} 1.5\n",
				  false, why, sizeof(why)), 1);
}

static void every_module_counter_has_a_metric(void **state)
{
	static const char *const names[__SLUICE_STAT_MAX] = SLUICE_STAT_NAMES;
	unsigned int s, t;

	(void)state;
	for (s = 0; s < __SLUICE_STAT_MAX; s++) {
		const char *mn = sluice_metrics_stat_name(s);

		if (!names[s]) {
			assert_null(mn);
			continue;
		}
		if (!mn)
			fail_msg("module counter %s has no metric", names[s]);
		assert_non_null(strstr(mn, "sluice_module_"));
		for (t = 0; t < s; t++)
			if (sluice_metrics_stat_name(t))
				assert_string_not_equal(mn, sluice_metrics_stat_name(t));
	}
}

static void nfqueue_lines_of_our_queues_are_read(void **state)
{
	/* As nfnetlink_queue's seq_show writes them. */
	static const char text[] =
		"    0   1234     3 2 65531     7     8       99  1\n"
		"    1   1235     0 2 65531     0     0       12  1\n"
		"    5   1236     4 2 65531     1     2       13  1\n";
	struct sluice_nfqueue_stats q[4];
	char err[256];

	(void)state;
	assert_int_equal(sluice_nfqueue_parse(text, 0, 2, q), 2);
	assert_int_equal(q[0].queue_num, 0);
	assert_int_equal(q[0].portid, 1234);
	assert_int_equal(q[0].total, 3);
	assert_int_equal(q[0].dropped, 7);
	assert_int_equal(q[0].user_dropped, 8);
	assert_int_equal(q[0].id_sequence, 99);
	assert_int_equal(q[1].queue_num, 1);
	assert_int_equal(sluice_nfqueue_parse(text, 5, 1, q), 1);
	assert_int_equal(q[0].dropped, 1);
	assert_int_equal(sluice_nfqueue_parse(text, 2, 3, q), 0);	/* nobody bound them */
	assert_int_equal(sluice_nfqueue_parse("", 0, 1, q), 0);
	/* A line of our queue that is not the kernel's: refused. */
	assert_int_equal(sluice_nfqueue_parse("    0   1234     3 x\n", 0, 1, q), -1);
	/* ... another queue's is none of our business. */
	assert_int_equal(sluice_nfqueue_parse("    7   1234     3 x\n", 0, 1, q), 0);
	assert_int_equal(sluice_nfqueue_read("/nonexistent/nfnetlink_queue", 0, 1, q,
					     err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nfnetlink_queue is not loaded"));
}

struct reader {
	const char *path;
	atomic_int stop;
	atomic_int reads;
	int partial, missing;
	char why[256];
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	static char buf[1 << 16];

	while (!atomic_load(&r->stop)) {
		FILE *f = fopen(r->path, "r");
		size_t n;

		if (!f) {
			r->missing++;
			continue;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		atomic_fetch_add(&r->reads, 1);
		if (validate(buf, true, r->why, sizeof(r->why)) < 0)
			r->partial++;
	}
	return NULL;
}

static void a_reader_never_sees_a_partial_file(void **state)
{
	char dir[] = "/tmp/sluice-metrics-test.XXXXXX", path[128], err[256];
	struct sluice_metrics a, b;
	struct reader r = { 0 };
	char *ta, *tb, why[256];
	pthread_t t;
	size_t i, len;
	int writes;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sluice.prom", dir);
	full_metrics(&a, 1);
	full_metrics(&b, SLUICE_QUEUE_COUNT_MAX);	/* a much longer file */
	ta = format(&a);
	tb = format(&b);
	assert_true(validate(ta, true, why, sizeof(why)) > 0);
	assert_true(validate(tb, true, why, sizeof(why)) >
		    validate(ta, true, why, sizeof(why)));

	/* Control: every cut of the longer file is seen as partial. */
	for (len = strlen(tb), i = 0; i < len; i++) {
		char *cut = strndup(tb, i);

		if (validate(cut, true, why, sizeof(why)) >= 0)
			fail_msg("a file cut at byte %zu passes as whole", i);
		free(cut);
	}

	assert_int_equal(sluice_metrics_write(path, &a, err, sizeof(err)), 0);
	r.path = path;
	assert_int_equal(pthread_create(&t, NULL, read_loop, &r), 0);
	/*
	 * 2000 writes, and on until the reader has read 100 times while they
	 * go on: on a busy machine the reader thread may not run before the
	 * first 2000 are done (bounded, a million writes at most).
	 */
	for (writes = 0; writes < 2000 || (atomic_load(&r.reads) < 100 && writes < 1000000);
	     writes++)
		assert_int_equal(sluice_metrics_write(path, writes % 2 ? &a : &b,
						      err, sizeof(err)), 0);
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	print_message("%d writes, %d reads, %d partial, %d without a file\n",
		      writes, atomic_load(&r.reads), r.partial, r.missing);
	assert_true(atomic_load(&r.reads) >= 100);
	if (r.partial)
		fail_msg("%d of %d reads saw a partial file: %s", r.partial,
			 atomic_load(&r.reads), r.why);
	assert_int_equal(r.missing, 0);

	/* Readable by the collector's user; no temporary file left behind. */
	{
		struct stat sb;
		char cmd[256];

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0644);
		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
		assert_int_equal(system(cmd), 0);
	}
	unlink(path);
	rmdir(dir);
	free(ta);
	free(tb);
}

static void a_path_that_cannot_be_written_is_one_sentence(void **state)
{
	char dir[] = "/tmp/sluice-metrics-test.XXXXXX", err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sluice_metrics_probe("/nonexistent/dir/sluice.prom", err, sizeof(err)), -1);
	assert_string_equal(err, "cannot write metrics file /nonexistent/dir/sluice.prom: directory /nonexistent/dir: No such file or directory");
	assert_int_equal(sluice_metrics_probe(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a directory"));
	/* Control: a writable directory passes, and the probe leaves nothing. */
	{
		char path[128], cmd[160];

		snprintf(path, sizeof(path), "%s/sluice.prom", dir);
		assert_int_equal(sluice_metrics_probe(path, err, sizeof(err)), 0);
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", dir);
		assert_int_equal(system(cmd), 0);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_line_is_exposition_format_with_help_and_type),
		cmocka_unit_test(the_checker_refuses_bad_lines),
		cmocka_unit_test(every_module_counter_has_a_metric),
		cmocka_unit_test(nfqueue_lines_of_our_queues_are_read),
		cmocka_unit_test(a_reader_never_sees_a_partial_file),
		cmocka_unit_test(a_path_that_cannot_be_written_is_one_sentence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
