// SPDX-License-Identifier: GPL-2.0
/* DNS messages on the wire: see dns.h for the rules every parser keeps. */
#include "agent/dns.h"

#include <string.h>
#include <sys/socket.h>

_Static_assert(SLUICE_DNS_MAX_CNAME_RECORDS <= 32, "one bit each in a uint32_t");

/* A record's fixed part after its owner name: type, class, ttl, rdlength. */
#define RR_FIXED_LEN	10

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Lowercase @c if it may stand in a label of the text form, else 0. */
static char label_char(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '*' || c == '/')
		return (char)c;
	return 0;
}

/*
 * Read the name at @off. *end gets the offset just past the name where it
 * stands (past the first pointer, if any). With @text, the name is written
 * there in text form. Returns 0, SLUICE_DNS_BAD_NAME when the name is sound
 * but holds a byte outside the label set (@text is then ""), or -1.
 *
 * Loops are impossible by construction: a pointer must point below the
 * start of the piece it ends (the name's start, or the previous target),
 * so targets strictly decrease; the jump count is capped anyway.
 */
static int read_name(const uint8_t *msg, size_t len, size_t off, char *text, size_t *end)
{
	size_t pos = off, floor = off, wire = 0, tlen = 0;
	unsigned int jumps = 0;
	int jumped = 0, bad = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = msg[pos];
		if (l == 0) {
			if (!jumped)
				*end = pos + 1;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 2 > len)
				return -1;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (!jumped)
				*end = pos + 2;
			if (target < SLUICE_DNS_HEADER_LEN || target >= floor ||
			    ++jumps > SLUICE_DNS_MAX_JUMPS)
				return -1;
			jumped = 1;
			pos = floor = target;
			continue;
		}
		if (l & 0xc0)		/* 0x40 and 0x80: obsolete label types */
			return -1;
		if (pos + 1 + l > len)
			return -1;
		/* This label, its length byte and the root byte still to come. */
		wire += 1 + (size_t)l;
		if (wire + 1 > SLUICE_DNS_NAME_WIRE_MAX)
			return -1;
		if (text) {
			size_t i;

			if (tlen)
				text[tlen++] = '.';
			for (i = 0; i < l; i++) {
				char c = label_char(msg[pos + 1 + i]);

				if (!c)
					bad = 1;
				text[tlen++] = c ? c : '?';
			}
		}
		pos += 1 + (size_t)l;
	}
	if (text)
		text[bad ? 0 : tlen] = '\0';
	return bad ? SLUICE_DNS_BAD_NAME : 0;
}

/* A resource record as it stands in the message. */
struct rr {
	size_t owner;			/* offset of the owner name */
	uint16_t type, class;
	uint32_t ttl;			/* RFC 2181 8: top bit set means 0 */
	uint32_t raw_ttl;		/* as sent (OPT keeps flags there) */
	size_t rdata, rdlen;		/* offset and length of the data */
};

/* Read the record at *pos and move *pos past it. Returns 0 or -1. */
static int read_rr(const uint8_t *msg, size_t len, size_t *pos, struct rr *rr)
{
	size_t p;

	rr->owner = *pos;
	if (read_name(msg, len, *pos, NULL, &p) < 0 || p + RR_FIXED_LEN > len)
		return -1;
	rr->type = get16(msg + p);
	rr->class = get16(msg + p + 2);
	rr->raw_ttl = get32(msg + p + 4);
	rr->ttl = rr->raw_ttl & 0x80000000u ? 0 : rr->raw_ttl;
	rr->rdlen = get16(msg + p + 8);
	rr->rdata = p + RR_FIXED_LEN;
	if (rr->rdlen > len - rr->rdata)
		return -1;
	*pos = rr->rdata + rr->rdlen;
	return 0;
}

/*
 * Header and question of @msg. Returns the offset after the question,
 * with the name in @qname (may be SLUICE_DNS_BAD_NAME in *name_rc), or -1.
 */
static long read_question(const uint8_t *msg, size_t len, char *qname, uint16_t *qtype,
			  uint16_t *qclass, int *name_rc)
{
	size_t p;

	if (len < SLUICE_DNS_HEADER_LEN || get16(msg + 4) != 1)
		return -1;
	*name_rc = read_name(msg, len, SLUICE_DNS_HEADER_LEN, qname, &p);
	if (*name_rc == -1 || p + 4 > len)
		return -1;
	*qtype = get16(msg + p);
	*qclass = get16(msg + p + 2);
	return (long)(p + 4);
}

/*
 * Header, question and EDNS of a query (@qr 0) or a response (@qr 1) into
 * @q. A query's other records must all stand whole (a resolver answers
 * FORMERR otherwise); a response's are only looked at for its OPT, and
 * one that is cut (TC) or odd just has none. Each record takes at least
 * 11 bytes, so the walk ends within @len. Returns 0, SLUICE_DNS_BAD_NAME
 * or -1 as sluice_dns_parse_query() does.
 */
static int read_head(const uint8_t *msg, size_t len, int qr, struct sluice_dns_query *q)
{
	unsigned int i, n, ar;
	long qend;
	size_t pos;
	int name_rc;

	memset(q, 0, sizeof(*q));
	if (len < SLUICE_DNS_HEADER_LEN)
		return -1;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if (!!(q->flags & SLUICE_DNS_FLAG_QR) != qr || SLUICE_DNS_OPCODE(q->flags) != 0)
		return -1;
	qend = read_question(msg, len, q->qname, &q->qtype, &q->qclass, &name_rc);
	if (qend < 0)
		return -1;
	q->question_len = (size_t)qend - SLUICE_DNS_HEADER_LEN;
	ar = get16(msg + 10);
	n = (unsigned int)get16(msg + 6) + get16(msg + 8) + ar;
	pos = (size_t)qend;
	for (i = 0; i < n; i++) {
		struct rr rr;

		if (read_rr(msg, len, &pos, &rr) < 0) {
			if (qr) {
				q->edns = 0;
				break;
			}
			return -1;
		}
		/* The first OPT: in the additional section, owned by the root. */
		if (rr.type == SLUICE_DNS_TYPE_OPT && !q->edns && i >= n - ar &&
		    msg[rr.owner] == 0) {
			q->edns = 1;
			q->edns_udp_size = rr.class;
			q->edns_version = (uint8_t)(rr.raw_ttl >> 16);
		}
	}
	return name_rc;
}

int sluice_dns_parse_query(const uint8_t *msg, size_t len, struct sluice_dns_query *q)
{
	return read_head(msg, len, 0, q);
}

/* Index of @name among a->names, or -1. */
static int find_name(const struct sluice_dns_answer *a, const char *name)
{
	unsigned int i;

	for (i = 0; i < a->n_names; i++)
		if (strcmp(a->names[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * One walk over the answer section's @count records from @pos. With
 * @addrs 0 it adds the CNAME links whose owner is known and whose target is
 * not, and returns how many it added; with @addrs 1 it keeps the address
 * records of known owners, counts what it leaves out in a->skipped and
 * returns 0. Returns -1 when a record is malformed and the message is not
 * marked truncated (with TC the walk just ends at the cut).
 */
static int walk_answers(const uint8_t *msg, size_t len, size_t pos, unsigned int count,
			struct sluice_dns_answer *a, int addrs, uint32_t *done)
{
	char owner[SLUICE_DNS_NAME_BUF], target[SLUICE_DNS_NAME_BUF];
	int truncated = !!(a->flags & SLUICE_DNS_FLAG_TC), added = 0;
	unsigned int i, cnames = 0;

	if (count > SLUICE_DNS_MAX_RECORDS)
		count = SLUICE_DNS_MAX_RECORDS;
	for (i = 0; i < count; i++) {
		struct rr rr;
		uint32_t bit;
		size_t end;
		int o;

		if (read_rr(msg, len, &pos, &rr) < 0) {
			if (!truncated)
				return -1;
			break;
		}
		if (rr.class != SLUICE_DNS_CLASS_IN)
			continue;
		if (rr.type == SLUICE_DNS_TYPE_CNAME) {
			/* The target must fill the record's data exactly. */
			if (read_name(msg, len, rr.rdata, NULL, &end) == -1 ||
			    end != rr.rdata + rr.rdlen)
				return -1;
			bit = 1u << (cnames % 32);
			if (++cnames > SLUICE_DNS_MAX_CNAME_RECORDS || addrs || (*done & bit))
				continue;
			if (read_name(msg, len, rr.owner, owner, &end) != 0) {
				*done |= bit;
				continue;
			}
			/* An owner not known yet may become known in a later walk. */
			o = find_name(a, owner);
			if (o < 0)
				continue;
			*done |= bit;
			if (read_name(msg, len, rr.rdata, target, &end) != 0 ||
			    find_name(a, target) >= 0 ||
			    a->n_names == SLUICE_DNS_MAX_NAMES)
				continue;
			memcpy(a->names[a->n_names], target, sizeof(target));
			a->parent[a->n_names] = (uint8_t)o;
			a->cname_ttl[a->n_names] = rr.ttl;
			a->n_names++;
			added++;
		} else if (addrs && (rr.type == SLUICE_DNS_TYPE_A ||
				     rr.type == SLUICE_DNS_TYPE_AAAA)) {
			size_t want = rr.type == SLUICE_DNS_TYPE_A ? 4 : 16;
			struct sluice_dns_addr *ad;

			if (rr.rdlen != want ||
			    read_name(msg, len, rr.owner, owner, &end) != 0 ||
			    (o = find_name(a, owner)) < 0 ||
			    a->n_addrs == SLUICE_DNS_MAX_ADDRS) {
				a->skipped++;
				continue;
			}
			ad = &a->addrs[a->n_addrs++];
			ad->family = want == 4 ? AF_INET : AF_INET6;
			ad->name = (uint8_t)o;
			ad->ttl = rr.ttl;
			memcpy(ad->addr, msg + rr.rdata, want);
		}
	}
	/* Every CNAME record that did not become a link was left out. */
	if (addrs)
		a->skipped += cnames - (a->n_names - 1);
	return added;
}

int sluice_dns_parse_answer(const uint8_t *msg, size_t len, struct sluice_dns_answer *a)
{
	unsigned int ancount, pass;
	uint32_t done = 0;	/* CNAME records (by rank) that are done with */
	long qend;
	int name_rc, rc;

	a->n_names = 0;
	a->n_addrs = 0;
	a->skipped = 0;
	a->names[0][0] = '\0';
	if (len < SLUICE_DNS_HEADER_LEN)
		return -1;
	a->id = get16(msg);
	a->flags = get16(msg + 2);
	a->rcode = SLUICE_DNS_RCODE(a->flags);
	if (!(a->flags & SLUICE_DNS_FLAG_QR) || SLUICE_DNS_OPCODE(a->flags) != 0)
		return -1;
	qend = read_question(msg, len, a->names[0], &a->qtype, &a->qclass, &name_rc);
	if (qend < 0)
		return -1;
	if (name_rc != 0)
		return name_rc;
	a->n_names = 1;
	a->parent[0] = 0;
	a->cname_ttl[0] = 0;
	ancount = get16(msg + 6);

	/*
	 * CNAME links first, as many walks as it takes for a chain given out
	 * of order: a walk that adds nothing ends it, and each one that does
	 * adds a name, so there are at most SLUICE_DNS_MAX_CNAMES + 1. Then
	 * one walk for the addresses.
	 */
	for (pass = 0; pass <= SLUICE_DNS_MAX_CNAMES; pass++) {
		rc = walk_answers(msg, len, (size_t)qend, ancount, a, 0, &done);
		if (rc < 0)
			goto malformed;
		if (rc == 0)
			break;
	}
	if (walk_answers(msg, len, (size_t)qend, ancount, a, 1, &done) < 0)
		goto malformed;
	return 0;

malformed:
	a->n_names = 0;
	a->n_addrs = 0;
	return -1;
}

size_t sluice_dns_answer_chain(const struct sluice_dns_answer *a, unsigned int addr,
			       const char **names, size_t max)
{
	unsigned int i;
	size_t n = 0;

	if (addr >= a->n_addrs)
		return 0;
	i = a->addrs[addr].name;
	/* parent[i] < i for i >= 1: the walk ends at names[0]. */
	while (n < max && i < a->n_names) {
		names[n++] = a->names[i];
		if (i == 0)
			break;
		i = a->parent[i];
	}
	return n;
}

/* The sinkhole for @msg, whose head read_head() put in @q. */
static ssize_t build_sinkhole(const uint8_t *msg, struct sluice_dns_query *q, int mode,
			      uint8_t *out, size_t outlen)
{
	static const uint8_t opt[] = {
		0,				/* root owner */
		0, SLUICE_DNS_TYPE_OPT,
		0x04, 0xd0,			/* UDP payload 1232 (DNS flag day 2020) */
		0, 0, 0, 0,			/* extended rcode, version 0, flags */
		0, 0,				/* no options */
	};
	size_t n = SLUICE_DNS_HEADER_LEN, rdlen = 0;
	uint16_t flags;

	if (mode != SLUICE_DNS_SINKHOLE_NULL && mode != SLUICE_DNS_SINKHOLE_NXDOMAIN)
		return -1;
	if (mode == SLUICE_DNS_SINKHOLE_NULL && q->qclass == SLUICE_DNS_CLASS_IN) {
		if (q->qtype == SLUICE_DNS_TYPE_A)
			rdlen = 4;
		else if (q->qtype == SLUICE_DNS_TYPE_AAAA)
			rdlen = 16;
	}
	if (q->edns && q->edns_version != 0)
		q->edns = 0;
	if (outlen < SLUICE_DNS_HEADER_LEN + q->question_len +
		     (rdlen ? 12 + rdlen : 0) + (q->edns ? sizeof(opt) : 0))
		return -1;

	flags = SLUICE_DNS_FLAG_QR | SLUICE_DNS_FLAG_RA |
		(q->flags & (0xf << 11 | SLUICE_DNS_FLAG_RD | SLUICE_DNS_FLAG_CD));
	if (mode == SLUICE_DNS_SINKHOLE_NXDOMAIN)
		flags |= SLUICE_DNS_RCODE_NXDOMAIN;
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, 1);
	put16(out + 6, rdlen ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, q->edns ? 1 : 0);
	/* The question has no pointers (read_name() refuses any at 12). */
	memmove(out + n, msg + SLUICE_DNS_HEADER_LEN, q->question_len);
	n += q->question_len;
	if (rdlen) {
		put16(out + n, 0xc000 | SLUICE_DNS_HEADER_LEN);	/* the qname */
		put16(out + n + 2, q->qtype);
		put16(out + n + 4, q->qclass);
		put16(out + n + 6, 0);
		put16(out + n + 8, SLUICE_DNS_SINKHOLE_TTL);
		put16(out + n + 10, (uint16_t)rdlen);
		memset(out + n + 12, 0, rdlen);
		n += 12 + rdlen;
	}
	if (q->edns) {
		memcpy(out + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return (ssize_t)n;
}

ssize_t sluice_dns_build_sinkhole(const uint8_t *query, size_t qlen, int mode,
				  uint8_t *out, size_t outlen)
{
	struct sluice_dns_query q;

	if (read_head(query, qlen, 0, &q) == -1)
		return -1;
	return build_sinkhole(query, &q, mode, out, outlen);
}

ssize_t sluice_dns_build_sinkhole_reply(const uint8_t *answer, size_t alen, int mode,
					uint8_t *out, size_t outlen)
{
	struct sluice_dns_query q;

	if (read_head(answer, alen, 1, &q) == -1)
		return -1;
	return build_sinkhole(answer, &q, mode, out, outlen);
}

int sluice_dns_tcp_message(const uint8_t *data, size_t len, const uint8_t **msg,
			   size_t *msglen)
{
	size_t n;

	if (len < 2)
		return 1;
	n = get16(data);
	if (n < SLUICE_DNS_HEADER_LEN)
		return -1;
	if (len - 2 < n)
		return 1;
	*msg = data + 2;
	*msglen = n;
	return 0;
}

ssize_t sluice_dns_build_sinkhole_tcp(const uint8_t *data, size_t len, int mode,
				      uint8_t *out, size_t outlen)
{
	const uint8_t *msg;
	size_t msglen;
	ssize_t n;

	if (outlen < 2 || sluice_dns_tcp_message(data, len, &msg, &msglen) != 0)
		return -1;
	n = sluice_dns_build_sinkhole(msg, msglen, mode, out + 2, outlen - 2);
	if (n < 0)
		return -1;
	put16(out, (uint16_t)n);
	return n + 2;
}

int sluice_dns_name_normalize(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t i, label = 0;

	if (inlen && in[inlen - 1] == '.')
		inlen--;
	if (inlen == 0 || inlen > SLUICE_DNS_NAME_WIRE_MAX - 2 || inlen + 1 > outlen)
		return -1;
	/* Forward, one byte out per byte in: @out may be @in. */
	for (i = 0; i < inlen; i++) {
		char c;

		if (in[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
			out[i] = '.';
			continue;
		}
		c = label_char((uint8_t)in[i]);
		if (!c || ++label > SLUICE_DNS_LABEL_MAX)
			return -1;
		out[i] = c;
	}
	if (label == 0)
		return -1;		/* "a.b.." */
	out[inlen] = '\0';
	return (int)inlen;
}
