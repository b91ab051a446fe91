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
 * Prints @st and, when not NULL, @agent. @source_name says where @st
 * came from ("netlink" or the /proc path).
 */
void sluice_status_print_text(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent);
void sluice_status_print_json(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent);

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
