#!/bin/sh
# With several verdict threads, the queue of a packet follows its flow's
# tuple: a burst from one socket, sent before the first verdict returns
# (each packet then has its own unconfirmed conntrack entry), lands on one
# queue, so one thread sees the flow's packets in order. The control:
# first packets of many flows spread over both queues. Nothing is lost.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# ids NS Q: packet ids queue Q of NS has handed out so far.
ids() {
	# shellcheck disable=SC2016 # awk's own fields
	in_ns "$1" awk -v q="$2" '$1 == q { n = $8 } END { print n + 0 }' \
		/proc/net/netfilter/nfnetlink_queue
}
# burst NS ADDR PORT COUNT SOCKETS [PID]: COUNT datagrams back to back,
# from one socket (SOCKETS=1) or each from a socket of its own. With PID,
# that process is stopped for the few milliseconds of the burst, so no
# verdict can come back before the last datagram is queued (far below the
# watchdog; on a busy machine the agent could otherwise answer the
# first datagram before python sends the second).
burst() {
	in_ns "$1" python3 -c '
import os, signal, socket, sys
addr, port, count, one = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
pid = int(sys.argv[5]) if len(sys.argv) > 5 else 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if pid:
    os.kill(pid, signal.SIGSTOP)
try:
    for i in range(count):
        if not one:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"burst %d" % i, (addr, port))
finally:
    if pid:
        os.kill(pid, signal.SIGCONT)' "$2" "$3" "$4" "$5" ${6:+"$6"}
}

topo_up
dmesg_mark
udp_sink_start "$NS_SERVER" 5302 5303
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
setup "sluiced --threads 2 enforcing" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" --queue 5 --threads 2

a0=$(ids "$NS_CLIENT" 5)
b0=$(ids "$NS_CLIENT" 6)
q0=$(sluice_stat "$NS_CLIENT" queued)
l0=$(nfq_lost "$NS_CLIENT")
check "a burst of 50 datagrams from one socket is sent (agent held for it)" \
	burst "$NS_CLIENT" "$SERVER4" 5302 50 1 "$AGENT_PID"
check "all 50 arrive" eventually 50 udp_count_is 5302 50
a1=$(ids "$NS_CLIENT" 5)
b1=$(ids "$NS_CLIENT" 6)
q1=$(sluice_stat "$NS_CLIENT" queued)
check "more than one of them was queued before the first verdict ($q0 -> $q1)" \
	[ $((q1 - q0)) -ge 2 ]
check "and all went to the same queue (queue 5 +$((a1 - a0)), queue 6 +$((b1 - b0)))" \
	sh -c "[ $((a1 - a0)) -eq 0 ] || [ $((b1 - b0)) -eq 0 ]"
check "32 first packets of 32 flows are sent" \
	burst "$NS_CLIENT" "$SERVER4" 5303 32 0
check "all 32 arrive" eventually 50 udp_count_is 5303 32
a2=$(ids "$NS_CLIENT" 5)
b2=$(ids "$NS_CLIENT" 6)
check "they spread over both queues (queue 5 +$((a2 - a1)), queue 6 +$((b2 - b1)))" \
	sh -c "[ $((a2 - a1)) -gt 0 ] && [ $((b2 - b1)) -gt 0 ]"
check "the queues lost nothing ($l0 -> $(nfq_lost "$NS_CLIENT"))" \
	[ "$(nfq_lost "$NS_CLIENT")" -eq "$l0" ]
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
