// SPDX-License-Identifier: GPL-2.0
/*
 * TLS ClientHellos, whole, cut or split over records: sluice_tls_sni().
 * Besides not crashing: a name handed out is in normal form, and a prefix
 * of the bytes never contradicts what the whole says (a cut hello is
 * "truncated" or already has the same name), which is what a caller that
 * decides on the first segment relies on.
 */
#include <stdint.h>
#include <stddef.h>

#include "agent/sni.h"
#include "tests/fuzz/fuzz_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char out[SLUICE_DNS_NAME_BUF], cut_out[SLUICE_DNS_NAME_BUF];
	uint8_t *msg = fuzz_copy(data, len);
	size_t cut = len ? data[0] % (len + 1) : 0;
	int rc, crc;

	rc = sluice_tls_sni(msg, len, out, sizeof(out));
	FUZZ_CHECK(rc >= SLUICE_SNI_BAD_NAME && rc <= SLUICE_SNI_ECH);
	if (rc == SLUICE_SNI_FOUND)
		FUZZ_CHECK(out[0] != '\0');
	fuzz_check_name(out);
	/* A small buffer is refused, never overrun. */
	(void)sluice_tls_sni(msg, len, out, 4);
	(void)sluice_tls_sni(msg, len, out, 0);

	free(msg);
	msg = fuzz_copy(data, cut);
	crc = sluice_tls_sni(msg, cut, cut_out, sizeof(cut_out));
	rc = sluice_tls_sni(data, len, out, sizeof(out));
	if (cut < len && rc != SLUICE_SNI_NOT_HELLO && rc != SLUICE_SNI_BAD_NAME) {
		FUZZ_CHECK(crc == SLUICE_SNI_TRUNCATED || crc == SLUICE_SNI_FOUND ||
			   crc == SLUICE_SNI_ECH || crc == rc);
		if (crc == SLUICE_SNI_FOUND || (crc == SLUICE_SNI_ECH && cut_out[0]))
			FUZZ_CHECK(strcmp(cut_out, out) == 0);
	}
	free(msg);
	return 0;
}
