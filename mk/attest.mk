# mk/attest.mk — lib/attest (TDX quote verification) and its mbed TLS build.
#
# mbed TLS 2.28 (X.509, CRL and ASN.1 parsing, SHA-2) and BearSSL 0.6 (ECDSA
# P-256: its ec_p256_m31 costs a quarter of mbed TLS's ECP in wasm) come from
# Debian's source packages (scripts/debian-src.sh, via apt-get source: never
# committed); mbed TLS is configured by lib/attest/mbedtls_config.h for
# exactly what the verifier needs. Both are compiled from the same sources
# natively (here) and for wasm32 (below).

MBED_DIR := $(BUILD)/src/mbedtls
MBED_STAMP := $(MBED_DIR)/.dg-unpacked
MBED_SRCS := asn1parse asn1write base64 bignum constant_time ecdsa ecp ecp_curves md oid pem \
  pk pk_wrap pkparse platform platform_util sha256 sha512 x509 x509_crt x509_crl
MBED_CPPFLAGS = -I$(MBED_DIR)/include -Ilib/attest -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
BR_DIR := $(BUILD)/src/bearssl
BR_STAMP := $(BR_DIR)/.dg-unpacked
# BearSSL's P-256 ECDSA verifier and what it calls (paths under src/)
BR_SRCS := ec/ec_p256_m31 ec/ec_secp256r1 ec/ec_secp384r1 ec/ec_secp521r1 ec/ecdsa_i31_vrfy_raw \
  ec/ecdsa_i31_vrfy_asn1 ec/ecdsa_i31_bits ec/ecdsa_atr codec/ccopy codec/dec32be codec/enc32be \
  int/i32_div32 int/i31_add int/i31_bitlen int/i31_decmod int/i31_decode int/i31_decred \
  int/i31_encode int/i31_fmont int/i31_iszero int/i31_modpow int/i31_montmul int/i31_muladd \
  int/i31_ninv31 int/i31_reduce int/i31_rshift int/i31_sub int/i31_tmont
MBED_NATIVE_OBJS := $(MBED_SRCS:%=$(BUILD)/obj/mbedtls/%.o) $(BR_SRCS:%=$(BUILD)/obj/bearssl/%.o)
MBED_NATIVE_LIB := $(BUILD)/libdg_mbedtls.a
MBED_SANFLAGS = $(filter -fsanitize% -fno-sanitize% -fno-omit-frame-pointer,$(CFLAGS_BASE))

$(MBED_STAMP):
	scripts/debian-src.sh mbedtls $(MBED_DIR)
$(BR_STAMP):
	scripts/debian-src.sh bearssl $(BR_DIR)

# not our code: no -Werror, but the same sanitizers as the rest of the build
$(BUILD)/obj/mbedtls/%.o: lib/attest/mbedtls_config.h | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(MBED_SANFLAGS) $(MBED_CPPFLAGS) -c $(MBED_DIR)/library/$*.c -o $@

$(BUILD)/obj/bearssl/%.o: | $(BR_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(MBED_SANFLAGS) -I$(BR_DIR)/inc -I$(BR_DIR)/src -c $(BR_DIR)/src/$*.c -o $@

$(MBED_NATIVE_LIB): $(MBED_NATIVE_OBJS)
	rm -f $@
	ar rcs $@ $^

# lib/attest uses the NEAR contracts' freestanding JSON reader and text
# helpers (it runs in the KMS contract too), mbed TLS and BearSSL.
LIB_SRCS += contracts/near/json.c contracts/near/text.c
# (in CPPFLAGS_BASE, so make lint's clang-tidy sees the same headers)
CPPFLAGS_BASE += -I$(MBED_DIR)/include -I$(BR_DIR)/inc -Ilib/attest \
  -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
# (explicit targets: a pattern rule without a recipe would add nothing)
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/attest/*.c)): | $(MBED_STAMP) $(BR_STAMP)
lint: | $(MBED_STAMP) $(BR_STAMP)
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
ATTEST_WASM_CPPFLAGS = -Iinclude -Ilib/attest/wasm/include -I$(MBED_DIR)/include -I$(BR_DIR)/inc -Ilib/attest \
  -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -DDG_MBEDTLS_WASM
ATTEST_WASM_CFLAGS := --target=wasm32 -mcpu=mvp -Oz -std=c17 -nostdlib -ffreestanding \
  -fvisibility=hidden -ffunction-sections -fdata-sections
ATTEST_LIB_SRCS := common quote pki verify eventlog intel_root
# (a contract links contracts/near/json.c and text.c itself: ATTEST_WASM_NEAR_OBJS
# are the same for modules without the contracts' runtime)
ATTEST_WASM_NEAR_OBJS := $(ATTEST_WASM_DIR)/json.o $(ATTEST_WASM_DIR)/text.o
ATTEST_WASM_OBJS := $(ATTEST_LIB_SRCS:%=$(ATTEST_WASM_DIR)/%.o) $(ATTEST_WASM_DIR)/libc.o \
  $(MBED_SRCS:%=$(ATTEST_WASM_DIR)/mbedtls/%.o) \
  $(ATTEST_WASM_DIR)/mbedtls/memory_buffer_alloc.o $(BR_SRCS:%=$(ATTEST_WASM_DIR)/bearssl/%.o)

$(ATTEST_WASM_DIR)/%.o: lib/attest/%.c $(wildcard lib/attest/*.h include/dstackgov/attest.h) | $(MBED_STAMP) $(BR_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -c $< -o $@
$(ATTEST_WASM_DIR)/libc.o: lib/attest/wasm/libc.c | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -c $< -o $@
$(ATTEST_WASM_DIR)/json.o $(ATTEST_WASM_DIR)/text.o: $(ATTEST_WASM_DIR)/%.o: contracts/near/%.c contracts/near/%.h
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror -c $< -o $@
$(ATTEST_WASM_DIR)/mbedtls/%.o: lib/attest/mbedtls_config.h | $(MBED_STAMP)
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -w $(ATTEST_WASM_CPPFLAGS) -c $(MBED_DIR)/library/$*.c -o $@
# BearSSL's arithmetic is the hot path: -O2, not -Oz
$(ATTEST_WASM_DIR)/bearssl/%.o: | $(BR_STAMP)
	@mkdir -p $(dir $@)
	clang $(subst -Oz,-O2,$(ATTEST_WASM_CFLAGS)) -w -Ilib/attest/wasm/include -I$(BR_DIR)/inc \
	  -I$(BR_DIR)/src -c $(BR_DIR)/src/$*.c -o $@

# The test contract (tests/near/wasm/attest.c): known answers in nemu.
ATTEST_TEST_WASM := $(BUILD)/near/attest-test.wasm
$(ATTEST_TEST_WASM): tests/near/wasm/attest.c $(ATTEST_WASM_OBJS) $(ATTEST_WASM_NEAR_OBJS) contracts/near/rt.c
	@mkdir -p $(dir $@)
	clang $(ATTEST_WASM_CFLAGS) -Wall -Wextra -Werror $(ATTEST_WASM_CPPFLAGS) -Icontracts/near \
	  -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all -Wl,-z,stack-size=65536 \
	  -o $@.raw tests/near/wasm/attest.c contracts/near/rt.c \
	  $(ATTEST_WASM_OBJS) $(ATTEST_WASM_NEAR_OBJS) $(NEAR_RT_LIB)
	wasm-opt -Oz --mvp-features --strip-debug --strip-producers $@.raw -o $@.tmp
	contracts/near/check-wasm.sh $@.tmp
	mv $@.tmp $@
# nemu runs it (mk/near-test.mk picks these up)
NT_EXTRA_MODULES += attest=$(ATTEST_TEST_WASM)
NT_EXTRA_TESTS += tests/near/test_attest.c

# scripts/fuzz.sh asks for the BearSSL source list
.PHONY: print-BR_SRCS
print-BR_SRCS:
	@echo $(BR_SRCS)

# Benchmarks: bench/attest/run (native verifications per second) and
# bench/attest/wasm-gas (wasm instruction count and estimated NEAR gas).
$(BUILD)/bench/attest-rate: bench/attest/rate.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)
ALL_TARGETS += $(BUILD)/bench/attest-rate
.PHONY: bench-attest
bench-attest:
	@BUILD=$(BUILD) bench/attest/run
	@BUILD=$(BUILD) bench/attest/wasm-gas
# make test-asan runs it too: the CLI and the verifier under ASan+UBSan
C_SUITES += attest
