// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation: the pure parts (verdict table, local addresses and
 * direction, conntrack tuple to flow) without a kernel, then the real
 * thing in a network namespace of its own: conntrack entries created with
 * the conntrack CLI and a real TCP connection over loopback get their
 * marks rewritten, and only sluice's bits change. The namespace test
 * skips when not root or when namespaces, ctnetlink or the conntrack CLI
 * are missing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sqlite3.h>

#include "agent/policy.h"
#include "agent/revoke.h"
#include "uapi/sluice.h"

#define MASK		SLUICE_MARK_MASK_DEFAULT
#define M_ALLOW		0x40000000u
#define M_DENY		0x80000000u
#define M_UNVETTED	0xc0000000u

static void addr(int family, const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, text, out), 1);
}

/* ---- the verdict table ------------------------------------------- */

static void test_action_table_flips_only_changed_verdicts(void **state)
{
	(void)state;
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_UNSET, 0), SLUICE_REVOKE_KEEP);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_UNSET, 1), SLUICE_REVOKE_KEEP);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_ALLOW, 1), SLUICE_REVOKE_KEEP);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_ALLOW, 0), SLUICE_REVOKE_SET_DENY);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_DENY, 0), SLUICE_REVOKE_KEEP);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_DENY, 1), SLUICE_REVOKE_SET_ALLOW);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_UNVETTED, 1), SLUICE_REVOKE_KEEP);
	assert_int_equal(sluice_revoke_action(SLUICE_FLOW_UNVETTED, 0), SLUICE_REVOKE_SET_DENY);
}

/* ---- local addresses and direction -------------------------------- */

static void local_fixture(struct sluice_local_addrs *la)
{
	uint8_t a[16];

	memset(la, 0, sizeof(*la));
	addr(AF_INET, "192.168.1.10", a);
	assert_int_equal(sluice_local_addrs_add(la, AF_INET, a, false), 0);
	addr(AF_INET, "192.168.1.255", a);
	assert_int_equal(sluice_local_addrs_add(la, AF_INET, a, true), 0);
	addr(AF_INET6, "2001:db8::10", a);
	assert_int_equal(sluice_local_addrs_add(la, AF_INET6, a, false), 0);
}

static bool is_local(const struct sluice_local_addrs *la, int family, const char *text,
		     bool as_dst)
{
	uint8_t a[16];

	addr(family, text, a);
	return sluice_local_addrs_contains(la, family, a, as_dst);
}

static void test_local_addresses_include_loopback_and_own(void **state)
{
	struct sluice_local_addrs la;

	(void)state;
	local_fixture(&la);
	assert_true(is_local(&la, AF_INET, "192.168.1.10", false));
	assert_true(is_local(&la, AF_INET, "127.0.0.1", false));
	assert_true(is_local(&la, AF_INET, "127.45.0.9", false));
	assert_true(is_local(&la, AF_INET6, "::1", false));
	assert_true(is_local(&la, AF_INET6, "2001:db8::10", false));
	assert_false(is_local(&la, AF_INET, "192.168.1.11", false));
	assert_false(is_local(&la, AF_INET6, "2001:db8::11", false));
	/* the same bytes in the other family are not the same address */
	assert_false(is_local(&la, AF_INET6, "c0a8:10a::", false));

	/* broadcast and multicast are for us as destinations only */
	assert_false(is_local(&la, AF_INET, "192.168.1.255", false));
	assert_true(is_local(&la, AF_INET, "192.168.1.255", true));
	assert_true(is_local(&la, AF_INET, "255.255.255.255", true));
	assert_true(is_local(&la, AF_INET, "224.0.0.251", true));
	assert_false(is_local(&la, AF_INET, "224.0.0.251", false));
	assert_true(is_local(&la, AF_INET6, "ff02::1", true));
	assert_false(is_local(&la, AF_INET6, "ff02::1", false));
	sluice_local_addrs_free(&la);
}

static uint8_t direction(const struct sluice_local_addrs *la, int family, const char *src,
			 const char *dst)
{
	uint8_t s[16], d[16];

	addr(family, src, s);
	addr(family, dst, d);
	return sluice_revoke_direction(la, family, s, d);
}

static void test_direction_from_local_addresses(void **state)
{
	struct sluice_local_addrs la;

	(void)state;
	local_fixture(&la);
	assert_int_equal(direction(&la, AF_INET, "192.168.1.10", "93.184.216.34"), SLUICE_DIR_OUT);
	assert_int_equal(direction(&la, AF_INET, "93.184.216.34", "192.168.1.10"), SLUICE_DIR_IN);
	assert_int_equal(direction(&la, AF_INET, "10.0.0.1", "10.0.0.2"), SLUICE_DIR_FORWARD);
	assert_int_equal(direction(&la, AF_INET, "127.0.0.1", "127.0.0.1"), SLUICE_DIR_OUT);
	assert_int_equal(direction(&la, AF_INET, "192.168.1.10", "192.168.1.10"), SLUICE_DIR_OUT);
	assert_int_equal(direction(&la, AF_INET, "192.168.1.20", "192.168.1.255"), SLUICE_DIR_IN);
	assert_int_equal(direction(&la, AF_INET, "0.0.0.0", "255.255.255.255"), SLUICE_DIR_IN);
	assert_int_equal(direction(&la, AF_INET6, "2001:db8::10", "2001:db8::99"), SLUICE_DIR_OUT);
	assert_int_equal(direction(&la, AF_INET6, "2001:db8::99", "2001:db8::10"), SLUICE_DIR_IN);
	assert_int_equal(direction(&la, AF_INET6, "2001:db8::98", "2001:db8::99"),
			 SLUICE_DIR_FORWARD);
	assert_int_equal(direction(&la, AF_INET6, "::1", "::1"), SLUICE_DIR_OUT);
	assert_int_equal(direction(NULL, AF_INET, "10.0.0.1", "127.0.0.1"), SLUICE_DIR_IN);
	sluice_local_addrs_free(&la);
}

static void test_local_addresses_load_from_the_host(void **state)
{
	struct sluice_local_addrs la;
	char err[256];

	(void)state;
	assert_int_equal(sluice_local_addrs_load(&la, err, sizeof(err)), 0);
	/* whatever else there is, lo's 127.0.0.1 counts */
	assert_true(is_local(&la, AF_INET, "127.0.0.1", false));
	sluice_local_addrs_free(&la);
}

/* ---- conntrack tuple to flow --------------------------------------- */

/* Put a tuple nest of type @type into @nlh the way the kernel dumps it. */
static struct nlattr *put_tuple(struct nlmsghdr *nlh, int type, int family, const char *src,
				const char *dst, uint8_t proto, int sport, int dport)
{
	struct nlattr *tuple, *nest;
	uint8_t s[16], d[16];
	size_t len = family == AF_INET ? 4 : 16;

	addr(family, src, s);
	addr(family, dst, d);
	tuple = mnl_attr_nest_start(nlh, (uint16_t)type);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, len, s);
	mnl_attr_put(nlh, family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST, len, d);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	if (proto)
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	if (sport >= 0)
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons((uint16_t)sport));
	if (dport >= 0)
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons((uint16_t)dport));
	if (proto == IPPROTO_ICMP) {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(7));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, 8);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, 0);
	}
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
	return tuple;
}

/* CTA_TUPLE_ORIG alone, in a message of its own in @buf. */
static struct nlattr *build_tuple(char *buf, int family, const char *src, const char *dst,
				  uint8_t proto, int sport, int dport)
{
	return put_tuple(mnl_nlmsg_put_header(buf), CTA_TUPLE_ORIG, family, src, dst, proto,
			 sport, dport);
}

static void test_tuple_to_flow_reads_addresses_and_ports(void **state)
{
	char buf[512];
	struct sluice_flow f;
	uint8_t a[16];

	(void)state;
	assert_int_equal(sluice_revoke_tuple_to_flow(
		build_tuple(buf, AF_INET, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 443), &f), 0);
	assert_int_equal(f.family, AF_INET);
	assert_int_equal(f.proto, IPPROTO_TCP);
	addr(AF_INET, "10.0.0.1", a);
	assert_memory_equal(f.src, a, 16);
	addr(AF_INET, "10.0.0.2", a);
	assert_memory_equal(f.dst, a, 16);
	assert_int_equal(f.sport, 40000);
	assert_int_equal(f.dport, 443);
	assert_int_equal(f.uid, -1);
	assert_null(f.exe);
	assert_null(f.domain);

	assert_int_equal(sluice_revoke_tuple_to_flow(
		build_tuple(buf, AF_INET6, "2001:db8::1", "::1", IPPROTO_UDP, 5353, 53), &f), 0);
	assert_int_equal(f.family, AF_INET6);
	assert_int_equal(f.proto, IPPROTO_UDP);
	addr(AF_INET6, "2001:db8::1", a);
	assert_memory_equal(f.src, a, 16);
	assert_int_equal(f.sport, 5353);
	assert_int_equal(f.dport, 53);

	/* ICMP: id, type and code are not ports */
	assert_int_equal(sluice_revoke_tuple_to_flow(
		build_tuple(buf, AF_INET, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, -1, -1), &f), 0);
	assert_int_equal(f.proto, IPPROTO_ICMP);
	assert_int_equal(f.sport, 0);
	assert_int_equal(f.dport, 0);
}

static void test_tuple_without_protocol_is_refused(void **state)
{
	char buf[512];
	struct sluice_flow f;

	(void)state;
	assert_int_equal(sluice_revoke_tuple_to_flow(
		build_tuple(buf, AF_INET, "10.0.0.1", "10.0.0.2", 0, 1, 2), &f), -1);
}

static void test_bad_mark_mask_is_one_sentence(void **state)
{
	struct sluice_revoke_stats st;
	char err[256] = "";

	(void)state;
	assert_int_equal(sluice_revoke_apply(NULL, 0x5, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0x00000005"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(sluice_revoke_apply(NULL, 0, &st, err, sizeof(err)), -1);
}

/* ---- the real thing, in a namespace of our own ---------------------- */

struct netns_fixture {
	int home;			/* the namespace to go back to */
	char dir[64];
	sqlite3 *db;
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static int netns_setup(void **state)
{
	struct netns_fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->home = -1;
	*state = fx;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/sluice-revoke-test.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	if (geteuid() != 0 || sh("command -v conntrack >/dev/null 2>&1") < 0)
		return 0;	/* the test skips */
	fx->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fx->home < 0 || unshare(CLONE_NEWNET) < 0) {
		if (fx->home >= 0)
			close(fx->home);
		fx->home = -1;
		return 0;
	}
	/*
	 * The namespace's own addresses: lo, and 192.0.2.1 on one end of a
	 * veth pair that stays inside. Nothing leaves the namespace.
	 */
	if (sh("ip link set lo up") < 0 ||
	    sh("ip link add sl0 type veth peer name sl1 2>/dev/null && "
	       "ip addr add 192.0.2.1/24 dev sl0 && ip link set sl0 up") < 0) {
		setns(fx->home, CLONE_NEWNET);
		close(fx->home);
		fx->home = -1;
	}
	return 0;
}

static int netns_teardown(void **state)
{
	struct netns_fixture *fx = *state;

	if (fx->home >= 0) {
		/* the namespace goes away with its last user: this process */
		if (setns(fx->home, CLONE_NEWNET) < 0)
			return -1;
		close(fx->home);
	}
	if (fx->db)
		sqlite3_close(fx->db);
	sh("rm -rf '%s'", fx->dir);
	free(fx);
	return 0;
}

static struct sluice_policy *policy_with(struct netns_fixture *fx, const char *rules_sql)
{
	struct sluice_policy *p;
	char path[128], err[512];

	if (!fx->db) {
		snprintf(path, sizeof(path), "%s/policy.db", fx->dir);
		assert_int_equal(sluice_policy_open(path, &fx->db, err, sizeof(err)), 0);
	}
	assert_int_equal(sqlite3_exec(fx->db, "DELETE FROM rules", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(fx->db, rules_sql, NULL, NULL, NULL), SQLITE_OK);
	p = sluice_policy_compile(fx->db, err, sizeof(err));
	if (!p)
		fail_msg("policy: %s", err);
	return p;
}

/*
 * The mark of the one conntrack entry whose `conntrack -L` line contains
 * every word of @words (space separated, each matched with a trailing
 * space), or -1 when there is none.
 */
static long long ct_mark(const char *words)
{
	char line[1024], want[256], *w, *save, *m;
	long long mark = -1;
	FILE *p = popen("conntrack -L 2>/dev/null", "r");

	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		bool all = true;

		snprintf(want, sizeof(want), "%s", words);
		for (w = strtok_r(want, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			char word[128];

			snprintf(word, sizeof(word), "%s ", w);
			if (!strstr(line, word))
				all = false;
		}
		if (all && (m = strstr(line, "mark=")))
			mark = strtoll(m + 5, NULL, 10);
	}
	pclose(p);
	return mark;
}

#define CT_ADD(...) do {						\
	if (sh("conntrack -I -t 300 " __VA_ARGS__ " >/dev/null 2>&1") < 0)	\
		skip();							\
} while (0)

static void test_revoke_rewrites_marks_in_a_real_conntrack_table(void **state)
{
	struct netns_fixture *fx = *state;
	struct sluice_revoke_stats st;
	struct sluice_policy *p;
	char err[512] = "";

	if (fx->home < 0)
		skip();	/* not root, or no namespaces or conntrack CLI here */

	/* a: out, denied by rule 10; the administrator's bits 0x5 stay */
	CT_ADD("-p tcp -s 127.0.0.1 -d 127.0.0.2 --sport 1000 --dport 443 --state ESTABLISHED -m 1073741829");
	/* b: out, still allowed */
	CT_ADD("-p tcp -s 127.0.0.1 -d 127.0.0.2 --sport 1001 --dport 80 --state ESTABLISHED -m 1073741824");
	/* c: out over IPv6, was denied, now allowed by default */
	CT_ADD("-p udp -s ::1 -d ::1 --sport 5 --dport 53 -m 2147483648");
	/* d: forward, unvetted, denied by rule 11 */
	CT_ADD("-p icmp -s 10.0.0.1 -d 10.0.0.2 --icmp-type 8 --icmp-code 0 --icmp-id 7 -m 3221225472");
	/* e: no sluice verdict: not ours */
	CT_ADD("-p tcp -s 127.0.0.1 -d 127.0.0.2 --sport 1002 --dport 443 --state ESTABLISHED -m 5");
	/* f: like a, in conntrack zone 5 */
	CT_ADD("-p tcp -s 127.0.0.1 -d 127.0.0.2 --sport 1003 --dport 443 --state ESTABLISHED -w 5 -m 1073741824");
	/* g: in (to the veth address), denied by rule 12 */
	CT_ADD("-p udp -s 198.51.100.7 -d 192.0.2.1 --sport 5000 --dport 53 -m 1073741824");
	/* h: out from the veth address, unvetted, allowed by default: it stays
	 * unvetted, for the agent to judge its next payload with its names */
	CT_ADD("-p udp -s 192.0.2.1 -d 198.51.100.7 --sport 5001 --dport 53 -m 3221225472");

	p = policy_with(fx,
		"INSERT INTO rules(id, action, direction, proto, dst, dst_port)"
		"  VALUES (10, 'deny', 'out', 'tcp', '127.0.0.2', '443');"
		"INSERT INTO rules(id, action, direction) VALUES (11, 'deny', 'forward');"
		"INSERT INTO rules(id, action, direction, proto)"
		"  VALUES (12, 'deny', 'in', 'udp');");
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.examined, 7);
	assert_int_equal(st.flipped_to_deny, 4);
	assert_int_equal(st.flipped_to_allow, 1);
	assert_int_equal(st.vetted, 1);
	assert_int_equal(st.gone, 0);
	assert_int_equal(st.failed, 0);

	assert_int_equal(ct_mark("sport=1000"), M_DENY | 5);
	assert_int_equal(ct_mark("sport=1001"), M_ALLOW);
	assert_int_equal(ct_mark("src=::1 sport=5"), M_ALLOW);
	assert_int_equal(ct_mark("src=10.0.0.1"), M_DENY);
	assert_int_equal(ct_mark("sport=1002"), 5);
	assert_int_equal(ct_mark("sport=1003 zone=5"), M_DENY);
	assert_int_equal(ct_mark("sport=5000"), M_DENY);
	assert_int_equal(ct_mark("sport=5001"), M_UNVETTED);

	/* Nothing changed since: a second pass only looks. */
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.examined, 7);
	assert_int_equal(st.flipped_to_deny + st.flipped_to_allow + st.vetted, 0);
	sluice_policy_free(p);

	/* The deny rule is deleted: the flows it cut are allowed again. */
	p = policy_with(fx, "SELECT 1");
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.flipped_to_allow, 4);
	assert_int_equal(ct_mark("sport=1000"), M_ALLOW | 5);
	assert_int_equal(ct_mark("sport=1003 zone=5"), M_ALLOW);
	sluice_policy_free(p);

	/*
	 * Another mask, other bits: only a (0x40000005) and e (5) carry a
	 * verdict in 0x3 (1, ALLOW); a deny-all rule sets it to 2, DENY.
	 */
	p = policy_with(fx, "INSERT INTO rules(id, action) VALUES (20, 'deny')");
	assert_int_equal(sluice_revoke_apply(p, 0x3, &st, err, sizeof(err)), 0);
	assert_int_equal(st.examined, 2);
	assert_int_equal(st.flipped_to_deny, 2);
	assert_int_equal(ct_mark("sport=1000"), M_ALLOW | 6);
	assert_int_equal(ct_mark("sport=1002"), 6);
	sluice_policy_free(p);
}

/*
 * Conntrack knows no names: a rule on names ahead of the deny leaves the
 * flow's verdict alone only when it could decide otherwise (an allow by
 * name). A deny by name ahead of a deny by address is a deny whatever the
 * name: the flow is cut. The allow by name is the control.
 */
static void test_revoke_sees_past_rules_on_names_of_the_same_action(void **state)
{
	struct netns_fixture *fx = *state;
	struct sluice_revoke_stats st;
	struct sluice_policy *p;
	char err[512] = "";

	if (fx->home < 0)
		skip();
	CT_ADD("-p tcp -s 127.0.0.1 -d 127.0.0.2 --sport 1010 --dport 443 --state ESTABLISHED -m 1073741824");

	p = policy_with(fx,
		"INSERT INTO rules(id, priority, action, domain)"
		"  VALUES (40, 1, 'allow', 'ok.example');"
		"INSERT INTO rules(id, priority, action, proto, dst_port)"
		"  VALUES (41, 2, 'deny', 'tcp', '443');");
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.flipped_to_deny, 0);
	assert_int_equal(ct_mark("sport=1010"), M_ALLOW);
	sluice_policy_free(p);

	p = policy_with(fx,
		"INSERT INTO rules(id, priority, action, domain)"
		"  VALUES (40, 1, 'deny', 'bad.example');"
		"INSERT INTO rules(id, priority, action, proto, dst_port)"
		"  VALUES (41, 2, 'deny', 'tcp', '443');");
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.flipped_to_deny, 1);
	assert_int_equal(ct_mark("sport=1010"), M_DENY);
	sluice_policy_free(p);
}

/* Open a TCP connection over loopback; its conntrack entry gets a verdict. */
static void test_revoke_denies_an_open_tcp_connection(void **state)
{
	struct netns_fixture *fx = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct sluice_revoke_stats st;
	struct sluice_policy *p;
	char err[512] = "", rule[256], words[64];
	int lfd, cfd, afd, port;

	if (fx->home < 0)
		skip();
	/*
	 * conntrack tracks the namespace's traffic only once a hook needs it;
	 * the rule also writes ALLOW into the mark of every new flow, as the
	 * queue engine's verdict would.
	 */
	if (sh("nft add table inet sluice_test && nft add chain inet sluice_test out "
	       "'{ type filter hook output priority 0; }' && "
	       "nft add rule inet sluice_test out ct state new ct mark set 0x40000000") < 0)
		skip();

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	snprintf(words, sizeof(words), "dport=%d ESTABLISHED", port);
	assert_int_equal(ct_mark(words), M_ALLOW);

	snprintf(rule, sizeof(rule),
		 "INSERT INTO rules(id, action, proto, dst_port) VALUES (30, 'deny', 'tcp', '%d')",
		 port);
	p = policy_with(fx, rule);
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_true(st.flipped_to_deny >= 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(ct_mark(words), M_DENY);
	sluice_policy_free(p);

	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * Create @n UDP entries 127.0.0.1:(20000 + i) -> 127.0.0.3:53 with @mark
 * through ctnetlink (much faster than n runs of the conntrack CLI).
 */
static void create_udp_entries(int n, uint32_t mark)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	static char buf[64 * 1024];
	char answer[8192];
	ssize_t len;
	int i;

	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	for (i = 0; i < n; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct nfgenmsg *nfg;

		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
		nlh->nlmsg_seq = (uint32_t)i + 1;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_INET;
		nfg->version = NFNETLINK_V0;
		put_tuple(nlh, CTA_TUPLE_ORIG, AF_INET, "127.0.0.1", "127.0.0.3", IPPROTO_UDP,
			  20000 + i, 53);
		put_tuple(nlh, CTA_TUPLE_REPLY, AF_INET, "127.0.0.3", "127.0.0.1", IPPROTO_UDP,
			  53, 20000 + i);
		mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(300));
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
		assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
		len = mnl_socket_recvfrom(nl, answer, sizeof(answer));
		assert_true(len > 0);
		assert_true(mnl_cb_run(answer, (size_t)len, nlh->nlmsg_seq,
				       mnl_socket_get_portid(nl), NULL, NULL) >= 0);
	}
	mnl_socket_close(nl);
}

static int ct_count(const char *mark_filter)
{
	char cmd[128], line[64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "conntrack -L --mark %s 2>/dev/null | wc -l", mark_filter);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(line, sizeof(line), p))
		n = atoi(line);
	pclose(p);
	return n;
}

/* More entries than one update datagram holds: updates go out during the dump. */
static void test_revoke_handles_more_entries_than_one_batch(void **state)
{
	struct netns_fixture *fx = *state;
	struct sluice_revoke_stats st;
	struct sluice_policy *p;
	char err[512] = "";

	if (fx->home < 0)
		skip();
	create_udp_entries(3000, M_ALLOW | 0x10);
	assert_int_equal(ct_count("0x40000000/0xc0000000"), 3000);

	p = policy_with(fx, "INSERT INTO rules(id, action, proto, dst)"
			    " VALUES (40, 'deny', 'udp', '127.0.0.3')");
	assert_int_equal(sluice_revoke_apply(p, MASK, &st, err, sizeof(err)), 0);
	assert_int_equal(st.examined, 3000);
	assert_int_equal(st.flipped_to_deny, 3000);
	assert_int_equal(st.failed, 0);
	assert_int_equal(ct_count("0x80000010/0xffffffff"), 3000);
	sluice_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_table_flips_only_changed_verdicts),
		cmocka_unit_test(test_local_addresses_include_loopback_and_own),
		cmocka_unit_test(test_direction_from_local_addresses),
		cmocka_unit_test(test_local_addresses_load_from_the_host),
		cmocka_unit_test(test_tuple_to_flow_reads_addresses_and_ports),
		cmocka_unit_test(test_tuple_without_protocol_is_refused),
		cmocka_unit_test(test_bad_mark_mask_is_one_sentence),
		cmocka_unit_test_setup_teardown(test_revoke_rewrites_marks_in_a_real_conntrack_table,
						netns_setup, netns_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_sees_past_rules_on_names_of_the_same_action,
						netns_setup, netns_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_denies_an_open_tcp_connection,
						netns_setup, netns_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_handles_more_entries_than_one_batch,
						netns_setup, netns_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
