/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Naming a UDP flow from its QUIC Initials, however many datagrams its
 * ClientHello takes: pending.h's design, for QUIC.
 *
 * While the policy has domain rules, a UDP flow's first datagram is read
 * as a client Initial (quic.h). When its ClientHello is whole, the flow
 * is judged by its name. When bytes of the hello are still missing (a
 * post-quantum hello spans two Initials), the CRYPTO bytes are kept in a
 * bounded table, the datagram passes and the flow stays unvetted, so the
 * module queues its next datagram; the client's next Initials of the same
 * flow (5-tuple) and connection (DCID) are joined by CRYPTO offset, in any
 * order, sent again or overlapping, coalesced or not, until the hello is
 * whole. What passes meanwhile is part of a ClientHello, with which no
 * server can finish a handshake.
 *
 * While a flow waits, anything else it sends is "unreadable" (a name could
 * hide in what we cannot read, and real clients never do this), and the
 * caller refuses it while names are filtered, unless the rules on
 * addresses decide the flow whatever its name:
 *  - a datagram that is not an Initial of the same connection (another
 *    DCID, a 0-RTT or Handshake packet, anything not QUIC), or one whose
 *    frames cannot be read as its server would (quic.h);
 *  - a hello not whole within SLUICE_QUIC_DATAGRAMS datagrams, or longer
 *    than SLUICE_QUIC_BYTES;
 *  - a flow that stops for SLUICE_QUIC_TTL_MS: its entry stays until a
 *    new flow needs the slot, and its next datagram, or a reply, is
 *    unreadable.
 * The server's datagrams are dropped while the flow waits (an ACK of the
 * first Initial must not end the wait: the client sends it again).
 *
 * The table never drops an entry that is still waiting; when every slot
 * waits, a new cut hello is dropped (SLUICE_NAMING_HOLD) and comes back
 * with its retransmission. Memory is allocated once, at init.
 *
 * Threads: one table is shared by the verdict threads under its own
 * lock, held to read one datagram (decrypt at most one UDP payload).
 */
#ifndef SLUICE_QUIC_JOIN_H
#define SLUICE_QUIC_JOIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pending.h"
#include "agent/quic.h"

#define SLUICE_QUIC_SLOTS	256
#define SLUICE_QUIC_DATAGRAMS	16	/* datagrams read per waiting flow */
#define SLUICE_QUIC_TTL_MS	10000

struct sluice_quic_slot {		/* scanned on every lookup: small */
	uint64_t born_ms;		/* 0: free */
	struct sluice_flow_key key;
	uint8_t datagrams;		/* read for this flow */
};

struct sluice_quic_join {
	pthread_mutex_t lock;		/* guards everything below */
	struct sluice_quic_slot slot[SLUICE_QUIC_SLOTS];
	struct sluice_quic_hello *hello;	/* one per slot */
};

/* 0, or -1 when the memory cannot be had. */
int sluice_quic_join_init(struct sluice_quic_join *t);
void sluice_quic_join_free(struct sluice_quic_join *t);

/*
 * The flow's name from the UDP payload @pl (@len bytes; @cut: the copy
 * ends before the datagram does) that the client of flow @f sent, joined
 * to what the table kept for it. Returns SLUICE_NAMING_* (pending.h):
 * NAMED puts the name, normalized, in @name; NO_NAME for a first datagram
 * that is no Initial we can read (judged by address, as any UDP flow).
 */
int sluice_quic_join_feed(struct sluice_quic_join *t, const struct sluice_flow *f,
			  const uint8_t *pl, size_t len, int cut,
			  uint64_t now_ms, char *name, size_t namelen);

/*
 * The server of flow @f sent a datagram before the flow was decided:
 * SLUICE_NAMING_HOLD while its hello waits (drop the datagram), else
 * UNREADABLE (the flow passed a datagram we never named).
 */
int sluice_quic_join_reply(struct sluice_quic_join *t, const struct sluice_flow *f,
			   uint64_t now_ms);

#endif
