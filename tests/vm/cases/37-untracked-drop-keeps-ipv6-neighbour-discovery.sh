#!/bin/sh
# untracked=drop refuses what conntrack does not follow, but IPv6
# neighbour discovery and MLD are untracked too, and without them no IPv6
# address on a link can be reached. They pass; other untracked packets
# (here: UDP marked notrack in the raw table) are dropped.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"

topo_up
dmesg_mark
check "sluice.ko loads with untracked=drop" sluice_load untracked=drop
check "the parameter reads drop" \
	grep -qx drop /sys/module/sluice/parameters/untracked
# Fresh neighbour caches: the pings below must resolve their neighbours.
ip -n "$NS_CLIENT" neigh flush all
ip -n "$NS_ROUTER" neigh flush all
check "IPv6 ping to the router resolves its neighbour and gets through" \
	in_ns "$NS_CLIENT" busybox ping -6 -c 2 -W 3 "$ROUTER6_C"
check "and through the router to the server" \
	in_ns "$NS_CLIENT" busybox ping -6 -c 2 -W 3 "$SERVER6"
check "the router's neighbour entry for the client is reachable" \
	sh -c "ip -n $NS_ROUTER -6 neigh show $CLIENT6 | grep -qE 'REACHABLE|STALE|DELAY'"
modprobe -a nf_tables nft_ct 2>/dev/null
check "the client's raw table makes UDP to port 5999 untracked" \
	sh -c "echo 'table inet sl_notrack { chain out { type filter hook output priority -300; udp dport 5999 notrack; }; }' | ip netns exec $NS_CLIENT nft -f -"
check "control: such an untracked datagram is refused at once (EPERM)" \
	sh -c "! ip netns exec $NS_CLIENT python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b\"x\", (\"$SERVER4\", 5999))
except PermissionError:
    sys.exit(1)'"
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
