// SPDX-License-Identifier: GPL-2.0
/*
 * getflow CT_ID: asks the module who the flow of conntrack id CT_ID
 * belongs to (SLUICE_CMD_GET_FLOW, through agent/control.c as the agent
 * does) in the caller's network namespace, and prints one "key value"
 * line per field the module knows:
 *
 *   uid N / gid N / cgroup N / tgid N / start N / exe_dev MAJOR:MINOR /
 *   exe_ino N / comm NAME / inbound 1
 *
 * A test-only tool of the VM tier (tests/vm/cases/60-*). Exit status: 0
 * printed, 3 the module keeps nothing for CT_ID, 2 bad command line, 1
 * any other failure (one sentence on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/control.h"
#include "agent/identity.h"

int main(int argc, char **argv)
{
	struct sluice_kernel_identity id = { 0 };
	struct sluice_ctl *c;
	unsigned long long v;
	char err[256], *end;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: getflow CT_ID\n");
		return 2;
	}
	errno = 0;
	v = strtoull(argv[1], &end, 0);
	if (errno || *end || end == argv[1] || v > UINT32_MAX) {
		fprintf(stderr, "getflow: '%s' is not a conntrack id (0 .. 4294967295)\n",
			argv[1]);
		return 2;
	}
	c = sluice_ctl_open(err, sizeof(err));
	if (!c) {
		fprintf(stderr, "getflow: %s\n", err);
		return 1;
	}
	rc = sluice_ctl_get_flow(c, (uint32_t)v, &id);
	if (rc) {
		fprintf(stderr, "getflow: %s\n", sluice_ctl_error(c));
		sluice_ctl_close(c);
		return 1;
	}
	if (!id.have) {
		/* the module's own words (extended ack) */
		fprintf(stderr, "getflow: conntrack id %llu: %s\n", v,
			sluice_ctl_kernel_message(c));
		sluice_ctl_close(c);
		return 3;
	}
	sluice_ctl_close(c);

	if (id.have & SLUICE_KID_UID)
		printf("uid %" PRIu32 "\n", id.uid);
	if (id.have & SLUICE_KID_GID)
		printf("gid %" PRIu32 "\n", id.gid);
	if (id.have & SLUICE_KID_CGROUP)
		printf("cgroup %" PRIu64 "\n", id.cgroup_id);
	if (id.have & SLUICE_KID_TASK) {
		printf("tgid %" PRIu32 "\n", id.tgid);
		printf("start %" PRIu64 "\n", id.start_ticks);
		printf("exe_dev %" PRIu32 ":%" PRIu32 "\n", id.exe_major,
		       id.exe_minor);
		printf("exe_ino %" PRIu64 "\n", id.exe_ino);
		printf("comm %s\n", id.comm);
	}
	if (id.have & SLUICE_KID_INBOUND)
		printf("inbound 1\n");
	return 0;
}
