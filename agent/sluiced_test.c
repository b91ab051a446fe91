// SPDX-License-Identifier: GPL-2.0
/*
 * The built agent/sluiced binary as systemd sees it (SLUICED overrides its
 * path). It runs in a network namespace of its own, on a kernel without the
 * sluice module (the build host's), with NOTIFY_SOCKET pointing at a socket
 * of the test: the unit's WatchdogSec must be fed while the verdict loop
 * runs, module or not, or systemd kills an agent that serves its queue and
 * restarts it in a loop (seen after "dpkg -i" configured the agent before
 * the module package). And what it says, on stderr and in its status
 * file, when its decision log's disk is full and when it has room again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int file_has(const char *path, const char *needle)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/*
 * Over three seconds from READY=1, without the module: READY=1 once,
 * WATCHDOG=1 at least once a second (WatchdogSec=5 leaves room for four
 * times fewer), and an orderly stop on SIGTERM.
 */
static void watchdog_is_fed_without_the_module(void **state)
{
	const char *bin = getenv("SLUICED") ? getenv("SLUICED") : "agent/sluiced";
	char dir[] = "/tmp/sluiced-test.XXXXXX", sock_path[64], db[128], log[128];
	char prom[128];
	int up_seen = 0;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ready = 0, beats = 0, status, fd, lfd;
	uint64_t start, last_beat = 0, worst_gap = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		/* Binding NFQUEUE needs CAP_NET_ADMIN. */
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/notify", dir);
	snprintf(db, sizeof(db), "%s/policy.db", dir);
	snprintf(log, sizeof(log), "%s/sluiced.log", dir);
	snprintf(prom, sizeof(prom), "%s/sluice.prom", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Queue 0 of a namespace of our own: no other test's. */
		if (unshare(CLONE_NEWNET))
			_exit(126);
		lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (lfd < 0 || dup2(lfd, 2) < 0 || dup2(lfd, 1) < 0)
			_exit(126);
		setenv("NOTIFY_SOCKET", sock_path, 1);
		execl(bin, bin, "--db", db, "--status-file", "", "--metrics-file", prom,
		      "--metrics-interval", "1", "--journal=denied", (char *)NULL);
		_exit(127);
	}

	/*
	 * The three seconds watched start at READY=1, not at the fork: a
	 * sanitizer build on a busy machine may take seconds to get there,
	 * and its beats are counted from then on (READY waited for, bounded).
	 */
	start = mono_ms();
	while (ready ? mono_ms() - start < 3000 : mono_ms() - start < 30000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char msg[512];
		ssize_t n;

		up_seen |= file_has(prom, "\nsluice_agent_up 1\n");
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		if (strstr(msg, "READY=1") && !ready++)
			start = mono_ms();
		if (ready && strstr(msg, "WATCHDOG=1")) {
			uint64_t now = mono_ms();

			if (beats++ && now - last_beat > worst_gap)
				worst_gap = now - last_beat;
			last_beat = now;
		}
	}
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("sluiced: READY=1 x%d, WATCHDOG=1 x%d in 3 s, widest gap %llu ms\n",
		      ready, beats, (unsigned long long)worst_gap);

	/* The path under test: the agent knew it had no module. */
	assert_true(file_has(log, "the sluice kernel module is not loaded"));
	assert_int_equal(ready, 1);
	assert_true(beats >= 3);
	assert_true(worst_gap < 1000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The metrics file while it ran, and the one an orderly stop leaves. */
	assert_true(up_seen);
	assert_true(file_has(prom, "\nsluice_agent_up 0\n"));
	assert_true(file_has(prom, "\nsluice_journal_enabled 1\n"));
	assert_true(file_has(prom, "\nsluice_metrics_timestamp_seconds "));
	unlink(prom);

	unlink(sock_path);
	unlink(log);
	unlink(db);
	close(fd);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* sluiced with @args; its exit status, and what it said in @out. */
static int run_sluiced(const char *args, char *out, size_t outlen)
{
	const char *bin = getenv("SLUICED") ? getenv("SLUICED") : "agent/sluiced";
	char cmd[512];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A metrics file that can never be written, a bad interval or journal
 * choice: one sentence and the documented exit status, before anything
 * is bound.
 */
static void bad_metrics_and_journal_options_are_one_sentence(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(run_sluiced("--db /nonexistent/p.db --metrics-file /nonexistent/dir/sluice.prom",
				     out, sizeof(out)), 1);
	assert_string_equal(out, "sluiced: cannot write metrics file /nonexistent/dir/sluice.prom: directory /nonexistent/dir: No such file or directory\n");
	assert_int_equal(run_sluiced("--metrics-interval 0", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "sluiced: --metrics-interval '0' is not a number of seconds (1..3600)\n"));
	assert_int_equal(run_sluiced("--journal=some", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "sluiced: --journal='some' is neither all nor denied\n"));
	/* Control: the options are known. */
	assert_int_equal(run_sluiced("--help", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--metrics-file PATH"));
	assert_non_null(strstr(out, "--journal"));
}

/* The value of @key in the status file @path into @out; 0, or -1 when absent. */
static int status_value(const char *path, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	char line[1024];
	int found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, outlen, "%s", line + klen + 1);
		found = 0;
	}
	fclose(f);
	return found;
}

static long long status_number(const char *path, const char *key)
{
	char v[64];

	return status_value(path, key, v, sizeof(v)) ? -1 : atoll(v);
}

/* Wait up to @ms until @key of the status file @path is @want. */
static int status_reaches(const char *path, const char *key, long long want, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	while (status_number(path, key) != want && mono_ms() < end)
		usleep(50000);
	return status_number(path, key) == want;
}

/* Lines of @path that contain @needle; the last one into @line. */
static int count_lines(const char *path, const char *needle, char *line, size_t len)
{
	char buf[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		if (!strstr(buf, needle))
			continue;
		n++;
		snprintf(line, len, "%s", buf);
	}
	fclose(f);
	return n;
}

/*
 * What `sluicectl status` says of the agent's status file @status (the
 * module's state from a stand-in file beside it): 1 when it warns that the
 * decision log is not written, 0 when not. SLUICECTL overrides its path.
 */
static int sluicectl_warns_log_not_written(const char *dir, const char *status)
{
	const char *bin = getenv("SLUICECTL") ? getenv("SLUICECTL") : "agent/sluicectl";
	char cmd[512], out[8192];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "printf 'mode no-agent\\nfail_mode open\\n' > %s/proc && "
		 "SLUICE_PROC=%s/proc SLUICE_STATUS_FILE=%s %s status", dir, dir, status, bin);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "\n  decisions_failed: "));
	return strstr(out, "\nwarning: decisions go on but are not logged (") != NULL;
}

/* @n datagrams to 127.0.0.1:9999, each from a port of its own: @n new flows. */
static void send_flows(int n)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(9999),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int i;

	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		assert_true(fd >= 0);
		assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
		close(fd);
	}
}

/* Write @path until the file system says ENOSPC. */
static void fill_up(const char *path)
{
	static const char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = write(fd, block, sizeof(block))) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

/*
 * The decision log on a tmpfs of 1 MB, in network and mount namespaces of
 * the test's own (entered here, left at the end), where an iptables rule
 * queues every UDP datagram to 127.0.0.1:9999 to the agent. With room, the
 * flows are logged and nothing is said (the control); the disk filled, 50
 * flows over five batches are decided, lost and counted, and stderr says
 * it in ONE line with SQLite's error; the room back, the next flows are
 * written and ONE line says so with the count lost. The status file says
 * the same: decisions_failed and log_error, empty again at the end; and
 * sluicectl status warns while it fails, and not before or after.
 */
static void full_log_disk_is_said_once_and_its_end_too(void **state)
{
	const char *bin = getenv("SLUICED") ? getenv("SLUICED") : "agent/sluiced";
	char dir[] = "/tmp/sluiced-test.XXXXXX", tmpfs[64], db[128], logdb[128];
	char status[128], out[128], filler[128], want[512], line[1024], v[512];
	int net0, mnt0, status_rc, i;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();		/* namespaces, a mount, iptables and NFQUEUE */
	assert_non_null(mkdtemp(dir));
	snprintf(tmpfs, sizeof(tmpfs), "%s/log", dir);
	snprintf(db, sizeof(db), "%s/policy.db", dir);
	snprintf(logdb, sizeof(logdb), "%s/decisions.db", tmpfs);
	snprintf(status, sizeof(status), "%s/status", dir);
	snprintf(out, sizeof(out), "%s/sluiced.out", dir);
	snprintf(filler, sizeof(filler), "%s/filler", tmpfs);
	assert_int_equal(mkdir(tmpfs, 0700), 0);

	net0 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	mnt0 = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	assert_true(net0 >= 0 && mnt0 >= 0);
	assert_int_equal(unshare(CLONE_NEWNET | CLONE_NEWNS), 0);
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(mount("sluice-test", tmpfs, "tmpfs", 0, "size=1m,mode=0700"), 0);
	assert_int_equal(system("ip link set lo up"), 0);
	assert_int_equal(system("iptables -w -A OUTPUT -o lo -p udp -d 127.0.0.1 --dport 9999 -j NFQUEUE --queue-num 0"), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* A failed assertion leaves no agent behind: it goes with us. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1 ||
		    fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execl(bin, bin, "--db", db, "--log-db", logdb, "--queue", "0",
		      "--status-file", status, (char *)NULL);
		_exit(127);
	}
	/* A sanitizer build on a busy machine takes a while to start. */
	assert_true(status_reaches(status, "decisions_failed", 0, 30000));

	/* Control: room on the disk, the flows logged, nothing said. */
	send_flows(20);
	assert_true(status_reaches(status, "decisions_logged", 20, 10000));
	assert_int_equal(status_value(status, "log_error", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(count_lines(out, "decision log", line, sizeof(line)), 0);
	assert_int_equal(sluicectl_warns_log_not_written(dir, status), 0);

	/* The disk is full: five batches' flows decided, lost, counted. */
	fill_up(filler);
	for (i = 0; i < 5; i++) {
		send_flows(10);
		usleep(400000);		/* past flush_ms: a batch each */
	}
	assert_true(status_reaches(status, "decisions_failed", 50, 10000));
	assert_int_equal(status_number(status, "decisions_logged"), 20);
	assert_int_equal(status_number(status, "decisions_dropped"), 0);
	assert_int_equal(status_number(status, "decided_allow"), 70);
	snprintf(want, sizeof(want), "cannot write decision log %s: database or disk is full", logdb);
	assert_int_equal(status_value(status, "log_error", v, sizeof(v)), 0);
	assert_string_equal(v, want);
	usleep(500000);		/* a few more looks of the main loop */
	assert_int_equal(count_lines(out, "cannot write decision log", line, sizeof(line)), 1);
	snprintf(want, sizeof(want), "sluiced: cannot write decision log %s: database or disk is full; decisions go on, the records are counted as lost in sluice_log_failed_records_total\n",
		 logdb);
	assert_string_equal(line, want);
	assert_int_equal(count_lines(out, "written again", line, sizeof(line)), 0);
	assert_int_equal(sluicectl_warns_log_not_written(dir, status), 1);

	/* Room again: the next flows are written, and that is said once. */
	assert_int_equal(unlink(filler), 0);
	send_flows(10);
	assert_true(status_reaches(status, "decisions_logged", 30, 10000));
	assert_true(status_value(status, "log_error", v, sizeof(v)) == 0 && !v[0]);
	assert_int_equal(status_number(status, "decisions_failed"), 50);
	assert_int_equal(sluicectl_warns_log_not_written(dir, status), 0);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status_rc, 0), pid);
	assert_true(WIFEXITED(status_rc));
	assert_int_equal(WEXITSTATUS(status_rc), 0);
	assert_int_equal(count_lines(out, "cannot write decision log", line, sizeof(line)), 1);
	assert_int_equal(count_lines(out, "written again", line, sizeof(line)), 1);
	snprintf(want, sizeof(want), "sluiced: decision log %s is written again; 50 records were lost meanwhile\n",
		 logdb);
	assert_string_equal(line, want);

	assert_int_equal(umount2(tmpfs, 0), 0);
	assert_int_equal(setns(net0, CLONE_NEWNET), 0);
	assert_int_equal(setns(mnt0, CLONE_NEWNS), 0);
	close(net0);
	close(mnt0);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watchdog_is_fed_without_the_module),
		cmocka_unit_test(bad_metrics_and_journal_options_are_one_sentence),
		cmocka_unit_test(full_log_disk_is_said_once_and_its_end_too),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
