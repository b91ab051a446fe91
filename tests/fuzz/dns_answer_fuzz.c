// SPDX-License-Identifier: GPL-2.0
/*
 * DNS answers from any server, lying ones included: the answer parser and
 * the name chain helper, with the invariants the IP -> name cache relies
 * on. The same bytes also go round the query parser and the sinkhole
 * builder: a query we accept must give an answer we accept.
 */
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "agent/dns.h"
#include "tests/fuzz/fuzz_name.h"

static struct sluice_dns_answer a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *msg = fuzz_copy(data, len);
	uint8_t out[SLUICE_DNS_NAME_WIRE_MAX + 60];
	struct sluice_dns_query q;
	const char *chain[SLUICE_DNS_MAX_NAMES + 1];
	unsigned int i, j;
	int rc;

	rc = sluice_dns_parse_answer(msg, len, &a);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == SLUICE_DNS_BAD_NAME);
	if (rc == 0) {
		FUZZ_CHECK(a.n_names >= 1 && a.n_names <= SLUICE_DNS_MAX_NAMES);
		FUZZ_CHECK(a.n_addrs <= SLUICE_DNS_MAX_ADDRS);
		for (i = 0; i < a.n_names; i++) {
			fuzz_check_name(a.names[i]);
			FUZZ_CHECK(i == 0 || a.parent[i] < i);
			for (j = 0; j < i; j++)	/* each name once */
				FUZZ_CHECK(strcmp(a.names[i], a.names[j]) != 0);
		}
		for (i = 0; i < a.n_addrs; i++) {
			size_t n = sluice_dns_answer_chain(&a, i, chain, SLUICE_DNS_MAX_NAMES + 1);

			FUZZ_CHECK(a.addrs[i].family == AF_INET || a.addrs[i].family == AF_INET6);
			FUZZ_CHECK(a.addrs[i].name < a.n_names);
			FUZZ_CHECK(a.addrs[i].ttl < 0x80000000u);
			FUZZ_CHECK(n >= 1 && n <= a.n_names);
			FUZZ_CHECK(chain[n - 1] == a.names[0]);
		}
		/* Deterministic: the same bytes, the same result. */
		FUZZ_CHECK(sluice_dns_parse_answer(msg, len, &b) == 0);
		FUZZ_CHECK(b.n_addrs == a.n_addrs && b.n_names == a.n_names &&
			   b.skipped == a.skipped);
	}

	/* A response we read can always be replaced by a sinkhole. */
	{
		int arc = rc, mode;

		for (mode = 0; mode <= 1; mode++) {
			ssize_t n = sluice_dns_build_sinkhole_reply(msg, len, mode, out, sizeof(out));

			if (arc != -1)
				FUZZ_CHECK(n > 0);
			if (n > 0) {
				int back = sluice_dns_parse_answer(out, (size_t)n, &b);

				FUZZ_CHECK(back == 0 || back == SLUICE_DNS_BAD_NAME);
				FUZZ_CHECK(b.id == (uint16_t)(msg[0] << 8 | msg[1]));
			}
		}
	}

	/* Round trip: query -> sinkhole -> answer. */
	rc = sluice_dns_parse_query(msg, len, &q);
	if (rc != -1) {
		int mode;

		for (mode = 0; mode <= 1; mode++) {
			ssize_t n = sluice_dns_build_sinkhole(msg, len, mode, out, sizeof(out));

			FUZZ_CHECK(n > 0);
			FUZZ_CHECK(sluice_dns_parse_answer(out, (size_t)n, &a) == rc);
			FUZZ_CHECK(sluice_dns_parse_query(out, (size_t)n, &q) == -1);
		}
	}
	free(msg);
	return 0;
}
