/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Naming a TCP flow from its first payload, on any port, however the
 * client cuts it.
 *
 * While the policy has domain rules, a new TCP flow is left unvetted on
 * its SYN (SLUICE_Q_PENDING): the module lets its handshake and bare ACKs
 * pass, and queues its first packet with payload. Those bytes are
 * recognised by what they are, not by the port: a TLS ClientHello gives
 * its SNI, else an HTTP/1 request its Host, else the flow has no name and
 * is judged by its address and the names learned from DNS, as is a flow
 * whose server speaks first (SSH, SMTP).
 *
 * A ClientHello often does not fit one segment (post-quantum key shares),
 * and a client may cut it on purpose to hide the name. When the bytes end
 * before the name, they are kept in a bounded table, the segment passes,
 * and the next segments are joined by their TCP sequence numbers (a
 * retransmission adds nothing twice; a segment after a gap is dropped, so
 * that its sender sends it again once the gap is filled) until the name
 * is read. A hello or request that cannot be finished within
 * SLUICE_PENDING_BYTES or SLUICE_PENDING_SEGMENTS, or a TLS hello the
 * server answers before it is whole, is "unreadable": a name could hide
 * in what we did not read, and real clients never do this, so the caller
 * denies it while names are filtered.
 *
 * The table never drops an entry that is still waiting: that flow's next
 * segment would be read without its start, i.e. without its name. When
 * every slot waits, a new cut hello is dropped (SLUICE_NAMING_HOLD) and
 * comes back with its retransmission. Entries expire after
 * SLUICE_PENDING_TTL_MS; memory is allocated once, at init.
 *
 * Threads: one table is shared by the verdict threads under its own lock,
 * held for one append and parse of at most SLUICE_PENDING_BYTES.
 */
#ifndef SLUICE_PENDING_H
#define SLUICE_PENDING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/flow.h"

#define SLUICE_PENDING_SLOTS	256
#define SLUICE_PENDING_BYTES	16384	/* a hello is one TLS record at most */
#define SLUICE_PENDING_SEGMENTS	8
#define SLUICE_PENDING_TTL_MS	10000

/* What the payload says: sluice_pending_feed(), _reply(), quic_join.h. */
#define SLUICE_NAMING_NAMED	 0	/* @name holds the flow's name */
#define SLUICE_NAMING_NO_NAME	 1	/* no name in it: judge by address */
#define SLUICE_NAMING_WAIT	 2	/* cut before the name: let it pass,
					 * keep the flow unvetted */
#define SLUICE_NAMING_HOLD	 3	/* cannot be kept now: drop it, the
					 * sender sends it again */
#define SLUICE_NAMING_UNREADABLE 4	/* a hello or request we cannot finish
					 * reading */

/* A flow's tuple, as the tables of flows waiting for their name keep it. */
struct sluice_flow_key {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t v6;
};

void sluice_flow_key_set(struct sluice_flow_key *k, const struct sluice_flow *f);
int sluice_flow_key_is(const struct sluice_flow_key *k, const struct sluice_flow *f);

struct sluice_pending_slot {		/* scanned on every lookup: small */
	uint64_t born_ms;		/* 0: free */
	struct sluice_flow_key key;
	uint8_t segments;		/* segments that added bytes */
	uint16_t len;			/* bytes kept */
	uint32_t seq;			/* sequence number of the first */
};

struct sluice_pending {
	pthread_mutex_t lock;		/* guards everything below */
	struct sluice_pending_slot slot[SLUICE_PENDING_SLOTS];
	uint8_t (*bytes)[SLUICE_PENDING_BYTES];	/* one row per slot */
};

/* 0, or -1 when the memory cannot be had. */
int sluice_pending_init(struct sluice_pending *t);
void sluice_pending_free(struct sluice_pending *t);

/*
 * The flow's name from the TCP payload @pl (@len bytes, of which the
 * first has sequence number @seq; @cut: the packet went on beyond them)
 * that the client of flow @f sent, joined to what the table kept for it.
 * Returns SLUICE_NAMING_*; NAMED puts the name, normalized, in @name.
 */
int sluice_pending_feed(struct sluice_pending *t, const struct sluice_flow *f,
			uint32_t seq, const uint8_t *pl, size_t len, int cut,
			uint64_t now_ms, char *name, size_t namelen);

/*
 * The server of flow @f sent payload before the flow was named: what the
 * bytes kept for it say, and the entry is forgotten. NO_NAME when nothing
 * was kept or no name can come; UNREADABLE for a cut ClientHello (a TLS
 * server does not speak before the hello is whole); NAMED for an HTTP
 * request cut after its Host.
 */
int sluice_pending_reply(struct sluice_pending *t, const struct sluice_flow *f,
			 uint64_t now_ms, char *name, size_t namelen);

/*
 * What the first payload bytes @d say by themselves: a TLS ClientHello's
 * SNI, else an HTTP/1 request's Host. A SLUICE_SNI_* result (sni.h).
 */
int sluice_payload_name(const uint8_t *d, size_t len, char *name, size_t namelen);

#endif
