#!/bin/sh
# The generic netlink family needs CAP_NET_ADMIN: an unprivileged user
# cannot register, change the fail mode or read through it, and is told
# so in one sentence; /proc/net/sluice stays readable to anyone.
#
# Then every command of the family (register, heartbeat, both kinds of
# set, get config, stats and flow, forget denied, drain, handover,
# unregister), sent in an agent's order from one socket, by callers who
# must not act on the namespace they are in, while a real agent serves
# the initial namespace:
#   root of a user namespace, in the initial network namespace;
#   an unprivileged user (nobody), in the initial network namespace and in
#   one made by root;
# each gets EPERM for every command from the capability check itself
# (no extended ack: sluice's own refusals carry one), and the initial
# namespace's state and agent stay as they were. CAP_NET_ADMIN over the
# namespace acted on is what the design asks, so the root of a user
# namespace that owns a network namespace of its own (as a container's
# root, made by root or by nobody) is granted every command there, and
# that changes nothing outside it. Beside the refusals, the control:
# root of the initial user namespace sends the same commands in the
# initial namespace and in root's namespace, is granted each, and the
# initial namespace's state shows the change.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

dmesg_mark
setup "sluice.ko loads" sluice_load
nobody "$SLUICECTL" set fail-mode closed >"$WORK/set.out" 2>&1
rc=$?
cat "$WORK/set.out" >&2
check "sluicectl set as nobody fails" [ "$rc" -ne 0 ]
check "with a sentence about the missing capability" \
	grep -qi "CAP_NET_ADMIN\|permission\|not permitted" "$WORK/set.out"
check "fail_mode did not change" \
	grep -qx open /sys/module/sluice/parameters/fail_mode
check "sluicectl status as nobody falls back to /proc/net/sluice" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups $SLUICECTL status | grep -qi 'no agent'"
# A database the user nobody can open and write, so that what stops an
# unprivileged sluiced is the kernel refusing it its sockets, not the file.
chmod o+x "$WORK"
mkdir -m 777 "$WORK/nobody"
policy_init "$WORK/nobody/policy.db"
chmod 666 "$WORK/nobody/policy.db"
nobody timeout 10 "$SLUICED" --db "$WORK/nobody/policy.db" --status-file "" \
	>"$WORK/agent.out" 2>&1
rc=$?
cat "$WORK/agent.out" >&2
check "an unprivileged sluiced stops with status 1" [ "$rc" -eq 1 ]
check "saying which socket the kernel refused it" \
	grep -q "cannot .*not permitted" "$WORK/agent.out"
check "and never became the agent" \
	[ "$(awk '$1 == "mode" { print $2 }' /proc/net/sluice)" = no-agent ]

HOSTILE=$REPO/build/genl_hostile
# What "every" asks for: fail mode closed, watchdog_ms 777, hooks "out".
EVERY="1 777 2"
EVERY_N=11
# refused_all FILE: every command answered EPERM with no extended ack:
# the genetlink core's capability check, not sluice's "not the agent".
refused_all() {
	[ "$(grep -c . "$1")" -eq "$EVERY_N" ] &&
		[ "$(grep -cx '[a-z_]* EPERM' "$1")" -eq "$EVERY_N" ]
}
# granted_all FILE: every command done; GET_FLOW asked for a conntrack id
# the module keeps nothing for, so it is answered ENOENT past the check.
granted_all() {
	[ "$(grep -c . "$1")" -eq "$EVERY_N" ] &&
		[ "$(grep -cx '[a-z_]* ok' "$1")" -eq "$((EVERY_N - 1))" ] &&
		grep -q '^get_flow ENOENT' "$1"
}
# state [FILE]: the settings and the agent of a namespace's
# /proc/net/sluice (default the case's own, the initial namespace).
state() {
	grep -E '^(mode|fail_mode|agent_pid|handover_left_ms|queue_num|queue_count|watchdog_ms|hooks|identity_wanted) ' \
		"${1:-/proc/net/sluice}"
}
unchanged() { state | cmp - "$WORK/before"; }
# changed_as_asked FILE: a /proc/net/sluice after "every": the settings
# it sent, and no agent (it unregistered).
changed_as_asked() {
	grep -qx "fail_mode closed" "$1" && grep -qx "watchdog_ms 777" "$1" &&
		grep -qx "hooks out" "$1" && grep -qx "mode no-agent" "$1"
}
# every_in_own_netns OUT [PREFIX...]: as root of a new user namespace with
# a network namespace of its own; its /proc/net/sluice is saved to OUT.proc.
every_in_own_netns() {
	_out=$1
	shift
	# shellcheck disable=SC2016 # $1.. of the inner shell
	"$@" unshare -U -r -n sh -c '"$1" every $2 >"$3" 2>"$3.err"; rc=$?
		cat /proc/net/sluice >"$3.proc"; exit $rc' - "$HOSTILE" "$EVERY" "$_out"
}
show() { cat "$1" >&2; }

policy_init "$WORK/policy.db"
"$SLUICED" --db "$WORK/policy.db" --status-file "$WORK/status.init" \
	>"$WORK/sluiced.init.log" 2>&1 &
AGENT_PID=$!
_pids="$_pids $AGENT_PID"
init_enforcing() { grep -qx "mode enforcing" /proc/net/sluice; }
setup "sluiced serves the initial namespace" eventually 100 init_enforcing
state >"$WORK/before"
cat "$WORK/before" >&2
check "the initial namespace's agent is sluiced (pid $AGENT_PID)" \
	grep -qx "agent_pid $AGENT_PID" "$WORK/before"

unshare -U -r "$HOSTILE" every $EVERY >"$WORK/uns-init.out" 2>&1
show "$WORK/uns-init.out"
check "root of a user namespace, initial network namespace: all $EVERY_N commands EPERM" \
	refused_all "$WORK/uns-init.out"
check "and the initial namespace's settings and agent did not change" unchanged

nobody "$HOSTILE" every $EVERY >"$WORK/nobody-init.out" 2>&1
show "$WORK/nobody-init.out"
check "nobody, initial network namespace: all $EVERY_N commands EPERM" \
	refused_all "$WORK/nobody-init.out"
check "and the initial namespace's settings and agent did not change" unchanged

setup "a network namespace made by root" ns_add sl-rootns
in_ns sl-rootns setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$HOSTILE" every $EVERY >"$WORK/nobody-rootns.out" 2>&1
show "$WORK/nobody-rootns.out"
check "nobody, in root's network namespace: all $EVERY_N commands EPERM" \
	refused_all "$WORK/nobody-rootns.out"
check "and that namespace still follows the module's defaults" \
	sh -c 'ip netns exec sl-rootns cat /proc/net/sluice |
		grep -qx "fail_mode open" && ! ip netns exec sl-rootns \
		cat /proc/net/sluice | grep -qx "watchdog_ms 777"'
in_ns sl-rootns "$HOSTILE" every $EVERY >"$WORK/root-rootns.out" 2>&1
show "$WORK/root-rootns.out"
check "the control: root in that namespace is granted all $EVERY_N commands" \
	granted_all "$WORK/root-rootns.out"
in_ns sl-rootns cat /proc/net/sluice >"$WORK/root-rootns.proc"
check "and its settings are what it asked for" \
	changed_as_asked "$WORK/root-rootns.proc"

every_in_own_netns "$WORK/uns-own.out"
show "$WORK/uns-own.out"
check "root of a user namespace, in its own network namespace: granted all $EVERY_N commands" \
	granted_all "$WORK/uns-own.out"
check "its namespace's settings are what it asked for" \
	changed_as_asked "$WORK/uns-own.out.proc"
check "and the initial namespace's settings and agent did not change" unchanged

# The same, with the user namespace made by nobody (unprivileged user
# namespaces are on in Debian's kernel): a container of an ordinary user.
chmod 777 "$WORK/nobody"
every_in_own_netns "$WORK/nobody/uns-own.out" nobody
show "$WORK/nobody/uns-own.out"
check "nobody's user namespace, in its own network namespace: granted all $EVERY_N commands" \
	granted_all "$WORK/nobody/uns-own.out"
check "its namespace's settings are what it asked for" \
	changed_as_asked "$WORK/nobody/uns-own.out.proc"
check "and the initial namespace's settings and agent did not change" unchanged
check "the initial namespace's agent is still alive" kill -0 "$AGENT_PID"

# The control of the refusals in the initial namespace: its own root.
setup "sluiced stops" agent_stop
"$HOSTILE" every $EVERY >"$WORK/root-init.out" 2>&1
show "$WORK/root-init.out"
check "the control: root in the initial namespace is granted all $EVERY_N commands" \
	granted_all "$WORK/root-init.out"
check "and the initial namespace's settings are what it asked for" \
	changed_as_asked /proc/net/sluice
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
