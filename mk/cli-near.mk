# mk/cli-near.mk — suite `cli-near`: every `dstack-gov near` command, alias and
# error class, --json, and the walkthrough of docs/near.md, on the local NEAR chain
# (`devnet up --near`: nemu-rpc, an emulation of the NEAR runtime, not nearcore).

TEST_SUITES += cli-near
.PHONY: test-cli-near
test-cli-near: $(BUILD)/dstack-gov $(BUILD)/near-test/nemu-rpc $(BUILD)/near/kms.wasm
	@BUILD=$(BUILD) tests/cli-near/run.sh

# bench-near-cli: one add-os-image, sent and final, dstack-gov vs near-api-js
# under Node on the same nemu-rpc; the last line gives both medians and ratio R.
.PHONY: bench-near-cli
bench-near-cli: $(BUILD)/dstack-gov $(BUILD)/near-test/nemu-rpc $(BUILD)/near/kms.wasm
	@BUILD=$(BUILD) bench/near-cli/run.sh
