/* config.c — defaults, the YAML file and the environment, merged into one Config (config.h).
 *
 * The key table below is the single description of the configuration: every layer
 * (defaults, file, environment), the validation, the provenance and the dump walk it.
 * Invariants: every key of the table has a value or is explicitly optional (NULL); a
 * value in a Config has passed its key's validation; provenance[i] describes table[i]. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-security.h"
#include "log.h"
#include "redact.h"
#include "state-dir.h"
#include "string-table.h"
#include "util.h"
#include "yaml-tree.h"

#define CONFIG_FILE_MAX (1024 * 1024)

typedef enum KeyType {
        KEY_STRING, /* a word without spaces or control characters */
        KEY_PATH, /* an absolute path */
        KEY_SOCKET, /* an absolute path, "unix://" accepted and stripped */
        KEY_ADDRESS, /* host:port, [v6]:port or :port */
        KEY_UINT, /* a non-negative integer */
        KEY_SECS, /* seconds: 60, "90s", "5m", "1h30m" */
        KEY_SIZE, /* bytes: 8388608, "8Mi", "1G" */
        KEY_MOUNT_MODE, /* nfs | bind */
        KEY_LOG_LEVEL, /* error … debug */
        KEY_DATABASE_URL, /* sqlite:///PATH, postgres[ql]://… */
        KEY_ORIGINS, /* web origins "http[s]://HOST[:PORT]", separated by spaces or commas */
        KEY_CPUS, /* CPUs: 2, "1.5", "500m"; kept in billionths of a CPU */
        KEY_BOOL, /* true | false (a bool field) */
        KEY_URL, /* an http:// or https:// URL without spaces */
        KEY_API_KEY, /* "env:VARIABLE": where a key is, never the key itself */
        _KEY_TYPE_MAX,
} KeyType;

/* What a value of each type is called in "expected …" messages. */
static const char *const key_type_noun[_KEY_TYPE_MAX] = {
        [KEY_STRING] = "a string",
        [KEY_PATH] = "an absolute path",
        [KEY_SOCKET] = "a unix socket path (/PATH or unix:///PATH)",
        [KEY_ADDRESS] = "an address HOST:PORT",
        [KEY_UINT] = "an integer",
        [KEY_SECS] = "a duration in seconds (e.g. 60, \"90s\", \"5m\")",
        [KEY_SIZE] = "a size in bytes (e.g. 8388608, \"8Mi\")",
        [KEY_MOUNT_MODE] = "one of auto, nfs, bind",
        [KEY_LOG_LEVEL] = "a log level (error, warning, notice, info, debug)",
        [KEY_DATABASE_URL] = "a database URL (sqlite:///PATH or postgresql://…)",
        [KEY_ORIGINS] = "web origins (e.g. \"https://ui.example.com http://localhost:3000\")",
        [KEY_CPUS] = "a number of CPUs (e.g. 2, \"1.5\", \"500m\")",
        [KEY_BOOL] = "true or false",
        [KEY_URL] = "an http:// or https:// URL",
        [KEY_API_KEY] = "\"env:VARIABLE\"",
};

typedef enum DefaultKind {
        DEFAULT_CONTAINER_SOCKET = 1, /* $CONTAINER_HOST, $DOCKER_HOST, the Podman socket */
        DEFAULT_STORAGE_ROOT, /* <state dir>/storage */
        DEFAULT_DATABASE_URL, /* sqlite://<state dir>/aegis.db */
        DEFAULT_HOST_CPUS, /* the CPUs online on this host */
        DEFAULT_HOST_MEMORY, /* this host's physical memory */
} DefaultKind;

typedef struct ConfigKey {
        const char *name; /* "section.key" */
        KeyType type;
        size_t offset; /* of the field in Config */
        const char *default_value; /* NULL = computed (default_kind) or unset */
        DefaultKind default_kind;
        const char *override_env[3]; /* variables that override the file, first wins */
        uint64_t min, max; /* for KEY_UINT/KEY_SECS/KEY_SIZE; max 0 = unbounded */
} ConfigKey;

#define FIELD(f) offsetof(Config, f)
#define DAY 86400
static const ConfigKey config_keys[] = {
        /* name                              type         field                     default */
        { "api.listen", KEY_ADDRESS, FIELD(api.listen), "127.0.0.1:8088" },
        { "api.metrics_listen", KEY_ADDRESS, FIELD(api.metrics_listen), "127.0.0.1:9091" },
        { "api.idle_exit_secs", KEY_SECS, FIELD(api.idle_exit_secs), "0", .max = 365 * DAY },
        { "api.tokens_file", KEY_PATH, FIELD(api.tokens_file), NULL },
        { "api.max_body_bytes", KEY_SIZE, FIELD(api.max_body_bytes), "8Mi", .min = 1024, .max = 1 << 30 },
        { "api.max_connections", KEY_UINT, FIELD(api.max_connections), "1024", .min = 16, .max = 65536 },
        { "api.connection_timeout_secs", KEY_SECS, FIELD(api.connection_timeout_secs), "60", .min = 1,
          .max = 3600 },
        { "api.allowed_origins", KEY_ORIGINS, FIELD(api.allowed_origins), NULL },
        { "api.max_streams_per_token", KEY_UINT, FIELD(api.max_streams_per_token), "16", .min = 1,
          .max = 65536 },
        { "runtime.container_socket_path", KEY_SOCKET, FIELD(runtime.container_socket_path), NULL,
          DEFAULT_CONTAINER_SOCKET },
        { "runtime.network", KEY_STRING, FIELD(runtime.network), NULL },
        { "runtime.image_pull_timeout_secs", KEY_SECS, FIELD(runtime.image_pull_timeout_secs), "180",
          .min = 1, .max = DAY },
        { "runtime.max_concurrent", KEY_UINT, FIELD(runtime.max_concurrent), "50", .min = 1, .max = 10000 },
        { "runtime.warm_pool_default", KEY_UINT, FIELD(runtime.warm_pool_default), "0", .max = 1000 },
        { "runtime.warm_pool_max", KEY_UINT, FIELD(runtime.warm_pool_max), "8", .max = 1000 },
        { "runtime.warm_pool_max_idle_secs", KEY_SECS, FIELD(runtime.warm_pool_max_idle_secs), "900",
          .min = 10, .max = DAY },
        { "runtime.warm_pool_image_check_secs", KEY_SECS, FIELD(runtime.warm_pool_image_check_secs), "60",
          .max = DAY },
        { "runtime.stats_interval_secs", KEY_SECS, FIELD(runtime.stats_interval_secs), "1", .min = 1,
          .max = 3600 },
        { "runtime.stop_timeout_secs", KEY_SECS, FIELD(runtime.stop_timeout_secs), "5", .max = 3600 },
        { "runtime.lease_secs", KEY_SECS, FIELD(runtime.lease_secs), "15",
          .override_env = { "AEGIS_LEASE_SECS" }, .min = 1, .max = 3600 },
        { "runtime.allow_unenforced_limits", KEY_BOOL, FIELD(runtime.allow_unenforced_limits), "false" },
        { "runtime.user_namespace", KEY_BOOL, FIELD(runtime.user_namespace), "true" },
        { "runtime.user_namespace_base", KEY_UINT, FIELD(runtime.user_namespace_base), "1879048192",
          .min = 65536, .max = 4294901759 },
        { "runtime.engine_pause_pid_file", KEY_PATH, FIELD(runtime.engine_pause_pid_file), NULL },

        { "runtime.bootstrap_binary", KEY_PATH, FIELD(runtime.bootstrap_binary),
          PKGLIBEXECDIR "/aegis-bootstrap" },
        { "storage.root", KEY_PATH, FIELD(storage.root), NULL, DEFAULT_STORAGE_ROOT },
        { "storage.nfs_listen_addr", KEY_ADDRESS, FIELD(storage.nfs_listen_addr), "127.0.0.1:2049" },
        { "storage.nfs_server_host", KEY_STRING, FIELD(storage.nfs_server_host), NULL },
        { "storage.mount_mode", KEY_MOUNT_MODE, FIELD(storage.mount_mode), "auto" },
        { "storage.volume_max_entries", KEY_UINT, FIELD(storage.volume_max_entries), "1000000", .min = 1,
          .max = 4 * 1024 * 1024 },
        { "storage.nfs_idle_timeout_secs", KEY_SECS, FIELD(storage.nfs_idle_timeout_secs), "300", .min = 1,
          .max = DAY },
        { "storage.nfs_max_connections_per_client", KEY_UINT, FIELD(storage.nfs_max_connections_per_client),
          "64", .min = 1, .max = 65536 },
        { "database.url",
          KEY_DATABASE_URL,
          FIELD(database.url),
          NULL,
          DEFAULT_DATABASE_URL,
          { "DATABASE_URL" } },
        { "logging.level", KEY_LOG_LEVEL, FIELD(logging.level), "info",
          .override_env = { "AEGIS_LOG_LEVEL" } },
        { "reaper.grace_secs", KEY_SECS, FIELD(reaper.grace_secs), "60", .max = 7 * DAY },
        { "reaper.interval_secs", KEY_SECS, FIELD(reaper.interval_secs), "300", .min = 1, .max = 7 * DAY },
        /* llm.providers[] is a list, parsed by parse_llm_providers() below. */
        { "llm.max_tool_rounds", KEY_UINT, FIELD(llm.max_tool_rounds), "50", .min = 1, .max = 10000 },
        { "llm.selection.default_provider", KEY_STRING, FIELD(llm.selection.default_provider), NULL },
        { "llm.selection.fallback_provider", KEY_STRING, FIELD(llm.selection.fallback_provider), NULL },
        { "llm.selection.max_retries", KEY_UINT, FIELD(llm.selection.max_retries), "3", .max = 20 },
        { "llm.selection.retry_delay_ms", KEY_UINT, FIELD(llm.selection.retry_delay_ms), "500",
          .max = 60000 },
        { "llm.selection.overall_timeout_secs", KEY_SECS, FIELD(llm.selection.overall_timeout_secs), "300",
          .min = 1, .max = DAY },
        /* security.contexts[] is a list, parsed by config-security.c. */
        { "security.default_context", KEY_STRING, FIELD(security.default_context), NULL },
        { "security.allow_internal_egress", KEY_BOOL, FIELD(security.allow_internal_egress), "false" },
        /* tools: the backends of the inner loop's tools (web.search without an endpoint is not
         * offered). */
        { "tools.web_search.endpoint", KEY_URL, FIELD(tools.web_search.endpoint), NULL },
        { "tools.web_search.api_key", KEY_API_KEY, FIELD(tools.web_search.api_key), NULL },
        { "tools.web_search.max_results", KEY_UINT, FIELD(tools.web_search.max_results), "5", .min = 1,
          .max = 20 },
        { "tools.web_search.timeout_secs", KEY_UINT, FIELD(tools.web_search.timeout_secs), "30", .min = 1,
          .max = 120 },
        /* limits.tenants is a mapping, parsed by parse_limit_tenants() below; its entries take
         * the keys of this section (limit_key_names). */
        { "limits.max_cpus", KEY_CPUS, FIELD(limits.overall.max_nano_cpus), NULL, DEFAULT_HOST_CPUS,
          .min = 1000000, .max = UINT64_C(1024) * 1000000000 },
        { "limits.max_memory_bytes", KEY_SIZE, FIELD(limits.overall.max_memory_bytes), NULL,
          DEFAULT_HOST_MEMORY, .min = 4 << 20 },
        { "limits.max_pids", KEY_UINT, FIELD(limits.overall.max_pids), "32768", .min = 16, .max = 1000000 },
        { "limits.max_timeout_secs", KEY_SECS, FIELD(limits.overall.max_timeout_secs), "24h", .min = 1,
          .max = 7 * DAY },
        { "limits.max_concurrent_executions", KEY_UINT, FIELD(limits.overall.max_concurrent_executions),
          "256", .min = 1, .max = 100000 },
};
#define N_KEYS ELEMENTSOF(config_keys)

typedef struct KeyOrigin {
        ConfigSource source;
        char *detail; /* "$DATABASE_URL", "config.yaml:7", NULL for defaults */
} KeyOrigin;

struct ConfigProvenance {
        KeyOrigin origin[N_KEYS];
};

static const char *const config_source_table[_CONFIG_SOURCE_MAX] = {
        [CONFIG_SOURCE_DEFAULT] = "default",
        [CONFIG_SOURCE_FILE] = "file",
        [CONFIG_SOURCE_ENVIRONMENT] = "environment",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(config_source, ConfigSource)

static const char *const storage_mount_mode_table[_STORAGE_MOUNT_MAX] = {
        [STORAGE_MOUNT_NFS] = "nfs",
        [STORAGE_MOUNT_BIND] = "bind",
        [STORAGE_MOUNT_AUTO] = "auto",
};

DEFINE_STRING_TABLE_LOOKUP(storage_mount_mode, StorageMountMode)

const char *config_key_name(size_t i) {
        return i < N_KEYS ? config_keys[i].name : NULL;
}

static const ConfigKey *key_lookup(const char *name, size_t *ret_index) {
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(config_keys[i].name, name)) {
                        if (ret_index)
                                *ret_index = i;
                        return &config_keys[i];
                }
        return NULL;
}

static char **field_string(Config *c, const ConfigKey *k) {
        return (char **) ((uint8_t *) c + k->offset);
}
static uint64_t *field_u64(Config *c, const ConfigKey *k) {
        return (uint64_t *) ((uint8_t *) c + k->offset);
}
static bool *field_bool(Config *c, const ConfigKey *k) {
        return (bool *) ((uint8_t *) c + k->offset);
}
static int *field_int(Config *c, const ConfigKey *k) {
        return (int *) ((uint8_t *) c + k->offset);
}
static bool key_is_string(const ConfigKey *k) {
        return k->type == KEY_STRING || k->type == KEY_PATH || k->type == KEY_SOCKET ||
               k->type == KEY_ADDRESS || k->type == KEY_DATABASE_URL || k->type == KEY_ORIGINS ||
               k->type == KEY_URL || k->type == KEY_API_KEY;
}

/* "2", "1.5", "0.25", "500m" → billionths of a CPU (at most three decimals, as millicores). */
static int parse_cpus(const char *s, uint64_t *ret) {
        uint64_t whole = 0, millis = 0;
        const char *p = s;
        size_t n;

        if (endswith(s, "m")) {
                _cleanup_free_ char *digits = strndup(s, strlen(s) - 1);
                if (!digits)
                        return -ENOMEM;
                if (safe_atou64(digits, &millis) < 0 || millis > UINT64_MAX / 1000000)
                        return -EINVAL;
                *ret = millis * 1000000;
                return 0;
        }
        n = strspn(p, "0123456789");
        if (n == 0 || n > 6)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                whole = whole * 10 + (uint64_t) (p[i] - '0');
        p += n;
        if (*p == '.') {
                size_t d = strspn(++p, "0123456789");
                if (d == 0 || d > 3)
                        return -EINVAL;
                for (size_t i = 0; i < 3; i++)
                        millis = millis * 10 + (i < d ? (uint64_t) (p[i] - '0') : 0);
                p += d;
        }
        if (*p)
                return -EINVAL;
        *ret = whole * 1000000000 + millis * 1000000;
        return 0;
}

/* "https://ui.example.com http://localhost:3000": what browsers send as Origin (scheme, host,
 * optional port; no path, no "null", which sandboxed documents send). */
static bool origins_valid(const char *value) {
        size_t n = 0;

        for (const char *p = value + strspn(value, ", "); *p; p += strspn(p, ", ")) {
                size_t len = strcspn(p, ", ");
                const char *host = startswith(p, "https://") ?: startswith(p, "http://");

                if (!host || host >= p + len || host[0] == ':')
                        return false;
                for (const char *q = host; q < p + len; q++)
                        if (*q == '/' || *q == '?' || *q == '#' || *q == '@' ||
                            iscntrl((unsigned char) *q) || isspace((unsigned char) *q))
                                return false;
                p += len;
                n++;
        }
        return n > 0;
}

/* Parses value into the key's field. On a bad value returns -EINVAL with the reason in
 * why ("expected …, got \"…\"" or "must be …"). */
static bool env_name_is_valid(const char *s) {
        if (isempty(s) || !(isalpha((unsigned char) s[0]) || s[0] == '_'))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_')
                        return false;
        return true;
}

/* An api_key's value: NULL when it is "env:VARIABLE", else why not (never echoing the value:
 * it may be a key pasted into the file). */
static const char *api_key_ref_invalid(const char *s) {
        const char *var = startswith(s, "env:");

        if (!var)
                return "expected \"env:VARIABLE\": keys are not accepted in the configuration file; put "
                       "the key in the unit's EnvironmentFile= or a systemd credential "
                       "(LoadCredential=VARIABLE:/path) and write api_key: env:VARIABLE";
        if (!env_name_is_valid(var))
                return "expected env: followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)";
        return NULL;
}

/* An endpoint's value: NULL when it is an http(s) URL without spaces, else why not. */
static const char *http_url_invalid(const char *s) {
        if (!startswith(s, "http://") && !startswith(s, "https://"))
                return "expected an http:// or https:// URL";
        for (const char *q = s; *q; q++)
                if (isspace((unsigned char) *q) || iscntrl((unsigned char) *q))
                        return "expected a URL without spaces";
        return NULL;
}

static int key_set(Config *c, const ConfigKey *k, const char *value, char *why, size_t why_size) {
        _cleanup_free_ char *shown = NULL;
        uint64_t u = 0;
        int r;

        switch (k->type) {
        case KEY_STRING:
                if (isempty(value))
                        goto bad;
                for (const char *p = value; *p; p++)
                        if (isspace((unsigned char) *p) || iscntrl((unsigned char) *p))
                                goto bad;
                break;
        case KEY_PATH:
                if (isempty(value) || value[0] != '/')
                        goto bad;
                break;
        case KEY_SOCKET: {
                const char *p = startswith(value, "unix://");
                if (p)
                        value = p;
                if (isempty(value) || value[0] != '/')
                        goto bad;
                break;
        }
        case KEY_ADDRESS: {
                _cleanup_free_ char *host = NULL;
                uint16_t port;
                if (parse_listen_address(value, &host, &port) < 0)
                        goto bad;
                break;
        }
        case KEY_UINT:
                if (safe_atou64(value, &u) < 0)
                        goto bad;
                goto range;
        case KEY_SECS:
                if (parse_duration_secs(value, &u) < 0)
                        goto bad;
                goto range;
        case KEY_SIZE:
                if (parse_size(value, &u) < 0)
                        goto bad;
                goto range;
        case KEY_CPUS:
                r = parse_cpus(value, &u);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        goto bad;
                goto range;
        case KEY_MOUNT_MODE:
                r = storage_mount_mode_from_string(value);
                if (r < 0)
                        goto bad;
                *field_int(c, k) = r;
                return 0;
        case KEY_BOOL:
                if (streq(value, "true") || streq(value, "yes") || streq(value, "on"))
                        *field_bool(c, k) = true;
                else if (streq(value, "false") || streq(value, "no") || streq(value, "off"))
                        *field_bool(c, k) = false;
                else
                        goto bad;
                return 0;
        case KEY_LOG_LEVEL:
                r = log_level_from_string(value);
                if (r < 0)
                        goto bad;
                *field_int(c, k) = r;
                return 0;
        case KEY_DATABASE_URL: {
                const char *p = startswith(value, "sqlite://");
                if (p) {
                        if (p[0] != '/')
                                goto bad;
                } else if (!startswith(value, "postgresql://") && !startswith(value, "postgres://"))
                        goto bad;
                break;
        }
        case KEY_ORIGINS:
                if (!origins_valid(value))
                        goto bad;
                break;
        case KEY_URL:
                if (http_url_invalid(value) || strlen(value) > 2048)
                        goto bad;
                break;
        case KEY_API_KEY: {
                const char *m = api_key_ref_invalid(value);
                if (m) {
                        (void) snprintf(why, why_size, "%s", m);
                        return -EINVAL;
                }
                break;
        }
        default:
                goto bad;
        }

        /* String-valued. */
        {
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                free(*field_string(c, k));
                *field_string(c, k) = copy;
        }
        return 0;

range:
        if (u < k->min || (k->max > 0 && u > k->max)) {
                if (k->type == KEY_CPUS)
                        (void) snprintf(why, why_size,
                                        "must be between %" PRIu64 "m and %" PRIu64 " CPUs, got \"%s\"",
                                        k->min / 1000000, k->max / 1000000000, value);
                else if (k->max > 0)
                        (void) snprintf(why, why_size,
                                        "must be between %" PRIu64 " and %" PRIu64 ", got \"%s\"", k->min,
                                        k->max, value);
                else
                        (void) snprintf(why, why_size, "must be at least %" PRIu64 ", got \"%s\"", k->min,
                                        value);
                return -ERANGE;
        }
        *field_u64(c, k) = u;
        return 0;

bad:
        /* The value may be a URL with a password in it. */
        shown = redact_secrets(value);
        (void) snprintf(why, why_size, "expected %s, got \"%.64s%s\"", key_type_noun[k->type],
                        strempty(shown), strlen(strempty(shown)) > 64 ? "…" : "");
        return -EINVAL;
}

static int origin_set(Config *c, size_t i, ConfigSource source, const char *detail) {
        KeyOrigin *o = &c->provenance->origin[i];
        char *d = NULL;

        if (detail) {
                d = strdup(detail);
                if (!d)
                        return -ENOMEM;
        }
        free(o->detail);
        o->source = source;
        o->detail = d;
        return 0;
}

/* The container socket default: $CONTAINER_HOST, then $DOCKER_HOST, then the Podman socket
 * of this user (rootless) or of the system (root). */
static int default_container_socket(const Config *c, char **ret, const char **ret_env) {
        static const char *const vars[] = { "CONTAINER_HOST", "DOCKER_HOST" };

        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = getenv(vars[i]);
                if (!isempty(v)) {
                        *ret_env = vars[i];
                        *ret = strdup(v);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        *ret_env = NULL;
        if (geteuid() == 0)
                *ret = strdup("/run/podman/podman.sock");
        else
                *ret = asprintf_safe("/run/user/%u/podman/podman.sock", (unsigned) geteuid());
        return *ret ? 0 : -ENOMEM;
}

/* $HOME/<suffix> when $XDG_<var> is unset or not absolute (XDG base directory rules). */
static char *xdg_dir(const char *var, const char *home_suffix) {
        const char *v = getenv(var), *home;

        if (v && v[0] == '/')
                return strdup(v);
        home = getenv("HOME");
        if (!home || home[0] != '/')
                return NULL;
        return path_join(home, home_suffix);
}

/* $STATE_DIRECTORY (systemd's), else the directory the installed unit would get
 * (state-dir.h): by hand, every program uses the daemon's store and volumes. */
static int state_dir_find(bool user_mode, char **ret) {
        const char *sd = getenv("STATE_DIRECTORY");
        int r;

        if (!isempty(sd)) {
                /* systemd passes one absolute path per StateDirectory= entry, ':'-separated. */
                *ret = strndup(sd, strcspn(sd, ":"));
                return *ret ? 0 : -ENOMEM;
        }
        r = state_dir_for_unit(user_mode, ret, NULL, NULL);
        if (r != -ENOENT)
                return r;
        /* A user without a home: the system's directory, as before. */
        return state_dir_for_unit(false, ret, NULL, NULL);
}

static int config_new(Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->provenance = calloc(1, sizeof *c->provenance);
        if (!c->provenance)
                return -ENOMEM;
        c->user_mode = geteuid() != 0 || !isempty(getenv("XDG_CONFIG_HOME"));
        r = state_dir_find(c->user_mode, &c->state_dir);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Layer 1: the built-in defaults (and the variables that only replace a default). A bad
 * variable of that kind is reported in *deferred only: the file may still set the key. */
static int apply_defaults(Config *c, Error *e, Error *deferred) {
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                _cleanup_free_ char *computed = NULL;
                const char *value = k->default_value, *env = NULL;
                char why[512];
                int r;

                switch (k->default_kind) {
                case DEFAULT_CONTAINER_SOCKET:
                        r = default_container_socket(c, &computed, &env);
                        break;
                case DEFAULT_STORAGE_ROOT:
                        computed = path_join(c->state_dir, "storage");
                        r = computed ? 0 : -ENOMEM;
                        break;
                case DEFAULT_DATABASE_URL: {
                        _cleanup_free_ char *db = path_join(c->state_dir, "aegis.db");
                        computed = db ? asprintf_safe("sqlite://%s", db) : NULL;
                        r = computed ? 0 : -ENOMEM;
                        break;
                }
                case DEFAULT_HOST_CPUS: {
                        long n = sysconf(_SC_NPROCESSORS_ONLN);
                        computed = asprintf_safe("%ld", MAX(n, 1L));
                        r = computed ? 0 : -ENOMEM;
                        break;
                }
                case DEFAULT_HOST_MEMORY: {
                        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
                        uint64_t bytes = pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size
                                                               : UINT64_C(1) << 30;
                        computed = asprintf_safe("%" PRIu64, MAX(bytes, (uint64_t) 4 << 20));
                        r = computed ? 0 : -ENOMEM;
                        break;
                }
                default:
                        r = 0;
                }
                if (r < 0)
                        return error_set(e, r, "Failed to compute the default of %s", k->name);
                if (computed)
                        value = computed;
                if (!value)
                        continue; /* optional, unset */
                r = key_set(c, k, value, why, sizeof why);
                if (r == -ENOMEM)
                        return error_set(e, r, "Out of memory");
                if (r < 0 && env) {
                        (void) error_set_field(deferred, r, k->name, "$%s: %s: %s", env, k->name, why);
                        continue;
                }
                if (r < 0)
                        return error_set_field(e, r, k->name, "%s: invalid default: %s", k->name, why);
                if (env) {
                        char detail[64];
                        (void) snprintf(detail, sizeof detail, "$%s", env);
                        r = origin_set(c, i, CONFIG_SOURCE_ENVIRONMENT, detail);
                } else
                        r = origin_set(c, i, CONFIG_SOURCE_DEFAULT, NULL);
                if (r < 0)
                        return error_set(e, r, "Out of memory");
        }
        return 0;
}

/* Layer 2: the file. Errors point at the key ("FILE:LINE:COL: section.key: …"). */
static const char *const section_names[] = { "api", "runtime",  "storage", "database", "logging", "reaper",
                                             "llm", "security", "limits",  "tools",    NULL };

static int apply_value(Config *c, const YamlNode *key, const YamlNode *value, const char *name, Error *e) {
        const ConfigKey *k;
        const char *s;
        char why[512], detail[PATH_MAX + 32];
        size_t i;
        int r;

        k = key_lookup(name, &i);
        if (!k) {
                /* A close name, or the same key filed under another section. */
                const char *names[N_KEYS + 1], *dot = strchr(name, '.'), *pick;
                const char *same_leaf = NULL;
                unsigned n_same_leaf = 0;

                for (size_t j = 0; j < N_KEYS; j++) {
                        names[j] = config_keys[j].name;
                        if (dot && streq(strchr(names[j], '.'), dot)) {
                                same_leaf = names[j];
                                n_same_leaf++;
                        }
                }
                names[N_KEYS] = NULL;
                pick = suggest_closest(name, names);
                if (!pick && n_same_leaf == 1)
                        pick = same_leaf;
                if (pick)
                        return yaml_node_error_path(key, name, e, -EINVAL,
                                                    "unknown key, did you mean \"%s\"?", pick);
                return yaml_node_error_path(key, name, e, -EINVAL,
                                            "unknown key (see aegis-config.yaml(5) for the known keys)");
        }
        if (yaml_node_is_null(value) && !k->default_value && !k->default_kind) {
                /* "network: ~" on an optional key: explicitly unset. */
                free(*field_string(c, k));
                *field_string(c, k) = NULL;
        } else if (value->kind != YAML_TREE_SCALAR || yaml_node_is_null(value)) {
                return yaml_node_error_path(key, name, e, -EINVAL, "expected %s",
                                            key_is_string(k) ? "a string" : key_type_noun[k->type]);
        } else {
                s = value->value;
                r = key_set(c, k, s, why, sizeof why);
                if (r == -ENOMEM)
                        return error_set(e, r, "Out of memory");
                if (r < 0)
                        return yaml_node_error_path(key, name, e, r, "%s", why);
        }
        (void) snprintf(detail, sizeof detail, "%s:%u", key->file, key->line);
        r = origin_set(c, i, CONFIG_SOURCE_FILE, detail);
        if (r < 0)
                return error_set(e, r, "Out of memory");
        return 0;
}

static int parse_llm_providers(Config *c, const YamlNode *key, const YamlNode *list, Error *e);
static int parse_limit_tenants(Config *c, const YamlNode *key, const YamlNode *map, Error *e);

/* The mappings inside a section whose keys are in the table. */
static bool is_submapping(const char *name) {
        return streq(name, "llm.selection") || streq(name, "tools.web_search");
}

/* The keys of one mapping of the file (a section, or llm.selection) under prefix. */
static int apply_mapping(Config *c, const YamlNode *map, const char *prefix, Error *e) {
        for (size_t j = 0; j < map->n_items / 2; j++) {
                const YamlNode *key = yaml_mapping_key(map, j), *value = yaml_mapping_value(map, j);
                char name[YAML_PATH_MAX];
                int r;

                (void) snprintf(name, sizeof name, "%s.%s", prefix, key->value);
                if (streq(name, "llm.providers"))
                        r = parse_llm_providers(c, key, value, e);
                else if (streq(name, "security.contexts"))
                        r = config_security_parse_contexts(c, key, value, e);
                else if (streq(name, "limits.tenants"))
                        r = parse_limit_tenants(c, key, value, e);
                else if (is_submapping(name) && value->kind == YAML_TREE_MAPPING)
                        r = apply_mapping(c, value, name, e);
                else if (is_submapping(name) && !yaml_node_is_null(value))
                        r = yaml_node_error_path(key, name, e, -EINVAL, "expected a mapping, got %s",
                                                 yaml_node_describe(value));
                else if (is_submapping(name))
                        r = 0;
                else
                        r = apply_value(c, key, value, name, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- llm.providers[] -------------------------------------------------------------------- */

static const char *const llm_provider_type_table[_LLM_PROVIDER_TYPE_MAX] = {
        [LLM_PROVIDER_OPENAI] = "openai",       [LLM_PROVIDER_OPENAI_COMPATIBLE] = "openai-compatible",
        [LLM_PROVIDER_ANTHROPIC] = "anthropic", [LLM_PROVIDER_OLLAMA] = "ollama",
        [LLM_PROVIDER_GEMINI] = "gemini",
};

/* The public endpoint of each type that has one; the others must name theirs. */
static const char *const llm_provider_default_endpoint[_LLM_PROVIDER_TYPE_MAX] = {
        [LLM_PROVIDER_OPENAI] = "https://api.openai.com/v1",
        [LLM_PROVIDER_ANTHROPIC] = "https://api.anthropic.com",
        [LLM_PROVIDER_GEMINI] = "https://generativelanguage.googleapis.com",
};

DEFINE_STRING_TABLE_LOOKUP(llm_provider_type, LlmProviderType)

const ConfigLlmProvider *config_llm_provider(const Config *c, const char *name) {
        assert(c);
        for (size_t i = 0; name && i < c->llm.n_providers; i++)
                if (streq(c->llm.providers[i].name, name))
                        return &c->llm.providers[i];
        return NULL;
}

static void llm_provider_done(ConfigLlmProvider *p) {
        free(p->name);
        free(p->endpoint);
        free(p->api_key_env);
        free(p->where);
        for (size_t i = 0; i < p->n_models; i++) {
                free(p->models[i].alias);
                free(p->models[i].model);
        }
        free(p->models);
}

static void llm_providers_free(Config *c) {
        for (size_t i = 0; i < c->llm.n_providers; i++)
                llm_provider_done(&c->llm.providers[i]);
        free(c->llm.providers);
        c->llm.providers = NULL;
        c->llm.n_providers = 0;
}

/* A name: 1..64 of [A-Za-z0-9_.-] (it appears in metric labels and messages). */
static int get_name(const YamlNode *n, char **ret, Error *e) {
        const char *s;
        int r = yaml_node_get_string(n, 64, &s, e);

        if (r < 0)
                return r;
        if (!id_is_valid(s))
                return yaml_node_error(n, e, -EINVAL,
                                       "expected a name of 1 to 64 letters, digits, \"_\", \".\" or \"-\", "
                                       "got \"%s\"",
                                       s);
        *ret = strdup(s);
        return *ret ? 0 : error_set(e, -ENOMEM, "Out of memory");
}

/* "llm.providers[0]" + "name" → "llm.providers[0].name" in buf. */
static const char *child_path(char *buf, size_t size, const YamlNode *n, const char *key) {
        size_t l;

        yaml_node_path(n, buf, size);
        l = strlen(buf);
        (void) snprintf(buf + l, size - l, "%s%s", l > 0 ? "." : "", key);
        return buf;
}

static int parse_llm_model(const YamlNode *n, ConfigLlmModel *m, Error *e) {
        static const char *const known[] = { "alias", "model", "max_output_tokens", "temperature", NULL };
        const YamlNode *v;
        char path[YAML_PATH_MAX];
        const char *s;
        int r;

        if (n->kind != YAML_TREE_MAPPING)
                return yaml_node_error(n, e, -EINVAL, "expected a mapping (alias, model), got %s",
                                       yaml_node_describe(n));
        r = yaml_mapping_check_keys(n, known, e);
        if (r < 0)
                return r;
        v = yaml_mapping_get(n, "alias");
        if (!v)
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "alias"), e, -EINVAL,
                                            "missing: every model needs the alias manifests name it by "
                                            "(e.g. alias: default)");
        r = get_name(v, &m->alias, e);
        if (r < 0)
                return r;
        v = yaml_mapping_get(n, "model");
        if (!v)
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "model"), e, -EINVAL,
                                            "missing: the provider's model name (e.g. model: gpt-4o-mini)");
        r = yaml_node_get_string(v, 256, &s, e);
        if (r < 0)
                return r;
        m->model = strdup(s);
        if (!m->model)
                return error_set(e, -ENOMEM, "Out of memory");
        v = yaml_mapping_get(n, "max_output_tokens");
        if (v && !yaml_node_is_null(v)) {
                r = yaml_node_get_u64(v, 1, 1000000, &m->max_output_tokens, e);
                if (r < 0)
                        return r;
        }
        v = yaml_mapping_get(n, "temperature");
        if (v && !yaml_node_is_null(v)) {
                r = yaml_node_get_double(v, 0, 2, &m->temperature, e);
                if (r < 0)
                        return r;
                m->has_temperature = true;
        }
        return 0;
}

static int parse_llm_provider(const YamlNode *n, ConfigLlmProvider *p, Error *e) {
        static const char *const known[] = { "name", "type", "endpoint", "api_key", "models", NULL };
        const YamlNode *v;
        char path[YAML_PATH_MAX];
        const char *s;
        int r;

        if (n->kind != YAML_TREE_MAPPING)
                return yaml_node_error(n, e, -EINVAL,
                                       "expected a mapping (name, type, endpoint, api_key, "
                                       "models), got %s",
                                       yaml_node_describe(n));
        r = yaml_mapping_check_keys(n, known, e);
        if (r < 0)
                return r;
        p->where = asprintf_safe("%s:%u", n->file, n->line);
        if (!p->where)
                return error_set(e, -ENOMEM, "Out of memory");

        v = yaml_mapping_get(n, "name");
        if (!v)
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "name"), e, -EINVAL,
                                            "missing: every provider needs a name");
        r = get_name(v, &p->name, e);
        if (r < 0)
                return r;

        v = yaml_mapping_get(n, "type");
        if (!v)
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "type"), e, -EINVAL,
                                            "missing: one of openai, openai-compatible, anthropic, ollama, "
                                            "gemini");
        r = yaml_node_get_string(v, 64, &s, e);
        if (r < 0)
                return r;
        r = llm_provider_type_from_string(s);
        if (r < 0)
                return yaml_node_error(v, e, -EINVAL,
                                       "expected one of openai, openai-compatible, anthropic, ollama, "
                                       "gemini, got \"%s\"",
                                       s);
        p->type = r;

        v = yaml_mapping_get(n, "endpoint");
        if (v && !yaml_node_is_null(v)) {
                size_t len;
                r = yaml_node_get_string(v, 2048, &s, e);
                if (r < 0)
                        return r;
                if (!startswith(s, "http://") && !startswith(s, "https://"))
                        return yaml_node_error(v, e, -EINVAL,
                                               "expected an http:// or https:// URL, got \"%s\"", s);
                if (http_url_invalid(s))
                        return yaml_node_error(v, e, -EINVAL, "%s", http_url_invalid(s));
                len = strlen(s);
                while (len > 0 && s[len - 1] == '/')
                        len--;
                p->endpoint = strndup(s, len);
        } else if (llm_provider_default_endpoint[p->type])
                p->endpoint = strdup(llm_provider_default_endpoint[p->type]);
        else
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "endpoint"), e, -EINVAL,
                                            "missing: a provider of type %s has no public endpoint; name "
                                            "its base URL (e.g. http://127.0.0.1:%s)",
                                            llm_provider_type_to_string(p->type),
                                            p->type == LLM_PROVIDER_OLLAMA ? "11434" : "8000/v1");
        if (!p->endpoint)
                return error_set(e, -ENOMEM, "Out of memory");

        v = yaml_mapping_get(n, "api_key");
        if (v && !yaml_node_is_null(v)) {
                r = yaml_node_get_string(v, 256, &s, e);
                if (r < 0)
                        return r;
                /* Never echo the value: it may be a key pasted into the file. */
                if (api_key_ref_invalid(s))
                        return yaml_node_error(v, e, -EINVAL, "%s", api_key_ref_invalid(s));
                p->api_key_env = strdup(startswith(s, "env:"));
                if (!p->api_key_env)
                        return error_set(e, -ENOMEM, "Out of memory");
        }

        v = yaml_mapping_get(n, "models");
        if (!v || yaml_node_is_null(v) || (v->kind == YAML_TREE_SEQUENCE && v->n_items == 0))
                return yaml_node_error_path(n, child_path(path, sizeof path, n, "models"), e, -EINVAL,
                                            "missing: at least one model (- alias: default\n  model: NAME)");
        if (v->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(v, e, -EINVAL, "expected a list of models, got %s",
                                       yaml_node_describe(v));
        p->models = calloc(v->n_items, sizeof *p->models);
        if (!p->models)
                return error_set(e, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < v->n_items; i++) {
                const YamlNode *m = yaml_sequence_item(v, i);
                r = parse_llm_model(m, &p->models[i], e);
                p->n_models = i + 1;
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(p->models[j].alias, p->models[i].alias))
                                return yaml_node_error(yaml_mapping_get(m, "alias"), e, -EINVAL,
                                                       "alias \"%s\" is already used by models[%zu]",
                                                       p->models[i].alias, j);
        }
        return 0;
}

static int parse_llm_providers(Config *c, const YamlNode *key, const YamlNode *list, Error *e) {
        int r;

        llm_providers_free(c);
        if (yaml_node_is_null(list))
                return 0;
        if (list->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error_path(key, "llm.providers", e, -EINVAL,
                                            "expected a list of providers, got %s",
                                            yaml_node_describe(list));
        if (list->n_items > 64)
                return yaml_node_error_path(key, "llm.providers", e, -E2BIG, "at most 64 providers, got %zu",
                                            list->n_items);
        c->llm.providers = calloc(MAX(list->n_items, (size_t) 1), sizeof *c->llm.providers);
        if (!c->llm.providers)
                return error_set(e, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < list->n_items; i++) {
                const YamlNode *n = yaml_sequence_item(list, i);
                r = parse_llm_provider(n, &c->llm.providers[i], e);
                c->llm.n_providers = i + 1;
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(c->llm.providers[j].name, c->llm.providers[i].name))
                                return yaml_node_error(yaml_mapping_get(n, "name"), e, -EINVAL,
                                                       "provider \"%s\" is already defined at %s",
                                                       c->llm.providers[i].name, c->llm.providers[j].where);
        }
        return 0;
}

/* --- limits.tenants -------------------------------------------------------------------- */

static void limit_tenants_free(Config *c) {
        for (size_t i = 0; i < c->limits.n_tenants; i++) {
                free(c->limits.tenants[i].tenant);
                free(c->limits.tenants[i].where);
        }
        free(c->limits.tenants);
        c->limits.tenants = NULL;
        c->limits.n_tenants = 0;
}

/* limits.tenants: {TENANT: {max_cpus: …, …}}: each key of the limits section but tenants. */
static int parse_limit_tenant(const YamlNode *name, const YamlNode *map, ConfigTenantLimits *t, Error *e) {
        int r;

        r = get_name(name, &t->tenant, e);
        if (r < 0)
                return r;
        t->where = asprintf_safe("%s:%u", name->file, name->line);
        if (!t->where)
                return error_set(e, -ENOMEM, "Out of memory");
        if (yaml_node_is_null(map))
                return 0;
        if (map->kind != YAML_TREE_MAPPING)
                return yaml_node_error(map, e, -EINVAL,
                                       "expected a mapping of limits (max_cpus, max_memory_bytes, max_pids, "
                                       "max_timeout_secs, max_concurrent_executions), got %s",
                                       yaml_node_describe(map));
        for (size_t j = 0; j < map->n_items / 2; j++) {
                const YamlNode *key = yaml_mapping_key(map, j), *value = yaml_mapping_value(map, j);
                char full[YAML_PATH_MAX], why[512];
                const ConfigKey *k;
                Config scratch = {};

                (void) snprintf(full, sizeof full, "limits.%s", key->value);
                k = key_lookup(full, NULL);
                if (!k || !startswith(k->name, "limits."))
                        return yaml_node_error(key, e, -EINVAL,
                                               "unknown limit (known: max_cpus, max_memory_bytes, max_pids, "
                                               "max_timeout_secs, max_concurrent_executions)");
                if (value->kind != YAML_TREE_SCALAR || yaml_node_is_null(value))
                        return yaml_node_error(value, e, -EINVAL, "expected %s", key_type_noun[k->type]);
                r = key_set(&scratch, k, value->value, why, sizeof why);
                if (r == -ENOMEM)
                        return error_set(e, r, "Out of memory");
                if (r < 0)
                        return yaml_node_error(value, e, r, "%s", why);
                /* The same field of the tenant's ConfigLimits as of the overall one. */
                *(uint64_t *) ((uint8_t *) &t->limits + (k->offset - FIELD(limits.overall))) =
                        *field_u64(&scratch, k);
        }
        return 0;
}

static int parse_limit_tenants(Config *c, const YamlNode *key, const YamlNode *map, Error *e) {
        int r;

        limit_tenants_free(c);
        if (yaml_node_is_null(map))
                return 0;
        if (map->kind != YAML_TREE_MAPPING)
                return yaml_node_error_path(key, "limits.tenants", e, -EINVAL,
                                            "expected a mapping of tenant names to limits, got %s",
                                            yaml_node_describe(map));
        c->limits.tenants = calloc(MAX(map->n_items / 2, (size_t) 1), sizeof *c->limits.tenants);
        if (!c->limits.tenants)
                return error_set(e, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < map->n_items / 2; i++) {
                r = parse_limit_tenant(yaml_mapping_key(map, i), yaml_mapping_value(map, i),
                                       &c->limits.tenants[i], e);
                c->limits.n_tenants = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

void config_limits_for_tenant(const Config *c, const char *tenant, ConfigLimits *ret,
                              const char **ret_where) {
        const ConfigTenantLimits *t = NULL;

        assert(c);
        assert(tenant);
        assert(ret);
        for (size_t i = 0; i < c->limits.n_tenants && !t; i++)
                if (streq(c->limits.tenants[i].tenant, tenant))
                        t = &c->limits.tenants[i];
        *ret = c->limits.overall;
        if (t) {
#define PICK(f) ret->f = t->limits.f ?: c->limits.overall.f
                PICK(max_nano_cpus);
                PICK(max_memory_bytes);
                PICK(max_pids);
                PICK(max_timeout_secs);
                PICK(max_concurrent_executions);
#undef PICK
        }
        if (ret_where)
                *ret_where = t ? t->where : NULL;
}

/* llm.selection names providers of llm.providers. */
static int validate_llm(Config *c, Error *e) {
        static const char *const keys[] = { "llm.selection.default_provider",
                                            "llm.selection.fallback_provider" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                size_t idx;
                const ConfigKey *k = key_lookup(keys[i], &idx);
                const char *name = *field_string(c, k), *detail = c->provenance->origin[idx].detail;

                if (name && !config_llm_provider(c, name))
                        return error_set_field(e, -EINVAL, keys[i],
                                               "%s%s%s: no provider \"%s\" in llm.providers (%zu defined)",
                                               strempty(detail), detail ? ": " : "", keys[i], name,
                                               c->llm.n_providers);
        }
        if (c->llm.selection.fallback_provider &&
            streq(c->llm.selection.fallback_provider,
                  c->llm.selection.default_provider
                          ?: (c->llm.n_providers > 0 ? c->llm.providers[0].name : "")))
                return error_set_field(e, -EINVAL, "llm.selection.fallback_provider",
                                       "llm.selection.fallback_provider: \"%s\" is the default provider "
                                       "already; name another provider or remove the key",
                                       c->llm.selection.fallback_provider);
        return 0;
}

static int apply_document(Config *c, const YamlDocument *doc, Error *e) {
        const YamlNode *root = doc->root;
        int r;

        if (yaml_node_is_null(root))
                return 0; /* an empty file: all defaults */
        if (root->kind != YAML_TREE_MAPPING)
                return yaml_node_error(root, e, -EINVAL,
                                       "expected a mapping of sections (api, runtime, storage, database, "
                                       "logging, reaper, llm, security, limits, tools), got %s",
                                       yaml_node_describe(root));

        for (size_t i = 0; i < root->n_items / 2; i++) {
                const YamlNode *skey = yaml_mapping_key(root, i), *section = yaml_mapping_value(root, i);
                bool known = false;

                for (size_t j = 0; section_names[j]; j++)
                        known = known || streq(skey->value, section_names[j]);
                if (!known) {
                        const char *pick = suggest_closest(skey->value, section_names);
                        if (pick)
                                return yaml_node_error_path(skey, skey->value, e, -EINVAL,
                                                            "unknown section, did you mean \"%s\"?", pick);
                        return yaml_node_error_path(
                                skey, skey->value, e, -EINVAL,
                                "unknown section (known sections: api, runtime, storage, "
                                "database, logging, reaper, llm, security, limits, tools)");
                }
                if (yaml_node_is_null(section))
                        continue; /* "runtime:" with nothing under it */
                if (section->kind != YAML_TREE_MAPPING)
                        return yaml_node_error_path(skey, skey->value, e, -EINVAL,
                                                    "expected a mapping, got %s",
                                                    yaml_node_describe(section));
                r = apply_mapping(c, section, skey->value, e);
                if (r < 0)
                        return r;
        }
        return validate_llm(c, e);
}

/* Layer 3: variables that override the file. */
static int apply_environment(Config *c, Error *e) {
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];

                for (size_t j = 0; j < ELEMENTSOF(k->override_env) && k->override_env[j]; j++) {
                        const char *var = k->override_env[j], *v = getenv(var);
                        char why[512], detail[64];
                        int r;

                        if (isempty(v))
                                continue;
                        r = key_set(c, k, v, why, sizeof why);
                        if (r == -ENOMEM)
                                return error_set(e, r, "Out of memory");
                        if (r < 0)
                                return error_set_field(e, r, k->name, "$%s: %s: %s", var, k->name, why);
                        (void) snprintf(detail, sizeof detail, "$%s", var);
                        r = origin_set(c, i, CONFIG_SOURCE_ENVIRONMENT, detail);
                        if (r < 0)
                                return error_set(e, r, "Out of memory");
                        break;
                }
        }

        /* RUST_LOG, for users of the reference: it is often set for other programs too, so a
         * value that names no level for us is ignored rather than refused. */
        {
                const char *v = getenv("RUST_LOG");
                size_t i = 0;
                const ConfigKey *k = key_lookup("logging.level", &i);
                int level;

                if (!isempty(v) && c->provenance->origin[i].source != CONFIG_SOURCE_ENVIRONMENT &&
                    (level = log_level_from_string(v)) >= 0) {
                        *field_int(c, k) = level;
                        if (origin_set(c, i, CONFIG_SOURCE_ENVIRONMENT, "$RUST_LOG") < 0)
                                return error_set(e, -ENOMEM, "Out of memory");
                }
        }
        return 0;
}

static int load(const char *name, const char *text, size_t size, Config **ret, Error *e) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        Error deferred = ERROR_INIT;
        int r;

        r = config_new(&c);
        if (r < 0)
                return error_set(e, r, "Failed to set up the configuration: %s", strerror(-r));
        r = apply_defaults(c, e, &deferred);
        if (r < 0)
                return r;
        if (name) {
                YamlLimits limits = YAML_LIMITS_DEFAULT;

                limits.max_input = CONFIG_FILE_MAX;
                r = yaml_tree_parse(text, size, name, &limits, &doc, e);
                if (r < 0)
                        return r;
                r = apply_document(c, doc, e);
                if (r < 0)
                        return r;
                c->path = strdup(name);
                if (!c->path)
                        return error_set(e, -ENOMEM, "Out of memory");
        }
        r = apply_environment(c, e);
        if (r < 0)
                return r;
        r = config_security_finish(c, e);
        if (r < 0)
                return r;
        if (deferred.code < 0) {
                const ConfigKey *k = key_lookup(deferred.field, NULL);
                if (k && !*field_string(c, k)) {
                        if (e)
                                *e = deferred;
                        return deferred.code;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_string(const char *name, const char *text, size_t size, Config **ret, Error *e) {
        return load(name ? name : "config.yaml", text, size, ret, e);
}

/* The file to read, following the discovery order; *ret = NULL when there is none. */
static int config_find(const char *explicit_path, char **ret, Error *e) {
        const char *env = getenv("AEGIS_CONFIG_PATH");
        _cleanup_free_ char *xdg = NULL;

        if (explicit_path || !isempty(env)) {
                const char *p = explicit_path ? explicit_path : env;
                if (access(p, F_OK) < 0)
                        return error_set(e, -errno, "%s: cannot read the configuration file (%s)%s", p,
                                         strerror(errno),
                                         explicit_path ? "" : " named by $AEGIS_CONFIG_PATH");
                *ret = strdup(p);
                return *ret ? 0 : error_set(e, -ENOMEM, "Out of memory");
        }
        if (geteuid() != 0 || !isempty(getenv("XDG_CONFIG_HOME"))) {
                _cleanup_free_ char *base = xdg_dir("XDG_CONFIG_HOME", ".config");
                if (base) {
                        xdg = path_join(base, "aegis/config.yaml");
                        if (!xdg)
                                return error_set(e, -ENOMEM, "Out of memory");
                        if (access(xdg, F_OK) == 0) {
                                *ret = TAKE_PTR(xdg);
                                return 0;
                        }
                }
        }
        if (access(SYSCONFDIR "/aegis/config.yaml", F_OK) == 0) {
                *ret = strdup(SYSCONFDIR "/aegis/config.yaml");
                return *ret ? 0 : error_set(e, -ENOMEM, "Out of memory");
        }
        *ret = NULL;
        return 0;
}

int config_load(const char *explicit_path, Config **ret, Error *e) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size = 0;
        int r;

        r = config_find(explicit_path, &path, e);
        if (r < 0)
                return r;
        if (!path)
                return load(NULL, NULL, 0, ret, e);
        r = read_full_file(path, CONFIG_FILE_MAX, &text, &size);
        if (r == -EFBIG || r == -E2BIG)
                return error_set(e, r, "%s: configuration file larger than %d bytes", path, CONFIG_FILE_MAX);
        if (r < 0)
                return error_set(e, r, "%s: cannot read the configuration file (%s)", path, strerror(-r));
        return load(path, text, size, ret, e);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                if (key_is_string(k))
                        free(*field_string(c, k));
                if (c->provenance)
                        free(c->provenance->origin[i].detail);
        }
        llm_providers_free(c);
        config_security_free(c);
        limit_tenants_free(c);
        free(c->provenance);
        free(c->path);
        free(c->state_dir);
        free(c);
        return NULL;
}

int config_source(const Config *c, const char *key, ConfigSource *ret, const char **ret_detail) {
        size_t i;

        if (!key_lookup(key, &i))
                return -ENOENT;
        *ret = c->provenance->origin[i].source;
        if (ret_detail)
                *ret_detail = c->provenance->origin[i].detail;
        return 0;
}

/* "postgresql://user:secret@host/db" → "postgresql://user:***@host/db". */
static void dump_quoted(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

int config_create_directories(const Config *c, char **ret_path) {
        _cleanup_free_ char *db_dir = NULL;
        const char *db;
        char *slash;
        int r, q = 0;

        assert(c);
        assert(ret_path);
        *ret_path = NULL;
        r = mkdir_p(c->state_dir, 0750);
        if (r < 0)
                *ret_path = strdup(c->state_dir);
        /* Tried even when the state directory failed: database.url may point elsewhere. */
        db = c->database.url ? startswith(c->database.url, "sqlite://") : NULL;
        if (!db)
                return r;
        db_dir = strdup(db);
        if (!db_dir)
                return r < 0 ? r : -ENOMEM;
        slash = strrchr(db_dir, '/');
        if (slash && slash != db_dir) {
                *slash = '\0';
                q = mkdir_p(db_dir, 0750);
        }
        if (r < 0)
                return r;
        if (q < 0)
                *ret_path = TAKE_PTR(db_dir);
        return q;
}

static void dump_llm_providers(const Config *c, FILE *f) {
        fputs("  providers:", f);
        if (c->llm.n_providers == 0) {
                fputs(" []  # default\n", f);
                return;
        }
        fputc('\n', f);
        for (size_t i = 0; i < c->llm.n_providers; i++) {
                const ConfigLlmProvider *p = &c->llm.providers[i];

                fputs("    - name: ", f);
                dump_quoted(f, p->name);
                fprintf(f, "  # file %s\n      type: %s\n      endpoint: ", p->where,
                        llm_provider_type_to_string(p->type));
                dump_quoted(f, p->endpoint);
                /* The variable's name only: the key itself is never read here. */
                if (p->api_key_env)
                        fprintf(f, "\n      api_key: \"env:%s\"\n", p->api_key_env);
                else
                        fputs("\n      api_key: null\n", f);
                fputs("      models:\n", f);
                for (size_t j = 0; j < p->n_models; j++) {
                        const ConfigLlmModel *m = &p->models[j];

                        fputs("        - alias: ", f);
                        dump_quoted(f, m->alias);
                        fputs("\n          model: ", f);
                        dump_quoted(f, m->model);
                        fputc('\n', f);
                        if (m->max_output_tokens > 0)
                                fprintf(f, "          max_output_tokens: %" PRIu64 "\n",
                                        m->max_output_tokens);
                        if (m->has_temperature)
                                fprintf(f, "          temperature: %g\n", m->temperature);
                }
        }
}

static void dump_cpus(FILE *f, uint64_t nano) {
        fprintf(f, "%" PRIu64, nano / 1000000000);
        if (nano % 1000000000)
                fprintf(f, ".%03" PRIu64, nano % 1000000000 / 1000000);
}

static void dump_limit_tenants(const Config *c, FILE *f) {
        fputs("  tenants:", f);
        if (c->limits.n_tenants == 0) {
                fputs(" {}  # default\n", f);
                return;
        }
        fputc('\n', f);
        for (size_t i = 0; i < c->limits.n_tenants; i++) {
                const ConfigTenantLimits *t = &c->limits.tenants[i];

                fputs("    ", f);
                dump_quoted(f, t->tenant);
                fprintf(f, ":  # file %s\n", t->where);
                if (t->limits.max_nano_cpus) {
                        fputs("      max_cpus: ", f);
                        dump_cpus(f, t->limits.max_nano_cpus);
                        fputc('\n', f);
                }
                if (t->limits.max_memory_bytes)
                        fprintf(f, "      max_memory_bytes: %" PRIu64 "\n", t->limits.max_memory_bytes);
                if (t->limits.max_pids)
                        fprintf(f, "      max_pids: %" PRIu64 "\n", t->limits.max_pids);
                if (t->limits.max_timeout_secs)
                        fprintf(f, "      max_timeout_secs: %" PRIu64 "\n", t->limits.max_timeout_secs);
                if (t->limits.max_concurrent_executions)
                        fprintf(f, "      max_concurrent_executions: %" PRIu64 "\n",
                                t->limits.max_concurrent_executions);
        }
}

/* What a section prints after its table keys: its lists. */
static void dump_section_tail(const Config *c, const char *section, FILE *f) {
        if (!section)
                return;
        if (startswith(section, "llm."))
                dump_llm_providers(c, f);
        else if (startswith(section, "limits."))
                dump_limit_tenants(c, f);
        else if (startswith(section, "security."))
                config_security_dump(c, f);
}

int config_dump(const Config *c, FILE *f) {
        const char *section = NULL, *sub = NULL;

        fprintf(f, "# configuration file: %s\n", c->path ?: "(none, built-in defaults)");
        fprintf(f, "# state directory: %s\n", c->state_dir);
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                const KeyOrigin *o = &c->provenance->origin[i];
                const char *dot = strchr(k->name, '.'), *leaf = dot + 1, *dot2 = strchr(leaf, '.');
                Config *cc = (Config *) c;

                if (!section || strncmp(section, k->name, (size_t) (dot - k->name) + 1) != 0) {
                        dump_section_tail(c, section, f);
                        section = k->name;
                        sub = NULL;
                        fprintf(f, "%.*s:\n", (int) (dot - k->name), k->name);
                }
                /* "llm.selection.max_retries": a mapping inside the section. */
                if (dot2) {
                        if (!sub || strncmp(sub, leaf, (size_t) (dot2 - leaf) + 1) != 0) {
                                sub = leaf;
                                fprintf(f, "  %.*s:\n", (int) (dot2 - leaf), leaf);
                        }
                        fprintf(f, "    %s: ", dot2 + 1);
                } else
                        fprintf(f, "  %s: ", leaf);
                switch (k->type) {
                case KEY_UINT:
                case KEY_SECS:
                case KEY_SIZE:
                        fprintf(f, "%" PRIu64, *field_u64(cc, k));
                        break;
                case KEY_CPUS:
                        dump_cpus(f, *field_u64(cc, k));
                        break;
                case KEY_BOOL:
                        fputs(*field_bool(cc, k) ? "true" : "false", f);
                        break;
                case KEY_MOUNT_MODE:
                        fputs(storage_mount_mode_to_string(*field_int(cc, k)), f);
                        break;
                case KEY_LOG_LEVEL:
                        fputs(log_level_to_string(*field_int(cc, k)), f);
                        break;
                case KEY_DATABASE_URL: {
                        _cleanup_free_ char *masked = redact_secrets(*field_string(cc, k));
                        if (!masked)
                                return -ENOMEM;
                        dump_quoted(f, masked);
                        break;
                }
                default:
                        if (*field_string(cc, k))
                                dump_quoted(f, *field_string(cc, k));
                        else
                                fputs("null", f);
                }
                fprintf(f, "  # %s%s%s\n", config_source_to_string(o->source), o->detail ? " " : "",
                        strempty(o->detail));
        }
        dump_section_tail(c, section, f);
        return ferror(f) ? -EIO : 0;
}
