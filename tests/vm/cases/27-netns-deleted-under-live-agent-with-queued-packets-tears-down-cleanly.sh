#!/bin/sh
# A namespace is deleted ("ip netns del") while its agent is live and new
# flows sit in its queue; then the agent crashes with them still queued.
# The namespace lives on, nameless, while processes are in it; the crash
# fails its flows open (each queued SYN is sent again and admitted); when
# its last process is gone the namespace is torn down with sluice's state
# in it, and the module still unloads with a clean kernel log. In the debug
# kernel (make vm-debug) this is where KASAN and lockdep watch the
# per-namespace teardown race the queue's.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

# shellcheck disable=SC2317 # the helpers run through check and eventually
# pid_stat PID KEY: a value of /proc/net/sluice in PID's namespace, which
# works for a namespace that no longer has a name.
pid_stat() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	awk -v k="$2" '$1 == k { print $2 }' "/proc/$1/net/sluice" 2>/dev/null
}
queued_at_least() {
	[ "$(sluice_stat "$NS_CLIENT" queued)" -ge "$1" ]
}
mode_of_pid_is() {
	[ "$(pid_stat "$1" mode)" = "$2" ]
}
router_lost_veth1() {
	! ip -n "$NS_ROUTER" link show veth1 >/dev/null 2>&1
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
# A long watchdog: the stopped agent stays "enforcing", so that new flows
# are queued to it instead of failing open.
check "sluice.ko loads with watchdog_ms=60000" sluice_load watchdog_ms=60000
policy_init "$WORK/policy.db"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
check "a flow is allowed through the agent" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/index.html"

q0=$(sluice_stat "$NS_CLIENT" queued)
kill -STOP "$AGENT_PID"
# Started with "ip netns exec" itself (which execs curl), so that each pid
# is a process inside the namespace, whose /proc/PID/net is that of the
# namespace once it has no name.
curls=""
for url in "http://$SERVER4:8080/index.html" "http://[$SERVER6]:8080/index.html" \
	   "http://$SERVER4:8080/index.html" "http://[$SERVER6]:8080/index.html"; do
	ip netns exec "$NS_CLIENT" curl -sf --max-time 90 -o /dev/null "$url" &
	curls="$curls $!"
	_pids="$_pids $!"
done
# A process that stays in the namespace to read its state through: a
# curl exits as soon as its flow fails open, and with it its /proc/PID/net.
ip netns exec "$NS_CLIENT" sleep 600 &
keeper=$!
_pids="$_pids $keeper"
# shellcheck disable=SC2086 # one word per pid
set -- $curls
c1=$keeper
check "four new flows wait in the stopped agent's queue" \
	eventually 300 queued_at_least $((q0 + 4))
check "the namespace still counts its agent as live (enforcing)" \
	mode_of_pid_is "$c1" enforcing
check "ip netns del while the agent is live and packets are queued" \
	ip netns del "$NS_CLIENT"
check "the nameless namespace lives on while its processes do" \
	ip -n "$NS_ROUTER" link show veth1
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "the agent's crash fails the nameless namespace open (no-agent)" \
	eventually 100 mode_of_pid_is "$c1" no-agent
i=0
for c in $curls; do
	i=$((i + 1))
	check "queued flow $i completes after the crash (failed open)" wait "$c"
done
kill "$keeper"
wait "$keeper" 2>/dev/null
check "the namespace is torn down once its last process is gone (veth1 leaves the router)" \
	eventually 600 router_lost_veth1
check "other namespaces keep their state (server's mode no-agent)" \
	test "$(sluice_stat "$NS_SERVER" mode)" = no-agent
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
