#!/bin/sh
# sluicectl top and sluicectl report --html show the decisions a live
# agent made, counted: 3 connections allowed and 2 denied by a rule, and
# nothing else denied; top finds the running agent's decision log by
# itself. The report's charts (read by python3's parsers) carry the
# counts (by then 3 and 3: one more denied connection after a refused
# policy edit), the rule, and the agent's history: its start, the refused
# edit, the reload that fixed it, and its stop.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

DB=$WORK/policy.db
LOG=$WORK/log.db
# The status file sluicectl reads when given no --log-db (the guest's /run
# is its own tmpfs).
STATUS=/run/sluice/status
CHECK=$REPO/tests/unit/report_check.py

logged() { sqlite3 "$LOG" "SELECT count(*) FROM decisions WHERE $1"; }
# top_has FILE DENIED ALLOWED KEY: FILE has the line of KEY with those counts.
top_has() {
	_line=$(printf '%8d %8d  %s' "$2" "$3" "$4")
	grep -qxF "$_line" "$1" || { echo "no line '$_line' in $1" >&2; return 1; }
}
# top_head FILE: the first line counts what the log holds.
top_head() {
	_t=$(logged 1)
	_d=$(logged "action = 'deny'")
	_a=$(logged "action = 'allow'")
	echo "log: $_t decisions, $_d denied, $_a allowed" >&2
	grep -q "^sluicectl top: last 60s of $LOG: $_t decisions, $_d denied, $_a allowed\$" "$1"
}
page_has() { grep -qxF "$2" "$1" || { echo "no line '$2' in $1" >&2; return 1; }; }
one_sentence() { cat "$1" >&2; [ "$(wc -l <"$1")" -eq 1 ] && grep -q "^$2" "$1"; }

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
check "sluice.ko loads" sluice_load
policy_init "$DB" "INSERT INTO rules(action, proto, dst, dst_port, comment)
  VALUES ('deny', 'tcp', '$SERVER4', '8081', 'vm 71');"
DENY=$(sqlite3 "$DB" "SELECT id FROM rules WHERE comment = 'vm 71'")
check "sluiced enforcing, logging to $LOG" \
	agent_start "$NS_CLIENT" "$DB" --log-db "$LOG" --status-file "$STATUS"

for i in 1 2 3; do
	check "allowed connection $i to $SERVER4:8080" connects "$NS_CLIENT" "http://$SERVER4:8080/"
done
for i in 1 2; do
	check "denied connection $i to $SERVER4:8081" refused "$NS_CLIENT" "http://$SERVER4:8081/"
done
denied_by_rule() {
	[ "$(logged "action = 'deny'")" -eq 2 ] &&
		[ "$(logged "action = 'deny' AND rule_id = $DENY")" -eq 2 ]
}
# The log thread writes within 200 ms, later on a busy emulated guest.
check "the log holds 2 denied decisions, both of rule $DENY" \
	eventually 50 denied_by_rule

"$SLUICECTL" top >"$WORK/top.txt" 2>"$WORK/top.err"
check "sluicectl top, not on a terminal, prints one snapshot and exits 0" [ $? -eq 0 ]
cat "$WORK/top.txt" "$WORK/top.err" >&2
check "top found the running agent's log by itself, and counts what it holds" \
	top_head "$WORK/top.txt"
check "top: $SERVER4:8080 allowed 3 times, denied never" top_has "$WORK/top.txt" 0 3 "$SERVER4:8080"
check "top: $SERVER4:8081 denied 2 times, allowed never" top_has "$WORK/top.txt" 2 0 "$SERVER4:8081"
check "top: rule $DENY denied 2" top_has "$WORK/top.txt" 2 0 "rule $DENY"
"$SLUICECTL" top --once --log-db "$LOG" >"$WORK/top2.txt"
check "top --log-db names the same log and shows the same" cmp "$WORK/top.txt" "$WORK/top2.txt"

# A row that bypasses the schema's checks: the agent refuses it, keeps
# its policy, and records that; taking the row out again is a reload.
policy_mark "$NS_CLIENT" "$STATUS"
sqlite3 "$DB" "PRAGMA ignore_check_constraints = 1;
INSERT INTO rules(id, action, dst) VALUES (77, 'deny', '10.0.0.300/8');" >&2
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT" "$STATUS"
check "the refused edit leaves the deny in force (a third denied connection)" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"
policy_mark "$NS_CLIENT" "$STATUS"
sqlite3 "$DB" "DELETE FROM rules WHERE id = 77"
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT" "$STATUS"
check "SIGTERM stops the agent with status 0" agent_stop
"$SLUICECTL" top >"$WORK/top3.txt" 2>"$WORK/top3.err"
check "with the agent gone, top without --log-db fails with exit 1" [ $? -eq 1 ]
check "in one sentence" one_sentence "$WORK/top3.err" "sluicectl top: no --log-db given"

"$SLUICECTL" report --html "$WORK/report.html" --log-db "$LOG" 2>"$WORK/report.err"
check "sluicectl report --html exits 0" [ $? -eq 0 ]
python3 "$CHECK" "$WORK/report.html" >"$WORK/page.txt" 2>&1
check "python3's html.parser and xml.etree read the page" [ $? -eq 0 ]
cat "$WORK/page.txt" >&2
check "the page has five charts, each an svg that parses as XML" page_has "$WORK/page.txt" "svg 5 xml-ok 5"
check "it runs and loads nothing: no script, img, src, href, URL" \
	page_has "$WORK/page.txt" "script 0 img 0 links 0 http 0"
check "the log holds 3 denied decisions, all of rule $DENY, and 3 allowed" \
	[ "$(logged "action = 'deny' AND rule_id = $DENY")/$(logged "action = 'deny'")/$(logged "action = 'allow'")" = 3/3/3 ]
check "the page's totals are the log's: 6 decisions, 3 denied, 3 allowed" \
	page_has "$WORK/page.txt" "totals $(logged 1) 3 3"
check "the time chart's bars add up to 3 denied and 3 allowed" \
	page_has "$WORK/page.txt" "over-time deny 3 allow 3"
check "the rules chart: rule $DENY denied 3" page_has "$WORK/page.txt" "top-rules deny rule $DENY 3"
check "the history: start, refused edit, reload, stop, in that order" \
	sh -c "grep '^event ' '$WORK/page.txt' | tr '\n' ' ' | grep -qx 'event start event refused event reload event stop '"
check "and the span since the stop, with no agent" \
	page_has "$WORK/page.txt" "history away stopped, not started again"
check "the refused edit's error is on the page" grep -q "10.0.0.300" "$WORK/report.html"

sleep 2
"$SLUICECTL" report --html "$WORK/report.html" --since 1s --log-db "$LOG"
python3 "$CHECK" "$WORK/report.html" >"$WORK/page.txt" 2>&1
check "control: --since 1s, after 2 s of nothing, draws no decision bars" \
	page_has "$WORK/page.txt" "over-time deny 0 allow 0"
"$SLUICECTL" report --html "$WORK/no/such/dir.html" --log-db "$LOG" 2>"$WORK/report.err"
check "an unwritable page path fails with exit 1" [ $? -eq 1 ]
check "in one sentence naming it" one_sentence "$WORK/report.err" "sluicectl report: cannot write $WORK/no/such/dir.html"

check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
