/* compose_hash.c — `compose-hash FILE`: the compose hash the CVM will measure.
 *
 * sha256 of the exact bytes of app-compose.json (no normalisation: the VMM
 * writes the file, the guest hashes what it got), printed as 0x + 64 digits —
 * the value to pass to `app add-hash` / `kms create-app --hash`.
 */
#include <string.h>

#include "cli.h"
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
    return 0;
}

const cmd_spec top_cmds[] = {
    {NULL, "compose-hash", NULL, "FILE", 1, 1, 0, NULL,
     "print the compose hash of an app-compose.json (0x + sha256 of its exact bytes)",
     "Same as: sha256sum FILE | awk '{print \"0x\"$1}'", cmd_compose_hash, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
