# mk/near-ckd.mk — suite `near-ckd`: tests/near/ckd.mjs, NEAR MPC confidential key
# derivation (the emulated MPC network's answer and the KMS side's root key) with
# @noble/curves' BLS12-381, checked against near/mpc's published app ids, RFC 9380's
# hash-to-G1 vectors and a direct recomputation (tests/near/ckd-test.mjs). Seconds.
# bench-ckd: the time of each operation (bench/ckd/run.mjs).

TEST_SUITES += near-ckd

.PHONY: test-near-ckd
test-near-ckd: deps
	@node tests/near/ckd-test.mjs

.PHONY: bench-ckd
bench-ckd: deps
	@node bench/ckd/run.mjs
