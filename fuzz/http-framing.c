/* fuzz/http-framing.c — libFuzzer target for HTTP request framing as aegisd reads it: the
 * input is written raw to a TCP connection served by src/aegisd/http.c (libmicrohttpd on
 * sd-event: request line, headers, Content-Length and chunked bodies, pipelining, the body
 * limit, %-decoding, the UTF-8 gate, routing with {captures}, 404/405, bearer auth), with a
 * route table shaped like the real API whose POST handler parses its body with
 * json_body_parse(). Each input's connection is half-closed and served until the server
 * closes it, so every request it holds is answered and freed before the next input.
 *
 * Beyond "no crash, no leak, no UB": the server must end every connection within a bounded
 * number of loop turns (no request left hanging), and every answer it sends starts with a
 * status line. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "json-body.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sd_event *event;
static HttpServer *server;
static struct sockaddr_in addr;

static int get_thing(HttpRequest *r, void *userdata) {
        struct json_object *o = json_object_new_object();
        int k;

        json_object_object_add(o, "id", json_object_new_string(strempty(http_request_param(r, "id"))));
        json_object_object_add(o, "limit", json_object_new_string(strempty(http_request_query(r, "limit"))));
        k = http_respond_json(r, 200, o);
        json_object_put(o);
        return k;
}

static int post_thing(HttpRequest *r, void *userdata) {
        struct json_object *body = NULL;
        Error e = ERROR_INIT;
        const char *text;
        size_t n;
        int k;

        text = http_request_body(r, &n);
        k = json_body_parse(text, n, &body, &e);
        if (k < 0)
                return k == -ENOMEM ? k : http_respond_error_from(r, &e);
        k = http_respond_json(r, 202, body);
        json_object_put(body);
        return k;
}

static int delete_thing(HttpRequest *r, void *userdata) {
        return http_respond(r, 204, NULL, NULL, 0);
}

static int check_auth(HttpRequest *r, const char *bearer, void *userdata) {
        return bearer && streq(bearer, "secret")      ? 0
               : bearer && streq(bearer, "forbidden") ? -EACCES
                                                      : -ENOKEY;
}

static const HttpRoute routes[] = {
        { HTTP_GET, "/health", get_thing, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/v1/things", get_thing },
        { HTTP_POST, "/v1/things", post_thing },
        { HTTP_GET, "/v1/things/{id}", get_thing },
        { HTTP_DELETE, "/v1/things/{id}", delete_thing },
        { HTTP_POST, "/v1/things/{id}/cancel", post_thing },
        {},
};

static void setup(void) {
        HttpServerOptions opts = {
                .name = "fuzz", .max_body_bytes = 4096, .connection_limit = 16, .connection_timeout_secs = 5
        };
        socklen_t len = sizeof addr;
        int fd;

        log_set_max_level(LOG_CRIT);
        if (sd_event_new(&event) < 0)
                abort();
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(fd, 64) < 0 ||
            getsockname(fd, (struct sockaddr *) &addr, &len) < 0)
                abort();
        if (http_server_new(event, fd, &opts, &server) < 0 ||
            http_server_add_routes(server, routes, NULL) < 0)
                abort();
        http_server_set_auth(server, check_auth, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[16384], head[5];
        size_t off = 0, got = 0;
        bool eof = false, half_closed = false;
        int fd;

        if (!server)
                setup();
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                abort();
        if (connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0 && errno != EINPROGRESS)
                abort();
        /* Feed the input while serving; once the server has nothing left to do with it,
         * half-close (a FIN arriving with the data would only be noticed at the connection
         * timeout: libmicrohttpd's epoll is edge-triggered) and serve until the server closes.
         * 20,000 turns of at most 0.5 ms: far more than any input needs, and a hang shows. */
        for (unsigned turn = 0, idle = 0; !eof; turn++) {
                ssize_t n;
                int ran;

                if (turn > 20000) {
                        fprintf(stderr, "the server did not close the connection\n");
                        abort();
                }
                if (off < size) {
                        n = send(fd, data + off, size - off, MSG_NOSIGNAL);
                        if (n > 0)
                                off += (size_t) n;
                        else if (n < 0 && errno != EAGAIN)
                                off = size; /* the server closed already */
                }
                ran = sd_event_run(event, USEC_PER_MSEC / 2);
                for (;;) {
                        n = recv(fd, buf, sizeof buf, 0);
                        if (n > 0) {
                                for (ssize_t i = 0; i < n && got < sizeof head; i++)
                                        head[got++] = buf[i];
                                if (got >= sizeof head && memcmp(head, "HTTP/", sizeof head) != 0) {
                                        fprintf(stderr, "an answer without a status line\n");
                                        abort();
                                }
                                idle = 0;
                                continue;
                        }
                        if (n == 0 || (errno != EAGAIN && errno != EINTR))
                                eof = true;
                        break;
                }
                if (off == size && !half_closed && (ran > 0 ? (idle = 0) : ++idle) >= 2) {
                        (void) shutdown(fd, SHUT_WR);
                        half_closed = true;
                }
        }
        close(fd);
        /* Let the server notice the close and free the connection now. */
        for (unsigned i = 0; i < 4 && http_server_connections(server) > 0; i++)
                (void) sd_event_run(event, USEC_PER_MSEC);
        return 0;
}
