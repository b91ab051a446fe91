#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# KUnit tier: runs the suites of kmod/sluice_kunit.c in a real kernel.
#
# Debian's stock kernel has no CONFIG_KUNIT, so the suites run in the VM
# tier's debug kernel (tests/vm/debug-kernel.sh: Debian's linux-source-6.1
# with KUnit, KASAN, lockdep, PROVE_RCU, DEBUG_OBJECTS and kmemleak, built
# once and cached outside the repo). This script builds sluice.ko against it
# with CONFIG_SLUICE_KUNIT_TEST=y (which links the suites into the module),
# boots it under qemu with a busybox initramfs and insmods the module:
# kunit_test_suites() in a module runs at load time and prints KTAP on the
# serial console, which the host checks with the kernel tree's kunit.py
# parser. After rmmod a kmemleak scan looks for what the suites or the
# module's exit left behind. A cold run builds the kernel (some 20 minutes
# on two cores, shared with make vm-debug), a warm one takes a minute.
#
# Last line: "kunit: N passed, N failed". Exit status non-zero on any failed
# test, build error, missing result, kernel warning, oops, KASAN, lockdep,
# RCU or debug-objects report, or leak.
#
# Environment:
#   XDG_CACHE_HOME      cache root (default ~/.cache), see debug-kernel.sh
#   SLUICE_KUNIT_TIMEOUT seconds qemu may run (default 600: KASAN and
#                       lockdep under software emulation are slow)
#   SLUICE_KUNIT_KEEP=1 keep the scratch dir of this run for inspection

set -eu

cd "$(dirname "$0")/../.."
qemu_timeout=${SLUICE_KUNIT_TIMEOUT:-600}
jobs=$(nproc 2>/dev/null || echo 2)

# Every exit path ends with the one summary line the aggregator greps for,
# so a build error counts as one failure, not as a silent zero. Progress
# lines say "[kunit]" so that nothing else starts with "kunit: ".
passed=0
failed=0
scratch=
finish() {
	rc=$?
	[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
	if [ -n "$scratch" ] && [ -z "${SLUICE_KUNIT_KEEP:-}" ]; then
		rm -rf "$scratch"
	elif [ -n "$scratch" ]; then
		echo "[kunit] kept $scratch"
	fi
	echo "kunit: $passed passed, $failed failed"
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

die() {
	echo "[kunit] error: $*" >&2
	exit 1
}

now() {
	date +%s
}

for tool in make gcc python3 qemu-system-x86_64 timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing; run 'make deps'"
done
busybox=$(command -v busybox 2>/dev/null || true)
[ -n "$busybox" ] || die "busybox is missing; run 'make deps' (busybox-static)"
# A dynamic busybox would need its libraries in the initramfs.
if command -v file >/dev/null 2>&1 &&
   ! file -L "$busybox" | grep -q 'statically linked'; then
	die "$busybox is not static; install busybox-static"
fi

# The kernel: built once per cache key (its own checks and messages), or
# taken from the cache. Its build tree links to the source, which has the
# KTAP parser.
echo "[kunit] the debug kernel (tests/vm/debug-kernel.sh; cold: some 20 minutes)"
cache=$(sh tests/vm/debug-kernel.sh | tail -n 1)
[ -n "$cache" ] && [ -f "$cache/kernel.ok" ] || die "the debug kernel did not build"
obj=$cache/build
src=$obj/source
grep -qx 'CONFIG_KUNIT=y' "$obj/.config" || die "$obj has no CONFIG_KUNIT"
[ -x "$obj/usr/gen_init_cpio" ] || die "no usr/gen_init_cpio in $obj"
[ -f "$src/tools/testing/kunit/kunit.py" ] || die "no kunit.py in $src"

# Scratch dirs of runs that were killed: nothing still uses them after an
# hour (a run takes seconds once the kernel is built).
find "$cache" -maxdepth 1 -name 'run.*' -mmin +60 -exec rm -rf {} + 2>/dev/null ||
	true

# Scratch dir of this run: a copy of the module's sources only (never the
# repo's own *.o, which other builds make against Debian's headers at the
# same time), the initramfs and the console log.
scratch=$(mktemp -d "$cache/run.XXXXXX")
mod=$scratch/mod
mkdir -p "$mod/kmod" "$mod/uapi"
cp Kbuild "$mod/"
cp kmod/Kbuild kmod/*.c kmod/*.h "$mod/kmod/"
cp uapi/*.h "$mod/uapi/"

t0=$(now)
echo "[kunit] building sluice.ko with its KUnit suites"
# The prefix map makes failure messages name kmod/sluice_kunit.c, not the
# scratch copy.
if ! make -C "$obj" M="$mod" CONFIG_SLUICE_KUNIT_TEST=y -j"$jobs" \
	KCFLAGS="-fmacro-prefix-map=$mod/=" modules >"$scratch/mod.log" 2>&1
then
	cat "$scratch/mod.log" >&2
	die "module build failed"
fi
# Compiler warnings are errors for the module too.
if grep -qi 'warning:' "$scratch/mod.log"; then
	grep -i 'warning:' "$scratch/mod.log" >&2
	die "module build has warnings"
fi
[ -f "$mod/kmod/sluice.ko" ] || die "no kmod/sluice.ko after build"
echo "[kunit] module built in $(($(now) - t0)) s"

# The guest's init: mount what KUnit needs, load the module (its suites run
# while it loads and print KTAP on the console), list the suites that ran,
# unload it, and reboot (qemu runs with -no-reboot, so that ends it). The
# DONE marker proves init got to the end; without it the run failed,
# whatever the log says. The console is parsed rather than debugfs'
# results files because 6.1 cuts each test's log there at 512 bytes, which
# a parameterized test with 32 rows overflows.
cat >"$scratch/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
# What boot left unreferenced is not the module's doing.
echo clear >/sys/kernel/debug/kmemleak
echo "SLUICE-KUNIT-BEGIN"
if insmod /sluice.ko; then
	echo "SLUICE-KUNIT-END insmod ok"
else
	echo "SLUICE-KUNIT-END insmod failed"
fi
for d in /sys/kernel/debug/kunit/*/; do
	[ -d "$d" ] && echo "SLUICE-KUNIT-SUITE $(basename "$d")"
done
# Unloading proves the module's exit path is clean after the tests.
if rmmod sluice; then
	echo "SLUICE-KUNIT: rmmod ok"
else
	echo "SLUICE-KUNIT: rmmod failed"
fi
# kmemleak reports an object once it has been unreferenced for 5 s and
# seen so by two scans.
echo scan >/sys/kernel/debug/kmemleak
sleep 6
echo scan >/sys/kernel/debug/kmemleak
echo "SLUICE-KUNIT-KMEMLEAK $(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)"
head -n 40 /sys/kernel/debug/kmemleak
echo "SLUICE-KUNIT-DONE"
reboot -f
EOF

# gen_init_cpio (from the kernel build) makes /dev/console without root.
cat >"$scratch/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /bin 0755 0 0
dir /proc 0755 0 0
dir /sys 0755 0 0
file /bin/busybox $busybox 0755 0 0
file /init $scratch/init 0755 0 0
file /sluice.ko $mod/kmod/sluice.ko 0644 0 0
EOF
"$obj/usr/gen_init_cpio" "$scratch/initramfs.list" >"$scratch/initramfs.cpio" ||
	die "gen_init_cpio failed"

# The machine of every VM tier (tests/vm/machine.sh). kunit.enable=1
# because the kernel leaves KUNIT_DEFAULT_ENABLED off (the VM tier's boots
# run no suite). panic_on_warn and
# oops=panic turn any WARN or oops into a panic, panic=-1 reboots at once and
# -no-reboot turns that into qemu's exit; timeout bounds a hang.
t0=$(now)
echo "[kunit] booting the kunit kernel under qemu"
console=$scratch/console.log
qrc=0
# shellcheck source=tests/vm/machine.sh
. tests/vm/machine.sh
# shellcheck disable=SC2086 # VM_MACHINE is words
timeout -k 10 "$qemu_timeout" qemu-system-x86_64 $VM_MACHINE -m 1G \
	-nodefaults -no-reboot -display none -monitor none \
	-serial "file:$console" \
	-kernel "$obj/arch/x86/boot/bzImage" \
	-initrd "$scratch/initramfs.cpio" \
	-append "console=ttyS0 kunit.enable=1 panic_on_warn=1 oops=panic panic=-1" \
	</dev/null || qrc=$?
echo "[kunit] qemu ran $(($(now) - t0)) s (exit $qrc)"
# The serial port emits CRLF.
tr -d '\r' <"$console" >"$console.txt"

# A kernel warning, oops or panic, or a report of one of the debug
# kernel's checkers, fails the tier even if every test passed: the one
# pattern of every tier (tests/vm/trouble.sh). This kernel prints no
# printk stamps, and nothing but the kernel, the init above and the
# kmemleak report (counted on its own) writes to this console.
# shellcheck source=tests/vm/trouble.sh
. tests/vm/trouble.sh
bad=$(kernel_trouble_unstamped <"$console.txt" || true)
if [ -n "$bad" ]; then
	cat "$console.txt"
	die "kernel reported a problem: $(echo "$bad" | head -n 1)"
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	cat "$console.txt"
	die "qemu timed out after ${qemu_timeout}s"
fi
# A panic reboots, and -no-reboot makes that a clean exit: any other status
# is qemu's own trouble.
[ "$qrc" -eq 0 ] || { cat "$console.txt"; die "qemu failed with status $qrc"; }
grep -q '^SLUICE-KUNIT-END insmod ok' "$console.txt" ||
	{ cat "$console.txt"; die "insmod of sluice.ko failed in the guest"; }
grep -q '^SLUICE-KUNIT: rmmod ok' "$console.txt" ||
	{ cat "$console.txt"; die "rmmod of sluice.ko failed in the guest"; }
grep -q '^SLUICE-KUNIT-DONE' "$console.txt" ||
	{ cat "$console.txt"; die "guest did not finish (no DONE marker)"; }
leaks=$(sed -n 's/^SLUICE-KUNIT-KMEMLEAK \([0-9]*\)$/\1/p' "$console.txt")
[ -n "$leaks" ] || { cat "$console.txt"; die "the kmemleak scan did not run"; }
[ "$leaks" -eq 0 ] ||
	{ cat "$console.txt"; die "kmemleak found $leaks unreferenced objects"; }
echo "[kunit] kmemleak scan after rmmod: no leak"

# One KTAP document: the suites of a module print no top-level header, so
# add one with the number of suites debugfs says were registered; the
# parser then also notices a suite that registered but printed no result.
nsuites=$(grep -c '^SLUICE-KUNIT-SUITE ' "$console.txt" || true)
[ "$nsuites" -gt 0 ] || { cat "$console.txt"; die "no KUnit suite ran in the guest"; }
ktap=$scratch/results.ktap
{
	echo "KTAP version 1"
	echo "1..$nsuites"
	sed -n '/^SLUICE-KUNIT-BEGIN$/,/^SLUICE-KUNIT-END /p' "$console.txt" |
		grep -v '^SLUICE-KUNIT-'
} >"$ktap"

parsed=$scratch/parsed.txt
prc=0
python3 "$src/tools/testing/kunit/kunit.py" parse "$ktap" >"$parsed" 2>&1 ||
	prc=$?
# kunit.py's per-test lines, without its wall-clock prefix.
sed 's/^\[[0-9:]*\] //' "$parsed"

# Leaf tests (each parameter counts once), from kunit.py's summary line:
# "Testing complete. Ran N tests: passed: P, failed: F, crashed: C, ..."
# (it leaves out the counts that are zero).
count() {
	n=$(sed -n "s/.*Testing complete\..*[ ,] *$1: \([0-9]*\).*/\1/p" \
		"$parsed" | tail -n 1)
	echo "${n:-0}"
}
grep -q 'Testing complete\.' "$parsed" ||
	{ cat "$ktap"; die "kunit.py found no test results"; }
passed=$(count passed)
failed=$(($(count failed) + $(count crashed) + $(count errors)))
# kunit.py unhappy while no test failed: the KTAP itself is broken, show it.
if { [ "$prc" -ne 0 ] || [ "$passed" -eq 0 ]; } && [ "$failed" -eq 0 ]; then
	failed=1
	echo "[kunit] kunit.py rejected this KTAP:" >&2
	cat "$ktap" >&2
fi
[ "$prc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
