/* test_toml.c — the strict TOML subset: what a config needs parses, the rest
 * is refused with line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "dstackgov/toml.h"

static dg_toml *ok(const char *s) {
    dg_toml *d = NULL;
    dg_err err = {0};
    if (!dg_toml_parse(s, strlen(s), &d, &err))
        dg_test_fail(__FILE__, __LINE__, "parse failed: %s", err.msg);
    return d;
}

static void bad(const char *s, const char *msg) {
    dg_toml *d = NULL;
    dg_err err = {0};
    int r = dg_toml_parse(s, strlen(s), &d, &err);
    CHECK_INT(r, 0);
    CHECK(d == NULL);
    CHECK_INT(err.code, DG_ERR_CONFIG);
    if (!strstr(err.msg, msg))
        dg_test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err.msg, msg);
}

TEST(toml_config_document) {
    dg_toml *d = ok("# dstack-authd\n"
                    "backend = \"eth\"  # comment\n"
                    "\n"
                    "[server]\n"
                    "host = '127.0.0.1'\n"
                    "port = 8_000\n"
                    "\n"
                    "[eth]\r\n"
                    "rpc_urls = [\n"
                    "  \"http://a:8545\", # first\n"
                    "  'https://b/key?x=1',\n"
                    "]\n"
                    "chain_id = -5\n"
                    "verbose = true\n"
                    "quiet = false\n"
                    "\"quoted-key\" = \"tab\\there \\u00e9\"\n"
                    "sub.key = 1\n"
                    "[a.b]\n"
                    "c = 9223372036854775807\n");
    if (!d) return;
    CHECK_INT(dg_toml_count(d), 10);
    CHECK_STR(dg_toml_get(d, "backend")->str, "eth");
    CHECK_STR(dg_toml_get(d, "server.host")->str, "127.0.0.1");
    CHECK_INT(dg_toml_get(d, "server.port")->i, 8000);
    const dg_toml_entry *e = dg_toml_get(d, "eth.rpc_urls");
    CHECK(e && e->type == DG_TOML_ARRAY && e->nitems == 2);
    if (e && e->nitems == 2) CHECK_STR(e->items[1], "https://b/key?x=1");
    CHECK_INT(dg_toml_get(d, "eth.chain_id")->i, -5);
    CHECK_INT(dg_toml_get(d, "eth.verbose")->b, 1);
    CHECK_INT(dg_toml_get(d, "eth.quiet")->b, 0);
    CHECK_STR(dg_toml_get(d, "eth.quoted-key")->str, "tab\there \xc3\xa9");
    CHECK_INT(dg_toml_get(d, "eth.sub.key")->i, 1);
    CHECK_INT(dg_toml_get(d, "a.b.c")->i, 9223372036854775807LL);
    CHECK_INT(dg_toml_get(d, "server.port")->line, 6);
    CHECK_INT(dg_toml_get(d, "server.port")->col, 8);
    CHECK(dg_toml_get(d, "server") == NULL);
    dg_toml_free(d);
    d = ok("");
    CHECK_INT(dg_toml_count(d), 0);
    dg_toml_free(d);
    d = ok("x = []\n");
    CHECK_INT(dg_toml_get(d, "x")->nitems, 0);
    dg_toml_free(d);
}

TEST(toml_refusals_name_line_and_column) {
    bad("a = 1.5\n", "line 1, column 5: unsupported value (floats");
    bad("a = 1979-05-27\n", "line 1, column 5");
    bad("\n\nx = {a = 1}\n", "line 3, column 5: inline tables are not supported");
    bad("[[t]]\n", "line 1, column 1: arrays of tables are not supported");
    bad("a = \"\"\"x\"\"\"\n", "multi-line strings are not supported");
    bad("a = [1]\n", "arrays may only hold strings");
    bad("a = [\"x\" \"y\"]\n", "expected ',' or ']' in array");
    bad("a = 1\na = 2\n", "line 2, column 1: key 'a' defined twice");
    bad("[t]\n[t]\n", "line 2, column 1: table [t] defined twice");
    bad("t = 1\n[t]\n", "table [t] defined twice or used as a value");
    bad("t = 1\nt.x = 2\n", "'t' is a value, not a table");
    bad("a = 1 b = 2\n", "line 1, column 7: expected end of line");
    bad("a = \"unterminated\n", "unterminated string");
    bad("a = \"bad \\q\"\n", "invalid escape");
    bad("a = 007\n", "leading zeros");
    bad("a = 0x10\n", "only decimal integers");
    bad("a = 1__0\n", "'_' must be between digits");
    bad("a = 99999999999999999999\n", "integer out of range");
    bad("a = tru\n", "unsupported value");
    bad("a\n", "expected '=' after key");
    bad("= 1\n", "expected a key");
    bad("a = \n", "expected a value");
    bad("a = \"\\u0000\"\n", "not a valid non-NUL Unicode scalar value");
    bad("a = \"\xff\"\n", "invalid UTF-8");
    bad("\"a.b\" = 1\n", "quoted key must be non-empty and contain no '.'");
    char nul[] = "a = 1\nb\0= 2\n";
    dg_toml *d;
    dg_err err;
    CHECK(!dg_toml_parse(nul, sizeof nul - 1, &d, &err));
    CHECK(strstr(err.msg, "line 2, column 2: NUL byte") != NULL);
}

TEST(toml_file_errors_name_the_path) {
    dg_toml *d;
    dg_err err;
    CHECK(!dg_toml_parse_file("/nonexistent/authd.toml", &d, &err));
    CHECK(strstr(err.msg, "/nonexistent/authd.toml") != NULL);
    char path[] = "/tmp/dg_toml_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    fputs("[eth]\nrpc_urls = \"x\"\nbad = 1.0\n", f);
    fclose(f);
    CHECK(!dg_toml_parse_file(path, &d, &err));
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "line 3, column 7") != NULL);
    remove(path);
}
