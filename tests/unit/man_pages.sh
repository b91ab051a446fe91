#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The man pages: each one formats without a warning (man -l and groff
# -ww), and they cannot fall behind the sources: every module parameter
# (module_param* in kmod/) and every /proc/net/sluice line (kmod/stats.c
# and the counter names in uapi/sluice.h) is described in sluice.4, every
# column of the policy's tables and every setting (from the schema itself,
# through sqlite3) in sluice-policy.5, every option of sluiced in
# sluiced.8. Each check also runs on an empty page, where it must fail.
#
# Prints cmocka's summary lines, so tests/unit/run.sh counts it.
set -u
cd "$(dirname "$0")/../.." || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "[       OK ] $*"; }
not_ok() { failed=$((failed + 1)); echo "[  FAILED  ] $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.man"

# --- formatting ---
for page in man/*.[1-8]; do
	if LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" \
		>"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
	   [ "$(wc -l <"$tmp/out")" -gt 10 ]; then
		ok "man -l $page: no warning"
	else
		not_ok "man -l $page: no warning"
		cat "$tmp/err"
	fi
	# groff itself, with every warning on; tbl for the tables.
	if LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -z "$page" 2>"$tmp/err" &&
	   [ ! -s "$tmp/err" ]; then
		ok "groff -ww $page: no warning"
	else
		not_ok "groff -ww $page: no warning"
		cat "$tmp/err"
	fi
done

# described PAGE NAME...: every NAME starts a .B, .BR, .BI or .TP item
# (".B name", ".BR name= ...", ".BI name= ...") of PAGE. Prints the missing.
described() {
	_page=$1
	shift
	_missing=""
	for _n in "$@"; do
		grep -Eq "^\.B[IR]? $_n(=| |$)" "$_page" || _missing="$_missing $_n"
	done
	[ -z "$_missing" ] && return 0
	echo "$_page does not describe:$_missing"
	return 1
}

# check_names WHAT PAGE NAME...: one test that PAGE describes them all,
# and its control: an empty page does not.
check_names() {
	_what=$1
	_page=$2
	shift 2
	if [ $# -eq 0 ]; then
		not_ok "$_what: found in the sources (none found: the grep is broken)"
		return
	fi
	if described "$_page" "$@"; then
		ok "$_what ($#) are all in $_page"
	else
		not_ok "$_what ($#) are all in $_page"
	fi
	if described "$tmp/empty.man" "$@" >/dev/null; then
		not_ok "$_what: the check fails on an empty page (control)"
	else
		ok "$_what: the check fails on an empty page (control)"
	fi
}

# --- sluice.4 against kmod/ and uapi/ ---
params=$(sed -n 's/^module_param\(_cb\|_named\)\?(\([a-z_]*\),.*/\2/p' kmod/*.c | sort -u)
# shellcheck disable=SC2086
check_names "module parameters" man/sluice.4 $params

proc_keys=$( { sed -n 's/.*seq_\(printf\|puts\)(seq, "\([a-z_]*\) .*/\2/p' kmod/stats.c
	       sed -n 's/.*\[SLUICE_STAT_[A-Z_]*\] = "\([a-z_]*\)".*/\1/p' uapi/sluice.h; } |
	     sort -u)
# shellcheck disable=SC2086
check_names "/proc/net/sluice lines" man/sluice.4 $proc_keys

# --- sluice-policy.5 against the schema, as sqlite3 makes it ---
db=$tmp/policy.db
if sqlite3 -bail "$db" <policy/schema.sql >/dev/null 2>"$tmp/err"; then
	for table in rules settings lists list_domains; do
		cols=$(sqlite3 "$db" "SELECT name FROM pragma_table_info('$table')")
		# shellcheck disable=SC2086
		check_names "columns of $table" man/sluice-policy.5 $cols
	done
	keys=$(sqlite3 "$db" "SELECT DISTINCT key FROM settings_values")
	# shellcheck disable=SC2086
	check_names "settings keys" man/sluice-policy.5 $keys
else
	not_ok "policy/schema.sql loads into sqlite3"
	cat "$tmp/err"
fi

# --- sluiced.8 against sluiced's options ---
opts=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", \(required\|optional\|no\)_argument.*/\1/p' agent/sluiced.c |
       grep -v -e '^help$' -e '^version$' | sed 's/-/\\\\-/g; s/^/\\\\-\\\\-/')
# shellcheck disable=SC2086
check_names "sluiced options" man/sluiced.8 $opts

echo "[==========] $((passed + failed)) test(s) run."
echo "[  PASSED  ] $passed test(s)."
[ "$failed" -eq 0 ] || echo "[  FAILED  ] $failed test(s)."
[ "$failed" -eq 0 ]
