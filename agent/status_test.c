// SPDX-License-Identifier: GPL-2.0
/*
 * What `sluicectl status` reads and prints: the /proc/net/sluice parser on
 * good and broken files, the mode wording, the agent's status file, JSON
 * that a JSON parser accepts, and the built agent/sluicectl binary's exit
 * codes and messages (SLUICECTL overrides its path).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/status.h"

static const char good_proc[] =
	"mode enforcing\n"
	"fail_mode closed\n"
	"agent_pid 4242\n"
	"heartbeat_age_ms 17\n"
	"queue_num 3\n"
	"watchdog_ms 250\n"
	"hooks in,forward\n"
	"seen 100\n"
	"queued 5\n"
	"fast_accepted 90\n"
	"fast_dropped 2\n"
	"failed_open 3\n"
	"failed_closed 0\n"
	"untracked 1\n"
	"transitions 18446744073709551615\n";

static int parse(const char *text, struct sluice_status *st, char *err)
{
	return sluice_proc_parse(text, strlen(text), "/proc/net/sluice", st,
				 err, 256);
}

static void proc_parser_reads_every_field_of_the_module_file(void **state)
{
	struct sluice_status st;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(good_proc, &st, err), 0);
	assert_int_equal(st.mode, SLUICE_MODE_ENFORCING);
	assert_int_equal(st.config.fail_mode, SLUICE_FAIL_CLOSED);
	assert_int_equal(st.agent_pid, 4242);
	assert_int_equal(st.heartbeat_age_ms, 17);
	assert_int_equal(st.config.queue_num, 3);
	assert_int_equal(st.config.watchdog_ms, 250);
	assert_int_equal(st.stats[SLUICE_STAT_SEEN], 100);
	assert_int_equal(st.stats[SLUICE_STAT_FAST_ACCEPTED], 90);
	assert_int_equal(st.stats[SLUICE_STAT_UNTRACKED], 1);
	assert_true(st.stats[SLUICE_STAT_TRANSITIONS] == UINT64_MAX);
	assert_int_equal(st.source, SLUICE_SOURCE_PROC);
	assert_true(st.have & SLUICE_HAVE_WATCHDOG);
	assert_true(st.have & SLUICE_HAVE_HOOKS);
	assert_int_equal(st.config.hooks, SLUICE_HOOK_IN | SLUICE_HOOK_FORWARD);
	assert_true(st.stats_have & (1ULL << SLUICE_STAT_FAILED_CLOSED));
}

static void proc_parser_skips_unknown_keys_blank_lines_and_spacing(void **state)
{
	struct sluice_status st;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("\nmode   no-agent  \nnew_counter 7\n\n"
			       "fail_mode\topen\nheartbeat_age_ms -1", &st, err), 0);
	assert_int_equal(st.mode, SLUICE_MODE_NO_AGENT);
	assert_int_equal(st.config.fail_mode, SLUICE_FAIL_OPEN);
	assert_true(st.heartbeat_age_ms == SLUICE_AGE_NEVER);
	assert_true(st.have & SLUICE_HAVE_HEARTBEAT);
	assert_int_equal(st.stats_have, 0);	/* absent, not zero */
}

/* Each broken file is refused with a sentence naming line and fault. */
static void proc_parser_refuses_malformed_files_naming_the_line(void **state)
{
	static const struct {
		const char *text;
		const char *said;
	} cases[] = {
		{ "mode enforcing\nfail_mode open\nseen abc\n", "line 3: seen is not a number" },
		{ "mode enforcing\nfail_mode open\nseen -1\n", "line 3: seen is not a number" },
		{ "mode enforcing\nfail_mode open\nseen 18446744073709551616\n", "line 3: seen" },
		{ "mode enforcing\nfail_mode open\nqueue_num 65536\n", "line 3: queue_num" },
		{ "mode enforcing\nfail_mode open\nagent_pid 12 13\n", "line 3: agent_pid needs exactly one value" },
		{ "mode enforcing\nfail_mode open\nagent_pid\n", "line 3 is not \"key value\"" },
		{ "mode sideways\nfail_mode open\n", "line 1: unknown mode \"sideways\"" },
		{ "mode enforcing\nfail_mode ajar\n", "line 2: fail_mode must be open or closed" },
		{ "mode enforcing\nmode hung\nfail_mode open\n", "line 2 repeats mode" },
		{ "fail_mode open\nseen 1\n", "has no mode line" },
		{ "mode hung\n", "has no fail_mode line" },
		{ "", "has no mode line" },
	};
	struct sluice_status st;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(cases[i].text, &st, err), -EBADMSG);
		if (!strstr(err, cases[i].said) ||
		    !strstr(err, "/proc/net/sluice"))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 cases[i].said);
		assert_null(strchr(err, '\n'));
	}
}

static void proc_parser_refuses_a_nul_byte(void **state)
{
	static const char text[] = "mode enforcing\nfail_mode open\nseen 1\0 2\n";
	struct sluice_status st;
	char err[256] = "";

	(void)state;
	assert_int_equal(sluice_proc_parse(text, sizeof(text) - 1, "p", &st,
					   err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 3 contains a NUL byte"));
}

static void proc_read_of_a_missing_file_says_module_not_loaded(void **state)
{
	struct sluice_status st;
	char err[256] = "";

	(void)state;
	assert_int_equal(sluice_proc_read("/nonexistent/sluice", &st, err,
					  sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/sluice does not exist"));
	assert_non_null(strstr(err, "not loaded"));
}

static void mode_wording_follows_mode_and_fail_mode(void **state)
{
	static const struct {
		uint8_t mode, fail_mode;
		const char *words;
	} table[] = {
		{ SLUICE_MODE_ENFORCING, SLUICE_FAIL_OPEN, "enforcing" },
		{ SLUICE_MODE_ENFORCING, SLUICE_FAIL_CLOSED, "enforcing" },
		{ SLUICE_MODE_NO_AGENT, SLUICE_FAIL_OPEN, "fail-open (no agent)" },
		{ SLUICE_MODE_NO_AGENT, SLUICE_FAIL_CLOSED, "fail-closed (no agent)" },
		{ SLUICE_MODE_HUNG, SLUICE_FAIL_OPEN, "fail-open (agent hung)" },
		{ SLUICE_MODE_HUNG, SLUICE_FAIL_CLOSED, "fail-closed (agent hung)" },
		{ SLUICE_MODE_DRAINING, SLUICE_FAIL_OPEN, "fail-open (agent draining)" },
		{ SLUICE_MODE_DRAINING, SLUICE_FAIL_CLOSED, "fail-closed (agent draining)" },
		{ 9, SLUICE_FAIL_OPEN, "unknown" },
		{ SLUICE_MODE_HUNG, 9, "unknown" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_equal(sluice_mode_describe(table[i].mode,
							 table[i].fail_mode),
				    table[i].words);
	assert_string_equal(sluice_mode_name(SLUICE_MODE_NO_AGENT), "no agent");
	assert_string_equal(sluice_mode_name(SLUICE_MODE_HUNG), "hung");
	assert_string_equal(sluice_mode_name(SLUICE_MODE_DRAINING), "draining");
	assert_string_equal(sluice_mode_token(SLUICE_MODE_NO_AGENT), "no-agent");
	assert_string_equal(sluice_fail_mode_name(SLUICE_FAIL_CLOSED), "closed");
	assert_string_equal(sluice_stat_name(SLUICE_STAT_FAST_DROPPED), "fast_dropped");
	assert_null(sluice_stat_name(SLUICE_STAT_PAD));
}

static void agent_status_file_keeps_values_and_skips_junk(void **state)
{
	static const char text[] =
		"# written by sluiced\n"
		"policy_db=/var/lib/sluice/policy.db\n"
		"policy_rules=12\n"
		"no equals sign here\n"
		"=no key\n"
		"policy_error=\n"
		"policy_loaded_at=2024-05-01 10:00:00=UTC";
	struct sluice_agent_status as;

	(void)state;
	assert_int_equal(sluice_agent_status_parse(text, sizeof(text) - 1, &as), 0);
	assert_int_equal(as.n, 4);
	assert_string_equal(sluice_agent_status_get(&as, "policy_db"),
			    "/var/lib/sluice/policy.db");
	assert_string_equal(sluice_agent_status_get(&as, "policy_error"), "");
	assert_string_equal(sluice_agent_status_get(&as, "policy_loaded_at"),
			    "2024-05-01 10:00:00=UTC");
	assert_null(sluice_agent_status_get(&as, "decisions_logged"));
	sluice_agent_status_free(&as);
}

static void json_strings_are_escaped_and_valid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\tnl\n\x01", "\"tab\\tnl\\n\\u0001\"" },
		{ "p\xc3\xb6licy", "\"p\xc3\xb6licy\"" },
		{ "bad\xff", "\"bad\\ufffd\"" },
		{ "cut\xc3", "\"cut\\ufffd\"" },
		{ "surrogate\xed\xa0\x80", "\"surrogate\\ufffd\\ufffd\\ufffd\"" },
	};
	size_t i, len;
	char *buf;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		sluice_json_string(f, cases[i].in);
		fclose(f);
		assert_string_equal(buf, cases[i].out);
		free(buf);
	}
}

/* python3's own parser is the judge; returns its exit status. */
static int json_tool_accepts(const char *text)
{
	FILE *p = popen("python3 -m json.tool >/dev/null 2>&1", "w");
	int status;

	assert_non_null(p);
	fputs(text, p);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void json_status_is_valid_for_every_shape(void **state)
{
	static const char nasty[] =
		"policy_db=/tmp/\"quoted\"\\path\n"
		"policy_rules=12\n"
		"policy_error=row 7: \x01\x1b[31mred\xff\n"
		"decisions_logged=007\n"
		"big=12345678901234567890\n";
	struct sluice_agent_status as, none = { .n = 0 };
	struct sluice_queue_report qr[4];
	struct sluice_status st;
	char err[256], *buf;
	size_t len;
	FILE *f;
	int shape;

	(void)state;
	/* Queues: none asked, two (one bound), unreadable, one bound. */
	memset(qr, 0, sizeof(qr));
	qr[1].readable = qr[3].readable = 1;
	qr[1].first = 3;
	qr[1].count = 2;
	qr[1].n = 1;
	qr[1].q[0] = (struct sluice_nfqueue_stats){ .queue_num = 4, .total = 1, .dropped = 2 };
	qr[2].count = 1;
	snprintf(qr[2].error, sizeof(qr[2].error), "cannot read \"x\"");
	qr[3].count = 1;
	qr[3].n = 1;
	assert_int_equal(parse(good_proc, &st, err), 0);
	assert_int_equal(sluice_agent_status_parse(nasty, sizeof(nasty) - 1, &as), 0);
	for (shape = 0; shape < 4; shape++) {
		if (shape == 2) {	/* as from netlink */
			st.have |= SLUICE_HAVE_HOOKS | SLUICE_HAVE_MARK_MASK;
			st.config.hooks = SLUICE_HOOK_IN | SLUICE_HOOK_FORWARD;
			st.config.mark_mask = SLUICE_MARK_MASK_DEFAULT;
		}
		if (shape == 3) {	/* a bare file: nothing optional */
			assert_int_equal(parse("mode no-agent\nfail_mode open\n",
					       &st, err), 0);
		}
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		sluice_status_print_json(f, &st, "/proc/net/sluice",
					 shape == 0 ? NULL :
					 shape == 3 ? &none : &as,
					 shape == 0 ? NULL : &qr[shape]);
		fclose(f);
		if (json_tool_accepts(buf) != 0)
			fail_msg("invalid JSON (shape %d):\n%s", shape, buf);
		if (shape == 2) {
			assert_non_null(strstr(buf, "\"hooks\": [\"in\", \"forward\"]"));
			assert_non_null(strstr(buf, "\"decisions_logged\": \"007\""));
			assert_non_null(strstr(buf, "\"policy_rules\": 12"));
		}
		free(buf);
	}
	sluice_agent_status_free(&as);
}

static void text_status_shows_mode_counters_and_policy_error(void **state)
{
	static const char agent[] = "policy_rules=3\npolicy_error=row 7: bad CIDR\n";
	struct sluice_agent_status as;
	struct sluice_status st;
	char err[256], *buf;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(parse("mode hung\nfail_mode open\nagent_pid 0\n"
			       "heartbeat_age_ms -1\nqueued 5\n", &st, err), 0);
	assert_int_equal(sluice_agent_status_parse(agent, sizeof(agent) - 1, &as), 0);
	f = open_memstream(&buf, &len);
	sluice_status_print_text(f, &st, "/proc/net/sluice", &as, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "mode: fail-open (agent hung)\n"));
	assert_non_null(strstr(buf, "agent pid: none\n"));
	assert_non_null(strstr(buf, "heartbeat age: never\n"));
	assert_non_null(strstr(buf, "  queued: 5\n"));
	assert_null(strstr(buf, "  seen:"));		/* not reported */
	assert_non_null(strstr(buf, "policy:\n  policy_rules: 3\n"));
	assert_non_null(strstr(buf, "warning: the last policy reload failed"));
	/* The database's edit refused: its last good policy stays. */
	assert_non_null(strstr(buf, "\npolicy in force: the last good policy (the last that compiled from the database; its latest edit was refused)\n"
			       "refused edit: row 7: bad CIDR\n"));
	free(buf);
	sluice_agent_status_free(&as);

	/* Control: a policy that compiled says the database, and no refused edit. */
	assert_int_equal(sluice_agent_status_parse("policy_source=database\npolicy_error=\n", 38, &as), 0);
	f = open_memstream(&buf, &len);
	sluice_status_print_text(f, &st, "/proc/net/sluice", &as, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "\npolicy in force: the database, as it is now\n"));
	assert_null(strstr(buf, "refused edit"));
	free(buf);
	sluice_agent_status_free(&as);
}

/* What sluicectl status prints (@json or text) for the agent status file @agent. */
static char *status_output(const struct sluice_status *st, const char *agent, int json)
{
	struct sluice_agent_status as;
	char *buf;
	size_t len;
	FILE *f;

	assert_int_equal(sluice_agent_status_parse(agent, strlen(agent), &as), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	if (json)
		sluice_status_print_json(f, st, "/proc/net/sluice", &as, NULL);
	else
		sluice_status_print_text(f, st, "/proc/net/sluice", &as, NULL);
	fclose(f);
	sluice_agent_status_free(&as);
	return buf;
}

/*
 * The agent's decision log cannot be written: text and JSON say it, with
 * the count lost; once a batch is written again (log_error empty), the
 * text has no warning and the count stays.
 */
static void status_says_a_decision_log_that_cannot_be_written(void **state)
{
	static const char failing[] =
		"decisions_logged=20\ndecisions_failed=50\n"
		"log_error=cannot write decision log /x/d.db: database or disk is full\n";
	static const char written[] =
		"decisions_logged=30\ndecisions_failed=50\nlog_error=\n";
	struct sluice_status st;
	char err[256], *buf;

	(void)state;
	assert_int_equal(parse("mode enforcing\nfail_mode open\n", &st, err), 0);
	buf = status_output(&st, failing, 0);
	assert_non_null(strstr(buf, "\n  decisions_failed: 50\n"));
	assert_non_null(strstr(buf, "\n  log_error: cannot write decision log /x/d.db: database or disk is full\n"));
	assert_non_null(strstr(buf, "\nwarning: decisions go on but are not logged (50 records lost so far): cannot write decision log /x/d.db: database or disk is full\n"));
	free(buf);
	buf = status_output(&st, failing, 1);
	if (json_tool_accepts(buf) != 0)
		fail_msg("invalid JSON:\n%s", buf);
	assert_non_null(strstr(buf, "\"decisions_failed\": 50"));
	assert_non_null(strstr(buf, "\"log_error\": \"cannot write decision log /x/d.db: database or disk is full\""));
	free(buf);

	/* Control: written again, no warning; the count of the lost stays. */
	buf = status_output(&st, written, 0);
	assert_non_null(strstr(buf, "\n  decisions_failed: 50\n"));
	assert_non_null(strstr(buf, "\n  log_error: (none)\n"));
	assert_null(strstr(buf, "not logged"));
	free(buf);
	buf = status_output(&st, written, 1);
	assert_non_null(strstr(buf, "\"log_error\": \"\""));
	free(buf);
}

static void policy_state_names_what_is_in_force(void **state)
{
	static const struct {
		const char *file, *state, *refused;
	} cases[] = {
		{ "policy_source=database\npolicy_error=\n", "database", NULL },
		{ "policy_source=database\npolicy_error=rules row 7: bad\n",
		  "last-good-policy", "rules row 7: bad" },
		{ "policy_source=last-good\npolicy_error=corrupt\n", "last-good-copy", "corrupt" },
		{ "policy_source=built-in\npolicy_error=gone\n", "built-in", "gone" },
		{ "", "database", NULL },	/* an older agent's file */
	};
	struct sluice_agent_status as;
	const char *refused;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sluice_agent_status_parse(cases[i].file,
							   strlen(cases[i].file), &as), 0);
		assert_string_equal(sluice_policy_state(&as, &refused), cases[i].state);
		if (cases[i].refused)
			assert_string_equal(refused, cases[i].refused);
		else
			assert_null(refused);
		sluice_agent_status_free(&as);
	}
}

static void queues_show_depth_and_drops(void **state)
{
	static const char nfq[] =
		"    3   1234     7 2 65531     5     6       99  1\n"
		"    9   1235     1 2 65531     1     1       12  1\n";
	char path[] = "/tmp/sluice-nfq.XXXXXX", err[256], *buf;
	struct sluice_queue_report r;
	struct sluice_status st;
	size_t len;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, nfq, sizeof(nfq) - 1), (ssize_t)sizeof(nfq) - 1);
	close(fd);
	assert_int_equal(parse(good_proc, &st, err), 0);	/* failed_closed 0 */
	st.stats[SLUICE_STAT_FAILED_CLOSED] = 11;

	sluice_queue_report_read(&r, path, 3, 2);
	assert_true(r.readable);
	assert_int_equal(r.n, 1);	/* queue 9 is not ours */
	f = open_memstream(&buf, &len);
	sluice_queues_print_text(f, &st, &r);
	fclose(f);
	assert_non_null(strstr(buf, "  queue 3: depth 7, dropped (queue full) 5, dropped (socket full) 6\n"));
	assert_non_null(strstr(buf, "  queue 4: not bound\n"));
	assert_non_null(strstr(buf, "  queue full (queue_dropped): 5\n"));
	assert_non_null(strstr(buf, "  agent socket full (user_dropped): 6\n"));
	assert_non_null(strstr(buf, "  no live agent, fail-closed (failed_closed): 11\n"));
	free(buf);

	f = open_memstream(&buf, &len);
	fputs("{\"x\": 1", f);
	sluice_queues_print_json(f, &st, &r);
	fputs("}\n", f);
	fclose(f);
	if (json_tool_accepts(buf) != 0)
		fail_msg("invalid JSON:\n%s", buf);
	assert_non_null(strstr(buf, "{\"queue\": 3, \"bound\": true, \"depth\": 7, \"queue_dropped\": 5, \"user_dropped\": 6}"));
	assert_non_null(strstr(buf, "\"failed_closed\": 11"));
	free(buf);

	/* Unreadable: said, and the drops nfnetlink_queue keeps are null. */
	unlink(path);
	sluice_queue_report_read(&r, path, 3, 2);
	assert_false(r.readable);
	f = open_memstream(&buf, &len);
	sluice_queues_print_text(f, &st, &r);
	fclose(f);
	assert_non_null(strstr(buf, "  unknown: cannot read /tmp/sluice-nfq."));
	assert_null(strstr(buf, "queue_dropped"));
	free(buf);
}

/* ---- the sluicectl binary ---- */

struct run {
	int code;
	char out[8192];
	char err[4096];
};

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs "sluicectl @args" with @env before it; fills @r. */
static void run_sluicectl(const char *env, const char *args, struct run *r)
{
	const char *bin = getenv("SLUICECTL") ? getenv("SLUICECTL") :
			  "agent/sluicectl";
	char out[] = "/tmp/sluicectl-test-out.XXXXXX";
	char errf[] = "/tmp/sluicectl-test-err.XXXXXX";
	char cmd[1024];
	int status, fo, fe;

	if (access(bin, X_OK))
		fail_msg("%s is not built: run make agent/sluicectl", bin);
	fo = mkstemp(out);
	fe = mkstemp(errf);
	assert_true(fo >= 0 && fe >= 0);
	close(fo);
	close(fe);
	snprintf(cmd, sizeof(cmd), "%s %s %s >%s 2>%s", env ? env : "", bin,
		 args, out, errf);
	status = system(cmd);
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(errf, r->err, sizeof(r->err));
	unlink(out);
	unlink(errf);
}

/* stderr: one line naming the fault. */
static void assert_one_sentence(const struct run *r, const char *words)
{
	const char *nl = strchr(r->err, '\n');

	if (!strstr(r->err, words) || !nl || strstr(r->err, words) > nl)
		fail_msg("stderr lacks \"%s\" on its first line:\n%s", words,
			 r->err);
}

static bool sluice_module_present(void)
{
	char err[256];
	struct sluice_ctl *c = sluice_ctl_open(err, sizeof(err));

	sluice_ctl_close(c);
	return c != NULL;
}

static void sluicectl_help_and_version_exit_zero(void **state)
{
	struct run r;

	(void)state;
	run_sluicectl(NULL, "--help", &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "status"));
	assert_non_null(strstr(r.out, "set"));
	run_sluicectl(NULL, "status --help", &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Usage: sluicectl status [--json]"));
	run_sluicectl(NULL, "set --help", &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "fail-mode open|closed"));
	run_sluicectl(NULL, "--version", &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "sluicectl "));
}

static void sluicectl_bad_command_lines_exit_two_in_one_line(void **state)
{
	static const struct {
		const char *args, *said;
	} cases[] = {
		{ "frobnicate", "\"frobnicate\" is not a sluicectl command" },
		{ "--frobnicate", "unknown option \"--frobnicate\"" },
		{ "status --yaml", "unknown argument \"--yaml\"" },
		{ "set", "nothing to set" },
		{ "set fail-mode", "fail-mode needs a value" },
		{ "set fail-mode ajar", "fail-mode must be open or closed, not \"ajar\"" },
		{ "set watchdog-ms soon", "watchdog-ms must be a whole number" },
		{ "set watchdog-ms -5", "watchdog-ms must be a whole number" },
		{ "set watchdog-ms 99999999999", "watchdog-ms must be a whole number" },
		{ "set colour blue", "\"colour\" is not a setting" },
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_sluicectl(NULL, cases[i].args, &r);
		if (r.code != 2)
			fail_msg("sluicectl %s: exit %d, want 2", cases[i].args,
				 r.code);
		assert_one_sentence(&r, cases[i].said);
		assert_null(strchr(strchr(r.err, '\n') + 1, '\n'));
		assert_null(strstr(r.err, "Usage: sluicectl"));
		assert_string_equal(r.out, "");
	}
}

static void sluicectl_without_module_says_not_loaded(void **state)
{
	struct run r;

	(void)state;
	if (sluice_module_present())
		skip();
	run_sluicectl("SLUICE_PROC=/nonexistent/sluice", "status", &r);
	assert_int_equal(r.code, 1);
	assert_one_sentence(&r, "the sluice kernel module is not loaded");
	assert_non_null(strstr(r.err, "modprobe sluice"));
	assert_string_equal(r.out, "");

	run_sluicectl("SLUICE_PROC=/nonexistent/sluice", "status --json", &r);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");

	run_sluicectl(NULL, "set fail-mode closed", &r);
	assert_int_equal(r.code, 1);
	assert_one_sentence(&r, "the sluice kernel module is not loaded");
}

static void sluicectl_status_falls_back_to_proc(void **state)
{
	char proc[] = "/tmp/sluice-proc.XXXXXX";
	char agent[] = "/tmp/sluice-agent.XXXXXX";
	char nfq[] = "/tmp/sluice-nfq.XXXXXX";
	char env[384];
	struct run r;
	FILE *f;
	int fd;

	(void)state;
	if (sluice_module_present())
		skip();		/* netlink would answer instead */
	fd = mkstemp(proc);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(good_proc, f);
	fclose(f);
	fd = mkstemp(agent);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("policy_rules=12\npolicy_error=\n", f);
	fclose(f);
	fd = mkstemp(nfq);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("    3   1234     2 2 65531     4     1       99  1\n", f);
	fclose(f);
	snprintf(env, sizeof(env), "SLUICE_PROC=%s SLUICE_STATUS_FILE=%s SLUICE_NFQUEUE=%s",
		 proc, agent, nfq);

	run_sluicectl(env, "status", &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "mode: enforcing\n"));
	assert_non_null(strstr(r.out, "fail mode: closed\n"));
	assert_non_null(strstr(r.out, "  failed_open: 3\n"));
	assert_non_null(strstr(r.out, "  policy_error: (none)\n"));
	assert_non_null(strstr(r.out, "  queue 3: depth 2, dropped (queue full) 4, dropped (socket full) 1\n"));
	assert_non_null(strstr(r.out, "policy in force: the database, as it is now\n"));

	run_sluicectl(env, "status --json", &r);
	assert_int_equal(r.code, 0);
	if (json_tool_accepts(r.out) != 0)
		fail_msg("sluicectl status --json printed invalid JSON:\n%s", r.out);
	assert_non_null(strstr(r.out, "\"mode\": \"enforcing\""));
	assert_non_null(strstr(r.out, "\"queue_dropped\": 4"));
	assert_non_null(strstr(r.out, "\"policy_in_force\": \"database\""));

	/* A broken /proc file is the news, named by line. */
	f = fopen(proc, "w");
	fputs("mode enforcing\nfail_mode open\nqueued lots\n", f);
	fclose(f);
	run_sluicectl(env, "status", &r);
	assert_int_equal(r.code, 1);
	assert_one_sentence(&r, "line 3: queued is not a number");

	unlink(proc);
	unlink(agent);
	unlink(nfq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proc_parser_reads_every_field_of_the_module_file),
		cmocka_unit_test(proc_parser_skips_unknown_keys_blank_lines_and_spacing),
		cmocka_unit_test(proc_parser_refuses_malformed_files_naming_the_line),
		cmocka_unit_test(proc_parser_refuses_a_nul_byte),
		cmocka_unit_test(proc_read_of_a_missing_file_says_module_not_loaded),
		cmocka_unit_test(mode_wording_follows_mode_and_fail_mode),
		cmocka_unit_test(agent_status_file_keeps_values_and_skips_junk),
		cmocka_unit_test(json_strings_are_escaped_and_valid_utf8),
		cmocka_unit_test(json_status_is_valid_for_every_shape),
		cmocka_unit_test(text_status_shows_mode_counters_and_policy_error),
		cmocka_unit_test(status_says_a_decision_log_that_cannot_be_written),
		cmocka_unit_test(policy_state_names_what_is_in_force),
		cmocka_unit_test(queues_show_depth_and_drops),
		cmocka_unit_test(sluicectl_help_and_version_exit_zero),
		cmocka_unit_test(sluicectl_bad_command_lines_exit_two_in_one_line),
		cmocka_unit_test(sluicectl_without_module_says_not_loaded),
		cmocka_unit_test(sluicectl_status_falls_back_to_proc),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
