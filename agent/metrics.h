/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sluiced --metrics-file PATH: every counter of the agent, of the module
 * in this network namespace and of nfnetlink_queue's queues the agent
 * reads, in Prometheus' text exposition format (version 0.0.4), for
 * node_exporter's textfile collector.
 *
 * The file is replaced as a whole: written to a temporary file in the
 * same directory (named ".NAME.XXXXXX", which the collector's "*.prom"
 * glob never matches), fsync()ed, then rename()d over PATH, so a reader
 * sees the old file or the new one, never a part. The main thread writes
 * it; the verdict threads only bump the atomic counters it reads.
 *
 * A stale file is recognisable: sluice_metrics_timestamp_seconds says
 * when it was written and sluice_agent_up is 1 while the agent runs. An
 * orderly stop writes it a last time with sluice_agent_up 0 and leaves
 * it; after a crash its timestamp stops moving.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/control.h"

/* One queue's line of /proc/net/netfilter/nfnetlink_queue. */
struct sluice_nfqueue_stats {
	uint16_t queue_num;
	uint32_t portid;		/* the bound socket's netlink port id */
	uint32_t total;			/* packets waiting for a verdict now */
	uint32_t dropped;		/* queue full (without fail-open) */
	uint32_t user_dropped;		/* could not be sent to the socket */
	uint32_t id_sequence;		/* packets handed to the socket so far */
};

#define SLUICE_NFQUEUE_PROC	"/proc/net/netfilter/nfnetlink_queue"

/*
 * The lines of queues @first .. @first + @count - 1 in @text (the file's
 * contents), in queue order, into @out (room for @count). Queues nobody
 * has bound have no line. Returns how many were found, or -1 when a line
 * of those queues is not as the kernel writes it.
 */
int sluice_nfqueue_parse(const char *text, uint16_t first, unsigned int count,
			 struct sluice_nfqueue_stats *out);

/*
 * The same from @path (NULL: SLUICE_NFQUEUE_PROC). -errno when it cannot
 * be read (-ENOENT: nfnetlink_queue is not loaded), -EBADMSG when a line
 * is malformed; one sentence in @err.
 */
int sluice_nfqueue_read(const char *path, uint16_t first, unsigned int count,
			struct sluice_nfqueue_stats *out, char *err,
			size_t errlen);

/* What one write of the metrics file says. */
struct sluice_metrics {
	double now;			/* unix time, seconds */
	bool agent_up;
	double agent_start;		/* unix time the agent started */
	const char *version;

	/* The agent's own counters. */
	uint64_t answered;		/* queued packets answered */
	uint64_t allowed, denied;	/* decisions */
	uint64_t sinkholed, named;
	uint64_t reloads;		/* policies swapped in after start */
	uint64_t reload_failures;	/* refused edits, once per new error */
	uint64_t rules;			/* rules of the policy in force */
	int policy_source;		/* SLUICE_POLICY_FROM_* */
	bool policy_error;		/* the last reload failed */
	bool log_on;			/* --log-db */
	uint64_t log_written, log_dropped, log_failed;
	bool journal_on;		/* --journal */
	uint64_t journal_sent, journal_failed;
	unsigned int threads;

	/* The module in this namespace; module_loaded false: none of it. */
	bool module_loaded;
	struct sluice_status module;

	/* nfnetlink_queue's lines of our queues; nfq_readable false: none. */
	bool nfq_readable;
	unsigned int nfq_n;
	struct sluice_nfqueue_stats nfq[SLUICE_QUEUE_COUNT_MAX];
};

/* Write @m as exposition text to @f. */
void sluice_metrics_format(FILE *f, const struct sluice_metrics *m);

/*
 * Replace @path with @m, atomically as above. 0, or -1 with one
 * sentence in @err naming the file.
 */
int sluice_metrics_write(const char *path, const struct sluice_metrics *m,
			 char *err, size_t errlen);

/*
 * Can a file be created in @path's directory and renamed to @path? For
 * the start of the agent: 0, or -1 with one sentence in @err.
 */
int sluice_metrics_probe(const char *path, char *err, size_t errlen);

/* The metric name of module counter @stat (SLUICE_STAT_*), NULL: none. */
const char *sluice_metrics_stat_name(unsigned int stat);

#endif /* SLUICE_METRICS_H */
