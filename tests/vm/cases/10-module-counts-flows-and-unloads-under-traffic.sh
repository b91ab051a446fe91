#!/bin/sh
# The module's first promise: it sees the traffic of every namespace and
# counts it in that namespace's /proc/net/sluice (without an agent,
# fail_mode=open lets new flows through and counts them), and it can be
# removed and inserted again while connections are being made, with no
# failed connection and a clean kernel log.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"

topo_up
setup "netfilter hook points kept in use (see netfilter_keys_on)" netfilter_keys_on
ns_add sl-idle
http_server_start "$NS_SERVER" 8000
dmesg_mark

if ! check "kmod/sluice.ko is built" test -r "$SLUICE_KO" ||
   ! check "sluice.ko was built for the booted kernel $(uname -r)" \
	test "$(modinfo -F vermagic "$SLUICE_KO" | cut -d' ' -f1)" = "$(uname -r)" ||
   ! check "insmod sluice.ko after its dependencies" sluice_load; then
	tap_done
fi
check "/proc/net/sluice exists in a namespace made before the module" \
	in_ns "$NS_CLIENT" test -r /proc/net/sluice
ns_add sl-late
check "/proc/net/sluice exists in a namespace made after the module" \
	in_ns sl-late test -r /proc/net/sluice
in_ns "$NS_CLIENT" cat /proc/net/sluice >&2
check "mode is no-agent while no agent runs" \
	test "$(sluice_stat "$NS_CLIENT" mode)" = no-agent
check "fail_mode defaults to open" \
	test "$(sluice_stat "$NS_CLIENT" fail_mode)" = open

seen0=$(sluice_stat "$NS_CLIENT" seen)
open0=$(sluice_stat "$NS_CLIENT" failed_open)
fast0=$(sluice_stat "$NS_CLIENT" fast_accepted)
sseen0=$(sluice_stat "$NS_SERVER" seen)
check "a new IPv4 flow gets through without an agent" \
	in_ns "$NS_CLIENT" curl -sf --max-time 5 -o /dev/null "http://$SERVER4:8000/index.html"
check "a new IPv6 flow gets through without an agent" \
	in_ns "$NS_CLIENT" curl -sf --max-time 5 -o /dev/null "http://[$SERVER6]:8000/index.html"
in_ns "$NS_CLIENT" cat /proc/net/sluice >&2
check "client namespace counted the packets it sent (seen)" \
	test "$(sluice_stat "$NS_CLIENT" seen)" -gt "${seen0:-0}"
check "client namespace counted both new flows as failed open" \
	test "$(sluice_stat "$NS_CLIENT" failed_open)" -ge $((${open0:-0} + 2))
check "later packets of those flows took the fast path (fast_accepted)" \
	test "$(sluice_stat "$NS_CLIENT" fast_accepted)" -gt "${fast0:-0}"
check "server namespace counted the same traffic in its own state" \
	test "$(sluice_stat "$NS_SERVER" seen)" -gt "${sseen0:-0}"
check "a namespace without traffic counted nothing (state is per namespace)" \
	test "$(sluice_stat sl-idle seen)" = 0

# Unload and load again while one process keeps opening new connections,
# alternately over IPv4 and IPv6.
flows_start "$NS_CLIENT" "$SERVER4:8000" "[$SERVER6]:8000"
check "connections flow before rmmod" flows_wait_more 20
check "rmmod sluice while connections are being made" sluice_unload
check "connections flow after rmmod" flows_wait_more 20
check "/proc/net/sluice is gone after rmmod" \
	in_ns "$NS_CLIENT" test ! -e /proc/net/sluice
check "insmod sluice.ko again while connections are being made" sluice_load
check "connections flow after insmod" flows_wait_more 20
check "new flows are counted again after insmod" \
	test "$(sluice_stat "$NS_CLIENT" failed_open)" -gt 0
check "rmmod sluice again while connections are being made" sluice_unload
check "connections flow after the second rmmod" flows_wait_more 20
flows_stop
cat "$WORK/flows.err" >&2
check "no connection failed or lost a packet across unload and reload ($(flows_ok) made, $(flows_failed) failed, $(flows_retrans) retransmitted)" \
	flows_lossless

# The control: the load client must see a lost SYN that TCP made good a
# second later, or "0 retransmitted" above proves nothing.
modprobe -a nf_tables nft_numgen
echo 'table inet sl_drop {
	chain out {
		type filter hook output priority 0;
		tcp flags syn numgen inc mod 2 0 drop
	}
}' >"$WORK/drop.nft"
setup "every other SYN of the client dropped" in_ns "$NS_CLIENT" nft -f "$WORK/drop.nft"
flows_start "$NS_CLIENT" "$SERVER4:8000"
check "the control: connections still made with every other SYN dropped" flows_wait_more 3
flows_stop
in_ns "$NS_CLIENT" nft delete table inet sl_drop
check "the control: the load client counted them as retransmitted ($(flows_retrans))" \
	[ "$(flows_retrans)" -gt 0 ]
check "kernel log is clean after unload under traffic" dmesg_clean
tap_done
