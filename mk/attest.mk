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
