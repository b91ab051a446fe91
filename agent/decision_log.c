// SPDX-License-Identifier: GPL-2.0
/*
 * The decision log; see decision_log.h for the contract and the tables.
 *
 * The ring is Dmitry Vyukov's bounded queue: every slot carries a sequence
 * number that says whose turn it is. A producer claims position pos when
 * its slot's sequence equals pos (compare-and-swap on the enqueue counter,
 * which only retries when another verdict thread claimed the same slot
 * first), copies the record in and publishes it by setting the sequence
 * to pos + 1. The one consumer, the log thread, takes a slot whose
 * sequence is pos + 1 and hands it back to producers as pos + capacity.
 * A slot whose sequence is behind the producer's position is still in use
 * by the consumer: the ring is full and the record is dropped. Producers
 * therefore never wait for the log thread, and the log thread never waits
 * for them except for the few instructions between claim and publish.
 *
 * The log thread keeps up to batch_records records in hand and writes
 * them in one transaction when the batch is full, when its oldest record
 * has waited flush_ms, or when close or flush asks. A database locked by
 * another connection (SQLITE_BUSY) keeps the batch in hand and is retried,
 * so a reader holding a write lock costs drops in the ring, counted, and
 * never a blocked verdict.
 */
#include "agent/util.h"
#include "agent/decision_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define DEFAULT_RETENTION_DAYS	7
#define DEFAULT_MAX_ROWS	1000000
#define DEFAULT_RING_RECORDS	4096
#define DEFAULT_BATCH_RECORDS	256
#define DEFAULT_FLUSH_MS	200
#define DEFAULT_RETENTION_S	60
#define MAX_RING_RECORDS	(1u << 20)
#define IDLE_WAIT_MS		10	/* log thread's nap when the ring is empty */
#define BUSY_TIMEOUT_MS		100	/* SQLite's own wait for a lock, per try */
#define CLOSE_GIVE_UP_MS	3000	/* close waits this long for a locked database */
#define CACHELINE		64

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS decisions(\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  time      INTEGER NOT NULL,  -- unix time in milliseconds (UTC)\n"
	"  direction TEXT CHECK (direction IN ('in', 'out', 'forward')),\n"
	"  proto     TEXT,              -- 'tcp', 'udp', 'icmp', 'icmpv6', ... or the number\n"
	"  src       TEXT,\n"
	"  dst       TEXT,\n"
	"  sport     INTEGER,           -- NULL: none or unknown\n"
	"  dport     INTEGER,\n"
	"  domain    TEXT,              -- NULL: unknown\n"
	"  uid       INTEGER,           -- NULL: unknown\n"
	"  exe       TEXT,              -- NULL: unknown\n"
	"  unit      TEXT,              -- systemd unit; NULL: unknown\n"
	"  action    TEXT NOT NULL CHECK (action IN ('allow', 'deny')),\n"
	"  rule_id   INTEGER,           -- rules.id of the policy; NULL: default_action\n"
	"  mask      TEXT               -- the fields that decided, e.g. 'proto dir dst/24 dport'\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS decisions_time ON decisions(time);\n"
	"CREATE TABLE IF NOT EXISTS rule_hits(\n"
	"  rule_id   INTEGER PRIMARY KEY, -- rules.id; 0 counts the default action\n"
	"  hits      INTEGER NOT NULL,\n"
	"  last_hit  INTEGER NOT NULL   -- unix time in milliseconds\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS events(  -- the agent's starts, stops, reloads, refused edits\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  time      INTEGER NOT NULL,  -- unix time in milliseconds (UTC)\n"
	"  kind      TEXT NOT NULL CHECK (kind IN ('start', 'stop', 'reload', 'refused')),\n"
	"  detail    TEXT               -- e.g. the error of a refused policy edit\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS events_time ON events(time);\n"
	"CREATE VIEW IF NOT EXISTS decisions_text AS\n"
	"  SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', time / 1000.0, 'unixepoch') AS time,\n"
	"         direction, proto, src, dst, sport, dport, domain, uid, exe, unit, action, rule_id,\n"
	"         mask\n"
	"  FROM decisions;\n";

static const char insert_sql[] =
	"INSERT INTO decisions(time, direction, proto, src, dst, sport, dport,"
	" domain, uid, exe, action, rule_id, unit, mask)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/*
 * Version 1 to 2: decisions.unit. The table keeps its rows (old ones have
 * no unit: NULL, unknown); the view is made again with the column.
 */
static const char migrate_1_sql[] =
	"BEGIN IMMEDIATE;\n"
	"ALTER TABLE decisions ADD COLUMN unit TEXT;\n"
	"DROP VIEW IF EXISTS decisions_text;\n"
	"PRAGMA user_version = 2;\n"
	"COMMIT;\n";

/* Version 2 to 3: decisions.mask, the wildcard mask of the match (NULL in old rows). */
static const char migrate_2_sql[] =
	"BEGIN IMMEDIATE;\n"
	"ALTER TABLE decisions ADD COLUMN mask TEXT;\n"
	"DROP VIEW IF EXISTS decisions_text;\n"
	"PRAGMA user_version = 3;\n"
	"COMMIT;\n";

/*
 * Version 3 to 4: the events table, new and empty (schema_sql creates it);
 * the decisions keep their rows.
 */
static const char migrate_3_sql[] =
	"BEGIN IMMEDIATE;\n"
	"PRAGMA user_version = 4;\n"
	"COMMIT;\n";

/* migrations[v - 1] takes a version v file to v + 1. */
static const char *const migrations[] = { migrate_1_sql, migrate_2_sql, migrate_3_sql };
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SLUICE_LOG_SCHEMA_VERSION - 1,
	       "one migration a version");

static const char hit_sql[] =
	"INSERT INTO rule_hits(rule_id, hits, last_hit) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(rule_id) DO UPDATE SET hits = hits + excluded.hits,"
	" last_hit = max(last_hit, excluded.last_hit)";

struct slot {
	_Atomic uint64_t seq;
	struct sluice_log_record rec;
};

struct rule_hit {
	int64_t rule_id;
	int64_t hits;
	int64_t last_ms;
};

struct sluice_log {
	/* Written by verdict threads; each on its own cache line. */
	_Alignas(CACHELINE) _Atomic uint64_t enq;
	_Alignas(CACHELINE) _Atomic uint64_t dropped;

	/* Written by the log thread only; read by stats and flush. */
	_Alignas(CACHELINE) _Atomic uint64_t logged;
	_Atomic uint64_t errors;
	_Atomic uint64_t done;		/* records taken and written or lost */
	uint64_t deq;			/* next position to take */

	struct slot *ring;		/* immutable after open */
	uint64_t mask;			/* capacity - 1 */

	struct sluice_log_record *batch; /* records in hand, log thread only */
	unsigned int nbatch;
	int64_t batch_since_ms;		/* when the oldest record in hand was taken */
	struct rule_hit *hits;		/* per-batch aggregation, batch_records long */

	struct sluice_log_options opt;
	char *path;
	sqlite3 *db;
	sqlite3_stmt *insert, *hit, *begin, *commit, *rollback;
	sqlite3_stmt *expire_time, *expire_rows;
	pthread_t thread;
	bool thread_started;

	/*
	 * lock guards stop, retained, flush_target, failing and last_error
	 * (errors moves under it too, so that the three are read at one
	 * instant); the log thread naps on wake, flush waits on flushed.
	 * Verdict threads never touch any.
	 */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t flushed;
	bool stop;
	bool retained;			/* the retention at open is done */
	uint64_t flush_target;		/* write at once until done reaches it */
	bool failing;			/* the latest batch was lost */
	char last_error[256];		/* why it was, kept after a recovery */
};


static int64_t now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* ------------------------------------------------------------------ */
/* Hot path: verdict threads                                           */
/* ------------------------------------------------------------------ */

static void copy_string(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	if (src)
		for (; i + 1 < cap && src[i]; i++)
			dst[i] = src[i];
	dst[i] = '\0';
}

static void fill_record(struct sluice_log_record *r, const struct sluice_flow *f,
			const struct sluice_decision *d)
{
	r->time_ms = now_ms(CLOCK_REALTIME);
	r->uid = f->uid;
	r->rule_id = d->rule_id;
	r->mask = d->mask;
	memcpy(r->src, f->src, sizeof(r->src));
	memcpy(r->dst, f->dst, sizeof(r->dst));
	r->sport = f->sport;
	r->dport = f->dport;
	r->family = (uint8_t)f->family;
	r->proto = f->proto;
	r->direction = f->direction;
	r->allow = d->allow ? 1 : 0;
	copy_string(r->domain, sizeof(r->domain), f->domain);
	copy_string(r->exe, sizeof(r->exe), f->exe);
	copy_string(r->unit, sizeof(r->unit), f->unit);
}

int sluice_log_push(struct sluice_log *l, const struct sluice_flow *f,
		    const struct sluice_decision *d)
{
	struct slot *s;
	uint64_t pos, seq;

	if (!l)
		return -1;
	pos = atomic_load_explicit(&l->enq, memory_order_relaxed);
	for (;;) {
		s = &l->ring[pos & l->mask];
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (seq == pos) {
			if (atomic_compare_exchange_weak_explicit(&l->enq, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
			/* another verdict thread took it; pos is reloaded */
		} else if ((int64_t)(seq - pos) < 0) {
			atomic_fetch_add_explicit(&l->dropped, 1, memory_order_relaxed);
			return -1;
		} else {
			pos = atomic_load_explicit(&l->enq, memory_order_relaxed);
		}
	}
	fill_record(&s->rec, f, d);
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	return 0;
}

void sluice_log_stats(struct sluice_log *l, uint64_t *logged,
		      uint64_t *dropped, uint64_t *errors)
{
	if (logged)
		*logged = l ? atomic_load(&l->logged) : 0;
	if (dropped)
		*dropped = l ? atomic_load(&l->dropped) : 0;
	if (errors)
		*errors = l ? atomic_load(&l->errors) : 0;
}

int sluice_log_last_error(struct sluice_log *l, uint64_t *lost,
			  char *buf, size_t len)
{
	int failing;

	if (len)
		buf[0] = '\0';
	if (lost)
		*lost = 0;
	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (len)
		snprintf(buf, len, "%s", l->last_error);
	if (lost)
		*lost = atomic_load(&l->errors);
	failing = l->failing;
	pthread_mutex_unlock(&l->lock);
	return failing;
}

/* ------------------------------------------------------------------ */
/* The log thread                                                      */
/* ------------------------------------------------------------------ */

/* Take published records from the ring until the batch is full. */
static unsigned int take_records(struct sluice_log *l)
{
	unsigned int taken = 0;

	while (l->nbatch < l->opt.batch_records) {
		struct slot *s = &l->ring[l->deq & l->mask];

		if (atomic_load_explicit(&s->seq, memory_order_acquire) != l->deq + 1)
			break;
		if (l->nbatch == 0)
			l->batch_since_ms = now_ms(CLOCK_MONOTONIC);
		l->batch[l->nbatch++] = s->rec;
		atomic_store_explicit(&s->seq, l->deq + l->mask + 1, memory_order_release);
		if (l->opt.sink)
			l->opt.sink(l->opt.sink_ctx, &l->batch[l->nbatch - 1]);
		l->deq++;
		taken++;
	}
	return taken;
}

/*
 * The records in hand are lost: counted, and @what (or the error already
 * noted, when NULL) is why, with SQLite's own words.
 */
static void lose_batch(struct sluice_log *l, const char *what)
{
	pthread_mutex_lock(&l->lock);
	if (what)
		snprintf(l->last_error, sizeof(l->last_error),
			 "cannot %s decision log %s: %s",
			 what, l->path, sqlite3_errmsg(l->db));
	l->failing = true;
	atomic_fetch_add(&l->errors, l->nbatch);
	pthread_mutex_unlock(&l->lock);
	l->nbatch = 0;
}

/* A batch was written: the writes work (again). */
static void batch_written(struct sluice_log *l)
{
	atomic_fetch_add(&l->logged, l->nbatch);
	l->nbatch = 0;
	/* Only the log thread writes failing: its own read needs no lock. */
	if (l->failing) {
		pthread_mutex_lock(&l->lock);
		l->failing = false;
		pthread_mutex_unlock(&l->lock);
	}
}

const char *sluice_log_direction_name(uint8_t dir)
{
	switch (dir) {
	case SLUICE_DIR_IN:
		return "in";
	case SLUICE_DIR_OUT:
		return "out";
	case SLUICE_DIR_FORWARD:
		return "forward";
	default:
		return NULL;
	}
}

const char *sluice_log_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_DCCP:
		return "dccp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udplite";
	default:
		return NULL;
	}
}

/*
 * Bound as SQLITE_STATIC: every string bound here lives until the row's
 * step is done, and the bindings are cleared right after it; SQLite then
 * copies nothing (SQLITE_TRANSIENT cost a malloc, a copy and a free per
 * column and row).
 */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int insert_record(struct sluice_log *l, const struct sluice_log_record *r)
{
	sqlite3_stmt *st = l->insert;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], num[4], mask[64];
	const char *proto = sluice_log_proto_name(r->proto);
	int family = r->family == AF_INET6 ? AF_INET6 : AF_INET;
	int rc;

	if (!proto) {
		snprintf(num, sizeof(num), "%u", r->proto);
		proto = num;
	}
	if (r->family != AF_INET && r->family != AF_INET6) {
		src[0] = dst[0] = '\0';
	} else {
		inet_ntop(family, r->src, src, sizeof(src));
		inet_ntop(family, r->dst, dst, sizeof(dst));
	}
	sqlite3_bind_int64(st, 1, r->time_ms);
	bind_text_or_null(st, 2, sluice_log_direction_name(r->direction));
	sqlite3_bind_text(st, 3, proto, -1, SQLITE_STATIC);
	bind_text_or_null(st, 4, src);
	bind_text_or_null(st, 5, dst);
	if (r->sport)
		sqlite3_bind_int(st, 6, r->sport);
	else
		sqlite3_bind_null(st, 6);
	if (r->dport)
		sqlite3_bind_int(st, 7, r->dport);
	else
		sqlite3_bind_null(st, 7);
	bind_text_or_null(st, 8, r->domain);
	if (r->uid >= 0)
		sqlite3_bind_int64(st, 9, r->uid);
	else
		sqlite3_bind_null(st, 9);
	bind_text_or_null(st, 10, r->exe);
	sqlite3_bind_text(st, 11, r->allow ? "allow" : "deny", -1, SQLITE_STATIC);
	if (r->rule_id)
		sqlite3_bind_int64(st, 12, r->rule_id);
	else
		sqlite3_bind_null(st, 12);
	bind_text_or_null(st, 13, r->unit);
	sluice_flow_mask_format(&r->mask, mask, sizeof(mask));
	sqlite3_bind_text(st, 14, mask, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Sum the batch's hits per rule: a batch touches few rules. */
static unsigned int count_hits(struct sluice_log *l)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < l->nbatch; i++) {
		const struct sluice_log_record *r = &l->batch[i];

		for (j = 0; j < n && l->hits[j].rule_id != r->rule_id; j++)
			;
		if (j == n) {
			l->hits[n].rule_id = r->rule_id;
			l->hits[n].hits = 0;
			l->hits[n].last_ms = r->time_ms;
			n++;
		}
		l->hits[j].hits++;
		if (r->time_ms > l->hits[j].last_ms)
			l->hits[j].last_ms = r->time_ms;
	}
	return n;
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * Write the records in hand in one transaction. SQLITE_BUSY: nothing was
 * written and the batch stays in hand. Anything else empties the batch.
 */
static int write_batch(struct sluice_log *l)
{
	unsigned int i, nhits;
	int rc;

	if (!l->db) {		/* the sink had them: nothing to write */
		l->nbatch = 0;
		return SQLITE_OK;
	}
	rc = step_reset(l->begin);	/* BEGIN IMMEDIATE: the lock, or BUSY now */
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return SQLITE_BUSY;
	if (rc != SQLITE_OK)
		goto fail;
	for (i = 0; i < l->nbatch; i++) {
		rc = insert_record(l, &l->batch[i]);
		if (rc != SQLITE_OK)
			goto fail_rollback;
	}
	nhits = count_hits(l);
	for (i = 0; i < nhits; i++) {
		sqlite3_bind_int64(l->hit, 1, l->hits[i].rule_id);
		sqlite3_bind_int64(l->hit, 2, l->hits[i].hits);
		sqlite3_bind_int64(l->hit, 3, l->hits[i].last_ms);
		rc = step_reset(l->hit);
		if (rc != SQLITE_OK)
			goto fail_rollback;
	}
	rc = step_reset(l->commit);
	if (rc != SQLITE_OK)
		goto fail_rollback;
	batch_written(l);
	return SQLITE_OK;

fail_rollback:
	lose_batch(l, "write");
	step_reset(l->rollback);
	return rc;
fail:
	lose_batch(l, "write");
	return rc;
}

int sluice_log_event(struct sluice_log *l, const char *kind, const char *detail)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc;

	if (!l || !l->db)	/* no log, or one for its sink only */
		return -1;
	/* Its own connection: the log thread's may be inside a transaction. */
	rc = sqlite3_open_v2(l->path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS * 10);
		rc = sqlite3_prepare_v2(db, "INSERT INTO events(time, kind, detail) VALUES (?1, ?2, ?3)",
					-1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now_ms(CLOCK_REALTIME));
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		bind_text_or_null(st, 3, detail);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Delete rows older than retention_days, then all but the newest
 * max_rows. A failure (a lock held past the busy timeout, a full disk)
 * loses nothing and is tried again at the next run; it is not the
 * "last error", which says why records were lost.
 */
static void apply_retention(struct sluice_log *l)
{
	int64_t cutoff = now_ms(CLOCK_REALTIME) -
			 (int64_t)l->opt.retention_days * 86400 * 1000;
	char sql[80];

	if (!l->db)
		return;
	sqlite3_bind_int64(l->expire_time, 1, cutoff);
	step_reset(l->expire_time);
	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE time < %lld", (long long)cutoff);
	sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	sqlite3_bind_int64(l->expire_rows, 1, (int64_t)(l->opt.max_rows - 1));
	step_reset(l->expire_rows);
}

static void publish_done(struct sluice_log *l)
{
	pthread_mutex_lock(&l->lock);
	atomic_store(&l->done, l->deq - l->nbatch);
	pthread_cond_broadcast(&l->flushed);
	pthread_mutex_unlock(&l->lock);
}

static void *log_thread(void *arg)
{
	struct sluice_log *l = arg;
	int64_t last_retention = now_ms(CLOCK_MONOTONIC);
	int64_t give_up = 0;	/* when closing: stop retrying a locked database */
	bool gave_up = false;

	apply_retention(l);
	pthread_mutex_lock(&l->lock);
	l->retained = true;
	pthread_cond_broadcast(&l->flushed);
	pthread_mutex_unlock(&l->lock);
	for (;;) {
		bool stop, urgent, ring_empty;
		int64_t now;
		struct timespec ts;

		pthread_mutex_lock(&l->lock);
		stop = l->stop;
		urgent = stop || atomic_load(&l->done) < l->flush_target;
		pthread_mutex_unlock(&l->lock);

		take_records(l);
		now = now_ms(CLOCK_MONOTONIC);
		if (stop && !give_up)
			give_up = now + CLOSE_GIVE_UP_MS;
		if (l->nbatch && (urgent || l->nbatch == l->opt.batch_records ||
				  now - l->batch_since_ms >= l->opt.flush_ms)) {
			if (gave_up) {
				lose_batch(l, NULL);
			} else if (write_batch(l) == SQLITE_BUSY && stop && now >= give_up) {
				lose_batch(l, "write (locked by another program)");
				gave_up = true;
			}
			publish_done(l);
		}
		if (now - last_retention >= (int64_t)l->opt.retention_every_s * 1000) {
			apply_retention(l);
			last_retention = now;
		}

		ring_empty = atomic_load_explicit(&l->ring[l->deq & l->mask].seq,
						  memory_order_acquire) != l->deq + 1;
		if (stop && ring_empty && !l->nbatch)
			break;
		if (!ring_empty && l->nbatch < l->opt.batch_records)
			continue;	/* more to take right away */

		/* Nap; close and flush cut it short. Writes still pending retry then. */
		ts = deadline_in(IDLE_WAIT_MS);
		pthread_mutex_lock(&l->lock);
		if (!l->stop && atomic_load(&l->done) >= l->flush_target)
			pthread_cond_timedwait(&l->wake, &l->lock, &ts);
		pthread_mutex_unlock(&l->lock);
	}
	publish_done(l);
	return NULL;
}

int sluice_log_flush(struct sluice_log *l, int timeout_ms)
{
	struct timespec ts = deadline_in(timeout_ms);
	uint64_t target;
	int ret = 0;

	if (!l)
		return 0;
	target = atomic_load(&l->enq);
	pthread_mutex_lock(&l->lock);
	if (target > l->flush_target)
		l->flush_target = target;
	pthread_cond_signal(&l->wake);
	while (!l->retained || atomic_load(&l->done) < target) {
		if (pthread_cond_timedwait(&l->flushed, &l->lock, &ts) == ETIMEDOUT) {
			ret = !l->retained || atomic_load(&l->done) < target ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */
/* ------------------------------------------------------------------ */

static void apply_defaults(struct sluice_log_options *o)
{
	uint64_t ring = 1;

	if (!o->retention_days)
		o->retention_days = DEFAULT_RETENTION_DAYS;
	if (!o->max_rows)
		o->max_rows = DEFAULT_MAX_ROWS;
	if (!o->ring_records)
		o->ring_records = DEFAULT_RING_RECORDS;
	if (o->ring_records > MAX_RING_RECORDS)
		o->ring_records = MAX_RING_RECORDS;
	while (ring < o->ring_records)
		ring <<= 1;
	o->ring_records = (unsigned int)ring;
	if (!o->batch_records)
		o->batch_records = DEFAULT_BATCH_RECORDS;
	if (!o->flush_ms)
		o->flush_ms = DEFAULT_FLUSH_MS;
	if (!o->retention_every_s)
		o->retention_every_s = DEFAULT_RETENTION_S;
}

void sluice_log_options_default(struct sluice_log_options *o)
{
	memset(o, 0, sizeof(*o));
	apply_defaults(o);
}

/* Say why the file cannot be created, before SQLite says it vaguely. */
static int check_directory(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	const char *dir;
	struct stat sb;
	int ret = 0;

	if (!copy) {
		sluice_seterr(err, errlen, "out of memory opening decision log %s", path);
		return -1;
	}
	dir = dirname(copy);
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			sluice_seterr(err, errlen, "cannot open decision log %s: it is not a regular file", path);
			ret = -1;
		} else if (access(path, R_OK | W_OK) < 0) {
			sluice_seterr(err, errlen, "cannot open decision log %s: the file is not writable (%s)",
			       path, strerror(errno));
			ret = -1;
		}
	} else if (stat(dir, &sb) < 0) {
		sluice_seterr(err, errlen, "cannot create decision log %s: directory %s %s", path, dir,
		       errno == ENOENT ? "does not exist" : strerror(errno));
		ret = -1;
	} else if (!S_ISDIR(sb.st_mode)) {
		sluice_seterr(err, errlen, "cannot create decision log %s: %s is not a directory", path, dir);
		ret = -1;
	} else if (access(dir, W_OK | X_OK) < 0) {
		sluice_seterr(err, errlen, "cannot create decision log %s: directory %s is not writable (%s)",
		       path, dir, strerror(errno));
		ret = -1;
	}
	free(copy);
	return ret;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int open_database(struct sluice_log *l, char *err, size_t errlen)
{
	const char *what;
	sqlite3_stmt *st;
	int64_t version = 0;
	char sql[64];
	int rc;

	/*
	 * NOMUTEX: the connection is opened here and then used by the log
	 * thread alone, so SQLite's lock on every call (each bind, step and
	 * reset: some thirty a row) guards nothing.
	 */
	what = "open";
	rc = sqlite3_open_v2(l->path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS * 10);	/* longer at open */

	/* The first read: a file that is not a database fails here. */
	what = "read";
	rc = query_int(l->db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK)
		goto fail;
	if (version > SLUICE_LOG_SCHEMA_VERSION) {
		sluice_seterr(err, errlen,
		       "decision log %s has schema version %lld, newer than the %d this sluiced knows",
		       l->path, (long long)version, SLUICE_LOG_SCHEMA_VERSION);
		return -1;
	}

	what = "switch to WAL mode";
	rc = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		sqlite3_finalize(st);
		sluice_seterr(err, errlen, "cannot switch decision log %s to WAL mode", l->path);
		return -1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		goto fail;

	/* A log may lose its last transactions to a power cut, never its file. */
	what = "configure";
	rc = sqlite3_exec(l->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;

	what = "migrate the tables of";
	/* Version 0 is a new file: schema_sql below makes it whole. */
	for (; version >= 1 && version < SLUICE_LOG_SCHEMA_VERSION; version++) {
		rc = sqlite3_exec(l->db, migrations[version - 1], NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	what = "create the tables of";
	rc = sqlite3_exec(l->db, schema_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SLUICE_LOG_SCHEMA_VERSION);
	rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;

	what = "prepare the statements of";
	if ((rc = sqlite3_prepare_v3(l->db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
				     &l->insert, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v3(l->db, hit_sql, -1, SQLITE_PREPARE_PERSISTENT,
				     &l->hit, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(l->db, "BEGIN IMMEDIATE", -1, &l->begin, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(l->db, "COMMIT", -1, &l->commit, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(l->db, "ROLLBACK", -1, &l->rollback, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(l->db, "DELETE FROM decisions WHERE time < ?1", -1,
				     &l->expire_time, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(l->db,
				     "DELETE FROM decisions WHERE id < (SELECT id FROM decisions"
				     " ORDER BY id DESC LIMIT 1 OFFSET ?1)", -1,
				     &l->expire_rows, NULL)) != SQLITE_OK)
		goto fail;

	/* From here on the log thread waits in short steps, see log_thread(). */
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	return 0;

fail:
	sluice_seterr(err, errlen, "cannot %s decision log %s: %s", what, l->path,
	       l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
	return -1;
}

struct sluice_log *sluice_log_open(const char *path,
				   const struct sluice_log_options *o,
				   char *err, size_t errlen)
{
	struct sluice_log *l;
	pthread_condattr_t ca;
	size_t size = (sizeof(*l) + CACHELINE - 1) / CACHELINE * CACHELINE;
	uint64_t i;
	int rc;

	if (path && !*path)
		path = NULL;
	if (!path && !(o && o->sink)) {
		sluice_seterr(err, errlen, "no decision log file was given");
		return NULL;
	}
	if (path && check_directory(path, err, errlen) < 0)
		return NULL;

	l = aligned_alloc(CACHELINE, size);
	if (!l)
		goto err_alloc;
	memset(l, 0, size);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_cond_init(&l->flushed, &ca);
	pthread_condattr_destroy(&ca);

	if (o)
		l->opt = *o;
	apply_defaults(&l->opt);
	l->mask = l->opt.ring_records - 1;
	l->path = strdup(path ? path : "(none)");
	l->ring = calloc(l->opt.ring_records, sizeof(*l->ring));
	l->batch = calloc(l->opt.batch_records, sizeof(*l->batch));
	l->hits = calloc(l->opt.batch_records, sizeof(*l->hits));
	if (!l->path || !l->ring || !l->batch || !l->hits)
		goto err_alloc;
	for (i = 0; i < l->opt.ring_records; i++)
		atomic_init(&l->ring[i].seq, i);

	if (path && open_database(l, err, errlen) < 0)
		goto err;
	rc = pthread_create(&l->thread, NULL, log_thread, l);
	if (rc != 0) {
		sluice_seterr(err, errlen, "cannot start the thread of decision log %s: %s", path,
		       strerror(rc));
		goto err;
	}
	l->thread_started = true;
	return l;

err_alloc:
	sluice_seterr(err, errlen, "out of memory opening decision log %s",
		      path ? path : "(none)");
err:
	sluice_log_close(l);
	return NULL;
}

void sluice_log_close(struct sluice_log *l)
{
	if (!l)
		return;
	if (l->thread_started) {
		pthread_mutex_lock(&l->lock);
		l->stop = true;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
	}
	sqlite3_finalize(l->insert);
	sqlite3_finalize(l->hit);
	sqlite3_finalize(l->begin);
	sqlite3_finalize(l->commit);
	sqlite3_finalize(l->rollback);
	sqlite3_finalize(l->expire_time);
	sqlite3_finalize(l->expire_rows);
	sqlite3_close(l->db);
	pthread_cond_destroy(&l->wake);
	pthread_cond_destroy(&l->flushed);
	pthread_mutex_destroy(&l->lock);
	free(l->hits);
	free(l->batch);
	free(l->ring);
	free(l->path);
	free(l);
}
