/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Revocation: after a new policy is swapped in, the flows that already
 * have a verdict in their conntrack mark are judged again, and the mark of
 * each one whose verdict changes is rewritten through ctnetlink. Unvetted
 * flows (admitted while failing open, or waiting for their first payload
 * to be named) are only ever denied here: an allow waits for the agent to
 * judge their next payload with the names only the packet shows. The module's fast path
 * then drops the packets of a flow now marked DENY, which is how a new
 * deny rule cuts a connection that is already open.
 *
 * Conntrack knows a flow's addresses, protocol and ports, but not the uid,
 * program, unit or domain that the queue engine saw at its first packet: a
 * flow is judged again with those unknown (uid -1, exe, unit and domain
 * NULL), and its direction is worked out from the host's own addresses. So
 * a rule on uid, exe, unit or domain never matches here: a flow that such a rule allowed
 * (or denied) is flipped when the rules on addresses, ports and protocol
 * alone answer otherwise. Telling those decisions apart needs the policy
 * to say when a rule was skipped only for an unknown field.
 *
 * The pure parts (tuple to flow, local address classification, the
 * stored-verdict-versus-decision table) are separate functions so that
 * they can be tested without a kernel.
 */
#ifndef SLUICE_REVOKE_H
#define SLUICE_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "agent/policy.h"
#include "uapi/sluice.h"

struct sluice_revoke_stats {
	uint64_t examined;		/* entries carrying a sluice verdict */
	uint64_t flipped_to_deny;	/* marks rewritten to DENY */
	uint64_t flipped_to_allow;	/* marks rewritten to ALLOW */
	uint64_t vetted;		/* of those flips, entries that were UNVETTED */
	uint64_t gone;			/* ended between the dump and the update */
	uint64_t failed;		/* updates the kernel refused */
};

/*
 * Judge again every conntrack entry of the current network namespace that
 * carries a sluice verdict under @mark_mask, against @p, and rewrite the
 * mark (only @mark_mask's bits) where the verdict changes. Entries are
 * read with one dump and rewritten on a second socket in batches while
 * the dump goes on, so memory stays bounded whatever the table's size.
 * @st (may be NULL) is zeroed, then counts. Returns 0; -1 with one
 * sentence in @err when the dump failed or an update was refused (the
 * other entries are still done).
 */
int sluice_revoke_apply(const struct sluice_policy *p, uint32_t mark_mask,
			struct sluice_revoke_stats *st, char *err, size_t errlen);

/* ---- the pure parts ---------------------------------------------- */

enum sluice_revoke_action {
	SLUICE_REVOKE_KEEP,		/* the mark stays as it is */
	SLUICE_REVOKE_SET_ALLOW,
	SLUICE_REVOKE_SET_DENY,
};

/*
 * What to do with an entry whose mark says @stored when the policy now
 * answers @allow. UNSET entries are not sluice's to judge (the module
 * queues their next packet); ALLOW and DENY flip when the answer differs;
 * UNVETTED always gets the answer.
 */
enum sluice_revoke_action sluice_revoke_action(enum sluice_flow_verdict stored, int allow);

/* The host's own addresses, from getifaddrs(). */
struct sluice_local_addr {
	uint8_t family;			/* AF_INET or AF_INET6 */
	bool broadcast;			/* an interface's broadcast address */
	uint8_t addr[16];		/* network byte order; v4 in the first 4 */
};

struct sluice_local_addrs {
	size_t n, cap;
	struct sluice_local_addr *a;
};

/* Fill @la from getifaddrs(). 0, or -1 with one sentence in @err. */
int sluice_local_addrs_load(struct sluice_local_addrs *la, char *err, size_t errlen);
/* Add one address (the load does this for each). 0, or -1 out of memory. */
int sluice_local_addrs_add(struct sluice_local_addrs *la, int family,
			   const uint8_t addr[16], bool broadcast);
void sluice_local_addrs_free(struct sluice_local_addrs *la);

/*
 * Is @addr one of this host's own addresses? Loopback (127.0.0.0/8, ::1)
 * always is. With @as_destination, packets to multicast, to the limited
 * broadcast and to an interface's broadcast address are for this host too.
 */
bool sluice_local_addrs_contains(const struct sluice_local_addrs *la, int family,
				 const uint8_t addr[16], bool as_destination);

/*
 * Direction of a flow from its original tuple: from a local address
 * (loopback to loopback included) SLUICE_DIR_OUT, to a local address
 * SLUICE_DIR_IN, neither SLUICE_DIR_FORWARD.
 */
uint8_t sluice_revoke_direction(const struct sluice_local_addrs *la, int family,
				const uint8_t src[16], const uint8_t dst[16]);

/*
 * Fill family, proto, src, dst, sport, dport of @f from a CTA_TUPLE_ORIG
 * (or CTA_TUPLE_REPLY) nest; uid -1, exe, unit and domain NULL,
 * direction 0.
 * Ports stay 0 for protocols without them. Returns 0, or -1 when the
 * tuple lacks addresses or a protocol number.
 */
int sluice_revoke_tuple_to_flow(const struct nlattr *tuple, struct sluice_flow *f);

#endif /* SLUICE_REVOKE_H */
