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
# cached root and hands PID 1 to systemd: tests/vm/harness.sh's launcher,
# the VM tier's, with this tier's init and payload. The build is installed with
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

TIER=lifecycle
# shellcheck source=tests/vm/harness.sh
. tests/vm/harness.sh

vm_need qemu-system-x86_64 busybox cpio modinfo dpkg-deb debootstrap timeout
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
# The VM tier's helpers, as the guest's lifecycle.sh finds them.
mkdir -p "$P/tests/vm"
cp tests/vm/lib.sh tests/vm/trouble.sh tests/vm/flows.py "$P/tests/vm/"

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

# The initramfs: the modules that reach the root over 9p and overlay it,
# our init. systemd's status stays off the slow serial console.
vm_initramfs lifecycle-boot tests/lifecycle/initramfs-init "$KREL" \
	"$VM_9P_MODS overlay"
vm_boot "$KERNEL" "$INITRD" 1G "${SLUICE_LIFECYCLE_TIMEOUT:-1500}" \
	"systemd.show_status=0 rw" \
	-virtfs "local,path=$ROOT,mount_tag=lifecycleroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$P,mount_tag=payload,security_model=none"

vm_relay "$P/results/lifecycle.tap"
[ "$relay_lines" -gt 0 ] || not_ok "the guest ran the lifecycle test"
vm_ended "$P/results/done"
vm_kernel_log_clean "$P/results/dmesg"
if [ "$failed" -ne 0 ] && [ -s "$P/results/lifecycle.err" ]; then
	tail -n 40 "$P/results/lifecycle.err" | sed 's/^/#   err: /'
fi
vm_end "${SLUICE_LIFECYCLE_KEEP:-}"
