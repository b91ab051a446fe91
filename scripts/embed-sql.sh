#!/bin/sh
# Turn policy/schema.sql and policy/default.sql into C strings, so that the
# agent can always create a missing policy database from what it was built
# with. Usage: embed-sql.sh schema.sql default.sql > agent/policy_sql.c
set -eu

emit() {
	printf 'const char %s[] =\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$2"
	printf '\t"";\n\n'
}

printf '/* Generated from policy/ by scripts/embed-sql.sh: do not edit. */\n'
printf '#include "agent/policy_sql.h"\n\n'
emit sluice_schema_sql "$1"
emit sluice_default_sql "$2"
