#!/bin/sh
# The VM benchmark of tests/bench/vm.sh, run in the guest by tests/vm/run.sh
# (SLUICE_VM_CASE_DIR=tests/bench/vm). It measures, between the client
# and server namespaces of tests/vm/lib.sh (through the router):
#   - established TCP throughput, iperf3 -P 4, without the module and
#     with the module and sluiced (default policy: the flow is allowed);
#   - new TCP flows/s (tests/vm/connects.py: connect, close, next) with
#     no filter, through a bare NFQUEUE accept loop fed by an iptables
#     rule (build/nfq_accept, tests/bench/nfq_accept.c), through the module and sluiced with the
#     default policy, and with identity rules (exe and unit rules that
#     match nothing, so that the module records and the agent asks);
#   - the module's queued and identity_recorded per new flow.
# Its TAP lines say whether each set-up worked; the figures are "# md: "
# lines, a markdown section that tests/bench/vm.sh prints. Nothing here
# fails on a number.
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$REPO/tests/vm/agent.sh"

N=${SLUICE_BENCH_FLOWS:-300}		# new flows per round
ROUNDS=${SLUICE_BENCH_ROUNDS:-5}	# the median of these is reported
SECS=${SLUICE_BENCH_SECS:-5}		# iperf3 seconds
PORT=8082
CONNECTS=$REPO/tests/vm/connects.py
RATES=$WORK/rates

md() { echo "# md: $*"; }
stat_c() { sluice_stat "$NS_CLIENT" "$1"; }

# rate NAME: the median new-flow rate of ROUNDS rounds of N flows, after
# one more that warms up (python, caches); kept in $RATES as "NAME RATE
# FAILED". The module's counters (when loaded) over all rounds, warm-up
# included, in $WORK/NAME.queued and $WORK/NAME.recorded.
rate() {
	_q0=$(stat_c queued)
	_r0=$(stat_c identity_recorded)
	_o0=$(stat_c failed_open)
	in_ns "$NS_CLIENT" python3 "$CONNECTS" "$N" "$SERVER4" "$PORT" \
		$((ROUNDS + 1)) >"$WORK/$1.out" 2>>"$WORK/$1.err" || return 1
	if [ -n "$_q0" ]; then
		echo $(($(stat_c queued) - _q0)) >"$WORK/$1.queued"
		echo $(($(stat_c identity_recorded) - _r0)) >"$WORK/$1.recorded"
		echo $(($(stat_c failed_open) - _o0)) >"$WORK/$1.open"
	fi
	tail -n +2 "$WORK/$1.out" |
		awk '{ printf "%.1f\n", $1 / $3 }' >"$WORK/$1.rounds"
	_failed=$(awk '{ f += $2 } END { print f + 0 }' "$WORK/$1.out")
	_med=$(sort -n "$WORK/$1.rounds" | awk '{ r[NR] = $1 }
		END { print r[int((NR + 1) / 2)], r[1], r[NR] }')
	echo "$1 $_med $_failed" >>"$RATES"
	echo "$1: rounds $(tr '\n' ' ' <"$WORK/$1.rounds")-> $_med (median, min, max)/s, $_failed failed" >&2
	[ "$_failed" -eq 0 ] && [ "$(wc -l <"$WORK/$1.rounds")" -eq "$ROUNDS" ]
}
rate_of() { awk -v k="$1" '$1 == k { print $2 }' "$RATES"; }
# spread NAME: " (MIN to MAX)", the slowest and fastest round
spread() { awk -v k="$1" '$1 == k { printf " (%s to %s)", $3, $4 }' "$RATES"; }
# per_flow NAME COUNTER: COUNTER's growth over NAME's flows, per flow.
per_flow() {
	[ -r "$WORK/$1.$2" ] || return 1
	awk -v d="$(cat "$WORK/$1.$2")" -v n=$((N * (ROUNDS + 1))) \
		'BEGIN { printf "%.2f", d / n }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# iperf NAME: iperf3 -P 4 for SECS seconds, the receiver's Mbit/s in
# $WORK/NAME.mbps.
iperf() {
	in_ns "$NS_CLIENT" iperf3 -c "$SERVER4" -P 4 -t "$SECS" -J \
		>"$WORK/$1.json" 2>>"$WORK/$1.err" || return 1
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.0f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' \
		"$WORK/$1.json" >"$WORK/$1.mbps" || return 1
	echo "$1: $(cat "$WORK/$1.mbps") Mbit/s" >&2
}

topo_up
dmesg_mark
bg in_ns "$NS_SERVER" python3 "$CONNECTS" --serve "$PORT"
bg in_ns "$NS_SERVER" iperf3 -s >/dev/null
servers_up() { wait_listen "$NS_SERVER" "$PORT" && wait_listen "$NS_SERVER" 5201; }
check "servers listen (flows on $PORT, iperf3 on 5201)" servers_up

# ---- no filter -----------------------------------------------------------
check "no filter: iperf3 runs" iperf bare
check "no filter: $ROUNDS x $N new flows" rate none

# ---- a bare NFQUEUE accept loop, fed by a netfilter rule ----------------
# iptables on Debian is nf_tables underneath; nft says the same rule
# without the compat layer. The guest's kernel loads no module by itself.
check "modules of the bare loop load" \
	modprobe -a nf_conntrack nfnetlink_queue nf_tables nft_ct nft_queue
ip netns exec "$NS_CLIENT" "$REPO/build/nfq_accept" 0 &
nfq_pid=$!
_pids="$_pids $nfq_pid"
check "a rule queues new flows to port $PORT to queue 0" \
	in_ns "$NS_CLIENT" nft "add table ip bench
add chain ip bench out { type filter hook output priority 0; }
add rule ip bench out ip daddr $SERVER4 tcp dport $PORT ct state new counter queue num 0"
check "bare loop: $ROUNDS x $N new flows" rate bareq
pkts=$(in_ns "$NS_CLIENT" nft list table ip bench |
	sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "bare loop: the rule queued each flow ($pkts packets)" \
	[ "${pkts:-0}" -ge $((N * (ROUNDS + 1))) ]
in_ns "$NS_CLIENT" nft delete table ip bench
kill "$nfq_pid" 2>/dev/null
wait "$nfq_pid" 2>/dev/null

# ---- the module and sluiced ----------------------------------------------
check "sluice.ko loads" sluice_load
policy_init "$WORK/default.db"
check "sluiced enforces the default policy" \
	agent_start "$NS_CLIENT" "$WORK/default.db"
agent=$AGENT_PID
check "default policy: identity not wanted" \
	[ "$(stat_c identity_wanted)" = no ]
check "sluiced, default policy: $ROUNDS x $N new flows" rate sluiced
check "sluiced: iperf3 runs (the flow allowed)" iperf sluiced
check "sluiced: the iperf3 flows stayed allowed (no deny counted: $(stat_c fast_dropped))" \
	[ "$(stat_c fast_dropped)" = 0 ]

sqlite3 "$WORK/default.db" "
INSERT INTO rules(action, direction, exe, comment)
  VALUES ('deny', 'out', '/nonexistent/bin/*', 'bench: identity wanted');
INSERT INTO rules(action, direction, unit, comment)
  VALUES ('deny', 'out', 'nothing-here.service', 'bench: identity wanted');"
wanted() { [ "$(stat_c identity_wanted)" = yes ]; }
check "identity rules added: identity wanted" eventually 50 wanted
check "sluiced, identity rules: $ROUNDS x $N new flows" rate identity
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null

stop_bg
topo_down
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean

# ---- the report ----------------------------------------------------------
t0=$(cat "$WORK/bare.mbps" 2>/dev/null)
t1=$(cat "$WORK/sluiced.mbps" 2>/dev/null)
r_none=$(rate_of none)
r_bare=$(rate_of bareq)
r_sl=$(rate_of sluiced)
r_id=$(rate_of identity)
q_sl=$(per_flow sluiced queued 2>/dev/null)
q_id=$(per_flow identity queued 2>/dev/null)
i_sl=$(per_flow sluiced recorded 2>/dev/null)
i_id=$(per_flow identity recorded 2>/dev/null)
o_sl=$(per_flow sluiced open 2>/dev/null)
o_id=$(per_flow identity open 2>/dev/null)

md "## In the VM, with the module (\`tests/bench/vm.sh\`)"
md ""
md "Debian's kernel $(uname -r) under qemu TCG (software emulation, $(nproc) vCPUs):"
md "absolute figures mean little, ratios within the run do. Client and server"
md "namespaces joined through a router namespace; new flows are"
md "\`tests/vm/connects.py\` (connect, close, next; the median of $ROUNDS rounds of $N"
md "after one to warm up, the slowest and fastest round in brackets: on a shared"
md "machine under emulation rounds vary widely, so read ratios as rough);"
md "the bare loop is \`tests/bench/nfq_accept.c\` fed by the rule"
md "\`ct state new queue num 0\` (nft: what \`iptables -m conntrack --ctstate NEW -j NFQUEUE\` is on Debian)."
md ""
md "| measure | figure | ratio |"
md "|---|---|---|"
md "| TCP throughput, iperf3 -P 4, ${SECS} s, no module | ${t0:-?} Mbit/s | 1.00 |"
md "| TCP throughput, module + sluiced, flow allowed | ${t1:-?} Mbit/s | $(ratio "${t1:-0}" "${t0:-0}") |"
md "| new TCP flows/s, no filter | ${r_none:-?}$(spread none) | $(ratio "${r_none:-0}" "${r_bare:-0}") of the bare loop |"
md "| new TCP flows/s, bare NFQUEUE accept loop | ${r_bare:-?}$(spread bareq) | 1.00 |"
md "| new TCP flows/s, module + sluiced, default policy | ${r_sl:-?}$(spread sluiced) | $(ratio "${r_sl:-0}" "${r_bare:-0}") of the bare loop |"
md "| new TCP flows/s, module + sluiced, identity rules | ${r_id:-?}$(spread identity) | $(ratio "${r_id:-0}" "${r_sl:-0}") of the default policy's |"
md "| module \`queued\` per new flow, default policy / identity rules | ${q_sl:-?} / ${q_id:-?} | |"
md "| module \`failed_open\` per new flow (the agent looked hung: a late heartbeat), default policy / identity rules | ${o_sl:-?} / ${o_id:-?} | |"
md "| module \`identity_recorded\` per new flow, default policy / identity rules | ${i_sl:-?} / ${i_id:-?} | |"
md ""
md "- Established flows: with the module and sluiced, iperf3 moves $(ratio "${t1:-0}" "${t0:-0}")× what it moves without (goal ≥ 0.98×); an allowed flow's packets are decided in the kernel from its conntrack mark."
md "- New flows: sluiced with the default policy sustains $(ratio "${r_sl:-0}" "${r_bare:-0}")× the rate of the bare accept loop (goal ≥ 0.9×); with no filter at all the rate is $(ratio "${r_none:-0}" "${r_bare:-0}")× the bare loop's, the cost of NFQUEUE itself."
md "- The module hands the agent ${q_sl:-?} packets per new TCP flow with the default policy (should be 1: the SYN; the rest take the fast path; a flow that came while the agent's heartbeat was late is admitted as failed_open instead, ${o_sl:-?} per flow here)."
md "- Identity rules (exe and unit) cost $(awk -v a="${r_id:-0}" -v b="${r_sl:-0}" 'BEGIN { printf "%.0f", (b > 0 ? (1 - a / b) * 100 : 0) }') % of the new-flow rate (${r_id:-?}/s against ${r_sl:-?}/s): the module records each flow's identity (${i_id:-?} per flow) and the agent asks for it; without such rules the module records ${i_sl:-?} per flow."
tap_done
