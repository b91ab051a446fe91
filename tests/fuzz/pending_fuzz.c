// SPDX-License-Identifier: GPL-2.0
/*
 * A flow's first payload cut into segments and fed to the table that
 * joins them: sluice_pending_feed(). Input: one byte for the number of
 * segments (1..8), one of options (bit i: segment i is sent twice; bit 7:
 * each segment's successor comes early, ahead of a gap), then the
 * payload. Besides not crashing: a name handed out is in normal form;
 * whatever the cuts and retransmissions, the joined bytes name the flow
 * as the whole payload does at once (no cut can hide a name or change
 * it); a segment ahead of a gap is held back.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "agent/pending.h"
#include "agent/sni.h"
#include "tests/fuzz/fuzz_name.h"

static struct sluice_pending table;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .uid = -1,
				 .sport = 40000, .dport = 8443 };
	char whole[SLUICE_DNS_NAME_BUF], name[SLUICE_DNS_NAME_BUF];
	size_t n, i, plen;
	uint8_t opt, *pl;
	int rc, got = SLUICE_NAMING_WAIT, fed = 0;
	const uint32_t isn = 0xfffffff0U;	/* wraps inside the hello */

	if (!table.bytes && sluice_pending_init(&table) < 0)
		abort();
	if (len < 2)
		return 0;
	n = 1 + data[0] % SLUICE_PENDING_SEGMENTS;
	opt = data[1];
	plen = len - 2;
	if (plen == 0 || plen > SLUICE_PENDING_BYTES)
		return 0;
	pl = fuzz_copy(data + 2, plen);
	rc = sluice_payload_name(pl, plen, whole, sizeof(whole));

	for (i = 0; i < n && got == SLUICE_NAMING_WAIT; i++) {
		size_t a = plen * i / n, b = plen * (i + 1) / n;
		int again = opt >> i & 1;

		if (a == b)
			continue;
		if (fed && (opt & 0x80) && i + 1 < n && plen * (i + 2) / n > b) {
			size_t c = plen * (i + 2) / n;

			FUZZ_CHECK(sluice_pending_feed(&table, &f, isn + (uint32_t)b, pl + b,
						       c - b, 0, 1000, name, sizeof(name)) ==
				   SLUICE_NAMING_HOLD);
		}
		got = sluice_pending_feed(&table, &f, isn + (uint32_t)a, pl + a, b - a, 0,
					  1000, name, sizeof(name));
		FUZZ_CHECK(got >= SLUICE_NAMING_NAMED && got <= SLUICE_NAMING_UNREADABLE);
		FUZZ_CHECK(got != SLUICE_NAMING_HOLD);
		fed++;
		fuzz_check_name(name);
		if (got == SLUICE_NAMING_WAIT && again)
			FUZZ_CHECK(sluice_pending_feed(&table, &f, isn + (uint32_t)a, pl + a,
						       b - a, 0, 1000, name, sizeof(name)) ==
				   SLUICE_NAMING_WAIT);
	}
	/* All of it was fed: a name the whole has was found, and no other. */
	if (rc == SLUICE_SNI_FOUND) {
		FUZZ_CHECK(got == SLUICE_NAMING_NAMED);
		FUZZ_CHECK(strcmp(name, whole) == 0);
	}
	if (got == SLUICE_NAMING_NAMED && rc == SLUICE_SNI_ECH && whole[0])
		FUZZ_CHECK(strcmp(name, whole) == 0);
	/* Forget what is left, for the next input. */
	(void)sluice_pending_reply(&table, &f, 1000, name, sizeof(name));
	free(pl);
	return 0;
}
