/* test_secret.c — the chain-neutral secret-file loader (secret.h): every
 * reason a key file is unusable has the one class DG_ERR_KEY_FILE and a
 * message naming the file and the reason, never the content. */
#include "../test.h"
#include "dstackgov/secret.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int calls;
    size_t len;
    int nul_terminated;
    char copy[64];
    int fail; /* make the parser refuse */
} probe;

static int probe_parse(void *ctx, const char *text, size_t len, dg_err *err) {
    probe *p = ctx;
    p->calls++;
    p->len = len;
    p->nul_terminated = text[len] == 0;
    snprintf(p->copy, sizeof p->copy, "%.*s", (int)len, text);
    if (p->fail) return dg_err_set(err, DG_ERR_INPUT, "not an ed25519 key");
    return 1;
}

TEST(secret_file_reads_whole_content_once) {
    char dir[] = "/tmp/dg-secret-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/cred.json", dir);
    probe p = {0};
    dg_err e = {0};
    dg_test_write_file(path, "{\"private_key\":\"ed25519:TEST\"}\n", 0600);
    CHECK(dg_secret_file_load(path, 100, probe_parse, &p, &e));
    CHECK_INT(p.calls, 1);
    CHECK_INT(p.len, 31);
    CHECK(p.nul_terminated);
    CHECK_STR(p.copy, "{\"private_key\":\"ed25519:TEST\"}\n");

    /* read-only by the owner is fine too; exactly max bytes fits */
    dg_test_write_file(path, "0123456789", 0400);
    p.calls = 0;
    CHECK(dg_secret_file_load(path, 10, probe_parse, &p, &e));
    CHECK_INT(p.calls, 1);
    /* one byte more does not, and the parser is not called */
    p.calls = 0;
    CHECK(!dg_secret_file_load(path, 9, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK_INT(p.calls, 0);
    char want[128];
    snprintf(want, sizeof want, "key file %s: larger than 9 bytes", path);
    CHECK_STR(e.msg, want);
    unlink(path);
    rmdir(dir);
}

TEST(secret_file_every_failure_is_key_file_class) {
    char dir[] = "/tmp/dg-secret-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/k", dir);
    probe p = {0};
    dg_err e = {0};

    /* missing */
    CHECK(!dg_secret_file_load(path, 100, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "cannot open: No such file") != NULL);
    CHECK(strncmp(e.msg, "key file /tmp/dg-secret-", 24) == 0);

    /* every mode that lets group or others read or write it */
    static const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0660, 0666};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        dg_test_write_file(path, "SECRET-CONTENT", open_modes[i]);
        CHECK(!dg_secret_file_load(path, 100, probe_parse, &p, &e));
        CHECK_INT(e.code, DG_ERR_KEY_FILE);
        CHECK(strstr(e.msg, "accessible by group or others") != NULL);
        CHECK(strstr(e.msg, "SECRET") == NULL);
    }
    CHECK(strstr(e.msg, "(mode 0666); run chmod 600 ") != NULL);
    CHECK_INT(p.calls, 0);

    /* unreadable by its owner (root reads anything: skip then) */
    dg_test_write_file(path, "SECRET-CONTENT", 0200);
    if (geteuid() != 0) {
        CHECK(!dg_secret_file_load(path, 100, probe_parse, &p, &e));
        CHECK_INT(e.code, DG_ERR_KEY_FILE);
        CHECK(strstr(e.msg, "cannot open: Permission denied") != NULL);
    }

    /* malformed: the parser's reason, the loader's class and prefix */
    dg_test_write_file(path, "SECRET-CONTENT", 0600);
    p.fail = 1;
    CHECK(!dg_secret_file_load(path, 100, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    char want[128];
    snprintf(want, sizeof want, "key file %s: not an ed25519 key", path);
    CHECK_STR(e.msg, want);

    /* a directory, a FIFO (opening must not block) */
    CHECK(!dg_secret_file_load(dir, 100, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0);
    CHECK(!dg_secret_file_load(path, 100, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "not a regular file") != NULL);

    /* no path */
    CHECK(!dg_secret_file_load("", 100, probe_parse, &p, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    unlink(path);
    rmdir(dir);
}
