#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Builds (once per cache key) the VM tier's debug kernel: Debian's
# linux-source-6.1, allnoconfig plus the network stack as Debian's own
# config of the stock kernel has it (netfilter built in), plus KASAN,
# lockdep (PROVE_LOCKING, PROVE_RCU), DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS
# and kmemleak; see tests/vm/debug-kernel.config for what and why.
# Everything the VM guest needs (virtio, 9p, veth, netfilter) is built in,
# so the initramfs loads no module.
#
# Usage: tests/vm/debug-kernel.sh
#   Progress goes to stderr; the last line on stdout is the cache directory,
#   which holds:
#     build/               the kernel build tree (make -C build M=... modules)
#     build/arch/x86/boot/bzImage
#     kernelrelease        "uname -r" of this kernel
#     modroot/lib/modules/KREL/   modules.builtin & co., for the guest's
#                          modprobe, which then knows veth, nf_conntrack...
#                          are built in
#     build.secs           how long the cold build took (one line per
#                          attempt, if it was stopped and resumed)
# Environment:
#   XDG_CACHE_HOME       cache root (default ~/.cache); the kernel lives in
#                        $XDG_CACHE_HOME/sluice/vm-debug-<key>
#   SLUICE_KERNEL_SRC    linux source tarball (default Debian's 6.1)
#   SLUICE_DEBUG_BASE_CONFIG  config to start from (default: the newest
#                        /boot/config-*-amd64, Debian's stock kernel)
#   SLUICE_KERNEL_JOBS   make -j (default: the number of CPUs)
set -eu

cd "$(dirname "$0")/../.."
repo=$(pwd)
fragment=$repo/tests/vm/debug-kernel.config
src_tar=${SLUICE_KERNEL_SRC:-/usr/src/linux-source-6.1.tar.xz}
base=${SLUICE_DEBUG_BASE_CONFIG:-$(ls /boot/config-*-amd64 2>/dev/null |
	sort -V | tail -n 1)}
jobs=${SLUICE_KERNEL_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Bump when the recipe below changes in a way that needs a rebuild.
recipe=2

die() {
	echo "[vm-debug] error: $*" >&2
	exit 1
}
now() {
	date +%s
}

for tool in make gcc bc bison flex xz depmod sha256sum flock; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing; run 'make deps'"
done
[ -r "$src_tar" ] || die "$src_tar is missing; run 'make deps' (linux-source-6.1)"
if [ -z "$base" ] || [ ! -r "$base" ]; then
	die "no Debian kernel config in /boot (install linux-image-amd64)"
fi

src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
	  ls -l "$src_tar" | sha256sum | cut -c 1-16)
key=$( { cat "$fragment" "$base"; echo "$src_ver"; gcc --version | head -n 1;
	 echo "recipe $recipe"; } | sha256sum | cut -c 1-16)
root=${XDG_CACHE_HOME:-$HOME/.cache}/sluice
cache=$root/vm-debug-$key
# The extracted source is read-only input to any number of O= builds:
# kept once per source version.
src=$root/linux-source-$src_ver
obj=$cache/build
stamp=$cache/kernel.ok
mkdir -p "$cache"

# Debian's "=m" among net/'s symbols: these become "=y" (netfilter, minus
# IPVS, a load balancer rather than a filter), the others stay out.
builtin_re='^CONFIG_(NETFILTER|NF_|NFT_|IP_NF_|IP6_NF_|IP_SET|NET_9P|9P_FS|VIRTIO|VETH|INET_DIAG|INET_TCP_DIAG|INET_UDP_DIAG|INET_RAW_DIAG|UNIX_DIAG|NETLINK_DIAG|PACKET_DIAG)'

# Every line of the fragment must hold in the final .config: "=value"
# lines literally, "is not set" lines as the symbol being off.
check_config() {
	missing=
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$obj/.config" ||
				missing="$missing ${line%%=*}"
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$obj/.config" ||
				missing="$missing !$sym"
			;;
		esac
	done <"$fragment"
	[ -z "$missing" ] ||
		die "kernel config lacks$missing (see $obj/.config; a dependency is off)"
}

build_kernel() {
	t0=$(now)
	log=$cache/build.log
	if [ ! -f "$src/Makefile" ]; then
		echo "[vm-debug] extracting $src_tar (once per source version)" >&2
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		tar -xJf "$src_tar" -C "$src.tmp" --strip-components=1 ||
			die "cannot extract $src_tar"
		mv "$src.tmp" "$src"
	fi
	# A build that was stopped half-way goes on where it stopped: make
	# is incremental, and the configuration is made once per key.
	[ -f "$cache/config.ok" ] || configure
	echo "[vm-debug] building kernel with -j$jobs, niced (cold: some 1,500 to 2,000 objects, once seen going at ten a minute on two busy cores; log in $log)" >&2
	# "all" also writes Module.symvers for the out-of-tree sluice.ko.
	nice -n 10 make -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" all >>"$log" 2>&1 ||
		{ tail -n 40 "$log" >&2; die "kernel build failed, log in $log"; }
	[ -f "$obj/arch/x86/boot/bzImage" ] || die "no bzImage after build"
	make -C "$src" O="$obj" ARCH=x86_64 -s kernelrelease >"$cache/kernelrelease"
	# modules.builtin and friends (and the few modules left), so that the
	# guest's "modprobe veth" knows veth is built in.
	rm -rf "$cache/modroot"
	make -C "$src" O="$obj" ARCH=x86_64 INSTALL_MOD_PATH="$cache/modroot" \
		INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1 ||
		die "modules_install failed, log in $log"
	rm -f "$cache/modroot/lib/modules/$(cat "$cache/kernelrelease")/build" \
		"$cache/modroot/lib/modules/$(cat "$cache/kernelrelease")/source"
	echo "$(($(now) - t0))" >>"$cache/build.secs"
	touch "$stamp"
	echo "[vm-debug] kernel built in $(($(now) - t0)) s" >&2
}

configure() {
	rm -rf "$obj"
	mkdir -p "$obj"
	echo "[vm-debug] configuring: allnoconfig, net/ as in $base, $fragment" >&2
	# Every symbol net/'s Kconfig files define, with Debian's value.
	find "$src/net" -name Kconfig -exec sed -nE \
		's/^[[:space:]]*(menu)?config[[:space:]]+([A-Za-z0-9_]+).*/\2/p' {} + |
		sort -u >"$cache/net-symbols"
	sed -nE 's/^CONFIG_([A-Za-z0-9_]+)=.*/\1 &/p' "$base" | sort -k 1,1 |
		join - "$cache/net-symbols" | cut -d' ' -f2- |
		sed -E "/${builtin_re}[A-Z0-9_]*=m\$/s/=m\$/=y/" |
		grep -v '=m$' | grep -v '^CONFIG_IP_VS' >"$cache/allno.config"
	cat "$fragment" >>"$cache/allno.config"
	make -C "$src" O="$obj" ARCH=x86_64 KCONFIG_ALLCONFIG="$cache/allno.config" \
		allnoconfig >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "allnoconfig failed, log in $log"; }
	make -C "$src" O="$obj" ARCH=x86_64 olddefconfig >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "olddefconfig failed, log in $log"; }
	check_config
	touch "$cache/config.ok"
}

# Two runs wanting the same key: the second waits and reuses the result.
exec 9>"$cache.lock"
flock 9
if [ ! -f "$stamp" ]; then
	build_kernel
else
	check_config
	echo "[vm-debug] reusing kernel $cache" >&2
fi
flock -u 9
echo "$cache"
