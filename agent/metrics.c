// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus metrics file of sluiced; see metrics.h for the contract.
 *
 * Names follow Prometheus' conventions: one "sluice_" prefix, the unit in
 * the name (packets, flows, records, seconds), "_total" on counters only,
 * and labels where one quantity splits (decisions by action, queues by
 * number). Every family gets its HELP and TYPE line before its samples.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/metrics.h"
#include "agent/policy.h"
#include "agent/status.h"
#include "agent/util.h"

/* ---- nfnetlink_queue's /proc file ---- */

int sluice_nfqueue_parse(const char *text, uint16_t first, unsigned int count,
			 struct sluice_nfqueue_stats *out)
{
	unsigned int found = 0;
	const char *line = text;

	while (line && *line) {
		unsigned int q, portid, total, mode, range, dropped, udropped, seq;
		int one;

		/* queue portid total copy_mode copy_range dropped user_dropped id_seq 1 */
		if (sscanf(line, "%u %u %u %u %u %u %u %u %d", &q, &portid,
			   &total, &mode, &range, &dropped, &udropped, &seq,
			   &one) != 9) {
			if (sscanf(line, "%u", &q) == 1 && q >= first &&
			    q - first < count)
				return -1;
		} else if (q >= first && q - first < count) {
			struct sluice_nfqueue_stats *s;

			if (found == count)	/* a queue twice */
				return -1;
			s = &out[found];
			s->queue_num = (uint16_t)q;
			s->portid = portid;
			s->total = total;
			s->dropped = dropped;
			s->user_dropped = udropped;
			s->id_sequence = seq;
			found++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return (int)found;
}

int sluice_nfqueue_read(const char *path, uint16_t first, unsigned int count,
			struct sluice_nfqueue_stats *out, char *err,
			size_t errlen)
{
	char buf[16384];
	size_t len = 0;
	ssize_t r;
	int fd, ret;

	if (!path)
		path = SLUICE_NFQUEUE_PROC;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		sluice_seterr(err, errlen, "cannot read %s: %s%s", path,
			      strerror(errno), errno == ENOENT ?
			      " (nfnetlink_queue is not loaded)" : "");
		return ret;
	}
	/* One line per bound queue of this namespace: a few KiB at most. */
	while (len + 1 < sizeof(buf) &&
	       (r = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			sluice_seterr(err, errlen, "cannot read %s: %s", path,
				      strerror(errno));
			close(fd);
			return ret;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	ret = sluice_nfqueue_parse(buf, first, count, out);
	if (ret < 0) {
		sluice_seterr(err, errlen, "%s has a line that is not as the kernel writes it",
			      path);
		return -EBADMSG;
	}
	return ret;
}

/* ---- the exposition text ---- */

/* The module's counters: name (with unit) and help, by SLUICE_STAT_*. */
static const struct {
	const char *name;
	const char *help;
} sluice_stat_metrics[__SLUICE_STAT_MAX] = {
	[SLUICE_STAT_SEEN] = { "sluice_module_seen_packets_total",
		"Packets that reached a sluice hook." },
	[SLUICE_STAT_QUEUED] = { "sluice_module_queued_packets_total",
		"Packets handed to the agent's queues." },
	[SLUICE_STAT_FAST_ACCEPTED] = { "sluice_module_fast_accepted_packets_total",
		"Packets accepted in the kernel from their flow's verdict." },
	[SLUICE_STAT_FAST_DROPPED] = { "sluice_module_fast_dropped_packets_total",
		"Packets dropped in the kernel from their flow's verdict (denied flows)." },
	[SLUICE_STAT_FAILED_OPEN] = { "sluice_module_failed_open_flows_total",
		"New flows admitted unjudged while no agent was live (fail_mode open)." },
	[SLUICE_STAT_FAILED_CLOSED] = { "sluice_module_failed_closed_flows_total",
		"New flows dropped while no agent was live (fail_mode closed)." },
	[SLUICE_STAT_UNTRACKED] = { "sluice_module_untracked_packets_total",
		"Packets conntrack does not follow, handled by the untracked parameter." },
	[SLUICE_STAT_TRANSITIONS] = { "sluice_module_agent_transitions_total",
		"Changes between a live agent and none (crash, hang, drain, register)." },
	[SLUICE_STAT_RELATED] = { "sluice_module_related_packets_total",
		"ICMP errors decided by the verdict of the flow they quote." },
	[SLUICE_STAT_OWN] = { "sluice_module_own_packets_total",
		"The agent's own packets (sinkhole answers, resets), let out untracked." },
	[SLUICE_STAT_DENY_REMEMBERED] = { "sluice_module_deny_remembered_flows_total",
		"Flows denied on their first packet and remembered in the deny table." },
	[SLUICE_STAT_UNQUEUEABLE] = { "sluice_module_unqueueable_packets_total",
		"Packets nfnetlink_queue cannot take (shared clones), given the fail mode." },
	[SLUICE_STAT_IDENTITY_RECORDED] = { "sluice_module_identities_recorded_total",
		"Flow identities recorded for the agent's uid, exe and unit rules." },
	[SLUICE_STAT_IDENTITY_EVICTED] = { "sluice_module_identities_evicted_total",
		"Flow identities forgotten early because the table was full." },
};

const char *sluice_metrics_stat_name(unsigned int stat)
{
	return stat < __SLUICE_STAT_MAX ? sluice_stat_metrics[stat].name : NULL;
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void format_agent(FILE *f, const struct sluice_metrics *m)
{
	static const char *const sources[] = {
		[SLUICE_POLICY_FROM_DATABASE] = "database",
		[SLUICE_POLICY_FROM_LAST_GOOD] = "last-good",
		[SLUICE_POLICY_FROM_BUILT_IN] = "built-in",
	};
	const struct {
		const char *name, *type, *help;
		uint64_t v;
	} plain[] = {
		{ "sluice_agent_up", "gauge",
		  "1 while sluiced runs; 0 in the file an orderly stop leaves.", m->agent_up },
		{ "sluice_agent_verdict_threads", "gauge",
		  "Verdict threads, one queue each.", m->threads },
		{ "sluice_agent_answered_packets_total", "counter",
		  "Queued packets the agent answered.", m->answered },
		{ "sluice_dns_sinkholed_total", "counter",
		  "DNS queries and answers replaced by the sinkhole.", m->sinkholed },
		{ "sluice_named_flows_total", "counter",
		  "Flows named by TLS SNI, HTTP Host or QUIC.", m->named },
		{ "sluice_policy_reloads_total", "counter",
		  "Policies compiled and put in force after the start.", m->reloads },
		{ "sluice_policy_refused_edits_total", "counter",
		  "Policy changes that did not compile or could not be read (once per new error).",
		  m->reload_failures },
		{ "sluice_policy_rules", "gauge",
		  "Rules of the policy in force.", m->rules },
		{ "sluice_policy_error", "gauge",
		  "1 while the last change of the policy database was refused.", m->policy_error },
		{ "sluice_log_enabled", "gauge",
		  "1 when a decision log database is written (--log-db).", m->log_on },
		{ "sluice_log_written_records_total", "counter",
		  "Decisions written to the decision log database.", m->log_written },
		{ "sluice_log_dropped_records_total", "counter",
		  "Decisions not logged because the log's ring was full.", m->log_dropped },
		{ "sluice_log_failed_records_total", "counter",
		  "Decisions lost because their batch could not be written.", m->log_failed },
		{ "sluice_journal_enabled", "gauge",
		  "1 when decisions go to the journal (--journal).", m->journal_on },
		{ "sluice_journal_sent_records_total", "counter",
		  "Decisions sent to the journal.", m->journal_sent },
		{ "sluice_journal_failed_records_total", "counter",
		  "Decisions the journal did not take.", m->journal_failed },
	};
	unsigned int i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		sample(f, plain[i].name, plain[i].type, plain[i].help, plain[i].v);
	family(f, "sluice_agent_info", "gauge", "The agent's version, as a label.");
	fputs("sluice_agent_info{version=", f);
	label_value(f, m->version ? m->version : "");
	fputs("} 1\n", f);
	family(f, "sluice_agent_start_time_seconds", "gauge",
	       "When the agent started, in unix seconds.");
	fprintf(f, "sluice_agent_start_time_seconds %.3f\n", m->agent_start);
	family(f, "sluice_decisions_total", "counter",
	       "Decisions of the policy, by action.");
	fprintf(f, "sluice_decisions_total{action=\"allow\"} %llu\n",
		(unsigned long long)m->allowed);
	fprintf(f, "sluice_decisions_total{action=\"deny\"} %llu\n",
		(unsigned long long)m->denied);
	family(f, "sluice_policy_source", "gauge",
	       "1 for where the policy in force comes from: database, last-good copy or built-in default.");
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		fprintf(f, "sluice_policy_source{source=\"%s\"} %d\n", sources[i],
			m->policy_source == (int)i);
}

static void format_module(FILE *f, const struct sluice_metrics *m)
{
	static const uint8_t modes[] = {
		SLUICE_MODE_NO_AGENT, SLUICE_MODE_ENFORCING,
		SLUICE_MODE_HUNG, SLUICE_MODE_DRAINING,
	};
	const struct sluice_status *st = &m->module;
	unsigned int s, i;

	sample(f, "sluice_module_loaded", "gauge",
	       "1 when the sluice module's state of this namespace could be read.",
	       m->module_loaded);
	if (!m->module_loaded)
		return;
	family(f, "sluice_module_mode", "gauge",
	       "1 for the module's mode in this namespace.");
	for (i = 0; i < sizeof(modes); i++)
		fprintf(f, "sluice_module_mode{mode=\"%s\"} %d\n",
			sluice_mode_token(modes[i]), st->mode == modes[i]);
	sample(f, "sluice_module_fail_closed", "gauge",
	       "1 when new flows are dropped without a live agent, 0 when admitted.",
	       st->config.fail_mode == SLUICE_FAIL_CLOSED);
	if ((st->have & SLUICE_HAVE_HEARTBEAT) &&
	    st->heartbeat_age_ms != SLUICE_AGE_NEVER) {
		family(f, "sluice_module_heartbeat_age_seconds", "gauge",
		       "Time since the agent's last heartbeat.");
		fprintf(f, "sluice_module_heartbeat_age_seconds %.3f\n",
			st->heartbeat_age_ms / 1000.0);
	}
	if (st->have & SLUICE_HAVE_WATCHDOG) {
		family(f, "sluice_module_watchdog_seconds", "gauge",
		       "How long a silent agent may be before it counts as hung.");
		fprintf(f, "sluice_module_watchdog_seconds %.3f\n",
			st->config.watchdog_ms / 1000.0);
	}
	for (s = 0; s < __SLUICE_STAT_MAX; s++)
		if (sluice_stat_metrics[s].name && (st->stats_have & (1ULL << s)))
			sample(f, sluice_stat_metrics[s].name, "counter",
			       sluice_stat_metrics[s].help, st->stats[s]);
}

static void format_nfqueue(FILE *f, const struct sluice_metrics *m)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ "sluice_nfqueue_waiting_packets", "gauge",
		  "Packets waiting in the queue for a verdict (nfnetlink_queue queue_total)." },
		{ "sluice_nfqueue_dropped_packets_total", "counter",
		  "Packets dropped because the queue was full (queue_dropped; reset when the queue is bound again)." },
		{ "sluice_nfqueue_user_dropped_packets_total", "counter",
		  "Packets dropped because the agent's socket could not take them (user_dropped; reset when bound again)." },
	};
	unsigned int i, k;

	sample(f, "sluice_nfqueue_readable", "gauge",
	       "1 when nfnetlink_queue's counters of this namespace could be read.",
	       m->nfq_readable);
	if (!m->nfq_readable || !m->nfq_n)
		return;
	for (k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, fams[k].type, fams[k].help);
		for (i = 0; i < m->nfq_n; i++) {
			const struct sluice_nfqueue_stats *q = &m->nfq[i];
			uint32_t v = k == 0 ? q->total : k == 1 ? q->dropped :
				     q->user_dropped;

			fprintf(f, "%s{queue=\"%u\"} %u\n", fams[k].name,
				q->queue_num, v);
		}
	}
}

/* The timestamp comes last: a file that has it was written whole. */
void sluice_metrics_format(FILE *f, const struct sluice_metrics *m)
{
	format_agent(f, m);
	format_module(f, m);
	format_nfqueue(f, m);
	family(f, "sluice_metrics_timestamp_seconds", "gauge",
	       "When sluiced wrote this file, in unix seconds.");
	fprintf(f, "sluice_metrics_timestamp_seconds %.3f\n", m->now);
}

/* ---- the file ---- */

/* "DIR/.NAME.XXXXXX" beside @path. */
static int temp_name(const char *path, char *out, size_t outlen)
{
	char a[PATH_MAX], b[PATH_MAX];
	int n;

	if (strlen(path) >= sizeof(a))
		return -1;
	strcpy(a, path);
	strcpy(b, path);
	n = snprintf(out, outlen, "%s/.%s.XXXXXX", dirname(a), basename(b));
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int open_temp(const char *path, char *tmp, size_t tmplen, char *err,
		     size_t errlen)
{
	int fd;

	if (!*path || path[strlen(path) - 1] == '/' ||
	    temp_name(path, tmp, tmplen) < 0) {
		sluice_seterr(err, errlen, "metrics file \"%s\" is not a file name", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", path);
		sluice_seterr(err, errlen, "cannot write metrics file %s: directory %s: %s",
			      path, dirname(dir), strerror(errno));
		return -1;
	}
	/* The collector runs as another user: readable by all, as mkstemp's 0600 is not. */
	fchmod(fd, 0644);
	return fd;
}

int sluice_metrics_probe(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16];
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		sluice_seterr(err, errlen, "metrics file %s is a directory", path);
		return -1;
	}
	fd = open_temp(path, tmp, sizeof(tmp), err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	unlink(tmp);
	return 0;
}

int sluice_metrics_write(const char *path, const struct sluice_metrics *m,
			 char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int fd;

	fd = open_temp(path, tmp, sizeof(tmp), err, errlen);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		sluice_seterr(err, errlen, "cannot write metrics file %s: %s", path,
			      strerror(errno));
		return -1;
	}
	sluice_metrics_format(f, m);
	if (fflush(f) || ferror(f) || fsync(fd) < 0) {
		sluice_seterr(err, errlen, "cannot write metrics file %s: %s", path,
			      strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) || rename(tmp, path) < 0) {
		sluice_seterr(err, errlen, "cannot replace metrics file %s: %s", path,
			      strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
