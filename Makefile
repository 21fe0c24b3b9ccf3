# mugai — one boring build: plain make over pkg-config.
#
#   make run     install missing packages, build, run the main job on embedded defaults
#   make check   install missing packages, build, run every test
#   make bench   benchmarks, with their ceilings measured in the same run
#
# BUILD=dir puts every output under dir (default: build).

BUILD ?= build
CC ?= cc
CLANG ?= clang
PYTHON ?= /usr/bin/python3

PKGS := gmime-3.0 gumbo libseccomp nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# --- extra libraries (per module) ---
# store: SQLite index and audit chain (libsqlite3-dev).
EXTRA_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
# cdr: MuPDF ships static archives only; its pkg-config line lacks harfbuzz.
CDR_PKGS := libzip libxml-2.0
PKG_CFLAGS += $(shell pkg-config --cflags $(CDR_PKGS) 2>/dev/null)
EXTRA_LIBS += -lmupdf -lmupdf-third -lmujs -lharfbuzz -lfreetype -ljbig2dec -lopenjp2 \
	-ljpeg -lgumbo -lpng16 $(shell pkg-config --libs $(CDR_PKGS) 2>/dev/null) -ldeflate -lz -lm

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wvla -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE \
	-D_FORTIFY_SOURCE=2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS)
CFLAGS := $(BASE_CFLAGS) -O2 $(HARDEN)
LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

# console: its pure parsers and HTML writer are in the library (unit tests,
# fuzz_console); the server and credentials link libmicrohttpd, libsodium and
# libqrencode into `mugai` only.
CONSOLE_LIB_SRCS := src/console/form.c src/console/page.c src/console/rjson.c
CONSOLE_SRCS := $(filter-out $(CONSOLE_LIB_SRCS),$(sort $(wildcard src/console/*.c)))
CONSOLE_LIBS := $(shell pkg-config --libs libmicrohttpd libsodium libqrencode 2>/dev/null || \
	echo -lmicrohttpd -lsodium -lqrencode)
LIB_SRCS := $(sort $(wildcard src/common/*.c src/text/*.c src/mail/*.c src/cdr/*.c src/store/*.c)) \
	$(CONSOLE_LIB_SRCS)
CLI_SRCS := $(sort $(wildcard src/cli/*.c)) $(CONSOLE_SRCS)
# mugaid-store (the store process, the only mugaid binary that links SQLite)
STORED_SRCS := src/daemon/storeproc.c
DAEMON_SRCS := $(filter-out $(STORED_SRCS),$(sort $(wildcard src/daemon/*.c)))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
# --- generated sources (per module) ---
# charset: JIS/CP932 tables generated from glibc iconv at build time.
GEN_HDRS := $(BUILD)/gen/jis_tables.h

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
STORED_OBJS := $(STORED_SRCS:%.c=$(BUILD)/obj/%.o)
# mugaid (master, sessions, releaser) without SQLite: `nm build/mugaid` has no sqlite3_
DAEMON_LIBS := $(filter-out -lsqlite3,$(EXTRA_LIBS))
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ASAN_TESTS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)
FUZZERS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
PROGRAMS := $(BUILD)/mugai $(if $(DAEMON_SRCS),$(BUILD)/mugaid $(BUILD)/mugaid-store)

.PHONY: all deps run check check-caps check-build unit unit-asan fuzz-replay test-cli bench readme \
	clean fuzz help install

all: $(PROGRAMS)

help:
	@sed -n '3,8p' Makefile

deps:
	@./scripts/deps.sh

# Recursive so that pkg-config runs after the packages are installed.
run: deps
	@$(MAKE) --no-print-directory all
	@./scripts/run.sh $(BUILD)

check: deps
	@$(MAKE) --no-print-directory check-caps
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory unit unit-asan fuzz-replay test-cli e2e

# Every cap has a name, a value and a reason in src/common/limits.h: refuse a
# literal one elsewhere (rules in scripts/check-caps.py).
check-caps:
	@$(PYTHON) scripts/check-caps.py

check-build: $(PROGRAMS) $(TESTS) $(ASAN_TESTS) $(FUZZERS)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/bench_mail $(BUILD)/bench/bench_store \
		$(BUILD)/bench/bench_cdr
	@./bench/run.sh $(BUILD)
	@$(MAKE) --no-print-directory bench-legacy

$(BUILD)/libmugai.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libmugai.a: $(ASAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/libmugai.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzzobj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/mugai: $(CLI_OBJS) $(BUILD)/libmugai.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS) $(CONSOLE_LIBS)

$(BUILD)/mugaid: $(DAEMON_OBJS) $(BUILD)/libmugai.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(DAEMON_LIBS)

$(BUILD)/mugaid-store: $(STORED_OBJS) $(BUILD)/libmugai.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libmugai.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(BUILD)/libmugai.a \
		$(PKG_LIBS) $(EXTRA_LIBS) -lcmocka

$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/asan/libmugai.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -Wno-missing-prototypes -o $@ $< \
		$(BUILD)/asan/libmugai.a $(PKG_LIBS) $(EXTRA_LIBS) -lcmocka

$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/fuzz/libmugai.a
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Wno-missing-prototypes \
		-o $@ $< $(BUILD)/fuzz/libmugai.a $(PKG_LIBS) $(EXTRA_LIBS)

# bench_mail times the text writer through its entry points (bench/bench_mail.c)
$(BUILD)/bench/bench_mail: LDFLAGS += $(foreach f,wr_clean wr_text wr_prefix wr_line \
	wr_quoted wr_header wr_trusted wr_has_address link_emit link_rewrite_text,-Wl,--wrap=$(f))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libmugai.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(BUILD)/libmugai.a \
		$(PKG_LIBS) $(EXTRA_LIBS)

# --- generated-source rules (per module) ---
$(BUILD)/gen/gen_jis_tables: tools/gen_jis_tables.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 $(WARN) -o $@ $<

$(BUILD)/gen/jis_tables.h: $(BUILD)/gen/gen_jis_tables
	$< > $@.tmp && mv $@.tmp $@

# legacy conversion: jail + flatten vs flatten alone vs bare LibreOffice.
.PHONY: bench-legacy
bench-legacy: $(BUILD)/mugai $(BUILD)/tests/test_jail
	@echo "== legacy .doc: LibreOffice bare vs in the jail, flatten alone, jail + flatten =="
	@$(PYTHON) bench/legacy.py $(BUILD) 3 5

# store benchmark: durable puts/s vs the raw fsync ceiling of the same disk.
.PHONY: bench-store
bench-store: $(BUILD)/bench/bench_store
	@./bench/store.sh $(BUILD)

unit: $(TESTS)
	@./scripts/run-unit.sh $(TESTS)

unit-asan: $(ASAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./scripts/run-unit.sh $(ASAN_TESTS)

# Replay every fuzzer's committed seed corpus (and any crash regressions).
fuzz-replay: $(FUZZERS)
	@./scripts/fuzz-replay.sh $(BUILD)/fuzz $(FUZZERS)

# Long fuzzing run: make fuzz FUZZ_SECONDS=600 FUZZER=fuzz_mail
FUZZ_SECONDS ?= 300
fuzz: $(FUZZERS)
	@./scripts/fuzz-run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZER)

test-cli: $(PROGRAMS)
	@MUGAI=$(CURDIR)/$(BUILD)/mugai MUGAID=$(CURDIR)/$(BUILD)/mugaid BUILD=$(BUILD) \
		$(PYTHON) -m pytest -q tests/cli

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Regenerate README.md's config table and caps list from the binary
# (tests/cli/test_readme.py checks them).
readme: $(BUILD)/mugai
	@$(PYTHON) scripts/readme-config.py $(BUILD)/mugai

# mugaid end to end through a private Postfix instance (installs postfix and
# swaks when missing; loopback ports only; the system Postfix is not touched).
.PHONY: e2e bench-e2e bench-peers
e2e: $(PROGRAMS)
	@./tests/e2e/run.sh $(BUILD)

# Throughput, latency and CPU per message through Postfix: bare relay, the
# after-queue null filter, mugaid after-queue, the accept and null milters, mugaid milter, and the peers that
# are installed (bench-peers: MIMEDefang), in alternating rounds.
bench-e2e: deps $(PROGRAMS) $(BUILD)/bench/null_milter
	@./bench/e2e.sh $(BUILD)

# The peer bench-e2e compares mugaid with (Debian's mimedefang; its service
# is left stopped: the benchmark starts its own instance on loopback).
bench-peers:
	@./scripts/deps.sh mimedefang libnet-dns-perl
	@-systemctl disable --now mimedefang >/dev/null 2>&1 || true

# --- install (README "Installation"; docs/ja/install.md) ---
# make install [DESTDIR=/tmp/stage] [PREFIX=/usr/local]: mugai → $(PREFIX)/bin,
# mugaid → $(PREFIX)/sbin, /etc/mugai/mugaid.cf only when absent, the systemd
# unit and the daily purge timer in /etc/systemd/system, the docs; without
# DESTDIR also the `mugai` system user and /var/lib/mugai (0700).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DOCDIR ?= $(PREFIX)/share/doc/mugai
SYSCONFDIR ?= /etc/mugai
UNITDIR ?= /etc/systemd/system
STATEDIR ?= /var/lib/mugai

install: $(PROGRAMS)
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BUILD)/mugai $(DESTDIR)$(BINDIR)/mugai
	install -m 0755 $(BUILD)/mugaid $(DESTDIR)$(SBINDIR)/mugaid
	install -m 0755 $(BUILD)/mugaid-store $(DESTDIR)$(SBINDIR)/mugaid-store
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mugaid.cf ]; then \
		echo "install: $(DESTDIR)$(SYSCONFDIR)/mugaid.cf exists, kept (new one: contrib/mugaid.cf)"; \
	else install -m 0644 contrib/mugaid.cf $(DESTDIR)$(SYSCONFDIR)/mugaid.cf; fi
	install -m 0644 contrib/mugaid.service contrib/mugai-purge.service contrib/mugai-purge.timer \
		$(DESTDIR)$(UNITDIR)/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 docs/ja/install.md $(DESTDIR)$(DOCDIR)/install.ja.md
	@if [ -z "$(DESTDIR)" ]; then \
		id mugai >/dev/null 2>&1 || useradd --system --home-dir $(STATEDIR) --no-create-home \
			--shell /usr/sbin/nologin mugai; \
		install -d -o mugai -g mugai -m 0700 $(STATEDIR); \
		! command -v systemctl >/dev/null 2>&1 || systemctl daemon-reload 2>/dev/null || true; \
		echo "install: done; start with: systemctl enable --now mugaid mugai-purge.timer"; \
	else echo "install: staged under $(DESTDIR) (no user created: useradd --system mugai on the target)"; fi
