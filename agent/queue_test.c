// SPDX-License-Identifier: GPL-2.0
/*
 * The NFQUEUE engine against the real nfnetlink_queue of the build host,
 * in a network namespace of its own: an iptables rule queues UDP
 * datagrams sent on loopback to 127.0.0.1:QPORT, the test reads them with
 * sluice_queue_run_once() and counts what the receiver gets. What it
 * proves: every queued packet is answered, the verdicts are the decide
 * callback's (a dropped datagram never arrives, the others do), a lone
 * packet costs one receive and one send, a burst one receive per
 * SLUICE_QUEUE_RECV packets and one send, and a wait ends at its timeout
 * or at the first packet, whichever comes first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/queue.h"

#define QNUM		7
#define QPORT		9999
/* As agent/queue.c: packets per receive, per batch. */
#define RECV_BATCH	16
#define RUN_BATCH	64

struct fixture {
	struct sluice_queue *q;
	int rx;			/* bound to 127.0.0.1:QPORT */
	int tx;			/* connected to it */
};

struct decided {
	int passed;
	int dropped;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A datagram whose one byte is 'd' is dropped; any other passes. */
static int decide(void *ctx, struct sluice_packet *p)
{
	struct decided *d = ctx;

	if (p->len && p->data[p->len - 1] == 'd') {
		d->dropped++;
		return SLUICE_Q_DROP;
	}
	d->passed++;
	return SLUICE_Q_PASS;
}

/* The namespace, its loopback and the rule; once for the whole file. */
static int netns_up(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;	/* every test skips */
	if (unshare(CLONE_NEWNET) < 0 ||
	    system("ip link set lo up") != 0 ||
	    system("iptables -w -A OUTPUT -o lo -p udp -d 127.0.0.1 --dport 9999 "
		   "-j NFQUEUE --queue-num 7") != 0)
		return -1;
	return 0;
}

static int open_fixture(void **state)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(QPORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256];

	if (!fx)
		return -1;
	*state = fx;
	fx->rx = fx->tx = -1;
	if (geteuid() != 0)
		return 0;
	fx->q = sluice_queue_open(QNUM, 0, err, sizeof(err));
	if (!fx->q) {
		fprintf(stderr, "queue_test: %s\n", err);
		return -1;
	}
	fx->rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fx->tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (fx->rx < 0 || fx->tx < 0 ||
	    bind(fx->rx, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    connect(fx->tx, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	return 0;
}

static int close_fixture(void **state)
{
	struct fixture *fx = *state;

	sluice_queue_close(fx->q);
	if (fx->rx >= 0)
		close(fx->rx);
	if (fx->tx >= 0)
		close(fx->tx);
	free(fx);
	return 0;
}

static struct fixture *fixture_of(void **state)
{
	if (geteuid() != 0)
		skip();		/* NFQUEUE and namespaces need root */
	return *state;
}

/* Datagrams of one byte each: @text[i] is the i-th one's. */
static void send_each(struct fixture *fx, const char *text)
{
	size_t i;

	for (i = 0; text[i]; i++)
		assert_int_equal(send(fx->tx, &text[i], 1, 0), 1);
}

/*
 * What reached the receiver within @wait_ms after the last arrival; its
 * bytes in @got (NUL-terminated, room for @room - 1).
 */
static int received(struct fixture *fx, char *got, size_t room, int wait_ms)
{
	struct pollfd p = { .fd = fx->rx, .events = POLLIN };
	size_t n = 0;
	char c;

	while (poll(&p, 1, wait_ms) > 0)
		while (recv(fx->rx, &c, 1, 0) == 1)
			if (n + 1 < room)
				got[n++] = c;
	got[n] = '\0';
	return (int)n;
}

static void counts_of(struct fixture *fx, struct sluice_queue_counts *c)
{
	sluice_queue_counts(fx->q, c);
}

static void lone_packet_costs_one_receive_and_one_send(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct sluice_queue_counts c0, c1;
	struct decided d = { 0 };
	char got[8];

	counts_of(fx, &c0);
	send_each(fx, "a");
	assert_int_equal(sluice_queue_run_once(fx->q, 1000, decide, &d), 1);
	counts_of(fx, &c1);
	assert_int_equal(d.passed, 1);
	assert_int_equal(c1.packets - c0.packets, 1);
	assert_int_equal(c1.receives - c0.receives, 1);
	assert_int_equal(c1.sends - c0.sends, 1);
	assert_int_equal(received(fx, got, sizeof(got), 200), 1);
	assert_string_equal(got, "a");
}

/* 40 waiting packets: 16 + 16 + 8 in three receives, one send. */
static void burst_is_read_in_receives_of_sixteen(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct sluice_queue_counts c0, c1;
	struct decided d = { 0 };
	char text[41], got[64];

	memset(text, 'b', 40);
	text[40] = '\0';
	counts_of(fx, &c0);
	send_each(fx, text);
	assert_int_equal(sluice_queue_run_once(fx->q, 1000, decide, &d), 40);
	counts_of(fx, &c1);
	assert_int_equal(d.passed, 40);
	assert_int_equal(c1.receives - c0.receives, (40 + RECV_BATCH - 1) / RECV_BATCH);
	assert_int_equal(c1.sends - c0.sends, 1);
	assert_int_equal(received(fx, got, sizeof(got), 200), 40);
}

/* More than a batch: the first run takes a batch, the next the rest. */
static void more_than_a_batch_is_left_for_the_next_run(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct decided d = { 0 };
	char text[101], got[128];

	memset(text, 'c', 100);
	text[100] = '\0';
	send_each(fx, text);
	assert_int_equal(sluice_queue_run_once(fx->q, 1000, decide, &d), RUN_BATCH);
	assert_int_equal(sluice_queue_run_once(fx->q, 1000, decide, &d), 100 - RUN_BATCH);
	assert_int_equal(d.passed, 100);
	assert_int_equal(received(fx, got, sizeof(got), 200), 100);
}

/*
 * The verdicts are the callback's: of ten datagrams in one batch, the
 * five it drops never arrive and the five it passes do.
 */
static void dropped_packets_never_arrive_and_passed_ones_do(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct decided d = { 0 };
	char got[32];

	send_each(fx, "adadadadad");
	assert_int_equal(sluice_queue_run_once(fx->q, 1000, decide, &d), 10);
	assert_int_equal(d.dropped, 5);
	assert_int_equal(d.passed, 5);
	assert_int_equal(received(fx, got, sizeof(got), 300), 5);
	assert_string_equal(got, "aaaaa");
}

static void idle_queue_waits_its_timeout_and_no_longer(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct sluice_queue_counts c0, c1;
	struct decided d = { 0 };
	uint64_t t0, waited;

	counts_of(fx, &c0);
	t0 = mono_ms();
	assert_int_equal(sluice_queue_run_once(fx->q, 100, decide, &d), 0);
	waited = mono_ms() - t0;
	print_message("an idle run of 100 ms returned after %llu ms\n",
		      (unsigned long long)waited);
	assert_true(waited >= 90);
	assert_true(waited < 2000);
	/* 0: no wait at all. */
	t0 = mono_ms();
	assert_int_equal(sluice_queue_run_once(fx->q, 0, decide, &d), 0);
	assert_true(mono_ms() - t0 < 50);
	counts_of(fx, &c1);
	assert_int_equal(c1.receives - c0.receives, 2);
	assert_int_equal(c1.sends - c0.sends, 0);
	assert_int_equal(d.passed + d.dropped, 0);
}

static void *send_later(void *arg)
{
	struct fixture *fx = arg;
	struct timespec ts = { 0, 50 * 1000000 };

	nanosleep(&ts, NULL);
	if (send(fx->tx, "e", 1, 0) != 1)
		return arg;
	return NULL;
}

/* A packet that comes during the wait ends it at once. */
static void packet_during_the_wait_ends_it(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct decided d = { 0 };
	uint64_t t0, waited;
	pthread_t th;
	void *rc;
	char got[8];

	t0 = mono_ms();
	assert_int_equal(pthread_create(&th, NULL, send_later, fx), 0);
	assert_int_equal(sluice_queue_run_once(fx->q, 5000, decide, &d), 1);
	waited = mono_ms() - t0;
	assert_int_equal(pthread_join(th, &rc), 0);
	assert_null(rc);
	print_message("a packet sent after 50 ms ended a wait of 5 s after %llu ms\n",
		      (unsigned long long)waited);
	assert_true(waited >= 40);
	assert_true(waited < 2500);
	assert_int_equal(received(fx, got, sizeof(got), 200), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lone_packet_costs_one_receive_and_one_send,
						open_fixture, close_fixture),
		cmocka_unit_test_setup_teardown(burst_is_read_in_receives_of_sixteen,
						open_fixture, close_fixture),
		cmocka_unit_test_setup_teardown(more_than_a_batch_is_left_for_the_next_run,
						open_fixture, close_fixture),
		cmocka_unit_test_setup_teardown(dropped_packets_never_arrive_and_passed_ones_do,
						open_fixture, close_fixture),
		cmocka_unit_test_setup_teardown(idle_queue_waits_its_timeout_and_no_longer,
						open_fixture, close_fixture),
		cmocka_unit_test_setup_teardown(packet_during_the_wait_ends_it,
						open_fixture, close_fixture),
	};

	return cmocka_run_group_tests(tests, netns_up, NULL);
}
