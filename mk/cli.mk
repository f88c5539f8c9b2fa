# mk/cli.mk — the dstack-gov CLI: integration suite on anvil and the benchmark.
#
#   test-cli    tests/cli/run.sh: every command, alias and error class on a devnet
#   bench-cli   bench/cli: one transaction, dstack-gov vs `cast send`, medians + ratio

TEST_SUITES += cli
C_SUITES += cli   # also run under ASan+UBSan by `make test-asan`
.PHONY: test-cli bench-cli
test-cli: $(BUILD)/dstack-gov
	@BUILD=$(BUILD) tests/cli/run.sh

bench-cli: $(BUILD)/dstack-gov
	@BUILD=$(BUILD) bench/cli

# devnet finds anvil in the source tree's node_modules even when BUILD is elsewhere.
$(BUILD)/obj/cmd/dstack-gov/devnet.o: CFLAGS_ALL += -DDG_SOURCE_DIR='"$(TOP)"'

# cli-safe: the KMS and an app governed through a real Safe 1.4.1 and a real
# OpenZeppelin TimelockController on anvil (tests/cli/safe.sh).
TEST_SUITES += cli-safe
C_SUITES += cli-safe
.PHONY: test-cli-safe
test-cli-safe: $(BUILD)/dstack-gov $(ETH_BUILT)
	@BUILD=$(BUILD) tests/cli/safe.sh
