/* test_runner_self.c — checks of the test framework itself. */
#include "../test.h"

TEST(runner_unhex) {
    uint8_t out[4];
    CHECK_INT(dg_test_unhex("00ff7a", out, sizeof out), 3);
    CHECK_INT(out[1], 0xff);
    CHECK_INT(out[2], 0x7a);
}
