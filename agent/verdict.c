// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/dns.h"
#include "agent/packet.h"
#include "agent/pending.h"
#include "agent/quic_join.h"
#include "agent/sni.h"
#include "agent/verdict.h"

/* Entries of the name cache: about 4.6 MiB. */
#define NAMECACHE_SLOTS	8192
/* Queries waiting for their answer: about 300 KiB. */
#define QUERIES_SLOTS	1024

int sluice_verdict_init(struct sluice_verdict_ctx *v,
			struct sluice_policy_loader *loader,
			struct sluice_log *log, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->loader = loader;
	v->log = log;
	pthread_mutex_init(&v->names_lock, NULL);
	if (sluice_namecache_init(&v->names, NAMECACHE_SLOTS) < 0 ||
	    sluice_queries_init(&v->queries, QUERIES_SLOTS) < 0) {
		snprintf(err, errlen, "out of memory for the DNS name cache");
		goto fail_tables;
	}
	if (sluice_pending_init(&v->pending) < 0) {
		snprintf(err, errlen, "out of memory for the table of cut TLS hellos");
		goto fail_tables;
	}
	if (sluice_quic_join_init(&v->quic) < 0) {
		snprintf(err, errlen, "out of memory for the table of cut QUIC hellos");
		goto fail_pending;
	}
	if (sluice_inject_open(&v->inject, err, errlen) < 0)
		goto fail_quic;
	return 0;

fail_quic:
	sluice_quic_join_free(&v->quic);
fail_pending:
	sluice_pending_free(&v->pending);
fail_tables:
	sluice_queries_free(&v->queries);
	sluice_namecache_free(&v->names);
	pthread_mutex_destroy(&v->names_lock);
	return -1;
}

void sluice_verdict_free(struct sluice_verdict_ctx *v)
{
	sluice_inject_close(&v->inject);
	sluice_quic_join_free(&v->quic);
	sluice_pending_free(&v->pending);
	sluice_queries_free(&v->queries);
	sluice_namecache_free(&v->names);
	pthread_mutex_destroy(&v->names_lock);
}

void sluice_verdict_set_trusted(struct sluice_verdict_ctx *v,
				const struct sluice_trusted *tr)
{
	pthread_mutex_lock(&v->names_lock);
	v->trusted = *tr;
	pthread_mutex_unlock(&v->names_lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The one place a flow's decision is logged and counted. */
static void record(struct sluice_verdict_ctx *v, const struct sluice_flow *f,
		   struct sluice_decision d)
{
	if (v->log)
		sluice_log_push(v->log, f, &d);
	if (d.allow)
		atomic_fetch_add(&v->allowed, 1);
	else
		atomic_fetch_add(&v->denied, 1);
}

static struct sluice_decision judge(struct sluice_verdict_ctx *v,
				    const struct sluice_policy *pol,
				    struct sluice_flow *f)
{
	struct sluice_decision d = sluice_policy_match(pol, f);

	record(v, f, d);
	return d;
}

/* The transport payload of the queued packet, or NULL when it has none. */
static const uint8_t *payload_of(const struct sluice_packet *p, size_t *len)
{
	long off = sluice_packet_payload(p->data, p->len);

	if (off < 0 || (size_t)off >= p->len)
		return NULL;
	*len = p->len - (size_t)off;
	return p->data + off;
}

/* The DNS message in a payload: UDP as is, TCP after its length prefix. */
static const uint8_t *dns_message(const struct sluice_packet *p,
				  const uint8_t *pl, size_t plen, size_t *mlen)
{
	const uint8_t *msg;

	if (p->flow.proto == IPPROTO_UDP) {
		*mlen = plen;
		return pl;
	}
	if (sluice_dns_tcp_message(pl, plen, &msg, mlen) != 0)
		return NULL;
	return msg;
}

static void sinkhole_query(struct sluice_verdict_ctx *v,
			   const struct sluice_packet *p,
			   const uint8_t *msg, size_t mlen)
{
	uint8_t out[SLUICE_DNS_NAME_WIRE_MAX + 64];
	ssize_t n;

	atomic_fetch_add(&v->sinkholed, 1);
	if (p->flow.proto == IPPROTO_TCP) {
		/* The stream is refused at once; nothing else reaches it. */
		sluice_inject_tcp_reset(&v->inject, p->data, p->len);
		return;
	}
	n = sluice_dns_build_sinkhole(msg, mlen,
				      atomic_load(&v->sinkhole_null) ?
				      SLUICE_DNS_SINKHOLE_NULL :
				      SLUICE_DNS_SINKHOLE_NXDOMAIN,
				      out, sizeof(out));
	if (n > 0)
		sluice_inject_udp(&v->inject, p->data, p->len, out, (size_t)n, 1);
}

/* The DNS exchange of a flow (a query's or its answer's: same tuple). */
static void dns_tuple(const struct sluice_flow *f, struct sluice_dns_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = (uint8_t)f->family;
	t->proto = f->proto;
	t->client_port = f->sport;
	t->server_port = f->dport;
	memcpy(t->client, f->src, sizeof(t->client));
	memcpy(t->server, f->dst, sizeof(t->server));
}

/*
 * A query on its way out: the name is judged before it leaves. One that
 * leaves is remembered, so that its answer, and only its answer, may
 * teach the name cache.
 */
static int dns_query(struct sluice_verdict_ctx *v,
		     const struct sluice_policy *pol, struct sluice_packet *p,
		     const uint8_t *msg, size_t mlen)
{
	struct sluice_dns_query q;
	struct sluice_decision d;
	int rc = sluice_dns_parse_query(msg, mlen, &q);

	p->flow.domain = rc == 0 ? q.qname : NULL;
	d = judge(v, pol, &p->flow);
	p->flow.domain = NULL;
	if (d.allow && rc == 0) {
		struct sluice_dns_tuple t;

		dns_tuple(&p->flow, &t);
		pthread_mutex_lock(&v->names_lock);
		sluice_queries_add(&v->queries, &t, q.id, q.qtype, q.qclass,
				   q.qname, now_ms());
		pthread_mutex_unlock(&v->names_lock);
	}
	if (d.allow || rc == -1)
		return d.allow ? SLUICE_Q_PASS : SLUICE_Q_DROP;
	sinkhole_query(v, p, msg, mlen);
	return SLUICE_Q_DROP;
}

/*
 * An answer on its way to the client: every name of its chain is judged
 * (a CNAME may lead to a denied name), whoever sent it; a denied chain is
 * replaced by the sinkhole. An allowed one teaches the cache its
 * addresses when it answers a query seen leaving, from a trusted
 * resolver (nametrust.h), within its source's share (namecache.h).
 */
static int dns_answer(struct sluice_verdict_ctx *v,
		      const struct sluice_policy *pol, struct sluice_packet *p,
		      const uint8_t *msg, size_t mlen)
{
	static _Thread_local struct sluice_dns_answer a;	/* 5 KiB */
	uint8_t out[SLUICE_DNS_NAME_WIRE_MAX + 64];
	struct sluice_dns_tuple t;
	uint64_t now = now_ms();
	unsigned int i, source;
	ssize_t n;

	/*
	 * An answer we cannot read may still be read by the client (glibc
	 * accepts more than we do): while names are filtered, it could carry
	 * a denied name past us, so it does not get through.
	 */
	if (sluice_dns_parse_answer(msg, mlen, &a) != 0)
		return sluice_policy_domain_count(pol) ? SLUICE_Q_DROP :
							 SLUICE_Q_PASS;
	for (i = 0; i < a.n_names; i++) {
		struct sluice_decision d;

		p->flow.domain = a.names[i];
		d = sluice_policy_match(pol, &p->flow);
		p->flow.domain = NULL;
		if (d.allow)
			continue;
		atomic_fetch_add(&v->sinkholed, 1);
		if (p->flow.proto == IPPROTO_TCP)
			return SLUICE_Q_DENY;
		n = sluice_dns_build_sinkhole_reply(msg, mlen,
				atomic_load(&v->sinkhole_null) ?
				SLUICE_DNS_SINKHOLE_NULL :
				SLUICE_DNS_SINKHOLE_NXDOMAIN, out, sizeof(out));
		if (n > 0)
			sluice_inject_udp(&v->inject, p->data, p->len, out,
					  (size_t)n, 0);
		return SLUICE_Q_DROP;
	}
	dns_tuple(&p->flow, &t);
	source = sluice_namecache_source(t.family, t.server, t.client);
	pthread_mutex_lock(&v->names_lock);
	if (sluice_queries_take(&v->queries, &t, a.id, a.qtype, a.qclass,
				a.names[0], now) &&
	    sluice_trusted_allows(&v->trusted, t.family, t.server))
		for (i = 0; i < a.n_addrs; i++)
			sluice_namecache_put(&v->names, a.addrs[i].family,
					     a.addrs[i].addr, a.names[0],
					     a.names[a.addrs[i].name],
					     a.addrs[i].ttl, source, now);
	pthread_mutex_unlock(&v->names_lock);
	return SLUICE_Q_PASS;
}

static int is_dns(const struct sluice_flow *f)
{
	return f->dport == 53 &&
	       (f->proto == IPPROTO_UDP || f->proto == IPPROTO_TCP);
}

/*
 * Is this flow named from its first payload? Any TCP or UDP flow, on any
 * port, while names are filtered: its bytes say what it is (a TLS hello
 * or HTTP request, pending.h; QUIC Initials, quic_join.h).
 */
static int wants_name(struct sluice_verdict_ctx *v,
		      const struct sluice_policy *pol,
		      const struct sluice_flow *f)
{
	return (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) &&
	       (sluice_policy_domain_count(pol) > 0 ||
		atomic_load(&v->block_doh));
}

/* tcp_name(): judge the flow now, with the name in @name if there is one. */
#define JUDGE		(-1)
/* tcp_name(): a hello we cannot finish reading (pending.h). */
#define UNREADABLE	(-2)

/*
 * The TCP naming path: JUDGE or UNREADABLE, or the verdict that lets the
 * flow wait. A payload-less packet (the SYN) waits unless the rules on
 * its addresses and ports deny it whatever its name could be; a payload
 * from the client is read for a name, joined to what an earlier segment
 * left; a payload from the server first (SSH, SMTP) ends the wait.
 */
static int tcp_name(struct sluice_verdict_ctx *v, const struct sluice_policy *pol,
		    struct sluice_packet *p, char *name, size_t namelen)
{
	const uint8_t *pl;
	size_t plen = 0;
	uint32_t seq;
	uint8_t flags;
	int naming;

	name[0] = '\0';
	pl = payload_of(p, &plen);
	if (!pl) {
		struct sluice_decision d = sluice_policy_match(pol, &p->flow);

		/*
		 * Only a name can change the answer: who sent it is known
		 * now. A deny stands whatever the name unless some entry
		 * allows by name: the SYN of a denied flow waiting would let
		 * its handshake reach the server.
		 */
		return d.allow || ((d.unknown & SLUICE_UNKNOWN_DOMAIN) &&
				   sluice_policy_names_can_allow(pol)) ?
		       SLUICE_Q_PENDING : JUDGE;
	}
	if (p->reply)
		naming = sluice_pending_reply(&v->pending, &p->flow, now_ms(),
					      name, namelen);
	else if (sluice_packet_tcp(p->data, p->len, &seq, &flags) < 0)
		naming = SLUICE_NAMING_NO_NAME;
	else
		naming = sluice_pending_feed(&v->pending, &p->flow, seq, pl, plen,
					     p->cut, now_ms(), name, namelen);
	switch (naming) {
	case SLUICE_NAMING_NAMED:
		atomic_fetch_add(&v->named, 1);
		return JUDGE;
	case SLUICE_NAMING_WAIT:
		return SLUICE_Q_PENDING;
	case SLUICE_NAMING_HOLD:
		return SLUICE_Q_DROP;
	case SLUICE_NAMING_UNREADABLE:
		return UNREADABLE;
	default:
		name[0] = '\0';
		return JUDGE;
	}
}

/*
 * The UDP naming path, for QUIC (quic_join.h): JUDGE (with the name of
 * the client's Initials in @name, or none), UNREADABLE, or the verdict
 * that lets the flow wait for the rest of its ClientHello (PENDING: the
 * datagram passes, the flow stays unvetted and its next datagram comes
 * here) or drops a server's datagram meanwhile. A hello whose name the
 * rules on addresses cannot make matter is not waited for.
 */
static int udp_name(struct sluice_verdict_ctx *v, const struct sluice_policy *pol,
		    struct sluice_packet *p, char *name, size_t namelen)
{
	struct sluice_decision d;
	const uint8_t *pl;
	size_t plen = 0;
	int naming;

	name[0] = '\0';
	if (p->reply) {
		naming = sluice_quic_join_reply(&v->quic, &p->flow, now_ms());
	} else {
		pl = payload_of(p, &plen);
		if (!pl)
			return JUDGE;
		naming = sluice_quic_join_feed(&v->quic, &p->flow, pl, plen, p->cut,
					       now_ms(), name, namelen);
	}
	switch (naming) {
	case SLUICE_NAMING_NAMED:
		atomic_fetch_add(&v->named, 1);
		return JUDGE;
	case SLUICE_NAMING_WAIT:
		d = sluice_policy_match(pol, &p->flow);
		return d.allow || (d.unknown & SLUICE_UNKNOWN_DOMAIN) ?
		       SLUICE_Q_PENDING : JUDGE;
	case SLUICE_NAMING_HOLD:
		return SLUICE_Q_DROP;
	case SLUICE_NAMING_UNREADABLE:
		return UNREADABLE;
	default:		/* not QUIC, no name, a bad name */
		name[0] = '\0';
		return JUDGE;
	}
}

/*
 * A name may hide in a hello we could not finish reading: unless the
 * rules decide the flow whatever its name (no domain rule could have
 * matched before the deciding one, and block_doh cannot name it a DoH
 * server), it is denied.
 */
static int unreadable(struct sluice_verdict_ctx *v, const struct sluice_policy *pol,
		      struct sluice_flow *f)
{
	struct sluice_decision d = sluice_policy_match(pol, f);

	if ((d.unknown & SLUICE_UNKNOWN_DOMAIN) ||
	    (d.allow && atomic_load(&v->block_doh)))
		d = (struct sluice_decision){ .allow = 0, .rule_id = 0 };
	record(v, f, d);
	return d.allow ? SLUICE_Q_ALLOW : SLUICE_Q_DENY;
}

/*
 * Public DNS-over-HTTPS endpoints that browsers and systems use by
 * default; denied by name with settings.block_doh so that clients fall
 * back to DNS on the wire.
 */
static const char *const doh_servers[] = {
	"dns.google", "dns.google.com", "cloudflare-dns.com",
	"mozilla.cloudflare-dns.com", "one.one.one.one", "1dot1dot1dot1.cloudflare-dns.com",
	"dns.quad9.net", "dns9.quad9.net", "dns10.quad9.net", "dns11.quad9.net",
	"doh.opendns.com", "doh.familyshield.opendns.com", "dns.nextdns.io",
	"doh.cleanbrowsing.org", "dns.adguard.com", "dns.adguard-dns.com",
	"chrome.cloudflare-dns.com", "doh.dns.sb", "dns.mullvad.net",
};

int sluice_is_doh_server(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(doh_servers) / sizeof(doh_servers[0]); i++)
		if (!strcmp(name, doh_servers[i]))
			return 1;
	return 0;
}

/*
 * A flow that would hide DNS from us, when the settings say so: DoH is
 * known by the flow's own name (SNI, Host) or by any name its address was
 * resolved from (@qname, @owner: NULL when unknown), so that a client
 * that sends no SNI, or another one, is refused too.
 */
static int hides_dns(struct sluice_verdict_ctx *v, const struct sluice_flow *f,
		     const char *qname, const char *owner)
{
	if (atomic_load(&v->block_dot) && f->dport == 853 &&
	    (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP))
		return 1;
	return atomic_load(&v->block_doh) &&
	       (sluice_is_doh_server(f->domain) ||
		sluice_is_doh_server(qname) || sluice_is_doh_server(owner));
}

static int decided(struct sluice_decision d)
{
	return d.allow ? SLUICE_Q_ALLOW : SLUICE_Q_DENY;
}

int sluice_verdict_decide(void *ctx, struct sluice_packet *p)
{
	struct sluice_verdict_ctx *v = ctx;
	const struct sluice_policy *pol = sluice_policy_loader_current(v->loader);
	const struct sluice_namecache_entry *e;
	struct sluice_flow *f = &p->flow;
	char name[SLUICE_DNS_NAME_BUF];
	char qname[SLUICE_NAMECACHE_NAME], owner[SLUICE_NAMECACHE_NAME];
	int known = 0;
	struct sluice_decision d;
	const uint8_t *pl, *msg;
	size_t plen = 0, mlen;
	int rc;

	atomic_fetch_add(&v->answered, 1);
	if (!pol)
		return SLUICE_Q_PASS;

	/*
	 * The copy ends inside the IPv6 header chain or before the ports:
	 * conntrack read further and keeps the verdict in the flow it found
	 * there, which no rule here can be known to allow.
	 */
	if (p->unknown_flow) {
		d = (struct sluice_decision){ .allow = 0, .rule_id = 0 };
		record(v, f, d);
		return SLUICE_Q_DENY;
	}

	if (is_dns(f)) {
		pl = payload_of(p, &plen);
		msg = pl ? dns_message(p, pl, plen, &mlen) : NULL;
		if (!msg)
			return SLUICE_Q_PASS;	/* handshake, or more to come */
		return p->reply ? dns_answer(v, pol, p, msg, mlen) :
				  dns_query(v, pol, p, msg, mlen);
	}

	/*
	 * The flow's own name (TLS SNI, HTTP Host) is the most precise one:
	 * on any TCP port, wait for it while domain rules exist. Whatever
	 * names the address was resolved from must allow the flow too.
	 */
	if (wants_name(v, pol, f)) {
		rc = f->proto == IPPROTO_TCP ? tcp_name(v, pol, p, name, sizeof(name)) :
					       udp_name(v, pol, p, name, sizeof(name));
		if (rc == UNREADABLE)
			return unreadable(v, pol, f);
		if (rc != JUDGE)
			return rc;
		if (name[0])
			f->domain = name;
	}
	pthread_mutex_lock(&v->names_lock);
	e = sluice_namecache_get(&v->names, f->family, f->dst, now_ms());
	if (e) {
		memcpy(qname, e->qname, sizeof(qname));
		memcpy(owner, e->owner, sizeof(owner));
		known = 1;
	}
	pthread_mutex_unlock(&v->names_lock);
	if (hides_dns(v, f, known ? qname : NULL, known ? owner : NULL)) {
		d = (struct sluice_decision){ .allow = 0, .rule_id = 0 };
		if (!f->domain && known)	/* logged under the name that gave it away */
			f->domain = sluice_is_doh_server(qname) ? qname : owner;
		record(v, f, d);
		f->domain = NULL;
		return SLUICE_Q_DENY;
	}
	if (known) {
		/* Every name must allow it; the first that denies decides. */
		const char *names[3] = { f->domain, qname, owner };
		int i;

		if (!f->domain)
			atomic_fetch_add(&v->named, 1);
		for (i = 0; i < 3; i++) {
			if (!names[i] || (i == 2 && !strcmp(owner, qname)))
				continue;
			f->domain = names[i];
			d = sluice_policy_match(pol, f);
			if (!d.allow)
				break;
		}
		if (d.allow)	/* logged under the name the flow is known by */
			f->domain = names[0] ? names[0] : qname;
		record(v, f, d);
		f->domain = NULL;
		return decided(d);
	}
	d = judge(v, pol, f);
	f->domain = NULL;
	return decided(d);
}
