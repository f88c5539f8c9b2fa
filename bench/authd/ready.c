/* ready.c — time from exec to the first answer of a freshly started daemon.
 *
 *   authd-ready RUNS PORT BODY_FILE -- PROGRAM ARGS...
 *   authd-ready --socket-activation RUNS BODY_FILE -- PROGRAM ARGS...
 *
 * For each run: note the monotonic clock, fork and exec PROGRAM ARGS, then
 * connect to 127.0.0.1:PORT over and over (every 50 µs) until it accepts,
 * send one POST /bootAuth/app with BODY_FILE as the body and read the whole
 * answer. The figure is the time from just before fork to the last byte of
 * an HTTP 200 answer. The child is then stopped with SIGTERM (by its PID) and
 * reaped. Prints one line per run and then best and median in milliseconds.
 * Nothing else runs in this process, so the figure carries no interpreter or
 * event-loop overhead (a Node or Python harness adds 2–10 ms of its own).
 *
 * With --socket-activation the harness binds 127.0.0.1 (any free port)
 * itself and hands the listening socket to the program as systemd does
 * (descriptor 3, LISTEN_FDS=1, LISTEN_PID = the program's PID). It connects
 * and sends the request at once: the kernel queues it until the program
 * accepts, so no polling is involved and the figure is exec to answer
 * exactly. A program that does not support socket activation never answers
 * and the run fails.
 *
 * Wall time on a shared 2-core machine moves with the other processes' load,
 * so each run also reports what the program itself spent up to the answer,
 * read from /proc just before the SIGTERM: CPU time over all its threads (the
 * sum of /proc/PID/task/N/schedstat, in the kernel's exec work included) and
 * minor page faults (/proc/PID/stat). Those move little with the load, and
 * tell a before/after change apart when the wall times cannot.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int exchange(int fd, const char *req, size_t reqlen);

/* One request on a fresh connection: 1 on an HTTP 200, 0 when the port does
 * not accept yet, -1 when it accepted but the answer was not a 200. */
static int try_once(int port, const char *req, size_t reqlen) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    return exchange(fd, req, reqlen);
}

static int exchange(int fd, const char *req, size_t reqlen) {
    int one = 1;
    struct timeval tv = {5, 0}; /* a daemon that accepts but never answers fails the run */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < reqlen) {
        ssize_t k = write(fd, req + off, reqlen - off);
        if (k <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)k;
    }
    char buf[4096];
    size_t got = 0;
    for (;;) {
        ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
        if (got == sizeof buf - 1) break;
    }
    close(fd);
    buf[got] = 0;
    if (got == 0) return 0; /* accepted by the kernel before the server was ready, then closed */
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 1 : -1;
}

/* CPU time of every thread of pid so far, in ms; -1 when unreadable. */
static double cpu_ms(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    double ns = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[64 + sizeof e->d_name + 16];
        snprintf(p, sizeof p, "%s/%s/schedstat", path, e->d_name);
        FILE *f = fopen(p, "r");
        unsigned long long run = 0;
        if (f && fscanf(f, "%llu", &run) == 1) ns += (double)run;
        if (f) fclose(f);
    }
    closedir(d);
    return ns / 1e6;
}

/* Minor page faults of pid so far (field 10 of /proc/PID/stat); -1 when unreadable. */
static long minflt(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    long v = -1;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %ld", &v) != 1) v = -1;
    return v;
}

static int listen_any(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* no CLOEXEC: the child inherits it */
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

int main(int argc, char **argv) {
    int activation = argc > 1 && strcmp(argv[1], "--socket-activation") == 0;
    int need = 6; /* "--" is argv[4] in both forms */
    if (argc < need || strcmp(argv[need - 2], "--") != 0) {
        fprintf(stderr,
                "usage: authd-ready RUNS PORT BODY_FILE -- PROGRAM ARGS...\n"
                "       authd-ready --socket-activation RUNS BODY_FILE -- PROGRAM ARGS...\n");
        return 2;
    }
    int runs = (int)strtol(argv[activation ? 2 : 1], NULL, 10),
        port = activation ? 1 : (int)strtol(argv[2], NULL, 10);
    const char *body_file = argv[need - 3];
    char **prog = argv + need - 1;
    if (runs < 1 || runs > 1000 || port < 1 || port > 65535) {
        fprintf(stderr, "authd-ready: RUNS must be 1..1000 and PORT 1..65535\n");
        return 2;
    }
    FILE *f = fopen(body_file, "rb");
    if (!f) {
        fprintf(stderr, "authd-ready: cannot open %s\n", body_file);
        return 2;
    }
    static char body[65536];
    size_t blen = fread(body, 1, sizeof body, f);
    fclose(f);
    static char req[70000];
    int n = snprintf(
        req, sizeof req,
        "POST /bootAuth/app HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
        blen);
    if (n < 0 || (size_t)n + blen > sizeof req) return 2;
    memcpy(req + n, body, blen);
    size_t reqlen = (size_t)n + blen;
    double *t = calloc((size_t)runs, sizeof *t), *cpu = calloc((size_t)runs, sizeof *cpu),
           *flt = calloc((size_t)runs, sizeof *flt);
    if (!t || !cpu || !flt) return 1;
    for (int i = 0; i < runs; i++) {
        int lfd = -1;
        if (activation && (lfd = listen_any(&port)) < 0) {
            fprintf(stderr, "authd-ready: cannot listen on 127.0.0.1\n");
            free(t);
            return 1;
        }
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            free(t);
            return 1;
        }
        if (pid == 0) {
            int dn = open("/dev/null", O_WRONLY);
            if (dn >= 0) {
                dup2(dn, 1);
                dup2(dn, 2);
            }
            if (activation) {
                char pidbuf[24];
                if (lfd != 3) {
                    dup2(lfd, 3);
                    close(lfd);
                }
                snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
                setenv("LISTEN_PID", pidbuf, 1);
                setenv("LISTEN_FDS", "1", 1);
            }
            execv(prog[0], prog);
            _exit(127);
        }
        int r = 0;
        if (activation) {
            /* the connection waits in the kernel's queue until the program accepts */
            close(lfd);
            r = try_once(port, req, reqlen);
        } else
            while ((r = try_once(port, req, reqlen)) == 0 && now_ms() - t0 < 5000) {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
        t[i] = now_ms() - t0;
        cpu[i] = cpu_ms(pid);
        flt[i] = (double)minflt(pid);
        kill(pid, SIGTERM);
        int st;
        waitpid(pid, &st, 0);
        if (r != 1) {
            fprintf(stderr, "authd-ready: run %d: %s\n", i + 1,
                    r < 0 ? "answer was not HTTP 200" : "no answer within 5 s");
            free(t);
            return 1;
        }
        printf("run %d: %.2f ms (cpu %.2f ms, %.0f minor faults)\n", i + 1, t[i], cpu[i], flt[i]);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    qsort(flt, (size_t)runs, sizeof *flt, cmp_double);
    printf("exec to first answer over %d runs%s: best %.2f ms, median %.2f ms; "
           "the program's own CPU time to the answer median %.2f ms, minor faults median %.0f\n",
           runs, activation ? " (socket activation)" : "", t[0], t[runs / 2], cpu[runs / 2],
           flt[runs / 2]);
    free(t);
    free(cpu);
    free(flt);
    return 0;
}
