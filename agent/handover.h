/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handing the queues over from one agent to the next, so that a restart or
 * an upgrade in fail-closed mode drops nothing and admits nothing unjudged.
 *
 * The old agent, on SIGTERM under systemd, tells the module that it hands
 * over (SLUICE_CMD_HANDOVER: keep queueing without heartbeats for a grace,
 * and its control socket may close), answers what it has read, leaves its
 * queue sockets in the service's file descriptor store (FDSTORE=1, named
 * "sluice-queue-N") and exits. New flows wait in those sockets meanwhile.
 * The new agent finds them in LISTEN_FDS, adopts them instead of binding
 * new ones, answers what waits there, registers (which ends the handover)
 * and asks systemd to forget them (FDSTOREREMOVE=1), so that its own exit
 * closes them again.
 *
 * `systemctl stop` empties the store once the unit is inactive: the queue
 * sockets close and the module fails over at once. A successor that never
 * comes lets the grace run out, and the module follows its fail mode.
 */
#ifndef SLUICE_HANDOVER_H
#define SLUICE_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/sluice.h"

/* How long the next agent may take to register: a restart under load. */
#define SLUICE_HANDOVER_GRACE_MS	SLUICE_HANDOVER_MS_DEFAULT

/* The name of queue N's socket in the store: "sluice-queue-N". */
#define SLUICE_HANDOVER_FDNAME		"sluice-queue-"

struct sluice_queue;

/* What the predecessor left in the store, as this agent found it. */
struct sluice_handover {
	int n;
	struct {
		int fd;			/* -1 once taken */
		uint16_t num;
	} stored[SLUICE_QUEUE_COUNT_MAX];
	int others[SLUICE_QUEUE_COUNT_MAX];	/* fds not ours, to close */
	int n_others;
	int adopted;
};

/*
 * Collect the queue sockets passed in LISTEN_FDS (the store), once, before
 * the queues are opened. Returns how many were found.
 */
int sluice_handover_collect(struct sluice_handover *h);

/*
 * Queue @num: the stored socket when there is one (adopted, no new bind),
 * else a new one. NULL and one sentence in @err on failure.
 */
struct sluice_queue *sluice_handover_open_queue(struct sluice_handover *h,
						uint16_t num,
						uint32_t mark_mask,
						int fail_open, char *err,
						size_t errlen);

/*
 * After registering: close stored sockets of queues this agent does not
 * serve, and have systemd forget every stored one (this agent holds the
 * adopted ones now).
 */
void sluice_handover_done(struct sluice_handover *h);

/*
 * Can an agent with @n queues hand over on stop? Only under systemd (a
 * notify socket) with a store large enough ($FDSTORE, when systemd says).
 */
bool sluice_handover_possible(int n);

/*
 * Put the @n queue sockets @fds (queues @nums) in systemd's store and wait
 * until systemd has taken them. 0, or a negative errno.
 */
int sluice_handover_store(const int *fds, const uint16_t *nums, int n);

#endif
