// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the queue handover (agent/handover.c): which sockets a new
 * agent takes from systemd's LISTEN_FDS, what it refuses, and when an agent
 * may hand over at all. No queue is bound: the sockets are only opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "agent/handover.h"
#include "agent/queue.h"

/* A queue number nobody binds on a test host. */
#define QNUM	64999
#define SD_LISTEN_FDS_START_TEST	3	/* SD_LISTEN_FDS_START */

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * Put @n sockets of the given kinds at fds 3.. as systemd passes them, and
 * describe them in LISTEN_* with @names. Skips when fds 3.. are taken.
 */
static void pass_fds(const int *netfilter, int n, const char *names)
{
	char buf[32];
	int i, s;

	for (i = 0; i < n; i++)
		if (fd_open(SD_LISTEN_FDS_START_TEST + i))
			skip();
	for (i = 0; i < n; i++) {
		s = netfilter[i] ?
		    socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER) :
		    socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(s >= 0);
		if (s == SD_LISTEN_FDS_START_TEST + i)
			continue;	/* the lowest free fd is the one */
		assert_int_equal(dup2(s, SD_LISTEN_FDS_START_TEST + i),
				 SD_LISTEN_FDS_START_TEST + i);
		close(s);
	}
	snprintf(buf, sizeof(buf), "%ld", (long)getpid());
	setenv("LISTEN_PID", buf, 1);
	snprintf(buf, sizeof(buf), "%d", n);
	setenv("LISTEN_FDS", buf, 1);
	setenv("LISTEN_FDNAMES", names, 1);
}

static void test_collect_takes_queue_sockets_by_name(void **state)
{
	static const int kinds[] = { 1, 0, 0 };
	struct sluice_handover h;
	struct sluice_queue *q;
	char name[64], err[256];

	(void)state;
	snprintf(name, sizeof(name), "%s%d:sluice-queue-x:other",
		 SLUICE_HANDOVER_FDNAME, QNUM);
	pass_fds(kinds, 3, name);
	assert_int_equal(sluice_handover_collect(&h), 1);
	assert_int_equal(h.stored[0].num, QNUM);
	assert_int_equal(h.stored[0].fd, 3);
	assert_int_equal(h.n_others, 2);

	/* Adopted, not bound again: the queue reads the passed socket. */
	q = sluice_handover_open_queue(&h, QNUM, SLUICE_MARK_MASK_DEFAULT, 0,
				       err, sizeof(err));
	assert_non_null(q);
	assert_int_equal(sluice_queue_fd(q), 3);
	assert_int_equal(h.adopted, 1);
	assert_int_equal(h.stored[0].fd, -1);

	/* The sockets that are not ours are closed; the adopted one stays. */
	sluice_handover_done(&h);
	assert_false(fd_open(4));
	assert_false(fd_open(5));
	assert_true(fd_open(3));
	sluice_queue_close(q);
	assert_false(fd_open(3));
}

static void test_adopt_refuses_a_socket_not_of_netfilter(void **state)
{
	static const int kinds[] = { 0 };
	struct sluice_handover h;
	char name[64], err[256] = "";

	(void)state;
	snprintf(name, sizeof(name), "%s%d", SLUICE_HANDOVER_FDNAME, QNUM);
	pass_fds(kinds, 1, name);
	assert_int_equal(sluice_handover_collect(&h), 1);
	assert_null(sluice_handover_open_queue(&h, QNUM, 0, 0, err,
					       sizeof(err)));
	assert_non_null(strstr(err, "not a netfilter netlink socket"));
	assert_false(fd_open(3));
	sluice_handover_done(&h);
}

static void test_nothing_passed_nothing_collected(void **state)
{
	struct sluice_handover h;

	(void)state;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	assert_int_equal(sluice_handover_collect(&h), 0);
	assert_int_equal(h.n_others, 0);
}

static void test_handover_needs_systemd_and_room(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("FDSTORE");
	assert_false(sluice_handover_possible(1));
	/* Without systemd nobody takes the sockets. */
	assert_true(sluice_handover_store((const int[]){ 0 },
					  (const uint16_t[]){ 0 }, 1) < 0);

	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	assert_true(sluice_handover_possible(4));	/* systemd 252 */
	setenv("FDSTORE", "2", 1);			/* systemd >= 254 */
	assert_false(sluice_handover_possible(4));
	assert_true(sluice_handover_possible(2));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("FDSTORE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_takes_queue_sockets_by_name),
		cmocka_unit_test(test_adopt_refuses_a_socket_not_of_netfilter),
		cmocka_unit_test(test_nothing_passed_nothing_collected),
		cmocka_unit_test(test_handover_needs_systemd_and_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
