/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A compiled set of domain patterns for matching names seen on the wire
 * (DNS questions and answers, TLS SNI, HTTP Host) against rules.domain and
 * blocklists (policy/schema.sql: lists, list_domains), sized for millions
 * of patterns.
 *
 * Patterns. "example.com" matches exactly that name. "*.example.com"
 * matches every name below example.com (www.example.com, a.b.example.com)
 * but not example.com itself. ASCII case does not matter and one trailing
 * dot is ignored, on patterns and on names alike. Names are compared in
 * their A-label (ASCII) form: a pattern that is not ASCII is refused with
 * a sentence saying to write it as xn--... (converting Unicode to A-labels
 * needs IDNA2008 mapping and NFC tables, which sluice does not carry), and a
 * non-ASCII name never matches. A pattern is letters, digits, '-' and '_'
 * in dot-separated labels of 1..63 bytes, at most 253 bytes in all.
 *
 * Payloads and the answer. Every pattern is added with a 32-bit payload;
 * the same pattern may be added with several payloads. The payload is a
 * rank: a lookup answers the LOWEST payload among all patterns that match
 * the name, whichever pattern that is (exact or wildcard, deep or
 * shallow). The policy uses the compiled rule index (rules and lists in
 * priority order) as the payload, so "lowest payload" is "first match wins"
 * across rules and lists. Callers who want "most specific wins" instead
 * give deeper patterns lower payloads.
 *
 * Lookup of a name with L labels probes the table at most L times: the
 * exact pattern of the whole name, then the wildcard pattern of every
 * proper label suffix (a.b.example.com: exact a.b.example.com, then
 * *.b.example.com, *.example.com, *.com). All suffix hashes come from one
 * right-to-left pass over the name, so the cost is O(length + L probes).
 *
 * Storage: one open-addressing table (linear probing, 16-byte slots, load
 * at most 0.7) and one contiguous arena holding every distinct pattern
 * once, without NUL; payloads of patterns added more than once live in a
 * third array. No allocation per entry, none at all during a lookup.
 *
 * Threads: a finished set is immutable and may be looked up from any number
 * of threads at once. Building (add, finish) belongs to one thread.
 */
#ifndef SLUICE_DOMAINS_H
#define SLUICE_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLUICE_DOMAIN_MAX	253		/* bytes of a name, no trailing dot */
#define SLUICE_DOMAINS_NONE	UINT32_MAX	/* lookup: nothing matches */

struct sluice_domains;

/*
 * Check and normalise one pattern: lower case, one trailing dot dropped,
 * "*." split off into *wild. out (SLUICE_DOMAIN_MAX + 1 bytes) gets the
 * name NUL-terminated, *outlen its length. Returns 0, or -1 with *why a
 * static phrase that completes "'<pattern>' ..." (e.g. "is not ASCII:
 * write an internationalised name in its A-label form, xn--...").
 */
int sluice_domain_normalise(const char *in, size_t len, char *out, size_t *outlen,
			    bool *wild, const char **why);

/* An empty set to add patterns to; expected sizes the table (0 is fine). */
struct sluice_domains *sluice_domains_new(size_t expected);

/*
 * Add pattern (len bytes, need not be NUL-terminated) with payload
 * (anything but SLUICE_DOMAINS_NONE). Returns 0; -EINVAL when the pattern
 * is not a domain pattern (*why says why, as sluice_domain_normalise);
 * -ENOMEM. Adding the same pattern and payload twice is harmless.
 */
int sluice_domains_add(struct sluice_domains *d, const char *pattern, size_t len,
		       uint32_t payload, const char **why);

/* Done adding: group repeated patterns' payloads. 0, or -ENOMEM. */
int sluice_domains_finish(struct sluice_domains *d);

/*
 * The lowest payload >= from among all patterns that match name (len
 * bytes), or SLUICE_DOMAINS_NONE. Only on a finished set. Names longer
 * than SLUICE_DOMAIN_MAX (after a trailing dot) match nothing.
 */
uint32_t sluice_domains_lookup_from(const struct sluice_domains *d, const char *name,
				    size_t len, uint32_t from);

static inline uint32_t sluice_domains_lookup(const struct sluice_domains *d,
					     const char *name, size_t len)
{
	return sluice_domains_lookup_from(d, name, len, 0);
}

size_t sluice_domains_count(const struct sluice_domains *d);	/* distinct patterns */
size_t sluice_domains_bytes(const struct sluice_domains *d);	/* heap bytes held */

void sluice_domains_free(struct sluice_domains *d);

#endif /* SLUICE_DOMAINS_H */
