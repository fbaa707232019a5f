/* aegis-bootstrap.c — the container's side of the inner loop (aegis-bootstrap(8)).
 *
 * aegisd copies this static program into every inner-loop container and runs it as the
 * container's command. It posts "generate" to aegisd's dispatch gateway over the unix
 * socket aegisd mounts into the container, runs each "exec" dispatch the answer carries
 * (bootstrap-exec.c), posts its result, and prints the final content on stdout.
 *
 * What must stay true:
 * - stdout carries the final content, byte for byte, and nothing else.
 * - A request that fails in transport is sent again, the same bytes, with backoff, for up
 *   to AEGIS_LLM_TIMEOUT_SECONDS + 60 s: aegisd answers a repeated request idempotently, so
 *   an aegisd restart costs the loop nothing. An answer with an error status is final.
 * - The capability (in AEGIS_ORCHESTRATOR_URL) reaches no command: every AEGIS_* variable
 *   is removed from the environment, and wiped from the memory /proc/1/environ shows,
 *   before the first command runs; the process is not dumpable, so a command running as
 *   the same user cannot read it from /proc/1/mem either.
 * - With --relay, the program is a byte pipe from 127.0.0.1:PORT to the socket for a
 *   client of the reference's protocol, and exits with that client's status.
 * - With --egress PORT:SOCKET, the same pipe to aegisd's egress proxy (a filtered
 *   network_policy: the container has no other way out).
 * - With --env-file PATH -- PROG [ARGS...], the environment an iteration gives its command
 *   (NUL-separated NAME=value entries, written by aegisd before start into a warm pool's
 *   container, created before the iteration was known) is set, and PROG is exec'd in this
 *   process, with the signal mask and dispositions it was given: nothing of this program
 *   remains. A file that cannot be read fails the container (exit 125): the command never
 *   runs without its iteration's identity. When the file carries AEGIS_EXIT_REPORT (a
 *   nonce, exit-report.h), that entry reaches no command, the file is emptied, and PROG
 *   runs as a child instead, whose exit is reported on stdout and stderr
 *   (bootstrap-report.c): aegisd learns it without waiting for the engine.
 * - With --wait-for MARKER as well (a warm pool's container started ahead), nothing happens
 *   until MARKER exists: the program blocks on inotify (and looks again each second, should
 *   the engine write past inotify), prints nothing, and ends quietly (143) on SIGTERM or
 *   SIGINT, which it otherwise ignores as PID 1; once MARKER is there (aegisd uploads it
 *   last, after the env file), the env file is read and PROG exec'd as above, with the
 *   dispositions this program was given. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "exit-report.h"
#include "macros.h"

#define DEFAULT_SOCKET "/run/aegis/gateway/dispatch.sock"
#define DEFAULT_PROMPT_FILE "/run/aegis/prompt.txt"
#define DEFAULT_LLM_TIMEOUT 300
#define RETRY_EXTRA_SECS 60
#define GATEWAY_ROUTE "/v1/dispatch-gateway"
#define MAX_PROMPT_BYTES (16u * 1024 * 1024)

extern volatile pid_t bs_running_group;

typedef struct Config {
        char *socket_path;
        char *request_path; /* the URL's path + /v1/dispatch-gateway */
        char *execution_id, *agent_id, *model_alias;
        long iteration;
        unsigned llm_timeout;
        const char *prompt_file;
} Config;

static void help(void) {
        printf("Usage: aegis-bootstrap [--prompt-file PATH]\n"
               "       aegis-bootstrap --relay PORT -- PROG [ARGS...]\n"
               "       aegis-bootstrap --egress PORT:SOCKET -- PROG [ARGS...]\n"
               "       aegis-bootstrap --env-file PATH -- PROG [ARGS...]\n\n"
               "The container's side of the AEGIS inner loop: asks aegisd's dispatch gateway to\n"
               "generate, runs the commands it dispatches, prints the final content on stdout.\n"
               "aegisd copies it into each inner-loop container; see aegis-bootstrap(8).\n\n"
               "  --prompt-file PATH  the rendered prompt (default " DEFAULT_PROMPT_FILE ")\n"
               "  --relay PORT        forward 127.0.0.1:PORT to the gateway socket, run PROG\n"
               "                      with ARGS and exit with its status\n"
               "  --egress PORT:SOCKET  the same for aegisd's egress proxy at SOCKET (no resend)\n"
               "  --env-file PATH     set the NUL-separated NAME=value entries of PATH, exec PROG\n"
               "  --wait-for MARKER   with --env-file: first wait, silently, until MARKER exists\n"
               "  --help              show this help\n"
               "  --version           show the version\n");
}

static void sigterm_handler(int sig) {
        pid_t g = bs_running_group;

        if (g > 0)
                (void) kill(-g, SIGKILL);
        _exit(128 + sig);
}

#define ENV_FILE_MAX (4u * 1024 * 1024)
#define EXIT_ENV_FILE 125

/* --env-file: sets every NAME=value entry of path (NUL-separated; a missing final NUL is
 * allowed). -errno when it cannot be read or holds something else. */
static int load_env_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf, *p, *end;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(ENV_FILE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, ENV_FILE_MAX + 1, f);
        if (ferror(f) || n > ENV_FILE_MAX) {
                fclose(f);
                free(buf);
                return n > ENV_FILE_MAX ? -E2BIG : -EIO;
        }
        fclose(f);
        buf[n] = '\0';
        for (p = buf, end = buf + n; p < end; p += strlen(p) + 1) {
                char *eq = strchr(p, '=');
                if (*p == '\0')
                        continue;
                if (!eq || eq == p) {
                        free(buf);
                        return -EBADMSG;
                }
                *eq = '\0';
                if (setenv(p, eq + 1, 1) < 0) {
                        int k = -errno;
                        free(buf);
                        return k;
                }
                *eq = '=';
        }
        free(buf);
        return 0;
}

/* --env-file: the exit report nonce the file gave (exit-report.h), taken out of the
 * environment whatever the mode, so that no command sees it. > 0 when the command's exit is
 * to be reported (wanted: PROG runs under this program, not --relay or --egress): the nonce
 * is valid and the file, which the command could read, is emptied first (with this process
 * not dumpable, the command cannot read the nonce from memory either); 0 otherwise. */
static int take_exit_report_nonce(const char *env_file, bool wanted, char ret[EXIT_REPORT_NONCE_LEN + 1]) {
        const char *v = getenv(EXIT_REPORT_ENV);
        bool valid = wanted && exit_report_nonce_valid(v);

        if (valid)
                memcpy(ret, v, EXIT_REPORT_NONCE_LEN + 1);
        (void) unsetenv(EXIT_REPORT_ENV); /* fails only for a malformed name */
        if (!valid)
                return 0;
        if (truncate(env_file, 0) < 0) {
                bs_log("cannot empty %s: %s (the exit is not reported early)", env_file, strerror(errno));
                return 0;
        }
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        return 1;
}

static void wait_signal_handler(int sig) {
        _exit(128 + sig);
}

/* --wait-for: returns once marker exists (0), or -errno when it cannot be watched. SIGTERM and
 * SIGINT end the process meanwhile (a pooled container is stopped quickly, though PID 1);
 * their dispositions are restored before returning. */
static int wait_for_marker(const char *marker) {
        struct sigaction sa = { .sa_handler = wait_signal_handler }, old_term, old_int;
        char dir[PATH_MAX], buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        const char *slash = strrchr(marker, '/');
        struct stat st;
        int fd, r = 0;

        if (!slash || slash == marker || (size_t) (slash - marker) >= sizeof dir)
                return -EINVAL;
        memcpy(dir, marker, (size_t) (slash - marker));
        dir[slash - marker] = '\0';
        if (sigaction(SIGTERM, &sa, &old_term) < 0 || sigaction(SIGINT, &sa, &old_int) < 0)
                return -errno;
        fd = inotify_init1(IN_CLOEXEC);
        if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
                r = -errno;
                goto out;
        }
        /* Looked at after the watch is in place: a marker made in between is not missed. */
        while (stat(marker, &st) < 0) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                if (errno != ENOENT) {
                        r = -errno;
                        break;
                }
                if (poll(&pfd, 1, 1000) > 0 && read(fd, buf, sizeof buf) < 0 && errno != EINTR &&
                    errno != EAGAIN) {
                        r = -errno;
                        break;
                }
        }
out:
        if (fd >= 0)
                (void) close(fd);
        (void) sigaction(SIGTERM, &old_term, NULL);
        (void) sigaction(SIGINT, &old_int, NULL);
        return r;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* The path of http://HOST[:PORT][/PATH] + the gateway's route. */
static int request_path_from_url(const char *url, char **ret) {
        const char *p, *c;
        size_t n;
        char *path;

        if (strncmp(url, "http://", 7) != 0)
                return -EINVAL;
        p = strchr(url + 7, '/');
        if (!p)
                p = "";
        for (c = p; *c; c++)
                if ((unsigned char) *c <= 0x20 || (unsigned char) *c >= 0x7f || *c == '?' || *c == '#')
                        return -EINVAL;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        path = malloc(n + sizeof(GATEWAY_ROUTE));
        if (!path)
                return -ENOMEM;
        memcpy(path, p, n);
        memcpy(path + n, GATEWAY_ROUTE, sizeof(GATEWAY_ROUTE));
        *ret = path;
        return 0;
}

static char *env_dup(const char *name, const char *def) {
        const char *v = getenv(name);

        return strdup(v ? v : def);
}

/* Removes every AEGIS_* variable and wipes its bytes in the block the kernel shows as
 * /proc/PID/environ (getenv() points into it until a setenv()). */
void bs_scrub_environment(void) {
        extern char **environ;

        for (;;) {
                char **e, name[256];
                size_t n;

                for (e = environ; *e && strncmp(*e, "AEGIS_", 6) != 0; e++)
                        ;
                if (!*e)
                        return;
                n = strcspn(*e, "=");
                if (n >= sizeof(name)) {
                        memset(*e, 0, strlen(*e)); /* no name to unset by: keep it unreadable */
                        **e = 'X';
                        continue;
                }
                memcpy(name, *e, n);
                name[n] = 0;
                if ((*e)[n] == '=')
                        memset(*e + n + 1, 0, strlen(*e + n + 1));
                if (unsetenv(name) < 0 || getenv(name))
                        return;
        }
}

static int load_config(Config *c) {
        const char *url = getenv("AEGIS_ORCHESTRATOR_URL"), *v;
        unsigned long n;
        int k;

        if (!url || !*url) {
                bs_log("AEGIS_ORCHESTRATOR_URL is not set: run me as aegisd does (aegis-bootstrap(8))");
                return -EINVAL;
        }
        k = request_path_from_url(url, &c->request_path);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                bs_log("AEGIS_ORCHESTRATOR_URL is not an http:// URL with a plain path");
                return -EINVAL;
        }
        v = getenv("AEGIS_EXECUTION_ID");
        if (!v || !*v) {
                bs_log("AEGIS_EXECUTION_ID is not set: run me as aegisd does (aegis-bootstrap(8))");
                return -EINVAL;
        }
        c->execution_id = strdup(v);
        c->agent_id = env_dup("AEGIS_AGENT_ID", "");
        c->model_alias = env_dup("AEGIS_MODEL_ALIAS", "default");
        c->socket_path = env_dup("AEGIS_DISPATCH_SOCKET", DEFAULT_SOCKET);
        if (!c->execution_id || !c->agent_id || !c->model_alias || !c->socket_path)
                return -ENOMEM;
        if (!*c->model_alias) {
                free(c->model_alias);
                c->model_alias = strdup("default");
                if (!c->model_alias)
                        return -ENOMEM;
        }
        v = getenv("AEGIS_ITERATION");
        c->iteration = 1;
        if (v && *v) {
                if (parse_uint(v, INT_MAX, &n) < 0 || n == 0) {
                        bs_log("AEGIS_ITERATION=%s: expected a positive integer", v);
                        return -EINVAL;
                }
                c->iteration = (long) n;
        }
        v = getenv("AEGIS_LLM_TIMEOUT_SECONDS");
        c->llm_timeout = DEFAULT_LLM_TIMEOUT;
        if (v && *v) {
                if (parse_uint(v, 86400 * 7, &n) < 0) {
                        bs_log("AEGIS_LLM_TIMEOUT_SECONDS=%s: expected seconds, at most a week", v);
                        return -EINVAL;
                }
                c->llm_timeout = (unsigned) n;
        }
        return 0;
}

static unsigned retry_secs_from_env(void) {
        const char *v = getenv("AEGIS_LLM_TIMEOUT_SECONDS");
        unsigned long n;

        if (v && *v && parse_uint(v, 86400 * 7, &n) == 0)
                return (unsigned) n + RETRY_EXTRA_SECS;
        return DEFAULT_LLM_TIMEOUT + RETRY_EXTRA_SECS;
}

/* The prompt file's text as valid UTF-8; an absent file is an empty prompt (aegisd renders
 * the prompt from its own copy: the one sent here is informative). */
static json_object *read_prompt(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *buf = NULL, *clean = NULL;
        size_t len = 0, cap = 0, clean_len;

        if (!f) {
                bs_log("no prompt in %s (%s): sending an empty prompt; aegisd uses its own copy", path,
                       strerror(errno));
                return json_object_new_string("");
        }
        for (;;) {
                size_t k;

                if (len == cap) {
                        char *b;

                        if (cap >= MAX_PROMPT_BYTES) {
                                bs_log("the prompt in %s is over %u bytes: sending its first %u", path,
                                       MAX_PROMPT_BYTES, MAX_PROMPT_BYTES);
                                break;
                        }
                        cap = cap ? cap * 2 : 65536;
                        b = realloc(buf, cap);
                        if (!b)
                                return NULL;
                        buf = b;
                }
                k = fread(buf + len, 1, cap - len, f);
                len += k;
                if (k == 0)
                        break;
        }
        clean = bs_utf8_sanitize(buf ? buf : "", len, &clean_len);
        if (!clean)
                return NULL;
        return json_object_new_string_len(clean, (int) clean_len);
}

/* Posts body, retrying transport failures with backoff within the budget. */
static int gateway_post(const Config *c, const char *body, size_t body_len, BsResponse *ret) {
        uint64_t deadline = bs_now_ms() + ((uint64_t) c->llm_timeout + RETRY_EXTRA_SECS) * 1000u;
        unsigned backoff = 100, retries = 0;

        for (;;) {
                char error[512];
                int k = bs_http_post(c->socket_path, c->request_path, body, body_len, ret, error,
                                     sizeof(error));

                if (k == 0) {
                        if (retries > 0)
                                bs_log("reached the dispatch gateway again after %u retries", retries);
                        return 0;
                }
                if (k == -EFBIG || k == -ENOMEM || k == -ENAMETOOLONG) {
                        bs_log("dispatch gateway: %s", error);
                        return k;
                }
                if (bs_now_ms() + backoff > deadline) {
                        bs_log("dispatch gateway: %s; giving up after %u retries in %u s", error, retries,
                               c->llm_timeout + RETRY_EXTRA_SECS);
                        return -ETIMEDOUT;
                }
                retries++;
                bs_log("dispatch gateway: %s; sending the same request again in %u ms (retry %u)", error,
                       backoff, retries);
                bs_sleep_ms(backoff);
                backoff = MIN(backoff * 2, 2000u);
        }
}

static void log_error_answer(const BsResponse *r) {
        _cleanup_free_ char *clean = NULL;
        json_object *o = json_tokener_parse(r->body), *e;
        size_t len;

        if (o && json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_string))
                clean = bs_utf8_sanitize(json_object_get_string(e), (size_t) json_object_get_string_len(e),
                                         &len);
        else
                clean = bs_utf8_sanitize(r->body, MIN(r->body_len, 4096u), &len);
        bs_log("the dispatch gateway answered %d: %s", r->status, clean ? clean : "(out of memory)");
        json_object_put(o);
}

/* The answer as a JSON object (white space may follow it), or NULL, logged. */
static json_object *parse_answer(const BsResponse *r) {
        json_tokener *tok = json_tokener_new_ex(64);
        json_object *o = NULL;
        size_t end = 0;

        if (tok) {
                o = json_tokener_parse_ex(tok, r->body, (int) r->body_len);
                end = json_tokener_get_parse_end(tok);
                json_tokener_free(tok);
        }
        while (o && end < r->body_len && strchr(" \t\r\n", r->body[end]))
                end++;
        if (o && end == r->body_len && json_object_is_type(o, json_type_object))
                return o;
        json_object_put(o);
        bs_log("the dispatch gateway's answer is not a JSON object (%zu bytes)", r->body_len);
        return NULL;
}

static int run_loop(const Config *c) {
        json_object *msg = json_object_new_object(), *prompt = read_prompt(c->prompt_file);
        unsigned dispatches = 0;

        if (!msg || !prompt)
                return BOOTSTRAP_EXIT_USAGE;
        json_object_object_add(msg, "type", json_object_new_string("generate"));
        json_object_object_add(msg, "agent_id", json_object_new_string(c->agent_id));
        json_object_object_add(msg, "execution_id", json_object_new_string(c->execution_id));
        json_object_object_add(msg, "iteration_number", json_object_new_int64(c->iteration));
        json_object_object_add(msg, "model_alias", json_object_new_string(c->model_alias));
        json_object_object_add(msg, "prompt", prompt);
        json_object_object_add(msg, "messages", json_object_new_array());

        for (;;) {
                size_t body_len;
                const char *body = json_object_to_json_string_length(
                        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &body_len);
                BsResponse r = { 0 };
                json_object *answer, *type, *content;
                int k;

                k = gateway_post(c, body, body_len, &r);
                json_object_put(msg);
                if (k < 0)
                        return k == -EFBIG ? BOOTSTRAP_EXIT_PROTOCOL : BOOTSTRAP_EXIT_UNREACHABLE;
                if (r.status != 200) {
                        log_error_answer(&r);
                        bs_response_done(&r);
                        return BOOTSTRAP_EXIT_GATEWAY_ERROR;
                }
                answer = parse_answer(&r);
                bs_response_done(&r);
                if (!answer)
                        return BOOTSTRAP_EXIT_PROTOCOL;

                if (json_object_object_get_ex(answer, "type", &type) &&
                    json_object_is_type(type, json_type_string) &&
                    strcmp(json_object_get_string(type), "dispatch") == 0) {
                        if (!json_object_object_get_ex(answer, "dispatch_id", NULL)) {
                                bs_log("a dispatch without a dispatch_id: nothing to answer it with");
                                json_object_put(answer);
                                return BOOTSTRAP_EXIT_PROTOCOL;
                        }
                        dispatches++;
                        msg = bs_run_dispatch(answer, c->execution_id);
                        json_object_put(answer);
                        if (!msg)
                                return BOOTSTRAP_EXIT_USAGE;
                        continue;
                }
                if (json_object_object_get_ex(answer, "content", &content) &&
                    !json_object_is_type(content, json_type_null)) {
                        const char *s = json_object_get_string(content);
                        size_t n = json_object_is_type(content, json_type_string)
                                           ? (size_t) json_object_get_string_len(content)
                                           : strlen(s);

                        if (fwrite(s, 1, n, stdout) != n || fflush(stdout) != 0) {
                                bs_log("cannot write the final content to stdout: %s", strerror(errno));
                                json_object_put(answer);
                                return BOOTSTRAP_EXIT_USAGE;
                        }
                }
                json_object_put(answer);
                return BOOTSTRAP_EXIT_OK;
        }
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "prompt-file", required_argument, NULL, 'p' },
                { "relay", required_argument, NULL, 'r' },
                { "egress", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, 'f' },
                { "wait-for", required_argument, NULL, 'w' },
                {},
        };
        struct sigaction sa = { .sa_handler = sigterm_handler };
        Config c = { .prompt_file = DEFAULT_PROMPT_FILE };
        const char *relay = NULL, *egress = NULL, *env_file = NULL, *wait_marker = NULL;
        char nonce[EXIT_REPORT_NONCE_LEN + 1];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("aegis-bootstrap " PACKAGE_VERSION "\n");
                        return 0;
                case 'p':
                        c.prompt_file = optarg;
                        break;
                case 'r':
                        relay = optarg;
                        break;
                case 'e':
                        egress = optarg;
                        break;
                case 'f':
                        env_file = optarg;
                        break;
                case 'w':
                        wait_marker = optarg;
                        break;
                default:
                        return BOOTSTRAP_EXIT_USAGE;
                }

        if (wait_marker && !env_file) {
                bs_log("--wait-for needs --env-file: --env-file PATH --wait-for MARKER -- PROG [ARGS...]");
                return BOOTSTRAP_EXIT_USAGE;
        }
        if (wait_marker) {
                r = wait_for_marker(wait_marker);
                if (r < 0) {
                        bs_log("--wait-for %s: %s", wait_marker, strerror(-r));
                        return EXIT_ENV_FILE;
                }
        }
        if (env_file) {
                r = load_env_file(env_file);
                if (r < 0) {
                        bs_log("--env-file %s: %s", env_file, strerror(-r));
                        return EXIT_ENV_FILE;
                }
                if (optind >= argc) {
                        bs_log("--env-file needs the program to run: --env-file PATH -- PROG [ARGS...]");
                        return BOOTSTRAP_EXIT_USAGE;
                }
                r = take_exit_report_nonce(env_file, !egress && !relay, nonce);
                if (!egress && !relay) {
                        /* Before any signal set-up of ours: PROG inherits none of it. */
                        if (r > 0)
                                return bs_report_main(nonce, argv + optind);
                        execvp(argv[optind], argv + optind);
                        bs_log("cannot run %s: %s", argv[optind], strerror(errno));
                        return errno == ENOENT ? 127 : 126;
                }
        }

        (void) signal(SIGPIPE, SIG_IGN);
        if (bs_sigchld_fd() < 0) {
                bs_log("cannot watch for exited children: %s", strerror(errno));
                return BOOTSTRAP_EXIT_USAGE;
        }

        if (egress) {
                const char *colon = strchr(egress, ':');
                char portbuf[8];
                unsigned long port;

                if (!colon || (size_t) (colon - egress) >= sizeof(portbuf) || colon[1] != '/') {
                        bs_log("--egress %s: expected PORT:SOCKET-PATH", egress);
                        return BOOTSTRAP_EXIT_USAGE;
                }
                memcpy(portbuf, egress, (size_t) (colon - egress));
                portbuf[colon - egress] = 0;
                if (parse_uint(portbuf, 65535, &port) < 0 || port == 0) {
                        bs_log("--egress %s: expected a TCP port (1-65535)", egress);
                        return BOOTSTRAP_EXIT_USAGE;
                }
                if (optind >= argc) {
                        bs_log("--egress needs the program to run: --egress PORT:SOCKET -- PROG [ARGS...]");
                        return BOOTSTRAP_EXIT_USAGE;
                }
                return bs_relay_main((uint16_t) port, colon + 1, 0, false, argv + optind);
        }
        if (relay) {
                unsigned long port;

                if (parse_uint(relay, 65535, &port) < 0 || port == 0) {
                        bs_log("--relay %s: expected a TCP port (1-65535)", relay);
                        return BOOTSTRAP_EXIT_USAGE;
                }
                if (optind >= argc) {
                        bs_log("--relay needs the program to run: --relay PORT -- PROG [ARGS...]");
                        return BOOTSTRAP_EXIT_USAGE;
                }
                return bs_relay_main((uint16_t) port, getenv("AEGIS_DISPATCH_SOCKET") ?: DEFAULT_SOCKET,
                                     retry_secs_from_env(), true, argv + optind);
        }
        if (optind < argc) {
                bs_log("unexpected argument \"%s\" (try --help)", argv[optind]);
                return BOOTSTRAP_EXIT_USAGE;
        }

        r = load_config(&c);
        if (r < 0)
                return BOOTSTRAP_EXIT_USAGE;
        bs_scrub_environment();
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);

        r = run_loop(&c);
        free(c.socket_path);
        free(c.request_path);
        free(c.execution_id);
        free(c.agent_id);
        free(c.model_alias);
        return r;
}
