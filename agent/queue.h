/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NFQUEUE engine: binds one queue, reads the packets the module hands
 * over, asks a callback for each one's verdict and answers them in one
 * batch, writing the flow's verdict into its conntrack mark so that every
 * later packet of the flow is decided in the kernel.
 *
 * The hot path (sluice_queue_run_once) allocates nothing: its buffers are
 * allocated once at open. A packet alone costs two system calls, one
 * recvmmsg() and one send, as few as any NFQUEUE loop needs.
 */
#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/flow.h"
#include "uapi/sluice.h"

struct sluice_queue;

/* One queued packet, as the decide callback sees it. */
struct sluice_packet {
	uint32_t id;
	uint8_t hook;			/* NF_INET_* */
	const uint8_t *data;		/* from the IP header on */
	size_t len;			/* bytes copied */
	struct sluice_flow flow;	/* parsed; direction and uid filled */
	uint32_t ct_mark;		/* the flow's conntrack mark */
	int has_ct;
	uint32_t ct_id;			/* CTA_ID: the key of the module's
					 * record of who the flow belongs to */
	int has_ct_id;
	int reply;			/* the packet goes against the flow:
					 * flow's src/dst are its dst/src */
	int cut;			/* the copy ends before the packet */
	int unknown_flow;		/* the copy ends before its ports
					 * (SLUICE_PACKET_CUT): flow unknown */
};

/*
 * What the callback answers. ALLOW and DENY decide the flow: the verdict
 * goes into its conntrack mark and later packets stay in the kernel (a
 * DENY is sent as NF_REPEAT, so that the module remembers a flow denied on
 * its first packet; see "Denied flows" in uapi/sluice.h).
 * PENDING lets the packet pass and writes UNVETTED: the flow waits for its
 * first payload to be named, and the module lets its payload-less segments
 * pass in the kernel meanwhile (see SLUICE_FLOW_UNVETTED in uapi/sluice.h).
 * PASS and DROP decide this packet only: the flow stays undecided and its
 * next packet comes to the agent again (DNS).
 */
enum sluice_queue_verdict {
	SLUICE_Q_ALLOW = SLUICE_FLOW_ALLOW,
	SLUICE_Q_DENY = SLUICE_FLOW_DENY,
	SLUICE_Q_PENDING = SLUICE_FLOW_UNVETTED,
	SLUICE_Q_PASS = 16,
	SLUICE_Q_DROP,
};

/* The callback returns an enum sluice_queue_verdict. */
typedef int (*sluice_decide_fn)(void *ctx, struct sluice_packet *p);

/*
 * Bind queue @num. @mark_mask is where the verdict goes in the conntrack
 * mark (0: leave the mark alone). NULL and one sentence in @err on error.
 */
struct sluice_queue *sluice_queue_open(uint16_t num, uint32_t mark_mask,
				       char *err, size_t errlen);
/*
 * Take over queue @num through @fd, a socket that another agent bound to
 * it and handed over (systemd's file descriptor store): no new BIND, the
 * queue instance already belongs to that socket; packets waiting in it
 * are read by the next sluice_queue_run_once(). @fail_open as for
 * sluice_queue_set_fail_open(). @fd is the queue's from then on (closed
 * with it, or at once on failure: NULL and one sentence in @err).
 */
struct sluice_queue *sluice_queue_adopt(int fd, uint16_t num,
					uint32_t mark_mask, int fail_open,
					char *err, size_t errlen);
void sluice_queue_close(struct sluice_queue *q);
int sluice_queue_fd(const struct sluice_queue *q);
void sluice_queue_set_mark_mask(struct sluice_queue *q, uint32_t mask);

/* The mask verdicts write; 0 when the kernel cannot store them. */
uint32_t sluice_queue_mark_mask(const struct sluice_queue *q);

/* The netlink port id of the queue's socket, for SLUICE_A_QUEUE_PORTIDS. */
uint32_t sluice_queue_portid(const struct sluice_queue *q);

/*
 * Is the queue's socket still the one it bound (not closed, not replaced
 * by another file under the same descriptor)?
 */
int sluice_queue_alive(const struct sluice_queue *q);

/*
 * Whether a full queue lets packets pass (NFQA_CFG_F_FAIL_OPEN): only in
 * fail_mode open; in closed mode a packet nobody judged never passes.
 * Takes effect at the next sluice_queue_run_once(), from the thread that
 * reads the queue. A new queue fails open until told otherwise.
 */
void sluice_queue_set_fail_open(struct sluice_queue *q, int fail_open);

/*
 * Wait up to @timeout_ms for packets (0: do not wait), decide every packet
 * already waiting (up to a batch) and send all verdicts at once. Returns
 * the number of packets answered (0 on timeout), or -1 with errno on a
 * socket error. From one thread at a time.
 */
int sluice_queue_run_once(struct sluice_queue *q, int timeout_ms,
			  sluice_decide_fn decide, void *ctx);

/*
 * What the queue's reading has cost so far: packets answered, receive
 * calls (recvmmsg, timeouts included) and verdict sends. Read by the
 * thread that runs the queue.
 */
struct sluice_queue_counts {
	uint64_t packets;
	uint64_t receives;
	uint64_t sends;
};

void sluice_queue_counts(const struct sluice_queue *q,
			 struct sluice_queue_counts *out);

#endif
