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

/* A failure is sticky: once an append could not be met, later ones fail too,
 * even those that would fit in the room already held, and nothing is added. */
TEST(buf_failure_is_sticky_and_adds_nothing) {
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_buf_append(&b, "abc", 3));
    CHECK(b.cap > 4);
    CHECK(!dg_buf_reserve(&b, SIZE_MAX - 2)); /* len + extra + NUL overflows */
    CHECK_INT(b.oom, 1);
    CHECK(!dg_buf_append(&b, "d", 1));
    CHECK(!dg_buf_push(&b, 'e'));
    CHECK(!dg_buf_zeros(&b, 1));
    CHECK(!dg_buf_reserve(&b, 0));
    CHECK_INT(b.len, 3);
    CHECK_STR((const char *)b.data, "abc");
    dg_buf_free(&b);
    /* exactly full: the NUL needs one more byte, so a reserve of the
     * remaining room grows the buffer and keeps it terminated */
    dg_buf_init(&b);
    CHECK(dg_buf_append(&b, "x", 1));
    size_t room = b.cap - b.len;
    CHECK(dg_buf_zeros(&b, room));
    CHECK_INT(b.len, 1 + room);
    CHECK(b.cap > b.len);
    CHECK_INT(b.data[b.len], 0);
    dg_buf_free(&b);
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
