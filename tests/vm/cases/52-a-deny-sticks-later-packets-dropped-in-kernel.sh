#!/bin/sh
# A deny sticks. The attacker floods a denied UDP port from one socket
# (one 5-tuple): the agent sees the flow's first packet and denies it,
# every later datagram of the flow is dropped in the kernel, none reaches
# the server, and the queue loses nothing. A SYN to a denied TCP port that
# the client retransmits costs one verdict, not one per retransmit. The
# controls: an allowed UDP flow from one socket arrives whole, an allowed
# TCP port connects.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

N=20000
N6=2000

# sent_all OUT COUNT: udp_flood's report says every datagram left.
sent_all() {
	echo "$1" >&2
	[ "$1" = "sent $2 refused 0" ]
}
# flood_done OUT COUNT: every datagram was either sent or refused at once.
flood_done() {
	echo "$1" >&2
	# shellcheck disable=SC2086 # the words of the report
	set -- $1 "$2"
	[ "$1" = sent ] && [ $(($2 + $4)) -eq "$5" ]
}
# retransmits NS: SYN/segment retransmissions the stack tried, sent or
# refused by the local firewall.
retransmits() {
	echo $(($(nstat_abs "$1" TcpRetransSegs) + $(nstat_abs "$1" TcpExtTCPRetransFail)))
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
udp_sink_start "$NS_SERVER" 5301 5302
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'udp', '5301');
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '8081');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

# Control: an allowed UDP flow from one socket.
q0=$(sluice_stat "$NS_CLIENT" queued)
l0=$(nfq_lost "$NS_CLIENT")
out=$(udp_flood "$NS_CLIENT" "$SERVER4" 5302 200 40002)
check "200 datagrams from one socket to the allowed UDP port leave" \
	sent_all "$out" 200
check "all 200 reach the server" \
	eventually 50 udp_count_is 5302 200
q1=$(sluice_stat "$NS_CLIENT" queued)
check "the allowed flow was queued a handful of times ($q0 -> $q1)" \
	between $((q1 - q0)) 1 19

# The attack: one socket, one flow, N datagrams to a denied port.
d1=$(sluice_stat "$NS_CLIENT" fast_dropped)
out=$(udp_flood "$NS_CLIENT" "$SERVER4" 5301 "$N" 40001)
check "$N datagrams from one socket to the denied UDP port were sent or refused" \
	flood_done "$out" "$N"
sleep 1
q2=$(sluice_stat "$NS_CLIENT" queued)
d2=$(sluice_stat "$NS_CLIENT" fast_dropped)
l2=$(nfq_lost "$NS_CLIENT")
check "the denied flow was queued a handful of times, not once per datagram ($q1 -> $q2 for $N)" \
	between $((q2 - q1)) 1 19
check "the rest were dropped in the kernel (fast_dropped $d1 -> $d2)" \
	[ $((d2 - d1)) -ge $((N - 20)) ]
check "no datagram reached the server ($(udp_count 5301))" \
	[ "$(udp_count 5301)" -eq 0 ]
check "the queues lost nothing on the way (queue_dropped + user_dropped $l0 -> $l2)" \
	[ "$l2" -eq "$l0" ]

# The same over IPv6.
out=$(udp_flood "$NS_CLIENT" "$SERVER6" 5301 "$N6" 40003)
check "$N6 datagrams over IPv6 to the denied port were sent or refused" \
	flood_done "$out" "$N6"
sleep 1
q3=$(sluice_stat "$NS_CLIENT" queued)
check "the IPv6 flow was queued a handful of times ($q2 -> $q3 for $N6)" \
	between $((q3 - q2)) 1 19
check "and none of it reached the server ($(udp_count 5301))" \
	[ "$(udp_count 5301)" -eq 0 ]

# A SYN to a denied TCP port, retransmitted by the client.
s3=$(sluice_stat "$NS_CLIENT" seen)
r3=$(retransmits "$NS_CLIENT")
check "curl to the denied TCP port gives up after 4 s" \
	sh -c "! ip netns exec $NS_CLIENT curl -sf --connect-timeout 4 -o /dev/null http://$SERVER4:8081/"
s4=$(sluice_stat "$NS_CLIENT" seen)
r4=$(retransmits "$NS_CLIENT")
q4=$(sluice_stat "$NS_CLIENT" queued)
check "its SYN was sent 3 times or more (seen $s3 -> $s4, retransmits $r3 -> $r4)" \
	sh -c "[ $((s4 - s3)) -ge 3 ] && [ $((r4 - r3)) -ge 2 ]"
check "but queued once or twice, not per retransmit ($q3 -> $q4)" \
	between $((q4 - q3)) 1 2
check "while the allowed TCP port connects" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "the queues lost nothing (queue_dropped + user_dropped $l0 -> $(nfq_lost "$NS_CLIENT"))" \
	[ "$(nfq_lost "$NS_CLIENT")" -eq "$l0" ]

check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
in_ns "$NS_CLIENT" cat /proc/net/sluice >&2
agent_log "$NS_CLIENT"
tap_done
