// SPDX-License-Identifier: GPL-2.0
/*
 * sluiced: the agent. Binds the NFQUEUE the module hands new flows to,
 * decides each one from the SQLite policy, and proves to the module's
 * watchdog that its verdict loop is alive.
 *
 * Threads, and what each one owns:
 *   verdict    the queue socket; reads packets, matches, answers
 *   heartbeat  the control socket to the module; registers, beats, and
 *              re-registers when the module comes back after an unload.
 *              It beats only while the verdict loop makes progress, so a
 *              stuck loop looks dead to the watchdog and the kernel fails
 *              over instead of queueing to nobody.
 *   main       signals, policy reloads, the status file, shutdown
 *
 * Exit status: 0 orderly stop; 1 runtime failure (queue, kernel, a --log-db
 * or --metrics-file that cannot be written at start); 2 usage;
 * 3 not even the built-in default policy could be compiled (out of memory).
 * A policy database that cannot be used (unreadable, corrupt, newer schema,
 * a row that does not compile) is no reason to exit: the agent enforces
 * the database's last good copy, else the built-in default policy (allow
 * all with fail_mode=open, deny all with fail_mode=closed, as the module
 * would without an agent), says so in its log and status, and keeps
 * watching the database. Whatever the status, the module fails open
 * without us.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent/control.h"
#include "agent/decision_log.h"
#include "agent/handover.h"
#include "agent/journal.h"
#include "agent/metrics.h"
#include "agent/policy.h"
#include "agent/queue.h"
#include "agent/revoke.h"
#include "agent/util.h"
#include "agent/verdict.h"

#define SLUICED_VERSION		"0.1.0"
#define DEFAULT_DB		"/var/lib/sluice/policy.db"
#define DEFAULT_STATUS		"/run/sluice/status"
#define RELOAD_POLL_MS		200
#define DEFAULT_METRICS_S	5

enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_POLICY = 3,
};

/* Everything the agent knows, in one place. */
struct sluiced {
	const char *db_path;
	const char *log_db_path;
	const char *status_path;
	int queue_opt;			/* --queue, -1: the module's */
	int threads;
	int verbose;
	const char *metrics_path;	/* --metrics-file, NULL: none */
	unsigned int metrics_s;		/* --metrics-interval */
	int journal;			/* --journal: 0 off, 1 all, 2 denied */

	struct sluice_policy_loader loader;
	struct sluice_log *log;
	uint16_t queue_num;		/* the first of threads queues */
	uint32_t mark_mask;
	atomic_uint watchdog_ms;	/* follows the module; read by every thread */
	int fail_closed;		/* the module's fail_mode when we started */
	struct sluice_said policy_said;	/* the last policy error logged */

	/* Main thread's: what the metrics file and the status file say. */
	struct sluice_journal journal_ctx;
	uint64_t reloads;		/* policies swapped in after start */
	uint64_t reload_failures;	/* refused changes, once per new error */
	double start_time;		/* unix seconds */
	time_t loaded_at;		/* when the policy in force was compiled */
	uint64_t metrics_due_ms;	/* next metrics write, monotonic */
	struct sluice_said metrics_said;	/* the last metrics error logged */
	struct sluice_said log_said;	/* the decision log's, while it fails */
	uint64_t log_lost_said;		/* its lost records when last said */

	/* One verdict thread per queue. */
	struct verdict_thread {
		struct sluiced *d;
		struct sluice_queue *queue;
		pthread_t thread;
		/* The thread's own: its control handle, identity caches. */
		struct sluice_verdict_thread judge;
		atomic_uint_fast64_t tick_ms;	/* last progress */
		atomic_uint_fast64_t quiescent;	/* loop iterations */
	} vt[SLUICE_QUEUE_COUNT_MAX];

	/* Shared between threads. */
	atomic_int stop_verdict;
	atomic_int stop_heartbeat;
	atomic_int registered;
	atomic_int displaced;		/* another agent took our place */
	atomic_int fail_open;		/* the namespace's fail mode is open */
	atomic_int forget_denied;	/* policy changed: tell the module */
	atomic_int want_identity;	/* the policy has uid, exe, unit rules */
	struct sluice_verdict_ctx verdict;

	/* Owned by the heartbeat thread until it is joined. */
	struct sluice_ctl *ctl;
	/* The module predates SLUICE_A_WANT_IDENTITY: it records anyway. */
	int identity_unsaid;

	/* The queue sockets a previous agent handed over (main only). */
	struct sluice_handover handover;
};

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sluiced: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The module's watchdog as last heard; the heartbeat thread changes it. */
static unsigned int watchdog_of(const struct sluiced *d)
{
	return atomic_load_explicit(&d->watchdog_ms, memory_order_relaxed);
}

static unsigned int verdict_poll_ms(const struct sluiced *d)
{
	unsigned int ms = watchdog_of(d) / 4;

	return ms < 5 ? 5 : ms > 50 ? 50 : ms;
}

/*
 * A queue socket is gone under us: its flows would reach nobody. Leave at
 * once, as a crash would: the module fails over when our sockets close,
 * and systemd starts a whole agent again. Registering with the queues
 * left would make the module trust a queue that nobody reads.
 */
static void queue_lost(struct sluiced *d, int i)
{
	say("queue %u is no longer ours (%s); exiting so that the module fails over",
	    d->queue_num + (unsigned int)i, strerror(errno));
	_exit(EXIT_RUNTIME);
}

static void *verdict_thread(void *arg)
{
	struct verdict_thread *t = arg;
	struct sluiced *d = t->d;
	sluice_decide_fn decide = sluice_verdict_thread_decide;
	void *ctx = &t->judge;
	char err[128];

	/* Without its caches a thread still judges, by NFQA_UID alone. */
	if (sluice_verdict_thread_init(&t->judge, &d->verdict, err, sizeof(err)) < 0) {
		say("queue %u: %s; rules on exe and unit will not match",
		    d->queue_num + (unsigned int)(t - d->vt), err);
		decide = sluice_verdict_decide;
		ctx = &d->verdict;
	}
	while (!atomic_load(&d->stop_verdict)) {
		atomic_store(&t->tick_ms, now_ms());
		sluice_queue_set_fail_open(t->queue, atomic_load(&d->fail_open));
		if (sluice_queue_run_once(t->queue, (int)verdict_poll_ms(d),
					  decide, ctx) < 0) {
			if (errno == EBADF || errno == ENOTSOCK ||
			    !sluice_queue_alive(t->queue))
				queue_lost(d, (int)(t - d->vt));
			say("reading queue %u failed: %s",
			    d->queue_num + (unsigned int)(t - d->vt),
			    strerror(errno));
			sleep_ms(10);
		}
		atomic_fetch_add(&t->quiescent, 1);
	}
	sluice_verdict_thread_free(&t->judge);
	return NULL;
}

/* How long the slowest verdict loop has not moved, in ms. */
static uint64_t verdict_stalled_ms(struct sluiced *d)
{
	uint64_t now = now_ms(), worst = 0;
	int i;

	for (i = 0; i < d->threads; i++) {
		uint64_t tick = atomic_load(&d->vt[i].tick_ms);

		if (now > tick && now - tick > worst)
			worst = now - tick;
	}
	return worst;
}

/* What the module says the namespace's settings are now. */
static void follow_config(struct sluiced *d, const struct sluice_config *cfg)
{
	if (cfg->watchdog_ms && cfg->watchdog_ms != watchdog_of(d)) {
		if (atomic_load(&d->registered))
			say("watchdog now %u ms", cfg->watchdog_ms);
		atomic_store_explicit(&d->watchdog_ms, cfg->watchdog_ms,
				      memory_order_relaxed);
	}
	atomic_store(&d->fail_open, cfg->fail_mode != SLUICE_FAIL_CLOSED);
}

/*
 * What the next REGISTER or heartbeat tells the module: record flow
 * identities only while the policy in force has a rule that needs them.
 */
static void say_want_identity(struct sluiced *d)
{
	if (!d->identity_unsaid &&
	    sluice_ctl_want_identity(d->ctl, atomic_load(&d->want_identity)))
		say("out of memory telling the module whether identities are needed");
}

/*
 * Register with the module, naming our queue sockets so that the loss of
 * any one of them fails over; returns 0 or a negative errno.
 */
static int agent_register(struct sluiced *d)
{
	uint32_t portids[SLUICE_QUEUE_COUNT_MAX];
	struct sluice_config cfg;
	int err, i;

	for (i = 0; i < d->threads; i++) {
		if (!sluice_queue_alive(d->vt[i].queue))
			queue_lost(d, i);
		portids[i] = sluice_queue_portid(d->vt[i].queue);
	}
	say_want_identity(d);
	err = sluice_ctl_register_agent(d->ctl, d->queue_num,
					(uint16_t)d->threads, portids, &cfg);
	if (err == -EINVAL && !d->identity_unsaid) {
		/* A module older than the attribute records every flow. */
		d->identity_unsaid = 1;
		sluice_ctl_want_identity(d->ctl, -1);
		err = sluice_ctl_register_agent(d->ctl, d->queue_num,
						(uint16_t)d->threads, portids,
						&cfg);
	}
	if (err == -EINVAL)	/* a module that does not know the attribute */
		err = sluice_ctl_register_queues(d->ctl, d->queue_num,
						 (uint16_t)d->threads, &cfg);
	if (err)
		return err;
	follow_config(d, &cfg);
	if (cfg.mark_mask != d->mark_mask)
		say("module mark_mask 0x%08x differs from 0x%08x in use; restart sluiced to follow it",
		    cfg.mark_mask, d->mark_mask);
	atomic_store(&d->registered, 1);
	say("registered with the sluice module: queues %u..%u, watchdog %u ms, fail mode %s",
	    d->queue_num, d->queue_num + d->threads - 1, cfg.watchdog_ms,
	    sluice_fail_mode_name(cfg.fail_mode));
	return 0;
}

static void ctl_lost(struct sluiced *d, const char *why)
{
	say("%s; failing open until it is back", why);
	sluice_ctl_close(d->ctl);
	d->ctl = NULL;
	d->identity_unsaid = 0;		/* the next module may know it */
	atomic_store(&d->registered, 0);
}

/*
 * Four beats per watchdog period, read afresh each time: a heartbeat reply
 * may just have cut the watchdog, and a beat slept on the old interval
 * would come too late for the new deadline.
 */
static unsigned int beat_interval(const struct sluiced *d)
{
	unsigned int interval = watchdog_of(d) / 4;

	return interval < 5 ? 5 : interval;
}

/*
 * What held up the beats the module heard too late (more than the
 * watchdog apart: it took us for hung and failed new flows over in the
 * meantime), said at most once a minute: the verdict loop (the beats wait
 * for it), the call into the module, or neither (the scheduler ran us
 * late: a starved machine). Heartbeat thread only.
 */
struct late_beats {
	uint64_t last;		/* when the module last heard a beat */
	uint64_t stalled;	/* the verdict loop's longest stall since */
	uint64_t said;		/* when a late beat was last said */
	unsigned int unsaid;	/* late beats since, not said */
};

static void beat_heard(struct sluiced *d, struct late_beats *lb,
		       uint64_t sent, uint64_t heard)
{
	uint64_t gap = heard - lb->last;

	if (lb->last && gap > watchdog_of(d)) {
		if (lb->said && heard - lb->said < 60000) {
			lb->unsaid++;
		} else {
			say("the module heard us %llu ms after the last heartbeat (watchdog %u ms) and failed new flows %s meanwhile; the verdict loop stalled up to %llu ms, the heartbeat took %llu ms to send%s (%u more late since the last such line)",
			    (unsigned long long)gap, watchdog_of(d),
			    atomic_load(&d->fail_open) ? "open" : "closed",
			    (unsigned long long)lb->stalled,
			    (unsigned long long)(heard - sent),
			    lb->stalled > watchdog_of(d) / 2 || heard - sent > watchdog_of(d) / 2 ?
			    "" : ": this machine ran us late", lb->unsaid);
			lb->said = heard;
			lb->unsaid = 0;
		}
	}
	lb->last = heard;
	lb->stalled = 0;
}

static void *heartbeat_thread(void *arg)
{
	struct sluiced *d = arg;
	struct late_beats lb = { 0 };
	struct sluice_config cfg;
	char err[256];
	int waiting_said = 0;

	while (!atomic_load(&d->stop_heartbeat)) {
		uint64_t sent, stalled;
		int rc;

		/*
		 * A verdict loop that stopped moving must look dead, to
		 * systemd and to the module; one that moves is alive for
		 * systemd whether or not a module is there to tell.
		 */
		stalled = verdict_stalled_ms(d);
		if (stalled > lb.stalled)
			lb.stalled = stalled;
		if (stalled > watchdog_of(d) / 2 + verdict_poll_ms(d)) {
			sleep_ms(beat_interval(d));
			continue;
		}
		sd_notify(0, "WATCHDOG=1");

		if (!d->ctl) {
			d->ctl = sluice_ctl_open(err, sizeof(err));
			if (!d->ctl) {
				if (!waiting_said++)
					say("%s; serving queue %u without it",
					    err, d->queue_num);
				sleep_ms(250);
				continue;
			}
			waiting_said = 0;
		}
		if (!atomic_load(&d->registered)) {
			rc = agent_register(d);
			if (rc == -ENOENT) {
				ctl_lost(d, "the sluice module went away");
				continue;
			}
			if (rc) {
				say("cannot register with the sluice module: %s",
				    sluice_ctl_error(d->ctl));
				sleep_ms(250);
				continue;
			}
			/* Registering is the first beat the module hears. */
			lb.last = now_ms();
			lb.stalled = 0;
		}

		if (atomic_exchange(&d->forget_denied, 0) &&
		    sluice_ctl_forget_denied(d->ctl) &&
		    sluice_ctl_gone(d->ctl)) {
			ctl_lost(d, "the sluice module went away");
			continue;
		}
		say_want_identity(d);
		sent = now_ms();
		rc = sluice_ctl_heartbeat_config(d->ctl, &cfg);
		if (rc == -ENOENT) {
			ctl_lost(d, "the sluice module went away");
			continue;
		} else if (rc == -ENOTCONN) {
			say("the module forgot us (it was reloaded?); registering again");
			atomic_store(&d->registered, 0);
			continue;
		} else if (rc == -EBUSY) {
			say("another sluiced registered in our place; leaving");
			atomic_store(&d->displaced, 1);
			return NULL;
		} else if (rc) {
			say("heartbeat failed: %s", sluice_ctl_error(d->ctl));
		} else {
			beat_heard(d, &lb, sent, now_ms());
			follow_config(d, &cfg);
		}
		sleep_ms(beat_interval(d));
	}
	return NULL;
}

static const char *policy_source_name(int source)
{
	return source == SLUICE_POLICY_FROM_LAST_GOOD ? "last-good" :
	       source == SLUICE_POLICY_FROM_BUILT_IN ? "built-in" : "database";
}

/* Which policy is in force and, when it is not the database's, why. */
static void policy_in_force(struct sluiced *d, char *out, size_t outlen)
{
	const struct sluice_policy_loader *l = &d->loader;
	char copy[PATH_MAX], when[64];
	struct tm tm;

	switch (l->source) {
	case SLUICE_POLICY_FROM_LAST_GOOD:
		sluice_policy_last_good_path(l->path, copy, sizeof(copy));
		gmtime_r(&l->source_time, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(out, outlen, "last good copy %s from %s, because %s", copy, when, l->error);
		break;
	case SLUICE_POLICY_FROM_BUILT_IN:
		snprintf(out, outlen, "built-in default policy (%s everything), because %s",
			 sluice_policy_default_allow(sluice_policy_loader_current(&d->loader)) ?
			 "allow" : "deny", l->error);
		break;
	default:
		if (!l->error[0]) {
			snprintf(out, outlen, "database %s", l->path);
			break;
		}
		/* An edit was refused: what compiled before it stays. */
		gmtime_r(&d->loaded_at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(out, outlen, "last good policy of database %s, compiled %s, because the latest edit was refused: %s",
			 l->path, when, l->error);
	}
}

static void write_status(struct sluiced *d)
{
	const struct sluice_policy *pol = sluice_policy_loader_current(&d->loader);
	char tmp[PATH_MAX], in_force[PATH_MAX + 700], log_error[256];
	uint64_t logged = 0, dropped = 0, failed = 0;
	FILE *f;

	if (!d->status_path)
		return;
	sluice_log_stats(d->log, &logged, &dropped, NULL);
	/* The error while the writes fail; "" once a batch is written. */
	if (!sluice_log_last_error(d->log, &failed, log_error, sizeof(log_error)))
		log_error[0] = '\0';
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->status_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "agent_pid=%ld\n", (long)getpid());
	fprintf(f, "policy_db=%s\n", d->db_path);
	/* sluicectl log reads the decisions here when given no --log-db. */
	fprintf(f, "log_db=%s\n", d->log_db_path ? d->log_db_path : "");
	fprintf(f, "policy_rules=%zu\n", pol ? sluice_policy_rule_count(pol) : 0);
	fprintf(f, "policy_generation=%llu\n",
		(unsigned long long)d->loader.generation);
	fprintf(f, "policy_error=%s\n", d->loader.error);
	fprintf(f, "policy_source=%s\n", policy_source_name(d->loader.source));
	policy_in_force(d, in_force, sizeof(in_force));
	fprintf(f, "policy_in_force=%s\n", in_force);
	fprintf(f, "policy_loaded_at=%lld\n", (long long)d->loaded_at);
	fprintf(f, "queue=%u\n", d->queue_num);
	fprintf(f, "threads=%d\n", d->threads);
	fprintf(f, "registered=%d\n", atomic_load(&d->registered));
	fprintf(f, "decided_allow=%llu\n",
		(unsigned long long)atomic_load(&d->verdict.allowed));
	fprintf(f, "decided_deny=%llu\n",
		(unsigned long long)atomic_load(&d->verdict.denied));
	fprintf(f, "dns_sinkholed=%llu\n",
		(unsigned long long)atomic_load(&d->verdict.sinkholed));
	fprintf(f, "flows_named=%llu\n",
		(unsigned long long)atomic_load(&d->verdict.named));
	fprintf(f, "decisions_logged=%llu\n", (unsigned long long)logged);
	fprintf(f, "decisions_dropped=%llu\n", (unsigned long long)dropped);
	fprintf(f, "decisions_failed=%llu\n", (unsigned long long)failed);
	fprintf(f, "log_error=%s\n", log_error);
	if (fclose(f) == 0)
		rename(tmp, d->status_path);
}

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Every counter into the metrics file (agent/metrics.h), on the main
 * thread: the module's of this namespace from /proc/net/sluice, our
 * queues' from nfnetlink_queue, ours from the atomics the verdict
 * threads bump. A failure is said once per new error; the agent goes on.
 */
static void write_metrics(struct sluiced *d, bool up)
{
	struct sluice_metrics m = { 0 };
	char err[320];
	int n;

	if (!d->metrics_path)
		return;
	d->metrics_due_ms = now_ms() + d->metrics_s * 1000ULL;
	m.now = unix_now();
	m.agent_up = up;
	m.agent_start = d->start_time;
	m.version = SLUICED_VERSION;
	m.threads = (unsigned int)d->threads;
	m.answered = atomic_load(&d->verdict.answered);
	m.allowed = atomic_load(&d->verdict.allowed);
	m.denied = atomic_load(&d->verdict.denied);
	m.sinkholed = atomic_load(&d->verdict.sinkholed);
	m.named = atomic_load(&d->verdict.named);
	m.reloads = d->reloads;
	m.reload_failures = d->reload_failures;
	m.rules = sluice_policy_rule_count(sluice_policy_loader_current(&d->loader));
	m.policy_source = d->loader.source;
	m.policy_error = d->loader.error[0] != '\0';
	m.log_on = d->log_db_path != NULL;
	if (d->log)
		sluice_log_stats(d->log, &m.log_written, &m.log_dropped,
				 &m.log_failed);
	m.journal_on = d->journal != 0;
	m.journal_sent = atomic_load(&d->journal_ctx.sent);
	m.journal_failed = atomic_load(&d->journal_ctx.failed);
	m.module_loaded = sluice_proc_read(NULL, &m.module, err, sizeof(err)) == 0;
	n = sluice_nfqueue_read(NULL, d->queue_num, (unsigned int)d->threads,
				m.nfq, err, sizeof(err));
	m.nfq_readable = n >= 0;
	m.nfq_n = n > 0 ? (unsigned int)n : 0;

	if (sluice_metrics_write(d->metrics_path, &m, err, sizeof(err)) < 0) {
		if (sluice_said_news(&d->metrics_said, err))
			say("%s; the metrics stay as they were", err);
	} else {
		sluice_said_clear(&d->metrics_said);
	}
}

/*
 * The decision log's writes, said as they fail and as they work again:
 * one line when records start to be lost (and one per new error while
 * they are), one when a batch is written again with the count lost
 * meanwhile; a disk full for an hour is two lines. A failure that came
 * and went between two looks is said all the same: its records are
 * counted. Main thread; the log thread only takes the log's lock.
 */
static void say_log_health(struct sluiced *d)
{
	char err[256];
	uint64_t lost;
	int failing;

	failing = sluice_log_last_error(d->log, &lost, err, sizeof(err));
	if ((failing || lost != d->log_lost_said) &&
	    sluice_said_news(&d->log_said, err))
		say("%s; decisions go on, the records are counted as lost in sluice_log_failed_records_total",
		    err);
	if (!failing && sluice_said_clear(&d->log_said))
		say("decision log %s is written again; %llu records were lost meanwhile",
		    d->log_db_path, (unsigned long long)(lost - d->log_lost_said));
	if (!failing)
		d->log_lost_said = lost;
}

/*
 * settings.trusted_resolvers: the only servers whose answers teach the
 * name cache, when set (see agent/nametrust.h). A bad entry is skipped
 * and reported; the ones that parse stay in force.
 */
static void read_trusted_resolvers(struct sluiced *d,
				   const struct sluice_policy *p)
{
	const char *text = sluice_policy_trusted_resolvers(p);
	struct sluice_trusted tr;
	char err[256];

	memset(&tr, 0, sizeof(tr));
	if (text && sluice_trusted_parse(text, &tr, err, sizeof(err)) < 0)
		say("%s", err);
	sluice_verdict_set_trusted(&d->verdict, &tr);
}

/*
 * The DNS settings of the policy in force, for the verdict threads. They
 * were read with its rules in one transaction, so a busy or locked
 * database can never turn one off; a verdict in the instant between the
 * swap and these stores still sees the previous policy's settings.
 * Also whether it needs flow identities, which the heartbeat thread tells
 * the module at its next beat.
 */
static void read_policy_settings(struct sluiced *d)
{
	const struct sluice_policy *p = sluice_policy_loader_current(&d->loader);

	atomic_store(&d->want_identity, sluice_policy_needs_identity(p));

	atomic_store(&d->verdict.sinkhole_null, sluice_policy_sinkhole_null(p));
	atomic_store(&d->verdict.block_dot, sluice_policy_block_dot(p));
	atomic_store(&d->verdict.block_doh, sluice_policy_block_doh(p));
	read_trusted_resolvers(d, p);
}

/*
 * Wait until the verdict thread has passed a point where it holds no
 * policy pointer it read before the swap, then free the retired policy.
 */
static void retire_policy(struct sluiced *d, struct sluice_policy *old)
{
	uint64_t q0[SLUICE_QUEUE_COUNT_MAX];
	int i, t, moved;

	if (!old)
		return;
	for (t = 0; t < d->threads; t++)
		q0[t] = atomic_load(&d->vt[t].quiescent);
	for (i = 0; i < 400; i++) {
		moved = 0;
		for (t = 0; t < d->threads; t++)
			moved += atomic_load(&d->vt[t].quiescent) != q0[t];
		if (moved == d->threads) {
			sluice_policy_free(old);
			return;
		}
		sleep_ms(5);
	}
	say("verdict loop did not move for 2 s; keeping the old policy in memory");
}

static void reload(struct sluiced *d, int force)
{
	struct sluice_policy *retired = NULL;
	struct sluice_revoke_stats st = { 0 };
	char err[256];
	int rc;

	rc = sluice_policy_loader_poll(&d->loader, force, &retired);
	if (rc == SLUICE_RELOAD_FAILED) {
		/* A file that cannot be opened fails every poll: say it once. */
		int news = sluice_said_news(&d->policy_said, d->loader.error);

		/* Counted once per new error, as it is said. */
		if (news)
			d->reload_failures++;
		if (force || news) {
			say("%s; the %s stays in force", d->loader.error,
			    d->loader.source == SLUICE_POLICY_FROM_DATABASE ? "previous policy" :
			    d->loader.source == SLUICE_POLICY_FROM_LAST_GOOD ? "last good copy" :
			    "built-in default policy");
			sluice_log_event(d->log, "refused", d->loader.error);
		}
	} else if (rc == SLUICE_RELOAD_SWAPPED) {
		sluice_said_clear(&d->policy_said);
		d->reloads++;
		d->loaded_at = time(NULL);
		read_policy_settings(d);
		say("policy %s loaded: %zu rules", d->db_path,
		    sluice_policy_rule_count(sluice_policy_loader_current(&d->loader)));
		if (d->loader.save_error[0])
			say("%s", d->loader.save_error);
		retire_policy(d, retired);
		sluice_log_event(d->log, "reload", d->db_path);
		/* Flows denied on their first packet may be allowed now. */
		atomic_store(&d->forget_denied, 1);
		/* Flows decided under the old policy are judged again. */
		if (d->mark_mask &&
		    sluice_revoke_apply(sluice_policy_loader_current(&d->loader),
					d->mark_mask, &st, err, sizeof(err)) < 0)
			say("re-checking established flows failed: %s", err);
		else if (st.flipped_to_deny || st.flipped_to_allow || st.vetted)
			say("established flows re-checked: %llu now denied, %llu now allowed, %llu unvetted judged",
			    (unsigned long long)st.flipped_to_deny,
			    (unsigned long long)st.flipped_to_allow,
			    (unsigned long long)st.vetted);
	}
	if (rc != SLUICE_RELOAD_NONE || force)
		write_status(d);
}

/*
 * In fail-closed mode under systemd, the next agent takes over our queue
 * sockets (agent/handover.h): new flows wait in them instead of being
 * dropped while no agent is live. Returns 1 when they are handed over;
 * 0 when the caller drains as before (open mode, no systemd, a module
 * without the command, a store that refused).
 */
static int hand_over(struct sluiced *d)
{
	uint16_t nums[SLUICE_QUEUE_COUNT_MAX];
	int fds[SLUICE_QUEUE_COUNT_MAX];
	struct sluice_config cfg = { 0 };
	int i, rc;

	/*
	 * Open mode drains: new flows pass at once meanwhile (marked
	 * unvetted, re-checked by the next agent) rather than wait for it.
	 * One last heartbeat (the heartbeat thread is gone) asks for the
	 * fail mode in force and keeps the module from thinking us hung
	 * before the handover reaches it.
	 */
	if (!sluice_handover_possible(d->threads) ||
	    sluice_ctl_heartbeat_config(d->ctl, &cfg) ||
	    cfg.fail_mode != SLUICE_FAIL_CLOSED)
		return 0;
	if (sluice_ctl_handover(d->ctl, SLUICE_HANDOVER_GRACE_MS)) {
		say("cannot hand the queues over (%s); draining instead",
		    sluice_ctl_error(d->ctl));
		return 0;
	}
	for (i = 0; i < d->threads; i++) {
		fds[i] = sluice_queue_fd(d->vt[i].queue);
		nums[i] = (uint16_t)(d->queue_num + i);
	}
	rc = sluice_handover_store(fds, nums, d->threads);
	if (rc < 0) {
		say("systemd did not take the queue sockets (%s); draining instead",
		    strerror(-rc));
		return 0;
	}
	say("fail mode closed: handing the queues over to the next sluiced (it has %u ms to register)",
	    SLUICE_HANDOVER_GRACE_MS);
	return 1;
}

/*
 * SIGTERM: stop queueing, answer what is queued, leave. Nothing is lost.
 * Or, in fail-closed mode under systemd, hand the queues over: what is
 * queued, and what comes until the next agent registers, waits for it.
 */
static void shutdown_agent(struct sluiced *d, pthread_t hb)
{
	uint64_t idle_since, deadline;
	int handed = 0;
	int i;

	sd_notify(0, "STOPPING=1");
	atomic_store(&d->stop_heartbeat, 1);
	pthread_join(hb, NULL);

	if (d->ctl && atomic_load(&d->registered) && !atomic_load(&d->displaced)) {
		handed = hand_over(d);
		/* A drain also takes back a handover that went half-way. */
		if (!handed && sluice_ctl_drain(d->ctl))
			say("drain request failed: %s", sluice_ctl_error(d->ctl));
	}

	/*
	 * Handed over: answer what each verdict thread has read, leave the
	 * rest in the sockets for the next agent, and go without a goodbye
	 * (the module knows our control socket will close).
	 */
	if (handed) {
		atomic_store(&d->stop_verdict, 1);
		for (i = 0; i < d->threads; i++)
			pthread_join(d->vt[i].thread, NULL);
		sluice_ctl_close(d->ctl);
		d->ctl = NULL;
		return;
	}

	/* The module queues nothing new now: wait for the queue to empty. */
	idle_since = now_ms();
	deadline = idle_since + 2000;
	for (;;) {
		uint64_t before = atomic_load(&d->verdict.answered);
		uint64_t t;

		sleep_ms(20);
		t = now_ms();
		if (atomic_load(&d->verdict.answered) != before)
			idle_since = t;
		if (t - idle_since >= 100 || t >= deadline)
			break;
	}
	atomic_store(&d->stop_verdict, 1);
	for (i = 0; i < d->threads; i++)
		pthread_join(d->vt[i].thread, NULL);

	if (d->ctl && atomic_load(&d->registered) && !atomic_load(&d->displaced))
		sluice_ctl_unregister(d->ctl);
	sluice_ctl_close(d->ctl);
	d->ctl = NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluiced [--db PATH] [--log-db PATH] [--queue N] [--threads N]\n"
		"               [--status-file PATH] [--metrics-file PATH]\n"
		"               [--metrics-interval S] [--journal[=all|denied]] [--verbose]\n"
		"\n"
		"Decides the new flows that the sluice kernel module queues, from the\n"
		"SQLite policy at --db (default %s, created\n"
		"with the default policy when missing). Runs in the foreground; edits\n"
		"made with sqlite3 take effect within a second; SIGHUP reloads, SIGTERM\n"
		"drains and stops.\n"
		"\n"
		"--metrics-file PATH writes every counter in Prometheus' text format\n"
		"every --metrics-interval seconds (default %d, 1..3600), replacing the\n"
		"file atomically (for node_exporter's textfile collector). --journal\n"
		"sends every decision (=denied: every deny) to the systemd journal with\n"
		"SLUICE_* fields.\n",
		DEFAULT_DB, DEFAULT_METRICS_S);
}

static int parse_uint(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(struct sluiced *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "log-db", required_argument, NULL, 'l' },
		{ "queue", required_argument, NULL, 'q' },
		{ "threads", required_argument, NULL, 't' },
		{ "status-file", required_argument, NULL, 's' },
		{ "metrics-file", required_argument, NULL, 'm' },
		{ "metrics-interval", required_argument, NULL, 'i' },
		{ "journal", optional_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	long v;
	int c;

	/* A bad option is said once, in one sentence, below. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:l:q:t:s:m:i:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			d->db_path = optarg;
			break;
		case 'l':
			d->log_db_path = optarg;
			break;
		case 'q':
			if (parse_uint(optarg, 65535, &v)) {
				say("--queue '%s' is not a queue number (0..65535)", optarg);
				return EXIT_USAGE;
			}
			d->queue_opt = (int)v;
			break;
		case 't':
			if (parse_uint(optarg, SLUICE_QUEUE_COUNT_MAX, &v) || v < 1) {
				say("--threads '%s' is not a thread count (1..%d)",
				    optarg, SLUICE_QUEUE_COUNT_MAX);
				return EXIT_USAGE;
			}
			d->threads = (int)v;
			break;
		case 's':
			d->status_path = optarg[0] ? optarg : NULL;
			break;
		case 'm':
			d->metrics_path = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, 3600, &v) || v < 1) {
				say("--metrics-interval '%s' is not a number of seconds (1..3600)",
				    optarg);
				return EXIT_USAGE;
			}
			d->metrics_s = (unsigned int)v;
			break;
		case 'j':
			if (!optarg || !strcmp(optarg, "all")) {
				d->journal = 1;
			} else if (!strcmp(optarg, "denied")) {
				d->journal = 2;
			} else {
				say("--journal='%s' is neither all nor denied", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			d->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("sluiced %s\n", SLUICED_VERSION);
			exit(0);
		default:
			say("unknown option or missing value '%s' (sluiced --help shows the usage)",
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		say("unexpected argument '%s' (sluiced --help shows the usage)", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* Pick the queue before registering, so that it is bound when flows come. */
static void pick_queue(struct sluiced *d)
{
	struct sluice_config cfg;
	char err[256];

	d->queue_num = d->queue_opt >= 0 ? (uint16_t)d->queue_opt : 0;
	d->mark_mask = SLUICE_MARK_MASK_DEFAULT;
	atomic_init(&d->watchdog_ms, 250);
	atomic_store(&d->fail_open, 1);	/* the module's default */
	d->ctl = sluice_ctl_open(err, sizeof(err));
	if (!d->ctl)
		return;
	if (sluice_ctl_get_config(d->ctl, &cfg) == 0) {
		if (d->queue_opt < 0)
			d->queue_num = cfg.queue_num;
		d->mark_mask = cfg.mark_mask;
		follow_config(d, &cfg);
		d->fail_closed = cfg.fail_mode == SLUICE_FAIL_CLOSED;
	}
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so only main sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct sluiced d = {
		.db_path = DEFAULT_DB,
		.status_path = DEFAULT_STATUS,
		.queue_opt = -1,
		.threads = 1,
		.metrics_s = DEFAULT_METRICS_S,
	};
	struct sluice_log_options lo = { 0 };
	struct sluice_queue_counts qc;
	uint64_t receives = 0, sends = 0;
	pthread_t hb;
	int i;
	unsigned int polls = 0;
	char err[512];
	int sfd, rc;

	rc = parse_args(&d, argc, argv);
	if (rc)
		return rc;
	d.start_time = unix_now();
	d.loaded_at = time(NULL);
	/* A metrics file that can never be written is said at once. */
	if (d.metrics_path &&
	    sluice_metrics_probe(d.metrics_path, err, sizeof(err)) < 0) {
		say("%s", err);
		return EXIT_RUNTIME;
	}

	sfd = setup_signals();
	if (sfd < 0) {
		say("cannot set up signal handling: %s", strerror(errno));
		return EXIT_RUNTIME;
	}

	/* The module's fail_mode chooses the built-in policy's default action. */
	pick_queue(&d);
	rc = sluice_policy_loader_start(&d.loader, d.db_path, !d.fail_closed, err, sizeof(err));
	if (rc < 0) {
		say("%s; exiting (the module fails open)", err);
		return EXIT_POLICY;
	}
	if (rc != SLUICE_POLICY_FROM_DATABASE) {
		char in_force[PATH_MAX + 700];

		policy_in_force(&d, in_force, sizeof(in_force));
		say("WARNING: the policy database is not in force; enforcing the %s; watching %s for a fix",
		    in_force, d.db_path);
		sluice_said_news(&d.policy_said, d.loader.error);
	} else if (d.loader.save_error[0]) {
		say("%s", d.loader.save_error);
	}

	if (d.log_db_path || d.journal) {
		sluice_log_options_default(&lo);
		if (d.journal) {
			d.journal_ctx.denied_only = d.journal == 2;
			lo.sink = sluice_journal_sink;
			lo.sink_ctx = &d.journal_ctx;
		}
		d.log = sluice_log_open(d.log_db_path, &lo, err, sizeof(err));
		if (!d.log) {
			say("%s", err);
			return EXIT_RUNTIME;
		}
	}

	if (d.status_path) {
		char dir[PATH_MAX];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", d.status_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755);
		}
	}

	if (sluice_verdict_init(&d.verdict, &d.loader, d.log, err, sizeof(err))) {
		say("%s", err);
		return EXIT_RUNTIME;
	}
	read_policy_settings(&d);

	if (d.queue_num + d.threads - 1 > 65535) {
		say("--queue %u with --threads %d runs past queue 65535",
		    d.queue_num, d.threads);
		return EXIT_USAGE;
	}
	/* A previous agent may have handed its queue sockets over. */
	sluice_handover_collect(&d.handover);
	for (i = 0; i < d.threads; i++) {
		d.vt[i].d = &d;
		d.vt[i].queue = sluice_handover_open_queue(&d.handover,
				(uint16_t)(d.queue_num + i), d.mark_mask,
				atomic_load(&d.fail_open), err, sizeof(err));
		if (!d.vt[i].queue) {
			say("%s", err);
			return EXIT_RUNTIME;
		}
	}

	if (d.mark_mask && !sluice_queue_mark_mask(d.vt[0].queue)) {
		say("this kernel cannot store verdicts in conntrack from NFQUEUE (no nfnetlink_queue conntrack glue); every queued packet is decided on its own");
		d.mark_mask = 0;
	}
	for (i = 0; i < d.threads; i++) {
		atomic_store(&d.vt[i].tick_ms, now_ms());
		if (pthread_create(&d.vt[i].thread, NULL, verdict_thread,
				   &d.vt[i])) {
			say("cannot start verdict thread %d", i);
			return EXIT_RUNTIME;
		}
	}
	/* Registered before READY, so that "started" means "enforcing". */
	if (d.ctl && agent_register(&d))
		say("cannot register with the sluice module: %s",
		    sluice_ctl_error(d.ctl));
	/* Registered on the handed-over sockets: systemd may let them go. */
	sluice_handover_done(&d.handover);
	if (pthread_create(&hb, NULL, heartbeat_thread, &d)) {
		say("cannot start the heartbeat thread");
		return EXIT_RUNTIME;
	}
	write_status(&d);
	write_metrics(&d, true);
	sd_notifyf(0, "READY=1\nSTATUS=enforcing %zu rules of the %s policy on queue %u",
		   sluice_policy_rule_count(sluice_policy_loader_current(&d.loader)),
		   policy_source_name(d.loader.source), d.queue_num);
	say("serving queue %u with policy %s", d.queue_num, d.db_path);
	/* The history sluicectl report draws: fail-open gaps end here. */
	sluice_log_event(d.log, "start", d.loader.source == SLUICE_POLICY_FROM_DATABASE ?
			 NULL : d.loader.error);

	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		if (poll(&pfd, 1, RELOAD_POLL_MS) > 0 &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				say("SIGHUP: reloading %s", d.db_path);
				reload(&d, 1);
				continue;
			}
			say("%s: draining and stopping",
			    si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			break;
		}
		if (atomic_load(&d.displaced))
			break;
		reload(&d, 0);
		say_log_health(&d);
		/* Counters in the status file move about once a second. */
		if (++polls % (1000 / RELOAD_POLL_MS) == 0)
			write_status(&d);
		if (d.metrics_path && now_ms() >= d.metrics_due_ms)
			write_metrics(&d, true);
	}

	shutdown_agent(&d, hb);
	/* The verdict threads are joined: their queues' counts are still. */
	for (i = 0; i < d.threads; i++) {
		sluice_queue_counts(d.vt[i].queue, &qc);
		receives += qc.receives;
		sends += qc.sends;
		sluice_queue_close(d.vt[i].queue);
	}
	if (d.log) {
		sluice_log_event(d.log, "stop", NULL);
		sluice_log_flush(d.log, 1000);
		say_log_health(&d);
	}
	/* The file stays, saying the agent stopped (metrics.h). */
	write_metrics(&d, false);
	if (d.log)
		sluice_log_close(d.log);
	say("stopped: %llu packets answered, %llu flows allowed, %llu denied; "
	    "%llu receives and %llu sends on the queues",
	    (unsigned long long)atomic_load(&d.verdict.answered),
	    (unsigned long long)atomic_load(&d.verdict.allowed),
	    (unsigned long long)atomic_load(&d.verdict.denied),
	    (unsigned long long)receives, (unsigned long long)sends);
	sluice_verdict_free(&d.verdict);
	if (d.status_path)
		unlink(d.status_path);
	sluice_policy_loader_close(&d.loader);
	close(sfd);
	return 0;
}
