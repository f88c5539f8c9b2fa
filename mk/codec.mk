# mk/codec.mk — suite `codec-xcheck`: lib/codec (hex, u256, RLP, ABI) and keccak
# cross-checked against Foundry's `cast`, an independent implementation, on
# random nested inputs (tests/xcheck/codec_xcheck.c; seed printed, replay with
# DG_XCHECK_SEED). The codec unit tests themselves run in the `unit` suite.

CODEC_XCHECK := $(BUILD)/tests/codec-xcheck
CODEC_CAST := $(TOP)/node_modules/@foundry-rs/cast-linux-amd64/bin/cast

$(CODEC_XCHECK): $(BUILD)/obj/tests/xcheck/codec_xcheck.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(LIB) $(LDLIBS_ALL)

ALL_TARGETS += $(CODEC_XCHECK)
TEST_SUITES += codec-xcheck
C_SUITES += codec-xcheck

.PHONY: test-codec-xcheck
test-codec-xcheck: $(CODEC_XCHECK)
	@$(CODEC_XCHECK) $(CODEC_CAST)

# Benchmark: make bench-abi (dg_abi_decode calls per second, bench/abi/rate.c).
$(BUILD)/bench/abi-rate: bench/abi/rate.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)
ALL_TARGETS += $(BUILD)/bench/abi-rate
.PHONY: bench-abi
bench-abi: $(BUILD)/bench/abi-rate
	@$(BUILD)/bench/abi-rate
