// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl report --html FILE [--since DURATION] [--log-db PATH]
 *
 * One HTML page about the last DURATION (default 24h) of the decision
 * log, for people who would rather look than read rows: the decisions
 * over time (allowed and denied, stacked bars a time bucket), the names
 * denied most, the busiest programs and rules, and the agent's history
 * (starts, stops, policy reloads, refused edits, and the spans with no
 * agent, when the module's fail_mode decided alone). Five charts, each an
 * inline <svg> drawn here; the page loads nothing (no URL, no script) and
 * every string from the database is escaped, so a name such as
 * "<script>" is shown, never run. Every bar carries its count in
 * data-count, the same number as the rows it stands for.
 *
 * The page is written to a temporary file beside FILE and renamed over
 * it: a reader never sees half a report.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

#define DEFAULT_SINCE_MS	(24 * 3600 * 1000LL)
#define TOP_N			10
#define MAX_BUCKETS		60
#define CHART_W			720
#define BAR_H			20

struct report {
	FILE *f;
	sqlite3 *db;
	int64_t since, now;		/* unix ms */
};

struct bar {
	char *key;
	int64_t denied, allowed;
};

struct bars {
	struct bar b[TOP_N];
	int n;
};

struct event {
	int64_t time;
	char kind[16];
	char *detail;
};

static void report_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl report --html FILE [--since DURATION] [--log-db PATH]\n"
		"\n"
		"Writes one self-contained HTML page (inline SVG charts, nothing loaded\n"
		"from elsewhere) about the decision log: decisions over time, the names\n"
		"denied most, the busiest programs and rules, and the agent's starts,\n"
		"stops, reloads and refused policy edits.\n"
		"\n"
		"  --html FILE       the page to write (replaced whole, atomically)\n"
		"  --since DURATION  the span shown: 90s, 15m, 2h, 7d (default 24h)\n"
		"  --log-db PATH     the decision log (default: the running agent's)\n");
}

/* @s as HTML text or attribute value: nothing in it can open a tag. */
static void html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control bytes are not allowed in HTML text. */
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		}
	}
}

static void utc(char *buf, size_t len, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void span(char *buf, size_t len, int64_t ms)
{
	int64_t s = ms / 1000;

	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
}

/* ------------------------------------------------------------------ */
/* Decisions over time                                                 */
/* ------------------------------------------------------------------ */

/* The smallest round bucket that cuts @span_ms into at most MAX_BUCKETS. */
static int64_t bucket_ms(int64_t span_ms)
{
	static const int64_t steps_s[] = {
		1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
	};
	size_t i;

	for (i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++)
		if (span_ms / (steps_s[i] * 1000) < MAX_BUCKETS)
			return steps_s[i] * 1000;
	return (span_ms / MAX_BUCKETS / 86400000 + 1) * 86400000;
}

static int chart_over_time(struct report *r)
{
	const int x0 = 60, y0 = 20, w = CHART_W - x0 - 10, h = 200;
	int64_t b = bucket_ms(r->now - r->since), first = r->since / b, n = r->now / b - first + 1;
	int64_t *deny = calloc((size_t)n, sizeof(*deny)), *allow = calloc((size_t)n, sizeof(*allow));
	int64_t i, max = 0;
	char from[40], to[40], step[32];
	sqlite3_stmt *st;
	int rc = -1;

	if (!deny || !allow)
		goto out;
	if (sqlite3_prepare_v2(r->db, "SELECT time / ?1, sum(action = 'deny'), sum(action = 'allow')"
			       " FROM decisions WHERE time >= ?2 GROUP BY 1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, b);
	sqlite3_bind_int64(st, 2, r->since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		i = sqlite3_column_int64(st, 0) - first;
		if (i < 0 || i >= n)	/* a clock set back: rows from the future */
			continue;
		deny[i] = sqlite3_column_int64(st, 1);
		allow[i] = sqlite3_column_int64(st, 2);
		if (deny[i] + allow[i] > max)
			max = deny[i] + allow[i];
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto out;
	rc = 0;

	utc(from, sizeof(from), first * b);
	utc(to, sizeof(to), (first + n) * b);
	span(step, sizeof(step), b);
	fprintf(r->f, "<h2>Decisions over time</h2>\n<p>Flows allowed and denied a %s bucket.</p>\n"
		"<svg id=\"over-time\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" role=\"img\">\n",
		step, CHART_W, h + 60, CHART_W, h + 60);
	fprintf(r->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
		x0, y0 + h, x0 + w, y0 + h);
	fprintf(r->f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
		x0 - 6, y0 + 10, (long long)max, x0 - 6, y0 + h);
	fprintf(r->f, "<text x=\"%d\" y=\"%d\">%s</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
		x0, y0 + h + 20, from, x0 + w, y0 + h + 20, to);
	if (!max)
		fprintf(r->f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no decisions in this span</text>\n",
			x0 + w / 2, y0 + h / 2);
	for (i = 0; i < n && max; i++) {
		double bw = (double)w / (double)n, x = x0 + bw * (double)i;
		double ha = (double)h * (double)allow[i] / (double)max;
		double hd = (double)h * (double)deny[i] / (double)max;
		char when[40];

		utc(when, sizeof(when), (first + i) * b);
		if (allow[i])
			fprintf(r->f, "<rect class=\"allow\" data-count=\"%lld\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>%s: %lld allowed</title></rect>\n", (long long)allow[i], x,
				y0 + h - ha, bw * 0.9, ha, when, (long long)allow[i]);
		if (deny[i])
			fprintf(r->f, "<rect class=\"deny\" data-count=\"%lld\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>%s: %lld denied</title></rect>\n", (long long)deny[i], x,
				y0 + h - ha - hd, bw * 0.9, hd, when, (long long)deny[i]);
	}
	fputs("</svg>\n", r->f);
out:
	free(deny);
	free(allow);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Top names, programs and rules                                       */
/* ------------------------------------------------------------------ */

static void add_bar(void *ctx, const char *key, int64_t denied, int64_t allowed)
{
	struct bars *bs = ctx;

	if (bs->n < TOP_N) {
		bs->b[bs->n].key = strdup(key ? key : "");
		bs->b[bs->n].denied = denied;
		bs->b[bs->n].allowed = allowed;
		bs->n++;
	}
}

static void bar_rect(FILE *f, const char *class, int64_t count, const char *key,
		     double x, int y, double w)
{
	if (!count)
		return;
	fprintf(f, "<rect class=\"%s\" data-count=\"%lld\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>",
		class, (long long)count, x, y, w, BAR_H - 4);
	html(f, key);
	fprintf(f, ": %lld %s</title></rect>\n", (long long)count, !strcmp(class, "deny") ? "denied" : "allowed");
}

/* A chart of horizontal bars, denied then allowed, for the top keys of @t. */
static int chart_top(struct report *r, const char *id, const char *title,
		     const struct sluicectl_tally *t, int denied_only)
{
	const int label_w = 300, x0 = label_w + 10, w = CHART_W - x0 - 130;
	struct bars bs = { .n = 0 };
	int64_t max = 0;
	int i, y, rc;

	rc = sluicectl_tally(r->db, t, denied_only, r->since, TOP_N, add_bar, &bs);
	for (i = 0; i < bs.n; i++)
		if (bs.b[i].denied + bs.b[i].allowed > max)
			max = bs.b[i].denied + bs.b[i].allowed;
	fprintf(r->f, "<h2>%s</h2>\n<svg id=\"%s\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" role=\"img\">\n", title, id, CHART_W, bs.n * BAR_H + 30,
		CHART_W, bs.n * BAR_H + 30);
	if (!bs.n)
		fputs("<text x=\"10\" y=\"20\">none in this span</text>\n", r->f);
	for (i = 0; i < bs.n && rc == 0; i++) {
		struct bar *b = &bs.b[i];
		double wd = (double)w * (double)b->denied / (double)max;
		double wa = (double)w * (double)b->allowed / (double)max;

		y = 10 + i * BAR_H;
		fprintf(r->f, "<text class=\"key\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w, y + 12);
		html(r->f, b->key);
		fputs("</text>\n", r->f);
		bar_rect(r->f, "deny", b->denied, b->key, x0, y, wd);
		if (!denied_only)
			bar_rect(r->f, "allow", b->allowed, b->key, x0 + wd, y, wa);
		if (denied_only)
			fprintf(r->f, "<text x=\"%.1f\" y=\"%d\">%lld denied</text>\n",
				x0 + wd + 6, y + 12, (long long)b->denied);
		else
			fprintf(r->f, "<text x=\"%.1f\" y=\"%d\">%lld denied, %lld allowed</text>\n",
				x0 + wd + wa + 6, y + 12, (long long)b->denied, (long long)b->allowed);
	}
	fputs("</svg>\n", r->f);
	for (i = 0; i < bs.n; i++)
		free(bs.b[i].key);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The agent's history                                                 */
/* ------------------------------------------------------------------ */

static int has_events_table(sqlite3 *db)
{
	return sqlite3_exec(db, "SELECT 1 FROM events LIMIT 0", NULL, NULL, NULL) == SQLITE_OK;
}

/* The last sign of life of an agent before @t: a decision or an event; 0 none. */
static int64_t last_alive_before(sqlite3 *db, int64_t t)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT max(ifnull((SELECT max(time) FROM decisions WHERE time < ?1), 0),"
			       " ifnull((SELECT max(time) FROM events WHERE time < ?1), 0))",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, t);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * The events of the span, and one before it: was the agent stopped when
 * the span began? *n of them into *out (freed by the caller).
 */
static int read_events(struct report *r, struct event **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT time, kind, detail FROM events"
			       " WHERE time >= (SELECT ifnull(max(time), 0) FROM events WHERE time < ?1)"
			       " ORDER BY time, id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, r->since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *detail = (const char *)sqlite3_column_text(st, 2);

		if (*n == cap) {
			struct event *e = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof(**out));

			if (!e) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = e;
		}
		(*out)[*n].time = sqlite3_column_int64(st, 0);
		snprintf((*out)[*n].kind, sizeof((*out)[*n].kind), "%s", kind ? kind : "?");
		(*out)[*n].detail = detail ? strdup(detail) : NULL;
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A span without an agent: [from, to), and why it began. */
struct away {
	int64_t from, to;
	const char *why;
};

/*
 * The spans without an agent: from a stop to the next start; and from the
 * last sign of life to a start that no stop came before (the agent was
 * killed or crashed). A stop with no start after it runs to now.
 */
static size_t away_spans(struct report *r, const struct event *ev, size_t n,
			 struct away *out, size_t max)
{
	int64_t stopped = -1;
	int running = 0;
	size_t i, k = 0;

	for (i = 0; i < n && k < max; i++) {
		if (!strcmp(ev[i].kind, "stop")) {
			stopped = ev[i].time;
			running = 0;
		} else if (!strcmp(ev[i].kind, "start")) {
			if (stopped >= 0) {
				out[k++] = (struct away){ stopped, ev[i].time, "stopped" };
			} else if (running) {
				int64_t alive = last_alive_before(r->db, ev[i].time);

				if (alive)
					out[k++] = (struct away){ alive, ev[i].time,
								  "ended without a stop (killed or crashed)" };
			}
			stopped = -1;
			running = 1;
		} else {
			running = stopped < 0;
		}
	}
	if (stopped >= 0 && k < max)
		out[k++] = (struct away){ stopped, r->now, "stopped, not started again" };
	return k;
}

static double time_x(const struct report *r, int64_t t, int x0, int w)
{
	if (t < r->since)
		t = r->since;
	return x0 + (double)w * (double)(t - r->since) / (double)(r->now - r->since);
}

static int chart_history(struct report *r)
{
	const int x0 = 10, w = CHART_W - 20, h = 60;
	struct away away[256];
	struct event *ev;
	size_t n, na, i;
	char a[40], b[40], len[32];

	fputs("<h2>Failure-mode history</h2>\n", r->f);
	if (!has_events_table(r->db)) {
		fputs("<p>This decision log has no events table (an older sluiced wrote it): no record"
		      " of the agent's starts, stops and reloads.</p>\n"
		      "<svg id=\"history\" width=\"720\" height=\"30\">"
		      "<text x=\"10\" y=\"20\">no history</text></svg>\n", r->f);
		return 0;
	}
	if (read_events(r, &ev, &n) < 0)
		return -1;
	na = away_spans(r, ev, n, away, sizeof(away) / sizeof(away[0]));
	fputs("<p>Spans with no agent (new flows followed the module's fail_mode: open lets them through"
	      " unvetted), starts, stops, policy reloads and refused policy edits (the policy before"
	      " them stayed in force).</p>\n", r->f);
	fprintf(r->f, "<svg id=\"history\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" role=\"img\">\n", CHART_W, h + 30, CHART_W, h + 30);
	fprintf(r->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
		x0, h, x0 + w, h);
	for (i = 0; i < na; i++) {
		double xa = time_x(r, away[i].from, x0, w), xb = time_x(r, away[i].to, x0, w);

		utc(a, sizeof(a), away[i].from);
		span(len, sizeof(len), away[i].to - away[i].from);
		fprintf(r->f, "<rect class=\"away\" data-from=\"%lld\" data-to=\"%lld\" x=\"%.1f\" y=\"10\""
			" width=\"%.1f\" height=\"%d\"><title>no agent for %s from %s: %s</title></rect>\n",
			(long long)away[i].from, (long long)away[i].to, xa,
			xb - xa < 1 ? 1 : xb - xa, h - 10, len, a, away[i].why);
	}
	for (i = 0; i < n; i++) {
		double x;

		if (ev[i].time < r->since)
			continue;
		x = time_x(r, ev[i].time, x0, w);
		utc(a, sizeof(a), ev[i].time);
		fprintf(r->f, "<line class=\"event %s\" x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"%d\"><title>%s %s",
			ev[i].kind, x, x, h, a, ev[i].kind);
		if (ev[i].detail) {
			fputs(": ", r->f);
			html(r->f, ev[i].detail);
		}
		fputs("</title></line>\n", r->f);
	}
	utc(a, sizeof(a), r->since);
	utc(b, sizeof(b), r->now);
	fprintf(r->f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n</svg>\n",
		x0, h + 20, a, x0 + w, h + 20, b);

	fprintf(r->f, "<table id=\"away\"><tr><th>no agent from</th><th>to</th><th>for</th><th>why</th></tr>\n");
	for (i = 0; i < na; i++) {
		utc(a, sizeof(a), away[i].from);
		utc(b, sizeof(b), away[i].to);
		span(len, sizeof(len), away[i].to - away[i].from);
		fprintf(r->f, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", a, b, len, away[i].why);
	}
	fprintf(r->f, "</table>\n<table id=\"events\"><tr><th>time</th><th>event</th><th>detail</th></tr>\n");
	for (i = 0; i < n; i++) {
		if (ev[i].time >= r->since) {
			utc(a, sizeof(a), ev[i].time);
			fprintf(r->f, "<tr class=\"%s\"><td>%s</td><td>%s</td><td>", ev[i].kind, a, ev[i].kind);
			html(r->f, ev[i].detail);
			fputs("</td></tr>\n", r->f);
		}
		free(ev[i].detail);
	}
	fputs("</table>\n", r->f);
	free(ev);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The page                                                            */
/* ------------------------------------------------------------------ */

static const char style[] =
	"body{font:14px sans-serif;margin:2em;color:#222}"
	"svg text{font:12px sans-serif;fill:#222}"
	".allow{fill:#2e7d32}.deny{fill:#c62828}.away{fill:#ef6c00;opacity:.6}"
	".axis{stroke:#888}.event{stroke:#1565c0;stroke-width:2}.event.refused{stroke:#6a1b9a}"
	"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}";

static int write_page(struct report *r, const char *log_path)
{
	int64_t denied, allowed;
	char a[40], b[40];

	if (sluicectl_tally_total(r->db, r->since, &denied, &allowed) < 0)
		return -1;
	utc(a, sizeof(a), r->since);
	utc(b, sizeof(b), r->now);
	fprintf(r->f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>sluice report</title>\n<style>%s</style>\n</head>\n<body>\n"
		"<h1>sluice report</h1>\n<p>From %s to %s, decision log <code>", style, a, b);
	html(r->f, log_path);
	fprintf(r->f, "</code>.</p>\n<p id=\"totals\"><span class=\"total\">%lld</span> decisions:"
		" <span class=\"denied\">%lld</span> denied, <span class=\"allowed\">%lld</span> allowed.</p>\n",
		(long long)(denied + allowed), (long long)denied, (long long)allowed);
	if (chart_over_time(r) < 0 ||
	    chart_top(r, "top-denied-names", "Names denied most", &sluicectl_tally_names, 1) < 0 ||
	    chart_top(r, "top-programs", "Busiest programs", &sluicectl_tally_programs, 0) < 0 ||
	    chart_top(r, "top-rules", "Rules that decided most", &sluicectl_tally_rules, 0) < 0 ||
	    chart_history(r) < 0)
		return -1;
	fputs("</body>\n</html>\n", r->f);
	return 0;
}

/*
 * The page into a temporary file beside @file, then renamed over it.
 * 0, or -1 after one sentence on stderr (the database's errors are the
 * caller's to say: *db_failed set).
 */
static int write_atomically(struct report *r, const char *file, const char *log_path, int *db_failed)
{
	char *copy = strdup(file), tmp[4200];
	mode_t mask;
	int fd, err;

	*db_failed = 0;
	if (!copy || snprintf(tmp, sizeof(tmp), "%s/.sluice-report.XXXXXX", dirname(copy)) >= (int)sizeof(tmp)) {
		free(copy);
		fprintf(stderr, "sluicectl report: cannot write %s: the path is too long\n", file);
		return -1;
	}
	free(copy);
	fd = mkstemp(tmp);
	if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
		fprintf(stderr, "sluicectl report: cannot write %s: %s\n", file, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0644 & ~mask);	/* mkstemp's 0600 is for secrets; this is a page */
	if (write_page(r, log_path) < 0) {
		fclose(r->f);
		unlink(tmp);
		*db_failed = 1;
		return -1;
	}
	err = fflush(r->f) || fsync(fd) ? errno : 0;
	if (fclose(r->f) && !err)
		err = errno;
	if (!err && rename(tmp, file))
		err = errno;
	if (err) {
		unlink(tmp);
		fprintf(stderr, "sluicectl report: cannot write %s: %s\n", file, strerror(err));
		return -1;
	}
	return 0;
}

int sluicectl_report_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "html", required_argument, NULL, 'H' },
		{ "since", required_argument, NULL, 's' },
		{ "log-db", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { 0 };
	int64_t since_ms = DEFAULT_SINCE_MS;
	const char *file = NULL;
	char path[4096] = "";
	int c, rc, db_failed;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (!*optarg)
				return sluicectl_usage_error("report", "--html needs a file name");
			file = optarg;
			break;
		case 's':
			since_ms = sluicectl_parse_duration(optarg);
			if (since_ms < 1000)
				return sluicectl_usage_error("report", "--since must be a duration of at least a second such as 90s, 15m, 2h or 7d, not \"%s\"", optarg);
			break;
		case 'L':
			if (strlen(optarg) >= sizeof(path))
				return sluicectl_usage_error("report", "--log-db path too long");
			strcpy(path, optarg);
			break;
		case 'h':
			report_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return sluicectl_usage_error("report", "unknown option or missing value: \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sluicectl_usage_error("report", "unexpected argument \"%s\"", argv[optind]);
	if (!file)
		return sluicectl_usage_error("report", "--html FILE is required: the page to write");
	if (sluicectl_log_db_open("report", path, sizeof(path), &r.db) < 0)
		return SLUICECTL_EXIT_FAILED;
	r.now = sluicectl_now_ms();
	r.since = r.now - since_ms;
	rc = write_atomically(&r, file, path, &db_failed);
	if (rc < 0 && db_failed)
		fprintf(stderr, "sluicectl report: cannot read the decision log %s: %s\n",
			path, sqlite3_errmsg(r.db));
	sqlite3_close(r.db);
	return rc < 0 ? SLUICECTL_EXIT_FAILED : SLUICECTL_EXIT_OK;
}
