/* podman-probe — drives the Podman client (src/shared/podman*.c) from the integration tests.
 *
 *   podman-probe SOCKET ping | version | gateway
 *   podman-probe SOCKET create|run EXEC ITER [key=value...] [-- cmd...]
 *   podman-probe SOCKET ensure REF POLICY [SECS] | start|stop|kill|remove|wait|inspect|logs|stats ID
 *   podman-probe SOCKET attach ID   (says "attached" on stderr once the engine is; output as logs)
 *   podman-probe SOCKET list [LABEL=VALUE...] | volume create|remove|inspect NAME [OPT=V...]
 *   podman-probe SOCKET concurrent N | events
 *
 * Prints results as "key=value" lines on stdout; on failure prints the Error's message on
 * stderr and exits 1 (2 for usage errors). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podman.h"
#include "util.h"

static int fail(const Error *e) {
        fprintf(stderr, "%s\n", e->message);
        return 1;
}

static int cmd_ping(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;

        if (podman_ping(c, 0, &e) < 0)
                return fail(&e);
        printf("ping=OK\n");
        return 0;
}

static int cmd_version(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;
        PodmanVersion v;

        if (podman_version(c, &v, &e) < 0)
                return fail(&e);
        printf("engine=%s\nversion=%s\napi=%s\nmajor=%u\nminor=%u\nresolves_host_gateway=%s\n",
               podman_engine_to_string(v.engine), v.version, v.api_version, v.major, v.minor,
               v.resolves_host_gateway ? "yes" : "no");
        return 0;
}

static int cmd_gateway(PodmanClient *c, int argc, char **argv) {
        char addr[PODMAN_ADDRESS_MAX];
        Error e = ERROR_INIT;

        if (podman_host_gateway_address(addr, &e) < 0)
                return fail(&e);
        printf("gateway=%s\n", addr);
        return 0;
}

/* --- container spec from key=value arguments --------------------------------------------- */

typedef struct Spec {
        PodmanContainerSpec spec;
        char **env, **cmd;
        PodmanMount mounts[8];
        char **mount_opts[8];
        char **mount_parts[8]; /* owns each mount's source, target and driver */
        PodmanFile files[8];
        char *file_paths[8]; /* owns each file's path */
        ImagePullPolicy policy;
        size_t max_bytes;
        const char *out, *err;
} Spec;

static void spec_done(Spec *s) {
        strv_free(s->env);
        strv_free(s->cmd);
        for (size_t i = 0; i < 8; i++) {
                strv_free(s->mount_opts[i]);
                strv_free(s->mount_parts[i]);
                free(s->file_paths[i]);
        }
}

/* exec iter [key=value...] [-- cmd...]; the caller calls spec_done() whatever this returns. */
static int spec_parse(Spec *s, int argc, char **argv) {
        int i;

        *s = (Spec){ .spec.image = "localhost/aegis-test-busybox:latest", .policy = IMAGE_PULL_NEVER };
        if (argc < 2 || safe_atou(argv[1], &s->spec.iteration) < 0)
                return -EINVAL;
        s->spec.execution_id = argv[0];
        for (i = 2; i < argc; i++) {
                const char *a = argv[i], *v;
                if (streq(a, "--")) {
                        for (i++; i < argc; i++)
                                if (strv_extend(&s->cmd, argv[i]) < 0)
                                        return -ENOMEM;
                        break;
                }
                if ((v = startswith(a, "image=")))
                        s->spec.image = v;
                else if ((v = startswith(a, "cpu="))) {
                        double d;
                        if (safe_atod(v, &d) < 0)
                                return -EINVAL;
                        s->spec.nano_cpus = (uint64_t) (d * 1e9);
                } else if ((v = startswith(a, "mem="))) {
                        if (parse_size(v, &s->spec.memory_bytes) < 0)
                                return -EINVAL;
                } else if ((v = startswith(a, "pids="))) {
                        if (safe_atou64(v, &s->spec.pids_limit) < 0)
                                return -EINVAL;
                } else if ((v = startswith(a, "env="))) {
                        if (strv_extend(&s->env, v) < 0)
                                return -ENOMEM;
                } else if ((v = startswith(a, "user=")))
                        s->spec.user = v;
                else if ((v = startswith(a, "workdir=")))
                        s->spec.workdir = v;
                else if ((v = startswith(a, "net=")))
                        s->spec.network_mode = v;
                else if ((v = startswith(a, "gateway=")))
                        s->spec.host_gateway = v;
                else if (streq(a, "ro=1"))
                        s->spec.read_only_rootfs = true;
                else if (streq(a, "keep=1"))
                        s->spec.keep_container_on_failure = true;
                else if ((v = startswith(a, "policy="))) {
                        int p = image_pull_policy_from_string(v);
                        if (p < 0)
                                return -EINVAL;
                        s->policy = p;
                } else if ((v = startswith(a, "max="))) {
                        uint64_t m;
                        if (parse_size(v, &m) < 0)
                                return -EINVAL;
                        s->max_bytes = m;
                } else if ((v = startswith(a, "out=")))
                        s->out = v;
                else if ((v = startswith(a, "err=")))
                        s->err = v;
                else if ((v = startswith(a, "file="))) {
                        /* file=/path:content */
                        const char *colon = strchr(v, ':');
                        PodmanFile *f = &s->files[s->spec.n_files];
                        if (!colon || s->spec.n_files >= 8)
                                return -EINVAL;
                        s->file_paths[s->spec.n_files] = strndup(v, colon - v);
                        if (!s->file_paths[s->spec.n_files])
                                return -ENOMEM;
                        *f = (PodmanFile){ .path = s->file_paths[s->spec.n_files],
                                           .data = colon + 1,
                                           .size = strlen(colon + 1) };
                        s->spec.n_files++;
                } else if ((v = startswith(a, "bind=")) || (v = startswith(a, "volume="))) {
                        /* bind=SRC:DST[:ro]  volume=NAME:DST[:ro][:driver:opt,opt] */
                        PodmanMount *m;
                        char **parts = NULL, *copy, *tok, *save = NULL;
                        size_t n;
                        if (s->spec.n_mounts >= 8)
                                return -EINVAL;
                        m = &s->mounts[s->spec.n_mounts];
                        copy = strdup(v);
                        if (!copy)
                                return -ENOMEM;
                        for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
                                (void) strv_extend(&parts, tok);
                        free(copy);
                        s->mount_parts[s->spec.n_mounts] = parts;
                        n = strv_length(parts);
                        if (n < 2)
                                return -EINVAL;
                        *m = (PodmanMount){ .type = startswith(a, "bind=") ? PODMAN_MOUNT_BIND
                                                                           : PODMAN_MOUNT_VOLUME,
                                            .source = parts[0],
                                            .target = parts[1] };
                        for (size_t k = 2; k < n; k++) {
                                if (streq(parts[k], "ro"))
                                        m->read_only = true;
                                else if (!m->driver)
                                        m->driver = parts[k];
                                else {
                                        char *o2 = strdup(parts[k]), *t2, *s2 = NULL;
                                        for (t2 = strtok_r(o2, ",", &s2); t2; t2 = strtok_r(NULL, ",", &s2))
                                                (void) strv_extend(&s->mount_opts[s->spec.n_mounts], t2);
                                        free(o2);
                                        m->driver_options = s->mount_opts[s->spec.n_mounts];
                                }
                        }
                        s->spec.n_mounts++;
                } else
                        return -EINVAL;
        }
        s->spec.env = s->env;
        s->spec.cmd = s->cmd;
        s->spec.mounts = s->mounts;
        s->spec.files = s->files;
        return 0;
}

static int write_file(const char *path, const char *data, size_t size) {
        FILE *f;

        if (!path)
                return 0;
        f = fopen(path, "we");
        if (!f || fwrite(data ? data : "", 1, size, f) != size) {
                if (f)
                        fclose(f);
                return -EIO;
        }
        return fclose(f) == 0 ? 0 : -EIO;
}

static int cmd_create(PodmanClient *c, int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        Error e = ERROR_INIT;
        Spec s;
        int r;

        if (spec_parse(&s, argc, argv) < 0) {
                spec_done(&s);
                fprintf(stderr, "bad spec arguments\n");
                return 2;
        }
        r = podman_container_create(c, &s.spec, &id, &e);
        spec_done(&s);
        if (r < 0)
                return fail(&e);
        printf("id=%s\n", id);
        return 0;
}

static void print_progress(const PodmanPullProgress *p, void *userdata) {
        printf("progress=%s %s %" PRIu64 "/%" PRIu64 " bytes %u/%u layers\n", p->status, p->layer,
               p->bytes_done, p->bytes_total, p->layers_done, p->layers_total);
}

/* ensure → create → wait (issued first) → start → wait returns → logs → remove. */
static int cmd_run(PodmanClient *c, int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        PodmanLogOptions lo = { 0 };
        PodmanLogs logs = { 0 };
        Error e = ERROR_INIT;
        int64_t code = -1;
        Spec s;
        int r;

        if (spec_parse(&s, argc, argv) < 0) {
                spec_done(&s);
                fprintf(stderr, "bad spec arguments\n");
                return 2;
        }
        r = podman_image_ensure(c, s.spec.image, s.policy, 60 * USEC_PER_SEC, print_progress, NULL, NULL,
                                &e);
        if (r >= 0)
                r = podman_container_create(c, &s.spec, &id, &e);
        if (r >= 0) {
                r = podman_container_wait_start(c, id, 60 * USEC_PER_SEC, &code, &e);
        }
        if (r >= 0) {
                lo.max_bytes = s.max_bytes;
                r = podman_container_logs(c, id, &lo, &logs, &e);
        }
        if (id && !s.spec.keep_container_on_failure) {
                Error e2 = ERROR_INIT;
                if (podman_container_remove(c, id, &e2) < 0)
                        fprintf(stderr, "remove: %s\n", e2.message);
        }
        spec_done(&s);
        if (r < 0)
                return fail(&e);
        printf("id=%s\nexit=%" PRIi64 "\nout_size=%zu\nerr_size=%zu\nout_total=%" PRIu64
               "\nerr_total=%" PRIu64 "\nout_truncated=%d\nerr_truncated=%d\n",
               id, code, logs.out_size, logs.err_size, logs.out_total, logs.err_total, logs.out_truncated,
               logs.err_truncated);
        r = write_file(s.out, logs.out, logs.out_size);
        if (r >= 0)
                r = write_file(s.err, logs.err, logs.err_size);
        podman_logs_done(&logs);
        return r < 0 ? 1 : 0;
}

static int cmd_ensure(PodmanClient *c, int argc, char **argv) {
        PodmanImage img = { 0 };
        Error e = ERROR_INIT;
        uint64_t secs = 60;
        int p;

        if (argc < 2 || (p = image_pull_policy_from_string(argv[1])) < 0 ||
            (argc > 2 && safe_atou64(argv[2], &secs) < 0))
                return 2;
        if (podman_image_ensure(c, argv[0], p, secs * USEC_PER_SEC, print_progress, NULL, &img, &e) < 0)
                return fail(&e);
        printf("image=%s\n", img.id);
        podman_image_done(&img);
        return 0;
}

static int cmd_verb(PodmanClient *c, int argc, char **argv, const char *verb) {
        Error e = ERROR_INIT;
        int r = -EINVAL;

        if (argc < 1)
                return 2;
        if (streq(verb, "start"))
                r = podman_container_start(c, argv[0], &e);
        else if (streq(verb, "stop"))
                r = podman_container_stop(c, argv[0], argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 5,
                                          &e);
        else if (streq(verb, "kill"))
                r = podman_container_kill(c, argv[0], argc > 1 ? argv[1] : NULL, &e);
        else if (streq(verb, "remove"))
                r = podman_container_remove(c, argv[0], &e);
        if (r < 0)
                return fail(&e);
        printf("%s=ok\n", verb);
        return 0;
}

static int cmd_start(PodmanClient *c, int argc, char **argv) {
        return cmd_verb(c, argc, argv, "start");
}
static int cmd_stop(PodmanClient *c, int argc, char **argv) {
        return cmd_verb(c, argc, argv, "stop");
}
static int cmd_kill(PodmanClient *c, int argc, char **argv) {
        return cmd_verb(c, argc, argv, "kill");
}
static int cmd_remove(PodmanClient *c, int argc, char **argv) {
        return cmd_verb(c, argc, argv, "remove");
}

static int cmd_wait(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;
        int64_t code;

        if (argc < 1)
                return 2;
        if (podman_container_wait(c, argv[0], 60 * USEC_PER_SEC, &code, &e) < 0)
                return fail(&e);
        printf("exit=%" PRIi64 "\n", code);
        return 0;
}

static void print_container(const PodmanContainer *ct) {
        printf("id=%s\nname=%s\nstatus=%s\nrunning=%d\nexit=%" PRIi64 "\noom=%d\nmanaged=%d\nexecution=%s\n"
               "iteration=%u\nkeep=%d\ncreated=%" PRIu64 "\nfinished=%" PRIu64 "\n",
               ct->id, strempty(ct->name), podman_container_status_to_string(ct->status), ct->running,
               ct->exit_code, ct->oom_killed, ct->managed, strempty(ct->execution_id), ct->iteration,
               ct->keep_container_on_failure, ct->created_usec, ct->finished_usec);
        for (size_t i = 0; ct->labels && ct->labels[i]; i++)
                printf("label=%s\n", ct->labels[i]);
}

static int cmd_inspect(PodmanClient *c, int argc, char **argv) {
        PodmanContainer ct;
        Error e = ERROR_INIT;

        if (argc < 1)
                return 2;
        if (podman_container_inspect(c, argv[0], &ct, &e) < 0)
                return fail(&e);
        print_container(&ct);
        podman_container_done(&ct);
        return 0;
}

static int cmd_list(PodmanClient *c, int argc, char **argv) {
        PodmanContainer *cts;
        Error e = ERROR_INIT;
        size_t n;

        if (podman_container_list(c, argc > 0 ? argv : NULL, &cts, &n, &e) < 0)
                return fail(&e);
        for (size_t i = 0; i < n; i++)
                printf("%s %s %s %s\n", cts[i].id, strempty(cts[i].name), strempty(cts[i].execution_id),
                       podman_container_status_to_string(cts[i].status));
        podman_container_list_free(cts, n);
        return 0;
}

/* The container's stdout on ours, its stderr on ours. */
static int print_logs(PodmanClient *c, const char *id, const PodmanLogOptions *lo) {
        PodmanLogs logs;
        Error e = ERROR_INIT;

        if (podman_container_logs(c, id, lo, &logs, &e) < 0)
                return fail(&e);
        fwrite(logs.out, 1, logs.out_size, stdout);
        fwrite(logs.err, 1, logs.err_size, stderr);
        podman_logs_done(&logs);
        return 0;
}

static int cmd_logs(PodmanClient *c, int argc, char **argv) {
        PodmanLogOptions lo = { 0 };
        uint64_t m = 0;

        if (argc < 1 || (argc > 1 && parse_size(argv[1], &m) < 0))
                return 2;
        lo.max_bytes = m;
        return print_logs(c, argv[0], &lo);
}

static void on_probe_attached(void *userdata) {
        fputs("attached\n", stderr);
        fflush(stderr);
}

static int cmd_attach(PodmanClient *c, int argc, char **argv) {
        PodmanLogOptions lo = { .attach = true, .on_attached = on_probe_attached };

        if (argc != 1)
                return 2;
        return print_logs(c, argv[0], &lo);
}

static void print_known(const char *name, bool known, uint64_t v) {
        if (known)
                printf("%s=%" PRIu64 "\n", name, v);
        else
                printf("%s=unknown\n", name);
}

static int cmd_stats(PodmanClient *c, int argc, char **argv) {
        PodmanStats st;
        Error e = ERROR_INIT;

        if (argc < 1)
                return 2;
        if (podman_container_stats(c, argv[0], &st, &e) < 0)
                return fail(&e);
        print_known("cpu_nsec", st.cpu_known, st.cpu_usage_nsec);
        print_known("memory", st.memory_known, st.memory_bytes);
        print_known("memory_limit", st.memory_limit_known, st.memory_limit_bytes);
        print_known("pids", st.pids_known, st.pids);
        return 0;
}

static int cmd_volume(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;
        char **opts = NULL;
        int r;

        if (argc < 2)
                return 2;
        if (streq(argv[0], "create"))
                r = podman_volume_create(c, argv[1], "local", argv + 2, NULL, &e);
        else if (streq(argv[0], "remove"))
                r = podman_volume_remove(c, argv[1], &e);
        else {
                r = podman_volume_inspect(c, argv[1], &opts, &e);
                if (r >= 0) {
                        printf("exists=%d\n", r);
                        for (size_t i = 0; opts && opts[i]; i++)
                                printf("option=%s\n", opts[i]);
                }
                strv_free(opts);
        }
        if (r < 0)
                return fail(&e);
        printf("volume=ok\n");
        return 0;
}

#include "podman-probe-async.h"

static const struct {
        const char *name;
        int (*run)(PodmanClient *c, int argc, char **argv);
} commands[] = {
        { "ping", cmd_ping },     { "version", cmd_version }, { "gateway", cmd_gateway },
        { "create", cmd_create }, { "run", cmd_run },         { "ensure", cmd_ensure },
        { "start", cmd_start },   { "stop", cmd_stop },       { "kill", cmd_kill },
        { "remove", cmd_remove }, { "wait", cmd_wait },       { "inspect", cmd_inspect },
        { "list", cmd_list },     { "logs", cmd_logs },       { "attach", cmd_attach },
        { "stats", cmd_stats },   { "volume", cmd_volume },   { "concurrent", cmd_concurrent },
        { "events", cmd_events },
};

int main(int argc, char **argv) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        size_t i;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: %s SOCKET COMMAND [ARGS...]\n", argv[0]);
                return 2;
        }
        r = podman_client_new(argv[1], NULL, &c);
        if (r < 0) {
                fprintf(stderr, "cannot create a client for %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        for (i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, argv[2]))
                        return commands[i].run(c, argc - 3, argv + 3);
        fprintf(stderr, "unknown command %s\n", argv[2]);
        return 2;
}
