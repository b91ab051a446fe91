#!/bin/sh
# The module removed and inserted 20 times while connections keep being
# opened through it (fail-open, no agent): no oops, no failed connection.
# Then with an agent attached: it notices the module go and come back and
# registers again by itself.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
setup "netfilter hook points kept in use (see netfilter_keys_on)" netfilter_keys_on
dmesg_mark
http_server_start "$NS_SERVER" 8080
setup "sluice.ko loads" sluice_load
flows_start "$NS_CLIENT" "$SERVER4:8080" "[$SERVER6]:8080"
setup "traffic flows before the cycles" flows_wait_more 5
i=0
ok=1
# Connections counted between the first rmmod and the last insmod only.
before=$(flows_ok)
while [ $i -lt 20 ]; do
	rmmod sluice || ok=0
	insmod "$SLUICE_KO" || ok=0
	sleep 0.2
	i=$((i + 1))
done
during=$(($(flows_ok) - before))
flows_stop
check "20 rmmod/insmod cycles all succeeded" [ "$ok" -eq 1 ]
check "connections made during the cycles: $during" [ "$during" -gt 5 ]
check "no connection failed or lost a packet ($(flows_failed) failed, $(flows_retrans) retransmitted)" \
	flows_lossless

policy_init "$WORK/policy.db"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
flows_start "$NS_CLIENT" "$SERVER4:8080"
i=0
while [ $i -lt 3 ]; do
	rmmod sluice
	sleep 0.3
	insmod "$SLUICE_KO"
	check "cycle $i: the agent registers again by itself" \
		wait_mode "$NS_CLIENT" enforcing 50
	i=$((i + 1))
done
flows_stop
check "no connection failed or lost a packet across module reloads with an agent ($(flows_failed) failed, $(flows_retrans) retransmitted)" \
	flows_lossless
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
