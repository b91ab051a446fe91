// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl import [--list NAME] [--action deny|allow] [--priority N]
 *                  [--replace] [--db PATH] FILE|-
 *
 * Files the names of a hosts file or a plain domain list into a list of
 * the policy database (policy/schema.sql: lists, list_domains), creating
 * the list when no list has that name. Formats, mixed freely, line by line:
 *
 *	0.0.0.0 ads.example.com tracker.example.com   # hosts: every name
 *	127.0.0.1 x.example                           #   after the address
 *	ads.example.org                               # plain: one name
 *	*.doubleclick.example                         #   or a "*." pattern
 *
 * '#' starts a comment; blank lines and localhost-style names (localhost,
 * ip6-loopback, broadcasthost, ...) are ignored. A name that is not a
 * domain pattern is skipped and reported with its line number (the first
 * IMPORT_SHOWN of them; the count of all); the rest is imported.
 *
 * Speed: the names are checked here with the agent's own checker
 * (sluice_domain_normalise), collected, sorted and inserted in key order,
 * in one transaction through one prepared statement. The schema's checks
 * stay on (switching them off would switch them off for every table this
 * connection writes, the lists row included); they repeat ours at about a
 * microsecond a name. Sorted inserts fill the WITHOUT ROWID
 * b-tree page after page instead of touching a random page each; a
 * million names take ten to twenty seconds, most of it SQLite's. A running
 * sluiced sees the whole import at once, by its usual reload (PRAGMA
 * data_version), or none of it.
 *
 * Exit codes: 0 imported (even if some lines were skipped), 1 the file or
 * the database could not be read or written, 2 bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/domains.h"
#include "agent/policy.h"
#include "agent/status.h"

#define IMPORT_SHOWN	10	/* bad lines reported one by one */

struct import_opts {
	const char *list;	/* NULL: from the file name */
	const char *action;	/* NULL: a new list denies, an old one keeps its own */
	const char *db;
	const char *file;	/* "-" is stdin */
	int64_t priority;
	bool has_priority;
	bool replace;
};

struct import_counts {
	uint64_t lines, added, present, bad, ignored;
};

/* The good names of the file, normalised, each NUL-terminated in text. */
struct import_names {
	char *text;
	size_t len, cap;
	size_t *off;		/* where each name starts in text */
	size_t n, ncap;
};

static void sluicectl_import_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl import [--list NAME] [--action deny|allow] [--priority N]\n"
		"                        [--replace] [--db PATH] FILE|-\n"
		"\n"
		"Files every name of a hosts file (\"0.0.0.0 ads.example.com\") or a plain\n"
		"domain list (\"ads.example.com\", \"*.ads.example.com\") into a list of the\n"
		"policy; sluiced picks the change up by itself. '#' starts a comment;\n"
		"localhost entries are ignored; bad lines are reported and skipped.\n"
		"\n"
		"  --list NAME      the list to add to, created when missing (default: the\n"
		"                   file's name without directory and extension; \"stdin\")\n"
		"  --action A       deny (default for a new list) or allow; sets the list's action\n"
		"  --priority N     sets the list's priority (lower first; default 100 for a new list)\n"
		"  --replace        drop the list's current names first (refreshing a blocklist)\n"
		"  --db PATH        the policy database (default %s;\n"
		"                   created from the default policy when missing)\n"
		"  FILE             the file to read, or - for standard input\n",
		SLUICE_DEFAULT_POLICY_DB);
}

static int sluicectl_import_usage_error(const char *fmt, const char *arg)
{
	return sluicectl_usage_error("import", fmt, arg);
}

/* --opt VALUE or --opt=VALUE at argv[*i]; NULL when it is not opt. */
static const char *option_value(int argc, char *argv[], int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_args(int argc, char *argv[], struct import_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->db = SLUICE_DEFAULT_POLICY_DB;
	for (i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;

		if (!strcmp(argv[i], "--replace")) {
			o->replace = true;
		} else if ((v = option_value(argc, argv, &i, "--list", &missing))) {
			if (!*v)
				return sluicectl_import_usage_error("--list needs a name%s", "");
			o->list = v;
		} else if ((v = option_value(argc, argv, &i, "--action", &missing))) {
			if (strcmp(v, "deny") && strcmp(v, "allow"))
				return sluicectl_import_usage_error("--action must be deny or allow, not \"%s\"", v);
			o->action = v;
		} else if ((v = option_value(argc, argv, &i, "--priority", &missing))) {
			char *end;

			errno = 0;
			o->priority = strtoll(v, &end, 10);
			if (!*v || *end || errno)
				return sluicectl_import_usage_error("--priority must be an integer, not \"%s\"", v);
			o->has_priority = true;
		} else if ((v = option_value(argc, argv, &i, "--db", &missing))) {
			o->db = v;
		} else if (missing) {
			return sluicectl_import_usage_error("%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return sluicectl_import_usage_error("unknown option \"%s\"", argv[i]);
		} else if (o->file) {
			return sluicectl_import_usage_error("one file at a time; \"%s\" is a second one", argv[i]);
		} else {
			o->file = argv[i];
		}
	}
	if (!o->file)
		return sluicectl_import_usage_error("no file given (use - for standard input)%s", "");
	return -1;
}

/* The default list name: the file's base name up to its first dot. */
static void list_name_of_file(const char *file, char *out, size_t outlen)
{
	const char *base = strrchr(file, '/');
	size_t n;

	if (!strcmp(file, "-")) {
		snprintf(out, outlen, "stdin");
		return;
	}
	base = base ? base + 1 : file;
	n = strcspn(base, ".");
	if (n == 0)
		n = strlen(base);
	snprintf(out, outlen, "%.*s", (int)n, base);
}

/* Names hosts files carry for the machine itself, never worth filtering. */
static bool is_local_name(const char *s, size_t n)
{
	static const char *const names[] = {
		"localhost", "localhost.localdomain", "local", "broadcasthost",
		"ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
		"ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
	};
	size_t i;

	if (n && s[n - 1] == '.')
		n--;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
			return true;
	return false;
}

static bool is_address(const char *tok)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, tok, buf) == 1 || inet_pton(AF_INET6, tok, buf) == 1;
}

/* Find or create the list, apply --action/--priority; its id, or -1. */
static int64_t prepare_list(sqlite3 *db, const struct import_opts *o, const char *name)
{
	const char *source = strcmp(o->file, "-") ? o->file : "stdin";
	sqlite3_stmt *st;
	int64_t id = -1;
	int rc;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO lists(name, action, priority, source) VALUES (?1, ifnull(?2, 'deny'), ifnull(?3, 100), ?4)"
		" ON CONFLICT(name) DO UPDATE SET action = ifnull(?2, action),"
		" priority = ifnull(?3, priority), source = ?4"
		" RETURNING id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (o->action)
		sqlite3_bind_text(st, 2, o->action, -1, SQLITE_STATIC);
	if (o->has_priority)
		sqlite3_bind_int64(st, 3, o->priority);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static void report_bad(const struct import_opts *o, struct import_counts *c,
		       const char *tok, size_t n, const char *why)
{
	if (c->bad++ < IMPORT_SHOWN)
		fprintf(stderr, "%s:%llu: '%.*s' %s; skipped\n",
			strcmp(o->file, "-") ? o->file : "stdin", (unsigned long long)c->lines,
			(int)(n > 80 ? 80 : n), tok, why);
}

/* One name of a line: check it and keep it; -1 when out of memory. */
static int import_name(const struct import_opts *o, struct import_names *names,
		       struct import_counts *c, const char *tok, size_t n)
{
	char name[SLUICE_DOMAIN_MAX + 3];
	const char *why;
	size_t len;
	bool wild;

	if (is_local_name(tok, n)) {
		c->ignored++;
		return 0;
	}
	if (sluice_domain_normalise(tok, n, name + 2, &len, &wild, &why) < 0) {
		report_bad(o, c, tok, n, why);
		return 0;
	}
	if (wild) {
		name[0] = '*';
		name[1] = '.';
		len += 2;
	}
	if (names->n == names->ncap) {
		size_t cap = names->ncap ? names->ncap * 2 : 4096;
		size_t *off = realloc(names->off, cap * sizeof(*off));

		if (!off)
			return -1;
		names->off = off;
		names->ncap = cap;
	}
	if (names->len + len + 1 > names->cap) {
		size_t cap = names->cap ? names->cap * 2 : 65536;
		char *text = realloc(names->text, cap);

		if (!text)
			return -1;
		names->text = text;
		names->cap = cap;
	}
	names->off[names->n++] = names->len;
	memcpy(names->text + names->len, wild ? name : name + 2, len);
	names->text[names->len + len] = '\0';
	names->len += len + 1;
	return 0;
}

/* One line of the file, without its newline. */
static int import_line(const struct import_opts *o, struct import_names *names,
		       struct import_counts *c, char *line)
{
	static const char blanks[] = " \t\r\f\v";
	char *hash = strchr(line, '#'), *p = line, *tok;
	bool first = true, hosts = false;
	size_t n;

	if (hash)
		*hash = '\0';
	for (;;) {
		p += strspn(p, blanks);
		if (!*p)
			break;
		tok = p;
		n = strcspn(p, blanks);
		p += n;
		if (*p)
			*p++ = '\0';
		if (first) {
			first = false;
			if (is_address(tok)) {
				hosts = true;
				continue;
			}
		}
		if (import_name(o, names, c, tok, n) < 0)
			return -1;
		hosts = false;
	}
	if (hosts)
		report_bad(o, c, line, strlen(line), "is an address without a name after it");
	return 0;
}

/* Read every line of in into names; -1 (said why) on a read error or ENOMEM. */
static int read_names(const struct import_opts *o, FILE *in, struct import_names *names,
		      struct import_counts *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&line, &cap, in)) >= 0) {
		c->lines++;
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (import_line(o, names, c, line) < 0) {
			fprintf(stderr, "sluicectl import: out of memory at line %llu of %s\n",
				(unsigned long long)c->lines, o->file);
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(in)) {
		fprintf(stderr, "sluicectl import: cannot read %s: %s\n", o->file, strerror(errno));
		ret = -1;
	}
	free(line);
	return ret;
}

static const char *sort_text;	/* qsort has no context argument in C11 */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(sort_text + *(const size_t *)a, sort_text + *(const size_t *)b);
}

/* Names into the list in key order, in one transaction; -1 (said why) on error. */
static int store_names(const struct import_opts *o, sqlite3 *db, const char *list,
		       struct import_names *names, struct import_counts *c, int64_t *list_id)
{
	sqlite3_stmt *ins = NULL, *del = NULL;
	const char *prev = NULL;
	int ret = -1;
	size_t i;

	sort_text = names->text;
	qsort(names->off, names->n, sizeof(*names->off), name_cmp);
	/* A big page cache and in-memory temp files keep a large import off the disk until COMMIT. */
	if (sqlite3_exec(db, "PRAGMA cache_size = -131072;"
			 " PRAGMA temp_store = MEMORY; BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	*list_id = prepare_list(db, o, list);
	if (*list_id < 0)
		goto out;
	if (o->replace) {
		if (sqlite3_prepare_v2(db, "DELETE FROM list_domains WHERE list_id = ?1", -1, &del,
				       NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(del, 1, *list_id);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO list_domains(list_id, domain) VALUES (?1, ?2)"
			       " ON CONFLICT DO NOTHING", -1, &ins, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(ins, 1, *list_id);
	for (i = 0; i < names->n; i++) {
		const char *name = names->text + names->off[i];

		if (prev && strcmp(prev, name) == 0) {
			c->present++;		/* twice in the file */
			continue;
		}
		prev = name;
		sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		if (sqlite3_changes(db) > 0)
			c->added++;
		else
			c->present++;
		sqlite3_reset(ins);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		ret = 0;
out:
	if (ret)
		fprintf(stderr, "sluicectl import: %s: cannot write the list '%s': %s\n", o->db, list,
			sqlite3_errmsg(db));
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	if (ret)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int sluicectl_import_main(int argc, char *argv[])
{
	struct import_names names = { 0 };
	struct import_counts c = { 0 };
	struct import_opts o;
	struct timespec t0, t1;
	char list[256];
	int64_t list_id = 0;
	sqlite3 *db;
	FILE *in;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		sluicectl_import_usage(stdout);
		return SLUICECTL_EXIT_OK;
	}
	ret = parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.list)
		snprintf(list, sizeof(list), "%s", o.list);
	else
		list_name_of_file(o.file, list, sizeof(list));

	in = strcmp(o.file, "-") ? fopen(o.file, "r") : stdin;
	if (!in) {
		fprintf(stderr, "sluicectl import: cannot open %s: %s\n", o.file, strerror(errno));
		return SLUICECTL_EXIT_FAILED;
	}
	if (sluicectl_policy_write("import", o.db, 1, &db) < 0) {
		if (in != stdin)
			fclose(in);
		return SLUICECTL_EXIT_FAILED;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = read_names(&o, in, &names, &c);
	if (in != stdin)
		fclose(in);
	if (!ret)
		ret = store_names(&o, db, list, &names, &c, &list_id);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(names.text);
	free(names.off);
	sqlite3_close(db);
	if (ret < 0)
		return SLUICECTL_EXIT_FAILED;
	if (c.bad > IMPORT_SHOWN)
		fprintf(stderr, "%s: %llu more bad names not shown\n",
			strcmp(o.file, "-") ? o.file : "stdin",
			(unsigned long long)(c.bad - IMPORT_SHOWN));
	printf("list '%s' (id %lld): %llu names added, %llu already there, %llu bad skipped, %llu localhost ignored; %llu lines in %.2f s\n",
	       list, (long long)list_id, (unsigned long long)c.added,
	       (unsigned long long)c.present, (unsigned long long)c.bad,
	       (unsigned long long)c.ignored, (unsigned long long)c.lines,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return SLUICECTL_EXIT_OK;
}
