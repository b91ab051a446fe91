// SPDX-License-Identifier: GPL-2.0
/*
 * sluice's DNS parsers against ldns (libldns, NLnet Labs), as a second
 * opinion: the same bytes go to sluice_dns_parse_query() or
 * sluice_dns_parse_answer() (by the QR bit) and to ldns_wire2pkt(), and
 * where both read the message they must agree.
 *
 * What is compared. A name is compared in sluice's text form, built from
 * ldns's uncompressed wire form of the name (ldns_rdf_data): ASCII
 * lowercased, labels joined by '.', the root as "", and "not representable"
 * when a label holds a byte outside sluice's label set; ldns_rdf2str() of a
 * representable name, lowercased and without its trailing dot, must be the
 * same text.
 *
 *  - Query (QR 0). The question alone ("Q view": the header with counts
 *    1/0/0/0 and the bytes after it) goes to both. sluice reads it (0 or
 *    SLUICE_DNS_BAD_NAME) => ldns reads it, with the same id, QR 0, opcode
 *    QUERY, type, class, and a name representable exactly when sluice
 *    says 0, with the same text. ldns reads it, QR 0, opcode QUERY and the
 *    name has no compression pointer => sluice reads it. The whole message
 *    read by sluice gives the same question as its Q view.
 *  - Answer (QR 1) that sluice reads (0). Its Q view (counts 1/0/0/0)
 *    gives ldns's id, QR, opcode, rcode and question: the same as sluice's
 *    (names[0], type, class). The answer records sluice looked at (the
 *    first SLUICE_DNS_MAX_RECORDS, or up to a TC cut) are read one by one
 *    ("A view"): each framed by ldns (ldns_wire2dname() for the owner, then
 *    the fixed part and the data length), and each IN CNAME, IN A of length
 *    4 and IN AAAA of length 16 read whole by ldns_wire2rr(), which must
 *    end where the data length says. Then every address sluice reports is
 *    an A/AAAA record there with the same bytes, TTL (top bit set = 0) and
 *    owner names[addr.name]; every CNAME link names[parent[i]] -> names[i]
 *    is a CNAME record there with that TTL. Without TC, also the other
 *    way: the names are exactly the question's name closed under the first
 *    SLUICE_DNS_MAX_CNAME_RECORDS CNAMEs (representable owners and
 *    targets), and the addresses are exactly the A/AAAA records there
 *    owned by one of sluice's names.
 *  - Answer that sluice calls SLUICE_DNS_BAD_NAME: ldns reads its Q view
 *    and the name is not representable.
 *
 * Where the two legitimately differ, the input is skipped for that check
 * only, and counted (the counts are printed when the fuzzer exits):
 *
 *  - sluice is stricter on compression: a pointer must point back, below
 *    the piece of name it ends and not into the header, so a question
 *    name (at offset 12) can have none; ldns follows any pointer inside
 *    the message up to 65535 times. A Q view that ldns reads with a
 *    pointer in its name is skipped ("compressed question").
 *  - ldns reads every record's data by its type (an MX needs its name, an
 *    A 4 bytes), sluice only frames records outside what it uses, and does
 *    not read authority or additional records of an answer at all; ldns
 *    also does not check that a record's fields fill its data (an A of
 *    length 6 makes ldns_wire2pkt() read the next record from its fifth
 *    data byte). So the whole message is compared only for its question,
 *    when ldns reads it ("ldns refuses the whole message" otherwise), and
 *    an answer's records through the A view, where ldns reads only what
 *    sluice uses and a record that does not fill its data is a finding.
 *  - With TC, sluice ends at the first record it cannot read, which ldns
 *    may still read (a pointer forward, or into the header). Completeness
 *    is then checked only when every owner ldns framed keeps sluice's
 *    pointer rule (each pointer at or after the header and below the start
 *    of the piece of name it ends, at most SLUICE_DNS_MAX_JUMPS), so that
 *    both end at the same record; otherwise only the first direction (all
 *    sluice reports is in ldns) is ("TC: forward pointer, no
 *    completeness"). Under TC an IN CNAME whose data is not exactly a name
 *    may lie past sluice's cut and is left out.
 *  - sluice keeps at most SLUICE_DNS_MAX_NAMES names and
 *    SLUICE_DNS_MAX_ADDRS addresses: the completeness checks above allow
 *    for these caps exactly.
 */
#include <ctype.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "agent/dns.h"
#include "tests/fuzz/fuzz_name.h"

#define NOT_TEXT	(-2)	/* a name sluice cannot represent */

enum skip {
	SKIP_COMPRESSED_QUESTION,
	SKIP_LDNS_REFUSES_WHOLE,
	SKIP_TC_NO_COMPLETENESS,
	SKIP_NAME_CAP,
	SKIP_ADDR_CAP,
	SKIP_N
};

static const char *const skip_name[SKIP_N] = {
	"compressed question (sluice refuses, ldns reads)",
	"ldns refuses the whole message (checked through a view)",
	"TC: forward pointer, no completeness",
	"more names than sluice keeps",
	"more addresses than sluice keeps",
};

static unsigned long skipped[SKIP_N], compared_query, compared_answer, compared_bad;

static void print_counts(void)
{
	int i;

	fprintf(stderr, "dns_ldns: compared %lu queries, %lu answers, %lu bad names\n",
		compared_query, compared_answer, compared_bad);
	for (i = 0; i < SKIP_N; i++)
		fprintf(stderr, "dns_ldns: skipped %lu: %s\n", skipped[i], skip_name[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(print_counts);
	return 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The bytes sluice's text form keeps (after lowercasing). */
static int in_label_set(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*' || c == '/';
}

/*
 * ldns's name @rdf in sluice's text form into @out (SLUICE_DNS_NAME_BUF):
 * 0, or NOT_TEXT. For a representable name, ldns's own text must agree.
 */
static int ldns_text(const ldns_rdf *rdf, char *out)
{
	const uint8_t *d = ldns_rdf_data(rdf);
	size_t n = ldns_rdf_size(rdf), pos = 0, t = 0;
	char *s;

	FUZZ_CHECK(ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME && n >= 1 && n <= 255);
	while (d[pos]) {
		uint8_t l = d[pos++], i;

		FUZZ_CHECK(l <= 63 && pos + l < n);
		if (t)
			out[t++] = '.';
		for (i = 0; i < l; i++, pos++) {
			if (!in_label_set(d[pos]))
				return NOT_TEXT;
			out[t++] = (char)tolower(d[pos]);
		}
	}
	out[t] = '\0';
	s = ldns_rdf2str(rdf);
	FUZZ_CHECK(s != NULL);
	for (pos = 0; s[pos]; pos++)
		s[pos] = (char)tolower((unsigned char)s[pos]);
	/* ldns writes the root as "." and every other name with a final dot. */
	FUZZ_CHECK(strlen(s) == t + 1 && s[t] == '.' && strncmp(s, out, t) == 0);
	free(s);
	return 0;
}

/* Does the name at @off (read by ldns already) go through a pointer? */
static int name_has_pointer(const uint8_t *msg, size_t len, size_t off)
{
	while (off < len && msg[off]) {
		if (msg[off] >= 0xc0)
			return 1;
		off += 1 + (size_t)msg[off];
	}
	return 0;
}

/*
 * Does the name at @off (read by ldns already) keep sluice's pointer rule:
 * each pointer at or after the header and below the start of the piece
 * of name it ends, at most SLUICE_DNS_MAX_JUMPS of them?
 */
static int pointers_back(const uint8_t *msg, size_t off)
{
	size_t piece = off;
	unsigned int jumps = 0;

	while (msg[off]) {
		if (msg[off] >= 0xc0) {
			off = (size_t)(msg[off] & 0x3f) << 8 | msg[off + 1];
			if (off < SLUICE_DNS_HEADER_LEN || off >= piece ||
			    ++jumps > SLUICE_DNS_MAX_JUMPS)
				return 0;
			piece = off;
			continue;
		}
		off += 1 + (size_t)msg[off];
	}
	return 1;
}

/* A copy of @msg with its counts set to 1/@an/0/0. */
static uint8_t *view(const uint8_t *msg, size_t len, uint16_t an)
{
	uint8_t *v = fuzz_copy(msg, len);

	put16(v + 4, 1);
	put16(v + 6, an);
	put16(v + 8, 0);
	put16(v + 10, 0);
	return v;
}

/* ldns's question of @p against a name, type and class. */
static void check_question(const ldns_pkt *p, int name_rc, const char *name,
			   uint16_t qtype, uint16_t qclass)
{
	const ldns_rr *rr;
	char text[SLUICE_DNS_NAME_BUF];

	FUZZ_CHECK(ldns_rr_list_rr_count(ldns_pkt_question(p)) == 1);
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	FUZZ_CHECK(ldns_rr_get_type(rr) == qtype);
	FUZZ_CHECK(ldns_rr_get_class(rr) == qclass);
	if (name_rc == 0) {
		FUZZ_CHECK(ldns_text(ldns_rr_owner(rr), text) == 0);
		FUZZ_CHECK(strcmp(text, name) == 0);
	} else {
		FUZZ_CHECK(name_rc == SLUICE_DNS_BAD_NAME);
		FUZZ_CHECK(ldns_text(ldns_rr_owner(rr), text) == NOT_TEXT);
	}
}

/* When ldns reads the whole message, its question is the one compared. */
static void check_whole(const uint8_t *msg, size_t len, int name_rc, const char *name,
			uint16_t qtype, uint16_t qclass)
{
	ldns_pkt *p = NULL;

	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK) {
		skipped[SKIP_LDNS_REFUSES_WHOLE]++;
		return;
	}
	check_question(p, name_rc, name, qtype, qclass);
	ldns_pkt_free(p);
}

static void check_query(const uint8_t *msg, size_t len)
{
	struct sluice_dns_query q, whole;
	uint8_t *v = view(msg, len, 0);
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, v, len);
	int rc = sluice_dns_parse_query(v, len, &q);
	int wrc;

	if (rc != -1) {
		FUZZ_CHECK(st == LDNS_STATUS_OK);
		FUZZ_CHECK(ldns_pkt_id(p) == q.id && !ldns_pkt_qr(p) &&
			   ldns_pkt_get_opcode(p) == LDNS_PACKET_QUERY);
		check_question(p, rc, q.qname, q.qtype, q.qclass);
		FUZZ_CHECK(!name_has_pointer(v, len, SLUICE_DNS_HEADER_LEN));
		compared_query++;
	} else if (st == LDNS_STATUS_OK && ldns_pkt_get_opcode(p) == LDNS_PACKET_QUERY) {
		if (name_has_pointer(v, len, SLUICE_DNS_HEADER_LEN))
			skipped[SKIP_COMPRESSED_QUESTION]++;
		else	/* ldns reads a plain question that sluice refuses */
			FUZZ_CHECK(rc != -1);
	}
	if (p)
		ldns_pkt_free(p);
	free(v);

	/* The whole message: its question is the Q view's. */
	wrc = sluice_dns_parse_query(msg, len, &whole);
	if (wrc == -1)
		return;
	FUZZ_CHECK(wrc == rc && whole.id == q.id && whole.qtype == q.qtype &&
		   whole.qclass == q.qclass && strcmp(whole.qname, q.qname) == 0);
	check_whole(msg, len, rc, q.qname, q.qtype, q.qclass);
}

/*
 * The A view of @msg, an answer sluice read: the records sluice looked at
 * that it can use, as ldns reads them. Framing (owner, fixed part, data
 * length) is ldns_wire2dname()'s; a record of class IN, type CNAME, A of
 * length 4 or AAAA of length 16 is read whole by ldns_wire2rr(), which
 * must end where its data length says. Records start after the question,
 * at @qend. *backward tells whether every owner framed keeps sluice's
 * pointer rule.
 */
static ldns_rr_list *answer_view(const uint8_t *msg, size_t len, size_t qend,
				  int *backward)
{
	unsigned int n = get16(msg + 6), tc = !!(msg[2] & 0x02), i;
	ldns_rr_list *list = ldns_rr_list_new();
	size_t pos = qend;

	FUZZ_CHECK(list != NULL);
	if (n > SLUICE_DNS_MAX_RECORDS)
		n = SLUICE_DNS_MAX_RECORDS;
	for (i = 0; i < n; i++) {
		ldns_rdf *owner = NULL;
		ldns_rr *rr = NULL;
		size_t p = pos, rdlen, start = pos;
		uint16_t type;
		int usable = 0;
		ldns_status st;

		st = ldns_wire2dname(&owner, msg, len, &p);
		ldns_rdf_deep_free(owner);
		if (st == LDNS_STATUS_OK && !pointers_back(msg, start))
			*backward = 0;
		if (st != LDNS_STATUS_OK || p + 10 > len || get16(msg + p + 8) > len - p - 10) {
			FUZZ_CHECK(tc);	/* sluice read an answer cut without TC */
			break;
		}
		type = get16(msg + p);
		rdlen = get16(msg + p + 8);
		pos = p + 10 + rdlen;
		if (get16(msg + p + 2) != LDNS_RR_CLASS_IN)
			continue;
		if (type == LDNS_RR_TYPE_A)
			usable = rdlen == 4;
		else if (type == LDNS_RR_TYPE_AAAA)
			usable = rdlen == 16;
		else if (type == LDNS_RR_TYPE_CNAME)
			usable = 1;
		if (!usable)
			continue;
		st = ldns_wire2rr(&rr, msg, len, &start, LDNS_SECTION_ANSWER);
		if (type == LDNS_RR_TYPE_CNAME && (st != LDNS_STATUS_OK || start != pos)) {
			/* Past sluice's TC cut; sluice refuses it otherwise. */
			FUZZ_CHECK(tc);
			if (st == LDNS_STATUS_OK)
				ldns_rr_free(rr);
			continue;
		}
		FUZZ_CHECK(st == LDNS_STATUS_OK && start == pos);
		FUZZ_CHECK(ldns_rr_list_push_rr(list, rr));
	}
	return list;
}

/* Is @name one of @a's names? */
static int sluice_name(const struct sluice_dns_answer *a, const char *name)
{
	unsigned int i;

	for (i = 0; i < a->n_names; i++)
		if (strcmp(a->names[i], name) == 0)
			return (int)i;
	return -1;
}

static uint32_t ttl(const ldns_rr *rr)
{
	uint32_t t = ldns_rr_ttl(rr);

	return t & 0x80000000u ? 0 : t;
}

/* Every name and address of @a is in the A view @p. */
static void check_sound(const struct sluice_dns_answer *a, const ldns_rr_list *an)
{
	char owner[SLUICE_DNS_NAME_BUF], target[SLUICE_DNS_NAME_BUF];
	unsigned int i;
	size_t r;

	for (i = 1; i < a->n_names; i++) {
		int found = 0;

		for (r = 0; r < ldns_rr_list_rr_count(an) && !found; r++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, r);

			found = ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
				ldns_rr_rdf(rr, 0) &&
				ldns_text(ldns_rr_owner(rr), owner) == 0 &&
				ldns_text(ldns_rr_rdf(rr, 0), target) == 0 &&
				strcmp(owner, a->names[a->parent[i]]) == 0 &&
				strcmp(target, a->names[i]) == 0 && ttl(rr) == a->cname_ttl[i];
		}
		FUZZ_CHECK(found);	/* a CNAME link ldns does not see */
	}
	for (i = 0; i < a->n_addrs; i++) {
		const struct sluice_dns_addr *ad = &a->addrs[i];
		size_t want = ad->family == AF_INET ? 4 : 16;
		int found = 0;

		for (r = 0; r < ldns_rr_list_rr_count(an) && !found; r++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, r);
			const ldns_rdf *d = ldns_rr_rdf(rr, 0);

			found = ldns_rr_get_type(rr) ==
					(want == 4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA) &&
				d && ldns_rdf_size(d) == want &&
				memcmp(ldns_rdf_data(d), ad->addr, want) == 0 &&
				ttl(rr) == ad->ttl &&
				ldns_text(ldns_rr_owner(rr), owner) == 0 &&
				strcmp(owner, a->names[ad->name]) == 0;
		}
		FUZZ_CHECK(found);	/* an address ldns does not see */
	}
}

/* Nothing ldns reads in the A view @an is missing from @a (no TC). */
static void check_complete(const struct sluice_dns_answer *a, const ldns_rr_list *an)
{
	static char closure[SLUICE_DNS_MAX_CNAME_RECORDS + 1][SLUICE_DNS_NAME_BUF];
	char owner[SLUICE_DNS_NAME_BUF], target[SLUICE_DNS_NAME_BUF];
	unsigned int n = 1, i, cnames = 0, addrs = 0, grew = 1;
	size_t r;

	strcpy(closure[0], a->names[0]);
	while (grew) {
		grew = 0;
		cnames = 0;
		for (r = 0; r < ldns_rr_list_rr_count(an); r++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, r);
			unsigned int j;
			int known = 0, seen = 0;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ++cnames > SLUICE_DNS_MAX_CNAME_RECORDS || !ldns_rr_rdf(rr, 0) ||
			    ldns_text(ldns_rr_owner(rr), owner) != 0 ||
			    ldns_text(ldns_rr_rdf(rr, 0), target) != 0)
				continue;
			for (j = 0; j < n; j++) {
				known |= strcmp(closure[j], owner) == 0;
				seen |= strcmp(closure[j], target) == 0;
			}
			if (known && !seen) {
				strcpy(closure[n++], target);
				grew = 1;
			}
		}
	}
	/* sluice's names are all in the closure (check_sound); how many? */
	if (n > SLUICE_DNS_MAX_NAMES) {
		skipped[SKIP_NAME_CAP]++;
		FUZZ_CHECK(a->n_names == SLUICE_DNS_MAX_NAMES);
	} else {
		FUZZ_CHECK(a->n_names == n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(sluice_name(a, closure[i]) >= 0);
	}
	for (r = 0; r < ldns_rr_list_rr_count(an); r++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, r);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) &&
		    ldns_text(ldns_rr_owner(rr), owner) == 0 && sluice_name(a, owner) >= 0)
			addrs++;
	}
	if (addrs > SLUICE_DNS_MAX_ADDRS) {
		skipped[SKIP_ADDR_CAP]++;
		FUZZ_CHECK(a->n_addrs == SLUICE_DNS_MAX_ADDRS);
	} else {
		FUZZ_CHECK(a->n_addrs == addrs);
	}
}

static void check_answer(const uint8_t *msg, size_t len)
{
	static struct sluice_dns_answer a;
	size_t qend = SLUICE_DNS_HEADER_LEN;
	ldns_rr_list *an;
	ldns_pkt *p = NULL;
	ldns_rr *q = NULL;
	uint8_t *v;
	int backward = 1, rc = sluice_dns_parse_answer(msg, len, &a);

	if (rc == -1)
		return;
	/* The question: its Q view. */
	v = view(msg, len, 0);
	FUZZ_CHECK(ldns_wire2pkt(&p, v, len) == LDNS_STATUS_OK);
	FUZZ_CHECK(ldns_pkt_id(p) == a.id && ldns_pkt_qr(p) &&
		   ldns_pkt_get_opcode(p) == LDNS_PACKET_QUERY &&
		   ldns_pkt_get_rcode(p) == a.rcode);
	check_question(p, rc, a.names[0], a.qtype, a.qclass);
	ldns_pkt_free(p);
	free(v);
	if (rc == SLUICE_DNS_BAD_NAME) {
		compared_bad++;
		return;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(ldns_wire2rr(&q, msg, len, &qend, LDNS_SECTION_QUESTION) == LDNS_STATUS_OK);
	ldns_rr_free(q);
	an = answer_view(msg, len, qend, &backward);
	check_sound(&a, an);
	if ((a.flags & SLUICE_DNS_FLAG_TC) && !backward)
		skipped[SKIP_TC_NO_COMPLETENESS]++;
	else
		check_complete(&a, an);
	ldns_rr_list_deep_free(an);
	check_whole(msg, len, 0, a.names[0], a.qtype, a.qclass);
	compared_answer++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *msg;

	if (len < SLUICE_DNS_HEADER_LEN)
		return 0;
	msg = fuzz_copy(data, len);
	if (msg[2] & 0x80)
		check_answer(msg, len);
	else
		check_query(msg, len);
	free(msg);
	return 0;
}
