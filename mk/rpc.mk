# mk/rpc.mk — suite `rpc`: the JSON-RPC client against a real anvil and our
# signatures against Foundry's cast (both from node_modules), in one binary
# $(BUILD)/tests/rpc built from tests/rpc/*.c and the shared test runner.
# The fast, self-contained RPC tests (fake HTTP servers on loopback) live in
# the `unit` suite (tests/unit/test_rpc.c).

RPC_TEST_SRCS := $(sort $(wildcard tests/rpc/*.c)) tests/runner.c
RPC_TEST_OBJS := $(RPC_TEST_SRCS:%.c=$(BUILD)/obj/%.o)

$(BUILD)/tests/rpc: $(RPC_TEST_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $(RPC_TEST_OBJS) $(LIB) $(LDLIBS_ALL)

ALL_TARGETS += $(BUILD)/tests/rpc
TEST_SUITES += rpc
C_SUITES += rpc

.PHONY: test-rpc
test-rpc: $(BUILD)/tests/rpc
	cd tests && DG_TOP=$(TOP) $(abspath $(BUILD))/tests/rpc
