# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The one VM launcher, sourced (from the top of the repository) by every
# tier that boots a kernel with a guest running tests: tests/vm/run.sh
# (the vm tier, and through tests/vm/debug.sh the debug-kernel and soak
# tiers) and tests/lifecycle/run.sh (systemd in a debootstrapped Debian).
# Like WireGuard's selftests' qemu/: one way to build the initramfs, one
# qemu command line, one relay of the guest's TAP lines, one verdict on
# how the guest ended and on the kernel's log. What differs between the
# tiers is a parameter: the initramfs' init and modules, the shares (the
# payload), the memory, the timeout, more kernel command line.
#
# A tier sets TIER (the name of its summary line) and RUN (its run
# directory, where the console log goes), then:
#   vm_need TOOL...             the host has each, or one failure and the end
#   vm_initramfs NAME INIT KREL MODS [MODDIR]
#                               INITRD=, built or taken from the cache
#   vm_boot KERNEL INITRD MEM TIMEOUT APPEND -virtfs SHARE...
#                               qemu; qrc= its exit status
#   vm_relay TAP [PREFIX]       the guest's TAP lines, renumbered
#   vm_ended DONE               the VM finished in time and the guest wrote
#                               its marker file DONE
#   vm_kernel_log_clean DMESG   no kernel trouble in the console and DMESG
#   vm_end KEEP                 the console's tail on failure; RUN kept on
#                               failure or KEEP, else removed; the summary
# and counts its own results with ok / not_ok (finish: the summary line
# "$TIER: N passed, N failed" and the exit status).

. tests/vm/trouble.sh
. tests/vm/machine.sh

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

vm_need() {
	for _need in "$@"; do
		command -v "$_need" >/dev/null 2>&1 && continue
		not_ok "host has $_need (run: make deps)"
		finish
	done
}

# Modules that reach the shares over virtio-9p, in load order (busybox
# insmod resolves no dependencies; Debian builds them as modules).
# shellcheck disable=SC2034 # the tiers use it
VM_9P_MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

# vm_initramfs NAME INIT KREL MODS [MODDIR]: INITRD is a busybox initramfs
# with INIT as /init, the modules MODS of KREL in /lib/modules (their
# names, in order, in /modules) and, for a kernel of our own that has
# them built in, MODDIR (its /lib/modules/KREL, for the guest's modprobe).
# Cached in ~/.cache/sluice/NAME and built again only when one of its
# inputs changes.
vm_initramfs() {
	_name=$1 _init=$2 _krel=$3 _mods=$4 _moddir=${5:-}
	_cache=${XDG_CACHE_HOME:-$HOME/.cache}/sluice/$_name
	mkdir -p "$_cache" || finish
	_busybox=$(command -v busybox)
	# The initramfs has no libraries: only a static busybox runs there.
	if readelf -l "$_busybox" 2>/dev/null | grep -q INTERP; then
		not_ok "$_busybox is statically linked (install busybox-static)"
		finish
	fi
	_modpaths=""
	for _m in $_mods; do
		_p=$(modinfo -k "$_krel" -n "$_m" 2>/dev/null)
		if [ -z "$_p" ] || [ ! -r "$_p" ]; then
			not_ok "module $_m of $_krel found (install linux-image-$_krel)"
			finish
		fi
		_modpaths="$_modpaths $_p"
	done
	# shellcheck disable=SC2086
	_key=$( { echo "$_krel" $_mods; cat "$_init" "$_busybox" $_modpaths;
		  [ -n "$_moddir" ] && cat "$_moddir"/modules.*; } |
		sha256sum | cut -c1-16)
	INITRD=$_cache/initramfs-$_krel-$_key.cpio.gz
	[ -s "$INITRD" ] && return 0
	echo "$TIER: building initramfs for $_krel"
	_stage=$(mktemp -d)
	mkdir -p "$_stage/bin" "$_stage/lib/modules" "$_stage/proc" \
		"$_stage/sys" "$_stage/dev"
	cp "$_busybox" "$_stage/bin/busybox"
	ln -s busybox "$_stage/bin/sh"
	cp "$_init" "$_stage/init"
	chmod 0755 "$_stage/init"
	for _p in $_modpaths; do
		_m=$(basename "$_p")
		_m=${_m%%.ko*}
		case "$_p" in
		*.ko) cp "$_p" "$_stage/lib/modules/$_m.ko" ;;
		*.ko.xz) xz -dc "$_p" >"$_stage/lib/modules/$_m.ko" ;;
		*.ko.zst) zstd -qdc "$_p" >"$_stage/lib/modules/$_m.ko" ;;
		*.ko.gz) gzip -dc "$_p" >"$_stage/lib/modules/$_m.ko" ;;
		esac
		echo "$_m" >>"$_stage/modules"
	done
	touch "$_stage/modules"
	# The init puts it where the guest's modprobe looks.
	[ -n "$_moddir" ] && cp -r "$_moddir" "$_stage/lib/modules/$_krel"
	# Written under a temporary name and renamed, so that concurrent runs
	# never boot a half-written initramfs.
	(cd "$_stage" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$INITRD.$$" && mv "$INITRD.$$" "$INITRD"
	rm -rf "$_stage"
	find "$_cache" -name "initramfs-$_krel-*.cpio.gz" ! -name "${INITRD##*/}" \
		-delete
}

# The kernel command line of every boot: panic_on_warn + oops=panic turn
# any WARN or oops into a panic, and panic=-1 with qemu's -no-reboot turns
# the panic into the end of qemu: a broken kernel stops the run at once
# instead of limping on. "quiet": the serial console is slow under
# emulation (the guest turns the console's level up once it runs).
VM_APPEND="console=ttyS0 printk.time=1 panic_on_warn=1 oops=panic panic=-1"
VM_APPEND="$VM_APPEND softlockup_panic=1 quiet loglevel=4"

# vm_boot KERNEL INITRD MEM TIMEOUT APPEND QEMU-ARGS...: boots KERNEL with
# VM_APPEND and APPEND (later words win) under qemu, software emulation
# (tests/vm/machine.sh), no network card, the serial
# console in $RUN/console.log, the shares of QEMU-ARGS (-virtfs ...);
# at most TIMEOUT seconds. qrc: qemu's exit status (124 or 137: timed out).
vm_boot() {
	_kernel=$1 _initrd=$2 _mem=$3 _tmo=$4 _append="$VM_APPEND $5"
	shift 5
	echo "$TIER: booting $_kernel (timeout ${_tmo}s)"
	_t0=$(date +%s)
	# shellcheck disable=SC2086 # VM_MACHINE is words
	timeout -k 10 "$_tmo" qemu-system-x86_64 \
		-nodefaults -display none -no-reboot -monitor none \
		$VM_MACHINE -m "$_mem" \
		-kernel "$_kernel" -initrd "$_initrd" -append "$_append" \
		-serial "file:$RUN/console.log" \
		"$@" </dev/null >"$RUN/qemu.log" 2>&1
	qrc=$?
	VM_TIMEOUT=$_tmo
	echo "$TIER: qemu exited with $qrc after $(($(date +%s) - _t0)) s"
	[ -s "$RUN/qemu.log" ] && sed 's/^/# qemu: /' "$RUN/qemu.log"
	return 0
}

# vm_relay TAP [PREFIX]: the "ok" / "not ok" lines of the guest's TAP
# file, renumbered into this run's sequence (described PREFIX: ...), and
# its "#" lines; its other lines too with SLUICE_VM_ECHO=1. relay_lines:
# how many results it held.
vm_relay() {
	relay_lines=0
	[ -e "$1" ] || return 0
	while IFS= read -r _line; do
		case "$_line" in
		"ok "*|"not ok "*)
			relay_lines=$((relay_lines + 1))
			_desc=$(echo "$_line" |
				sed 's/^\(not \)\{0,1\}ok [0-9]* *-\{0,1\} *//')
			case "$_line" in
			ok*) ok "${2:+$2: }$_desc" ;;
			*) not_ok "${2:+$2: }$_desc" ;;
			esac
			;;
		"#"*) echo "$_line" ;;
		*) [ -n "${SLUICE_VM_ECHO:-}" ] && echo "$_line" ;;
		esac
	done <"$1"
}

# vm_ended DONE: the VM ended within its time, and the guest wrote DONE
# last: without it a panic or a hang could read as success.
vm_ended() {
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		not_ok "VM finished within ${VM_TIMEOUT}s"
	elif [ -e "$1" ]; then
		ok "guest ran to its end and powered off"
	else
		not_ok "guest ran to its end and powered off (no done marker: crash or panic)"
	fi
}

# vm_kernel_log_clean DMESG: no kernel trouble (tests/vm/trouble.sh) in
# the serial console (written even when the guest never got to save its
# dmesg) nor in DMESG, the guest's final dmesg (which also holds messages
# below the console's level).
vm_kernel_log_clean() {
	_trouble=$(cat "$RUN/console.log" "$1" 2>/dev/null | kernel_trouble)
	if [ -z "$_trouble" ]; then
		ok "kernel log clean (no oops, BUG, WARN, panic or checker report)"
		return 0
	fi
	not_ok "kernel log clean (no oops, BUG, WARN, panic or checker report)"
	echo "$_trouble" | sed 's/^/#   /'
	# The whole first report, for whoever must fix it.
	echo "# first report in full:"
	tr -d '\r' <"$RUN/console.log" |
		grep -A 60 -F -- "$(echo "$_trouble" | head -n 1)" | head -n 60 |
		sed 's/^/#   /'
}

# vm_end KEEP: the end of the run: on failure the console's last lines and
# the run directory kept (also with KEEP non-empty), else it is removed;
# then the summary line and the exit status.
vm_end() {
	if [ "$failed" -ne 0 ]; then
		echo "# last lines of the serial console ($RUN/console.log):"
		tr -d '\r' <"$RUN/console.log" | tail -n 40 | sed 's/^/#   /'
	fi
	if [ "$failed" -ne 0 ] || [ -n "$1" ]; then
		echo "# run directory kept: $RUN"
	else
		rm -rf "$RUN"
	fi
	finish
}
