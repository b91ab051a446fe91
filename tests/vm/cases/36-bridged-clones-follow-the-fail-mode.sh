#!/bin/sh
# Packets that nfnetlink_queue refuses follow the fail mode; they are never
# lost in the queue. A bridge with br_netfilter floods a broadcast to every
# port as clones of one packet that share its conntrack entry, still
# unconfirmed; the kernel refuses to queue such a clone (the agent's verdict
# would race the other clones' confirmation). sluice counts it as
# "unqueueable" and lets the namespace's fail mode decide it:
#   open    every port gets every datagram, as without sluice;
#   closed  the clones are dropped and counted, nothing unjudged passes
#           (a copy that is no clone, if the bridge keeps one, is queued
#           and judged as any new flow).
# Control: the same datagrams reach every port with the agent stopped and
# the module fails open (no agent at all), and a unicast flow through the
# same bridge is queued and judged.
#
#   $NS_A 10.93.0.1 --+
#   $NS_B 10.93.0.2 --+-- br0 in $NS_BR (br_netfilter, sluice + agent)
#   $NS_C 10.93.0.3 --+
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

NS_BR=sl-br
NS_A=sl-a
NS_B=sl-b
NS_C=sl-c
N=20

bridge_up() {
	modprobe -a veth bridge br_netfilter || return 1
	ns_add "$NS_BR" && ns_add "$NS_A" && ns_add "$NS_B" && ns_add "$NS_C" ||
		return 1
	ip -n "$NS_BR" link add br0 type bridge || return 1
	ip -n "$NS_BR" link set br0 up
	_i=1
	for _ns in "$NS_A" "$NS_B" "$NS_C"; do
		ip link add "p$_i" netns "$NS_BR" type veth peer name eth0 \
			netns "$_ns" || return 1
		ip -n "$NS_BR" link set "p$_i" master br0 up
		ip -n "$_ns" addr add "10.93.0.$_i/24" brd 10.93.0.255 dev eth0
		ip -n "$_ns" link set eth0 up
		_i=$((_i + 1))
	done
	# br_netfilter hands bridged IPv4 to the IPv4 hooks of the bridge's
	# namespace: conntrack and sluice's FORWARD hook see it.
	in_ns "$NS_BR" sh -c \
		'echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables'
}

# broadcast PORT: N datagrams from A to 10.93.0.255:PORT, each from a
# socket of its own on a source port of its own (a new flow each: two
# ephemeral ports drawn at random coincide in about 1 call in 150, and the
# second datagram then joins the first one's conntrack entry).
broadcast() {
	in_ns "$NS_A" python3 -c '
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("10.93.0.1", 40000 + i))
    s.sendto(b"b%d" % i, ("10.93.0.255", port))
    s.close()
    time.sleep(0.02)' "$1" "$N"
}

# sink NS PORT: count the datagrams that reach PORT in NS.
sink() {
	: >"$WORK/sink.$1.$2"
	bg in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
f = open(sys.argv[2], "ab", buffering=0)
while True:
    f.write(s.recv(100) + b"\n")' "$2" "$WORK/sink.$1.$2"
}
got() { wc -l <"$WORK/sink.$1.$2" | tr -d ' '; }
c_got() { [ "$(got "$NS_C" "$1")" -eq "$2" ]; }
both_got() { [ "$(got "$NS_B" "$1")" -eq "$2" ] && [ "$(got "$NS_C" "$1")" -eq "$2" ]; }

dmesg_mark
check "bridge of three hosts with br_netfilter" bridge_up
setup "sluice.ko loads" sluice_load
for p in 6001 6002 6003 6004; do
	sink "$NS_B" $p
	sink "$NS_C" $p
done
sleep 2	# python under emulation

# No agent: the module fails open, every port gets every datagram.
u0=$(sluice_stat "$NS_BR" unqueueable)
broadcast 6001
check "no agent: B and C each got all $N broadcasts" \
	eventually 50 both_got 6001 "$N"
diag "no agent: B $(got "$NS_B" 6001), C $(got "$NS_C" 6001)"

policy_init "$WORK/policy.db"
check "agent enforces in the bridge's namespace" agent_start "$NS_BR" "$WORK/policy.db"

# Open mode, agent live: the clones are unqueueable and pass; nothing is
# lost in the queue.
u1=$(sluice_stat "$NS_BR" unqueueable)
q1=$(sluice_stat "$NS_BR" queued)
lost1=$(nfq_lost "$NS_BR")
broadcast 6002
check "open: B and C each got all $N broadcasts" \
	eventually 50 both_got 6002 "$N"
u2=$(sluice_stat "$NS_BR" unqueueable)
q2=$(sluice_stat "$NS_BR" queued)
lost2=$(nfq_lost "$NS_BR")
diag "open: B $(got "$NS_B" 6002), C $(got "$NS_C" 6002); unqueueable $u1 -> $u2, queued $q1 -> $q2, nfqueue lost $lost1 -> $lost2"
check "open: each broadcast's clone was counted unqueueable ($u1 -> $u2)" \
	test "$((u2 - u1))" -ge "$N"
check "open: the copy that is not a clone was queued to the agent ($q1 -> $q2)" \
	test "$((q2 - q1))" -ge "$N"
check "open: the queue lost nothing ($lost1 -> $lost2)" test "$lost2" -eq "$lost1"

# Closed mode, agent live: the clones are dropped.
check "sluicectl set fail-mode closed" \
	in_ns "$NS_BR" "$SLUICECTL" set fail-mode closed
u3=$(sluice_stat "$NS_BR" unqueueable)
broadcast 6003
sleep 2
u4=$(sluice_stat "$NS_BR" unqueueable)
b=$(got "$NS_B" 6003)
c=$(got "$NS_C" 6003)
diag "closed: B $b, C $c; unqueueable $u3 -> $u4"
check "closed: clones were counted unqueueable ($u3 -> $u4)" \
	test "$((u4 - u3))" -ge "$N"
check "closed: every copy either passed judged or was dropped as unqueueable ($b + $c + $((u4 - u3)) = $((2 * N)))" \
	test "$((b + c + u4 - u3))" -eq "$((2 * N))"
check "closed: fewer copies passed than in open mode ($((b + c)) < $((2 * N)))" \
	test "$((b + c))" -lt "$((2 * N))"

# Control: a unicast flow through the bridge is queued and judged.
q3=$(sluice_stat "$NS_BR" queued)
in_ns "$NS_A" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"u", ("10.93.0.3", 6004))'
check "closed: a unicast flow A -> C passes, judged by the agent" \
	eventually 30 c_got 6004 5
q4=$(sluice_stat "$NS_BR" queued)
check "closed: it was queued ($q3 -> $q4)" test "$q4" -gt "$q3"
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
