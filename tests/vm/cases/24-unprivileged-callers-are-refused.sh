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
setup "sluice.ko loads" sluice_load
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
# A database the user nobody can open and write, so that what stops an
# unprivileged sluiced is the kernel refusing it its sockets, not the file.
chmod o+x "$WORK"
mkdir -m 777 "$WORK/nobody"
policy_init "$WORK/nobody/policy.db"
chmod 666 "$WORK/nobody/policy.db"
nobody timeout 10 "$SLUICED" --db "$WORK/nobody/policy.db" --status-file "" \
	>"$WORK/agent.out" 2>&1
rc=$?
cat "$WORK/agent.out" >&2
check "an unprivileged sluiced stops with status 1" [ "$rc" -eq 1 ]
check "saying which socket the kernel refused it" \
	grep -q "cannot .*not permitted" "$WORK/agent.out"
check "and never became the agent" \
	[ "$(awk '$1 == "mode" { print $2 }' /proc/net/sluice)" = no-agent ]
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
