// SPDX-License-Identifier: GPL-2.0
/*
 * sluiced --journal: the fields of a decision's journal entry, exactly
 * (unknown values left out, priority by action); the sink skips allows
 * with --journal=denied and counts every entry it tried; the decision
 * log hands each record to its sink once, from its own thread, with or
 * without a database. journald does not run on a build machine, so what
 * is checked is what is given to sd_journal_sendv().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/journal.h"

static struct sluice_log_record deny_record(void)
{
	struct sluice_log_record r = {
		.time_ms = 1700000000000, .uid = 1000, .rule_id = 7,
		.sport = 40000, .dport = 443, .family = AF_INET,
		.proto = IPPROTO_TCP, .direction = SLUICE_DIR_OUT, .allow = 0,
		.domain = "example.com", .exe = "/usr/bin/curl",
		.unit = "session-2.scope",
		.mask = { .dst_len = 24, .fields = SLUICE_MASK_DPORT },
	};

	inet_pton(AF_INET, "10.0.0.1", r.src);
	inet_pton(AF_INET, "93.184.216.34", r.dst);
	return r;
}

static void assert_fields(const struct sluice_journal_fields *jf,
			  const char *const *want, size_t nwant)
{
	size_t i;

	for (i = 0; i < jf->n && i < nwant; i++) {
		const struct iovec *v = &jf->iov[i];

		if (v->iov_len != strlen(want[i]) ||
		    memcmp(v->iov_base, want[i], v->iov_len))
			fail_msg("field %zu is \"%.*s\", not \"%s\"", i,
				 (int)v->iov_len, (const char *)v->iov_base, want[i]);
	}
	assert_int_equal(jf->n, nwant);
}

static void a_deny_has_every_field_and_notice_priority(void **state)
{
	static const char *const want[] = {
		"MESSAGE=deny out tcp 10.0.0.1:40000 -> 93.184.216.34:443 name example.com"
		" by rule 7 uid 1000 exe /usr/bin/curl unit session-2.scope",
		"PRIORITY=5",
		"MESSAGE_ID=" SLUICE_JOURNAL_MESSAGE_ID,
		"SYSLOG_IDENTIFIER=sluiced",
		"SLUICE_ACTION=deny",
		"SLUICE_RULE=7",
		"SLUICE_MASK=proto dir dst/24 dport",
		"SLUICE_DIRECTION=out",
		"SLUICE_PROTO=tcp",
		"SLUICE_SRC=10.0.0.1",
		"SLUICE_SPORT=40000",
		"SLUICE_DST=93.184.216.34",
		"SLUICE_DPORT=443",
		"SLUICE_DOMAIN=example.com",
		"SLUICE_UID=1000",
		"SLUICE_EXE=/usr/bin/curl",
		"SLUICE_UNIT=session-2.scope",
	};
	struct sluice_log_record r = deny_record();
	struct sluice_journal_fields jf;

	(void)state;
	sluice_journal_fields(&r, &jf);
	assert_fields(&jf, want, sizeof(want) / sizeof(want[0]));
}

static void an_allow_leaves_out_what_is_unknown(void **state)
{
	static const char *const want[] = {
		"MESSAGE=allow in udp 2001:db8::1 -> ::1 by default action",
		"PRIORITY=6",
		"MESSAGE_ID=" SLUICE_JOURNAL_MESSAGE_ID,
		"SYSLOG_IDENTIFIER=sluiced",
		"SLUICE_ACTION=allow",
		"SLUICE_RULE=default",
		"SLUICE_MASK=proto dir",
		"SLUICE_DIRECTION=in",
		"SLUICE_PROTO=udp",
		"SLUICE_SRC=2001:db8::1",
		"SLUICE_DST=::1",
	};
	struct sluice_log_record r = {
		.uid = -1, .family = AF_INET6, .proto = IPPROTO_UDP,
		.direction = SLUICE_DIR_IN, .allow = 1,
	};
	struct sluice_journal_fields jf;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", r.src);
	inet_pton(AF_INET6, "::1", r.dst);
	sluice_journal_fields(&r, &jf);
	assert_fields(&jf, want, sizeof(want) / sizeof(want[0]));
}

static void long_values_are_cut_never_overflow(void **state)
{
	struct sluice_log_record r = deny_record();
	struct sluice_journal_fields jf;
	unsigned int i;

	(void)state;
	memset(r.domain, 'd', sizeof(r.domain) - 1);
	memset(r.exe, 'e', sizeof(r.exe) - 1);
	memset(r.unit, 'u', sizeof(r.unit) - 1);
	sluice_journal_fields(&r, &jf);
	assert_int_equal(jf.n, 17);
	for (i = 0; i < jf.n; i++) {
		const char *b = jf.iov[i].iov_base;

		assert_true(b >= jf.buf && b + jf.iov[i].iov_len < jf.buf + sizeof(jf.buf));
		assert_non_null(memchr(b, '=', jf.iov[i].iov_len));
	}
}

static void the_sink_counts_every_entry_and_denied_skips_allows(void **state)
{
	struct sluice_log_record deny = deny_record(), allow = deny_record();
	struct sluice_journal j = { 0 };

	(void)state;
	allow.allow = 1;
	j.denied_only = 1;
	sluice_journal_sink(&j, &allow);
	assert_int_equal(atomic_load(&j.sent) + atomic_load(&j.failed), 0);
	sluice_journal_sink(&j, &deny);
	assert_int_equal(atomic_load(&j.sent) + atomic_load(&j.failed), 1);
	/* Control: with --journal=all the allow goes too. */
	j.denied_only = 0;
	sluice_journal_sink(&j, &allow);
	assert_int_equal(atomic_load(&j.sent) + atomic_load(&j.failed), 2);
}

struct seen {
	pthread_t caller;
	int n, allows, wrong_thread;
};

static void count_sink(void *ctx, const struct sluice_log_record *r)
{
	struct seen *s = ctx;

	s->n++;
	s->allows += r->allow;
	s->wrong_thread += pthread_equal(pthread_self(), s->caller);
}

static void the_log_hands_each_record_to_its_sink_off_the_caller(void **state)
{
	struct sluice_log_options o;
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP, .uid = -1 };
	struct sluice_decision allow = { .allow = 1 }, deny = { .allow = 0, .rule_id = 3 };
	struct seen s = { .caller = pthread_self() };
	uint64_t logged, dropped, errors;
	struct sluice_log *l;
	char err[256];
	int i;

	(void)state;
	/* Without a sink, no database is no log. */
	assert_null(sluice_log_open(NULL, NULL, err, sizeof(err)));
	assert_string_equal(err, "no decision log file was given");

	sluice_log_options_default(&o);
	o.sink = count_sink;
	o.sink_ctx = &s;
	l = sluice_log_open(NULL, &o, err, sizeof(err));
	assert_non_null(l);
	for (i = 0; i < 10; i++)
		assert_int_equal(sluice_log_push(l, &f, i < 4 ? &allow : &deny), 0);
	assert_int_equal(sluice_log_flush(l, 5000), 0);
	sluice_log_stats(l, &logged, &dropped, &errors);
	sluice_log_close(l);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.allows, 4);
	assert_int_equal(s.wrong_thread, 0);
	assert_int_equal(logged, 0);	/* no database: nothing written */
	assert_int_equal(dropped + errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_deny_has_every_field_and_notice_priority),
		cmocka_unit_test(an_allow_leaves_out_what_is_unknown),
		cmocka_unit_test(long_values_are_cut_never_overflow),
		cmocka_unit_test(the_sink_counts_every_entry_and_denied_skips_allows),
		cmocka_unit_test(the_log_hands_each_record_to_its_sink_off_the_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
