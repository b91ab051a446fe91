// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl: looks at and adjusts the sluice kernel module. A table of
 * subcommands, each in its own file (ctl_*.c) with its own --help.
 *
 * Exit codes:
 *   0  done
 *   1  the request failed: the module is not loaded, permission denied,
 *      the kernel refused, the state could not be read, or the policy
 *      database refused an edit (a bad value, no rule with that id)
 *   2  bad command line: unknown command, option or value
 */
#include <stdio.h>
#include <string.h>

#include "agent/ctl.h"
#include "agent/status.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *description;
} sluicectl_commands[] = {
	{ "status", sluicectl_status_main,
	  "Shows the mode, the agent's heartbeat and every counter" },
	{ "set", sluicectl_set_main,
	  "Changes the fail mode or the watchdog" },
	{ "import", sluicectl_import_main,
	  "Files a hosts file or domain list into a blocklist of the policy" },
	{ "explain", sluicectl_explain_main,
	  "Says what the policy decides for a flow, and which rule" },
	{ "log", sluicectl_log_main,
	  "Shows the decisions the agent logged, with uid, unit and program" },
	{ "top", sluicectl_top_main,
	  "Shows the busiest programs, destinations, names and rules, live" },
	{ "report", sluicectl_report_main,
	  "Writes an HTML page of charts from the decision log" },
	{ "rules", sluicectl_rules_main,
	  "Lists every rule of the policy" },
	{ "allow", sluicectl_add_main,
	  "Adds a rule that allows the flows it describes; prints its id" },
	{ "deny", sluicectl_add_main,
	  "Adds a rule that denies the flows it describes; prints its id" },
	{ "delete", sluicectl_change_main,
	  "Deletes a rule" },
	{ "enable", sluicectl_change_main,
	  "Puts a disabled rule back in force" },
	{ "disable", sluicectl_change_main,
	  "Takes a rule out of force, keeping it" },
};

#define SLUICECTL_N_COMMANDS \
	(sizeof(sluicectl_commands) / sizeof(sluicectl_commands[0]))

static void sluicectl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: sluicectl <cmd> [<args>]\n\nAvailable subcommands:\n");
	for (i = 0; i < SLUICECTL_N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", sluicectl_commands[i].name,
			sluicectl_commands[i].description);
	fprintf(f, "\nWithout a subcommand, sluicectl runs status. Pass --help to any\n"
		"subcommand for its usage; --version prints the version.\n"
		"Exit status: 0 done, 1 the request failed, 2 bad command line.\n");
}

int main(int argc, char *argv[])
{
	char *status_argv[] = { "status", NULL };
	size_t i;

	if (argc < 2)
		return sluicectl_status_main(1, status_argv);

	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		sluicectl_usage(stdout);
		return SLUICECTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v") ||
	    !strcmp(argv[1], "version")) {
		printf("sluicectl %s (generic netlink family \"%s\" version %d)\n",
		       SLUICE_VERSION, SLUICE_GENL_NAME, SLUICE_GENL_VERSION);
		return SLUICECTL_EXIT_OK;
	}

	for (i = 0; i < SLUICECTL_N_COMMANDS; i++)
		if (!strcmp(argv[1], sluicectl_commands[i].name))
			return sluicectl_commands[i].main(argc - 1, argv + 1);

	if (argv[1][0] == '-')
		fprintf(stderr, "sluicectl: unknown option \"%s\" (sluicectl --help lists the commands)\n",
			argv[1]);
	else
		fprintf(stderr, "sluicectl: \"%s\" is not a sluicectl command (sluicectl --help lists them)\n",
			argv[1]);
	return SLUICECTL_EXIT_USAGE;
}
