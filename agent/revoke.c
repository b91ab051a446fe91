// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation through ctnetlink; see revoke.h for the contract.
 *
 * Two sockets: one reads the conntrack table (IPCTNL_MSG_CT_GET with
 * NLM_F_DUMP, both families), the other rewrites marks (IPCTNL_MSG_CT_NEW
 * without NLM_F_CREATE: an update of an entry that exists, -ENOENT when it
 * ended meanwhile). Entries to rewrite are collected from the dump into a
 * fixed array; whenever it is full, and once at the end, they are sent on
 * the second socket as one multi-message datagram. The kernel handles
 * such a datagram inside sendmsg() and only answers the messages that
 * failed (no NLM_F_ACK), so after the send every answer is already
 * queued and is read without waiting.
 *
 * An update carries the entry's CTA_TUPLE_ORIG exactly as the dump gave it
 * (so ICMP ids, zones and the like need no rebuilding), CTA_ZONE when the
 * entry had one, and CTA_MARK with CTA_MARK_MASK: the kernel computes
 * (mark & ~mask) ^ value, so only sluice's two bits change.
 */
#include "agent/util.h"
#include "agent/revoke.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#define PENDING_MAX	256		/* updates per datagram */
#define TUPLE_MAX	256		/* raw CTA_TUPLE_ORIG + CTA_ZONE bytes */
#define DUMP_BUF	(64 * 1024)
#define UPDATE_MSG_MAX	(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + \
			 TUPLE_MAX + 2 * MNL_ATTR_HDRLEN + 2 * sizeof(uint32_t))
#define SEND_BUF	(PENDING_MAX * UPDATE_MSG_MAX)
#define ANSWER_BUF	(16 * 1024)

struct pending {
	struct sluice_flow flow;	/* for error messages */
	uint8_t family;
	uint8_t stored;			/* enum sluice_flow_verdict */
	uint8_t action;			/* enum sluice_revoke_action */
	int error;			/* kernel's answer, 0 = done */
	uint16_t len;
	uint8_t attrs[TUPLE_MAX];	/* CTA_TUPLE_ORIG, then CTA_ZONE */
};

struct revoke_ctx {
	const struct sluice_policy *policy;
	uint32_t mask;
	struct sluice_local_addrs local;
	struct sluice_revoke_stats st;
	struct mnl_socket *update;
	uint32_t seq;
	struct pending *pending;
	size_t npending;
	char *sbuf;
	char *abuf;
	char *err;			/* first failure, one sentence */
	size_t errlen;
	bool failed;
};


/* ------------------------------------------------------------------ */
/* The pure parts                                                      */
/* ------------------------------------------------------------------ */

enum sluice_revoke_action sluice_revoke_action(enum sluice_flow_verdict stored, int allow)
{
	switch (stored) {
	case SLUICE_FLOW_ALLOW:
		return allow ? SLUICE_REVOKE_KEEP : SLUICE_REVOKE_SET_DENY;
	case SLUICE_FLOW_DENY:
		return allow ? SLUICE_REVOKE_SET_ALLOW : SLUICE_REVOKE_KEEP;
	case SLUICE_FLOW_UNVETTED:
		/*
		 * Not judged yet: the agent judges it at its next payload,
		 * with the names only the packet shows (SNI, Host, DNS).
		 * Conntrack alone may only take it away.
		 */
		return allow ? SLUICE_REVOKE_KEEP : SLUICE_REVOKE_SET_DENY;
	case SLUICE_FLOW_UNSET:
	default:
		return SLUICE_REVOKE_KEEP;
	}
}

int sluice_local_addrs_add(struct sluice_local_addrs *la, int family,
			   const uint8_t addr[16], bool broadcast)
{
	struct sluice_local_addr *a;

	if (la->n == la->cap) {
		size_t cap = la->cap ? la->cap * 2 : 16;

		a = realloc(la->a, cap * sizeof(*a));
		if (!a)
			return -1;
		la->a = a;
		la->cap = cap;
	}
	a = &la->a[la->n++];
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->broadcast = broadcast;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	return 0;
}

void sluice_local_addrs_free(struct sluice_local_addrs *la)
{
	free(la->a);
	memset(la, 0, sizeof(*la));
}

int sluice_local_addrs_load(struct sluice_local_addrs *la, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	uint8_t addr[16];

	memset(la, 0, sizeof(*la));
	if (getifaddrs(&ifa) < 0) {
		sluice_seterr(err, errlen, "cannot list the host's addresses: %s", strerror(errno));
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		memset(addr, 0, sizeof(addr));
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			if (sluice_local_addrs_add(la, AF_INET, addr, false) < 0)
				goto err_alloc;
			if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr &&
			    i->ifa_broadaddr->sa_family == AF_INET) {
				memcpy(addr, &((struct sockaddr_in *)i->ifa_broadaddr)->sin_addr, 4);
				if (sluice_local_addrs_add(la, AF_INET, addr, true) < 0)
					goto err_alloc;
			}
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			if (sluice_local_addrs_add(la, AF_INET6, addr, false) < 0)
				goto err_alloc;
		}
	}
	freeifaddrs(ifa);
	return 0;

err_alloc:
	freeifaddrs(ifa);
	sluice_local_addrs_free(la);
	sluice_seterr(err, errlen, "out of memory listing the host's addresses");
	return -1;
}

bool sluice_local_addrs_contains(const struct sluice_local_addrs *la, int family,
				 const uint8_t addr[16], bool as_destination)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	size_t len = family == AF_INET ? 4 : 16, i;

	if (family == AF_INET) {
		if (addr[0] == 127)
			return true;
		if (as_destination && ((addr[0] & 0xf0) == 0xe0 ||
				       (addr[0] == 255 && addr[1] == 255 &&
					addr[2] == 255 && addr[3] == 255)))
			return true;	/* multicast, limited broadcast */
	} else if (family == AF_INET6) {
		if (!memcmp(addr, v6_loopback, 16))
			return true;
		if (as_destination && addr[0] == 0xff)
			return true;	/* multicast */
	} else {
		return false;
	}
	for (i = 0; la && i < la->n; i++) {
		const struct sluice_local_addr *a = &la->a[i];

		if (a->family == family && (!a->broadcast || as_destination) &&
		    !memcmp(a->addr, addr, len))
			return true;
	}
	return false;
}

uint8_t sluice_revoke_direction(const struct sluice_local_addrs *la, int family,
				const uint8_t src[16], const uint8_t dst[16])
{
	if (sluice_local_addrs_contains(la, family, src, false))
		return SLUICE_DIR_OUT;	/* loopback to loopback too */
	if (sluice_local_addrs_contains(la, family, dst, true))
		return SLUICE_DIR_IN;
	return SLUICE_DIR_FORWARD;
}

/*
 * Attributes are kept only when they have the type (and for binary ones
 * the length) the kernel gives them; any other is ignored, as if absent.
 */
struct attr_rule {
	enum mnl_attr_data_type type;	/* MNL_TYPE_UNSPEC: not wanted */
	size_t len;			/* for MNL_TYPE_BINARY */
};

struct attr_parse {
	const struct attr_rule *rules;
	int max;
	const struct nlattr **tb;
};

static const struct attr_rule tuple_rules[CTA_TUPLE_MAX + 1] = {
	[CTA_TUPLE_IP] = { MNL_TYPE_NESTED, 0 },
	[CTA_TUPLE_PROTO] = { MNL_TYPE_NESTED, 0 },
};

static const struct attr_rule ip_rules[CTA_IP_MAX + 1] = {
	[CTA_IP_V4_SRC] = { MNL_TYPE_U32, 0 },
	[CTA_IP_V4_DST] = { MNL_TYPE_U32, 0 },
	[CTA_IP_V6_SRC] = { MNL_TYPE_BINARY, 16 },
	[CTA_IP_V6_DST] = { MNL_TYPE_BINARY, 16 },
};

static const struct attr_rule proto_rules[CTA_PROTO_MAX + 1] = {
	[CTA_PROTO_NUM] = { MNL_TYPE_U8, 0 },
	[CTA_PROTO_SRC_PORT] = { MNL_TYPE_U16, 0 },
	[CTA_PROTO_DST_PORT] = { MNL_TYPE_U16, 0 },
};

static const struct attr_rule ct_rules[CTA_MAX + 1] = {
	[CTA_TUPLE_ORIG] = { MNL_TYPE_NESTED, 0 },
	[CTA_MARK] = { MNL_TYPE_U32, 0 },
	[CTA_ZONE] = { MNL_TYPE_U16, 0 },
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct attr_parse *ap = data;
	int type = mnl_attr_get_type(attr);
	const struct attr_rule *r;

	if (type > ap->max)
		return MNL_CB_OK;
	r = &ap->rules[type];
	if (r->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if ((r->type == MNL_TYPE_BINARY ? mnl_attr_validate2(attr, r->type, r->len)
					: mnl_attr_validate(attr, r->type)) < 0)
		return MNL_CB_OK;
	ap->tb[type] = attr;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *nest, const struct attr_rule *rules, int max,
			const struct nlattr **tb)
{
	struct attr_parse ap = { rules, max, tb };

	return mnl_attr_parse_nested(nest, attr_cb, &ap);
}

static bool proto_has_ports(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	default:
		return false;
	}
}

int sluice_revoke_tuple_to_flow(const struct nlattr *tuple, struct sluice_flow *f)
{
	const struct nlattr *t[CTA_TUPLE_MAX + 1] = { 0 };
	const struct nlattr *ip[CTA_IP_MAX + 1] = { 0 };
	const struct nlattr *pr[CTA_PROTO_MAX + 1] = { 0 };

	memset(f, 0, sizeof(*f));
	f->uid = -1;
	if (parse_nested(tuple, tuple_rules, CTA_TUPLE_MAX, t) < 0 ||
	    !t[CTA_TUPLE_IP] || !t[CTA_TUPLE_PROTO] ||
	    parse_nested(t[CTA_TUPLE_IP], ip_rules, CTA_IP_MAX, ip) < 0 ||
	    parse_nested(t[CTA_TUPLE_PROTO], proto_rules, CTA_PROTO_MAX, pr) < 0 ||
	    !pr[CTA_PROTO_NUM])
		return -1;

	if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST]) {
		f->family = AF_INET;
		memcpy(f->src, mnl_attr_get_payload(ip[CTA_IP_V4_SRC]), 4);
		memcpy(f->dst, mnl_attr_get_payload(ip[CTA_IP_V4_DST]), 4);
	} else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST]) {
		f->family = AF_INET6;
		memcpy(f->src, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
		memcpy(f->dst, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
	} else {
		return -1;
	}
	f->proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	if (proto_has_ports(f->proto)) {
		if (pr[CTA_PROTO_SRC_PORT])
			f->sport = ntohs(mnl_attr_get_u16(pr[CTA_PROTO_SRC_PORT]));
		if (pr[CTA_PROTO_DST_PORT])
			f->dport = ntohs(mnl_attr_get_u16(pr[CTA_PROTO_DST_PORT]));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rewriting marks                                                     */
/* ------------------------------------------------------------------ */

/* "tcp 10.0.0.1:1000 -> 10.0.0.2:443", for error messages. */
static void flow_text(const struct sluice_flow *f, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	bool v6 = f->family == AF_INET6;

	switch (f->proto) {
	case IPPROTO_TCP:
		snprintf(proto, sizeof(proto), "tcp");
		break;
	case IPPROTO_UDP:
		snprintf(proto, sizeof(proto), "udp");
		break;
	case IPPROTO_ICMP:
		snprintf(proto, sizeof(proto), "icmp");
		break;
	case IPPROTO_ICMPV6:
		snprintf(proto, sizeof(proto), "icmpv6");
		break;
	default:
		snprintf(proto, sizeof(proto), "protocol %u", f->proto);
		break;
	}
	inet_ntop(f->family, f->src, src, sizeof(src));
	inet_ntop(f->family, f->dst, dst, sizeof(dst));
	if (proto_has_ports(f->proto))
		snprintf(buf, len, v6 ? "%s [%s]:%u -> [%s]:%u" : "%s %s:%u -> %s:%u",
			 proto, src, f->sport, dst, f->dport);
	else
		snprintf(buf, len, "%s %s -> %s", proto, src, dst);
}

static void note_failure(struct revoke_ctx *c, const struct sluice_flow *f, int error)
{
	char text[128];

	if (c->failed)
		return;
	c->failed = true;
	flow_text(f, text, sizeof(text));
	sluice_seterr(c->err, c->errlen, "cannot rewrite the conntrack mark of %s: %s", text,
	       strerror(error));
}

static void put_update(struct revoke_ctx *c, char *at, const struct pending *p, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	struct nfgenmsg *nfg;
	enum sluice_flow_verdict v = p->action == SLUICE_REVOKE_SET_DENY ?
				     SLUICE_FLOW_DENY : SLUICE_FLOW_ALLOW;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST;	/* errors only are answered */
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = p->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	memcpy(mnl_nlmsg_get_payload_tail(nlh), p->attrs, p->len);
	nlh->nlmsg_len += MNL_ALIGN(p->len);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(sluice_mark_encode(c->mask, v)));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(c->mask));
}

/* Read the answers already queued for the updates just sent. */
static void read_answers(struct revoke_ctx *c, uint32_t first_seq)
{
	int fd = mnl_socket_get_fd(c->update);

	for (;;) {
		ssize_t n = recv(fd, c->abuf, ANSWER_BUF, MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)c->abuf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && !c->failed) {
				c->failed = true;
				sluice_seterr(c->err, c->errlen,
				       "lost answers to conntrack mark updates: the socket overran");
			}
			return;	/* EAGAIN: all read */
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;
			uint32_t i;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			i = e->msg.nlmsg_seq - first_seq;
			if (i < c->npending && e->error)
				c->pending[i].error = -e->error;
		}
	}
}

/* Send the collected updates as one datagram and count what they did. */
static void flush_updates(struct revoke_ctx *c)
{
	uint32_t first_seq = c->seq;
	size_t off = 0, i;

	if (!c->npending)
		return;
	for (i = 0; i < c->npending; i++) {
		c->pending[i].error = 0;
		put_update(c, c->sbuf + off, &c->pending[i], c->seq++);
		off += ((struct nlmsghdr *)(c->sbuf + off))->nlmsg_len;
	}
	if (mnl_socket_sendto(c->update, c->sbuf, off) < 0) {
		for (i = 0; i < c->npending; i++)
			c->pending[i].error = errno;
	} else {
		read_answers(c, first_seq);
	}

	for (i = 0; i < c->npending; i++) {
		const struct pending *p = &c->pending[i];

		if (p->error == ENOENT) {
			c->st.gone++;
		} else if (p->error) {
			c->st.failed++;
			note_failure(c, &p->flow, p->error);
		} else {
			if (p->action == SLUICE_REVOKE_SET_DENY)
				c->st.flipped_to_deny++;
			else
				c->st.flipped_to_allow++;
			if (p->stored == SLUICE_FLOW_UNVETTED)
				c->st.vetted++;
		}
	}
	c->npending = 0;
}

/* ------------------------------------------------------------------ */
/* Reading the table                                                   */
/* ------------------------------------------------------------------ */

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct revoke_ctx *c = data;
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct attr_parse ap = { ct_rules, CTA_MAX, tb };
	enum sluice_flow_verdict stored;
	enum sluice_revoke_action act;
	struct sluice_decision d;
	struct sluice_flow f;
	struct pending *p;
	size_t tlen, zlen;
	uint32_t mark = 0;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)) ||
	    mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, &ap) < 0 ||
	    !tb[CTA_TUPLE_ORIG])
		return MNL_CB_OK;
	if (tb[CTA_MARK])
		mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	stored = sluice_mark_decode(c->mask, mark);
	if (stored == SLUICE_FLOW_UNSET)
		return MNL_CB_OK;
	c->st.examined++;
	if (sluice_revoke_tuple_to_flow(tb[CTA_TUPLE_ORIG], &f) < 0)
		return MNL_CB_OK;
	f.direction = sluice_revoke_direction(&c->local, f.family, f.src, f.dst);
	d = sluice_policy_match(c->policy, &f);
	/*
	 * Conntrack knows no uid, program, unit or domain: when a rule on those
	 * might have decided otherwise, the verdict the flow got with them
	 * stands. A rule on them of the same action changes nothing.
	 */
	if (!sluice_decision_settled(c->policy, &d))
		return MNL_CB_OK;
	act = sluice_revoke_action(stored, d.allow);
	if (act == SLUICE_REVOKE_KEEP)
		return MNL_CB_OK;

	tlen = MNL_ALIGN(tb[CTA_TUPLE_ORIG]->nla_len);
	zlen = tb[CTA_ZONE] ? MNL_ALIGN(tb[CTA_ZONE]->nla_len) : 0;
	if (tlen + zlen > TUPLE_MAX) {
		c->st.failed++;
		note_failure(c, &f, EMSGSIZE);
		return MNL_CB_OK;
	}
	p = &c->pending[c->npending++];
	p->flow = f;
	p->family = nfg->nfgen_family;
	p->stored = (uint8_t)stored;
	p->action = (uint8_t)act;
	p->len = (uint16_t)(tlen + zlen);
	memcpy(p->attrs, tb[CTA_TUPLE_ORIG], tlen);
	if (zlen)
		memcpy(p->attrs + tlen, tb[CTA_ZONE], zlen);
	if (c->npending == PENDING_MAX)
		flush_updates(c);	/* on the other socket: the dump goes on */
	return MNL_CB_OK;
}

static struct mnl_socket *open_ctnetlink(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

static int dump_table(struct revoke_ctx *c, struct mnl_socket *dump, char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint32_t seq = c->seq++, portid = mnl_socket_get_portid(dump);
	int n;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;	/* IPv4 and IPv6 */
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(dump, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = (int)mnl_socket_recvfrom(dump, buf, DUMP_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = mnl_cb_run(buf, (size_t)n, seq, portid, entry_cb, c);
		if (n <= MNL_CB_STOP)
			return n;
	}
}

int sluice_revoke_apply(const struct sluice_policy *p, uint32_t mark_mask,
			struct sluice_revoke_stats *st, char *err, size_t errlen)
{
	struct revoke_ctx c = { .policy = p, .mask = mark_mask, .err = err, .errlen = errlen };
	struct mnl_socket *dump = NULL;
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, rcvbuf = 1 << 20, ret = -1;
	char *dbuf = NULL;

	if (st)
		memset(st, 0, sizeof(*st));
	if (!sluice_mark_mask_valid(mark_mask)) {
		sluice_seterr(err, errlen, "conntrack mark mask 0x%08x is not two adjacent bits", mark_mask);
		return -1;
	}
	if (sluice_local_addrs_load(&c.local, err, errlen) < 0)
		return -1;
	c.pending = malloc(PENDING_MAX * sizeof(*c.pending));
	c.sbuf = malloc(SEND_BUF);
	c.abuf = malloc(ANSWER_BUF);
	dbuf = malloc(DUMP_BUF);
	if (!c.pending || !c.sbuf || !c.abuf || !dbuf) {
		sluice_seterr(err, errlen, "out of memory revoking conntrack verdicts");
		goto out;
	}
	c.seq = (uint32_t)time(NULL);

	dump = open_ctnetlink();
	c.update = dump ? open_ctnetlink() : NULL;
	if (!c.update) {
		sluice_seterr(err, errlen, "cannot open a ctnetlink socket: %s", strerror(errno));
		goto out;
	}
	/* A dump must not hang the reload thread, nor answers be lost. */
	setsockopt(mnl_socket_get_fd(dump), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(mnl_socket_get_fd(c.update), SOL_SOCKET, SO_RCVBUFFORCE,
		   &rcvbuf, sizeof(rcvbuf));
	mnl_socket_setsockopt(c.update, NETLINK_CAP_ACK, &one, sizeof(one));

	if (dump_table(&c, dump, dbuf) < 0) {
		sluice_seterr(err, errlen, "cannot dump the conntrack table: %s", strerror(errno));
		c.failed = true;	/* keep this sentence */
		flush_updates(&c);	/* what was found is still worth doing */
		goto out;
	}
	flush_updates(&c);
	ret = c.failed ? -1 : 0;

out:
	if (st)
		*st = c.st;
	if (dump)
		mnl_socket_close(dump);
	if (c.update)
		mnl_socket_close(c.update);
	sluice_local_addrs_free(&c.local);
	free(dbuf);
	free(c.abuf);
	free(c.sbuf);
	free(c.pending);
	return ret;
}
