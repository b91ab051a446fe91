#!/bin/sh
# A QUIC connection is judged by the name in its first Initial packet
# (HTTP/3 on UDP 443, or any port): the client Initial of RFC 9001 A.2,
# which names example.com, never reaches the server while example.com is
# denied, nor does a fresh Initial for a denied subdomain or on another
# port; an Initial for an allowed name arrives, and the RFC datagram
# arrives once the rule names something else.
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

check "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', 'example.com');
INSERT INTO rules(action, domain) VALUES ('deny', '*.quic-denied.test');"
check "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "the RFC 9001 A.2 Initial (example.com, denied) does not reach port 443" \
	quic_dropped 443 --rfc
check "an Initial naming a denied subdomain does not reach port 443" \
	quic_dropped 443 www.quic-denied.test
check "an Initial naming example.com does not reach port 8443 either" \
	quic_dropped 8443 example.com
check "an Initial naming an allowed name reaches port 443" \
	quic_arrives 443 allowed.test
sqlite3 "$WORK/policy.db" "UPDATE rules SET domain = 'other.test' WHERE domain = 'example.com';"
check "with the rule on another name, the RFC 9001 A.2 Initial reaches port 443" \
	eventually 30 quic_arrives 443 --rfc
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
