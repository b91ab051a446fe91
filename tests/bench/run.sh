#!/bin/sh
# Domain matcher benchmark (`make bench`; prints figures, passes or fails
# nothing). Generates N realistic blocklist lines (default 1,000,000; hosts
# and plain formats, some "*." patterns), imports them into a fresh policy
# with `sluicectl import` (timed, peak RSS), then runs domains_bench on it:
# compile time and memory, lookups/s for hits and misses.
#
#   sh tests/bench/run.sh [N]
#
# BENCH (default build/domains_bench) and SLUICECTL (default agent/sluicectl)
# may point elsewhere; a missing domains_bench is built here with cc.
set -eu

n=${1:-1000000}
top=$(cd "$(dirname "$0")/../.." && pwd)
bench=${BENCH:-$top/build/domains_bench}
sluicectl=${SLUICECTL:-$top/agent/sluicectl}
tmp=$(mktemp -d /tmp/sluice-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -x "$sluicectl" ]; then
	echo "bench: $sluicectl is not built; run make first" >&2
	exit 1
fi
if [ ! -x "$bench" ]; then
	mkdir -p "$(dirname "$bench")"
	(cd "$top" && ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -I. \
		-o "$bench" tests/bench/domains_bench.c agent/domains.c agent/policy_db.c agent/policy_compile.c agent/policy_match.c agent/identity.c \
		agent/cidr.c agent/policy_sql.c -lsqlite3)
fi

# Peak RSS of a command, when /usr/bin/time (package "time") is there.
timed() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%e %M" -o "$tmp/time" "$@"
	else
		"$@"
		echo "- -" > "$tmp/time"
	fi
}

echo "== sluice domain matcher benchmark: $n lines =="
awk -v n="$n" -v seed=42 -f "$top/tests/bench/gen-domains.awk" > "$tmp/list.txt"
timed "$sluicectl" import --db "$tmp/policy.db" --list bench "$tmp/list.txt" > "$tmp/import.out"
read -r secs kib < "$tmp/time"
printf '%-44s %12s\n' "sluicectl import: wall time, s" "$secs"
printf '%-44s %12s\n' "sluicectl import: peak RSS, KiB" "$kib"
printf '%-44s %12s\n' "policy file size, MiB" \
	"$(awk -v b="$(wc -c < "$tmp/policy.db")" 'BEGIN { printf "%.1f", b / 1048576 }')"
sed 's/^/  /' "$tmp/import.out"
"$bench" "$tmp/policy.db" "$tmp/list.txt"
