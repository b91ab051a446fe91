#!/bin/sh
# SIGKILL of the agent: its netlink socket is released, the module fails
# open at once. A new connection 10 ms later completes its handshake
# without a retransmit, and a transfer already running is not broken.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
head -c 400000 /dev/zero >"$WORK/www/big"
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '8081');"
http_server_start "$NS_SERVER" 8081
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
check "port 8081 is denied while the agent runs" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"

# A slow download (about 4 s) that must survive the kill.
in_ns "$NS_CLIENT" curl -sf --limit-rate 100k -o "$WORK/big.out" \
	"http://$SERVER4:8080/big" &
dl=$!
sleep 1
o0=$(sluice_stat "$NS_CLIENT" failed_open)
syn_mark "$NS_CLIENT"
kill -KILL "$AGENT_PID"
sleep 0.01
check "a new connection 10 ms after SIGKILL connects without retransmit" \
	fast_connect "$NS_CLIENT" "http://$SERVER4:8081/"
check "the module failed open for it" \
	[ "$(sluice_stat "$NS_CLIENT" failed_open)" -gt "$o0" ]
check "mode is no-agent" wait_mode "$NS_CLIENT" no-agent 5
check "the transfer running across the kill completed" wait "$dl"
check "and is whole" [ "$(wc -c <"$WORK/big.out")" -eq 400000 ]
check "transitions counted" [ "$(sluice_stat "$NS_CLIENT" transitions)" -ge 2 ]
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
