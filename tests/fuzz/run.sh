#!/bin/sh
# Fuzzing tier: one libFuzzer target per parser of packet bytes or policy
# text (tests/fuzz/*_fuzz.c), each built with ASan and UBSan from only the
# agent sources it tests, and run from its seed corpus.
#
#   run.sh smoke [SECONDS]   build all, run each SECONDS (default 20);
#                            `make test` runs this
#   run.sh long [SECONDS]    build all, run each SECONDS (default 600);
#                            `make fuzz` runs this
#   run.sh build             only build
#
# Targets run side by side, as many at once as there are CPUs (FUZZ_JOBS
# overrides). New inputs found go to build/fuzz/corpus/<target>/ (kept
# between runs; the seeds in tests/fuzz/corpus/<target>/ are not written
# to), crashes to build/fuzz/artifacts/<target>-crash-*. The last line is
# "fuzz: N passed, N failed", one count per target; the exit status is
# non-zero when any target failed to build or found something.
set -u
cd "$(dirname "$0")/../.."

mode=${1:-smoke}
case $mode in
smoke) secs=${2:-20} ;;
long) secs=${2:-600} ;;
build) secs=0 ;;
*)
	echo "usage: $0 smoke|long|build [SECONDS]" >&2
	exit 2
	;;
esac

CLANG=${CLANG:-clang}
OUT=build/fuzz
FLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -I.
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer"

# target, the agent sources it links, -max_len, libraries
TARGETS="
dns_query_fuzz   agent/dns.c             1024
dns_answer_fuzz  agent/dns.c             4096
dns_ldns_fuzz    agent/dns.c             4096 -lldns
sni_fuzz         agent/sni.c,agent/dns.c 4096
http_host_fuzz   agent/sni.c,agent/dns.c 4096
pending_fuzz     agent/pending.c,agent/sni.c,agent/dns.c 16386
quic_fuzz        agent/quic.c,agent/quic_join.c,agent/pending.c,agent/sni.c,agent/dns.c 16384 -lcrypto
packet_fuzz      agent/packet.c          2048
cidr_fuzz        agent/cidr.c            128
policy_compile_fuzz agent/policy_db.c,agent/policy_compile.c,agent/policy_match.c,agent/identity.c,agent/cidr.c,agent/domains.c,agent/util.c,agent/policy_sql.c 4096 -lsqlite3
verdict_fuzz     agent/verdict.c,agent/quic.c,agent/quic_join.c,agent/pending.c,agent/namecache.c,agent/nametrust.c,agent/dns.c,agent/sni.c,agent/packet.c,agent/policy_db.c,agent/policy_compile.c,agent/policy_match.c,agent/identity.c,agent/cidr.c,agent/domains.c,agent/util.c,agent/policy_sql.c 8192 -lsqlite3 -lcrypto
"

mkdir -p "$OUT/artifacts" "$OUT/corpus" "$OUT/logs"
passed=0
failed=0

if ! command -v "$CLANG" >/dev/null 2>&1; then
	n=$(echo "$TARGETS" | grep -c _fuzz)
	echo "fuzz: $CLANG not found: install clang (make deps)"
	echo "fuzz: 0 passed, $n failed"
	exit 1
fi

# The verdict path links the schema compiled into the agent.
make -s agent/policy_sql.c >/dev/null 2>&1

# Build every target first; one that does not build is one failure.
built=""
echo "$TARGETS" | while read -r t srcs maxlen libs; do
	[ -n "$t" ] || continue
	# shellcheck disable=SC2086
	if $CLANG $FLAGS -o "$OUT/$t" "tests/fuzz/$t.c" $(echo "$srcs" | tr , ' ') \
		$libs >"$OUT/logs/$t.build" 2>&1; then
		echo "$t $maxlen"
	else
		echo "fuzz: $t does not build:" >&2
		cat "$OUT/logs/$t.build" >&2
	fi
done >"$OUT/built.list"
built=$(cat "$OUT/built.list")
total=$(echo "$TARGETS" | grep -c _fuzz)
nbuilt=$(grep -c _fuzz "$OUT/built.list")
failed=$((total - nbuilt))

if [ "$mode" = build ]; then
	echo "fuzz: $nbuilt passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}

# Run one target for $secs seconds; its log is $OUT/logs/<t>.log.
run_one() {
	t=$1
	maxlen=$2
	mkdir -p "$OUT/corpus/$t"
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# shellcheck disable=SC2086
	"./$OUT/$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 $dict \
		-artifact_prefix="$OUT/artifacts/$t-" \
		"$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$OUT/logs/$t.log" 2>&1
	echo $? >"$OUT/logs/$t.rc"
}

# At most $jobs at once.
running=0
for t in $(echo "$built" | cut -d' ' -f1); do
	maxlen=$(echo "$built" | grep "^$t " | cut -d' ' -f2)
	rm -f "$OUT/logs/$t.rc"
	run_one "$t" "$maxlen" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

for t in $(echo "$built" | cut -d' ' -f1); do
	log="$OUT/logs/$t.log"
	rc=$(cat "$OUT/logs/$t.rc" 2>/dev/null || echo 99)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
		echo "fuzz: $t ok: ${execs} runs in ${secs}s (${speed}/s), ${cov:-cov: ?}"
		passed=$((passed + 1))
	else
		echo "fuzz: $t FAILED (exit $rc); log $log:"
		grep -E 'ERROR|SUMMARY|invariant broken|Test unit written|#0 |#1 |#2 |#3 ' "$log" |
			head -n 20
		failed=$((failed + 1))
	fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
