# mk/authd.mk — dstack-authd, the boot-authorization webhook.
#
#   test-authd    the daemon over real HTTP on loopback against anvil with the
#                 real contracts, plus fake RPC endpoints that fail (tests/authd)
#   test-authd-near  the same for --backend near against nemu-rpc (the local NEAR
#                 runtime emulation running the real contract wasm; tests/authd/near.js)
#   bench-authd   wrk figures: cache hits, misses against anvil, RSS, start time
#   test-bench-scripts  the benchmark's wrk script itself: two threads in miss mode
#                 send no duplicate bodies (tests/bench/post-lua.js, ~1 s)
#   soak          mixed load for SOAK_SECONDS (default 60) with a governance
#                 change every SOAK_CHANGE_SECONDS (default 60); fails on a wrong
#                 allow, a flip later than 1 s, RSS growth (tests/authd/soak.js).
#                 Not part of `make test`.
#
# The suite runs the binary of $(BUILD), so `make test-asan` runs it under
# AddressSanitizer too (it is listed in C_SUITES).

# jansson, nettle and libsodium (lib/near's base64) are linked statically into
# the daemon (Debian's .a from the same -dev packages): three fewer shared
# objects to map and relocate at every start, ~0.5 ms of the 8 ms start budget (docs/authd.md, Performance).
# libc stays shared (getaddrinfo, and dlopen of libcurl for https:// RPC).
dstack-authd_LDLIBS = -Wl,-Bstatic -ljansson -lnettle -lsodium -Wl,-Bdynamic -ldl -lpthread -lm

TEST_SUITES += authd authd-near
C_SUITES += authd authd-near

TEST_SUITES += bench-scripts
.PHONY: test-authd test-authd-near bench-authd demo-authd soak test-bench-scripts
test-bench-scripts:
	@node tests/bench/post-lua.js

test-authd: $(BUILD)/dstack-authd $(BUILD)/gen/dg_contracts_gen.c
	@BUILD=$(BUILD) node tests/authd/run.js

test-authd-near: $(BUILD)/dstack-authd $(BUILD)/near-test/nemu-rpc $(BUILD)/bench/authd-ready
	@BUILD=$(BUILD) node tests/authd/near.js

SOAK_SECONDS ?= 60
SOAK_CHANGE_SECONDS ?= 60
soak: $(BUILD)/dstack-authd $(BUILD)/gen/dg_contracts_gen.c
	@BUILD=$(BUILD) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CHANGE_SECONDS=$(SOAK_CHANGE_SECONDS) node tests/authd/soak.js

bench-authd: $(BUILD)/dstack-authd $(BUILD)/bench/authd-ready $(BUILD)/gen/dg_contracts_gen.c $(BUILD)/near-test/nemu-rpc
	@BUILD=$(BUILD) bench/authd/run.sh

demo-authd: $(BUILD)/dstack-authd $(BUILD)/gen/dg_contracts_gen.c
	@BUILD=$(BUILD) scripts/demo-authd.sh

# exec-to-first-answer harness (bench/authd/ready.c), plain C so the figure
# carries no interpreter overhead
$(BUILD)/bench/authd-ready: bench/authd/ready.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $<
ALL_TARGETS += $(BUILD)/bench/authd-ready
