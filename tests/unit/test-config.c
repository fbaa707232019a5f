/* test-config.c — the configuration: defaults, file, environment, discovery, and every error
 * path with its exact message. Each test runs in its own forked process (check's default), so
 * the environment changes of one test never reach another. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "test-main.h"
#include "util.h"

static const char *const env_vars[] = {
        "AEGIS_CONFIG_PATH", "XDG_CONFIG_HOME", "XDG_STATE_HOME",  "STATE_DIRECTORY", "CONTAINER_HOST",
        "DOCKER_HOST",       "DATABASE_URL",    "AEGIS_LOG_LEVEL", "RUST_LOG",
};
static char scratch[] = "/tmp/aegis-test-config.XXXXXX";

static void setup(void) {
        for (size_t i = 0; i < ELEMENTSOF(env_vars); i++)
                unsetenv(env_vars[i]);
        ck_assert_ptr_nonnull(mkdtemp(scratch));
        /* A known state directory so defaults are predictable. */
        ck_assert_int_eq(setenv("STATE_DIRECTORY", "/var/lib/aegis-test", 1), 0);
}

static void teardown(void) {
        char cmd[128];
        (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
        (void) system(cmd);
}

static Config *load_ok(const char *yaml) {
        Config *c = NULL;
        Error e = ERROR_INIT;
        int r = config_load_string("config.yaml", yaml, strlen(yaml), &c, &e);
        ck_assert_msg(r == 0, "unexpected error %d: %s", r, e.message);
        ck_assert_ptr_nonnull(c);
        return c;
}

/* Loads yaml, which must fail with exactly message. */
static void load_fails(const char *yaml, const char *message) {
        Config *c = NULL;
        Error e = ERROR_INIT;
        int r = config_load_string("config.yaml", yaml, strlen(yaml), &c, &e);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(e.message, message);
}

static void assert_source(const Config *c, const char *key, ConfigSource source, const char *detail) {
        ConfigSource s;
        const char *d = NULL;
        ck_assert_int_eq(config_source(c, key, &s, &d), 0);
        ck_assert_str_eq(config_source_to_string(s), config_source_to_string(source));
        if (detail)
                ck_assert_str_eq(d, detail);
        else
                ck_assert_ptr_null(d);
}

START_TEST(test_config_defaults) {
        _cleanup_(config_freep) Config *c = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(config_load_string(NULL, "", 0, &c, &e), 0);
        ck_assert_str_eq(c->api.listen, "127.0.0.1:8088");
        ck_assert_str_eq(c->api.metrics_listen, "127.0.0.1:9091");
        ck_assert_uint_eq(c->api.idle_exit_secs, 0);
        ck_assert_ptr_null(c->api.tokens_file);
        ck_assert_uint_eq(c->api.max_body_bytes, 8 * 1024 * 1024);
        if (geteuid() == 0)
                ck_assert_str_eq(c->runtime.container_socket_path, "/run/podman/podman.sock");
        else {
                _cleanup_free_ char *p =
                        asprintf_safe("/run/user/%u/podman/podman.sock", (unsigned) geteuid());
                ck_assert_str_eq(c->runtime.container_socket_path, p);
        }
        ck_assert_ptr_null(c->runtime.network);
        ck_assert_uint_eq(c->runtime.image_pull_timeout_secs, 180);
        ck_assert_uint_eq(c->runtime.max_concurrent, 50);
        ck_assert_uint_eq(c->runtime.stop_timeout_secs, 5);
        ck_assert_str_eq(c->storage.root, "/var/lib/aegis-test/storage");
        ck_assert_str_eq(c->storage.nfs_listen_addr, "127.0.0.1:2049");
        ck_assert_ptr_null(c->storage.nfs_server_host);
        ck_assert_int_eq(c->storage.mount_mode, STORAGE_MOUNT_AUTO);
        ck_assert_str_eq(c->database.url, "sqlite:///var/lib/aegis-test/aegis.db");
        ck_assert_int_eq(c->logging.level, LOG_INFO);
        ck_assert_uint_eq(c->reaper.grace_secs, 60);
        ck_assert_uint_eq(c->reaper.interval_secs, 300);
        ck_assert_str_eq(c->state_dir, "/var/lib/aegis-test");
        for (size_t i = 0; config_key_name(i); i++) {
                ConfigSource s;
                ck_assert_int_eq(config_source(c, config_key_name(i), &s, NULL), 0);
                ck_assert_int_eq(s, CONFIG_SOURCE_DEFAULT);
        }
        ck_assert_int_eq(config_source(c, "api.nope", &(ConfigSource){ 0 }, NULL), -ENOENT);
}
END_TEST

START_TEST(test_config_file_values_and_provenance) {
        _cleanup_(config_freep) Config *c = load_ok("# comment\n"
                                                    "api:\n"
                                                    "  listen: \"[::1]:18088\"\n"
                                                    "  idle_exit_secs: 5m\n"
                                                    "  max_body_bytes: 1Mi\n"
                                                    "  tokens_file: /etc/aegis/tokens\n"
                                                    "runtime:\n"
                                                    "  container_socket_path: unix:///tmp/p.sock\n"
                                                    "  network: aegis-network\n"
                                                    "  max_concurrent: 7\n"
                                                    "storage:\n"
                                                    "  mount_mode: bind\n"
                                                    "  nfs_server_host: 10.0.0.5\n"
                                                    "logging:\n"
                                                    "  level: debug\n"
                                                    "reaper:\n"
                                                    "database:\n"
                                                    "  url: postgresql://aegis:pw@db/aegis\n");

        ck_assert_str_eq(c->path, "config.yaml");
        ck_assert_str_eq(c->api.listen, "[::1]:18088");
        ck_assert_uint_eq(c->api.idle_exit_secs, 300);
        ck_assert_uint_eq(c->api.max_body_bytes, 1024 * 1024);
        ck_assert_str_eq(c->api.tokens_file, "/etc/aegis/tokens");
        ck_assert_str_eq(c->runtime.container_socket_path, "/tmp/p.sock");
        ck_assert_str_eq(c->runtime.network, "aegis-network");
        ck_assert_uint_eq(c->runtime.max_concurrent, 7);
        ck_assert_int_eq(c->storage.mount_mode, STORAGE_MOUNT_BIND);
        ck_assert_str_eq(c->storage.nfs_server_host, "10.0.0.5");
        ck_assert_int_eq(c->logging.level, LOG_DEBUG);
        ck_assert_str_eq(c->database.url, "postgresql://aegis:pw@db/aegis");
        assert_source(c, "api.listen", CONFIG_SOURCE_FILE, "config.yaml:3");
        assert_source(c, "runtime.container_socket_path", CONFIG_SOURCE_FILE, "config.yaml:8");
        assert_source(c, "api.metrics_listen", CONFIG_SOURCE_DEFAULT, NULL);
}
END_TEST

START_TEST(test_config_optional_key_null_unsets) {
        _cleanup_(config_freep) Config *c = load_ok("runtime:\n  network: ~\n");
        ck_assert_ptr_null(c->runtime.network);
        assert_source(c, "runtime.network", CONFIG_SOURCE_FILE, "config.yaml:2");
}
END_TEST

START_TEST(test_config_empty_file_is_defaults) {
        _cleanup_(config_freep) Config *c = load_ok("# nothing here\n");
        ck_assert_str_eq(c->api.listen, "127.0.0.1:8088");
        ck_assert_str_eq(c->path, "config.yaml");
}
END_TEST

START_TEST(test_config_wrong_type_names_file_line_column_key) {
        /* The message of the issue, verbatim. */
        load_fails("api:\n"
                   "  listen: 127.0.0.1:8088\n"
                   "\n"
                   "# the engine\n"
                   "runtime:\n"
                   "  network: aegis\n"
                   "  container_socket_path:\n"
                   "    path: /run/podman/podman.sock\n",
                   "config.yaml:7:3: runtime.container_socket_path: expected a string");
        load_fails("runtime:\n  max_concurrent: [1, 2]\n",
                   "config.yaml:2:3: runtime.max_concurrent: expected an integer");
        load_fails("api:\n  listen:\n", "config.yaml:2:3: api.listen: expected a string");
}
END_TEST

START_TEST(test_config_bad_values) {
        load_fails("runtime:\n  max_concurrent: lots\n",
                   "config.yaml:2:3: runtime.max_concurrent: expected an integer, got \"lots\"");
        load_fails("runtime:\n  max_concurrent: 0\n",
                   "config.yaml:2:3: runtime.max_concurrent: must be between 1 and 10000, got \"0\"");
        load_fails("api:\n  listen: localhost\n",
                   "config.yaml:2:3: api.listen: expected an address HOST:PORT, got \"localhost\"");
        load_fails("api:\n  metrics_listen: \"127.0.0.1:99999\"\n",
                   "config.yaml:2:3: api.metrics_listen: expected an address HOST:PORT, got "
                   "\"127.0.0.1:99999\"");
        load_fails("api:\n  idle_exit_secs: soon\n",
                   "config.yaml:2:3: api.idle_exit_secs: expected a duration in seconds (e.g. 60, \"90s\", "
                   "\"5m\"), got \"soon\"");
        load_fails("api:\n  max_body_bytes: 2Gi\n",
                   "config.yaml:2:3: api.max_body_bytes: must be between 1024 and 1073741824, got \"2Gi\"");
        load_fails(
                "api:\n  max_body_bytes: big\n",
                "config.yaml:2:3: api.max_body_bytes: expected a size in bytes (e.g. 8388608, \"8Mi\"), got "
                "\"big\"");
        load_fails("api:\n  tokens_file: tokens.txt\n",
                   "config.yaml:2:3: api.tokens_file: expected an absolute path, got \"tokens.txt\"");
        load_fails("runtime:\n  container_socket_path: tcp://1.2.3.4:2375\n",
                   "config.yaml:2:3: runtime.container_socket_path: expected a unix socket path (/PATH or "
                   "unix:///PATH), got \"tcp://1.2.3.4:2375\"");
        load_fails("runtime:\n  network: my network\n",
                   "config.yaml:2:3: runtime.network: expected a string, got \"my network\"");
        load_fails(
                "runtime:\n  image_pull_timeout_secs: 0\n",
                "config.yaml:2:3: runtime.image_pull_timeout_secs: must be between 1 and 86400, got \"0\"");
        load_fails("storage:\n  mount_mode: nfs4\n",
                   "config.yaml:2:3: storage.mount_mode: expected one of auto, nfs, bind, got \"nfs4\"");
        load_fails("logging:\n  level: loud\n", "config.yaml:2:3: logging.level: expected a log level "
                                                "(error, warning, notice, info, debug), "
                                                "got \"loud\"");
        load_fails(
                "database:\n  url: mysql://x\n",
                "config.yaml:2:3: database.url: expected a database URL (sqlite:///PATH or postgresql://…), "
                "got \"mysql://x\"");
        load_fails(
                "database:\n  url: sqlite://relative.db\n",
                "config.yaml:2:3: database.url: expected a database URL (sqlite:///PATH or postgresql://…), "
                "got \"sqlite://relative.db\"");
        load_fails("reaper:\n  interval_secs: 0\n",
                   "config.yaml:2:3: reaper.interval_secs: must be between 1 and 604800, got \"0\"");
}
END_TEST

START_TEST(test_config_unknown_keys_suggest) {
        load_fails("runtime:\n  container_socket_pth: /x\n",
                   "config.yaml:2:3: runtime.container_socket_pth: unknown key, did you mean "
                   "\"runtime.container_socket_path\"?");
        load_fails("api:\n  network: aegis\n",
                   "config.yaml:2:3: api.network: unknown key, did you mean \"runtime.network\"?");
        load_fails("api:\n  frobnicate: 1\n", "config.yaml:2:3: api.frobnicate: unknown key (see "
                                              "aegis-config.yaml(5) for the known keys)");
        load_fails("api:\n  listen: \":1\"\nruntme:\n  network: x\n",
                   "config.yaml:3:1: runtme: unknown section, did you mean \"runtime\"?");
        load_fails("server:\n  port: 1\n",
                   "config.yaml:1:1: server: unknown section (known sections: api, "
                   "runtime, storage, database, logging, reaper, llm, security, limits, tools)");
}
END_TEST

START_TEST(test_config_bad_structure) {
        load_fails("api: 5\n", "config.yaml:1:1: api: expected a mapping, got an integer");
        load_fails("- api\n",
                   "config.yaml:1:1: expected a mapping of sections (api, runtime, storage, database, "
                   "logging, reaper, llm, security, limits, tools), got a sequence");
        load_fails("api:\n  listen: \":1\"\n  listen: \":2\"\n",
                   "config.yaml:3:3: api.listen: duplicate key (first given at line 2)");
}
END_TEST

START_TEST(test_config_yaml_syntax_error_has_position) {
        Config *c = NULL;
        Error e = ERROR_INIT;
        const char *yaml = "api:\n  listen: [\n";

        ck_assert_int_lt(config_load_string("config.yaml", yaml, strlen(yaml), &c, &e), 0);
        /* libyaml's words; the context line is its mark too. */
        ck_assert_str_eq(e.message, "config.yaml:3:1: invalid YAML: did not find expected node content "
                                    "while parsing a flow node that started at line 3");
}
END_TEST

START_TEST(test_config_long_bad_value_is_cut_at_64_bytes) {
        load_fails("runtime:\n  network: \"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 "
                   "6 7 8 9\"\n",
                   "config.yaml:2:3: runtime.network: expected a string, got "
                   "\"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 \xe2\x80\xa6\"");
        load_fails("runtime:\n  network: \"\"\n",
                   "config.yaml:2:3: runtime.network: expected a string, got \"\"");
}
END_TEST

START_TEST(test_config_bad_state_directory_is_an_invalid_default) {
        ck_assert_int_eq(setenv("STATE_DIRECTORY", "relative/state", 1), 0);
        load_fails(
                "",
                "storage.root: invalid default: expected an absolute path, got \"relative/state/storage\"");
}
END_TEST

START_TEST(test_config_file_too_large_or_unreadable) {
        _cleanup_free_ char *big = path_join(scratch, "big.yaml"), *expected = NULL;
        Config *c = NULL;
        Error e = ERROR_INIT;
        FILE *f = fopen(big, "we");

        ck_assert_ptr_nonnull(f);
        for (int i = 0; i < 70000; i++) /* 16 bytes a line: 1.1 MB of comments */
                ck_assert_int_ge(fputs("# padding line\n", f), 0);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_lt(config_load(big, &c, &e), 0);
        expected = asprintf_safe("%s: configuration file larger than 1048576 bytes", big);
        ck_assert_str_eq(e.message, expected);
        ck_assert_ptr_null(c);

        /* A directory passes the existence test of discovery, then cannot be read. */
        e = (Error) ERROR_INIT;
        ck_assert_int_lt(config_load(scratch, &c, &e), 0);
        free(expected);
        expected = asprintf_safe("%s: cannot read the configuration file (Is a directory)", scratch);
        ck_assert_str_eq(e.message, expected);
}
END_TEST

START_TEST(test_config_database_url_env_overrides_file) {
        _cleanup_(config_freep) Config *c = NULL;

        ck_assert_int_eq(setenv("DATABASE_URL", "postgresql://u:secret@h:5432/d", 1), 0);
        c = load_ok("database:\n  url: sqlite:///x.db\n");
        ck_assert_str_eq(c->database.url, "postgresql://u:secret@h:5432/d");
        assert_source(c, "database.url", CONFIG_SOURCE_ENVIRONMENT, "$DATABASE_URL");
}
END_TEST

START_TEST(test_config_bad_database_url_env) {
        ck_assert_int_eq(setenv("DATABASE_URL", "mysql://h/d", 1), 0);
        load_fails(
                "",
                "$DATABASE_URL: database.url: expected a database URL (sqlite:///PATH or postgresql://…), "
                "got \"mysql://h/d\"");
}
END_TEST

START_TEST(test_config_log_level_env) {
        Config *c;

        ck_assert_int_eq(setenv("RUST_LOG", "aegis=debug,hyper=warn", 1), 0);
        c = load_ok("logging:\n  level: error\n");
        ck_assert_int_eq(c->logging.level, LOG_DEBUG);
        assert_source(c, "logging.level", CONFIG_SOURCE_ENVIRONMENT, "$RUST_LOG");
        config_free(c);

        /* RUST_LOG naming only other programs' targets is not ours to refuse. */
        ck_assert_int_eq(setenv("RUST_LOG", "hyper=warn", 1), 0);
        c = load_ok("logging:\n  level: error\n");
        ck_assert_int_eq(c->logging.level, LOG_ERR);
        assert_source(c, "logging.level", CONFIG_SOURCE_FILE, "config.yaml:2");
        config_free(c);

        ck_assert_int_eq(setenv("AEGIS_LOG_LEVEL", "warning", 1), 0);
        ck_assert_int_eq(setenv("RUST_LOG", "debug", 1), 0);
        c = load_ok("");
        ck_assert_int_eq(c->logging.level, LOG_WARNING);
        assert_source(c, "logging.level", CONFIG_SOURCE_ENVIRONMENT, "$AEGIS_LOG_LEVEL");
        config_free(c);

        ck_assert_int_eq(setenv("AEGIS_LOG_LEVEL", "chatty", 1), 0);
        load_fails("",
                   "$AEGIS_LOG_LEVEL: logging.level: expected a log level (error, warning, notice, info, "
                   "debug), got \"chatty\"");
}
END_TEST

START_TEST(test_config_container_host_is_a_default) {
        Config *c;

        ck_assert_int_eq(setenv("DOCKER_HOST", "unix:///run/docker.sock", 1), 0);
        c = load_ok("");
        ck_assert_str_eq(c->runtime.container_socket_path, "/run/docker.sock");
        assert_source(c, "runtime.container_socket_path", CONFIG_SOURCE_ENVIRONMENT, "$DOCKER_HOST");
        config_free(c);

        ck_assert_int_eq(setenv("CONTAINER_HOST", "unix:///run/user/7/podman/podman.sock", 1), 0);
        c = load_ok("");
        ck_assert_str_eq(c->runtime.container_socket_path, "/run/user/7/podman/podman.sock");
        assert_source(c, "runtime.container_socket_path", CONFIG_SOURCE_ENVIRONMENT, "$CONTAINER_HOST");
        config_free(c);

        /* The file wins over the variable the user unit always sets. */
        c = load_ok("runtime:\n  container_socket_path: /srv/podman.sock\n");
        ck_assert_str_eq(c->runtime.container_socket_path, "/srv/podman.sock");
        assert_source(c, "runtime.container_socket_path", CONFIG_SOURCE_FILE, "config.yaml:2");
        config_free(c);

        /* A variable we cannot use is an error only when nothing else sets the key. */
        ck_assert_int_eq(setenv("CONTAINER_HOST", "ssh://core@host/run/podman.sock", 1), 0);
        c = load_ok("runtime:\n  container_socket_path: /srv/podman.sock\n");
        config_free(c);
        load_fails("",
                   "$CONTAINER_HOST: runtime.container_socket_path: expected a unix socket path (/PATH or "
                   "unix:///PATH), got \"ssh://core@host/run/podman.sock\"");
}
END_TEST

START_TEST(test_config_state_directory) {
        Config *c;

        ck_assert_int_eq(setenv("STATE_DIRECTORY", "/var/lib/aegis:/var/lib/other", 1), 0);
        c = load_ok("");
        ck_assert_str_eq(c->state_dir, "/var/lib/aegis");
        ck_assert_str_eq(c->database.url, "sqlite:///var/lib/aegis/aegis.db");
        ck_assert_str_eq(c->storage.root, "/var/lib/aegis/storage");
        config_free(c);

        /* User mode (XDG_CONFIG_HOME set even as root), no $STATE_DIRECTORY: what the user
         * unit's StateDirectory=aegis is (state-dir.h). No user manager answers here, so the
         * systemd this was built against decides: $XDG_CONFIG_HOME/aegis before 254 (Debian
         * 12's 252), $XDG_STATE_HOME/aegis from 254 on. */
        ck_assert_int_eq(unsetenv("STATE_DIRECTORY"), 0);
        ck_assert_int_eq(setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/aegis-test/bus", 1), 0);
        ck_assert_int_eq(setenv("XDG_RUNTIME_DIR", "/nonexistent/aegis-test", 1), 0);
        ck_assert_int_eq(setenv("XDG_CONFIG_HOME", "/home/u/.config", 1), 0);
        ck_assert_int_eq(setenv("XDG_STATE_HOME", "/home/u/.local/state", 1), 0);
        c = load_ok("");
        if (SYSTEMD_BUILD_VERSION >= 254) {
                ck_assert_str_eq(c->state_dir, "/home/u/.local/state/aegis");
                ck_assert_str_eq(c->database.url, "sqlite:///home/u/.local/state/aegis/aegis.db");
                ck_assert_str_eq(c->storage.root, "/home/u/.local/state/aegis/storage");
        } else {
                ck_assert_str_eq(c->state_dir, "/home/u/.config/aegis");
                ck_assert_str_eq(c->database.url, "sqlite:///home/u/.config/aegis/aegis.db");
                ck_assert_str_eq(c->storage.root, "/home/u/.config/aegis/storage");
        }
        config_free(c);

        /* Explicit settings still win over that default. */
        ck_assert_int_eq(setenv("DATABASE_URL", "sqlite:///srv/a.db", 1), 0);
        c = load_ok("storage:\n  root: /srv/volumes\n");
        ck_assert_str_eq(c->database.url, "sqlite:///srv/a.db");
        ck_assert_str_eq(c->storage.root, "/srv/volumes");
        config_free(c);
        ck_assert_int_eq(unsetenv("DATABASE_URL"), 0);
        c = load_ok("database:\n  url: sqlite:///srv/b.db\n");
        ck_assert_str_eq(c->database.url, "sqlite:///srv/b.db");
        config_free(c);

        /* Root without XDG_CONFIG_HOME: the system unit's /var/lib/aegis. */
        if (geteuid() == 0) {
                ck_assert_int_eq(unsetenv("XDG_CONFIG_HOME"), 0);
                c = load_ok("");
                ck_assert_str_eq(c->state_dir, LOCALSTATEDIR "/lib/aegis");
                ck_assert_str_eq(c->database.url, "sqlite://" LOCALSTATEDIR "/lib/aegis/aegis.db");
                config_free(c);
        }
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644), 0);
}

START_TEST(test_config_discovery_order) {
        _cleanup_free_ char *xdg = path_join(scratch, "xdg"), *xdg_aegis = path_join(xdg, "aegis"),
                            *env_file = path_join(scratch, "env.yaml"),
                            *cli_file = path_join(scratch, "cli.yaml");
        Config *c;
        Error e = ERROR_INIT;

        ck_assert_int_eq(mkdir_p(xdg_aegis, 0755), 0);
        write_file(xdg_aegis, "config.yaml", "api:\n  listen: \":3\"\n");
        write_file(scratch, "env.yaml", "api:\n  listen: \":2\"\n");
        write_file(scratch, "cli.yaml", "api:\n  listen: \":1\"\n");
        ck_assert_int_eq(setenv("XDG_CONFIG_HOME", xdg, 1), 0);

        ck_assert_int_eq(config_load(NULL, &c, &e), 0);
        ck_assert_str_eq(c->api.listen, ":3");
        ck_assert(endswith(c->path, "/xdg/aegis/config.yaml"));
        config_free(c);

        ck_assert_int_eq(setenv("AEGIS_CONFIG_PATH", env_file, 1), 0);
        ck_assert_int_eq(config_load(NULL, &c, &e), 0);
        ck_assert_str_eq(c->api.listen, ":2");
        ck_assert_str_eq(c->path, env_file);
        config_free(c);

        ck_assert_int_eq(config_load(cli_file, &c, &e), 0);
        ck_assert_str_eq(c->api.listen, ":1");
        config_free(c);
}
END_TEST

START_TEST(test_config_missing_explicit_file_is_an_error) {
        _cleanup_free_ char *p = path_join(scratch, "nope.yaml"), *expected = NULL;
        Config *c = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(config_load(p, &c, &e), -ENOENT);
        expected = asprintf_safe("%s: cannot read the configuration file (No such file or directory)", p);
        ck_assert_str_eq(e.message, expected);

        ck_assert_int_eq(setenv("AEGIS_CONFIG_PATH", p, 1), 0);
        ck_assert_int_eq(config_load(NULL, &c, &e), -ENOENT);
        free(expected);
        expected =
                asprintf_safe("%s: cannot read the configuration file (No such file or directory) named by "
                              "$AEGIS_CONFIG_PATH",
                              p);
        ck_assert_str_eq(e.message, expected);
}
END_TEST

START_TEST(test_config_file_error_uses_its_path) {
        _cleanup_free_ char *p = path_join(scratch, "bad.yaml"), *expected = NULL;
        Config *c = NULL;
        Error e = ERROR_INIT;

        write_file(scratch, "bad.yaml", "api:\n  lisen: \":1\"\n");
        ck_assert_int_eq(config_load(p, &c, &e), -EINVAL);
        expected = asprintf_safe("%s:2:3: api.lisen: unknown key, did you mean \"api.listen\"?", p);
        ck_assert_str_eq(e.message, expected);
        ck_assert_str_eq(e.field, "api.lisen");
}
END_TEST

START_TEST(test_config_dump_shows_sources_and_masks_passwords) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f;

        ck_assert_int_eq(setenv("DATABASE_URL", "postgresql://aegis:hunter2@db:5432/aegis", 1), 0);
        c = load_ok("runtime:\n  max_concurrent: 9\n");
        f = open_memstream(&out, &size);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(config_dump(c, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_msg(strstr(out, "runtime:\n"), "%s", out);
        ck_assert_msg(strstr(out, "  max_concurrent: 9  # file config.yaml:2\n"), "%s", out);
        ck_assert_msg(strstr(out, "  listen: \"127.0.0.1:8088\"  # default\n"), "%s", out);
        ck_assert_msg(
                strstr(out,
                       "  url: \"postgresql://aegis:***@db:5432/aegis\"  # environment $DATABASE_URL\n"),
                "%s", out);
        ck_assert_msg(strstr(out, "  network: null  # default\n"), "%s", out);
        ck_assert_msg(!strstr(out, "hunter2"), "%s", out);
}
END_TEST

static const char llm_yaml[] = "llm:\n"
                               "  max_tool_rounds: 20\n"
                               "  providers:\n"
                               "    - name: openai\n"
                               "      type: openai\n"
                               "      api_key: env:OPENAI_API_KEY\n"
                               "      models:\n"
                               "        - alias: default\n"
                               "          model: gpt-4o-mini\n"
                               "          max_output_tokens: 1000\n"
                               "          temperature: 0.2\n"
                               "        - alias: big\n"
                               "          model: gpt-4o\n"
                               "    - name: local\n"
                               "      type: ollama\n"
                               "      endpoint: http://127.0.0.1:11434/\n"
                               "      models:\n"
                               "        - {alias: default, model: llama3}\n"
                               "  selection:\n"
                               "    default_provider: openai\n"
                               "    fallback_provider: local\n"
                               "    max_retries: 2\n"
                               "    retry_delay_ms: 100\n"
                               "    overall_timeout_secs: 2m\n";

START_TEST(test_config_llm_providers_and_selection) {
        _cleanup_(config_freep) Config *c = load_ok(llm_yaml);
        const ConfigLlmProvider *p;

        ck_assert_uint_eq(c->llm.max_tool_rounds, 20);
        ck_assert_uint_eq(c->llm.n_providers, 2);
        p = &c->llm.providers[0];
        ck_assert_str_eq(p->name, "openai");
        ck_assert_int_eq(p->type, LLM_PROVIDER_OPENAI);
        ck_assert_str_eq(p->endpoint, "https://api.openai.com/v1");
        ck_assert_str_eq(p->api_key_env, "OPENAI_API_KEY");
        ck_assert_str_eq(p->where, "config.yaml:4");
        ck_assert_uint_eq(p->n_models, 2);
        ck_assert_str_eq(p->models[0].alias, "default");
        ck_assert_str_eq(p->models[0].model, "gpt-4o-mini");
        ck_assert_uint_eq(p->models[0].max_output_tokens, 1000);
        ck_assert(p->models[0].has_temperature);
        ck_assert_double_eq_tol(p->models[0].temperature, 0.2, 1e-9);
        ck_assert(!p->models[1].has_temperature);
        ck_assert_uint_eq(p->models[1].max_output_tokens, 0);
        p = config_llm_provider(c, "local");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->type, LLM_PROVIDER_OLLAMA);
        ck_assert_str_eq(p->endpoint, "http://127.0.0.1:11434"); /* trailing "/" dropped */
        ck_assert_ptr_null(p->api_key_env);
        ck_assert_ptr_null(config_llm_provider(c, "nope"));
        ck_assert_str_eq(c->llm.selection.default_provider, "openai");
        ck_assert_str_eq(c->llm.selection.fallback_provider, "local");
        ck_assert_uint_eq(c->llm.selection.max_retries, 2);
        ck_assert_uint_eq(c->llm.selection.retry_delay_ms, 100);
        ck_assert_uint_eq(c->llm.selection.overall_timeout_secs, 120);
        assert_source(c, "llm.selection.max_retries", CONFIG_SOURCE_FILE, "config.yaml:22");
}
END_TEST

START_TEST(test_config_llm_defaults) {
        _cleanup_(config_freep) Config *c =
                load_ok("llm:\n  providers:\n    - name: a\n      type: anthropic\n"
                        "      models: [{alias: default, model: claude}]\n"
                        "    - name: g\n      type: gemini\n"
                        "      models: [{alias: default, model: gemini-2.0-flash}]\n");

        ck_assert_uint_eq(c->llm.max_tool_rounds, 50);
        ck_assert_uint_eq(c->llm.selection.max_retries, 3);
        ck_assert_uint_eq(c->llm.selection.retry_delay_ms, 500);
        ck_assert_uint_eq(c->llm.selection.overall_timeout_secs, 300);
        ck_assert_ptr_null(c->llm.selection.default_provider);
        ck_assert_ptr_null(c->llm.selection.fallback_provider);
        ck_assert_str_eq(c->llm.providers[0].endpoint, "https://api.anthropic.com");
        ck_assert_str_eq(c->llm.providers[1].endpoint, "https://generativelanguage.googleapis.com");
        assert_source(c, "llm.max_tool_rounds", CONFIG_SOURCE_DEFAULT, NULL);
}
END_TEST

START_TEST(test_config_tools_web_search) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(config_freep) Config *d = load_ok("# nothing\n");

        /* Absent: web.search is not offered (no endpoint), 5 results a call. */
        ck_assert_ptr_null(d->tools.web_search.endpoint);
        ck_assert_ptr_null(d->tools.web_search.api_key);
        ck_assert_uint_eq(d->tools.web_search.max_results, 5);
        assert_source(d, "tools.web_search.max_results", CONFIG_SOURCE_DEFAULT, NULL);

        c = load_ok("tools:\n  web_search:\n    endpoint: https://search.example/v1/search\n"
                    "    api_key: env:SEARCH_KEY\n    max_results: 20\n");
        ck_assert_str_eq(c->tools.web_search.endpoint, "https://search.example/v1/search");
        ck_assert_str_eq(c->tools.web_search.api_key, "env:SEARCH_KEY");
        ck_assert_uint_eq(c->tools.web_search.max_results, 20);
        assert_source(c, "tools.web_search.endpoint", CONFIG_SOURCE_FILE, "config.yaml:3");

        /* A key written into the file is refused without being echoed. */
        load_fails("tools:\n  web_search:\n    endpoint: https://s.example\n    api_key: sk-live-1234\n",
                   "config.yaml:4:5: tools.web_search.api_key: expected \"env:VARIABLE\": keys are not "
                   "accepted in the configuration file; put the key in the unit's EnvironmentFile= or a "
                   "systemd credential (LoadCredential=VARIABLE:/path) and write api_key: env:VARIABLE");
        load_fails("tools:\n  web_search:\n    api_key: env:1BAD\n",
                   "config.yaml:3:5: tools.web_search.api_key: expected env: followed by a variable name "
                   "([A-Za-z_][A-Za-z0-9_]*)");
        load_fails("tools:\n  web_search:\n    endpoint: ftp://s.example\n",
                   "config.yaml:3:5: tools.web_search.endpoint: expected an http:// or https:// URL, got "
                   "\"ftp://s.example\"");
        load_fails("tools:\n  web_search:\n    max_results: 21\n",
                   "config.yaml:3:5: tools.web_search.max_results: must be between 1 and 20, got \"21\"");
        load_fails("tools:\n  web_search:\n    max_results: 0\n",
                   "config.yaml:3:5: tools.web_search.max_results: must be between 1 and 20, got \"0\"");
        load_fails("tools:\n  web_search: https://s.example\n",
                   "config.yaml:2:3: tools.web_search: expected a mapping, got a string");
        load_fails("tools:\n  web_search:\n    endpont: https://s.example\n",
                   "config.yaml:3:5: tools.web_search.endpont: unknown key, did you mean "
                   "\"tools.web_search.endpoint\"?");
}
END_TEST

START_TEST(test_config_llm_errors_name_line_and_key) {
        load_fails("llm:\n  providers:\n    - name: x\n      type: openai\n      api_key: sk-live-1234\n"
                   "      models: [{alias: a, model: m}]\n",
                   "config.yaml:5:16: llm.providers[0].api_key: expected \"env:VARIABLE\": keys are not "
                   "accepted in the configuration file; put the key in the unit's EnvironmentFile= or a "
                   "systemd credential (LoadCredential=VARIABLE:/path) and write api_key: env:VARIABLE");
        load_fails("llm:\n  providers:\n    - name: x\n      type: openai\n      api_key: env:1BAD\n"
                   "      models: [{alias: a, model: m}]\n",
                   "config.yaml:5:16: llm.providers[0].api_key: expected env: followed by a variable name "
                   "([A-Za-z_][A-Za-z0-9_]*)");
        load_fails("llm:\n  providers:\n    - name: x\n      type: ollama\n      models: [{alias: a, model: "
                   "m}]\n",
                   "config.yaml:3:7: llm.providers[0].endpoint: missing: a provider of type ollama has no "
                   "public endpoint; name its base URL (e.g. http://127.0.0.1:11434)");
        load_fails(
                "llm:\n  providers:\n    - name: x\n      type: gpt\n      models: [{alias: a, model: m}]\n",
                "config.yaml:4:13: llm.providers[0].type: expected one of openai, openai-compatible, "
                "anthropic, ollama, gemini, got \"gpt\"");
        load_fails("llm:\n  providers:\n    - name: x\n      type: openai\n      models: []\n",
                   "config.yaml:3:7: llm.providers[0].models: missing: at least one model (- alias: "
                   "default\n  model: NAME)");
        load_fails("llm:\n  providers:\n    - name: x\n      type: openai\n"
                   "      models: [{alias: a, model: m}, {alias: a, model: n}]\n",
                   "config.yaml:5:46: llm.providers[0].models[1].alias: alias \"a\" is already used by "
                   "models[0]");
        load_fails("llm:\n  providers:\n    - {name: x, type: openai, models: [{alias: a, model: m}]}\n"
                   "    - {name: x, type: openai, models: [{alias: a, model: m}]}\n",
                   "config.yaml:4:14: llm.providers[1].name: provider \"x\" is already defined at "
                   "config.yaml:3");
        load_fails("llm:\n  providers:\n    - {name: x, type: openai, models: [{alias: a, model: m}]}\n"
                   "  selection:\n    default_provider: y\n",
                   "config.yaml:5: llm.selection.default_provider: no provider \"y\" in llm.providers (1 "
                   "defined)");
        load_fails("llm:\n  providers:\n    - {name: x, type: openai, models: [{alias: a, model: m}]}\n"
                   "  selection:\n    fallback_provider: x\n",
                   "llm.selection.fallback_provider: \"x\" is the default provider already; name another "
                   "provider or remove the key");
        load_fails(
                "llm:\n  providers:\n    - {name: x, type: openai, endpont: http://h, models: [{alias: a, "
                "model: m}]}\n",
                "config.yaml:3:31: llm.providers[0].endpont: unknown key, did you mean \"endpoint\"?");
        load_fails("llm:\n  providers:\n    - {name: x, type: openai, models: [{alias: a, model: m, "
                   "temperature: 3}]}\n",
                   "config.yaml:3:74: llm.providers[0].models[0].temperature: expected a number between 0 "
                   "and 2, got \"3\"");
        load_fails("llm:\n  selection:\n    max_retries: lots\n",
                   "config.yaml:3:5: llm.selection.max_retries: expected an integer, got \"lots\"");
        load_fails(
                "llm:\n  max_tool_round: 3\n",
                "config.yaml:2:3: llm.max_tool_round: unknown key, did you mean \"llm.max_tool_rounds\"?");
}
END_TEST

START_TEST(test_config_llm_dump_names_the_variable_never_a_key) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f;

        ck_assert_int_eq(setenv("OPENAI_API_KEY", "sk-test-secret-value", 1), 0);
        c = load_ok(llm_yaml);
        f = open_memstream(&out, &size);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(config_dump(c, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_msg(strstr(out, "llm:\n  max_tool_rounds: 20  # file config.yaml:2\n  selection:\n"
                                  "    default_provider: \"openai\"  # file config.yaml:20\n"),
                      "%s", out);
        ck_assert_msg(strstr(out, "    overall_timeout_secs: 120  # file config.yaml:24\n  providers:\n"
                                  "    - name: \"openai\"  # file config.yaml:4\n      type: openai\n"
                                  "      endpoint: \"https://api.openai.com/v1\"\n"
                                  "      api_key: \"env:OPENAI_API_KEY\"\n"),
                      "%s", out);
        ck_assert_msg(strstr(out, "          temperature: 0.2\n"), "%s", out);
        ck_assert_msg(!strstr(out, "sk-test-secret-value"), "%s", out);
}
END_TEST

/* Loads yaml, which must fail with a message containing part. */
static void load_fails_containing(const char *yaml, const char *part) {
        Config *c = NULL;
        Error e = ERROR_INIT;
        int r = config_load_string("config.yaml", yaml, strlen(yaml), &c, &e);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(e.message, part), "\"%s\" does not contain \"%s\"", e.message, part);
}

START_TEST(test_config_limits_and_tenants) {
        _cleanup_(config_freep) Config *c = load_ok("limits:\n"
                                                    "  max_cpus: \"1.5\"\n"
                                                    "  max_memory_bytes: 2Gi\n"
                                                    "  max_concurrent_executions: 4\n"
                                                    "  tenants:\n"
                                                    "    acme:\n"
                                                    "      max_cpus: 500m\n"
                                                    "      max_timeout_secs: 10m\n");
        _cleanup_(config_freep) Config *d = load_ok("");
        ConfigLimits l;
        const char *where;

        ck_assert_uint_eq(c->limits.overall.max_nano_cpus, 1500000000);
        ck_assert_uint_eq(c->limits.overall.max_memory_bytes, UINT64_C(2) << 30);
        ck_assert_uint_eq(c->limits.overall.max_pids, 32768);
        ck_assert_uint_eq(c->limits.overall.max_timeout_secs, 86400);
        config_limits_for_tenant(c, "acme", &l, &where);
        ck_assert_uint_eq(l.max_nano_cpus, 500000000);
        ck_assert_uint_eq(l.max_timeout_secs, 600);
        ck_assert_uint_eq(l.max_memory_bytes, UINT64_C(2) << 30); /* the overall value */
        ck_assert_uint_eq(l.max_concurrent_executions, 4);
        ck_assert_ptr_nonnull(where);
        config_limits_for_tenant(c, "other", &l, &where);
        ck_assert_uint_eq(l.max_nano_cpus, 1500000000);
        ck_assert_ptr_null(where);
        /* Defaults: the host's CPUs and memory. */
        ck_assert_uint_eq(d->limits.overall.max_nano_cpus,
                          (uint64_t) sysconf(_SC_NPROCESSORS_ONLN) * 1000000000);
        ck_assert_uint_eq(d->limits.overall.max_memory_bytes,
                          (uint64_t) sysconf(_SC_PHYS_PAGES) * (uint64_t) sysconf(_SC_PAGESIZE));
        ck_assert_uint_eq(d->limits.overall.max_concurrent_executions, 256);

        load_fails_containing("limits:\n  max_cpus: \"1.2345\"\n", "max_cpus: expected a number of CPUs");
        load_fails_containing("limits:\n  max_cpus: 2000\n", "must be between 1m and 1024 CPUs");
        load_fails_containing("limits:\n  tenants:\n    acme:\n      max_gpus: 1\n", "unknown limit");
        load_fails_containing("limits:\n  tenants:\n    acme:\n      max_pids: 1\n",
                              "must be between 16 and");
        load_fails_containing("limits:\n  tenants: [a]\n", "expected a mapping of tenant names");
}
END_TEST

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_config_defaults);
        tcase_add_test(tc, test_config_file_values_and_provenance);
        tcase_add_test(tc, test_config_optional_key_null_unsets);
        tcase_add_test(tc, test_config_empty_file_is_defaults);
        tcase_add_test(tc, test_config_wrong_type_names_file_line_column_key);
        tcase_add_test(tc, test_config_bad_values);
        tcase_add_test(tc, test_config_unknown_keys_suggest);
        tcase_add_test(tc, test_config_bad_structure);
        tcase_add_test(tc, test_config_yaml_syntax_error_has_position);
        tcase_add_test(tc, test_config_long_bad_value_is_cut_at_64_bytes);
        tcase_add_test(tc, test_config_bad_state_directory_is_an_invalid_default);
        tcase_add_test(tc, test_config_file_too_large_or_unreadable);
        tcase_add_test(tc, test_config_database_url_env_overrides_file);
        tcase_add_test(tc, test_config_bad_database_url_env);
        tcase_add_test(tc, test_config_log_level_env);
        tcase_add_test(tc, test_config_container_host_is_a_default);
        tcase_add_test(tc, test_config_state_directory);
        tcase_add_test(tc, test_config_discovery_order);
        tcase_add_test(tc, test_config_missing_explicit_file_is_an_error);
        tcase_add_test(tc, test_config_file_error_uses_its_path);
        tcase_add_test(tc, test_config_dump_shows_sources_and_masks_passwords);
        tcase_add_test(tc, test_config_llm_providers_and_selection);
        tcase_add_test(tc, test_config_tools_web_search);
        tcase_add_test(tc, test_config_llm_defaults);
        tcase_add_test(tc, test_config_llm_errors_name_line_and_key);
        tcase_add_test(tc, test_config_llm_dump_names_the_variable_never_a_key);
        tcase_add_test(tc, test_config_limits_and_tenants);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(config_suite());
}
