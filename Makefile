# mod_sdesk build. Paths come from apxs, apr-1-config, apu-1-config and
# pkg-config; lib/ is compiled without httpd's include directory, so an httpd
# header there fails the build.

APXS      ?= apxs
comma     := ,
PYTHON    ?= /usr/bin/python3
CC        := gcc
BUILD     := build
# -Werror in CI (CI=true) and in `make test`; warnings shown otherwise.
WERROR    ?= $(if $(CI),-Werror,)

APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) \
              $(shell apu-1-config --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld --libs 2>/dev/null) \
              $(shell apu-1-config --link-ld --libs 2>/dev/null)
DEP_CFLAGS := $(shell pkg-config --cflags jansson libutf8proc 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs jansson libutf8proc 2>/dev/null) -lldap -llber -lcrypto
HTTPD_INC  := $(shell $(APXS) -q INCLUDEDIR 2>/dev/null)
MODDIR     := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral $(WERROR)
CFLAGS  ?= -O2 -g
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LIB_CFLAGS = -std=c99 -D_GNU_SOURCE -fPIC $(WARN) $(CFLAGS) $(APR_CFLAGS) $(DEP_CFLAGS) -Ilib

LIB_SRC := $(wildcard lib/sd*.c) lib/sd_schema.c
LIB_SRC := $(sort $(LIB_SRC))
LIB_OBJ := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC))
LIB_ASAN_OBJ := $(patsubst lib/%.c,$(BUILD)/asan/lib/%.o,$(LIB_SRC))
MOD_SRC := $(wildcard mod_sdesk/*.c)
MOD_HDR := $(wildcard mod_sdesk/*.h)
UNIT_SRC := $(wildcard tests/unit/test_sd_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
SQL      := $(sort $(wildcard sql/sqlite3/*.sql sql/pgsql/*.sql))
# The web pages (web/), embedded in the module as one generated C file.
WEB      := $(shell find web -type f ! -name '.*' 2>/dev/null | LC_ALL=C sort)
WEB_C    := $(BUILD)/gen/sdesk_ui_assets.c

.PHONY: all deps module lib unit test test-integration test-asan demo install clean fuzz \
        check-lognos bench bench-scale bench-rss bench-data browser-deps testhooks

all: module

deps:
	@tools/install-deps.sh

# ---- lib/ -------------------------------------------------------------------
lib/sd_schema.c: $(SQL) tools/embed-sql.sh
	tools/embed-sql.sh $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/libsdesk.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/asan/libsdesk.a: $(LIB_ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^

lib: $(BUILD)/libsdesk.a

# ---- the module (apxs) --------------------------------------------------------
$(WEB_C): $(WEB) tools/embed-web.sh
	@mkdir -p $(dir $@)
	tools/embed-web.sh web > $@.tmp && mv $@.tmp $@

# apxs compiles the glue with httpd's flags and links lib/ statically; only
# sdesk_module is exported (mod_sdesk/exports.map).
$(BUILD)/mod_sdesk.so: $(MOD_SRC) $(MOD_HDR) $(WEB_C) $(BUILD)/libsdesk.a mod_sdesk/exports.map Makefile
	@mkdir -p $(BUILD)/mod
	cp $(MOD_SRC) $(MOD_HDR) $(WEB_C) $(BUILD)/mod/
	cd $(BUILD)/mod && $(APXS) -c -o mod_sdesk.la \
	    -Wc,-std=c99 $(addprefix -Wc$(comma),$(WARN)) -Wc,-Wno-missing-field-initializers -Wc,-Wno-shadow \
	    -I$(CURDIR)/lib $(DEP_CFLAGS) \
	    -Wl,-Wl,--version-script=$(CURDIR)/mod_sdesk/exports.map \
	    $(notdir $(MOD_SRC)) sdesk_ui_assets.c $(CURDIR)/$(BUILD)/libsdesk.a $(DEP_LIBS) $(APR_LIBS) \
	    > apxs.log 2>&1 || { cat apxs.log; exit 1; }
	@grep -E 'warning:' $(BUILD)/mod/apxs.log || true
	cp $(BUILD)/mod/.libs/mod_sdesk.so $@.tmp && mv -f $@.tmp $@   # a running httpd keeps its copy

module: $(BUILD)/mod_sdesk.so

# The companion module of the integration tests (tests/mod_sdesk_testhooks.c):
# uses mod_sdesk.h's optional functions and hooks; loaded by the harness only.
TESTHOOKS := $(BUILD)/mod_sdesk_testhooks.so
$(TESTHOOKS): tests/mod_sdesk_testhooks.c mod_sdesk/mod_sdesk.h Makefile
	@mkdir -p $(BUILD)/testhooks
	cp tests/mod_sdesk_testhooks.c mod_sdesk/mod_sdesk.h $(BUILD)/testhooks/
	cd $(BUILD)/testhooks && $(APXS) -c -o mod_sdesk_testhooks.la \
	    -Wc,-std=c99 $(addprefix -Wc$(comma),$(WARN)) -Wc,-Wno-missing-field-initializers \
	    mod_sdesk_testhooks.c > apxs.log 2>&1 || { cat apxs.log; exit 1; }
	cp $(BUILD)/testhooks/.libs/mod_sdesk_testhooks.so $@.tmp && mv -f $@.tmp $@

testhooks: $(TESTHOOKS)

# The same module built with ASan + UBSan, for `make test-asan` (httpd runs
# it with the sanitizer runtimes preloaded).
$(BUILD)/asan/mod_sdesk.so: $(MOD_SRC) $(MOD_HDR) $(WEB_C) $(BUILD)/asan/libsdesk.a mod_sdesk/exports.map Makefile
	@mkdir -p $(BUILD)/asan/mod
	cp $(MOD_SRC) $(MOD_HDR) $(WEB_C) $(BUILD)/asan/mod/
	cd $(BUILD)/asan/mod && $(APXS) -c -o mod_sdesk.la \
	    -Wc,-std=c99 $(addprefix -Wc$(comma),$(WARN) $(SAN)) -Wc,-Wno-missing-field-initializers \
	    -Wc,-Wno-shadow -Wc,-O1 -I$(CURDIR)/lib $(DEP_CFLAGS) \
	    -Wl,-Wl,--version-script=$(CURDIR)/mod_sdesk/exports.map -Wl,-fsanitize=address,undefined \
	    $(notdir $(MOD_SRC)) sdesk_ui_assets.c $(CURDIR)/$(BUILD)/asan/libsdesk.a $(DEP_LIBS) $(APR_LIBS) \
	    > apxs.log 2>&1 || { cat apxs.log; exit 1; }
	cp $(BUILD)/asan/mod/.libs/mod_sdesk.so $@.tmp && mv -f $@.tmp $@

# ---- tests --------------------------------------------------------------------
$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/asan/libsdesk.a
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(SAN) -Itests/unit $< -o $@ $(BUILD)/asan/libsdesk.a \
	    $(APR_LIBS) $(DEP_LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; fail=0; for t in $(UNIT_BIN); do \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || fail=1; \
	done; exit $$fail

# playwright-core and axe-core for the browser tests, as pinned in the lock file.
BROWSER_DEPS := tests/browser/node_modules/.package-lock.json
$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

browser-deps: $(BROWSER_DEPS)

test-integration: module testhooks browser-deps
	$(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

test: deps
	$(MAKE) WERROR=-Werror check-lognos module testhooks unit browser-deps
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration $(PYTEST_ARGS)
	$(MAKE) test-asan

# The whole end-to-end suite against httpd running the ASan/UBSan module on
# SQLite (about 7 minutes on 2 cores; `make test` runs it). The harness fails
# a test whose error-log lines hold a sanitizer report. ASAN_TESTS narrows it.
ASAN_TESTS ?= tests/integration
test-asan: $(BUILD)/asan/mod_sdesk.so $(TESTHOOKS) browser-deps
	SDESK_ASAN=1 SDESK_MODULE=$(CURDIR)/$(BUILD)/asan/mod_sdesk.so SDESK_BACKENDS=sqlite \
	    $(PYTHON) -m pytest -q -p no:cacheprovider $(ASAN_TESTS) $(PYTEST_ARGS)

# libFuzzer targets of every parser (tests/fuzz/fuzz_*.c), FUZZ_SECONDS each.
fuzz: deps $(BUILD)/libsdesk.a
	tools/fuzz.sh

check-lognos:
	@tools/check-lognos.sh

demo: deps module
	$(PYTHON) tools/demo.py

install: module
	$(APXS) -i -n sdesk $(BUILD)/mod_sdesk.so
	install -d $(DESTDIR)$(HTTPD_INC)
	install -m 644 mod_sdesk/mod_sdesk.h $(DESTDIR)$(HTTPD_INC)/mod_sdesk.h
	@if [ -d /etc/apache2/mods-available ]; then \
	    install -m 644 conf/sdesk.load /etc/apache2/mods-available/sdesk.load; \
	    install -m 644 conf/sdesk.conf /etc/apache2/mods-available/sdesk.conf; \
	    echo "installed; enable with: a2enmod dbd ldap authnz_ldap sdesk"; \
	fi

clean:
	rm -rf $(BUILD) lib/sd_schema.c

# wrk against the real server (slapd + httpd + the module, PostgreSQL too for
# BENCH_BACKEND=pgsql), with ratios to a static file on the same httpd.
# BENCH_BACKEND=sqlite|pgsql BENCH_SECONDS=10 BENCH_TICKETS=100000 BENCH_KI;
# the table also goes to build/bench/results-$(BENCH_BACKEND).md. README: Benchmarks.
BENCH_BACKEND ?= sqlite
export BENCH_BACKEND
N ?= 1000000
bench: deps module $(BUILD)/sd_sqldump
	$(PYTHON) tools/bench.py run

# list/get at 10,000 vs 1,000,000 tickets and the query plans of every
# statement (build/bench/plans-$(BENCH_BACKEND).txt; fails on a full scan).
bench-scale: deps module $(BUILD)/sd_sqldump
	$(PYTHON) tools/bench.py scale

# httpd children's RSS over 1,000,000 mixed requests (BENCH_RSS_REQUESTS).
bench-rss: deps module $(BUILD)/sd_sqldump
	$(PYTHON) tools/bench.py rss

# A generated database of N tickets (build/bench/sdesk-N.db, or for
# BENCH_BACKEND=pgsql a cluster in build/bench/pgsql-N or BENCH_PG_DSN).
bench-data:
	$(PYTHON) tools/bench_data.py $(N)

# Every statement of lib/sd_store_sql.c, for the query-plan check.
$(BUILD)/sd_sqldump: tools/sd_sqldump.c $(BUILD)/libsdesk.a
	$(CC) $(LIB_CFLAGS) $< -o $@ $(BUILD)/libsdesk.a $(APR_LIBS) $(DEP_LIBS)
