// SPDX-License-Identifier: GPL-2.0
/*
 * Decision log: records reach the file (read back with the real sqlite3
 * CLI), batches are single transactions, a full ring drops and counts
 * without blocking, a full disk loses batches, counts them and says why
 * until a batch is written again, retention deletes by age and by count,
 * and a bad path gives one sentence naming the file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "agent/decision_log.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/sluice-log-test.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/decisions.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	umount2(fx->dir, MNT_DETACH);	/* the full-disk test's tmpfs, if any */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the sqlite3 CLI on @path with @sql; its whole output in @out. */
static void sqlite3_cli(const char *path, const char *sql, char *out, size_t outlen)
{
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "sqlite3 -batch -separator '|' '%s' \"%s\" 2>&1", path, sql);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct sluice_flow v4_flow(uint16_t sport)
{
	struct sluice_flow f = {
		.family = AF_INET, .proto = IPPROTO_TCP, .direction = SLUICE_DIR_OUT,
		.sport = sport, .dport = 443, .uid = 1000,
		.exe = "/usr/bin/curl", .domain = "example.com",
	};

	inet_pton(AF_INET, "10.0.0.1", f.src);
	inet_pton(AF_INET, "93.184.216.34", f.dst);
	return f;
}

static void test_pushed_records_appear_in_the_file(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log *l;
	struct sluice_flow f4 = v4_flow(40000), f6 = { 0 }, ficmp = { 0 };
	struct sluice_decision by_rule = { .allow = 1, .rule_id = 7 };
	struct sluice_decision by_default = { .allow = 0, .rule_id = 0 };
	char err[256], out[2048], long_exe[600];
	uint64_t logged, dropped, errors;
	int64_t before = now_ms(), t;

	l = sluice_log_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(l);

	f6.family = AF_INET6;
	f6.proto = IPPROTO_UDP;
	f6.direction = SLUICE_DIR_IN;
	inet_pton(AF_INET6, "2001:db8::1", f6.src);
	inet_pton(AF_INET6, "::1", f6.dst);
	f6.sport = 53;
	f6.dport = 5353;
	f6.uid = -1;

	ficmp.family = AF_INET;
	ficmp.proto = IPPROTO_ICMP;
	ficmp.direction = SLUICE_DIR_FORWARD;
	inet_pton(AF_INET, "192.0.2.1", ficmp.src);
	inet_pton(AF_INET, "198.51.100.2", ficmp.dst);
	ficmp.uid = -1;
	memset(long_exe, 'x', sizeof(long_exe) - 1);
	long_exe[0] = '/';
	long_exe[sizeof(long_exe) - 1] = '\0';
	ficmp.exe = long_exe;	/* cut to SLUICE_LOG_EXE_MAX - 1 */

	assert_int_equal(sluice_log_push(l, &f4, &by_rule), 0);
	assert_int_equal(sluice_log_push(l, &f6, &by_default), 0);
	assert_int_equal(sluice_log_push(l, &ficmp, &by_default), 0);
	assert_int_equal(sluice_log_push(l, &f4, &by_rule), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	assert_int_equal(logged, 4);
	assert_int_equal(dropped, 0);
	assert_int_equal(errors, 0);

	/* Readable by the sqlite3 CLI while the agent still has it open. */
	sqlite3_cli(fx->path,
		    "SELECT direction, proto, src, dst, sport, dport, domain, uid,"
		    " exe, action, rule_id FROM decisions ORDER BY id LIMIT 2",
		    out, sizeof(out));
	assert_string_equal(out,
			    "out|tcp|10.0.0.1|93.184.216.34|40000|443|example.com|1000|/usr/bin/curl|allow|7\n"
			    "in|udp|2001:db8::1|::1|53|5353||||deny|\n");
	sqlite3_cli(fx->path,
		    "SELECT direction, proto, sport IS NULL, dport IS NULL, rule_id IS NULL,"
		    " length(exe) FROM decisions WHERE id = 3",
		    out, sizeof(out));
	assert_string_equal(out, "forward|icmp|1|1|1|255\n");
	sqlite3_cli(fx->path, "SELECT rule_id, hits FROM rule_hits ORDER BY rule_id",
		    out, sizeof(out));
	assert_string_equal(out, "0|2\n7|2\n");
	sqlite3_cli(fx->path, "PRAGMA journal_mode", out, sizeof(out));
	assert_string_equal(out, "wal\n");
	sqlite3_cli(fx->path, "SELECT count(*) FROM decisions_text WHERE time LIKE '____-__-__T__:__:__.___Z'",
		    out, sizeof(out));
	assert_string_equal(out, "4\n");

	t = query_int(fx->path, "SELECT min(time) FROM decisions");
	assert_true(t >= before && t <= now_ms());
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM sqlite_master"
					     " WHERE type = 'index' AND name = 'decisions_time'"), 1);
	sluice_log_close(l);
}

/* Hold the write lock of @path from another connection: the log thread stalls. */
static sqlite3 *hold_write_lock(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);	/* the log thread may be mid-write */
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void release_write_lock(sqlite3 *db)
{
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The log thread's sink: counts the records it has taken from the ring. */
static void count_taken(void *ctx, const struct sluice_log_record *r)
{
	(void)r;
	atomic_fetch_add((atomic_int *)ctx, 1);
}

/* A reader never sees part of a batch: row counts move by whole batches. */
static void test_each_batch_is_one_transaction(void **state)
{
	struct fixture *fx = *state;
	atomic_int taken = 0;
	struct sluice_log_options o = { .batch_records = 100, .flush_ms = 20,
					.sink = count_taken, .sink_ctx = &taken };
	struct sluice_decision d = { .allow = 1, .rule_id = 3 };
	struct sluice_flow f = v4_flow(1);
	struct sluice_log *l;
	sqlite3 *lock, *reader;
	sqlite3_stmt *count;
	char err[256];
	int i, seen_nonzero = 0;
	double end;

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	lock = hold_write_lock(fx->path);
	for (i = 0; i < 250; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	/*
	 * Wait until the log thread holds a full batch (it keeps what it took
	 * while the database is locked, and takes more only between tries),
	 * rather than sleep: a thread held off the CPU on a busy machine could
	 * otherwise still be trying a partial batch when the lock goes.
	 */
	end = mono_s() + 10;
	while (atomic_load(&taken) < 100 && mono_s() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&taken), 100);

	assert_int_equal(sqlite3_open_v2(fx->path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(reader,
					    "SELECT (SELECT count(*) FROM decisions),"
					    " (SELECT coalesce(sum(hits), 0) FROM rule_hits)",
					    -1, &count, NULL), SQLITE_OK);
	release_write_lock(lock);

	end = mono_s() + 3;
	while (mono_s() < end) {
		int64_t rows, hits;

		assert_int_equal(sqlite3_step(count), SQLITE_ROW);
		rows = sqlite3_column_int64(count, 0);
		hits = sqlite3_column_int64(count, 1);
		sqlite3_reset(count);
		/* rule_hits is written in the same transaction as the rows */
		assert_int_equal(rows, hits);
		assert_true(rows == 0 || rows == 100 || rows == 200 || rows == 250);
		if (rows)
			seen_nonzero = 1;
		if (rows == 250)
			break;
	}
	assert_true(seen_nonzero);
	sqlite3_finalize(count);
	sqlite3_close(reader);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_close(l);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 250);
}

static void test_full_ring_drops_and_counts_without_blocking(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log_options o = { .ring_records = 64, .batch_records = 16, .flush_ms = 10 };
	struct sluice_decision d = { .allow = 0, .rule_id = 9 };
	struct sluice_flow f = v4_flow(2);
	uint64_t logged, dropped, errors;
	unsigned int refused = 0, i;
	struct sluice_log *l;
	char err[256];
	sqlite3 *lock;
	double t0, took;

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	lock = hold_write_lock(fx->path);

	t0 = mono_s();
	for (i = 0; i < 100000; i++)
		if (sluice_log_push(l, &f, &d) < 0)
			refused++;
	took = mono_s() - t0;
	/* 100000 pushes against a stalled writer: well under a second. */
	assert_true(took < 1.0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	assert_int_equal(dropped, refused);
	assert_true(refused >= 100000 - 64 - 16);
	assert_int_equal(logged, 0);

	release_write_lock(lock);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	assert_int_equal(errors, 0);
	assert_int_equal(logged + dropped, 100000);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), (int64_t)logged);
	assert_int_equal(query_int(fx->path, "SELECT hits FROM rule_hits WHERE rule_id = 9"),
			 (int64_t)logged);

	/* Room again once the writer caught up. */
	assert_int_equal(sluice_log_push(l, &f, &d), 0);
	sluice_log_close(l);
}

/* A lock that outlasts close: close gives up after a while and counts it. */
static void test_close_under_a_held_lock_counts_errors(void **state)
{
	struct fixture *fx = *state;
	struct sluice_decision d = { .allow = 1 };
	struct sluice_flow f = v4_flow(3);
	struct sluice_log *l;
	char err[256];
	sqlite3 *lock;
	double t0;
	int i;

	l = sluice_log_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(l);
	lock = hold_write_lock(fx->path);
	for (i = 0; i < 10; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 300), -1);	/* cannot: locked */
	t0 = mono_s();
	sluice_log_close(l);
	assert_true(mono_s() - t0 < 10.0);
	release_write_lock(lock);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 0);
}

/*
 * Make @dir a file system of its own, @kib large, in a mount namespace of
 * this process (so nothing is left mounted on the host); fill it with
 * fill_up(). Root only: the caller skips otherwise.
 */
static void mount_tiny_tmpfs(const char *dir, unsigned int kib)
{
	static int unshared;
	char opts[32];

	if (!unshared++) {
		assert_int_equal(unshare(CLONE_NEWNS), 0);
		assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	}
	snprintf(opts, sizeof(opts), "size=%uk,mode=0700", kib);
	assert_int_equal(mount("sluice-test", dir, "tmpfs", 0, opts), 0);
}

/* Write @path until the file system says ENOSPC; the bytes written. */
static long fill_up(const char *path)
{
	static const char block[4096];
	FILE *f = fopen(path, "w");
	long total = 0;
	size_t n;

	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	while ((n = fwrite(block, 1, sizeof(block), f)) == sizeof(block))
		total += (long)n;
	assert_int_equal(errno, ENOSPC);
	fclose(f);
	return total + (long)n;
}

/*
 * A full disk for real: the log on a tmpfs of its own, filled up by a file
 * beside it. The batches are lost and counted, the error says why in
 * SQLite's words and holds while they fail; freeing the space has the next
 * batch written, which ends the failure and keeps the count and the text.
 * Root only (a mount); the unit tier runs it as root, where a skip fails.
 */
static void test_full_disk_loses_counts_and_recovers(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log_options o = { .batch_records = 16, .flush_ms = 10 };
	struct sluice_decision d = { .allow = 1, .rule_id = 5 };
	struct sluice_flow f = v4_flow(4);
	char err[256], filler[128], want[256];
	uint64_t logged, dropped, errors, lost = 99;
	struct sluice_log *l;
	int i;

	if (geteuid() != 0)
		skip();
	mount_tiny_tmpfs(fx->dir, 512);
	snprintf(filler, sizeof(filler), "%s/filler", fx->dir);
	snprintf(want, sizeof(want), "cannot write decision log %s: database or disk is full",
		 fx->path);
	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);

	/* Control: with room, the records are written and nothing is wrong. */
	for (i = 0; i < 10; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	assert_int_equal(sluice_log_last_error(l, &lost, err, sizeof(err)), 0);
	assert_int_equal(lost, 0);
	assert_string_equal(err, "");

	/* The disk fills: every record of every batch is lost, and counted. */
	assert_true(fill_up(filler) > 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	print_message("full disk: %llu logged, %llu dropped, %llu lost\n",
		      (unsigned long long)logged, (unsigned long long)dropped,
		      (unsigned long long)errors);
	assert_int_equal(logged, 10);
	assert_int_equal(dropped, 0);
	assert_int_equal(errors, 40);
	assert_int_equal(sluice_log_last_error(l, &lost, err, sizeof(err)), 1);
	assert_int_equal(lost, 40);
	assert_string_equal(err, want);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 10);

	/* Room again: the next batch is written and the failure is over. */
	assert_int_equal(unlink(filler), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	assert_int_equal(logged, 15);
	assert_int_equal(errors, 40);
	assert_int_equal(sluice_log_last_error(l, &lost, err, sizeof(err)), 0);
	assert_int_equal(lost, 40);
	assert_string_equal(err, want);		/* the last loss's reason stays */
	sluice_log_close(l);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 15);
	assert_int_equal(query_int(fx->path, "SELECT hits FROM rule_hits WHERE rule_id = 5"), 15);
	assert_int_equal(umount2(fx->dir, 0), 0);
}

static void insert_old_rows(const char *path, int n, int64_t age_ms)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int i;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO decisions(time, action)"
					    " VALUES (?1, 'allow')", -1, &st, NULL), SQLITE_OK);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, now_ms() - age_ms);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_retention_deletes_rows_older_than_the_setting(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log_options o = { .retention_days = 7 };
	struct sluice_log *l;
	char err[256];

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	sluice_log_close(l);

	insert_old_rows(fx->path, 30, 10LL * 86400 * 1000);	/* 10 days old */
	insert_old_rows(fx->path, 5, 8LL * 86400 * 1000);	/* 8 days */
	insert_old_rows(fx->path, 12, 6LL * 86400 * 1000);	/* 6 days: kept */
	insert_old_rows(fx->path, 3, 1000);			/* now: kept */

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_close(l);	/* retention ran at open, in the log thread */
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 15);
	assert_true(query_int(fx->path, "SELECT min(time) FROM decisions") >
		    now_ms() - 7LL * 86400 * 1000);
}

static void test_retention_keeps_at_most_max_rows_the_newest(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log_options o = { .max_rows = 20, .retention_every_s = 1 };
	struct sluice_decision d = { .allow = 1 };
	struct sluice_flow f = v4_flow(4);
	struct sluice_log *l;
	char err[256];
	double end;
	int i;

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	sluice_log_close(l);
	insert_old_rows(fx->path, 50, 1000);

	l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 20);
	assert_int_equal(query_int(fx->path, "SELECT min(id) FROM decisions"), 31);

	/* and periodically while running */
	for (i = 0; i < 30; i++)
		assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 50);
	/*
	 * The log thread's next pass after retention_every_s trims them; on a
	 * busy machine it may run late, so wait for it (bounded) rather than
	 * sleep a fixed 1.3 s.
	 */
	end = mono_s() + 10;
	while (query_int(fx->path, "SELECT count(*) FROM decisions") != 20 && mono_s() < end)
		usleep(50 * 1000);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), 20);
	assert_int_equal(query_int(fx->path, "SELECT min(id) FROM decisions"), 61);
	sluice_log_close(l);
}

static void assert_one_sentence(const char *err, const char *path)
{
	assert_non_null(strstr(err, path));
	assert_null(strchr(err, '\n'));
	assert_true(strlen(err) > strlen(path));
}

/* Opening @path fails with one sentence that names it and says @why. */
static void assert_open_refused(const char *path, const char *why)
{
	char err[512] = "";

	assert_null(sluice_log_open(path, NULL, err, sizeof(err)));
	assert_one_sentence(err, path);
	assert_non_null(strstr(err, why));
}

static void test_missing_directory_is_one_sentence_naming_the_file(void **state)
{
	struct fixture *fx = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/no/such/dir/decisions.db", fx->dir);
	assert_open_refused(path, "does not exist");
}

static void test_file_as_directory_is_refused(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/plain", fx->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/plain/decisions.db", fx->dir);
	assert_open_refused(path, "is not a directory");
}

/* Root writes anywhere, so the unwritable case runs as nobody in a child. */
static void test_unwritable_directory_is_one_sentence_naming_the_file(void **state)
{
	struct fixture *fx = *state;
	char dir[128], path[256], err[512] = "";
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/ro", fx->dir);
	snprintf(path, sizeof(path), "%s/decisions.db", dir);
	assert_int_equal(mkdir(dir, 0555), 0);
	assert_int_equal(chmod(fx->dir, 0755), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sluice_log *l;

		close(pfd[0]);
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		l = sluice_log_open(path, NULL, err, sizeof(err));
		if (l)
			_exit(3);
		n = write(pfd[1], err, strlen(err));
		_exit(n < 0);
	}
	close(pfd[1]);
	n = read(pfd[0], err, sizeof(err) - 1);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(n > 0);
	err[n] = '\0';
	assert_one_sentence(err, path);
	assert_non_null(strstr(err, "not writable"));
}

static void test_not_a_database_is_refused(void **state)
{
	struct fixture *fx = *state;
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	fputs("this is not an SQLite database, only some text long enough to be read\n", fp);
	fclose(fp);
	assert_open_refused(fx->path, "not a database");
}

static void test_newer_schema_is_refused(void **state)
{
	struct fixture *fx = *state;
	char out[64];

	sqlite3_cli(fx->path, "PRAGMA user_version = 99", out, sizeof(out));
	assert_open_refused(fx->path, "newer");
}

struct pusher {
	struct sluice_log *l;
	int n;
	int refused;
};

static void *push_many(void *arg)
{
	struct pusher *p = arg;
	struct sluice_decision d = { .allow = 1, .rule_id = 5 };
	struct sluice_flow f = v4_flow(5);
	int i;

	for (i = 0; i < p->n; i++)
		if (sluice_log_push(p->l, &f, &d) < 0)
			p->refused++;
	return NULL;
}

/* Several verdict threads push at once: nothing is lost or counted twice. */
static void test_many_verdict_threads_push_at_once(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log_options o = { .ring_records = 1024 };
	struct pusher p[4];
	pthread_t t[4];
	uint64_t logged, dropped, errors;
	int i, refused = 0;
	char err[256];

	p[0].l = sluice_log_open(fx->path, &o, err, sizeof(err));
	assert_non_null(p[0].l);
	for (i = 0; i < 4; i++) {
		p[i].l = p[0].l;
		p[i].n = 20000;
		p[i].refused = 0;
		assert_int_equal(pthread_create(&t[i], NULL, push_many, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		refused += p[i].refused;
	}
	assert_int_equal(sluice_log_flush(p[0].l, 10000), 0);
	sluice_log_stats(p[0].l, &logged, &dropped, &errors);
	assert_int_equal(dropped, refused);
	assert_int_equal(errors, 0);
	assert_int_equal(logged + dropped, 80000);
	sluice_log_close(p[0].l);
	assert_int_equal(query_int(fx->path, "SELECT count(*) FROM decisions"), (int64_t)logged);
	assert_int_equal(query_int(fx->path, "SELECT hits FROM rule_hits WHERE rule_id = 5"),
			 (int64_t)logged);
}

static void test_default_options_are_the_documented_ones(void **state)
{
	struct sluice_log_options o;

	(void)state;
	memset(&o, 0xff, sizeof(o));
	sluice_log_options_default(&o);
	assert_int_equal(o.retention_days, 7);
	assert_int_equal(o.max_rows, 1000000);
	assert_int_equal(o.ring_records, 4096);
	assert_int_equal(o.batch_records, 256);
	assert_int_equal(o.flush_ms, 200);
	assert_int_equal(o.retention_every_s, 60);
}

static void test_null_log_is_harmless(void **state)
{
	struct sluice_flow f = v4_flow(6);
	struct sluice_decision d = { .allow = 1 };
	uint64_t logged = 1, dropped = 1, errors = 1;
	char err[8] = "x";

	(void)state;
	assert_int_equal(sluice_log_push(NULL, &f, &d), -1);
	sluice_log_stats(NULL, &logged, &dropped, &errors);
	assert_int_equal(logged + dropped + errors, 0);
	errors = 1;
	assert_int_equal(sluice_log_last_error(NULL, &errors, err, sizeof(err)), 0);
	assert_int_equal(errors, 0);
	assert_string_equal(err, "");
	sluice_log_close(NULL);
}

/*
 * A version 1 log (no unit, no mask) keeps its rows, gains the columns and
 * the view's; new rows carry the flow's unit, NULL when it is unknown, and
 * the match's wildcard mask (old rows: NULL).
 */
static void test_version_1_log_gains_unit_and_keeps_rows(void **state)
{
	struct fixture *fx = *state;
	struct sluice_flow f = v4_flow(7);
	struct sluice_decision d = { .allow = 0, .rule_id = 3,
				     .mask = { .dst_len = 24, .fields = SLUICE_MASK_DPORT } };
	struct sluice_log *l;
	char err[256], out[1024];

	sqlite3_cli(fx->path,
		"CREATE TABLE decisions(id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
		" direction TEXT, proto TEXT, src TEXT, dst TEXT, sport INTEGER, dport INTEGER,"
		" domain TEXT, uid INTEGER, exe TEXT, action TEXT NOT NULL, rule_id INTEGER);"
		"CREATE VIEW decisions_text AS SELECT id, time, exe, action FROM decisions;"
		"INSERT INTO decisions(time, proto, uid, exe, action) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'tcp', 0, '/old', 'deny');"
		"PRAGMA user_version = 1;", out, sizeof(out));
	l = sluice_log_open(fx->path, NULL, err, sizeof(err));
	if (!l)
		fail_msg("%s", err);
	f.unit = "nginx.service";
	assert_int_equal(sluice_log_push(l, &f, &d), 0);
	f.unit = NULL;
	assert_int_equal(sluice_log_push(l, &f, &d), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_close(l);
	sqlite3_cli(fx->path, "PRAGMA user_version; SELECT exe, ifnull(unit, 'NULL'), ifnull(mask, 'NULL')"
		    " FROM decisions_text ORDER BY id;", out, sizeof(out));
	assert_string_equal(out, "4\n/old|NULL|NULL\n"
			    "/usr/bin/curl|nginx.service|proto dir dst/24 dport\n"
			    "/usr/bin/curl|NULL|proto dir dst/24 dport\n");
}

/*
 * A version 3 log keeps its decisions and gains the events table, which
 * sluice_log_event() fills in order; a kind the table does not know is
 * refused, and so is a NULL log.
 */
static void test_version_3_log_gains_events_and_keeps_rows(void **state)
{
	struct fixture *fx = *state;
	struct sluice_log *l;
	char err[256], out[1024];

	sqlite3_cli(fx->path,
		"CREATE TABLE decisions(id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
		" direction TEXT, proto TEXT, src TEXT, dst TEXT, sport INTEGER, dport INTEGER,"
		" domain TEXT, uid INTEGER, exe TEXT, unit TEXT, action TEXT NOT NULL, rule_id INTEGER,"
		" mask TEXT);"
		"INSERT INTO decisions(time, proto, exe, action) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'tcp', '/old', 'deny');"
		"PRAGMA user_version = 3;", out, sizeof(out));
	l = sluice_log_open(fx->path, NULL, err, sizeof(err));
	if (!l)
		fail_msg("%s", err);
	assert_int_equal(sluice_log_event(l, "start", NULL), 0);
	assert_int_equal(sluice_log_event(l, "refused", "rules row 4: bad dst"), 0);
	assert_int_equal(sluice_log_event(l, "no-such-kind", NULL), -1);
	assert_int_equal(sluice_log_event(NULL, "stop", NULL), -1);
	sluice_log_close(l);
	sqlite3_cli(fx->path, "PRAGMA user_version; SELECT exe FROM decisions;"
		    " SELECT kind, ifnull(detail, 'NULL'), time > 0 FROM events ORDER BY id;",
		    out, sizeof(out));
	assert_string_equal(out, "4\n/old\nstart|NULL|1\nrefused|rules row 4: bad dst|1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_1_log_gains_unit_and_keeps_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_3_log_gains_events_and_keeps_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pushed_records_appear_in_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_batch_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_drops_and_counts_without_blocking,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_under_a_held_lock_counts_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_loses_counts_and_recovers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_deletes_rows_older_than_the_setting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_keeps_at_most_max_rows_the_newest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory_is_one_sentence_naming_the_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_as_directory_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_directory_is_one_sentence_naming_the_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_verdict_threads_push_at_once, setup, teardown),
		cmocka_unit_test(test_default_options_are_the_documented_ones),
		cmocka_unit_test(test_null_log_is_harmless),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
