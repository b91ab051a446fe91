# SPDX-License-Identifier: GPL-2.0
#
# make            build kmod/sluice.ko, agent/sluiced and agent/sluicectl
# make deps       install build and test dependencies (Debian packages)
# make test       run every test tier; last line "N passed, N failed"
# make check      checkpatch --strict and sparse on the kernel module
# make install    module, binaries, unit, schema (DESTDIR, PREFIX)
# make deb        Debian packages in build/deb (dpkg-deb, no debhelper)
# make dkms       add and build the module with DKMS for KREL
# make lifecycle  systemd VM tier: install, restart, upgrade, stop, start
# make vm-debug   the VM cases in a KASAN + lockdep + kmemleak kernel
# make soak       the chaos soak (cases 90, 91) in the stock kernel's VM,
#                 SOAK_SECONDS long (300); make test runs it short in the
#                 debug kernel
# make soak-debug the same in the debug kernel, SOAK_DEBUG_SECONDS (1200)
# make bench      every benchmark; writes docs/BENCHMARKS.md and its plots
# make demo       sluice at work in the VM, in about a minute: deny list,
#                 traffic, sluicectl status, log and explain

# The module is built against the running kernel's headers when they exist
# (a user's host), otherwise against the newest installed linux-headers
# (build machines whose own kernel has none). KDIR overrides both.
KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; \
	  if [ -d $$d ]; then echo $$d; else \
	  ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1; fi)
KREL = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)

PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
PKGS := libmnl libnetfilter_queue libnl-genl-3.0 sqlite3 libsystemd libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
# The agent sits in every packet's path as root: built hardened whatever
# CFLAGS and LDFLAGS say (both are honoured, after these). Checked on the
# built binaries by agent/hardening_test.c.
HARDEN_CFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
ALL_CFLAGS = $(WARN) $(HARDEN_CFLAGS) $(CPPFLAGS) $(CFLAGS) -I. $(PKG_CFLAGS)
LINK = $(CC) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS)
LDLIBS = $(PKG_LIBS) -lpthread

AGENT_MAINS := agent/sluiced.c agent/sluicectl.c
AGENT_TESTS := $(wildcard agent/*_test.c)
AGENT_GEN := agent/policy_sql.c
AGENT_LIB := $(filter-out $(AGENT_MAINS) $(AGENT_TESTS) $(AGENT_GEN), \
		$(wildcard agent/*.c)) $(AGENT_GEN)
AGENT_HDRS := $(wildcard agent/*.h) uapi/sluice.h

.PHONY: all module agent deps test check install clean bench unit kunit vm vm-debug soak soak-debug deb dkms lifecycle fuzz demo

all: module agent

module:
	@test -n "$(KDIR)" || { echo "no kernel headers found: install linux-headers-$$(uname -r) or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

agent: agent/sluiced agent/sluicectl

# The schema and default policy are compiled into the agent, so that a
# missing policy database can always be created.
$(AGENT_GEN): policy/schema.sql policy/default.sql scripts/embed-sql.sh
	sh scripts/embed-sql.sh policy/schema.sql policy/default.sql > $@.tmp
	mv $@.tmp $@

build/%.o: agent/%.c $(AGENT_HDRS)
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

AGENT_LIB_OBJS = $(patsubst agent/%.c,build/%.o,$(AGENT_LIB))

agent/sluiced: build/sluiced.o $(AGENT_LIB_OBJS)
	$(LINK) -o $@ $^ $(LDLIBS)

agent/sluicectl: build/sluicectl.o $(AGENT_LIB_OBJS)
	$(LINK) -o $@ $^ $(LDLIBS)

# Unit tests are built with AddressSanitizer and UBSan, one binary per
# agent/*_test.c, linked with the agent's library built once the same way.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CFLAGS = $(WARN) -O1 -g $(SAN) -I. $(PKG_CFLAGS)
SAN_LIB_OBJS = $(patsubst agent/%.c,build/san/obj/%.o,$(AGENT_LIB))
.SECONDARY: $(SAN_LIB_OBJS)

build/san/obj/%.o: agent/%.c $(AGENT_HDRS)
	@mkdir -p build/san/obj
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

build/san/%_test: agent/%_test.c $(SAN_LIB_OBJS) $(AGENT_HDRS) $(wildcard tests/unit/*.h)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(SAN_LIB_OBJS) $(LDLIBS) -lcmocka

UNIT_BINS := $(patsubst agent/%_test.c,build/san/%_test,$(AGENT_TESTS))
# The man pages: formatted without a warning, and not behind the sources;
# the one kernel-trouble pattern of the tiers that boot a kernel.
UNIT_SCRIPTS := tests/unit/man_pages.sh tests/unit/kernel_trouble.sh

# ThreadSanitizer builds of the tests that run threads: the decision log's
# writer, the parallel QUIC and policy checks, and sluiced's verdict and
# heartbeat threads (sluiced_test runs build/tsan/sluiced). Part of the
# unit tier; TSan cannot share a binary with ASan.
TSAN_CFLAGS = $(WARN) -O1 -g -fsanitize=thread -I. $(PKG_CFLAGS)
TSAN_LIB_OBJS = $(patsubst agent/%.c,build/tsan/obj/%.o,$(AGENT_LIB))
.SECONDARY: $(TSAN_LIB_OBJS)
TSAN_BINS := $(patsubst %,build/tsan/%_test,decision_log policy_integrity quic sluiced)

build/tsan/obj/%.o: agent/%.c $(AGENT_HDRS)
	@mkdir -p build/tsan/obj
	$(CC) $(TSAN_CFLAGS) -c -o $@ $<

build/tsan/%_test: agent/%_test.c $(TSAN_LIB_OBJS) $(AGENT_HDRS) $(wildcard tests/unit/*.h)
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(TSAN_LIB_OBJS) $(LDLIBS) -lcmocka

build/tsan/sluiced: agent/sluiced.c $(TSAN_LIB_OBJS) $(AGENT_HDRS)
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(TSAN_LIB_OBJS) $(LDLIBS)

UNIT_BINS += $(TSAN_BINS)

deps:
	sh scripts/deps.sh

unit: $(UNIT_BINS) agent build/tsan/sluiced
	sh tests/unit/run.sh $(UNIT_BINS) $(UNIT_SCRIPTS)

kunit:
	sh tests/kunit/run.sh

# Test-only tools the VM cases run in the guest (which sees the repo).
VM_TOOLS := build/getflow build/nfq_accept build/genl_hostile

build/getflow: tests/vm/getflow.c $(AGENT_LIB_OBJS) $(AGENT_HDRS) agent/identity.h
	$(CC) $(ALL_CFLAGS) -o $@ tests/vm/getflow.c $(AGENT_LIB_OBJS) $(LDLIBS)

# A caller that sends the sluice family malformed requests (case 24).
build/genl_hostile: tests/vm/genl_hostile.c uapi/sluice.h
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -o $@ tests/vm/genl_hostile.c -lmnl

# The bare NFQUEUE accept loop that tests/bench/vm.sh compares the agent to.
build/nfq_accept: tests/bench/nfq_accept.c
	$(CC) $(ALL_CFLAGS) -o $@ tests/bench/nfq_accept.c -lmnl -lnetfilter_queue

vm: all $(VM_TOOLS)
	sh tests/vm/run.sh "$(KREL)"

# The VM of make vm with tests/demo/10-demo.sh as its one case; its output
# is for people. make test runs it short (tests/demo/check.sh).
demo: all
	sh tests/demo/run.sh "$(KREL)"

# The same cases in a debug kernel built from Debian's linux-source-6.1
# (KASAN, lockdep, PROVE_RCU, DEBUG_OBJECTS, kmemleak; cached in
# ~/.cache/sluice), with sluice.ko built against it in a scratch copy.
vm-debug: agent $(VM_TOOLS)
	sh tests/vm/debug.sh

# The chaos soak (tests/vm/cases/90-chaos-soak.sh) in the stock kernel's
# VM, at the full rate of its bar (200 events in five minutes), every kind
# of event, SOAK_SECONDS long in fail-open mode, then as long in fail-closed
# mode (case 91). The debug kernel (KASAN, lockdep, kmemleak) fits a
# quarter of that rate: make test runs three minutes of fail-open there, and
# a minute and a half of fail-closed in the stock kernel.
SOAK_SECONDS ?= 300
soak: all $(VM_TOOLS)
	SLUICE_VM_TIER=soak SLUICE_VM_CASES='9[01]-*' \
	SLUICE_SOAK_SECONDS=$(SOAK_SECONDS) \
	SLUICE_VM_CASE_TIMEOUT=$$(($(SOAK_SECONDS) + 600)) \
		sh tests/vm/run.sh "$(KREL)"

# The same two soaks in the debug kernel (KASAN, lockdep, kmemleak), which
# fits some twelve events a minute: the bar's 200 events in twenty.
SOAK_DEBUG_SECONDS ?= 1200
SOAK_DEBUG_MIN_EVENTS ?= 200
soak-debug: agent $(VM_TOOLS)
	SLUICE_VM_TIER=soak-debug SLUICE_SOAK_SECONDS=$(SOAK_DEBUG_SECONDS) \
	SLUICE_SOAK_MIN_EVENTS=$(SOAK_DEBUG_MIN_EVENTS) \
	SLUICE_VM_CASE_TIMEOUT=$$(($(SOAK_DEBUG_SECONDS) + 900)) \
		sh tests/vm/debug.sh '9[01]-*'

test: all $(UNIT_BINS) build/tsan/sluiced $(VM_TOOLS)
	KREL="$(KREL)" KDIR="$(KDIR)" sh tests/run-all.sh $(UNIT_BINS) $(UNIT_SCRIPTS)

check:
	sh scripts/check-kmod.sh "$(KDIR)"

# Fuzzing tier: every parser of packet bytes or policy text, 600 s each
# (FUZZ_SECONDS overrides); a 20 s smoke run of each is part of make test.
fuzz:
	sh tests/fuzz/run.sh long $(FUZZ_SECONDS)

# The flow bench's client and server (tests/bench/flows.sh).
build/flowbench: tests/bench/flowbench.c
	@mkdir -p build
	$(CC) $(WARN) $(CFLAGS) -o $@ $<

build/domains_bench: tests/bench/domains_bench.c $(AGENT_LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/identity_bench: tests/bench/identity_bench.c $(AGENT_LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Policy at scale: compile time, memory, lookups/s (figures only).
build/policy_bench: tests/bench/policy_bench.c tests/unit/policy_oracle.h $(AGENT_LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ tests/bench/policy_bench.c $(AGENT_LIB_OBJS) $(LDLIBS)

# Every benchmark in one run; writes docs/BENCHMARKS.md and its plots.
bench: all build/domains_bench build/identity_bench build/flowbench build/nfq_accept
	sh tests/bench/bench.sh

# --- install, packages, DKMS, lifecycle tier --------------------------------
# The version is the agent's; dkms.conf must carry the same.
VERSION := $(shell sed -n 's/^\#define SLUICED_VERSION[^"]*"\(.*\)"/\1/p' agent/sluiced.c)
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
# systemd reads units from /usr/local/lib/systemd/system as well.
UNITDIR ?= $(PREFIX)/lib/systemd/system
# The module's own release (vermagic), not the headers' kernelrelease.
MOD_KREL = $(shell modinfo -F vermagic kmod/sluice.ko 2>/dev/null | cut -d' ' -f1)
DEB_OUT ?= build/deb

# The module goes to /lib/modules/KREL/extra (below DKMS's updates/, which
# wins when both exist); depmod runs unless staging into DESTDIR.
install: all
	install -D -m 0644 kmod/sluice.ko $(DESTDIR)/lib/modules/$(MOD_KREL)/extra/sluice.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(MOD_KREL); fi
	install -D -m 0755 agent/sluiced $(DESTDIR)$(SBINDIR)/sluiced
	install -D -m 0755 agent/sluicectl $(DESTDIR)$(SBINDIR)/sluicectl
	install -D -m 0755 packaging/sluice-upgrade-module $(DESTDIR)$(SBINDIR)/sluice-upgrade-module
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/sluiced.service.in > $(DESTDIR)$(UNITDIR)/sluiced.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sluiced.service
	install -D -m 0644 policy/schema.sql $(DESTDIR)$(DATADIR)/sluice/schema.sql
	install -D -m 0644 policy/default.sql $(DESTDIR)$(DATADIR)/sluice/default.sql
	install -D -m 0644 README.md $(DESTDIR)$(DATADIR)/doc/sluice/README.md
	install -D -m 0644 man/sluice.4 $(DESTDIR)$(DATADIR)/man/man4/sluice.4
	install -D -m 0644 man/sluice-policy.5 $(DESTDIR)$(DATADIR)/man/man5/sluice-policy.5
	install -D -m 0644 man/sluiced.8 $(DESTDIR)$(DATADIR)/man/man8/sluiced.8
	install -D -m 0644 man/sluicectl.8 $(DESTDIR)$(DATADIR)/man/man8/sluicectl.8
	install -D -m 0644 packaging/bash-completion/sluicectl $(DESTDIR)$(DATADIR)/bash-completion/completions/sluicectl
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# make deb: build/deb/sluice_VERSION_amd64.deb (agent, unit, DKMS source)
# and sluice-modules-KREL_VERSION_amd64.deb (the module prebuilt).
deb: all
	sh packaging/deb/build.sh $(DEB_OUT) $(VERSION)

# make dkms: register this tree's module with DKMS and build it for the
# running kernel (then: dkms install sluice/VERSION).
dkms:
	@grep -q '^PACKAGE_VERSION="$(VERSION)"' dkms.conf || { echo "dkms.conf: PACKAGE_VERSION is not $(VERSION)" >&2; exit 1; }
	rm -rf /usr/src/sluice-$(VERSION)
	mkdir -p /usr/src/sluice-$(VERSION)/kmod /usr/src/sluice-$(VERSION)/uapi
	cp Makefile Kbuild dkms.conf /usr/src/sluice-$(VERSION)/
	cp kmod/Kbuild kmod/*.h $(filter-out %.mod.c,$(wildcard kmod/*.c)) /usr/src/sluice-$(VERSION)/kmod/
	cp uapi/*.h /usr/src/sluice-$(VERSION)/uapi/
	dkms status -m sluice -v $(VERSION) | grep -q . || dkms add -m sluice -v $(VERSION)
	dkms build -m sluice -v $(VERSION) -k $(KREL)

# The lifecycle tier: systemd as PID 1 in a debootstrapped Debian under
# qemu; the .deb installed with dpkg -i, restarted, upgraded, stopped.
lifecycle: all
	sh tests/lifecycle/run.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build agent/sluiced agent/sluicectl $(AGENT_GEN)
