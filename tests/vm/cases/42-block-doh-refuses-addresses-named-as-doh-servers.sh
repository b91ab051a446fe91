#!/bin/sh
# With block_doh = 'yes', a DNS-over-HTTPS server is refused by the names
# its address was resolved from, not only by SNI or Host: a client that
# resolves dns.google and then speaks TLS to the bare address (no SNI) is
# refused, while the same kind of connection to an allowed name's address
# works.
#
#   client (sluiced) --- router --- server (dnsmasq on .2: ok.test is .4,
#                                           dns.google is .5; TLS on .4, .5)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

resolves_to() {
	[ "$(in_ns "$NS_CLIENT" dig +short +tries=1 +time=3 "@$1" "$2")" = "$3" ]
}
# tls_works ADDR: TLS to the bare address (curl sends no SNI for one).
tls_works() {
	in_ns "$NS_CLIENT" curl -skf --max-time 4 -o /dev/null "https://$1/"
}
tls_refused() { ! tls_works "$@"; }

topo_up
dmesg_mark
ip -n "$NS_SERVER" addr add 10.91.2.4/24 dev veth3
ip -n "$NS_SERVER" addr add 10.91.2.5/24 dev veth3
bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$SERVER4" --pid-file= --user=root \
	--log-facility=- --address=/ok.test/10.91.2.4 \
	--address=/dns.google/10.91.2.5
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# One s_server per address: it serves one client at a time, and the one
# whose client is refused stays stuck with it.
for _a in 4 5; do
	bg in_ns "$NS_SERVER" openssl s_server -quiet -www \
		-accept 10.91.2.$_a:443 -cert "$WORK/cert.pem" -key "$WORK/key.pem"
done
wait_listen "$NS_SERVER" 443 2

setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "INSERT INTO settings VALUES ('block_doh', 'yes');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "TLS without SNI to 10.91.2.5 works while no answer named it" \
	tls_works 10.91.2.5
check "ok.test resolves" eventually 30 resolves_to "$SERVER4" ok.test 10.91.2.4
check "TLS without SNI to ok.test's address works" tls_works 10.91.2.4
check "dns.google resolves (the query itself is not refused)" \
	resolves_to "$SERVER4" dns.google 10.91.2.5
check "TLS without SNI to the address dns.google was resolved to is refused" \
	tls_refused 10.91.2.5
check "while TLS to ok.test's address still works" tls_works 10.91.2.4
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
