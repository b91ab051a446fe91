// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl explain [--direction D] [--uid N] [--exe PATH] [--unit NAME]
 *                   [--name NAME] [--db PATH] PROTO DST[:PORT] [SRC[:PORT]]
 *
 * What the policy in the database decides for a flow described on the
 * command line: the first line starts with allow or deny, then "rule ID",
 * "list ID" or "default action"; the next says who the flow was taken to
 * belong to, "unknown" for what was not given, and a rule skipped only
 * because of an unknown field is pointed out, as the agent would meet it
 * for a flow whose uid, program or unit the kernel could not tell. The
 * file is read into memory and left as it is (an older schema is
 * migrated in memory only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/identity.h"
#include "agent/policy.h"
#include "agent/status.h"

static void explain_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl explain [--direction in|out|forward] [--uid N] [--exe PATH]\n"
		"                         [--unit NAME] [--name NAME] [--db PATH]\n"
		"                         PROTO DST[:PORT] [SRC[:PORT]]\n"
		"\n"
		"  PROTO          tcp, udp, icmp, icmpv6 or a protocol number\n"
		"  DST, SRC       an IPv4 or IPv6 address; with a port: 10.0.0.1:443, [2001:db8::1]:443\n"
		"  --direction D  the flow's direction (default out)\n"
		"  --uid N        the local socket's owner (default unknown)\n"
		"  --exe PATH     the local program (default unknown)\n"
		"  --unit NAME    the systemd unit of the local socket (default unknown)\n"
		"  --name NAME    the flow's domain name (default unknown)\n"
		"  --db PATH      the policy database (default %s)\n",
		SLUICE_DEFAULT_POLICY_DB);
}

static int explain_usage_error(const char *fmt, const char *arg)
{
	return sluicectl_usage_error("explain", fmt, arg);
}

/* "ADDR", "ADDR:PORT" (IPv4) or "[ADDR]:PORT" / "ADDR" (IPv6) into @f. */
static int parse_endpoint(const char *s, struct sluice_flow *f, uint8_t *addr,
			  uint16_t *port)
{
	char buf[64];
	const char *p = NULL;
	char *end;
	unsigned long v;
	int family;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (buf[0] == '[') {
		end = strchr(buf, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		*end = '\0';
		p = end[1] ? end + 2 : NULL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
	} else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
		end = strchr(buf, ':');	/* one colon: IPv4 with a port */
		*end = '\0';
		p = end + 1;
	}
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, buf, addr) != 1 || (f->family && f->family != family))
		return -1;
	f->family = family;
	if (p) {
		errno = 0;
		v = strtoul(p, &end, 10);
		if (!*p || *end || errno || v < 1 || v > 65535)
			return -1;
		*port = (uint16_t)v;
	}
	return 0;
}

static int parse_proto(const char *s, uint8_t *out)
{
	static const struct { const char *name; uint8_t num; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	};
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].num;
			return 0;
		}
	v = strtoul(s, &end, 10);
	if (!*s || *end || v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static void print_unknown(unsigned int unknown)
{
	static const struct { unsigned int bit; const char *name; } fields[] = {
		{ SLUICE_UNKNOWN_UID, "uid" }, { SLUICE_UNKNOWN_EXE, "exe" },
		{ SLUICE_UNKNOWN_UNIT, "unit" }, { SLUICE_UNKNOWN_DOMAIN, "name" },
	};
	const char *sep = "";
	size_t i;

	if (!unknown)
		return;
	printf("an earlier rule was skipped only because the flow's ");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (unknown & fields[i].bit) {
			printf("%s%s", sep, fields[i].name);
			sep = " or ";
		}
	printf(" is unknown\n");
}

static int explain(const char *db_path, const struct sluice_flow *f)
{
	struct sluice_decision d;
	struct sluice_policy *p;
	char err[512], mask[96];
	sqlite3 *db;

	if (sluice_policy_open_memory(db_path, 1, &db, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl explain: %s\n", err);
		return SLUICECTL_EXIT_FAILED;
	}
	p = sluice_policy_compile(db, err, sizeof(err));
	sqlite3_close(db);
	if (!p) {
		fprintf(stderr, "sluicectl explain: %s does not compile: %s\n", db_path, err);
		return SLUICECTL_EXIT_FAILED;
	}
	d = sluice_policy_match(p, f);
	sluice_policy_free(p);
	sluice_flow_mask_format(&d.mask, mask, sizeof(mask));
	if (d.rule_id > 0)
		printf("%s rule %lld\n", d.allow ? "allow" : "deny", (long long)d.rule_id);
	else if (d.rule_id < 0)
		printf("%s list %lld\n", d.allow ? "allow" : "deny", -(long long)d.rule_id);
	else
		printf("%s default action\n", d.allow ? "allow" : "deny");
	if (f->uid >= 0)
		printf("uid %lld", (long long)f->uid);
	else
		printf("uid unknown");
	printf(", unit %s, exe %s, name %s\n", f->unit ? f->unit : "unknown",
	       f->exe ? f->exe : "unknown", f->domain ? f->domain : "unknown");
	print_unknown(d.unknown);
	/* What a flow must share with this one to be decided the same way. */
	printf("decided by %s\n", mask);
	return SLUICECTL_EXIT_OK;
}

int sluicectl_explain_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "direction", required_argument, NULL, 'd' },
		{ "uid", required_argument, NULL, 'u' },
		{ "exe", required_argument, NULL, 'e' },
		{ "unit", required_argument, NULL, 'U' },
		{ "name", required_argument, NULL, 'n' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sluice_flow f = { .uid = -1, .direction = SLUICE_DIR_OUT };
	const char *db = SLUICE_DEFAULT_POLICY_DB, *why;
	unsigned long long uid;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!strcmp(optarg, "in"))
				f.direction = SLUICE_DIR_IN;
			else if (!strcmp(optarg, "out"))
				f.direction = SLUICE_DIR_OUT;
			else if (!strcmp(optarg, "forward"))
				f.direction = SLUICE_DIR_FORWARD;
			else
				return explain_usage_error("--direction must be in, out or forward, not \"%s\"", optarg);
			break;
		case 'u':
			errno = 0;
			uid = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || uid > 4294967294ULL || optarg[0] == '-')
				return explain_usage_error("--uid must be a uid 0..4294967294, not \"%s\"", optarg);
			f.uid = (int64_t)uid;
			break;
		case 'e':
			if (optarg[0] != '/')
				return explain_usage_error("--exe must be an absolute path, not \"%s\"", optarg);
			f.exe = optarg;
			break;
		case 'U':
			why = sluice_unit_name_problem(optarg);
			if (why) {
				fprintf(stderr, "sluicectl explain: --unit \"%s\" %s\n", optarg, why);
				return SLUICECTL_EXIT_USAGE;
			}
			f.unit = optarg;
			break;
		case 'n':
			f.domain = optarg;
			break;
		case 'D':
			db = optarg;
			break;
		case 'h':
			explain_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return explain_usage_error("unknown option or missing value: \"%s\"",
						   argv[optind - 1]);
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		return explain_usage_error("give PROTO DST[:PORT] and optionally SRC[:PORT]%s", "");
	if (parse_proto(argv[optind], &f.proto) < 0)
		return explain_usage_error("\"%s\" is not tcp, udp, icmp, icmpv6 or a protocol number",
					   argv[optind]);
	if (parse_endpoint(argv[optind + 1], &f, f.dst, &f.dport) < 0)
		return explain_usage_error("\"%s\" is not an address with an optional :port", argv[optind + 1]);
	if (argc - optind == 3 &&
	    parse_endpoint(argv[optind + 2], &f, f.src, &f.sport) < 0)
		return explain_usage_error("\"%s\" is not an address with an optional :port of the same family as DST",
					   argv[optind + 2]);
	return explain(db, &f);
}
