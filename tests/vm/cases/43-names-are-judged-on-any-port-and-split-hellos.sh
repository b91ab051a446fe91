#!/bin/sh
# A name is judged wherever a TCP flow shows it, on any port and however
# its client cuts it: TLS SNI and HTTP Host on ports other than 443 and 80
# are enforced, a ClientHello split over two TCP segments is read whole,
# a server that speaks first (SSH, SMTP) is still reached, and a flow that
# waits for its name costs two queue trips (SYN and first payload), not
# four: its handshake and bare ACKs pass in the kernel.
#
#   client (sluiced) --- router --- server (TLS on .4:443, .4:8443 and
#                                   .5:443, HTTP on 8080, banner on 2222)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# tls_get NAME PORT ADDR: an HTTPS request with SNI NAME is served.
tls_get() {
	in_ns "$NS_CLIENT" curl -skf --max-time 5 -o /dev/null \
		--resolve "$1:$2:$3" "https://$1:$2/"
}
tls_refused() {
	! in_ns "$NS_CLIENT" curl -skf --max-time 3 -o /dev/null \
		--resolve "$1:$2:$3" "https://$1:$2/"
}
# http_get NAME PORT ADDR: an HTTP request with Host NAME is served.
http_get() {
	in_ns "$NS_CLIENT" curl -sf --max-time 3 -o /dev/null \
		--resolve "$1:$2:$3" "http://$1:$2/"
}
http_refused() { ! http_get "$@"; }
# split_hello NAME ADDR PORT: the hello's first 100 bytes, a pause, the
# rest; served or not (tests/vm/split_hello.py).
split_hello() {
	in_ns "$NS_CLIENT" python3 "$REPO/tests/vm/split_hello.py" "$2" "$3" "$1"
}
split_refused() { ! split_hello "$@"; }
# two_trips NAME PORT ADDR: one TLS request is served and the client's
# /proc/net/sluice "queued" grows by exactly 2 (SYN, ClientHello).
two_trips() {
	_q0=$(sluice_stat "$NS_CLIENT" queued)
	tls_get "$@" || return 1
	_q1=$(sluice_stat "$NS_CLIENT" queued)
	echo "queued grew by $((_q1 - _q0)) for one TLS flow to port $2" >&2
	[ $((_q1 - _q0)) -eq 2 ]
}
# banner_read: a client that sends nothing reads the banner the server on
# port 2222 speaks first.
banner_read() {
	in_ns "$NS_CLIENT" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 2222), timeout=3)
sys.exit(0 if s.recv(64).startswith(b"SSH-2.0-") else 1)' "$SERVER4"
}

topo_up
dmesg_mark
ip -n "$NS_SERVER" addr add 10.91.2.4/24 dev veth3
ip -n "$NS_SERVER" addr add 10.91.2.5/24 dev veth3
http_server_start "$NS_SERVER" 8080
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# s_server answers one client at a time and stays stuck with a client
# whose hello was dropped: one server per group of checks, the refused
# client last.
for _srv in 10.91.2.4:443 10.91.2.4:8443 10.91.2.5:443; do
	bg in_ns "$NS_SERVER" openssl s_server -quiet -www -accept "$_srv" \
		-cert "$WORK/cert.pem" -key "$WORK/key.pem"
done
bg in_ns "$NS_SERVER" python3 -c '
import socket
l = socket.create_server(("0.0.0.0", 2222))
while True:
    c, _ = l.accept()
    c.sendall(b"SSH-2.0-sluice-test\r\n")
    c.close()'
wait_listen "$NS_SERVER" 443 2
wait_listen "$NS_SERVER" 8443
wait_listen "$NS_SERVER" 2222

setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" "
INSERT INTO rules(action, domain) VALUES ('deny', 'sni-denied.test');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "TLS to 443 with an allowed SNI is served in two queue trips, not four" \
	two_trips good.test 443 10.91.2.4
check "TLS to 8443 with an allowed SNI is served in two queue trips" \
	two_trips good.test 8443 10.91.2.4
check "TLS to 8443 with a denied SNI is refused" \
	tls_refused sni-denied.test 8443 10.91.2.4
check "HTTP to 8080 with an allowed Host is served" \
	http_get good.test 8080 "$SERVER4"
check "HTTP to 8080 with a denied Host is refused" \
	http_refused sni-denied.test 8080 "$SERVER4"
check "a ClientHello split over two segments with an allowed SNI is served" \
	split_hello good.test 10.91.2.5 443
check "a ClientHello split over two segments with a denied SNI is refused" \
	split_refused sni-denied.test 10.91.2.5 443
check "a server that speaks first is reached (judged by its address)" \
	banner_read
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
