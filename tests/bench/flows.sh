#!/bin/sh
# New-flow benchmark on the host kernel, agent only (no module), all inside
# network namespaces made here (part of `make bench`; prints figures, fails
# only when something could not run).
#
#   client netns  veth 10.77.0.1 ---- 10.77.0.2 veth  server netns
#   flowbench tcp|udp                                  flowbench serve
#   OUTPUT: ctstate NEW -> NFQUEUE 0, the filter under test in this netns
#
# One pair of namespaces per filter, all up at once, side by side:
#   none          no rule, no queue
#   bare          build/nfq_accept, the libmnl accept loop (NFQUEUE's limit)
#   sluiced       the default policy
#   sluiced-log   the default policy, decision log on
#   sluiced-big   BIG_RULES CIDR/port rules that do not match the test flow,
#                 BIG_NAMES blocklist names (sluicectl import), rules on
#                 uid, exe and unit, decision log on
#   opensnitch    opensnitchd 1.5.8 alone (default action allow), which puts
#                 its own iptables rules in its client netns
#   baseline-big  with SLUICED_BASELINE=PATH only: as sluiced-big, but that
#                 other build of sluiced (an A/B of two builds in one run)
# ROUNDS rounds; in each, every filter in turn gets FLOWS sequential TCP
# connects and FLOWS UDP flows (new source port each, echo awaited), so
# that the load of a shared machine falls on all alike; each round starts
# one filter further on, so that none always follows the same one (an
# agent's log thread writes the last batch's decisions while the next
# filter runs). The medians of the rounds are kept. The agents' VmRSS idle and at its peak under load; the
# queue's counters (dropped by the kernel, by the socket, packets queued);
# then a perf profile of the sluiced filter furthest from the bare loop.
# What each filter's process cost per TCP flow, summed over its threads
# and over the rounds' TCP batches: CPU time (schedstat) and context
# switches. The switches hold still on a busy machine; the CPU time
# moves with what a system call costs there at the moment.
#
#   sh tests/bench/flows.sh OUTDIR
#
# Writes OUTDIR/flows.txt ("flows:", "rss:", "count:" lines) and
# OUTDIR/profile.txt ("cost:" lines: the counts per flow). FLOWS (1000),
# ROUNDS (9), OPENSNITCH_FLOWS (300: it does some hundreds a second),
# BIG_RULES (100000) and BIG_NAMES (1000000) override the counts; FILTERS
# a subset of the filters, in the order given (bare and sluiced-big, say).
set -eu

out=${1:?usage: flows.sh OUTDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
flows=${FLOWS:-1000}
rounds=${ROUNDS:-9}
os_flows=${OPENSNITCH_FLOWS:-300}
big_rules=${BIG_RULES:-100000}
big_names=${BIG_NAMES:-1000000}
port=5001
tmp=$(mktemp -d /tmp/sluice-flows-XXXXXX)
pids=""
made=""
mkdir -p "$out"
res=$out/flows.txt
: > "$res"

say() { echo "flows: $*" >&2; }
die() { echo "flows: $*" >&2; exit 1; }

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	for n in $made; do
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, iptables)"
for b in build/flowbench build/nfq_accept agent/sluiced agent/sluicectl; do
	[ -x "$top/$b" ] || die "$b is not built (make bench builds it)"
done
fb=$top/build/flowbench

# Filter number I (0..5) of name F: namespaces sb-F-c$$ and sb-F-s$$.
cns() { echo "sluice-bench-$1-c$$"; }
inc() { f=$1; shift; ip netns exec "$(cns "$f")" "$@"; }

# ns_up I F: the pair of namespaces of filter F, its server answering.
ns_up() {
	c=$(cns "$2")
	s=sluice-bench-$2-s$$
	ip netns add "$c"
	made="$made $c"
	ip netns add "$s"
	made="$made $s"
	ip link add "sb$1c$$" netns "$c" type veth peer name "sb$1s$$" netns "$s"
	ip -n "$c" addr add 10.77.0.1/24 dev "sb$1c$$"
	ip -n "$s" addr add 10.77.0.2/24 dev "sb$1s$$"
	for n in "$c" "$s"; do
		ip -n "$n" link set lo up
	done
	ip -n "$c" link set "sb$1c$$" up
	ip -n "$s" link set "sb$1s$$" up
	# Ports enough for every round's TIME_WAIT (TCP); UDP binds its own,
	# from 10000 on, each flow a port conntrack has not seen.
	ip netns exec "$c" sysctl -q net.ipv4.ip_local_port_range="20000 65535"
	ip netns exec "$s" "$fb" serve $port &
	pids="$pids $!"
	i=0
	until inc "$2" "$fb" tcp 10.77.0.2 $port 1 2> /dev/null | grep -q ' failed=0 '; do
		i=$((i + 1))
		[ $i -le 50 ] || die "the bench server does not answer in $s"
		sleep 0.1
	done
}

queue_rule() {
	inc "$1" iptables -A OUTPUT -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
}

# wait_for FILE TEXT: up to 120 s for a line of a log.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 1200 ] || die "no '$2' in $1 after 120 s: $(tail -n 3 "$1")"
		sleep 0.1
	done
}

# cost_of PID: on-CPU nanoseconds and context switches, all its threads.
cost_of() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f ", s }'
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '$1 ~ /^(non)?voluntary_ctxt_switches:$/ { s += $2 } END { print s + 0 }'
}

rss_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo -; }

# Highest VmRSS of PID while $tmp/sampling exists, kept in $tmp/F.rss.
sample_rss() {
	max=$(cat "$tmp/$2.rss" 2>/dev/null || echo 0)
	while [ -e "$tmp/sampling" ]; do
		r=$(rss_of "$1" VmRSS)
		[ -n "$r" ] && [ "$r" != - ] && [ "$r" -gt "$max" ] && max=$r
		sleep 0.1
	done
	echo "$max" > "$tmp/$2.rss"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }

# field LINE KEY: the value of KEY=... in a flowbench line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

make_big_policy() {
	db=$1
	say "big policy: $big_names names (sluicectl import), $big_rules rules"
	awk -v n="$big_names" -v seed=7 -f "$top/tests/bench/gen-domains.awk" > "$tmp/names.txt"
	"$top/agent/sluicectl" import --db "$db" --list big --action deny "$tmp/names.txt" > /dev/null
	rm -f "$tmp/names.txt"
	# CIDR/port rules, none matching 10.77.0.2:5001: nine in ten to
	# 172.16.0.0/12 (/24 to /30, ports and ranges), one in ten to hosts
	# of the test flow's own 10.77.0.0/16 on other ports. Then rules on
	# who: uid, exe and unit (unknown without the module, so skipped).
	sqlite3 "$db" <<-EOF
	BEGIN;
	WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $big_rules - 1)
	INSERT INTO rules(priority, action, direction, proto, dst, dst_port)
	SELECT 10 + i % 90, 'deny', 'out', CASE i % 2 WHEN 0 THEN 'tcp' ELSE 'udp' END,
	       CASE WHEN i % 10 = 9 THEN printf('10.77.%d.%d/32', (i / 256) % 256, i % 256)
	            ELSE printf('172.%d.%d.%d/%d', 16 + (i / 65536) % 16, (i / 256) % 256,
	                        (i % 64) * 4, 24 + i % 7) END,
	       CASE WHEN i % 3 = 0 THEN printf('%d-%d', 6000 + i % 50000, 6010 + i % 50000)
	            ELSE printf('%d', 6000 + i % 59000) END
	  FROM n;
	INSERT INTO rules(priority, action, uid) VALUES (5, 'deny', 54321);
	INSERT INTO rules(priority, action, exe) VALUES (5, 'deny', '/usr/bin/sluice-bench-nothing');
	INSERT INTO rules(priority, action, unit) VALUES (5, 'deny', 'sluice-bench-nothing.service');
	COMMIT;
	EOF
	echo "count: big_rules=$(sqlite3 "$db" 'SELECT count(*) FROM rules') big_names=$(sqlite3 "$db" 'SELECT count(*) FROM list_domains')" >> "$res"
}

# start_sluiced F DB [log [BINARY]]: sluiced serving queue 0 in F's
# client netns.
start_sluiced() {
	logarg=""
	[ "${3:-}" = log ] && logarg="--log-db $tmp/$1-log.db"
	# shellcheck disable=SC2086
	ip netns exec "$(cns "$1")" "${4:-$top/agent/sluiced}" --db "$2" \
		--status-file "$tmp/$1.status" --threads 1 $logarg > "$tmp/$1.log" 2>&1 &
	echo $! > "$tmp/$1.pid"
	pids="$pids $!"
	wait_for "$tmp/$1.log" "serving queue 0"
}

start_opensnitch() {
	# Its daemon alone, in this client netns only; it installs its own
	# NFQUEUE rules there (mangle OUTPUT ctstate NEW,RELATED, DNS
	# answers on INPUT), which go with the namespace. Its config is the
	# package's /etc/opensnitchd/default-config.json (DefaultAction allow).
	mkdir -p "$tmp/os-rules"
	ip netns exec "$(cns "$1")" opensnitchd -rules-path "$tmp/os-rules" \
		-ui-socket "unix://$tmp/osui.sock" -log-file "$tmp/os.log" \
		-process-monitor-method proc -queue-num 0 &
	echo $! > "$tmp/$1.pid"
	pids="$pids $!"
	wait_for "$tmp/os.log" "Running on netfilter queue"
	i=0
	until inc "$1" iptables -t mangle -S OUTPUT 2>/dev/null | grep -q NFQUEUE; do
		i=$((i + 1))
		[ $i -le 100 ] || die "opensnitchd put no NFQUEUE rule in its namespace"
		sleep 0.1
	done
	echo "count: opensnitch_version=$(opensnitchd -version 2>&1 | tail -n 1)" >> "$res"
}

filters="none bare sluiced sluiced-log sluiced-big"
[ -n "${SLUICED_BASELINE:-}" ] && filters="$filters baseline-big"
if command -v opensnitchd > /dev/null; then
	filters="$filters opensnitch"
else
	echo "skip: opensnitch opensnitchd is not installed (make deps)" >> "$res"
fi
if [ -n "${FILTERS:-}" ]; then
	for f in $FILTERS; do
		case " $filters " in
		*" $f "*) ;;
		*) die "FILTERS: no filter $f here (these are: $filters)" ;;
		esac
	done
	filters=$FILTERS
fi
if [ -n "${SLUICED_BASELINE:-}" ]; then
	[ -x "$SLUICED_BASELINE" ] || die "SLUICED_BASELINE: $SLUICED_BASELINE is not a program"
fi

make_big_policy "$tmp/big.db"
idx=0
for f in $filters; do
	say "up: $f"
	ns_up $idx "$f"
	idx=$((idx + 1))
	case $f in
	none) ;;
	bare)
		queue_rule "$f"
		ip netns exec "$(cns "$f")" "$top/build/nfq_accept" 0 &
		pids="$pids $!"
		echo $! > "$tmp/$f.cpid"	# for its cost; no RSS, no status
		;;
	sluiced) queue_rule "$f"; start_sluiced "$f" "$tmp/default.db" ;;
	sluiced-log) queue_rule "$f"; start_sluiced "$f" "$tmp/default-log.db" log ;;
	sluiced-big) queue_rule "$f"; start_sluiced "$f" "$tmp/big.db" log ;;
	baseline-big)
		queue_rule "$f"
		start_sluiced "$f" "$tmp/big.db" log "$SLUICED_BASELINE"
		;;
	opensnitch) start_opensnitch "$f" ;;
	esac
	[ -f "$tmp/$f.pid" ] && echo "rss: $f idle_kib=$(rss_of "$(cat "$tmp/$f.pid")" VmRSS)" >> "$res"
	[ -f "$tmp/$f.pid" ] && cp "$tmp/$f.pid" "$tmp/$f.cpid"
	echo "0 0" > "$tmp/$f.cost"
done

say "$flows flows ($os_flows for opensnitch) x $rounds rounds, filters in turn: $filters"
r=0
nfilters=$(echo "$filters" | wc -w)
while [ $r -lt "$rounds" ]; do
	order=$(echo "$filters" | tr ' ' '\n' | grep . |
		awk -v k=$((r % nfilters)) -v n="$nfilters" '{ a[NR - 1] = $0 } END { for (i = 0; i < n; i++) print a[(i + k) % n] }')
	for f in $order; do
		n=$flows
		[ "$f" = opensnitch ] && n=$os_flows
		if [ -f "$tmp/$f.pid" ]; then
			touch "$tmp/sampling"
			sample_rss "$(cat "$tmp/$f.pid")" "$f" &
			sampler=$!
		fi
		[ -f "$tmp/$f.cpid" ] && c0=$(cost_of "$(cat "$tmp/$f.cpid")")
		inc "$f" "$fb" tcp 10.77.0.2 $port "$n" >> "$tmp/$f.tcp"
		if [ -f "$tmp/$f.cpid" ]; then
			# shellcheck disable=SC2086,SC2046
			set -- $c0 $(cost_of "$(cat "$tmp/$f.cpid")") $(cat "$tmp/$f.cost")
			echo "$(($5 + $3 - $1)) $(($6 + $4 - $2))" > "$tmp/$f.cost"
		fi
		inc "$f" "$fb" udp 10.77.0.2 $port "$n" $((10000 + r * n)) >> "$tmp/$f.udp"
		if [ -f "$tmp/$f.pid" ]; then
			rm -f "$tmp/sampling"
			wait "$sampler"
		fi
	done
	r=$((r + 1))
	say "round $r of $rounds done"
done
sleep 1.5	# the agents' status files move once a second

for f in $filters; do
	n=$flows
	[ "$f" = opensnitch ] && n=$os_flows
	line="flows: $f n=$n rounds=$rounds"
	for p in tcp udp; do
		for k in flows_per_s p50_us p99_us; do
			v=$(while read -r l; do field "$l" $k; done < "$tmp/$f.$p" | median)
			line="$line ${p}_$k=$v"
		done
		v=$(while read -r l; do field "$l" failed; done < "$tmp/$f.$p" | awk '{ s += $1 } END { print s + 0 }')
		line="$line ${p}_failed=$v"
	done
	# nfnetlink_queue: queue portid total mode range queue_dropped
	# user_dropped id_sequence 1. Each flow's first packet must be there.
	q=$(inc "$f" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '$1 == 0')
	if [ -n "$q" ]; then
		# shellcheck disable=SC2086
		set -- $q
		want=$((2 * n * rounds))
		line="$line queue_dropped=$6 user_dropped=$7 queued=$8 flows=$want"
		[ "$8" -ge $((want * 9 / 10)) ] ||
			die "$f: only $8 packets queued for $want flows: the filter was not in the path"
	elif [ "$f" != none ]; then
		die "$f: no queue 0 in its namespace: the filter was not in the path"
	else
		line="$line queued=0"
	fi
	echo "$line" >> "$res"
	say "$line"
	if [ -f "$tmp/$f.pid" ]; then
		apid=$(cat "$tmp/$f.pid")
		echo "rss: $f load_kib=$(cat "$tmp/$f.rss") hwm_kib=$(rss_of "$apid" VmHWM)" >> "$res"
	fi
	if [ -f "$tmp/$f.cpid" ]; then
		read -r ns cs < "$tmp/$f.cost"
		echo "cost: $f tcp_flows=$((n * rounds)) cpu_us_per_flow=$(awk -v a="$ns" -v b=$((n * rounds)) 'BEGIN { printf "%.1f", a / b / 1000 }') ctxsw_per_flow=$(awk -v a="$cs" -v b=$((n * rounds)) 'BEGIN { printf "%.2f", a / b }')" >> "$res"
	fi
	if [ -f "$tmp/$f.status" ]; then
		echo "count: $f $(grep -E '^(policy_rules|decided_allow|decided_deny|flows_named|decisions_logged|decisions_dropped)=' \
			"$tmp/$f.status" | tr '\n' ' ')" >> "$res"
	fi
done

# The profile: the sluiced filter with the lowest TCP rate, one more batch
# under perf, not counted above.
worst=$(awk '$1 == "flows:" && $2 ~ /^sluiced/ { for (i = 3; i <= NF; i++) if ($i ~ /^tcp_flows_per_s=/) { split($i, a, "="); print a[2], $2 } }' "$res" |
	sort -n | head -n 1 | cut -d' ' -f2)
if [ -z "$worst" ]; then
	echo "profiled: none (FILTERS has no sluiced filter)" >> "$res"
	: > "$out/profile.txt"
else
	echo "profiled: $worst" >> "$res"
	apid=$(cat "$tmp/$worst.pid")
	perf record -F 1000 --call-graph dwarf,16384 -p "$apid" -o "$tmp/perf.data" > "$tmp/perf.log" 2>&1 &
	ppid=$!
	sleep 1
	pflows=$((flows * 3))
	inc "$worst" "$fb" tcp 10.77.0.2 $port $pflows > /dev/null
	inc "$worst" "$fb" udp 10.77.0.2 $port $pflows 40000 > /dev/null
	kill -INT $ppid
	wait $ppid || true	# perf exits non-zero after SIGINT
	[ -s "$tmp/perf.data" ] || die "perf record wrote nothing: $(tail -n 3 "$tmp/perf.log")"
	{
		echo "perf record -F 1000 --call-graph dwarf -p PID ($worst): $pflows TCP + $pflows UDP new flows"
		perf report -i "$tmp/perf.data" --stdio --no-children --sort dso,symbol \
			--percent-limit 1 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
		echo "samples: $(perf report -i "$tmp/perf.data" --stdio 2>/dev/null | sed -n 's/^# Samples: //p' | head -n 1)"
		echo "sluice's functions with what they call (children, then self):"
		perf report -i "$tmp/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
			grep -E '\] (sluice_|judge|rule_matches|verdict_thread)' | head -n 10
	} > "$out/profile.txt"
fi

# Orderly stops, so that the agents' own counts can be read.
for f in $filters; do
	[ -f "$tmp/$f.pid" ] || continue
	kill "$(cat "$tmp/$f.pid")" 2>/dev/null || true
	wait "$(cat "$tmp/$f.pid")" 2>/dev/null || true
	[ -f "$tmp/$f.log" ] &&
		echo "count: $f $(grep 'stopped:' "$tmp/$f.log" | sed 's/^sluiced: //')" >> "$res"
	[ -f "$tmp/$f-log.db" ] &&
		echo "count: $f rows_in_decision_log=$(sqlite3 "$tmp/$f-log.db" 'SELECT count(*) FROM decisions' 2>/dev/null || echo -)" >> "$res"
done
say "done: $res"
