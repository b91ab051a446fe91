// SPDX-License-Identifier: GPL-2.0
/*
 * Handing the queues over between agents through systemd's file
 * descriptor store; the why is in handover.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent/handover.h"
#include "agent/queue.h"

/* The queue number in "sluice-queue-N", or -1. */
static int queue_of_name(const char *name)
{
	size_t plen = strlen(SLUICE_HANDOVER_FDNAME);
	char *end;
	long v;

	if (!name || strncmp(name, SLUICE_HANDOVER_FDNAME, plen) != 0)
		return -1;
	errno = 0;
	v = strtol(name + plen, &end, 10);
	if (errno || end == name + plen || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

int sluice_handover_collect(struct sluice_handover *h)
{
	char **names = NULL;
	int i, n;

	memset(h, 0, sizeof(*h));
	/*
	 * The environment stays: unsetenv() is not safe while other threads
	 * (the decision log's writer) may read it, and sluiced starts no
	 * program that could take LISTEN_FDS for its own.
	 */
	n = sd_listen_fds_with_names(0, &names);
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		int num = queue_of_name(names ? names[i] : NULL);

		if (num >= 0 && h->n < SLUICE_QUEUE_COUNT_MAX) {
			h->stored[h->n].fd = fd;
			h->stored[h->n].num = (uint16_t)num;
			h->n++;
		} else if (h->n_others < SLUICE_QUEUE_COUNT_MAX) {
			h->others[h->n_others++] = fd;
		} else {
			close(fd);
		}
	}
	if (names) {
		for (i = 0; names[i]; i++)
			free(names[i]);
		free(names);
	}
	return h->n;
}

struct sluice_queue *sluice_handover_open_queue(struct sluice_handover *h,
						uint16_t num,
						uint32_t mark_mask,
						int fail_open, char *err,
						size_t errlen)
{
	struct sluice_queue *q;
	int i, fd;

	for (i = 0; i < h->n; i++) {
		if (h->stored[i].fd < 0 || h->stored[i].num != num)
			continue;
		fd = h->stored[i].fd;
		h->stored[i].fd = -1;
		q = sluice_queue_adopt(fd, num, mark_mask, fail_open, err,
				       errlen);
		if (q) {
			h->adopted++;
			fprintf(stderr, "sluiced: queue %u taken over from the previous agent\n",
				num);
			return q;
		}
		/*
		 * Not usable: the queue is still bound to it (in systemd's
		 * copy), so a new bind would fail too. Say so.
		 */
		return NULL;
	}
	return sluice_queue_open(num, mark_mask, err, errlen);
}

void sluice_handover_done(struct sluice_handover *h)
{
	char msg[64];
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->stored[i].fd >= 0) {
			fprintf(stderr, "sluiced: queue %u is not served any more; its socket from the previous agent is closed\n",
				h->stored[i].num);
			close(h->stored[i].fd);
			h->stored[i].fd = -1;
		}
		snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s%u",
			 SLUICE_HANDOVER_FDNAME, h->stored[i].num);
		sd_notify(0, msg);
	}
	for (i = 0; i < h->n_others; i++)
		close(h->others[i]);
	h->n = 0;
	h->n_others = 0;
}

bool sluice_handover_possible(int n)
{
	const char *max = getenv("FDSTORE");
	const char *sock = getenv("NOTIFY_SOCKET");

	if (!sock || !*sock)
		return false;
	/* systemd 254 and later say how large the store is; 252 does not. */
	if (max && atoi(max) < n)
		return false;
	return true;
}

int sluice_handover_store(const int *fds, const uint16_t *nums, int n)
{
	char msg[96];
	int i, rc;

	for (i = 0; i < n; i++) {
		/*
		 * FDPOLL=0: systemd must keep the socket even if it turned
		 * readable or in error; the successor reads it.
		 */
		snprintf(msg, sizeof(msg), "FDSTORE=1\nFDPOLL=0\nFDNAME=%s%u",
			 SLUICE_HANDOVER_FDNAME, nums[i]);
		rc = sd_pid_notify_with_fds(0, 0, msg, &fds[i], 1);
		if (rc <= 0)
			return rc < 0 ? rc : -ENOTCONN;
	}
	/* Taken only once systemd read them: wait for that, briefly. */
	rc = sd_notify_barrier(0, 2 * 1000 * 1000);
	return rc < 0 ? rc : 0;
}
