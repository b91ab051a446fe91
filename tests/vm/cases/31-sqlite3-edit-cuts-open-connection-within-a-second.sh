#!/bin/sh
# A deny rule INSERTed with the sqlite3 CLI while traffic flows is in
# force within a second: new connections are refused and an open TCP
# connection is cut. Deleting the rule restores them.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# A TCP stream that writes a counter line every 50 ms: the server side
# log grows while the connection is alive.
stream_start() {
	bg in_ns "$NS_SERVER" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7000)); s.listen(1)
c, _ = s.accept()
f = open('$WORK/stream.log', 'ab', buffering=0)
while True:
    d = c.recv(100)
    if not d: break
    f.write(d)"
	wait_listen "$NS_SERVER" 7000
	bg in_ns "$NS_CLIENT" python3 -c "
import socket, time
s = socket.create_connection(('$SERVER4', 7000))
i = 0
while True:
    s.send(b'%d\n' % i); i += 1; time.sleep(0.05)"
}
stream_len() { wc -l <"$WORK/stream.log"; }
stream_grows() {
	_a=$(stream_len)
	sleep 0.5
	[ "$(stream_len)" -gt "$_a" ]
}
stream_stopped() { ! stream_grows; }

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
: >"$WORK/stream.log"
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
stream_start
check "the open connection carries data" eventually 30 stream_grows
check "new connections work" connects "$NS_CLIENT" "http://$SERVER4:8080/"

sqlite3 "$WORK/policy.db" "INSERT INTO rules(action, dst) VALUES ('deny', '10.91.2.0/24');"
sleep 1
check "1 s after the INSERT, the open connection is cut" stream_stopped
check "and new connections are refused" refused "$NS_CLIENT" "http://$SERVER4:8080/"
check "IPv6 (not in the rule) still works" connects "$NS_CLIENT" "http://[$SERVER6]:8080/"

sqlite3 "$WORK/policy.db" "DELETE FROM rules WHERE dst = '10.91.2.0/24';"
sleep 1
check "1 s after the DELETE, new connections work again" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "and the cut connection resumes" eventually 50 stream_grows
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
