#!/bin/sh
# With ICMP denied by rule, an ICMP error quoting an allowed flow must not
# kill it: a "fragmentation needed" / "packet too big" that arrives while
# a TLS flow waits for its hello must not write DENY into that flow. The
# control: the ICMP rule is in force (ping is refused).
#
#   client (sluiced) --- router (sends the ICMP errors) --- server (TLS
#                                                    on .5/::5)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# shellcheck source=tests/vm/icmp_errors.sh
. "$(dirname "$0")/../icmp_errors.sh"

topo_up
dmesg_mark
ip -n "$NS_SERVER" addr add 10.91.2.5/24 dev veth3
ip -n "$NS_SERVER" addr add fd00:91:2::5/64 dev veth3 nodad
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
for a in 10.91.2.5 '[fd00:91:2::5]'; do
	bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept "$a:443" \
		-cert "$WORK/cert.pem" -key "$WORK/key.pem"
done
wait_listen "$NS_SERVER" 443 2
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', '*.blocked.test');
INSERT INTO rules(action, proto) VALUES ('deny', 'icmp');
INSERT INTO rules(action, proto) VALUES ('deny', 'icmpv6');"
check "sluiced enforcing (ICMP denied; TLS flows wait for their hello)" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"
check "the ICMP deny rule is in force: ping is refused" ping_refused "$SERVER4"
check "and ping over IPv6" ping_refused "$SERVER6"
check "IPv4: a TCP connection to .5:443 is open" tls_open d4 10.91.2.5 41025
b=$(sluice_bits 41025)
check "its verdict is open ($b): the agent waits for the hello" undecided "$b"
check "the router sends 'fragmentation needed' quoting it" too_big 10.91.2.5 41025
sleep 0.5
check "the denied ICMP did not mark the flow denied (bits still $b)" bits_still 41025 "$b"
check "its hello with an allowed SNI still gets through" tls_hello d4 good.test
check "IPv6: a TCP connection to [::5]:443 is open" tls_open d6 fd00:91:2::5 41035
b=$(sluice_bits 41035)
check "its verdict is open ($b): the agent waits for the hello" undecided "$b"
check "the router sends 'packet too big' quoting it" too_big fd00:91:2::5 41035
sleep 0.5
check "the denied ICMPv6 did not mark the flow denied (bits still $b)" bits_still 41035 "$b"
check "its hello with an allowed SNI still gets through" tls_hello d6 good.test

check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
