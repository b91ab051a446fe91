#!/bin/sh
# The agent's own packets create no allow state. A denied name gets the
# agent's sinkhole answer (NXDOMAIN), which the agent itself sends from
# the resolver's address to the client's port. That answer must not leave
# an allowed conntrack entry behind: asked again from the same source
# port, the denied name must get NXDOMAIN again, not the real address.
# The control: an allowed name asked from the same port resolves.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# dig_status SRC#PORT RESOLVER NAME: dig's status line for NAME, asked from
# one fixed source address and port.
dig_status() {
	in_ns "$NS_CLIENT" dig +tries=1 +time=3 -b "$1" "@$2" "$3" 2>&1 |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
nxdomain() {
	_s=$(dig_status "$@")
	echo "$3 from $1: ${_s:-no answer}" >&2
	[ "$_s" = NXDOMAIN ]
}
resolves() {
	_a=$(in_ns "$NS_CLIENT" dig +short +tries=1 +time=3 -b "$1" "@$2" "$3")
	echo "$3 from $1: ${_a:-nothing}" >&2
	[ "$_a" = "$4" ]
}
# no_allow_state PORT: no conntrack entry of the client that involves UDP
# port PORT carries sluice's allow verdict (0x40000000 in the default mask).
no_allow_state() {
	in_ns "$NS_CLIENT" conntrack -L -p udp 2>/dev/null | grep "port=$1 " >&2
	in_ns "$NS_CLIENT" conntrack -L -p udp 2>/dev/null | grep "port=$1 " |
		awk '{ for (i = 1; i <= NF; i++)
			if ($i ~ /^mark=/ && int(substr($i, 6) / 1073741824) % 4 == 1)
				allowed = 1 }
		END { exit allowed }'
}

topo_up
dmesg_mark
bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$SERVER4" --listen-address="$SERVER6" \
	--pid-file= --user=root --log-facility=- \
	--address=/ok.test/"$SERVER4" --address=/blocked.test/"$SERVER4"
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked.test');"
check "sluiced enforcing (default allow, *.blocked.test denied)" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"

check "the resolver answers an allowed name (from port 40060)" \
	eventually 10 resolves "$CLIENT4#40060" "$SERVER4" ok.test "$SERVER4"
check "a.blocked.test from port 40053 gets NXDOMAIN" \
	nxdomain "$CLIENT4#40053" "$SERVER4" a.blocked.test
check "the sinkhole answer left no allowed flow on port 40053" \
	no_allow_state 40053
check "asked again from the same port: NXDOMAIN again" \
	nxdomain "$CLIENT4#40053" "$SERVER4" a.blocked.test
check "an allowed name from the same port resolves" \
	resolves "$CLIENT4#40053" "$SERVER4" ok.test "$SERVER4"
check "and the denied name from it still gets NXDOMAIN" \
	nxdomain "$CLIENT4#40053" "$SERVER4" b.blocked.test

check "IPv6: a.blocked.test from port 40054 gets NXDOMAIN" \
	nxdomain "$CLIENT6#40054" "$SERVER6" a.blocked.test
check "the sinkhole answer left no allowed flow on port 40054" \
	no_allow_state 40054
check "asked again from the same port: NXDOMAIN again" \
	nxdomain "$CLIENT6#40054" "$SERVER6" a.blocked.test
check "an allowed name from the same port resolves" \
	resolves "$CLIENT6#40054" "$SERVER6" ok.test "$SERVER4"

check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
