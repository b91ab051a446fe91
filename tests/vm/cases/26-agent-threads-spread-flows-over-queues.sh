#!/bin/sh
# sluiced --threads 2 serves two queues; the module spreads new flows over
# both by a hash of the flow, and every flow is judged the same whichever
# thread gets it. SIGTERM still answers everything queued.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# queue_used NS Q: queue Q of NS has handed out packet ids (was used).
queue_used() {
	in_ns "$1" awk -v q="$2" '$1 == q && $8 > 0 { found = 1 } END { exit !found }' \
		/proc/net/netfilter/nfnetlink_queue
}
all_refused() {
	for _i in 1 2 3 4 5 6; do
		refused "$NS_CLIENT" "http://$SERVER4:8081/" || return 1
	done
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '8081');"
q0=$(sluice_stat "$NS_CLIENT" queued)
setup "sluiced --threads 2 enforcing" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" --queue 5 --threads 2
check "the module was told two queues" \
	[ "$(sluice_stat "$NS_CLIENT" queue_count)" -eq 2 ]
in_ns "$NS_CLIENT" cat /proc/net/netfilter/nfnetlink_queue >&2
flows_start "$NS_CLIENT" "$SERVER4:8080" "[$SERVER6]:8080"
check "connections flow" flows_wait_more 40
check "queue 5 got flows" queue_used "$NS_CLIENT" 5
check "queue 6 got flows" queue_used "$NS_CLIENT" 6
in_ns "$NS_CLIENT" cat /proc/net/netfilter/nfnetlink_queue >&2
check "every connection to the denied port is refused, whichever thread" \
	all_refused
check "SIGTERM under traffic: status 0" agent_stop
flows_stop
q1=$(sluice_stat "$NS_CLIENT" queued)
answered=$(sed -n 's/.*stopped: \([0-9]*\) packets answered.*/\1/p' \
	"$WORK/sluiced.$NS_CLIENT.log")
check "every queued packet was answered (queued $((q1 - q0)), answered ${answered:-?})" \
	[ "$((q1 - q0))" -eq "${answered:--1}" ]
check "no connection failed or lost a packet ($(flows_failed) failed, $(flows_retrans) retransmitted of $(flows_ok))" \
	flows_lossless
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
