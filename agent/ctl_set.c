// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl set [fail-mode open|closed] [watchdog-ms MS]: changes what
 * new flows meet without a live agent, and how long a silent agent is
 * trusted. Every setting belongs to the caller's network namespace (the
 * module parameters are the defaults of a namespace that never set its
 * own) and needs CAP_NET_ADMIN over it; nothing set here changes another
 * namespace. All settings given go to the kernel in one message: either
 * all take effect or none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ctl.h"
#include "agent/status.h"

static void sluicectl_set_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl set [fail-mode open|closed] [watchdog-ms <ms>] [hooks in,out,forward]\n"
		"\n"
		"  fail-mode open     without a live agent, new flows are accepted\n"
		"                     (and re-checked when the agent is back)\n"
		"  fail-mode closed   without a live agent, new flows are dropped\n"
		"  watchdog-ms <ms>   an agent silent this long counts as hung\n"
		"                     (the module accepts 10 to 60000)\n"
		"  hooks <list>       where this namespace is filtered: in, out, forward\n");
}

static int sluicectl_set_usage_error(const char *fmt, const char *arg)
{
	return sluicectl_usage_error("set", fmt, arg);
}

int sluicectl_set_main(int argc, char *argv[])
{
	int64_t watchdog_ms = -1;
	int64_t hooks = -1;
	struct sluice_ctl *c;
	int fail_mode = -1;
	char err[320];
	int i, ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		sluicectl_set_usage(stdout);
		return SLUICECTL_EXIT_OK;
	}
	if (argc < 2)
		return sluicectl_set_usage_error("nothing to set%s", "");

	for (i = 1; i < argc; i += 2) {
		const char *key = argv[i], *value = argv[i + 1];

		if (strcmp(key, "fail-mode") && strcmp(key, "watchdog-ms") &&
		    strcmp(key, "hooks"))
			return sluicectl_set_usage_error("\"%s\" is not a setting; the settings are fail-mode, watchdog-ms and hooks",
							 key);
		if (!value)
			return sluicectl_set_usage_error("%s needs a value", key);

		if (!strcmp(key, "hooks")) {
			hooks = sluice_hooks_parse(value);
			if (hooks <= 0)
				return sluicectl_set_usage_error("hooks must be a comma list of in, out and forward, not \"%s\"",
								 value);
		} else if (!strcmp(key, "fail-mode")) {
			if (!strcmp(value, "open"))
				fail_mode = SLUICE_FAIL_OPEN;
			else if (!strcmp(value, "closed"))
				fail_mode = SLUICE_FAIL_CLOSED;
			else
				return sluicectl_set_usage_error("fail-mode must be open or closed, not \"%s\"",
								 value);
		} else {
			size_t n = strspn(value, "0123456789");
			unsigned long long v;

			errno = 0;
			v = strtoull(value, NULL, 10);
			if (!n || value[n] || errno || v > UINT32_MAX)
				return sluicectl_set_usage_error("watchdog-ms must be a whole number of milliseconds, not \"%s\"",
								 value);
			watchdog_ms = (int64_t)v;
		}
	}

	c = sluice_ctl_open(err, sizeof(err));
	if (!c) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return SLUICECTL_EXIT_FAILED;
	}
	ret = 0;
	if (fail_mode >= 0 || watchdog_ms >= 0)
		ret = sluice_ctl_set_config(c, fail_mode, watchdog_ms);
	if (!ret && hooks > 0)
		ret = sluice_ctl_set_hooks(c, (uint32_t)hooks);
	if (ret)
		fprintf(stderr, "sluicectl: %s\n", sluice_ctl_error(c));
	sluice_ctl_close(c);
	return ret ? SLUICECTL_EXIT_FAILED : SLUICECTL_EXIT_OK;
}
