// SPDX-License-Identifier: GPL-2.0
/*
 * What `sluicectl status` adds to the module's counters: the depth and
 * the losses of the agent's queues as nfnetlink_queue counts them, the
 * packets lost for want of an agent, and which policy is in force (the
 * database's, its last good policy after a refused edit, the last good
 * copy or the built-in default) with the refused edit's error.
 *
 * nfnetlink_queue counts per bound queue: its counters start again at 0
 * when the agent binds the queue anew (a restart). In fail-open mode the
 * module sets the queue's fail-open flag, so a full queue lets packets
 * pass unjudged and counts nothing there; "dropped" only moves in
 * fail-closed mode.
 */
#include <string.h>

#include "agent/status.h"

void sluice_queue_report_read(struct sluice_queue_report *r, const char *path,
			      uint16_t first, unsigned int count)
{
	int n;

	memset(r, 0, sizeof(*r));
	if (count > SLUICE_QUEUE_COUNT_MAX)
		count = SLUICE_QUEUE_COUNT_MAX;
	r->first = first;
	r->count = count;
	n = sluice_nfqueue_read(path, first, count, r->q, r->error,
				sizeof(r->error));
	r->readable = n >= 0;
	r->n = n > 0 ? (unsigned int)n : 0;
}

/* The line of queue @num, NULL when nobody has bound it. */
static const struct sluice_nfqueue_stats *
queue_line(const struct sluice_queue_report *r, unsigned int num)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->q[i].queue_num == num)
			return &r->q[i];
	return NULL;
}

static void sums(const struct sluice_queue_report *r, uint64_t *waiting,
		 uint64_t *dropped, uint64_t *user_dropped)
{
	unsigned int i;

	*waiting = *dropped = *user_dropped = 0;
	for (i = 0; i < r->n; i++) {
		*waiting += r->q[i].total;
		*dropped += r->q[i].dropped;
		*user_dropped += r->q[i].user_dropped;
	}
}

static uint64_t failed_closed(const struct sluice_status *st, bool *have)
{
	*have = st->stats_have & (1ULL << SLUICE_STAT_FAILED_CLOSED);
	return st->stats[SLUICE_STAT_FAILED_CLOSED];
}

void sluice_queues_print_text(FILE *f, const struct sluice_status *st,
			      const struct sluice_queue_report *r)
{
	uint64_t waiting, dropped, udropped, closed;
	unsigned int i;
	bool have;

	fprintf(f, "\nqueues:\n");
	if (!r->readable) {
		fprintf(f, "  unknown: %s\n", r->error);
	} else {
		for (i = 0; i < r->count; i++) {
			const struct sluice_nfqueue_stats *q = queue_line(r, r->first + i);

			if (!q)
				fprintf(f, "  queue %u: not bound\n", r->first + i);
			else
				fprintf(f, "  queue %u: depth %u, dropped (queue full) %u, dropped (socket full) %u\n",
					q->queue_num, q->total, q->dropped,
					q->user_dropped);
		}
	}
	sums(r, &waiting, &dropped, &udropped);
	closed = failed_closed(st, &have);
	fprintf(f, "\ndrops:\n");
	if (r->readable) {
		fprintf(f, "  queue depth now: %llu\n", (unsigned long long)waiting);
		fprintf(f, "  queue full (queue_dropped): %llu\n",
			(unsigned long long)dropped);
		fprintf(f, "  agent socket full (user_dropped): %llu\n",
			(unsigned long long)udropped);
	}
	if (have)
		fprintf(f, "  no live agent, fail-closed (failed_closed): %llu\n",
			(unsigned long long)closed);
}

void sluice_queues_print_json(FILE *f, const struct sluice_status *st,
			      const struct sluice_queue_report *r)
{
	uint64_t waiting, dropped, udropped, closed;
	const char *sep = "";
	unsigned int i;
	bool have;

	fprintf(f, ",\n  \"queues\": ");
	if (!r->readable) {
		fprintf(f, "null,\n  \"queues_error\": ");
		sluice_json_string(f, r->error);
	} else {
		fprintf(f, "[");
		for (i = 0; i < r->count; i++) {
			const struct sluice_nfqueue_stats *q = queue_line(r, r->first + i);

			fprintf(f, "%s\n    {\"queue\": %u, \"bound\": %s", sep,
				r->first + i, q ? "true" : "false");
			if (q)
				fprintf(f, ", \"depth\": %u, \"queue_dropped\": %u, \"user_dropped\": %u",
					q->total, q->dropped, q->user_dropped);
			fprintf(f, "}");
			sep = ",";
		}
		fprintf(f, "%s]", *sep ? "\n  " : "");
	}
	sums(r, &waiting, &dropped, &udropped);
	closed = failed_closed(st, &have);
	fprintf(f, ",\n  \"drops\": {");
	if (r->readable)
		fprintf(f, "\"queue_depth\": %llu, \"queue_dropped\": %llu, \"user_dropped\": %llu",
			(unsigned long long)waiting, (unsigned long long)dropped,
			(unsigned long long)udropped);
	else
		fprintf(f, "\"queue_depth\": null, \"queue_dropped\": null, \"user_dropped\": null");
	if (have)
		fprintf(f, ", \"failed_closed\": %llu", (unsigned long long)closed);
	else
		fprintf(f, ", \"failed_closed\": null");
	fprintf(f, "}");
}

/* ---- which policy is in force ---- */

const char *sluice_policy_state(const struct sluice_agent_status *agent,
				const char **refused)
{
	const char *src = sluice_agent_status_get(agent, "policy_source");
	const char *err = sluice_agent_status_get(agent, "policy_error");

	*refused = err && *err ? err : NULL;
	if (src && !strcmp(src, "last-good"))
		return "last-good-copy";
	if (src && !strcmp(src, "built-in"))
		return "built-in";
	return *refused ? "last-good-policy" : "database";
}

static const char *policy_state_words(const char *state)
{
	if (!strcmp(state, "last-good-policy"))
		return "the last good policy (the last that compiled from the database; its latest edit was refused)";
	if (!strcmp(state, "last-good-copy"))
		return "the last good copy (the database could not be used at start)";
	if (!strcmp(state, "built-in"))
		return "the built-in default policy (neither the database nor a last good copy could be used)";
	return "the database, as it is now";
}

void sluice_policy_state_print_text(FILE *f,
				    const struct sluice_agent_status *agent)
{
	const char *refused, *state = sluice_policy_state(agent, &refused);

	fprintf(f, "\npolicy in force: %s\n", policy_state_words(state));
	if (refused) {
		fprintf(f, "refused edit: ");
		sluice_print_clean(f, refused);
		fputc('\n', f);
	}
}

void sluice_policy_state_print_json(FILE *f,
				    const struct sluice_agent_status *agent)
{
	const char *refused, *state = sluice_policy_state(agent, &refused);

	fprintf(f, ",\n  \"policy_in_force\": \"%s\",\n  \"policy_refused_error\": ",
		state);
	if (refused)
		sluice_json_string(f, refused);
	else
		fprintf(f, "null");
}
