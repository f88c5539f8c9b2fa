# mk/near-test.mk — suite `near`: the local NEAR runtime emulation (tests/near/emu.c)
# and the NEAR contract tests, in one binary $(BUILD)/near-test/near-tests.
#
# Every wasm module the tests run (the probe test contract, and the KMS/App
# contracts when contracts/near exists) is turned into C by wasm2c with its own
# module name; gen-registry.sh lists them with their sha256 so a DeployContract
# of the same bytes finds the compiled module. Generated C is compiled with -O1
# and without -Werror (it is not our code). This file is included before
# mk/near.mk, so it names the contract outputs by literal path.

NT_DIR := $(BUILD)/near-test
NT_GEN := $(NT_DIR)/gen
NT_WASM_DIR := $(NT_DIR)/wasm
WASM2C_RT := /usr/share/wabt/wasm2c
NT_BUILTINS := $(firstword $(wildcard /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a))
NT_WASM_CFLAGS := --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -Wl,--no-entry \
  -Wl,--export-dynamic -Wall -Wextra -Werror

# name=path pairs of the modules in the registry
NT_MODULES := probe=$(NT_WASM_DIR)/probe.wasm
NT_TEST_SRCS := tests/near/test_emu.c tests/near/test_rpc.c
# other areas' modules and tests (set by mk files included before this one)
NT_MODULES += $(NT_EXTRA_MODULES)
NT_TEST_SRCS += $(NT_EXTRA_TESTS)
ifneq ($(and $(wildcard contracts/near/kms.c),$(wildcard mk/near.mk)),)
NT_MODULES += kms=$(BUILD)/near/kms.wasm app=$(BUILD)/near/app.wasm kmstest=$(BUILD)/near/kms-test.wasm \
  mpctest=$(BUILD)/near/mpc-test.wasm
NT_TEST_SRCS += tests/near/test_kms.c tests/near/test_app.c tests/near/test_rootkey.c
NT_CFLAGS_CONTRACTS := -DNT_HAVE_CONTRACTS=1
endif
NT_NAMES := $(foreach m,$(NT_MODULES),$(firstword $(subst =, ,$(m))))
NT_WASMS := $(foreach m,$(NT_MODULES),$(word 2,$(subst =, ,$(m))))

NT_SANFLAGS := $(filter -fsanitize% -fno-sanitize% -fno-omit-frame-pointer,$(CFLAGS_BASE))
NT_RT_DEFS := -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 -DWASM_RT_MAX_CALL_STACK_DEPTH=4000
NT_GEN_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g0 -w $(NT_RT_DEFS) $(NT_SANFLAGS) -I$(WASM2C_RT) -I$(NT_GEN)
# -MMD: an object is rebuilt when a library header it includes changes (nemu-rpc's
# rpc_http.o kept an old dg_httpd_opts layout after lib/httpd grew a field).
NT_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(NT_RT_DEFS) $(NT_CFLAGS_CONTRACTS) \
  -Iinclude -Itests -Itests/near -I$(WASM2C_RT) -I$(NT_GEN) -MMD -MP

$(NT_WASM_DIR)/probe.wasm: tests/near/wasm/probe.c
	@mkdir -p $(dir $@)
	clang $(NT_WASM_CFLAGS) -o $@ $< $(NT_BUILTINS)

# NEAR accepts MVP wasm (plus sign-extension and mutable globals): a module using
# any other feature fails here, as NEAR's PrepareError(Deserialization) would.
# (wasm2c itself cannot switch these off, so wasm-validate checks first.)
NT_WASM_FEATURES := --disable-bulk-memory --disable-reference-types --disable-simd \
  --disable-multi-value --disable-saturating-float-to-int

# one wasm2c translation per module: mod_<name>.c/.h of a metered copy
# (tests/near/meter.mjs: a call of env.nemu_tick(n) per straight-line segment
# of n instructions, so nemu charges the exact instruction count)
define nt_mod_rule
$(NT_GEN)/mod_$(1).c: $(2) mk/near-test.mk tests/near/meter.mjs
	@mkdir -p $(NT_GEN)
	wasm-validate $(NT_WASM_FEATURES) $(2)
	wasm2wat --generate-names $(2) -o $(NT_GEN)/mod_$(1).wat
	node tests/near/meter.mjs $(NT_GEN)/mod_$(1).wat $(NT_GEN)/mod_$(1).metered.wat
	wat2wasm $(NT_GEN)/mod_$(1).metered.wat -o $(NT_GEN)/mod_$(1).metered.wasm
	wasm2c -n $(1) $(NT_GEN)/mod_$(1).metered.wasm -o $$@
$(NT_GEN)/mod_$(1).h: $(NT_GEN)/mod_$(1).c
$(NT_DIR)/obj/mod_$(1).o: $(NT_GEN)/mod_$(1).c
	@mkdir -p $(NT_DIR)/obj
	$(CC) $(NT_GEN_CFLAGS) -c $$< -o $$@
endef
$(foreach m,$(NT_MODULES),$(eval $(call nt_mod_rule,$(firstword $(subst =, ,$(m))),$(word 2,$(subst =, ,$(m))))))

$(NT_GEN)/registry.c: tests/near/gen-registry.sh $(NT_WASMS) $(foreach n,$(NT_NAMES),$(NT_GEN)/mod_$(n).c)
	tests/near/gen-registry.sh $@ $(NT_MODULES)

$(NT_DIR)/obj/registry.o: $(NT_GEN)/registry.c tests/near/host.h tests/near/emu.h
	@mkdir -p $(NT_DIR)/obj
	$(CC) $(NT_GEN_CFLAGS) -Itests/near -c $< -o $@

# emu.c provides the linear-memory functions (NEAR's env.memory); rename wabt's.
$(NT_DIR)/obj/wasm-rt-impl.o: $(WASM2C_RT)/wasm-rt-impl.c mk/near-test.mk
	@mkdir -p $(NT_DIR)/obj
	$(CC) $(NT_GEN_CFLAGS) -Dwasm_rt_allocate_memory=wabt_allocate_memory_unused \
	  -Dwasm_rt_grow_memory=wabt_grow_memory_unused -Dwasm_rt_free_memory=wabt_free_memory_unused \
	  -c $< -o $@

$(NT_DIR)/obj/%.o: tests/near/%.c $(wildcard tests/near/*.h) tests/test.h | $(NT_GEN)/registry.c
	@mkdir -p $(NT_DIR)/obj
	$(CC) $(NT_CFLAGS) -c $< -o $@

$(NT_DIR)/obj/runner.o: tests/runner.c tests/test.h
	@mkdir -p $(NT_DIR)/obj
	$(CC) $(CFLAGS_BASE) -Itests -c $< -o $@

NT_EMU_OBJS := $(NT_DIR)/obj/emu.o $(NT_DIR)/obj/registry.o $(NT_DIR)/obj/wasm-rt-impl.o \
  $(NT_DIR)/obj/rpc.o $(NT_DIR)/obj/rpc_http.o $(foreach n,$(NT_NAMES),$(NT_DIR)/obj/mod_$(n).o)
NT_OBJS := $(NT_EMU_OBJS) $(NT_DIR)/obj/runner.o $(patsubst tests/near/%.c,$(NT_DIR)/obj/%.o,$(NT_TEST_SRCS))

# rpc_http.c serves HTTP with lib/httpd, hence $(LIB).
# tests/near/test_rpc.c is a client of nemu-rpc written with libcurl: only
# this binary links it (the library loads libcurl at run time, see Makefile).
$(NT_DIR)/near-tests: $(NT_OBJS) $(LIB)
	$(CC) $(LDFLAGS_SAN) -o $@ $(NT_OBJS) $(LIB) $(PKG_LIBS) $(shell pkg-config --libs libcurl) -lpthread -lm

# nemu-rpc: the emulator behind NEAR JSON-RPC on loopback, for tests of NEAR clients.
$(NT_DIR)/nemu-rpc: $(NT_EMU_OBJS) $(NT_DIR)/obj/rpc_main.o $(LIB)
	$(CC) $(LDFLAGS_SAN) -o $@ $(NT_EMU_OBJS) $(NT_DIR)/obj/rpc_main.o $(LIB) $(PKG_LIBS) -lpthread -lm

ALL_TARGETS += $(NT_DIR)/near-tests $(NT_DIR)/nemu-rpc
TEST_SUITES += near

.PHONY: test-near
# (test_rootkey.c's quotes: signed by the attest suite's test PKI, made fresh)
test-near: $(NT_DIR)/near-tests
	@node tests/near/rootkey-fixture.mjs $(abspath $(NT_DIR))/rootkey
	@NT_ROOTKEY=$(abspath $(NT_DIR))/rootkey $(abspath $(NT_DIR))/near-tests

# Runs clean under ASan+UBSan (make test-asan).
C_SUITES += near

# Suite near-xcheck: nemu-rpc against near-api-js (an independent NEAR encoder,
# signer and RPC client): borsh transactions, signatures, nonces, reply shapes.
TEST_SUITES += near-xcheck
.PHONY: test-near-xcheck
test-near-xcheck: $(NT_DIR)/nemu-rpc $(BUILD)/near/kms.wasm
	@node tests/near/xcheck.mjs $(abspath $(NT_DIR))/nemu-rpc $(abspath $(BUILD))/near
