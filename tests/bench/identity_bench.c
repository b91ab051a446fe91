// SPDX-License-Identifier: GPL-2.0
/*
 * New-flow rate of the verdict path with and without rules on who a flow
 * belongs to (issue 11), measured in the agent: SYNs of distinct flows
 * through sluice_verdict_thread_decide(). Without identity rules nothing
 * is asked; with one, each flow asks the module (here a stand-in that
 * answers at once with this process's record, so the figure is the
 * agent's own cost: /proc checks, cached per process, and the cgroup map)
 * and the netlink round trip to the real module comes on top. Prints
 * figures; passes or fails nothing.
 *
 *   build/identity_bench [FLOWS]
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "agent/packet.h"
#include "agent/verdict.h"

static struct sluice_kernel_identity self;

static int module_stand_in(struct sluice_verdict_thread *t, uint32_t ct_id,
			   struct sluice_kernel_identity *out)
{
	(void)t;
	(void)ct_id;
	*out = self;
	return 0;
}

static int know_self(void)
{
	char buf[1024], *p;
	unsigned long long start;
	struct stat sb;
	FILE *f = fopen("/proc/self/stat", "r");
	int i;

	if (!f || !fgets(buf, sizeof(buf), f))
		return -1;
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1 || stat("/proc/self/exe", &sb) < 0)
		return -1;
	self.have = SLUICE_KID_UID | SLUICE_KID_TASK | SLUICE_KID_CGROUP;
	self.uid = (uint32_t)getuid();
	self.tgid = (uint32_t)getpid();
	self.start_ticks = start;
	self.exe_major = major(sb.st_dev);
	self.exe_minor = minor(sb.st_dev);
	self.exe_ino = sb.st_ino;
	if (stat("/sys/fs/cgroup", &sb) == 0)
		self.cgroup_id = sb.st_ino;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* @n SYNs of distinct flows; flows a second. */
static double run(struct sluice_verdict_thread *t, long n)
{
	uint8_t pkt[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, IPPROTO_TCP };
	struct sluice_packet p;
	double t0 = now_s();
	long i;

	pkt[12] = 10, pkt[15] = 1, pkt[16] = 10, pkt[19] = 2;
	pkt[22] = 1, pkt[23] = 187;	/* port 443 */
	pkt[32] = 0x50, pkt[33] = 0x02;
	for (i = 0; i < n; i++) {
		pkt[20] = (uint8_t)(i >> 8), pkt[21] = (uint8_t)i;
		pkt[14] = (uint8_t)(i >> 16);
		memset(&p, 0, sizeof(p));
		p.data = pkt;
		p.len = sizeof(pkt);
		p.hook = 3;
		p.flow.uid = -1;
		p.flow.direction = SLUICE_DIR_OUT;
		p.ct_id = (uint32_t)i + 1;
		p.has_ct_id = 1;
		if (sluice_packet_parse(p.data, p.len, &p.flow) < 0)
			return 0;
		sluice_verdict_thread_decide(t, &p);
	}
	return (double)n / (now_s() - t0);
}

int main(int argc, char *argv[])
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	char dir[] = "/tmp/sluice-identity-bench-XXXXXX", path[64], err[256];
	struct sluice_policy_loader loader;
	struct sluice_verdict_thread t;
	struct sluice_verdict_ctx v;
	double without, with;
	uint64_t asked_without;
	char *msg = NULL;

	if (!mkdtemp(dir) || know_self() < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/policy.db", dir);
	if (sluice_policy_loader_open(&loader, path, err, sizeof(err)) < 0 ||
	    sqlite3_exec(loader.db, "INSERT INTO rules(action, dst) VALUES ('deny', '203.0.113.0/24');"
			 "INSERT INTO rules(action, uid, enabled) VALUES ('deny', 4242, 0);",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    sluice_policy_loader_poll(&loader, 1, NULL) != SLUICE_RELOAD_SWAPPED ||
	    sluice_verdict_init(&v, &loader, NULL, err, sizeof(err)) < 0 ||
	    sluice_verdict_thread_init(&t, &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "identity_bench: %s\n", msg ? msg : err);
		return 1;
	}
	t.get_flow = module_stand_in;
	without = run(&t, n);
	asked_without = t.asked;
	sqlite3_exec(loader.db, "UPDATE rules SET enabled = 1", NULL, NULL, NULL);
	sluice_policy_loader_poll(&loader, 1, NULL);
	with = run(&t, n);
	printf("== sluice flow identity benchmark: %ld new flows each ==\n", n);
	printf("%-52s %12.0f\n", "no identity rule: new flows/s (module not asked)", without);
	printf("%-52s %12.0f\n", "a uid rule: new flows/s (agent side only)", with);
	printf("%-52s %12llu\n", "module asked, no identity rule run",
	       (unsigned long long)asked_without);
	printf("%-52s %12llu\n", "module asked, uid rule run",
	       (unsigned long long)(t.asked - asked_without));
	sluice_verdict_thread_free(&t);
	sluice_verdict_free(&v);
	sluice_policy_loader_close(&loader);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	return system(path) ? 1 : 0;
}
