#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Builds the Debian packages with dpkg-deb alone (no debhelper):
#   sluice_VERSION_amd64.deb             agent, sluicectl, systemd unit,
#                                        schema, docs, DKMS source
#   sluice-modules-KREL_VERSION_amd64.deb  sluice.ko prebuilt for KREL
#
# Usage: packaging/deb/build.sh OUTDIR VERSION [SRCDIR]
# SRCDIR (default: the repository) must hold built agent/sluiced,
# agent/sluicectl and kmod/sluice.ko; KREL is the module's vermagic.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
out=${1:?usage: build.sh OUTDIR VERSION [SRCDIR]}
version=${2:?usage: build.sh OUTDIR VERSION [SRCDIR]}
src=${3:-$here/../..}
src=$(cd "$src" && pwd -P)
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

ko=$src/kmod/sluice.ko
for f in "$src/agent/sluiced" "$src/agent/sluicectl" "$ko"; do
	[ -e "$f" ] || { echo "build.sh: $f is missing: run make first" >&2; exit 1; }
done
krel=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
umask 022

subst() {
	sed -e "s|@VERSION@|$version|g" -e "s|@KREL@|$krel|g" \
	    -e "s|@SIZE@|$2|g" -e "s|@SBINDIR@|/usr/sbin|g" "$1"
}

# --- sluice ---------------------------------------------------------------
r=$stage/sluice
install -D -m 0755 "$src/agent/sluiced" "$r/usr/sbin/sluiced"
install -D -m 0755 "$src/agent/sluicectl" "$r/usr/sbin/sluicectl"
install -D -m 0755 "$src/packaging/sluice-upgrade-module" \
	"$r/usr/sbin/sluice-upgrade-module"
mkdir -p "$r/lib/systemd/system"
subst "$src/systemd/sluiced.service.in" 0 >"$r/lib/systemd/system/sluiced.service"
install -D -m 0644 "$src/policy/schema.sql" "$r/usr/share/sluice/schema.sql"
install -D -m 0644 "$src/policy/default.sql" "$r/usr/share/sluice/default.sql"
for e in "$src"/policy/examples/*.sql; do
	[ -e "$e" ] && install -D -m 0644 "$e" "$r/usr/share/sluice/examples/${e##*/}"
done
install -D -m 0644 "$src/README.md" "$r/usr/share/doc/sluice/README.md"
# Every page of man/, by its section: sluice.4, sluice-policy.5, the 8s.
for m in "$src"/man/*.[1-8]; do
	install -D -m 0644 "$m" "$r/usr/share/man/man${m##*.}/${m##*/}"
done
install -D -m 0644 "$src/packaging/bash-completion/sluicectl" \
	"$r/usr/share/bash-completion/completions/sluicectl"
printf 'sluice\n\nLicense: GPL-2.0 (see /usr/share/common-licenses/GPL-2)\n' \
	>"$r/usr/share/doc/sluice/copyright"
# DKMS source: only what builds the module. The version in dkms.conf is
# the package's, so that "dkms install sluice/VERSION" finds it.
d=$r/usr/src/sluice-$version
mkdir -p "$d/kmod" "$d/uapi"
cp "$src/Makefile" "$src/Kbuild" "$d/"
sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$version\"/" "$src/dkms.conf" >"$d/dkms.conf"
cp "$src"/kmod/Kbuild "$src"/kmod/*.h "$d/kmod/"
for c in "$src"/kmod/*.c; do
	case "$c" in *.mod.c) ;; *) cp "$c" "$d/kmod/" ;; esac
done
cp "$src"/uapi/*.h "$d/uapi/"
[ "$dkms_version" = "${version%%[+~-]*}" ] ||
	echo "build.sh: warning: dkms.conf says $dkms_version, the package $version" >&2

mkdir -p "$r/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$r" | cut -f1)
subst "$here/control.in" "$size" >"$r/DEBIAN/control"
for s in postinst prerm postrm; do
	subst "$here/$s" 0 >"$r/DEBIAN/$s"
	chmod 0755 "$r/DEBIAN/$s"
done
dpkg-deb --root-owner-group -Zxz --build "$r" "$out/sluice_${version}_amd64.deb" >/dev/null

# --- sluice-modules-KREL --------------------------------------------------
m=$stage/modules
install -D -m 0644 "$ko" "$m/lib/modules/$krel/updates/sluice.ko"
mkdir -p "$m/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$m" | cut -f1)
subst "$here/modules-control.in" "$size" >"$m/DEBIAN/control"
for s in postinst postrm; do
	subst "$here/modules-$s" 0 >"$m/DEBIAN/$s"
	chmod 0755 "$m/DEBIAN/$s"
done
dpkg-deb --root-owner-group -Zxz --build "$m" \
	"$out/sluice-modules-${krel}_${version}_amd64.deb" >/dev/null

echo "$out/sluice_${version}_amd64.deb"
echo "$out/sluice-modules-${krel}_${version}_amd64.deb"
