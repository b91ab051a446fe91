#!/bin/sh
# A hostile caller of the "sluice" generic netlink family: every command
# (and unknown ones) bare, with each attribute at many wrong lengths,
# scalars marked nested, attribute headers that lie about their length,
# and thousands of random bodies. Every request is answered (an error, an
# extended ack where the policy refused an attribute), the kernel log stays
# clean and the family keeps working. Root of a user namespace may act on
# a network namespace it owns, never on the initial one.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"

HOSTILE=$REPO/build/genl_hostile
dmesg_mark
setup "sluice.ko loads" sluice_load
setup "hostile namespace" ns_add sl-hostile
check "the control: a well-formed GET_CONFIG is answered" in_ns sl-hostile "$HOSTILE" get

seed=$(date +%s)
in_ns sl-hostile "$HOSTILE" fuzz "$seed" 3000 >"$WORK/fuzz.out" 2>"$WORK/fuzz.err"
rc=$?
cat "$WORK/fuzz.out" "$WORK/fuzz.err" >&2
read -r _ sent _ answered _ good _ refused _ acks _ lost <"$WORK/fuzz.out"
all_answered() {
	[ "$rc" -eq 0 ] && [ "${sent:-0}" -gt 8000 ] && [ "$answered" -eq "$sent" ] &&
		[ "$lost" -eq 0 ]
}
mostly_refused() { [ "${refused:-0}" -gt "$((sent / 2))" ] && [ "${acks:-0}" -gt 0 ]; }
check "every one of $sent malformed requests answered, none lost (seed $seed)" all_answered
check "$refused refused, $acks of them with an extended ack" mostly_refused
echo "# $good accepted (requests that happen to be well formed)" >&2
check "the family still answers afterwards" in_ns sl-hostile "$HOSTILE" get
check "nothing changed in the initial namespace" \
	sh -c 'grep -qx "mode no-agent" /proc/net/sluice && grep -qx "fail_mode open" /proc/net/sluice'

unshare --user --map-root-user "$HOSTILE" get 2>"$WORK/userns.err"
rc=$?
cat "$WORK/userns.err" >&2
check "root of a new user namespace is refused on the initial namespace (EPERM)" [ "$rc" -eq 3 ]
check "the control: the same caller in a network namespace it owns is answered" \
	unshare --user --map-root-user --net "$HOSTILE" get
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
