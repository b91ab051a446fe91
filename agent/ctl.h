/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sluicectl subcommands that work on the policy database rather than on
 * the kernel module (those are declared in status.h). Same contract:
 * argv[0] is the subcommand's name, the return value the exit code
 * (SLUICECTL_EXIT_*).
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

/* The policy database sluiced and sluicectl use when no --db is given. */
#define SLUICE_DEFAULT_POLICY_DB	"/var/lib/sluice/policy.db"

/* sluicectl import: a hosts file or domain list into a list (ctl_import.c). */
int sluicectl_import_main(int argc, char *argv[]);

/* sluicectl explain: what the policy decides for a described flow (ctl_explain.c). */
int sluicectl_explain_main(int argc, char *argv[]);

/* sluicectl log: the decisions the agent logged (ctl_log.c). */
int sluicectl_log_main(int argc, char *argv[]);

#endif /* SLUICE_CTL_H */
