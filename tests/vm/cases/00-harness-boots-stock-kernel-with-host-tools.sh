#!/bin/sh
# Proves the VM harness itself: the guest runs the kernel the module was
# built for, with the host's tools, and can build namespaced networks.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"

check "kernel release is $SLUICE_VM_KREL" test "$(uname -r)" = "$SLUICE_VM_KREL"
# 1 in the stock tier (a WARN ends the run); the debug run sets 0 so that
# one report does not hide the next, and fails on the report instead.
check "panic_on_warn is $SLUICE_VM_PANIC_ON_WARN, as run.sh asked" \
	test "$(cat /proc/sys/kernel/panic_on_warn)" = "$SLUICE_VM_PANIC_ON_WARN"
for t in busybox modprobe insmod rmmod ip ss sqlite3 curl python3 nc iperf3 dig \
	 conntrack nft iptables; do
	check "host tool $t is in the guest" command -v "$t"
done
check "python3 of the host runs in the guest" python3 -c "import socket"
check "repository is writable from the guest" \
	sh -c "touch '$REPO/tests/vm/.write-probe' && rm '$REPO/tests/vm/.write-probe'"
check "modprobe of the host resolves dependencies (veth)" modprobe veth
# The runner's root is the top mount of its own mount namespace, not a
# chroot: the kernel lets it create user namespaces, as a container would.
check "root of a new user namespace can be made (unshare -U -r)" \
	unshare -U -r true
check "and of a user namespace with its own network namespace" \
	unshare -U -r -n true

topo_up
check "client reaches server over IPv4 through router" \
	in_ns "$NS_CLIENT" busybox ping -c 1 -W 2 "$SERVER4"
check "client reaches server over IPv6 through router" \
	in_ns "$NS_CLIENT" busybox ping -c 1 -W 2 "$SERVER6"
http_server_start "$NS_SERVER" 8000
check "curl fetches from the HTTP server (IPv4)" \
	in_ns "$NS_CLIENT" curl -sf --max-time 5 -o /dev/null "http://$SERVER4:8000/index.html"
check "curl fetches from the HTTP server (IPv6)" \
	in_ns "$NS_CLIENT" curl -sf --max-time 5 -o /dev/null "http://[$SERVER6]:8000/index.html"
tap_done
