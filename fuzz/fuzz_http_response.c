/* fuzz_http_response.c — the HTTP/1.x response parser (lib/rpc/http_parse.c).
 *
 * The first input byte picks how the rest is cut into pieces (as recv()
 * would return it) and the body cap; the rest is what a server sent, then
 * the connection closes. Beyond memory safety, the parser's contract is
 * checked: it never consumes more than it was given, the body never exceeds
 * the cap, a finished response has a final status (200..999), and the
 * outcome — result, status, body, consumed length — is the same whether the
 * bytes come whole or in pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/rpc/rpc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    int rc, status, keep_alive;
    size_t consumed;
};

static struct outcome run(const char *p, size_t n, size_t step, size_t cap, dg_buf *body) {
    dg_http_resp r;
    dg_http_resp_init(&r, body, cap);
    struct outcome o = {DG_HTTP_MORE, 0, 0, 0};
    size_t off = 0;
    while (off < n && o.rc == DG_HTTP_MORE) {
        size_t k = step && step < n - off ? step : n - off, used = 0;
        o.rc = dg_http_resp_feed(&r, p + off, k, &used);
        if (used > k) abort();
        if (o.rc == DG_HTTP_MORE && used != k) abort();
        off += used;
        if (body->len > cap) abort();
    }
    if (o.rc == DG_HTTP_MORE) o.rc = dg_http_resp_eof(&r);
    if (o.rc == DG_HTTP_DONE && (r.status < 200 || r.status > 999)) abort();
    if (o.rc == DG_HTTP_BAD && !r.why[0]) abort();
    o.status = o.rc == DG_HTTP_DONE ? r.status : 0;
    o.keep_alive = o.rc == DG_HTTP_DONE ? r.keep_alive : 0;
    o.consumed = o.rc == DG_HTTP_DONE ? off : 0;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] & 15) + 1;
    size_t cap = (data[0] & 0x80) ? 64 : (1u << 20);
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    dg_buf whole, pieces;
    dg_buf_init(&whole);
    dg_buf_init(&pieces);
    struct outcome a = run(p, n, 0, cap, &whole);
    struct outcome b = run(p, n, step, cap, &pieces);
    if (a.rc != b.rc || a.status != b.status || a.keep_alive != b.keep_alive ||
        a.consumed != b.consumed)
        abort();
    if (a.rc == DG_HTTP_DONE &&
        (whole.len != pieces.len || (whole.len && memcmp(whole.data, pieces.data, whole.len))))
        abort();
    dg_buf_free(&whole);
    dg_buf_free(&pieces);
    return 0;
}
