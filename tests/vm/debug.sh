#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make vm-debug: the VM tier's cases in the debug kernel. Builds (or takes
# from the cache) the kernel of tests/vm/debug-kernel.sh (Debian's 6.1 and
# Debian's config, with KASAN, lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP,
# DEBUG_OBJECTS and kmemleak), builds sluice.ko against it from a copy of
# the sources (so the stock build's kmod/sluice.ko is never touched), and
# runs tests/vm/run.sh on it:
#   - no netfilter hook point is pinned: every rmmod of the reload cases
#     really removes the last hook (SLUICE_VM_UNPINNED_HOOKS);
#   - a WARN does not panic the guest (the run goes on, so that one report
#     does not hide the next), but any report of KASAN, lockdep, RCU,
#     debug objects, a stall or a WARN fails the run;
#   - the run ends with a kmemleak scan, and a leak fails it.
#
# Usage: tests/vm/debug.sh [CASE-PATTERN]  (default: every case)
# Environment: SLUICE_VM_CASE_TIMEOUT (default 900 s: KASAN and lockdep
# under software emulation are slow), SLUICE_VM_TIMEOUT (default 7200 s),
# SLUICE_VM_KEEP, SLUICE_VM_TIER (default vm-debug; make soak: soak),
# SLUICE_SOAK_*, and those of tests/vm/debug-kernel.sh.
# Last line: "vm-debug: N passed, N failed" (or SLUICE_VM_TIER's name).
set -u
cd "$(dirname "$0")/../.." || exit 1

TIER=${SLUICE_VM_TIER:-vm-debug}
fail() {
	echo "[vm-debug] error: $*" >&2
	echo "$TIER: 0 passed, 1 failed"
	exit 1
}

dir=$(sh tests/vm/debug-kernel.sh | tail -n 1)
if [ -z "$dir" ] || [ ! -f "$dir/kernel.ok" ]; then
	fail "the debug kernel did not build"
fi
krel=$(cat "$dir/kernelrelease")
if [ ! -x agent/sluiced ] || [ ! -x agent/sluicectl ]; then
	fail "the agent is not built (make agent)"
fi

# The module's sources only, in a scratch dir of the cache: never the
# repository's own objects, which belong to the stock build.
find "$dir" -maxdepth 1 -name 'mod.*' -mmin +240 -exec rm -rf {} + 2>/dev/null
mod=$(mktemp -d "$dir/mod.XXXXXX")
mkdir -p "$mod/kmod" "$mod/uapi"
cp Kbuild "$mod/"
cp kmod/Kbuild kmod/*.h "$mod/kmod/"
for f in kmod/*.c; do
	case "$f" in *.mod.c) ;; *) cp "$f" "$mod/kmod/" ;; esac
done
cp uapi/*.h "$mod/uapi/"
echo "[vm-debug] building sluice.ko for $krel" >&2
if ! make -C "$dir/build" M="$mod" -j"$(nproc 2>/dev/null || echo 2)" \
	KCFLAGS="-fmacro-prefix-map=$mod/=" modules >"$mod/build.log" 2>&1; then
	cat "$mod/build.log" >&2
	fail "sluice.ko does not build against the debug kernel"
fi
# Warnings are errors, as for the stock and KUnit builds.
if grep -i 'warning:' "$mod/build.log" >&2; then
	fail "sluice.ko has warnings when built against the debug kernel"
fi
[ -f "$mod/kmod/sluice.ko" ] || fail "no kmod/sluice.ko after the build"

SLUICE_VM_KERNEL=$dir/build/arch/x86/boot/bzImage \
SLUICE_VM_MODDIR=$dir/modroot/lib/modules/$krel \
SLUICE_VM_MODULE=$mod/kmod/sluice.ko \
SLUICE_VM_TIER=$TIER \
SLUICE_VM_MEM=2G \
SLUICE_VM_APPEND="panic_on_warn=0" \
SLUICE_VM_SLOW=${SLUICE_VM_SLOW:-4} \
SLUICE_VM_KMEMLEAK=1 \
SLUICE_VM_UNPINNED_HOOKS=1 \
SLUICE_VM_CASES=${1:-${SLUICE_VM_CASES:-}} \
SLUICE_VM_CASE_TIMEOUT=${SLUICE_VM_CASE_TIMEOUT:-900} \
SLUICE_VM_TIMEOUT=${SLUICE_VM_TIMEOUT:-7200} \
	sh tests/vm/run.sh "$krel"
rc=$?
rm -rf "$mod"
exit $rc
