#!/bin/sh
# Two namespaces, each with its own agent: the client's refuses port 8081
# going out, the server's refuses port 8082 coming in. The client's agent
# is killed: its namespace fails open at once (8081 gets through) while
# the server's agent keeps refusing 8082. A second agent started in the
# client's namespace displaces the first, which leaves by itself, and
# the namespace is enforcing without a gap.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
for p in 8080 8081 8082; do
	http_server_start "$NS_SERVER" $p
done
setup "sluice.ko loads" sluice_load
policy_init "$WORK/client.db" \
	"INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '8081');"
policy_init "$WORK/server.db" \
	"INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'in', 'tcp', '8082');"
setup "the server's agent enforcing" agent_start "$NS_SERVER" "$WORK/server.db"
server_pid=$AGENT_PID
setup "the client's agent enforcing" agent_start "$NS_CLIENT" "$WORK/client.db"
client_pid=$AGENT_PID

check "8080 allowed by both" connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "8081 refused by the client's agent" refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "8082 refused by the server's agent" refused "$NS_CLIENT" "http://$SERVER4:8082/"

kill -KILL "$client_pid"
wait "$client_pid" 2>/dev/null
check "the client's namespace has no agent at once" wait_mode "$NS_CLIENT" no-agent 5
check "the server's namespace is still enforcing" \
	[ "$(sluice_stat "$NS_SERVER" mode)" = enforcing ]
check "and its agent is the same process ($server_pid)" \
	[ "$(sluice_stat "$NS_SERVER" agent_pid)" -eq "$server_pid" ]
check "the client fails open: 8081 gets through" connects "$NS_CLIENT" "http://$SERVER4:8081/"
check "the server still refuses 8082 (over IPv4)" refused "$NS_CLIENT" "http://$SERVER4:8082/"
check "and over IPv6" refused "$NS_CLIENT" "http://[$SERVER6]:8082/"
check "the control: 8080 still served over IPv6" connects "$NS_CLIENT" "http://[$SERVER6]:8080/"

setup "a new client agent enforcing" agent_start "$NS_CLIENT" "$WORK/client.db"
first=$AGENT_PID
check "8081 refused again" refused "$NS_CLIENT" "http://$SERVER4:8081/"

# A second agent on the queue the first one holds cannot take it: it says
# so and leaves, and the first keeps enforcing.
ip netns exec "$NS_CLIENT" timeout 20 "$SLUICED" --db "$WORK/client.db" \
	--status-file "$WORK/status.dup" >"$WORK/dup.log" 2>&1
rc=$?
cat "$WORK/dup.log" >&2
check "a second agent on the same queue exits with an error ($rc)" \
	sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ]"
check "saying which queue it could not bind" grep -q "queue 0" "$WORK/dup.log"
check "the first agent is still the namespace's ($first)" \
	[ "$(sluice_stat "$NS_CLIENT" agent_pid)" -eq "$first" ]

# One on another queue registers in its place, under traffic.
flows_start "$NS_CLIENT" "$SERVER4:8080"
check "traffic flows before the second agent" flows_wait_more 5
ip netns exec "$NS_CLIENT" "$SLUICED" --db "$WORK/client.db" --queue 3 \
	--status-file "$WORK/status.second" >>"$WORK/sluiced.$NS_CLIENT.log" 2>&1 &
second=$!
_pids="$_pids $second"
agent_is_second() { [ "$(sluice_stat "$NS_CLIENT" agent_pid)" -eq "$second" ]; }
i=0
while ! agent_is_second && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the namespace's agent is now the second ($second), on queue 3" \
	sh -c "[ $(sluice_stat "$NS_CLIENT" agent_pid) -eq $second ] && [ $(sluice_stat "$NS_CLIENT" queue_num) -eq 3 ]"
check "traffic flows after the switch" flows_wait_more 5
flows_stop
i=0
while kill -0 "$first" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the displaced agent left by itself" sh -c "! kill -0 $first 2>/dev/null"
kill -KILL "$first" 2>/dev/null
wait "$first"
rc=$?
check "with status 0 ($rc)" [ "$rc" -eq 0 ]
check "saying why" grep -q "another sluiced registered in our place" "$WORK/sluiced.$NS_CLIENT.log"
check "no connection failed or lost a packet across the switch ($(flows_failed) failed, $(flows_retrans) retransmitted)" \
	flows_lossless
check "the second agent enforces: 8081 refused" refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "the server's agent never changed ($server_pid)" \
	[ "$(sluice_stat "$NS_SERVER" agent_pid)" -eq "$server_pid" ]
AGENT_PID=$second
check "SIGTERM stops the second client agent with status 0" agent_stop
AGENT_PID=$server_pid
check "SIGTERM stops the server's agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
