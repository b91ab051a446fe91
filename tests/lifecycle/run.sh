#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lifecycle tier: sluice installed, restarted, killed, hung, upgraded,
# stopped and removed the way a user does it, under systemd as PID 1, while
# connections keep coming; zero may fail.
#
# The guest is a minimal Debian made with debootstrap (tests/lifecycle/
# root.sh, cached in ~/.cache/sluice/lifecycle-KEY), booted by Debian's
# stock kernel /boot/vmlinuz-KREL under qemu (software emulation: KVM
# hangs here) through a busybox initramfs that lays a tmpfs over the
# cached root and hands PID 1 to systemd. The build is installed with
# dpkg -i of the packages "make deb" makes; a second, newer pair (another
# build of the module, another version) is the upgrade.
#
# Usage: tests/lifecycle/run.sh
# Environment: SLUICE_LIFECYCLE_TIMEOUT (seconds for the VM, default 1500),
#              SLUICE_LIFECYCLE_KEEP=1 (keep the run directory)
# Output: TAP lines, then "lifecycle: N passed, N failed"; exit status 0
# only if nothing failed, the guest finished, and no oops/WARN was logged.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd -P)

passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
	echo "lifecycle: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

for need in qemu-system-x86_64 busybox cpio modinfo dpkg-deb debootstrap timeout; do
	command -v "$need" >/dev/null 2>&1 || { not_ok "host has $need (run: make deps)"; finish; }
done
if [ ! -e kmod/sluice.ko ] || [ ! -e agent/sluiced ]; then
	not_ok "the build exists (run: make)"
	finish
fi
KREL=$(modinfo -F vermagic kmod/sluice.ko | cut -d' ' -f1)
KERNEL=/boot/vmlinuz-$KREL
[ -r "$KERNEL" ] || { not_ok "test kernel $KERNEL exists (install linux-image-$KREL)"; finish; }
VERSION=$(sed -n 's/^#define SLUICED_VERSION[^"]*"\(.*\)"/\1/p' agent/sluiced.c)

t0=$(date +%s)
if ROOT=$(sh tests/lifecycle/root.sh "$KREL"); then
	ok "Debian root for the guest ($(($(date +%s) - t0)) s)"
else
	not_ok "Debian root for the guest (debootstrap)"
	finish
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/sluice-lifecycle.XXXXXX")
P=$RUN/payload
mkdir -p "$P/results" "$P/guest" "$P/v1" "$P/v2"
cp tests/lifecycle/guest/* "$P/guest/"
cp tests/vm/flows.py "$P/flows.py"
mkdir -p "$P/tests/vm"
cp tests/vm/trouble.sh "$P/tests/vm/"

# v1: this build. v2: the same sources with the module rebuilt from a
# tree that differs by one comment (so another build ID: a new module to
# put in service) and a higher package version.
V2=$VERSION+lifecycle2
src2=$RUN/src2
mkdir -p "$src2"
cp -a Makefile Kbuild dkms.conf README.md kmod uapi agent policy packaging man \
	systemd scripts "$src2/"
echo "/* lifecycle upgrade build */" >>"$src2/kmod/main.c"
if sh packaging/deb/build.sh "$P/v1" "$VERSION" >"$RUN/deb.log" 2>&1 &&
   make -C "$src2" -s module >>"$RUN/deb.log" 2>&1 &&
   sh packaging/deb/build.sh "$P/v2" "$V2" "$src2" >>"$RUN/deb.log" 2>&1; then
	ok "packages v$VERSION and v$V2 built"
else
	not_ok "packages v$VERSION and v$V2 built"
	sed 's/^/#   /' "$RUN/deb.log"
	finish
fi
MODULES_PKG=sluice-modules-$KREL
cat >"$P/env" <<ENV
V1_DEBS='sluice_${VERSION}_amd64.deb ${MODULES_PKG}_${VERSION}_amd64.deb'
V2_DEBS='sluice_${V2}_amd64.deb ${MODULES_PKG}_${V2}_amd64.deb'
V2_VERSION='$V2'
MODULES_PKG='$MODULES_PKG'
ENV

# Initramfs: static busybox, the modules that reach the root over 9p and
# overlay it, our init. Cached like the VM tier's.
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
netfs fscache 9pnet 9pnet_virtio 9p overlay"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sluice/lifecycle-boot
mkdir -p "$CACHE"
busybox=$(command -v busybox)
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	not_ok "$busybox is statically linked (install busybox-static)"
	finish
fi
modpaths=""
for m in $MODS; do
	p=$(modinfo -k "$KREL" -n "$m" 2>/dev/null)
	[ -n "$p" ] && [ -r "$p" ] || { not_ok "module $m of $KREL found"; finish; }
	modpaths="$modpaths $p"
done
# shellcheck disable=SC2086
key=$( { echo "$KREL $MODS"; cat tests/lifecycle/initramfs-init "$busybox" $modpaths; } |
      sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$KREL-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
	stage=$(mktemp -d)
	mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/proc" "$stage/sys" "$stage/dev"
	cp "$busybox" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	cp tests/lifecycle/initramfs-init "$stage/init"
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
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$INITRD.$$" && mv "$INITRD.$$" "$INITRD"
	rm -rf "$stage"
	find "$CACHE" -name "initramfs-$KREL-*.cpio.gz" ! -name "${INITRD##*/}" -delete
fi

# Any WARN or oops ends the VM at once (panic_on_warn, oops=panic,
# panic=-1 with -no-reboot); "quiet" keeps systemd's status off the slow
# serial console.
APPEND="console=ttyS0 printk.time=1 panic_on_warn=1 oops=panic panic=-1"
APPEND="$APPEND softlockup_panic=1 quiet loglevel=4 systemd.show_status=0"
APPEND="$APPEND rw"
tmo=${SLUICE_LIFECYCLE_TIMEOUT:-1500}
echo "# lifecycle: booting $KERNEL with systemd (timeout ${tmo}s)"
t0=$(date +%s)
timeout -k 10 "$tmo" qemu-system-x86_64 \
	-nodefaults -display none -no-reboot -monitor none \
	-machine pc -accel tcg,thread=multi -cpu "${SLUICE_VM_CPU:-max}" -smp 2 -m 1G \
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
	-serial "file:$RUN/console.log" \
	-virtfs "local,path=$ROOT,mount_tag=lifecycleroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$P,mount_tag=payload,security_model=none" \
	</dev/null >"$RUN/qemu.log" 2>&1
qrc=$?
echo "# lifecycle: qemu exited with $qrc after $(($(date +%s) - t0)) s"
[ -s "$RUN/qemu.log" ] && sed 's/^/# qemu: /' "$RUN/qemu.log"

lines=0
if [ -e "$P/results/lifecycle.tap" ]; then
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			lines=$((lines + 1))
			desc=$(echo "$line" | sed 's/^\(not \)\{0,1\}ok [0-9]* *-\{0,1\} *//')
			case "$line" in
			ok*) ok "$desc" ;;
			*) not_ok "$desc" ;;
			esac
			;;
		"#"*) [ "$failed" -gt 0 ] && echo "$line" ;;
		esac
	done <"$P/results/lifecycle.tap"
fi
[ "$lines" -gt 0 ] || not_ok "the guest ran the lifecycle test"
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	not_ok "VM finished within ${tmo}s"
elif [ -e "$P/results/done" ]; then
	ok "guest ran to the end and powered off"
else
	not_ok "guest ran to the end and powered off (no done marker: crash or panic)"
fi
# The one kernel-trouble pattern of every tier (tests/vm/trouble.sh).
# shellcheck source=tests/vm/trouble.sh
. tests/vm/trouble.sh
trouble=$(cat "$RUN/console.log" "$P/results/dmesg" 2>/dev/null | kernel_trouble)
if [ -n "$trouble" ]; then
	not_ok "kernel log clean (no oops, BUG, WARN or panic)"
	echo "$trouble" | sed 's/^/#   /'
else
	ok "kernel log clean (no oops, BUG, WARN or panic)"
fi

if [ "$failed" -ne 0 ]; then
	[ -s "$P/results/lifecycle.err" ] && tail -n 40 "$P/results/lifecycle.err" | sed 's/^/#   err: /'
	echo "# last lines of the serial console ($RUN/console.log):"
	tr -d '\r' <"$RUN/console.log" | tail -n 40 | sed 's/^/#   /'
fi
if [ "$failed" -ne 0 ] || [ -n "${SLUICE_LIFECYCLE_KEEP:-}" ]; then
	echo "# run directory kept: $RUN"
else
	rm -rf "$RUN"
fi
finish
