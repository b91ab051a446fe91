#!/bin/sh
# sluiced --metrics-file: a valid Prometheus text file (every sample has
# its HELP and TYPE, every value a number) in which real traffic moves
# sluice_decisions_total by exactly the flows made, allowed and denied,
# with the module's and nfnetlink_queue's counters of the namespace. A bad
# edit through sqlite3 shows in sluicectl status (text and --json) with
# its error, the last good policy in force and still enforced, and in the
# metrics; the control, a good edit, clears it. An orderly stop leaves the
# file saying sluice_agent_up 0.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

PROM=$WORK/textfile/sluice.prom
ALLOWED=5
DENIED=3

# metric 'NAME{LABELS}': its value in the file ("" when absent).
metric() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	awk -v k="$1" '$1 == k { print $2 }' "$PROM" 2>/dev/null
}

# metrics_written_after T: the file's timestamp is past T (unix seconds).
metrics_written_after() {
	awk -v t="$1" 'BEGIN { r = 1 }
		$1 == "sluice_metrics_timestamp_seconds" && $2 > t { r = 0 }
		END { exit r }' "$PROM" 2>/dev/null
}

# count_ok N COMMAND...: how many of N runs of COMMAND succeed.
count_ok() {
	_t=$1
	shift
	_k=0
	_ok=0
	while [ $_k -lt "$_t" ]; do
		"$@" && _ok=$((_ok + 1))
		_k=$((_k + 1))
	done
	echo "$_ok"
}

# fresh_metrics: wait until the agent wrote the file after now.
fresh_metrics() {
	_t=$(date +%s)
	eventually 60 metrics_written_after "$_t"
}

# exposition_ok FILE: every line a HELP, a TYPE (counter or gauge) or a
# sample "name{labels} number" whose family had HELP and TYPE before it;
# counters end in _total; the timestamp's line ends the file.
exposition_ok() {
	awk '
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { help[$3] = 1; next }
	/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)$/ {
		type[$3] = $4
		if ($4 == "counter" && $3 !~ /_total$/) { print "counter " $3 " without _total"; bad = 1 }
		next
	}
	/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+]?[0-9]+(\.[0-9]+)?$/ {
		name = $1; sub(/\{.*/, "", name)
		if (!help[name] || !type[name]) { print "no HELP or TYPE before " $0; bad = 1 }
		n++; last = name; next
	}
	{ print "not exposition: " $0; bad = 1 }
	END {
		if (last != "sluice_metrics_timestamp_seconds") { print "the file does not end with the timestamp"; bad = 1 }
		if (!bad) print n " samples"
		exit bad || n < 20
	}' "$1" >&2
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(id, action, proto, dst_port) VALUES (5, 'deny', 'tcp', '8081');"
mkdir -p "$WORK/textfile"
setup "sluiced enforcing with --metrics-file" \
	agent_start "$NS_CLIENT" "$WORK/policy.db" \
	--metrics-file "$PROM" --metrics-interval 1
check "the metrics file is written" eventually 50 test -s "$PROM"
check "it is valid Prometheus text exposition" exposition_ok "$PROM"
check "and says the agent is up" [ "$(metric sluice_agent_up)" = 1 ]
check "and that the module is enforcing" \
	[ "$(metric 'sluice_module_mode{mode="enforcing"}')" = 1 ]
check "no temporary file is left beside it" \
	[ "$(ls -A "$WORK/textfile" | wc -l)" -eq 1 ]

# --- traffic moves the decisions by exactly the flows made ---
fresh_metrics
allow0=$(metric 'sluice_decisions_total{action="allow"}')
deny0=$(metric 'sluice_decisions_total{action="deny"}')
queued0=$(metric sluice_module_queued_packets_total)
diag "before: allow=$allow0 deny=$deny0 queued=$queued0"
ok=$(count_ok $ALLOWED connects "$NS_CLIENT" "http://$SERVER4:8080/")
refused_n=$(count_ok $DENIED refused "$NS_CLIENT" "http://$SERVER4:8081/")
check "$ALLOWED flows to 8080 connected" [ "$ok" -eq $ALLOWED ]
check "$DENIED flows to 8081 were refused" [ "$refused_n" -eq $DENIED ]
check "the metrics file is written again after the traffic" fresh_metrics
allow1=$(metric 'sluice_decisions_total{action="allow"}')
deny1=$(metric 'sluice_decisions_total{action="deny"}')
queued1=$(metric sluice_module_queued_packets_total)
diag "after: allow=$allow1 deny=$deny1 queued=$queued1"
check "sluice_decisions_total{action=\"allow\"} moved by exactly $ALLOWED" \
	[ $((allow1 - allow0)) -eq $ALLOWED ]
check "sluice_decisions_total{action=\"deny\"} moved by exactly $DENIED" \
	[ $((deny1 - deny0)) -eq $DENIED ]
check "the module's queued packets moved by at least the $((ALLOWED + DENIED)) flows" \
	[ $((queued1 - queued0)) -ge $((ALLOWED + DENIED)) ]
check "nfnetlink_queue's counters of queue 0 are there" \
	[ "$(metric 'sluice_nfqueue_dropped_packets_total{queue="0"}')" = 0 ]
check "with the queue's depth" \
	[ -n "$(metric 'sluice_nfqueue_waiting_packets{queue="0"}')" ]

status() {
	SLUICE_STATUS_FILE=$WORK/status.$NS_CLIENT in_ns "$NS_CLIENT" "$SLUICECTL" status "$@"
}

# --- a refused edit, and the last good policy stays in force ---
check "before the edit, status says the database is in force" \
	sh -c "SLUICE_STATUS_FILE=$WORK/status.$NS_CLIENT ip netns exec $NS_CLIENT $SLUICECTL status |
	       grep -qx 'policy in force: the database, as it is now'"
refused_before=$(metric sluice_policy_refused_edits_total)
policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "PRAGMA ignore_check_constraints = 1;
INSERT INTO rules(id, action, dst, dst_port) VALUES (77, 'deny', '10.0.0.300/8', '8080');" >&2
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
status >"$WORK/status.txt" 2>&1
status --json >"$WORK/status.json" 2>&1
cat "$WORK/status.txt" >&2
check "status (text) says the last good policy is in force" \
	grep -qx 'policy in force: the last good policy (the last that compiled from the database; its latest edit was refused)' \
	"$WORK/status.txt"
check "and shows the refused edit's error, naming row 77" \
	grep -q '^refused edit: .*77.*300' "$WORK/status.txt"
check "status (text) shows the depth and drops of queue 0" \
	grep -q '^  queue 0: depth [0-9]*, dropped (queue full) 0, dropped (socket full) 0$' "$WORK/status.txt"
check "status --json is valid JSON" python3 -m json.tool "$WORK/status.json" >/dev/null
check "status --json: policy_in_force last-good-policy" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(d["policy_in_force"] != "last-good-policy")' "$WORK/status.json"
check "status --json: the refused edit's error names row 77" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit("77" not in (d["policy_refused_error"] or ""))' "$WORK/status.json"
check "status --json: queue 0's drops, and the module's fail-closed drops" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
q = [x for x in d["queues"] if x["queue"] == 0][0]
sys.exit(not (q["bound"] and q["queue_dropped"] == 0 and q["user_dropped"] == 0 and d["drops"]["failed_closed"] == 0))' "$WORK/status.json"
check "the last good policy is enforced: 8081 still refused" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "and 8080 still allowed (row 77 is not in force)" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
fresh_metrics
check "the metrics count the refused edit once" \
	[ "$(metric sluice_policy_refused_edits_total)" -eq $((refused_before + 1)) ]
check "and sluice_policy_error is 1" [ "$(metric sluice_policy_error)" = 1 ]

# --- control: a good edit clears it ---
reloads_before=$(metric sluice_policy_reloads_total)
policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "DELETE FROM rules WHERE id = 77;" >&2
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
status >"$WORK/status2.txt" 2>&1
status --json >"$WORK/status2.json" 2>&1
check "after a good edit, status (text) says the database is in force" \
	grep -qx 'policy in force: the database, as it is now' "$WORK/status2.txt"
check "and shows no refused edit" sh -c "! grep -q '^refused edit' '$WORK/status2.txt'"
check "status --json: policy_in_force database, policy_refused_error null" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["policy_in_force"] == "database" and d["policy_refused_error"] is None))' "$WORK/status2.json"
fresh_metrics
check "sluice_policy_error is 0 again" [ "$(metric sluice_policy_error)" = 0 ]
check "and the good edit counts as a reload" \
	[ "$(metric sluice_policy_reloads_total)" -gt "$reloads_before" ]
check "the file is still valid exposition text" exposition_ok "$PROM"

check "SIGTERM stops the agent with status 0" agent_stop
check "the metrics file stays, saying the agent is down" \
	[ "$(metric sluice_agent_up)" = 0 ]
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
