/* config.h — the configuration every AEGIS program reads (aegis-config.yaml(5)).
 *
 * One Config is built in three layers, each key remembering which layer set it:
 * built-in defaults, then the YAML file, then the environment (DATABASE_URL,
 * AEGIS_LOG_LEVEL / RUST_LOG override the file; CONTAINER_HOST / DOCKER_HOST and
 * STATE_DIRECTORY, else the state directory the installed unit gets (state-dir.h: by hand
 * the same as under systemd), only supply defaults, so a file value wins over them).
 *
 * File discovery: the explicit path (--config), then $AEGIS_CONFIG_PATH, then
 * $XDG_CONFIG_HOME/aegis/config.yaml (user mode), then /etc/aegis/config.yaml; none found
 * means built-in defaults. An explicit path that does not exist is an error.
 *
 * Every key is one line of the table in config.c (name, type, field, default, env vars,
 * limits): to add a key, add a field below and a line there; parsing, validation,
 * provenance and `aegisd --check-config` follow from the table.
 *
 * A bad file is an Error "FILE:LINE:COLUMN: KEY: what is wrong" (unknown keys suggest the
 * closest one); programs print it and exit with CONFIG_EXIT_STATUS. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

#define CONFIG_EXIT_STATUS 78 /* EX_CONFIG from sysexits.h */

typedef enum ConfigSource {
        CONFIG_SOURCE_DEFAULT,
        CONFIG_SOURCE_FILE,
        CONFIG_SOURCE_ENVIRONMENT,
        _CONFIG_SOURCE_MAX,
} ConfigSource;

typedef enum StorageMountMode {
        STORAGE_MOUNT_NFS, /* containers mount volumes from aegis-nfsd */
        STORAGE_MOUNT_BIND, /* single host: bind-mount storage.root/<tenant>/<volume> */
        STORAGE_MOUNT_AUTO, /* the default: bind for a rootless engine or without mount.nfs, else nfs
                             * (storage_mount_mode_resolve(), volume-mount.h) */
        _STORAGE_MOUNT_MAX,
        _STORAGE_MOUNT_INVALID = -EINVAL,
} StorageMountMode;

/* llm.providers[].type: the wire format a provider speaks. */
typedef enum LlmProviderType {
        LLM_PROVIDER_OPENAI, /* api.openai.com: chat completions */
        LLM_PROVIDER_OPENAI_COMPATIBLE, /* the same format at another endpoint (vLLM, LiteLLM, …) */
        LLM_PROVIDER_ANTHROPIC, /* messages */
        LLM_PROVIDER_OLLAMA, /* /api/chat */
        LLM_PROVIDER_GEMINI, /* generateContent */
        _LLM_PROVIDER_TYPE_MAX,
        _LLM_PROVIDER_TYPE_INVALID = -EINVAL,
} LlmProviderType;

/* llm.providers[].models[]: an alias the manifests name and the provider's model behind it. */
typedef struct ConfigLlmModel {
        char *alias; /* "default", "fast", … (unique within the provider) */
        char *model; /* the provider's model name ("gpt-4o-mini") */
        uint64_t max_output_tokens; /* 0 = the provider's default (Anthropic: 4096) */
        double temperature; /* meaningful when has_temperature */
        bool has_temperature;
} ConfigLlmModel;

typedef struct ConfigLlmProvider {
        char *name; /* unique */
        LlmProviderType type;
        char *endpoint; /* base URL without a trailing "/", never NULL after loading */
        char *api_key_env; /* api_key "env:VAR" → "VAR"; NULL = no key (a local Ollama) */
        ConfigLlmModel *models; /* at least one */
        size_t n_models;
        char *where; /* "FILE:LINE" of the entry, for messages */
} ConfigLlmProvider;

/* security.contexts[] (aegis-config.yaml(5), "SECURITY CONTEXTS"; decisions in policy.h). */
typedef struct ConfigCapability {
        char *tool_pattern; /* "*", "fs.*" or a tool's name */
        char **path_allowlist; /* fs.* paths under one of these; NULL = any */
        char **command_allowlist; /* cmd.run's first word is one of these; NULL = any */
        char **domain_allowlist; /* web.* hosts matching one (host-match.h); NULL = any */
        uint64_t max_concurrent; /* calls of these tools running at once on this node; 0 = no limit */
} ConfigCapability;

typedef struct ConfigSecurityContext {
        char *name; /* unique */
        ConfigCapability *capabilities;
        size_t n_capabilities;
        char **deny_list; /* tool patterns refused before any capability is looked at */
        char *where; /* "FILE:LINE", or "built-in" */
} ConfigSecurityContext;

#define CONFIG_SECURITY_DEFAULT_CONTEXT "default"
/* limits: the most a manifest may ask for and a tenant may run (aegis-config.yaml(5), LIMITS). */
typedef struct ConfigLimits {
        uint64_t max_nano_cpus; /* limits.max_cpus, in billionths of a CPU; default the host's CPUs */
        uint64_t max_memory_bytes; /* default the host's memory */
        uint64_t max_pids; /* 32768 */
        uint64_t max_timeout_secs; /* a whole execution, 24 h */
        uint64_t max_concurrent_executions; /* a tenant's unfinished (pending or running) ones, 256 */
} ConfigLimits;

/* limits.tenants.NAME: what one tenant may ask for; a 0 field is the overall value. */
typedef struct ConfigTenantLimits {
        char *tenant;
        ConfigLimits limits;
        char *where; /* "FILE:LINE" of the entry, for messages */
} ConfigTenantLimits;

typedef struct ConfigProvenance ConfigProvenance;

typedef struct Config {
        struct {
                char *listen; /* "127.0.0.1:8088", used when not socket-activated */
                char *metrics_listen; /* "127.0.0.1:9091" */
                uint64_t idle_exit_secs; /* 0 = never exit when idle */
                char *tokens_file; /* bearer tokens, one per line; NULL = no authentication */
                uint64_t max_body_bytes; /* request bodies above this get 413 (8 MiB) */
                uint64_t max_connections; /* API connections open at once (1024) */
                uint64_t connection_timeout_secs; /* a silent connection is closed after this (60) */
                char *allowed_origins; /* Origins a request may come from, space-separated; NULL = none */
                uint64_t max_streams_per_token; /* open event/log streams per token (16); 429 past it */
        } api;
        struct {
                char *container_socket_path; /* Podman API unix socket, never NULL */
                char *network; /* NetworkMode for agent containers; NULL = engine default */
                uint64_t image_pull_timeout_secs; /* 180 */
                uint64_t max_concurrent; /* executions running at once, 50 */
                /* Warm pools (run-pool.c): containers kept created for a deployed agent whose
                 * manifest does not say spec.runtime.warm_pool (0), and the ceiling of any. */
                uint64_t warm_pool_default;
                uint64_t warm_pool_max;
                uint64_t warm_pool_max_idle_secs; /* a member waits no longer, then is replaced, 900 */
                uint64_t warm_pool_image_check_secs; /* pools' images looked at again, 60; 0 = never */
                uint64_t stats_interval_secs; /* between stats readings of a container, 1 */
                uint64_t stop_timeout_secs; /* stop grace before SIGKILL, 5 */
                uint64_t lease_secs; /* claim lease of an execution, renewed every third, 15 */
                /* Run even when the engine cannot enforce a manifest's limits (each execution
                 * then carries a warning naming them); false: refuse submissions (503). */
                bool allow_unenforced_limits;
                /* Agent containers get a user namespace of their own (true): with rootful
                 * Podman their ids 0…65535 are the host's user_namespace_base…+65535
                 * (1879048192 = 0x70000000: no login user's, outside useradd's subuid
                 * ranges); with rootless Podman they are 1…65536 of the engine's own
                 * namespace, its user's subordinate ids. */
                bool user_namespace;
                uint64_t user_namespace_base;
                /* Where a rootless engine records its pause process, whose user namespace
                 * aegisd joins to work on volumes (volume-userns.h); NULL = Podman's default,
                 * $XDG_RUNTIME_DIR/libpod/tmp/pause.pid (its engine.tmp_dir + /pause.pid). */
                char *engine_pause_pid_file;

                /* aegis-bootstrap, copied into every inner-loop container; read once at start
                 * ($(pkglibexecdir)/aegis-bootstrap) */
                char *bootstrap_binary;
        } runtime;
        struct {
                char *root; /* volumes live in root/<tenant>/<volume>; default <state>/storage */
                char *nfs_listen_addr; /* "127.0.0.1:2049" */
                char *nfs_server_host; /* addr= containers mount from; NULL = host gateway */
                StorageMountMode mount_mode;
                uint64_t volume_max_entries; /* files, directories, links per volume (1000000) */
                uint64_t nfs_idle_timeout_secs; /* aegis-nfsd closes a silent connection (300) */
                uint64_t nfs_max_connections_per_client; /* aegis-nfsd, per source address (64) */
        } storage;
        struct {
                char *url; /* "sqlite:///var/lib/aegis/aegis.db" or "postgresql://…" */
        } database;
        struct {
                int level; /* syslog level (LOG_INFO …), already applied by the caller */
        } logging;
        struct {
                uint64_t grace_secs; /* a container younger than this is never reaped, 60 */
                uint64_t interval_secs; /* timer period, 300 */
        } reaper;
        struct {
                ConfigLlmProvider *providers; /* llm.providers[], in file order */
                size_t n_providers;
                struct {
                        char *default_provider; /* NULL = the first provider */
                        char *fallback_provider; /* NULL = none */
                        uint64_t max_retries; /* per provider, after the first attempt, 3 */
                        uint64_t retry_delay_ms; /* first backoff, doubled each retry, 500 */
                        uint64_t overall_timeout_secs; /* one generate call, all retries, 300 */
                } selection;
                uint64_t max_tool_rounds; /* tool-call rounds of one iteration, 50 */
        } llm;
        struct {
                /* security.contexts[]; the built-in "default" (every tool, no further bound)
                 * unless the file defines a context of that name. Never empty. */
                ConfigSecurityContext *contexts;
                size_t n_contexts;
                char *default_context; /* for manifests without spec.security_context */
                /* Agents may reach loopback and link-local addresses through the egress proxy
                 * and web.fetch when their network_policy names the host (false). */
                bool allow_internal_egress;
        } security;
        struct {
                /* tools.web_search: the provider behind web.search (aegis-config.yaml(5)). */
                struct {
                        char *endpoint; /* http(s) URL POSTed to; NULL = web.search is not offered */
                        char *api_key; /* "env:VAR" (resolved by api_key_resolve(), llm.h); NULL = none */
                        uint64_t max_results; /* the most results of one call (5, at most 20) */
                        uint64_t timeout_secs; /* one call, connect to answer (30, 1 to 120) */
                } web_search;
        } tools;
        struct {
                ConfigLimits overall; /* every field set */
                ConfigTenantLimits *tenants; /* limits.tenants, in file order */
                size_t n_tenants;
        } limits;

        char *path; /* the file that was loaded, NULL when only defaults/environment */
        char *state_dir; /* $STATE_DIRECTORY, else the units' StateDirectory= (state-dir.h) */
        bool user_mode; /* not root (or $XDG_CONFIG_HOME set): XDG paths apply */

        ConfigProvenance *provenance; /* private: where each key came from */
} Config;

/* Discovers and loads the configuration (see above). explicit_path may be NULL.
 * On error returns a negative errno and fills e with the "FILE:LINE:COL: KEY: …" message. */
int config_load(const char *explicit_path, Config **ret, Error *e);
/* Same from a string (tests, fuzzing): name is the file name used in messages. */
int config_load_string(const char *name, const char *text, size_t size, Config **ret, Error *e);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Where a key ("runtime.network") got its value; -ENOENT for unknown keys. ret_detail
 * (optional) names the variable or "FILE:LINE" and lives as long as c. */
int config_source(const Config *c, const char *key, ConfigSource *ret, const char **ret_detail);
/* Prints the effective configuration as YAML, each value followed by "# default",
 * "# file FILE:LINE" or "# environment $VAR". Passwords in database.url are masked. */
int config_dump(const Config *c, FILE *f);

/* Creates the state directory and, for a sqlite:// database.url, its file's directory (0750,
 * parents too). On failure *ret_path (malloc'd, may be NULL) names the one that failed. */
int config_create_directories(const Config *c, char **ret_path);

const char *config_source_to_string(ConfigSource s);
const char *storage_mount_mode_to_string(StorageMountMode m);
const char *llm_provider_type_to_string(LlmProviderType t);
LlmProviderType llm_provider_type_from_string(const char *s);
/* The provider named name, NULL when none is. */
const ConfigLlmProvider *config_llm_provider(const Config *c, const char *name);
/* The context named so (NULL = security.default_context); NULL when there is none. */
const ConfigSecurityContext *config_security_context(const Config *c, const char *name);
StorageMountMode storage_mount_mode_from_string(const char *s);

/* The limits that hold for tenant: limits.tenants.TENANT's fields over the overall ones.
 * ret_where (optional) gets "FILE:LINE" of the tenant's entry, NULL when it has none. */
void config_limits_for_tenant(const Config *c, const char *tenant, ConfigLimits *ret,
                              const char **ret_where);

/* The table's key names in order ("api.listen", …), NULL past the end. */
const char *config_key_name(size_t i);
