/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decision log: every verdict the agent gives, kept in its own SQLite
 * file (sluiced --log-db PATH, WAL mode) that people read with sqlite3:
 *
 *	decisions(id INTEGER PRIMARY KEY,
 *		  time      INTEGER NOT NULL,	-- unix time in milliseconds (UTC)
 *		  direction TEXT,		-- 'in' | 'out' | 'forward'
 *		  proto     TEXT,		-- 'tcp', 'udp', 'icmp', 'icmpv6', ... or the number
 *		  src, dst  TEXT,		-- addresses as inet_ntop writes them
 *		  sport, dport INTEGER,		-- NULL when the protocol has none
 *		  domain, exe TEXT,		-- NULL when unknown
 *		  uid       INTEGER,		-- NULL when unknown
 *		  unit      TEXT,		-- systemd unit; NULL when unknown
 *		  action    TEXT NOT NULL,	-- 'allow' | 'deny'
 *		  rule_id   INTEGER)		-- rules.id; NULL = settings.default_action
 *	rule_hits(rule_id INTEGER PRIMARY KEY,	-- 0 counts the default action
 *		  hits INTEGER, last_hit INTEGER)	-- last_hit in unix ms
 *	events(id INTEGER PRIMARY KEY,		-- what the agent did, rarely
 *	       time INTEGER NOT NULL,		-- unix ms
 *	       kind TEXT NOT NULL,		-- 'start' | 'stop' | 'reload' | 'refused'
 *	       detail TEXT)			-- e.g. the refused edit's error
 *	decisions_text				-- view: decisions with ISO 8601 time
 *
 * Time is an integer (milliseconds) so that the retention delete and range
 * queries use the index on time; the view shows it as text for people.
 *
 * Threads: sluice_log_push() may be called from any number of verdict
 * threads at once and never blocks, allocates, takes a lock or touches
 * SQL: it copies the record into a bounded lock-free ring, or drops and
 * counts it when the ring is full. One log thread owned by struct
 * sluice_log empties the ring and writes it in batches (one transaction
 * each), and applies the retention. Open, flush and close from one
 * thread; no push may run during or after close.
 */
#ifndef SLUICE_DECISION_LOG_H
#define SLUICE_DECISION_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/flow.h"

/* PRAGMA user_version of the log database. */
#define SLUICE_LOG_SCHEMA_VERSION	4	/* 2: decisions.unit, 3: decisions.mask, 4: events */

#define SLUICE_LOG_DOMAIN_MAX	254	/* with the NUL: longest DNS name */
#define SLUICE_LOG_EXE_MAX	256	/* longer paths are cut */
#define SLUICE_LOG_UNIT_MAX	256	/* systemd's longest unit name, NUL */

/* One decision as it sits in the ring: a flat copy, no pointers. */
struct sluice_log_record {
	int64_t time_ms;		/* CLOCK_REALTIME, unix ms */
	int64_t uid;			/* -1 unknown */
	int64_t rule_id;		/* 0 = default action */
	uint8_t src[16], dst[16];	/* network byte order; v4 in the first 4 */
	uint16_t sport, dport;		/* host byte order; 0 none */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t proto;			/* IPPROTO_* */
	uint8_t direction;		/* SLUICE_DIR_*, 0 unknown */
	uint8_t allow;			/* 1 allow, 0 deny */
	struct sluice_flow_mask mask;	/* the fields that decided (flow.h) */
	char domain[SLUICE_LOG_DOMAIN_MAX];	/* "" unknown */
	char exe[SLUICE_LOG_EXE_MAX];		/* "" unknown */
	char unit[SLUICE_LOG_UNIT_MAX];		/* "" unknown */
};

/* Zero in a field means its default. */
struct sluice_log_options {
	unsigned int retention_days;	/* rows older than this go; default 7 */
	uint64_t max_rows;		/* at most this many rows; default 1000000 */
	unsigned int ring_records;	/* ring capacity, rounded up to 2^n; default 4096 */
	unsigned int batch_records;	/* rows per transaction at most; default 256 */
	unsigned int flush_ms;		/* a record waits at most this long; default 200 */
	unsigned int retention_every_s;	/* retention runs this often; default 60 */
	/*
	 * Called by the log thread with each record as it leaves the ring,
	 * before any batch is written (sluiced --journal): never on a
	 * verdict thread. It may block; the ring fills and drops meanwhile.
	 */
	void (*sink)(void *ctx, const struct sluice_log_record *r);
	void *sink_ctx;
};

struct sluice_log;

/* Fill @o with the defaults above (what zero in a field means). */
void sluice_log_options_default(struct sluice_log_options *o);

/*
 * Open (creating when missing) the log database at @path: WAL mode, the
 * tables above (a version 1 file gets decisions.unit, its rows kept), then start the log thread, which applies the retention
 * once before it writes anything. @o NULL: all defaults. @path NULL
 * with a sink in @o: no database, the records go to the sink only (and
 * logged stays 0). On failure NULL
 * and one sentence in @err naming the file ("cannot create decision log
 * /x/y.db: directory /x does not exist").
 */
struct sluice_log *sluice_log_open(const char *path,
				   const struct sluice_log_options *o,
				   char *err, size_t errlen);

/*
 * Queue the decision @d about flow @f (copied; its strings may be freed
 * at return). Never blocks. Returns 0, or -1 when the ring was full and
 * the record was dropped (counted in dropped). @l NULL: -1, not counted.
 */
int sluice_log_push(struct sluice_log *l, const struct sluice_flow *f,
		    const struct sluice_decision *d);

/*
 * Counters since open, from any thread; any pointer may be NULL.
 * logged: rows committed. dropped: records refused by a full ring.
 * errors: records lost because their batch could not be written.
 * After sluice_log_flush(), logged + dropped + errors is the number of
 * sluice_log_push() calls made before it.
 */
void sluice_log_stats(struct sluice_log *l, uint64_t *logged,
		      uint64_t *dropped, uint64_t *errors);

/*
 * Have the log thread write at once what is queued, and wait up to
 * @timeout_ms until every record pushed before the call is written (or
 * counted as an error) and the retention at open is done. Returns 0, or
 * -1 on timeout. Not for verdict
 * threads: it blocks.
 */
int sluice_log_flush(struct sluice_log *l, int timeout_ms);

/*
 * Record an event of the agent (kind "start", "stop", "reload" or
 * "refused"; @detail may be NULL) in the events table at once, on a
 * connection of its own: for the main thread, never a verdict thread.
 * Returns 0, or -1 when it could not be written (a locked or full
 * database): events are history, and their loss stops nothing.
 */
int sluice_log_event(struct sluice_log *l, const char *kind, const char *detail);

/* "in", "out", "forward", NULL unknown; "tcp", "udp", ... NULL: give the number. */
const char *sluice_log_direction_name(uint8_t dir);
const char *sluice_log_proto_name(uint8_t proto);

/*
 * Whether the log is being written, from any thread, taken at one instant
 * with the count of records lost (errors of sluice_log_stats(); @lost may
 * be NULL). Returns 1 while it fails (the latest batch could not be
 * written), 0 once a batch is written again and before any failure. @buf
 * gets the error that lost the latest lost batch as one sentence
 * ("cannot write decision log /x/y.db: database or disk is full"), kept
 * after the writes work again; "" when no record was ever lost. A
 * failure of the retention alone loses no record and is not reported.
 */
int sluice_log_last_error(struct sluice_log *l, uint64_t *lost,
			  char *buf, size_t len);

/*
 * Write everything still queued, stop and join the log thread, close the
 * database. A database held locked by someone else is waited for up to a
 * few seconds; what still cannot be written then counts as errors.
 */
void sluice_log_close(struct sluice_log *l);

#endif /* SLUICE_DECISION_LOG_H */
