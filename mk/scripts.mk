# mk/scripts.mk — suite `scripts`: how the runner scripts judge a test suite
# (scripts/suite-lib.sh, used by scripts/tsan-authd.sh and scripts/run-tests.sh).

TEST_SUITES += scripts

.PHONY: test-scripts
test-scripts:
	@bash tests/scripts/run.sh
