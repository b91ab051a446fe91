# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The emulated machine of every boot, sourced by tests/vm/harness.sh's
# vm_boot and by the KUnit tier: software emulation (KVM hangs on these
# machines), one thread per virtual CPU, two of them, the "max" CPU model.
# Not qemu's defaults (one "qemu64" CPU): booting the debug kernel so, its
# boot-time RCU-tasks self-test (CONFIG_PROVE_RCU) now and then never ends:
# pid 1 waits in synchronize_rcu_tasks() while CPU 0 idles in HLT and
# jiffies go on (read through qemu's gdbstub), a wakeup lost in the
# kernel. 2 of 60 boots hung so (4 of 26 with the gdbstub on); with the
# "max" model alone 2 of 30, with two CPUs alone 1 of 30; with both, as
# here, 0 of 90, counted with the gdbstub on.
# SLUICE_VM_CPU overrides the CPU model.
# shellcheck disable=SC2034 # the sourcing scripts use it
VM_MACHINE="-machine pc -accel tcg,thread=multi -cpu ${SLUICE_VM_CPU:-max} -smp 2"
