// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/1 request heads: sluice_http_host(). A name handed out is in normal
 * form, and any prefix of a request the parser accepts is "truncated":
 * a first segment that ends early must never be taken for a refusal.
 */
#include <stdint.h>
#include <stddef.h>

#include "agent/sni.h"
#include "tests/fuzz/fuzz_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char out[SLUICE_DNS_NAME_BUF], cut_out[SLUICE_DNS_NAME_BUF];
	uint8_t *msg = fuzz_copy(data, len);
	size_t cut = len ? data[len - 1] * len / 256 : 0;
	int rc, crc;

	rc = sluice_http_host(msg, len, out, sizeof(out));
	FUZZ_CHECK(rc >= SLUICE_SNI_BAD_NAME && rc <= SLUICE_SNI_TRUNCATED);
	if (rc == SLUICE_SNI_FOUND)
		FUZZ_CHECK(out[0] != '\0');
	fuzz_check_name(out);
	(void)sluice_http_host(msg, len, out, 4);
	(void)sluice_http_host(msg, len, out, 0);
	free(msg);

	msg = fuzz_copy(data, cut);
	crc = sluice_http_host(msg, cut, cut_out, sizeof(cut_out));
	rc = sluice_http_host(data, len, out, sizeof(out));
	if ((rc == SLUICE_SNI_FOUND || rc == SLUICE_SNI_NONE) && cut < len) {
		/* The whole head is fine, so no prefix of it is refused... */
		FUZZ_CHECK(crc == SLUICE_SNI_TRUNCATED || crc == rc);
		/* ...and a host offered early is the final one. */
		if (crc == SLUICE_SNI_TRUNCATED && cut_out[0] && rc == SLUICE_SNI_FOUND)
			FUZZ_CHECK(strcmp(cut_out, out) == 0);
	}
	free(msg);
	return 0;
}
