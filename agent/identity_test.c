// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the identity resolver: a real child that execs another
 * program after the kernel's facts were taken, a fake proc tree whose pid
 * is reused, a fake cgroup tree whose directories' inode numbers are read
 * back as cgroup ids, the caches and their invalidation, and unit names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/identity.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sluice-identity-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void mkdirs(const char *base, const char *rel, char *out, size_t outlen)
{
	char cmd[PATH_MAX + 32];

	snprintf(out, outlen, "%s%s", base, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", out);
	assert_int_equal(system(cmd), 0);
}

static uint64_t ino_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_ino;
}

/* The kernel's facts about a file as executable of (tgid, start). */
static struct sluice_kernel_identity task_of(uint32_t tgid, uint64_t start,
					     const char *exe)
{
	struct sluice_kernel_identity kid = {
		.have = SLUICE_KID_TASK, .tgid = tgid, .start_ticks = start,
	};
	struct stat sb;

	assert_int_equal(stat(exe, &sb), 0);
	kid.exe_major = major(sb.st_dev);
	kid.exe_minor = minor(sb.st_dev);
	kid.exe_ino = sb.st_ino;
	return kid;
}

/* Field 22 of /proc/PID/stat, read the simple way (no parentheses in comm). */
static uint64_t start_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	FILE *f;
	char *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 2; i < 22; i++)
		p = strchr(p + 1, ' ');
	assert_int_equal(sscanf(p + 1, "%llu", &v), 1);
	return v;
}

/* ---- unit names ---------------------------------------------------- */

static void test_unit_of_cgroup_path(void **state)
{
	static const struct { const char *path, *unit; } cases[] = {
		{ "/system.slice/nginx.service", "nginx.service" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope", "x.scope" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice", "user@1000.service" },
		{ "/user.slice/user-1000.slice/user@1000.service", "user@1000.service" },
		{ "/system.slice/docker-4f2a.scope/inner", "docker-4f2a.scope" },
		{ "/init.scope", "init.scope" },
		{ "/demo.slice", "demo.slice" },
		{ "/user.slice/user-1000.slice", "user-1000.slice" },
		{ "/", NULL },
		{ "", NULL },
		{ "/docker/42", NULL },
		{ "/system.slice/bad name.service", "system.slice" },
		{ "/system.slice/.service", "system.slice" },
		{ "/x.service/getty@.service", "x.service" },
	};
	char out[SLUICE_UNIT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sluice_unit_of_cgroup_path(cases[i].path, out, sizeof(out));

		if (!cases[i].unit) {
			if (rc != -1)
				fail_msg("%s: got %s, wanted unknown", cases[i].path, out);
			continue;
		}
		if (rc != 0 || strcmp(out, cases[i].unit))
			fail_msg("%s: got %s, wanted %s", cases[i].path,
				 rc ? "unknown" : out, cases[i].unit);
	}
	/* Too small a buffer is unknown, never a cut name. */
	assert_int_equal(sluice_unit_of_cgroup_path("/system.slice/nginx.service", out, 5), -1);
}

static void test_unit_name_problem(void **state)
{
	static const char *const good[] = {
		"nginx.service", "x.scope", "demo.slice", "-.slice",
		"user@1000.service", "getty@tty1.service",
		"systemd-fsck@dev-disk-by\\x2duuid-1.service", "a:b_c.service",
	};
	static const char *const bad[] = {
		"", "nginx", "nginx.socket", "nginx.target", ".service",
		"@x.service", "getty@.service", "a b.service", "a/b.service",
		"a@b@c.service", "nginx.service\n", "ngïnx.service",
	};
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (sluice_unit_name_problem(good[i]))
			fail_msg("'%s' refused: %s", good[i], sluice_unit_name_problem(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!sluice_unit_name_problem(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + 247, ".service");	/* 255 bytes */
	assert_null(sluice_unit_name_problem(longname));
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + 248, ".service");	/* 256 bytes */
	assert_non_null(sluice_unit_name_problem(longname));
}

/* ---- executables ---------------------------------------------------- */

/*
 * A child of this test execs /bin/sleep once the kernel's facts about it
 * (this test binary's device and inode) were taken: those facts never
 * resolve to sleep's path. A resolver that cached the answer before the
 * exec keeps it for that key (the flow was the old program's).
 */
static void test_exe_under_exec_is_never_the_new_program(void **state)
{
	struct sluice_identity *cached = sluice_identity_new(NULL, NULL);
	struct sluice_identity *fresh = sluice_identity_new(NULL, NULL);
	struct sluice_kernel_identity before, after;
	char self[PATH_MAX], sleep_path[PATH_MAX], link[64], out[PATH_MAX];
	struct sluice_identity_stats st;
	ssize_t n;
	int go[2], i;
	pid_t pid;

	(void)state;
	assert_non_null(cached);
	assert_non_null(fresh);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_non_null(realpath("/bin/sleep", sleep_path));
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	before = task_of((uint32_t)pid, start_of(pid), self);
	assert_int_equal(sluice_identity_exe(cached, &before, out, sizeof(out)), 0);
	assert_string_equal(out, self);

	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 500; i++) {
		n = readlink(link, out, sizeof(out) - 1);
		if (n > 0) {
			out[n] = '\0';
			if (!strcmp(out, sleep_path))
				break;
		}
		usleep(10000);
	}
	assert_string_equal(out, sleep_path);

	/* Same pid, same start time, another file: unknown, not sleep. */
	out[0] = '\0';
	assert_int_equal(sluice_identity_exe(fresh, &before, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	/* The cache answers for the old key what was true for it. */
	assert_int_equal(sluice_identity_exe(cached, &before, out, sizeof(out)), 0);
	assert_string_equal(out, self);
	sluice_identity_get_stats(cached, &st);
	assert_int_equal(st.exe_hits, 1);
	/* The facts of the new program name it. */
	after = task_of((uint32_t)pid, start_of(pid), sleep_path);
	assert_int_equal(sluice_identity_exe(cached, &after, out, sizeof(out)), 0);
	assert_string_equal(out, sleep_path);
	assert_int_equal(sluice_identity_exe(fresh, &after, out, sizeof(out)), 0);
	assert_string_equal(out, sleep_path);
	/* A wrong start time with the right file: unknown. */
	after.start_ticks++;
	assert_int_equal(sluice_identity_exe(fresh, &after, out, sizeof(out)), -1);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Gone: the uncached resolver cannot check it any more. */
	after.start_ticks--;
	assert_int_equal(sluice_identity_exe(fresh, &after, out, sizeof(out)), 0);	/* cached */
	sluice_identity_free(fresh);
	fresh = sluice_identity_new(NULL, NULL);
	assert_int_equal(sluice_identity_exe(fresh, &after, out, sizeof(out)), -1);
	/* No task in the facts: unknown without looking. */
	after.have = SLUICE_KID_UID | SLUICE_KID_CGROUP;
	assert_int_equal(sluice_identity_exe(cached, &after, out, sizeof(out)), -1);
	sluice_identity_free(fresh);
	sluice_identity_free(cached);
}

/* A fake /proc/PID: stat with field 22 = @start, exe -> @target. */
static void fake_proc_pid(const char *proc, int pid, uint64_t start, const char *target)
{
	char path[PATH_MAX], stat[512];

	snprintf(path, sizeof(path), "%s/%d", proc, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/stat", proc, pid);
	/* A comm with ") " in it, as a program may name itself. */
	snprintf(stat, sizeof(stat),
		 "%d (evil) S 1 2) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu 1000 10 18446744073709551615\n",
		 pid, pid, pid, (unsigned long long)start);
	write_file(path, stat);
	snprintf(path, sizeof(path), "%s/%d/exe", proc, pid);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
	/* Its mounts are ours: the agent finds the device of exe there. */
	snprintf(path, sizeof(path), "cp /proc/self/mountinfo '%s/%d/mountinfo'",
		 proc, pid);
	assert_int_equal(system(path), 0);
}

static void test_exe_pid_reuse_in_a_fake_proc(void **state)
{
	struct fixture *fx = *state;
	char proc[PATH_MAX], one[PATH_MAX], two[PATH_MAX], gone[PATH_MAX];
	char out[PATH_MAX];
	struct sluice_identity *r, *fresh;
	struct sluice_kernel_identity old, reused, mixed;
	struct sluice_identity_stats st;

	snprintf(proc, sizeof(proc), "%s/proc", fx->dir);
	snprintf(one, sizeof(one), "%s/bin-one", fx->dir);
	snprintf(two, sizeof(two), "%s/bin-two", fx->dir);
	snprintf(gone, sizeof(gone), "%s/bin-gone (deleted)", fx->dir);
	mkdir(proc, 0755);
	write_file(one, "one");
	write_file(two, "two");
	write_file(gone, "gone");
	r = sluice_identity_new(proc, fx->dir);
	assert_non_null(r);

	fake_proc_pid(proc, 4242, 777, one);
	old = task_of(4242, 777, one);
	assert_int_equal(sluice_identity_exe(r, &old, out, sizeof(out)), 0);
	assert_string_equal(out, one);
	assert_int_equal(sluice_identity_exe(r, &old, out, sizeof(out)), 0);
	sluice_identity_get_stats(r, &st);
	assert_int_equal(st.exe_misses, 1);
	assert_int_equal(st.exe_hits, 1);

	/* The pid is reused by a process started later, running two. */
	fake_proc_pid(proc, 4242, 999, two);
	fresh = sluice_identity_new(proc, fx->dir);
	assert_non_null(fresh);
	assert_int_equal(sluice_identity_exe(fresh, &old, out, sizeof(out)), -1);
	reused = task_of(4242, 999, two);
	assert_int_equal(sluice_identity_exe(r, &reused, out, sizeof(out)), 0);
	assert_string_equal(out, two);		/* a new key, not the cached one */
	assert_int_equal(sluice_identity_exe(r, &old, out, sizeof(out)), 0);
	assert_string_equal(out, one);		/* the old flow's own answer */
	/* The new start time with the old file: the facts do not agree. */
	mixed = task_of(4242, 999, one);
	assert_int_equal(sluice_identity_exe(r, &mixed, out, sizeof(out)), -1);
	/* A path the kernel marks deleted names no file of its own now. */
	fake_proc_pid(proc, 77, 5, gone);
	mixed = task_of(77, 5, gone);
	assert_int_equal(sluice_identity_exe(r, &mixed, out, sizeof(out)), -1);
	/* A buffer too small is unknown, never a cut path. */
	assert_int_equal(sluice_identity_exe(r, &reused, out, 8), -1);
	/* No such pid. */
	reused.tgid = 4243;
	assert_int_equal(sluice_identity_exe(r, &reused, out, sizeof(out)), -1);
	sluice_identity_free(fresh);
	sluice_identity_free(r);
}

/* ---- cgroups --------------------------------------------------------- */

static void test_cgroup_ids_map_to_units_in_a_fake_tree(void **state)
{
	struct fixture *fx = *state;
	char root[256], d[PATH_MAX], out[SLUICE_UNIT_MAX];
	uint64_t nginx, scope, app, slice, top, later, user;
	struct sluice_identity_stats st;
	struct sluice_identity *r;
	uint64_t t = 1000000;

	snprintf(root, sizeof(root), "%s/cg", fx->dir);
	mkdirs(root, "/system.slice/nginx.service", d, sizeof(d));
	nginx = ino_of(d);
	mkdirs(root, "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope", d, sizeof(d));
	scope = ino_of(d);
	mkdirs(root, "/user.slice/user-1000.slice/user@1000.service/app.slice", d, sizeof(d));
	app = ino_of(d);
	mkdirs(root, "/demo.slice", d, sizeof(d));
	slice = ino_of(d);
	mkdirs(root, "/user.slice/user-1000.slice", d, sizeof(d));
	user = ino_of(d);
	top = ino_of(root);
	/* Files are no cgroups. */
	snprintf(d, sizeof(d), "%s/system.slice/cgroup.procs", root);
	write_file(d, "1\n");

	r = sluice_identity_new(fx->dir, root);
	assert_non_null(r);
	assert_int_equal(sluice_identity_unit(r, nginx, t, out, sizeof(out)), 0);
	assert_string_equal(out, "nginx.service");
	assert_int_equal(sluice_identity_unit(r, scope, t, out, sizeof(out)), 0);
	assert_string_equal(out, "x.scope");
	assert_int_equal(sluice_identity_unit(r, app, t, out, sizeof(out)), 0);
	assert_string_equal(out, "user@1000.service");
	assert_int_equal(sluice_identity_unit(r, slice, t, out, sizeof(out)), 0);
	assert_string_equal(out, "demo.slice");
	assert_int_equal(sluice_identity_unit(r, user, t, out, sizeof(out)), 0);
	assert_string_equal(out, "user-1000.slice");
	assert_int_equal(sluice_identity_unit(r, top, t, out, sizeof(out)), -1);
	sluice_identity_get_stats(r, &st);
	assert_int_equal(st.cgroup_scans, 1);	/* hits need no scan */

	/* A unit started after the scan: a miss scans again, rate limited. */
	mkdirs(root, "/system.slice/later.service", d, sizeof(d));
	later = ino_of(d);
	assert_int_equal(sluice_identity_unit(r, later, t + 1, out, sizeof(out)), -1);
	assert_int_equal(sluice_identity_unit(r, later, t + 2, out, sizeof(out)), -1);
	sluice_identity_get_stats(r, &st);
	assert_int_equal(st.cgroup_scans, 1);
	assert_int_equal(sluice_identity_unit(r, later, t + SLUICE_CGROUP_RESCAN_MS,
					      out, sizeof(out)), 0);
	assert_string_equal(out, "later.service");
	sluice_identity_get_stats(r, &st);
	assert_int_equal(st.cgroup_scans, 2);
	/* An id that no cgroup has: one scan a period, however many ask. */
	assert_int_equal(sluice_identity_unit(r, 1, t + 1000, out, sizeof(out)), -1);
	assert_int_equal(sluice_identity_unit(r, 1, t + 1001, out, sizeof(out)), -1);
	sluice_identity_get_stats(r, &st);
	assert_int_equal(st.cgroup_scans, 3);
	sluice_identity_free(r);
}

/* The cgroup2 mount comes from PROC/self/mountinfo, its root's unit too. */
static void test_cgroup_mount_found_in_mountinfo(void **state)
{
	struct fixture *fx = *state;
	char proc[256], root[256], d[PATH_MAX], line[PATH_MAX * 2];
	char out[SLUICE_UNIT_MAX];
	struct sluice_identity *r;
	uint64_t inner, top;

	snprintf(proc, sizeof(proc), "%s/proc", fx->dir);
	mkdirs(proc, "/self", d, sizeof(d));
	snprintf(root, sizeof(root), "%s/my cg", fx->dir);
	mkdirs(root, "/inner", d, sizeof(d));
	inner = ino_of(d);
	top = ino_of(root);
	/* A container's view: the mount's root is its unit's cgroup. */
	snprintf(line, sizeof(line),
		 "22 1 0:21 / /sys/fs/cgroup/unified rw - cgroup cgroup rw\n"
		 "30 1 0:26 /system.slice/box.service %s/my\\040cg rw,nosuid - cgroup2 cgroup2 rw\n",
		 fx->dir);
	snprintf(d, sizeof(d), "%s/self/mountinfo", proc);
	write_file(d, line);
	r = sluice_identity_new(proc, NULL);
	assert_non_null(r);
	assert_int_equal(sluice_identity_unit(r, inner, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "box.service");
	assert_int_equal(sluice_identity_unit(r, top, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "box.service");
	sluice_identity_free(r);

	/* No cgroup2 mount: every unit is unknown. */
	write_file(d, "22 1 0:21 / /sys/fs/cgroup/unified rw - cgroup cgroup rw\n");
	r = sluice_identity_new(proc, NULL);
	assert_non_null(r);
	assert_int_equal(sluice_identity_unit(r, inner, 1, out, sizeof(out)), -1);
	sluice_identity_free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unit_of_cgroup_path),
		T(test_unit_name_problem),
		T(test_exe_under_exec_is_never_the_new_program),
		T(test_exe_pid_reuse_in_a_fake_proc),
		T(test_cgroup_ids_map_to_units_in_a_fake_tree),
		T(test_cgroup_mount_found_in_mountinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
