// SPDX-License-Identifier: GPL-2.0
/*
 * New flows, one after another, each one timed: the client and server of
 * the flow bench (tests/bench/flows.sh).
 *
 *   flowbench serve PORT        TCP accept-and-close, UDP echo, until killed
 *   flowbench tcp ADDR PORT N   N sequential connects (+ close with RST, so
 *                               that no TIME_WAIT holds the ports)
 *   flowbench udp ADDR PORT N FIRST
 *                               N datagrams, each from a new socket bound to
 *                               the next source port from FIRST (a new flow,
 *                               unknown to conntrack), echo awaited
 *
 * A client prints one line: "<proto> flows_per_s=F p50_us=A p99_us=B
 * failed=K n=N", the rate over all N (failures included), the latencies of
 * the flows that succeeded (connect() returning, or the echo arriving).
 * Prints figures; a failed flow is counted, never fatal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDP_WAIT_MS	1000

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int serve(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	struct pollfd p[2] = { { .fd = t, .events = POLLIN }, { .fd = u, .events = POLLIN } };

	if (t < 0 || u < 0 || setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(t, (struct sockaddr *)&sin, sizeof(sin)) || listen(t, 4096) ||
	    bind(u, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("flowbench serve");
		return 1;
	}
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & POLLIN) {
			int c = accept(t, NULL, NULL);

			if (c >= 0)
				close(c);
		}
		if (p[1].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			char b[64];
			ssize_t n = recvfrom(u, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);

			if (n > 0)
				sendto(u, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
}

/* One flow; its latency in *us, or -1 when it failed. */
static int one_flow(int udp, const struct sockaddr_in *to, int sport, double *us)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
	int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	struct pollfd p = { .fd = s, .events = POLLIN };
	double t0 = now_us();
	int ok = 0;
	char b = 'x';

	if (s < 0 || (udp && bind(s, (struct sockaddr *)&from, sizeof(from)))) {
		if (s >= 0)
			close(s);
		*us = now_us() - t0;
		return -1;
	}
	if (connect(s, (const struct sockaddr *)to, sizeof(*to)) == 0) {
		if (!udp)
			ok = 1;
		else if (send(s, &b, 1, 0) == 1 && poll(&p, 1, UDP_WAIT_MS) == 1 &&
			 recv(s, &b, 1, 0) == 1)
			ok = 1;
	}
	*us = now_us() - t0;
	close(s);
	return ok ? 0 : -1;
}

static int client(int udp, const char *addr, int port, int n, int first)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	double *lat = calloc((size_t)n, sizeof(*lat)), t0, wall;
	int i, good = 0, failed = 0, first_errno = 0;

	if (!lat || inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "flowbench: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	t0 = now_us();
	for (i = 0; i < n; i++) {
		double us;

		errno = 0;
		if (one_flow(udp, &to, (first + i) % 65536, &us) == 0) {
			lat[good++] = us;
		} else {
			if (!failed++)
				first_errno = errno;
		}
	}
	wall = now_us() - t0;
	qsort(lat, (size_t)good, sizeof(*lat), cmp_double);
	printf("%s flows_per_s=%.0f p50_us=%.0f p99_us=%.0f failed=%d n=%d\n",
	       udp ? "udp" : "tcp", n / (wall / 1e6),
	       good ? lat[good / 2] : -1.0, good ? lat[(size_t)(good * 0.99)] : -1.0,
	       failed, n);
	if (failed)
		fprintf(stderr, "flowbench: %s: %d of %d flows failed, the first with: %s\n",
			udp ? "udp" : "tcp", failed, n,
			first_errno ? strerror(first_errno) : "no echo in time");
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "tcp"))
		return client(0, argv[2], atoi(argv[3]), atoi(argv[4]), 0);
	if (argc == 6 && !strcmp(argv[1], "udp"))
		return client(1, argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: flowbench serve PORT | flowbench tcp ADDR PORT N |\n"
		"       flowbench udp ADDR PORT N FIRST_SOURCE_PORT\n");
	return 2;
}
