#!/bin/sh
# Rules written with sqlite3 decide flows by destination CIDR, port,
# protocol and direction, for IPv4 and IPv6. One agent in the client
# (outgoing flows), one in the server (incoming flows).
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# udp_reaches NS ADDR PORT: a datagram from NS reaches the UDP sink.
udp_reaches() {
	: >"$WORK/udp.$3"
	in_ns "$1" python3 -c "
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'ping', (a, int(sys.argv[2])))" "$2" "$3"
	sleep 0.5
	grep -q ping "$WORK/udp.$3"
}
udp_blocked() { ! udp_reaches "$@"; }

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
http_server_start "$NS_SERVER" 9000
bg in_ns "$NS_SERVER" python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', 5300))
while True:
    d, a = s.recvfrom(100)
    open('$WORK/udp.5300', 'ab').write(d + b'\n')"
setup "sluice.ko loads" sluice_load

policy_init "$WORK/client.db" "
INSERT INTO rules(priority, action, direction, proto, dst, dst_port, comment)
  VALUES (10, 'deny', 'out', 'tcp', '$SERVER4/32', '8081', 'v4 host + port');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (10, 'deny', 'out', 'tcp', 'fd00:91:2::/64', '8080-8080');
INSERT INTO rules(priority, action, direction, proto, dst_port)
  VALUES (10, 'deny', 'out', 'udp', '5300');
INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
  VALUES (5, 'allow', 'out', 'tcp', '$SERVER4/32', '8081');
UPDATE rules SET enabled = 0 WHERE priority = 5;"
policy_init "$WORK/server.db" "
INSERT INTO rules(action, direction, proto, src, dst_port)
  VALUES ('deny', 'in', 'tcp', '$CLIENT4/32', '9000');"

check "client agent enforcing" agent_start "$NS_CLIENT" "$WORK/client.db" \
	--log-db "$WORK/decisions.db"
CLIENT_AGENT=$AGENT_PID
check "server agent enforcing" agent_start "$NS_SERVER" "$WORK/server.db"

check "v4 8080 allowed by default" connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "v4 8081 denied by host/32 + port" refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "v6 8081 allowed (rule is v4 only)" connects "$NS_CLIENT" "http://[$SERVER6]:8081/"
check "v6 8080 denied by /64 + port range" refused "$NS_CLIENT" "http://[$SERVER6]:8080/"
check "UDP to 5300 from the router reaches the sink" \
	udp_reaches "$NS_ROUTER" "$SERVER4" 5300
check "UDP to 5300 from the client denied by the proto rule (v4)" \
	udp_blocked "$NS_CLIENT" "$SERVER4" 5300
check "UDP to 5300 from the client denied by the proto rule (v6)" \
	udp_blocked "$NS_CLIENT" "$SERVER6" 5300
check "incoming 9000 from the client denied by the server's 'in' rule" \
	refused "$NS_CLIENT" "http://$SERVER4:9000/"
check "incoming 9000 over v6 allowed (rule names a v4 source)" \
	connects "$NS_CLIENT" "http://[$SERVER6]:9000/"
check "the server agent allowed the router's 8080 request" \
	connects "$NS_ROUTER" "http://$SERVER4:8080/"

sqlite3 "$WORK/client.db" "UPDATE rules SET enabled = 1 WHERE priority = 5;"
check "enabling a lower-priority allow rule wins over the deny (first match)" \
	eventually 20 connects "$NS_CLIENT" "http://$SERVER4:8081/"

kill -TERM "$CLIENT_AGENT"
check "client agent stops with status 0" wait "$CLIENT_AGENT"
check "the decision log holds the denied v4 8081 flow with its rule" \
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(*) FROM decisions WHERE action = 'deny' AND dport = 8081 AND rule_id IS NOT NULL")" -ge 1 ]
check "and allowed flows with the default action (rule_id NULL)" \
	[ "$(sqlite3 "$WORK/decisions.db" "SELECT count(*) FROM decisions WHERE action = 'allow' AND rule_id IS NULL")" -ge 1 ]
check "the decision log is in WAL mode" \
	[ "$(sqlite3 "$WORK/decisions.db" "PRAGMA journal_mode")" = wal ]
check "server agent stops with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
agent_log "$NS_SERVER"
tap_done
