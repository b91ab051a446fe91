#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The lifecycle test, run by systemd (PID 1) inside the VM as the unit
# sluice-lifecycle.service. It uses sluice the way a user does: dpkg -i,
# systemctl, sqlite3, kill, and keeps connections coming all along.
#
# Hosts are network namespaces; the VM's own namespace, where systemd runs
# sluiced, is the router between them (the VM has no network card, so no
# packet can leave it):
#
#  +-----------------+      +-----------------------------------+      +-----------------+
#  | sl-client       |      | the VM's namespace: sluiced here  |      | sl-server       |
#  | veth0           |------| veth1             veth2           |------| veth3           |
#  | 10.91.1.2/24    |      | 10.91.1.1/24      10.91.2.1/24    |      | 10.91.2.2/24    |
#  | fd00:91:1::2/64 |      | fd00:91:1::1/64   fd00:91:2::1/64 |      | fd00:91:2::2/64 |
#  +-----------------+      +-----------------------------------+      +-----------------+
#
# Port 8080 is allowed, 8081 denied by a rule added with sqlite3.
# Output: TAP in /mnt/lifecycle/results/lifecycle.tap; "done" is written
# last, so the host trusts nothing from a guest that died half-way.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 HOME=/root
P=/mnt/lifecycle
RES=$P/results
# shellcheck disable=SC1091
. "$P/env"
# TAP on stdout, what each step did on stderr, as in the VM tier's cases;
# the console (fd 4) hears only where the run is.
exec 4>&1 >"$RES/lifecycle.tap" 2>"$RES/lifecycle.err"
DB=/var/lib/sluice/policy.db

# The VM tier's helpers (check, setup, in_ns, ns_add, http_server_start,
# the flows load, counters, dmesg_mark / dmesg_clean), copied with
# flows.py and trouble.sh by run.sh into the payload, which stands for
# the repository here.
REPO=$P
# shellcheck source=tests/vm/lib.sh
. "$P/tests/vm/lib.sh"

# require DESCRIPTION COMMAND...: a check the rest depends on; when it
# fails, what systemd knows is logged and the run ends here.
require() {
	_failed_before=$_tap_failed
	check "$@"
	[ "$_tap_failed" -eq "$_failed_before" ] && return 0
	systemctl status --no-pager sluiced.service >&2
	journalctl -u sluiced.service --no-pager -o short-monotonic >&2
	finish
}
eventually() {
	_n=$1
	shift
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	"$@"
}
# sluiced runs in the VM's own namespace, where systemd is: named sl-host
# here, for the helpers that read a namespace's counters.
NS_HOST=sl-host
mode() { sluice_stat "$NS_HOST" mode; }
mode_is() { [ "$(mode)" = "$1" ] || { echo "mode is '$(mode)', not '$1'" >&2; return 1; }; }
mode_is_not() { [ "$(mode)" != "$1" ]; }
connects() { in_ns sl-client curl -sf --max-time 3 -o /dev/null "http://$1/"; }
refused() { ! in_ns sl-client curl -sf --max-time 2 -o /dev/null "http://$1/"; }
main_pid() { systemctl show -p MainPID --value sluiced.service; }
prop() { systemctl show -p "$1" --value sluiced.service; }
# TCP segments retransmitted by the test hosts; SYNs the client sent
# again: the first packet of a flow is the one the module queues, so a
# queued packet that was lost shows there.
retrans_all() {
	echo $(($(nstat_abs sl-client TcpRetransSegs) + $(nstat_abs sl-server TcpRetransSegs)))
}
syn_retrans() { nstat_abs sl-client TcpExtTCPSynRetrans; }

# The loop may be paused (flows_stop, flows_start): the counts go on from
# where they were, so that "the whole run" means the whole run.
flows_base_ok=0
flows_base_failed=0
flows_on=""
flows_start() {
	if [ -e "$WORK/flows.counts" ]; then
		flows_base_ok=$((flows_base_ok + $(load_count flows 1)))
		flows_base_failed=$((flows_base_failed + $(load_count flows 2)))
	fi
	load_start flows sl-client "$@"
	flows_on=1
}
flows_stop() {
	[ -n "$flows_on" ] && load_stop flows
	flows_on=""
}
flows_ok() { echo $(($(load_count flows 1) + flows_base_ok)); }
flows_failed() { echo $(($(load_count flows 2) + flows_base_failed)); }
no_failures() {
	[ "$(flows_failed)" -eq 0 ] || { cat "$WORK/flows.err" >&2; return 1; }
}
# The whole log since the test began (dmesg_mark / dmesg_clean: since a
# mark); the boot before it, the host reads.
kernel_log_clean() { ! dmesg | tail -n +"$((boot_lines + 1))" | kernel_trouble >&2; }
# Packets nfnetlink_queue dropped (nfq_lost) in the VM's namespace: a
# queue's counters live as long as the socket bound to it: compare them
# only across a span where the socket stays the same (a handover keeps
# it; a drain and a crash do not).
nfq_sockets() { awk '{ print $1 ":" $2 }' /proc/net/netfilter/nfnetlink_queue | tr '\n' ' '; }
# Everything that shows loss, into variables whose names end with $1:
# failed_closed (fc), failed_open (fo), transitions (tr), queue drops (q),
# the queues' sockets (qs), the client's SYNs sent again (s).
loss_snapshot() {
	eval "fc$1=$(sluice_stat "$NS_HOST" failed_closed) fo$1=$(sluice_stat "$NS_HOST" failed_open)"
	eval "tr$1=$(sluice_stat "$NS_HOST" transitions) q$1=$(nfq_lost "$NS_HOST") s$1=$(syn_retrans)"
	eval "qs$1='$(nfq_sockets)'"
}
# handover_gaps EPOCH: for each handover logged since EPOCH, the seconds
# from "handing the queues over" to the next agent's registration.
handover_gaps() {
	journalctl -u sluiced.service -o short-monotonic --no-pager --since "@$1" |
	awk '{ t = substr($0, 2) + 0 }
	     /handing the queues over/ { h = t }
	     /registered with the sluice module/ && h { printf "%.3f\n", t - h; h = 0 }'
}
# restart_ten_times [OTHER]: ten times under traffic, the agent's binary
# replaced (by the file OTHER the fifth time) and the service restarted;
# restarts_ok=1 when each restart came back to enforcing with traffic.
restart_ten_times() {
	restarts_ok=1
	_r=1
	while [ $_r -le 10 ]; do
		_bin=/usr/sbin/sluiced
		[ $_r -eq 5 ] && [ -n "${1:-}" ] && _bin=$1
		cp "$_bin" /usr/sbin/sluiced.new &&
			mv -f /usr/sbin/sluiced.new /usr/sbin/sluiced || restarts_ok=0
		systemctl restart sluiced.service || restarts_ok=0
		eventually 50 mode_is enforcing || restarts_ok=0
		flows_wait_more 2 || restarts_ok=0
		_r=$((_r + 1))
	done
}
# build_id_loaded / build_id_file: which sluice.ko is in the kernel.
build_id_loaded() {
	od -An -tx1 -v -j16 /sys/module/sluice/notes/.note.gnu.build-id | tr -d ' \n'
}
loaded_is_file() {
	od -An -tx1 -v "$1" | tr -d ' \n' | grep -q "$(build_id_loaded)"
}

finish() {
	flows_stop
	diag "journal of sluiced:"
	journalctl -u sluiced.service --no-pager -o short-monotonic 2>&1 |
		tail -n 60 | sed 's/^/#   /'
	echo "lifecycle-guest: $_tap_n checks, $_tap_failed failed" >&4
	dmesg >"$RES/dmesg"
	echo done >"$RES/done"
	sync
	exit 0
}

echo "lifecycle-guest: systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), kernel $(uname -r)" >&4
dmesg -n 7
boot_lines=$(dmesg | wc -l)

# --- topology ----------------------------------------------------------------
# lib.sh's hosts, with the VM's own namespace (named $NS_HOST) as the
# router: sluiced and systemd are there.
modprobe veth
ip netns attach "$NS_HOST" 1
ns_add "$NS_CLIENT"
ns_add "$NS_SERVER"
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
	net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
topo_wire "$NS_HOST"
for port in 8080 8081; do
	setup "HTTP server on port $port" http_server_start "$NS_SERVER" $port
done
check "test hosts reach each other without sluice" eventually 50 connects 10.91.2.2:8080

# --- install -----------------------------------------------------------------
# The module's watchdog: 5000 ms, not its default 250, as the VM tier's
# sluice_load gives it (tests/vm/lib.sh). On a busy host the emulated
# guest now and then leaves the agent off its CPUs for longer than 250
# ms: the module flaps "enforcing -> hung -> enforcing" within tens of
# ms, and a new flow met in that window follows fail_mode instead of the
# policy. Checks that count verdicts would then fail on the emulator's
# account: "curl in sl-denied.service is refused" (one try, fail-open
# would pass it), and the fail-closed restarts' "nothing failed closed",
# "the agent never stopped being live" and "no connection failed". Set
# the way an administrator does, in modprobe.d, so that every modprobe
# (ExecStartPre, the upgrade's reload) takes it; the SIGSTOP section,
# which tests the watchdog itself, puts the default back for its span.
setup "watchdog_ms=5000 in /etc/modprobe.d" sh -c \
	'echo "options sluice watchdog_ms=5000" >/etc/modprobe.d/sluice-lifecycle.conf'
require "dpkg -i $V1_DEBS" dpkg -i $(for d in $V1_DEBS; do echo "$P/v1/$d"; done)
require "sluiced.service is active after installation" systemctl is-active --quiet sluiced.service
check "sluiced.service is enabled" systemctl is-enabled --quiet sluiced.service
check "systemd-analyze verify sluiced.service" systemd-analyze verify sluiced.service
check "Type=notify, WatchdogUSec=5s" \
	sh -c '[ "$(systemctl show -p Type --value sluiced)" = notify ] &&
	       [ "$(systemctl show -p WatchdogUSec --value sluiced)" = 5s ]'
require "the module was loaded by ExecStartPre and the agent enforces" eventually 100 mode_is enforcing
check "the module took watchdog_ms=5000 from modprobe.d" \
	[ "$(sluice_stat "$NS_HOST" watchdog_ms)" = 5000 ]
check "policy created in the StateDirectory" test -s "$DB"
check "status file in the RuntimeDirectory" test -s /run/sluice/status

# --- a deny rule works -------------------------------------------------------
check "port 8081 connects before the rule" connects 10.91.2.2:8081
check "deny rule added with sqlite3" sqlite3 -bail "$DB" \
	"INSERT INTO rules(action, direction, proto, dst_port, comment)
	 VALUES ('deny', 'any', 'tcp', '8081', 'lifecycle test');"
check "the deny rule refuses port 8081 (within 3 s)" eventually 30 refused 10.91.2.2:8081
check "port 8080 still connects" connects 10.91.2.2:8080

# --- rules on program and unit, under the unit's own sandbox ---------------
# From the guest's own namespace (so the flows are local, judged with the
# identity of their socket), as uid 65534, whose /proc/PID/exe only
# CAP_SYS_PTRACE lets the agent read: two copies of curl, one in a denied
# directory; then curl started by systemd-run in two transient services,
# one of them denied by unit.
mkdir -p /opt/sl-a /opt/sl-b
cp "$(command -v curl)" /opt/sl-a/curl
cp "$(command -v curl)" /opt/sl-b/curl
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
get_8080() { "$@" -sf --max-time 3 -o /dev/null http://10.91.2.2:8080/; }
not_8080() { ! "$@" -sf --max-time 2 -o /dev/null http://10.91.2.2:8080/; }
in_unit() {
	_u=$1
	shift
	systemd-run --quiet --wait --collect --unit="$_u" -p User=65534 "$@"
}
check "rules on exe and unit added with sqlite3" sqlite3 -bail "$DB" \
	"INSERT INTO rules(action, direction, exe, comment)
	 VALUES ('deny', 'out', '/opt/sl-b/*', 'lifecycle: no program from sl-b');
	 INSERT INTO rules(action, direction, unit, comment)
	 VALUES ('deny', 'out', 'sl-denied.service', 'lifecycle: unit');"
check "exe: /opt/sl-b/curl run by uid 65534 is refused (within 3 s)" \
	eventually 30 not_8080 as_nobody /opt/sl-b/curl
check "exe: /opt/sl-a/curl run by uid 65534, the same file elsewhere, connects" \
	get_8080 as_nobody /opt/sl-a/curl
check "unit: curl in sl-allowed.service connects" \
	get_8080 in_unit sl-allowed.service "$(command -v curl)"
check "unit: curl in sl-denied.service is refused" \
	not_8080 in_unit sl-denied.service "$(command -v curl)"
sluicectl log --denied --limit 20 >"$WORK/denied" 2>&1
sed 's/^/#   /' "$WORK/denied"
check "log: the refused flow names /opt/sl-b/curl and uid 65534" \
	grep -q "uid=65534.*exe=/opt/sl-b/curl\|exe=/opt/sl-b/curl.*uid=65534" "$WORK/denied"
check "log: the refused flow names sl-denied.service" \
	grep -q "unit=sl-denied.service" "$WORK/denied"
check "rules on exe and unit removed" sqlite3 -bail "$DB" \
	"DELETE FROM rules WHERE comment IN ('lifecycle: no program from sl-b', 'lifecycle: unit');"

# --- kill -9: systemd restarts the agent -------------------------------------
flows_start 10.91.2.2:8080 "[fd00:91:2::2]:8080"
check "connections flow through the enforcing agent" flows_wait_more 5
pid0=$(main_pid)
nr0=$(prop NRestarts)
kill -9 "$pid0"
check "kill -9: systemd restarted the agent" \
	eventually 100 sh -c "p=\$(systemctl show -p MainPID --value sluiced); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid0 ] && systemctl is-active --quiet sluiced"
check "kill -9: NRestarts went up by one" [ "$(prop NRestarts)" -eq $((nr0 + 1)) ]
check "kill -9: enforcing again" eventually 100 mode_is enforcing
check "kill -9: connections go on" flows_wait_more 5
check "kill -9: no connection failed ($(flows_failed))" no_failures

# --- binary replaced + systemctl restart x10 ---------------------------------
# systemd hands ExecStopPost the way each main process ended: a drop-in
# writes it down, so "exited 0" reads every stop's exit status (a restart
# leaves no window to ask systemctl show between the two processes).
mkdir -p /etc/systemd/system/sluiced.service.d
cat >/etc/systemd/system/sluiced.service.d/exits.conf <<'EOF2'
[Service]
ExecStopPost=/bin/sh -c 'echo "$$SERVICE_RESULT $$EXIT_CODE $$EXIT_STATUS" >>/run/sluiced-exits'
EOF2
systemctl daemon-reload
touch /run/sluiced-exits
exits0=$(wc -l </run/sluiced-exits)
r0=$(retrans_all)
s0=$(syn_retrans)
ok0=$(flows_ok)
restart_ten_times
r1=$(retrans_all)
s1=$(syn_retrans)
diag "TCP segments retransmitted during the restarts: $((r1 - r0)) (emulation stalls count too)"
check "10 x (binary replaced, systemctl restart): each back to enforcing" [ $restarts_ok -eq 1 ]
check "connections during the restarts: $(($(flows_ok) - ok0))" [ $(($(flows_ok) - ok0)) -ge 20 ]
check "restarts: no connection failed ($(flows_failed))" no_failures
check "restarts: no queued packet lost (client SYN retransmissions $((s1 - s0)))" [ $((s1 - s0)) -eq 0 ]
# ten_clean_exits: the ten stops of the restarts ended as "success exited 0".
ten_clean_exits() {
	tail -n +$((exits0 + 1)) /run/sluiced-exits >"$RES/exits"
	sed 's/^/# stop: /' "$RES/exits" >&2
	[ "$(wc -l <"$RES/exits")" -eq 10 ] &&
		[ "$(grep -cx 'success exited 0' "$RES/exits")" -eq 10 ]
}
check "every stop drained and exited 0 (the exit status of each, from systemd)" ten_clean_exits
check "and said it drained" \
	sh -c '[ "$(journalctl -u sluiced -o cat | grep -c "SIGTERM: draining")" -ge 10 ]'
rm /etc/systemd/system/sluiced.service.d/exits.conf
systemctl daemon-reload

# --- fail_mode=closed: restarts hand the queue over, nothing dropped --------
# The old agent leaves its queue sockets in systemd's file descriptor store
# and the module waits for the new agent (SLUICE_CMD_HANDOVER) instead of
# failing over: new flows wait in the queue, none is dropped, none passes
# unjudged. One of the ten restarts runs another build of the agent (the
# upgrade package's). Measured: the flows, sluice's counters, the queue's
# drop counters, and the SYNs the client had to send again.
check "sluicectl set fail-mode closed" sluicectl set fail-mode closed
check "closed: /proc/net/sluice says fail_mode closed" \
	[ "$(sluice_stat "$NS_HOST" fail_mode)" = closed ]
check "closed: connections flow" flows_wait_more 3
other=$WORK/other-sluiced
mkdir -p "$other"
dpkg-deb -x "$P/v2/sluice_${V2_VERSION}_amd64.deb" "$other" >&2
loss_snapshot 0
since=$(date +%s)
ok0=$(flows_ok)
f0=$(flows_failed)
restart_ten_times "$other/usr/sbin/sluiced"
loss_snapshot 1
diag "closed restarts: failed_closed $fc0 -> $fc1, failed_open $fo0 -> $fo1, transitions $tr0 -> $tr1"
diag "closed restarts: nfnetlink_queue dropped $q0 -> $q1, queue:socket '$qs0' -> '$qs1'"
diag "closed restarts: client SYN retransmissions $((s1 - s0)), connections $(($(flows_ok) - ok0)) made, $(($(flows_failed) - f0)) failed"
check "closed: 10 x systemctl restart (one of them another build): each back to enforcing" [ $restarts_ok -eq 1 ]
check "closed: connections during the restarts: $(($(flows_ok) - ok0))" [ $(($(flows_ok) - ok0)) -ge 20 ]
check "closed restarts: no connection failed ($(($(flows_failed) - f0)))" [ "$(flows_failed)" -eq "$f0" ]
check "closed restarts: nothing failed closed (failed_closed $fc0 -> $fc1)" [ "$fc1" -eq "$fc0" ]
check "closed restarts: nothing admitted unjudged (failed_open $fo0 -> $fo1)" [ "$fo1" -eq "$fo0" ]
check "closed restarts: the agent never stopped being live (transitions $tr0 -> $tr1)" [ "$tr1" -eq "$tr0" ]
check "closed restarts: the same queue socket throughout ('$qs0' -> '$qs1')" [ "$qs1" = "$qs0" ]
check "closed restarts: nfnetlink_queue dropped nothing ($q0 -> $q1)" [ "$q1" -eq "$q0" ]
# A SYN that waits in the queue longer than TCP's initial RTO (1 s) is
# sent again by the client, lost or not: under software emulation a
# restart (exit, modprobe, exec, policy compile) takes about that long,
# on hardware a tenth of it. So every SYN sent again must be explained by
# a handover that lasted past 1 s (3 s, 7 s for a second and third): a
# lost SYN is sent again after 1 s however short the handover was.
gaps=$(handover_gaps "$since" | tr '\n' ' ')
slow=$(echo "$gaps" | tr ' ' '\n' | awk 'NF { n += ($1 >= 1) + ($1 >= 3) + ($1 >= 7) } END { print n + 0 }')
diag "closed restarts: from handing over to the next agent registered (s): $gaps"
check "closed restarts: every SYN sent again ($((s1 - s0))) is one of a handover past TCP's 1 s RTO ($slow)" \
	[ $((s1 - s0)) -le "$slow" ]
check "closed restarts: every stop handed over" \
	sh -c '[ "$(journalctl -u sluiced -o cat | grep -c "handing the queues over")" -ge 10 ]'

# The control: systemctl stop empties the store, the queue sockets close
# and the module fails closed at once (not after the handover's grace).
flows_stop
check "closed: systemctl stop sluiced" systemctl stop sluiced.service
check "closed stop: the module has no agent within 2 s" eventually 20 mode_is no-agent
fc0=$(sluice_stat "$NS_HOST" failed_closed)
check "closed stop: a new connection fails" refused 10.91.2.2:8080
fc1=$(sluice_stat "$NS_HOST" failed_closed)
check "closed stop: counted as failed closed ($fc0 -> $fc1)" [ "$fc1" -gt "$fc0" ]
check "closed stop: no queue left bound ($(nfq_sockets))" [ -z "$(nfq_sockets)" ]
check "closed: systemctl start sluiced" systemctl start sluiced.service
check "closed start: enforcing" eventually 100 mode_is enforcing
check "closed start: port 8080 connects" connects 10.91.2.2:8080
check "sluicectl set fail-mode open" sluicectl set fail-mode open
flows_start 10.91.2.2:8080 "[fd00:91:2::2]:8080"
check "open again: connections flow" flows_wait_more 5

# --- SIGSTOP: the module fails open, systemd's watchdog restarts the agent ---
# The module's own watchdog at its default (see "install" above).
check "sluicectl set watchdog-ms 250" sluicectl set watchdog-ms 250
check "SIGSTOP: the module's watchdog is 250 ms" \
	[ "$(sluice_stat "$NS_HOST" watchdog_ms)" = 250 ]
pid0=$(main_pid)
nr0=$(prop NRestarts)
kill -STOP "$pid0"
check "SIGSTOP: the module sees a hung agent" eventually 30 mode_is_not enforcing
check "SIGSTOP: connections go on while it hangs" flows_wait_more 5
check "SIGSTOP: systemd's watchdog restarted it (within 15 s)" \
	eventually 150 sh -c "[ \"\$(systemctl show -p NRestarts --value sluiced)\" -gt $nr0 ] && systemctl is-active --quiet sluiced"
check "SIGSTOP: enforcing again" eventually 100 mode_is enforcing
check "SIGSTOP: no connection failed ($(flows_failed))" no_failures
setup "sluicectl set watchdog-ms 5000" sluicectl set watchdog-ms 5000

# --- upgrade: dpkg -i of newer packages, module included ---------------------
dmesg_mark
ok0=$(flows_ok)
old_id=$(build_id_loaded)
check "dpkg -i $V2_DEBS (under traffic)" dpkg -i $(for d in $V2_DEBS; do echo "$P/v2/$d"; done)
check "upgrade: package version is $V2_VERSION" \
	[ "$(dpkg-query -W -f='${Version}' sluice)" = "$V2_VERSION" ]
check "upgrade: the new module is the one loaded" \
	sh -c "[ \"$old_id\" != \"\$(od -An -tx1 -v -j16 /sys/module/sluice/notes/.note.gnu.build-id | tr -d ' \n')\" ]"
check "upgrade: it is the packaged file" loaded_is_file "/lib/modules/$(uname -r)/updates/sluice.ko"
check "upgrade: sluiced active and enforcing" eventually 100 mode_is enforcing
check "upgrade: connections go on" flows_wait_more 5
check "upgrade: connections during it: $(($(flows_ok) - ok0)), none failed ($(flows_failed))" no_failures
check "upgrade: the policy kept its deny rule" eventually 30 refused 10.91.2.2:8081
check "upgrade: no oops or WARN" dmesg_clean

# --- systemctl stop: fail open; start: enforcement back ----------------------
check "systemctl stop sluiced" systemctl stop sluiced.service
check "stop: the agent drained and exited 0" [ "$(prop ExecMainStatus)" = 0 ]
check "stop: the module fails open (mode no-agent)" eventually 50 mode_is no-agent
check "stop: port 8081 connects (fail open)" connects 10.91.2.2:8081
check "stop: connections go on" flows_wait_more 5
check "systemctl start sluiced" systemctl start sluiced.service
check "start: enforcing" eventually 100 mode_is enforcing
check "start: port 8081 refused again" eventually 30 refused 10.91.2.2:8081
check "start: port 8080 connects" connects 10.91.2.2:8080
check "start: connections go on" flows_wait_more 5

# --- removal -----------------------------------------------------------------
check "dpkg -r sluice $MODULES_PKG" dpkg -r sluice "$MODULES_PKG"
check "removal: the module is unloaded" test ! -d /sys/module/sluice
check "removal: connections go on" flows_wait_more 5
check "removal: port 8081 connects" connects 10.91.2.2:8081
flows_stop
check "no connection failed in the whole run ($(flows_ok) made, $(flows_failed) failed)" no_failures
check "kernel log clean" kernel_log_clean
finish
