// SPDX-License-Identifier: GPL-2.0
/*
 * Decisions to the systemd journal; see journal.h for the fields and why
 * they are sent from the decision log's thread.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "agent/journal.h"

/* Append "KEY=value" to @out; cut when the buffer runs out. */
static void field(struct sluice_journal_fields *out, size_t *used,
		  const char *fmt, ...)
{
	size_t room = sizeof(out->buf) - *used;
	va_list ap;
	int n;

	if (out->n == SLUICE_JOURNAL_FIELDS_MAX || room < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out->buf + *used, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room)
		n = (int)room - 1;
	out->iov[out->n].iov_base = out->buf + *used;
	out->iov[out->n].iov_len = (size_t)n;
	out->n++;
	*used += (size_t)n + 1;
}

void sluice_journal_fields(const struct sluice_log_record *r,
			   struct sluice_journal_fields *out)
{
	const char *dir = sluice_log_direction_name(r->direction);
	const char *proto = sluice_log_proto_name(r->proto);
	char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
	char pnum[8], rule[24], sp[8] = "", dp[8] = "", mask[64], uid[32] = "";
	const char *action = r->allow ? "allow" : "deny";
	size_t used = 0;

	out->n = 0;
	if (!proto) {
		snprintf(pnum, sizeof(pnum), "%u", r->proto);
		proto = pnum;
	}
	if (r->family == AF_INET || r->family == AF_INET6) {
		inet_ntop(r->family, r->src, src, sizeof(src));
		inet_ntop(r->family, r->dst, dst, sizeof(dst));
	}
	if (r->rule_id)
		snprintf(rule, sizeof(rule), "%lld", (long long)r->rule_id);
	else
		snprintf(rule, sizeof(rule), "default");
	if (r->sport)
		snprintf(sp, sizeof(sp), ":%u", r->sport);
	if (r->dport)
		snprintf(dp, sizeof(dp), ":%u", r->dport);
	if (r->uid >= 0)
		snprintf(uid, sizeof(uid), " uid %lld", (long long)r->uid);
	sluice_flow_mask_format(&r->mask, mask, sizeof(mask));

	field(out, &used, "MESSAGE=%s %s %s %s%s -> %s%s%s%s by %s%s%s%s%s%s%s",
	      action, dir ? dir : "?", proto, src, sp, dst, dp,
	      r->domain[0] ? " name " : "", r->domain,
	      r->rule_id ? "rule " : "", r->rule_id ? rule : "default action",
	      uid, r->exe[0] ? " exe " : "", r->exe,
	      r->unit[0] ? " unit " : "", r->unit);
	field(out, &used, "PRIORITY=%d", r->allow ? LOG_INFO : LOG_NOTICE);
	field(out, &used, "MESSAGE_ID=%s", SLUICE_JOURNAL_MESSAGE_ID);
	field(out, &used, "SYSLOG_IDENTIFIER=sluiced");
	field(out, &used, "SLUICE_ACTION=%s", action);
	field(out, &used, "SLUICE_RULE=%s", rule);
	if (mask[0])
		field(out, &used, "SLUICE_MASK=%s", mask);
	if (dir)
		field(out, &used, "SLUICE_DIRECTION=%s", dir);
	field(out, &used, "SLUICE_PROTO=%s", proto);
	if (src[0])
		field(out, &used, "SLUICE_SRC=%s", src);
	if (r->sport)
		field(out, &used, "SLUICE_SPORT=%u", r->sport);
	if (dst[0])
		field(out, &used, "SLUICE_DST=%s", dst);
	if (r->dport)
		field(out, &used, "SLUICE_DPORT=%u", r->dport);
	if (r->domain[0])
		field(out, &used, "SLUICE_DOMAIN=%s", r->domain);
	if (r->uid >= 0)
		field(out, &used, "SLUICE_UID=%lld", (long long)r->uid);
	if (r->exe[0])
		field(out, &used, "SLUICE_EXE=%s", r->exe);
	if (r->unit[0])
		field(out, &used, "SLUICE_UNIT=%s", r->unit);
}

void sluice_journal_sink(void *ctx, const struct sluice_log_record *r)
{
	struct sluice_journal *j = ctx;
	struct sluice_journal_fields jf;
	int rc;

	if (j->denied_only && r->allow)
		return;
	sluice_journal_fields(r, &jf);
	rc = sd_journal_sendv(jf.iov, (int)jf.n);
	if (rc < 0) {
		if (!j->said++)
			fprintf(stderr, "sluiced: the journal refused a decision (%s); counting the losses in sluice_journal_failed_records_total\n",
				strerror(-rc));
		atomic_fetch_add(&j->failed, 1);
	} else {
		atomic_fetch_add(&j->sent, 1);
	}
}
