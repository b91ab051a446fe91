#!/bin/sh
# A hostile caller of the "sluice" generic netlink family: every command
# (and unknown ones) bare, with each attribute at many wrong lengths,
# scalars marked nested, attribute headers that lie about their length,
# and thousands of random bodies. Every request is answered (an error, an
# extended ack where the policy refused an attribute), the kernel log stays
# clean and the family keeps working. (User-namespace callers are not
# tried here: the guest runs its cases chrooted into the host's file
# system, where unshare(CLONE_NEWUSER) is refused.)
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

check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
tap_done
