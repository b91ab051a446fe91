#!/bin/sh
# A UDP stream from one socket to a denied port: its first datagram goes to
# the agent, which denies it; the module remembers the flow (deny_table) and
# drops every later datagram itself, so the agent sees a handful, not the
# stream. When a sqlite3 edit allows the port, the module forgets its denied
# flows and the same socket's datagrams arrive within a second or two.
# Control: another port of the same server receives from the start.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# sink PORT: count datagrams on PORT in the server namespace.
sink() {
	: >"$WORK/sink.$1"
	bg in_ns "$NS_SERVER" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', $1))
f = open('$WORK/sink.$1', 'ab', buffering=0)
while True:
    f.write(s.recv(100) + b'\n')"
}
received() { wc -l <"$WORK/sink.$1"; }

# stream PORT: one socket sends a datagram every 20 ms, for ever; a
# datagram dropped at LOCAL_OUT fails its sendto with EPERM, and the
# stream goes on.
stream() {
	bg in_ns "$NS_CLIENT" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$CLIENT4', 0))
while True:
    try:
        s.sendto(b'x', ('$SERVER4', $1))
    except OSError:
        pass
    time.sleep(0.02)"
}

topo_up
dmesg_mark
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'udp', '5400');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
sink 5400
sink 5401
sleep 0.5
stream 5401
stream 5400
check "control: the allowed port receives the stream" \
	eventually 50 sh -c "[ \$(wc -l <'$WORK/sink.5401') -gt 10 ]"
q0=$(sluice_stat "$NS_CLIENT" queued)
d0=$(sluice_stat "$NS_CLIENT" fast_dropped)
sleep 3
q1=$(sluice_stat "$NS_CLIENT" queued)
d1=$(sluice_stat "$NS_CLIENT" fast_dropped)
diag "over 3 s of the denied stream: queued $q0 -> $q1, fast_dropped $d0 -> $d1"
check "the denied port received nothing" [ "$(received 5400)" -eq 0 ]
check "the module remembers the denied flow" \
	[ "$(sluice_stat "$NS_CLIENT" deny_table)" -ge 1 ]
check "its datagrams are dropped in the kernel (fast_dropped +50 or more)" \
	[ $((d1 - d0)) -ge 50 ]
check "and not queued to the agent (queued +5 at most)" [ $((q1 - q0)) -le 5 ]

sqlite3 "$WORK/policy.db" "DELETE FROM rules WHERE dst_port = '5400';"
check "after the DELETE the same socket's datagrams arrive within 3 s" \
	eventually 30 sh -c "[ \$(wc -l <'$WORK/sink.5400') -gt 0 ]"
check "the module forgot its denied flows" \
	[ "$(sluice_stat "$NS_CLIENT" deny_table)" -eq 0 ]
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
