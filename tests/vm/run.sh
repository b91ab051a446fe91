#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM integration tier: boots Debian's stock kernel /boot/vmlinuz-KREL under
# qemu (software emulation; KVM hangs on these machines) and runs
# tests/vm/cases/*.sh inside it with the host's own tools, the host's root
# file system being shared read-only over virtio-9p. The initramfs, the
# qemu line, the relay of the cases' TAP lines and the checks of how the
# guest ended and of the kernel's log are tests/vm/harness.sh's, the
# launcher of every tier that boots a kernel.
#
# Usage: tests/vm/run.sh [--selftest-oops] [KREL]
#   KREL  kernel release to boot; default (and when /boot/vmlinuz-KREL does
#         not exist): the release kmod/sluice.ko was built for, else the
#         newest /lib/modules/*/build.
#   --selftest-oops  crash the guest kernel on purpose before any case runs;
#         the run must then FAIL (exit 1, "kernel log clean" not ok). This
#         proves that a panic or oops is never taken for success.
# Environment:
#   SLUICE_VM_CASES         shell pattern of case names to run (e.g. '10-*');
#                           by default every case but the soaks (9[0-9]-*,
#                           make soak), which run only when named
#   SLUICE_SOAK_SECONDS     how long a soak case runs (its own default)
#   SLUICE_SOAK_EVENTS      the kinds of event a soak applies (its default: all)
#   SLUICE_SOAK_MIN_EVENTS  how many events a soak must fit (its own default)
#   SLUICE_SOAK_SEED        a soak's seed, printed by a run: replays its events
#   SLUICE_SEED             case 73's seed, printed by a run: repeats its policy
#   SLUICE_VM_CASE_DIR      where the cases are, in the repository (default
#                           tests/vm/cases; tests/bench/vm.sh runs its own)
#   SLUICE_BENCH_*, SLUICE_DEMO_*  passed on to the guest's cases as they are
#   SLUICE_VM_ECHO=1        print the cases' other lines too, not only TAP
#                           and "#" lines (make demo's output is for people)
#   SLUICE_VM_TIMEOUT       seconds for the whole VM run (default 2700)
#   SLUICE_VM_CASE_TIMEOUT  seconds for one case (default 240)
#   SLUICE_VM_KEEP=1        keep the run directory (console log, results)
#   SLUICE_VM_KERNEL        boot this kernel image instead of /boot/vmlinuz-KREL
#                           (tests/vm/debug.sh: the debug kernel); KREL is then
#                           its release, and these two come with it:
#   SLUICE_VM_MODDIR        its /lib/modules/KREL (modules.builtin and co.):
#                           everything the guest needs is built in, and the
#                           guest's modprobe learns that from this directory
#   SLUICE_VM_MODULE        sluice.ko built for it (default kmod/sluice.ko)
#   SLUICE_VM_MEM           guest memory (default 1G)
#   SLUICE_VM_APPEND        more kernel command line (later words win)
#   SLUICE_VM_SLOW          how many times slower than the stock kernel the
#                           guest runs (debug kernel); time bounds of the
#                           cases that measure speed stretch by it
#   SLUICE_VM_TIER          name on the summary line (default "vm")
#   SLUICE_VM_KMEMLEAK=1    the kernel has kmemleak: a run without its final
#                           scan fails
#   SLUICE_VM_UNPINNED_HOOKS=1  the reload cases leave netfilter's hook
#                           points unpinned, so that removing sluice really
#                           removes the last hook (see netfilter_keys_on)
#
# Output: each case's TAP lines, renumbered, then exactly one line
# "vm: N passed, N failed". Exit status 0 only if nothing failed, the guest
# finished every case, the kernel log shows no oops/BUG/WARN/panic nor any
# report of the debug kernel's checkers (KASAN, lockdep, RCU, stalls), and,
# in a kernel with kmemleak, the scan that ends the run found no leak.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd -P)

selftest=""
if [ "${1:-}" = "--selftest-oops" ]; then
	selftest=oops
	shift
fi
# The release to boot is the one kmod/sluice.ko was built for (its
# vermagic): a kernel build tree's "make kernelrelease" may name another
# string (Debian's headers say 6.1.192 for 6.1.0-56-amd64), and a module
# only loads into the kernel of its vermagic.
KREL=${1:-}
MODULE=${SLUICE_VM_MODULE:-$REPO/kmod/sluice.ko}
TIER=${SLUICE_VM_TIER:-vm}
ko_rel=$(modinfo -F vermagic "$MODULE" 2>/dev/null | cut -d' ' -f1)
if [ -n "${SLUICE_VM_KERNEL:-}" ]; then
	KREL=${KREL:-$ko_rel}
elif [ -z "$KREL" ] || [ ! -r "/boot/vmlinuz-$KREL" ]; then
	if [ -n "$ko_rel" ] && [ -r "/boot/vmlinuz-$ko_rel" ]; then
		[ -n "$KREL" ] && echo "vm: no /boot/vmlinuz-$KREL; booting $ko_rel, the release of kmod/sluice.ko"
		KREL=$ko_rel
	elif [ -z "$KREL" ]; then
		KREL=$(for d in /lib/modules/*/build; do
			[ -d "$d" ] && basename "${d%/build}"
		done | sort -V | tail -n 1)
	fi
fi

# shellcheck source=tests/vm/harness.sh
. tests/vm/harness.sh

KERNEL=${SLUICE_VM_KERNEL:-/boot/vmlinuz-$KREL}
vm_need qemu-system-x86_64 busybox cpio modinfo timeout
if [ -z "$KREL" ] || [ ! -r "$KERNEL" ]; then
	not_ok "test kernel $KERNEL exists (install linux-image-amd64 of the same version as the headers)"
	finish
fi

# The host's root file system is reached over virtio-9p, whose modules
# the initramfs brings. A kernel of our own has them built in, and brings
# the directory its modprobe reads instead.
MODS=$VM_9P_MODS
MODDIR=
if [ -n "${SLUICE_VM_KERNEL:-}" ]; then
	MODS=
	MODDIR=${SLUICE_VM_MODDIR:-}
	if [ ! -r "$MODDIR/modules.builtin" ]; then
		not_ok "SLUICE_VM_MODDIR ($MODDIR) holds modules.builtin of $KREL"
		finish
	fi
fi
vm_initramfs vm tests/vm/initramfs-init "$KREL" "$MODS" "$MODDIR"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/sluice-vm.XXXXXX")
RES=$RUN/results
mkdir -p "$RES"
# The module goes with the results: the guest sees the repository, but
# not a module built in a cache under a home directory (a tmpfs there).
SLUICE_VM_KO=$REPO/kmod/sluice.ko
if [ "$MODULE" != "$SLUICE_VM_KO" ]; then
	cp "$MODULE" "$RES/sluice.ko" || { not_ok "module $MODULE exists"; finish; }
	SLUICE_VM_KO=/run/sluice-vm/sluice.ko
fi
cat >"$RES/env" <<ENV
REPO='$REPO'
SLUICE_VM_KREL='$KREL'
SLUICE_VM_KO='$SLUICE_VM_KO'
SLUICE_VM_SELFTEST='$selftest'
SLUICE_VM_CASES='${SLUICE_VM_CASES:-}'
SLUICE_VM_CASE_DIR='${SLUICE_VM_CASE_DIR:-tests/vm/cases}'
SLUICE_VM_CASE_TIMEOUT='${SLUICE_VM_CASE_TIMEOUT:-240}'
SLUICE_VM_UNPINNED_HOOKS='${SLUICE_VM_UNPINNED_HOOKS:-}'
SLUICE_VM_SLOW='${SLUICE_VM_SLOW:-1}'
SLUICE_SOAK_SECONDS='${SLUICE_SOAK_SECONDS:-}'
SLUICE_SOAK_EVENTS='${SLUICE_SOAK_EVENTS:-}'
SLUICE_SOAK_MIN_EVENTS='${SLUICE_SOAK_MIN_EVENTS:-}'
SLUICE_SOAK_SEED='${SLUICE_SOAK_SEED:-}'
SLUICE_SEED='${SLUICE_SEED:-}'
ENV
env | grep '^SLUICE_\(BENCH\|DEMO\)_[A-Z_]*=[0-9A-Za-z._-]*$' >>"$RES/env"

APPEND=${SLUICE_VM_APPEND:-}
# What the guest's case 00 must find in /proc/sys/kernel/panic_on_warn:
# the last panic_on_warn= of the command line.
panic_on_warn=$(echo "$VM_APPEND $APPEND" | tr ' ' '\n' | sed -n 's/^panic_on_warn=//p' | tail -n 1)
echo "SLUICE_VM_PANIC_ON_WARN='$panic_on_warn'" >>"$RES/env"
vm_boot "$KERNEL" "$INITRD" "${SLUICE_VM_MEM:-1G}" "${SLUICE_VM_TIMEOUT:-2700}" \
	"$APPEND" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,multidevs=remap" \
	-virtfs "local,path=$RES,mount_tag=results,security_model=none"

# The cases' own TAP lines, renumbered into one sequence. A case that
# printed nothing, exited non-zero, or never finished (its exit status is
# missing: the kernel died under it) is one more failure.
cases=0
for tap in "$RES"/*.tap; do
	[ -e "$tap" ] || break
	cases=$((cases + 1))
	name=$(basename "$tap" .tap)
	echo "# case $name ($(cat "$RES/$name.secs" 2>/dev/null || echo "?") s)"
	vm_relay "$tap" "$name"
	status=$(cat "$RES/$name.rc" 2>/dev/null)
	if [ -z "$status" ]; then
		not_ok "$name: case ran to its end (it never finished)"
	elif [ "$relay_lines" -eq 0 ] || [ "$status" -ne 0 ]; then
		not_ok "$name: case ran to its end (exit $status, $relay_lines results)"
	else
		continue
	fi
	[ -s "$RES/$name.err" ] && tail -n 20 "$RES/$name.err" | sed 's/^/#   /'
done
[ "$cases" -gt 0 ] || not_ok "at least one case ran${SLUICE_VM_CASES:+ (SLUICE_VM_CASES=$SLUICE_VM_CASES)}"

vm_ended "$RES/done"
vm_kernel_log_clean "$RES/dmesg"

# kmemleak: guest.sh scans once every case is over and the module is gone
# and saves what it reports; a leak is a failure even in a clean log.
if [ -e "$RES/kmemleak" ]; then
	if grep -q 'unreferenced object' "$RES/kmemleak"; then
		not_ok "kmemleak scan at the end finds no leak ($(grep -c 'unreferenced object' "$RES/kmemleak") objects)"
		head -n 40 "$RES/kmemleak" | sed 's/^/#   /'
	else
		ok "kmemleak scan at the end finds no leak"
	fi
elif [ -n "${SLUICE_VM_KMEMLEAK:-}" ]; then
	not_ok "kmemleak scan at the end ran (no report saved)"
fi

vm_end "${SLUICE_VM_KEEP:-}"
