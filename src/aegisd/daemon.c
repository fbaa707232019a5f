/* daemon.c — sockets (systemd's or our own), the HTTP servers, sd_notify, signals, the
 * watchdog and idle exit for aegisd (see daemon.h).
 *
 * Sockets passed by systemd are never closed early nor shut down: the socket unit keeps
 * them, and connections queued while we exit wait for the next activation. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "api-executions.h"
#include "api-metrics.h"
#include "api-routes.h"
#include "daemon.h"
#include "log.h"
#include "loopback.h"
#include "executions.h"
#include "podman.h"
#include "store.h"
#include "util.h"

#define TOKENS_FILE_MAX (64 * 1024)

static int collect_api(MetricsRegistry *reg, void *userdata) {
        Daemon *d = userdata;

        return metric_set(d->m_api_connections, NULL, d->api ? http_server_connections(d->api) : 0);
}

int daemon_new(Config *config, Daemon **ret) {
        static const char *const code_labels[] = { "code", NULL };
        _cleanup_(daemon_freep) Daemon *d = NULL;
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->config = config;
        d->api_fd = d->metrics_fd = -1;
        d->api_context = (ApiContext){ .config = config, .start_usec = now_usec(CLOCK_MONOTONIC) };
        r = sd_event_default(&d->event);
        if (r < 0)
                return r;
        r = metrics_registry_new(&d->registry);
        if (r < 0)
                return r;
        d->api_context.registry = d->registry;
        r = metrics_register_process(d->registry, PACKAGE_VERSION);
        if (r < 0)
                return r;
        r = metrics_register(d->registry, METRIC_COUNTER, "aegis_api_requests_total",
                             "API requests answered, by HTTP status (\"none\": the client left first).",
                             code_labels, NULL, 0, &d->m_api_requests);
        if (r >= 0)
                r = metrics_register(d->registry, METRIC_GAUGE, "aegis_api_connections",
                                     "API connections open now.", NULL, NULL, 0, &d->m_api_connections);
        if (r >= 0)
                r = metrics_register(d->registry, METRIC_COUNTER, "aegis_api_connections_timed_out_total",
                                     "API connections closed without a complete request within "
                                     "api.connection_timeout_secs (silent or slowloris clients).",
                                     NULL, NULL, 0, &d->m_api_timeouts);
        if (r >= 0)
                r = metrics_add_collector(d->registry, collect_api, d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        if (d->executions)
                api_close_streams(d->executions); /* the API's streams first: they listen to it */
        executions_free(d->executions);
        /* Servers first: their deferred requests and streams are told, then closed. */
        http_server_free(d->api);
        http_server_free(d->metrics);
        store_close(d->store); /* after everything that borrowed it */
        podman_client_free(d->podman);
        sd_event_source_disable_unref(d->sigterm);
        sd_event_source_disable_unref(d->sigint);
        sd_event_source_disable_unref(d->watchdog);
        sd_event_source_disable_unref(d->idle);
        safe_close(d->api_fd);
        safe_close(d->metrics_fd);
        metrics_registry_free(d->registry);
        strv_free(d->tokens);
        strv_free(d->token_tenants);
        config_free(d->config);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

/* ---- sockets ---- */

static int listen_on(const char *address, const char *key, int *ret) {
        _cleanup_free_ char *host = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
                        *ai = NULL;
        char port_str[8];
        uint16_t port;
        int r, err = 0;

        r = parse_listen_address(address, &host, &port);
        if (r < 0)
                return log_error_errno(r, "%s: invalid address \"%s\"", key, address);
        (void) snprintf(port_str, sizeof port_str, "%u", port);
        r = getaddrinfo(isempty(host) ? NULL : host, port_str, &hints, &ai);
        if (r != 0)
                return log_error_errno(-EADDRNOTAVAIL, "%s: cannot resolve \"%s\": %s", key, address,
                                       gai_strerror(r));
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                _cleanup_close_ int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                int one = 1;

                if (fd < 0) {
                        err = -errno;
                        continue;
                }
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
                        err = -errno;
                        continue;
                }
                freeaddrinfo(ai);
                *ret = TAKE_FD(fd);
                return 0;
        }
        freeaddrinfo(ai);
        return log_error_errno(err ?: -EADDRNOTAVAIL, "Failed to listen on %s (%s): %m", address, key);
}

static int take_fd(int *first, int *more, unsigned *n_more, int fd, const char *name) {
        if (*first < 0)
                *first = fd;
        else if (*n_more < DAEMON_MAX_MORE_FDS)
                more[(*n_more)++] = fd;
        else {
                log_error("More than %d sockets named \"%s\" were passed", DAEMON_MAX_MORE_FDS + 1, name);
                return -E2BIG;
        }
        return 0;
}

/* The sockets systemd passed (names "api", "metrics"; a single unnamed one is the API). */
static int take_sockets(Daemon *d) {
        _cleanup_strv_free_ char **names = NULL;
        int n;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd: %m");
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *name = names && names[i] ? names[i] : "unknown";

                if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        log_error("Passed file descriptor %d (%s) is not a listening stream socket", fd,
                                  name);
                        return -EBADF;
                }
                if (streq(name, "api") || ((streq(name, "unknown") || streq(name, "stored")) && n == 1)) {
                        if (take_fd(&d->api_fd, d->api_more_fds, &d->n_api_more_fds, fd, name) < 0)
                                return -E2BIG;
                } else if (streq(name, "metrics")) {
                        if (take_fd(&d->metrics_fd, d->metrics_more_fds, &d->n_metrics_more_fds, fd, name) <
                            0)
                                return -E2BIG;
                } else {
                        log_warning(
                                "Ignoring passed socket \"%s\" (expected FileDescriptorName=api or metrics)",
                                name);
                        (void) close(fd);
                }
        }
        d->socket_activated = n > 0;
        return 0;
}

/* A token-less API on the network runs any image for anyone who reaches it (issue 19): refuse
 * to start when a listener we were given or bound is not loopback and no tokens are set. */
static int refuse_exposed_api(Daemon *d) {
        char where[SOCKADDR_TEXT_MAX];
        int r = 1;

        if (d->tokens || d->api_fd < 0)
                return 0;
        for (unsigned i = 0; r > 0 && i <= d->n_api_more_fds; i++) {
                r = socket_is_loopback(i == 0 ? d->api_fd : d->api_more_fds[i - 1], where);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the API socket's address: %m");
        }
        if (r > 0)
                return 0;
        log_error("Refusing to start: the API listens on %s (%s), which is not loopback, and "
                  "api.tokens_file is not set, so anyone who reaches it could run any container: set "
                  "api.tokens_file (see aegis-config.yaml(5)) or listen on 127.0.0.1 or [::1] only",
                  where,
                  d->socket_activated ? "the socket from systemd: ListenStream= of aegis.socket"
                                      : "api.listen");
        return -EADDRNOTAVAIL;
}

/* ---- authentication ---- */

/* One token per line, optionally followed by the tenant it acts for ("TOKEN TENANT"; default
 * "default"). */
static int load_tokens(Daemon *d) {
        _cleanup_free_ char *text = NULL;
        const char *path = d->config->api.tokens_file;
        unsigned lineno = 0;
        int r;

        if (!path)
                return 0;
        r = read_full_file(path, TOKENS_FILE_MAX, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "api.tokens_file: cannot read %s: %m", path);
        d->tokens = calloc(1, sizeof(char *));
        d->token_tenants = calloc(1, sizeof(char *));
        if (!d->tokens || !d->token_tenants)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (char *line = text, *next; line && *line; line = next) {
                char *tenant;

                lineno++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                line[strcspn(line, "\r")] = '\0';
                while (*line == ' ' || *line == '\t')
                        line++;
                if (*line == '\0' || *line == '#')
                        continue;
                tenant = line + strcspn(line, " \t");
                if (*tenant) {
                        *tenant++ = '\0';
                        tenant += strspn(tenant, " \t");
                        tenant[strcspn(tenant, " \t")] = '\0';
                }
                if (isempty(tenant))
                        tenant = (char *) HTTP_TENANT_DEFAULT;
                if (!id_is_valid(tenant))
                        return log_error_errno(
                                -EINVAL,
                                "api.tokens_file: %s:%u: the tenant after the token must be 1 "
                                "to 64 characters of A-Z a-z 0-9 _ . -",
                                path, lineno);
                if (strv_extend(&d->tokens, line) < 0 || strv_extend(&d->token_tenants, tenant) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory");
        }
        if (strv_length(d->tokens) == 0)
                log_warning("api.tokens_file %s holds no token: every API request will be refused", path);
        return 0;
}

/* Compares in time independent of where the strings differ. */
static bool token_equal(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned char diff = la != lb;

        for (size_t i = 0; i < la; i++)
                diff |= (unsigned char) a[i] ^ (unsigned char) b[i % (lb ? lb : 1)];
        return diff == 0 && lb > 0;
}

static int check_token(HttpRequest *r, const char *bearer, void *userdata) {
        Daemon *d = userdata;
        const char *tenant = NULL;

        if (!bearer)
                return -ENOKEY;
        for (size_t i = 0; d->tokens && d->tokens[i]; i++)
                if (token_equal(bearer, d->tokens[i]) && !tenant) /* every token compared */
                        tenant = d->token_tenants[i];
        if (!tenant)
                return -ENOKEY;
        http_request_set_tenant(r, tenant);
        return 0;
}

/* ---- life cycle ---- */

/* Time sources fire once: set the next time and enable again. */
static int rearm(sd_event_source *s, uint64_t usec) {
        int r = sd_event_source_set_time(s, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void notify_stopping(const char *why) {
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Shutting down: %s", why);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        log_info("Received %s, shutting down", strsignal((int) si->ssi_signo));
        notify_stopping(si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return sd_event_exit(d->event, 0);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        (void) sd_notify(false, "WATCHDOG=1");
        return rearm(s, now_usec(CLOCK_MONOTONIC) + d->watchdog_usec / 2);
}

static bool daemon_busy(Daemon *d) {
        if (http_server_connections(d->api) > 0 || (d->metrics && http_server_connections(d->metrics) > 0))
                return true;
        return d->executions && executions_busy(d->executions);
}

/* Runs at last API activity + idle_exit_secs; exits or re-arms. Metrics scrapes do not count
 * as activity (a scraper would otherwise keep an idle daemon alive forever). */
static int on_idle_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        uint64_t idle = d->config->api.idle_exit_secs * USEC_PER_SEC, now = now_usec(CLOCK_MONOTONIC);
        uint64_t last = http_server_last_activity(d->api);

        if (daemon_busy(d))
                return rearm(s, now + MIN(idle, USEC_PER_SEC));
        if (now - last < idle)
                return rearm(s, last + idle);
        log_info("No requests for %" PRIu64 " s, exiting (api.idle_exit_secs)",
                 d->config->api.idle_exit_secs);
        (void) sd_notifyf(false,
                          "STOPPING=1\nSTATUS=Idle for %" PRIu64 " s, exiting until the next connection",
                          d->config->api.idle_exit_secs);
        return sd_event_exit(d->event, 0);
}

static int start_servers(Daemon *d) {
        HttpServerOptions api_opts = { .name = "api",
                                       .max_body_bytes = d->config->api.max_body_bytes,
                                       .connection_limit = (unsigned) d->config->api.max_connections,
                                       .connection_timeout_secs =
                                               (unsigned) d->config->api.connection_timeout_secs,
                                       .requests_total = d->m_api_requests,
                                       .timeouts_total = d->m_api_timeouts,
                                       .allowed_origins = d->config->api.allowed_origins,
                                       .loopback_host_only = !d->tokens,
                                       /* volume uploads: 128 KiB pieces per loop turn */
                                       .connection_memory = 256 * 1024 };
        HttpServerOptions metrics_opts = { .name = "metrics",
                                           .max_body_bytes = 64 * 1024,
                                           .connection_limit = 64,
                                           .allowed_origins = d->config->api.allowed_origins,
                                           .loopback_host_only = !d->tokens };
        int r;

        r = http_server_new(d->event, d->api_fd, &api_opts, &d->api);
        if (r < 0)
                return log_error_errno(r, "Failed to start the API server: %m");
        for (const HttpRoute *const *t = api_daemon_route_tables; *t; t++)
                if ((r = http_server_add_routes(d->api, *t, &d->api_context)) < 0)
                        return log_error_errno(r, "Failed to add routes: %m");
        if (d->tokens)
                http_server_set_auth(d->api, check_token, d);
        for (unsigned i = 0; i < d->n_api_more_fds; i++)
                if ((r = http_server_add_listener(d->api, d->api_more_fds[i])) < 0)
                        return log_error_errno(r, "Failed to serve the API on another socket: %m");
        if (d->metrics_fd >= 0) {
                r = http_server_new(d->event, d->metrics_fd, &metrics_opts, &d->metrics);
                if (r < 0)
                        return log_error_errno(r, "Failed to start the metrics server: %m");
                for (unsigned i = 0; i < d->n_metrics_more_fds; i++)
                        if ((r = http_server_add_listener(d->metrics, d->metrics_more_fds[i])) < 0)
                                return log_error_errno(r, "Failed to serve metrics on another socket: %m");
                r = http_server_add_routes(d->metrics, api_metrics_routes, &d->api_context);
                if (r < 0)
                        return log_error_errno(r, "Failed to add routes: %m");
        }
        return 0;
}

static void on_migration(unsigned version, unsigned target, void *userdata) {
        /* Migrations may be slow on a big PostgreSQL: tell systemd we are still starting. */
        (void) sd_notifyf(false,
                          "EXTEND_TIMEOUT_USEC=%" PRIu64 "\nSTATUS=Migrating the database to schema %u/%u",
                          (uint64_t) 120 * USEC_PER_SEC, version, target);
}

/* The one store of the process (database.url; migrations with EXTEND_TIMEOUT_USEC). */
static int open_store(Daemon *d) {
        _cleanup_free_ char *url = NULL, *redacted = NULL;
        const Config *c = d->config;
        Error e = ERROR_INIT;
        int k;

        url = c->database.url ? strdup(c->database.url) : store_default_url(c->state_dir);
        if (!url)
                return log_error_errno(-ENOMEM, "Out of memory");
        redacted = store_url_redact(url);
        k = store_open_full(url, on_migration, d, &e, &d->store);
        if (k < 0)
                return log_error_errno(k, "Failed to open the store %s: %s", strempty(redacted), e.message);
        log_info("store: %s at %s, schema %u", store_backend(d->store), strempty(redacted),
                 store_schema_version(d->store));
        return 0;
}

int daemon_start(Daemon *d) {
        const Config *c = d->config;
        _cleanup_free_ char *dir = NULL;
        sigset_t mask;
        int r;

        /* Before the servers: they send files with sendfile(), which may raise SIGPIPE. */
        (void) signal(SIGPIPE, SIG_IGN);

        if (load_tokens(d) < 0)
                return CONFIG_EXIT_STATUS;
        /* systemd creates the state directory (StateDirectory=); by hand we do, for the SQLite
         * store. */
        r = config_create_directories(c, &dir);
        if (r < 0)
                log_warning_errno(r, "Cannot create the directory %s: %m", strempty(dir));
        if (take_sockets(d) < 0)
                return EXIT_FAILURE;
        if (!d->socket_activated) {
                if (listen_on(c->api.listen, "api.listen", &d->api_fd) < 0)
                        return EXIT_FAILURE;
                if (listen_on(c->api.metrics_listen, "api.metrics_listen", &d->metrics_fd) < 0)
                        return EXIT_FAILURE;
        } else if (d->api_fd < 0) {
                log_error("Socket-activated without an \"api\" socket (FileDescriptorName=api in "
                          "aegis.socket)");
                return EXIT_FAILURE;
        }
        if (refuse_exposed_api(d) < 0)
                return CONFIG_EXIT_STATUS;

        r = podman_client_new(c->runtime.container_socket_path, d->event, &d->podman);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the Podman API client for %s: %m",
                                c->runtime.container_socket_path);
                return EXIT_FAILURE;
        }

        if (start_servers(d) < 0)
                return EXIT_FAILURE;
        if (open_store(d) < 0)
                return EXIT_FAILURE;
        r = executions_new(&(ExecutionsContext){ .event = d->event,
                                                 .config = d->config,
                                                 .store = d->store,
                                                 .podman = d->podman,
                                                 .registry = d->registry },
                           &d->executions);
        if (r < 0)
                return EXIT_FAILURE;
        for (const HttpRoute *const *t = api_executions_route_tables; *t; t++)
                if ((r = http_server_add_routes(d->api, *t, d->executions)) < 0) {
                        log_error_errno(r, "Failed to add the execution routes: %m");
                        return EXIT_FAILURE;
                }
        if (executions_start(d->executions) < 0)
                return EXIT_FAILURE;
        /* Lent to the routes before the loop serves their first request. */
        d->api_context.podman = d->podman;
        d->api_context.store = d->store;
        d->api_context.executions = d->executions;

        (void) sigemptyset(&mask);
        (void) sigaddset(&mask, SIGTERM);
        (void) sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_add_signal(d->event, &d->sigterm, SIGTERM, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, &d->sigint, SIGINT, on_signal, d)) < 0) {
                log_error_errno(r, "Failed to handle signals: %m");
                return EXIT_FAILURE;
        }
        if (sd_watchdog_enabled(false, &d->watchdog_usec) > 0 && d->watchdog_usec > 0) {
                r = sd_event_add_time_relative(d->event, &d->watchdog, CLOCK_MONOTONIC, d->watchdog_usec / 2,
                                               0, on_watchdog, d);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up the watchdog: %m");
                        return EXIT_FAILURE;
                }
                (void) sd_event_source_set_enabled(d->watchdog, SD_EVENT_ON);
        }
        if (c->api.idle_exit_secs > 0) {
                r = sd_event_add_time_relative(d->event, &d->idle, CLOCK_MONOTONIC,
                                               c->api.idle_exit_secs * USEC_PER_SEC, USEC_PER_SEC / 10,
                                               on_idle_check, d);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up the idle timer: %m");
                        return EXIT_FAILURE;
                }
                (void) sd_event_source_set_enabled(d->idle, SD_EVENT_ON);
        }

        log_info("aegisd %s ready: API on %s, metrics on %s, Podman at %s%s", PACKAGE_VERSION,
                 d->socket_activated ? "the socket from systemd" : c->api.listen,
                 d->metrics_fd < 0     ? "(none)"
                 : d->socket_activated ? "the socket from systemd"
                                       : c->api.metrics_listen,
                 c->runtime.container_socket_path, d->tokens ? ", bearer tokens required" : "");
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving the API%s; Podman at %s",
                          d->socket_activated ? " (socket-activated)" : "",
                          c->runtime.container_socket_path);
        return 0;
}
