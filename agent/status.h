/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `sluicectl status` shows, as text for people and JSON for scripts:
 * the module's state (struct sluice_status, from netlink or
 * /proc/net/sluice) and the agent's own status file.
 *
 * The agent's status file is written by sluiced (replace it with a
 * rename so that readers never see half of it): one "key=value" a line,
 * the value running to the end of the line, for example
 *
 *	policy_db=/var/lib/sluice/policy.db
 *	policy_rules=12
 *	policy_error=
 *	policy_loaded_at=2024-05-01T10:00:00Z
 *	decisions_logged=3456
 *	decisions_failed=0	(records lost: their batch could not be written)
 *	log_error=		(why, while the decision log cannot be written)
 *
 *	policy_source=last-good
 *	policy_in_force=last good copy /var/lib/sluice/policy.db.last-good
 *		from 2024-05-01 09:58:00 UTC, because rules row 7: ... (one line)
 *
 * An empty policy_error means the last reload worked; policy_source
 * (database, last-good or built-in) and policy_in_force say which policy
 * is in force and, when it is not the database's, why. Blank lines and
 * lines starting with '#' are ignored; so are lines without '='.
 */
#ifndef SLUICE_STATUS_H
#define SLUICE_STATUS_H

#include <stdio.h>

#include "agent/control.h"
#include "agent/metrics.h"

#define SLUICE_AGENT_STATUS_PATH	"/run/sluice/status"
#define SLUICE_AGENT_STATUS_MAX		64	/* lines kept */

struct sluice_agent_kv {
	char *key;
	char *value;
};

struct sluice_agent_status {
	struct sluice_agent_kv kv[SLUICE_AGENT_STATUS_MAX];
	size_t n;
};

/*
 * Reads the agent's status file. Returns 0, or -errno (-ENOENT: no agent
 * wrote one) with one sentence in @err. Free with ..._free() either way.
 */
int sluice_agent_status_read(const char *path, struct sluice_agent_status *out,
			     char *err, size_t errlen);
int sluice_agent_status_parse(const char *text, size_t len,
			      struct sluice_agent_status *out);
void sluice_agent_status_free(struct sluice_agent_status *as);
const char *sluice_agent_status_get(const struct sluice_agent_status *as,
				    const char *key);

/*
 * The queues of the namespace's agent as nfnetlink_queue counts them
 * (/proc/net/netfilter/nfnetlink_queue): packets waiting for a verdict,
 * dropped because the queue was full, dropped because the agent's socket
 * could not take them.
 */
struct sluice_queue_report {
	uint16_t first;			/* queue_num */
	unsigned int count;		/* queues first .. first + count - 1 */
	int readable;			/* 0: error[] says why */
	char error[320];
	unsigned int n;			/* lines found: bound queues */
	struct sluice_nfqueue_stats q[SLUICE_QUEUE_COUNT_MAX];
};

/* Read @path (NULL: the kernel's file) for queues @first .. + @count - 1. */
void sluice_queue_report_read(struct sluice_queue_report *r, const char *path,
			      uint16_t first, unsigned int count);

/* "queues:" and "drops:" of the text; ,"queues": ..., "drops": ... of JSON. */
void sluice_queues_print_text(FILE *f, const struct sluice_status *st,
			      const struct sluice_queue_report *r);
void sluice_queues_print_json(FILE *f, const struct sluice_status *st,
			      const struct sluice_queue_report *r);

/*
 * Which policy is in force, from the agent's status file: "database"
 * (as the file is now), "last-good-policy" (the last one that compiled
 * from it: its latest edit was refused), "last-good-copy" (PATH.last-good,
 * since the agent's start) or "built-in"; and the refused edit's error
 * (NULL: none). The text's "policy in force:" and "refused edit:" lines,
 * the JSON's "policy_in_force" and "policy_refused_error".
 */
const char *sluice_policy_state(const struct sluice_agent_status *agent,
				const char **refused);
void sluice_policy_state_print_text(FILE *f,
				    const struct sluice_agent_status *agent);
void sluice_policy_state_print_json(FILE *f,
				    const struct sluice_agent_status *agent);

/*
 * Prints @st and, when not NULL, @agent and @queues. @source_name says
 * where @st came from ("netlink" or the /proc path).
 */
void sluice_status_print_text(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent,
			      const struct sluice_queue_report *queues);
void sluice_status_print_json(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent,
			      const struct sluice_queue_report *queues);

/* @str for a terminal: control bytes and invalid UTF-8 as '?'. */
void sluice_print_clean(FILE *f, const char *str);

/* @s as a JSON string: escaped, and invalid UTF-8 replaced by U+FFFD. */
void sluice_json_string(FILE *f, const char *s);

/* The proc token of a mode: "no-agent", "enforcing", "hung", "draining". */
const char *sluice_mode_token(uint8_t mode);

/*
 * "in,out,forward" (any subset and order; "all"; "none") to SLUICE_HOOK_*
 * bits, or -1 for a name that is not a hook.
 */
int64_t sluice_hooks_parse(const char *list);

/*
 * sluicectl's subcommands, one file each (ctl_status.c, ctl_set.c).
 * @argv[0] is the subcommand's name; the return value is the exit code.
 */
#define SLUICECTL_EXIT_OK	0	/* done */
#define SLUICECTL_EXIT_FAILED	1	/* module absent, refused, unreadable */
#define SLUICECTL_EXIT_USAGE	2	/* bad command line */

int sluicectl_status_main(int argc, char *argv[]);
int sluicectl_set_main(int argc, char *argv[]);

#endif /* SLUICE_STATUS_H */
