# mk/tls.mk — suite `tls`: dstack-gov and dstack-authd over real TLS on
# loopback (tests/tls/run.js): a test CA and certificates made with the openssl
# CLI, TLS terminators in front of anvil, a private CA through --rpc-ca-file /
# eth.rpc_ca_file / SSL_CERT_FILE, and each refusal (wrong host, expired,
# untrusted CA, plain HTTP on https://) with its message.

TEST_SUITES += tls
C_SUITES += tls   # also run under ASan+UBSan by `make test-asan`

.PHONY: test-tls
test-tls: $(BUILD)/dstack-gov $(BUILD)/dstack-authd $(BUILD)/gen/dg_contracts_gen.c
	@BUILD=$(BUILD) node tests/tls/run.js
