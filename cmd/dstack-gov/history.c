/* history.c — `kms history` / `app history`: the audit trail, and what is allowed now.
 *
 * The contracts keep their whitelists in mappings, which cannot be listed; but
 * every change emits PolicyChanged(actor, keccak(key), value, enabled). Reading
 * those events (eth_getLogs) gives the full audit trail, and replaying them
 * (last event per value wins) gives the current lists: which OS images, compose
 * hashes, devices and apps are allowed — the question upstream tools cannot
 * answer. Contracts deployed before PolicyChanged existed have no such events.
 * When the contract is owned by a TimelockController (or --timelock names
 * one), its scheduled, executed and cancelled operations on the contract are
 * listed too: a pending change is visible before it takes effect.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dstackgov/contracts.h"
#include "dstackgov/gov.h"
#include "dstackgov/hash.h"
#include "dstackgov/abi.h"
#include "dstackgov/hex.h"

#define KEYS dg_gov_policy_keys
#define NKEYS dg_gov_npolicy_keys

typedef struct {
    size_t key; /* index in dg_gov_policy_keys */
    uint8_t value[32];
    int enabled;
} entry;

/* Record the latest state of (key, value); cur has room for one entry per log. */
static void set_entry(entry *cur, size_t *ncur, size_t k, const uint8_t v[32], int enabled) {
    size_t j = 0;
    while (j < *ncur && !(cur[j].key == k && memcmp(cur[j].value, v, 32) == 0))
        j++;
    if (j == *ncur) {
        cur[j].key = k;
        memcpy(cur[j].value, v, 32);
        (*ncur)++;
    }
    cur[j].enabled = enabled;
}

static void fmt_value(size_t k, const uint8_t v[32], char out[67]) {
    dg_gov_policy_value((int)k, v, out);
}

/* The gateway app id is a string: its PolicyChanged value is the id's keccak.
 * Read the current id (kms history only) so the text output can name it. */
static char *current_gateway(cli *c, const uint8_t *target, uint8_t hash[32]) {
    dg_buf d, ret;
    char *gw = NULL;
    dg_buf_init(&d);
    dg_buf_init(&ret);
    if (dg_contract_encode_noarg(&d, DG_SIG_GATEWAY_APP_ID, NULL) &&
        cli_call(c, target, &d, &ret, NULL) &&
        dg_contract_decode_string(ret.data, ret.len, &gw, NULL))
        dg_keccak256(gw, strlen(gw), hash);
    dg_buf_free(&d);
    dg_buf_free(&ret);
    return gw;
}

/* ------------------------------------------------------------------ timelock operations */

/* The contract's owner when it answers as a TimelockController, for `history`
 * without --timelock. */
static int owner_timelock(cli *c, const uint8_t target[20], uint8_t tl[20]) {
    dg_buf d, ret;
    dg_buf_init(&d);
    dg_buf_init(&ret);
    uint8_t sel[4];
    int ok = 0;
    dg_abi_selector("owner()", sel);
    dg_buf_append(&d, sel, 4);
    if (cli_call(c, target, &d, &ret, NULL) && ret.len == 32) {
        memcpy(tl, ret.data + 12, 20);
        d.len = 0;
        ret.len = 0;
        dg_abi_selector("getMinDelay()", sel);
        dg_buf_append(&d, sel, 4);
        ok = cli_call(c, tl, &d, &ret, NULL) && ret.len == 32;
    }
    dg_buf_free(&d);
    dg_buf_free(&ret);
    return ok;
}

typedef struct {
    uint64_t block, index;
    const char *what;
    uint8_t id[32];
    const dg_eth_log *log;
} tl_event;

static int tl_cmp(const void *a, const void *b) {
    const tl_event *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Scheduled, executed and cancelled operations of the timelock that call
 * `target`, in chain order. */
static int timelock_history(cli *c, const uint8_t target[20], const uint8_t tl[20], uint64_t from,
                            dg_err *err) {
    static const char *const sigs[3] = {
        "CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)",
        "CallExecuted(bytes32,uint256,address,uint256,bytes)", "Cancelled(bytes32)"};
    static const char *const verbs[3] = {"scheduled", "executed", "cancelled"};
    dg_eth_log *logs[3] = {NULL, NULL, NULL};
    size_t n[3] = {0, 0, 0};
    int ok = 1;
    for (int k = 0; ok && k < 3; k++) {
        uint8_t topic[32];
        dg_eth_event_topic(sigs[k], topic);
        ok = dg_eth_get_logs(c->rpc, tl, topic, from, "latest", &logs[k], &n[k], err);
    }
    tl_event *ev = ok ? calloc(n[0] + n[1] + n[2] + 1, sizeof *ev) : NULL;
    size_t m = 0;
    if (ok && !ev) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        ok = 0;
    }
    for (int k = 0; ok && k < 3; k++)
        for (size_t i = 0; i < n[k]; i++) {
            const dg_eth_log *l = &logs[k][i];
            if (l->ntopics < 2) continue;
            /* scheduled/executed name their target (first data word); a cancel
             * belongs here when its id was scheduled for this target */
            int mine = 0;
            if (k < 2)
                mine = l->data_len >= 32 && memcmp(l->data + 12, target, 20) == 0;
            else
                for (size_t j = 0; j < m && !mine; j++)
                    mine = memcmp(ev[j].id, l->topics[1], 32) == 0;
            if (!mine) continue;
            ev[m].block = l->block_number;
            ev[m].index = l->log_index;
            ev[m].what = verbs[k];
            ev[m].log = l;
            memcpy(ev[m].id, l->topics[1], 32);
            m++;
        }
    if (ok) qsort(ev, m, sizeof *ev, tl_cmp);
    char ts[43];
    cli_fmt_addr(tl, ts);
    if (ok) cli_say(c, "Timelock operations on it by %s: %zu", ts, m);
    json_t *arr = json_array();
    for (size_t i = 0; ok && i < m; i++) {
        char id[67], sel[11] = "";
        cli_fmt_b32(ev[i].id, id);
        const dg_eth_log *l = ev[i].log;
        dg_abi_value v;
        const char *types = strcmp(ev[i].what, "cancelled") == 0 ? NULL
                            : strcmp(ev[i].what, "scheduled") == 0
                                ? "(address,uint256,bytes,bytes32,uint256)"
                                : "(address,uint256,bytes)";
        uint64_t delay = 0;
        if (types && dg_eth_log_decode(l, types, &v, NULL)) {
            if (v.items[2].len >= 4) dg_hex_encode_0x(v.items[2].data, 4, sel);
            if (v.nitems == 5) dg_abi_as_u64(&v.items[4], &delay);
            dg_abi_value_free(&v);
        }
        if (delay)
            cli_say(c, "  block %-6llu timelock %-9s %s call %s, delay %llu s",
                    (unsigned long long)ev[i].block, ev[i].what, id, sel,
                    (unsigned long long)delay);
        else
            cli_say(c, "  block %-6llu timelock %-9s %s%s%s", (unsigned long long)ev[i].block,
                    ev[i].what, id, sel[0] ? " call " : "", sel);
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "block", (json_int_t)ev[i].block,
                                             "operation", ev[i].what, "id", id, "selector", sel));
    }
    cli_json_set(c, "timelock", json_string(ts));
    cli_json_set(c, "timelockOperations", arr);
    free(ev);
    for (int k = 0; k < 3; k++)
        dg_eth_logs_free(logs[k], n[k]);
    return ok;
}

int cmd_history(cli *c) {
    dg_err err = {DG_OK, ""};
    const uint8_t *target = strcmp(c->cmd->group, "kms") == 0 ? c->kms : c->app;
    uint64_t from = 0;
    const char *fb = flag_str(&c->f, "from-block");
    if (fb) {
        dg_u256 v;
        if (!dg_u256_parse(fb, &v, NULL) || !dg_u256_to_u64(v, &from))
            return cli_failf(c, DG_ERR_INPUT, "--from-block \"%s\" is not a block number", fb);
    }
    uint8_t topic[32];
    dg_eth_event_topic("PolicyChanged(address,bytes32,bytes32,bool)", topic);
    if (!cli_connect(c, &err)) return cli_fail(c, &err);
    dg_eth_log *logs = NULL;
    size_t n = 0;
    if (!dg_eth_get_logs(c->rpc, target, topic, from, "latest", &logs, &n, &err))
        return cli_fail(c, &err);
    uint8_t gw_hash[32];
    char *gw =
        strcmp(c->cmd->group, "kms") == 0 && !c->json ? current_gateway(c, target, gw_hash) : NULL;
    entry *cur = n ? calloc(2 * n, sizeof *cur) : NULL;
    size_t ncur = 0;
    json_t *events = json_array();
    char ts[43];
    cli_fmt_addr(target, ts);
    cli_say(c, "Policy changes of %s %s since block %llu: %zu", c->cmd->group, ts,
            (unsigned long long)from, n);
    for (size_t i = 0; i < n; i++) {
        const dg_eth_log *l = &logs[i];
        if (l->ntopics != 4 || l->data_len != 32) continue;
        int found = dg_gov_policy_key_find(l->topics[2]);
        size_t k = found < 0 ? NKEYS : (size_t)found;
        int enabled = l->data[31] != 0;
        char actor[43], val[67];
        cli_fmt_addr(l->topics[1] + 12, actor);
        const char *name = k < NKEYS ? KEYS[k].key : "unknown";
        if (k < NKEYS)
            fmt_value(k, l->topics[3], val);
        else
            cli_fmt_b32(l->topics[3], val);
        const char *verb = k < NKEYS && KEYS[k].is_set ? (enabled ? "added" : "removed")
                                                       : (enabled ? "set" : "cleared");
        if (k < NKEYS && !KEYS[k].is_set && memcmp(l->topics[3], (uint8_t[32]){0}, 32) == 0)
            cli_say(c, "  block %-6llu %-24s %-8s by %s", (unsigned long long)l->block_number, name,
                    enabled ? "true" : "false", actor);
        else if (k < NKEYS && strcmp(name, "gateway-app-id") == 0)
            cli_say(c, "  block %-6llu %-24s %-8s %s (keccak of %s%s%s) by %s",
                    (unsigned long long)l->block_number, name, verb, val,
                    gw && memcmp(gw_hash, l->topics[3], 32) == 0 ? "\""
                                                                 : "an earlier gateway app id",
                    gw && memcmp(gw_hash, l->topics[3], 32) == 0 ? gw : "",
                    gw && memcmp(gw_hash, l->topics[3], 32) == 0 ? "\", the current gateway app id"
                                                                 : "",
                    actor);
        else
            cli_say(c, "  block %-6llu %-24s %-8s %s by %s", (unsigned long long)l->block_number,
                    name, verb, val, actor);
        json_array_append_new(events, json_pack("{s:I,s:s,s:s,s:b,s:s}", "block",
                                                (json_int_t)l->block_number, "policy", name,
                                                "value", val, "enabled", enabled, "actor", actor));
        if (k < NKEYS && KEYS[k].is_set && cur) {
            set_entry(cur, &ncur, k, l->topics[3], enabled);
            /* deregisterApp also clears the registration, without its own event */
            if (strcmp(KEYS[k].key, "deregistered-app") == 0 && enabled)
                set_entry(cur, &ncur, (size_t)dg_gov_policy_key_find_name("registered-app"),
                          l->topics[3], 0);
        }
    }
    json_t *now = json_object();
    int any_set = 0;
    for (size_t k = 0; k < NKEYS; k++) {
        if (!KEYS[k].is_set) continue;
        json_t *list = json_array();
        for (size_t j = 0; j < ncur; j++) {
            if (cur[j].key != k || !cur[j].enabled) continue;
            char val[67];
            fmt_value(k, cur[j].value, val);
            if (!any_set) cli_say(c, "Allowed now, replayed from these events:");
            any_set = 1;
            cli_say(c, "  %-18s %s", KEYS[k].key, val);
            json_array_append_new(list, json_string(val));
        }
        if (json_array_size(list))
            json_object_set_new(now, KEYS[k].key, list);
        else
            json_decref(list);
    }
    if (!any_set) cli_say(c, "Allowed now, replayed from these events: nothing");
    cli_json_set(c, "events", events);
    cli_json_set(c, "current", now);
    cli_json_set(c, "fromBlock", json_integer((json_int_t)from));
    uint8_t tl[20];
    const char *tls = flag_str(&c->f, "timelock");
    int has_tl = tls ? cli_parse_addr("--timelock", tls, tl, &err) : owner_timelock(c, target, tl);
    if (tls && !has_tl) {
        free(cur);
        free(gw);
        dg_eth_logs_free(logs, n);
        return cli_fail(c, &err);
    }
    if (has_tl && !timelock_history(c, target, tl, from, &err)) {
        free(cur);
        free(gw);
        dg_eth_logs_free(logs, n);
        return cli_fail(c, &err);
    }
    free(cur);
    free(gw);
    dg_eth_logs_free(logs, n);
    return 0;
}
