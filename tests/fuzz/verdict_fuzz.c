// SPDX-License-Identifier: GPL-2.0
/*
 * The whole verdict path: raw packets through sluice_verdict_decide(),
 * as the queue engine hands them over, against a policy with domain
 * rules, with the name cache and the table of queries awaiting answers live between
 * the packets of one input. Injection (sinkhole answers, resets) is
 * stubbed: the stubs only check what they are given.
 *
 * An input is up to MAX_PACKETS records:
 *   flags (1 byte)   bit 0: a reply (against its flow), as conntrack says
 *                    bit 1: block_doh, bit 2: block_dot,
 *                    bit 3: sinkhole 'null', bit 4: trusted_resolvers set
 *                    to the packet's server; bits 5-6: the hook
 *   length (2 bytes, big-endian), then that many bytes from the IP header on.
 * The tables are emptied before every input, so that a crash reproduces
 * from its input alone.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/netfilter.h>

#include "agent/decision_log.h"
#include "agent/inject.h"
#include "agent/packet.h"
#include "agent/verdict.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_PACKETS	8

static const char policy_sql[] =
	"INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked.test');"
	"INSERT INTO rules(action, domain) VALUES ('deny', 'evil.test');"
	"INSERT INTO rules(action, domain, proto) VALUES ('allow', 'ok.test', 'tcp');"
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '8080');";

/* --- stubs: nothing leaves the process ---------------------------------- */

int sluice_inject_open(struct sluice_inject *ij, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	ij->fd4 = ij->fd6 = -1;
	return 0;
}

void sluice_inject_close(struct sluice_inject *ij)
{
	(void)ij;
}

int sluice_inject_udp(struct sluice_inject *ij, const uint8_t *pkt, size_t len,
		      const uint8_t *payload, size_t plen, int reply)
{
	FUZZ_CHECK(pkt && len >= 20 && payload && plen >= 12 && plen <= 65535);
	FUZZ_CHECK(reply == 0 || reply == 1);
	ij->sent++;
	return 0;
}

int sluice_inject_tcp_reset(struct sluice_inject *ij, const uint8_t *pkt,
			    size_t len)
{
	FUZZ_CHECK(pkt && len >= 20);
	ij->sent++;
	return 0;
}

int sluice_log_push(struct sluice_log *l, const struct sluice_flow *f,
		    const struct sluice_decision *d)
{
	(void)l;
	(void)f;
	(void)d;
	return 0;
}

/* --- set-up --------------------------------------------------------------- */

static struct sluice_policy_loader loader;
static struct sluice_verdict_ctx ctx;

static void setup(void)
{
	struct sluice_policy *pol;
	char err[256];

	pol = sluice_policy_compile_sql(policy_sql, err, sizeof(err));
	FUZZ_CHECK(pol != NULL);
	atomic_store(&loader.current, pol);
	FUZZ_CHECK(sluice_verdict_init(&ctx, &loader, NULL, err, sizeof(err)) == 0);
}

static const uint8_t hooks[4] = {
	NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT,
};
static const uint8_t directions[4] = {
	SLUICE_DIR_OUT, SLUICE_DIR_IN, SLUICE_DIR_FORWARD, SLUICE_DIR_OUT,
};

static void one_packet(uint8_t flags, const uint8_t *data, size_t len)
{
	uint8_t *pkt = fuzz_copy(data, len);
	struct sluice_packet p;
	struct sluice_trusted tr;
	int v;

	memset(&p, 0, sizeof(p));
	p.data = pkt;
	p.len = len;
	p.hook = hooks[(flags >> 5) & 3];
	p.reply = flags & 1;
	p.flow.uid = -1;
	v = sluice_packet_parse(pkt, len, &p.flow);
	if (v < 0) {
		free(pkt);
		return;
	}
	p.unknown_flow = v == SLUICE_PACKET_CUT;	/* as queue.c */
	p.flow.direction = directions[(flags >> 5) & 3];
	if (p.reply)
		sluice_flow_reverse(&p.flow, p.hook);

	atomic_store(&ctx.block_doh, !!(flags & 2));
	atomic_store(&ctx.block_dot, !!(flags & 4));
	atomic_store(&ctx.sinkhole_null, !!(flags & 8));
	memset(&tr, 0, sizeof(tr));
	if (flags & 16) {
		tr.set = 1;
		tr.n = 1;
		tr.server[0].family = (uint8_t)p.flow.family;
		memcpy(tr.server[0].addr, p.flow.dst, 16);
	}
	sluice_verdict_set_trusted(&ctx, &tr);

	v = sluice_verdict_decide(&ctx, &p);
	FUZZ_CHECK(v == SLUICE_Q_ALLOW || v == SLUICE_Q_DENY ||
		   v == SLUICE_Q_PASS || v == SLUICE_Q_DROP ||
		   v == SLUICE_Q_PENDING);
	/* The flow's name points into the verdict's stack: never left behind. */
	FUZZ_CHECK(p.flow.domain == NULL);
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t off = 0;
	int n;

	if (!loader.current)
		setup();
	memset(ctx.names.slots, 0, (ctx.names.mask + 1) * sizeof(*ctx.names.slots));
	memset(ctx.names.held, 0, sizeof(ctx.names.held));
	memset(ctx.queries.slots, 0,
	       (ctx.queries.mask + 1) * sizeof(*ctx.queries.slots));

	for (n = 0; n < MAX_PACKETS && len - off >= 3; n++) {
		uint8_t flags = data[off];
		size_t plen = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (plen > len - off)
			plen = len - off;
		one_packet(flags, data + off, plen);
		off += plen;
	}
	return 0;
}
