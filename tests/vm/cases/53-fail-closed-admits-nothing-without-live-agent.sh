#!/bin/sh
# fail_mode=closed admits nothing without a live agent:
#  (a) a connection admitted unvetted while the namespace failed open is
#      cut once the namespace switches to closed (it kept flowing in open);
#  (b) the agent SIGKILLed while new flows pour in: not one datagram gets
#      past (neither to the allowed nor the denied port), over several
#      kills, and the drops are counted as failed_closed.
# (b) talks to the client's own loopback, so that only the client
# namespace's agent and fail mode take part. A dead queue socket is
# 57-*'s business.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

lines() { wc -l <"$WORK/lines" | tr -d ' '; }
talks() { [ "$(lines)" -gt 0 ]; }
grows() {
	_a=$(lines)
	sleep "$1"
	_b=$(lines)
	echo "lines $_a -> $_b in $1 s" >&2
	[ "$_b" -gt "$_a" ]
}
stays() {
	_a=$(lines)
	sleep "$1"
	_b=$(lines)
	echo "lines $_a -> $_b in $1 s" >&2
	[ "$_b" -eq "$_a" ]
}
topo_up
dmesg_mark
bg in_ns "$NS_SERVER" nc -l 7000 >"$WORK/lines"
wait_listen "$NS_SERVER" 7000
udp_sink_start "$NS_CLIENT" 5301 5302
check "sluice.ko loads (fail_mode open)" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'udp', '5301');"

# (a) A connection admitted unvetted while failing open.
o0=$(sluice_stat "$NS_CLIENT" failed_open)
rm -f "$WORK/talk.stop"
bg in_ns "$NS_CLIENT" python3 -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 7000), timeout=5)
while not os.path.exists(sys.argv[2]):
    s.sendall(b"line\n")
    time.sleep(0.2)' "$SERVER4" "$WORK/talk.stop"
check "a connection opened without agent in open mode talks" \
	eventually 100 talks
check "it was admitted failing open ($o0 -> $(sluice_stat "$NS_CLIENT" failed_open))" \
	[ "$(sluice_stat "$NS_CLIENT" failed_open)" -gt "$o0" ]
check "in open mode its lines keep coming" grows 2
c0=$(sluice_stat "$NS_CLIENT" failed_closed)
check "sluicectl set fail-mode closed in the client namespace" \
	in_ns "$NS_CLIENT" "$SLUICECTL" set fail-mode closed
sleep 0.5
check "in closed mode, still without agent, its packets no longer get through" \
	stays 2
check "and are counted as failed_closed ($c0 -> $(sluice_stat "$NS_CLIENT" failed_closed))" \
	[ "$(sluice_stat "$NS_CLIENT" failed_closed)" -gt "$c0" ]
touch "$WORK/talk.stop"

# (b) SIGKILL of the agent in closed mode, new flows pouring in.
check "sluiced enforcing (client namespace closed)" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"
spray_start "$NS_CLIENT" 5301 5302
check "with the agent, new flows to the allowed port arrive" count_grows 5302 1.5
check "and none to the denied port" [ "$(udp_count 5301)" -eq 0 ]
c1=$(sluice_stat "$NS_CLIENT" failed_closed)
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "SIGKILL: the namespace has no agent" wait_mode "$NS_CLIENT" no-agent 20
sleep 0.5
check "nothing new arrives at the allowed port after the kill" count_stays 5302 2
check "the drops are counted as failed_closed ($c1 -> $(sluice_stat "$NS_CLIENT" failed_closed))" \
	[ "$(sluice_stat "$NS_CLIENT" failed_closed)" -gt "$c1" ]
# More kills while flows pour in: any slip past the module while the
# agent's sockets are being closed shows at the denied port.
for round in 2 3 4; do
	agent_start "$NS_CLIENT" "$WORK/policy.db" || break
	sleep 0.3
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	wait_mode "$NS_CLIENT" no-agent 20 || break
done
check "kill rounds done ($round of 4)" [ "$round" -eq 4 ]
sleep 0.5
check "over 4 kills not one datagram reached the denied port ($(udp_count 5301))" \
	[ "$(udp_count 5301)" -eq 0 ]

spray_stop
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
