/* test_eth_cli_flags.c — dstack-gov's shared flag parser (cmd/dstack-gov/flags.c,
 * compiled into this test: the CLI's sources are not part of the library). */
#include "../../cmd/dstack-gov/flags.c"
#include "../test.h"

static const flag_spec T1[] = {
    {"hash", FLAG_STR, "H", "a hash"},
    {"allow-any-device", FLAG_BOOL, NULL, "flag"},
    {NULL, 0, NULL, NULL},
};
static const flag_spec T2[] = {
    {"yes", FLAG_BOOL, NULL, "yes"},
    {"json", FLAG_BOOL, NULL, "json"},
    {"hash", FLAG_STR, "X", "shadowed by T1"},
    {NULL, 0, NULL, NULL},
};

static int parse(dg_flags *f, dg_err *e, int argc, const char **argv) {
    return flags_parse(f, argc, (char **)argv, T1, T2, NULL, e);
}

TEST(eth_cli_flags_forms) {
    dg_flags f;
    dg_err e;
    const char *a[] = {"pos1", "--hash", "0xaa", "--allow-any-device", "-y", "pos2"};
    CHECK(parse(&f, &e, 6, a));
    CHECK_STR(flag_str(&f, "hash"), "0xaa");
    CHECK(flag_bool(&f, "allow-any-device"));
    CHECK(flag_bool(&f, "yes"));
    CHECK(!flag_bool(&f, "json"));
    CHECK_INT(f.npos, 2);
    CHECK_STR(f.pos[0], "pos1");
    CHECK_STR(f.pos[1], "pos2");
    const char *b[] = {"--hash=0xbb", "--hash", "0xcc", "--json=false", "--", "--yes"};
    CHECK(parse(&f, &e, 6, b));
    CHECK_STR(flag_str(&f, "hash"), "0xcc"); /* last one wins */
    CHECK(!flag_bool(&f, "json"));
    CHECK(!flag_bool(&f, "yes")); /* after --, a positional */
    CHECK_INT(f.npos, 1);
    CHECK_STR(f.pos[0], "--yes");
    /* the first table wins: T1's hash spec */
    CHECK(f.spec[0] == &T1[0]);
}

TEST(eth_cli_flags_errors) {
    dg_flags f;
    dg_err e;
    const char *a[] = {"--nope"};
    CHECK(!parse(&f, &e, 1, a));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "--nope") != NULL);
    const char *b[] = {"--hash"};
    CHECK(!parse(&f, &e, 1, b));
    CHECK(strstr(e.msg, "needs a value") != NULL);
    const char *c[] = {"--yes=maybe"};
    CHECK(!parse(&f, &e, 1, c));
    const char *d[] = {"-x"};
    CHECK(!parse(&f, &e, 1, d));
    const char *many[FLAGS_MAX_POS + 1];
    for (size_t i = 0; i <= FLAGS_MAX_POS; i++)
        many[i] = "p";
    CHECK(!parse(&f, &e, FLAGS_MAX_POS + 1, many));
    const char *eq[] = {"--allow-any-device=true", "--hash="};
    CHECK(parse(&f, &e, 2, eq));
    CHECK(flag_bool(&f, "allow-any-device"));
    CHECK_STR(flag_str(&f, "hash"), "");
}
