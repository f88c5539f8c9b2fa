/* internal.h — what lib/near's files share and nobody else calls: the
 * decoders of a node's failure descriptions (client.c), used by the views,
 * the send flow and the outcome parser alike. */
#ifndef DG_NEAR_INTERNAL_H
#define DG_NEAR_INTERNAL_H

#include "dstackgov/near.h"

/* The value of `key` anywhere under v (depth-first, bounded), or NULL. */
const json_t *dg_near_find_key(const json_t *v, const char *key, int depth);

/* A contract panic or VM error given as text (either node shape): class
 * NOT_OWNER for an access check, REVERT for a panic or a missing method,
 * NO_CODE when the account has no contract. Returns 0. */
int dg_near_vm_text_error(const char *what, const char *text, dg_err *err);

/* An ActionError's `kind` (FunctionCallError, AccountAlreadyExists,
 * LackBalanceForState, ...) as one sentence with its class. Returns 0. */
int dg_near_action_error(const char *what, const json_t *kind, dg_err *err);

/* An InvalidTxError value (a name, or {Name: {fields}}) as one sentence with
 * its class: NotEnoughBalance / LackBalanceForState with the amounts ->
 * FUNDS, access-key and signer problems -> CONFIG, InvalidNonce and Expired
 * -> RPC_RESPONSE. Returns 0. */
int dg_near_invalid_tx_error(const char *what, const json_t *ite, dg_err *err);

/* The name of an InvalidTxError value ("InvalidNonce", "Expired", ...) or "". */
const char *dg_near_invalid_tx_name(const json_t *ite);

#endif
