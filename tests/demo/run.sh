#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boots the VM of tests/vm/run.sh (Debian's stock kernel, the
# host's tools) and runs tests/demo/10-demo.sh there: sluice.ko and
# sluiced on the default policy plus a small deny list, real web and DNS
# traffic between network namespaces inside the VM (nothing reaches the
# host's network), then sluicectl status, log and explain.
#
# Usage: tests/demo/run.sh [--short] [KREL]
#   --short  the web part only (an allowed page, a denied port); make
#            test's demo tier (tests/demo/check.sh) runs this
# Its last line is "demo: N passed, N failed" (SLUICE_VM_TIER renames
# it), the VM run's own count.
set -u
cd "$(dirname "$0")/../.." || exit 1
if [ "${1:-}" = "--short" ]; then
	SLUICE_DEMO_SHORT=1
	export SLUICE_DEMO_SHORT
	shift
fi
SLUICE_VM_CASE_DIR=tests/demo SLUICE_VM_CASES='*' SLUICE_VM_ECHO=1 \
	SLUICE_VM_TIER=${SLUICE_VM_TIER:-demo} SLUICE_VM_TIMEOUT=${SLUICE_VM_TIMEOUT:-300} \
	SLUICE_VM_CASE_TIMEOUT=180 exec sh tests/vm/run.sh "$@"
