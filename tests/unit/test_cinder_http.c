/* tests/unit/test_cinder_http.c -- the libcurl transport against a small
 * HTTP/1.1 server on 127.0.0.1 run by this test: connection reuse, parallel
 * requests, timeouts, the http/https-only rule, streaming bodies, limits,
 * descriptors that never reach a child. */
#define _GNU_SOURCE /* accept4() */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cinder/cinder_http.h"
#include "common/snap_time.h"

/* ---- the server
 * -------------------------------------------------------------- */

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t lock;
    int connections;
    int active; /* connection threads still running */
} server;

typedef struct conn {
    server *srv;
    int fd;
} conn;

static bool
send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Buffered reader over a connection. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t len;
    size_t pos;
} reader;

static int
rd_byte(reader *r)
{
    ssize_t n;

    if (r->pos == r->len) {
        do
            n = recv(r->fd, r->buf, sizeof(r->buf), 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return -1;
        r->len = (size_t)n;
        r->pos = 0;
    }
    return (unsigned char)r->buf[r->pos++];
}

static bool
rd_line(reader *r, char *line, size_t size)
{
    size_t o = 0;
    int c;

    for (;;) {
        c = rd_byte(r);
        if (c < 0)
            return false;
        if (c == '\n')
            break;
        if (c != '\r' && o + 1 < size)
            line[o++] = (char)c;
    }
    line[o] = '\0';
    return true;
}

static bool
rd_n(reader *r, char *out, size_t n)
{
    size_t i;
    int c;

    for (i = 0; i < n; i++) {
        c = rd_byte(r);
        if (c < 0)
            return false;
        out[i] = (char)c;
    }
    return true;
}

static void
respond(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n;

    n = snprintf(
        head, sizeof(head),
        "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nX-Test: yes\r\n%s\r\n", status,
        len, extra ? extra : "");
    if (send_all(fd, head, (size_t)n) && len)
        (void)send_all(fd, body, len); /* the client may have gone: fine */
}

static void *
conn_main(void *arg)
{
    conn *cn = arg;
    reader *r = calloc(1, sizeof(*r));
    char line[4096], method[16], path[1024];
    char *body = NULL, *big;
    size_t clen, blen, cap, chunk;
    bool chunked, expect;
    int ms;

    assert_non_null(r);
    r->fd = cn->fd;
    for (;;) {
        if (!rd_line(r, line, sizeof(line)) ||
            sscanf(line, "%15s %1023s", method, path) != 2)
            break;
        clen = 0;
        chunked = expect = false;
        while (rd_line(r, line, sizeof(line)) && line[0]) {
            if (strncasecmp(line, "Content-Length:", 15) == 0)
                clen = strtoul(line + 15, NULL, 10);
            else if (strncasecmp(line, "Transfer-Encoding: chunked", 26) == 0)
                chunked = true;
            else if (strncasecmp(line, "Expect: 100-continue", 20) == 0)
                expect = true;
        }
        if (expect && !send_all(cn->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
            break;
        blen = 0;
        if (chunked) {
            cap = 0;
            for (;;) {
                if (!rd_line(r, line, sizeof(line)))
                    goto done;
                chunk = strtoul(line, NULL, 16);
                if (chunk == 0) {
                    (void)rd_line(r, line, sizeof(line));
                    break;
                }
                if (blen + chunk > cap) {
                    cap = (blen + chunk) * 2;
                    body = realloc(body, cap);
                    assert_non_null(body);
                }
                if (!rd_n(r, body + blen, chunk) ||
                    !rd_line(r, line, sizeof(line)))
                    goto done;
                blen += chunk;
            }
        } else if (clen) {
            body = realloc(body, clen);
            assert_non_null(body);
            if (!rd_n(r, body, clen))
                break;
            blen = clen;
        }

        if (strcmp(path, "/hello") == 0) {
            respond(cn->fd, 200, "Location: /there\r\n", "hello", 5);
        } else if (strncmp(path, "/slow", 5) == 0) {
            ms = strchr(path, '=') ? atoi(strchr(path, '=') + 1) : 500;
            snap_sleep_ms(ms);
            respond(cn->fd, 200, NULL, "slow", 4);
        } else if (strcmp(path, "/echo") == 0) {
            respond(cn->fd, 201, NULL, body, blen);
        } else if (strcmp(path, "/big") == 0) {
            big = malloc(2 << 20);
            assert_non_null(big);
            memset(big, 'x', 2 << 20);
            respond(cn->fd, 200, NULL, big, 2 << 20);
            free(big);
        } else if (strcmp(path, "/method") == 0) {
            respond(cn->fd, 200, NULL, method, strlen(method));
        } else {
            respond(cn->fd, 404, "Content-Type: application/json\r\n",
                    "{\"itemNotFound\":{\"message\":\"no\"}}", 34);
        }
    }
done:
    free(body);
    free(r);
    close(cn->fd);
    pthread_mutex_lock(&cn->srv->lock);
    cn->srv->active--;
    pthread_mutex_unlock(&cn->srv->lock);
    free(cn);
    return NULL;
}

static void *
server_main(void *arg)
{
    server *srv = arg;
    struct pollfd p;
    pthread_t t;
    conn *cn;
    int fd;

    while (!srv->stop) {
        p.fd = srv->fd;
        p.events = POLLIN;
        if (poll(&p, 1, 20) <= 0)
            continue;
        /* Close-on-exec like the client's: the descriptor test below
         * looks at every new one in this process. */
        fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        cn = calloc(1, sizeof(*cn));
        assert_non_null(cn);
        cn->srv = srv;
        cn->fd = fd;
        pthread_mutex_lock(&srv->lock);
        srv->connections++;
        srv->active++;
        pthread_mutex_unlock(&srv->lock);
        assert_int_equal(pthread_create(&t, NULL, conn_main, cn), 0);
        pthread_detach(t);
    }
    return NULL;
}

static int
server_setup(void **state)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    server *srv = calloc(1, sizeof(*srv));
    int one = 1;

    assert_non_null(srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(srv->fd >= 0);
    (void)setsockopt(srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(srv->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(srv->fd, 64), 0);
    assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&addr, &len), 0);
    srv->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&srv->thread, NULL, server_main, srv), 0);
    *state = srv;
    return 0;
}

static int
server_teardown(void **state)
{
    server *srv = *state;
    int i, active = 0;

    srv->stop = 1;
    pthread_join(srv->thread, NULL);
    close(srv->fd);
    /* Connection threads end when the client closes; the transports are
     * freed by now, so wait for them (bounded) before freeing @srv. */
    for (i = 0; i < 200; i++) {
        pthread_mutex_lock(&srv->lock);
        active = srv->active;
        pthread_mutex_unlock(&srv->lock);
        if (active == 0)
            break;
        snap_sleep_ms(10);
    }
    if (active == 0) {
        pthread_mutex_destroy(&srv->lock);
        free(srv);
    } /* else leak it rather than free memory a thread still uses */
    return 0;
}

static int
server_connections(server *srv)
{
    int n;

    pthread_mutex_lock(&srv->lock);
    n = srv->connections;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static void
url(char *buf, size_t size, server *srv, const char *path)
{
    snprintf(buf, size, "http://127.0.0.1:%d%s", srv->port, path);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_connection_is_kept_between_requests(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    cinder_http *h;
    char u[128];
    int before, i;

    h = cinder_http_curl_new(NULL, &err);
    assert_non_null(h);
    before = server_connections(srv);
    url(u, sizeof(u), srv, "/hello");
    req.url = u;
    for (i = 0; i < 5; i++) {
        cinder_http_response_init(&resp);
        assert_true(cinder_http_perform(h, &req, &resp, &err));
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "hello");
        assert_int_equal(resp.body_len, 5);
        assert_string_equal(cinder_http_response_header(&resp, "x-test"),
                            "yes");
        /* Redirects are reported, not followed. */
        assert_string_equal(cinder_http_response_header(&resp, "Location"),
                            "/there");
        cinder_http_response_release(&resp);
    }
    assert_int_equal(server_connections(srv) - before, 1);
    cinder_http_free(h);
}

static void
test_perform_many_runs_requests_at_once(void **state)
{
    server *srv = *state;
    cinder_http_request reqs[4];
    cinder_http_response resps[4];
    snap_error err = {0}, errs[4];
    bool oks[4];
    cinder_http *h;
    char u[128];
    int64_t start, elapsed;
    size_t i;

    h = cinder_http_curl_new(NULL, &err);
    assert_non_null(h);
    memset(reqs, 0, sizeof(reqs));
    memset(errs, 0, sizeof(errs));
    url(u, sizeof(u), srv, "/slow?ms=500");
    for (i = 0; i < 4; i++) {
        reqs[i].url = u;
        cinder_http_response_init(&resps[i]);
    }
    start = snap_now_ms();
    assert_true(cinder_http_perform_many(h, reqs, resps, errs, oks, 4, &err));
    elapsed = snap_now_ms() - start;
    for (i = 0; i < 4; i++) {
        assert_true(oks[i]);
        assert_int_equal(resps[i].status, 200);
        cinder_http_response_release(&resps[i]);
    }
    /* Four 500 ms requests one after the other would take 2 s; the slack
     * is for a loaded machine or valgrind. */
    assert_true(elapsed >= 500);
    assert_true(elapsed < 1500);
    cinder_http_free(h);
}

static void
test_timeout_is_reported_as_a_timeout(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_http_opts opts = {0};
    snap_error err = {0};
    cinder_http *h;
    int64_t start, elapsed;
    char u[128];

    opts.timeout_ms = 5000;
    h = cinder_http_curl_new(&opts, &err);
    url(u, sizeof(u), srv, "/slow?ms=3000");
    req.url = u;
    req.timeout_ms = 100;
    cinder_http_response_init(&resp);
    start = snap_now_ms();
    assert_false(cinder_http_perform(h, &req, &resp, &err));
    elapsed = snap_now_ms() - start;
    cinder_http_response_release(&resp);
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_non_null(strstr(err.msg, "timed out after 100 ms"));
    assert_true(elapsed < 2000); /* well before the server answers */
    cinder_http_free(h);
}

static void
test_only_http_and_https_are_allowed(void **state)
{
    static const char *const urls[] = {
        "file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"};
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err;
    cinder_http *h;
    size_t i;

    (void)state;
    h = cinder_http_curl_new(NULL, NULL);
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        memset(&err, 0, sizeof(err));
        req.url = urls[i];
        cinder_http_response_init(&resp);
        assert_false(cinder_http_perform(h, &req, &resp, &err));
        assert_int_equal(err.code, SNAP_E_HTTP);
        assert_int_equal(resp.status, 0);
        cinder_http_response_release(&resp);
    }
    cinder_http_free(h);
}

static void
test_connection_refused_is_an_http_error_without_status(void **state)
{
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    cinder_http *h;
    int fd, port;
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    char u[128];

    (void)state;
    /* A port that was just free. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    port = ntohs(addr.sin_port);
    close(fd);
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", port);
    h = cinder_http_curl_new(NULL, NULL);
    req.url = u;
    cinder_http_response_init(&resp);
    assert_false(cinder_http_perform(h, &req, &resp, &err));
    cinder_http_response_release(&resp);
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 0);
    assert_non_null(strstr(err.msg, "GET 'http://127.0.0.1:"));
    cinder_http_free(h);
}

typedef struct stream {
    size_t size; /* bytes to produce */
    size_t pos;
    size_t received;
    bool bad;       /* a received byte differed */
    size_t fail_at; /* produce an error at this offset; 0 = never */
    unsigned rewinds;
} stream;

static ssize_t
stream_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    stream *s = ctx;
    size_t i, n = s->size - s->pos;

    if (s->fail_at && s->pos >= s->fail_at) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "cannot read disk image: test failure");
        return -1;
    }
    if (n > size)
        n = size;
    for (i = 0; i < n; i++)
        buf[i] = (char)('a' + (s->pos + i) % 26);
    s->pos += n;
    return (ssize_t)n;
}

static bool
stream_rewind(void *ctx, snap_error *err)
{
    stream *s = ctx;

    (void)err;
    s->pos = 0;
    s->rewinds++;
    return true;
}

static bool
stream_write(void *ctx, const char *data, size_t len, snap_error *err)
{
    stream *s = ctx;
    size_t i;

    (void)err;
    for (i = 0; i < len; i++) {
        if (data[i] != (char)('a' + (s->received + i) % 26))
            s->bad = true;
    }
    s->received += len;
    return true;
}

static void
test_streaming_upload_and_download(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    stream up = {0}, down = {0};
    const char *headers[] = {"Content-Type: application/octet-stream"};
    cinder_http *h;
    char u[128];
    int pass;

    h = cinder_http_curl_new(NULL, NULL);
    url(u, sizeof(u), srv, "/echo");
    for (pass = 0; pass < 2; pass++) {
        /* pass 0: known size; pass 1: chunked */
        memset(&up, 0, sizeof(up));
        memset(&down, 0, sizeof(down));
        up.size = (3 << 20) + 17;
        req.method = CINDER_HTTP_PUT;
        req.url = u;
        req.headers = headers;
        req.nheaders = 1;
        req.upload = stream_read;
        req.upload_rewind = stream_rewind;
        req.upload_ctx = &up;
        req.upload_size = pass == 0 ? (int64_t)up.size : -1;
        req.download = stream_write;
        req.download_ctx = &down;
        req.timeout_ms = -1; /* only stall detection */
        cinder_http_response_init(&resp);
        assert_true(cinder_http_perform(h, &req, &resp, &err));
        assert_int_equal(resp.status, 201);
        assert_int_equal(down.received, up.size);
        assert_false(down.bad);
        assert_int_equal(resp.body_len, 0); /* streamed, not buffered */
        cinder_http_response_release(&resp);
    }
    cinder_http_free(h);
}

static void
test_error_body_is_kept_when_streaming_a_download(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    stream down = {0};
    cinder_http *h;
    char u[128];

    h = cinder_http_curl_new(NULL, NULL);
    url(u, sizeof(u), srv, "/missing");
    req.url = u;
    req.download = stream_write;
    req.download_ctx = &down;
    cinder_http_response_init(&resp);
    assert_true(cinder_http_perform(h, &req, &resp, &err));
    assert_int_equal(resp.status, 404);
    assert_int_equal(down.received, 0);
    assert_non_null(strstr(resp.body, "itemNotFound"));
    cinder_http_response_release(&resp);
    cinder_http_free(h);
}

static void
test_upload_callback_error_aborts_the_request(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    stream up = {0};
    cinder_http *h;
    char u[128];

    h = cinder_http_curl_new(NULL, NULL);
    url(u, sizeof(u), srv, "/echo");
    up.size = 1 << 20;
    up.fail_at = 64 << 10;
    req.method = CINDER_HTTP_POST;
    req.url = u;
    req.upload = stream_read;
    req.upload_ctx = &up;
    req.upload_size = -1;
    cinder_http_response_init(&resp);
    assert_false(cinder_http_perform(h, &req, &resp, &err));
    cinder_http_response_release(&resp);
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_string_equal(err.msg, "cannot read disk image: test failure");
    cinder_http_free(h);
}

static void
test_buffered_body_is_bounded(void **state)
{
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_http_opts opts = {0};
    snap_error err = {0};
    cinder_http *h;
    char u[128];

    opts.max_body = 1 << 20;
    h = cinder_http_curl_new(&opts, NULL);
    url(u, sizeof(u), srv, "/big");
    req.url = u;
    cinder_http_response_init(&resp);
    assert_false(cinder_http_perform(h, &req, &resp, &err));
    cinder_http_response_release(&resp);
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_non_null(strstr(err.msg, "exceeds 1048576 bytes"));
    cinder_http_free(h);
}

static void
test_methods_and_in_memory_bodies(void **state)
{
    static const cinder_http_method methods[] = {
        CINDER_HTTP_GET, CINDER_HTTP_POST, CINDER_HTTP_PUT, CINDER_HTTP_PATCH,
        CINDER_HTTP_DELETE};
    server *srv = *state;
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error err = {0};
    cinder_http *h;
    char u[128];
    size_t i;

    h = cinder_http_curl_new(NULL, NULL);
    url(u, sizeof(u), srv, "/method");
    req.url = u;
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        req.method = methods[i];
        req.body = methods[i] == CINDER_HTTP_GET ? NULL : "{\"a\":1}";
        req.body_len = req.body ? 7 : 0;
        cinder_http_response_init(&resp);
        assert_true(cinder_http_perform(h, &req, &resp, &err));
        assert_string_equal(resp.body, cinder_http_method_name(methods[i]));
        cinder_http_response_release(&resp);
    }
    url(u, sizeof(u), srv, "/echo");
    req.method = CINDER_HTTP_POST;
    req.body = "{\"snapshot\":{}}";
    req.body_len = strlen(req.body);
    cinder_http_response_init(&resp);
    assert_true(cinder_http_perform(h, &req, &resp, &err));
    assert_int_equal(resp.status, 201);
    assert_string_equal(resp.body, "{\"snapshot\":{}}");
    cinder_http_response_release(&resp);
    cinder_http_free(h);
}

/* Whether @fd is in the @n descriptors @fds. */
static bool
fd_listed(int fd, const int *fds, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (fds[i] == fd)
            return true;
    }
    return false;
}

/* The descriptors open in this process, in @fds (up to @cap); their count. */
static size_t
fds_list(int *fds, size_t cap)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) && n < cap) {
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
            atoi(de->d_name) != dirfd(d))
            fds[n++] = atoi(de->d_name);
    }
    closedir(d);
    return n;
}

/* Every descriptor the transport opens -- its connections and the multi
 * handle's wakeup socketpair (libcurl 7.88 makes that one without
 * SOCK_CLOEXEC) -- is close-on-exec: none reaches qemu-img or the
 * watchdog. */
static void
test_descriptors_are_close_on_exec(void **state)
{
    server *srv = *state;
    cinder_http_request reqs[3];
    cinder_http_response resps[3];
    snap_error err = {0}, errs[3];
    int before[1024], after[1024], flags;
    size_t nbefore, nafter, i, sockets = 0;
    bool oks[3];
    cinder_http *h;
    char u[128], link[64], target[128];
    ssize_t len;

    nbefore = fds_list(before, 1024);
    h = cinder_http_curl_new(NULL, &err);
    assert_non_null(h);
    memset(reqs, 0, sizeof(reqs));
    memset(errs, 0, sizeof(errs));
    url(u, sizeof(u), srv, "/slow?ms=200"); /* three at once: three sockets */
    for (i = 0; i < 3; i++) {
        reqs[i].url = u;
        cinder_http_response_init(&resps[i]);
    }
    assert_true(cinder_http_perform_many(h, reqs, resps, errs, oks, 3, &err));
    for (i = 0; i < 3; i++) {
        assert_true(oks[i]);
        cinder_http_response_release(&resps[i]);
    }
    /* The connections stay cached in the transport: look at them now. */
    nafter = fds_list(after, 1024);
    for (i = 0; i < nafter; i++) {
        if (fd_listed(after[i], before, nbefore))
            continue;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", after[i]);
        len = readlink(link, target, sizeof(target) - 1);
        target[len > 0 ? len : 0] = '\0';
        if (strncmp(target, "socket:", 7) == 0)
            sockets++;
        flags = fcntl(after[i], F_GETFD);
        if (flags < 0)
            continue; /* closed meanwhile (a server thread's) */
        if (!(flags & FD_CLOEXEC))
            fail_msg("descriptor %d (%s) is not close-on-exec", after[i],
                     target);
    }
    /* Three client connections, their server ends, the socketpair. */
    assert_true(sockets >= 5);
    cinder_http_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_is_kept_between_requests),
        cmocka_unit_test(test_perform_many_runs_requests_at_once),
        cmocka_unit_test(test_timeout_is_reported_as_a_timeout),
        cmocka_unit_test(test_only_http_and_https_are_allowed),
        cmocka_unit_test(
            test_connection_refused_is_an_http_error_without_status),
        cmocka_unit_test(test_streaming_upload_and_download),
        cmocka_unit_test(test_error_body_is_kept_when_streaming_a_download),
        cmocka_unit_test(test_upload_callback_error_aborts_the_request),
        cmocka_unit_test(test_buffered_body_is_bounded),
        cmocka_unit_test(test_methods_and_in_memory_bodies),
        cmocka_unit_test(test_descriptors_are_close_on_exec),
    };

    return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
