# mk/eth.mk — the Ethereum contracts (contracts/eth): build with forge through the
# solc-js shim, generate the C tables libdstackgov needs, and run the contract suites.
#
#   eth-forge   forge unit + fuzz tests (contracts/eth/test/*.t.sol)
#   eth-abi     selectors/topics/errors/interface ids and storage layout vs the
#               reference tables, plus OpenZeppelin upgrades-core safety checks

ETH_DIR := contracts/eth
FORGE := $(TOP)/node_modules/@foundry-rs/forge-linux-amd64/bin/forge
ETH_SRCS := $(sort $(wildcard $(ETH_DIR)/src/*.sol))
ETH_TESTS := $(sort $(wildcard $(ETH_DIR)/test/*.sol))
ETH_BUILT := $(ETH_DIR)/out/.built

# A full build (--force) whenever a source changes, so out/build-info holds exactly one
# complete compilation, which @openzeppelin/upgrades-core needs (incremental builds
# leave several partial build-info files behind).
$(ETH_BUILT): $(ETH_SRCS) $(ETH_TESTS) $(wildcard $(ETH_DIR)/test/layout/*.sol) $(ETH_DIR)/foundry.toml $(ETH_DIR)/tools/solc
	cd $(ETH_DIR) && rm -rf out/build-info && $(FORGE) build --offline --force --quiet
	@touch $@

ETH_GEN_H := $(BUILD)/gen/dg_contracts_gen.h
ETH_GEN_C := $(BUILD)/gen/dg_contracts_gen.c
$(ETH_GEN_H) $(ETH_GEN_C) &: $(ETH_BUILT) $(ETH_DIR)/tools/gen-c.js $(ETH_DIR)/tools/abi.js
	@mkdir -p $(BUILD)/gen
	node $(ETH_DIR)/tools/gen-c.js $(ETH_GEN_H) $(ETH_GEN_C)
	@touch $(ETH_GEN_H) $(ETH_GEN_C)

GEN_HEADERS += $(ETH_GEN_H)
GEN_LIB_SRCS += $(ETH_GEN_C)
ALL_TARGETS += $(ETH_BUILT) $(ETH_GEN_H) $(ETH_GEN_C)

.PHONY: eth-build test-eth-forge test-eth-abi
eth-build: $(ETH_BUILT)

TEST_SUITES += eth-forge eth-abi
test-eth-forge: $(ETH_BUILT)
	@$(ETH_DIR)/tools/forge-test.sh

test-eth-abi: $(ETH_BUILT)
	@node $(ETH_DIR)/test/abi_check.js
