// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel: requests to the "sluice" generic netlink family on
 * libnl-genl-3. Each request is one message, answered by at most one reply
 * and then the ack (or an error with the kernel's extended ack text).
 *
 * Why the receive path is ours and not libnl's default: after a request
 * timed out, its late answer must not be taken for the answer to the next
 * one, so replies are matched by sequence number and stale ones skipped;
 * and the kernel's errno must reach the caller as is (libnl folds errnos
 * into its own fewer codes), together with the extended ack message.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "agent/control.h"
#include "agent/identity.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct sluice_ctl {
	/* @lock serialises requests: everything below is the one in flight. */
	pthread_mutex_t lock;
	struct nl_sock *sk;
	struct nl_cb *cb;
	const char *family_name;	/* SLUICE_GENL_NAME but in tests */
	int family;
	struct nl_msg *beat;		/* HEARTBEAT, built once, sent again */
	int want_identity;		/* what REGISTER, beat say; -1 nothing */
	bool gone;			/* family vanished: -ENOENT for good */

	uint32_t seq;			/* of the request in flight */
	uint8_t cmd;
	bool done;			/* its ack or error arrived */
	int kernel_errno;		/* from NLMSG_ERROR, positive; 0: ack */
	char kernel_msg[160];		/* its extended ack text, or "" */
	int (*parse)(struct nlattr **tb, void *arg);
	void *parse_arg;
	int parse_err;
	bool replied;			/* @parse ran */

	char error[320];		/* sluice_ctl_error() */
};

static const char *const sluice_cmd_words[__SLUICE_CMD_MAX] = {
	[SLUICE_CMD_REGISTER] = "register",
	[SLUICE_CMD_UNREGISTER] = "unregister",
	[SLUICE_CMD_HEARTBEAT] = "heartbeat",
	[SLUICE_CMD_GET_CONFIG] = "get config",
	[SLUICE_CMD_SET_CONFIG] = "set config",
	[SLUICE_CMD_GET_STATS] = "get stats",
	[SLUICE_CMD_DRAIN] = "drain",
	[SLUICE_CMD_FORGET_DENIED] = "forget denied flows",
	[SLUICE_CMD_HANDOVER] = "hand over",
	[SLUICE_CMD_GET_FLOW] = "get flow",
};

static const struct nla_policy sluice_reply_policy[SLUICE_A_MAX + 1] = {
	[SLUICE_A_QUEUE_NUM] = { .type = NLA_U16 },
	[SLUICE_A_FAIL_MODE] = { .type = NLA_U8 },
	[SLUICE_A_WATCHDOG_MS] = { .type = NLA_U32 },
	[SLUICE_A_HOOKS] = { .type = NLA_U32 },
	[SLUICE_A_MARK_MASK] = { .type = NLA_U32 },
	[SLUICE_A_MODE] = { .type = NLA_U8 },
	[SLUICE_A_AGENT_PID] = { .type = NLA_U32 },
	[SLUICE_A_HEARTBEAT_AGE_MS] = { .type = NLA_U32 },
	[SLUICE_A_STATS] = { .type = NLA_NESTED },
	[SLUICE_A_QUEUE_COUNT] = { .type = NLA_U16 },
	[SLUICE_A_OWN_MARK] = { .type = NLA_U32 },
	[SLUICE_A_CT_ID] = { .type = NLA_U32 },
	[SLUICE_A_IDENTITY] = { .type = NLA_NESTED },
};

/* libnl's error codes, for the few places that only have those. */
static int sluice_nlerr_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_AGAIN:
		return ETIMEDOUT;	/* SO_RCVTIMEO ran out */
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_PERM:
	case NLE_NOACCESS:
		return EPERM;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_BUSY:
		return EBUSY;
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
		return ENODEV;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_OVERFLOW:
	case NLE_PARSE_ERR:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_ATTRSIZE:
		return EPROTO;
	default:
		return EIO;
	}
}

const char *sluice_ctl_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "success";
	case ENOENT:
		return "the sluice kernel module is not loaded (no generic netlink family \"sluice\"); run modprobe sluice";
	case EPERM:
	case EACCES:
		return "permission denied: sluice needs CAP_NET_ADMIN";
	case ENOTCONN:
		return "no sluice agent is registered with the kernel module";
	case EBUSY:
		return "another socket is the registered sluice agent of this network namespace";
	case ETIMEDOUT:
		return "the sluice kernel module did not answer in time";
	case EPROTO:
		return "the sluice kernel module sent a malformed answer";
	case ENOMEM:
		return "out of memory";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

static int sluice_on_seq_check(struct nl_msg *msg, void *arg)
{
	struct sluice_ctl *c = arg;

	/* A late answer to a request that timed out: not ours, skip it. */
	return nlmsg_hdr(msg)->nlmsg_seq == c->seq ? NL_OK : NL_SKIP;
}

static int sluice_on_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[SLUICE_A_MAX + 1];
	struct sluice_ctl *c = arg;

	if (!c->parse)
		return NL_OK;	/* an answer we did not ask for: ignore */
	c->replied = true;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, SLUICE_A_MAX,
			  sluice_reply_policy) < 0)
		c->parse_err = -EPROTO;
	else
		c->parse_err = c->parse(tb, c->parse_arg);
	return NL_OK;
}

static int sluice_on_ack(struct nl_msg *msg, void *arg)
{
	struct sluice_ctl *c = arg;

	(void)msg;
	c->done = true;
	c->kernel_errno = 0;
	return NL_STOP;
}

/*
 * The extended ack follows the error header, and the request unless the
 * kernel capped it (NETLINK_CAP_ACK), at an aligned offset.
 */
static void sluice_read_ext_ack(struct sluice_ctl *c, struct nlmsgerr *e)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)
		((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t payload = sizeof(*e);
	struct nlattr *msg;
	size_t len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (nlh->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(payload))
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)e + NLMSG_ALIGN(payload)),
		      nlh->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(payload),
		      NULL) < 0)
		return;
	msg = tb[NLMSGERR_ATTR_MSG];
	if (!msg || nla_len(msg) <= 0)
		return;
	len = strnlen(nla_data(msg), nla_len(msg));
	if (len >= sizeof(c->kernel_msg))
		len = sizeof(c->kernel_msg) - 1;
	memcpy(c->kernel_msg, nla_data(msg), len);
	c->kernel_msg[len] = '\0';
}

static int sluice_on_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			   void *arg)
{
	struct sluice_ctl *c = arg;

	(void)nla;
	/* The sequence check ran before this: the error is ours. */
	c->done = true;
	c->kernel_errno = e->error < 0 ? -e->error : e->error;
	if (!c->kernel_errno)
		c->kernel_errno = EIO;
	sluice_read_ext_ack(c, e);
	return NL_STOP;
}

static int sluice_set_timeouts(int fd)
{
	struct timeval tv = {
		.tv_sec = SLUICE_CTL_TIMEOUT_MS / 1000,
		.tv_usec = (SLUICE_CTL_TIMEOUT_MS % 1000) * 1000,
	};
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	/* Kernel's reason in errors, without our request echoed back. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

/* The family's id, or -errno; on the handle's socket, before any request. */
static int sluice_resolve_family(struct sluice_ctl *c)
{
	int id = genl_ctrl_resolve(c->sk, c->family_name);

	return id < 0 ? -sluice_nlerr_errno(id) : id;
}

/*
 * The same, on a socket of its own: after a request timed out, the
 * handle's socket may still receive its late answer, which libnl's
 * lookup (strict sequence check) would choke on.
 */
static int sluice_family_now(const struct sluice_ctl *c)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id;

	if (!sk)
		return -ENOMEM;
	id = genl_connect(sk);
	if (id >= 0)
		id = genl_ctrl_resolve(sk, c->family_name);
	id = id < 0 ? -sluice_nlerr_errno(id) : id;
	nl_socket_free(sk);
	return id;
}

static void sluice_ctl_free(struct sluice_ctl *c)
{
	nlmsg_free(c->beat);
	nl_cb_put(c->cb);
	nl_socket_free(c->sk);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct sluice_ctl *sluice_ctl_open_family(const char *family, char *err,
					  size_t errlen)
{
	struct sluice_ctl *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory opening the sluice control channel");
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->want_identity = -1;
	c->sk = nl_socket_alloc();
	c->cb = nl_cb_alloc(NL_CB_DEFAULT);
	c->beat = nlmsg_alloc();
	if (!c->sk || !c->cb || !c->beat) {
		snprintf(err, errlen, "out of memory opening the sluice control channel");
		ret = -ENOMEM;
		goto fail;
	}

	ret = genl_connect(c->sk);
	if (ret < 0) {
		ret = -sluice_nlerr_errno(ret);
		snprintf(err, errlen, "cannot open a generic netlink socket: %s",
			 strerror(-ret));
		goto fail;
	}
	ret = sluice_set_timeouts(nl_socket_get_fd(c->sk));
	if (ret < 0) {
		snprintf(err, errlen, "cannot set timeouts on the generic netlink socket: %s",
			 strerror(-ret));
		goto fail;
	}

	c->family_name = family;
	ret = sluice_resolve_family(c);
	if (ret < 0) {
		if (ret == -ENOENT && !strcmp(family, SLUICE_GENL_NAME))
			snprintf(err, errlen, "%s", sluice_ctl_strerror(ret));
		else if (ret == -ENOENT)
			snprintf(err, errlen, "no generic netlink family \"%s\"",
				 family);
		else
			snprintf(err, errlen, "cannot look up the generic netlink family \"%s\": %s",
				 family, sluice_ctl_strerror(ret));
		goto fail;
	}
	c->family = ret;

	if (!genlmsg_put(c->beat, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, 0,
			 SLUICE_CMD_HEARTBEAT, SLUICE_GENL_VERSION)) {
		snprintf(err, errlen, "out of memory opening the sluice control channel");
		ret = -ENOMEM;
		goto fail;
	}

	nl_cb_set(c->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, sluice_on_seq_check, c);
	nl_cb_set(c->cb, NL_CB_VALID, NL_CB_CUSTOM, sluice_on_valid, c);
	nl_cb_set(c->cb, NL_CB_ACK, NL_CB_CUSTOM, sluice_on_ack, c);
	nl_cb_err(c->cb, NL_CB_CUSTOM, sluice_on_error, c);
	return c;

fail:
	sluice_ctl_free(c);
	errno = -ret;
	return NULL;
}

struct sluice_ctl *sluice_ctl_open(char *err, size_t errlen)
{
	return sluice_ctl_open_family(SLUICE_GENL_NAME, err, errlen);
}

void sluice_ctl_close(struct sluice_ctl *c)
{
	if (c)
		sluice_ctl_free(c);
}

int sluice_ctl_fd(struct sluice_ctl *c)
{
	return nl_socket_get_fd(c->sk);
}

bool sluice_ctl_gone(const struct sluice_ctl *c)
{
	return __atomic_load_n(&c->gone, __ATOMIC_RELAXED);
}

const char *sluice_ctl_error(const struct sluice_ctl *c)
{
	return c->error;
}

static int64_t sluice_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The kernel says ENOENT both when the family is unknown (module gone)
 * and when no agent is registered; only the latter comes with a reason,
 * and the family lookup settles any doubt.
 */
static int sluice_classify_enoent(struct sluice_ctl *c)
{
	int id;

	if (c->kernel_msg[0])
		return -ENOTCONN;
	id = sluice_family_now(c);
	if (id == c->family)
		return -ENOTCONN;
	if (id < 0 && id != -ENOENT)
		return id;
	__atomic_store_n(&c->gone, true, __ATOMIC_RELAXED);
	return -ENOENT;
}

static void sluice_describe_error(struct sluice_ctl *c, int err)
{
	const char *what = c->cmd < __SLUICE_CMD_MAX &&
			   sluice_cmd_words[c->cmd] ?
			   sluice_cmd_words[c->cmd] : "the request";

	if (err == -ENOENT || (!c->kernel_msg[0] && (err == -EPERM ||
						     err == -ENOTCONN ||
						     err == -EBUSY)))
		snprintf(c->error, sizeof(c->error), "%s",
			 sluice_ctl_strerror(err));
	else if (err == -ETIMEDOUT)
		snprintf(c->error, sizeof(c->error),
			 "the sluice kernel module did not answer %s within %d ms",
			 what, SLUICE_CTL_TIMEOUT_MS);
	else if (c->kernel_msg[0])
		snprintf(c->error, sizeof(c->error),
			 "the sluice kernel module refused %s: %s",
			 what, c->kernel_msg);
	else if (c->kernel_errno)
		snprintf(c->error, sizeof(c->error),
			 "the sluice kernel module refused %s: %s",
			 what, sluice_ctl_strerror(err));
	else
		snprintf(c->error, sizeof(c->error), "%s failed: %s",
			 what, sluice_ctl_strerror(err));
}

/*
 * Sends @msg and waits for its ack or error; a reply in between goes to
 * @parse. Called with @c->lock held.
 */
static int sluice_transact_locked(struct sluice_ctl *c, struct nl_msg *msg,
				  int (*parse)(struct nlattr **, void *),
				  void *parse_arg)
{
	int64_t deadline;
	int err, ret;

	c->done = false;
	c->kernel_errno = 0;
	c->kernel_msg[0] = '\0';
	c->parse = parse;
	c->parse_arg = parse_arg;
	c->parse_err = 0;
	c->replied = false;
	c->error[0] = '\0';

	if (c->gone) {
		err = -ENOENT;
		goto out;
	}

	nlmsg_hdr(msg)->nlmsg_seq = NL_AUTO_SEQ;	/* a fresh one each time */
	ret = nl_send_auto(c->sk, msg);
	if (ret < 0) {
		err = -sluice_nlerr_errno(ret);
		goto out;
	}
	c->seq = nlmsg_hdr(msg)->nlmsg_seq;

	deadline = sluice_now_ms() + SLUICE_CTL_TIMEOUT_MS;
	while (!c->done) {
		ret = nl_recvmsgs(c->sk, c->cb);
		if (c->done)
			break;
		if (ret < 0 && ret != -NLE_INTR) {
			err = -sluice_nlerr_errno(ret);
			goto out;
		}
		if (sluice_now_ms() > deadline) {
			err = -ETIMEDOUT;
			goto out;
		}
	}

	if (c->kernel_errno)
		err = -c->kernel_errno;
	else if (parse && !c->replied)
		err = -EPROTO;	/* acked, but the reply never came */
	else
		err = c->parse_err;
	if (err == -ENOENT && c->kernel_errno == ENOENT)
		err = sluice_classify_enoent(c);
	else if (err == -EPERM && c->kernel_msg[0])
		err = -EBUSY;	/* the handler's: not the registered socket */
out:
	c->parse = NULL;
	if (err)
		sluice_describe_error(c, err);
	return err;
}

static int sluice_transact(struct sluice_ctl *c, struct nl_msg *msg,
			   uint8_t cmd, int (*parse)(struct nlattr **, void *),
			   void *parse_arg)
{
	int err;

	pthread_mutex_lock(&c->lock);
	c->cmd = cmd;
	err = sluice_transact_locked(c, msg, parse, parse_arg);
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* A request that failed before it was sent, said like one that was. */
static int sluice_fail(struct sluice_ctl *c, uint8_t cmd, int err)
{
	pthread_mutex_lock(&c->lock);
	c->cmd = cmd;
	c->kernel_errno = 0;
	c->kernel_msg[0] = '\0';
	sluice_describe_error(c, err);
	pthread_mutex_unlock(&c->lock);
	return err;
}

static struct nl_msg *sluice_msg_new(struct sluice_ctl *c, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
				0, cmd, SLUICE_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int sluice_simple(struct sluice_ctl *c, uint8_t cmd,
			 int (*parse)(struct nlattr **, void *), void *arg)
{
	struct nl_msg *msg = sluice_msg_new(c, cmd);
	int err;

	if (!msg)
		return sluice_fail(c, cmd, -ENOMEM);
	err = sluice_transact(c, msg, cmd, parse, arg);
	nlmsg_free(msg);
	return err;
}

/* The config attributes; every one of them must be there. */
static int sluice_parse_config(struct nlattr **tb, void *arg)
{
	struct sluice_config *cfg = arg;

	if (!tb[SLUICE_A_QUEUE_NUM] || !tb[SLUICE_A_FAIL_MODE] ||
	    !tb[SLUICE_A_WATCHDOG_MS] || !tb[SLUICE_A_HOOKS] ||
	    !tb[SLUICE_A_MARK_MASK])
		return -EPROTO;
	cfg->queue_num = nla_get_u16(tb[SLUICE_A_QUEUE_NUM]);
	cfg->fail_mode = nla_get_u8(tb[SLUICE_A_FAIL_MODE]);
	cfg->watchdog_ms = nla_get_u32(tb[SLUICE_A_WATCHDOG_MS]);
	cfg->hooks = nla_get_u32(tb[SLUICE_A_HOOKS]);
	cfg->mark_mask = nla_get_u32(tb[SLUICE_A_MARK_MASK]);
	/* A module older than the attribute serves one queue. */
	cfg->queue_count = tb[SLUICE_A_QUEUE_COUNT] ?
			   nla_get_u16(tb[SLUICE_A_QUEUE_COUNT]) : 1;
	return 0;
}

static int sluice_parse_status(struct nlattr **tb, void *arg)
{
	struct nla_policy stat_policy[SLUICE_STAT_MAX + 1] = { { 0 } };
	struct nlattr *stats[SLUICE_STAT_MAX + 1];
	struct sluice_status *st = arg;
	int err, s;

	err = sluice_parse_config(tb, &st->config);
	if (err)
		return err;
	if (!tb[SLUICE_A_MODE] || !tb[SLUICE_A_AGENT_PID] ||
	    !tb[SLUICE_A_HEARTBEAT_AGE_MS] || !tb[SLUICE_A_STATS])
		return -EPROTO;
	st->mode = nla_get_u8(tb[SLUICE_A_MODE]);
	st->agent_pid = nla_get_u32(tb[SLUICE_A_AGENT_PID]);
	st->heartbeat_age_ms = nla_get_u32(tb[SLUICE_A_HEARTBEAT_AGE_MS]);
	for (s = SLUICE_STAT_SEEN; s <= SLUICE_STAT_MAX; s++)
		if (s != SLUICE_STAT_PAD)
			stat_policy[s].type = NLA_U64;
	if (nla_parse_nested(stats, SLUICE_STAT_MAX, tb[SLUICE_A_STATS],
			     stat_policy) < 0)
		return -EPROTO;
	for (s = SLUICE_STAT_SEEN; s <= SLUICE_STAT_MAX; s++) {
		if (s == SLUICE_STAT_PAD || !stats[s])
			continue;
		st->stats[s] = nla_get_u64(stats[s]);
		st->stats_have |= 1ULL << s;
	}
	st->have = SLUICE_HAVE_AGENT_PID | SLUICE_HAVE_HEARTBEAT |
		   SLUICE_HAVE_QUEUE_NUM | SLUICE_HAVE_WATCHDOG |
		   SLUICE_HAVE_HOOKS | SLUICE_HAVE_MARK_MASK;
	return 0;
}

int sluice_ctl_family(const struct sluice_ctl *c)
{
	return c->family;
}

const char *sluice_ctl_kernel_message(const struct sluice_ctl *c)
{
	return c->kernel_msg;
}

int sluice_ctl_request(struct sluice_ctl *c, struct nl_msg *msg, uint8_t cmd,
		       struct sluice_config *out)
{
	struct sluice_config cfg = { 0 };
	int err;

	err = sluice_transact(c, msg, cmd, out ? sluice_parse_config : NULL,
			      &cfg);
	if (!err && out)
		*out = cfg;
	return err;
}

int sluice_ctl_register_queue(struct sluice_ctl *c, int32_t queue_num,
			      struct sluice_config *out)
{
	return sluice_ctl_register_queues(c, queue_num, 1, out);
}

int sluice_ctl_register_queues(struct sluice_ctl *c, int32_t queue_num,
			       uint16_t count, struct sluice_config *out)
{
	return sluice_ctl_register_agent(c, queue_num, count, NULL, out);
}

int sluice_ctl_register_agent(struct sluice_ctl *c, int32_t queue_num,
			      uint16_t count, const uint32_t *portids,
			      struct sluice_config *out)
{
	struct sluice_config cfg = { 0 };
	struct nl_msg *msg;
	int err;

	if (queue_num > UINT16_MAX || count < 1 ||
	    count > SLUICE_QUEUE_COUNT_MAX)
		return sluice_fail(c, SLUICE_CMD_REGISTER, -EINVAL);
	msg = sluice_msg_new(c, SLUICE_CMD_REGISTER);
	if (!msg)
		return sluice_fail(c, SLUICE_CMD_REGISTER, -ENOMEM);
	if ((queue_num >= 0 &&
	     nla_put_u16(msg, SLUICE_A_QUEUE_NUM, (uint16_t)queue_num) < 0) ||
	    (count > 1 && nla_put_u16(msg, SLUICE_A_QUEUE_COUNT, count) < 0) ||
	    (portids && nla_put(msg, SLUICE_A_QUEUE_PORTIDS,
				count * (int)sizeof(*portids), portids) < 0) ||
	    (c->want_identity >= 0 &&
	     nla_put_u8(msg, SLUICE_A_WANT_IDENTITY,
			(uint8_t)c->want_identity) < 0)) {
		nlmsg_free(msg);
		return sluice_fail(c, SLUICE_CMD_REGISTER, -ENOMEM);
	}
	/* The reply is required: it says which queue to bind. */
	err = sluice_transact(c, msg, SLUICE_CMD_REGISTER,
			      sluice_parse_config, &cfg);
	nlmsg_free(msg);
	if (!err && out)
		*out = cfg;
	return err;
}

int sluice_ctl_register(struct sluice_ctl *c, struct sluice_config *out)
{
	return sluice_ctl_register_queue(c, -1, out);
}

int sluice_ctl_unregister(struct sluice_ctl *c)
{
	return sluice_simple(c, SLUICE_CMD_UNREGISTER, NULL, NULL);
}

int sluice_ctl_want_identity(struct sluice_ctl *c, int want)
{
	struct nl_msg *beat, *old;

	if (want == c->want_identity)
		return 0;
	beat = sluice_msg_new(c, SLUICE_CMD_HEARTBEAT);
	if (!beat || (want >= 0 &&
		      nla_put_u8(beat, SLUICE_A_WANT_IDENTITY, !!want) < 0)) {
		nlmsg_free(beat);
		return -ENOMEM;
	}
	pthread_mutex_lock(&c->lock);
	old = c->beat;
	c->beat = beat;
	c->want_identity = want < 0 ? -1 : !!want;
	pthread_mutex_unlock(&c->lock);
	nlmsg_free(old);
	return 0;
}

int sluice_ctl_heartbeat(struct sluice_ctl *c)
{
	return sluice_transact(c, c->beat, SLUICE_CMD_HEARTBEAT, NULL, NULL);
}

int sluice_ctl_heartbeat_config(struct sluice_ctl *c, struct sluice_config *out)
{
	struct sluice_config cfg = { 0 };
	int err;

	err = sluice_transact(c, c->beat, SLUICE_CMD_HEARTBEAT,
			      sluice_parse_config, &cfg);
	/* A module older than the reply only acks: nothing to learn. */
	if (err == -EPROTO)
		return 0;
	if (!err)
		*out = cfg;
	return err;
}

int sluice_ctl_forget_denied(struct sluice_ctl *c)
{
	return sluice_simple(c, SLUICE_CMD_FORGET_DENIED, NULL, NULL);
}

int sluice_ctl_drain(struct sluice_ctl *c)
{
	return sluice_simple(c, SLUICE_CMD_DRAIN, NULL, NULL);
}

/* Request @cmd with one u32 attribute; only an ack is expected. */
static int sluice_request_u32(struct sluice_ctl *c, uint8_t cmd, int attr,
			      uint32_t value)
{
	struct nl_msg *msg;
	int err;

	msg = sluice_msg_new(c, cmd);
	if (!msg)
		return sluice_fail(c, cmd, -ENOMEM);
	if (nla_put_u32(msg, attr, value) < 0) {
		nlmsg_free(msg);
		return sluice_fail(c, cmd, -ENOMEM);
	}
	err = sluice_transact(c, msg, cmd, NULL, NULL);
	nlmsg_free(msg);
	return err;
}

int sluice_ctl_handover(struct sluice_ctl *c, uint32_t grace_ms)
{
	return sluice_request_u32(c, SLUICE_CMD_HANDOVER, SLUICE_A_HANDOVER_MS,
				  grace_ms);
}

static int sluice_parse_identity(struct nlattr **tb, void *arg)
{
	static struct nla_policy id_policy[SLUICE_ID_MAX + 1] = {
		[SLUICE_ID_UID] = { .type = NLA_U32 },
		[SLUICE_ID_GID] = { .type = NLA_U32 },
		[SLUICE_ID_CGROUP] = { .type = NLA_U64 },
		[SLUICE_ID_TGID] = { .type = NLA_U32 },
		[SLUICE_ID_START] = { .type = NLA_U64 },
		[SLUICE_ID_EXE_DEV_MAJOR] = { .type = NLA_U32 },
		[SLUICE_ID_EXE_DEV_MINOR] = { .type = NLA_U32 },
		[SLUICE_ID_EXE_INO] = { .type = NLA_U64 },
		[SLUICE_ID_COMM] = { .type = NLA_STRING },
		[SLUICE_ID_INBOUND] = { .type = NLA_FLAG },
	};
	struct nlattr *id[SLUICE_ID_MAX + 1];
	struct sluice_kernel_identity *out = arg;

	memset(out, 0, sizeof(*out));
	if (!tb[SLUICE_A_IDENTITY])
		return 0;	/* the module knows nothing of the flow */
	if (nla_parse_nested(id, SLUICE_ID_MAX, tb[SLUICE_A_IDENTITY],
			     id_policy) < 0)
		return -EPROTO;
	if (id[SLUICE_ID_UID]) {
		out->uid = nla_get_u32(id[SLUICE_ID_UID]);
		out->have |= SLUICE_KID_UID;
	}
	if (id[SLUICE_ID_GID]) {
		out->gid = nla_get_u32(id[SLUICE_ID_GID]);
		out->have |= SLUICE_KID_GID;
	}
	if (id[SLUICE_ID_CGROUP]) {
		out->cgroup_id = nla_get_u64(id[SLUICE_ID_CGROUP]);
		out->have |= SLUICE_KID_CGROUP;
	}
	/* The task's fields count only together: each checks the others. */
	if (id[SLUICE_ID_TGID] && id[SLUICE_ID_START] &&
	    id[SLUICE_ID_EXE_DEV_MAJOR] && id[SLUICE_ID_EXE_DEV_MINOR] &&
	    id[SLUICE_ID_EXE_INO]) {
		out->tgid = nla_get_u32(id[SLUICE_ID_TGID]);
		out->start_ticks = nla_get_u64(id[SLUICE_ID_START]);
		out->exe_major = nla_get_u32(id[SLUICE_ID_EXE_DEV_MAJOR]);
		out->exe_minor = nla_get_u32(id[SLUICE_ID_EXE_DEV_MINOR]);
		out->exe_ino = nla_get_u64(id[SLUICE_ID_EXE_INO]);
		out->have |= SLUICE_KID_TASK;
		if (id[SLUICE_ID_COMM])
			nla_strlcpy(out->comm, id[SLUICE_ID_COMM],
				    sizeof(out->comm));
	}
	if (id[SLUICE_ID_INBOUND])
		out->have |= SLUICE_KID_INBOUND;
	return 0;
}

int sluice_ctl_get_flow(struct sluice_ctl *c, uint32_t ct_id,
			struct sluice_kernel_identity *out)
{
	struct sluice_kernel_identity id = { 0 };
	struct nl_msg *msg;
	int err;

	msg = sluice_msg_new(c, SLUICE_CMD_GET_FLOW);
	if (!msg)
		return sluice_fail(c, SLUICE_CMD_GET_FLOW, -ENOMEM);
	if (nla_put_u32(msg, SLUICE_A_CT_ID, ct_id) < 0) {
		nlmsg_free(msg);
		return sluice_fail(c, SLUICE_CMD_GET_FLOW, -ENOMEM);
	}
	err = sluice_transact(c, msg, SLUICE_CMD_GET_FLOW,
			      sluice_parse_identity, &id);
	nlmsg_free(msg);
	/*
	 * Nothing kept for the flow: ENOENT with the module's reason, which
	 * the transaction reads as "not registered" (-ENOTCONN), unlike a
	 * family that is gone (-ENOENT, sluice_ctl_gone()).
	 */
	if (err == -ENOTCONN) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (!err)
		*out = id;
	return err;
}

int sluice_ctl_get_config(struct sluice_ctl *c, struct sluice_config *out)
{
	struct sluice_config cfg = { 0 };
	int err;

	err = sluice_simple(c, SLUICE_CMD_GET_CONFIG, sluice_parse_config,
			    &cfg);
	if (!err)
		*out = cfg;
	return err;
}

int sluice_ctl_set_config(struct sluice_ctl *c, int fail_mode,
			  int64_t watchdog_ms)
{
	struct nl_msg *msg;
	int err;

	if (fail_mode > SLUICE_FAIL_CLOSED || fail_mode < -1 ||
	    watchdog_ms > UINT32_MAX || watchdog_ms < -1)
		return sluice_fail(c, SLUICE_CMD_SET_CONFIG, -EINVAL);
	msg = sluice_msg_new(c, SLUICE_CMD_SET_CONFIG);
	if (!msg)
		return sluice_fail(c, SLUICE_CMD_SET_CONFIG, -ENOMEM);
	if ((fail_mode >= 0 &&
	     nla_put_u8(msg, SLUICE_A_FAIL_MODE, (uint8_t)fail_mode) < 0) ||
	    (watchdog_ms >= 0 &&
	     nla_put_u32(msg, SLUICE_A_WATCHDOG_MS, (uint32_t)watchdog_ms) < 0)) {
		nlmsg_free(msg);
		return sluice_fail(c, SLUICE_CMD_SET_CONFIG, -ENOMEM);
	}
	err = sluice_transact(c, msg, SLUICE_CMD_SET_CONFIG, NULL, NULL);
	nlmsg_free(msg);
	return err;
}

int sluice_ctl_set_hooks(struct sluice_ctl *c, uint32_t hooks)
{
	return sluice_request_u32(c, SLUICE_CMD_SET_CONFIG, SLUICE_A_HOOKS,
				  hooks);
}

int sluice_ctl_get_status(struct sluice_ctl *c, struct sluice_status *out)
{
	struct sluice_status st = { 0 };
	int err;

	err = sluice_simple(c, SLUICE_CMD_GET_STATS, sluice_parse_status, &st);
	if (!err) {
		st.source = SLUICE_SOURCE_NETLINK;
		*out = st;
	}
	return err;
}
