/* config.c — defaults, the YAML file and the environment, merged into one Config (config.h).
 *
 * The key table below is the single description of the configuration: every layer
 * (defaults, file, environment), the validation, the provenance and the dump walk it.
 * Invariants: every key of the table has a value or is explicitly optional (NULL); a
 * value in a Config has passed its key's validation; provenance[i] describes table[i]. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "redact.h"
#include "state-dir.h"
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
        [KEY_MOUNT_MODE] = "one of nfs, bind",
        [KEY_LOG_LEVEL] = "a log level (error, warning, notice, info, debug)",
        [KEY_DATABASE_URL] = "a database URL (sqlite:///PATH or postgresql://…)",
        [KEY_ORIGINS] = "web origins (e.g. \"https://ui.example.com http://localhost:3000\")",
};

typedef enum DefaultKind {
        DEFAULT_CONTAINER_SOCKET = 1, /* $CONTAINER_HOST, $DOCKER_HOST, the Podman socket */
        DEFAULT_STORAGE_ROOT, /* <state dir>/storage */
        DEFAULT_DATABASE_URL, /* sqlite://<state dir>/aegis.db */
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
        { "runtime.stop_timeout_secs", KEY_SECS, FIELD(runtime.stop_timeout_secs), "5", .max = 3600 },
        { "storage.root", KEY_PATH, FIELD(storage.root), NULL, DEFAULT_STORAGE_ROOT },
        { "storage.nfs_listen_addr", KEY_ADDRESS, FIELD(storage.nfs_listen_addr), "0.0.0.0:2049" },
        { "storage.nfs_server_host", KEY_STRING, FIELD(storage.nfs_server_host), NULL },
        { "storage.mount_mode", KEY_MOUNT_MODE, FIELD(storage.mount_mode), "nfs" },
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

const char *config_source_to_string(ConfigSource s) {
        return s >= 0 && s < _CONFIG_SOURCE_MAX ? config_source_table[s] : NULL;
}

static const char *const mount_mode_table[_STORAGE_MOUNT_MAX] = {
        [STORAGE_MOUNT_NFS] = "nfs",
        [STORAGE_MOUNT_BIND] = "bind",
};

const char *storage_mount_mode_to_string(StorageMountMode m) {
        return m >= 0 && m < _STORAGE_MOUNT_MAX ? mount_mode_table[m] : NULL;
}

int storage_mount_mode_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(mount_mode_table); i++)
                if (streq(s, mount_mode_table[i]))
                        return (int) i;
        return -EINVAL;
}

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
static int *field_int(Config *c, const ConfigKey *k) {
        return (int *) ((uint8_t *) c + k->offset);
}
static bool key_is_string(const ConfigKey *k) {
        return k->type == KEY_STRING || k->type == KEY_PATH || k->type == KEY_SOCKET ||
               k->type == KEY_ADDRESS || k->type == KEY_DATABASE_URL || k->type == KEY_ORIGINS;
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
        case KEY_MOUNT_MODE:
                r = storage_mount_mode_from_string(value);
                if (r < 0)
                        goto bad;
                *field_int(c, k) = r;
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
                if (k->max > 0)
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
static const char *const section_names[] = { "api",     "runtime", "storage", "database",
                                             "logging", "reaper",  NULL };

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

static int apply_document(Config *c, const YamlDocument *doc, Error *e) {
        const YamlNode *root = doc->root;
        int r;

        if (yaml_node_is_null(root))
                return 0; /* an empty file: all defaults */
        if (root->kind != YAML_TREE_MAPPING)
                return yaml_node_error(root, e, -EINVAL,
                                       "expected a mapping of sections (api, runtime, storage, database, "
                                       "logging, reaper), got %s",
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
                                "database, logging, reaper)");
                }
                if (yaml_node_is_null(section))
                        continue; /* "runtime:" with nothing under it */
                if (section->kind != YAML_TREE_MAPPING)
                        return yaml_node_error_path(skey, skey->value, e, -EINVAL,
                                                    "expected a mapping, got %s",
                                                    yaml_node_describe(section));
                for (size_t j = 0; j < section->n_items / 2; j++) {
                        const YamlNode *key = yaml_mapping_key(section, j);
                        char name[YAML_PATH_MAX];

                        (void) snprintf(name, sizeof name, "%s.%s", skey->value, key->value);
                        r = apply_value(c, key, yaml_mapping_value(section, j), name, e);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
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

int config_dump(const Config *c, FILE *f) {
        const char *section = NULL;

        fprintf(f, "# configuration file: %s\n", c->path ?: "(none, built-in defaults)");
        fprintf(f, "# state directory: %s\n", c->state_dir);
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                const KeyOrigin *o = &c->provenance->origin[i];
                const char *dot = strchr(k->name, '.');
                Config *cc = (Config *) c;

                if (!section || strncmp(section, k->name, (size_t) (dot - k->name) + 1) != 0) {
                        section = k->name;
                        fprintf(f, "%.*s:\n", (int) (dot - k->name), k->name);
                }
                fprintf(f, "  %s: ", dot + 1);
                switch (k->type) {
                case KEY_UINT:
                case KEY_SECS:
                case KEY_SIZE:
                        fprintf(f, "%" PRIu64, *field_u64(cc, k));
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
        return ferror(f) ? -EIO : 0;
}
