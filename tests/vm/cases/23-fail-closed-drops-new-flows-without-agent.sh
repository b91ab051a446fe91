#!/bin/sh
# fail_mode=closed: without a live agent new flows are dropped and
# counted; switching back to open at run time lets them through. The fail
# mode is the module's, so every namespace without an agent (the router,
# the server) follows it too: this case talks to a server on the client's
# own loopback, where the client's agent decides both ends.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

topo_up
dmesg_mark
http_server_start "$NS_CLIENT" 8080
check "sluice.ko loads with fail_mode=closed" sluice_load fail_mode=closed
check "the parameter reads closed" \
	grep -qx closed /sys/module/sluice/parameters/fail_mode
check "no agent: a new connection fails" \
	refused "$NS_CLIENT" "http://127.0.0.1:8080/"
check "and is counted as failed_closed" \
	[ "$(sluice_stat "$NS_CLIENT" failed_closed)" -gt 0 ]
policy_init "$WORK/policy.db"
check "with an agent the connection works" \
	agent_start "$NS_CLIENT" "$WORK/policy.db"
check "curl through the agent" connects "$NS_CLIENT" "http://127.0.0.1:8080/"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "after SIGKILL, fail-closed: new connections fail" \
	refused "$NS_CLIENT" "http://127.0.0.1:8080/"
echo open >/sys/module/sluice/parameters/fail_mode
check "fail_mode=open at run time: they work" \
	connects "$NS_CLIENT" "http://127.0.0.1:8080/"
check "a bad fail_mode value is refused" \
	sh -c '! echo sideways >/sys/module/sluice/parameters/fail_mode'
check "rmmod sluice" sluice_unload
check "a mark_mask that is not two adjacent bits is refused at load" \
	sh -c "! insmod $SLUICE_KO mark_mask=0x5"
check "kernel log clean" dmesg_clean
tap_done
