#!/bin/sh
# A run-time change of watchdog_ms reaches the live agent with its next
# heartbeat reply, so that a healthy agent never flaps to "hung": with the
# watchdog cut from 4000 ms to 600 ms an agent that kept beating every
# 1000 ms would be late at every beat. Control: a hang is still caught at the new,
# shorter deadline.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
check "sluice.ko loads with watchdog_ms=4000" sluice_load watchdog_ms=4000
policy_init "$WORK/policy.db"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
t0=$(sluice_stat "$NS_CLIENT" transitions)
check "sluicectl set watchdog-ms 600" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set watchdog-ms 600
check "the namespace's watchdog_ms reads 600" \
	[ "$(sluice_stat "$NS_CLIENT" watchdog_ms)" = 600 ]
check "the agent says it follows the new watchdog" \
	eventually 30 grep -q "watchdog now 600 ms" "$WORK/sluiced.$NS_CLIENT.log"
sleep 3
t1=$(sluice_stat "$NS_CLIENT" transitions)
diag "transitions over 3 s at 600 ms: $t0 -> $t1"
check "three seconds later: still enforcing" \
	[ "$(sluice_stat "$NS_CLIENT" mode)" = enforcing ]
check "and the transitions counter stayed flat" [ "$t1" = "$t0" ]
check "another namespace's watchdog_ms is untouched (4000)" \
	[ "$(sluice_stat "$NS_SERVER" watchdog_ms)" = 4000 ]

kill -STOP "$AGENT_PID"
check "control: SIGSTOP is seen as hung at the new deadline" \
	wait_mode "$NS_CLIENT" hung 10
kill -CONT "$AGENT_PID"
check "after SIGCONT the agent is enforcing again" \
	wait_mode "$NS_CLIENT" enforcing 30
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
