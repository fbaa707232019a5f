/* test-podman.c — the Podman driver's pure parts: the log frame demultiplexer on crafted input,
 * the create body, the files' tar, and the parsers of version, stats, events and credentials.
 * (Everything that talks to the engine is tested against a real Podman in
 * tests/integration/podman-*.sh.) */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podman.h"
#include "test-main.h"
#include "util.h"

/* --- demux -------------------------------------------------------------------------------- */

typedef struct Collected {
        char out[4096], err[4096];
        size_t out_size, err_size;
        unsigned calls;
} Collected;

static int collect(PodmanStream stream, const void *data, size_t size, void *userdata) {
        Collected *c = userdata;

        c->calls++;
        if (stream == PODMAN_STREAM_STDERR) {
                memcpy(c->err + c->err_size, data, size);
                c->err_size += size;
        } else {
                memcpy(c->out + c->out_size, data, size);
                c->out_size += size;
        }
        return 0;
}

static size_t frame(uint8_t *buf, uint8_t stream, const void *payload, uint32_t n) {
        buf[0] = stream;
        buf[1] = buf[2] = buf[3] = 0;
        buf[4] = n >> 24;
        buf[5] = n >> 16 & 0xff;
        buf[6] = n >> 8 & 0xff;
        buf[7] = n & 0xff;
        memcpy(buf + 8, payload, n);
        return 8 + n;
}

/* stdout "a\0b\xff\n", stderr "E\1", an empty stdout frame, stdout "tail". */
static size_t sample_stream(uint8_t *buf) {
        size_t n = 0;

        n += frame(buf + n, 1, "a\0b\xff\n", 5);
        n += frame(buf + n, 2, "E\1", 2);
        n += frame(buf + n, 1, "", 0);
        n += frame(buf + n, 1, "tail", 4);
        return n;
}

START_TEST(test_demux_keeps_streams_apart_and_binary_exact) {
        uint8_t buf[256];
        size_t n = sample_stream(buf);
        PodmanDemux d;
        Collected c = { 0 };

        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, buf, n, collect, &c), 0);
        ck_assert_int_eq(podman_demux_finish(&d), 0);
        ck_assert_uint_eq(c.out_size, 9);
        ck_assert(memcmp(c.out, "a\0b\xff\ntail", 9) == 0);
        ck_assert_uint_eq(c.err_size, 2);
        ck_assert(memcmp(c.err, "E\1", 2) == 0);
        ck_assert_uint_eq(d.frames, 4);
}
END_TEST

START_TEST(test_demux_any_split_gives_the_same_bytes) {
        uint8_t buf[256];
        size_t n = sample_stream(buf);

        /* Feed in pieces of every size from 1 to n. */
        for (size_t piece = 1; piece <= n; piece++) {
                PodmanDemux d;
                Collected c = { 0 };

                podman_demux_init(&d);
                for (size_t off = 0; off < n; off += piece)
                        ck_assert_int_eq(podman_demux_feed(&d, buf + off, MIN(piece, n - off), collect, &c),
                                         0);
                ck_assert_int_eq(podman_demux_finish(&d), 0);
                ck_assert_uint_eq(c.out_size, 9);
                ck_assert(memcmp(c.out, "a\0b\xff\ntail", 9) == 0);
                ck_assert_uint_eq(c.err_size, 2);
        }
}
END_TEST

START_TEST(test_demux_rejects_bad_headers) {
        uint8_t bad_stream[] = { 3, 0, 0, 0, 0, 0, 0, 1, 'x' };
        uint8_t bad_padding[] = { 1, 0, 1, 0, 0, 0, 0, 1, 'x' };
        uint8_t tty_text[] = "hello, world\n";
        PodmanDemux d;

        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, bad_stream, sizeof bad_stream, NULL, NULL), -EBADMSG);
        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, bad_padding, sizeof bad_padding, NULL, NULL), -EBADMSG);
        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, tty_text, sizeof tty_text - 1, NULL, NULL), -EBADMSG);
}
END_TEST

START_TEST(test_demux_detects_a_cut_frame) {
        uint8_t huge[] = { 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a', 'b' };
        uint8_t half_header[] = { 2, 0, 0 };
        PodmanDemux d;

        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, huge, sizeof huge, NULL, NULL), 0);
        ck_assert_uint_eq(d.remaining, 0xffffffffU - 2);
        ck_assert_int_eq(podman_demux_finish(&d), -EBADMSG);
        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, half_header, sizeof half_header, NULL, NULL), 0);
        ck_assert_int_eq(podman_demux_finish(&d), -EBADMSG);
}
END_TEST

static int refuse(PodmanStream stream, const void *data, size_t size, void *userdata) {
        return -ENOSPC;
}

START_TEST(test_demux_passes_on_a_consumer_error) {
        uint8_t buf[256];
        size_t n = sample_stream(buf);
        PodmanDemux d;

        podman_demux_init(&d);
        ck_assert_int_eq(podman_demux_feed(&d, buf, n, refuse, NULL), -ENOSPC);
}
END_TEST

/* --- create body -------------------------------------------------------------------------- */

static json_object *create_body(const PodmanContainerSpec *spec, const char *gateway) {
        _cleanup_free_ char *body = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(podman_container_create_body(spec, PODMAN_ENGINE_PODMAN, gateway, &body, &e), 0);
        return json_tokener_parse(body);
}

static const char *jstr(json_object *o, const char *a, const char *b) {
        json_object *v = NULL, *w = NULL;

        ck_assert(json_object_object_get_ex(o, a, &v));
        if (!b)
                return json_object_get_string(v);
        if (!json_object_object_get_ex(v, b, &w))
                return NULL;
        return json_object_get_string(w);
}

START_TEST(test_create_body_carries_limits_labels_and_hardening) {
        char *env[] = { (char *) "FOO=bar", NULL };
        char *cmd[] = { (char *) "python3", (char *) "/agent.py", NULL };
        char *nfs[] = { (char *) "type=nfs", (char *) "o=addr=10.0.0.1,nfsvers=3", (char *) "device=:/t/v",
                        NULL };
        PodmanMount mounts[] = {
                { .type = PODMAN_MOUNT_VOLUME,
                  .source = "aegis-vol-1",
                  .target = "/workspace",
                  .driver = "local",
                  .driver_options = nfs },
                { .type = PODMAN_MOUNT_BIND,
                  .source = "/srv/x",
                  .target = "/workspace/x",
                  .read_only = true },
        };
        PodmanContainerSpec spec = { .execution_id = "exec-1",
                                     .iteration = 2,
                                     .image = "localhost/img:1",
                                     .cmd = cmd,
                                     .env = env,
                                     .user = "1000:1000",
                                     .workdir = "/workspace",
                                     .nano_cpus = 500000000,
                                     .memory_bytes = 67108864,
                                     .pids_limit = 256,
                                     .read_only_rootfs = true,
                                     .keep_container_on_failure = true,
                                     .store_id = "0b0e5ab8-1c0e-4a46-9b5a-2f1d1d3c7e11",
                                     .mounts = mounts,
                                     .n_mounts = 2 };
        json_object *o = create_body(&spec, "192.0.2.2"), *hc = json_object_object_get(o, "HostConfig");

        ck_assert_str_eq(jstr(o, "Image", NULL), "localhost/img:1");
        ck_assert_str_eq(jstr(o, "User", NULL), "1000:1000");
        ck_assert_str_eq(jstr(o, "WorkingDir", NULL), "/workspace");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.managed"), "true");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.execution_id"), "exec-1");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.iteration"), "2");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.runtime"), "podman");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.keep_container_on_failure"), "true");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.store"), "0b0e5ab8-1c0e-4a46-9b5a-2f1d1d3c7e11");
        ck_assert_str_eq(jstr(hc, "NanoCpus", NULL), "500000000");
        ck_assert_str_eq(jstr(hc, "Memory", NULL), "67108864");
        ck_assert_str_eq(jstr(hc, "MemorySwap", NULL), "67108864");
        ck_assert_str_eq(jstr(hc, "PidsLimit", NULL), "256");
        ck_assert_str_eq(jstr(hc, "ReadonlyRootfs", NULL), "true");
        ck_assert_str_eq(jstr(hc, "CapDrop", NULL), "[ \"ALL\" ]");
        ck_assert_str_eq(jstr(hc, "SecurityOpt", NULL), "[ \"no-new-privileges\" ]");
        ck_assert_str_eq(jstr(hc, "ExtraHosts", NULL),
                         "[ \"host.docker.internal:192.0.2.2\", \"host.containers.internal:192.0.2.2\" ]");
        ck_assert(strstr(
                json_object_to_json_string_ext(hc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "\"device\":\":/t/v\""));
        ck_assert(strstr(json_object_to_json_string_ext(hc, JSON_C_TO_STRING_PLAIN), "\"Type\":\"bind\""));
        json_object_put(o);
}
END_TEST

/* A warm pool's container names its pool and owner, and no execution (run-pool.c). */
START_TEST(test_create_body_of_a_pooled_container) {
        PodmanContainerSpec spec = { .execution_id = "member-1",
                                     .iteration = 1,
                                     .image = "i",
                                     .store_id = "s",
                                     .pool_agent_id = "agent-1",
                                     .pool_owner = "42:1234" };
        json_object *o = create_body(&spec, NULL);

        ck_assert_str_eq(jstr(o, "Labels", "aegis.managed"), "true");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.pool"), "agent-1");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.pool_owner"), "42:1234");
        ck_assert_str_eq(jstr(o, "Labels", "aegis.store"), "s");
        ck_assert_ptr_null(jstr(o, "Labels", "aegis.execution_id"));
        ck_assert_ptr_null(jstr(o, "Labels", "aegis.iteration"));
        json_object_put(o);
        spec.pool_agent_id = NULL; /* the cold path's has no pool labels */
        o = create_body(&spec, NULL);
        ck_assert_ptr_null(jstr(o, "Labels", "aegis.pool"));
        ck_assert_ptr_null(jstr(o, "Labels", "aegis.pool_owner"));
        ck_assert_str_eq(jstr(o, "Labels", "aegis.execution_id"), "member-1");
        json_object_put(o);
}
END_TEST

START_TEST(test_create_body_without_network_has_no_extra_hosts) {
        PodmanContainerSpec spec = { .execution_id = "e",
                                     .iteration = 1,
                                     .image = "i",
                                     .network_mode = podman_network_mode("deny", "aegis-network") };
        json_object *o = create_body(&spec, NULL), *hc = json_object_object_get(o, "HostConfig");

        ck_assert_str_eq(jstr(hc, "NetworkMode", NULL), "none");
        ck_assert(!json_object_object_get_ex(hc, "ExtraHosts", NULL));
        ck_assert(!json_object_object_get_ex(hc, "Memory", NULL));
        ck_assert_ptr_null(jstr(o, "Labels", "aegis.store")); /* no store id: no label */
        json_object_put(o);
        ck_assert_str_eq(podman_network_mode("allow", "aegis-network"), "aegis-network");
        ck_assert_ptr_null(podman_network_mode(NULL, NULL));
}
END_TEST

/* The reference's client reaches the relay as host.containers.internal, on the container's own
 * loopback: on Podman with no network too; Docker refuses extra hosts without a network. */
START_TEST(test_create_body_host_names_loopback) {
        PodmanContainerSpec spec = { .execution_id = "e",
                                     .iteration = 1,
                                     .image = "i",
                                     .network_mode = "none",
                                     .host_names_loopback = true };
        _cleanup_free_ char *docker = NULL;
        json_object *o = create_body(&spec, "10.0.2.2"), *hc = json_object_object_get(o, "HostConfig"), *d;
        Error e = ERROR_INIT;

        ck_assert_str_eq(jstr(hc, "ExtraHosts", NULL),
                         "[ \"host.docker.internal:127.0.0.1\", \"host.containers.internal:127.0.0.1\" ]");
        json_object_put(o);
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_DOCKER, NULL, &docker, &e), 0);
        d = json_tokener_parse(docker);
        ck_assert(!json_object_object_get_ex(json_object_object_get(d, "HostConfig"), "ExtraHosts", NULL));
        json_object_put(d);
}
END_TEST

START_TEST(test_create_body_leaves_host_gateway_to_an_engine_that_resolves_it) {
        PodmanContainerSpec spec = { .execution_id = "e", .iteration = 1, .image = "i" };
        json_object *o = create_body(&spec, NULL);

        ck_assert(strstr(json_object_to_json_string(o), "host.docker.internal:host-gateway"));
        json_object_put(o);
}
END_TEST

/* A user namespace of its own: a fixed range for uids and gids, and a /dev/shm of the container's
 * own instead of the IPC namespace's (Podman 4.3 cannot remove a user-namespaced container's
 * shared one); none of it without spec.userns, or for Docker; a range past 2^32 is refused. */
START_TEST(test_create_body_user_namespace) {
        PodmanContainerSpec spec = {
                .execution_id = "e", .iteration = 1, .image = "i", .userns = true, .userns_base = 1879048192
        };
        _cleanup_free_ char *docker = NULL, *body = NULL;
        json_object *o = create_body(&spec, NULL), *hc = json_object_object_get(o, "HostConfig"), *d;
        Error e = ERROR_INIT;

        ck_assert_str_eq(jstr(hc, "UsernsMode", NULL),
                         "auto:size=65536,uidmapping=0:1879048192:65536,gidmapping=0:1879048192:65536");
        ck_assert_str_eq(jstr(hc, "IpcMode", NULL), "none");
        ck_assert_str_eq(jstr(hc, "Tmpfs", "/dev/shm"), "rw,nosuid,nodev,noexec,size=65536k");
        json_object_put(o);
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_DOCKER, NULL, &docker, &e), 0);
        d = json_tokener_parse(docker);
        ck_assert(!json_object_object_get_ex(json_object_object_get(d, "HostConfig"), "UsernsMode", NULL));
        json_object_put(d);
        spec.userns = false;
        o = create_body(&spec, NULL);
        hc = json_object_object_get(o, "HostConfig");
        ck_assert(!json_object_object_get_ex(hc, "UsernsMode", NULL));
        ck_assert(!json_object_object_get_ex(hc, "IpcMode", NULL));
        json_object_put(o);
        spec.userns = true;
        spec.userns_base = UINT32_MAX - 65535;
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -ERANGE);
        ck_assert_str_eq(e.field, "userns_base");
        /* keep-id with the agent's ids (a rootless engine's container with a bind-mode volume),
         * with the same /dev/shm; not for Docker. */
        spec = (PodmanContainerSpec){ .execution_id = "e",
                                      .iteration = 1,
                                      .image = "i",
                                      .userns_keep_id = true,
                                      .keep_id_uid = 1000,
                                      .keep_id_gid = 1001 };
        o = create_body(&spec, NULL);
        hc = json_object_object_get(o, "HostConfig");
        ck_assert_str_eq(jstr(hc, "UsernsMode", NULL), "keep-id:uid=1000,gid=1001");
        ck_assert_str_eq(jstr(hc, "IpcMode", NULL), "none");
        ck_assert_str_eq(jstr(hc, "Tmpfs", "/dev/shm"), "rw,nosuid,nodev,noexec,size=65536k");
        json_object_put(o);
        free(docker);
        docker = NULL;
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_DOCKER, NULL, &docker, &e), 0);
        d = json_tokener_parse(docker);
        ck_assert(!json_object_object_get_ex(json_object_object_get(d, "HostConfig"), "UsernsMode", NULL));
        json_object_put(d);
}
END_TEST

/* What inspect says the engine applied against what was asked: a dropped limit, or one looser
 * than asked, does not hold; rounding below a page (memory) or 0.1 % (cpu) does. */
START_TEST(test_limits_differ_names_what_does_not_hold) {
        PodmanContainerSpec asked = { .memory_bytes = 67108864, .pids_limit = 64, .nano_cpus = 500000000 };
        PodmanContainer ct = { .memory_bytes = 67108864, .pids_limit = 64, .nano_cpus = 500000000 };
        char buf[32];

        ck_assert_int_eq(podman_container_limits_differ(&asked, &ct, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "");
        ct.memory_bytes = 67108864 - 100;
        ct.nano_cpus = 499999999;
        ck_assert_int_eq(podman_container_limits_differ(&asked, &ct, buf, sizeof buf), 0);
        ct.memory_bytes = 0;
        ck_assert_int_eq(podman_container_limits_differ(&asked, &ct, buf, sizeof buf), 1);
        ck_assert_str_eq(buf, "memory");
        ct.pids_limit = 2048;
        ct.nano_cpus = 0;
        ck_assert_int_eq(podman_container_limits_differ(&asked, &ct, buf, sizeof buf), 1);
        ck_assert_str_eq(buf, "memory, pids, cpu");
        asked = (PodmanContainerSpec){ 0 }; /* nothing asked: nothing to hold */
        ck_assert_int_eq(podman_container_limits_differ(&asked, &ct, buf, sizeof buf), 0);
}
END_TEST

START_TEST(test_create_body_errors_name_the_field) {
        char *env[] = { (char *) "NOEQUALS", NULL };
        char *bad_opt[] = { (char *) "novalue", NULL };
        PodmanMount m = { .type = PODMAN_MOUNT_VOLUME,
                          .source = "v",
                          .target = "/w",
                          .driver = "local",
                          .driver_options = bad_opt };
        PodmanContainerSpec spec = { .execution_id = "bad/id", .iteration = 1, .image = "i" };
        _cleanup_free_ char *body = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -EINVAL);
        ck_assert_str_eq(e.field, "execution_id");
        spec.execution_id = "ok";
        spec.iteration = 0;
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -EINVAL);
        ck_assert_str_eq(e.field, "iteration");
        spec.iteration = 1;
        spec.env = env;
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -EINVAL);
        ck_assert_str_eq(e.field, "env");
        ck_assert(strstr(e.message, "NOEQUALS"));
        spec.env = NULL;
        spec.workdir = "relative";
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -EINVAL);
        ck_assert_str_eq(e.field, "workdir");
        spec.workdir = NULL;
        spec.mounts = &m;
        spec.n_mounts = 1;
        ck_assert_int_eq(podman_container_create_body(&spec, PODMAN_ENGINE_PODMAN, NULL, &body, &e),
                         -EINVAL);
        ck_assert_str_eq(e.field, "mounts[0]");
}
END_TEST

START_TEST(test_container_name) {
        _cleanup_free_ char *n = NULL;

        ck_assert_int_eq(podman_container_name("abc", 3, &n), 0);
        ck_assert_str_eq(n, "aegis-abc-3");
        ck_assert_int_eq(podman_container_name("../x", 1, &n), -EINVAL);
}
END_TEST

/* --- tar ---------------------------------------------------------------------------------- */

START_TEST(test_tar_is_readable_by_tar) {
        char long_path[300];
        PodmanFile files[] = {
                { .path = "/run/aegis/input.json",
                  .data = "{\"a\":1}",
                  .size = 7,
                  .uid = 1000,
                  .gid = 1000 },
                { .path = "/run/aegis/empty", .data = NULL, .size = 0, .mode = 0600 },
                { .path = long_path, .data = "x", .size = 1 },
                { .path = "/workspace", .mode = S_IFDIR | 0751 },
        };
        char dir[] = "/tmp/test-podman-tar.XXXXXX", cmdline[512];
        _cleanup_free_ char *tar = NULL, *got = NULL, *tarpath = NULL;
        Error e = ERROR_INIT;
        size_t n, got_size;

        (void) snprintf(long_path, sizeof long_path, "/%0120d/%0100d", 1, 2);
        ck_assert_int_eq(podman_tar_build(files, ELEMENTSOF(files), &tar, &n, &e), 0);
        ck_assert_uint_eq(n % 512, 0);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        tarpath = path_join(dir, "x.tar");
        ck_assert_int_eq(write_file_atomic(tarpath, tar, n, 0600), 0);
        (void) snprintf(cmdline, sizeof cmdline, "tar -C %s -xf %s", dir, tarpath);
        ck_assert_int_eq(system(cmdline), 0);
        free(tarpath);
        tarpath = path_join(dir, "run/aegis/input.json");
        ck_assert_int_eq(read_full_file(tarpath, 1024, &got, &got_size), 0);
        ck_assert_str_eq(got, "{\"a\":1}");
        {
                /* a directory entry: a directory, with its mode */
                _cleanup_free_ char *w = path_join(dir, "workspace");
                struct stat st;
                ck_assert_int_eq(stat(w, &st), 0);
                ck_assert(S_ISDIR(st.st_mode));
                ck_assert_int_eq(st.st_mode & 07777, 0751);
        }
        (void) snprintf(cmdline, sizeof cmdline, "test -f %s%s && rm -rf %s", dir, long_path, dir);
        ck_assert_int_eq(system(cmdline), 0);
}
END_TEST

START_TEST(test_tar_refuses_bad_paths) {
        const char *bad[] = { "relative", "/", "/a/../b", "/a//b", "/a/./b", "/dir/" };
        _cleanup_free_ char *tar = NULL;
        Error e = ERROR_INIT;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                PodmanFile f = { .path = bad[i], .data = "x", .size = 1 };
                ck_assert_int_eq(podman_tar_build(&f, 1, &tar, &n, &e), -EINVAL);
                ck_assert_str_eq(e.field, "files");
        }
}
END_TEST

/* --- parsers ------------------------------------------------------------------------------ */

START_TEST(test_version_parse_detects_engine_and_what_it_supports) {
        const char *podman43 =
                "{\"Platform\":{\"Name\":\"linux/amd64/debian-12\"},\"Components\":[{\"Name\":"
                "\"Podman Engine\",\"Version\":\"4.3.1\"}],\"Version\":\"4.3.1\",\"ApiVersion\":"
                "\"1.41\",\"Os\":\"linux\",\"Arch\":\"amd64\"}";
        const char *podman5 = "{\"Components\":[{\"Name\":\"Podman Engine\"}],\"Version\":\"5.2.0\"}";
        const char *podman42 = "{\"Components\":[{\"Name\":\"Podman Engine\"}],\"Version\":\"4.2.0\"}";
        const char *docker =
                "{\"Components\":[{\"Name\":\"Engine\"}],\"Version\":\"24.0.7\",\"ApiVersion\":\"1.43\"}";
        PodmanVersion v;

        ck_assert_int_eq(podman_version_parse(podman43, strlen(podman43), &v), 0);
        ck_assert_int_eq(v.engine, PODMAN_ENGINE_PODMAN);
        ck_assert_str_eq(v.version, "4.3.1");
        ck_assert_uint_eq(v.major, 4);
        ck_assert_uint_eq(v.minor, 3);
        ck_assert(!v.resolves_host_gateway);
        ck_assert(v.keep_id_uid);
        ck_assert_int_eq(podman_version_parse(podman5, strlen(podman5), &v), 0);
        ck_assert(v.resolves_host_gateway);
        ck_assert(v.keep_id_uid);
        ck_assert_int_eq(podman_version_parse(docker, strlen(docker), &v), 0);
        ck_assert_int_eq(v.engine, PODMAN_ENGINE_DOCKER);
        ck_assert(v.resolves_host_gateway);
        ck_assert(!v.keep_id_uid);
        ck_assert_int_eq(podman_version_parse(podman42, strlen(podman42), &v), 0);
        ck_assert(!v.keep_id_uid);
        ck_assert_int_eq(podman_version_parse("[]", 2, &v), -EBADMSG);
        ck_assert_int_eq(podman_version_parse("{}", 2, &v), -EBADMSG);
}
END_TEST

START_TEST(test_stats_parse_v1_v2_and_zeros_as_unknown) {
        const char *v1 =
                "{\"read\":\"2026-11-28T10:00:00.5Z\",\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":"
                "123456789}},\"memory_stats\":{\"usage\":10000000,\"limit\":67108864,\"stats\":{"
                "\"total_inactive_file\":1000000}},\"pids_stats\":{\"current\":3}}";
        const char *v2 =
                "{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":5}},\"memory_stats\":{\"usage\":"
                "4096,\"limit\":8192,\"stats\":{\"inactive_file\":96}},\"pids_stats\":{\"current\":1}}";
        const char *zeros = "{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":0,\"percpu_usage\":[]}},"
                            "\"memory_stats\":{},\"pids_stats\":{}}";
        PodmanStats s;

        ck_assert_int_eq(podman_stats_parse(v1, strlen(v1), &s), 0);
        ck_assert(s.cpu_known && s.cpu_usage_nsec == 123456789);
        ck_assert(s.memory_known && s.memory_bytes == 9000000);
        ck_assert(s.memory_limit_known && s.memory_limit_bytes == 67108864);
        ck_assert(s.pids_known && s.pids == 3);
        ck_assert_uint_ne(s.read_usec, 0);
        ck_assert_int_eq(podman_stats_parse(v2, strlen(v2), &s), 0);
        ck_assert(s.memory_known && s.memory_bytes == 4000);
        ck_assert_int_eq(podman_stats_parse(zeros, strlen(zeros), &s), 0);
        ck_assert(!s.cpu_known && !s.memory_known && !s.memory_limit_known && !s.pids_known);
        ck_assert_int_eq(podman_stats_parse("nope", 4, &s), -EBADMSG);
}
END_TEST

START_TEST(test_event_parse) {
        const char *podman =
                "{\"status\":\"died\",\"id\":\"abc\",\"Type\":\"container\",\"Action\":\"died\","
                "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"containerExitCode\":\"3\",\"name\":"
                "\"aegis-e-1\",\"aegis.execution_id\":\"e\"}},\"time\":1795862707,\"timeNano\":"
                "1795862707000000001}";
        const char *docker =
                "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"d\",\"Attributes\":"
                "{\"exitCode\":\"137\"}},\"time\":10}";
        json_object *j;
        PodmanEvent ev;

        ck_assert_int_eq(podman_event_parse(podman, strlen(podman), &ev, &j), 0);
        ck_assert_str_eq(ev.action, "died");
        ck_assert_str_eq(ev.id, "abc");
        ck_assert_str_eq(ev.name, "aegis-e-1");
        ck_assert_str_eq(ev.execution_id, "e");
        ck_assert_int_eq(ev.exit_code, 3);
        ck_assert_uint_eq(ev.time_nsec, UINT64_C(1795862707000000001));
        json_object_put(j);
        ck_assert_int_eq(podman_event_parse(docker, strlen(docker), &ev, &j), 0);
        ck_assert_int_eq(ev.exit_code, 137);
        ck_assert_uint_eq(ev.time_nsec, 10 * NSEC_PER_SEC);
        json_object_put(j);
        ck_assert_int_eq(podman_event_parse("{\"x\":1}", 7, &ev, &j), -EBADMSG);
}
END_TEST

START_TEST(test_pull_policy_strings) {
        ck_assert_int_eq(image_pull_policy_from_string("Never"), IMAGE_PULL_NEVER);
        ck_assert_int_eq(image_pull_policy_from_string("IfNotPresent"), IMAGE_PULL_IF_NOT_PRESENT);
        ck_assert_int_eq(image_pull_policy_from_string("always"), -EINVAL);
        ck_assert_str_eq(image_pull_policy_to_string(IMAGE_PULL_ALWAYS), "Always");
}
END_TEST

static char *decode_auth_header(const char *h) {
        char cmdline[1024], *out = malloc(1024);
        FILE *p;
        size_t n;

        (void) snprintf(cmdline, sizeof cmdline, "echo '%s' | tr '_-' '/+' | base64 -d", h);
        p = popen(cmdline, "r");
        n = fread(out, 1, 1023, p);
        out[n] = '\0';
        pclose(p);
        return out;
}

START_TEST(test_registry_auth_from_auth_file) {
        char dir[] = "/tmp/test-podman-auth.XXXXXX";
        _cleanup_free_ char *path = NULL, *h = NULL, *json = NULL;
        /* "user:pa ss" and "hub:pw" in base64 */
        const char *auth = "{\"auths\":{\"quay.io/org\":{\"auth\":\"dXNlcjpwYSBzcw==\"},"
                           "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnB3\"}}}";
        Error e = ERROR_INIT;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        path = path_join(dir, "auth.json");
        ck_assert_int_eq(write_file_atomic(path, auth, strlen(auth), 0600), 0);
        setenv("REGISTRY_AUTH_FILE", path, 1);
        unsetenv("XDG_RUNTIME_DIR");
        setenv("HOME", dir, 1);

        ck_assert_int_eq(podman_registry_auth_header("quay.io/org/agent:1", &h, &e), 1);
        json = decode_auth_header(h);
        ck_assert(strstr(json, "\"username\":\"user\""));
        ck_assert(strstr(json, "\"password\":\"pa ss\""));
        ck_assert(strstr(json, "\"serveraddress\":\"quay.io\""));
        free(h);
        free(json);
        ck_assert_int_eq(podman_registry_auth_header("python:3.12", &h, &e), 1);
        json = decode_auth_header(h);
        ck_assert(strstr(json, "\"username\":\"hub\""));
        free(h);
        ck_assert_int_eq(podman_registry_auth_header("quay.io/other/x", &h, &e), 0);
        ck_assert_ptr_null(h);
        ck_assert_int_eq(podman_registry_auth_header("ghcr.io/x/y", &h, &e), 0);

        ck_assert_int_eq(write_file_atomic(path, "{}", 2, 0600), 0);
        ck_assert_int_eq(podman_registry_auth_header("ghcr.io/x/y", &h, &e), -EBADMSG);
        ck_assert(strstr(e.message, path));
        ck_assert_int_eq(podman_registry_auth_header("bad ref", &h, &e), -EINVAL);
        unlink(path);
        rmdir(dir);
}
END_TEST

static Suite *podman_suite(void) {
        Suite *s = suite_create("podman");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_demux_keeps_streams_apart_and_binary_exact);
        tcase_add_test(tc, test_demux_any_split_gives_the_same_bytes);
        tcase_add_test(tc, test_demux_rejects_bad_headers);
        tcase_add_test(tc, test_demux_detects_a_cut_frame);
        tcase_add_test(tc, test_demux_passes_on_a_consumer_error);
        tcase_add_test(tc, test_create_body_carries_limits_labels_and_hardening);
        tcase_add_test(tc, test_create_body_without_network_has_no_extra_hosts);
        tcase_add_test(tc, test_create_body_of_a_pooled_container);
        tcase_add_test(tc, test_create_body_leaves_host_gateway_to_an_engine_that_resolves_it);
        tcase_add_test(tc, test_create_body_host_names_loopback);
        tcase_add_test(tc, test_create_body_errors_name_the_field);
        tcase_add_test(tc, test_create_body_user_namespace);
        tcase_add_test(tc, test_limits_differ_names_what_does_not_hold);
        tcase_add_test(tc, test_container_name);
        tcase_add_test(tc, test_tar_is_readable_by_tar);
        tcase_add_test(tc, test_tar_refuses_bad_paths);
        tcase_add_test(tc, test_version_parse_detects_engine_and_what_it_supports);
        tcase_add_test(tc, test_stats_parse_v1_v2_and_zeros_as_unknown);
        tcase_add_test(tc, test_event_parse);
        tcase_add_test(tc, test_pull_policy_strings);
        tcase_add_test(tc, test_registry_auth_from_auth_file);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(podman_suite());
}
