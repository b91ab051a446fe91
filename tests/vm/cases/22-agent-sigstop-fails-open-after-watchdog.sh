#!/bin/sh
# A hung agent (SIGSTOP) keeps its sockets open, so only the heartbeat
# deadline can tell. New connections work again after watchdog_ms; after
# SIGCONT the agent beats again, enforcement resumes, and the agent says
# that the module heard it late (once; not before the hang).
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8081
check "sluice.ko loads with watchdog_ms=250" sluice_load watchdog_ms=250
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '8081');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
check "port 8081 denied while the agent is live" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"
late_said() { grep -c "the module heard us .* failed new flows open" "$WORK/sluiced.$NS_CLIENT.log"; }
check "its beats were on time so far: it said none was late" \
	[ "$(late_said)" -eq 0 ]

syn_mark "$NS_CLIENT"
kill -STOP "$AGENT_PID"
sleep 0.3
check "250 ms after SIGSTOP a new connection connects at once" \
	fast_connect "$NS_CLIENT" "http://$SERVER4:8081/"
check "the namespace reports the agent hung" wait_mode "$NS_CLIENT" hung 10
kill -CONT "$AGENT_PID"
check "after SIGCONT the agent is enforcing again" \
	wait_mode "$NS_CLIENT" enforcing 20
check "and new connections to 8081 are denied again" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "the agent said the module heard it late, and how late" \
	[ "$(late_said)" -eq 1 ]
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
