/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For unit tests that drive the built agent/sluicectl binary (or
 * $SLUICECTL): a temporary directory with a policy database path in it,
 * a way to run one command line there, and what it printed. Include after
 * <cmocka.h>. make unit builds the binary first, so a missing one fails.
 */
#ifndef SLUICE_TESTS_SLUICECTL_RUN_H
#define SLUICE_TESTS_SLUICECTL_RUN_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct ctl_fixture {
	char dir[64];
	char db[128];		/* dir/policy.db, not created */
	char out[16384];	/* what the last run printed on stdout */
	char err[16384];	/* ... and on stderr */
};

static inline int ctl_fixture_setup(void **state)
{
	struct ctl_fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sluicectl-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->db, sizeof(fx->db), "%s/policy.db", fx->dir);
	*state = fx;
	return 0;
}

static inline int ctl_fixture_teardown(void **state)
{
	struct ctl_fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static inline void ctl_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/*
 * The absolute path of the program under test, into exe[PATH_MAX]: $ENV
 * when set, else the tree's own build (the tests run from its top).
 */
static inline void ctl_program(const char *env, const char *built, char *exe)
{
	const char *p = getenv(env);

	if (!p || !*p)
		p = built;
	if (access(p, X_OK) != 0 || !realpath(p, exe))
		fail_msg("%s is not built, or the tests do not run from the top of the tree", p);
}

/* The absolute path of the sluicectl under test, into exe[PATH_MAX]. */
static inline void ctl_binary(char *exe)
{
	ctl_program("SLUICECTL", "agent/sluicectl", exe);
}

/* Run "EXE ARGS" in fx->dir (ARGS from fmt and ap), as ctl_run below. */
static inline int ctl_run_program(struct ctl_fixture *fx, const char *exe, const char *fmt,
				  va_list ap)
{
	char args[4096], cmd[4096 + 2 * PATH_MAX], out[192], err[192];
	int status;

	vsnprintf(args, sizeof(args), fmt, ap);
	snprintf(out, sizeof(out), "%s/stdout", fx->dir);
	snprintf(err, sizeof(err), "%s/stderr", fx->dir);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s >'%s' 2>'%s'", fx->dir, exe, args, out, err);
	status = system(cmd);
	ctl_slurp(out, fx->out, sizeof(fx->out));
	ctl_slurp(err, fx->err, sizeof(fx->err));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Run "sluicectl ARGS" (ARGS from fmt, a shell command line) in fx->dir,
 * stdout and stderr into fx->out and fx->err; its exit status, -1 when it
 * did not exit.
 */
static inline int __attribute__((format(printf, 2, 3)))
ctl_run(struct ctl_fixture *fx, const char *fmt, ...)
{
	char exe[PATH_MAX];
	va_list ap;
	int ret;

	ctl_binary(exe);
	va_start(ap, fmt);
	ret = ctl_run_program(fx, exe, fmt, ap);
	va_end(ap);
	return ret;
}

/* The same for "sluiced ARGS" (agent/sluiced, or $SLUICED). */
static inline int __attribute__((format(printf, 2, 3)))
sluiced_run(struct ctl_fixture *fx, const char *fmt, ...)
{
	char exe[PATH_MAX];
	va_list ap;
	int ret;

	ctl_program("SLUICED", "agent/sluiced", exe);
	va_start(ap, fmt);
	ret = ctl_run_program(fx, exe, fmt, ap);
	va_end(ap);
	return ret;
}

static inline size_t ctl_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* An error of one sentence: one line on stderr that starts with @prefix. */
static inline void ctl_assert_one_sentence(const struct ctl_fixture *fx, const char *prefix)
{
	if (strncmp(fx->err, prefix, strlen(prefix)) || ctl_count_lines(fx->err) != 1)
		fail_msg("want one line starting '%s', got '%s'", prefix, fx->err);
}

/* A bad command line: "sluicectl CMD: ... (sluicectl CMD --help shows the usage)". */
static inline void ctl_assert_usage_error(const struct ctl_fixture *fx, const char *cmd)
{
	char prefix[64], hint[64];

	snprintf(prefix, sizeof(prefix), "sluicectl %s: ", cmd);
	ctl_assert_one_sentence(fx, prefix);
	snprintf(hint, sizeof(hint), "(sluicectl %s --help shows the usage)\n", cmd);
	if (!strstr(fx->err, hint))
		fail_msg("want '%s' at the end, got '%s'", hint, fx->err);
}

#endif /* SLUICE_TESTS_SLUICECTL_RUN_H */
