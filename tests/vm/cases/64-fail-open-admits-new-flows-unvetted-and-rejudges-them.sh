#!/bin/sh
# fail_mode=open through an agent crash (SIGKILL), a hang (SIGSTOP past
# the watchdog) and a restart (SIGTERM, then a new agent): an allowed
# connection talking every 100 ms loses nothing; new flows opened during
# the outage pass, counted as failed_open and marked unvetted, to the
# allowed port and to the denied one alike; once the agent is back, each
# is judged at its next message: the one to the denied port is cut and
# marked deny, the one to the allowed port (the control) talks on and is
# marked allow.
#
#   client (sluiced, open) --- router --- server (echo on 7000, 7001)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
setup "echo server on 7000 and 7001" talk_serve "$NS_SERVER" 7000 7001
setup "sluice.ko loads with watchdog_ms=250" sluice_load watchdog_ms=250
check "the client namespace fails open" \
	[ "$(sluice_stat "$NS_CLIENT" fail_mode)" = open ]
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '7001');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "a new flow to the denied port 7001 is refused" \
	no_new_flow "$NS_CLIENT" "$SERVER4" 7001
check "the long-lived connection to 7000 talks" \
	talk_start estab "$NS_CLIENT" "$SERVER4" 7000
check "its conntrack entry carries the allow verdict" \
	ct_verdict_is "$NS_CLIENT" "$(talk_sport estab)" allow
denied=0	# connections the server accepted on 7001 while failing open

for outage in crash hang restart; do
	outage_begin "$outage" "$NS_CLIENT"
	o0=$(sluice_stat "$NS_CLIENT" failed_open)
	check "$outage: the established connection keeps talking (10 echoes in 2 s)" \
		talk_grows estab 2 10
	check "$outage: a new connection to the allowed port talks" \
		talk_start "ok.$outage" "$NS_CLIENT" "$SERVER4" 7000
	check "$outage: a new connection to the denied port talks too (fail-open)" \
		talk_start "no.$outage" "$NS_CLIENT" "$SERVER4" 7001
	denied=$((denied + 1))
	o1=$(sluice_stat "$NS_CLIENT" failed_open)
	check "$outage: both admitted failing open ($o0 -> $o1)" \
		[ "$o1" -ge $((o0 + 2)) ]
	check "$outage: the allowed one is marked unvetted" \
		ct_verdict_is "$NS_CLIENT" "$(talk_sport "ok.$outage")" unvetted
	check "$outage: the denied one is marked unvetted" \
		ct_verdict_is "$NS_CLIENT" "$(talk_sport "no.$outage")" unvetted
	check "$outage: the denied one keeps talking while no agent judges" \
		talk_grows "no.$outage" 1 5
	outage_end "$outage" "$NS_CLIENT" "$WORK/policy.db"
	check "$outage: agent back, the denied connection is judged and marked deny" \
		eventually 30 ct_verdict_is "$NS_CLIENT" "$(talk_sport "no.$outage")" deny
	check "$outage: and cut: not one echo in 2 s" talk_stays "no.$outage" 2
	check "$outage: control, the allowed one is marked allow" \
		ct_verdict_is "$NS_CLIENT" "$(talk_sport "ok.$outage")" allow
	check "$outage: and talks on (10 echoes in 2 s)" \
		talk_grows "ok.$outage" 2 10
	check "$outage: a new flow to the denied port is refused again" \
		no_new_flow "$NS_CLIENT" "$SERVER4" 7001
	talk_stop "no.$outage"
	talk_stop "ok.$outage"
	check "$outage: the allowed new connection lost nothing: $(talk_sent "ok.$outage") messages" \
		talk_whole "ok.$outage"
done

talk_stop estab
check "the established connection lost nothing across the three outages: $(talk_sent estab) messages" \
	talk_whole estab
check "the server accepted on the denied port only the $denied admitted unvetted ($(accepts 7001))" \
	[ "$(accepts 7001)" -eq "$denied" ]
check "SIGTERM stops the agent with status 0" agent_stop
stop_bg
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
