// SPDX-License-Identifier: GPL-2.0
/*
 * The built agent and CLI carry the hardening the Makefile asks for, read
 * from their ELF headers: a position-independent executable, RELRO with
 * immediate binding, the stack protector and fortified libc calls. A
 * binary linked without them is the control: the same reader must refuse
 * it, or the test proves nothing.
 */
#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

enum {
	H_PIE = 1 << 0,		/* ET_DYN with an interpreter */
	H_RELRO = 1 << 1,	/* PT_GNU_RELRO */
	H_NOW = 1 << 2,		/* DF_BIND_NOW or DF_1_NOW */
	H_STACK = 1 << 3,	/* calls __stack_chk_fail */
	H_FORTIFY = 1 << 4,	/* calls some __*_chk of glibc */
	H_ALL = (1 << 5) - 1,
};

static const char *const hardening_names[] = {
	"PIE", "RELRO", "BIND_NOW", "stack protector", "FORTIFY_SOURCE",
};

static int in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static unsigned int dynamic_flags(const uint8_t *m, size_t size, const Elf64_Phdr *ph)
{
	const Elf64_Dyn *d = (const Elf64_Dyn *)(m + ph->p_offset);
	size_t i, n = ph->p_filesz / sizeof(*d);
	unsigned int h = 0;

	if (!in_file(size, ph->p_offset, ph->p_filesz))
		return 0;
	for (i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag == DT_FLAGS && (d[i].d_un.d_val & DF_BIND_NOW))
			h |= H_NOW;
		if (d[i].d_tag == DT_FLAGS_1 && (d[i].d_un.d_val & DF_1_NOW))
			h |= H_NOW;
		if (d[i].d_tag == DT_BIND_NOW)
			h |= H_NOW;
	}
	return h;
}

/* What the dynamic symbol table says the binary calls. */
static unsigned int symbol_flags(const uint8_t *m, size_t size, const Elf64_Ehdr *eh)
{
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	unsigned int h = 0;
	size_t i, j;

	if (!in_file(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(*sh)))
		return 0;
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *str;
		const Elf64_Sym *sym;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
			continue;
		str = &sh[sh[i].sh_link];
		if (!in_file(size, sh[i].sh_offset, sh[i].sh_size) ||
		    !in_file(size, str->sh_offset, str->sh_size))
			continue;
		sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		for (j = 0; j < sh[i].sh_size / sizeof(*sym); j++) {
			const char *name;
			size_t len;

			if (sym[j].st_name >= str->sh_size)
				continue;
			name = (const char *)m + str->sh_offset + sym[j].st_name;
			len = strnlen(name, str->sh_size - sym[j].st_name);
			if (len == strlen("__stack_chk_fail") &&
			    !strncmp(name, "__stack_chk_fail", len))
				h |= H_STACK;
			else if (len > 6 && !strncmp(name, "__", 2) &&
				 !strncmp(name + len - 4, "_chk", 4))
				h |= H_FORTIFY;
		}
	}
	return h;
}

/* The hardening bits of the ELF file at @path; fails the test if unreadable. */
static unsigned int hardening_of(const char *path)
{
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	unsigned int h = 0;
	int interp = 0;
	struct stat st;
	uint8_t *m;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_msg("%s: cannot open (run make first)", path);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((size_t)st.st_size >= sizeof(*eh));
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		fail_msg("%s: not a 64-bit ELF file", path);
	ph = (const Elf64_Phdr *)(m + eh->e_phoff);
	assert_true(in_file((size_t)st.st_size, eh->e_phoff,
			    (uint64_t)eh->e_phnum * sizeof(*ph)));
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			interp = 1;
		if (ph[i].p_type == PT_GNU_RELRO)
			h |= H_RELRO;
		if (ph[i].p_type == PT_DYNAMIC)
			h |= dynamic_flags(m, (size_t)st.st_size, &ph[i]);
	}
	if (eh->e_type == ET_DYN && interp)
		h |= H_PIE;
	h |= symbol_flags(m, (size_t)st.st_size, eh);
	munmap(m, (size_t)st.st_size);
	return h;
}

static void say_missing(const char *path, unsigned int h)
{
	size_t i;

	for (i = 0; i < sizeof(hardening_names) / sizeof(hardening_names[0]); i++)
		if (!(h & (1u << i)))
			print_message("%s: no %s\n", path, hardening_names[i]);
}

static void test_agent_and_cli_are_hardened(void **state)
{
	static const char *const bins[] = { "agent/sluiced", "agent/sluicectl" };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		unsigned int h = hardening_of(bins[i]);

		say_missing(bins[i], h);
		assert_int_equal(h, H_ALL);
	}
}

/*
 * The control: the same reader on a program built without any of it sees
 * none of it, and with the Makefile's flags sees all of it.
 */
static void build_and_read(const char *flags, unsigned int *h)
{
	char dir[] = "/tmp/sluice-harden-XXXXXX", cmd[1024], bin[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/t.c", dir);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fputs("#include <stdio.h>\n#include <string.h>\n"
	      "int main(int argc, char **argv)\n{\n\tchar buf[16];\n\n"
	      "\tstrcpy(buf, argc > 1 ? argv[1] : \"x\");\n"
	      "\tprintf(\"%s\\n\", buf);\n\treturn 0;\n}\n", f);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/t", dir);
	snprintf(cmd, sizeof(cmd), "cc -O2 %s -o %s %s/t.c", flags, bin, dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
	*h = hardening_of(bin);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_the_reader_sees_a_binary_without_hardening(void **state)
{
	unsigned int h;

	(void)state;
	build_and_read("-U_FORTIFY_SOURCE -fno-stack-protector -fno-pie -no-pie "
		       "-Wl,-z,norelro -Wl,-z,lazy", &h);
	assert_int_equal(h, 0);
	build_and_read("-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-all "
		       "-fPIE -pie -Wl,-z,relro,-z,now", &h);
	say_missing("control", h);
	assert_int_equal(h, H_ALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_and_cli_are_hardened),
		cmocka_unit_test(test_the_reader_sees_a_binary_without_hardening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
