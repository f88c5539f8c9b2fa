# mk/cli-near.mk — suite `cli-near`: every `dstack-gov near` command, alias and
# error class, --json, and the walkthrough of docs/near.md, on the local NEAR chain
# (`devnet up --near`: nemu-rpc, an emulation of the NEAR runtime, not nearcore).

TEST_SUITES += cli-near
.PHONY: test-cli-near
test-cli-near: $(BUILD)/dstack-gov $(BUILD)/near-test/nemu-rpc $(BUILD)/near/kms.wasm
	@BUILD=$(BUILD) tests/cli-near/run.sh
