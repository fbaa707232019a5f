/* bootstrap-exec.c — runs one "exec" dispatch inside the container and builds its result.
 *
 * What must stay true:
 * - args given → execvp(command, [command, args…]): no shell ever sees the arguments;
 *   no args → "/bin/sh -c command" when the image has /bin/sh, else the command split on
 *   whitespace (distroless images have no shell).
 * - The command runs in a session (and process group) of its own; at timeout_secs the
 *   whole group gets SIGKILL and the result says so (exit code 124).
 * - stdout and stderr are read separately with poll() and never block the command: each
 *   stream keeps at most max_output_bytes, its first and its last half, and the result
 *   says how many bytes between them were dropped.
 * - The environment is the bootstrap's own (its AEGIS_* variables already removed by
 *   main) plus env_additions: the iteration's capability never reaches a command.
 * - The strings in the result are valid UTF-8 (invalid bytes become U+FFFD). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "fs-tools-core.h"
#include "macros.h"

#define DEFAULT_TIMEOUT_SECS 60
#define DEFAULT_MAX_OUTPUT (1024u * 1024)
#define MAX_OUTPUT_CAP (8u * 1024 * 1024)
#define EXIT_TIMED_OUT 124
/* After the SIGKILL, how long pipes held by processes outside the group are still read. */
#define DRAIN_GRACE_MS 500

/* The pid of the running command's group, for the SIGTERM handler (aegis-bootstrap.c). */
volatile pid_t bs_running_group = 0;

/* One output stream: its first `half` bytes, and a ring of its last `cap - half`. */
typedef struct Capture {
        const char *name;
        size_t cap, head_cap;
        char *head;
        size_t head_len;
        char *ring;
        size_t ring_cap, ring_pos, ring_len;
        uint64_t total;
} Capture;

static int capture_init(Capture *c, const char *name, size_t cap) {
        *c = (Capture){ .name = name, .cap = cap, .head_cap = cap / 2, .ring_cap = cap - cap / 2 };
        c->head = malloc(c->head_cap + 1);
        c->ring = malloc(c->ring_cap + 1);
        return c->head && c->ring ? 0 : -ENOMEM;
}

static void capture_done(Capture *c) {
        free(c->head);
        free(c->ring);
}

static void capture_add(Capture *c, const char *p, size_t n) {
        size_t k = MIN(n, c->head_cap - c->head_len);

        c->total += n;
        memcpy(c->head + c->head_len, p, k);
        c->head_len += k;
        p += k;
        n -= k;
        if (c->ring_cap == 0)
                return;
        if (n > c->ring_cap) {
                p += n - c->ring_cap;
                n = c->ring_cap;
        }
        while (n > 0) {
                size_t at = (c->ring_pos + c->ring_len) % c->ring_cap, room;

                if (c->ring_len == c->ring_cap) { /* full: overwrite the oldest byte */
                        at = c->ring_pos;
                        room = MIN(n, c->ring_cap - at);
                        memcpy(c->ring + at, p, room);
                        c->ring_pos = (c->ring_pos + room) % c->ring_cap;
                } else {
                        room = MIN(n, MIN(c->ring_cap - at, c->ring_cap - c->ring_len));
                        memcpy(c->ring + at, p, room);
                        c->ring_len += room;
                }
                p += room;
                n -= room;
        }
}

/* The stream as one valid UTF-8 string; when over the bound, head + a marker + tail.
 * Sets *truncated when bytes were dropped. */
static json_object *capture_string(Capture *c, bool *truncated) {
        size_t tail_len = c->ring_len, head_len = c->head_len, len, out_len, start;
        char *tail = malloc(tail_len + 1), *joined, *out;
        json_object *s;

        if (!tail)
                return NULL;
        /* The ring in order, oldest byte first. */
        start = c->ring_cap ? c->ring_pos : 0;
        for (size_t i = 0; i < tail_len; i++)
                tail[i] = c->ring[(start + i) % c->ring_cap];

        joined = malloc(head_len + tail_len + 256);
        if (!joined) {
                free(tail);
                return NULL;
        }
        if (c->total <= c->cap) {
                memcpy(joined, c->head, head_len);
                memcpy(joined + head_len, tail, tail_len);
                len = head_len + tail_len;
        } else {
                size_t h = fs_utf8_head_cut(c->head, head_len), t0 = bs_utf8_tail_start(tail, tail_len);
                uint64_t dropped = c->total - h - (tail_len - t0);
                int n;

                memcpy(joined, c->head, h);
                n = snprintf(joined + h, 256,
                             "\n[aegis-bootstrap: %s was %" PRIu64 " bytes, over max_output_bytes (%zu): "
                             "%" PRIu64 " bytes between the first %zu and the last %zu were dropped]\n",
                             c->name, c->total, c->cap, dropped, h, tail_len - t0);
                n = MAX(MIN(n, 255), 0);
                memcpy(joined + h + (size_t) n, tail + t0, tail_len - t0);
                len = h + (size_t) n + tail_len - t0;
                *truncated = true;
        }
        free(tail);
        out = bs_utf8_sanitize(joined, len, &out_len);
        free(joined);
        if (!out)
                return NULL;
        s = json_object_new_string_len(out, (int) out_len);
        free(out);
        return s;
}

static const char *dispatch_string(json_object *d, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(d, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t dispatch_int(json_object *d, const char *key, int64_t def) {
        json_object *v;

        if (!json_object_object_get_ex(d, key, &v) ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return def;
        return json_object_get_int64(v);
}

static json_object *result_new(json_object *d, const char *execution_id, int exit_code, json_object *out,
                               json_object *err, uint64_t duration_ms, bool truncated) {
        const char *id = dispatch_string(d, "dispatch_id");
        json_object *r = json_object_new_object();

        json_object_object_add(r, "type", json_object_new_string("dispatch_result"));
        json_object_object_add(r, "execution_id", json_object_new_string(execution_id));
        json_object_object_add(r, "dispatch_id", json_object_new_string(id ? id : ""));
        json_object_object_add(r, "exit_code", json_object_new_int(exit_code));
        json_object_object_add(r, "stdout", out ? out : json_object_new_string(""));
        json_object_object_add(r, "stderr", err ? err : json_object_new_string(""));
        json_object_object_add(r, "duration_ms", json_object_new_int64((int64_t) duration_ms));
        json_object_object_add(r, "truncated", json_object_new_boolean(truncated));
        return r;
}

/* A result for a command that never started. */
static json_object *result_not_started(json_object *d, const char *execution_id, int exit_code,
                                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static json_object *result_not_started(json_object *d, const char *execution_id, int exit_code,
                                       const char *fmt, ...) {
        char msg[1024];
        size_t len;
        va_list ap;
        char *clean;
        json_object *err;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        clean = bs_utf8_sanitize(msg, strlen(msg), &len);
        err = json_object_new_string(clean ? clean : "aegis-bootstrap: cannot run the command");
        free(clean);
        return result_new(d, execution_id, exit_code, NULL, err, 0, false);
}

/* argv for the command: NULL-terminated, pointing into the dispatch object or into *ret_buf. */
static int build_argv(json_object *d, const char *command, char ***ret_argv, char **ret_buf) {
        json_object *args = NULL;
        size_t n = 0, i;
        char **argv;

        if (json_object_object_get_ex(d, "args", &args) && json_object_is_type(args, json_type_array))
                n = json_object_array_length(args);
        if (n > 0) {
                argv = calloc(n + 2, sizeof(char *));
                if (!argv)
                        return -ENOMEM;
                argv[0] = (char *) command;
                for (i = 0; i < n; i++) {
                        json_object *a = json_object_array_get_idx(args, i);

                        if (!json_object_is_type(a, json_type_string)) {
                                free(argv);
                                return -EINVAL;
                        }
                        argv[i + 1] = (char *) json_object_get_string(a);
                }
                *ret_argv = argv;
                *ret_buf = NULL;
                return 0;
        }
        if (access("/bin/sh", X_OK) == 0) {
                argv = calloc(4, sizeof(char *));
                if (!argv)
                        return -ENOMEM;
                argv[0] = (char *) "/bin/sh";
                argv[1] = (char *) "-c";
                argv[2] = (char *) command;
                *ret_argv = argv;
                *ret_buf = NULL;
                return 0;
        }
        /* No shell in the image: whitespace separates the words, nothing else is special. */
        {
                char *buf = strdup(command), *p;
                size_t words = 0;

                if (!buf)
                        return -ENOMEM;
                argv = calloc(strlen(buf) / 2 + 2, sizeof(char *));
                if (!argv) {
                        free(buf);
                        return -ENOMEM;
                }
                for (p = buf; *p;) {
                        while (*p && strchr(" \t\n\r\f\v", *p))
                                *p++ = 0;
                        if (!*p)
                                break;
                        argv[words++] = p;
                        while (*p && !strchr(" \t\n\r\f\v", *p))
                                p++;
                }
                if (words == 0) {
                        free(argv);
                        free(buf);
                        return -ENOEXEC;
                }
                *ret_argv = argv;
                *ret_buf = buf;
                return 0;
        }
}

/* In the child, between fork and exec: never returns. Errors go to the stderr pipe. */
static void child_main(json_object *d, char **argv, const char *cwd, int in_fd, int out_fd, int err_fd)
        __attribute__((noreturn));
static void child_main(json_object *d, char **argv, const char *cwd, int in_fd, int out_fd, int err_fd) {
        json_object *env;
        sigset_t none;

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_DFL);
        (void) signal(SIGTERM, SIG_DFL);
        (void) signal(SIGINT, SIG_DFL);
        (void) setsid();
        if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
                _exit(126);
        if (json_object_object_get_ex(d, "env_additions", &env) &&
            json_object_is_type(env, json_type_object)) {
                json_object_object_foreach (env, key, val) {
                        if (!*key || strchr(key, '='))
                                continue;
                        (void) setenv(key,
                                      json_object_is_type(val, json_type_null) ? ""
                                                                               : json_object_get_string(val),
                                      1);
                }
        }
        if (chdir(cwd) < 0) {
                dprintf(2, "aegis-bootstrap: cannot change to the working directory %s: %s\n", cwd,
                        strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        execvp(argv[0], argv);
        dprintf(2, "aegis-bootstrap: cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

static int set_nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);

        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* Reads what a pipe has; false once it reached its end (or failed). */
static bool pump(int fd, Capture *c) {
        char buf[65536];

        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k > 0) {
                        capture_add(c, buf, (size_t) k);
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                return k < 0 && errno == EAGAIN;
        }
}

json_object *bs_run_dispatch(json_object *d, const char *execution_id) {
        const char *action = dispatch_string(d, "action"), *command = dispatch_string(d, "command");
        const char *cwd = dispatch_string(d, "cwd"), *stdin_text = dispatch_string(d, "stdin");
        int64_t timeout_secs = dispatch_int(d, "timeout_secs", DEFAULT_TIMEOUT_SECS);
        int64_t max_output = dispatch_int(d, "max_output_bytes", DEFAULT_MAX_OUTPUT);
        int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, in_pipe[2] = { -1, -1 };
        bool out_open = true, err_open = true, exited = false, timed_out = false, truncated = false;
        size_t stdin_len = 0, stdin_off = 0;
        uint64_t start = bs_now_ms(), deadline, kill_at = 0;
        Capture out, err;
        char **argv = NULL, *argv_buf = NULL;
        json_object *jout, *jerr, *result;
        int status = 0, sfd = bs_sigchld_fd(), k;
        struct stat st;
        pid_t pid;

        if (action && strcmp(action, "fs") == 0)
                return bs_run_fs_dispatch(d, execution_id);
        if (!action || strcmp(action, "exec") != 0) {
                bs_log("dispatch %s: unknown action \"%s\", reported back as exit code -1",
                       dispatch_string(d, "dispatch_id") ?: "?", action ?: "");
                return result_not_started(d, execution_id, -1, "unknown_action:%s", action ?: "");
        }
        if (!command || !*command)
                return result_not_started(d, execution_id, 127,
                                          "aegis-bootstrap: the dispatch has no command to run");
        if (!cwd || !*cwd)
                cwd = "/workspace";
        if (stat(cwd, &st) < 0)
                return result_not_started(
                        d, execution_id, errno == ENOENT ? 127 : 126,
                        "aegis-bootstrap: cannot run the command: the working directory %s: %s", cwd,
                        errno == ENOENT ? "does not exist" : strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return result_not_started(d, execution_id, 126,
                                          "aegis-bootstrap: cannot run the command: the working directory "
                                          "%s is not a directory",
                                          cwd);
        if (timeout_secs <= 0)
                timeout_secs = DEFAULT_TIMEOUT_SECS;
        if (max_output <= 0)
                max_output = DEFAULT_MAX_OUTPUT;
        if (max_output > MAX_OUTPUT_CAP)
                max_output = MAX_OUTPUT_CAP;

        k = build_argv(d, command, &argv, &argv_buf);
        if (k == -EINVAL)
                return result_not_started(d, execution_id, 127,
                                          "aegis-bootstrap: the dispatch's args must be strings");
        if (k == -ENOEXEC)
                return result_not_started(d, execution_id, 127, "aegis-bootstrap: the command is empty");
        if (k < 0 || capture_init(&out, "stdout", (size_t) max_output) < 0 ||
            capture_init(&err, "stderr", (size_t) max_output) < 0) {
                free(argv);
                free(argv_buf);
                return result_not_started(d, execution_id, 126, "aegis-bootstrap: out of memory");
        }

        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
            (stdin_text ? pipe2(in_pipe, O_CLOEXEC)
                        : (in_pipe[0] = open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0) {
                k = errno;
                result = result_not_started(d, execution_id, 126, "aegis-bootstrap: cannot make pipes: %s",
                                            strerror(k));
                goto out;
        }
        if (stdin_text)
                stdin_len = strlen(stdin_text);

        pid = fork();
        if (pid < 0) {
                k = errno;
                result = result_not_started(d, execution_id, 126, "aegis-bootstrap: cannot fork: %s",
                                            strerror(k));
                goto out;
        }
        if (pid == 0)
                child_main(d, argv, cwd, in_pipe[0], out_pipe[1], err_pipe[1]);
        (void) setpgid(pid, pid); /* the child does it too (setsid): whoever runs first */
        bs_running_group = pid;
        close(out_pipe[1]);
        close(err_pipe[1]);
        close(in_pipe[0]);
        out_pipe[1] = err_pipe[1] = in_pipe[0] = -1;
        (void) set_nonblock(out_pipe[0]);
        (void) set_nonblock(err_pipe[0]);
        if (in_pipe[1] >= 0) {
                (void) set_nonblock(in_pipe[1]);
                if (stdin_len == 0)
                        in_pipe[1] = safe_close(in_pipe[1]);
        }

        deadline = start + (uint64_t) timeout_secs * 1000u;
        /* Until the command exited and both pipes reached their end; a pipe still held open
         * by something the command started ends at the deadline too. */
        while (!exited || out_open || err_open) {
                struct pollfd p[4];
                uint64_t now = bs_now_ms(), until;
                int np = 0, i_out = -1, i_err = -1, i_in = -1, i_sig = -1;

                if (!kill_at && now >= deadline) {
                        timed_out = !exited;
                        (void) kill(-pid, SIGKILL);
                        kill_at = now;
                        in_pipe[1] = safe_close(in_pipe[1]);
                }
                if (kill_at && exited && now >= kill_at + DRAIN_GRACE_MS)
                        break; /* processes that left the group hold the pipes: stop reading */
                until = kill_at ? kill_at + DRAIN_GRACE_MS : deadline;
                if (out_open) {
                        p[np] = (struct pollfd){ .fd = out_pipe[0], .events = POLLIN };
                        i_out = np++;
                }
                if (err_open) {
                        p[np] = (struct pollfd){ .fd = err_pipe[0], .events = POLLIN };
                        i_err = np++;
                }
                if (in_pipe[1] >= 0) {
                        p[np] = (struct pollfd){ .fd = in_pipe[1], .events = POLLOUT };
                        i_in = np++;
                }
                if (!exited && sfd >= 0) {
                        p[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
                        i_sig = np++;
                }
                k = poll(p, (nfds_t) np, until > now ? (int) MIN(until - now, 1000u) : 0);
                if (k < 0 && errno != EINTR)
                        break;
                if (i_out >= 0 && p[i_out].revents)
                        out_open = pump(out_pipe[0], &out);
                if (i_err >= 0 && p[i_err].revents)
                        err_open = pump(err_pipe[0], &err);
                if (i_in >= 0 && p[i_in].revents) {
                        ssize_t w = write(in_pipe[1], stdin_text + stdin_off, stdin_len - stdin_off);

                        if (w > 0)
                                stdin_off += (size_t) w;
                        if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_off == stdin_len)
                                in_pipe[1] = safe_close(in_pipe[1]);
                }
                if ((i_sig >= 0 && p[i_sig].revents) || sfd < 0)
                        exited = bs_reap(pid, &status) || exited;
        }
        if (!exited) {
                (void) kill(-pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        bs_running_group = 0;
        (void) bs_reap(-1, &k); /* orphans re-parented to us (PID 1) */

        jout = capture_string(&out, &truncated);
        jerr = capture_string(&err, &truncated);
        if (kill_at && jerr) {
                char note[256];
                const char *prev = json_object_get_string(jerr);
                size_t plen = (size_t) json_object_get_string_len(jerr);
                char *joined;

                if (timed_out)
                        snprintf(note, sizeof(note),
                                 "aegis-bootstrap: the command timed out after %" PRId64
                                 " s; its process group was killed",
                                 timeout_secs);
                else
                        snprintf(note, sizeof(note),
                                 "aegis-bootstrap: the command exited, but processes it "
                                 "started kept its output open until the timeout (%" PRId64
                                 " s) and were killed",
                                 timeout_secs);
                joined = malloc(plen + strlen(note) + 2);
                if (joined) {
                        memcpy(joined, prev, plen);
                        joined[plen] = 0;
                        if (plen > 0 && prev[plen - 1] != '\n')
                                joined[plen++] = '\n', joined[plen] = 0;
                        memcpy(joined + plen, note, strlen(note) + 1);
                        json_object_put(jerr);
                        jerr = json_object_new_string(joined);
                        free(joined);
                }
        }
        result = result_new(d, execution_id, timed_out ? EXIT_TIMED_OUT : bs_exit_code(status), jout, jerr,
                            bs_now_ms() - start, truncated);
out:
        safe_close(out_pipe[0]);
        safe_close(out_pipe[1]);
        safe_close(err_pipe[0]);
        safe_close(err_pipe[1]);
        safe_close(in_pipe[0]);
        safe_close(in_pipe[1]);
        capture_done(&out);
        capture_done(&err);
        free(argv);
        free(argv_buf);
        return result;
}
