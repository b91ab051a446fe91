#!/bin/sh
# A new flow goes to the agent exactly once; every later packet of it is
# decided in the kernel from conntrack. IPv4 and IPv6.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
check "sluiced registers: client namespace enforcing" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"

q0=$(sluice_stat "$NS_CLIENT" queued)
f0=$(sluice_stat "$NS_CLIENT" fast_accepted)
check "curl over IPv4 through the agent" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
q1=$(sluice_stat "$NS_CLIENT" queued)
f1=$(sluice_stat "$NS_CLIENT" fast_accepted)
check "the IPv4 flow was queued exactly once ($q0 -> $q1)" \
	[ $((q1 - q0)) -eq 1 ]
check "its later packets took the fast path ($f0 -> $f1)" \
	[ $((f1 - f0)) -ge 4 ]

check "curl over IPv6 through the agent" \
	connects "$NS_CLIENT" "http://[$SERVER6]:8080/"
q2=$(sluice_stat "$NS_CLIENT" queued)
check "the IPv6 flow was queued exactly once ($q1 -> $q2)" \
	[ $((q2 - q1)) -eq 1 ]
check "conntrack carries the allow verdict in sluice's mark bits" \
	sh -c "ip netns exec $NS_CLIENT conntrack -L -p tcp --dport 8080 2>/dev/null | grep -q 'mark=1073741824'"
check "sluicectl status says enforcing" \
	sh -c "ip netns exec $NS_CLIENT $SLUICECTL status | grep -q enforcing"
check "sluicectl status --json is valid JSON" \
	sh -c "ip netns exec $NS_CLIENT $SLUICECTL status --json | python3 -m json.tool"
check "sluicectl set hooks forward: the client's own traffic is not filtered" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set hooks forward
s3=$(sluice_stat "$NS_CLIENT" seen)
check "a new flow of the client passes" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "without reaching a sluice hook (seen stayed at $s3)" \
	[ "$(sluice_stat "$NS_CLIENT" seen)" -eq "$s3" ]
check "sluicectl set hooks all restores it" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set hooks in,out,forward
check "sluicectl set hooks with nothing valid is refused" \
	sh -c "! ip netns exec $NS_CLIENT $SLUICECTL set hooks none"
check "SIGTERM stops the agent with status 0" agent_stop
check "the namespace has no agent after it left" \
	wait_mode "$NS_CLIENT" no-agent
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
