# mk/attest.mk — lib/attest (TDX quote verification) and its mbed TLS build.
#
# mbed TLS 2.28 comes from Debian's source package (scripts/debian-src.sh, via
# apt-get source: never committed), configured by lib/attest/mbedtls_config.h
# for exactly what the verifier needs, and compiled from the same sources
# natively (here) and for wasm32 (tests/near's attest module).

MBED_DIR := $(BUILD)/src/mbedtls
MBED_STAMP := $(MBED_DIR)/.dg-unpacked
MBED_SRCS := asn1parse asn1write base64 bignum constant_time ecdsa ecp ecp_curves md oid pem \
  pk pk_wrap pkparse platform platform_util sha256 sha512 x509 x509_crt x509_crl
MBED_CPPFLAGS = -I$(MBED_DIR)/include -Ilib/attest -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
MBED_NATIVE_OBJS := $(MBED_SRCS:%=$(BUILD)/obj/mbedtls/%.o)
MBED_NATIVE_LIB := $(BUILD)/libdg_mbedtls.a
MBED_SANFLAGS = $(filter -fsanitize% -fno-sanitize% -fno-omit-frame-pointer,$(CFLAGS_BASE))

$(MBED_STAMP):
	scripts/debian-src.sh mbedtls $(MBED_DIR)

# not our code: no -Werror, but the same sanitizers as the rest of the build
$(BUILD)/obj/mbedtls/%.o: lib/attest/mbedtls_config.h | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(MBED_SANFLAGS) $(MBED_CPPFLAGS) -c $(MBED_DIR)/library/$*.c -o $@

$(MBED_NATIVE_LIB): $(MBED_NATIVE_OBJS)
	rm -f $@
	ar rcs $@ $^

# lib/attest reads the NEAR contracts' freestanding JSON reader (it runs in
# the KMS contract too) and mbed TLS.
LIB_SRCS += contracts/near/json.c
# (in CPPFLAGS_BASE, so make lint's clang-tidy sees the same headers)
CPPFLAGS_BASE += -I$(MBED_DIR)/include -Ilib/attest -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
$(BUILD)/obj/lib/attest/%.o: | $(MBED_STAMP)
lint: | $(MBED_STAMP)
LDLIBS_ALL += $(MBED_NATIVE_LIB)
$(LIB): | $(MBED_NATIVE_LIB)

# Suite attest: `dstack-gov attest verify` on the real vectors and on a PKI of
# our own (openssl) with one mutation per check, cross-checked with
# @phala/dcap-qvl (tests/attest/run.mjs).
TEST_SUITES += attest
.PHONY: test-attest
test-attest: $(BUILD)/dstack-gov
	@node tests/attest/run.mjs $(abspath $(BUILD))/dstack-gov

# ---------------------------------------------------------------- wasm32
# lib/attest for NEAR contracts: the same sources, freestanding MVP wasm32,
# mbed TLS with DG_MBEDTLS_WASM (its buffer allocator over a static arena) and
# the few libc functions of lib/attest/wasm. A contract links
# $(ATTEST_WASM_OBJS) and compiles with $(ATTEST_WASM_CPPFLAGS).
ATTEST_WASM_DIR := $(BUILD)/wasm/attest
ATTEST_WASM_CPPFLAGS = -Iinclude -Ilib/attest/wasm/include -I$(MBED_DIR)/include -Ilib/attest \
  -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -DDG_MBEDTLS_WASM
ATTEST_WASM_CFLAGS := --target=wasm32 -mcpu=mvp -Oz -std=c17 -nostdlib -ffreestanding \
  -fvisibility=hidden -ffunction-sections -fdata-sections
ATTEST_LIB_SRCS := common quote pki verify eventlog intel_root
ATTEST_WASM_OBJS := $(ATTEST_LIB_SRCS:%=$(ATTEST_WASM_DIR)/%.o) $(ATTEST_WASM_DIR)/libc.o \
  $(ATTEST_WASM_DIR)/json.o $(MBED_SRCS:%=$(ATTEST_WASM_DIR)/mbedtls/%.o) \
  $(ATTEST_WASM_DIR)/mbedtls/memory_buffer_alloc.o

$(ATTEST_WASM_DIR)/%.o: lib/attest/%.c $(wildcard lib/attest/*.h include/dstackgov/attest.h) | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -c $< -o $@
$(ATTEST_WASM_DIR)/libc.o: lib/attest/wasm/libc.c | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -c $< -o $@
$(ATTEST_WASM_DIR)/json.o: contracts/near/json.c contracts/near/json.h
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror -c $< -o $@
$(ATTEST_WASM_DIR)/mbedtls/%.o: lib/attest/mbedtls_config.h | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -w $(ATTEST_WASM_CPPFLAGS) -c $(MBED_DIR)/library/$*.c -o $@

# The test contract (tests/near/wasm/attest.c): known answers in nemu.
ATTEST_TEST_WASM := $(BUILD)/near/attest-test.wasm
$(ATTEST_TEST_WASM): tests/near/wasm/attest.c $(ATTEST_WASM_OBJS) contracts/near/rt.c contracts/near/text.c
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -Icontracts/near \
	  -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all -Wl,-z,stack-size=65536 \
	  -o $@.raw tests/near/wasm/attest.c contracts/near/rt.c contracts/near/text.c \
	  $(ATTEST_WASM_OBJS) $(NEAR_RT_LIB)
	wasm-opt -Oz --mvp-features --strip-debug --strip-producers $@.raw -o $@.tmp
	contracts/near/check-wasm.sh $@.tmp
	mv $@.tmp $@
# nemu runs it (mk/near-test.mk picks these up)
NT_EXTRA_MODULES += attest=$(ATTEST_TEST_WASM)
NT_EXTRA_TESTS += tests/near/test_attest.c
