// SPDX-License-Identifier: GPL-2.0
/*
 * The round-trip limit of NFQUEUE, for tests/bench/vm.sh: a bare accept
 * loop on libmnl, the shape of libnetfilter_queue's examples/nf-queue.c.
 * It binds queue QUEUE, copies packets' metadata only, and accepts every
 * packet at once, one verdict per packet, nothing else. Fed by an
 * iptables NFQUEUE rule, what it sustains is what any agent could at best.
 *
 * Usage: nfq_accept QUEUE     runs until killed; prints nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static struct mnl_socket *nl;

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *reply;
	unsigned int queue = *(unsigned int *)data;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_ERROR;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	reply = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(reply, ntohl(ph->packet_id), NF_ACCEPT);
	if (mnl_socket_sendto(nl, reply, reply->nlmsg_len) < 0) {
		perror("nfq_accept: verdict");
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	unsigned int queue;
	int one = 1;
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: nfq_accept QUEUE\n");
		return 2;
	}
	queue = (unsigned int)strtoul(argv[1], NULL, 10);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netfilter netlink socket");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: bind queue");
		return 1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: copy mode");
		return 1;
	}

	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			perror("nfq_accept: receive");
			return 1;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_packet, &queue) < 0) {
			perror("nfq_accept: packet");
			return 1;
		}
	}
}
