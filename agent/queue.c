// SPDX-License-Identifier: GPL-2.0
/*
 * Shaped after libnetfilter_queue's examples/nf-queue.c, with every
 * attribute checked before use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "agent/packet.h"
#include "agent/queue.h"
#include "uapi/sluice.h"

/* Packets decided per batch: one sendmsg answers all of them. */
#define SLUICE_QUEUE_BATCH	64
/*
 * Packets per recvmmsg(): its first waits, the others take what is
 * already there. A lone packet costs one receive and one send, as in the
 * barest NFQUEUE loop; a burst costs one receive per this many.
 */
#define SLUICE_QUEUE_RECV	16
/*
 * All of each packet, up to the most NFQUEUE copies: a DNS message, or the
 * first payload of a TCP flow (the ClientHello, the HTTP request headers),
 * which at LOCAL_OUT may be one GSO packet of many segments. Only the
 * packets the agent must read come here, so copying them whole is cheap.
 */
#define SLUICE_COPY_RANGE	(0xffff - 4)	/* NFQNL_MAX_COPY_RANGE */
#define SLUICE_RECV_BUF		(SLUICE_COPY_RANGE + 4096)
#define SLUICE_SEND_BUF		(SLUICE_QUEUE_BATCH * 256)

struct sluice_queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	uint32_t mark_mask;
	/* SLUICE_QUEUE_RECV buffers of SLUICE_RECV_BUF, one per message */
	char *rbuf;
	struct mmsghdr msgs[SLUICE_QUEUE_RECV];
	struct iovec iov[SLUICE_QUEUE_RECV];
	int timeout_ms;			/* SO_RCVTIMEO as set; -1 not yet */
	struct sluice_queue_counts counts;
	struct mnl_nlmsg_batch *batch;
	char *sbuf;
	/* state of the current batch, for the parse callback */
	sluice_decide_fn decide;
	void *ctx;
	int answered;
	/* NFQA_CFG_F_FAIL_OPEN: as configured, and as wanted */
	int fail_open;
	atomic_int want_fail_open;
	unsigned int seq;
};

static int send_config(struct sluice_queue *q, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* Configuration is acked: read the answer to see errors. */
	for (;;) {
		int n = mnl_socket_recvfrom(q->nl, q->rbuf, SLUICE_RECV_BUF);

		if (n < 0)
			return -1;
		n = mnl_cb_run(q->rbuf, n, nlh->nlmsg_seq, q->portid, NULL,
			       NULL);
		if (n <= 0)
			return n;
	}
}

/*
 * The queue's parameters. FAIL_OPEN: a full queue accepts rather than
 * drops (only when failing open). GSO: no checksum work for us.
 * CONNTRACK: the flow's mark comes along and verdicts can write it.
 * UID_GID: the owner of the local socket.
 */
static struct nlmsghdr *put_config(struct sluice_queue *q, char *buf,
				   unsigned int seq, int ct, int fail_open)
{
	uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
			NFQA_CFG_F_UID_GID | NFQA_CFG_F_CONNTRACK;
	uint32_t flags = (mask & ~(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_CONNTRACK)) |
			 (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0) |
			 (ct ? NFQA_CFG_F_CONNTRACK : 0);
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, SLUICE_COPY_RANGE);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(4096));
	return nlh;
}

static int configure(struct sluice_queue *q, unsigned int *seq, int ct)
{
	struct nlmsghdr *nlh = put_config(q, q->rbuf, (*seq)++, ct, 1);

	nlh->nlmsg_flags |= NLM_F_ACK;
	return send_config(q, nlh);
}

/*
 * Switch NFQA_CFG_F_FAIL_OPEN alone, from the reading thread. Not acked:
 * packets may arrive before an ack would, and an error comes back as an
 * error message that the packet loop skips (the flag then stays as it
 * was, and the next call tries again).
 */
static void apply_fail_open(struct sluice_queue *q)
{
	char buf[256] __attribute__((aligned(4)));
	int want = atomic_load(&q->want_fail_open);
	uint32_t flag = htonl(NFQA_CFG_F_FAIL_OPEN);
	struct nlmsghdr *nlh;

	if (want == q->fail_open)
		return;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nlh->nlmsg_seq = q->seq++;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, want ? flag : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, flag);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) >= 0)
		q->fail_open = want;
}

void sluice_queue_set_fail_open(struct sluice_queue *q, int fail_open)
{
	atomic_store(&q->want_fail_open, !!fail_open);
}

uint32_t sluice_queue_portid(const struct sluice_queue *q)
{
	return q->portid;
}

int sluice_queue_alive(const struct sluice_queue *q)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	return getsockname(mnl_socket_get_fd(q->nl), (struct sockaddr *)&sa,
			   &len) == 0 && sa.nl_family == AF_NETLINK &&
	       sa.nl_pid == q->portid;
}

static struct sluice_queue *queue_alloc(uint16_t num, uint32_t mark_mask)
{
	struct sluice_queue *q;
	int i;

	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->num = num;
	q->mark_mask = mark_mask;
	q->timeout_ms = -1;
	/* Pages untouched stay unmapped: a SYN uses one page of its buffer. */
	q->rbuf = malloc((size_t)SLUICE_QUEUE_RECV * SLUICE_RECV_BUF);
	q->sbuf = malloc(SLUICE_SEND_BUF);
	if (!q->rbuf || !q->sbuf) {
		sluice_queue_close(q);
		return NULL;
	}
	for (i = 0; i < SLUICE_QUEUE_RECV; i++) {
		q->iov[i].iov_base = q->rbuf + (size_t)i * SLUICE_RECV_BUF;
		q->iov[i].iov_len = SLUICE_RECV_BUF;
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return q;
}

/*
 * A slow moment must not put the socket in error and lose it (nor make
 * systemd drop it from its store, which closes a socket in error).
 * Blocking: the verdict loop waits in its receive (SO_RCVTIMEO bounds the
 * wait), whatever the socket was when handed over.
 */
static void socket_options(struct sluice_queue *q)
{
	int one = 1, rcvbuf = 8 << 20, fd = mnl_socket_get_fd(q->nl);
	int fl = fcntl(fd, F_GETFL);

	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

struct sluice_queue *sluice_queue_adopt(int fd, uint16_t num,
					uint32_t mark_mask, int fail_open,
					char *err, size_t errlen)
{
	char buf[512] __attribute__((aligned(4)));
	int domain = 0, proto = 0;
	socklen_t len = sizeof(int);
	struct sluice_queue *q;
	struct nlmsghdr *nlh;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    (len = sizeof(int),
	     getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0) ||
	    domain != AF_NETLINK || proto != NETLINK_NETFILTER) {
		snprintf(err, errlen,
			 "the socket handed over for queue %u is not a netfilter netlink socket",
			 num);
		close(fd);
		return NULL;
	}
	q = queue_alloc(num, mark_mask);
	if (!q) {
		snprintf(err, errlen, "out of memory adopting queue %u", num);
		close(fd);
		return NULL;
	}
	q->nl = mnl_socket_fdopen(fd);
	if (!q->nl) {
		snprintf(err, errlen, "cannot adopt the socket of queue %u: %s",
			 num, strerror(errno));
		close(fd);
		sluice_queue_close(q);
		return NULL;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	socket_options(q);
	/*
	 * The parameters again, in case this build wants others, but not
	 * acked: packets waiting in the socket come before any ack, and an
	 * error comes back as a message that the packet loop skips.
	 */
	q->seq = 1;
	nlh = put_config(q, buf, q->seq++, mark_mask != 0, fail_open);
	mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);

	q->batch = mnl_nlmsg_batch_start(q->sbuf, SLUICE_SEND_BUF);
	if (!q->batch) {
		snprintf(err, errlen, "out of memory adopting queue %u", num);
		sluice_queue_close(q);
		return NULL;
	}
	q->fail_open = !!fail_open;
	atomic_init(&q->want_fail_open, !!fail_open);
	return q;
}

struct sluice_queue *sluice_queue_open(uint16_t num, uint32_t mark_mask,
				       char *err, size_t errlen)
{
	struct sluice_queue *q;
	struct nlmsghdr *nlh;
	unsigned int seq = 1;
	const char *what;

	q = queue_alloc(num, mark_mask);
	if (!q)
		goto err_alloc;

	what = "open a netfilter netlink socket";
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl)
		goto err_sys;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err_sys;
	q->portid = mnl_socket_get_portid(q->nl);
	socket_options(q);

	what = "bind it (does another program, or another sluiced, hold it?)";
	nlh = nfq_nlmsg_put(q->rbuf, NFQNL_MSG_CONFIG, num);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq++;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (send_config(q, nlh) < 0)
		goto err_sys;

	what = "configure it";
	if (configure(q, &seq, 1) < 0) {
		/*
		 * EAGAIN: the kernel just loaded nf_conntrack_netlink for us.
		 * EOPNOTSUPP: it has no conntrack glue for NFQUEUE at all;
		 * verdicts then cannot be stored in the flow, and every
		 * queued packet is decided on its own.
		 */
		if (errno == EAGAIN && configure(q, &seq, 1) == 0)
			;
		else if (errno == EOPNOTSUPP && configure(q, &seq, 0) == 0)
			q->mark_mask = 0;
		else
			goto err_sys;
	}

	q->batch = mnl_nlmsg_batch_start(q->sbuf, SLUICE_SEND_BUF);
	if (!q->batch)
		goto err_alloc;
	q->fail_open = 1;
	atomic_init(&q->want_fail_open, 1);
	q->seq = seq;
	return q;

err_sys:
	snprintf(err, errlen, "queue %u: cannot %s: %s", num, what, strerror(errno));
	sluice_queue_close(q);
	return NULL;
err_alloc:
	snprintf(err, errlen, "out of memory opening queue %u", num);
	sluice_queue_close(q);
	return NULL;
}

void sluice_queue_close(struct sluice_queue *q)
{
	if (!q)
		return;
	if (q->batch)
		mnl_nlmsg_batch_stop(q->batch);
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q->sbuf);
	free(q);
}

int sluice_queue_fd(const struct sluice_queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

void sluice_queue_set_mark_mask(struct sluice_queue *q, uint32_t mask)
{
	q->mark_mask = mask;
}

uint32_t sluice_queue_mark_mask(const struct sluice_queue *q)
{
	return q->mark_mask;
}

static uint8_t hook_direction(uint8_t hook)
{
	switch (hook) {
	case NF_INET_LOCAL_IN:
		return SLUICE_DIR_IN;
	case NF_INET_FORWARD:
		return SLUICE_DIR_FORWARD;
	default:
		return SLUICE_DIR_OUT;
	}
}

/*
 * The conntrack mark and id of the queued packet's flow, from NFQA_CT.
 * The id (nf_ct_get_id(), big endian like the mark) is what the module
 * keys its record of the flow's identity by (SLUICE_CMD_GET_FLOW).
 */
static int ct_attr_cb(const struct nlattr *attr, void *data)
{
	struct sluice_packet *p = data;

	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(attr)) {
	case CTA_MARK:
		p->ct_mark = ntohl(mnl_attr_get_u32(attr));
		break;
	case CTA_ID:
		p->ct_id = ntohl(mnl_attr_get_u32(attr));
		p->has_ct_id = 1;
		break;
	}
	return MNL_CB_OK;
}

static void put_verdict(struct sluice_queue *q, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int nf = verdict == SLUICE_Q_DROP ? NF_DROP : NF_ACCEPT;

	/*
	 * A denied flow: the module's hook runs again (NF_REPEAT), reads the
	 * DENY bits written below, remembers the flow and drops the packet.
	 * Without conntrack glue there are no bits to read: plain drop.
	 */
	if (verdict == SLUICE_Q_DENY)
		nf = q->mark_mask ? NF_REPEAT : NF_DROP;

	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(q->batch),
			    NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, nf);
	if (q->mark_mask && (verdict == SLUICE_Q_ALLOW ||
			     verdict == SLUICE_Q_DENY ||
			     verdict == SLUICE_Q_PENDING)) {
		/* Only sluice's bits of the mark change. */
		nest = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK,
				 htonl(sluice_mark_encode(q->mark_mask,
				       (enum sluice_flow_verdict)verdict)));
		mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(q->mark_mask));
		mnl_attr_nest_end(nlh, nest);
	}
	if (!mnl_nlmsg_batch_next(q->batch)) {
		/* Full: what fits goes now, the last message starts anew. */
		q->counts.sends++;
		mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(q->batch),
				  mnl_nlmsg_batch_size(q->batch));
		mnl_nlmsg_batch_reset(q->batch);
	}
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sluice_queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct sluice_packet p;
	int verdict, rc;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;	/* nothing we could even answer */

	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(&p, 0, sizeof(p));
	p.id = ntohl(ph->packet_id);
	p.hook = ph->hook;
	p.flow.uid = -1;
	p.flow.direction = hook_direction(ph->hook);
	if (attr[NFQA_PAYLOAD]) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	/* NFQA_CAP_LEN: the packet's length, sent when the copy is shorter. */
	if (attr[NFQA_CAP_LEN] &&
	    mnl_attr_validate(attr[NFQA_CAP_LEN], MNL_TYPE_U32) >= 0)
		p.cut = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > p.len;
	if (attr[NFQA_UID] &&
	    mnl_attr_validate(attr[NFQA_UID], MNL_TYPE_U32) >= 0)
		p.flow.uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
	if (attr[NFQA_CT_INFO] &&
	    mnl_attr_validate(attr[NFQA_CT_INFO], MNL_TYPE_U32) >= 0) {
		uint32_t ctinfo = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO]));

		/* IP_CT_ESTABLISHED_REPLY and IP_CT_RELATED_REPLY */
		p.reply = ctinfo == 3 || ctinfo == 4;
	}
	if (attr[NFQA_CT]) {
		p.has_ct = 1;
		mnl_attr_parse_nested(attr[NFQA_CT], ct_attr_cb, &p);
	}

	rc = p.data ? sluice_packet_parse(p.data, p.len, &p.flow) : -1;
	if (rc < 0) {
		verdict = SLUICE_Q_PASS;	/* not IP: not ours to judge */
	} else {
		p.unknown_flow = rc == SLUICE_PACKET_CUT;
		if (p.reply)
			sluice_flow_reverse(&p.flow, p.hook);
		verdict = q->decide(q->ctx, &p);
	}
	put_verdict(q, p.id, verdict);
	q->answered++;
	return MNL_CB_OK;
}

/* How long the first receive of a run may wait; 0 as given never waits. */
static int set_timeout(struct sluice_queue *q, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};

	if (timeout_ms == q->timeout_ms)
		return 0;
	if (setsockopt(sluice_queue_fd(q), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0)
		return -1;
	q->timeout_ms = timeout_ms;
	return 0;
}

static int send_batch(struct sluice_queue *q)
{
	ssize_t n;

	if (mnl_nlmsg_batch_size(q->batch) == 0)
		return 0;
	q->counts.sends++;
	n = mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(q->batch),
			      mnl_nlmsg_batch_size(q->batch));
	mnl_nlmsg_batch_reset(q->batch);
	return n < 0 ? -1 : 0;
}

/*
 * Up to SLUICE_QUEUE_BATCH packets in as few receives as they allow: the
 * first waits up to @timeout_ms (MSG_WAITFORONE: only for its first
 * packet), the next ones only while each came back full. No poll(): a
 * lone packet costs this one receive and the verdict's send.
 */
int sluice_queue_run_once(struct sluice_queue *q, int timeout_ms,
			  sluice_decide_fn decide, void *ctx)
{
	int fd = sluice_queue_fd(q), flags, got = 0, err = 0, i, n;

	apply_fail_open(q);
	if (timeout_ms > 0 && set_timeout(q, timeout_ms) < 0)
		return -1;
	flags = timeout_ms > 0 ? MSG_WAITFORONE : MSG_DONTWAIT;

	q->decide = decide;
	q->ctx = ctx;
	q->answered = 0;
	while (got < SLUICE_QUEUE_BATCH) {
		q->counts.receives++;
		n = recvmmsg(fd, q->msgs, SLUICE_QUEUE_RECV, flags, NULL);
		if (n < 0) {
			/* ENOBUFS: lost packets; the next run reads on. */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ENOBUFS)
				err = errno;
			break;
		}
		/*
		 * An error message here answers an earlier verdict whose
		 * packet was gone (its flow was destroyed): not fatal.
		 */
		for (i = 0; i < n; i++)
			mnl_cb_run(q->iov[i].iov_base, q->msgs[i].msg_len, 0,
				   q->portid, packet_cb, q);
		got += n;
		if (n < SLUICE_QUEUE_RECV)
			break;
		flags = MSG_DONTWAIT;
	}
	q->counts.packets += (uint64_t)q->answered;
	if (send_batch(q) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return q->answered;
}

void sluice_queue_counts(const struct sluice_queue *q,
			 struct sluice_queue_counts *out)
{
	*out = q->counts;
}
