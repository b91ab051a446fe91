#!/bin/sh
# SIGTERM while connections keep coming: the agent drains (the module
# stops queueing), answers every packet still queued and leaves. Every
# packet the module queued got a verdict, and no connection failed.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
q0=$(sluice_stat "$NS_CLIENT" queued)
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
flows_start "$NS_CLIENT" "$SERVER4:8080" "[$SERVER6]:8080"
sleep 3
check "SIGTERM under traffic: status 0" agent_stop
sleep 1
flows_stop
q1=$(sluice_stat "$NS_CLIENT" queued)
answered=$(sed -n 's/.*stopped: \([0-9]*\) packets answered.*/\1/p' \
	"$WORK/sluiced.$NS_CLIENT.log")
check "every queued packet was answered (queued $((q1 - q0)), answered ${answered:-?})" \
	[ "$((q1 - q0))" -eq "${answered:--1}" ]
check "connections made: $(flows_ok)" [ "$(flows_ok)" -gt 3 ]
check "no connection failed or lost a packet ($(flows_failed) failed, $(flows_retrans) retransmitted)" \
	flows_lossless
check "mode no-agent after the drain" wait_mode "$NS_CLIENT" no-agent
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
