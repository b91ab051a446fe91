/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow identity: which user, systemd unit and program a flow belongs to.
 * The module records the raw facts when it queues a flow's first packet
 * (uapi/sluice.h, "Flow identity"); the agent fetches them with
 * sluice_ctl_get_flow() only when its policy has a rule that needs them,
 * and resolves them into names here: the pid into an executable path
 * (checked against the device, inode and start time the kernel saw, so
 * that exec and pid reuse cannot fool it) and the cgroup id into a unit.
 */
#ifndef SLUICE_IDENTITY_H
#define SLUICE_IDENTITY_H

#include <stdint.h>

/* Which fields of struct sluice_kernel_identity the module knew. */
#define SLUICE_KID_UID		(1U << 0)
#define SLUICE_KID_GID		(1U << 1)
#define SLUICE_KID_CGROUP	(1U << 2)
#define SLUICE_KID_TASK		(1U << 3)	/* tgid, start, exe_*, comm */
#define SLUICE_KID_INBOUND	(1U << 4)	/* from the receiving socket */

/* What the module said about one flow (SLUICE_A_IDENTITY, decoded). */
struct sluice_kernel_identity {
	uint32_t have;			/* SLUICE_KID_* */
	uint32_t uid, gid;
	uint64_t cgroup_id;
	uint32_t tgid;
	uint64_t start_ticks;		/* /proc/PID/stat field 22 */
	uint32_t exe_major, exe_minor;
	uint64_t exe_ino;
	char comm[16];
};

#endif /* SLUICE_IDENTITY_H */
