/* compose_hash.c — `compose-hash FILE`: the compose hash the CVM will measure.
 *
 * sha256 of the exact bytes of app-compose.json (no normalisation: the VMM
 * writes the file, the guest hashes what it got), printed as 0x + 64 digits —
 * the value to pass to `app add-hash` / `kms create-app --hash`.
 */
#include <string.h>

#include "cli.h"
#include "dstackgov/contracts.h"
#include "dstackgov/hash.h"

static int cmd_compose_hash(cli *c) {
    dg_err err = {DG_OK, ""};
    dg_buf file;
    dg_buf_init(&file);
    if (!cli_read_file(c->f.pos[0], &file, (size_t)1 << 30, &err)) {
        dg_buf_free(&file);
        return cli_fail(c, &err);
    }
    uint8_t h[32];
    char s[67];
    dg_sha256(file.data, file.len, h);
    dg_buf_free(&file);
    cli_fmt_b32(h, s);
    cli_json_set(c, "composeHash", json_string(s));
    cli_json_set(c, "file", json_string(c->f.pos[0]));
    cli_say(c, "%s", s);
    const char *app = flag_str(&c->f, "app-id");
    if (!app) return 0;
    /* Check on chain before anyone boots with it (the classic "Compose hash not
     * allowed" comes from hashing a different file than the one the CVM gets). */
    uint8_t a[20];
    int allowed = 0;
    dg_buf q, ret;
    dg_buf_init(&q);
    dg_buf_init(&ret);
    int ok = cli_parse_addr("--app-id", app, a, &err) &&
             dg_app_allowed_compose_hashes(&q, h, &err) && cli_call(c, a, &q, &ret, &err);
    if (ok && ret.len == 0) {
        char as[43];
        cli_fmt_addr(a, as);
        ok =
            dg_err_set(&err, DG_ERR_NO_CODE, "no DstackApp at %s (wrong --app-id or network?)", as);
    }
    ok = ok && dg_contract_decode_bool(ret.data, ret.len, &allowed, &err);
    dg_buf_free(&q);
    dg_buf_free(&ret);
    if (!ok) return cli_fail(c, &err);
    cli_say(c, "%s by app %s", allowed ? "allowed" : "NOT allowed", app);
    cli_json_set(c, "allowed", json_boolean(allowed));
    return allowed ? 0 : 1;
}

static const flag_spec compose_flags[] = {
    {"app-id", FLAG_STR, "ADDR", "also say whether the app allows it (exit 1 if not)"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec top_cmds[] = {
    {NULL, "compose-hash", NULL, "FILE", 1, 1, NEED_CHAIN, compose_flags,
     "print the compose hash of an app-compose.json (0x + sha256 of its exact bytes)",
     "Same as: sha256sum FILE | awk '{print \"0x\"$1}'. With --app-id, also asks the chain\n"
     "whether the app allows that hash (exit 1 if not).",
     cmd_compose_hash, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
