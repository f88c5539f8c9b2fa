/* rpc_http.c — serve nemu_rpc_handle over HTTP on loopback (libmicrohttpd).
 *
 * One internal polling thread answers POST / with the JSON-RPC reply; the
 * emulator is single-threaded (wasm2c's trap handling uses one global jump
 * buffer), and MHD's single polling thread keeps every call on one thread.
 */
#include "rpc_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rpc.h"

#define MAX_BODY (8u << 20)

struct nemu_server {
    struct MHD_Daemon *d;
    nemu_rpc *rpc;
    int port;
};

typedef struct {
    char *p;
    size_t n;
    int too_big;
} body;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **state) {
    (void)url;
    (void)version;
    struct nemu_server *s = cls;
    body *b = *state;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        *state = b;
        return MHD_YES;
    }
    if (*data_size) {
        if (b->n + *data_size > MAX_BODY) {
            b->too_big = 1;
        } else {
            char *np = realloc(b->p, b->n + *data_size + 1);
            if (!np) return MHD_NO;
            b->p = np;
            memcpy(b->p + b->n, data, *data_size);
            b->n += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) return reply(c, 405, strdup("{\"error\":\"POST a JSON-RPC request\"}"));
    if (b->too_big) return reply(c, 413, strdup("{\"error\":\"request too large\"}"));
    return reply(c, 200, nemu_rpc_handle(s->rpc, b->p ? b->p : "", b->n));
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t) {
    (void)cls;
    (void)c;
    (void)t;
    body *b = *state;
    if (b) {
        free(b->p);
        free(b);
    }
    *state = NULL;
}

nemu_server *nemu_server_start(nemu *w, int port) {
    struct nemu_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rpc = nemu_rpc_new(w);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_END);
    if (!s->d) {
        nemu_rpc_free(s->rpc);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = i ? i->port : port;
    return s;
}

int nemu_server_port(const nemu_server *s) { return s->port; }

void nemu_server_stop(nemu_server *s) {
    if (!s) return;
    MHD_stop_daemon(s->d);
    nemu_rpc_free(s->rpc);
    free(s);
}
