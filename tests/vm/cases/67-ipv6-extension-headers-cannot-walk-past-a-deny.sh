#!/bin/sh
# IPv6 extension headers cannot walk past a deny. The server's agent
# denies incoming TCP 7000, UDP 7100 and the names *.blocked7.test, and
# allows the rest; every refusal has its control beside it (7001, 7101,
# ok7.test), and the server's own nft counters (before reassembly) prove
# that the packets reached it carrying the headers they should.
# Real clients: a TCP connection from a socket with sticky hop-by-hop
# options, a routing header and destination options before and after it;
# a 3000-byte UDP datagram sent in fragments over the client's MTU of
# 1280 (the fragment header its only extension header); a DNS question
# with destination options, which gets the same NXDOMAIN as one without.
# Crafted on a raw socket by the client (the attacker's own host, no
# agent; it keeps its kernel from resetting the handshakes it forges):
# a SYN behind an Authentication Header, behind
# nine destination options headers, behind a "no next header", and in two
# fragments whose first lacks the TCP header; after each, a real
# connection from the same port, so that a flow allowed on the crafted
# SYN would carry it. Each must leave the server's accept count on 7000
# at 0 and no allow in its conntrack.
#
#   client (attacker, MTU 1280) --- router --- server (sluiced; echo on
#                                              7000, 7001; UDP 7100,
#                                              7101; dnsmasq)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"
# shellcheck source=tests/vm/exthdr.sh
. "$(dirname "$0")/../exthdr.sh"

# dns_rcode NAME [plain]: "rcode N answers N" or "timeout" for an AAAA
# question from the client to the server's dnsmasq.
dns_is() {
	_got=$(ext "$NS_CLIENT" dns "$SERVER6" "$1" ${3:+"$3"})
	echo "$1${3:+ ($3)}: '$_got', '$2' wanted" >&2
	[ "$_got" = "$2" ]
}
queued() { sluice_stat "$NS_SERVER" queued; }

topo_up
dmesg_mark
modprobe nf_tables
ip -n "$NS_CLIENT" link set veth0 mtu 1280
ip -n "$NS_ROUTER" link set veth1 mtu 1280
# The server steps over a segment routing header with no segment left.
in_ns "$NS_SERVER" sysctl -qw net.ipv6.conf.all.seg6_enabled=1 \
	net.ipv6.conf.veth3.seg6_enabled=1
setup "nft counters in the server, before reassembly" \
	in_ns "$NS_SERVER" nft -f - <<NFT
table ip6 seen {
	chain pre {
		type filter hook prerouting priority -500;
		ip6 saddr $CLIENT6 exthdr hbh exists exthdr rt exists exthdr dst exists tcp dport 7000 tcp flags & (syn | ack) == syn counter comment "ext-syn-7000"
		ip6 saddr $CLIENT6 exthdr hbh exists exthdr rt exists exthdr dst exists tcp dport 7001 tcp flags & (syn | ack) == syn counter comment "ext-syn-7001"
		ip6 saddr $CLIENT6 exthdr frag exists counter comment "frags"
		ip6 saddr $CLIENT6 exthdr dst exists udp dport 53 counter comment "ext-dns"
	}
}
NFT
setup "echo server on 7000, 7001" talk_serve "$NS_SERVER" 7000 7001
setup "UDP sink on 7100 to 7103" udp_sink_start "$NS_SERVER" 7100 7101 7102 7103
bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$SERVER6" --pid-file= --user=root \
	--log-facility=- --address=/ok7.test/"$SERVER6" \
	--address=/blocked7.test/"$SERVER6"
setup "sluice.ko loads" sluice_load
policy_init "$WORK/server.db" "
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'in', 'tcp', '7000');
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'in', 'udp', '7100');
INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked7.test');"
setup "server agent enforcing" agent_start "$NS_SERVER" "$WORK/server.db" \
	--log-db "$WORK/decisions.db"
SERVER_AGENT=$AGENT_PID
setup "dnsmasq answers" eventually 50 dns_is ok7.test "rcode 0 answers 1" plain

# ---- real clients with sticky extension headers ----------------------
q0=$(queued)
check "control: TCP to 7001 with hop-by-hop, routing and destination options works" \
	ext "$NS_CLIENT" connect "$SERVER6" 7001 3
check "the server saw its SYN carry them ($(seen "$NS_SERVER" ext-syn-7001))" \
	at_least 1 "$(seen "$NS_SERVER" ext-syn-7001)"
check "TCP to the denied 7000 with the same headers is refused" \
	sh -c "! ip netns exec $NS_CLIENT python3 $REPO/tests/vm/exthdr.py connect $SERVER6 7000 2"
check "though the server saw its SYN carry them ($(seen "$NS_SERVER" ext-syn-7000))" \
	at_least 1 "$(seen "$NS_SERVER" ext-syn-7000)"
check "the server accepted none on 7000 ($(accepts 7000))" [ "$(accepts 7000)" -eq 0 ]
check "and one on 7001 ($(accepts 7001))" [ "$(accepts 7001)" -eq 1 ]
q1=$(queued)
check "the server's agent was asked ($q0 -> $q1 queued)" at_least 2 $((q1 - q0))

# ---- fragments --------------------------------------------------------
setup "3000 bytes to the denied UDP 7100, in fragments" \
	ext "$NS_CLIENT" udp "$SERVER6" 7100 3000 plain
setup "3000 bytes to UDP 7101, in fragments" \
	ext "$NS_CLIENT" udp "$SERVER6" 7101 3000 plain
check "control: the datagram to 7101 arrives" eventually 50 udp_count_is 7101 1
check "the one to 7100, sent before it, does not ($(udp_count 7100))" \
	udp_count_is 7100 0
check "both reached the server in fragments ($(seen "$NS_SERVER" frags))" \
	at_least 4 "$(seen "$NS_SERVER" frags)"
q2=$(queued)
check "the server's agent was asked ($q1 -> $q2 queued)" at_least 2 $((q2 - q1))
# Destination options without a routing header go into every fragment
# (Linux counts them in the unfragmentable part). Such a datagram, seen:
# the server's conntrack reassembles it, the agent allows it, and the
# kernel's IPv6 input then drops it as a header error (Ip6InHdrErrors)
# after sluice let it pass; in one piece it arrives.
ext "$NS_CLIENT" udp "$SERVER6" 7102 3000
ext "$NS_CLIENT" udp "$SERVER6" 7103 500
eventually 30 udp_count_is 7103 1 2>/dev/null
diag "with destination options: 3000 bytes in fragments to 7102 arrived $(udp_count 7102) times, 500 bytes to 7103 $(udp_count 7103) times; server: $(in_ns "$NS_SERVER" nstat -asz Ip6InHdrErrors Ip6InDelivers Udp6InDatagrams 2>/dev/null | awk '!/^#/ { printf "%s=%s ", $1, $2 }')"

# ---- DNS with destination options -------------------------------------
check "without extension headers, a denied name gets NXDOMAIN" \
	dns_is x.blocked7.test "rcode 3 answers 0" plain
check "with destination options, a denied name gets the same NXDOMAIN" \
	dns_is x.blocked7.test "rcode 3 answers 0"
check "control: with destination options, an allowed name is answered" \
	dns_is ok7.test "rcode 0 answers 1"
check "the server saw both questions carry them ($(seen "$NS_SERVER" ext-dns))" \
	at_least 2 "$(seen "$NS_SERVER" ext-dns)"

# ---- crafted SYNs ------------------------------------------------------
setup "the client keeps its kernel from resetting forged handshakes" attacker_up
setup "the client's fragments leave as it sends them" fragments_pass "$NS_CLIENT" output
setup "the router forwards them as they come" fragments_pass "$NS_ROUTER" prerouting
q3=$(queued)
setup "a SYN behind nine destination options headers to 7001" crafted dst9 41001 7001
check "control: it gets its SYN-ACK ($(synacks 41001))" at_least 1 "$(synacks 41001)"
setup "a SYN behind nine destination options headers to 7000" crafted dst9 41002 7000
check "to the denied 7000 it gets none ($(synacks 41002)), nor does a connection from its port ($(followup 41002))" \
	went_nowhere 41002
check "and the server's conntrack holds no allow of it" not_allowed "$NS_SERVER" 41002

setup "a SYN behind an Authentication Header to 7001" crafted ah 41003 7001
check "control: a connection from its port follows ($(followup 41003))" \
	[ "$(followup 41003)" = made ]
setup "a SYN behind an Authentication Header to 7000" crafted ah 41004 7000
check "to 7000, a connection from its port does not ($(followup 41004))" \
	[ "$(followup 41004)" = failed ]
check "and the server's conntrack holds no allow of it" not_allowed "$NS_SERVER" 41004

setup "a SYN behind a 'no next header' to 7000" crafted none 41005 7000
check "it gets no SYN-ACK ($(synacks 41005)), nor a connection from its port ($(followup 41005))" \
	went_nowhere 41005
# The kernel never reassembles a first fragment without the transport
# header (RFC 8200): conntrack lets it by alone, untracked, and IPv6 input
# discards it; the second waits for a first that never comes. No SYN-ACK
# even where allowed.
f0=$(seen "$NS_SERVER" frags)
setup "a SYN in two fragments, the first without it, to 7001" crafted frag 41006 7001
check "control: to 7001 no SYN-ACK either ($(synacks 41006)), but a connection from its port follows ($(followup 41006))" \
	[ "$(followup 41006)" = made ]
setup "a SYN in two fragments, the first without it, to 7000" crafted frag 41007 7000
check "to 7000 it gets no SYN-ACK ($(synacks 41007)), nor a connection from its port ($(followup 41007))" \
	went_nowhere 41007
check "though the server got both fragments of each ($f0 -> $(seen "$NS_SERVER" frags))" \
	at_least 4 $(($(seen "$NS_SERVER" frags) - f0))
check "and the server's conntrack holds no allow of it" not_allowed "$NS_SERVER" 41007
check "after all, the server accepted nothing on 7000 ($(accepts 7000))" \
	[ "$(accepts 7000)" -eq 0 ]
q4=$(queued)
check "the server's agent was asked ($q3 -> $q4 queued)" at_least 6 $((q4 - q3))

kill -TERM "$SERVER_AGENT"
check "server agent stops with status 0" wait "$SERVER_AGENT"
check "the decision log holds the crafted SYNs to 7000 as TCP denies ($(sqlite3 "$WORK/decisions.db" "SELECT group_concat(sport) FROM decisions WHERE action = 'deny' AND proto = 'tcp' AND dport = 7000 AND sport > 41000"))" \
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(DISTINCT sport) FROM decisions WHERE action = 'deny' AND proto = 'tcp' AND dport = 7000 AND sport IN (41002, 41004)")" -eq 2 ]
diag "decisions of UDP: $(sqlite3 "$WORK/decisions.db" "SELECT group_concat(dport || ' ' || action, ', ') FROM decisions WHERE proto = 'udp' AND dport BETWEEN 7100 AND 7103")"
stop_bg
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_SERVER"
tap_done
