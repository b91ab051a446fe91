#!/bin/sh
# One of the agent's two queue sockets closed while its control socket
# lives (a verdict thread's socket gone, the agent otherwise healthy):
# the module must fail over (leave enforcing) instead of letting the flows
# hashed to that queue bypass it, and the agent must leave rather than
# register again with a queue nobody reads. In closed mode nothing gets through; in
# open mode whatever gets through is admitted failing open and counted.
# New UDP flows (a socket each) pour to the client's own loopback, 5301
# denied, 5302 allowed; gdb closes the queue socket inside the agent.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# both_queues_used NS: queues 5 and 6 of NS have handed out packet ids.
both_queues_used() {
	# shellcheck disable=SC2016 # awk's own fields
	in_ns "$1" awk '$1 == 5 && $8 > 0 { a = 1 } $1 == 6 && $8 > 0 { b = 1 }
		END { exit !(a && b) }' /proc/net/netfilter/nfnetlink_queue
}
# queue_fd NS PID Q: the descriptor of PID that is bound to queue Q.
queue_fd() {
	# shellcheck disable=SC2016 # awk's own fields
	_port=$(in_ns "$1" awk -v q="$3" '$1 == q { print $2 }' \
		/proc/net/netfilter/nfnetlink_queue)
	# shellcheck disable=SC2016
	_ino=$(in_ns "$1" awk -v p="$_port" '$2 == 12 && $3 == p { print $10 }' \
		/proc/net/netlink)
	[ -n "$_ino" ] || return 1
	for _f in /proc/"$2"/fd/*; do
		if [ "$(readlink "$_f")" = "socket:[$_ino]" ]; then
			echo "${_f##*/}"
			return 0
		fi
	done
	return 1
}
# not_running PID: PID is gone or a zombie (not yet reaped).
not_running() {
	! grep -qE '^State:[[:space:]]+[RSDT]' "/proc/$1/status" 2>/dev/null
}
not_enforcing() {
	_m=$(sluice_stat "$1" mode)
	echo "$1: mode $_m" >&2
	[ "$_m" != enforcing ]
}

topo_up
dmesg_mark
udp_sink_start "$NS_CLIENT" 5301 5302
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'udp', '5301');"
check "sluicectl set fail-mode closed in the client namespace" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set fail-mode closed
spray_start "$NS_CLIENT" 5301 5302

# Closed mode.
setup "sluiced --threads 2 enforcing" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" --queue 5 --threads 2
check "new flows to the allowed port arrive" count_grows 5302 1.5
check "both queues got flows" both_queues_used "$NS_CLIENT"
den0=$(udp_count 5301)
fd=$(queue_fd "$NS_CLIENT" "$AGENT_PID" 6)
check "queue 6 is the agent's descriptor ${fd:-?}" [ -n "$fd" ]
c2=$(sluice_stat "$NS_CLIENT" failed_closed)
# The agent may leave while gdb still holds it: gdb's own status says
# nothing, what follows does.
# gdb itself may crash then: no core file of it in the tree.
# shellcheck disable=SC3045 # dash's ulimit takes -c
(ulimit -c 0; timeout 60 gdb -q -batch -p "$AGENT_PID" -ex "call (int)close($fd)") >&2 2>&1
# Gone or a zombie (the case's shell has not reaped it yet): not running.
check "the agent left (within 10 s), as a crash would (it does not register a dead queue again)" \
	eventually 100 not_running "$AGENT_PID"
check "and says why" grep -q "queue 6 is no longer ours" "$WORK/sluiced.$NS_CLIENT.log"
check "the module failed over: mode left enforcing" eventually 100 not_enforcing "$NS_CLIENT"
check "no flow bypassed the dead queue to the denied port ($den0 -> $(udp_count 5301))" \
	[ "$(udp_count 5301)" -eq 0 ]
check "nothing gets through in closed mode" count_stays 5302 1
check "and the drops are counted as failed_closed ($c2 -> $(sluice_stat "$NS_CLIENT" failed_closed))" \
	[ "$(sluice_stat "$NS_CLIENT" failed_closed)" -gt "$c2" ]
in_ns "$NS_CLIENT" cat /proc/net/netfilter/nfnetlink_queue /proc/net/sluice >&2
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null

# Open mode, where a flow that meets no agent is admitted,
# but counted and marked unvetted: whatever reaches the denied port from
# here on must have been admitted that way, not slipped through. Counted
# from before the switch (closed mode: nothing in flight) to after the
# spray stopped and the sink drained, so no datagram is in flight at
# either end.
den3=$(udp_count 5301)
o3=$(sluice_stat "$NS_CLIENT" failed_open)
check "sluicectl set fail-mode open in the client namespace" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set fail-mode open
check "sluiced --threads 2 enforcing (open)" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" --queue 5 --threads 2
fd=$(queue_fd "$NS_CLIENT" "$AGENT_PID" 6)
check "queue 6 is the agent's descriptor ${fd:-?}" [ -n "$fd" ]
# shellcheck disable=SC3045 # dash's ulimit takes -c
(ulimit -c 0; timeout 60 gdb -q -batch -p "$AGENT_PID" -ex "call (int)close(${fd:-99})") >&2 2>&1
check "open mode: the agent left, the module failed over" \
	eventually 100 not_enforcing "$NS_CLIENT"
check "and flows fail open: the allowed port is reached again" count_grows 5302 1
spray_stop
den4=$(udp_count 5301)
o4=$(sluice_stat "$NS_CLIENT" failed_open)
check "open mode: what reached the denied port was admitted failing open, nothing bypassed the dead queue (denied port +$((den4 - den3)), failed_open +$((o4 - o3)))" \
	[ $((den4 - den3)) -le $((o4 - o3)) ]
in_ns "$NS_CLIENT" cat /proc/net/netfilter/nfnetlink_queue /proc/net/sluice >&2
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
