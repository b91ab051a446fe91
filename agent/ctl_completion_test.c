// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of packaging/bash-completion/sluicectl: bash sources it (alone,
 * and after Debian's bash-completion when that is installed), and what it
 * offers for a few command lines is compared with what it must offer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/sluicectl_run.h"

#define COMPLETION	"packaging/bash-completion/sluicectl"
#define BASH_COMPLETION	"/usr/share/bash-completion/bash_completion"

/*
 * bash sources the completion (after bash_completion when preamble says so)
 * and prints "complete -p sluicectl", then for each line of lines (a
 * command line, the cursor at its end) the words offered, sorted, on one
 * line. Into fx->out.
 */
static void complete_lines(struct ctl_fixture *fx, const char *preamble, const char *lines)
{
	char exe[PATH_MAX], script[256], bin[PATH_MAX];
	FILE *f;

	ctl_binary(exe);
	snprintf(bin, sizeof(bin), "%s", exe);
	*strrchr(bin, '/') = '\0';
	snprintf(script, sizeof(script), "%s/complete.sh", fx->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "PATH='%s':$PATH\n"
		"%s\n"
		". " COMPLETION " || exit 1\n"
		"complete -p sluicectl || exit 1\n"
		"while IFS= read -r line; do\n"
		"  COMP_LINE=$line; COMP_POINT=${#line}\n"
		"  read -r -a COMP_WORDS <<< \"$line\"\n"
		"  [[ $line == *' ' ]] && COMP_WORDS+=('')\n"
		"  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
		"  COMPREPLY=()\n"
		"  _sluicectl sluicectl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
		"  printf '%%s\\n' \"${COMPREPLY[@]}\" | sort | paste -sd ' '\n"
		"done <<'LINES'\n%sLINES\n", bin, preamble, lines);
	fclose(f);
	assert_int_equal(ctl_run(fx, "--version"), 0);	/* the binary is there */
	snprintf(fx->err, sizeof(fx->err), "bash '%s' > '%s/out' 2>&1", script, fx->dir);
	if (system(fx->err) != 0) {
		snprintf(script, sizeof(script), "%s/out", fx->dir);
		ctl_slurp(script, fx->out, sizeof(fx->out));
		fail_msg("bash failed: %s", fx->out);
	}
	snprintf(script, sizeof(script), "%s/out", fx->dir);
	ctl_slurp(script, fx->out, sizeof(fx->out));
}

static void check_completions(struct ctl_fixture *fx, const char *preamble)
{
	char lines[1024], want[1024];

	assert_int_equal(ctl_run(fx, "deny --db '%s' --port 25", fx->db), 0);
	assert_int_equal(ctl_run(fx, "deny --db '%s' --port 26", fx->db), 0);
	snprintf(lines, sizeof(lines),
		 "sluicectl de\n"
		 "sluicectl dis\n"
		 "sluicectl deny --pr\n"
		 "sluicectl allow --direction \n"
		 "sluicectl deny --proto i\n"
		 "sluicectl set fail-mode \n"
		 "sluicectl rules --\n"
		 "sluicectl t\n"
		 "sluicectl top --\n"
		 "sluicectl report --\n"
		 "sluicectl report --html %s/polic\n"
		 "sluicectl disable --db %s \n", fx->dir, fx->db);
	complete_lines(fx, preamble, lines);
	snprintf(want, sizeof(want),
		 "complete -F _sluicectl sluicectl\n"
		 "delete deny\n"
		 "disable\n"
		 "--priority --proto\n"
		 "any forward in out\n"
		 "icmp icmpv6\n"
		 "closed open\n"
		 "--db --help --json\n"
		 "top\n"
		 "--help --interval --limit --log-db --once --window\n"
		 "--help --html --log-db --since\n"
		 "%s\n"
		 "1 2\n", fx->db);
	assert_string_equal(fx->out, want);
}

static void test_completion_alone(void **state)
{
	check_completions(*state, "");
}

static void test_completion_with_bash_completion(void **state)
{
	FILE *f = fopen(BASH_COMPLETION, "r");

	if (!f)
		skip();		/* Debian's bash-completion is not installed here */
	fclose(f);
	check_completions(*state, ". " BASH_COMPLETION "\n"
			  "declare -F _init_completion >/dev/null || exit 1");
}

#define T(f) cmocka_unit_test_setup_teardown(f, ctl_fixture_setup, ctl_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_completion_alone),
		T(test_completion_with_bash_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
