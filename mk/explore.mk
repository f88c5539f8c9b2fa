# mk/explore.mk — `dstack-gov explore`: the embedded page, its suite and its benchmark.
#
#   test-explore   tests/explore/run.sh: a devnet with governance set up, the JSON
#                  API over real HTTP, and the page in headless Debian chromium
#                  (npm playwright-core), including a change that appears without reload;
#                  then tests/explore/near.sh: `explore --near` on `devnet up --near`

TEST_SUITES += explore
C_SUITES += explore   # also run under ASan+UBSan by `make test-asan` (dstack-gov is the C part)
.PHONY: test-explore
test-explore: $(BUILD)/dstack-gov $(BUILD)/near-test/nemu-rpc $(BUILD)/near/kms.wasm
	@BUILD=$(BUILD) tests/explore/run.sh

# The page is embedded with .incbin: rebuild explore.o when it changes.
$(BUILD)/obj/cmd/dstack-gov/explore.o: cmd/dstack-gov/web/explore.html
$(BUILD)/obj/cmd/dstack-gov/explore.o: CFLAGS_ALL += -DDG_EXPLORE_HTML='"$(TOP)/cmd/dstack-gov/web/explore.html"'

# bench-explore: N (default 1000) apps on a devnet; snapshot time, reads per block,
# first full page in headless chromium.
.PHONY: bench-explore
bench-explore: $(BUILD)/dstack-gov
	@BUILD=$(BUILD) bench/explore/run.sh
