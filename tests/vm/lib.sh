# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Helpers for the VM test cases (tests/vm/cases/*.sh), sourced by each case
# inside the guest. Modelled on WireGuard's selftests netns.sh: network
# namespaces joined by veth pairs play the hosts, and every address used
# lives only inside namespaces created here, so no packet can leave them.
#
#  +-----------------+      +-----------------------------------+      +-----------------+
#  | $NS_CLIENT      |      | $NS_ROUTER   (forwards v4 + v6)   |      | $NS_SERVER      |
#  |                 |      |                                   |      |                 |
#  | veth0           |------| veth1             veth2           |------| veth3           |
#  | 10.91.1.2/24    |      | 10.91.1.1/24      10.91.2.1/24    |      | 10.91.2.2/24    |
#  | fd00:91:1::2/64 |      | fd00:91:1::1/64   fd00:91:2::1/64 |      | fd00:91:2::2/64 |
#  +-----------------+      +-----------------------------------+      +-----------------+
#
# A case is tests/vm/cases/NN-what-it-proves.sh: it sources this file,
# builds what it needs (topo_up, http_server_start, sluice_load, ...),
# says what it checks with check/tap_ok/tap_not_ok, and ends with
# tap_done. Everything it started is stopped and every namespace it made
# is deleted when it exits, however it exits.
#
# Output is TAP: check/tap_ok/tap_not_ok print "ok N - ..." lines on
# stdout; diagnostics go to stderr (saved by the runner next to the TAP
# file) or as "# ..." lines. run.sh renumbers the lines of all cases.

set -u

NS_CLIENT=sl-client
NS_ROUTER=sl-router
NS_SERVER=sl-server
CLIENT4=10.91.1.2
ROUTER4_C=10.91.1.1
ROUTER4_S=10.91.2.1
SERVER4=10.91.2.2
CLIENT6=fd00:91:1::2
ROUTER6_C=fd00:91:1::1
ROUTER6_S=fd00:91:2::1
SERVER6=fd00:91:2::2

# run.sh names the module built for the booted kernel (the debug kernel's
# lives in the results share).
SLUICE_KO=${SLUICE_VM_KO:-$REPO/kmod/sluice.ko}
# Modules sluice.ko uses (conntrack, NFQUEUE, ctnetlink, the socket
# lookup that finds who receives an inbound flow); insmod does not load
# dependencies.
SLUICE_DEPS="nf_conntrack nfnetlink nfnetlink_queue nf_conntrack_netlink
nf_socket_ipv4 nf_socket_ipv6"

WORK=$(mktemp -d /tmp/case.XXXXXX)
_tap_n=0
_tap_failed=0
_pids=""
_netns=""

tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
tap_not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}
diag() { echo "# $*"; }

# _step LABEL COMMAND...: the command, logged with the time on stderr,
# where its output goes too, so that a failure can be read afterwards.
_step() {
	read -r _up _ </proc/uptime
	echo "--- [$_up] $*" >&2
	shift
	"$@" >&2
}

# check DESCRIPTION COMMAND...: one TAP line for the command's success.
check() {
	_desc=$1
	shift
	if _step "$_desc:" "$@"; then
		tap_ok "$_desc"
	else
		tap_not_ok "$_desc"
	fi
}

# setup DESCRIPTION COMMAND...: a step the case needs, not a result of
# it (loading the module, starting the agent): a failure is a failed test,
# a success is only a comment, so that setup does not pad the count.
setup() {
	_desc=$1
	shift
	if _step "setup: $_desc:" "$@"; then
		diag "setup: $_desc"
	else
		tap_not_ok "setup failed: $_desc"
	fi
}

# tap_done: the end of a case (also an early end after a fatal failure).
# Exit status 0 says "the case ended where it meant to"; its failures are
# in the "not ok" lines. Any other ending (a crash, a timeout, an exit 1)
# is counted by run.sh as one more failure.
tap_done() {
	read -r _up _ </proc/uptime
	echo "--- [$_up] end, $_tap_failed failed" >&2
	exit 0
}

in_ns() {
	_ns=$1
	shift
	ip netns exec "$_ns" "$@"
}

# Every case cleans up after itself, even when it stops half-way: the
# runner goes on with the next case in the same kernel.
_cleanup() {
	for _p in $_pids; do
		kill "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	topo_down
	rm -rf "$WORK"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

# stop_bg: stop what bg started, and wait until it is gone (before the
# cgroups, namespaces or module it used go).
stop_bg() {
	for _p in $_pids; do
		kill "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	_pids=""
}

# in_cgroup DIR CMD...: CMD in the cgroup DIR (of a cgroup2 hierarchy the
# case mounted).
in_cgroup() {
	_d=$1
	shift
	# shellcheck disable=SC2016 # $1 of the inner shell
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' \
		- "$_d" "$@"
}

# bg COMMAND...: run in the background, killed at the end of the case.
bg() {
	"$@" &
	_pids="$_pids $!"
}

# Under software emulation every program started costs a few hundred ms,
# so the set-up uses "ip -n" (no "ip netns exec" + second exec) and one
# shell per namespace for its sysctls.
ns_add() {
	ip netns add "$1" || return 1
	_netns="$_netns $1"
	ip -n "$1" link set lo up
	# No duplicate address detection: addresses work at once instead of
	# after a second of "tentative". $2: also route between interfaces.
	# shellcheck disable=SC2016 # $1 of the inner shell
	in_ns "$1" sh -c '
		echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad
		echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
		[ "$1" != forward ] && exit
		echo 1 >/proc/sys/net/ipv4/ip_forward
		echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' - "${2:-}"
}

# veth_pair NS_A IF_A ADDR4_A ADDR6_A NS_B IF_B ADDR4_B ADDR6_B
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$6" netns "$5" ||
		return 1
	printf 'addr add %s/24 dev %s\naddr add %s/64 dev %s nodad\nlink set %s up\n' \
		"$3" "$2" "$4" "$2" "$2" | ip -n "$1" -batch - &&
	printf 'addr add %s/24 dev %s\naddr add %s/64 dev %s nodad\nlink set %s up\n' \
		"$7" "$6" "$8" "$6" "$6" | ip -n "$5" -batch -
}

# topo_up: build the three hosts of the diagram above.
topo_up() {
	# The kernel's own module autoload runs modprobe in PID 1's root, the
	# initramfs, which has none: load veth explicitly, every case may be
	# the first one.
	modprobe veth || return 1
	ns_add "$NS_CLIENT"
	ns_add "$NS_ROUTER" forward
	ns_add "$NS_SERVER"
	topo_wire "$NS_ROUTER"
}

# topo_wire ROUTER: the veth pairs and the routes of the diagram above
# between $NS_CLIENT, ROUTER and $NS_SERVER, namespaces made already (the
# lifecycle tier's router is the VM's own namespace).
topo_wire() {
	veth_pair "$NS_CLIENT" veth0 "$CLIENT4" "$CLIENT6" \
		  "$1" veth1 "$ROUTER4_C" "$ROUTER6_C"
	veth_pair "$1" veth2 "$ROUTER4_S" "$ROUTER6_S" \
		  "$NS_SERVER" veth3 "$SERVER4" "$SERVER6"
	printf 'route add default via %s\nroute add default via %s\n' \
		"$ROUTER4_C" "$ROUTER6_C" | ip -n "$NS_CLIENT" -batch -
	printf 'route add default via %s\nroute add default via %s\n' \
		"$ROUTER4_S" "$ROUTER6_S" | ip -n "$NS_SERVER" -batch -
}

# topo_down: delete every namespace that ns_add made.
topo_down() {
	for _ns in $_netns; do
		ip netns delete "$_ns" 2>/dev/null
	done
	_netns=""
}

# wait_listen NS PORT [N]: until N TCP sockets (default 1) listen on PORT
# (at most ~15 s). Servers started side by side on several addresses of
# one port are waited for all: one listening says nothing of the others.
wait_listen() {
	_i=0
	while [ $_i -lt 60 ]; do
		[ "$(ss -N "$1" -Hltn "sport = :$2" | grep -c .)" -ge "${3:-1}" ] &&
			return 0
		sleep 0.25
		_i=$((_i + 1))
	done
	echo "fewer than ${3:-1} sockets listen on port $2 in $1" >&2
	return 1
}

# http_server_start NS PORT: an HTTP server on [::]:PORT (IPv4 too)
# serving $WORK/www, which holds index.html. busybox httpd rather than
# python's http.server: it starts in milliseconds instead of seconds under
# emulation, and forks a process per connection.
http_server_start() {
	mkdir -p "$WORK/www"
	echo "sluice vm test" >"$WORK/www/index.html"
	bg in_ns "$1" busybox httpd -f -p "$2" -h "$WORK/www" \
		>"$WORK/http-$2.log" 2>&1
	wait_listen "$1" "$2"
}

# sluice_load [PARAM=VALUE...]: insmod the freshly built module. Without
# a watchdog_ms among the parameters, with watchdog_ms=5000: on a busy
# host the emulated guest leaves the agent off its CPUs for longer than
# the default 250 ms now and then (the kernel log shows "enforcing ->
# hung -> enforcing" within tens of ms), and a new flow met in that
# window fails open unjudged, so a check that counts verdicts (a refused
# port, "queued exactly once") would fail on the emulator's account. A
# case that tests the watchdog or its default names its own.
sluice_load() {
	for _m in $SLUICE_DEPS; do
		modprobe "$_m" || return 1
	done
	case " $* " in
	*" watchdog_ms="*) insmod "$SLUICE_KO" "$@" ;;
	*) insmod "$SLUICE_KO" watchdog_ms=5000 "$@" ;;
	esac
}

sluice_unload() {
	rmmod sluice
}

sluice_loaded() {
	[ -d /sys/module/sluice ]
}

# sluice_stat NS KEY: one value of NS's /proc/net/sluice ("" if absent).
sluice_stat() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	in_ns "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/sluice 2>/dev/null
}

# dmesg_mark / dmesg_clean: is the kernel log free of trouble since the
# mark? (The host checks the whole log again after the run, with the same
# pattern: kernel_trouble of tests/vm/trouble.sh.)
# shellcheck disable=SC1091
. "$REPO/tests/vm/trouble.sh"
dmesg_mark() {
	_dmesg_mark=$(dmesg | wc -l)
}
dmesg_clean() {
	if dmesg | tail -n +"$((_dmesg_mark + 1))" | kernel_trouble >&2; then
		return 1
	fi
	return 0
}

# flows_start NS TARGET...: tests/vm/flows.py in NS, one new flow per
# request (HOST:PORT: an HTTP request over TCP; dns:HOST: a DNS question
# over UDP), until flows_stop. flows_ok / flows_failed / flows_retrans read
# its running counts; failures are described in $WORK/flows.err.
# load_start NAME NS TARGET...: the same, a second load beside it, whose
# counts load_count NAME FIELD reads (1 ok, 2 failed, 3 lost a packet),
# described in $WORK/NAME.err, until load_stop NAME.
load_start() {
	_name=$1
	_ns=$2
	shift 2
	rm -f "$WORK/$_name.stop"
	echo "0 0 0" >"$WORK/$_name.counts"
	bg in_ns "$_ns" python3 "$REPO/tests/vm/flows.py" "$WORK/$_name.stop" \
		"$WORK/$_name.counts" "$@" 2>"$WORK/$_name.err"
	eval "_load_pid_$_name=\$!"
}
load_stop() {
	touch "$WORK/$1.stop"
	eval "wait \"\$_load_pid_$1\""
}
load_count() {
	read -r _c1 _c2 _c3 <"$WORK/$1.counts"
	eval "echo \$_c$2"
}
flows_start() { load_start flows "$@"; }
flows_stop() { load_stop flows; }
flows_ok() { load_count flows 1; }
flows_failed() { load_count flows 2; }
# Connections made only after TCP sent something again: a lost packet.
flows_retrans() { load_count flows 3; }
# flows_lossless: no connection failed and none lost a packet; the flows'
# stderr (what was lost, when) goes to the log when one did.
flows_lossless() {
	[ "$(flows_failed)" -eq 0 ] && [ "$(flows_retrans)" -eq 0 ] && return 0
	cat "$WORK/flows.err" >&2
	return 1
}

# flows_wait_more N: until N more requests succeeded than now (at most
# 30 s); false if traffic does not get through.
flows_wait_more() {
	_goal=$(($(flows_ok) + $1))
	_i=0
	while [ "$(flows_ok)" -lt "$_goal" ]; do
		[ $_i -ge 300 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# netfilter_keys_on: a base chain at every hook sluice uses, and conntrack,
# in the VM's own namespace for the rest of the boot. The kernel switches
# a hook point's static key (live code patching) whenever its first hook
# comes or its last one goes; the stress loops that remove and insert
# sluice.ko dozens of times would otherwise patch kernel text at every
# cycle, and under qemu's software emulation a CPU was once seen spinning
# forever on a just-patched instruction (soft lockup in ip6_xmit) with no
# sluice code on the stack. A real machine with any firewall keeps these
# keys on too; what the loops test is sluice's own register and unregister.
# The debug kernel's run (SLUICE_VM_UNPINNED_HOOKS=1) pins nothing: there
# the last hook really goes at every rmmod, keys and all.
netfilter_keys_on() {
	if [ -n "${SLUICE_VM_UNPINNED_HOOKS:-}" ]; then
		echo "hook points left unpinned: rmmod removes the last hook" >&2
		return 0
	fi
	modprobe -a nf_tables nft_ct 2>/dev/null
	nft list table inet sluice_vm_keys >/dev/null 2>&1 && return 0
	nft -f - <<'NFT'
table inet sluice_vm_keys {
	chain keep_in { type filter hook input priority 100; ct state new counter; }
	chain keep_out { type filter hook output priority 100; ct state new counter; }
	chain keep_fwd { type filter hook forward priority 100; ct state new counter; }
}
NFT
}

# nfq_lost NS: packets NS's NFQUEUE queues lost so far (queue_dropped +
# user_dropped of /proc/net/netfilter/nfnetlink_queue, all queues).
nfq_lost() {
	# shellcheck disable=SC2016 # awk's own fields
	in_ns "$1" awk '{ n += $6 + $7 } END { print n + 0 }' \
		/proc/net/netfilter/nfnetlink_queue 2>/dev/null
}

# nstat_abs NS COUNTER: NS's absolute value of a SNMP counter (nstat's
# name, e.g. TcpRetransSegs), without touching nstat's history.
nstat_abs() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	in_ns "$1" nstat -asz "$2" | awk -v k="$2" '$1 == k { n = $2 } END { print n + 0 }'
}

# udp_sink_start NS PORT...: counts the datagrams that reach each PORT
# (IPv4 and IPv6) in NS; udp_count PORT reads the count so far.
# One sink per case: udp_count asks it (the file udp.sync) to drain every
# socket and write its counts before it reads, so that a datagram that
# reached a socket before the question is counted however late the sink
# runs (a count read as the sink last wrote it lagged by whatever it had
# not yet read, and a "nothing more arrives" check could see that arrive).
udp_sink_start() {
	_ns=$1
	shift
	rm -f "$WORK/udp.sync"
	bg in_ns "$_ns" python3 -c '
import os, select, socket, sys
work, ports = sys.argv[1], sys.argv[2:]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind(("::", int(p)))
    s.setblocking(False)
    socks[s] = p
counts = dict.fromkeys(ports, 0)
def save():
    for p, n in counts.items():
        with open("%s/udp.%s.tmp" % (work, p), "w") as f:
            f.write("%d\n" % n)
        os.rename("%s/udp.%s.tmp" % (work, p), "%s/udp.%s" % (work, p))
sync = "%s/udp.sync" % work
save()
while True:
    ready, _, _ = select.select(list(socks), [], [], 0.05)
    asked = os.path.exists(sync)
    if asked:
        ready = list(socks)
    for s in ready:
        while True:
            try:
                s.recv(4096)
            except BlockingIOError:
                break
            counts[socks[s]] += 1
    if ready:
        save()
    if asked:
        os.unlink(sync)' "$WORK" "$@"
	for _p in "$@"; do
		_i=0
		while [ ! -e "$WORK/udp.$_p" ]; do
			[ $_i -ge 100 ] && return 1
			sleep 0.1
			_i=$((_i + 1))
		done
	done
}
udp_count() {
	: >"$WORK/udp.sync"
	_i=0
	while [ -e "$WORK/udp.sync" ]; do
		if [ $_i -ge 200 ]; then
			echo "udp_count: the sink did not drain its sockets in 10 s" >&2
			break
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	cat "$WORK/udp.$1"
}
# udp_count_is PORT N: exactly N datagrams reached PORT so far.
udp_count_is() { [ "$(udp_count "$1")" -eq "$2" ]; }

# spray_start NS PORT...: new UDP flows (a new socket each) to 127.0.0.1
# at each PORT in NS, about 200 a second each, until spray_stop. Each from
# a source port never used before in the run: a random port could meet a
# flow allowed earlier, whose packets rightly pass.
spray_start() {
	_ns=$1
	shift
	rm -f "$WORK/spray.stop" "$WORK/spray.started"
	bg in_ns "$_ns" python3 -c '
import os, socket, sys, time
stop, started, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
sport = 20000
while not os.path.exists(stop) and sport < 65000:
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sport += 1
        try:
            s.bind(("127.0.0.1", sport))
            s.sendto(b"spray", ("127.0.0.1", port))
        except OSError:
            pass
        s.close()
    if not os.path.exists(started):
        open(started, "w").close()
    time.sleep(0.005)' "$WORK/spray.stop" "$WORK/spray.started" "$@"
	_spray_pid=$!
	# python takes seconds to start under emulation on a loaded host
	_i=0
	while [ ! -e "$WORK/spray.started" ]; do
		[ "$_i" -ge 300 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
spray_stop() {
	touch "$WORK/spray.stop"
	wait "$_spray_pid"
}
# count_grows PORT SECONDS, count_stays PORT SECONDS: datagrams keep
# reaching PORT's sink over SECONDS, or not one more does.
_count_over() {
	_a=$(udp_count "$1")
	sleep "$2"
	_b=$(udp_count "$1")
	echo "port $1: $_a -> $_b in $2 s" >&2
}
count_grows() { _count_over "$@" && [ "$_b" -gt "$_a" ]; }
count_stays() { _count_over "$@" && [ "$_b" -eq "$_a" ]; }

# udp_flood NS ADDR PORT COUNT [SPORT]: COUNT datagrams from ONE socket
# (one flow): the first alone, the rest as fast as they go once its
# verdict is back: NS's queues handed out a packet id since and hold
# nothing (at most 10 s). A fixed pause instead (0.3 s) was once shorter
# than the agent's answer in an emulated guest on a busy host, and every
# datagram of the flood was queued as a first packet.
# Prints "sent N refused N" (refused: the kernel said EPERM at once).
udp_flood() {
	in_ns "$1" python3 -c '
import socket, sys, time
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def queues():
    """(packet ids handed out, packets waiting) over all queues."""
    ids = waiting = 0
    try:
        with open("/proc/net/netfilter/nfnetlink_queue") as f:
            for line in f:
                w = line.split()
                waiting += int(w[2])
                ids += int(w[7])
    except OSError:
        pass
    return ids, waiting
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if len(sys.argv) > 4:
    s.bind(("", int(sys.argv[4])))
sent = refused = 0
ids0 = queues()[0]
for i in range(count):
    try:
        s.sendto(b"flood %d" % i, (addr, port))
        sent += 1
    except OSError:
        refused += 1
    if i == 0:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            ids, waiting = queues()
            if ids > ids0 and waiting == 0:
                break
            time.sleep(0.005)
print("sent %d refused %d" % (sent, refused))' "$2" "$3" "$4" ${5:+"$5"}
}

# between VALUE LO HI: LO <= VALUE <= HI (for counted checks).
between() {
	echo "$1 in [$2, $3]?" >&2
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# talk_serve NS PORT...: tests/vm/talk.py's echo server on [::]:PORT (and
# IPv4) in NS for every PORT; accepts PORT reads how many connections
# reached it so far.
talk_serve() {
	_ns=$1
	shift
	rm -f "$WORK/serve.ready"
	bg in_ns "$_ns" python3 "$REPO/tests/vm/talk.py" serve "$WORK" "$@" \
		2>>"$WORK/serve.err"
	_i=0
	while [ ! -e "$WORK/serve.ready" ]; do
		[ $_i -ge 300 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
accepts() { cat "$WORK/accepts.$1"; }

# new_flow NS HOST PORT: a new TCP connection from NS to the echo server
# gets its line back within 2 s; no_new_flow NS HOST PORT: it does not.
new_flow() {
	in_ns "$1" python3 "$REPO/tests/vm/talk.py" once "$2" "$3" 2
}
no_new_flow() { ! new_flow "$@"; }

# talk_start NAME NS HOST PORT: a conversation (talk.py talk) from NS to
# the echo server, a message every 100 ms on one connection, until
# talk_stop NAME; waits until the first echo came back (or the
# connection failed; at most 30 s). Its counts: talk_sent, talk_echoed, talk_late,
# talk_retrans, talk_state NAME; its local port: talk_sport NAME.
talk_start() {
	rm -f "$WORK/talk.$1.stop"
	echo "0 0 0 0 up" >"$WORK/talk.$1"
	bg in_ns "$2" python3 "$REPO/tests/vm/talk.py" talk \
		"$WORK/talk.$1.stop" "$WORK/talk.$1" "$3" "$4" \
		2>"$WORK/talk.$1.err"
	echo $! >"$WORK/talk.$1.pid"
	_end=$(($(date +%s) + 30))
	while [ "$(talk_echoed "$1")" -eq 0 ]; do
		[ "$(talk_state "$1")" = up ] && [ "$(date +%s)" -lt "$_end" ] ||
			return 1
		sleep 0.1
	done
}
talk_stop() {
	touch "$WORK/talk.$1.stop"
	wait "$(cat "$WORK/talk.$1.pid")"
}
_talk_field() {
	# shellcheck disable=SC2016 # awk's own $N
	awk -v n="$2" '{ print $n }' "$WORK/talk.$1"
}
talk_sent() { _talk_field "$1" 1; }
talk_echoed() { _talk_field "$1" 2; }
talk_late() { _talk_field "$1" 3; }
talk_retrans() { _talk_field "$1" 4; }
talk_state() { _talk_field "$1" 5; }
talk_sport() { _talk_field "$1" 6; }

# talk_grows NAME SECONDS N: at least N more echoes within SECONDS.
talk_grows() {
	_a=$(talk_echoed "$1")
	sleep "$2"
	_b=$(talk_echoed "$1")
	echo "talk $1: echoes $_a -> $_b in $2 s, at least $3 more wanted" >&2
	[ "$_b" -ge $((_a + $3)) ]
}
# talk_stays NAME SECONDS: not one echo within SECONDS.
talk_stays() {
	_a=$(talk_echoed "$1")
	sleep "$2"
	_b=$(talk_echoed "$1")
	echo "talk $1: echoes $_a -> $_b in $2 s" >&2
	[ "$_b" -eq "$_a" ]
}
# talk_whole NAME: after talk_stop, every message was echoed and the
# connection is still up; at most 3 echoes late (over a second) and at
# most 5 packets sent again. Not 0: the emulated guest on a busy host
# stalls now and then (measured: an echo 1.42 s late before any outage,
# 3 retransmits in a run); a connection cut for the outages' few seconds
# has every message of them late, 20 and more, and retransmits each time.
talk_whole() {
	echo "talk $1: $(cat "$WORK/talk.$1") (sent echoed late retrans state)" >&2
	[ "$(talk_sent "$1")" -gt 0 ] &&
		[ "$(talk_echoed "$1")" -eq "$(talk_sent "$1")" ] &&
		[ "$(talk_late "$1")" -le 3 ] &&
		[ "$(talk_retrans "$1")" -le 5 ] &&
		[ "$(talk_state "$1")" = up ] && return 0
	cat "$WORK/talk.$1.err" >&2
	return 1
}

# seen NS COMMENT [TABLE [FAMILY]]: packets that NS's nft rule COMMENT (in
# table FAMILY TABLE, by default ip6 seen) counted.
seen() {
	in_ns "$1" nft list table "${4:-ip6}" "${3:-seen}" 2>/dev/null | awk -v c="\"$2\"" '
		$NF == c { for (i = 1; i < NF; i++) if ($i == "packets") n = $(i + 1) }
		END { print n + 0 }'
}

# ct_verdict NS SPORT: sluice's verdict in the conntrack mark of NS's TCP
# flow from local port SPORT (default mark_mask): unset, allow, deny,
# unvetted, or "none" when NS has no such flow.
ct_verdict() {
	_m=$(in_ns "$1" conntrack -L -p tcp --sport "$2" 2>/dev/null |
		sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -n 1)
	case "$_m" in
	'') echo none ;;
	*) case $(((_m >> 30) & 3)) in
		0) echo unset ;;
		1) echo allow ;;
		2) echo deny ;;
		3) echo unvetted ;;
		esac ;;
	esac
}
# ct_verdict_is NS SPORT VERDICT
ct_verdict_is() {
	_v=$(ct_verdict "$1" "$2")
	echo "flow from port $2 in $1: $_v, $3 wanted" >&2
	[ "$_v" = "$3" ]
}
