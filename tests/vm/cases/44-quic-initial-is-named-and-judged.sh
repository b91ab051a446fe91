#!/bin/sh
# A QUIC connection is judged by the name in its first Initial packet
# (HTTP/3 on UDP 443, or any port): the client Initial of RFC 9001 A.2,
# which names example.com, never reaches the server while example.com is
# denied, nor does a fresh Initial for a denied subdomain or on another
# port; an Initial for an allowed name arrives, and the RFC datagram
# arrives once the rule names something else.
# A post-quantum ClientHello over two Initials, its name in the second:
# the first (a partial hello) passes, both go to the agent, which names
# the flow from the two; denied, the second never arrives; allowed (the
# control), both do.
#
#   client (sluiced) --- router --- server (UDP sinks on 443 and 8443)
#
# shellcheck disable=SC2317 # the helpers run through check and eventually
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# quic_send PORT --rfc|NAME: one client Initial from a new port (a new
# flow) to the server (tests/vm/quic_initial.py); refused or not.
quic_send() {
	in_ns "$NS_CLIENT" python3 "$REPO/tests/vm/quic_initial.py" \
		--send "$SERVER4" "$@" || true
}
# quic_split_sent PORT NAME: the two Initials of a hello split before its
# name, from one new port; the sink counts N0 and the module QUEUED0 first.
quic_split_sent() {
	N0=$(udp_count "$1")
	QUEUED0=$(sluice_stat "$NS_CLIENT" queued)
	quic_send "$1" --split "$2"
}
# queued_since N: the module queued N packets since quic_split_sent.
queued_since() {
	[ $(($(sluice_stat "$NS_CLIENT" queued) - QUEUED0)) -eq "$1" ]
}
# logged ACTION NAME: the agent's decision log holds one ACTION for a UDP
# flow named NAME.
logged() {
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(*) FROM decisions
		WHERE proto = 'udp' AND action = '$1' AND domain = '$2'" 2>/dev/null)" = 1 ]
}
# quic_arrives PORT --rfc|NAME: the sink on PORT counts one more datagram.
quic_arrives() {
	_c0=$(udp_count "$1")
	quic_send "$@"
	eventually 20 udp_count_is "$1" $((_c0 + 1))
}
# quic_dropped PORT --rfc|NAME: nothing more reaches PORT within 2 s.
quic_dropped() {
	_c0=$(udp_count "$1")
	quic_send "$@"
	sleep 2
	udp_count_is "$1" "$_c0"
}

topo_up
dmesg_mark
check "UDP sinks on the server's ports 443 and 8443" \
	udp_sink_start "$NS_SERVER" 443 8443

setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', 'example.com');
INSERT INTO rules(action, domain) VALUES ('deny', '*.quic-denied.test');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db" \
	--log-db "$WORK/decisions.db"

check "the RFC 9001 A.2 Initial (example.com, denied) does not reach port 443" \
	quic_dropped 443 --rfc
check "an Initial naming a denied subdomain does not reach port 443" \
	quic_dropped 443 www.quic-denied.test
check "an Initial naming example.com does not reach port 8443 either" \
	quic_dropped 8443 example.com
check "an Initial naming an allowed name reaches port 443" \
	quic_arrives 443 allowed.test

quic_split_sent 443 split.quic-denied.test
check "a hello naming a denied subdomain over two Initials: the first, a partial hello, reaches port 443" \
	eventually 30 udp_count_is 443 $((N0 + 1))
sleep 2
check "the second, which completes it, does not ($N0 -> $(udp_count 443))" \
	udp_count_is 443 $((N0 + 1))
check "both of its datagrams went to the agent (queued +$(($(sluice_stat "$NS_CLIENT" queued) - QUEUED0)))" \
	queued_since 2
check "the agent denied the flow under the name read from the two" \
	eventually 50 logged deny split.quic-denied.test
quic_split_sent 443 split-allowed.test
check "the control: a hello naming an allowed name over two Initials reaches port 443 whole" \
	eventually 50 udp_count_is 443 $((N0 + 2))
check "both of its datagrams went to the agent (queued +$(($(sluice_stat "$NS_CLIENT" queued) - QUEUED0)))" \
	queued_since 2
check "the agent allowed the flow under the name read from the two" \
	eventually 50 logged allow split-allowed.test
sqlite3 "$WORK/policy.db" "UPDATE rules SET domain = 'other.test' WHERE domain = 'example.com';"
check "with the rule on another name, the RFC 9001 A.2 Initial reaches port 443" \
	eventually 30 quic_arrives 443 --rfc
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
