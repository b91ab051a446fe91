#!/bin/sh
# The chaos soak (case 90) with the module in fail-closed mode: the same
# load and events, but new flows are dropped while an event has taken the
# agent away, so a connection or DNS question may fail then and only
# then; not one flow is failed open, the long streams never break, and the
# deny rule and its control hold at the end. Only run when named (make
# soak, make test's soak-closed tier).
SLUICE_SOAK_FAIL_MODE=closed exec sh "$(dirname "$0")/90-chaos-soak.sh"
