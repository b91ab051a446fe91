/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sluiced --journal[=all|denied]: every decision (or every deny) also goes
 * to the systemd journal as one entry with structured fields, so that
 * whatever already ships the journal collects them:
 *
 *	MESSAGE=deny out tcp 10.0.0.1:40000 -> 10.0.0.2:443 by rule 7 ...
 *	PRIORITY=6 (info) for allow, 5 (notice) for deny
 *	SLUICE_ACTION=allow|deny  SLUICE_RULE=ID|default  SLUICE_MASK=...
 *	SLUICE_DIRECTION  SLUICE_PROTO  SLUICE_SRC  SLUICE_SPORT  SLUICE_DST
 *	SLUICE_DPORT  SLUICE_DOMAIN  SLUICE_UID  SLUICE_EXE  SLUICE_UNIT
 *	MESSAGE_ID=SLUICE_JOURNAL_MESSAGE_ID  SYSLOG_IDENTIFIER=sluiced
 *
 * A field whose value is unknown (no name, no port, an identity the agent
 * could not tell) is left out rather than given a placeholder, so
 * "journalctl SLUICE_UID=1000" never matches a guess.
 *
 * The entries are sent by the decision log's thread as records leave its
 * ring (decision_log.h, sink), never by a verdict thread: a slow journal
 * fills the ring, whose drops are counted, and never delays a verdict.
 * journald's own rate limit (RateLimitBurst=, per service) may still
 * suppress entries of a flood; --journal=denied keeps the volume to the
 * denials.
 */
#ifndef SLUICE_JOURNAL_H
#define SLUICE_JOURNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "agent/decision_log.h"

/* journalctl MESSAGE_ID=... finds every decision of every sluiced. */
#define SLUICE_JOURNAL_MESSAGE_ID	"5e7c2a0f4b9d4c1e8a36f1d2b0c9e471"

#define SLUICE_JOURNAL_FIELDS_MAX	18

/* The fields of one entry: iov[i] points into buf. */
struct sluice_journal_fields {
	struct iovec iov[SLUICE_JOURNAL_FIELDS_MAX];
	unsigned int n;
	char buf[4096];
};

/* Build the entry of @r into @out (never fails: long values are cut). */
void sluice_journal_fields(const struct sluice_log_record *r,
			   struct sluice_journal_fields *out);

struct sluice_journal {
	int denied_only;		/* --journal=denied */
	atomic_uint_fast64_t sent;	/* entries the journal took */
	atomic_uint_fast64_t failed;	/* entries it refused */
	int said;			/* the first failure was reported */
};

/* The decision log's sink (struct sluice_log_options): @ctx is the journal. */
void sluice_journal_sink(void *ctx, const struct sluice_log_record *r);

#endif /* SLUICE_JOURNAL_H */
