// SPDX-License-Identifier: GPL-2.0
/*
 * The state of sluice in words: the names of modes and counters, the
 * /proc/net/sluice reader (for callers that may not use the netlink
 * family), the agent's status file, and the text and JSON that
 * `sluicectl status` prints.
 *
 * The /proc reader is strict about what it knows (a counter that is not a
 * number is an error naming the line) and lenient about what it does not
 * (unknown keys are skipped, so that a newer module can add lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/status.h"

/* The module's names for them, from uapi/sluice.h. */
static const char *const sluice_stat_names[__SLUICE_STAT_MAX] = SLUICE_STAT_NAMES;

const char *sluice_stat_name(unsigned int stat)
{
	return stat < __SLUICE_STAT_MAX ? sluice_stat_names[stat] : NULL;
}

/* The tokens of /proc/net/sluice, from uapi/sluice.h, and for people. */
static const char *const sluice_mode_tokens[] = SLUICE_MODE_TOKENS;
static const char *const sluice_mode_names[] = {
	[SLUICE_MODE_NO_AGENT] = "no agent",
	[SLUICE_MODE_ENFORCING] = "enforcing",
	[SLUICE_MODE_HUNG] = "hung",
	[SLUICE_MODE_DRAINING] = "draining",
};

#define SLUICE_N_MODES (sizeof(sluice_mode_tokens) / sizeof(sluice_mode_tokens[0]))

const char *sluice_mode_name(uint8_t mode)
{
	return mode < SLUICE_N_MODES ? sluice_mode_names[mode] : "unknown";
}

const char *sluice_mode_token(uint8_t mode)
{
	return mode < SLUICE_N_MODES ? sluice_mode_tokens[mode] : "unknown";
}

const char *sluice_fail_mode_name(uint8_t fail_mode)
{
	switch (fail_mode) {
	case SLUICE_FAIL_OPEN:
		return "open";
	case SLUICE_FAIL_CLOSED:
		return "closed";
	default:
		return "unknown";
	}
}

/*
 * What a new flow meets. Without a live agent the fail mode decides, so
 * it comes first; why there is no live agent follows in brackets.
 */
const char *sluice_mode_describe(uint8_t mode, uint8_t fail_mode)
{
	static const char *const failing[][2] = {
		[SLUICE_MODE_NO_AGENT] = { "fail-open (no agent)",
					   "fail-closed (no agent)" },
		[SLUICE_MODE_HUNG] = { "fail-open (agent hung)",
				       "fail-closed (agent hung)" },
		[SLUICE_MODE_DRAINING] = { "fail-open (agent draining)",
					   "fail-closed (agent draining)" },
	};

	if (mode == SLUICE_MODE_ENFORCING)
		return "enforcing";
	if (mode > SLUICE_MODE_DRAINING || fail_mode > SLUICE_FAIL_CLOSED)
		return "unknown";
	return failing[mode][fail_mode];
}

/* ---- /proc/net/sluice ---- */

/* Decimal or (with 0x) hexadecimal, no sign, no spaces, no overflow. */
static bool sluice_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* A value quoted in an error: short, and printable. */
static void sluice_quote(char *dst, size_t dstlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < dstlen && i < 40; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && i + 4 <= dstlen) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

enum sluice_proc_key {
	SLUICE_PK_MODE,
	SLUICE_PK_FAIL_MODE,
	SLUICE_PK_AGENT_PID,
	SLUICE_PK_HEARTBEAT,
	SLUICE_PK_QUEUE_NUM,
	SLUICE_PK_QUEUE_COUNT,
	SLUICE_PK_WATCHDOG,
	SLUICE_PK_HOOKS,
	SLUICE_PK_MARK_MASK,
	SLUICE_PK_STAT,		/* + the stat index */
};

static const char *const sluice_proc_keys[SLUICE_PK_STAT] = {
	[SLUICE_PK_MODE] = "mode",
	[SLUICE_PK_FAIL_MODE] = "fail_mode",
	[SLUICE_PK_AGENT_PID] = "agent_pid",
	[SLUICE_PK_HEARTBEAT] = "heartbeat_age_ms",
	[SLUICE_PK_QUEUE_NUM] = "queue_num",
	[SLUICE_PK_QUEUE_COUNT] = "queue_count",
	[SLUICE_PK_WATCHDOG] = "watchdog_ms",
	[SLUICE_PK_HOOKS] = "hooks",
	[SLUICE_PK_MARK_MASK] = "mark_mask",
};

/* Index of @key as above, SLUICE_PK_STAT + stat for counters, -1: unknown. */
static int sluice_proc_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < SLUICE_PK_STAT; i++)
		if (!strcmp(key, sluice_proc_keys[i]))
			return i;
	for (i = 0; i < __SLUICE_STAT_MAX; i++)
		if (sluice_stat_names[i] && !strcmp(key, sluice_stat_names[i]))
			return SLUICE_PK_STAT + i;
	return -1;
}

/* One "key value" line; returns 0 or a negative errno with @err set. */
static int sluice_proc_line(char *line, const char *name, unsigned int lineno,
			    struct sluice_status *st, uint64_t *seen,
			    char *err, size_t errlen)
{
	char *key = line, *value, *end;
	char quoted[48];
	uint64_t v;
	int k;

	value = key + strcspn(key, " \t");
	if (value == key || !*value) {
		sluice_quote(quoted, sizeof(quoted), line);
		snprintf(err, errlen, "%s line %u is not \"key value\": \"%s\"",
			 name, lineno, quoted);
		return -EBADMSG;
	}
	*value++ = '\0';
	value += strspn(value, " \t");
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (!*value || strpbrk(value, " \t")) {
		sluice_quote(quoted, sizeof(quoted), value);
		snprintf(err, errlen, "%s line %u: %s needs exactly one value, not \"%s\"",
			 name, lineno, key, quoted);
		return -EBADMSG;
	}

	k = sluice_proc_key(key);
	if (k < 0)
		return 0;	/* a newer module's line: skip it */
	if (*seen & (1ULL << k)) {
		snprintf(err, errlen, "%s line %u repeats %s", name, lineno, key);
		return -EBADMSG;
	}
	*seen |= 1ULL << k;

	sluice_quote(quoted, sizeof(quoted), value);
	switch (k) {
	case SLUICE_PK_MODE:
		for (v = 0; v < SLUICE_N_MODES; v++)
			if (!strcmp(value, sluice_mode_tokens[v]))
				break;
		if (v == SLUICE_N_MODES) {
			snprintf(err, errlen, "%s line %u: unknown mode \"%s\"",
				 name, lineno, quoted);
			return -EBADMSG;
		}
		st->mode = v;
		return 0;
	case SLUICE_PK_FAIL_MODE:
		if (!strcmp(value, "open")) {
			st->config.fail_mode = SLUICE_FAIL_OPEN;
		} else if (!strcmp(value, "closed")) {
			st->config.fail_mode = SLUICE_FAIL_CLOSED;
		} else {
			snprintf(err, errlen, "%s line %u: fail_mode must be open or closed, not \"%s\"",
				 name, lineno, quoted);
			return -EBADMSG;
		}
		return 0;
	case SLUICE_PK_HOOKS:
		/* "in,out,forward" as the module writes it, or "none". */
		if (value[0] < '0' || value[0] > '9') {
			int64_t hooks = sluice_hooks_parse(value);

			if (hooks < 0) {
				snprintf(err, errlen, "%s line %u: hooks must be a list of in, out and forward, not \"%s\"",
					 name, lineno, quoted);
				return -EBADMSG;
			}
			st->config.hooks = (uint32_t)hooks;
			st->have |= SLUICE_HAVE_HOOKS;
			return 0;
		}
		break;
	case SLUICE_PK_HEARTBEAT:
		if (!strcmp(value, "-1")) {
			st->heartbeat_age_ms = SLUICE_AGE_NEVER;
			st->have |= SLUICE_HAVE_HEARTBEAT;
			return 0;
		}
		break;
	default:
		break;
	}

	{
		static const uint64_t max[SLUICE_PK_STAT] = {
			[SLUICE_PK_AGENT_PID] = UINT32_MAX,
			[SLUICE_PK_HEARTBEAT] = UINT32_MAX,
			[SLUICE_PK_QUEUE_NUM] = UINT16_MAX,
			[SLUICE_PK_QUEUE_COUNT] = SLUICE_QUEUE_COUNT_MAX,
			[SLUICE_PK_WATCHDOG] = UINT32_MAX,
			[SLUICE_PK_HOOKS] = UINT32_MAX,
			[SLUICE_PK_MARK_MASK] = UINT32_MAX,
		};

		if (!sluice_parse_u64(value, k >= SLUICE_PK_STAT ? UINT64_MAX :
				      max[k], &v)) {
			snprintf(err, errlen, "%s line %u: %s is not a number in range: \"%s\"",
				 name, lineno, key, quoted);
			return -EBADMSG;
		}
	}
	switch (k) {
	case SLUICE_PK_AGENT_PID:
		st->agent_pid = v;
		st->have |= SLUICE_HAVE_AGENT_PID;
		break;
	case SLUICE_PK_HEARTBEAT:
		st->heartbeat_age_ms = v;
		st->have |= SLUICE_HAVE_HEARTBEAT;
		break;
	case SLUICE_PK_QUEUE_NUM:
		st->config.queue_num = v;
		st->have |= SLUICE_HAVE_QUEUE_NUM;
		break;
	case SLUICE_PK_QUEUE_COUNT:
		st->config.queue_count = v;
		break;
	case SLUICE_PK_WATCHDOG:
		st->config.watchdog_ms = v;
		st->have |= SLUICE_HAVE_WATCHDOG;
		break;
	case SLUICE_PK_HOOKS:
		st->config.hooks = v;
		st->have |= SLUICE_HAVE_HOOKS;
		break;
	case SLUICE_PK_MARK_MASK:
		st->config.mark_mask = v;
		st->have |= SLUICE_HAVE_MARK_MASK;
		break;
	default:
		st->stats[k - SLUICE_PK_STAT] = v;
		st->stats_have |= 1ULL << (k - SLUICE_PK_STAT);
		break;
	}
	return 0;
}

int sluice_proc_parse(const char *text, size_t len, const char *name,
		      struct sluice_status *out, char *err, size_t errlen)
{
	/* A module older than queue_count serves one queue. */
	struct sluice_status st = { .heartbeat_age_ms = SLUICE_AGE_NEVER,
				    .config.queue_count = 1 };
	unsigned int lineno = 0;
	uint64_t seen = 0;
	size_t pos = 0;
	char *line;
	int ret;

	line = malloc(len + 1);
	if (!line) {
		snprintf(err, errlen, "out of memory reading %s", name);
		return -ENOMEM;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		lineno++;
		if (memchr(text + pos, '\0', n)) {
			snprintf(err, errlen, "%s line %u contains a NUL byte",
				 name, lineno);
			ret = -EBADMSG;
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (!line[strspn(line, " \t")])
			continue;
		ret = sluice_proc_line(line, name, lineno, &st, &seen, err,
				       errlen);
		if (ret)
			goto out;
	}
	if (!(seen & (1ULL << SLUICE_PK_MODE)) ||
	    !(seen & (1ULL << SLUICE_PK_FAIL_MODE))) {
		snprintf(err, errlen, "%s has no %s line", name,
			 !(seen & (1ULL << SLUICE_PK_MODE)) ? "mode" : "fail_mode");
		ret = -EBADMSG;
		goto out;
	}
	st.source = SLUICE_SOURCE_PROC;
	*out = st;
	ret = 0;
out:
	free(line);
	return ret;
}

/* The whole of a small file; -errno with a sentence in @err. */
static int sluice_slurp(const char *path, const char *what, char **text,
			size_t *len, char *err, size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "%s does not exist%s", path, what);
		else
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(-ret));
		return ret;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (!buf) {
			snprintf(err, errlen, "out of memory reading %s", path);
			close(fd);
			return -ENOMEM;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(-ret));
			free(buf);
			close(fd);
			return ret;
		}
		if (r == 0)
			break;
		n += r;
		if (n == cap) {
			char *bigger = NULL;

			if (cap < (1U << 20))
				bigger = realloc(buf, cap * 2);
			if (!bigger) {
				snprintf(err, errlen, "%s is too large", path);
				free(buf);
				close(fd);
				return -EFBIG;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	*text = buf;
	*len = n;
	return 0;
}

int sluice_proc_read(const char *path, struct sluice_status *out,
		     char *err, size_t errlen)
{
	size_t len;
	char *text;
	int ret;

	if (!path)
		path = SLUICE_PROC_PATH;
	ret = sluice_slurp(path, " (the sluice kernel module is not loaded)",
			   &text, &len, err, errlen);
	if (ret)
		return ret;
	ret = sluice_proc_parse(text, len, path, out, err, errlen);
	free(text);
	return ret;
}

/* ---- the agent's status file ---- */

int sluice_agent_status_parse(const char *text, size_t len,
			      struct sluice_agent_status *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len && out->n < SLUICE_AGENT_STATUS_MAX) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *eq = memchr(line, '=', n);
		struct sluice_agent_kv *kv = &out->kv[out->n];

		pos += n + 1;
		if (!n || line[0] == '#' || !eq || eq == line ||
		    memchr(line, '\0', n))
			continue;
		kv->key = strndup(line, eq - line);
		kv->value = strndup(eq + 1, n - (eq + 1 - line));
		if (!kv->key || !kv->value) {
			free(kv->key);
			free(kv->value);
			kv->key = kv->value = NULL;
			sluice_agent_status_free(out);
			return -ENOMEM;
		}
		out->n++;
	}
	return 0;
}

int sluice_agent_status_read(const char *path, struct sluice_agent_status *out,
			     char *err, size_t errlen)
{
	size_t len;
	char *text;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sluice_slurp(path, " (sluiced is not running)", &text, &len,
			   err, errlen);
	if (ret)
		return ret;
	ret = sluice_agent_status_parse(text, len, out);
	if (ret)
		snprintf(err, errlen, "out of memory reading %s", path);
	free(text);
	return ret;
}

void sluice_agent_status_free(struct sluice_agent_status *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		free(as->kv[i].key);
		free(as->kv[i].value);
	}
	as->n = 0;
}

const char *sluice_agent_status_get(const struct sluice_agent_status *as,
				    const char *key)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!strcmp(as->kv[i].key, key))
			return as->kv[i].value;
	return NULL;
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at @s (1..4), 0 if invalid. */
static size_t sluice_utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned char lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = s[0] == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ?
		       3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned char lo = s[0] == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = s[0] == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}


static const char *const sluice_hook_names[] = SLUICE_HOOK_NAMES;

#define SLUICE_N_HOOKS (sizeof(sluice_hook_names) / sizeof(sluice_hook_names[0]))

int64_t sluice_hooks_parse(const char *list)
{
	char buf[64], *save = NULL, *tok;
	int64_t mask = 0;
	size_t i;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			mask |= SLUICE_HOOK_ALL;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < SLUICE_N_HOOKS; i++)
			if (!strcmp(tok, sluice_hook_names[i]))
				break;
		if (i == SLUICE_N_HOOKS)
			return -1;
		mask |= 1 << i;
	}
	return mask;
}

/* Only printable ASCII and valid UTF-8 reach a terminal: no escapes. */
void sluice_print_clean(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n = sluice_utf8_len(s);

		if (n == 1 && *s >= 0x20 && *s != 0x7f) {
			fputc(*s, f);
		} else if (n > 1) {
			fwrite(s, 1, n, f);
		} else {
			fputc('?', f);
			n = 1;
		}
		s += n;
	}
}

/*
 * The agent's decision log cannot be written (log_error of its status
 * file): decisions go on, their records are lost, counted in
 * decisions_failed. Nothing while the last batch was written.
 */
static void sluice_log_error_print_text(FILE *f,
					const struct sluice_agent_status *agent)
{
	const char *lerr = sluice_agent_status_get(agent, "log_error");
	const char *lost = sluice_agent_status_get(agent, "decisions_failed");

	if (!lerr || !lerr[0])
		return;
	fprintf(f, "\nwarning: decisions go on but are not logged (");
	sluice_print_clean(f, lost ? lost : "?");
	fprintf(f, " records lost so far): ");
	sluice_print_clean(f, lerr);
	fputc('\n', f);
}

void sluice_status_print_text(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent,
			      const struct sluice_queue_report *queues)
{
	const char *perr, *psrc, *pin;
	unsigned int s;
	size_t i;

	fprintf(f, "mode: %s\n",
		sluice_mode_describe(st->mode, st->config.fail_mode));
	fprintf(f, "fail mode: %s\n",
		sluice_fail_mode_name(st->config.fail_mode));
	if (st->have & SLUICE_HAVE_AGENT_PID) {
		if (st->agent_pid)
			fprintf(f, "agent pid: %u\n", st->agent_pid);
		else
			fprintf(f, "agent pid: none\n");
	}
	if (st->have & SLUICE_HAVE_HEARTBEAT) {
		if (st->heartbeat_age_ms == SLUICE_AGE_NEVER)
			fprintf(f, "heartbeat age: never\n");
		else
			fprintf(f, "heartbeat age: %u ms\n",
				st->heartbeat_age_ms);
	}
	if (st->have & SLUICE_HAVE_QUEUE_NUM)
		fprintf(f, "queue: %u\n", st->config.queue_num);
	if (st->have & SLUICE_HAVE_WATCHDOG)
		fprintf(f, "watchdog: %u ms\n", st->config.watchdog_ms);
	if (st->have & SLUICE_HAVE_HOOKS) {
		fprintf(f, "hooks:");
		for (i = 0; i < SLUICE_N_HOOKS; i++)
			if (st->config.hooks & (1U << i))
				fprintf(f, " %s", sluice_hook_names[i]);
		fprintf(f, "%s\n", st->config.hooks & SLUICE_HOOK_ALL ?
			"" : " none");
	}
	if (st->have & SLUICE_HAVE_MARK_MASK)
		fprintf(f, "mark mask: 0x%08x\n", st->config.mark_mask);
	fprintf(f, "source: %s\n", source_name);

	fprintf(f, "\ncounters:\n");
	for (s = 0; s < __SLUICE_STAT_MAX; s++)
		if (sluice_stat_names[s] && (st->stats_have & (1ULL << s)))
			fprintf(f, "  %s: %llu\n", sluice_stat_names[s],
				(unsigned long long)st->stats[s]);
	if (queues)
		sluice_queues_print_text(f, st, queues);

	if (!agent)
		return;
	sluice_policy_state_print_text(f, agent);
	perr = sluice_agent_status_get(agent, "policy_error");
	psrc = sluice_agent_status_get(agent, "policy_source");
	pin = sluice_agent_status_get(agent, "policy_in_force");
	fprintf(f, "\npolicy:\n");
	for (i = 0; i < agent->n; i++) {
		fprintf(f, "  ");
		sluice_print_clean(f, agent->kv[i].key);
		fprintf(f, ": ");
		sluice_print_clean(f, agent->kv[i].value[0] ?
				   agent->kv[i].value : "(none)");
		fputc('\n', f);
	}
	if (psrc && strcmp(psrc, "database") && pin) {
		fprintf(f, "\nwarning: the policy database is not in force; enforcing the ");
		sluice_print_clean(f, pin);
		fputc('\n', f);
	} else if (perr && perr[0]) {
		fprintf(f, "\nwarning: the last policy reload failed, the previous policy stays in force: ");
		sluice_print_clean(f, perr);
		fputc('\n', f);
	}
	sluice_log_error_print_text(f, agent);
}

/* ---- JSON ---- */

void sluice_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
			continue;
		}
		if (*s == '\n' || *s == '\t' || *s == '\r') {
			fprintf(f, "\\%c", *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r');
			s++;
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
			continue;
		}
		/* The NUL ending @s stops the checks of a cut sequence. */
		n = sluice_utf8_len(s);
		if (!n) {
			fprintf(f, "\\ufffd");
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
	fputc('"', f);
}

/* A whole number stays a number; everything else is a string. */
static void sluice_json_value(FILE *f, const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (n && !v[n] && n <= 15 && (v[0] != '0' || n == 1))
		fputs(v, f);
	else
		sluice_json_string(f, v);
}

void sluice_status_print_json(FILE *f, const struct sluice_status *st,
			      const char *source_name,
			      const struct sluice_agent_status *agent,
			      const struct sluice_queue_report *queues)
{
	const char *sep = "";
	unsigned int s;
	size_t i;

	fprintf(f, "{\n  \"mode\": ");
	sluice_json_string(f, sluice_mode_describe(st->mode,
						   st->config.fail_mode));
	fprintf(f, ",\n  \"kernel_mode\": ");
	sluice_json_string(f, sluice_mode_token(st->mode));
	fprintf(f, ",\n  \"fail_mode\": ");
	sluice_json_string(f, sluice_fail_mode_name(st->config.fail_mode));
	if (st->have & SLUICE_HAVE_AGENT_PID) {
		if (st->agent_pid)
			fprintf(f, ",\n  \"agent_pid\": %u", st->agent_pid);
		else
			fprintf(f, ",\n  \"agent_pid\": null");
	}
	if (st->have & SLUICE_HAVE_HEARTBEAT) {
		if (st->heartbeat_age_ms == SLUICE_AGE_NEVER)
			fprintf(f, ",\n  \"heartbeat_age_ms\": null");
		else
			fprintf(f, ",\n  \"heartbeat_age_ms\": %u",
				st->heartbeat_age_ms);
	}
	if (st->have & SLUICE_HAVE_QUEUE_NUM)
		fprintf(f, ",\n  \"queue_num\": %u", st->config.queue_num);
	if (st->have & SLUICE_HAVE_WATCHDOG)
		fprintf(f, ",\n  \"watchdog_ms\": %u", st->config.watchdog_ms);
	if (st->have & SLUICE_HAVE_HOOKS) {
		fprintf(f, ",\n  \"hooks\": [");
		for (i = 0; i < SLUICE_N_HOOKS; i++) {
			if (st->config.hooks & (1U << i)) {
				fprintf(f, "%s\"%s\"", sep, sluice_hook_names[i]);
				sep = ", ";
			}
		}
		fprintf(f, "]");
	}
	if (st->have & SLUICE_HAVE_MARK_MASK)
		fprintf(f, ",\n  \"mark_mask\": %u", st->config.mark_mask);
	fprintf(f, ",\n  \"source\": ");
	sluice_json_string(f, source_name);

	fprintf(f, ",\n  \"counters\": {");
	sep = "";
	for (s = 0; s < __SLUICE_STAT_MAX; s++) {
		if (!sluice_stat_names[s] || !(st->stats_have & (1ULL << s)))
			continue;
		fprintf(f, "%s\n    \"%s\": %llu", sep, sluice_stat_names[s],
			(unsigned long long)st->stats[s]);
		sep = ",";
	}
	fprintf(f, "%s}", *sep ? "\n  " : "");
	if (queues)
		sluice_queues_print_json(f, st, queues);
	if (agent)
		sluice_policy_state_print_json(f, agent);

	fprintf(f, ",\n  \"policy\": ");
	if (!agent) {
		fprintf(f, "null\n}\n");
		return;
	}
	fprintf(f, "{");
	sep = "";
	for (i = 0; i < agent->n; i++) {
		fprintf(f, "%s\n    ", sep);
		sluice_json_string(f, agent->kv[i].key);
		fprintf(f, ": ");
		sluice_json_value(f, agent->kv[i].value);
		sep = ",";
	}
	fprintf(f, "%s}\n}\n", *sep ? "\n  " : "");
}
