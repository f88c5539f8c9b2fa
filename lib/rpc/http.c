/* http.c — the HTTP/1.1 transport of the RPC client for http:// endpoints.
 *
 * One dg_http_conn per endpoint holds at most one socket, kept open between
 * requests (keep-alive), with TCP_NODELAY so a request goes out in one
 * segment. Everything is non-blocking: the engine in rpc.c polls the
 * descriptor each connection wants (dg_http_want) and calls dg_http_step,
 * so requests to several endpoints run in parallel in one thread.
 *
 * The one subtle rule is when a request may be sent again. A kept-alive
 * connection that the server has closed while idle is detected before
 * sending (a peek sees the close) and replaced by a fresh one: nothing was
 * sent, so this is safe for any request. Sending on a connection whose
 * close was not visible yet fails when nothing at all could be written
 * (safe again, reconnect) or after the request was written; only then is
 * the answer "maybe processed", and the request is repeated on a fresh
 * connection only if the caller said it may be (reads), and only once.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_internal.h"

enum { C_IDLE, C_CONNECTING, C_SENDING, C_RECEIVING, C_ENDED };

struct dg_http_conn {
    const dg_http_url *u; /* owned by the caller, outlives the connection */
    int fd;               /* -1 when not connected */
    int reused;           /* fd already carried an exchange */
    int st;
    struct addrinfo *ai, *next_ai; /* addresses of the connect in progress */
    int conn_errno;
    dg_buf req; /* the request bytes */
    size_t req_off;
    dg_buf *out;
    size_t max_body;
    dg_http_resp resp;
    long long deadline;
    int may_repeat, repeated, sent;
    dg_http_fail fail;
    const char *why;
};

dg_http_conn *dg_http_conn_new(const dg_http_url *u) {
    dg_http_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->u = u;
    c->fd = -1;
    dg_buf_init(&c->req);
    return c;
}

static void drop_socket(dg_http_conn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->reused = 0;
}

static void free_addrs(dg_http_conn *c) {
    if (c->ai) freeaddrinfo(c->ai);
    c->ai = c->next_ai = NULL;
}

void dg_http_conn_free(dg_http_conn *c) {
    if (!c) return;
    drop_socket(c);
    free_addrs(c);
    dg_buf_wipe(&c->req); /* the target may hold an API key */
    free(c);
}

void dg_http_abort(dg_http_conn *c) {
    if (!c) return;
    if (c->st != C_IDLE && c->st != C_ENDED) drop_socket(c);
    free_addrs(c);
    c->st = C_IDLE;
}

static int end(dg_http_conn *c, dg_http_fail f, const char *why) {
    c->fail = f;
    c->why = why;
    c->st = C_ENDED;
    if (f != DG_HTTP_OK || !c->resp.keep_alive) drop_socket(c);
    free_addrs(c);
    return 1;
}

/* Try the remaining addresses until one connects or is in progress. */
static int connect_next(dg_http_conn *c) {
    while (c->next_ai) {
        struct addrinfo *a = c->next_ai;
        c->next_ai = a->ai_next;
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            c->conn_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        c->fd = fd;
        c->reused = 0;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            c->st = C_SENDING;
            return 0;
        }
        if (errno == EINPROGRESS) {
            c->st = C_CONNECTING;
            return 0;
        }
        c->conn_errno = errno;
        drop_socket(c);
    }
    return end(c, c->conn_errno == ECONNREFUSED ? DG_HTTP_E_REFUSED : DG_HTTP_E_CONNECT, NULL);
}

static int open_fresh(dg_http_conn *c) {
    drop_socket(c);
    free_addrs(c);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    const char *port = c->u->port[0] ? c->u->port : (c->u->https ? "443" : "80");
    if (getaddrinfo(c->u->host, port, &hints, &c->ai) != 0) {
        c->ai = NULL;
        return end(c, DG_HTTP_E_RESOLVE, NULL);
    }
    c->next_ai = c->ai;
    c->conn_errno = ECONNREFUSED;
    return connect_next(c);
}

/* A kept-alive socket is still usable when the server has neither closed it
 * nor sent anything unasked. */
static int idle_socket_alive(int fd) {
    char b;
    ssize_t r = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int dg_http_start(dg_http_conn *c, const char *body, size_t blen, long long deadline_ms,
                  int may_repeat, dg_buf *out, size_t max_body) {
    const dg_http_url *u = c->u;
    c->req.len = 0;
    dg_buf_printf(&c->req,
                  "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: dstack-gov\r\n"
                  "Accept: */*\r\nContent-Type: application/json\r\n",
                  u->target, u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "", u->port[0] ? ":" : "",
                  u->port);
    if (u->auth) dg_buf_printf(&c->req, "Authorization: %s\r\n", u->auth);
    dg_buf_printf(&c->req, "Content-Length: %zu\r\n\r\n", blen);
    dg_buf_append(&c->req, body, blen);
    if (c->req.oom) {
        dg_buf_free(&c->req);
        return 0;
    }
    c->req_off = 0;
    c->out = out;
    c->max_body = max_body;
    dg_http_resp_init(&c->resp, out, max_body);
    c->deadline = deadline_ms;
    c->may_repeat = may_repeat;
    c->repeated = c->sent = 0;
    c->fail = DG_HTTP_OK;
    c->why = NULL;
    if (c->fd >= 0 && idle_socket_alive(c->fd)) {
        c->reused = 1;
        c->st = C_SENDING;
    } else {
        open_fresh(c);
    }
    return 1;
}

/* The connection broke before a response began. Reconnect and send again
 * when that cannot duplicate the request, or when the caller allows it. */
static int lost_before_response(dg_http_conn *c, dg_http_fail f) {
    if (c->reused && (!c->sent || (c->may_repeat && !c->repeated))) {
        if (c->sent) c->repeated = 1;
        c->sent = 0;
        c->req_off = 0;
        dg_http_resp_init(&c->resp, c->out, c->max_body);
        open_fresh(c);
        return c->st == C_ENDED;
    }
    return end(c, f, NULL);
}

static int do_send(dg_http_conn *c) {
    while (c->req_off < c->req.len) {
        ssize_t w = send(c->fd, c->req.data + c->req_off, c->req.len - c->req_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->req_off += (size_t)w;
            c->sent = 1;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (w < 0 && errno == EINTR) continue;
        return lost_before_response(c, DG_HTTP_E_IO);
    }
    c->st = C_RECEIVING;
    return -1; /* go on receiving */
}

static int do_recv(dg_http_conn *c) {
    char buf[16384];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            if (!dg_http_resp_started(&c->resp)) return lost_before_response(c, DG_HTTP_E_IO);
            return end(c, DG_HTTP_E_IO, "connection reset during the response");
        }
        if (r == 0) {
            if (!dg_http_resp_started(&c->resp)) return lost_before_response(c, DG_HTTP_E_NOTHING);
            if (dg_http_resp_eof(&c->resp) == DG_HTTP_DONE) {
                c->resp.keep_alive = 0;
                return end(c, DG_HTTP_OK, NULL);
            }
            return end(c, DG_HTTP_E_IO, c->resp.why);
        }
        size_t used = 0;
        int rc = dg_http_resp_feed(&c->resp, buf, (size_t)r, &used);
        if (rc == DG_HTTP_DONE) {
            if (used < (size_t)r) c->resp.keep_alive = 0; /* bytes nobody asked for */
            return end(c, DG_HTTP_OK, NULL);
        }
        if (rc == DG_HTTP_BAD)
            return end(c,
                       c->resp.too_big ? DG_HTTP_E_TOO_BIG
                                       : (c->resp.nomem ? DG_HTTP_E_NOMEM : DG_HTTP_E_PROTOCOL),
                       c->resp.why);
    }
}

int dg_http_step(dg_http_conn *c) {
    for (;;) {
        switch (c->st) {
        case C_IDLE:
        case C_ENDED:
            return 1;
        default:
            break;
        }
        if (dg_rpc_now_ms() >= c->deadline) return end(c, DG_HTTP_E_TIMEOUT, NULL);
        if (c->st == C_CONNECTING) {
            struct pollfd p = {c->fd, POLLOUT, 0};
            if (poll(&p, 1, 0) <= 0) return 0;
            int e = 0;
            socklen_t el = sizeof e;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) e = errno;
            if (e == 0) {
                c->st = C_SENDING;
                continue;
            }
            c->conn_errno = e;
            drop_socket(c);
            if (connect_next(c)) return 1;
            continue;
        }
        if (c->st == C_SENDING) {
            int r = do_send(c);
            if (r >= 0) return r;
            continue;
        }
        return do_recv(c);
    }
}

void dg_http_want(const dg_http_conn *c, int *fd, short *events, long long *deadline_ms) {
    *fd = -1;
    *events = 0;
    *deadline_ms = c->deadline;
    if (c->st == C_CONNECTING || c->st == C_SENDING)
        *events = POLLOUT;
    else if (c->st == C_RECEIVING)
        *events = POLLIN;
    else
        return;
    *fd = c->fd;
}

dg_http_fail dg_http_result(const dg_http_conn *c, int *status, int *sent, const char **why) {
    if (status) *status = c->resp.status;
    if (sent) *sent = c->sent;
    if (why) *why = c->why ? c->why : "";
    return c->fail;
}
