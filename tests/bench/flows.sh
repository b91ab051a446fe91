#!/bin/sh
# New-flow benchmark on the host kernel, agent only (no module), all inside
# network namespaces made here (part of `make bench`; prints figures, fails
# only when something could not run).
#
#   client netns  veth 10.77.0.1 ---- 10.77.0.2 veth  server netns
#   flowbench tcp|udp                                  flowbench serve
#   OUTPUT: ctstate NEW -> NFQUEUE 0 (the filter under test, in this netns)
#
# One run, side by side, each filter in a fresh pair of namespaces:
#   none          no rule, no queue
#   bare          build/nfq_accept, the libmnl accept loop (NFQUEUE's limit)
#   sluiced       the default policy
#   sluiced-log   the default policy, decision log on
#   sluiced-big   100 000 CIDR/port rules that do not match the test flow,
#                 1 000 000 blocklist names (sluicectl import), identity
#                 rules (uid, exe, unit), decision log on
#   opensnitch    opensnitchd 1.5.8 alone (default action allow), which puts
#                 its own iptables rules in the client netns
# For each: ROUNDS rounds of FLOWS sequential TCP connects and FLOWS UDP
# flows (new source port each, echo awaited); the medians of the rounds.
# The agent's VmRSS idle and its peak under load; the queue's counters
# (dropped by the kernel, by the netlink socket, packets queued); then a
# perf profile of the sluiced run furthest from the bare loop.
#
#   sh tests/bench/flows.sh OUTDIR
#
# Writes OUTDIR/flows.txt (one "flows:" line per filter, "rss:" lines,
# "count:" lines) and OUTDIR/profile.txt. FLOWS (3000), ROUNDS (3),
# OPENSNITCH_FLOWS (1000: it does some hundreds a second), BIG_RULES
# (100000) and BIG_NAMES (1000000) override the counts.
set -eu

out=${1:?usage: flows.sh OUTDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
flows=${FLOWS:-3000}
rounds=${ROUNDS:-3}
os_flows=${OPENSNITCH_FLOWS:-1000}
big_rules=${BIG_RULES:-100000}
big_names=${BIG_NAMES:-1000000}
client=sluice-bench-c$$
server=sluice-bench-s$$
port=5001
tmp=$(mktemp -d /tmp/sluice-flows-XXXXXX)
pids=""
mkdir -p "$out"
res="$out/flows.txt"
: > "$res"

say() { echo "flows: $*" >&2; }
die() { echo "flows: $*" >&2; exit 1; }

stop_pids() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	pids=""
}

teardown_ns() {
	ip netns del "$client" 2>/dev/null || true
	ip netns del "$server" 2>/dev/null || true
}

cleanup() {
	stop_pids
	teardown_ns
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, iptables)"
for b in build/flowbench build/nfq_accept agent/sluiced agent/sluicectl; do
	[ -x "$top/$b" ] || die "$b is not built (make bench builds it)"
done
fb=$top/build/flowbench
inc() { ip netns exec "$client" "$@"; }

setup_ns() {
	teardown_ns
	ip netns add "$client"
	ip netns add "$server"
	ip link add sbc$$ netns "$client" type veth peer name sbs$$ netns "$server"
	ip -n "$client" addr add 10.77.0.1/24 dev sbc$$
	ip -n "$server" addr add 10.77.0.2/24 dev sbs$$
	for n in "$client" "$server"; do
		ip -n "$n" link set lo up
	done
	ip -n "$client" link set sbc$$ up
	ip -n "$server" link set sbs$$ up
	# Ports enough for every round's TIME_WAIT (TCP); UDP binds its own,
	# from 10000 on, each flow a port conntrack has not seen.
	inc sysctl -q net.ipv4.ip_local_port_range="20000 65535"
	ip netns exec "$server" "$fb" serve $port &
	pids="$pids $!"
	i=0
	until inc "$fb" tcp 10.77.0.2 $port 1 2> /dev/null | grep -q ' failed=0 '; do
		i=$((i + 1))
		[ $i -le 50 ] || die "the bench server does not answer in $server"
		sleep 0.1
	done
}

queue_rule() {
	inc iptables -A OUTPUT -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
}

# wait_for FILE TEXT: up to 60 s for a line of a log.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 600 ] || die "no '$2' in $1 after 60 s: $(tail -n 3 "$1")"
		sleep 0.1
	done
}

rss_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo -; }

# Highest VmRSS of PID while the file $tmp/sampling exists.
sample_rss() {
	max=0
	while [ -e "$tmp/sampling" ]; do
		r=$(rss_of "$1" VmRSS)
		[ -n "$r" ] && [ "$r" != - ] && [ "$r" -gt "$max" ] && max=$r
		sleep 0.1
	done
	echo "$max" > "$tmp/rss.max"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }

# field LINE KEY: the value of KEY=... in a flowbench line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# measure NAME N [PID]: the rounds against the filter in place.
measure() {
	name=$1 n=$2 apid=${3:-}
	: > "$tmp/tcp" && : > "$tmp/udp"
	if [ -n "$apid" ]; then
		echo "rss: $name idle_kib=$(rss_of "$apid" VmRSS)" >> "$res"
		touch "$tmp/sampling"
		sample_rss "$apid" &
		sampler=$!
	fi
	r=0
	while [ $r -lt "$rounds" ]; do
		inc "$fb" tcp 10.77.0.2 $port "$n" >> "$tmp/tcp"
		inc "$fb" udp 10.77.0.2 $port "$n" $((10000 + r * n)) >> "$tmp/udp"
		r=$((r + 1))
	done
	if [ -n "$apid" ]; then
		rm -f "$tmp/sampling"
		wait "$sampler"
		echo "rss: $name load_kib=$(cat "$tmp/rss.max") hwm_kib=$(rss_of "$apid" VmHWM)" >> "$res"
	fi
	line="flows: $name n=$n rounds=$rounds"
	for p in tcp udp; do
		for k in flows_per_s p50_us p99_us; do
			v=$(while read -r l; do field "$l" $k; done < "$tmp/$p" | median)
			line="$line ${p}_$k=$v"
		done
		f=$(while read -r l; do field "$l" failed; done < "$tmp/$p" | awk '{ s += $1 } END { print s + 0 }')
		line="$line ${p}_failed=$f"
	done
	# nfnetlink_queue: queue portid total mode range queue_dropped
	# user_dropped id_sequence 1. Each flow's first packet must be there.
	q=$(inc cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '$1 == 0')
	if [ -n "$q" ]; then
		set -- $q
		line="$line queue_dropped=$6 user_dropped=$7 queued=$8"
		want=$((2 * n * rounds))
		line="$line flows=$want"
		[ "$8" -ge $((want * 9 / 10)) ] || die "$name: only $8 packets queued for $want flows: the filter was not in the path"
	else
		line="$line queued=0"
	fi
	echo "$line" >> "$res"
	say "$line"
}

make_big_policy() {
	db=$1
	say "big policy: $big_names names (sluicectl import), $big_rules rules"
	awk -v n="$big_names" -v seed=7 -f "$top/tests/bench/gen-domains.awk" > "$tmp/names.txt"
	"$top/agent/sluicectl" import --db "$db" --list big --action deny "$tmp/names.txt" > /dev/null
	rm -f "$tmp/names.txt"
	# CIDR/port rules, none matching 10.77.0.2:5001: nine in ten to
	# 172.16.0.0/12 (/30 to /24, ports and ranges), one in ten to the
	# test flow's own 10.77.0.0/16 on other ports. Then rules on who:
	# uid, exe and unit (unknown without the module, so skipped).
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

# run_sluiced NAME DB LOG [profile]
run_sluiced() {
	setup_ns
	queue_rule
	set -- "$1" "$2" "$3" "${4:-}"
	logarg=""
	[ "$3" = log ] && logarg="--log-db $tmp/$1-log.db"
	# shellcheck disable=SC2086
	ip netns exec "$client" "$top/agent/sluiced" --db "$2" --status-file "$tmp/$1.status" --threads 1 $logarg \
		> "$tmp/$1.log" 2>&1 &
	apid=$!
	pids="$pids $apid"
	wait_for "$tmp/$1.log" "serving queue 0"
	if [ "$4" = profile ]; then
		perf record -F 2000 -g -p "$apid" -o "$tmp/perf.data" > "$tmp/perf.log" 2>&1 &
		ppid=$!
		sleep 1
		inc "$fb" tcp 10.77.0.2 $port "$flows" > /dev/null
		inc "$fb" udp 10.77.0.2 $port "$flows" 10000 > /dev/null
		kill -INT $ppid
		wait $ppid || true
		{
			echo "perf record -F 2000 -g -p PID (sluiced, $1): $flows TCP + $flows UDP new flows"
			perf report -i "$tmp/perf.data" --stdio --no-children --sort dso,symbol \
				--percent-limit 1 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
			echo "samples: $(perf report -i "$tmp/perf.data" --stdio 2>/dev/null | sed -n 's/^# Samples: //p' | head -n 1)"
			echo "within sluiced's own code (share of all samples):"
			perf report -i "$tmp/perf.data" --stdio --no-children --dsos sluiced \
				--sort symbol --percent-limit 0.3 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 15
		} > "$out/profile.txt"
	else
		measure "$1" "$flows" "$apid"
		sleep 1.5
		echo "count: $1 $(grep -E '^(policy_rules|decided_allow|decided_deny|decisions_logged|decisions_dropped)=' \
			"$tmp/$1.status" | tr '\n' ' ')" >> "$res"
	fi
	[ "$3" = log ] && [ "$4" != profile ] &&
		echo "count: $1 logged_decisions=$(sqlite3 "$tmp/$1-log.db" 'SELECT count(*) FROM decisions' 2>/dev/null || echo -)" >> "$res"
	stop_pids
	[ "$4" = profile ] || echo "count: $1 $(grep 'stopped:' "$tmp/$1.log" | sed 's/^sluiced: //')" >> "$res"
	teardown_ns
}

say "client $client, server $server: $flows flows x $rounds rounds per filter"

setup_ns
measure none "$flows"
stop_pids

setup_ns
queue_rule
ip netns exec "$client" "$top/build/nfq_accept" 0 &
pids="$pids $!"
sleep 0.5
measure bare "$flows"
stop_pids

run_sluiced sluiced "$tmp/default.db" nolog
run_sluiced sluiced-log "$tmp/default-log.db" log
make_big_policy "$tmp/big.db"
run_sluiced sluiced-big "$tmp/big.db" log

# OpenSnitch: its daemon alone, in the client netns only; it installs its
# own NFQUEUE rules there (mangle OUTPUT ctstate NEW,RELATED, and DNS
# answers on INPUT), which go with the namespace. Its config is the
# package's /etc/opensnitchd/default-config.json (DefaultAction allow).
if command -v opensnitchd > /dev/null; then
	setup_ns
	mkdir -p "$tmp/os-rules"
	ip netns exec "$client" opensnitchd -rules-path "$tmp/os-rules" -ui-socket "unix://$tmp/osui.sock" \
		-log-file "$tmp/os.log" -process-monitor-method proc -queue-num 0 &
	opid=$!
	pids="$pids $opid"
	wait_for "$tmp/os.log" "Running on netfilter queue"
	i=0
	until inc iptables -t mangle -S OUTPUT 2>/dev/null | grep -q NFQUEUE; do
		i=$((i + 1))
		[ $i -le 100 ] || die "opensnitchd put no NFQUEUE rule in the namespace"
		sleep 0.1
	done
	echo "count: opensnitch_version=$(opensnitchd -version 2>&1 | tail -n 1)" >> "$res"
	measure opensnitch "$os_flows" "$opid"
	stop_pids
	teardown_ns
else
	echo "skip: opensnitch opensnitchd is not installed (make deps)" >> "$res"
fi

# The profile: the sluiced run with the lowest TCP rate.
worst=$(awk '$1 == "flows:" && $2 ~ /^sluiced/ { for (i = 3; i <= NF; i++) if ($i ~ /^tcp_flows_per_s=/) { split($i, a, "="); print a[2], $2 } }' "$res" | sort -n | head -n 1 | cut -d' ' -f2)
echo "profiled: $worst" >> "$res"
case $worst in
sluiced) run_sluiced sluiced "$tmp/default.db" nolog profile ;;
sluiced-log) run_sluiced sluiced-log "$tmp/default-log.db" log profile ;;
*) run_sluiced sluiced-big "$tmp/big.db" log profile ;;
esac
say "done: $res"
