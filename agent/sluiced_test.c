// SPDX-License-Identifier: GPL-2.0
/*
 * The built agent/sluiced binary as systemd sees it (SLUICED overrides its
 * path). It runs in a network namespace of its own, on a kernel without the
 * sluice module (the build host's), with NOTIFY_SOCKET pointing at a socket
 * of the test: the unit's WatchdogSec must be fed while the verdict loop
 * runs, module or not, or systemd kills an agent that serves its queue and
 * restarts it in a loop (seen after "dpkg -i" configured the agent before
 * the module package).
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watchdog_is_fed_without_the_module),
		cmocka_unit_test(bad_metrics_and_journal_options_are_one_sentence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
