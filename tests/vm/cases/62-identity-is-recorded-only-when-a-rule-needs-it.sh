#!/bin/sh
# The module records who a queued flow belongs to only while the agent's
# policy has a rule that needs it (uid, exe or unit): the agent says so
# in REGISTER and in every heartbeat, and /proc/net/sluice shows it as
# identity_wanted. Counted with the module's own counters:
#   - default policy: N new flows are queued (queued grows by N at least)
#     and identity_recorded does not move, identity_table stays empty;
#   - control: a unit rule added with sqlite3 makes the agent want it;
#     N more flows grow identity_recorded by one each, and the rule
#     decides: curl in demo.slice/demo.service is refused, the same curl
#     in other.service served (the unit is known only from the module's
#     record: NFQA_UID tells no cgroup);
#   - the rule deleted: flat again; the agent gone: not wanted either.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

CG=$WORK/cgroup
N=40
PORT=8082
URL=http://$SERVER4:8080/

# shellcheck disable=SC2317 # run by the trap
_case_cleanup() {
	stop_bg
	rmdir "$CG/demo.slice/demo.service" "$CG/demo.slice/other.service" \
		"$CG/demo.slice" 2>/dev/null
	umount "$CG" 2>/dev/null
	_cleanup
}
trap _case_cleanup EXIT

stat_c() { sluice_stat "$NS_CLIENT" "$1"; }
wanted_is() {
	_w=$(stat_c identity_wanted)
	echo "identity_wanted '$_w' (want '$1')" >&2
	[ "$_w" = "$1" ]
}

# flows NAME: N new flows from the client; counters before and after in
# $WORK/NAME.{q,r}, connects.py's "OK FAILED SECONDS" in $WORK/NAME.
flows() {
	_q0=$(stat_c queued)
	_r0=$(stat_c identity_recorded)
	in_ns "$NS_CLIENT" python3 "$REPO/tests/vm/connects.py" "$N" \
		"$SERVER4" "$PORT" >"$WORK/$1" 2>"$WORK/$1.err"
	echo $(($(stat_c queued) - _q0)) >"$WORK/$1.q"
	echo $(($(stat_c identity_recorded) - _r0)) >"$WORK/$1.r"
	echo "$1: connects $(cat "$WORK/$1"), queued +$(cat "$WORK/$1.q")," \
		"identity_recorded +$(cat "$WORK/$1.r")" >&2
}
# flows_counted NAME WHAT none|each: flows NAME, checked: all connect,
# each was queued, and identity_recorded grew by none or one per flow.
flows_counted() {
	flows "$1"
	check "$2: $N flows connect" all_connected "$1"
	check "$2: each flow was queued (queued +$(cat "$WORK/$1.q"))" \
		queued_each "$1"
	check "$2: identity_recorded +$(cat "$WORK/$1.r") (want $3 per flow)" \
		"recorded_$3" "$1"
}
all_connected() { [ "$(cut -d' ' -f1 "$WORK/$1")" = "$N" ]; }
queued_each() { [ "$(cat "$WORK/$1.q")" -ge "$N" ]; }
recorded_none() { [ "$(cat "$WORK/$1.r")" -eq 0 ]; }
# One record per flow: each flow's SYN, and a SYN sent again before its
# verdict (a second unconfirmed entry); never more than was queued.
recorded_each() {
	_r=$(cat "$WORK/$1.r")
	[ "$_r" -ge "$N" ] && [ "$_r" -le $((N + N / 10)) ] &&
		[ "$_r" -le "$(cat "$WORK/$1.q")" ]
}

curl_in() {
	in_cgroup "$CG/demo.slice/$1" ip netns exec "$NS_CLIENT" \
		curl -sf --max-time "$2" -o /dev/null "$URL"
}
curl_refused_in() { ! curl_in "$1" 2; }

topo_up
dmesg_mark
setup "sluice.ko loads" sluice_load
mkdir -p "$CG"
check "a cgroup2 hierarchy is mounted" mount -t cgroup2 none "$CG"
mkdir -p "$CG/demo.slice/demo.service" "$CG/demo.slice/other.service"
bg in_ns "$NS_SERVER" python3 "$REPO/tests/vm/connects.py" --serve "$PORT"
check "a server takes connections on $PORT" wait_listen "$NS_SERVER" "$PORT"
check "an http server for curl on 8080" http_server_start "$NS_SERVER" 8080

check "no agent: identity not wanted" wanted_is no
policy_init "$WORK/client.db"
check "sluiced enforces the default policy in the client namespace" \
	agent_start "$NS_CLIENT" "$WORK/client.db"
check "default policy: identity not wanted" eventually 30 wanted_is no

# ---- no rule needs identity ----------------------------------------------
flows_counted plain "default policy" none
check "default policy: the identity table is empty ($(stat_c identity_table))" \
	[ "$(stat_c identity_table)" = 0 ]

# ---- control: a unit rule ------------------------------------------------
check "a unit rule is added with sqlite3" sqlite3 -bail "$WORK/client.db" "
INSERT INTO rules(action, direction, unit) VALUES ('deny', 'out', 'demo.service');"
check "with the unit rule: identity wanted (within 3 s)" \
	eventually 30 wanted_is yes
flows_counted ruled "with the unit rule" each
r0=$(stat_c identity_recorded)
check "the rule decides: curl in demo.slice/demo.service is refused" \
	curl_refused_in demo.service
check "control: curl in demo.slice/other.service is served" \
	curl_in other.service 3
check "both curls' flows were recorded ($(($(stat_c identity_recorded) - r0)))" \
	[ $(($(stat_c identity_recorded) - r0)) -ge 2 ]

# ---- the rule goes, then the agent ---------------------------------------
check "the unit rule is deleted with sqlite3" sqlite3 -bail "$WORK/client.db" "
DELETE FROM rules WHERE unit IS NOT NULL;"
check "without the rule: identity not wanted again" \
	eventually 30 wanted_is no
flows_counted again "without the rule" none

check "the unit rule is added again" sqlite3 -bail "$WORK/client.db" "
INSERT INTO rules(action, direction, unit) VALUES ('deny', 'out', 'demo.service');"
check "identity wanted again" eventually 30 wanted_is yes
check "sluiced stops (SIGTERM)" agent_stop
check "the agent gone: identity not wanted" wanted_is no
flows gone
check "without an agent: $N flows connect (fail open)" all_connected gone
check "without an agent: identity_recorded flat (+$(cat "$WORK/gone.r"))" \
	recorded_none gone

stop_bg
topo_down
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
