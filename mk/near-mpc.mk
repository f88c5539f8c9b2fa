# mk/near-mpc.mk — suite `near-mpc`: request_kms_root_key end to end on nemu-rpc
# (an emulation of the NEAR runtime, not nearcore) through the emulated MPC
# network: the MPC TEST DOUBLE (contracts/near/test/mpc-test.c) and a responder
# playing the MPC nodes (tests/near/mpc-responder.mjs, ckd.mjs's BLS12-381 math).
# Two attested workers derive the same root key; refusals; the yield timeout.
# About 2 s.

TEST_SUITES += near-mpc
.PHONY: test-near-mpc
test-near-mpc: deps $(BUILD)/near-test/nemu-rpc
	@node tests/near/rootkey-fixture.mjs $(abspath $(BUILD))/near-mpc/fixture
	@node tests/near/mpc-e2e.mjs $(abspath $(BUILD))/near-test/nemu-rpc $(abspath $(BUILD))/near-mpc/fixture
