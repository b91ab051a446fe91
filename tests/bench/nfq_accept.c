// SPDX-License-Identifier: GPL-2.0
/*
 * The round-trip limit of NFQUEUE: the shortest honest accept loop on
 * libmnl and libnetfilter_queue (the shape of libnetfilter_queue's
 * examples/nf-queue.c). Every packet of the queue is accepted at once, one
 * verdict a packet, as sluiced answers. The flow bench measures sluiced
 * against this. Runs until killed.
 *
 *   build/nfq_accept [QUEUE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static char buf[0xffff + 4096];

static int accept_one(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct mnl_socket *nl = data;
	char out[512];
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct nlmsghdr *v;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	v = nfq_nlmsg_put(out, NFQNL_MSG_VERDICT, ntohs(nfg->res_id));
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_ACCEPT);
	if (mnl_socket_sendto(nl, v, v->nlmsg_len) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	unsigned int queue = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 10) : 0;
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh;
	int one = 1;
	ssize_t n;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netlink socket");
		return 1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: bind queue");
		return 1;
	}
	/* The headers are enough to answer; sluiced copies more. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 128);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: queue parameters");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("nfq_accept: recv");
			return 1;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl),
			       accept_one, nl) < 0) {
			perror("nfq_accept: verdict");
			return 1;
		}
	}
}
