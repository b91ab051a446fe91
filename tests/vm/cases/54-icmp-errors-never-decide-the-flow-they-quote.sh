#!/bin/sh
# ICMP errors never write the verdict of the flow they quote. With domain
# rules the agent leaves a TLS flow undecided until its ClientHello; an
# attacker (here the router) sends the client a "fragmentation needed" /
# ICMPv6 "packet too big" quoting that flow in between. The flow's bits
# must stay as they were, and the ClientHello with a denied SNI must still
# be refused. The controls: the same path with an allowed SNI works after
# such an error, and the error did reach the client's stack.
#
#   client (sluiced) --- router (sends the ICMP errors) --- server (TLS
#                                                    on .4/::4 and .5/::5)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# shellcheck source=tests/vm/icmp_errors.sh
. "$(dirname "$0")/../icmp_errors.sh"

topo_up
dmesg_mark
for a in 10.91.2.4 10.91.2.5; do
	ip -n "$NS_SERVER" addr add "$a/24" dev veth3
done
for a in fd00:91:2::4 fd00:91:2::5; do
	ip -n "$NS_SERVER" addr add "$a/64" dev veth3 nodad
done
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# s_server answers one client at a time, and a client whose hello is
# dropped keeps it: .4 and ::4 take the refused ones, .5 and ::5 the rest.
for a in 10.91.2.4 10.91.2.5 '[fd00:91:2::4]' '[fd00:91:2::5]'; do
	bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept "$a:443" \
		-cert "$WORK/cert.pem" -key "$WORK/key.pem"
done
wait_listen "$NS_SERVER" 443 4
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked.test');"
check "sluiced enforcing (domain rules: TLS flows wait for their hello)" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"

# Control: an allowed SNI over a flow that met an ICMP error.
check "IPv4: a TCP connection to .5:443 is open" tls_open c4 10.91.2.5 41005
b=$(sluice_bits 41005)
check "its verdict is open ($b): the agent waits for the hello" undecided "$b"
i0=$(nstat_abs "$NS_CLIENT" IcmpInDestUnreachs)
check "the router sends 'fragmentation needed' quoting it" too_big 10.91.2.5 41005
check "the client's stack received it" eventually 20 icmp_in IcmpInDestUnreachs "$i0"
check "the flow's verdict bits are still $b" bits_still 41005 "$b"
check "its hello with an allowed SNI gets through" tls_hello c4 good.test

# The attack over IPv4: a denied SNI after the ICMP error.
check "IPv4: a TCP connection to .4:443 is open" tls_open a4 10.91.2.4 41004
b=$(sluice_bits 41004)
check "its verdict is open ($b)" undecided "$b"
i0=$(nstat_abs "$NS_CLIENT" IcmpInDestUnreachs)
check "the router sends 'fragmentation needed' quoting it" too_big 10.91.2.4 41004
check "the client's stack received it" eventually 20 icmp_in IcmpInDestUnreachs "$i0"
check "the ICMP error did not write the flow's verdict (bits still $b)" bits_still 41004 "$b"
check "its hello with a denied SNI is still refused" tls_refused a4 x.blocked.test

# The same over IPv6.
check "IPv6: a TCP connection to [::5]:443 is open" tls_open c6 fd00:91:2::5 41015
b=$(sluice_bits 41015)
check "its verdict is open ($b)" undecided "$b"
i0=$(nstat_abs "$NS_CLIENT" Icmp6InPktTooBigs)
check "the router sends 'packet too big' quoting it" too_big fd00:91:2::5 41015
check "the client's stack received it" eventually 20 icmp_in Icmp6InPktTooBigs "$i0"
check "the flow's verdict bits are still $b" bits_still 41015 "$b"
check "its hello with an allowed SNI gets through" tls_hello c6 good.test
check "IPv6: a TCP connection to [::4]:443 is open" tls_open a6 fd00:91:2::4 41014
b=$(sluice_bits 41014)
check "its verdict is open ($b)" undecided "$b"
i0=$(nstat_abs "$NS_CLIENT" Icmp6InPktTooBigs)
check "the router sends 'packet too big' quoting it" too_big fd00:91:2::4 41014
check "the client's stack received it" eventually 20 icmp_in Icmp6InPktTooBigs "$i0"
check "the ICMP error did not write the flow's verdict (bits still $b)" bits_still 41014 "$b"
check "its hello with a denied SNI is still refused" tls_refused a6 x.blocked.test

check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
