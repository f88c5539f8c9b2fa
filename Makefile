# dstack-gov — the single entry point.
#
#   make            build everything (library, programs, contracts, wasm)
#   make test       install deps, build, run every test suite; ends with "N passed, N failed"
#   make demo       the governance flow on a local chain it starts itself
#   make deps       idempotent install of Debian and npm dependencies
#   make test-asan  the C test suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan  unit tests and the dstack-authd suite under ThreadSanitizer
#   make fuzz       build every libFuzzer target and run each briefly (FUZZ_SECONDS)
#   make lint       formatting (.clang-format), clang-tidy and cppcheck on the C sources
#   make format     apply .clang-format to every tracked C file
#   make clean      remove build outputs
#
# Each area adds its own rules in mk/<area>.mk (auto-included): it appends test
# suite names to TEST_SUITES (each with a `test-<name>` target that prints a
# closing "N passed, N failed" line) and build products to ALL_TARGETS. They are
# included before the program and unit-test rules: use literal paths such as
# $(BUILD)/dstack-gov and $(LIB) in prerequisites. Generated library sources go in
# GEN_LIB_SRCS, generated headers in GEN_HEADERS.

.DEFAULT_GOAL := all
SHELL := /bin/bash
TOP := $(CURDIR)

BUILD ?= build
CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif
SAN ?=
OPT ?= -O2

# libcurl: its header only (lib/rpc/curl_dl.c loads it with dlopen for https://
# endpoints, so programs talking to http:// endpoints never map it).
PKGS := libsecp256k1 libsodium nettle jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS_BASE := -std=c17 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) -g $(OPT) -fno-strict-aliasing
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=address,undefined
endif
CPPFLAGS_BASE := -Iinclude -I$(BUILD)/gen
CFLAGS_ALL = $(CFLAGS_BASE) $(CPPFLAGS_BASE) $(PKG_CFLAGS) -MMD -MP
LDLIBS_ALL = $(PKG_LIBS) -ldl -lpthread -lm

NODE_BIN := $(TOP)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)

ALL_TARGETS :=
TEST_SUITES :=
GEN_HEADERS :=

# ---------------------------------------------------------------- library
LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB := $(BUILD)/libdstackgov.a
# Generated C sources compiled into the library (areas append, e.g. $(BUILD)/gen/x.c).
GEN_LIB_SRCS :=

# ---------------------------------------------------------------- areas
include $(sort $(wildcard mk/*.mk))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(GEN_LIB_SRCS:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(BUILD)/.dirs
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Order-only on GEN_HEADERS: any object (test programs too) may include a generated header.
$(BUILD)/obj/%.o: %.c | $(BUILD)/.dirs $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/.dirs:
	@mkdir -p $(BUILD)/gen $(BUILD)/obj $(BUILD)/tests
	@touch $@

# ---------------------------------------------------------------- programs
# Every directory cmd/<prog>/ with C sources becomes $(BUILD)/<prog>, linked
# with $(<prog>_LDLIBS) when an area sets it, else $(LDLIBS_ALL).
PROGS := $(notdir $(patsubst %/,%,$(dir $(wildcard cmd/*/*.c))))
PROGS := $(sort $(PROGS))
define prog_rule
$(1)_SRCS := $$(sort $$(wildcard cmd/$(1)/*.c))
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/$(1): $$($(1)_OBJS) $(LIB)
	$(CC) $(LDFLAGS_SAN) -o $$@ $$($(1)_OBJS) $(LIB) $$(or $$($(1)_LDLIBS),$(LDLIBS_ALL))
ALL_TARGETS += $(BUILD)/$(1)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# ---------------------------------------------------------------- C unit tests
# tests/unit/*.c register cases with TEST() from tests/test.h; one runner binary.
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c)) tests/runner.c
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(BUILD)/tests/unit
$(UNIT_BIN): $(UNIT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $(UNIT_OBJS) $(LIB) $(LDLIBS_ALL)

TEST_SUITES += unit
.PHONY: test-unit
test-unit: $(UNIT_BIN)
	cd tests && $(abspath $(UNIT_BIN))
	@# run away from tests/data, the runner must refuse (exit 2) with a reason, not crash
	@cd / && out=$$(env -u DG_TEST_DATA $(abspath $(UNIT_BIN)) runner_unhex 2>&1); rc=$$?; \
	  if [ $$rc -eq 2 ] && echo "$$out" | grep -q 'test data directory'; then \
	    echo "unit runner without its data: refused (exit 2)"; \
	  else echo "unit runner without its data: exit $$rc, expected 2: $$out"; exit 1; fi

# GEN_HEADERS (from areas) must exist before any C object is compiled.
$(LIB_OBJS) $(UNIT_OBJS) $(foreach p,$(PROGS),$($(p)_OBJS)): | $(GEN_HEADERS)

ALL_TARGETS += $(LIB) $(UNIT_BIN)

# ---------------------------------------------------------------- top-level goals
.PHONY: all deps test test-asan test-tsan demo fuzz lint format format-check clean build-only
all: deps
	@$(MAKE) --no-print-directory build-only

build-only: $(ALL_TARGETS)

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory build-only
	@scripts/run-tests.sh $(TEST_SUITES)

# Sanitizer build: separate tree so the normal build stays as it is.
ASAN_SUITES ?= $(filter unit $(C_SUITES),$(TEST_SUITES))
test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 build-only
	@BUILD=build-asan SAN=1 OPT=-O1 ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  scripts/run-tests.sh $(ASAN_SUITES)

# ThreadSanitizer: unit tests and the daemon's suite (scripts/tsan-authd.sh).
test-tsan: deps
	@scripts/tsan-authd.sh all

demo: deps
	@$(MAKE) --no-print-directory build-only
	@scripts/demo.sh

FUZZ_SECONDS ?= 10
# FUZZ_TARGETS: a subset (fuzz_abi fuzz_rlp ...); the generated headers first,
# which lib/ includes (a fresh checkout has none).
fuzz: deps
	@$(MAKE) --no-print-directory $(GEN_HEADERS)
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

LINT_SRCS = $(LIB_SRCS) $(foreach p,$(PROGS),$($(p)_SRCS))
# Every tracked C source and header must match .clang-format (seeds are data).
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^fuzz/seeds/')
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRCS) && echo "format: $(words $(FORMAT_SRCS)) files match .clang-format"
lint: deps format-check
	clang-tidy --quiet $(LINT_SRCS) -- $(CFLAGS_BASE) $(CPPFLAGS_BASE) $(PKG_CFLAGS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	  --suppress=missingIncludeSystem -Iinclude $(LINT_SRCS)

clean:
	rm -rf build build-asan build-fuzz build-tsan

# every area's dependency files (objects outside $(BUILD)/obj too, e.g. near-test/obj)
-include $(shell find $(BUILD) -type f -name '*.d' -path '*/obj/*' 2>/dev/null)
