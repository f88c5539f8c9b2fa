/* near.h — the NEAR host API, declared one import at a time.
 *
 * Every host function the contracts call is declared here with its wasm
 * import name, so a typo or a missing function is a link error rather than a
 * silent extra import (mk/near.mk also checks the final modules' imports
 * against contracts/near/host-api.txt). All integer parameters are u64 in the
 * NEAR ABI; pointers are passed as u64 too.
 */
#ifndef NC_NEAR_H
#define NC_NEAR_H

#include <stdint.h>

#define NEAR_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

NEAR_IMPORT(read_register) void near_read_register(uint64_t reg, uint64_t ptr);
NEAR_IMPORT(register_len) uint64_t near_register_len(uint64_t reg);
NEAR_IMPORT(current_account_id) void near_current_account_id(uint64_t reg);
NEAR_IMPORT(predecessor_account_id) void near_predecessor_account_id(uint64_t reg);
NEAR_IMPORT(input) void near_input(uint64_t reg);
NEAR_IMPORT(signer_account_pk) void near_signer_account_pk(uint64_t reg);
NEAR_IMPORT(block_timestamp) uint64_t near_block_timestamp(void);
NEAR_IMPORT(attached_deposit) void near_attached_deposit(uint64_t ptr);
NEAR_IMPORT(account_balance) void near_account_balance(uint64_t ptr);
NEAR_IMPORT(storage_usage) uint64_t near_storage_usage(void);
NEAR_IMPORT(prepaid_gas) uint64_t near_prepaid_gas(void);
NEAR_IMPORT(sha256) void near_sha256(uint64_t len, uint64_t ptr, uint64_t reg);
NEAR_IMPORT(value_return) void near_value_return(uint64_t len, uint64_t ptr);
NEAR_IMPORT(panic_utf8) __attribute__((noreturn)) void near_panic_utf8(uint64_t len, uint64_t ptr);
NEAR_IMPORT(log_utf8) void near_log_utf8(uint64_t len, uint64_t ptr);
NEAR_IMPORT(promise_create)
uint64_t near_promise_create(uint64_t acc_len, uint64_t acc_ptr, uint64_t fn_len, uint64_t fn_ptr,
                             uint64_t args_len, uint64_t args_ptr, uint64_t amount_ptr,
                             uint64_t gas);
NEAR_IMPORT(promise_then)
uint64_t near_promise_then(uint64_t idx, uint64_t acc_len, uint64_t acc_ptr, uint64_t fn_len,
                           uint64_t fn_ptr, uint64_t args_len, uint64_t args_ptr,
                           uint64_t amount_ptr, uint64_t gas);
NEAR_IMPORT(promise_batch_create)
uint64_t near_promise_batch_create(uint64_t acc_len, uint64_t acc_ptr);
NEAR_IMPORT(promise_batch_action_create_account)
void near_promise_batch_action_create_account(uint64_t idx);
NEAR_IMPORT(promise_batch_action_deploy_contract)
void near_promise_batch_action_deploy_contract(uint64_t idx, uint64_t code_len, uint64_t code_ptr);
NEAR_IMPORT(promise_batch_action_function_call)
void near_promise_batch_action_function_call(uint64_t idx, uint64_t fn_len, uint64_t fn_ptr,
                                             uint64_t args_len, uint64_t args_ptr,
                                             uint64_t amount_ptr, uint64_t gas);
NEAR_IMPORT(promise_batch_action_transfer)
void near_promise_batch_action_transfer(uint64_t idx, uint64_t amount_ptr);
NEAR_IMPORT(promise_results_count) uint64_t near_promise_results_count(void);
NEAR_IMPORT(promise_result) uint64_t near_promise_result(uint64_t idx, uint64_t reg);
NEAR_IMPORT(promise_return) void near_promise_return(uint64_t idx);
NEAR_IMPORT(storage_write)
uint64_t near_storage_write(uint64_t k_len, uint64_t k_ptr, uint64_t v_len, uint64_t v_ptr,
                            uint64_t reg);
NEAR_IMPORT(storage_read) uint64_t near_storage_read(uint64_t k_len, uint64_t k_ptr, uint64_t reg);
NEAR_IMPORT(storage_remove)
uint64_t near_storage_remove(uint64_t k_len, uint64_t k_ptr, uint64_t reg);
NEAR_IMPORT(storage_has_key) uint64_t near_storage_has_key(uint64_t k_len, uint64_t k_ptr);
/* yield/resume (NEP-519): only the MPC test double (contracts/near/test/mpc-test.c) uses them */
NEAR_IMPORT(promise_yield_create)
uint64_t near_promise_yield_create(uint64_t fn_len, uint64_t fn_ptr, uint64_t args_len,
                                   uint64_t args_ptr, uint64_t gas, uint64_t gas_weight,
                                   uint64_t reg);
NEAR_IMPORT(promise_yield_resume)
uint32_t near_promise_yield_resume(uint64_t id_len, uint64_t id_ptr, uint64_t payload_len,
                                   uint64_t payload_ptr);
NEAR_IMPORT(block_index) uint64_t near_block_index(void);

#endif
