// SPDX-License-Identifier: GPL-2.0
/*
 * DNS queries as a client or another resolver sends them: the query
 * parser, both sinkhole builders and the DNS/TCP framing. Whatever the
 * parser accepts, the builder must answer, and our own answer parser must
 * read that answer back with the same id and name.
 */
#include <stdint.h>
#include <stddef.h>

#include "agent/dns.h"
#include "tests/fuzz/fuzz_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct sluice_dns_answer a;
	struct sluice_dns_query q;
	uint8_t out[SLUICE_DNS_NAME_WIRE_MAX + 60 + 2];
	uint8_t *msg = fuzz_copy(data, len);
	const uint8_t *m;
	size_t mlen;
	int rc, mode;

	rc = sluice_dns_parse_query(msg, len, &q);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == SLUICE_DNS_BAD_NAME);
	if (rc != -1) {
		fuzz_check_name(q.qname);
		FUZZ_CHECK(q.question_len >= 5 && 12 + q.question_len <= len);
	}
	for (mode = 0; mode <= 1; mode++) {
		ssize_t n = sluice_dns_build_sinkhole(msg, len, mode, out, sizeof(out) - 2);

		FUZZ_CHECK((n > 0) == (rc != -1));
		if (n < 0)
			continue;
		FUZZ_CHECK(sluice_dns_parse_answer(out, (size_t)n, &a) == rc);
		FUZZ_CHECK(a.id == q.id);
		if (rc == 0) {
			FUZZ_CHECK(strcmp(a.names[0], q.qname) == 0);
			FUZZ_CHECK(a.rcode == (mode ? 0 : 3));
			FUZZ_CHECK(a.n_addrs <= 1 && a.skipped == 0);
		}
		/* Every shorter buffer is refused, never overrun. */
		FUZZ_CHECK(sluice_dns_build_sinkhole(msg, len, mode, out, (size_t)n - 1) == -1);
	}

	/* The same bytes as the start of a DNS/TCP stream. */
	rc = sluice_dns_tcp_message(msg, len, &m, &mlen);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == 0)
		FUZZ_CHECK(m == msg + 2 && mlen + 2 <= len && mlen >= 12);
	(void)sluice_dns_build_sinkhole_tcp(msg, len, 0, out, sizeof(out));
	free(msg);
	return 0;
}
