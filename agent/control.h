/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control channel to the kernel module: the generic netlink family
 * "sluice" (uapi/sluice.h), used by sluiced to register, heart-beat, drain
 * and leave, and by sluicectl to read and change the state. Also the
 * /proc/net/sluice reader, for callers without CAP_NET_ADMIN.
 *
 * Every function returns 0 or a negative errno. The codes callers act on:
 *
 *   -ENOENT     the family is gone: the module is not loaded, or was
 *               unloaded under us. Nothing on this handle works again;
 *               close it, and sluice_ctl_open() again until the module
 *               is back (then REGISTER again: the new module knows
 *               nothing of us).
 *   -ENOTCONN   the module answered that no agent is registered (a
 *               HEARTBEAT, DRAIN or UNREGISTER before REGISTER).
 *   -EBUSY      another socket is the registered agent of this namespace
 *               (it registered after us).
 *   -EPERM      the caller lacks CAP_NET_ADMIN.
 *   -ETIMEDOUT  no answer within SLUICE_CTL_TIMEOUT_MS.
 *   -EPROTO     the reply was malformed.
 *   other       what the kernel said (for example -EINVAL, -ERANGE for a
 *               value its policy refuses).
 *
 * sluice_ctl_error() turns the last failure into one sentence, with the
 * kernel's own explanation (extended ack) when it gave one.
 *
 * A handle may be shared by threads: requests are serialised by a lock
 * inside, so the heartbeat thread and the main loop never read each
 * other's answers. The kernel knows the agent by this handle's socket:
 * HEARTBEAT, DRAIN and UNREGISTER must use the handle that REGISTERed.
 */
#ifndef SLUICE_CONTROL_H
#define SLUICE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/sluice.h"

/* How long any request may wait for the kernel's answer. */
#define SLUICE_CTL_TIMEOUT_MS	1000

/* Where the module shows its state to anyone, one "key value" a line. */
#define SLUICE_PROC_PATH	"/proc/net/sluice"

/* heartbeat_age_ms when the agent never beat (or there is none). */
#define SLUICE_AGE_NEVER	UINT32_MAX

struct sluice_config {
	uint16_t queue_num;
	uint16_t queue_count;		/* queues queue_num .. + count - 1 */
	uint8_t fail_mode;		/* enum sluice_fail_mode */
	uint32_t watchdog_ms;
	uint32_t hooks;			/* SLUICE_HOOK_* bits */
	uint32_t mark_mask;
};

/* Which fields of struct sluice_status the source reported. */
#define SLUICE_HAVE_AGENT_PID	(1U << 0)
#define SLUICE_HAVE_HEARTBEAT	(1U << 1)
#define SLUICE_HAVE_QUEUE_NUM	(1U << 2)
#define SLUICE_HAVE_WATCHDOG	(1U << 3)
#define SLUICE_HAVE_HOOKS	(1U << 4)	/* netlink only */
#define SLUICE_HAVE_MARK_MASK	(1U << 5)	/* netlink only */

enum sluice_status_source {
	SLUICE_SOURCE_NETLINK,
	SLUICE_SOURCE_PROC,
};

struct sluice_status {
	uint8_t mode;			/* enum sluice_mode */
	uint32_t agent_pid;		/* 0: none */
	uint32_t heartbeat_age_ms;	/* SLUICE_AGE_NEVER: never */
	uint64_t stats[__SLUICE_STAT_MAX];
	struct sluice_config config;

	uint32_t have;			/* SLUICE_HAVE_* */
	uint64_t stats_have;		/* bit (1 << SLUICE_STAT_x) */
	enum sluice_status_source source;
};

struct sluice_ctl;

/*
 * Opens a generic netlink socket and resolves the "sluice" family. On
 * failure returns NULL, sets errno (ENOENT: module not loaded) and writes
 * one sentence into @err.
 */
struct sluice_ctl *sluice_ctl_open(char *err, size_t errlen);

/*
 * The same for another family (@family must outlive the handle): only
 * for tests, which drive the request machinery against a family that
 * exists on any kernel ("nlctrl") to check errors, timeouts and reuse.
 */
struct sluice_ctl *sluice_ctl_open_family(const char *family, char *err,
					  size_t errlen);
void sluice_ctl_close(struct sluice_ctl *c);

/* The socket, for poll(); only the handle's own requests read from it. */
int sluice_ctl_fd(struct sluice_ctl *c);

/* True once a request found the family gone (-ENOENT): reopen. */
bool sluice_ctl_gone(const struct sluice_ctl *c);

/*
 * Become the namespace's agent. @queue_num < 0 lets the module choose;
 * the reply says which queue to bind in @out->queue_num.
 */
int sluice_ctl_register(struct sluice_ctl *c, struct sluice_config *out);
int sluice_ctl_register_queue(struct sluice_ctl *c, int32_t queue_num,
			      struct sluice_config *out);
/* The same for @count queues from @queue_num, one verdict thread each. */
int sluice_ctl_register_queues(struct sluice_ctl *c, int32_t queue_num,
			       uint16_t count, struct sluice_config *out);
/*
 * REGISTER naming the agent's bound queue sockets (@count port ids, or
 * NULL): the module fails over when any of them is closed.
 */
int sluice_ctl_register_agent(struct sluice_ctl *c, int32_t queue_num,
			      uint16_t count, const uint32_t *portids,
			      struct sluice_config *out);
int sluice_ctl_unregister(struct sluice_ctl *c);

/*
 * Whether the module should record who each queued flow belongs to
 * (SLUICE_A_WANT_IDENTITY: 1 yes, 0 no, -1 say nothing, the default,
 * which a module takes as yes and one older than the attribute needs).
 * Said from now on in REGISTER and in every heartbeat. 0 or -ENOMEM.
 */
int sluice_ctl_want_identity(struct sluice_ctl *c, int want);

/* Cheap: one message built at open, sent again; waits for the ack. */
int sluice_ctl_heartbeat(struct sluice_ctl *c);
/* A heartbeat whose reply (when the module sends one) fills @out. */
int sluice_ctl_heartbeat_config(struct sluice_ctl *c, struct sluice_config *out);
/* After a policy change: the module forgets the flows denied so far. */
int sluice_ctl_forget_denied(struct sluice_ctl *c);
int sluice_ctl_drain(struct sluice_ctl *c);
/*
 * The agent is being replaced and leaves its queue sockets open for its
 * successor, who must register within @grace_ms (SLUICE_HANDOVER_MS_MIN
 * .. _MAX). A module without the command answers -EOPNOTSUPP.
 */
int sluice_ctl_handover(struct sluice_ctl *c, uint32_t grace_ms);

int sluice_ctl_get_config(struct sluice_ctl *c, struct sluice_config *out);

/*
 * Who the flow of conntrack id @ct_id belongs to, as the module recorded
 * it when it queued the flow's first packet (SLUICE_CMD_GET_FLOW). Fills
 * @out (struct sluice_kernel_identity, agent/identity.h) and returns 0;
 * out->have is 0 when the module keeps nothing for @ct_id (no local
 * socket, or forgotten). A module without the command: -EOPNOTSUPP or
 * -EINVAL; the module gone: -ENOENT. One request at a time per handle:
 * verdict threads each need their own.
 */
struct sluice_kernel_identity;
int sluice_ctl_get_flow(struct sluice_ctl *c, uint32_t ct_id,
			struct sluice_kernel_identity *out);

/* @fail_mode: enum sluice_fail_mode or -1 to keep; @watchdog_ms: -1 keeps. */
int sluice_ctl_set_config(struct sluice_ctl *c, int fail_mode,
			  int64_t watchdog_ms);
int sluice_ctl_get_status(struct sluice_ctl *c, struct sluice_status *out);

/* The hooks of the caller's namespace, SLUICE_HOOK_* bits (not 0). */
int sluice_ctl_set_hooks(struct sluice_ctl *c, uint32_t hooks);

/* The last failure of @c as one sentence, "" when the last request worked. */
const char *sluice_ctl_error(const struct sluice_ctl *c);

/* The kernel's own words (extended ack) on the last failure, or "". */
const char *sluice_ctl_kernel_message(const struct sluice_ctl *c);

/*
 * For tests: the family id, and one request built by the caller
 * (genlmsg_put() with that id), its reply read as config into @out
 * (NULL: only an ack is expected). @cmd names the request in errors.
 */
struct nl_msg;
int sluice_ctl_family(const struct sluice_ctl *c);
int sluice_ctl_request(struct sluice_ctl *c, struct nl_msg *msg, uint8_t cmd,
		       struct sluice_config *out);

/* A negative errno of the functions above as one sentence. */
const char *sluice_ctl_strerror(int err);

/*
 * Reads /proc/net/sluice (or @path). Returns 0, or -errno with one
 * sentence in @err naming the file and line at fault (-EBADMSG when the
 * file is malformed, -ENOENT when it does not exist).
 */
int sluice_proc_read(const char *path, struct sluice_status *out,
		     char *err, size_t errlen);

/* Parses the text of /proc/net/sluice; @name is used in errors only. */
int sluice_proc_parse(const char *text, size_t len, const char *name,
		      struct sluice_status *out, char *err, size_t errlen);

/*
 * Names. sluice_mode_name(): "no agent", "enforcing", "hung", "draining".
 * sluice_mode_describe(): what a new flow meets, in the words of
 * `sluicectl status`: "enforcing", "fail-open (no agent)",
 * "fail-closed (agent hung)", "fail-open (agent draining)", ...
 */
const char *sluice_mode_name(uint8_t mode);
const char *sluice_fail_mode_name(uint8_t fail_mode);
const char *sluice_mode_describe(uint8_t mode, uint8_t fail_mode);
const char *sluice_stat_name(unsigned int stat);

#endif /* SLUICE_CONTROL_H */
