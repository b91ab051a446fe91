#!/bin/sh
# sluicectl allow, deny, disable, enable and delete change what a live
# agent decides as soon as it takes the edit up (its status file says so;
# case 31 bounds that by a second), each checked by counting real
# connections, with a connection the edit must not touch beside each one;
# a value the schema refuses changes nothing; rules lists what is in
# force and explain agrees with it.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

DB=$WORK/policy.db
# ctl CMD ARGS...: sluicectl CMD --db DB ARGS...
ctl() {
	_cmd=$1
	shift
	"$SLUICECTL" "$_cmd" --db "$DB" "$@"
}

# count NS URL N: how many of N attempts get the URL (curl, 2 s each).
count() {
	_ok=0
	_k=0
	while [ $_k -lt "$3" ]; do
		in_ns "$1" curl -sf --max-time 2 -o /dev/null "$2" && _ok=$((_ok + 1))
		_k=$((_k + 1))
	done
	echo "$_ok"
}
# gets NS URL WANT: WANT of 3 attempts get the URL.
gets() {
	_got=$(count "$1" "$2" 3)
	echo "$2: $_got of 3 got through, want $3" >&2
	[ "$_got" -eq "$3" ]
}
is_id() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
rule_count() { sqlite3 "$DB" 'SELECT count(*) FROM rules'; }
rule_count_is() { [ "$(rule_count)" -eq "$1" ]; }
# rules_show ID ACTION ENABLED: sluicectl rules lists ID with ACTION, ENABLED.
rules_show() {
	ctl rules >"$WORK/rules.txt" || return 1
	cat "$WORK/rules.txt" >&2
	awk -v id="$1" -v a="$2" -v e="$3" \
		'$1 == id && $3 == a && $13 == e { n++ } END { exit n != 1 }' "$WORK/rules.txt"
}
json_rules_parse() {
	ctl rules --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
print(len(rows), "rows", rows, file=sys.stderr)
sys.exit(len(rows) != int(sys.argv[1]))' "$1"
}
explain_says() {
	_e=$(ctl explain tcp "$SERVER4:8080" | head -n 1)
	echo "explain: $_e" >&2
	[ "$_e" = "$1" ]
}
refused_edit() {
	! ctl deny --proto tcp --dst 10.91.2.300 2>"$WORK/refused.err" &&
		cat "$WORK/refused.err" >&2 &&
		[ "$(wc -l <"$WORK/refused.err")" -eq 1 ] &&
		grep -q 'rules.dst:' "$WORK/refused.err"
}
no_policy_error() {
	_pe=$(sed -n 's/^policy_error=//p' "$WORK/status.$NS_CLIENT")
	echo "policy_error='$_pe'" >&2
	[ -z "$_pe" ]
}

V4=http://$SERVER4:8080/
V4_OTHER=http://$SERVER4:8081/
V6=http://[$SERVER6]:8080/

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
setup "sluice.ko loads" sluice_load
policy_init "$DB"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$DB"
check "before any edit, 3 of 3 to $SERVER4:8080 get through" gets "$NS_CLIENT" "$V4" 3

policy_mark "$NS_CLIENT"
DENY=$(ctl deny --proto tcp --dst "$SERVER4" --port 8080 --comment 'vm 70')
check "sluicectl deny prints the new rule's id ($DENY)" is_id "$DENY"
check "the agent takes the deny up" policy_taken_up "$NS_CLIENT"
check "then 0 of 3 to $SERVER4:8080 get through" gets "$NS_CLIENT" "$V4" 0
check "and 3 of 3 to port 8081 (not in the rule) do" gets "$NS_CLIENT" "$V4_OTHER" 3
check "and 3 of 3 to the IPv6 address (not in the rule) do" gets "$NS_CLIENT" "$V6" 3
check "sluicectl rules lists the deny rule, enabled" rules_show "$DENY" deny 1
check "explain names it" explain_says "deny rule $DENY"

policy_mark "$NS_CLIENT"
check "sluicectl disable exits 0" ctl disable "$DENY"
check "the agent takes the disable up" policy_taken_up "$NS_CLIENT"
check "then 3 of 3 to $SERVER4:8080 get through" gets "$NS_CLIENT" "$V4" 3
check "sluicectl rules shows it disabled" rules_show "$DENY" deny 0
policy_mark "$NS_CLIENT"
check "sluicectl enable exits 0" ctl enable "$DENY"
check "the agent takes the enable up" policy_taken_up "$NS_CLIENT"
check "then 0 of 3 get through again" gets "$NS_CLIENT" "$V4" 0

policy_mark "$NS_CLIENT"
ALLOW=$(ctl allow --proto tcp --dst "$SERVER4/24" --priority 10)
check "sluicectl allow prints the new rule's id ($ALLOW)" is_id "$ALLOW"
check "the agent takes the allow up" policy_taken_up "$NS_CLIENT"
check "then, the allow having a lower priority number, 3 of 3 get through" \
	gets "$NS_CLIENT" "$V4" 3
check "explain names the allow rule" explain_says "allow rule $ALLOW"
check "rules --json parses, 2 rows" json_rules_parse 2
policy_mark "$NS_CLIENT"
check "sluicectl delete of the allow exits 0" ctl delete "$ALLOW"
check "the agent takes the delete up" policy_taken_up "$NS_CLIENT"
check "then 0 of 3 get through (the deny is back)" gets "$NS_CLIENT" "$V4" 0

check "a bad --dst is refused in one sentence naming rules.dst" refused_edit
check "and the rules table still has 1 row" rule_count_is 1
check "the agent reports no policy error" no_policy_error
check "the deny still holds: 0 of 3 get through" gets "$NS_CLIENT" "$V4" 0
check "and port 8081 still works: 3 of 3" gets "$NS_CLIENT" "$V4_OTHER" 3
check "deleting a missing id fails" eval '! ctl delete 999'

policy_mark "$NS_CLIENT"
check "sluicectl delete of the deny exits 0" ctl delete "$DENY"
check "the agent takes the delete up" policy_taken_up "$NS_CLIENT"
check "then 3 of 3 get through" gets "$NS_CLIENT" "$V4" 3
check "the table is empty" rule_count_is 0
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
