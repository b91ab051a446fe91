#!/bin/sh
# Install every build and test dependency of sluice from Debian's packages.
# Idempotent: when everything is present it only checks and returns.
set -eu

PKGS="build-essential make gcc clang llvm libclang-rt-dev pkg-config bc bison flex libelf-dev
libssl-dev python3 python3-cryptography kmod cpio
linux-headers-amd64 linux-image-amd64 linux-source-6.1
qemu-system-x86 busybox-static sparse
libmnl-dev libnetfilter-queue-dev libnl-genl-3-dev libsqlite3-dev sqlite3
libsystemd-dev libcmocka-dev libldns-dev
iproute2 iptables nftables conntrack curl dnsutils netcat-openbsd iperf3
procps psmisc util-linux dnsmasq-base openssl debootstrap dkms bash-completion
gnuplot-nox linux-perf time groff-base man-db opensnitch valgrind"

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

# opensnitch is there for make bench only, which runs its daemon inside a
# network namespace of its own. Its package would start the daemon on the
# host (with firewall rules in the host's own namespace): a policy-rc.d
# that refuses every start is in place while it installs (when none is
# there already), and the unit is disabled after.
case " $missing " in
*" opensnitch "*)
	missing=$(echo "$missing" | sed 's/ opensnitch\b//')
	prc=/usr/sbin/policy-rc.d
	if [ ! -e $prc ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee $prc > /dev/null
		$SUDO chmod 0755 $prc
		trap '$SUDO rm -f $prc' EXIT
	fi
	$SUDO apt-get install -y -q --no-install-recommends opensnitch
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now opensnitch.service || true
	fi
	;;
esac
# shellcheck disable=SC2086
[ -z "$missing" ] || $SUDO apt-get install -y -q --no-install-recommends $missing
