/* test_buf_err.c — the growable buffer and error helpers. */
#include "../test.h"
#include "dstackgov/buf.h"
#include "dstackgov/err.h"

TEST(buf_append_grows_and_terminates) {
    dg_buf b;
    dg_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        CHECK(dg_buf_push(&b, (uint8_t)'a'));
    CHECK_INT(b.len, 1000);
    CHECK_INT(b.data[1000], 0);
    CHECK(dg_buf_printf(&b, "%d-%s", 42, "x"));
    CHECK_STR((char *)b.data + 1000, "42-x");
    CHECK(dg_buf_insert(&b, 0, "zz", 2));
    CHECK_INT(b.data[0], 'z');
    CHECK_INT(b.len, 1006);
    CHECK(!dg_buf_insert(&b, 2000, "q", 1));
    dg_buf_free(&b);
    CHECK(b.data == NULL);
}

TEST(err_set_and_wrap) {
    dg_err e = {0};
    CHECK_INT(dg_err_set(&e, DG_ERR_INPUT, "bad %s", "hex"), 0);
    CHECK_INT(e.code, DG_ERR_INPUT);
    dg_err_wrap(&e, "--hash");
    CHECK_STR(e.msg, "--hash: bad hex");
    CHECK_STR(dg_err_name(DG_ERR_NOT_OWNER), "not-owner");
    CHECK_STR(dg_err_name((dg_err_code)999), "unknown");
    CHECK_INT(dg_err_set(NULL, DG_ERR_IO, "x"), 0);
}
