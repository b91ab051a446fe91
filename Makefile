# SPDX-License-Identifier: GPL-2.0
#
# make            build kmod/sluice.ko, agent/sluiced and agent/sluicectl
# make deps       install build and test dependencies (Debian packages)
# make test       run every test tier; last line "N passed, N failed"
# make check      checkpatch --strict and sparse on the kernel module
# make install    module, binaries, unit, schema (DESTDIR, PREFIX)

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
PKGS := libmnl libnetfilter_queue libnl-genl-3.0 sqlite3 libsystemd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
ALL_CFLAGS = $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS)
LDLIBS = $(PKG_LIBS) -lpthread

AGENT_MAINS := agent/sluiced.c agent/sluicectl.c
AGENT_TESTS := $(wildcard agent/*_test.c)
AGENT_GEN := agent/policy_sql.c
AGENT_LIB := $(filter-out $(AGENT_MAINS) $(AGENT_TESTS) $(AGENT_GEN), \
		$(wildcard agent/*.c)) $(AGENT_GEN)
AGENT_HDRS := $(wildcard agent/*.h) uapi/sluice.h

.PHONY: all module agent deps test check install clean bench unit kunit vm

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
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

agent/sluicectl: build/sluicectl.o $(AGENT_LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests are built with AddressSanitizer and UBSan, one binary per
# agent/*_test.c, linked with the agent's library sources.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
build/san/%_test: agent/%_test.c $(AGENT_LIB) $(AGENT_HDRS)
	@mkdir -p build/san
	$(CC) $(WARN) -O1 -g $(SAN) -I. $(PKG_CFLAGS) -o $@ $< $(AGENT_LIB) $(LDLIBS) -lcmocka

UNIT_BINS := $(patsubst agent/%_test.c,build/san/%_test,$(AGENT_TESTS))

deps:
	sh scripts/deps.sh

unit: $(UNIT_BINS) agent
	sh tests/unit/run.sh $(UNIT_BINS)

kunit:
	sh tests/kunit/run.sh

vm: all
	sh tests/vm/run.sh "$(KREL)"

test: all $(UNIT_BINS)
	KREL="$(KREL)" KDIR="$(KDIR)" sh tests/run-all.sh $(UNIT_BINS)

check:
	sh scripts/check-kmod.sh "$(KDIR)"

bench: all
	sh tests/bench/run.sh

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra modules_install
	install -D -m 0755 agent/sluiced $(DESTDIR)$(PREFIX)/sbin/sluiced
	install -D -m 0755 agent/sluicectl $(DESTDIR)$(PREFIX)/sbin/sluicectl
	install -D -m 0644 policy/schema.sql $(DESTDIR)$(PREFIX)/share/sluice/schema.sql
	install -D -m 0644 policy/default.sql $(DESTDIR)$(PREFIX)/share/sluice/default.sql

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build agent/sluiced agent/sluicectl $(AGENT_GEN)
