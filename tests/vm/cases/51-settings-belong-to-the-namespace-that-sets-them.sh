#!/bin/sh
# Settings belong to a namespace. Root in one namespace (here: the client,
# whose agent allows everything) choosing fail-mode closed must not cut off
# the router and the server, which have no agent; a second namespace's
# settings leave the first's alone; the module parameters are the default
# of every namespace that has not chosen its own, and of later ones. The
# control: a namespace that chose closed itself and has no agent drops its
# new flows, and counts them.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

set_in() {
	_ns=$1
	shift
	in_ns "$_ns" "$SLUICECTL" set "$@"
}
# stat_is NS KEY VALUE: NS's /proc/net/sluice line KEY reads VALUE.
stat_is() {
	_v=$(sluice_stat "$1" "$2")
	echo "$1: $2 $_v (want $3)" >&2
	[ "$_v" = "$3" ]
}
host_stat_is() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	_v=$(awk -v k="$1" '$1 == k { print $2 }' /proc/net/sluice)
	echo "initial namespace: $1 $_v (want $2)" >&2
	[ "$_v" = "$2" ]
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
setup "sluice.ko loads with the default watchdog_ms=250" sluice_load watchdog_ms=250
policy_init "$WORK/policy.db"
check "sluiced enforcing in the client namespace" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"
wd0=$(sluice_stat "$NS_CLIENT" watchdog_ms)

check "sluicectl set fail-mode closed in the client namespace" \
	set_in "$NS_CLIENT" fail-mode closed
check "the client namespace's fail_mode reads closed" \
	stat_is "$NS_CLIENT" fail_mode closed
check "the server namespace (no agent) still fails open" \
	stat_is "$NS_SERVER" fail_mode open
check "so does the router (no agent)" stat_is "$NS_ROUTER" fail_mode open
check "and the initial namespace" host_stat_is fail_mode open
check "the module parameter, the others' default, still reads open" \
	grep -qx open /sys/module/sluice/parameters/fail_mode
o0=$(sluice_stat "$NS_ROUTER" failed_open)
check "client -> server still connects through router and server, which have no agent" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "the router admitted it failing open ($o0 -> $(sluice_stat "$NS_ROUTER" failed_open))" \
	[ "$(sluice_stat "$NS_ROUTER" failed_open)" -gt "$o0" ]

check "sluicectl set fail-mode open in the server namespace" \
	set_in "$NS_SERVER" fail-mode open
check "leaves the client namespace's fail_mode closed" \
	stat_is "$NS_CLIENT" fail_mode closed

# The control: closed chosen by a namespace without agent is enforced there.
check "sluicectl set fail-mode closed in the server namespace (no agent)" \
	set_in "$NS_SERVER" fail-mode closed
check "the client namespace still reads closed, the router open" \
	sh -c "[ '$(sluice_stat "$NS_CLIENT" fail_mode)' = closed ] &&
		[ '$(sluice_stat "$NS_ROUTER" fail_mode)' = open ]"
c0=$(sluice_stat "$NS_SERVER" failed_closed)
check "a new connection into the server namespace is dropped there" \
	refused "$NS_CLIENT" "http://$SERVER4:8080/"
check "and counted as failed_closed by the server namespace ($c0 -> $(sluice_stat "$NS_SERVER" failed_closed))" \
	[ "$(sluice_stat "$NS_SERVER" failed_closed)" -gt "$c0" ]

# The module parameter is the default of those that chose nothing.
check "sluicectl set fail-mode open in the client namespace" \
	set_in "$NS_CLIENT" fail-mode open
echo closed >/sys/module/sluice/parameters/fail_mode
check "fail_mode=closed written to the module parameter reaches the router, which chose nothing" \
	stat_is "$NS_ROUTER" fail_mode closed
check "but not the client namespace, which chose open" \
	stat_is "$NS_CLIENT" fail_mode open
ns_add sl-late
check "a namespace created later starts with the parameter's closed" \
	stat_is sl-late fail_mode closed
echo open >/sys/module/sluice/parameters/fail_mode
check "the parameter back to open reaches the router again" \
	stat_is "$NS_ROUTER" fail_mode open
check "while the server namespace keeps its own closed" \
	stat_is "$NS_SERVER" fail_mode closed

# The watchdog too: a setting of the server namespace only. (Last: on a
# module whose attribute policy is wrong, this is where the kernel WARNs.)
check "sluicectl set watchdog-ms 5000 in the server namespace" \
	set_in "$NS_SERVER" watchdog-ms 5000
check "the server namespace's watchdog_ms reads 5000" \
	stat_is "$NS_SERVER" watchdog_ms 5000
check "the client namespace's watchdog_ms stays $wd0" \
	stat_is "$NS_CLIENT" watchdog_ms "$wd0"
check "and the module parameter stays 250" \
	grep -qx 250 /sys/module/sluice/parameters/watchdog_ms
check "SIGTERM stops the agent with status 0" agent_stop
topo_down
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
