#!/bin/sh
# Install every build and test dependency of sluice from Debian's packages.
# Idempotent: when everything is present it only checks and returns.
set -eu

PKGS="build-essential make gcc clang llvm libclang-rt-dev pkg-config bc bison flex libelf-dev
libssl-dev python3 python3-cryptography kmod cpio
linux-headers-amd64 linux-image-amd64 linux-source-6.1
qemu-system-x86 busybox-static sparse
libmnl-dev libnetfilter-queue-dev libnl-genl-3-dev libsqlite3-dev sqlite3
libsystemd-dev libcmocka-dev
iproute2 iptables nftables conntrack curl dnsutils netcat-openbsd iperf3
procps psmisc util-linux dnsmasq-base openssl debootstrap dkms bash-completion"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	     grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
