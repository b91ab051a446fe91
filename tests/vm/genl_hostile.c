// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile caller of the "sluice" generic netlink family, for the VM
 * tier (cases 24 and 39). Run it in a network namespace of its own: it
 * may register, drain or reconfigure that namespace.
 *
 *   genl_hostile get           one well-formed GET_CONFIG; exit 0 when
 *                              answered, 3 when refused with EPERM, 1 else
 *   genl_hostile fuzz SEED N   every command (and unknown ones) with no
 *                              attribute, each attribute at many wrong
 *                              lengths, broken attribute headers, nested
 *                              flags on scalars, then N random bodies
 *
 *   genl_hostile every FAIL_MODE WATCHDOG_MS HOOKS
 *                              every command of the family, well formed,
 *                              in the order an agent's life sends them,
 *                              from one socket: REGISTER, HEARTBEAT,
 *                              GET_CONFIG, SET_CONFIG (fail mode and
 *                              watchdog), SET_CONFIG (hooks), GET_STATS,
 *                              GET_FLOW (of a conntrack id nobody has),
 *                              FORGET_DENIED, DRAIN, HANDOVER, UNREGISTER
 *
 * fuzz prints one line "sent S answered A ok K refused R extack E" and
 * exits 0 only if every request was answered (an error or a reply; none
 * lost, none hung past 2 s) and the family still answers GET_CONFIG.
 * every prints one line a command, "NAME ok" or "NAME EPERM" (the errno's
 * name), with the extended ack's message after a colon when there is
 * one, and exits 0 when every command was answered.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "uapi/sluice.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct mnl_socket *nl;
static uint16_t family;
static uint32_t seq;
static unsigned long sent, answered, ok, refused, extack;

/* Room for one request: header, genl header and the largest attribute. */
static char req[8192];

static struct nlmsghdr *start(uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = SLUICE_GENL_VERSION;
	return nlh;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	(void)data;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			family = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

/* Does the error message carry an extended ack (a text or an offset)? */
static int has_extack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	return nlh->nlmsg_len > NLMSG_HDRLEN + off;
}

/* The message of the last refusal's extended ack ("" without one). */
static char ack_text[256];

static int ack_msg_cb(const struct nlattr *a, void *data)
{
	(void)data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(ack_text, sizeof(ack_text), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static void ack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	ack_text[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_parse(nlh, off, ack_msg_cb, NULL);
}

/*
 * Sends what is in req and reads until its ack: 0 answered OK, a
 * positive errno when refused, -1 when no answer came in 2 s.
 */
static int ask(struct nlmsghdr *nlh, mnl_cb_t data_cb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t want = nlh->nlmsg_seq;

	sent++;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errno ? errno : EIO;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		struct nlmsghdr *m = (struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0)
			return -1;
		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			const struct nlmsgerr *e;

			if (m->nlmsg_seq != want)
				continue;
			if (m->nlmsg_type != NLMSG_ERROR) {
				if (data_cb)
					data_cb(m, NULL);
				continue;
			}
			e = mnl_nlmsg_get_payload(m);
			answered++;
			if (e->error == 0) {
				ok++;
				return 0;
			}
			refused++;
			if (has_extack(m))
				extack++;
			ack_msg(m);
			return -e->error;
		}
	}
}

static int get_config_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	return mnl_nlmsg_get_payload_len(nlh) > sizeof(struct genlmsghdr) ?
	       MNL_CB_OK : MNL_CB_ERROR;
}

static int get_config(void)
{
	return ask(start(family, SLUICE_CMD_GET_CONFIG), get_config_cb);
}

static void fill(void *p, size_t n, unsigned int *rng)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)rand_r(rng);
}

static int lost;

static void send_one(struct nlmsghdr *nlh, const char *what)
{
	if (ask(nlh, NULL) < 0) {
		lost++;
		fprintf(stderr, "genl_hostile: no answer to %s (seq %u)\n",
			what, nlh->nlmsg_seq);
	}
}

static const char *errno_name(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ERANGE:
		return "ERANGE";
	default:
		return strerror(err);
	}
}

/*
 * One well-formed request of each command, in the order of an agent's
 * life, so that a caller let past the capability check meets no other
 * refusal: it is the registered agent when it beats, drains and leaves.
 */
static int every(uint8_t fail_mode, uint32_t watchdog_ms, uint32_t hooks)
{
	static const struct {
		const char *name;
		uint8_t cmd;
	} cmds[] = {
		{ "register", SLUICE_CMD_REGISTER },
		{ "heartbeat", SLUICE_CMD_HEARTBEAT },
		{ "get_config", SLUICE_CMD_GET_CONFIG },
		{ "set_config", SLUICE_CMD_SET_CONFIG },
		{ "set_hooks", SLUICE_CMD_SET_CONFIG },
		{ "get_stats", SLUICE_CMD_GET_STATS },
		{ "get_flow", SLUICE_CMD_GET_FLOW },
		{ "forget_denied", SLUICE_CMD_FORGET_DENIED },
		{ "drain", SLUICE_CMD_DRAIN },
		{ "handover", SLUICE_CMD_HANDOVER },
		{ "unregister", SLUICE_CMD_UNREGISTER },
	};
	struct nlmsghdr *nlh;
	int lost_any = 0, rc;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		nlh = start(family, cmds[i].cmd);
		if (!strcmp(cmds[i].name, "set_config")) {
			mnl_attr_put_u8(nlh, SLUICE_A_FAIL_MODE, fail_mode);
			mnl_attr_put_u32(nlh, SLUICE_A_WATCHDOG_MS, watchdog_ms);
		} else if (!strcmp(cmds[i].name, "set_hooks")) {
			mnl_attr_put_u32(nlh, SLUICE_A_HOOKS, hooks);
		} else if (cmds[i].cmd == SLUICE_CMD_GET_FLOW) {
			mnl_attr_put_u32(nlh, SLUICE_A_CT_ID, 0);
		} else if (cmds[i].cmd == SLUICE_CMD_HANDOVER) {
			mnl_attr_put_u32(nlh, SLUICE_A_HANDOVER_MS,
					 SLUICE_HANDOVER_MS_MIN);
		}
		ack_text[0] = '\0';
		rc = ask(nlh, NULL);
		if (rc < 0) {
			printf("%s lost\n", cmds[i].name);
			lost_any = 1;
			continue;
		}
		printf("%s %s%s%s\n", cmds[i].name, errno_name(rc),
		       ack_text[0] ? ": " : "", ack_text);
	}
	return lost_any;
}

static int fuzz(unsigned int rng, long rounds)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 64, 1024, 4000 };
	struct nlmsghdr *nlh;
	uint8_t payload[4096];
	unsigned int cmd, type;
	size_t i;
	long r;

	for (cmd = 0; cmd <= SLUICE_CMD_MAX + 2; cmd++) {
		send_one(start(family, (uint8_t)cmd), "a bare command");
		for (type = 0; type <= SLUICE_A_MAX + 2; type++)
			for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				nlh = start(family, (uint8_t)cmd);
				fill(payload, lens[i], &rng);
				mnl_attr_put(nlh, (uint16_t)type, lens[i], payload);
				send_one(nlh, "an attribute of a wrong length");
				nlh = start(family, (uint8_t)cmd);
				mnl_attr_put(nlh, (uint16_t)(type | NLA_F_NESTED),
					     lens[i], payload);
				send_one(nlh, "a scalar marked nested");
			}
		/* An attribute whose length runs past the message. */
		nlh = start(family, (uint8_t)cmd);
		mnl_attr_put_u32(nlh, SLUICE_A_WATCHDOG_MS, 250);
		((struct nlattr *)((char *)nlh + nlh->nlmsg_len - 8))->nla_len = 200;
		send_one(nlh, "an attribute longer than its message");
		/* One shorter than its own header. */
		nlh = start(family, (uint8_t)cmd);
		mnl_attr_put_u32(nlh, SLUICE_A_WATCHDOG_MS, 250);
		((struct nlattr *)((char *)nlh + nlh->nlmsg_len - 8))->nla_len = 2;
		send_one(nlh, "an attribute shorter than its header");
	}
	/* Random bodies after a random command byte. */
	for (r = 0; r < rounds; r++) {
		size_t n = (size_t)rand_r(&rng) % 512;

		nlh = start(family, (uint8_t)rand_r(&rng));
		fill(mnl_nlmsg_get_payload_tail(nlh), n, &rng);
		nlh->nlmsg_len += (uint32_t)MNL_ALIGN(n);
		send_one(nlh, "a random body");
	}
	if (get_config() != 0) {
		fprintf(stderr, "genl_hostile: the family no longer answers GET_CONFIG\n");
		lost++;
	}
	printf("sent %lu answered %lu ok %lu refused %lu extack %lu lost %d\n",
	       sent, answered, ok, refused, extack, lost);
	return lost ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: genl_hostile get | fuzz SEED ROUNDS |\n"
		"       genl_hostile every FAIL_MODE WATCHDOG_MS HOOKS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct timeval tv = { .tv_sec = 2 };
	struct nlmsghdr *nlh;
	int one = 1, rc;

	if (argc < 2) {
		return usage();
	}
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("genl_hostile: netlink");
		return 1;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	nlh = start(GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, SLUICE_GENL_NAME);
	if (ask(nlh, family_cb) != 0 || !family) {
		fprintf(stderr, "genl_hostile: no \"%s\" family\n", SLUICE_GENL_NAME);
		return 1;
	}
	sent = answered = ok = refused = extack = 0;
	if (!strcmp(argv[1], "get")) {
		rc = get_config();
		if (rc)
			fprintf(stderr, "genl_hostile: GET_CONFIG: %s\n",
				rc < 0 ? "no answer" : strerror(rc));
		return rc == 0 ? 0 : rc == EPERM ? 3 : 1;
	}
	if (!strcmp(argv[1], "fuzz") && argc == 4)
		return fuzz((unsigned int)strtoul(argv[2], NULL, 0),
			    strtol(argv[3], NULL, 0));
	if (!strcmp(argv[1], "every") && argc == 5)
		return every((uint8_t)strtoul(argv[2], NULL, 0),
			     (uint32_t)strtoul(argv[3], NULL, 0),
			     (uint32_t)strtoul(argv[4], NULL, 0));
	return usage();
}
