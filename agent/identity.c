// SPDX-License-Identifier: GPL-2.0
/*
 * Flow identity into names: the executable of a pid checked against the
 * kernel's facts, and the systemd unit of a cgroup id; see identity.h.
 *
 * The cgroup scan walks the tree with openat() and getdents64() into a
 * buffer on the stack, so that a rescan from a verdict thread allocates
 * nothing; its results go into arrays allocated once, sorted by id for a
 * binary search.
 */
#include "agent/identity.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct exe_entry {
	uint32_t tgid;			/* 0: empty */
	uint32_t major, minor;
	uint64_t start, ino;
	char path[SLUICE_EXE_CACHE_PATH];
};

struct cgroup_entry {
	uint64_t id;
	uint32_t name;			/* offset into names, NO_UNIT: none */
};

#define NO_UNIT	UINT32_MAX

struct sluice_identity {
	char proc[PATH_MAX];
	char cgroup[PATH_MAX];		/* "" until found; root of the scan */
	char cgroup_top[SLUICE_UNIT_MAX];	/* unit of the mount's root */
	struct exe_entry *exe;		/* SLUICE_EXE_CACHE, direct-mapped */
	struct cgroup_entry *cg;	/* SLUICE_CGROUP_MAX, by id */
	size_t ncg;
	char *names;			/* SLUICE_CGROUP_NAMES */
	size_t names_len;
	uint64_t last_scan_ms;
	int scanned;
	struct sluice_identity_stats st;
};

/* ------------------------------------------------------------------ */
/* Unit names                                                          */
/* ------------------------------------------------------------------ */

static int has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

/* The problem of the @len bytes at @s as a unit name, or NULL. */
static const char *unit_problem(const char *s, size_t len)
{
	const char *at = NULL, *dot;
	size_t i;

	if (len == 0 || len >= SLUICE_UNIT_MAX)
		return "must be a systemd unit name of 1 to 255 bytes, e.g. nginx.service";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == ':' || c == '_' ||
		    c == '.' || c == '-' || c == '\\')
			continue;
		if (c == '@' && !at) {
			at = s + i;
			continue;
		}
		return "may hold only letters, digits and : _ . - \\ and one @ (systemd's unit name characters)";
	}
	if (!has_suffix(s, len, ".service") && !has_suffix(s, len, ".scope") &&
	    !has_suffix(s, len, ".slice"))
		return "must end in .service, .scope or .slice (the units a cgroup names), e.g. nginx.service";
	dot = memrchr(s, '.', len);
	if (dot == s || at == s)
		return "needs a name before its type, e.g. nginx.service";
	if (at && at + 1 == dot)
		return "is a template (name@.service), which never runs; name an instance such as getty@tty1.service";
	return NULL;
}

const char *sluice_unit_name_problem(const char *name)
{
	return name ? unit_problem(name, strlen(name)) : "is NULL";
}

/* Is the component @s (@len bytes) a unit of the given kind? */
static int is_unit(const char *s, size_t len, int slice)
{
	if (unit_problem(s, len))
		return 0;
	return slice ? has_suffix(s, len, ".slice") : !has_suffix(s, len, ".slice");
}

static int copy_name(const char *s, size_t len, char *out, size_t outlen)
{
	if (len >= outlen)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int sluice_unit_of_cgroup_path(const char *path, char *out, size_t outlen)
{
	const char *unit = NULL, *slice = NULL, *p = path, *end;
	size_t ulen = 0, slen = 0, len;

	while (*p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len && is_unit(p, len, 0)) {
			unit = p;
			ulen = len;
		} else if (len && is_unit(p, len, 1)) {
			slice = p;
			slen = len;
		}
		p = end;
	}
	if (unit)
		return copy_name(unit, ulen, out, outlen);
	if (slice)
		return copy_name(slice, slen, out, outlen);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The resolver                                                        */
/* ------------------------------------------------------------------ */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The first cgroup2 mount of PROC/self/mountinfo: its mount point into
 * r->cgroup, and the unit of its root (a mount of a subtree, as in a
 * container) into r->cgroup_top. -1 when there is none.
 */
static int find_cgroup2(struct sluice_identity *r)
{
	char path[PATH_MAX + 32], line[4096];
	FILE *f;
	int found = -1;

	snprintf(path, sizeof(path), "%s/self/mountinfo", r->proc);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *fields[5], *sep = strstr(line, " - "), *save = NULL, *tok;
		int n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 5;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5)
			continue;
		unescape(fields[3]);	/* root of the mount in the tree */
		unescape(fields[4]);	/* mount point */
		if (strlen(fields[4]) >= sizeof(r->cgroup))
			continue;
		strcpy(r->cgroup, fields[4]);
		if (sluice_unit_of_cgroup_path(fields[3], r->cgroup_top,
					       sizeof(r->cgroup_top)) < 0)
			r->cgroup_top[0] = '\0';
		found = 0;
	}
	fclose(f);
	return found;
}

struct sluice_identity *sluice_identity_new(const char *proc_root,
					    const char *cgroup_root)
{
	struct sluice_identity *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->exe = calloc(SLUICE_EXE_CACHE, sizeof(*r->exe));
	r->cg = calloc(SLUICE_CGROUP_MAX, sizeof(*r->cg));
	r->names = malloc(SLUICE_CGROUP_NAMES);
	if (!r->exe || !r->cg || !r->names ||
	    strlen(proc_root ? proc_root : "/proc") >= sizeof(r->proc) ||
	    (cgroup_root && strlen(cgroup_root) >= sizeof(r->cgroup))) {
		sluice_identity_free(r);
		return NULL;
	}
	strcpy(r->proc, proc_root ? proc_root : "/proc");
	if (cgroup_root)
		strcpy(r->cgroup, cgroup_root);
	return r;
}

void sluice_identity_free(struct sluice_identity *r)
{
	if (!r)
		return;
	free(r->exe);
	free(r->cg);
	free(r->names);
	free(r);
}

void sluice_identity_get_stats(const struct sluice_identity *r,
			       struct sluice_identity_stats *st)
{
	*st = r->st;
}

/* ---- executables -------------------------------------------------- */

/* Field 22 of PROC/TGID/stat (start time in clock ticks), or -1. */
static int read_start(const struct sluice_identity *r, uint32_t tgid,
		      uint64_t *start)
{
	char path[PATH_MAX + 32], buf[1024];
	unsigned long long v;
	char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "%s/%u/stat", r->proc, tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: skip to its end. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* p is at the end of field 2; step over the spaces before 3..22. */
	for (field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	*start = v;
	return 0;
}

static struct exe_entry *exe_slot(struct sluice_identity *r,
				  const struct sluice_kernel_identity *kid)
{
	uint64_t h = (kid->tgid * 0x9e3779b97f4a7c15ULL) ^ kid->start_ticks ^
		     (kid->exe_ino * 0xff51afd7ed558ccdULL);

	return &r->exe[(h >> 32) % SLUICE_EXE_CACHE];
}

static int exe_key_equal(const struct exe_entry *e,
			 const struct sluice_kernel_identity *kid)
{
	return e->tgid == kid->tgid && e->start == kid->start_ticks &&
	       e->major == kid->exe_major && e->minor == kid->exe_minor &&
	       e->ino == kid->exe_ino;
}

/*
 * The device and inode of the program that PROC/TGID/exe names, as the
 * kernel knows them: the module sends its inode's i_sb->s_dev and i_ino.
 * stat(2) does not say that on every file system (overlayfs reports the
 * underlying file's numbers, btrfs a subvolume's own device). An O_PATH
 * descriptor of the link holds the same file: its fdinfo has the inode
 * number and the mount id, and the process's mountinfo names that mount's
 * device, which is its super block's. 0, or -1 when any of it is missing.
 */
static int exe_kernel_numbers(const struct sluice_identity *r, uint32_t tgid,
			      const char *link, unsigned int *maj,
			      unsigned int *min, uint64_t *ino)
{
	char path[PATH_MAX + 32], line[4096];
	unsigned long long i = 0;
	int fd, mnt_id = -1, have_ino = 0, found = 0;
	FILE *f;

	fd = open(link, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "mnt_id: %d", &mnt_id) == 1)
				continue;
			if (sscanf(line, "ino: %llu", &i) == 1)
				have_ino = 1;
		}
		fclose(f);
	}
	close(fd);
	if (mnt_id < 0 || !have_ino)
		return -1;
	snprintf(path, sizeof(path), "%s/%u/mountinfo", r->proc, tgid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		int id;

		found = sscanf(line, "%d %*d %u:%u", &id, maj, min) == 3 &&
			id == mnt_id;
	}
	fclose(f);
	*ino = i;
	return found ? 0 : -1;
}

/* Read and check the link; 0 with the path in @out, or -1. */
static int exe_from_proc(struct sluice_identity *r,
			 const struct sluice_kernel_identity *kid,
			 char *out, size_t outlen)
{
	char link[PATH_MAX + 32];
	unsigned int maj, min;
	uint64_t before, after, ino;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%u/exe", r->proc, kid->tgid);
	if (read_start(r, kid->tgid, &before) < 0 || before != kid->start_ticks)
		return -1;
	n = readlink(link, out, outlen);
	if (n <= 0 || (size_t)n >= outlen || out[0] != '/')
		return -1;
	out[n] = '\0';
	if (exe_kernel_numbers(r, kid->tgid, link, &maj, &min, &ino) < 0 ||
	    maj != kid->exe_major || min != kid->exe_minor ||
	    ino != kid->exe_ino)
		return -1;
	/* Still the same process: its pid was not reused meanwhile. */
	if (read_start(r, kid->tgid, &after) < 0 || after != kid->start_ticks)
		return -1;
	if (has_suffix(out, (size_t)n, " (deleted)"))
		return -1;
	return 0;
}

int sluice_identity_exe(struct sluice_identity *r,
			const struct sluice_kernel_identity *kid,
			char *out, size_t outlen)
{
	struct exe_entry *e;
	size_t len;

	if (!outlen)
		return -1;
	out[0] = '\0';
	if (!(kid->have & SLUICE_KID_TASK) || !kid->tgid)
		return -1;
	e = exe_slot(r, kid);
	if (e->tgid && exe_key_equal(e, kid)) {
		len = strlen(e->path);
		if (len >= outlen)
			return -1;
		memcpy(out, e->path, len + 1);
		r->st.exe_hits++;
		return 0;
	}
	r->st.exe_misses++;
	if (exe_from_proc(r, kid, out, outlen) < 0) {
		out[0] = '\0';		/* nothing half-checked is left */
		r->st.exe_unknown++;
		return -1;
	}
	len = strlen(out);
	if (len < sizeof(e->path)) {
		e->tgid = kid->tgid;
		e->start = kid->start_ticks;
		e->major = kid->exe_major;
		e->minor = kid->exe_minor;
		e->ino = kid->exe_ino;
		memcpy(e->path, out, len + 1);
	}
	return 0;
}

/* ---- cgroups ------------------------------------------------------ */

struct scan {
	struct sluice_identity *r;
	int full;			/* a bound was hit: the map is partial */
};

/* The offset of @name in the names arena (added when new), or NO_UNIT. */
static uint32_t intern(struct scan *s, const char *name, uint32_t parent)
{
	struct sluice_identity *r = s->r;
	size_t len = strlen(name);

	if (parent != NO_UNIT && !strcmp(r->names + parent, name))
		return parent;
	if (r->names_len + len + 1 > SLUICE_CGROUP_NAMES) {
		s->full = 1;
		return NO_UNIT;
	}
	memcpy(r->names + r->names_len, name, len + 1);
	r->names_len += len + 1;
	return (uint32_t)(r->names_len - len - 1);
}

static void map_add(struct scan *s, uint64_t id, uint32_t name)
{
	struct sluice_identity *r = s->r;

	if (r->ncg == SLUICE_CGROUP_MAX) {
		s->full = 1;
		return;
	}
	r->cg[r->ncg].id = id;
	r->cg[r->ncg].name = name;
	r->ncg++;
}

/*
 * Map directory @fd (a cgroup whose unit is @unit) and every cgroup below
 * it. @fd is closed here.
 */
static void scan_dir(struct scan *s, int fd, uint32_t unit, int depth)
{
	char buf[4096];
	struct stat sb;
	long n, off;

	if (fstat(fd, &sb) == 0)
		map_add(s, (uint64_t)sb.st_ino, unit);
	if (depth >= SLUICE_CGROUP_DEPTH) {
		s->full = 1;
		close(fd);
		return;
	}
	while ((n = (long)getdents64(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			size_t len = strlen(de->d_name);
			uint32_t child = unit;
			int cfd;

			off += de->d_reclen;
			if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			/* A service or scope below names the flow; a slice
			 * only where no service or scope is above it. */
			if (is_unit(de->d_name, len, 0) ||
			    (is_unit(de->d_name, len, 1) &&
			     (unit == NO_UNIT ||
			      has_suffix(s->r->names + unit,
					 strlen(s->r->names + unit), ".slice"))))
				child = intern(s, de->d_name, unit);
			cfd = openat(fd, de->d_name,
				     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (cfd >= 0)
				scan_dir(s, cfd, child, depth + 1);
		}
	}
	close(fd);
}

static int cgroup_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct cgroup_entry *)a)->id;
	uint64_t y = ((const struct cgroup_entry *)b)->id;

	return x < y ? -1 : x > y;
}

static void rescan(struct sluice_identity *r, uint64_t now_ms)
{
	struct scan s = { .r = r };
	uint32_t top = NO_UNIT;
	int fd;

	r->last_scan_ms = now_ms;
	r->scanned = 1;
	r->st.cgroup_scans++;
	r->ncg = 0;
	r->names_len = 0;
	/* Looked up until found (fopen allocates: not on every scan). */
	if (!r->cgroup[0] && find_cgroup2(r) < 0)
		return;
	fd = open(r->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (r->cgroup_top[0])
		top = intern(&s, r->cgroup_top, NO_UNIT);
	scan_dir(&s, fd, top, 0);
	qsort(r->cg, r->ncg, sizeof(*r->cg), cgroup_cmp);
	r->st.cgroups = r->ncg;
}

static const struct cgroup_entry *map_find(const struct sluice_identity *r,
					   uint64_t id)
{
	struct cgroup_entry key = { .id = id };

	return bsearch(&key, r->cg, r->ncg, sizeof(*r->cg), cgroup_cmp);
}

int sluice_identity_unit(struct sluice_identity *r, uint64_t cgroup_id,
			 uint64_t now_ms, char *out, size_t outlen)
{
	const struct cgroup_entry *e = map_find(r, cgroup_id);

	if (!e && (!r->scanned ||
		   now_ms - r->last_scan_ms >= SLUICE_CGROUP_RESCAN_MS)) {
		rescan(r, now_ms);
		e = map_find(r, cgroup_id);
	}
	if (!e || e->name == NO_UNIT ||
	    copy_name(r->names + e->name, strlen(r->names + e->name),
		      out, outlen) < 0) {
		r->st.cgroup_unknown++;
		return -1;
	}
	return 0;
}
