/* doctor.c — `aegis doctor`: the troubleshooting table of aegis.systemd(7) as checks.
 *
 * Each check yields a verdict (pass, warn, fail, skip), what it found, and for anything but
 * pass the exact command or edit that fixes it. It checks the identity it runs as: run it
 * as the service user (`runuser -u aegis -- aegis doctor`) for the per-user set-up, as root
 * for the system one (the service user is then "aegis", or --user NAME). systemd and logind
 * are asked over D-Bus; the Podman API, the NFS port and the store are actually contacted (the
 * store through its own open, read-only: doctor never creates or migrates one).
 * Exit status: 0 when no check fails (warnings and skips do not fail), 1 otherwise, 125 on
 * usage errors. --output json (or yaml) prints {"ok":…, "checks":[{name, verdict, detail, fix}]}. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <json-c/json.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <poll.h>
#include <fcntl.h>

#include <systemd/sd-bus.h>

#include "cli.h"
#include "config.h"
#include "json-util.h"
#include "podman.h"
#include "pq-dlopen.h"
#include "state-dir.h"
#include "store.h"
#include "util.h"
#include "volume-mount.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define DOCTOR_TEXT_MAX 1024
#define DOCTOR_CONNECT_TIMEOUT_MS 3000

static inline void json_put(json_object *o) {
        json_object_put(o);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_put);

typedef enum Verdict {
        VERDICT_PASS,
        VERDICT_WARN,
        VERDICT_FAIL,
        VERDICT_SKIP,
        _VERDICT_MAX,
} Verdict;

static const char *const verdict_table[_VERDICT_MAX] = {
        [VERDICT_PASS] = "pass",
        [VERDICT_WARN] = "warn",
        [VERDICT_FAIL] = "fail",
        [VERDICT_SKIP] = "skip",
};

typedef struct Result {
        Verdict verdict;
        char detail[DOCTOR_TEXT_MAX];
        char fix[DOCTOR_TEXT_MAX];
} Result;

typedef struct Doctor {
        const char *config_path; /* --config, may be NULL */
        Config *config; /* NULL when it failed to load */
        Error config_error;
        const char *user_name; /* the service user */
        uid_t uid;
        bool have_uid;
        bool as_root;
        char **skip; /* --skip names */
        char *env_file; /* the unit's EnvironmentFile=, read when it exists */
        bool env_file_read;
        mode_t env_file_mode;
        char *env_file_error; /* why it could not be read, NULL when fine or absent */
        char *state_dir; /* the unit's StateDirectory=aegis, set as $STATE_DIRECTORY */
} Doctor;

static void doctor_done(Doctor *d) {
        free(d->env_file);
        free(d->env_file_error);
        free(d->state_dir);
}

static void result_set(Result *r, Verdict v, const char *fix, const char *fmt, ...) _printf_(4, 5);
static void result_set(Result *r, Verdict v, const char *fix, const char *fmt, ...) {
        va_list ap;

        r->verdict = v;
        va_start(ap, fmt);
        vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
        va_end(ap);
        snprintf(r->fix, sizeof(r->fix), "%s", strempty(fix));
}

static const char *systemctl_scope(const Doctor *d) {
        return d->as_root ? "systemctl" : "systemctl --user";
}

static int open_manager_bus(const Doctor *d, sd_bus **ret) {
        return d->as_root ? sd_bus_open_system(ret) : sd_bus_open_user(ret);
}

/* The socket podman.socket listens on for this identity. */
static void podman_default_socket(const Doctor *d, char *buf, size_t size) {
        if (d->as_root)
                snprintf(buf, size, "/run/podman/podman.sock");
        else
                snprintf(buf, size, "/run/user/%u/podman/podman.sock", (unsigned) getuid());
}

/* What systemd gives aegis.service and a login shell does not, so that the checks look
 * where the daemon looks (units/aegis.service.in, units/user/aegis.service.in):
 *  - EnvironmentFile=-/etc/aegis/env (system), EnvironmentFile=-%h/.config/aegis/env (user):
 *    literally ~/.config, whatever $XDG_CONFIG_HOME says. Its variables (DATABASE_URL, …)
 *    override the unit's Environment= and so the shell's here.
 *  - StateDirectory=aegis: state_dir_for_unit() (state-dir.h), for the system manager when
 *    run as root, else for this user's manager. The default store and volumes live there. */

/* systemd's EnvironmentFile= syntax, the part people write: KEY=VALUE lines, '#' and ';'
 * comments, blank lines, the value optionally in matching single or double quotes. */
static int env_file_apply(const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        int r;

        r = read_full_file(path, 64 * 1024, &text, &size);
        if (r < 0) {
                *ret_error = asprintf_safe("%s: %s", path, strerror(-r));
                return r;
        }
        for (char *line = text, *next; line && *line; line = next) {
                char *eq, *key, *value, *e;
                size_t n;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                key = line + strspn(line, " \t");
                if (*key == '\0' || *key == '#' || *key == ';')
                        continue;
                eq = strchr(key, '=');
                if (!eq || eq == key) {
                        *ret_error = asprintf_safe("%s:%u: expected KEY=VALUE", path, lineno);
                        return -EINVAL;
                }
                for (e = eq; e > key && strchr(" \t", e[-1]); e--)
                        ;
                *e = '\0';
                value = eq + 1 + strspn(eq + 1, " \t");
                n = strlen(value);
                while (n > 0 && strchr(" \t\r", value[n - 1]))
                        value[--n] = '\0';
                if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
                        value[n - 1] = '\0';
                        value++;
                }
                if (setenv(key, value, 1) < 0) {
                        *ret_error = asprintf_safe("%s:%u: %s: %s", path, lineno, key, strerror(errno));
                        return -errno;
                }
        }
        return 0;
}

static int doctor_unit_environment(Doctor *d) {
        _cleanup_free_ char *home = NULL;
        struct stat st;

        if (d->as_root)
                d->env_file = strdup(SYSCONFDIR "/aegis/env");
        else {
                home = home_dir();
                d->env_file = home ? path_join(home, ".config/aegis/env") : NULL;
        }
        if (d->env_file && stat(d->env_file, &st) == 0) {
                d->env_file_mode = st.st_mode;
                d->env_file_read = env_file_apply(d->env_file, &d->env_file_error) >= 0;
        }

        if (!isempty(getenv("STATE_DIRECTORY")))
                return 0; /* run by systemd, or told */
        if (state_dir_for_unit(!d->as_root, &d->state_dir, NULL, NULL) < 0)
                return 0; /* no home: the configuration's own default applies */
        if (setenv("STATE_DIRECTORY", d->state_dir, 1) < 0)
                return -errno;
        return 0;
}

static void check_podman_unit(Doctor *d, Result *res) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *active = NULL, *file_state = NULL;
        char def[128], fix[256];
        const char *path;
        int r;

        snprintf(fix, sizeof(fix), "%s enable --now podman.socket", systemctl_scope(d));
        podman_default_socket(d, def, sizeof(def));
        if (d->config && !streq(d->config->runtime.container_socket_path, def)) {
                result_set(res, VERDICT_SKIP, NULL,
                           "runtime.container_socket_path is %s, not podman.socket's %s: checked directly "
                           "below",
                           d->config->runtime.container_socket_path, def);
                return;
        }

        r = open_manager_bus(d, &bus);
        if (r < 0) {
                result_set(res, VERDICT_FAIL,
                           d->as_root ? "start the system bus (dbus.service)"
                                      : "run as the service user with its user manager running: loginctl "
                                        "enable-linger USER, then XDG_RUNTIME_DIR=/run/user/$(id -u)",
                           "cannot reach the %s service manager over D-Bus: %s",
                           d->as_root ? "system" : "user", strerror(-r));
                return;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s",
                               "podman.socket");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                result_set(res, VERDICT_FAIL, "install podman (apt-get install podman), then the fix below",
                           "cannot ask systemd about podman.socket: %s", error.message ?: strerror(-r));
                return;
        }
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", &error, &active);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                               "org.freedesktop.systemd1.Unit", "UnitFileState", &error,
                                               &file_state);
        if (r < 0) {
                result_set(res, VERDICT_FAIL, fix, "cannot read podman.socket's state: %s",
                           error.message ?: strerror(-r));
                return;
        }
        if (isempty(file_state) || streq(file_state, "not-found")) {
                result_set(res, VERDICT_FAIL, "apt-get install podman", "podman.socket is not installed");
                return;
        }
        if (!streq(active, "active")) {
                result_set(res, VERDICT_FAIL, fix, "podman.socket is %s (%s)", active, file_state);
                return;
        }
        if (!streq(file_state, "enabled")) {
                result_set(res, VERDICT_WARN, fix,
                           "podman.socket is active but %s: it will not come back after a reboot",
                           file_state);
                return;
        }
        result_set(res, VERDICT_PASS, NULL, "podman.socket is active and enabled (%s manager)",
                   d->as_root ? "system" : "user");
}

static void check_podman_socket(Doctor *d, Result *res) {
        const char *p;
        struct stat st;
        char fix[512];

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL, "no valid configuration to read the socket path from");
                return;
        }
        p = d->config->runtime.container_socket_path;
        snprintf(fix, sizeof(fix),
                 "%s restart podman.socket; or point runtime.container_socket_path (or CONTAINER_HOST) at "
                 "the "
                 "Podman socket",
                 systemctl_scope(d));
        if (stat(p, &st) < 0) {
                result_set(res, VERDICT_FAIL, fix, "%s: %s", p, strerror(errno));
                return;
        }
        if (!S_ISSOCK(st.st_mode)) {
                result_set(res, VERDICT_FAIL, fix, "%s exists but is not a socket", p);
                return;
        }
        result_set(res, VERDICT_PASS, NULL, "%s is a socket (owner uid %u, mode %03o)", p,
                   (unsigned) st.st_uid, (unsigned) (st.st_mode & 0777));
}

static void check_podman_api(Doctor *d, Result *res) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        Error e = ERROR_INIT;
        const char *p;
        char fix[512];
        int r;

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL, "no valid configuration to read the socket path from");
                return;
        }
        p = d->config->runtime.container_socket_path;
        if (strlen(p) >= sizeof(sa.sun_path)) {
                result_set(res, VERDICT_FAIL, "use a shorter runtime.container_socket_path",
                           "%s is too long for a unix socket path", p);
                return;
        }
        /* connect() first: it tells EACCES (wrong user) from ENOENT/ECONNREFUSED. */
        memcpy(sa.sun_path, p, strlen(p) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int err = errno;
                if (err == EACCES || err == EPERM)
                        snprintf(fix, sizeof(fix),
                                 "run aegisd and aegis doctor as the user owning %s (ls -la %s; ps -o user= "
                                 "-C "
                                 "aegisd), or use that user's socket /run/user/UID/podman/podman.sock",
                                 p, p);
                else
                        snprintf(fix, sizeof(fix), "%s restart podman.socket", systemctl_scope(d));
                result_set(res, VERDICT_FAIL, fix, "cannot connect to %s: %s%s", p, strerror(err),
                           err == EACCES ? " (permission denied)" : "");
                return;
        }

        r = podman_client_new(p, NULL, &c);
        if (r >= 0)
                r = podman_ping(c, 10 * USEC_PER_SEC, &e);
        snprintf(fix, sizeof(fix), "%s restart podman.socket; journalctl %s-u podman.service",
                 systemctl_scope(d), d->as_root ? "" : "--user ");
        if (r < 0)
                result_set(res, VERDICT_FAIL, fix, "GET /_ping on %s: %s", p,
                           e.message[0] ? e.message : strerror(-r));
        else
                result_set(res, VERDICT_PASS, NULL, "the Podman API answers on %s", p);
}

/* What aegisd checks at start (GET /libpod/info): the limits of agent containers hold. */
static void check_engine_limits(Doctor *d, Result *res) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        Error e = ERROR_INIT;
        PodmanInfo info;
        const char *why;
        char limits[64];
        int r;

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL, "no valid configuration to read the socket path from");
                return;
        }
        r = podman_client_new(d->config->runtime.container_socket_path, NULL, &c);
        if (r >= 0)
                r = podman_info(c, &info, &e);
        if (r < 0) {
                result_set(res, VERDICT_FAIL, "make the Podman API answer first (see podman-api)",
                           "GET /libpod/info on %s: %s", d->config->runtime.container_socket_path,
                           e.message[0] ? e.message : strerror(-r));
                return;
        }
        why = podman_info_unenforced_limits(&info, limits, sizeof limits);
        if (!why)
                result_set(res, VERDICT_PASS, NULL,
                           "the engine enforces the memory, pids and cpu limits (cgroup v%u, %s)",
                           info.cgroup_version, info.rootless ? "rootless" : "rootful");
        else if (d->config->runtime.allow_unenforced_limits)
                result_set(res, VERDICT_WARN, why,
                           "%s would not hold; aegisd runs anyway (runtime.allow_unenforced_limits: true) "
                           "and warns on each execution",
                           limits);
        else
                result_set(res, VERDICT_FAIL, why,
                           "%s would not hold: aegisd refuses submissions (503) until fixed, or until "
                           "runtime.allow_unenforced_limits: true",
                           limits);
}

static void check_linger(Doctor *d, Result *res) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char fix[256], flag[256];
        const char *path;
        int linger = 0, r;

        if (!d->have_uid) {
                result_set(res, VERDICT_FAIL,
                           "install the aegis package (it creates the user with sysusers.d)",
                           "no user named %s", d->user_name);
                return;
        }
        snprintf(fix, sizeof(fix), "loginctl enable-linger %s", d->user_name);
        snprintf(flag, sizeof(flag), "/var/lib/systemd/linger/%s", d->user_name);
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
                                       "org.freedesktop.login1.Manager", "GetUser", &error, &reply, "u",
                                       (uint32_t) d->uid);
        if (r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.login1.NoSuchUser")) {
                /* logind knows every lingering user: unknown means not lingering. */
                result_set(res, VERDICT_FAIL, fix,
                           "%s has no session and does not linger: its units stop when it logs out%s",
                           d->user_name,
                           access(flag, F_OK) == 0
                                   ? " (the flag file exists: logind has not read it; reboot or run "
                                     "the fix)"
                                   : "");
                return;
        }
        if (r < 0) {
                result_set(res, VERDICT_FAIL, "start systemd-logind (apt-get install libpam-systemd dbus)",
                           "cannot ask logind about %s: %s", d->user_name, error.message ?: strerror(-r));
                return;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, "org.freedesktop.login1", path,
                                                "org.freedesktop.login1.User", "Linger", &error, 'b',
                                                &linger);
        if (r < 0) {
                result_set(res, VERDICT_FAIL, fix, "cannot read Linger of %s: %s", d->user_name,
                           error.message ?: strerror(-r));
                return;
        }
        if (!linger)
                result_set(res, VERDICT_FAIL, fix, "Linger=no for %s: its units stop when it logs out",
                           d->user_name);
        else
                result_set(res, VERDICT_PASS, NULL, "Linger=yes for %s (uid %u)", d->user_name,
                           (unsigned) d->uid);
}

static void check_cgroup_v2(Doctor *d, Result *res) {
        struct statfs sf;

        if (statfs("/sys/fs/cgroup", &sf) < 0) {
                result_set(res, VERDICT_FAIL, "mount the cgroup file system", "/sys/fs/cgroup: %s",
                           strerror(errno));
                return;
        }
        if ((unsigned long) sf.f_type != CGROUP2_SUPER_MAGIC) {
                result_set(res, VERDICT_FAIL,
                           "add systemd.unified_cgroup_hierarchy=1 to the kernel command line "
                           "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot",
                           "/sys/fs/cgroup is not cgroup2fs (legacy or hybrid hierarchy): rootless resource "
                           "limits "
                           "are not enforced");
                return;
        }
        result_set(res, VERDICT_PASS, NULL, "/sys/fs/cgroup is cgroup2fs");
}

static void check_delegation(Doctor *d, Result *res) {
        static const char *const wanted[] = { "cpu", "memory", "io", "pids" };
        static const char fix[] =
                "mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io "
                "memory pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf && systemctl "
                "daemon-reload; "
                "then log out and in (or reboot). The aegis package ships this as "
                "/lib/systemd/system/user@.service.d/50-aegis-delegate.conf";
        _cleanup_free_ char *controllers = NULL;
        char path[256], missing[128] = "";
        struct statfs sf;
        size_t n;
        int r;

        if (!d->have_uid) {
                result_set(res, VERDICT_SKIP, NULL, "no user named %s", d->user_name);
                return;
        }
        if (statfs("/sys/fs/cgroup", &sf) < 0 || (unsigned long) sf.f_type != CGROUP2_SUPER_MAGIC) {
                result_set(res, VERDICT_FAIL, fix, "cgroup v2 is not in use: nothing can be delegated");
                return;
        }
        snprintf(path, sizeof(path),
                 "/sys/fs/cgroup/user.slice/user-%u.slice/user@%u.service/cgroup.controllers",
                 (unsigned) d->uid, (unsigned) d->uid);
        r = read_full_file(path, 4096, &controllers, &n);
        if (r < 0) {
                char lfix[256];
                snprintf(lfix, sizeof(lfix), "loginctl enable-linger %s (its user manager is not running)",
                         d->user_name);
                result_set(res, VERDICT_FAIL, lfix, "%s: %s", path, strerror(-r));
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                const char *p = controllers;
                bool found = false;
                size_t len = strlen(wanted[i]);
                while ((p = strstr(p, wanted[i]))) {
                        if ((p == controllers || p[-1] == ' ') &&
                            (p[len] == ' ' || p[len] == '\n' || !p[len])) {
                                found = true;
                                break;
                        }
                        p += len;
                }
                if (!found) {
                        size_t m = strlen(missing);
                        snprintf(missing + m, sizeof(missing) - m, "%s%s", m ? " " : "", wanted[i]);
                }
        }
        while (n > 0 && controllers[n - 1] == '\n')
                controllers[--n] = '\0';
        if (*missing)
                result_set(res, VERDICT_FAIL, fix,
                           "%s is missing from user@%u.service's controllers (%s): limits are not "
                           "enforced and container stats read zero, so what iterations use is unknown",
                           missing, (unsigned) d->uid, controllers);
        else
                result_set(res, VERDICT_PASS, NULL, "user@%u.service has %s", (unsigned) d->uid,
                           controllers);
}

static bool find_in_path(const char *name, char *found, size_t size) {
        static const char *const extra[] = { "/usr/libexec/podman", "/usr/local/libexec/podman" };
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = strdup(isempty(path) ? "/usr/local/bin:/usr/bin:/bin" : path);
        char *dir, *save = NULL;

        if (!copy)
                return false;
        for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                snprintf(found, size, "%s/%s", dir, name);
                if (access(found, X_OK) == 0)
                        return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(extra); i++) {
                snprintf(found, size, "%s/%s", extra[i], name);
                if (access(found, X_OK) == 0)
                        return true;
        }
        return false;
}

static void check_rootless_network(Doctor *d, Result *res) {
        char slirp[512], pasta[512];
        bool s = find_in_path("slirp4netns", slirp, sizeof(slirp)),
             p = find_in_path("pasta", pasta, sizeof(pasta));

        if (!s && !p) {
                result_set(
                        res, VERDICT_FAIL, "apt-get install slirp4netns (or passt, for pasta)",
                        "neither slirp4netns nor pasta is installed: rootless containers have no network");
                return;
        }
        result_set(res, VERDICT_PASS, NULL, "%s%s%s", s ? slirp : "", s && p ? " and " : "", p ? pasta : "");
}

/* A TCP connect with a timeout; 0 or a negative errno. */
static int tcp_probe(const char *host, uint16_t port) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        char service[8];
        int r = -EHOSTUNREACH;

        snprintf(service, sizeof(service), "%u", port);
        if (getaddrinfo(host, service, &hints, &ai) != 0)
                return -EADDRNOTAVAIL;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                _cleanup_close_ int fd =
                        socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                struct pollfd pfd;
                int err = 0;
                socklen_t len = sizeof(err);

                if (fd < 0)
                        continue;
                if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        r = -errno;
                        continue;
                }
                pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
                if (poll(&pfd, 1, DOCTOR_CONNECT_TIMEOUT_MS) <= 0) {
                        r = -ETIMEDOUT;
                        continue;
                }
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
                        r = -(err ?: errno);
                        continue;
                }
                r = 0;
                break;
        }
        freeaddrinfo(ai);
        return r;
}

/* storage.mount_mode as aegisd resolves it: auto asks the engine whether it is rootless (taken
 * as rootless when it does not answer and we are not root, as aegisd does). */
static StorageMountMode doctor_mount_mode(Doctor *d, const char **ret_why) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        PodmanInfo info;
        bool rootless = geteuid() != 0;

        if (d->config->storage.mount_mode == STORAGE_MOUNT_AUTO &&
            podman_client_new(d->config->runtime.container_socket_path, NULL, &c) >= 0 &&
            podman_info(c, &info, NULL) >= 0)
                rootless = info.rootless;
        return storage_mount_mode_resolve(d->config->storage.mount_mode, rootless, ret_why);
}

static void check_mount_mode(Doctor *d, Result *res) {
        const char *why;
        StorageMountMode m;

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL,
                           "no valid configuration to read storage.mount_mode from");
                return;
        }
        m = doctor_mount_mode(d, &why);
        result_set(res, VERDICT_PASS, NULL, "volumes reach containers by %s mounts: %s",
                   storage_mount_mode_to_string(m), why);
}

static void check_nfs_port(Doctor *d, Result *res) {
        _cleanup_free_ char *host = NULL;
        uint16_t port;
        char fix[512];
        const char *probe;
        int r;

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL,
                           "no valid configuration to read storage.nfs_listen_addr from");
                return;
        }
        if (doctor_mount_mode(d, &probe) == STORAGE_MOUNT_BIND) {
                result_set(res, VERDICT_SKIP, NULL, "volumes are bind mounts (%s): no NFS gateway is used",
                           probe);
                return;
        }
        r = parse_listen_address(d->config->storage.nfs_listen_addr, &host, &port);
        if (r < 0) {
                result_set(res, VERDICT_FAIL, "fix storage.nfs_listen_addr",
                           "storage.nfs_listen_addr \"%s\" is invalid", d->config->storage.nfs_listen_addr);
                return;
        }
        probe = isempty(host) || streq(host, "0.0.0.0") || streq(host, "::") ? "127.0.0.1" : host;
        snprintf(fix, sizeof(fix),
                 "%s enable --now aegis-nfs.socket; and let agent containers reach TCP %u on this host "
                 "(firewall)",
                 systemctl_scope(d), port);
        r = tcp_probe(probe, port);
        if (r < 0)
                result_set(res, VERDICT_FAIL, fix, "nothing accepts NFS connections on %s:%u: %s", probe,
                           port, strerror(-r));
        else
                result_set(res, VERDICT_PASS, NULL, "%s:%u accepts connections", probe, port);
}

static void check_config(Doctor *d, Result *res) {
        if (!d->config) {
                result_set(res, VERDICT_FAIL,
                           "correct the named key (see aegis-config.yaml(5)); `aegisd --check-config` "
                           "re-checks it",
                           "%s", d->config_error.message);
                return;
        }
        if (d->env_file_error) {
                result_set(res, VERDICT_FAIL,
                           "write one KEY=VALUE per line (systemd.exec(5), EnvironmentFile=)", "%s",
                           d->env_file_error);
                return;
        }
        {
                char env[PATH_MAX + 64] = "no environment file", state[PATH_MAX + 64] = "";

                if (d->env_file_read)
                        (void) snprintf(env, sizeof env, "environment from %s", d->env_file);
                else if (d->env_file)
                        (void) snprintf(env, sizeof env, "no %s", d->env_file);
                (void) snprintf(state, sizeof state, "state directory %s", d->config->state_dir);
                if (d->env_file_read && (d->env_file_mode & 0077)) {
                        char fix[PATH_MAX + 16];
                        (void) snprintf(fix, sizeof fix, "chmod 600 %s", d->env_file);
                        result_set(res, VERDICT_WARN, fix,
                                   "%s holds secrets and is readable by others (mode %04o)", d->env_file,
                                   (unsigned) (d->env_file_mode & 07777));
                        return;
                }
                if (d->config->path)
                        result_set(res, VERDICT_PASS, NULL, "%s is valid; %s; %s", d->config->path, env,
                                   state);
                else
                        result_set(res, VERDICT_PASS, NULL,
                                   "no configuration file: built-in defaults; %s; %s", env, state);
        }
}

/* A SQLite store that does not exist yet: fine when aegisd may create it. Nothing is created. */
static void check_store_missing_file(const char *path, Result *res) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir) {
                result_set(res, VERDICT_FAIL, NULL, "out of memory");
                return;
        }
        slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        if (access(slash ? dir : ".", W_OK) == 0)
                result_set(res, VERDICT_PASS, NULL,
                           "%s does not exist yet; aegisd creates it on first start", path);
        else
                result_set(res, VERDICT_FAIL, "create the directory and give it to the service user",
                           "%s does not exist and %s is not writable: %s", path, dir, strerror(errno));
}

/* Opens the store the way aegisd would, but read-only: doctor never creates or migrates one. */
static void check_store(Doctor *d, Result *res) {
        _cleanup_(store_closep) Store *store = NULL;
        Error e = ERROR_INIT;
        const char *url, *p;
        bool pg;

        if (!d->config) {
                result_set(res, VERDICT_SKIP, NULL, "no valid configuration to read database.url from");
                return;
        }
        url = d->config->database.url;
        p = startswith(url, "sqlite://");
        pg = startswith(url, "postgresql://") || startswith(url, "postgres://");
        if (!p && !pg) {
                result_set(res, VERDICT_FAIL, "use sqlite:///PATH or postgresql://USER@HOST/DB",
                           "database.url has an unknown scheme");
                return;
        }
        if (store_url_names_missing_file(url)) {
                check_store_missing_file(p, res);
                return;
        }
        if (pg && pq_dlopen(&e) < 0) {
                result_set(res, VERDICT_FAIL, "apt-get install libpq5", "%s", e.message);
                return;
        }
        if (store_open_read_only(url, &e, &store) < 0) {
                result_set(res, VERDICT_FAIL,
                           e.code == -EPROTONOSUPPORT
                                   ? "upgrade aegis, or point database.url at another database"
                           : pg ? "start PostgreSQL, or correct DATABASE_URL / database.url (host, port, "
                                  "dbname)"
                                : "check the file's owner and mode (the service user must write it)",
                           "%s", e.message);
                return;
        }
        if (p && access(p, W_OK) < 0) {
                result_set(res, VERDICT_FAIL,
                           "check the file's owner and mode (the service user must write it)",
                           "%s opens but is not writable: %s", p, strerror(errno));
                return;
        }
        if (store_schema_version(store) < store_schema_version_latest())
                result_set(
                        res, VERDICT_PASS, NULL,
                        "%s store %s opens; its schema is at version %u, aegisd migrates it to %u on start",
                        p ? "SQLite" : "PostgreSQL", store_url(store), store_schema_version(store),
                        store_schema_version_latest());
        else
                result_set(res, VERDICT_PASS, NULL, "%s store %s opens; its schema is at version %u",
                           p ? "SQLite" : "PostgreSQL", store_url(store), store_schema_version(store));
}

/* Appends {name, verdict, detail, fix} to list; fix is null when there is none. */
static int result_add_json(json_object *list, const char *name, const Result *res) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add_string(o, "name", name);
        if (r >= 0)
                r = json_add_string(o, "verdict", verdict_table[res->verdict]);
        if (r >= 0)
                r = json_add_string(o, "detail", res->detail);
        if (r >= 0)
                r = json_add_string(o, "fix", isempty(res->fix) ? NULL : res->fix);
        if (r >= 0 && json_object_array_add(list, o) < 0)
                r = -ENOMEM;
        if (r >= 0)
                TAKE_PTR(o);
        return r;
}

typedef struct Check {
        const char *name;
        const char *title;
        void (*run)(Doctor *d, Result *res);
} Check;

static const Check checks[] = {
        { "config", "configuration", check_config },
        { "podman-socket-unit", "podman.socket unit", check_podman_unit },
        { "podman-socket", "Podman socket present", check_podman_socket },
        { "podman-api", "Podman API reachable", check_podman_api },
        { "engine-limits", "limits the engine enforces", check_engine_limits },
        { "linger", "lingering", check_linger },
        { "cgroup-v2", "cgroup v2", check_cgroup_v2 },
        { "cgroup-delegation", "cgroup delegation", check_delegation },
        { "rootless-network", "slirp4netns or pasta", check_rootless_network },
        { "mount-mode", "volume mount mode", check_mount_mode },
        { "nfs-port", "NFS port reachable", check_nfs_port },
        { "store", "store reachable", check_store },
};

static void doctor_help(FILE *f) {
        fprintf(f, "Usage: aegis doctor [--config FILE] [--user NAME] [--skip CHECK[,CHECK…]] [-o "
                   "text|json|yaml]\n\n"
                   "Checks the host set-up AEGIS needs and prints the fix for whatever is wrong.\n"
                   "Run it as the service user (runuser -u aegis -- aegis doctor) for the per-user\n"
                   "set-up, as root for the system one. Exit status 0 when no check fails.\n\nChecks:\n");
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                fprintf(f, "  %-20s %s\n", checks[i].name, checks[i].title);
}

static bool check_known(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                if (streq(checks[i].name, name))
                        return true;
        return false;
}

int doctor_main(int argc, char **argv, OutputMode output) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "user", required_argument, NULL, 'u' },
                { "skip", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_strv_free_ char **skip = NULL;
        _cleanup_json_ json_object *list = NULL;
        _cleanup_(doctor_done) Doctor d = { .config_error = ERROR_INIT };
        bool json = output == OUTPUT_JSON || output == OUTPUT_YAML;
        unsigned failed = 0, warned = 0;
        struct passwd *pw;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "c:u:s:h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        d.config_path = optarg;
                        break;
                case 'u':
                        d.user_name = optarg;
                        break;
                case 's': {
                        _cleanup_free_ char *copy = strdup(optarg);
                        char *save = NULL;
                        if (!copy)
                                return EXIT_FAILED;
                        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                                if (!check_known(t))
                                        return cli_usage_error("doctor --skip: unknown check \"%s\"", t);
                                if (strv_extend(&skip, t) < 0)
                                        return EXIT_FAILED;
                        }
                        break;
                }
                case 'h':
                        doctor_help(stdout);
                        return 0;
                default:
                        return EXIT_AEGIS;
                }
        }
        if (optind < argc)
                return cli_usage_error("doctor: unexpected argument \"%s\"", argv[optind]);

        d.as_root = geteuid() == 0;
        if (!d.user_name) {
                pw = d.as_root ? NULL : getpwuid(getuid());
                d.user_name = pw ? pw->pw_name : "aegis";
        }
        pw = getpwnam(d.user_name);
        if (pw) {
                d.uid = pw->pw_uid;
                d.have_uid = true;
        }
        if (doctor_unit_environment(&d) < 0)
                return EXIT_FAILED;
        if (config_load(d.config_path, &config, &d.config_error) >= 0)
                d.config = config;
        d.skip = skip;

        list = json_object_new_array();
        if (!list)
                return EXIT_FAILED;
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                Result res = { .verdict = VERDICT_PASS };

                if (strv_contains(skip, checks[i].name))
                        result_set(&res, VERDICT_SKIP, NULL, "skipped with --skip");
                else
                        checks[i].run(&d, &res);
                failed += res.verdict == VERDICT_FAIL;
                warned += res.verdict == VERDICT_WARN;

                if (result_add_json(list, checks[i].name, &res) < 0)
                        return EXIT_FAILED;

                if (!json) {
                        printf("%-4s  %-20s %s\n",
                               res.verdict == VERDICT_PASS   ? "ok"
                               : res.verdict == VERDICT_WARN ? "WARN"
                               : res.verdict == VERDICT_FAIL ? "FAIL"
                                                             : "skip",
                               checks[i].name, res.detail);
                        if (*res.fix)
                                printf("      %-20s fix: %s\n", "", res.fix);
                }
        }

        if (json) {
                _cleanup_json_ json_object *top = json_object_new_object();
                int r = top ? 0 : -ENOMEM;

                if (r >= 0)
                        r = json_add_bool(top, "ok", failed == 0);
                if (r >= 0)
                        r = json_add_string(top, "user", d.user_name);
                if (r >= 0)
                        r = json_add_int(top, "failed", failed);
                if (r >= 0)
                        r = json_add_int(top, "warnings", warned);
                if (r >= 0)
                        r = json_add_obj(top, "checks", TAKE_PTR(list));
                if (r < 0)
                        return EXIT_FAILED;
                if (output == OUTPUT_YAML)
                        cli_print_yaml(top);
                else
                        puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        } else
                printf("\n%s: %u failed, %u warning(s)\n", failed ? "NOT READY" : "ready", failed, warned);
        fflush(stdout);
        return failed ? EXIT_FAILED : EXIT_COMPLETED;
}

int cmd_doctor(Cli *cli, int argc, char **argv) {
        return doctor_main(argc, argv, cli->output);
}
