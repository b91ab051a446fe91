# shellcheck shell=sh
#
# Helpers for the cases of IPv6 extension headers (tests/vm/exthdr.py),
# sourced after lib.sh and agent.sh.

# ext NS ARGS...: exthdr.py in NS.
ext() {
	_ns=$1
	shift
	in_ns "$_ns" python3 "$REPO/tests/vm/exthdr.py" "$@"
}
# at_least N VALUE [WHAT]
at_least() {
	echo "${3:-value} $2, at least $1 wanted" >&2
	[ "$2" -ge "$1" ]
}
# attacker_up: the client keeps its kernel from resetting the handshakes
# it forges (a SYN-ACK to a raw socket's SYN meets no TCP socket).
attacker_up() {
	in_ns "$NS_CLIENT" nft -f - <<'NFT'
table ip6 attacker {
	chain out {
		type filter hook output priority 0;
		tcp flags & rst == rst drop
	}
}
NFT
}
# fragments_pass NS HOOK: NS passes the client's fragments on as they
# are, from HOOK (output, prerouting) on, as a host without conntrack
# would. Otherwise conntrack, which sluice.ko turns on in every
# namespace, holds a later fragment until the first completes it, and a
# first fragment without the transport header never does (RFC 8200: it
# is let by alone, never reassembled): the second half of the forged SYN
# would never reach the host whose agent is under test.
fragments_pass() {
	modprobe nft_ct || return 1	# notrack; no autoload in the guest
	in_ns "$1" nft -f - <<NFT
table ip6 unreassembled {
	chain c {
		type filter hook $2 priority -450;
		ip6 saddr $CLIENT6 ip6 nexthdr 44 notrack
	}
}
NFT
}
# crafted KIND SPORT PORT: exthdr.py syn from the client to the server;
# synacks SPORT and followup SPORT read what it printed.
crafted() {
	ext "$NS_CLIENT" syn "$1" "$CLIENT6" "$2" "$SERVER6" "$3" >"$WORK/syn.$2"
	cat "$WORK/syn.$2" >&2
}
synacks() { awk '$1 == "synacks" { print $2 }' "$WORK/syn.$1"; }
followup() { awk '$1 == "followup" { print $2 }' "$WORK/syn.$1"; }
# went_nowhere SPORT: no SYN-ACK came back to it, and the real
# connection from its port failed too.
went_nowhere() { [ "$(synacks "$1")" -eq 0 ] && [ "$(followup "$1")" = failed ]; }
# not_allowed NS SPORT: NS's conntrack holds no allow of the TCP flow
# from SPORT.
not_allowed() {
	_v=$(ct_verdict "$1" "$2")
	echo "$1's flow from port $2: $_v" >&2
	[ "$_v" != allow ]
}
