// SPDX-License-Identifier: GPL-2.0
/*
 * The built agent/sluiced under valgrind's memcheck over a whole life:
 * start (the database created from the default policy), a policy edit
 * made with the sqlite3 CLI and picked up by the file watch, a SIGHUP
 * reload, and SIGTERM. No invalid access, no use of uninitialised memory,
 * no definite or indirect leak. It runs in a network namespace of its own
 * without the module, as sluiced_test does. The control: the same
 * valgrind options fail a program that leaks.
 */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define VALGRIND "valgrind -q --error-exitcode=99 --leak-check=full " \
		 "--errors-for-leak-kinds=definite,indirect " \
		 "--show-leak-kinds=definite,indirect"

static int count_in_file(const char *path, const char *needle)
{
	char buf[65536];
	const char *p;
	ssize_t n;
	int fd = open(path, O_RDONLY), count = 0;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)); p++)
		count++;
	return count;
}

/* Waits up to 60 s (valgrind is slow) for @needle to show @want times. */
static int wait_for(const char *path, const char *needle, int want)
{
	int i;

	for (i = 0; i < 600; i++) {
		if (count_in_file(path, needle) >= want)
			return 1;
		usleep(100 * 1000);
	}
	print_message("%s: \"%s\" not seen %d times in 60 s\n", path, needle, want);
	return 0;
}

static void show(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "cat '%s' >&2", path);
	if (system(cmd) != 0)
		print_message("cannot show %s\n", path);
}

static void memcheck_is_clean_over_start_reload_stop(void **state)
{
	char dir[] = "/tmp/sluiced-vg.XXXXXX", db[128], logdb[128], out[128];
	char vg[128], cmd[1024];
	int status, fd, loads;
	pid_t pid;

	(void)state;
	assert_int_equal(system("command -v valgrind >/dev/null"), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/policy.db", dir);
	snprintf(logdb, sizeof(logdb), "%s/log.db", dir);
	snprintf(out, sizeof(out), "%s/sluiced.log", dir);
	snprintf(vg, sizeof(vg), "%s/valgrind.log", dir);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET))
			_exit(126);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		snprintf(cmd, sizeof(cmd),
			 "exec " VALGRIND " --log-file='%s' agent/sluiced --db '%s' "
			 "--log-db '%s' --status-file ''", vg, db, logdb);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (!wait_for(out, "with policy", 1))
		goto out;
	loads = count_in_file(out, "loaded:");

	/* An edit with the sqlite3 CLI, noticed by the watch. */
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 '%s' \"INSERT INTO rules(action, proto, dst, dst_port) "
		 "VALUES ('deny', 'tcp', '192.0.2.0/24', '443')\"", db);
	assert_int_equal(system(cmd), 0);
	if (!wait_for(out, "loaded:", loads + 1))
		goto out;
	assert_int_equal(kill(pid, SIGHUP), 0);
	if (!wait_for(out, "SIGHUP: reloading", 1))
		goto out;
	usleep(500 * 1000);
out:
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	show(out);
	show(vg);
	assert_true(count_in_file(out, "with policy") == 1);
	assert_true(count_in_file(out, "SIGHUP: reloading") == 1);
	assert_true(count_in_file(out, "stopped:") == 1);
	/* 99: memcheck found an error; 0: an orderly stop with none. */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void the_same_memcheck_fails_a_leak(void **state)
{
	char dir[] = "/tmp/sluiced-vg.XXXXXX", cmd[512];
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "printf '#include <stdlib.h>\\n#include <string.h>\\n"
		 "int main(void) { char *p = malloc(64); memset(p, 1, 64); p = 0; return 0; }\\n'"
		 " > %s/leak.c && cc -O0 -o %s/leak %s/leak.c && "
		 VALGRIND " --log-file=/dev/null %s/leak", dir, dir, dir, dir);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 99);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_same_memcheck_fails_a_leak),
		cmocka_unit_test(memcheck_is_clean_over_start_reload_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
