#!/bin/sh
# Hooks removed while the agent is answering a flood of new flows: rmmod
# (every hook goes) and "sluicectl set hooks" (some go) with verdicts in
# flight. A verdict is applied by nf_reinject(), which finds its hook again
# by index in the namespace's hook array; a verdict taken off the queue
# just before the array loses the hook meets an index past its end (a
# WARN, a panic here with panic_on_warn) or another hook. The module must
# queue nothing more, flush and wait for verdicts in flight before any hook
# goes. Each cycle may cost the sequential TCP client its one queued SYN
# (flushed packets are dropped): counted, at most one per cycle.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

CYCLES=15

# blast NS ADDR PORT STOP: a datagram from a new socket every 2 ms or so,
# each the first packet of its own flow, until STOP.
blast() {
	in_ns "$1" python3 -c '
import os, socket, sys, time
addr, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
n = 0
while n % 64 or not os.path.exists(stop):
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(b"x", (addr, port))
        except OSError:
            pass
    n += 1
    time.sleep(0.002)' "$2" "$3" "$4"
}

# hold_then_rmmod NS PID: stop the agent for 150 ms (below the watchdog)
# so that first packets pile up in its queues, let it go, and remove the
# module at once (delete_module(2) from the same process, no exec in
# between): the rmmod meets the backlog's verdicts being applied. Prints
# how many packets NS queued during the hold.
hold_then_rmmod() {
	in_ns "$1" python3 -c '
import ctypes, os, signal, sys, time
pid = int(sys.argv[1])
def queued():
    with open("/proc/net/sluice") as f:
        for line in f:
            k = line.split()
            if k and k[0] == "queued":
                return int(k[1])
    return 0
q0 = queued()
os.kill(pid, signal.SIGSTOP)
time.sleep(0.15)
q1 = queued()
os.kill(pid, signal.SIGCONT)
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(176, b"sluice", os.O_NONBLOCK) != 0:  # SYS_delete_module
    sys.exit("delete_module: " + os.strerror(ctypes.get_errno()))
print(q1 - q0)' "$2"
}

# queued_above N: the client namespace has queued more than N packets.
queued_above() { [ "$(sluice_stat "$NS_CLIENT" queued)" -gt "$1" ]; }

topo_up
setup "netfilter hook points kept in use (see netfilter_keys_on)" netfilter_keys_on
dmesg_mark
http_server_start "$NS_SERVER" 8080
udp_sink_start "$NS_SERVER" 5304
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
setup "sluiced --threads 2 enforcing" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" --threads 2

rm -f "$WORK/blast.stop"
bg blast "$NS_CLIENT" "$SERVER4" 5304 "$WORK/blast.stop"
flows_start "$NS_CLIENT" "$SERVER4:8080" "[$SERVER6]:8080"
setup "traffic flows before the cycles" flows_wait_more 5

# The backlogs the agent was answering when the module went, summed.
queued=0
ok=1
registered=0
i=0
while [ $i -lt $CYCLES ]; do
	n=$(hold_then_rmmod "$NS_CLIENT" "$AGENT_PID") || ok=0
	queued=$((queued + ${n:-0}))
	insmod "$SLUICE_KO" || ok=0
	wait_mode "$NS_CLIENT" enforcing 50 && registered=$((registered + 1))
	i=$((i + 1))
done
check "$CYCLES rmmod/insmod cycles succeeded" [ "$ok" -eq 1 ]
check "the agent registered again after each ($registered of $CYCLES)" \
	[ "$registered" -eq "$CYCLES" ]
check "verdicts were in flight: $queued packets queued during the holds before the rmmods" \
	[ "$queued" -ge $((CYCLES * 10)) ]

ok=1
i=0
while [ $i -lt $CYCLES ]; do
	in_ns "$NS_CLIENT" "$SLUICECTL" set hooks in,forward >/dev/null || ok=0
	sleep 0.1
	in_ns "$NS_CLIENT" "$SLUICECTL" set hooks all >/dev/null || ok=0
	sleep 0.2
	i=$((i + 1))
done
check "$CYCLES times the out hook removed and added again" [ "$ok" -eq 1 ]
q0=$(sluice_stat "$NS_CLIENT" queued)
check "the agent still answers: new flows are queued" \
	eventually 50 queued_above "$q0"

touch "$WORK/blast.stop"
flows_stop
check "no connection failed ($(flows_failed) failed)" [ "$(flows_failed)" -eq 0 ]
check "connections that lost a packet: $(flows_retrans), at most one per removal ($((2 * CYCLES)))" \
	[ "$(flows_retrans)" -le $((2 * CYCLES)) ]
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
