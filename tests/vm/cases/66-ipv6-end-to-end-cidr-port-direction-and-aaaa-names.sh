#!/bin/sh
# IPv6 end to end, each refusal beside its control: with a default deny,
# an allow by IPv6 /64 and port admits two hosts of it, a /128 deny of
# higher priority refuses a third, a port allowed only over IPv4 is
# refused over IPv6; the server's agent refuses an incoming flow by IPv6
# source /64 (IPv4 and another IPv6 source pass). Names over IPv6 DNS:
# an AAAA question for a denied name gets NXDOMAIN, an allowed one its
# address, and an address learned from an AAAA answer is refused once its
# name is denied, while addresses of allowed and of no names still work.
# TLS over IPv6 is judged by its SNI. A sqlite3 deny of an IPv6 /128
# revokes a talking IPv6 connection while an IPv4 one to the same port
# talks on.
#
#   client (sluiced) --- router --- server (sluiced; echo on 7000, 7001,
#                                           7003; HTTP 8080; dnsmasq on
#                                           fd00:91:2::2; TLS on ::4;
#                                           also ::3, ::4)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

SERVER6_3=fd00:91:2::3
SERVER6_4=fd00:91:2::4

aaaa() {
	in_ns "$NS_CLIENT" dig +short +tries=1 +time=3 AAAA "@$SERVER6" "$1"
}
resolves_to() {
	_a=$(aaaa "$1")
	echo "AAAA $1: '$_a', '$2' wanted" >&2
	[ "$_a" = "$2" ]
}
nxdomain() {
	in_ns "$NS_CLIENT" dig +tries=1 +time=3 AAAA "@$SERVER6" "$1" 2>&1 |
		grep -q 'status: NXDOMAIN'
}

topo_up
dmesg_mark
printf 'addr add %s/64 dev veth3 nodad\naddr add %s/64 dev veth3 nodad\n' \
	"$SERVER6_3" "$SERVER6_4" | ip -n "$NS_SERVER" -batch -
setup "echo server on 7000, 7001, 7003" talk_serve "$NS_SERVER" 7000 7001 7003
setup "HTTP server on 8080" http_server_start "$NS_SERVER" 8080
bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$SERVER6" --pid-file= --user=root \
	--log-facility=- --address=/ok6.test/"$SERVER6" \
	--address=/evil6.test/"$SERVER6_3" --address=/blocked6.test/"$SERVER6"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept "[$SERVER6_4]:443" \
	-cert "$WORK/cert.pem" -key "$WORK/key.pem"
setup "TLS server on [$SERVER6_4]:443" wait_listen "$NS_SERVER" 443
setup "sluice.ko loads" sluice_load

policy_init "$WORK/client.db" "
UPDATE settings SET value = 'deny' WHERE key = 'default_action';
INSERT INTO rules(priority, action, domain) VALUES (1, 'deny', '*.blocked6.test');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (5, 'deny', 'out', 'tcp', '$SERVER6_3/128', '7000');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', 'fd00:91:2::/64', '7000');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', '10.91.2.0/24', '7000');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', '10.91.2.0/24', '7001');
INSERT INTO rules(priority, action, direction, proto, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', '7003');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', 'fd00:91:2::/64', '8080');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'allow', 'out', 'tcp', 'fd00:91:2::/64', '443');
INSERT INTO rules(priority, action, direction, proto, dst_port)
  VALUES (10, 'allow', 'out', 'udp', '53');"
policy_init "$WORK/server.db" "
INSERT INTO rules(action, direction, proto, src, dst_port)
  VALUES ('deny', 'in', 'tcp', 'fd00:91:1::/64', '7003');"
setup "client agent enforcing" agent_start "$NS_CLIENT" "$WORK/client.db" \
	--log-db "$WORK/decisions.db"
CLIENT_AGENT=$AGENT_PID
setup "server agent enforcing" agent_start "$NS_SERVER" "$WORK/server.db"
SERVER_AGENT=$AGENT_PID

# ---- CIDR and port over IPv6 ------------------------------------------
check "IPv6 7000 to $SERVER6 allowed by the /64 and port" \
	new_flow "$NS_CLIENT" "$SERVER6" 7000
check "IPv6 7000 to $SERVER6_4, another host of the /64, allowed" \
	new_flow "$NS_CLIENT" "$SERVER6_4" 7000
check "IPv6 7000 to $SERVER6_3 refused by the /128 deny of higher priority" \
	no_new_flow "$NS_CLIENT" "$SERVER6_3" 7000
check "IPv4 7001 allowed by its IPv4 rule" \
	new_flow "$NS_CLIENT" "$SERVER4" 7001
check "IPv6 7001 refused: no IPv6 rule, default deny" \
	no_new_flow "$NS_CLIENT" "$SERVER6" 7001
# A rule on names is in force: the refused flows' SYNs must not have waited
# for a name (none can lift a deny here), or the server would have seen
# their handshakes.
check "the server accepted the two allowed on 7000 and none of the refused ($(accepts 7000))" \
	[ "$(accepts 7000)" -eq 2 ]
check "and on 7001 the IPv4 one only ($(accepts 7001))" \
	[ "$(accepts 7001)" -eq 1 ]

# ---- incoming, by IPv6 source -----------------------------------------
check "incoming 7003 from the client's IPv6 /64 refused by the server" \
	no_new_flow "$NS_CLIENT" "$SERVER6" 7003
check "incoming 7003 from the client over IPv4 allowed" \
	new_flow "$NS_CLIENT" "$SERVER4" 7003
check "incoming 7003 from the router's IPv6 address allowed" \
	new_flow "$NS_ROUTER" "$SERVER6" 7003
check "the server accepted exactly those two on 7003 ($(accepts 7003))" \
	[ "$(accepts 7003)" -eq 2 ]

# ---- names over IPv6 DNS ------------------------------------------------
check "AAAA over IPv6 for an allowed name gets its address" \
	eventually 30 resolves_to ok6.test "$SERVER6"
check "AAAA over IPv6 for a denied name gets NXDOMAIN" \
	nxdomain x.blocked6.test
check "AAAA for evil6.test while it is allowed" \
	resolves_to evil6.test "$SERVER6_3"
check "TCP to the address learned from it works while the name is allowed" \
	connects "$NS_CLIENT" "http://[$SERVER6_3]:8080/"
sqlite3 "$WORK/client.db" \
	"INSERT INTO rules(priority, action, domain) VALUES (1, 'deny', 'evil6.test');"
check "once evil6.test is denied, TCP to the address learned from its AAAA is refused" \
	eventually 20 refused "$NS_CLIENT" "http://[$SERVER6_3]:8080/"
check "control: TCP to ok6.test's address works" \
	connects "$NS_CLIENT" "http://[$SERVER6]:8080/"
check "control: TCP to an address of no name in the same /64 works" \
	connects "$NS_CLIENT" "http://[$SERVER6_4]:8080/"

# ---- SNI over IPv6 -------------------------------------------------------
# An allowed name first: s_server serves one client at a time, and stays
# with the one whose hello is dropped.
check "TLS over IPv6 with an allowed SNI (no DNS involved) works" \
	in_ns "$NS_CLIENT" curl -skf --max-time 5 -o /dev/null \
	--resolve "good6.test:443:[$SERVER6_4]" https://good6.test/
check "TLS over IPv6 with a denied SNI is refused" \
	sh -c "! ip netns exec $NS_CLIENT curl -skf --max-time 3 -o /dev/null --resolve 'x.blocked6.test:443:[$SERVER6_4]' https://x.blocked6.test/"

# ---- revocation of an IPv6 flow ---------------------------------------
check "a long-lived IPv6 connection to 7000 talks" \
	talk_start v6 "$NS_CLIENT" "$SERVER6" 7000
check "and an IPv4 one to the same port" \
	talk_start v4 "$NS_CLIENT" "$SERVER4" 7000
# Behind the deny by name (priority 1): conntrack knows no name, but no
# name could turn a deny by name into an allow, so the deny holds.
sqlite3 "$WORK/client.db" "INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (5, 'deny', 'out', 'tcp', '$SERVER6/128', '7000');"
check "a sqlite3 deny of $SERVER6/128 revokes the IPv6 connection: marked deny" \
	eventually 20 ct_verdict_is "$NS_CLIENT" "$(talk_sport v6)" deny
check "and cut: not one echo in 2 s" talk_stays v6 2
check "control: the IPv4 connection keeps its allow" \
	ct_verdict_is "$NS_CLIENT" "$(talk_sport v4)" allow
check "and talks on (10 echoes in 2 s)" talk_grows v4 2 10
talk_stop v6
talk_stop v4

kill -TERM "$CLIENT_AGENT"
check "client agent stops with status 0" wait "$CLIENT_AGENT"
check "the decision log holds an IPv6 deny under the name evil6.test" \
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(*) FROM decisions WHERE action = 'deny' AND domain = 'evil6.test' AND dst = '$SERVER6_3'")" -ge 1 ]
check "and the /128 deny of port 7000" \
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(*) FROM decisions WHERE action = 'deny' AND dst = '$SERVER6_3' AND dport = 7000 AND rule_id IS NOT NULL")" -ge 1 ]
kill -TERM "$SERVER_AGENT"
check "server agent stops with status 0" wait "$SERVER_AGENT"
stop_bg
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
agent_log "$NS_SERVER"
tap_done
