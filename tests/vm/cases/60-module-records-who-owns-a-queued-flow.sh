#!/bin/sh
# The module records who a queued flow belongs to, and SLUICE_CMD_GET_FLOW
# tells it by conntrack id, in each namespace for its own flows. Agents
# that allow everything (with a rule on uid, so that they want identities)
# run in the client, the router and the server, so that every new flow is
# queued wherever it passes:
#   - an outgoing curl run as uid 65534 in the cgroup sl-demo shows uid and
#     gid 65534, that cgroup's id (the inode of its directory), its own
#     pid, start time, comm and executable (device and inode);
#   - a datagram sent by python3 as uid 65534 shows its uid, pid, comm
#     and executable (the file its symlink names);
#   - an incoming connection (IPv4 and IPv6) to a server run by uid 65534
#     in the cgroup sl-server shows the listener's uid, gid and cgroup,
#     flagged inbound, and no task;
#   - the same outgoing flow, forwarded and queued by the router, has no
#     identity there (no local socket), nor in any other namespace;
#   - the control: an id the module never saw is unknown.
# build/getflow asks through agent/control.c, as the agent does.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

GETFLOW=$REPO/build/getflow
CG=$WORK/cgroup
NOBODY=65534

# The cgroups go once their processes are gone, the hierarchy with them.
# shellcheck disable=SC2317 # run by the trap
_case_cleanup() {
	for _p in $_pids; do
		kill "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	rmdir "$CG/sl-demo" "$CG/sl-server" 2>/dev/null
	umount "$CG" 2>/dev/null
	_cleanup
}
trap _case_cleanup EXIT

# ct_id NS FAMILY PORT [PROTO]: the conntrack id of NS's flow to PORT.
ct_id() {
	in_ns "$1" conntrack -L -f "$2" -p "${4:-tcp}" --dport "$3" -o id \
		2>/dev/null | sed -n 's/.* id=\([0-9][0-9]*\).*/\1/p' |
		tail -n 1
}

# getflow NS ID NAME: build/getflow's answer in $WORK/NAME, its status in
# $WORK/NAME.rc (0 found, 3 unknown).
getflow() {
	_rc=0
	in_ns "$1" "$GETFLOW" "$2" >"$WORK/$3" 2>"$WORK/$3.err" || _rc=$?
	echo "$_rc" >"$WORK/$3.rc"
	echo "getflow in $1 for $2 ($3): exit $_rc" >&2
	cat "$WORK/$3" "$WORK/$3.err" >&2
}

# field NAME KEY: one value of a getflow answer ("" when absent).
field() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1"
}

# field_is NAME KEY WANT
field_is() {
	_v=$(field "$1" "$2")
	echo "$1: $2 '$_v' (want '$3')" >&2
	[ -n "$_v" ] && [ "$_v" = "$3" ]
}

field_absent() {
	_v=$(field "$1" "$2")
	echo "$1: $2 '$_v' (want none)" >&2
	[ -z "$_v" ]
}

status_is() {
	_v=$(cat "$WORK/$1.rc")
	echo "$1: exit $_v (want $2)" >&2
	[ "$_v" = "$2" ]
}

# exe_dev PATH: the device of PATH as "major:minor".
exe_dev() {
	python3 -c 'import os, sys
st = os.stat(sys.argv[1])
print("%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev)))' "$1"
}

topo_up
dmesg_mark
check "build/getflow exists (make vm builds it)" test -x "$GETFLOW"
setup "sluice.ko loads" sluice_load
mkdir -p "$CG"
check "a cgroup2 hierarchy is mounted in the guest" \
	mount -t cgroup2 none "$CG"
mkdir -p "$CG/sl-demo" "$CG/sl-server"
# The servers run as nobody: let them read what they serve.
chmod 0755 "$WORK"

# A rule on uid (allowing what the default allows anyway) makes each
# agent want identities: without one the module records nothing (62).
for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_SERVER"; do
	policy_init "$WORK/$ns.db" "
INSERT INTO rules(action, uid, comment) VALUES ('allow', 0, 'identity wanted');"
	check "sluiced allows everything in $ns" agent_start "$ns" "$WORK/$ns.db"
	check "$ns: the module is told to record identities" \
		[ "$(sluice_stat "$ns" identity_wanted)" = yes ]
done

# ---- inbound: a server run by nobody in sl-server ----------------------
mkdir -p "$WORK/www"
chmod 0755 "$WORK/www"
echo "sluice vm test" >"$WORK/www/index.html"
chmod 0644 "$WORK/www/index.html"
# shellcheck disable=SC2016 # $1.. of the inner shell
bg sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" \
	setpriv --reuid "$3" --regid "$3" --clear-groups \
	busybox httpd -f -p 8080 -h "$4"' - \
	"$CG/sl-server" "$NS_SERVER" "$NOBODY" "$WORK/www"
check "a server run by uid $NOBODY listens in the server namespace" \
	wait_listen "$NS_SERVER" 8080
check "client -> server over IPv4 (queued on the server's LOCAL_IN)" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "client -> server over IPv6" \
	connects "$NS_CLIENT" "http://[$SERVER6]:8080/"

in4=$(ct_id "$NS_SERVER" ipv4 8080)
in6=$(ct_id "$NS_SERVER" ipv6 8080)
check "the server namespace has conntrack ids of both flows ($in4, $in6)" \
	test -n "$in4" -a -n "$in6"
srv_cg=$(stat -c %i "$CG/sl-server")
getflow "$NS_SERVER" "${in4:-0}" in4
check "GET_FLOW knows the incoming IPv4 flow" status_is in4 0
check "incoming IPv4: uid of the listener, $NOBODY" field_is in4 uid "$NOBODY"
check "incoming IPv4: gid of the listener's opener, $NOBODY" \
	field_is in4 gid "$NOBODY"
check "incoming IPv4: cgroup of the listener, sl-server ($srv_cg)" \
	field_is in4 cgroup "$srv_cg"
check "incoming IPv4: flagged inbound" field_is in4 inbound 1
check "incoming IPv4: no task (a softirq receives it)" field_absent in4 tgid
getflow "$NS_SERVER" "${in6:-0}" in6
check "incoming IPv6: uid $NOBODY, inbound" \
	sh -c "[ '$(field in6 uid)' = $NOBODY ] && [ '$(field in6 inbound)' = 1 ]"

# ---- outbound: curl run by nobody in sl-demo, held open ----------------
# A listener that never accepts nor answers: the handshake completes in
# the kernel, and curl waits for its answer while it is looked at.
bg in_ns "$NS_SERVER" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8081))
s.listen(8)
time.sleep(120)'
check "a silent listener on port 8081 in the server namespace" \
	wait_listen "$NS_SERVER" 8081
curl_bin=$(command -v curl)
# shellcheck disable=SC2016 # $1.. of the inner shell
bg sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" \
	setpriv --reuid "$3" --regid "$3" --clear-groups \
	"$4" -s --max-time 100 -o /dev/null "http://$5:8081/"' - \
	"$CG/sl-demo" "$NS_CLIENT" "$NOBODY" "$curl_bin" "$SERVER4"
curl_pid=$!
established() {
	in_ns "$NS_CLIENT" conntrack -L -p tcp --dport 8081 2>/dev/null |
		grep -q ESTABLISHED
}
check "curl as uid $NOBODY connects to the silent listener" \
	eventually 150 established
out=$(ct_id "$NS_CLIENT" ipv4 8081)
check "the client namespace has the flow's conntrack id ($out)" test -n "$out"
getflow "$NS_CLIENT" "${out:-0}" out
check "GET_FLOW knows the outgoing flow" status_is out 0
check "outgoing: uid $NOBODY" field_is out uid "$NOBODY"
check "outgoing: gid $NOBODY" field_is out gid "$NOBODY"
check "outgoing: the sender's pid is curl's ($curl_pid)" \
	field_is out tgid "$curl_pid"
check "outgoing: comm curl" field_is out comm curl
check "outgoing: its executable's inode is $curl_bin's" \
	field_is out exe_ino "$(stat -L -c %i "$curl_bin")"
check "outgoing: its executable's device is $curl_bin's" \
	field_is out exe_dev "$(exe_dev "$curl_bin")"
start=$(awk '{ print $22 }' "/proc/$curl_pid/stat" 2>/dev/null)
check "outgoing: start time is field 22 of /proc/$curl_pid/stat ($start)" \
	field_is out start "$start"
check "outgoing: cgroup sl-demo ($(stat -c %i "$CG/sl-demo"))" \
	field_is out cgroup "$(stat -c %i "$CG/sl-demo")"
check "outgoing: not flagged inbound" field_absent out inbound
check "curl is still waiting (the pid above was not reused)" \
	kill -0 "$curl_pid"

# ---- outbound UDP: a datagram sent (sendmsg) by python3 as nobody -----
py_bin=$(command -v python3)
# shellcheck disable=SC2016 # $1.. of the inner shell
bg sh -c 'exec ip netns exec "$1" setpriv --reuid "$2" --regid "$2" \
	--clear-groups "$3" -c "import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b\"who am i\", (sys.argv[1], 5353))
time.sleep(100)" "$4"' - "$NS_CLIENT" "$NOBODY" "$py_bin" "$SERVER4"
py_pid=$!
udp_flow() { [ -n "$(ct_id "$NS_CLIENT" ipv4 5353 udp)" ]; }
check "python3 as uid $NOBODY sends a datagram" eventually 150 udp_flow
getflow "$NS_CLIENT" "$(ct_id "$NS_CLIENT" ipv4 5353 udp)" udp
check "outgoing UDP: uid $NOBODY, the sender's pid ($py_pid), comm python3" \
	sh -c "[ '$(field udp uid)' = $NOBODY ] &&
		[ '$(field udp tgid)' = $py_pid ] &&
		[ '$(field udp comm)' = python3 ]"
check "outgoing UDP: the executable is what $py_bin resolves to" \
	field_is udp exe_ino "$(stat -L -c %i "$py_bin")"

# ---- forwarded, other namespaces, and the control ----------------------
fwd=$(ct_id "$NS_ROUTER" ipv4 8081)
check "the router has the forwarded flow's conntrack id ($fwd)" test -n "$fwd"
check "the router's agent was handed flows (queued $(sluice_stat "$NS_ROUTER" queued))" \
	[ "$(sluice_stat "$NS_ROUTER" queued)" -gt 0 ]
getflow "$NS_ROUTER" "${fwd:-0}" fwd
check "a forwarded flow has no identity (ENOENT)" status_is fwd 3
check "the router recorded no identity at all" \
	[ "$(sluice_stat "$NS_ROUTER" identity_table)" -eq 0 ]
getflow "$NS_SERVER" "${out:-0}" out_elsewhere
check "the client's flow is unknown in the server namespace" \
	status_is out_elsewhere 3
check "the client namespace counts its identities (identity_recorded $(sluice_stat "$NS_CLIENT" identity_recorded))" \
	[ "$(sluice_stat "$NS_CLIENT" identity_recorded)" -ge 1 ]
unknown=$(( (${out:-0} + 1) % 4294967296 ))
getflow "$NS_CLIENT" "$unknown" unknown
check "control: an id the module never saw is unknown (ENOENT)" \
	status_is unknown 3

# Clients, servers and agents go before their namespaces and the module.
for p in $_pids; do
	kill "$p" 2>/dev/null
done
wait 2>/dev/null
_pids=""
topo_down
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
