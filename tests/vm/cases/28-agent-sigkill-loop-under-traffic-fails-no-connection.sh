#!/bin/sh
# The agent crashes over and over (SIGKILL ten times, each time while new
# connections keep coming and some of them are queued to it) and is started
# again each time: not one connection fails, the module fails open at every
# crash and the next agent registers and enforces again. In the debug
# kernel (make vm-debug) KASAN and lockdep watch the release of a queue
# with packets in it racing the hook that is queueing to it.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
flows_start "$NS_CLIENT" "$SERVER4:8080" "[$SERVER6]:8080"
check "connections flow before the first agent" flows_wait_more 5

q0=$(sluice_stat "$NS_CLIENT" queued)
t0=$(sluice_stat "$NS_CLIENT" transitions)
starts=0
i=0
while [ $i -lt 10 ]; do
	if agent_start "$NS_CLIENT" "$WORK/policy.db"; then
		starts=$((starts + 1))
	fi
	# Let it queue and decide a few flows, then crash it mid-stream.
	flows_wait_more 3
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	i=$((i + 1))
done
check "connections flow after the last crash" flows_wait_more 5
flows_stop
cat "$WORK/flows.err" >&2
check "all 10 agents registered and enforced ($starts)" [ "$starts" -eq 10 ]
check "the agents had flows queued to them" \
	[ "$(sluice_stat "$NS_CLIENT" queued)" -gt "$q0" ]
check "every crash and start was a transition (20 or more)" \
	[ "$(sluice_stat "$NS_CLIENT" transitions)" -ge $((t0 + 20)) ]
check "mode is no-agent after the last crash" wait_mode "$NS_CLIENT" no-agent 50
check "connections made across the crashes: $(flows_ok)" [ "$(flows_ok)" -gt 30 ]
check "no connection failed ($(flows_failed))" [ "$(flows_failed)" -eq 0 ]
# What SIGKILL cannot save: a SYN queued to the agent and not yet answered
# when it dies is dropped by nfnetlink_queue as it frees the dead socket's
# queue (the kernel's instance_destroy; no hook lets the module take it
# back), and TCP sends it again a second later. The client makes one
# connection at a time, so at most one such SYN per crash; any more were
# lost elsewhere. Measured: 2 of 588 connections over 10 crashes.
check "connections that lost a packet: $(flows_retrans), at most one per crash (10)" \
	[ "$(flows_retrans)" -le 10 ]
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
