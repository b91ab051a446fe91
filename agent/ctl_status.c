// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl status [--json]: what a new flow meets right now, the agent's
 * liveness, every counter, and the agent's own view of its policy.
 *
 * Netlink first (it has everything); /proc/net/sluice when netlink is not
 * permitted or fails, so that anyone can see whether the machine is
 * enforcing or failing open. The agent's queues as nfnetlink_queue counts
 * them (depth, drops) come from /proc/net/netfilter/nfnetlink_queue.
 * SLUICE_PROC, SLUICE_STATUS_FILE and SLUICE_NFQUEUE replace the three
 * paths, for tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ctl.h"
#include "agent/status.h"

static void sluicectl_status_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl status [--json]\n"
		"\n"
		"Shows what a new flow meets (enforcing, fail-open or fail-closed, and\n"
		"why), the agent's pid and heartbeat age, the queue, the watchdog, every\n"
		"counter of this network namespace, the depth and drops of the agent's\n"
		"queues, and which policy is in force (with a refused edit's error).\n"
		"Reads the \"sluice\" netlink family (CAP_NET_ADMIN), else %s.\n"
		"\n"
		"  --json   one JSON object instead of text\n",
		SLUICE_PROC_PATH);
}

static int sluicectl_status_netlink(struct sluice_status *st, char *err,
				    size_t errlen)
{
	struct sluice_ctl *c;
	int ret;

	c = sluice_ctl_open(err, errlen);
	if (!c)
		return -errno;
	ret = sluice_ctl_get_status(c, st);
	if (ret)
		snprintf(err, errlen, "%s", sluice_ctl_error(c));
	sluice_ctl_close(c);
	return ret;
}

int sluicectl_status_main(int argc, char *argv[])
{
	const char *proc_path = getenv("SLUICE_PROC");
	const char *agent_path = getenv("SLUICE_STATUS_FILE");
	const char *nfq_path = getenv("SLUICE_NFQUEUE");
	struct sluice_queue_report queues;
	unsigned int qfirst, qcount;
	char nl_err[320], proc_err[320], agent_err[320];
	struct sluice_agent_status agent;
	const char *source = "netlink";
	struct sluice_status st;
	bool json = false;
	int i, ret, pret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			sluicectl_status_usage(stdout);
			return SLUICECTL_EXIT_OK;
		} else {
			return sluicectl_usage_error("status", "unknown argument \"%s\"",
						     argv[i]);
		}
	}
	if (!proc_path || !*proc_path)
		proc_path = SLUICE_PROC_PATH;
	if (!agent_path || !*agent_path)
		agent_path = SLUICE_AGENT_STATUS_PATH;

	ret = sluicectl_status_netlink(&st, nl_err, sizeof(nl_err));
	if (ret) {
		pret = sluice_proc_read(proc_path, &st, proc_err,
					sizeof(proc_err));
		if (pret) {
			/*
			 * A missing or forbidden /proc file adds nothing to
			 * what netlink said; a broken one is the news.
			 */
			bool proc_news = pret != -ENOENT && pret != -EACCES &&
					 pret != -EPERM;

			fprintf(stderr, "sluicectl: %s\n",
				proc_news ? proc_err : nl_err);
			return SLUICECTL_EXIT_FAILED;
		}
		source = proc_path;
	}

	ret = sluice_agent_status_read(agent_path, &agent, agent_err,
				       sizeof(agent_err));
	if (ret && ret != -ENOENT)
		fprintf(stderr, "sluicectl: warning: %s\n", agent_err);

	/* The module's queues, else those the agent says it serves. */
	qfirst = st.config.queue_num;
	qcount = st.config.queue_count ? st.config.queue_count : 1;
	if (!(st.have & SLUICE_HAVE_QUEUE_NUM) && !ret) {
		const char *q = sluice_agent_status_get(&agent, "queue");
		const char *t = sluice_agent_status_get(&agent, "threads");

		qfirst = q ? (unsigned int)strtoul(q, NULL, 10) : 0;
		qcount = t ? (unsigned int)strtoul(t, NULL, 10) : 1;
	}
	sluice_queue_report_read(&queues, nfq_path && *nfq_path ? nfq_path : NULL,
				 (uint16_t)qfirst, qcount);

	if (json)
		sluice_status_print_json(stdout, &st, source,
					 ret ? NULL : &agent, &queues);
	else
		sluice_status_print_text(stdout, &st, source,
					 ret ? NULL : &agent, &queues);
	sluice_agent_status_free(&agent);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "sluicectl: cannot write to standard output: %s\n",
			strerror(errno));
		return SLUICECTL_EXIT_FAILED;
	}
	return SLUICECTL_EXIT_OK;
}
