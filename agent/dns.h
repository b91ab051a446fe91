/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DNS messages (RFC 1035) seen on the wire: parsing queries and answers
 * from any resolver, and building the sinkhole answer for a denied name.
 *
 * Hostile input. Every length and offset is checked against the bytes that
 * were actually captured; a compression pointer must point strictly before
 * the start of the piece of name that contains it (so a chain of pointers
 * can only walk towards the header and never loops), at most
 * SLUICE_DNS_MAX_JUMPS of them per name; names are at most 255 bytes on the
 * wire and labels at most 63. Nothing recurses and nothing allocates: the
 * results go into caller-provided structs and buffers.
 *
 * Names are handed out in one text form, the one domain rules are compared
 * in: lowercase ASCII, labels joined by '.', no trailing dot, the root as
 * "". Internationalized names are on the wire as A-labels ("xn--...") and
 * stay that way. A label may hold letters, digits and '-', '_', '*', '/'
 * (service labels, wildcards, RFC 2317 reverse zones); any other byte
 * (space, '.', '\\', control, non-ASCII) makes the name unacceptable:
 * SLUICE_DNS_BAD_NAME.
 */
#ifndef SLUICE_DNS_H
#define SLUICE_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SLUICE_DNS_HEADER_LEN	12
#define SLUICE_DNS_NAME_WIRE_MAX 255	/* wire form, length bytes and root included */
#define SLUICE_DNS_LABEL_MAX	63
#define SLUICE_DNS_NAME_BUF	256	/* text form: at most 253 chars and the NUL */
#define SLUICE_DNS_MAX_JUMPS	64	/* compression pointers followed per name */
#define SLUICE_DNS_MAX_ADDRS	32	/* A/AAAA records kept from one answer */
#define SLUICE_DNS_MAX_CNAMES	16	/* CNAME links kept from one answer */
#define SLUICE_DNS_MAX_NAMES	(1 + SLUICE_DNS_MAX_CNAMES)
/*
 * The work a hostile 64 kB answer can cause is bounded by looking at only
 * the first SLUICE_DNS_MAX_RECORDS answer records, and following only the
 * first SLUICE_DNS_MAX_CNAME_RECORDS CNAMEs among them (real chains have a
 * handful): about 0.3 ms at worst.
 */
#define SLUICE_DNS_MAX_RECORDS	128
#define SLUICE_DNS_MAX_CNAME_RECORDS	(2 * SLUICE_DNS_MAX_CNAMES)
#define SLUICE_DNS_SINKHOLE_TTL	60	/* seconds, for the null-address record */

#define SLUICE_DNS_TYPE_A	1
#define SLUICE_DNS_TYPE_CNAME	5
#define SLUICE_DNS_TYPE_AAAA	28
#define SLUICE_DNS_TYPE_OPT	41
#define SLUICE_DNS_CLASS_IN	1

/* Header flags (the 16 bits after the id). */
#define SLUICE_DNS_FLAG_QR	0x8000
#define SLUICE_DNS_FLAG_AA	0x0400
#define SLUICE_DNS_FLAG_TC	0x0200
#define SLUICE_DNS_FLAG_RD	0x0100
#define SLUICE_DNS_FLAG_RA	0x0080
#define SLUICE_DNS_FLAG_CD	0x0010
#define SLUICE_DNS_OPCODE(flags)	(((flags) >> 11) & 0xf)
#define SLUICE_DNS_RCODE(flags)		((flags) & 0xf)
#define SLUICE_DNS_RCODE_NOERROR	0
#define SLUICE_DNS_RCODE_NXDOMAIN	3

/* Return value of the parsers besides 0 and -1 (see each function). */
#define SLUICE_DNS_BAD_NAME	(-2)

/* Sinkhole modes (settings.sinkhole). */
#define SLUICE_DNS_SINKHOLE_NXDOMAIN	0	/* rcode 3, no answer */
#define SLUICE_DNS_SINKHOLE_NULL	1	/* A 0.0.0.0 / AAAA ::, else NOERROR no data */

struct sluice_dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype, qclass;
	size_t question_len;		/* wire bytes of the question, from offset 12 */
	int edns;			/* 1: the query carries an OPT record */
	uint8_t edns_version;
	uint16_t edns_udp_size;
	char qname[SLUICE_DNS_NAME_BUF];	/* text form; "" for the root */
};

/*
 * Parse a query: QR 0, opcode QUERY, exactly one question; the answer,
 * authority and additional records it may carry must be well-formed (an
 * OPT record among them fills the edns fields). Bytes after the last record
 * are ignored. Returns 0; SLUICE_DNS_BAD_NAME when the message is a sound
 * query but its name holds a byte no host name has (q->qname is then "",
 * the other fields are set: the caller decides, a sinkhole can be built);
 * -1 for anything else.
 */
int sluice_dns_parse_query(const uint8_t *msg, size_t len, struct sluice_dns_query *q);

/* One address record of an answer; name indexes sluice_dns_answer.names. */
struct sluice_dns_addr {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t name;			/* owner */
	uint32_t ttl;			/* seconds; RFC 2181: top bit set = 0 */
	uint8_t addr[16];		/* network byte order; IPv4 in the first 4 */
};

/*
 * What an answer tells about names: names[0] is the question's name,
 * names[i] for i >= 1 the target of a CNAME whose owner is
 * names[parent[i]] (parent[i] < i, so following parents always ends at
 * names[0]). Only records that belong to the question are kept: CNAMEs
 * whose owner is already a name here (in any order), and A/AAAA of class
 * IN whose owner is one of the names. Records of other owners are what a
 * lying server adds to poison caches: they are counted in skipped, with
 * the ones that did not fit, had a bad name or a wrong length. Records
 * after the first SLUICE_DNS_MAX_RECORDS are not looked at (nor counted).
 */
struct sluice_dns_answer {
	uint16_t id;
	uint16_t flags;
	uint8_t rcode;
	uint16_t qtype, qclass;
	unsigned int n_names;
	char names[SLUICE_DNS_MAX_NAMES][SLUICE_DNS_NAME_BUF];
	uint8_t parent[SLUICE_DNS_MAX_NAMES];
	uint32_t cname_ttl[SLUICE_DNS_MAX_NAMES];	/* of the link to names[i] */
	unsigned int n_addrs;
	struct sluice_dns_addr addrs[SLUICE_DNS_MAX_ADDRS];
	unsigned int skipped;
};

/*
 * Parse a response: QR 1, opcode QUERY, exactly one question. The answer
 * section is read; authority and additional are not looked at. When TC is
 * set the message may be cut inside a record: the records before the cut
 * are used. Returns 0; SLUICE_DNS_BAD_NAME when the question's name is not
 * a host name (nothing is kept); -1 when the message is malformed.
 */
int sluice_dns_parse_answer(const uint8_t *msg, size_t len, struct sluice_dns_answer *a);

/*
 * The names an address of @a was resolved through: its owner first, then
 * each CNAME owner back to the question's name. Fills up to @max pointers
 * into @a and returns how many.
 */
size_t sluice_dns_answer_chain(const struct sluice_dns_answer *a, unsigned int addr,
			       const char **names, size_t max);

/*
 * Build into @out the sinkhole response to @query (any query that
 * sluice_dns_parse_query() returns 0 or SLUICE_DNS_BAD_NAME for): same id,
 * QR 1, opcode, RD and CD copied, RA 1, the question copied byte for byte
 * (its letter case too: resolvers check it). SLUICE_DNS_SINKHOLE_NXDOMAIN
 * gives rcode 3 and no records; SLUICE_DNS_SINKHOLE_NULL gives NOERROR and
 * one record, A 0.0.0.0 for an IN A question, AAAA :: for IN AAAA, none
 * for other questions, with TTL SLUICE_DNS_SINKHOLE_TTL. A query with an
 * EDNS version 0 OPT gets a plain OPT back (UDP size 1232, no options);
 * other OPTs are dropped. Returns the length written, or -1 when the query
 * is not one or @outlen is too small (SLUICE_DNS_NAME_WIRE_MAX + 60 always
 * suffices).
 */
ssize_t sluice_dns_build_sinkhole(const uint8_t *query, size_t qlen, int mode,
				  uint8_t *out, size_t outlen);

/*
 * The same sinkhole, built from a response on its way to the client (a
 * CNAME in it led to a denied name): the response's id, flags and
 * question, byte for byte. The response may be cut (TC); an OPT is
 * echoed only when found whole. Returns as sluice_dns_build_sinkhole().
 * The result may be written over @answer (@out == @answer).
 */
ssize_t sluice_dns_build_sinkhole_reply(const uint8_t *answer, size_t alen, int mode,
					uint8_t *out, size_t outlen);

/*
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message follows a 2-byte
 * big-endian length. Finds the first message of a stream's bytes: returns
 * 0 with *msg and *msglen set, 1 when the bytes end before the message
 * does (wait for more), -1 when the prefix announces less than a header.
 */
int sluice_dns_tcp_message(const uint8_t *data, size_t len, const uint8_t **msg,
			   size_t *msglen);

/*
 * Like sluice_dns_build_sinkhole() for the first message in the bytes of
 * a DNS/TCP stream; @out gets the 2-byte prefix and the response.
 */
ssize_t sluice_dns_build_sinkhole_tcp(const uint8_t *data, size_t len, int mode,
				      uint8_t *out, size_t outlen);

/*
 * Bring a name as people or protocols write it (a rule, an SNI, a Host
 * header) into the text form above: ASCII letters lowercased, one trailing
 * dot dropped, labels 1..63 bytes, at most 253 in all. Returns the length
 * written to @out (NUL-terminated; @out may be @in), or -1 when the name is
 * empty, too long, has an empty label or a byte outside the label set, or
 * does not fit @outlen.
 */
int sluice_dns_name_normalize(const char *in, size_t inlen, char *out, size_t outlen);

#endif
