/* nfsd.c — aegis-nfsd(8): the NFSv3 + MOUNT v3 gateway serving /<tenant>/<volume>.
 *
 * Setup, in order: options, state directory (handle key, write verifier), the export
 * registry, the listening socket (socket activation or --listen), then the seccomp
 * allow-list, READY=1 and the event loop. On SIGTERM: STOPPING=1, sync every volume, and
 * leave the clean-shutdown marker so the write verifier survives the restart. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "hmac.h"
#include "log.h"
#include "nfs-gateway.h"
#include "nfs-seccomp.h"
#include "nfs-server.h"
#include "redact.h"
#include "store.h"
#include "util.h"

typedef struct Options {
        const char *listen;
        const char *storage_root;
        const char *state_dir;
        const char *exports;
        const char *config;
        const char *metrics_listen;
        bool seccomp;
        bool require_reserved_port;
        const char *export_path; /* --export-path: print and exit */
        unsigned max_connections;
        unsigned max_connections_per_client;
        uint64_t idle_timeout_secs;
        unsigned max_entries;
        unsigned max_open_volumes;
        uint64_t idle_exit_secs;
        NfsClients clients;
} Options;

static void help(void) {
        printf("Usage: aegis-nfsd [OPTIONS]\n\n"
               "NFSv3 + MOUNT v3 gateway for AEGIS volumes (see aegis-nfsd(8)).\n\n"
               "  --listen=HOST:PORT       bind this address when not socket-activated (default "
               "127.0.0.1:2049)\n"
               "  --storage-root=DIR       volumes live in DIR/<tenant>/<volume>\n"
               "  --state-dir=DIR          handle key and write verifier (default <state>/nfs)\n"
               "  --exports=FILE|URL       volume registry: a file, or a database URL (default "
               "database.url)\n"
               "  --config=FILE            aegis configuration file (storage.root, "
               "storage.nfs_listen_addr,\n"
               "                           database.url; see aegis-config.yaml(5))\n"
               "  --metrics-listen=HOST:PORT  serve Prometheus metrics at http://HOST:PORT/metrics\n"
               "  --max-connections=N      connection limit (default %d)\n"
               "  --max-connections-per-client=N  per source address (default %d, or\n"
               "                           storage.nfs_max_connections_per_client)\n"
               "  --idle-timeout=SECS      close a connection idle this long (default %d, or\n"
               "                           storage.nfs_idle_timeout_secs)\n"
               "  --max-entries=N          files, directories and links per volume (default %d, or\n"
               "                           storage.volume_max_entries)\n"
               "  --require-reserved-port=yes|no  MOUNT and NFS only from ports < 1024 (default yes)\n"
               "  --export-path=TENANT/VOLUME  print the volume's export path (with its token) and exit\n"
               "  --max-open-volumes=N     volumes kept open at once (default %d)\n"
               "  --idle-exit=SECS         exit after SECS without connections (socket activation)\n"
               "  --clients=LIST           hosts that may mount volumes whose registry entry names\n"
               "                           none: * or ADDR[/PREFIX],... (default *)\n"
               "  --seccomp=on|off         system-call allow-list (default on)\n"
               "  --log-level=LEVEL        error, warning, info, debug\n"
               "  -h --help                this text\n"
               "     --version             print the version\n",
               NFS_MAX_CONNECTIONS_DEFAULT, NFS_MAX_CONNECTIONS_PER_CLIENT_DEFAULT, NFS_IDLE_TIMEOUT_DEFAULT,
               NFS_MAX_ENTRIES_DEFAULT, NFS_MAX_VOLUMES_OPEN);
}

static int parse_args(int argc, char **argv, Options *o) {
        enum {
                ARG_LISTEN = 0x100,
                ARG_ROOT,
                ARG_STATE,
                ARG_EXPORTS,
                ARG_CONFIG,
                ARG_SECCOMP,
                ARG_MAXCONN,
                ARG_MAXVOLS,
                ARG_IDLE,
                ARG_LOG,
                ARG_METRICS,
                ARG_CLIENTS,
                ARG_RESERVED,
                ARG_EXPORT_PATH,
                ARG_PER_CLIENT,
                ARG_IDLE_TIMEOUT,
                ARG_MAX_ENTRIES,
                ARG_VERSION,
        };
        static const struct option opts[] = {
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "storage-root", required_argument, NULL, ARG_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE },
                { "exports", required_argument, NULL, ARG_EXPORTS },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "seccomp", required_argument, NULL, ARG_SECCOMP },
                { "max-connections", required_argument, NULL, ARG_MAXCONN },
                { "max-open-volumes", required_argument, NULL, ARG_MAXVOLS },
                { "idle-exit", required_argument, NULL, ARG_IDLE },
                { "log-level", required_argument, NULL, ARG_LOG },
                { "metrics-listen", required_argument, NULL, ARG_METRICS },
                { "clients", required_argument, NULL, ARG_CLIENTS },
                { "require-reserved-port", required_argument, NULL, ARG_RESERVED },
                { "export-path", required_argument, NULL, ARG_EXPORT_PATH },
                { "max-connections-per-client", required_argument, NULL, ARG_PER_CLIENT },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "max-entries", required_argument, NULL, ARG_MAX_ENTRIES },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case ARG_LISTEN:
                        o->listen = optarg;
                        break;
                case ARG_ROOT:
                        o->storage_root = optarg;
                        break;
                case ARG_STATE:
                        o->state_dir = optarg;
                        break;
                case ARG_EXPORTS:
                        o->exports = optarg;
                        break;
                case ARG_CONFIG:
                        o->config = optarg;
                        break;
                case ARG_SECCOMP:
                        if (!streq(optarg, "on") && !streq(optarg, "off")) {
                                log_error("--seccomp: expected on or off, got \"%s\"", optarg);
                                return -EINVAL;
                        }
                        o->seccomp = streq(optarg, "on");
                        break;
                case ARG_MAXCONN:
                        r = safe_atou(optarg, &o->max_connections);
                        if (r < 0 || o->max_connections == 0 || o->max_connections > 65536) {
                                log_error("--max-connections: expected 1..65536, got \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_MAXVOLS:
                        r = safe_atou(optarg, &o->max_open_volumes);
                        if (r < 0 || o->max_open_volumes == 0 ||
                            o->max_open_volumes > NFS_MAX_VOLUMES_OPEN) {
                                log_error("--max-open-volumes: expected 1..%d, got \"%s\"",
                                          NFS_MAX_VOLUMES_OPEN, optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_IDLE:
                        r = parse_duration_secs(optarg, &o->idle_exit_secs);
                        if (r < 0) {
                                log_error("--idle-exit: expected a duration like 300 or 5m, got \"%s\"",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOG:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                log_error("--log-level: unknown level \"%s\"", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(r);
                        break;
                case ARG_METRICS:
                        o->metrics_listen = optarg;
                        break;
                case ARG_CLIENTS:
                        if (nfs_clients_parse(optarg, &o->clients) < 0) {
                                log_error("--clients: expected * or up to %d comma-separated ADDR[/PREFIX], "
                                          "got \"%s\"",
                                          NFS_CLIENTS_MAX, optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_RESERVED:
                        r = streq(optarg, "yes") ? 1 : streq(optarg, "no") ? 0 : -EINVAL;
                        if (r < 0) {
                                log_error("--require-reserved-port: expected yes or no, got \"%s\"", optarg);
                                return -EINVAL;
                        }
                        o->require_reserved_port = r;
                        break;
                case ARG_EXPORT_PATH:
                        o->export_path = optarg;
                        break;
                case ARG_PER_CLIENT:
                        r = safe_atou(optarg, &o->max_connections_per_client);
                        if (r < 0 || o->max_connections_per_client == 0 ||
                            o->max_connections_per_client > 65536) {
                                log_error("--max-connections-per-client: expected 1..65536, got \"%s\"",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_IDLE_TIMEOUT:
                        r = parse_duration_secs(optarg, &o->idle_timeout_secs);
                        if (r < 0 || o->idle_timeout_secs == 0) {
                                log_error("--idle-timeout: expected a duration like 300 or 5m (not 0), got "
                                          "\"%s\"",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_MAX_ENTRIES:
                        r = safe_atou(optarg, &o->max_entries);
                        if (r < 0 || o->max_entries == 0 || o->max_entries > NFS_INDEX_MAX) {
                                log_error("--max-entries: expected 1..%d, got \"%s\"", NFS_INDEX_MAX,
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("aegis-nfsd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\" (see --help)", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int bind_listen(const char *addr, int *ret) {
        _cleanup_free_ char *host = NULL;
        _cleanup_close_ int fd = -1;
        struct sockaddr_storage sa = { 0 };
        socklen_t salen;
        uint16_t port;
        int one = 1, zero = 0, r;

        r = parse_listen_address(addr, &host, &port);
        if (r < 0)
                return log_error_errno(r, "--listen/storage.nfs_listen_addr: expected HOST:PORT, got \"%s\"",
                                       addr);
        if (isempty(host) || streq(host, "::")) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &sa;
                s6->sin6_family = AF_INET6;
                s6->sin6_addr = in6addr_any;
                s6->sin6_port = htons(port);
                salen = sizeof(*s6);
        } else if (inet_pton(AF_INET, host, &((struct sockaddr_in *) &sa)->sin_addr) == 1) {
                ((struct sockaddr_in *) &sa)->sin_family = AF_INET;
                ((struct sockaddr_in *) &sa)->sin_port = htons(port);
                salen = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) &sa)->sin6_addr) == 1) {
                ((struct sockaddr_in6 *) &sa)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *) &sa)->sin6_port = htons(port);
                salen = sizeof(struct sockaddr_in6);
        } else
                return log_error_errno(-EINVAL, "--listen: \"%s\" is not a numeric IPv4/IPv6 address", host);
        fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create socket: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (sa.ss_family == AF_INET6 && isempty(host))
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, (struct sockaddr *) &sa, salen) < 0)
                return log_error_errno(
                        -errno, "Failed to bind %s: %m%s", addr,
                        port < 1024
                                ? " (ports below 1024 need privileges: use socket activation or a high port)"
                                : "");
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(-errno, "Failed to listen on %s: %m", addr);
        *ret = TAKE_FD(fd);
        return 0;
}

static uint16_t socket_port(int fd) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return 0;
        return ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                              : ((struct sockaddr_in *) &sa)->sin_port);
}

/* A minimal HTTP/1.0 endpoint for the counters: every request gets the whole exposition.
 * Replies are small (a few KiB), so a bounded blocking send is enough. */
static int on_metrics(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        NfsGateway *g = userdata;
        struct timeval tv = { .tv_sec = 1 };
        _cleanup_close_ int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        _cleanup_free_ char *body = NULL;
        size_t size = 0;
        char req[2048];
        FILE *f;

        if (c < 0)
                return 0;
        (void) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        (void) recv(c, req, sizeof(req), 0);
        f = open_memstream(&body, &size);
        if (!f)
                return 0;
        (void) nfs_metrics_format(&g->metrics, f);
        if (fclose(f) != 0)
                return 0;
        dprintf(c,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n\r\n",
                size);
        (void) !write(c, body, size);
        return 0;
}

typedef struct Idle {
        NfsServer *server;
        uint64_t secs;
} Idle;

static int on_idle_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Idle *idle = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (nfs_server_connections(idle->server) == 0 &&
            now - nfs_server_last_activity(idle->server) >= idle->secs * USEC_PER_SEC) {
                log_info("Idle for %" PRIu64 "s, exiting (socket activation restarts us)", idle->secs);
                return sd_event_exit(sd_event_source_get_event(s), 0);
        }
        return sd_event_source_set_time_relative(s, USEC_PER_SEC) < 0
                       ? 0
                       : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int run(int argc, char **argv) {
        Options o = { .seccomp = true, .require_reserved_port = true };
        _cleanup_(nfs_exports_freep) NfsExports *exports = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *exports_path = NULL, *state_dir = NULL, *shown = NULL; /* shown: redacted */
        Error err = ERROR_INIT;
        _cleanup_close_ int listen_fd = -1, metrics_fd = -1;
        uint8_t key[NFS_HANDLE_KEY_SIZE], verf[8], mount_key[VOLUME_NFS_KEY_SIZE];
        sd_event *event = NULL;
        NfsGateway *g = NULL;
        NfsServer *server = NULL;
        Idle idle = { 0 };
        int r, n;

        log_setup("aegis-nfsd");
        /* READ/WRITE move up to 1 MiB per call through a request and a reply buffer. With
         * glibc's defaults each of those was a fresh mmap or brk extension, so every call
         * page-faulted 2 MiB of zeroed memory (half the CPU of a sequential read). Keep them in
         * the heap and reuse them; nfs-server.c trims it when the last client disconnects. */
        (void) mallopt(M_MMAP_THRESHOLD, 4 * NFS_MAX_RECORD);
        (void) mallopt(M_TRIM_THRESHOLD, 8 * NFS_MAX_RECORD);
        r = parse_args(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = config_load(o.config, &cfg, &err);
        if (r < 0) {
                log_error("%s", err.message);
                return CONFIG_EXIT_STATUS;
        }
        /* The command line wins over the configuration file. */
        if (!o.storage_root)
                o.storage_root = cfg->storage.root;
        if (!o.listen)
                o.listen = cfg->storage.nfs_listen_addr;
        state_dir = o.state_dir ? strdup(o.state_dir) : path_join(cfg->state_dir, "nfs");
        if (!state_dir)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        o.state_dir = state_dir;
        if (isempty(o.storage_root)) {
                log_error("No storage root: set storage.root in the configuration or pass --storage-root");
                return CONFIG_EXIT_STATUS;
        }
        crypto_init(); /* before the seccomp filter: libgcrypt reads files the first time */
        r = mkdir_p(o.state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", o.state_dir), 1;
        r = volume_nfs_key_load(o.state_dir, mount_key);
        if (r < 0)
                return log_error_errno(r, "Failed to load the mount key %s/" VOLUME_NFS_KEY_FILE ": %m",
                                       o.state_dir),
                       1;
        if (o.export_path) {
                _cleanup_free_ char *tenant = NULL, *path = NULL;
                const char *slash = strchr(o.export_path, '/');
                tenant = slash ? strndup(o.export_path, (size_t) (slash - o.export_path)) : NULL;
                if (!tenant || volume_nfs_export_path(mount_key, tenant, slash + 1, &path) < 0) {
                        log_error(
                                "--export-path: expected TENANT/VOLUME (ids of [A-Za-z0-9_.-]), got \"%s\"",
                                o.export_path);
                        return 2;
                }
                printf("%s\n", path);
                return 0;
        }
        umask(0); /* modes come from the client, as NFS wants */
        r = nfs_handle_key_load(o.state_dir, key);
        if (r < 0)
                return log_error_errno(r, "Failed to load handle key %s/handle-key: %m", o.state_dir), 1;
        r = nfs_write_verifier_load(o.state_dir, verf);
        if (r < 0)
                return log_error_errno(r, "Failed to load write verifier in %s: %m", o.state_dir), 1;
        exports_path = strdup(o.exports ? o.exports : cfg->database.url);
        shown = redact_secrets(exports_path);
        if (!exports_path || !shown)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        r = nfs_exports_new(exports_path, &exports);
        if (r < 0)
                return log_error_errno(r, "Failed to set up export registry %s: %m", shown), 1;
        {
                /* Connect (and migrate) now, so a broken registry shows at start, not at the first mount. */
                const NfsVolumeInfo *vols;
                size_t n_vols;
                r = nfs_exports_list(exports, &vols, &n_vols);
                if (r < 0)
                        log_warning_errno(r, "Volume registry %s not readable yet (retrying on demand): %m",
                                          shown);
                else
                        log_info("%zu active volume(s) in the registry", n_vols);
        }

        n = sd_listen_fds(true);
        if (n > 1)
                return log_error_errno(-EINVAL, "Expected one listening socket from systemd, got %d", n), 1;
        if (n == 1)
                listen_fd = SD_LISTEN_FDS_START;
        else {
                r = bind_listen(o.listen ? o.listen : "127.0.0.1:2049", &listen_fd);
                if (r < 0)
                        return 1;
        }

        if (o.metrics_listen && bind_listen(o.metrics_listen, &metrics_fd) < 0)
                return 1;

        r = nfs_gateway_new(o.storage_root, exports, key, verf, &g);
        if (r < 0)
                return log_error_errno(r, "Failed to set up gateway: %m"), 1;
        g->port = socket_port(listen_fd);
        if (o.max_open_volumes > 0)
                g->max_vols = o.max_open_volumes;
        if (o.clients.set)
                g->default_clients = o.clients;
        memcpy(g->mount_key, mount_key, sizeof(mount_key));
        g->require_reserved_port = o.require_reserved_port;
        /* The command line wins over the configuration (storage.*, aegis-config.yaml(5)). */
        g->max_entries = o.max_entries > 0 ? o.max_entries : (unsigned) cfg->storage.volume_max_entries;
        if (o.max_connections_per_client == 0)
                o.max_connections_per_client = (unsigned) cfg->storage.nfs_max_connections_per_client;
        if (o.idle_timeout_secs == 0)
                o.idle_timeout_secs = cfg->storage.nfs_idle_timeout_secs;
        if (!o.require_reserved_port)
                log_warning(
                        "--require-reserved-port=no: any local user can mount a volume whose export path "
                        "it learns, and use its handles");
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_set_signal_exit(event, true);
        if (r < 0) {
                /* Older libsystemd: handle SIGTERM/SIGINT ourselves. */
                sigset_t ss;
                sigemptyset(&ss);
                sigaddset(&ss, SIGTERM);
                sigaddset(&ss, SIGINT);
                sigprocmask(SIG_BLOCK, &ss, NULL);
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
                if (r >= 0)
                        r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        }
        if (r >= 0)
                r = nfs_server_new(
                        event, g, listen_fd,
                        &(NfsServerLimits){ .max_connections = o.max_connections,
                                            .max_per_client = o.max_connections_per_client,
                                            .idle_timeout_usec = o.idle_timeout_secs * USEC_PER_SEC },
                        &server);
        if (r < 0) {
                log_error_errno(r, "Failed to set up event loop: %m");
                goto finish;
        }
        listen_fd = -1;
        if (metrics_fd >= 0) {
                r = sd_event_add_io(event, NULL, metrics_fd, EPOLLIN, on_metrics, g);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up metrics listener: %m");
                        goto finish;
                }
        }
        if (o.idle_exit_secs > 0) {
                idle = (Idle){ .server = server, .secs = o.idle_exit_secs };
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, USEC_PER_SEC, 0, on_idle_check,
                                               &idle);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up idle timer: %m");
                        goto finish;
                }
        }
        (void) signal(SIGPIPE, SIG_IGN);

        if (o.seccomp) {
                /* libpq may have to reconnect over TCP after setup. It was dlopen()ed by the
                 * registry's first connect above; a later first load (libpq5 installed while we
                 * run) needs only openat, read, fstat, mmap, mprotect and close, all allowed. */
                r = nfs_seccomp_install(startswith(exports_path, "postgres") != NULL);
                if (r < 0) {
                        log_error_errno(r, "Failed to install seccomp filter (--seccomp=off to debug): %m");
                        goto finish;
                }
        }
        log_info("Serving NFSv3 and MOUNT v3 on port %u from %s (registry %s)", g->port, o.storage_root,
                 shown);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving NFSv3 on port %u", g->port);
        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Syncing volumes");
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        if (nfs_gateway_sync(g) < 0)
                log_warning("Not keeping the write verifier: clients will resend their unstable writes");
        else if (r >= 0) {
                int k = nfs_write_verifier_mark_clean(o.state_dir);
                if (k < 0)
                        log_warning_errno(
                                k,
                                "Failed to record clean shutdown (clients will resend unstable writes): %m");
        }
finish:
        nfs_server_free(server);
        nfs_gateway_free(g);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}
