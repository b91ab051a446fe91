#!/bin/sh
# Rules on who a flow belongs to, end to end: the module records the
# socket's owner, cgroup and sending program when it queues the flow, the
# agent asks it (only because the policy has such rules), resolves the
# program's path and the cgroup's unit, and the rules decide. Each refusal
# has its control beside it, the same client over the same path allowed:
#   exe   two copies of curl: $WORK/bin-b/curl is denied by a directory
#         glob, $WORK/bin-a/curl is served;
#   exec  a program opens a UDP socket and execs another, which sends on
#         it: the datagram is the second program's (denied by exe), while
#         the first program sending on its own socket is allowed;
#   uid   outgoing: curl as uid 65534 is refused, as root served;
#         incoming: a server run by uid 65534 is refused to clients of
#         another namespace, the same server run by root is reachable;
#   unit  curl in demo.slice/demo.service is refused (unit =
#         'demo.service'), curl in demo.slice/other.service is served;
# and the decision log names uid, unit and program of the refused flows.
#
# The clients run in the client agent's own mount namespace (in_client),
# so that their /proc/PID/exe reads as the agent's paths do (while the
# VM's runner was chrooted at /newroot of the initramfs, a program in
# another mount namespace, another "ip netns exec", showed
# /newroot/usr/bin/curl there).
# On a real system the namespace's root is the root, and the lifecycle
# tier proves the same rules under systemd, whose services each have a
# mount namespace of their own.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

CG=$WORK/cgroup
NOBODY=65534
URL=http://$SERVER4:8080/

# shellcheck disable=SC2317 # run by the trap
_case_cleanup() {
	for _p in $_pids; do
		kill "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	rmdir "$CG/demo.slice/demo.service" "$CG/demo.slice/other.service" \
		"$CG/demo.slice" "$CG/srv" 2>/dev/null
	umount "$CG" 2>/dev/null
	_cleanup
}
trap _case_cleanup EXIT

# in_client CMD...: CMD in the client namespace, in its agent's mount
# namespace and root.
in_client() {
	nsenter -t "$client_agent" -m -n -r -w "$@"
}
curl_ok() { "$@" -sf --max-time 3 -o /dev/null "$URL"; }
curl_refused() { ! "$@" -sf --max-time 2 -o /dev/null "$URL"; }

topo_up
dmesg_mark
setup "sluice.ko loads" sluice_load
mkdir -p "$CG"
check "a cgroup2 hierarchy is mounted" mount -t cgroup2 none "$CG"
mkdir -p "$CG/demo.slice/demo.service" "$CG/demo.slice/other.service" "$CG/srv"
chmod 0755 "$WORK"
mkdir -p "$WORK/bin-a" "$WORK/bin-b" "$WORK/www"
curl_bin=$(command -v curl)
py_bin=$(readlink -f "$(command -v python3)")
cp "$curl_bin" "$WORK/bin-a/curl"
cp "$curl_bin" "$WORK/bin-b/curl"
cp "$py_bin" "$WORK/bin-b/python3"
chmod 0755 "$WORK/bin-a" "$WORK/bin-b" "$WORK/www"
echo "sluice vm test" >"$WORK/www/index.html"
chmod 0644 "$WORK/www/index.html"

# Servers: port 8080 by root, 8090 by nobody (in the server namespace).
bg in_ns "$NS_SERVER" busybox httpd -f -p 8080 -h "$WORK/www"
bg in_cgroup "$CG/srv" ip netns exec "$NS_SERVER" setpriv --reuid "$NOBODY" \
	--regid "$NOBODY" --clear-groups busybox httpd -f -p 8090 -h "$WORK/www"
servers_up() { wait_listen "$NS_SERVER" 8080 && wait_listen "$NS_SERVER" 8090; }
check "servers listen on 8080 (root) and 8090 (uid $NOBODY)" servers_up
udp_sink_start "$NS_SERVER" 5301 5302

policy_init "$WORK/client.db" "
INSERT INTO rules(action, direction, exe, comment)
  VALUES ('deny', 'out', '$WORK/bin-b/*', 'no program from bin-b');
INSERT INTO rules(action, direction, proto, dst_port, uid)
  VALUES ('deny', 'out', 'tcp', '8080', $NOBODY);
INSERT INTO rules(action, direction, unit)
  VALUES ('deny', 'out', 'demo.service');"
policy_init "$WORK/server.db" "
INSERT INTO rules(action, direction, proto, uid)
  VALUES ('deny', 'in', 'tcp', $NOBODY);"
check "sluiced enforces in the client namespace" \
	agent_start "$NS_CLIENT" "$WORK/client.db" --log-db "$WORK/client-log.db"
client_agent=$AGENT_PID
check "sluiced enforces in the server namespace" \
	agent_start "$NS_SERVER" "$WORK/server.db"

# ---- exe -----------------------------------------------------------------
check "exe: $WORK/bin-a/curl is served" \
	curl_ok in_client "$WORK/bin-a/curl"
check "exe: $WORK/bin-b/curl (same file, denied directory) is refused" \
	curl_refused in_client "$WORK/bin-b/curl"
check "exe: $curl_bin itself is served" curl_ok in_client curl

# ---- exec after the socket is open ---------------------------------------
# The first program (python3) opens the socket; with "exec" it execs
# bin-b/python3 on the same fd, which sends; without, it sends itself.
send_on_inherited() {
	in_client "$py_bin" -c '
import os, socket, sys
port, how = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.set_inheritable(True)
code = "import socket, sys; s = socket.socket(fileno=int(sys.argv[1])); " \
       "s.sendto(b\"x\", (sys.argv[2], int(sys.argv[3])))"
if how == "exec":
    os.execv(sys.argv[3], [sys.argv[3], "-c", code, str(s.fileno()), sys.argv[4], str(port)])
s.sendto(b"x", (sys.argv[4], port))' "$1" "$2" "$WORK/bin-b/python3" "$SERVER4"
}
send_on_inherited 5301 self
send_on_inherited 5302 exec
sleep 2
check "exec: the opener sending on its own socket is allowed" udp_count_is 5301 1
check "exec: after it execs bin-b/python3, the datagram is bin-b's: denied" \
	udp_count_is 5302 0

# ---- uid, outgoing and incoming ------------------------------------------
check "uid: curl as root reaches port 8080" curl_ok in_client curl
check "uid: curl as uid $NOBODY is refused on port 8080" \
	curl_refused in_client setpriv --reuid "$NOBODY" \
	--regid "$NOBODY" --clear-groups curl
check "uid in: the server run by root (8080) is reachable from the client" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "uid in: the server run by uid $NOBODY (8090) is refused" \
	refused "$NS_CLIENT" "http://$SERVER4:8090/"

# ---- unit ----------------------------------------------------------------
check "unit: curl in demo.slice/other.service is served" \
	curl_ok in_cgroup "$CG/demo.slice/other.service" \
	nsenter -t "$client_agent" -m -n -r -w curl
check "unit: curl in demo.slice/demo.service is refused" \
	curl_refused in_cgroup "$CG/demo.slice/demo.service" \
	nsenter -t "$client_agent" -m -n -r -w curl

# ---- what the decision log says ------------------------------------------
"$SLUICECTL" log --denied --limit 100 --log-db "$WORK/client-log.db" \
	>"$WORK/denied.txt" 2>&1
cat "$WORK/denied.txt" >&2
check "log: the refused bin-b/curl flow names its program" \
	grep -q "exe=$WORK/bin-b/curl" "$WORK/denied.txt"
check "log: the refused flow of uid $NOBODY names its uid" \
	grep -q "uid=$NOBODY" "$WORK/denied.txt"
check "log: the refused flow of demo.service names its unit" \
	grep -q "unit=demo.service" "$WORK/denied.txt"

AGENT_PID=$client_agent
check "SIGTERM stops the client's agent with status 0" agent_stop
for p in $_pids; do
	kill "$p" 2>/dev/null
done
wait 2>/dev/null
_pids=""
topo_down
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
