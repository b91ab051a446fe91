#!/bin/sh
# fail_mode=closed keeps what it already judged: an allowed TCP connection
# exchanging a message every 100 ms goes on through an agent crash
# (SIGKILL), a hang (SIGSTOP past the watchdog) and a restart (SIGTERM,
# then a new agent), without one message lost or held up by a cut (see
# talk_whole), while every NEW flow meanwhile is refused, counted as failed_closed, and never
# reaches the server. The control after each outage: a new flow to the
# same allowed port works again. A denied port is never reached, counted
# at the server.
#
#   client (sluiced, closed) --- router --- server (echo on 7000, 7001)
#
# The fail mode is the module's default for every namespace: the router
# and the server, which have no agent, are set open so that only the
# client's namespace (its agent, its closed mode) decides.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
setup "echo server on 7000 and 7001" talk_serve "$NS_SERVER" 7000 7001
setup "sluice.ko loads with fail_mode=closed watchdog_ms=250" \
	sluice_load fail_mode=closed watchdog_ms=250
check "the client namespace fails closed" \
	[ "$(sluice_stat "$NS_CLIENT" fail_mode)" = closed ]
setup "the router fails open" in_ns "$NS_ROUTER" "$SLUICECTL" set fail-mode open
setup "the server fails open" in_ns "$NS_SERVER" "$SLUICECTL" set fail-mode open
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '7001');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "a new flow to the allowed port 7000 works" \
	new_flow "$NS_CLIENT" "$SERVER4" 7000
check "a new flow to the denied port 7001 is refused" \
	no_new_flow "$NS_CLIENT" "$SERVER4" 7001
check "the long-lived connection to 7000 talks" \
	talk_start estab "$NS_CLIENT" "$SERVER4" 7000
check "its conntrack entry carries the allow verdict" \
	ct_verdict_is "$NS_CLIENT" "$(talk_sport estab)" allow
made=2	# connections the server must have accepted on 7000 so far

for outage in crash hang restart; do
	outage_begin "$outage" "$NS_CLIENT"
	c0=$(sluice_stat "$NS_CLIENT" failed_closed)
	a0=$(accepts 7000)
	check "$outage: the established connection keeps talking (10 echoes in 2 s)" \
		talk_grows estab 2 10
	check "$outage: a new flow to the allowed port is refused" \
		no_new_flow "$NS_CLIENT" "$SERVER4" 7000
	check "$outage: and the denied port too" \
		no_new_flow "$NS_CLIENT" "$SERVER4" 7001
	c1=$(sluice_stat "$NS_CLIENT" failed_closed)
	check "$outage: the refused flows' packets counted failed_closed ($c0 -> $c1)" \
		[ "$c1" -ge $((c0 + 2)) ]
	check "$outage: the server accepted no connection meanwhile ($a0 -> $(accepts 7000))" \
		[ "$(accepts 7000)" -eq "$a0" ]
	check "$outage: the established connection still talks (5 echoes in 1 s)" \
		talk_grows estab 1 5
	outage_end "$outage" "$NS_CLIENT" "$WORK/policy.db"
	check "$outage: control, a new flow to 7000 works with the agent back" \
		new_flow "$NS_CLIENT" "$SERVER4" 7000
	made=$((made + 1))
	check "$outage: the denied port is still refused" \
		no_new_flow "$NS_CLIENT" "$SERVER4" 7001
done

talk_stop estab
check "the connection lost nothing across the three outages: $(talk_sent estab) messages" \
	talk_whole estab
check "the server accepted exactly the $made allowed connections ($(accepts 7000))" \
	[ "$(accepts 7000)" -eq "$made" ]
check "and not one on the denied port ($(accepts 7001))" \
	[ "$(accepts 7001)" -eq 0 ]
check "SIGTERM stops the agent with status 0" agent_stop
stop_bg
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
