/* test_utf8.c — the one text cleaner (dg_utf8_clean): what a node, a
 * contract or a request may put in a message. */
#include "../test.h"
#include "dstackgov/utf8.h"

TEST(utf8_clean_controls_invalid_bytes_and_cuts) {
    char out[64];
    /* control characters, NUL and DEL included, become '?' */
    dg_utf8_clean(out, sizeof out, "a\r\nb\x1b[31m\0c\x7f", 12);
    CHECK_STR(out, "a??b?[31m?c?");
    /* valid UTF-8 is kept whole */
    dg_utf8_clean(out, sizeof out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 14);
    CHECK_STR(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
    /* a lone continuation byte, an overlong form, a surrogate, a cut
     * sequence at the end: one '?' per byte that starts no valid sequence */
    dg_utf8_clean(out, sizeof out, "\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82", 11);
    CHECK_STR(out, "?|??|???|??");
    /* the room ends inside a sequence: it is left out, not cut */
    dg_utf8_clean(out, 5, "ab\xe2\x82\xac", 5);
    CHECK_STR(out, "ab");
    dg_utf8_clean(out, 6, "ab\xe2\x82\xac", 5);
    CHECK_STR(out, "ab\xe2\x82\xac");
    /* tiny or empty destinations, NULL text */
    out[0] = 'x';
    dg_utf8_clean(out, 0, "abc", 3);
    CHECK_INT(out[0], 'x');
    dg_utf8_clean(out, 1, "abc", 3);
    CHECK_STR(out, "");
    dg_utf8_clean(out, sizeof out, NULL, 0);
    CHECK_STR(out, "");
    /* the C-string form stops at the NUL or at max */
    dg_utf8_clean_str(out, sizeof out, "one\ttwo", 64);
    CHECK_STR(out, "one?two");
    dg_utf8_clean_str(out, sizeof out, "abcdef", 3);
    CHECK_STR(out, "abc");
    dg_utf8_clean_str(out, sizeof out, NULL, 10);
    CHECK_STR(out, "");
}
