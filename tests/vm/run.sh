#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM integration tier: boots Debian's stock kernel /boot/vmlinuz-KREL under
# qemu (software emulation; KVM hangs on these machines) and runs
# tests/vm/cases/*.sh inside it with the host's own tools, the host's root
# file system being shared read-only over virtio-9p.
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

passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
	echo "$TIER: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

KERNEL=${SLUICE_VM_KERNEL:-/boot/vmlinuz-$KREL}
for need in qemu-system-x86_64 busybox cpio modinfo timeout; do
	if ! command -v "$need" >/dev/null 2>&1; then
		not_ok "host has $need (run: make deps)"
		finish
	fi
done
if [ -z "$KREL" ] || [ ! -r "$KERNEL" ]; then
	not_ok "test kernel $KERNEL exists (install linux-image-amd64 of the same version as the headers)"
	finish
fi

# Modules needed to reach the host's root file system over virtio-9p, in
# load order (busybox insmod resolves no dependencies). A kernel of our own
# has them built in, and brings the directory its modprobe reads instead.
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
netfs fscache 9pnet 9pnet_virtio 9p"
MODDIR=
if [ -n "${SLUICE_VM_KERNEL:-}" ]; then
	MODS=
	MODDIR=${SLUICE_VM_MODDIR:-}
	if [ ! -r "$MODDIR/modules.builtin" ]; then
		not_ok "SLUICE_VM_MODDIR ($MODDIR) holds modules.builtin of $KREL"
		finish
	fi
fi

# The initramfs is cached outside the repo and rebuilt only when one of its
# inputs changes (kernel release, module files, busybox, init script).
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sluice/vm
mkdir -p "$CACHE" || exit 1
busybox=$(command -v busybox)
# The initramfs has no libraries: only a static busybox can run there.
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	not_ok "$busybox is statically linked (install busybox-static)"
	finish
fi
modpaths=""
for m in $MODS; do
	p=$(modinfo -k "$KREL" -n "$m" 2>/dev/null)
	if [ -z "$p" ] || [ ! -r "$p" ]; then
		not_ok "module $m of $KREL found (install linux-image-$KREL)"
		finish
	fi
	modpaths="$modpaths $p"
done
# shellcheck disable=SC2086
key=$( { echo "$KREL $MODS"; cat tests/vm/initramfs-init "$busybox" $modpaths;
	 [ -n "$MODDIR" ] && cat "$MODDIR"/modules.*; } | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$KREL-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
	echo "vm: building initramfs for $KREL"
	stage=$(mktemp -d)
	mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/proc" "$stage/sys" \
		"$stage/dev"
	cp "$busybox" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	cp tests/vm/initramfs-init "$stage/init"
	chmod 0755 "$stage/init"
	for p in $modpaths; do
		m=$(basename "$p")
		m=${m%%.ko*}
		case "$p" in
		*.ko) cp "$p" "$stage/lib/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$p" >"$stage/lib/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$p" >"$stage/lib/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$p" >"$stage/lib/modules/$m.ko" ;;
		esac
		echo "$m" >>"$stage/modules"
	done
	touch "$stage/modules"
	# initramfs-init puts it where the guest's modprobe looks.
	[ -n "$MODDIR" ] && cp -r "$MODDIR" "$stage/lib/modules/$KREL"
	# Written under a temporary name and renamed, so that concurrent runs
	# never boot a half-written initramfs.
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$INITRD.$$" && mv "$INITRD.$$" "$INITRD"
	rm -rf "$stage"
	find "$CACHE" -name "initramfs-$KREL-*.cpio.gz" ! -name "${INITRD##*/}" \
		-delete
fi

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
ENV
env | grep '^SLUICE_\(BENCH\|DEMO\)_[A-Z_]*=[0-9A-Za-z._-]*$' >>"$RES/env"

# panic_on_warn + oops=panic turn any WARN or oops into a panic, and
# panic=-1 with -no-reboot turns the panic into the end of qemu: a broken
# kernel stops the run at once instead of limping on.
APPEND="console=ttyS0 printk.time=1 panic_on_warn=1 oops=panic panic=-1"
APPEND="$APPEND softlockup_panic=1 quiet loglevel=4 ${SLUICE_VM_APPEND:-}"
# What the guest's case 00 must find in /proc/sys/kernel/panic_on_warn:
# the last panic_on_warn= of the command line.
panic_on_warn=$(echo "$APPEND" | tr ' ' '\n' | sed -n 's/^panic_on_warn=//p' | tail -n 1)
echo "SLUICE_VM_PANIC_ON_WARN='$panic_on_warn'" >>"$RES/env"
tmo=${SLUICE_VM_TIMEOUT:-2700}
echo "vm: booting $KERNEL (timeout ${tmo}s)"
t0=$(date +%s)
timeout -k 10 "$tmo" qemu-system-x86_64 \
	-nodefaults -display none -no-reboot -monitor none \
	-machine pc -accel tcg,thread=multi -cpu "${SLUICE_VM_CPU:-max}" -smp 2 -m "${SLUICE_VM_MEM:-1G}" \
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
	-serial "file:$RUN/console.log" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,multidevs=remap" \
	-virtfs "local,path=$RES,mount_tag=results,security_model=none" \
	</dev/null >"$RUN/qemu.log" 2>&1
qrc=$?
t1=$(date +%s)
echo "vm: qemu exited with $qrc after $((t1 - t0)) s"
[ -s "$RUN/qemu.log" ] && sed 's/^/# qemu: /' "$RUN/qemu.log"

# The cases' own TAP lines, renumbered into one sequence. A case that
# printed nothing, exited non-zero, or never finished (its exit status is
# missing: the kernel died under it) is one more failure.
cases=0
for tap in "$RES"/*.tap; do
	[ -e "$tap" ] || break
	cases=$((cases + 1))
	name=$(basename "$tap" .tap)
	echo "# case $name ($(cat "$RES/$name.secs" 2>/dev/null || echo "?") s)"
	lines=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			lines=$((lines + 1))
			desc=$(echo "$line" | sed 's/^\(not \)\{0,1\}ok [0-9]* *-\{0,1\} *//')
			case "$line" in
			ok*) ok "$name: $desc" ;;
			*) not_ok "$name: $desc" ;;
			esac
			;;
		"#"*) echo "$line" ;;
		*) [ -n "${SLUICE_VM_ECHO:-}" ] && echo "$line" ;;
		esac
	done <"$tap"
	status=$(cat "$RES/$name.rc" 2>/dev/null)
	if [ -z "$status" ]; then
		not_ok "$name: case ran to its end (it never finished)"
	elif [ "$lines" -eq 0 ] || [ "$status" -ne 0 ]; then
		not_ok "$name: case ran to its end (exit $status, $lines results)"
	else
		continue
	fi
	[ -s "$RES/$name.err" ] && tail -n 20 "$RES/$name.err" | sed 's/^/#   /'
done
[ "$cases" -gt 0 ] || not_ok "at least one case ran${SLUICE_VM_CASES:+ (SLUICE_VM_CASES=$SLUICE_VM_CASES)}"

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	not_ok "VM finished within ${tmo}s"
elif [ -e "$RES/done" ]; then
	ok "guest ran every case and powered off"
else
	not_ok "guest ran every case and powered off (no done marker: crash or panic)"
fi

# Kernel trouble in the serial console (printed even when the guest never
# got to save its dmesg) or in the guest's final dmesg (which also holds
# messages below the console log level): tests/vm/trouble.sh's pattern,
# the one of every tier (oopses, WARNs, and what the debug kernel's
# checkers say: KASAN, UBSAN, lockdep, RCU, stalls, lockups, hung tasks,
# debug objects, kmemleak), on kernel lines only.
# shellcheck source=tests/vm/trouble.sh
. tests/vm/trouble.sh
trouble=$(cat "$RUN/console.log" "$RES/dmesg" 2>/dev/null | kernel_trouble)
if [ -n "$trouble" ]; then
	not_ok "kernel log clean (no oops, BUG, WARN, panic or checker report)"
	echo "$trouble" | sed 's/^/#   /'
	# The whole first report, for whoever must fix it.
	first=$(echo "$trouble" | head -n 1)
	echo "# first report in full:"
	tr -d '\r' <"$RUN/console.log" | grep -A 60 -F -- "$first" | head -n 60 |
		sed 's/^/#   /'
else
	ok "kernel log clean (no oops, BUG, WARN, panic or checker report)"
fi

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

if [ "$failed" -ne 0 ]; then
	echo "# last lines of the serial console ($RUN/console.log):"
	tr -d '\r' <"$RUN/console.log" | tail -n 40 | sed 's/^/#   /'
fi
if [ "$failed" -ne 0 ] || [ -n "${SLUICE_VM_KEEP:-}" ]; then
	echo "# run directory kept: $RUN"
else
	rm -rf "$RUN"
fi
finish
