#!/bin/sh
# No row that sqlite3 takes stops a restarted agent from enforcing. For
# each kind of odd value (domains, addresses, ports, settings) the plain
# sqlite3 CLI refuses it while a good value of the same kind beside it is
# taken; after each, a fresh agent enforces the policy. A row forced past
# the checks (ignore_check_constraints) makes a fresh agent enforce its
# last good copy and say so, until the row is fixed.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

DB=$WORK/policy.db

# enforces: a deny rule on 8081 holds, 8080 is open.
enforces() {
	refused "$NS_CLIENT" "http://$SERVER4:8081/" &&
		connects "$NS_CLIENT" "http://$SERVER4:8080/"
}

# restart: stop the agent (whatever its state) and start a fresh one.
restart() {
	agent_stop
	agent_start "$NS_CLIENT" "$DB"
}

# policy_in_force PATTERN...: sluicectl status --json says which policy
# is in force, in words that match every PATTERN.
policy_in_force() {
	SLUICE_STATUS_FILE=$WORK/status.$NS_CLIENT \
		ip netns exec "$NS_CLIENT" "$SLUICECTL" status --json >"$WORK/status.json" || return 1
	_line=$(grep '"policy_in_force"' "$WORK/status.json")
	echo "$_line" >&2
	for _p in "$@"; do
		echo "$_line" | grep -q "$_p" || return 1
	done
}

topo_up
dmesg_mark
http_server_start "$NS_SERVER" 8080
http_server_start "$NS_SERVER" 8081
setup "sluice.ko loads" sluice_load
policy_init "$DB" "INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '8081');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$DB"
check "8081 denied, 8080 allowed" enforces

# kind ~ odd SQL ~ good SQL of the same kind ('|' is SQL's). The odd row is refused;
# were it not, it would be in the file when the agent restarts.
while IFS='~' read -r kind odd good; do
	[ -n "$kind" ] || continue
	check "$kind: sqlite3 refuses $odd" sh -c "! sqlite3 '$DB' \"$odd\""
	check "$kind: a restarted agent enforces" restart
	check "$kind: 8081 denied, 8080 allowed" enforces
	sqlite3 "$DB" "DELETE FROM rules WHERE id = 99; DELETE FROM settings WHERE key != 'default_action';"
	check "$kind: sqlite3 takes $good" sqlite3 "$DB" "$good"
	sqlite3 "$DB" "DELETE FROM rules WHERE id = 99; DELETE FROM settings WHERE key != 'default_action';"
done <<'ROWS'
domain label~INSERT INTO rules(id, action, domain) VALUES (99, 'deny', printf('%.64c', 'a') || '.test')~INSERT INTO rules(id, action, domain) VALUES (99, 'deny', printf('%.63c', 'a') || '.test')
domain NUL~INSERT INTO rules(id, action, domain) VALUES (99, 'deny', 'a' || char(0) || '.test')~INSERT INTO rules(id, action, domain) VALUES (99, 'deny', 'a.test')
address~INSERT INTO rules(id, action, dst) VALUES (99, 'deny', '::ffff:10.0.0.256')~INSERT INTO rules(id, action, dst) VALUES (99, 'deny', '::ffff:10.0.0.255')
port~INSERT INTO rules(id, action, dst_port) VALUES (99, 'deny', '9000' || char(0))~INSERT INTO rules(id, action, dst_port) VALUES (99, 'deny', '9000')
setting~INSERT INTO settings VALUES ('block_dot', 'true')~INSERT INTO settings VALUES ('block_dot', 'yes')
ROWS

# Past the checks: the agent that is running keeps its policy; a fresh
# one enforces the last good copy and says why.
sqlite3 "$DB" "PRAGMA ignore_check_constraints = 1;
INSERT INTO rules(id, action, domain) VALUES (98, 'deny', printf('%.64c', 'a') || '.test');" >&2
check "a forced bad row: a restarted agent enforces" restart
check "the last good copy: 8081 denied, 8080 allowed" enforces
check "its log says it enforces the last good copy" \
	grep -q "last good copy" "$WORK/sluiced.$NS_CLIENT.log"
check "sluicectl status says the last good copy is in force, and why" \
	policy_in_force "last good copy" "rules row 98"
sqlite3 "$DB" "DELETE FROM rules WHERE id = 98;"
check "fixing the row puts the database back in force" \
	eventually 30 policy_in_force '"database'
check "8081 denied, 8080 allowed" enforces
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
