/* server.c — the epoll HTTP/1.1 server of lib/httpd (see dstackgov/httpd.h).
 *
 * One listening socket is watched by every worker with EPOLLEXCLUSIVE, so a
 * new connection wakes one worker, which then owns it until it closes. A
 * worker reads what is available, parses as many complete requests as the
 * buffer holds (pipelining), calls the handler for each, frames the replies
 * and writes them. A handler that would wait (dstack-authd's cache miss
 * waits for an RPC round trip) defers its answer instead: the connection
 * then waits for dg_httpd_complete, which another thread calls and this
 * worker picks up through its eventfd, while the worker goes on serving its
 * other connections. While a reply
 * is still pending the connection is watched for EPOLLOUT only, so a client
 * that does not read cannot make the server buffer without bound.
 *
 * Memory per connection is bounded by the input cap (DG_HTTP_HEAD_MAX plus
 * max_body) and the pending replies of one buffer's worth of requests.
 * Every connection has a deadline: a request (head and body) must be
 * complete within request_timeout_ms of the accept or of its first byte, and
 * an idle keep-alive connection waits at most idle_timeout_ms for its next
 * request. A connection that is closed by the server after an error is
 * closed "lingering": shut for writing, then drained for up to 2 s, so the
 * client reads the answer instead of a reset.
 *
 * No neighbour can starve the server of connections: at max_connections, a
 * new connection is still accepted, and room is made by closing an idle
 * connection (no request in progress: oldest first), else the one that has
 * been sending an incomplete request the longest (a slowloris). Each worker
 * owns its connections, so the worker that accepts evicts among its own;
 * when it has none to close it wakes the others, which evict while the count
 * is over the limit. Only when every connection is busy with a complete
 * request (or younger than 100 ms), and the count is a quarter over the
 * limit, is a new connection refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dstackgov/httpd.h"

#define LINGER_NS (2000LL * 1000000LL)
#define DISCARD_MAX (1024u * 1024u) /* larger refused bodies close the connection instead */
#define IN_MIN 4096
#define EVICT_MIN_NS (100LL * 1000000LL)

typedef struct conn conn;
typedef struct worker worker;

struct conn {
    int fd;
    worker *w;
    char *in;
    size_t in_len, in_cap;
    dg_buf out;
    size_t out_off;
    long long deadline;
    long long since;   /* idle: when it became idle; else when its request began */
    int busy;          /* bytes of a request have arrived since the last answer */
    int kept;          /* has answered a request (kept alive since) */
    uint64_t discard;  /* bytes of a refused body still to drop */
    int close_after;   /* close once the pending output is written */
    int lingering;     /* shut for writing, draining input until EOF or deadline */
    int sent_continue; /* 100 Continue already sent for the request being read */
    int inflight;      /* a request head is parsed and its answer not yet written */
    int waiting;       /* a deferred answer is pending: read nothing more */
    int dead;          /* closed while waiting: freed when the answer arrives */
    uint32_t events;   /* what epoll watches now */
    conn *prev, *next;
};

struct dg_httpd_pending {
    conn *c;
    int head_only, keep, minor;
    dg_http_reply rp;
    dg_httpd_pending *next;
};

/* What a handler's request carries for dg_httpd_defer. */
typedef struct {
    conn *c;
    dg_httpd_pending *p;
} defer_slot;

struct worker {
    dg_httpd *s;
    pthread_t th;
    int ep, evfd;
    conn *conns;
    pthread_mutex_t done_mu; /* deferred answers completed by other threads */
    dg_httpd_pending *done;
    time_t date_sec;
    char date[40];
    long long accept_paused_until; /* out of descriptors: not accepting until then */
};

struct dg_httpd {
    int lfd, port, nw;
    dg_httpd_opts o;
    size_t in_max;
    worker *w;
    int stopping, quiesced;
    unsigned long inflight;
    int nconns, hard_cap;
    unsigned long long evicted, idle_timeouts, request_timeouts, refused;
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *reason_phrase(unsigned st) {
    switch (st) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

static void set_events(conn *c, uint32_t ev) {
    if (c->events == ev) return;
    struct epoll_event e = {.events = ev, .data = {.ptr = c}};
    epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void conn_done_request(conn *c) {
    if (!c->inflight) return;
    c->inflight = 0;
    __atomic_sub_fetch(&c->w->s->inflight, 1, __ATOMIC_RELAXED);
}

/* Release a connection already closed and unlinked. */
static void conn_free(conn *c) {
    conn_done_request(c);
    free(c->in);
    dg_buf_free(&c->out);
    free(c);
}

/* Close c and unlink it from w's list (w is c's worker). */
static void conn_close_in(worker *w, conn *c) {
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (w->conns == c) w->conns = c->next;
    if (c->prev) c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    __atomic_sub_fetch(&w->s->nconns, 1, __ATOMIC_RELAXED);
    if (c->waiting) { /* its answer is still being decided: the completion frees it */
        c->dead = 1;
        c->fd = -1;
        c->prev = c->next = NULL;
        return;
    }
    conn_free(c);
}

static void conn_close(conn *c) {
    conn_close_in(c->w, c);
}

static const char *http_date(worker *w) {
    time_t t = time(NULL);
    if (t != w->date_sec) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_sec = t;
    }
    return w->date;
}

/* Frame one reply into c->out. head_only: HEAD request (no body bytes). */
static void queue_reply(conn *c, dg_http_reply *rp, int head_only, int keep_alive, int minor) {
    dg_buf *o = &c->out;
    if (rp->body.oom) { /* the handler ran out of memory: say so, never a half body */
        dg_buf_free(&rp->body);
        rp->status = 500;
        rp->content_type = "text/plain";
        dg_buf_puts(&rp->body, "out of memory\n");
    }
    dg_buf_printf(o, "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nDate: %s\r\n",
                  rp->status, reason_phrase(rp->status),
                  rp->content_type ? rp->content_type : "application/json", rp->body.len,
                  http_date(c->w));
    if (rp->allow) dg_buf_printf(o, "Allow: %s\r\n", rp->allow);
    if (!keep_alive)
        dg_buf_puts(o, "Connection: close\r\n");
    else if (minor == 0)
        dg_buf_puts(o, "Connection: keep-alive\r\n");
    dg_buf_puts(o, "\r\n");
    if (!head_only && rp->body.len) dg_buf_append(o, rp->body.data, rp->body.len);
    dg_buf_free(&rp->body);
    if (o->oom) c->close_after = 1;
}

static void reject(conn *c, int status, const char *why) {
    dg_httpd *s = c->w->s;
    dg_http_reply rp = {.status = (unsigned)status, .content_type = "text/plain"};
    dg_buf_init(&rp.body);
    if (s->o.on_reject)
        s->o.on_reject(s->o.ctx, why, &rp);
    else {
        dg_buf_puts(&rp.body, why);
        dg_buf_push(&rp.body, '\n');
    }
    queue_reply(c, &rp, 0, 0, 1);
    c->close_after = 1;
    c->in_len = 0;
}

static void consume(conn *c, size_t n) {
    if (n >= c->in_len)
        c->in_len = 0;
    else {
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
    }
}

static int ensure_in(conn *c, size_t need) {
    if (c->in_cap >= need) return 1;
    size_t cap = c->in_cap ? c->in_cap : IN_MIN;
    while (cap < need)
        cap *= 2;
    if (cap > c->w->s->in_max) cap = c->w->s->in_max;
    if (cap < need) return 0;
    char *p = realloc(c->in, cap);
    if (!p) return 0;
    c->in = p;
    c->in_cap = cap;
    return 1;
}

static void finish_reply(conn *c, dg_http_reply *rp, int head_only, int keep, int minor);

/* Handle every complete request in the input buffer. */
static void conn_process(conn *c) {
    dg_httpd *s = c->w->s;
    char why[256];
    while (!c->close_after && !c->waiting && c->out.len == c->out_off) {
        if (c->discard) {
            size_t k = c->discard < c->in_len ? (size_t)c->discard : c->in_len;
            consume(c, k);
            c->discard -= k;
            if (c->discard) return;
        }
        if (c->in_len == 0) return;
        dg_http_head h;
        int r = dg_http_head_parse(c->in, c->in_len, &h, why, sizeof why);
        if (r == 0) return;
        if (r < 0) {
            reject(c, -r, why);
            return;
        }
        if (!c->inflight) {
            c->inflight = 1;
            __atomic_add_fetch(&s->inflight, 1, __ATOMIC_RELAXED);
        }
        int too_large = h.has_length && h.content_length > s->o.max_body;
        size_t blen = too_large || !h.has_length ? 0 : (size_t)h.content_length;
        if (!too_large && c->in_len < (size_t)r + blen) {
            if (!ensure_in(c, (size_t)r + blen)) {
                reject(c, 500, "out of memory");
                return;
            }
            if (h.expect_continue && !c->sent_continue) {
                dg_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                c->sent_continue = 1;
            }
            return;
        }
        defer_slot slot = {c, NULL};
        dg_http_request rq = {.head = &h,
                              .body = blen ? (const uint8_t *)c->in + r : NULL,
                              .body_len = blen,
                              .too_large = too_large,
                              .t0_ns = now_ns(),
                              .internal_ = &slot};
        dg_http_reply rp = {.status = 200, .content_type = "application/json"};
        dg_buf_init(&rp.body);
        s->o.handler(s->o.ctx, &rq, &rp);
        int head_only = h.method_len == 4 && memcmp(h.method, "HEAD", 4) == 0;
        int keep = h.keep_alive;
        if (too_large) {
            /* The client that asked to continue will not send the body; one
             * that did not is sending it now: drop a small one, close on a big one. */
            if (h.expect_continue && !c->sent_continue)
                keep = 0;
            else if (h.content_length <= DISCARD_MAX)
                c->discard = h.content_length;
            else
                keep = 0;
        }
        consume(c, (size_t)r + blen);
        c->sent_continue = 0;
        dg_httpd_pending *pend = slot.p;
        if (pend) { /* answered later by dg_httpd_complete; the completion is
                     * taken by this worker thread only, after this returns */
            dg_buf_free(&rp.body);
            pend->head_only = head_only;
            pend->keep = keep;
            pend->minor = h.minor;
            c->waiting = 1;
            return;
        }
        finish_reply(c, &rp, head_only, keep, h.minor);
    }
}

/* The answer is framed: queue it and apply its keep-alive decision. */
static void finish_reply(conn *c, dg_http_reply *rp, int head_only, int keep, int minor) {
    queue_reply(c, rp, head_only, keep, minor);
    if (!keep) {
        c->close_after = 1;
        c->in_len = 0;
    }
    c->since = now_ns();
    c->busy = 0;
    c->kept = 1;
    c->deadline = c->since + (long long)c->w->s->o.idle_timeout_ms * 1000000LL;
}

dg_httpd_pending *dg_httpd_defer(const dg_http_request *rq) {
    defer_slot *slot = rq->internal_;
    if (!slot || slot->p) return NULL; /* not from a handler, or deferred twice */
    slot->p = calloc(1, sizeof *slot->p);
    /* set before the handler can hand p to another thread: a completion may
     * come before the handler has even returned */
    if (slot->p) slot->p->c = slot->c;
    return slot->p;
}

void dg_httpd_complete(dg_httpd_pending *p, dg_http_reply *rp) {
    worker *w = p->c->w;
    p->rp = *rp;
    rp->body.data = NULL;
    rp->body.len = rp->body.cap = 0;
    pthread_mutex_lock(&w->done_mu);
    p->next = w->done;
    w->done = p;
    pthread_mutex_unlock(&w->done_mu);
    uint64_t one = 1;
    ssize_t k = write(w->evfd, &one, sizeof one);
    (void)k;
}

/* Write pending output; returns 0 when the connection was closed. */
static int conn_flush(conn *c) {
    while (c->out_off < c->out.len) {
        ssize_t k = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (k > 0) {
            c->out_off += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(c, EPOLLOUT);
            return 1;
        }
        conn_close(c);
        return 0;
    }
    c->out.len = c->out_off = 0;
    if (c->out.cap > 65536) dg_buf_free(&c->out);
    /* an answer is complete once written (a 100 Continue alone is not one,
     * nor is an empty flush while the answer is deferred) */
    if (!c->sent_continue && !c->waiting) conn_done_request(c);
    if (c->close_after && !c->lingering) {
        shutdown(c->fd, SHUT_WR);
        c->lingering = 1;
        c->deadline = now_ns() + LINGER_NS;
    }
    /* while an answer is deferred nothing more is read (EPOLLERR/EPOLLHUP
     * still tell a closed connection) */
    set_events(c, c->waiting ? 0 : EPOLLIN | EPOLLRDHUP);
    return 1;
}

/* Process buffered requests and write answers until input or output stalls. */
static void conn_run(conn *c) {
    /* conn_process stops at the first answer; once it is written in full,
     * requests already buffered (pipelined) are next: no event announces them */
    for (;;) {
        conn_process(c);
        int answered = c->out.len > c->out_off;
        if (!conn_flush(c) || !answered || c->out.len || c->close_after || c->waiting) return;
    }
}

/* Deferred answers completed by other threads: send them. */
static void take_completed(worker *w) {
    pthread_mutex_lock(&w->done_mu);
    dg_httpd_pending *p = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->done_mu);
    while (p) {
        dg_httpd_pending *next = p->next;
        conn *c = p->c;
        c->waiting = 0;
        if (c->dead) {
            dg_buf_free(&p->rp.body);
            conn_free(c);
        } else {
            finish_reply(c, &p->rp, p->head_only, p->keep, p->minor);
            conn_run(c);
        }
        free(p);
        p = next;
    }
}

static void conn_readable(conn *c) {
    dg_httpd *s = c->w->s;
    for (;;) {
        if (c->lingering) {
            char sink[4096];
            ssize_t k = recv(c->fd, sink, sizeof sink, 0);
            if (k > 0) continue;
            if (k < 0 && errno == EINTR) continue;
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            conn_close(c);
            return;
        }
        if (c->in_len == c->in_cap) {
            size_t want = c->in_cap ? c->in_cap * 2 : IN_MIN;
            if (want > s->in_max) want = s->in_max;
            if (c->in_len == want || !ensure_in(c, want)) {
                /* full: the parser has what it needs to decide; process first */
                break;
            }
        }
        ssize_t k = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (k > 0) {
            if (!c->busy) { /* the first bytes of a request: it has request_timeout_ms */
                long long t = now_ns();
                long long dl = t + (long long)s->o.request_timeout_ms * 1000000LL;
                c->busy = 1;
                if (c->kept) c->deadline = dl; /* a fresh connection's counts from the accept */
                c->since = t;
            }
            c->in_len += (size_t)k;
            if (c->in_len < c->in_cap) break; /* drained what the kernel had */
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_close(c); /* EOF or error: a request not yet complete is dropped */
        return;
    }
    conn_run(c);
}

/* Whether c may be closed to make room: 2 idle (no request in progress, or
 * already closing), 1 sending an incomplete request, 0 busy with a complete
 * one (being handled, deferred, or its answer being written) or too young to
 * judge (accepted, or its request begun, less than EVICT_MIN_NS ago: a client
 * whose bytes are on their way is not a slow one). */
static int evict_class(const conn *c, long long now) {
    if (c->waiting || c->inflight || c->out.len > c->out_off) return c->lingering ? 2 : 0;
    if (c->lingering || (c->kept && !c->busy && c->in_len == 0 && !c->discard)) return 2;
    if (now - c->since < EVICT_MIN_NS) return 0;
    return !c->busy && c->in_len == 0 && !c->discard ? 2 : 1;
}

/* Close the idle connection of w that has been idle the longest, else the
 * one sending an incomplete request the longest. Returns 1 if one was closed. */
static int evict_one(worker *w) {
    conn *best = NULL;
    int best_class = 0;
    long long now = now_ns();
    for (conn *c = w->conns; c; c = c->next) {
        /* the analyzer assumes a list head whose prev is set after a close
         * (conn_close_in unlinks head and middle alike): a false positive */
        int k = evict_class(c, now); // NOLINT(clang-analyzer-unix.Malloc)
        if (k > best_class || (k && k == best_class && c->since < best->since)) {
            best = c;
            best_class = k;
        }
    }
    if (!best) return 0;
    __atomic_add_fetch(&w->s->evicted, 1, __ATOMIC_RELAXED);
    conn_close_in(w, best);
    return 1;
}

/* While the server is over its limit, close what this worker can. */
static void evict_over_limit(worker *w) {
    dg_httpd *s = w->s;
    while (__atomic_load_n(&s->nconns, __ATOMIC_RELAXED) > s->o.max_connections)
        if (!evict_one(w)) return;
}

static void wake_others(worker *w) {
    dg_httpd *s = w->s;
    int nw = __atomic_load_n(&s->nw, __ATOMIC_ACQUIRE); /* workers may still be starting */
    for (int i = 0; i < nw; i++)
        if (&s->w[i] != w) {
            uint64_t one = 1;
            ssize_t k = write(s->w[i].evfd, &one, sizeof one);
            (void)k;
        }
}

static void accept_all(worker *w) {
    dg_httpd *s = w->s;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EMFILE && errno != ENFILE) return;
            if (evict_one(w)) continue; /* out of descriptors: make room and retry */
            /* nothing to close here: stop watching the socket for a moment
             * (level-triggered, it would wake this worker in a loop) */
            if (!__atomic_load_n(&s->quiesced, __ATOMIC_ACQUIRE) &&
                epoll_ctl(w->ep, EPOLL_CTL_DEL, s->lfd, NULL) == 0)
                w->accept_paused_until = now_ns() + 50000000LL;
            return;
        }
        int n = __atomic_add_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
        if (n > s->o.max_connections && !evict_one(w)) {
            if (n > s->hard_cap) { /* every connection is busy with a request */
                __atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&s->refused, 1, __ATOMIC_RELAXED);
                close(fd);
                continue;
            }
            wake_others(w); /* they evict while the count is over the limit */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            __atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->w = w;
        dg_buf_init(&c->out);
        c->since = now_ns();
        c->deadline = c->since + (long long)s->o.request_timeout_ms * 1000000LL;
        c->events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event e = {.events = c->events, .data = {.ptr = c}};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
            __atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
            close(fd);
            free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
    }
}

/* Close the connections past their deadline (once a second per worker; a
 * close restarts the walk from the head, which stays cheap at <= 1000). */
static void sweep(worker *w) {
    long long t = now_ns();
    for (;;) {
        conn *c = w->conns;
        while (c && (c->waiting || t <= c->deadline))
            c = c->next;
        if (!c) return;
        if (!c->lingering)
            __atomic_add_fetch(c->busy || !c->kept ? &w->s->request_timeouts : &w->s->idle_timeouts,
                               1, __ATOMIC_RELAXED);
        conn_close_in(w, c);
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    dg_httpd *s = w->s;
    struct epoll_event ev[64];
    long long next_sweep = now_ns() + 1000000000LL;
    while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
        if (w->accept_paused_until && now_ns() >= w->accept_paused_until) {
            w->accept_paused_until = 0;
            struct epoll_event el = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data = {.ptr = &s->lfd}};
            if (!__atomic_load_n(&s->quiesced, __ATOMIC_ACQUIRE))
                epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &el);
        }
        int n = epoll_wait(w->ep, ev, 64, w->accept_paused_until ? 50 : 1000), completed = 0;
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &s->lfd)
                accept_all(w);
            else if (p == &w->evfd) {
                uint64_t x;
                ssize_t k = read(w->evfd, &x, sizeof x);
                (void)k;
                completed = 1;
            } else {
                conn *c = p;
                if (ev[i].events & (EPOLLERR | EPOLLHUP))
                    conn_close(c);
                else if (ev[i].events & EPOLLOUT) {
                    if (conn_flush(c) && c->out.len == 0 && !c->lingering) conn_readable(c);
                } else if (ev[i].events & (EPOLLIN | EPOLLRDHUP))
                    conn_readable(c);
            }
        }
        /* after the batch: sending a completed answer can close (free) its
         * connection, whose own event may still be further down ev[] */
        if (completed) take_completed(w);
        evict_over_limit(w);
        long long t = now_ns();
        if (t >= next_sweep) {
            sweep(w);
            next_sweep = t + 1000000000LL;
        }
    }
    return NULL;
}

/* Start workers until there are upto of them. */
static int start_workers(dg_httpd *s, int upto, dg_err *err) {
    for (int i = s->nw; i < upto; i++) {
        worker *w = &s->w[i];
        w->s = s;
        pthread_mutex_init(&w->done_mu, NULL);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event el = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data = {.ptr = &s->lfd}};
        struct epoll_event ee = {.events = EPOLLIN, .data = {.ptr = &w->evfd}};
        if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &el) != 0 ||
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ee) != 0 ||
            pthread_create(&w->th, NULL, worker_main, w) != 0) {
            int e = errno;
            if (w->ep >= 0) close(w->ep);
            if (w->evfd >= 0) close(w->evfd);
            return dg_err_set(err, DG_ERR_IO, "cannot start HTTP worker: %s", strerror(e));
        }
        __atomic_store_n(&s->nw, i + 1, __ATOMIC_RELEASE); /* w ready: read by wake_others */
    }
    return 1;
}

dg_httpd *dg_httpd_start(const dg_httpd_opts *o, dg_err *err) {
    if (!o->handler || o->threads < 1 || o->threads > 64 || o->max_connections < 1 ||
        o->idle_timeout_ms < 1 || o->request_timeout_ms < 0) {
        dg_err_set(err, DG_ERR_INTERNAL, "httpd: bad options");
        return NULL;
    }
    dg_httpd *s = calloc(1, sizeof *s);
    if (!s) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->o = *o;
    if (!s->o.request_timeout_ms) s->o.request_timeout_ms = o->idle_timeout_ms;
    s->hard_cap = o->max_connections + o->max_connections / 4 + 16;
    s->in_max = DG_HTTP_HEAD_MAX + o->max_body;
    int one = 1, e = 0;
    if (o->listen_fd > 0) {
        /* socket activation: the socket must already be a listening stream socket */
        int acc = 0, type = 0;
        socklen_t l1 = sizeof acc, l2 = sizeof type;
        s->lfd = o->listen_fd;
        if (getsockopt(s->lfd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l1) != 0 ||
            getsockopt(s->lfd, SOL_SOCKET, SO_TYPE, &type, &l2) != 0 || !acc ||
            type != SOCK_STREAM) {
            free(s);
            dg_err_set(err, DG_ERR_IO, "inherited descriptor %d is not a listening stream socket",
                       o->listen_fd);
            return NULL;
        }
        if (fcntl(s->lfd, F_SETFL, fcntl(s->lfd, F_GETFL) | O_NONBLOCK) != 0 ||
            fcntl(s->lfd, F_SETFD, FD_CLOEXEC) != 0)
            e = errno;
    } else {
        s->lfd = socket(o->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            bind(s->lfd, o->addr, o->addr_len) != 0 || listen(s->lfd, 1024) != 0)
            e = errno;
    }
    if (e) {
        if (s->lfd >= 0) close(s->lfd);
        free(s);
        dg_err_set(err, DG_ERR_IO, "%s", strerror(e));
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    getsockname(s->lfd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    s->w = calloc((size_t)o->threads, sizeof *s->w);
    if (!s->w) {
        close(s->lfd);
        free(s);
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int first =
        o->start_threads > 0 && o->start_threads < o->threads ? o->start_threads : o->threads;
    if (!start_workers(s, first, err)) {
        dg_httpd_stop(s, 0);
        return NULL;
    }
    return s;
}

int dg_httpd_start_workers(dg_httpd *s, dg_err *err) {
    return start_workers(s, s->o.threads, err);
}

int dg_httpd_port(const dg_httpd *s) {
    return s->port;
}

void dg_httpd_get_stats(dg_httpd *s, dg_httpd_stats *st) {
    st->open = __atomic_load_n(&s->nconns, __ATOMIC_RELAXED);
    st->evicted = __atomic_load_n(&s->evicted, __ATOMIC_RELAXED);
    st->idle_timeouts = __atomic_load_n(&s->idle_timeouts, __ATOMIC_RELAXED);
    st->request_timeouts = __atomic_load_n(&s->request_timeouts, __ATOMIC_RELAXED);
    st->refused = __atomic_load_n(&s->refused, __ATOMIC_RELAXED);
}

void dg_httpd_quiesce(dg_httpd *s, long wait_ms) {
    if (!s || s->quiesced) return;
    __atomic_store_n(&s->quiesced, 1, __ATOMIC_RELEASE);
    /* stop accepting: no worker watches the socket any more, and a pending
     * accept fails; the descriptor itself is closed after the workers end */
    for (int i = 0; i < s->nw; i++)
        epoll_ctl(s->w[i].ep, EPOLL_CTL_DEL, s->lfd, NULL);
    /* (an inherited socket is shared with whoever passed it, e.g. systemd for
     * the next activation: shutdown would stop it listening for them too) */
    if (s->o.listen_fd <= 0) shutdown(s->lfd, SHUT_RD);
    for (long waited = 0; waited < wait_ms && __atomic_load_n(&s->inflight, __ATOMIC_RELAXED);
         waited += 5) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
}

void dg_httpd_stop(dg_httpd *s, long wait_ms) {
    if (!s) return;
    dg_httpd_quiesce(s, wait_ms);
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < s->nw; i++) {
        uint64_t one = 1;
        ssize_t k = write(s->w[i].evfd, &one, sizeof one);
        (void)k;
    }
    for (int i = 0; i < s->nw; i++)
        pthread_join(s->w[i].th, NULL);
    for (int i = 0; i < s->nw; i++) {
        worker *w = &s->w[i];
        take_completed(w); /* answers completed after the worker stopped: free them */
        while (w->conns)
            conn_close_in(w, w->conns);
        close(w->ep);
        close(w->evfd);
        pthread_mutex_destroy(&w->done_mu);
    }
    close(s->lfd);
    free(s->w);
    free(s);
}
