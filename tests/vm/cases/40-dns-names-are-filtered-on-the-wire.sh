#!/bin/sh
# Names are filtered where they cross the wire, whatever resolver is
# asked: a denied name gets NXDOMAIN at once from two different resolvers
# and over IPv6, DNS over TCP is refused at once, an address learned from
# a name that is denied later is refused, and a TLS client that uses no
# DNS at all is judged by the SNI of its ClientHello.
#
#   client (sluiced) --- router (dnsmasq #2) --- server (dnsmasq #1,
#                                                 HTTP, TLS on .4)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# dig_status RESOLVER NAME [DIG-ARGS]: the status dig prints.
dig_status() {
	in_ns "$NS_CLIENT" dig +tries=1 +time=3 "@$1" "$2" ${3:+"$3"} 2>&1 |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
nxdomain() { [ "$(dig_status "$@")" = NXDOMAIN ]; }
resolves_to() {
	[ "$(in_ns "$NS_CLIENT" dig +short +tries=1 +time=3 "@$1" "$2")" = "$3" ]
}
# tcp_refused_fast: dig over TCP gets no answer, and is told so (a reset)
# rather than left to its 8 s timeout. Starting dig under emulation alone
# takes about a second, hence the 5 s bound (stretched by SLUICE_VM_SLOW in
# the debug kernel; "timed out" still tells a timeout from a reset).
tcp_refused_fast() {
	_s=$(date +%s%N)
	_out=$(in_ns "$NS_CLIENT" dig +tcp +tries=1 +time=8 "@$SERVER4" x.blocked.test 2>&1)
	_ms=$((($(date +%s%N) - _s) / 1000000))
	echo "$_out" | tail -n 3 >&2
	echo "dig +tcp took $_ms ms" >&2
	! echo "$_out" | grep -q "status: NOERROR" &&
		! echo "$_out" | grep -q "timed out" &&
		[ "$_ms" -lt $((5000 * ${SLUICE_VM_SLOW:-1})) ]
}
dnsmasq_start() {
	bg in_ns "$1" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--bind-interfaces --listen-address="$2" ${3:+--listen-address="$3"} \
		--pid-file= --user=root --log-facility=- \
		--address=/ok.test/"$SERVER4" --address=/blocked.test/"$SERVER4" \
		--address=/evil.test/10.91.2.3 \
		--host-record=target.blocked.test,"$SERVER4" \
		--cname=alias.test,target.blocked.test
}

topo_up
dmesg_mark
ip -n "$NS_SERVER" addr add 10.91.2.3/24 dev veth3
ip -n "$NS_SERVER" addr add 10.91.2.4/24 dev veth3
ip -n "$NS_SERVER" addr add 10.91.2.5/24 dev veth3
http_server_start "$NS_SERVER" 8080
dnsmasq_start "$NS_SERVER" "$SERVER4" "$SERVER6"
dnsmasq_start "$NS_ROUTER" "$ROUTER4_C"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept 10.91.2.4:443 \
	-cert "$WORK/cert.pem" -key "$WORK/key.pem"
# A second TLS server for the DoH checks: s_server answers one client at a
# time, and the one above stays stuck with the client whose hello we drop.
bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept 10.91.2.5:443 \
	-cert "$WORK/cert.pem" -key "$WORK/key.pem"
wait_listen "$NS_SERVER" 443 2

setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked.test');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "an allowed name resolves through the server's resolver" \
	eventually 30 resolves_to "$SERVER4" ok.test "$SERVER4"
check "a denied name gets NXDOMAIN from the server's resolver" \
	nxdomain "$SERVER4" ads.blocked.test
check "and from the router's, a different resolver" \
	nxdomain "$ROUTER4_C" ads.blocked.test
check "and over IPv6" nxdomain "$SERVER6" deep.ads.blocked.test
check "and for AAAA questions" nxdomain "$SERVER4" ads.blocked.test AAAA
check "the allowed name still resolves through the router's resolver" \
	resolves_to "$ROUTER4_C" ok.test "$SERVER4"
check "DNS over TCP for a denied name is refused at once" tcp_refused_fast
check "an allowed name whose CNAME leads to a denied one gets NXDOMAIN" \
	nxdomain "$SERVER4" alias.test

check "evil.test resolves while it is allowed" \
	resolves_to "$SERVER4" evil.test 10.91.2.3
policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "INSERT INTO rules(action, domain) VALUES ('deny', 'evil.test');"
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
check "TCP to the address learned from evil.test is refused once it is denied" \
	refused "$NS_CLIENT" "http://10.91.2.3:8080/"
check "while TCP to ok.test's address works" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"

check "TLS with an allowed SNI (no DNS involved) works" \
	in_ns "$NS_CLIENT" curl -skf --max-time 5 -o /dev/null \
	--resolve good.test:443:10.91.2.4 https://good.test/
check "TLS with a denied SNI is refused" \
	sh -c "! ip netns exec $NS_CLIENT curl -skf --max-time 3 -o /dev/null --resolve x.blocked.test:443:10.91.2.4 https://x.blocked.test/"
http_server_start "$NS_SERVER" 853
check "DNS over TLS (853) works while block_dot is off" \
	connects "$NS_CLIENT" "http://$SERVER4:853/"
check "DNS over HTTPS to dns.google works while block_doh is off" \
	in_ns "$NS_CLIENT" curl -skf --max-time 5 -o /dev/null \
	--resolve dns.google:443:10.91.2.5 https://dns.google/
policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "INSERT INTO settings VALUES ('block_dot', 'yes');
INSERT INTO settings VALUES ('block_doh', 'yes');"
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
check "with block_dot = 'yes', a new connection to port 853 is refused" \
	refused "$NS_CLIENT" "http://$SERVER4:853/"
check "with block_doh = 'yes', TLS to dns.google is refused" \
	sh -c "! ip netns exec $NS_CLIENT curl -skf --max-time 3 -o /dev/null --resolve dns.google:443:10.91.2.5 https://dns.google/"
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
