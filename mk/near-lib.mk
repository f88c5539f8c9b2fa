# mk/near-lib.mk — suite `near-lib`: lib/near against nemu-rpc, the local NEAR
# runtime emulation of tests/near (real contract wasm; not nearcore). One
# binary, started from tests/ like the unit runner; nemu-rpc is a child
# process on a free loopback port, stopped by PID.

NL_SRCS := $(sort $(wildcard tests/near-lib/*.c)) tests/runner.c
NL_OBJS := $(NL_SRCS:%.c=$(BUILD)/obj/%.o)
NL_BIN := $(BUILD)/tests/near-lib

$(NL_BIN): $(NL_OBJS) $(BUILD)/libdstackgov.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $(NL_OBJS) $(BUILD)/libdstackgov.a $(LDLIBS_ALL)

ALL_TARGETS += $(NL_BIN)
TEST_SUITES += near-lib
C_SUITES += near-lib

.PHONY: test-near-lib
test-near-lib: $(NL_BIN) $(BUILD)/near-test/nemu-rpc $(BUILD)/near/kms.wasm
	cd tests && NEMU_RPC=$(abspath $(BUILD)/near-test/nemu-rpc) \
	  NEAR_KMS_WASM=$(abspath $(BUILD)/near/kms.wasm) $(abspath $(NL_BIN))

# Suite near-lib-xcheck: signed transactions byte for byte against near-api-js
# (fixed cases for every action of the flow, and random ones).
NL_TXSIGN := $(BUILD)/tests/near-txsign
$(NL_TXSIGN): $(BUILD)/obj/tests/near-lib/xcheck/txsign.o $(BUILD)/libdstackgov.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(BUILD)/libdstackgov.a $(LDLIBS_ALL)
ALL_TARGETS += $(NL_TXSIGN)
TEST_SUITES += near-lib-xcheck
.PHONY: test-near-lib-xcheck
test-near-lib-xcheck: $(NL_TXSIGN)
	@node tests/near-lib/xcheck/xcheck.mjs $(abspath $(NL_TXSIGN)) 300
