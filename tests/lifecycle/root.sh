#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The root file system of the lifecycle VM: a minimal Debian made with
# debootstrap from Debian's own packages, plus the stock kernel's modules,
# cached outside the repository and rebuilt only when one of its inputs
# changes (this script, the package list, the suite, the kernel release).
#
# Usage: tests/lifecycle/root.sh KREL
# Prints the path of the finished root on stdout (progress on stderr).
# Environment:
#   SLUICE_DEBIAN_MIRROR  Debian mirror (default: the one apt uses here)
#   SLUICE_DEBIAN_SUITE   suite (default: this host's codename, else bookworm)
#
# The root is shared read-only with the guest over virtio-9p, which lays a
# tmpfs over it (overlayfs), so a run never changes the cache and the next
# run starts from the same state.
set -eu
cd "$(dirname "$0")/../.."

KREL=${1:?usage: root.sh KREL}

# What the guest needs: systemd as PID 1, the sluice package's run-time
# libraries (the agent is linked dynamically), and the test's own tools.
PKGS="systemd systemd-sysv dbus iproute2 kmod procps busybox curl python3
sqlite3 libmnl0 libnetfilter-queue1 libnl-3-200 libnl-genl-3-200
libsqlite3-0 libsystemd0"

suite=${SLUICE_DEBIAN_SUITE:-}
if [ -z "$suite" ]; then
	# shellcheck disable=SC1091
	suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	suite=${suite:-bookworm}
fi
mirror=${SLUICE_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
			/etc/apt/sources.list.d/*.list 2>/dev/null |
		 grep -Eo 'https?://[^ ]*/debian/?( |$)' | grep -v security |
		 head -n 1 | tr -d ' ')
	mirror=${mirror:-http://deb.debian.org/debian}
fi

key=$( { echo "$suite $KREL $PKGS"; cat "$0"; } | sha256sum | cut -c1-16)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sluice
ROOT=$CACHE/lifecycle-$key
if [ -e "$ROOT/.complete" ]; then
	echo "$ROOT"
	exit 0
fi

for need in debootstrap depmod; do
	command -v "$need" >/dev/null 2>&1 || {
		echo "lifecycle: $need missing (run: make deps)" >&2
		exit 1
	}
done

mkdir -p "$CACHE"
# Built beside its final name and renamed when complete: an interrupted
# build is never taken for a finished root.
tmp=$CACHE/lifecycle-$key.tmp.$$
trap 'rm -rf "$tmp"' EXIT
echo "lifecycle: debootstrap $suite from $mirror into $ROOT (once)" >&2
t0=$(date +%s)
debootstrap --variant=minbase --components=main \
	--include="$(echo $PKGS | tr ' ' ',')" \
	"$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	rm -f "$tmp.log"
	exit 1
}
rm -f "$tmp.log"
echo "lifecycle: debootstrap took $(($(date +%s) - t0)) s" >&2

# The stock kernel's modules (the guest boots /boot/vmlinuz-KREL) that the
# test can need: networking with netfilter, the libraries and ciphers they
# use, veth, and what the boot itself loads. Not all 4000 of them: the
# packages' "depmod -a" reads every module, which under emulation takes
# minutes for the full set. Nothing a developer installed by hand (extra/,
# updates/) comes along: sluice.ko must come from the package under test.
src=/lib/modules/$KREL
dst=$tmp/lib/modules/$KREL
mkdir -p "$dst/kernel/drivers/net" "$dst/kernel/fs"
cp -a "$src/kernel/net" "$src/kernel/lib" "$src/kernel/crypto" \
	"$src/kernel/arch" "$dst/kernel/"
cp -a "$src/kernel/drivers/virtio" "$dst/kernel/drivers/"
cp -a "$src"/kernel/drivers/net/veth.ko* "$dst/kernel/drivers/net/"
for fs in 9p netfs fscache overlayfs; do
	cp -a "$src/kernel/fs/$fs" "$dst/kernel/fs/"
done
cp -a "$src"/modules.builtin* "$src/modules.order" "$dst/"
depmod -b "$tmp" "$KREL"

# A quiet, deterministic boot: no logins, no timers, no network set-up.
echo sluice-lifecycle >"$tmp/etc/hostname"
echo 5a1ce0000000000000000000000000a1 >"$tmp/etc/machine-id"
: >"$tmp/etc/fstab"
for u in getty@tty1.service serial-getty@ttyS0.service \
	 apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	 fstrim.timer dpkg-db-backup.timer systemd-timesyncd.service \
	 systemd-networkd.service systemd-networkd-wait-online.service \
	 systemd-resolved.service systemd-logind.service \
	 getty.target; do
	ln -sf /dev/null "$tmp/etc/systemd/system/$u"
done
# No package in the image may start services when it is configured by
# a test's dpkg -i, other than through its own maintainer scripts.
rm -f "$tmp/usr/sbin/policy-rc.d"
apt_clean() { rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*; }
apt_clean

touch "$tmp/.complete"
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
trap - EXIT
# Older roots of other keys are left to the user: they may belong to
# another checkout. Only this script's own half-built leftovers go.
find "$CACHE" -maxdepth 1 -name 'lifecycle-*.tmp.*' -mmin +60 \
	-exec rm -rf {} + 2>/dev/null
echo "$ROOT"
