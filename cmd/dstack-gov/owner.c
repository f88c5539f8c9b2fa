/* owner.c — governance through a Safe multisig or a TimelockController.
 *
 * One idea: every governance command builds its call (target, calldata) and
 * hands it to cli_transact; when --safe or --timelock is given, cli_transact
 * hands it here instead of sending it from the signer, so every command gets
 * the same Safe and timelock handling without knowing about either. With
 * --timelock the call is wrapped into schedule(...) on the timelock; with
 * --safe the (possibly wrapped) call becomes a SafeTx that is signed into a
 * proposal file (--sign), executed once it holds threshold signatures
 * (--execute), or exported for Safe{Wallet}'s Transaction Builder (--export).
 * The proposal checks themselves are the library's (safe.h).
 *
 * The `timelock` group finishes scheduled operations: `status`, `execute`
 * (the operation's content is read back from its CallScheduled events, so
 * the executor needs only the id) and `cancel`, each of which may itself go
 * through --safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "dstackgov/hex.h"
#include "dstackgov/safe.h"

int cli_owner_mode(const cli *c) {
    return flag_str(&c->f, "safe") || flag_str(&c->f, "timelock");
}

static int parse_opt_addr(cli *c, const char *flag, uint8_t out[20], dg_err *err) {
    const char *s = flag_str(&c->f, flag);
    if (!s) return 0;
    char what[32];
    snprintf(what, sizeof what, "--%s", flag);
    return cli_parse_addr(what, s, out, err) ? 1 : -1;
}

/* What the timelock needs besides the calls: salt (--salt, default zero, so
 * every owner derives the same operation) and no predecessor. */
static int timelock_op(cli *c, const dg_owner_call *call, dg_timelock_op *op, dg_err *err) {
    memset(op, 0, sizeof *op);
    op->calls = call;
    op->n = 1;
    const char *salt = flag_str(&c->f, "salt");
    if (salt && !dg_hex_decode(salt, strlen(salt), op->salt, 32, err))
        return dg_err_wrap(err, "--salt (32 bytes of hex)");
    return 1;
}

static int read_json_file(const char *path, json_t **out, dg_err *err) {
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*out) return dg_err_set(err, DG_ERR_INPUT, "%s: line %d: %s", path, je.line, je.text);
    return 1;
}

static int write_json_file(const char *path, json_t *j, dg_err *err) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return dg_err_set(err, DG_ERR_IO, "cannot write %s", path);
    }
    return 1;
}

/* Print or store the proposal; the JSON output carries it too. */
static void report_proposal(cli *c, const dg_safe_proposal *p, uint64_t threshold,
                            const char *file) {
    char h[67];
    cli_fmt_b32(p->hash, h);
    if (c->json) {
        cli_json_set(c, "proposal", dg_safe_proposal_to_json(p));
        cli_json_set(c, "signatures", json_integer((json_int_t)p->nsigs));
        cli_json_set(c, "threshold", json_integer((json_int_t)threshold));
        return;
    }
    printf("SafeTx %s (%s, Safe nonce ", h, p->description);
    char n[DG_U256_DEC_LEN];
    dg_u256_to_dec(p->tx.nonce, n);
    printf("%s): %zu of %llu signatures%s%s\n", n, p->nsigs, (unsigned long long)threshold,
           file ? " in " : "", file ? file : "");
    if (!file) {
        json_t *j = dg_safe_proposal_to_json(p);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s) printf("%s\n", s);
        free(s);
        json_decref(j);
    }
    if (p->nsigs >= threshold)
        printf("Ready: run the same command with --execute --proposal FILE\n");
}

/* An inner call that reverted inside execTransaction: replay it from the Safe
 * (on the parent block of a mined one, else at latest) to say why. A Safe
 * reports it as ExecutionFailure when the proposal set safeTxGas or a gas
 * price; with both zero (what dstack-gov proposes) the Safe reverts the whole
 * transaction with GS013 instead, which the estimate catches before sending. */
static void explain_failure(cli *c, const dg_safe_tx *t, const uint8_t safe[20], uint64_t block,
                            int mined, dg_err *err) {
    if (t->operation != DG_SAFE_CALL) return;
    char b[24] = "latest";
    if (mined && block) snprintf(b, sizeof b, "0x%llx", (unsigned long long)(block - 1));
    dg_buf ret;
    dg_buf_init(&ret);
    dg_err why = {DG_OK, ""};
    if (!dg_eth_call(c->rpc, safe, t->to, t->data.data, t->data.len, b, &ret, &why))
        dg_err_set(err, why.code == DG_ERR_NOT_OWNER ? why.code : DG_ERR_REVERT, "%s: %.300s",
                   mined ? "the Safe executed the proposal but its call reverted "
                           "(ExecutionFailure; the transaction succeeded and used up the Safe's "
                           "nonce)"
                         : "the Safe would run the proposal but its call reverts (GS013), so "
                           "nothing was sent",
                   why.msg);
    dg_buf_free(&ret);
}

/* The Safe part: proposal from file or new, then sign / execute / export. */
static int via_safe(cli *c, const uint8_t safe[20], const dg_owner_call *call, const char *label,
                    dg_eth_receipt *rcpt, dg_err *err) {
    int sign = flag_bool(&c->f, "sign"), exec = flag_bool(&c->f, "execute");
    const char *export = flag_str(&c->f, "export"), *file = flag_str(&c->f, "proposal");
    if (sign + exec + (export != NULL) != 1)
        return dg_err_set(err, DG_ERR_INPUT,
                          "--safe needs exactly one of --sign, --execute or --export FILE");
    if (exec && !file)
        return dg_err_set(err, DG_ERR_INPUT, "--execute needs --proposal FILE with the signatures");
    if (!cli_connect(c, err)) return 0;
    dg_safe_info info;
    if (!dg_safe_read(c->rpc, safe, &info, err)) return 0;
    int ok = 0;
    dg_safe_proposal p;
    memset(&p, 0, sizeof p);
    dg_safe_tx_init(&p.tx);
    dg_buf ret;
    dg_buf_init(&ret);
    if (export) {
        if (!dg_eth_call(c->rpc, safe, call->to, call->data, call->len, "latest", &ret, err)) {
            dg_err_wrap(err, "%s as the Safe", label);
            goto out;
        }
        json_t *j = dg_safe_tx_builder_json(info.chain_id, safe, label, call, 1);
        ok = write_json_file(export, j, err);
        json_decref(j);
        if (ok) {
            cli_say(c,
                    "Wrote %s: load it in Safe{Wallet} (Apps > Transaction Builder) to propose "
                    "%s",
                    export, label);
            cli_json_set(c, "exported", json_string(export));
            ok = CLI_DRY_RUN;
        }
        goto out;
    }
    struct stat st;
    if (file && stat(file, &st) == 0) {
        json_t *j;
        if (!read_json_file(file, &j, err)) goto out;
        ok = dg_safe_proposal_from_json(j, &p, err);
        json_decref(j);
        if (!ok) {
            dg_err_wrap(err, "%s", file);
            goto out;
        }
        ok = 0;
        dg_safe_tx want;
        dg_safe_tx_init(&want);
        uint8_t hw[32];
        int same = dg_safe_tx_from_calls(call, 1, NULL, &p.tx.nonce, &want, err);
        if (same) dg_safe_tx_hash(info.chain_id, safe, &want, hw);
        dg_safe_tx_free(&want);
        if (!same) goto out;
        if (p.chain_id != info.chain_id || memcmp(p.safe, safe, 20) != 0 ||
            memcmp(hw, p.hash, 32) != 0) {
            dg_err_set(err, DG_ERR_PROPOSAL,
                       "%s is a proposal for another change, Safe or chain than this command's "
                       "(%s)",
                       file, label);
            goto out;
        }
        if (dg_u256_cmp(p.tx.nonce, info.nonce) < 0) {
            dg_err_set(err, DG_ERR_PROPOSAL,
                       "%s: the Safe has already used this proposal's nonce (executed, or "
                       "replaced by another transaction)",
                       file);
            goto out;
        }
    } else {
        p.chain_id = info.chain_id;
        memcpy(p.safe, safe, 20);
        snprintf(p.description, sizeof p.description, "%s", label);
        if (!dg_safe_tx_from_calls(call, 1, NULL, &info.nonce, &p.tx, err)) goto out;
        dg_safe_tx_hash(p.chain_id, p.safe, &p.tx, p.hash);
    }
    /* the change must be possible for the Safe now (its own checks run at execution) */
    if (!dg_eth_call(c->rpc, safe, call->to, call->data, call->len, "latest", &ret, err)) {
        dg_err_wrap(err, "%s as the Safe", label);
        goto out;
    }
    if (sign) {
        size_t k = 0;
        while (k < info.nowners && memcmp(info.owners[k], c->from, 20) != 0)
            k++;
        if (k == info.nowners) {
            char a[43];
            cli_fmt_addr(c->from, a);
            dg_err_set(err, DG_ERR_NOT_OWNER, "%s is not an owner of the Safe: cannot sign", a);
            goto out;
        }
        if (!dg_safe_proposal_sign(&p, c->key, err)) goto out;
        if (file) {
            json_t *j = dg_safe_proposal_to_json(&p);
            int w = write_json_file(file, j, err);
            json_decref(j);
            if (!w) goto out;
        }
        report_proposal(c, &p, info.threshold, file);
        ok = CLI_DRY_RUN;
        goto out;
    }
    /* --execute: refuse before sending anything that the Safe would refuse */
    dg_buf sigs, data;
    dg_buf_init(&sigs);
    dg_buf_init(&data);
    if (dg_safe_signatures_check(p.hash, p.sigs, p.nsigs, (const uint8_t(*)[20])info.owners,
                                 info.nowners, info.threshold, &sigs, err) &&
        dg_safe_exec_calldata(&p.tx, sigs.data, sigs.len, &data, err)) {
        char lab[160];
        snprintf(lab, sizeof lab, "execTransaction (%s)", label);
        ok = cli_send_direct(c, safe, &data, lab, rcpt, err);
        if (ok == 1 && !dg_safe_exec_outcome(rcpt, safe, p.hash, err)) {
            explain_failure(c, &p.tx, safe, rcpt->block_number, 1, err);
            dg_eth_receipt_free(rcpt);
            ok = 0;
        } else if (!ok && strstr(err->msg, "GS013")) {
            explain_failure(c, &p.tx, safe, 0, 0, err);
        }
    } else if (err->code == DG_ERR_PROPOSAL) {
        dg_err_wrap(err, "%s", file);
    }
    dg_buf_free(&sigs);
    dg_buf_free(&data);
out:
    dg_buf_free(&ret);
    dg_safe_proposal_free(&p);
    dg_safe_info_free(&info);
    return ok;
}

static void say_when(cli *c, const uint8_t id[32], uint64_t ready_at, uint64_t now) {
    char ids[67];
    cli_fmt_b32(id, ids);
    char when[64] = "?";
    time_t t = (time_t)ready_at;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    cli_say(c, "Timelock operation %s: can run from %s (chain time; %lld s from now)", ids, when,
            (long long)ready_at - (long long)now);
    cli_json_hex(c, "operationId", id, 32);
    cli_json_set(c, "readyAt", json_integer((json_int_t)ready_at));
}

int cli_owner_transact(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                       dg_eth_receipt *rcpt, dg_err *err) {
    uint8_t safe[20], tl[20];
    int has_safe = parse_opt_addr(c, "safe", safe, err);
    int has_tl = parse_opt_addr(c, "timelock", tl, err);
    if (has_safe < 0 || has_tl < 0) return 0;
    if (!to)
        return dg_err_set(err, DG_ERR_INPUT,
                          "%s: a contract creation cannot go through "
                          "--safe or --timelock; deploy it directly",
                          label);
    if (c->dry_run)
        return dg_err_set(err, DG_ERR_INPUT,
                          "--dry-run does not combine with --safe/--timelock (--sign prints the "
                          "proposal without sending)");
    dg_owner_call call = {{0}, {{0}}, data->data, data->len};
    memcpy(call.to, to, 20);
    dg_buf sched;
    dg_buf_init(&sched);
    dg_timelock_op op;
    uint8_t id[32];
    uint64_t delay = 0, now = 0;
    int ok = 0;
    if (has_tl) {
        /* the call must be possible for the timelock (checked now, run later) */
        dg_buf ret;
        dg_buf_init(&ret);
        int can = cli_connect(c, err) &&
                  dg_eth_call(c->rpc, tl, to, data->data, data->len, "latest", &ret, err);
        dg_buf_free(&ret);
        if (!can) return dg_err_wrap(err, "%s as the timelock", label);
        const char *d = flag_str(&c->f, "delay");
        if (!timelock_op(c, &call, &op, err) || !dg_timelock_id(&op, id, err) ||
            !dg_timelock_read(c->rpc, tl, id, &delay, NULL, NULL, &now, err))
            return 0;
        if (d) {
            dg_u256 v;
            if (!dg_u256_parse(d, &v, NULL) || !dg_u256_to_u64(v, &delay))
                return dg_err_set(err, DG_ERR_INPUT, "--delay \"%s\" is not a number of seconds",
                                  d);
        }
        if (!dg_timelock_schedule_calldata(&op, delay, &sched, err)) return 0;
        memcpy(call.to, tl, 20);
        call.data = sched.data;
        call.len = sched.len;
    }
    char lab[160];
    snprintf(lab, sizeof lab, has_tl ? "schedule (%s)" : "%s", label);
    if (has_safe) {
        ok = via_safe(c, safe, &call, lab, rcpt, err);
    } else {
        dg_buf d = {(uint8_t *)call.data, call.len, call.len, 0};
        ok = cli_send_direct(c, call.to, &d, lab, rcpt, err);
    }
    if (ok == 1 && has_tl) {
        say_when(c, id, now + delay, now);
        cli_say(c,
                "Scheduled %s; finish it with `dstack-gov timelock execute 0x... --timelock "
                "ADDR` once ready",
                label);
        dg_eth_receipt_free(rcpt);
        ok = CLI_DRY_RUN; /* the change itself has not happened yet */
    }
    dg_buf_free(&sched);
    return ok;
}

/* ------------------------------------------------------------------ timelock group */

static int op_id_arg(cli *c, uint8_t tl[20], uint8_t id[32], dg_err *err) {
    if (parse_opt_addr(c, "timelock", tl, err) != 1)
        return err->code ? 0 : dg_err_set(err, DG_ERR_INPUT, "pass --timelock ADDR");
    return cli_parse_b32(c, "operation id", c->f.pos[0], id, err);
}

static int cmd_status(cli *c) {
    dg_err err = {DG_OK, ""};
    uint8_t tl[20], id[32];
    uint64_t delay, ready, now;
    dg_timelock_state st;
    if (!op_id_arg(c, tl, id, &err) || !cli_connect(c, &err) ||
        !dg_timelock_read(c->rpc, tl, id, &delay, &st, &ready, &now, &err))
        return cli_fail(c, &err);
    cli_json_set(c, "state", json_string(dg_timelock_state_name(st)));
    cli_json_set(c, "minDelay", json_integer((json_int_t)delay));
    cli_json_set(c, "readyAt", json_integer((json_int_t)ready));
    cli_json_set(c, "now", json_integer((json_int_t)now));
    if (st == DG_TL_WAITING)
        cli_say(c, "waiting: ready in %lld s (chain time %llu, ready at %llu)",
                (long long)ready - (long long)now, (unsigned long long)now,
                (unsigned long long)ready);
    else
        cli_say(c, "%s%s", dg_timelock_state_name(st),
                st == DG_TL_UNSET ? " (never scheduled, or cancelled)" : "");
    return 0;
}

/* Rebuild an operation from its CallScheduled events (one per call, indexed
 * by id and index) and its CallSalt event. */
static int load_op(cli *c, const uint8_t tl[20], const uint8_t id[32], dg_owner_call **calls,
                   size_t *n, dg_buf **datas, dg_timelock_op *op, dg_err *err) {
    uint8_t t_sched[32], t_salt[32];
    dg_eth_event_topic("CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)",
                       t_sched);
    dg_eth_event_topic("CallSalt(bytes32,bytes32)", t_salt);
    dg_eth_log *logs = NULL, *slogs = NULL;
    size_t nl = 0, ns = 0, k = 0;
    int ok = dg_eth_get_logs(c->rpc, tl, t_sched, 0, NULL, &logs, &nl, err) &&
             dg_eth_get_logs(c->rpc, tl, t_salt, 0, NULL, &slogs, &ns, err);
    memset(op, 0, sizeof *op);
    *calls = NULL;
    *datas = NULL;
    *n = 0;
    if (ok) {
        *calls = calloc(nl + 1, sizeof **calls);
        *datas = calloc(nl + 1, sizeof **datas);
        if (!*calls || !*datas) {
            dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            ok = 0;
        }
    }
    for (size_t i = 0; ok && i < nl; i++) {
        if (logs[i].ntopics < 3 || memcmp(logs[i].topics[1], id, 32) != 0) continue;
        dg_abi_value v;
        if (!dg_eth_log_decode(&logs[i], "(address,uint256,bytes,bytes32,uint256)", &v, err)) {
            ok = 0;
            break;
        }
        memcpy((*calls)[k].to, dg_abi_as_address(&v.items[0]), 20);
        (*calls)[k].value = dg_abi_as_u256(&v.items[1]);
        dg_buf_init(&(*datas)[k]);
        ok = dg_buf_append(&(*datas)[k], v.items[2].data, v.items[2].len);
        (*calls)[k].data = (*datas)[k].data;
        (*calls)[k].len = (*datas)[k].len;
        memcpy(op->predecessor, v.items[3].word, 32);
        dg_abi_value_free(&v);
        k++;
    }
    for (size_t i = 0; ok && i < ns; i++)
        if (slogs[i].ntopics >= 2 && memcmp(slogs[i].topics[1], id, 32) == 0 &&
            slogs[i].data_len >= 32)
            memcpy(op->salt, slogs[i].data, 32);
    if (ok && k == 0) {
        char s[67];
        cli_fmt_b32(id, s);
        ok = dg_err_set(err, DG_ERR_INPUT,
                        "no CallScheduled event for operation %s on this "
                        "timelock (wrong id or timelock?)",
                        s);
    }
    *n = k;
    op->calls = *calls;
    op->n = k;
    uint8_t got[32];
    if (ok && (!dg_timelock_id(op, got, err) || memcmp(got, id, 32) != 0))
        ok = err->code ? 0
                       : dg_err_set(err, DG_ERR_RPC_RESPONSE,
                                    "the timelock's events do not rebuild operation id");
    dg_eth_logs_free(logs, nl);
    dg_eth_logs_free(slogs, ns);
    return ok;
}

static int cmd_finish(cli *c, int cancel) {
    dg_err err = {DG_OK, ""};
    uint8_t tl[20], id[32];
    dg_owner_call *calls = NULL;
    dg_buf *datas = NULL, data;
    dg_buf_init(&data);
    size_t n = 0;
    dg_timelock_op op;
    uint64_t ready = 0, now = 0;
    dg_timelock_state st = DG_TL_UNSET;
    int code = 0, ok = op_id_arg(c, tl, id, &err) && cli_connect(c, &err) &&
                       dg_timelock_read(c->rpc, tl, id, NULL, &st, &ready, &now, &err);
    if (ok && !cancel && st == DG_TL_WAITING)
        ok = dg_err_set(&err, DG_ERR_INPUT,
                        "the operation is not ready: %lld s of its delay are left (chain time %llu,"
                        " ready at %llu)",
                        (long long)ready - (long long)now, (unsigned long long)now,
                        (unsigned long long)ready);
    if (ok && (st == DG_TL_UNSET || st == DG_TL_DONE))
        ok = dg_err_set(&err, DG_ERR_INPUT, "the operation is %s%s: nothing to %s",
                        dg_timelock_state_name(st),
                        st == DG_TL_UNSET ? " (never scheduled, or cancelled)" : " (executed)",
                        cancel ? "cancel" : "execute");
    if (ok && cancel) ok = dg_timelock_cancel_calldata(id, &data, &err);
    if (ok && !cancel)
        ok = load_op(c, tl, id, &calls, &n, &datas, &op, &err) &&
             dg_timelock_execute_calldata(&op, &data, &err);
    if (ok) {
        /* through --safe when given (the Safe holds the executor/canceller role) */
        dg_eth_receipt r;
        memset(&r, 0, sizeof r);
        int s;
        const char *lab = cancel ? "cancel" : "execute";
        if (flag_str(&c->f, "safe")) {
            uint8_t safe[20];
            dg_owner_call call = {{0}, {{0}}, data.data, data.len};
            memcpy(call.to, tl, 20);
            s = parse_opt_addr(c, "safe", safe, &err) == 1 ? via_safe(c, safe, &call, lab, &r, &err)
                                                           : 0;
        } else {
            s = cli_send_direct(c, tl, &data, lab, &r, &err);
        }
        if (s == 1) cli_say(c, "%s operation", cancel ? "Cancelled" : "Executed");
        if (s == 1) dg_eth_receipt_free(&r);
        code = s ? 0 : cli_fail(c, &err);
    } else {
        code = cli_fail(c, &err);
    }
    for (size_t i = 0; datas && i < n; i++)
        dg_buf_free(&datas[i]);
    free(datas);
    free(calls);
    dg_buf_free(&data);
    return code;
}

static int cmd_execute(cli *c) {
    return cmd_finish(c, 0);
}
static int cmd_cancel(cli *c) {
    return cmd_finish(c, 1);
}

static const flag_spec status_flags[] = {
    {"timelock", FLAG_STR, "ADDR", "the TimelockController"},
    {NULL, 0, NULL, NULL},
};

#define TL_TX (NEED_CHAIN | NEED_KEY)
const cmd_spec timelock_cmds[] = {
    {"timelock", "status", NULL, "ID", 1, 1, NEED_CHAIN, status_flags,
     "state of a scheduled operation (--timelock ADDR): unset, waiting, ready or done",
     "ID is the operation id `--timelock` printed when it scheduled the change.", cmd_status, NULL},
    {"timelock", "execute", NULL, "ID", 1, 1, TL_TX, NULL,
     "run a scheduled operation whose delay has passed (--timelock ADDR)",
     "The operation's calls are read back from the timelock's CallScheduled events. With "
     "--safe ADDR it goes through the Safe (which then needs the executor role).",
     cmd_execute, NULL},
    {"timelock", "cancel", NULL, "ID", 1, 1, TL_TX, NULL,
     "cancel a scheduled operation (--timelock ADDR; needs the canceller role)", NULL, cmd_cancel,
     NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
