#!/bin/sh
# The SYNs of case 67, forged behind IPv6 extension headers on the
# client's raw socket (nine destination options headers, an
# Authentication Header, a "no next header", a first fragment without the
# TCP header), cannot walk past a deny at the module's two other hooks
# either; each beside its control to 7001, which the same path lets by.
# FORWARD: the router's agent denies forwarded TCP 7000. The router's nft
# counters (prerouting, before its reassembly) see each forged SYN come
# in with its headers; the server's see none to 7000 come out of the
# router, and those to 7001 do.
# OUTPUT: the sender's own agent (the client's) denies its outgoing TCP
# 7000. The client's nft counters (at OUTPUT, before its conntrack and
# reassembly) see each forged SYN leave the raw socket; the server's see
# none to 7000 arrive, and those to 7001 do. A raw socket's packets pass
# the OUTPUT hook and conntrack as a TCP socket's do: the agent is asked.
# The client's fragments leave it as sent (no conntrack of its own holds
# them) in the first part; in the second its own conntrack is the judge's.
# In both, the judging agent's queued count grows by each forged SYN,
# its decision log holds the ones to 7000 as denies, and the server
# accepts nothing on 7000.
#
#   client (attacker; its    --- router (its sluiced at   --- server (echo
#   sluiced at OUTPUT, second)     FORWARD, first part)         on 7000, 7001)
# shellcheck disable=SC2317 # helpers run through check and setup
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"
# shellcheck source=tests/vm/exthdr.sh
. "$(dirname "$0")/../exthdr.sh"

# seen_rules PORT: nft rules counting the forged packets to PORT by the
# bytes that make them what they are, read before any reassembly (nft's
# own transport header stops at an AH: its port is read as bytes too).
seen_rules() {
	cat <<NFT
ip6 saddr $CLIENT6 @nh,48,8 60 @nh,832,8 6 meta l4proto tcp tcp dport $1 counter comment "dst9-$1"
ip6 saddr $CLIENT6 @nh,48,8 51 @nh,320,8 6 @nh,528,16 $1 counter comment "ah-$1"
ip6 saddr $CLIENT6 @nh,48,8 44 @nh,400,16 $1 counter comment "frag-$1"
NFT
}
# seen_up NS HOOK: fresh counters (table ip6 seen) at NS's HOOK, before
# conntrack and reassembly; seen NS COMMENT reads them.
seen_up() {
	in_ns "$1" nft delete table ip6 seen 2>/dev/null
	in_ns "$1" nft -f - <<NFT
table ip6 seen {
	chain c {
		type filter hook $2 priority -500;
		$(seen_rules 7000)
		$(seen_rules 7001)
		ip6 saddr $CLIENT6 @nh,48,8 60 @nh,320,8 59 counter comment "none"
		ip6 saddr $CLIENT6 @nh,48,8 44 @nh,336,16 1 counter comment "frag-first"
	}
}
NFT
}
# server_saw_none COMMENT: the server's counter COMMENT is 0.
server_saw_none() {
	_n=$(seen "$NS_SERVER" "$1")
	echo "the server counted $_n packets as $1" >&2
	[ "$_n" -eq 0 ]
}
# forged_decided DB ACTION SPORT...: of how many SPORTs DB logged a TCP
# ACTION on the forged SYN itself: before exthdr.py turned to the real
# connection from its port.
forged_decided() {
	_db=$1
	_act=$2
	shift 2
	_n=0
	for _s in "$@"; do
		_at=$(awk '$1 == "followup_at" { print $2 }' "$WORK/syn.$_s")
		[ "$(sqlite3 "$_db" "SELECT count(*) FROM decisions WHERE
			action = '$_act' AND proto = 'tcp' AND sport = $_s AND
			time <= ${_at:-0}")" -ge 1 ] && _n=$((_n + 1))
	done
	echo "$_n"
}
# allows_to DB PORT BASE: TCP allows to PORT DB logged of ports above BASE.
allows_to() {
	sqlite3 "$1" "SELECT count(*) FROM decisions WHERE action = 'allow'
		AND proto = 'tcp' AND dport = $2 AND sport BETWEEN $3 AND $3 + 9"
}

# marked_connect SPORT PORT [BOUNDING]: "made" or "failed (why)" for a
# connection from the client to the server's PORT, from a socket with
# sluice's own mark, made by a process whose capabilities lack
# CAP_NET_ADMIN (or with the bounding set BOUNDING: +all for root's).
marked_connect() {
	in_ns "$NS_CLIENT" setpriv --bounding-set="${3:--net_admin}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[1], 0))
    s.bind((sys.argv[2], int(sys.argv[3])))
    s.connect((sys.argv[4], int(sys.argv[5])))
    s.sendall(b"marked\n")
    print("made" if s.recv(100) == b"marked\n" else "failed (no echo)")
except OSError as e:
    print("failed (%s)" % e)' "$(awk '$2 == "SLUICE_OWN_MARK" { print $3 }' \
		"$REPO/uapi/sluice.h" | tr -d U)" "$CLIENT6" "$1" "$SERVER6" "$2"
}

# forged_syns BASE JUDGE WHERE: the forged SYNs from ports BASE+1 to
# BASE+7, judged by the agent in the namespace JUDGE (at its WHERE hook),
# whose nft counters (seen_up) see them before it does.
forged_syns() {
	_b=$1
	_j=$2
	_w=$3
	_q0=$(sluice_stat "$_j" queued)
	_a0=$(accepts 7000)

	setup "$_w: a SYN behind nine destination options headers to 7001" \
		crafted dst9 $((_b + 1)) 7001
	check "$_w: control: it gets its SYN-ACK ($(synacks $((_b + 1))))" \
		at_least 1 "$(synacks $((_b + 1)))"
	check "$_w: the server counted it with its nine headers" \
		at_least 1 "$(seen "$NS_SERVER" dst9-7001)"
	setup "$_w: a SYN behind nine destination options headers to 7000" \
		crafted dst9 $((_b + 2)) 7000
	check "$_w: to the denied 7000 it gets no SYN-ACK ($(synacks $((_b + 2)))), nor does a connection from its port ($(followup $((_b + 2))))" \
		went_nowhere $((_b + 2))
	check "$_w: though $_j counted it with its nine headers" \
		at_least 1 "$(seen "$_j" dst9-7000)"
	check "$_w: the server saw none of it" server_saw_none dst9-7000
	check "$_w: $_j's conntrack holds no allow of it" \
		not_allowed "$_j" $((_b + 2))

	# The server's kernel drops an AH without a security association:
	# only a flow allowed on its SYN lets a connection from its port by.
	setup "$_w: a SYN behind an Authentication Header to 7001" \
		crafted ah $((_b + 3)) 7001
	check "$_w: control: the server counted it, AH and all" \
		at_least 1 "$(seen "$NS_SERVER" ah-7001)"
	check "$_w: control: a connection from its port follows ($(followup $((_b + 3))))" \
		[ "$(followup $((_b + 3)))" = made ]
	setup "$_w: a SYN behind an Authentication Header to 7000" \
		crafted ah $((_b + 4)) 7000
	check "$_w: to 7000, a connection from its port does not ($(followup $((_b + 4))))" \
		[ "$(followup $((_b + 4)))" = failed ]
	check "$_w: though $_j counted it, AH and all" \
		at_least 1 "$(seen "$_j" ah-7000)"
	check "$_w: the server saw none of it" server_saw_none ah-7000
	check "$_w: $_j's conntrack holds no allow of it" \
		not_allowed "$_j" $((_b + 4))
	_q1=$(sluice_stat "$_j" queued)
	check "$_w: $_j's agent was asked of each of the four ($_q0 -> $_q1 queued)" \
		at_least 4 $((_q1 - _q0))

	setup "$_w: a SYN behind a 'no next header' to 7000" \
		crafted none $((_b + 5)) 7000
	check "$_w: it gets no SYN-ACK ($(synacks $((_b + 5)))), nor a connection from its port ($(followup $((_b + 5))))" \
		went_nowhere $((_b + 5))
	check "$_w: $_j counted it ($(seen "$_j" none))" \
		at_least 1 "$(seen "$_j" none)"
	diag "$_w: 'no next header' packets the server counted: $(seen "$NS_SERVER" none)"

	# A first fragment without the TCP header is never reassembled (RFC
	# 8200): conntrack lets it by alone, untracked, and holds the second
	# for a first that never comes: in the judge, whatever the verdict.
	setup "$_w: a SYN in two fragments, the first without it, to 7001" \
		crafted frag $((_b + 6)) 7001
	check "$_w: control: a connection from its port follows ($(followup $((_b + 6))))" \
		[ "$(followup $((_b + 6)))" = made ]
	setup "$_w: a SYN in two fragments, the first without it, to 7000" \
		crafted frag $((_b + 7)) 7000
	check "$_w: to 7000 it gets no SYN-ACK ($(synacks $((_b + 7)))), nor a connection from its port ($(followup $((_b + 7))))" \
		went_nowhere $((_b + 7))
	check "$_w: $_j counted the second fragment of each ($(seen "$_j" frag-7001), $(seen "$_j" frag-7000))" \
		at_least 2 $(($(seen "$_j" frag-7001) + $(seen "$_j" frag-7000)))
	check "$_w: the server saw none to 7000" server_saw_none frag-7000
	diag "$_w: fragments $_j counted: first $(seen "$_j" frag-first), to 7001 $(seen "$_j" frag-7001), to 7000 $(seen "$_j" frag-7000); the server: first $(seen "$NS_SERVER" frag-first), to 7001 $(seen "$NS_SERVER" frag-7001), to 7000 $(seen "$NS_SERVER" frag-7000); queued by $_j $_q1 -> $(sluice_stat "$_j" queued)"
	check "$_w: $_j's conntrack holds no allow of it" \
		not_allowed "$_j" $((_b + 7))
	check "$_w: the server accepted nothing on 7000 ($_a0 -> $(accepts 7000))" \
		[ "$(accepts 7000)" -eq "$_a0" ]
	diag "$_w: refused at once by the client's kernel: $(for _s in 1 2 3 4 5 6 7; do awk '$1 == "refused" { printf "%s ", $2 }' "$WORK/syn.$((_b + _s))"; done)"
}

# decided DB BASE WHERE: after its agent stopped, DB logged the forged
# SYNs to 7000 with their headers as denies, those to 7001 as allows.
decided() {
	_d=$(forged_decided "$1" deny $(($2 + 2)) $(($2 + 4)))
	check "$3: the decision log holds the forged SYNs to 7000 themselves as TCP denies ($_d of 2)" \
		[ "$_d" -eq 2 ]
	check "$3: and no allow to 7000 from their ports ($(allows_to "$1" 7000 "$2"))" \
		[ "$(allows_to "$1" 7000 "$2")" -eq 0 ]
	_d=$(forged_decided "$1" allow $(($2 + 1)) $(($2 + 3)))
	check "$3: control: those to 7001 themselves as allows ($_d of 2)" \
		[ "$_d" -eq 2 ]
	diag "$3: the fragmented SYN to 7000 decided itself: $(forged_decided "$1" deny $(($2 + 7))), to 7001: $(forged_decided "$1" allow $(($2 + 6)))"
	diag "$3: decisions: $(sqlite3 "$1" "SELECT group_concat(sport || '>' || dport || ' ' || action, ', ') FROM decisions WHERE proto = 'tcp' AND sport BETWEEN $2 AND $2 + 9")"
}

topo_up
dmesg_mark
modprobe nf_tables
setup "echo server on 7000, 7001" talk_serve "$NS_SERVER" 7000 7001
setup "the client keeps its kernel from resetting forged handshakes" attacker_up
setup "sluice.ko loads" sluice_load

# ---- FORWARD: the router's agent ---------------------------------------
setup "nft counters in the router, before reassembly" seen_up "$NS_ROUTER" prerouting
setup "nft counters in the server, before reassembly" seen_up "$NS_SERVER" prerouting
policy_init "$WORK/router.db" "
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'forward', 'tcp', '7000');"
setup "the client's fragments leave as it sends them" fragments_pass "$NS_CLIENT" output
setup "the router's agent enforcing" agent_start "$NS_ROUTER" "$WORK/router.db" \
	--log-db "$WORK/router-decisions.db"
check "control: a real forwarded connection to 7001 works" \
	new_flow "$NS_CLIENT" "$SERVER6" 7001
check "and to the denied 7000 does not" no_new_flow "$NS_CLIENT" "$SERVER6" 7000
forged_syns 42000 "$NS_ROUTER" FORWARD
check "FORWARD: SIGTERM stops the router's agent with status 0" agent_stop
decided "$WORK/router-decisions.db" 42000 FORWARD
check "sluicectl set hooks in,out in the router: it judges no forwarded flow now" \
	in_ns "$NS_ROUTER" "$SLUICECTL" set hooks in,out

# ---- OUTPUT: the sender's own agent ------------------------------------
setup "the client's own conntrack holds its fragments again" \
	in_ns "$NS_CLIENT" nft delete table ip6 unreassembled
setup "nft counters in the client, at OUTPUT before conntrack" seen_up "$NS_CLIENT" output
setup "fresh nft counters in the server" seen_up "$NS_SERVER" prerouting
policy_init "$WORK/client.db" "
INSERT INTO rules(action, direction, proto, dst_port) VALUES ('deny', 'out', 'tcp', '7000');"
setup "the client's agent enforcing" agent_start "$NS_CLIENT" "$WORK/client.db" \
	--log-db "$WORK/client-decisions.db"
check "control: a real connection from the client to 7001 works" \
	new_flow "$NS_CLIENT" "$SERVER6" 7001
check "and to the denied 7000 does not" no_new_flow "$NS_CLIENT" "$SERVER6" 7000
forged_syns 43000 "$NS_CLIENT" OUTPUT
check "after all, the server accepted nothing on 7000 ($(accepts 7000))" \
	[ "$(accepts 7000)" -eq 0 ]
# Since Linux 5.17 CAP_NET_RAW (what a raw socket needs) is enough to set
# a socket's mark: the module takes a marked packet for the agent's own
# only from a socket opened with CAP_NET_ADMIN (the old module let every
# marked one by: "made").
marked_refused() { [ "$(marked_connect 44000 7000)" = "failed (timed out)" ]; }
check "OUTPUT: a socket marked with sluice's own mark by a process without CAP_NET_ADMIN does not reach the denied 7000" \
	marked_refused
marked_allowed() { [ "$(marked_connect 44010 7001)" = made ]; }
check "control: the same marked socket reaches 7001 (the mark was set, the flow judged and allowed)" \
	marked_allowed
# The raw table's NOTRACK untracks a marked packet before sluice_own_hook
# can refuse to: with untracked=drop, the old module still let such a
# packet by as the agent's own. Counted where it would arrive: SYNs from
# the two source ports at the server (the replies are dropped either way:
# conntrack finds no flow for them, and untracked=drop).
syns_up() {
	in_ns "$NS_SERVER" nft -f - <<NFT
table ip6 syns {
	chain c {
		type filter hook prerouting priority -500;
		ip6 saddr $CLIENT6 tcp flags & (syn | ack) == syn tcp sport 44020 counter comment "nocap"
		ip6 saddr $CLIENT6 tcp flags & (syn | ack) == syn tcp sport 44030 counter comment "admin"
	}
}
NFT
}
notrack_up() {
	echo drop >/sys/module/sluice/parameters/untracked &&
		in_ns "$NS_CLIENT" nft -f - <<'NFT'
table ip6 untrack {
	chain o {
		type filter hook output priority -300;
		tcp dport 7000 notrack
	}
}
NFT
}
setup "the server counts the SYNs from ports 44020 and 44030" syns_up
setup "untracked=drop, and the client's raw table untracks all to 7000" notrack_up
diag "NOTRACK: marked, without CAP_NET_ADMIN: $(marked_connect 44020 7000); with it: $(marked_connect 44030 7000 +all)"
check "NOTRACK: the marked socket without CAP_NET_ADMIN sent the denied 7000 no SYN ($(seen "$NS_SERVER" nocap syns))" \
	[ "$(seen "$NS_SERVER" nocap syns)" -eq 0 ]
check "control: the same marked socket with CAP_NET_ADMIN, as the agent's, did ($(seen "$NS_SERVER" admin syns))" \
	[ "$(seen "$NS_SERVER" admin syns)" -ge 1 ]
setup "untracked=accept again, the client's raw table emptied" sh -c \
	'echo accept >/sys/module/sluice/parameters/untracked &&
	ip netns exec "$1" nft delete table ip6 untrack' - "$NS_CLIENT"
check "OUTPUT: SIGTERM stops the client's agent with status 0" agent_stop
decided "$WORK/client-decisions.db" 43000 OUTPUT
marked_judged() {
	[ "$(sqlite3 "$WORK/client-decisions.db" "SELECT count(DISTINCT sport)
		FROM decisions WHERE proto = 'tcp' AND ((sport = 44000 AND
		dport = 7000 AND action = 'deny') OR (sport = 44010 AND
		dport = 7001 AND action = 'allow'))")" -eq 2 ]
}
check "OUTPUT: the client's agent judged both marked flows (a deny to 7000, an allow to 7001)" \
	marked_judged
stop_bg
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_ROUTER"
agent_log "$NS_CLIENT"
tap_done
