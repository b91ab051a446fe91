// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/verdict.c's TCP naming path: what each queued
 * packet of a flow that waits for its name is answered, on any port, with
 * the ClientHello whole or cut, an HTTP request, a server that speaks
 * first, and rules on addresses that decide before any name could; and
 * of its UDP naming path: a QUIC Initial judged by its SNI.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "agent/packet.h"
#include "agent/quic.h"
#include "agent/verdict.h"
#include "tests/unit/quic_build.h"
#include "tests/unit/quic_rfc9001_a2.h"

struct fixture {
	char dir[64], path[96], err[256];
	struct sluice_policy_loader loader;
	struct sluice_verdict_ctx v;
	/* Set: segments go through a verdict thread, with this conntrack id. */
	struct sluice_verdict_thread *thread;
	uint32_t ct_id;
	int64_t nfqa_uid;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/sluice-verdict-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/policy.db", fx->dir);
	if (sluice_policy_loader_open(&fx->loader, fx->path, fx->err, sizeof(fx->err)) < 0 ||
	    sluice_policy_loader_poll(&fx->loader, 1, NULL) != SLUICE_RELOAD_SWAPPED)
		return -1;
	if (sluice_verdict_init(&fx->v, &fx->loader, NULL, fx->err, sizeof(fx->err)) < 0) {
		/* Raw sockets for sinkhole answers need CAP_NET_RAW. */
		print_message("skipped: %s\n", fx->err);
		sluice_policy_loader_close(&fx->loader);
		free(fx);
		*state = NULL;
		return 0;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (!fx)
		return 0;
	sluice_verdict_free(&fx->v);
	sluice_policy_loader_close(&fx->loader);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void policy(struct fixture *fx, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(fx->loader.db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	assert_int_equal(sluice_policy_loader_poll(&fx->loader, 1, NULL),
			 SLUICE_RELOAD_SWAPPED);
}

#define SYN	0x02
#define ACK	0x10
#define PSH	0x08

/*
 * Queue one IPv4 TCP segment of the flow 10.0.0.1:40000 -> 10.0.0.2:@dport
 * (@reply: sent by the server) and return the agent's answer.
 */
static int segment(struct fixture *fx, uint16_t dport, int reply, uint8_t flags,
		   uint32_t seq, const void *data, size_t len)
{
	static uint8_t pkt[40 + 20000];
	static const uint8_t client[4] = { 10, 0, 0, 1 }, server[4] = { 10, 0, 0, 2 };
	struct sluice_packet p = { .id = 1, .hook = 3 /* LOCAL_OUT */ };
	uint16_t sport = 40000, total = (uint16_t)(40 + len);

	memset(pkt, 0, 40);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(total >> 8), pkt[3] = (uint8_t)total;
	pkt[8] = 64, pkt[9] = IPPROTO_TCP;
	memcpy(pkt + 12, reply ? server : client, 4);
	memcpy(pkt + 16, reply ? client : server, 4);
	pkt[20] = (uint8_t)((reply ? dport : sport) >> 8), pkt[21] = (uint8_t)(reply ? dport : sport);
	pkt[22] = (uint8_t)((reply ? sport : dport) >> 8), pkt[23] = (uint8_t)(reply ? sport : dport);
	pkt[24] = (uint8_t)(seq >> 24), pkt[25] = (uint8_t)(seq >> 16);
	pkt[26] = (uint8_t)(seq >> 8), pkt[27] = (uint8_t)seq;
	pkt[32] = 0x50, pkt[33] = flags;
	if (len)
		memcpy(pkt + 40, data, len);
	p.data = pkt;
	p.len = 40 + len;
	p.flow.uid = fx->thread ? fx->nfqa_uid : -1;
	p.flow.direction = SLUICE_DIR_OUT;
	p.reply = reply;
	p.ct_id = fx->ct_id;
	p.has_ct_id = fx->ct_id != 0;
	assert_int_equal(sluice_packet_parse(p.data, p.len, &p.flow), 0);
	if (reply) {	/* as the queue engine turns a reply around */
		memcpy(p.flow.src, client, 4);
		memcpy(p.flow.dst, server, 4);
		p.flow.sport = sport;
		p.flow.dport = dport;
	}
	if (fx->thread)
		return sluice_verdict_thread_decide(fx->thread, &p);
	return sluice_verdict_decide(&fx->v, &p);
}

/* A minimal TLS 1.3 ClientHello for @name, its server_name after @pad bytes. */
static size_t hello(uint8_t *out, const char *name, size_t pad)
{
	size_t nlen = strlen(name), ext = 4 + pad + 9 + nlen;
	size_t body = 2 + 32 + 1 + 4 + 2 + 2 + ext, n = 0;

	out[n++] = 0x16, out[n++] = 3, out[n++] = 1;
	out[n++] = (uint8_t)((4 + body) >> 8), out[n++] = (uint8_t)(4 + body);
	out[n++] = 1, out[n++] = 0, out[n++] = (uint8_t)(body >> 8), out[n++] = (uint8_t)body;
	out[n++] = 3, out[n++] = 3;
	memset(out + n, 7, 32), n += 32;
	out[n++] = 0;
	out[n++] = 0, out[n++] = 2, out[n++] = 0x13, out[n++] = 1;
	out[n++] = 1, out[n++] = 0;
	out[n++] = (uint8_t)(ext >> 8), out[n++] = (uint8_t)ext;
	out[n++] = 0, out[n++] = 0x15, out[n++] = (uint8_t)(pad >> 8), out[n++] = (uint8_t)pad;
	memset(out + n, 0, pad), n += pad;
	out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = (uint8_t)(5 + nlen);
	out[n++] = 0, out[n++] = (uint8_t)(3 + nlen), out[n++] = 0;
	out[n++] = 0, out[n++] = (uint8_t)nlen;
	memcpy(out + n, name, nlen), n += nlen;
	return n;
}

#define SKIP_WITHOUT_FIXTURE()	do { if (!*state) skip(); } while (0)

static void a_syn_on_any_port_waits_for_the_name(void **state)
{
	struct fixture *fx = *state;

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test')");
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 22, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	/* A bare ACK that still reaches us waits too. */
	assert_int_equal(segment(fx, 8443, 0, ACK, 101, NULL, 0), SLUICE_Q_PENDING);
}

static void without_names_to_filter_the_syn_is_decided(void **state)
{
	struct fixture *fx = *state;

	SKIP_WITHOUT_FIXTURE();
	assert_int_equal(segment(fx, 443, 0, SYN, 100, NULL, 0), SLUICE_Q_ALLOW);
}

static void an_address_rule_that_no_name_can_change_denies_the_syn(void **state)
{
	struct fixture *fx = *state;

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(priority, action, dst) VALUES (10, 'deny', '10.0.0.2/32');"
		   "INSERT INTO rules(priority, action, domain) VALUES (20, 'allow', 'ok.test');");
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
}

/*
 * A name can only deny more when no entry allows by name: the SYN of a
 * flow the address rule denies is refused at once, so that its handshake
 * never reaches the server. Its control: the same rules with an allow by
 * name make it wait.
 */
static void a_deny_no_name_can_lift_refuses_the_syn(void **state)
{
	struct fixture *fx = *state;

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(priority, action, domain) VALUES (10, 'deny', 'bad.test');"
		   "INSERT INTO rules(priority, action, dst) VALUES (20, 'deny', '10.0.0.2/32');");
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
	policy(fx, "INSERT INTO rules(priority, action, domain) VALUES (15, 'allow', 'ok.test');");
	assert_int_equal(segment(fx, 8444, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
}

static void a_domain_rule_before_the_address_rule_makes_the_syn_wait(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[512];
	size_t n = hello(h, "ok.test", 0);

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(priority, action, domain) VALUES (10, 'allow', 'ok.test');"
		   "INSERT INTO rules(priority, action, dst) VALUES (20, 'deny', '10.0.0.2/32');");
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_ALLOW);
}

static void sni_and_host_are_judged_on_any_port(void **state)
{
	struct fixture *fx = *state;
	static const char get_denied[] = "GET / HTTP/1.1\r\nHost: denied.test:8080\r\n\r\n";
	static const char get_ok[] = "GET / HTTP/1.1\r\nHost: ok.test:8080\r\n\r\n";
	uint8_t h[512];
	size_t n;

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test')");
	n = hello(h, "denied.test", 0);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_DENY);
	n = hello(h, "ok.test", 0);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_ALLOW);
	assert_int_equal(segment(fx, 8080, 0, ACK | PSH, 101, get_denied, strlen(get_denied)),
			 SLUICE_Q_DENY);
	assert_int_equal(segment(fx, 8080, 0, ACK | PSH, 101, get_ok, strlen(get_ok)),
			 SLUICE_Q_ALLOW);
}

static void a_hello_split_in_two_segments_is_judged_by_its_name(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[1024];
	size_t n = hello(h, "denied.test", 300);

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test')");
	assert_int_equal(segment(fx, 443, 0, ACK | PSH, 1, h, 100), SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 443, 0, ACK | PSH, 101, h + 100, n - 100), SLUICE_Q_DENY);
}

static void a_hello_cut_into_too_many_segments_is_denied(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[4096];
	uint32_t i;

	SKIP_WITHOUT_FIXTURE();
	hello(h, "ok.test", 3000);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test')");
	for (i = 0; i + 1 < SLUICE_PENDING_SEGMENTS; i++)
		assert_int_equal(segment(fx, 443, 0, ACK | PSH, 1 + i * 10, h + i * 10, 10),
				 SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 443, 0, ACK | PSH, 1 + i * 10, h + i * 10, 10),
			 SLUICE_Q_DENY);
}

static void a_server_that_speaks_first_is_judged_by_its_address(void **state)
{
	struct fixture *fx = *state;
	static const char banner[] = "SSH-2.0-OpenSSH_9.2\r\n";

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test');"
		   "INSERT INTO rules(action, dst, dst_port) VALUES ('deny', '10.0.0.2/32', '2222')");
	assert_int_equal(segment(fx, 22, 1, ACK | PSH, 9, banner, strlen(banner)),
			 SLUICE_Q_ALLOW);
	assert_int_equal(segment(fx, 2222, 1, ACK | PSH, 9, banner, strlen(banner)),
			 SLUICE_Q_DENY);
}

/*
 * Queue one IPv4 UDP datagram of the flow 10.0.0.1:40000 -> 10.0.0.2:443
 * (@reply: sent by the server) and return the agent's answer.
 */
static int datagram(struct fixture *fx, int reply, const uint8_t *data, size_t len)
{
	static uint8_t pkt[28 + 1500];
	static const uint8_t client[4] = { 10, 0, 0, 1 }, server[4] = { 10, 0, 0, 2 };
	struct sluice_packet p = { .id = 1, .hook = 3 /* LOCAL_OUT */ };
	uint16_t total = (uint16_t)(28 + len), udp = (uint16_t)(8 + len);

	assert_true(len <= sizeof(pkt) - 28);
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(total >> 8), pkt[3] = (uint8_t)total;
	pkt[8] = 64, pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, reply ? server : client, 4);
	memcpy(pkt + 16, reply ? client : server, 4);
	pkt[20] = reply ? 0x01 : 0x9c, pkt[21] = reply ? 0xbb : 0x40;
	pkt[22] = reply ? 0x9c : 0x01, pkt[23] = reply ? 0x40 : 0xbb;
	pkt[24] = (uint8_t)(udp >> 8), pkt[25] = (uint8_t)udp;
	memcpy(pkt + 28, data, len);
	p.data = pkt;
	p.len = 28 + len;
	p.flow.uid = -1;
	p.flow.direction = SLUICE_DIR_OUT;
	p.reply = reply;
	assert_int_equal(sluice_packet_parse(p.data, p.len, &p.flow), 0);
	if (reply) {
		memcpy(p.flow.src, client, 4);
		memcpy(p.flow.dst, server, 4);
		p.flow.sport = 40000;
		p.flow.dport = 443;
	}
	return sluice_verdict_decide(&fx->v, &p);
}

static size_t rfc_initial(uint8_t *out)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < 1200 && sscanf(rfc_a2_hex + 2 * i, "%2x", &b) == 1; i++)
		out[i] = (uint8_t)b;
	return i;
}

static void a_quic_initial_is_judged_by_its_sni(void **state)
{
	struct fixture *fx = *state;
	uint8_t pkt[1200];
	size_t n;

	SKIP_WITHOUT_FIXTURE();
	n = rfc_initial(pkt);
	assert_int_equal(n, 1200);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'other.test')");
	assert_int_equal(datagram(fx, 0, pkt, n), SLUICE_Q_ALLOW);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', '*.example.com');"
		   "INSERT INTO rules(action, domain) VALUES ('deny', 'example.com')");
	assert_int_equal(datagram(fx, 0, pkt, n), SLUICE_Q_DENY);
	/* Not QUIC: judged by its address, as before. */
	assert_int_equal(datagram(fx, 0, (const uint8_t *)"hello", 5), SLUICE_Q_ALLOW);
}

/*
 * A hello that goes on in a later Initial: the datagram passes and the
 * flow stays undecided; a reply before the name is read is unreadable.
 */
static void a_quic_hello_not_read_whole_is_denied(void **state)
{
	struct fixture *fx = *state;
	uint8_t pkt[1200];
	size_t n;

	SKIP_WITHOUT_FIXTURE();
	n = rfc_initial(pkt);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'other.test')");
	/* 0-RTT first: a QUIC packet that no Initial named. */
	pkt[0] = (uint8_t)((pkt[0] & ~0x30) | 0x10);
	assert_int_equal(datagram(fx, 0, pkt, n), SLUICE_Q_DENY);
	assert_int_equal(datagram(fx, 1, (const uint8_t *)"reply", 5), SLUICE_Q_DENY);
}

/* ---- who the flow belongs to (issue 11) ---------------------------- */

/*
 * The module as a test sees it: it knows the flow of conntrack id 7 at
 * the first question only (its record expires), as this very process.
 */
static struct sluice_kernel_identity module_said;
static int module_asked;

static int module_once(struct sluice_verdict_thread *t, uint32_t ct_id,
		       struct sluice_kernel_identity *out)
{
	(void)t;
	memset(out, 0, sizeof(*out));
	if (ct_id == 7 && module_asked++ == 0)
		*out = module_said;
	return 0;
}

/* The facts the module gives about this process: uid 4321, its program. */
static void module_knows_this_process(char *exe, size_t exelen)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	struct stat sb;
	FILE *f;
	ssize_t n;
	int i;

	f = fopen("/proc/self/stat", "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 2; i < 22; i++)
		p = strchr(p + 1, ' ');
	assert_int_equal(sscanf(p + 1, "%llu", &start), 1);
	assert_int_equal(stat("/proc/self/exe", &sb), 0);
	n = readlink("/proc/self/exe", exe, exelen - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	memset(&module_said, 0, sizeof(module_said));
	module_said.have = SLUICE_KID_UID | SLUICE_KID_TASK;
	module_said.uid = 4321;
	module_said.tgid = (uint32_t)getpid();
	module_said.start_ticks = start;
	module_said.exe_major = major(sb.st_dev);
	module_said.exe_minor = minor(sb.st_dev);
	module_said.exe_ino = sb.st_ino;
	module_asked = 0;
}

static struct sluice_verdict_thread *thread_of(struct fixture *fx)
{
	static struct sluice_verdict_thread t;

	assert_int_equal(sluice_verdict_thread_init(&t, &fx->v, fx->err, sizeof(fx->err)), 0);
	t.get_flow = module_once;
	fx->thread = &t;
	fx->ct_id = 7;
	fx->nfqa_uid = -1;
	return &t;
}

/*
 * A flow waits from its SYN for its name; when its hello comes, the
 * module has forgotten it. It is judged with what the SYN was told: the
 * exe rule denies it (asked again, the module would say nothing, and the
 * flow would pass). The allow by another name is what makes the SYN wait:
 * without an entry that allows by name, the exe rule denies the SYN.
 */
static void a_named_flow_is_judged_with_the_identity_of_its_syn(void **state)
{
	struct fixture *fx = *state;
	struct sluice_verdict_thread *t;
	char exe[4096], sql[4400];
	uint8_t h[512];
	size_t n = hello(h, "ok.test", 0);

	SKIP_WITHOUT_FIXTURE();
	module_knows_this_process(exe, sizeof(exe));
	snprintf(sql, sizeof(sql),
		 "INSERT INTO rules(priority, action, domain) VALUES (10, 'deny', 'denied.test');"
		 "INSERT INTO rules(priority, action, domain) VALUES (15, 'allow', 'other.test');"
		 "INSERT INTO rules(priority, action, exe) VALUES (20, 'deny', '%s');", exe);
	policy(fx, sql);
	t = thread_of(fx);
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_DENY);
	assert_int_equal(module_asked, 1);
	/* Decided: nothing kept. A new flow under the same id is asked anew. */
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	assert_int_equal(module_asked, 2);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_ALLOW);
	sluice_verdict_thread_free(t);
}

static void a_policy_without_identity_rules_never_asks_the_module(void **state)
{
	struct fixture *fx = *state;
	struct sluice_verdict_thread *t;
	char exe[4096];
	uint8_t h[512];
	size_t n = hello(h, "denied.test", 0);

	SKIP_WITHOUT_FIXTURE();
	module_knows_this_process(exe, sizeof(exe));
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'denied.test');"
		   "INSERT INTO rules(action, uid, enabled) VALUES ('deny', 4321, 0);");
	t = thread_of(fx);
	assert_int_equal(segment(fx, 8443, 0, SYN, 100, NULL, 0), SLUICE_Q_PENDING);
	assert_int_equal(segment(fx, 8443, 0, ACK | PSH, 101, h, n), SLUICE_Q_DENY);
	assert_int_equal(module_asked, 0);
	assert_null(t->ctl);
	sluice_verdict_thread_free(t);
}

/* The module's uid wins; when it knows nothing, NFQA_UID still counts. */
static void the_uid_is_the_modules_else_nfqa_uid(void **state)
{
	struct fixture *fx = *state;
	struct sluice_verdict_thread *t;
	char exe[4096];

	SKIP_WITHOUT_FIXTURE();
	module_knows_this_process(exe, sizeof(exe));
	policy(fx, "INSERT INTO rules(action, uid) VALUES ('deny', 4321);");
	t = thread_of(fx);
	fx->nfqa_uid = 1;
	assert_int_equal(segment(fx, 443, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
	/* Forgotten by the module: NFQA_UID's 1 is not 4321. */
	assert_int_equal(segment(fx, 444, 0, SYN, 100, NULL, 0), SLUICE_Q_ALLOW);
	fx->nfqa_uid = 4321;
	assert_int_equal(segment(fx, 445, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
	/* No conntrack id: the module is not asked, NFQA_UID decides. */
	fx->ct_id = 0;
	assert_int_equal(segment(fx, 446, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
	assert_int_equal(module_asked, 3);
	sluice_verdict_thread_free(t);
}

/* A unit rule, with the cgroup tree of the thread's resolver a fake one. */
static void a_unit_rule_matches_the_flows_cgroup(void **state)
{
	struct fixture *fx = *state;
	struct sluice_verdict_thread *t;
	char cg[160], cmd[400], exe[4096];
	struct stat sb;

	SKIP_WITHOUT_FIXTURE();
	module_knows_this_process(exe, sizeof(exe));
	snprintf(cg, sizeof(cg), "%s/cg/demo.slice/demo.service", fx->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/cg/demo.slice/other.service'", cg, fx->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stat(cg, &sb), 0);
	policy(fx, "INSERT INTO rules(action, unit) VALUES ('deny', 'demo.service');");
	t = thread_of(fx);
	snprintf(cg, sizeof(cg), "%s/cg", fx->dir);
	sluice_identity_free(t->resolver);
	t->resolver = sluice_identity_new(NULL, cg);
	module_said.have = SLUICE_KID_CGROUP;
	module_said.cgroup_id = sb.st_ino;
	assert_int_equal(segment(fx, 443, 0, SYN, 100, NULL, 0), SLUICE_Q_DENY);
	snprintf(cg, sizeof(cg), "%s/cg/demo.slice/other.service", fx->dir);
	assert_int_equal(stat(cg, &sb), 0);
	module_said.cgroup_id = sb.st_ino;
	module_asked = 0;
	assert_int_equal(segment(fx, 444, 0, SYN, 100, NULL, 0), SLUICE_Q_ALLOW);
	sluice_verdict_thread_free(t);
}

/*
 * A ClientHello split over two Initials (as Chrome's post-quantum one
 * is), cut before its name: the first passes and the flow waits, the
 * second completes the hello and the flow is judged by its name, in
 * whichever order they come and however often one is sent again. A
 * server that answers meanwhile (an ACK of the first Initial) has its
 * datagram dropped: the flow still waits for its name.
 */
static void a_quic_hello_over_two_initials_is_judged_when_whole(void **state)
{
	struct fixture *fx = *state;
	static struct quic_split q;

	SKIP_WITHOUT_FIXTURE();
	quic_split(&q);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'example.com')");
	assert_int_equal(datagram(fx, 0, q.a, q.na), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 1, (const uint8_t *)"ack", 3), SLUICE_Q_DROP);
	assert_int_equal(datagram(fx, 0, q.b, q.nb), SLUICE_Q_DENY);
	/* The second part first, sent twice, then the start. */
	assert_int_equal(datagram(fx, 0, q.b, q.nb), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 0, q.b, q.nb), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 0, q.a, q.na), SLUICE_Q_DENY);
	/* The control: the same hello, its name allowed. */
	policy(fx, "UPDATE rules SET domain = 'other.test'");
	assert_int_equal(datagram(fx, 0, q.a, q.na), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 0, q.b, q.nb), SLUICE_Q_ALLOW);
}

/*
 * No way past a domain deny rule (default allow) by never finishing the
 * hello: a flow that keeps sending Initials that add nothing, that sends
 * something else while it waits, or that changes its DCID, is refused.
 */
static void a_quic_hello_never_finished_is_denied(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[QUIC_BUILT_LEN], ping[QUIC_BUILT_LEN], b[QUIC_BUILT_LEN], hello[512];
	static const uint8_t other_dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t hn = rfc_hello(hello), na, np, nb, i;
	int rc = SLUICE_Q_PENDING;

	SKIP_WITHOUT_FIXTURE();
	na = quic_hello_part(rfc_dcid, 0, QUIC_SPLIT_AT, 0, a);
	np = quic_build((const uint8_t *)"\x01", 1, 1, ping);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'example.com')");
	assert_int_equal(datagram(fx, 0, a, na), SLUICE_Q_PENDING);
	for (i = 0; i < 64 && rc == SLUICE_Q_PENDING; i++)
		rc = datagram(fx, 0, ping, np);
	assert_int_equal(rc, SLUICE_Q_DENY);
	assert_true(i < 64);
	/* Something that is not an Initial while the hello waits. */
	assert_int_equal(datagram(fx, 0, a, na), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 0, (const uint8_t *)"hello", 5), SLUICE_Q_DENY);
	/* The rest of the hello under another connection ID. */
	nb = quic_hello_part(other_dcid, QUIC_SPLIT_AT, hn - QUIC_SPLIT_AT, 1, b);
	assert_int_equal(datagram(fx, 0, a, na), SLUICE_Q_PENDING);
	assert_int_equal(datagram(fx, 0, b, nb), SLUICE_Q_DENY);
}

/*
 * Two CRYPTO frames that give the hello's bytes twice with other values:
 * which one would the server keep? Refused, not judged without a name.
 */
static void a_quic_hello_given_twice_differently_is_denied(void **state)
{
	struct fixture *fx = *state;
	uint8_t hello[512], other[512], pl[1200], pkt[QUIC_BUILT_LEN];
	size_t hn = rfc_hello(hello), n = 0;

	SKIP_WITHOUT_FIXTURE();
	memcpy(other, hello, hn);
	memcpy(other + 58, "elpmaxe", 7);
	n += crypto_frame(pl + n, hello, 0, hn);
	n += crypto_frame(pl + n, other, 0, hn);
	n = quic_build(pl, n, 0, pkt);
	policy(fx, "INSERT INTO rules(action, domain) VALUES ('deny', 'example.com')");
	assert_int_equal(datagram(fx, 0, pkt, n), SLUICE_Q_DENY);
}

/*
 * An IPv6 SYN to 7000 behind a destination options header of 2 KiB, the
 * copy ending inside it (as a chain longer than NFQUEUE's 65531-byte copy
 * would): the agent cannot say which flow it is, conntrack can, and keeps
 * the verdict in the TCP flow it finds. With only a deny of TCP 7000 and
 * everything else allowed, it is denied; copied whole, it is read and
 * denied by that rule, and the same SYN to 7001 allowed.
 */
static void a_flow_whose_ports_are_past_the_copy_is_denied(void **state)
{
	static uint8_t pkt[40 + 2048 + 20];
	struct fixture *fx = *state;
	struct sluice_packet p;
	uint8_t *th = pkt + 40 + 2048;
	int rc;

	SKIP_WITHOUT_FIXTURE();
	policy(fx, "INSERT INTO rules(action, proto, dst_port) VALUES ('deny', 'tcp', '7000')");
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[4] = (2048 + 20) >> 8, pkt[5] = (2048 + 20) & 0xff;
	pkt[6] = IPPROTO_DSTOPTS, pkt[7] = 64;
	pkt[8] = 0xfd, pkt[23] = 1, pkt[24] = 0xfd, pkt[39] = 2;
	pkt[40] = IPPROTO_TCP, pkt[41] = 255;	/* (255 + 1) * 8 bytes */
	th[0] = 40000 >> 8, th[1] = 40000 & 0xff;
	th[2] = 7001 >> 8, th[3] = 7001 & 0xff;
	th[12] = 0x50, th[13] = SYN;
	for (int i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.id = 1, p.hook = 1;			/* LOCAL_IN */
		p.data = pkt;
		p.len = i < 2 ? sizeof(pkt) : 40 + 1024;
		p.flow.uid = -1;
		p.flow.direction = SLUICE_DIR_IN;
		if (i == 1)
			th[3] = 7000 & 0xff;
		rc = sluice_packet_parse(p.data, p.len, &p.flow);
		assert_int_equal(rc, i < 2 ? 0 : SLUICE_PACKET_CUT);
		p.unknown_flow = rc == SLUICE_PACKET_CUT;	/* as queue.c */
		assert_int_equal(sluice_verdict_decide(&fx->v, &p),
				 i == 0 ? SLUICE_Q_ALLOW : SLUICE_Q_DENY);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(a_syn_on_any_port_waits_for_the_name),
		T(without_names_to_filter_the_syn_is_decided),
		T(an_address_rule_that_no_name_can_change_denies_the_syn),
		T(a_deny_no_name_can_lift_refuses_the_syn),
		T(a_domain_rule_before_the_address_rule_makes_the_syn_wait),
		T(sni_and_host_are_judged_on_any_port),
		T(a_hello_split_in_two_segments_is_judged_by_its_name),
		T(a_hello_cut_into_too_many_segments_is_denied),
		T(a_server_that_speaks_first_is_judged_by_its_address),
		T(a_quic_initial_is_judged_by_its_sni),
		T(a_quic_hello_not_read_whole_is_denied),
		T(a_named_flow_is_judged_with_the_identity_of_its_syn),
		T(a_policy_without_identity_rules_never_asks_the_module),
		T(the_uid_is_the_modules_else_nfqa_uid),
		T(a_unit_rule_matches_the_flows_cgroup),
		T(a_quic_hello_over_two_initials_is_judged_when_whole),
		T(a_quic_hello_never_finished_is_denied),
		T(a_quic_hello_given_twice_differently_is_denied),
		T(a_flow_whose_ports_are_past_the_copy_is_denied),
#undef T
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
