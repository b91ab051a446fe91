#!/bin/sh
# A bad row is refused by sqlite3 itself; one that bypasses the checks is
# reported by the agent (row and reason, in its log and sluicectl status)
# and the previous policy stays in force. A corrupt database at start
# gives a clear error, and the agent enforces the built-in default policy
# (there is no last good copy of that file) instead of leaving.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
setup "sluice.ko loads" sluice_load
policy_init "$WORK/policy.db" \
	"INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '8081');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"
check "8081 denied" refused "$NS_CLIENT" "http://$SERVER4:8081/"

sqlite3 "$WORK/policy.db" "INSERT INTO rules(action, dst) VALUES ('deny', '10.0.0.300/8');" \
	>"$WORK/insert.out" 2>&1
check "sqlite3 refuses a bad CIDR at insert time" [ $? -ne 0 ]
cat "$WORK/insert.out" >&2
check "with a message naming the column" grep -q "dst" "$WORK/insert.out"

# Around the checks: sqlite3 can be told to ignore them.
policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "PRAGMA ignore_check_constraints = 1;
INSERT INTO rules(id, action, dst, dst_port) VALUES (77, 'deny', '10.0.0.300/8', '8080');" >&2
check "the bad row is in the file" \
	[ "$(sqlite3 "$WORK/policy.db" "SELECT count(*) FROM rules WHERE id = 77")" -eq 1 ]
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
# The whole sentence, not a number that a pid or a time could also show.
bad="rules row 77: dst '10.0.0.300/8' is not a CIDR"
check "the agent names the row, the column and the fault in its log" \
	grep -qF "$bad" "$WORK/sluiced.$NS_CLIENT.log"
SLUICE_STATUS_FILE=$WORK/status.$NS_CLIENT ip netns exec "$NS_CLIENT" \
	"$SLUICECTL" status --json >"$WORK/status.json"
check "sluicectl status --json shows that policy error" grep -qF "$bad" "$WORK/status.json"
check "the previous policy stays in force: 8081 still denied" \
	refused "$NS_CLIENT" "http://$SERVER4:8081/"
check "and 8080 still allowed" connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "SIGTERM stops the agent with status 0" agent_stop

head -c 8192 /dev/urandom >"$WORK/corrupt.db"
check "a corrupt database without a last good copy: sluiced still starts" \
	agent_start "$NS_CLIENT" "$WORK/corrupt.db"
check "and says it enforces the built-in default policy, naming the file at fault" \
	grep -q "enforcing the built-in default policy (allow everything), because .*corrupt.db" \
	"$WORK/sluiced.$NS_CLIENT.log"
check "the file was left as it was" [ "$(wc -c <"$WORK/corrupt.db")" -eq 8192 ]
check "and the machine is not cut off (the built-in policy allows, as fail_mode=open)" \
	connects "$NS_CLIENT" "http://$SERVER4:8081/"
check "SIGTERM stops that agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
