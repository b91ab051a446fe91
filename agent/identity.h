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

#include <stdbool.h>
#include <stddef.h>
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

/*
 * The resolver: the kernel's facts into names, with bounded caches. One
 * resolver belongs to one thread (each verdict thread has its own): no
 * locks. Memory is allocated once, by sluice_identity_new(); resolving
 * allocates nothing (but for reading mountinfo, until the cgroup2 mount
 * is found).
 *
 * Executable. tgid -> readlink PROC/TGID/exe, accepted only when field 22
 * of PROC/TGID/stat equals the kernel's start time (read before and after
 * the link, so a pid reused meanwhile is caught) and stat() of
 * PROC/TGID/exe has the kernel's device and inode (so a process that
 * exec'd another program since, or a reused pid, is never given the new
 * program's name). A link ending in " (deleted)" (the file was removed or
 * replaced since the exec) is unknown too: the path names another file
 * now. Anything else that does not check out is unknown, never a guess.
 * Answers are cached by (tgid, start, device, inode): that key names one
 * process incarnation running one file, so a cached answer stays true
 * after the process exits, and a new process or an exec is a new key.
 *
 * Unit. On cgroup v2 a cgroup directory's inode number is its id (what
 * the kernel reports). A scan of the cgroup2 mount (found in
 * PROC/self/mountinfo unless given) maps every cgroup id to the unit of its
 * path; an id the map lacks makes it scan again, at most once every
 * SLUICE_CGROUP_RESCAN_MS, so that a flood of unknown ids costs one scan a
 * period. Cgroup ids are never reused while the system runs, so entries of
 * removed cgroups do no harm until the next scan drops them.
 */
#define SLUICE_EXE_CACHE	256		/* processes remembered */
#define SLUICE_EXE_CACHE_PATH	256		/* longer paths: resolved, not kept */
#define SLUICE_CGROUP_MAX	16384		/* cgroups a scan maps */
#define SLUICE_CGROUP_NAMES	(256 * 1024)	/* bytes of unit names a scan keeps */
#define SLUICE_CGROUP_DEPTH	32		/* deeper cgroups are not mapped */
#define SLUICE_CGROUP_RESCAN_MS	100
#define SLUICE_UNIT_MAX		256		/* systemd's limit, NUL included */

struct sluice_identity_stats {
	uint64_t exe_hits, exe_misses, exe_unknown;
	uint64_t cgroup_scans, cgroup_unknown;
	uint64_t cgroups;			/* mapped by the last scan */
};

struct sluice_identity;

/*
 * A resolver reading @proc_root (NULL: "/proc") and the cgroup2 tree at
 * @cgroup_root (NULL: the cgroup2 mount of PROC/self/mountinfo; none: every
 * unit is unknown). NULL when out of memory.
 */
struct sluice_identity *sluice_identity_new(const char *proc_root,
					    const char *cgroup_root);
void sluice_identity_free(struct sluice_identity *r);

/*
 * The path of the executable the kernel saw in @kid (SLUICE_KID_TASK).
 * 0 with the path in @out, or -1: unknown (no task, the process is gone,
 * exec'd another program, its pid was reused, or @outlen is too small).
 */
int sluice_identity_exe(struct sluice_identity *r,
			const struct sluice_kernel_identity *kid,
			char *out, size_t outlen);

/*
 * The systemd unit of cgroup @cgroup_id (see sluice_unit_of_cgroup_path),
 * at @now_ms (CLOCK_MONOTONIC, for the rescan rate limit). 0 with the
 * name in @out, or -1: unknown.
 */
int sluice_identity_unit(struct sluice_identity *r, uint64_t cgroup_id,
			 uint64_t now_ms, char *out, size_t outlen);

void sluice_identity_get_stats(const struct sluice_identity *r,
			       struct sluice_identity_stats *st);

/*
 * The unit a cgroup path belongs to: its innermost component that is a
 * unit name ending in .service or .scope ("/system.slice/nginx.service"
 * -> nginx.service; ".../user@1000.service/app.slice/x.scope" -> x.scope);
 * failing that, its innermost .slice ("/demo.slice" -> demo.slice: a
 * process placed in a slice's own cgroup by hand). Components that are not
 * valid unit names are skipped. -1 when there is none ("/", "/docker/42").
 */
int sluice_unit_of_cgroup_path(const char *path, char *out, size_t outlen);

/*
 * Is @name a unit name rules.unit takes: 1..255 bytes of [A-Za-z0-9:_.@\-]
 * ending in .service, .scope or .slice, with a non-empty prefix, at most
 * one '@' and, when it has one, a non-empty instance (a template such as
 * getty@.service never runs). NULL or a static sentence saying what is
 * wrong.
 */
const char *sluice_unit_name_problem(const char *name);

#endif /* SLUICE_IDENTITY_H */
