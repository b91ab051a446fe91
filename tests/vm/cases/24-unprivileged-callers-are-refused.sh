#!/bin/sh
# The generic netlink family needs CAP_NET_ADMIN: an unprivileged user
# cannot register, change the fail mode or read through it, and is told
# so in one sentence; /proc/net/sluice stays readable to anyone.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

dmesg_mark
check "sluice.ko loads" sluice_load
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
policy_init "$WORK/policy.db"
chmod 644 "$WORK/policy.db"
nobody "$SLUICED" --db "$WORK/policy.db" --status-file "" >"$WORK/agent.out" 2>&1 &
upid=$!
sleep 2
check "an unprivileged sluiced never becomes the agent" \
	[ "$(awk '$1 == "mode" { print $2 }' /proc/net/sluice)" = no-agent ]
kill "$upid" 2>/dev/null
wait "$upid" 2>/dev/null
cat "$WORK/agent.out" >&2
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
