/* cmd-executions.c — run, submit, list, show, logs, events, wait, cancel, delete. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json-util.h"
#include "util.h"

static const char *status_or_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static bool status_is_final(const char *s) {
        return streq(s, "completed") || streq(s, "failed") || streq(s, "cancelled");
}

/* The exit code of a finished execution: its outcome, and for a failed one whose last
 * iteration's command could not be invoked or found, 126 or 127 as podman run says. */
static int exit_code_for_execution(json_object *ex) {
        const char *s = json_str(ex, "status");
        json_object *its;
        size_t n;

        if (streq_ptr(s, "completed"))
                return EXIT_COMPLETED;
        if (streq_ptr(s, "cancelled"))
                return EXIT_CANCELLED;
        if (json_object_object_get_ex(ex, "iterations", &its) && json_object_is_type(its, json_type_array) &&
            (n = json_object_array_length(its)) > 0) {
                int64_t code = json_int(json_object_array_get_idx(its, n - 1), "exit_code", -1);
                if (code == EXIT_CANNOT_INVOKE || code == EXIT_NOT_FOUND)
                        return (int) code;
        }
        return EXIT_FAILED;
}

/* Builds the body of POST /v1/executions from a manifest file and --input. */
static int build_submission(const char *file, const char *input_arg, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        json_object *body, *input = NULL;
        int r;

        r = cli_read_file(file, &text, NULL);
        if (r < 0)
                return r;
        if (input_arg) {
                r = cli_parse_input(input_arg, &input);
                if (r < 0)
                        return r;
        }
        body = json_object_new_object();
        if (!body) {
                json_object_put(input);
                return -ENOMEM;
        }
        json_object_object_add(body, "manifest", json_object_new_string(text));
        if (!streq(file, "-"))
                json_object_object_add(body, "manifest_path", json_object_new_string(file));
        if (input)
                json_object_object_add(body, "input", input);
        *ret = body;
        return 0;
}

static void print_warnings(json_object *answer) {
        json_object *w;

        if (!json_object_object_get_ex(answer, "warnings", &w) || !json_object_is_type(w, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(w); i++) {
                json_object *x = json_object_array_get_idx(w, i);
                const char *m = json_object_is_type(x, json_type_string) ? json_object_get_string(x)
                                                                         : json_str(x, "message");
                fprintf(stderr, "aegis: warning: %s\n", strempty(m));
        }
}

/* Parses "--input X" / "--input=X" / "-i X" and the manifest FILE for run and submit. */
static int parse_submit_args(Cli *cli, int argc, char **argv, const char **file, const char **input,
                             bool *detach, bool *dry_run) {
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case 'i':
                        *input = optarg;
                        break;
                case 'd':
                        *detach = true;
                        break;
                case OPT_DRY_RUN:
                        *dry_run = true;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind + 1 != argc)
                return cli_usage_error("%s: expected one manifest FILE (or - for stdin)", argv[0]);
        *file = argv[optind];
        return 0;
}

/* What submit and run --detach print: the id, or {"execution_id"} as JSON or YAML. */
static int print_execution_id(Cli *cli, const char *id) {
        json_object *o;

        if (!cli_output_structured(cli)) {
                puts(id);
                return 0;
        }
        o = json_object_new_object();
        if (!o)
                return EXIT_AEGIS;
        json_object_object_add(o, "execution_id", json_object_new_string(id));
        cli_print_object(cli, o);
        json_object_put(o);
        return 0;
}

static int submit(Cli *cli, const char *file, const char *input, char **ret_id) {
        json_object *body = NULL, *answer = NULL;
        const char *id;
        int r;

        r = build_submission(file, input, &body);
        if (r < 0)
                return EXIT_AEGIS; /* unreadable manifest or input */
        r = cli_call_json(cli, "POST", "/v1/executions", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_AEGIS; /* a refused manifest, or no daemon */
        print_warnings(answer);
        id = json_str(answer, "execution_id");
        if (isempty(id)) {
                fprintf(stderr, "aegis: the daemon did not answer an execution_id\n");
                json_object_put(answer);
                return EXIT_AEGIS;
        }
        *ret_id = strdup(id);
        json_object_put(answer);
        return *ret_id ? 0 : EXIT_AEGIS;
}

int cmd_submit(Cli *cli, int argc, char **argv) {
        const char *file = NULL, *input = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = parse_submit_args(cli, argc, argv, &file, &input, NULL, NULL);
        if (r)
                return r;
        r = submit(cli, file, input, &id);
        if (r)
                return r;
        return print_execution_id(cli, id);
}

int cmd_run(Cli *cli, int argc, char **argv) {
        const char *file = NULL, *input = NULL;
        _cleanup_free_ char *id = NULL;
        bool detach = false, dry_run = false;
        int r;

        r = parse_submit_args(cli, argc, argv, &file, &input, &detach, &dry_run);
        if (r)
                return r;
        if (dry_run) {
                _cleanup_json_ json_object *body = NULL;
                if (build_submission(file, input, &body) < 0)
                        return EXIT_AEGIS; /* unreadable manifest or input */
                return cli_dry_run(cli, "/v1/executions?dry_run=true", body);
        }
        r = submit(cli, file, input, &id);
        if (r)
                return r;
        if (detach)
                return print_execution_id(cli, id);
        if (!cli->quiet)
                fprintf(stderr, "aegis: execution %s submitted\n", id);
        return cli_follow_execution(cli, id);
}

/* The text of an image_pull_progress event: "pulling IMAGE: 12 MiB / 40 MiB, 2/5 layers",
 * then "pulled IMAGE: …" (or "pull of IMAGE failed: …") for the final one. Bytes are shown only
 * once the engine said the layers' sizes. False for other events. */
static bool event_final(json_object *j) {
        json_object *v;

        return j && json_object_object_get_ex(j, "final", &v) && json_object_get_boolean(v);
}

static bool pull_event_text(json_object *j, const char *type, char *buf, size_t size) {
        const char *status = json_str(j, "status"), *image = json_str(j, "image");
        char done[32], total[32], bytes[80] = "";
        int64_t bt = json_int(j, "bytes_total", 0);

        if (!streq_ptr(type, "image_pull_progress"))
                return false;
        if (bt > 0)
                snprintf(
                        bytes, sizeof bytes, "%s / %s, ",
                        cli_format_bytes(done, sizeof done, (uint64_t) MAX(json_int(j, "bytes_done", 0), 0)),
                        cli_format_bytes(total, sizeof total, (uint64_t) bt));
        if (!event_final(j) && bt <= 0 && json_int(j, "layers_total", 0) <= 0) {
                snprintf(buf, size, "pulling %.200s", strempty(image));
                return true;
        }
        snprintf(buf, size, "%s%.200s%s: %s%" PRId64 "/%" PRId64 " layers",
                 !event_final(j)                  ? "pulling "
                 : streq_ptr(status, "completed") ? "pulled "
                                                  : "pull of ",
                 strempty(image),
                 !event_final(j) || streq_ptr(status, "completed") ? ""
                 : streq_ptr(status, "cancelled")                  ? " cancelled"
                                                                   : " failed",
                 bytes, json_int(j, "layers_done", 0), json_int(j, "layers_total", 0));
        return true;
}

/* Following: a status line on a terminal, one line per event otherwise.
 *
 * The status line is one line cut to the terminal's width (re-read at every draw, so a
 * resized terminal is followed), so it is always overwritten in place and never leaves
 * wrapped copies behind. It shows the execution's real state: running from the first
 * iteration on, whatever the execution event said before. */
typedef struct Follow {
        Cli *cli;
        const char *id;
        bool tty;
        bool finished;
        int64_t iteration;
        int64_t max_iterations;
        char status[32];
        char last[256];
        char last_reason[256]; /* the last iteration's reason, already shown on its line */
        uint64_t start_usec;
        uint64_t last_draw_usec;
        uint64_t last_pull_line_usec; /* not a tty: pull progress printed at most once a second */
        bool drawn;
} Follow;

static size_t terminal_columns(void) {
        struct winsize ws;

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

static void follow_draw(Follow *f, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        _cleanup_free_ char *cut = NULL;
        char line[512], elapsed[32], it[48] = "";

        if (!f->tty || f->cli->quiet)
                return;
        if (!force && now - f->last_draw_usec < 100 * USEC_PER_MSEC)
                return;
        f->last_draw_usec = now;
        cli_format_duration(elapsed, sizeof elapsed, (double) (now - f->start_usec) / 1e6);
        if (f->iteration > 0)
                snprintf(it, sizeof it, "  iteration %" PRId64 "%s%.0" PRId64, f->iteration,
                         f->max_iterations > 0 ? "/" : "", f->max_iterations);
        snprintf(line, sizeof line, "%.12s%s  %s  %s  %s", f->id, it, f->status, elapsed, f->last);
        /* One column short of the width: a full line would wrap on some terminals. */
        cut = cli_text_cut(line, terminal_columns() - 1);
        fprintf(stderr, "\r\033[K%s", cut ? cut : "");
        fflush(stderr);
        f->drawn = true;
}

static void follow_clear(Follow *f) {
        if (f->drawn) {
                fputs("\r\033[K", stderr);
                f->drawn = false;
        }
}

static void follow_tick(void *userdata) {
        follow_draw(userdata, false);
}

static int follow_event(const char *event, const char *data, void *userdata) {
        Follow *f = userdata;
        json_object *j = json_tokener_parse(data);
        const char *type, *status, *reason, *msg;
        bool loop, pull;
        int64_t it;

        if (!j)
                return 0;
        type = json_str(j, "type");
        if (!type)
                type = event;
        status = json_str(j, "status");
        reason = json_str(j, "reason");
        msg = json_str(j, "message");
        it = json_int(j, "iteration", 0);
        if (it > 0)
                f->iteration = it;
        f->max_iterations = json_int(j, "max_iterations", f->max_iterations);
        if (startswith(type, "execution") && status)
                snprintf(f->status, sizeof f->status, "%s", status);
        else if (startswith(type, "iteration") && !status_is_final(f->status))
                snprintf(f->status, sizeof f->status, "running");
        loop = cli_loop_event_text(j, type, f->last, sizeof f->last);
        pull = !loop && pull_event_text(j, type, f->last, sizeof f->last);
        if (pull && !f->tty && !f->cli->quiet && !event_final(j)) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now - f->last_pull_line_usec < USEC_PER_SEC) {
                        json_object_put(j);
                        return 0;
                }
                f->last_pull_line_usec = now;
        }
        if (streq(type, "iteration_finished")) {
                snprintf(f->last, sizeof f->last, "iteration %" PRId64 " %s", it, status_or_dash(status));
                snprintf(f->last_reason, sizeof f->last_reason, "%s", strempty(reason));
        } else if (!loop && !pull)
                snprintf(f->last, sizeof f->last, "%s%s%s%s%s", msg ? msg : type, status && !msg ? " " : "",
                         status && !msg ? status : "", reason && !msg ? ": " : "",
                         reason && !msg ? reason : "");
        if (!f->cli->quiet) {
                if (f->tty) {
                        /* Iteration results and finished model and tool calls stay on screen;
                         * the rest only updates the line. */
                        if (streq(type, "iteration_finished")) {
                                follow_clear(f);
                                fprintf(stderr, "  iteration %" PRId64 ": %s%s%s\n", it,
                                        status_or_dash(status), reason ? " — " : "", strempty(reason));
                        } else if (loop && endswith(type, "_finished")) {
                                follow_clear(f);
                                fprintf(stderr, "  iteration %" PRId64 ": %s\n", it, f->last);
                        }
                        follow_draw(f, true);
                } else if (streq(type, "iteration_finished"))
                        fprintf(stderr, "aegis: iteration %" PRId64 ": %s%s%s\n", it, status_or_dash(status),
                                reason ? ": " : "", strempty(reason));
                else if (it > 0)
                        fprintf(stderr, "aegis: iteration %" PRId64 ": %s\n", it, f->last);
                else
                        fprintf(stderr, "aegis: %s\n", f->last);
        }
        if (streq(type, "execution_finished") || (startswith(type, "execution") && status_is_final(status)))
                f->finished = true;
        json_object_put(j);
        return f->finished ? 1 : 0;
}

/* Ctrl-C while following: the execution goes on in the daemon; say so, and how to come
 * back to it or stop it. The text is made before the handler can run (write() only). */
static char interrupt_message[512];

static void on_interrupt(int sig) {
        ssize_t k = write(STDERR_FILENO, interrupt_message, strlen(interrupt_message));
        (void) k;
        signal(sig, SIG_DFL);
        raise(sig);
}

static void follow_catch_interrupt(const char *id) {
        struct sigaction sa = { .sa_handler = on_interrupt };

        snprintf(interrupt_message, sizeof interrupt_message,
                 "\r\033[K\naegis: stopped following; execution %s goes on.\n"
                 "aegis: follow it with 'aegis wait %s', cancel it with 'aegis cancel %s'\n",
                 id, id, id);
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
}

static int get_execution(Cli *cli, const char *id, bool quiet, json_object **ret) {
        _cleanup_free_ char *path = cli_execution_path(id, NULL);

        if (!path)
                return -ENOMEM;
        return quiet ? cli_call_json_quiet(cli, "GET", path, ret)
                     : cli_call_json(cli, "GET", path, NULL, ret);
}

static void print_output(json_object *ex) {
        const char *out = json_str(ex, "output");

        if (!out)
                return;
        fputs(out, stdout);
        if (*out && out[strlen(out) - 1] != '\n')
                fputc('\n', stdout);
}

int cli_follow_execution(Cli *cli, const char *id) {
        _cleanup_free_ char *path = cli_execution_path(id, "/events");
        Follow f = {
                .cli = cli, .id = id, .tty = isatty(STDERR_FILENO), .start_usec = now_usec(CLOCK_MONOTONIC)
        };
        json_object *ex = NULL;
        const char *status, *reason;
        int r, attempts = 0;
        long http = 0;

        if (!path)
                return EXIT_AEGIS;
        follow_catch_interrupt(id);
        snprintf(f.status, sizeof f.status, "pending");
        for (;;) {
                char errbuf[512];

                r = client_stream(&cli->client, path, follow_event, follow_tick, &f, &http, errbuf);
                if (f.finished)
                        break;
                if (http >= 400) {
                        follow_clear(&f);
                        fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                        return EXIT_AEGIS;
                }
                if (r < 0 && attempts == 0 && !f.drawn && f.iteration == 0 && http == 0) {
                        /* Never reached: no daemon to wait for (a restart is retried below). */
                        cli_say_unreachable(cli, errbuf);
                        return EXIT_AEGIS;
                }
                /* The stream ended without a final event (daemon restart?): ask, then retry. */
                json_object_put(ex);
                ex = NULL;
                if (get_execution(cli, id, true, &ex) >= 0 && status_is_final(json_str(ex, "status")))
                        break;
                if (++attempts > 600) {
                        follow_clear(&f);
                        fprintf(stderr, "aegis: lost the event stream of %s: %s\n", id,
                                r < 0 ? errbuf : "closed");
                        json_object_put(ex);
                        return EXIT_AEGIS;
                }
                usleep(500 * 1000);
        }
        follow_clear(&f);
        signal(SIGINT, SIG_DFL);
        if (!ex && get_execution(cli, id, false, &ex) < 0)
                return EXIT_AEGIS;
        status = json_str(ex, "status");
        reason = json_str(ex, "reason");
        if (cli_output_structured(cli))
                cli_print_object(cli, ex);
        else if (cli->output == OUTPUT_NAME)
                puts(id);
        else {
                print_output(ex);
                if (!cli->quiet) {
                        json_object *its;
                        size_t n = json_object_object_get_ex(ex, "iterations", &its)
                                           ? json_object_array_length(its)
                                           : 0;
                        /* The reason was on the last iteration's line already: not again. */
                        bool said = reason && streq(reason, f.last_reason);
                        fprintf(stderr, "aegis: execution %s %s after %zu iteration%s%s%s\n", id,
                                status_or_dash(status), n, n == 1 ? "" : "s", reason && !said ? ": " : "",
                                reason && !said ? reason : "");
                }
        }
        r = exit_code_for_execution(ex);
        json_object_put(ex);
        return r;
}

/* Takes the one ID argument of a command without options, resolved. */
static int one_execution_arg(Cli *cli, int argc, char **argv, char **ret_id) {
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return EXIT_AEGIS;
        if (optind + 1 != argc)
                return cli_usage_error("%s: expected one execution ID", argv[0]);
        return cli_resolve_execution(cli, argv[optind], ret_id) < 0 ? EXIT_AEGIS : 0;
}

int cmd_wait(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        int r = one_execution_arg(cli, argc, argv, &id);

        return r ? r : cli_follow_execution(cli, id);
}

static int print_event(const char *event, const char *data, void *userdata) {
        Cli *cli = userdata;
        char text[256];
        json_object *j;

        if (cli->output == OUTPUT_JSON) {
                puts(data);
                fflush(stdout);
                return 0;
        }
        j = json_tokener_parse(data);
        if (cli->output == OUTPUT_YAML) {
                if (j)
                        cli_print_yaml(j);
        } else {
                printf("%s  %-20s", status_or_dash(json_str(j, "time")),
                       j && json_str(j, "type") ? json_str(j, "type") : event);
                if (json_int(j, "iteration", 0) > 0)
                        printf(" iteration %" PRId64, json_int(j, "iteration", 0));
                if (json_str(j, "status"))
                        printf(" %s", json_str(j, "status"));
                putchar('\n');
                if (cli_loop_event_text(j, json_str(j, "type") ?: event, text, sizeof text) ||
                    pull_event_text(j, json_str(j, "type") ?: event, text, sizeof text))
                        printf("    %s\n", text);
                else if (json_str(j, "reason") || json_str(j, "message"))
                        printf("    %s\n",
                               json_str(j, "reason") ? json_str(j, "reason") : json_str(j, "message"));
        }
        fflush(stdout);
        json_object_put(j);
        return 0;
}

int cmd_events(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *id = NULL, *path = NULL;
        char errbuf[512];
        long http = 0;
        int r;

        r = one_execution_arg(cli, argc, argv, &id);
        if (r)
                return r;
        path = cli_execution_path(id, "/events");
        if (!path)
                return EXIT_AEGIS;
        r = client_stream(&cli->client, path, print_event, NULL, cli, &http, errbuf);
        if (r < 0 || http >= 400) {
                fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                return EXIT_AEGIS;
        }
        return 0;
}

/* Appends "&key=value" (escaped) to *s when value is set. */
static int query_add(char **s, const char *key, const char *value) {
        _cleanup_free_ char *e = NULL;
        char *n;

        if (!value)
                return 0;
        e = cli_escape(value);
        n = e ? asprintf_safe("%s%s%s=%s", *s, strchr(*s, '?') ? "&" : "?", key, e) : NULL;
        if (!n)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

int cmd_list(Cli *cli, int argc, char **argv) {
        static const char *const headers[] = { "ID",      "AGENT",    "STATUS", "ITER",
                                               "CREATED", "DURATION", "REASON" };
        static const size_t caps[] = { 0, 24, 0, 0, 0, 0, 50 };
        const char *status = NULL, *limit = NULL, *cursor = NULL;
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *path = strdup("/v1/executions");
        json_object *answer = NULL, *list;
        unsigned n;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case 's':
                        status = optarg;
                        break;
                case 'n':
                        if (safe_atou(optarg, &n) < 0 || n == 0)
                                return cli_usage_error("--limit: expected a positive integer, got \"%s\"",
                                                       optarg);
                        limit = optarg;
                        break;
                case OPT_CURSOR:
                        cursor = optarg;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind != argc)
                return cli_usage_error("list: unexpected argument \"%s\"", argv[optind]);
        if (!path || query_add(&path, "limit", limit ?: "50") < 0 ||
            query_add(&path, "status", status) < 0 || query_add(&path, "cursor", cursor) < 0)
                return EXIT_AEGIS;
        if (cli_call_json(cli, "GET", path, NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli)) {
                cli_print_object(cli, answer);
                json_object_put(answer);
                return 0;
        }
        if (json_object_object_get_ex(answer, "executions", &list) &&
            json_object_is_type(list, json_type_array)) {
                t = cli_table_new(cli, headers, caps, ELEMENTSOF(headers));
                for (size_t i = 0; t && i < json_object_array_length(list); i++) {
                        json_object *x = json_object_array_get_idx(list, i);
                        char iter[32], age[48], dur[32] = "-", sid[CLI_SHORT_ID + 1];
                        double a, b;

                        if (cli->output == OUTPUT_NAME || cli->quiet) {
                                puts(status_or_dash(json_str(x, "id")));
                                continue;
                        }
                        snprintf(iter, sizeof iter, "%" PRId64, json_int(x, "iteration_count", 0));
                        if (cli->output == OUTPUT_WIDE)
                                snprintf(age, sizeof age, "%s", status_or_dash(json_str(x, "created_at")));
                        else
                                cli_format_age(age, sizeof age, json_str(x, "created_at"));
                        if (cli_parse_timestamp(json_str(x, "started_at"), &a) >= 0)
                                cli_format_duration(dur, sizeof dur,
                                                    (cli_parse_timestamp(json_str(x, "finished_at"), &b) >= 0
                                                             ? b
                                                             : (double) now_usec(CLOCK_REALTIME) / 1e6) -
                                                            a);
                        if (cli_table_add(
                                    t, (const char *const[]){ cli_table_id(cli, json_str(x, "id"), sid),
                                                              json_str(x, "agent"), json_str(x, "status"),
                                                              iter, age, dur, json_str(x, "reason") }) < 0)
                                break;
                }
                if (t && cli->output != OUTPUT_NAME && !cli->quiet)
                        cli_table_print(t);
        }
        if (json_str(answer, "next_cursor")) {
                /* The next page with the same filters, as a command to paste. */
                fprintf(stderr, "aegis: more: aegis list%s%s%s%s --cursor %s\n", status ? " --status " : "",
                        strempty(status), limit ? " --limit " : "", strempty(limit),
                        json_str(answer, "next_cursor"));
        }
        json_object_put(answer);
        return 0;
}

static void print_field(const char *name, const char *value) {
        printf("%-11s %s\n", name, status_or_dash(value));
}

/* A 0..1 number of a verdict as "0.20", or "-". */
static const char *unit_text(json_object *o, const char *key, char buf[static 16]) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return "-";
        snprintf(buf, 16, "%.2f", json_object_get_double(v));
        return buf;
}

/* What the judges of each iteration said (validators semantic and multi_judge). */
static void print_judges(json_object *iterations) {
        char b1[16], b2[16];

        for (size_t i = 0; i < json_object_array_length(iterations); i++) {
                json_object *it = json_object_array_get_idx(iterations, i), *vs, *js;

                if (!json_object_object_get_ex(it, "judges", &vs) ||
                    !json_object_is_type(vs, json_type_array))
                        continue;
                printf("Iteration %" PRId64 " judges:\n", json_int(it, "number", (int64_t) i + 1));
                for (size_t k = 0; k < json_object_array_length(vs); k++) {
                        json_object *v = json_object_array_get_idx(vs, k), *b;
                        bool passed =
                                json_object_object_get_ex(v, "passed", &b) && json_object_get_boolean(b);

                        printf("  validator %" PRId64 " (%s%s%s): %s, score %s, confidence %s\n",
                               json_int(v, "validator", 0), strempty(json_str(v, "type")),
                               json_str(v, "consensus") ? ", " : "", strempty(json_str(v, "consensus")),
                               passed ? "passed" : "failed", unit_text(v, "score", b1),
                               unit_text(v, "confidence", b2));
                        if (!json_object_object_get_ex(v, "judges", &js) ||
                            !json_object_is_type(js, json_type_array))
                                continue;
                        for (size_t n = 0; n < json_object_array_length(js); n++) {
                                json_object *j = json_object_array_get_idx(js, n);
                                char who[256];
                                /* A model alias, or a judge agent and its judge execution. */
                                if (json_str(j, "agent"))
                                        (void) snprintf(who, sizeof who, "agent %s (execution %s)",
                                                        json_str(j, "agent"),
                                                        json_str(j, "execution_id") ?: "not started");
                                else
                                        (void) snprintf(who, sizeof who, "%s",
                                                        strempty(json_str(j, "model")));
                                if (json_str(j, "error"))
                                        printf("    %s: no verdict: %s\n", who, json_str(j, "error"));
                                else
                                        printf("    %s: score %s, confidence %s: %s\n", who,
                                               unit_text(j, "score", b1), unit_text(j, "confidence", b2),
                                               strempty(json_str(j, "reasoning")));
                        }
                }
        }
}

/* What each iteration used (iterations[].usage, run-stats.h): one line per iteration that
 * has readings; "unknown" where the engine read only zeros. */
static void print_usage(json_object *iterations) {
        bool header = false;

        for (size_t i = 0; i < json_object_array_length(iterations); i++) {
                json_object *it = json_object_array_get_idx(iterations, i), *u, *v;
                char cpu[32] = "unknown", mem[32] = "unknown", pids[24] = "unknown";

                if (!json_object_object_get_ex(it, "usage", &u) || !json_object_is_type(u, json_type_object))
                        continue;
                if (json_object_object_get_ex(u, "cpu_seconds", &v) && v)
                        snprintf(cpu, sizeof cpu, "%.2f s", json_object_get_double(v));
                if (json_object_object_get_ex(u, "memory_peak_bytes", &v) && v)
                        cli_format_bytes(mem, sizeof mem, (uint64_t) json_object_get_int64(v));
                if (json_object_object_get_ex(u, "pids_peak", &v) && v)
                        snprintf(pids, sizeof pids, "%" PRId64, json_object_get_int64(v));
                if (!header)
                        printf("Usage:\n");
                header = true;
                printf("  iteration %" PRId64 ": cpu %s, memory peak %s, pids peak %s%s%s\n",
                       json_int(it, "number", (int64_t) i + 1), cpu, mem, pids,
                       json_object_object_get_ex(u, "oom_killed", &v) && json_object_get_boolean(v)
                               ? ", oom-killed"
                               : "",
                       json_object_object_get_ex(u, "known", &v) && !json_object_get_boolean(v)
                               ? " (the engine read only zeros: cgroup controllers not delegated, see "
                                 "aegis doctor)"
                               : "");
        }
}

int cmd_show(Cli *cli, int argc, char **argv) {
        static const char *const headers[] = { "#", "STATUS", "EXIT", "CONTAINER", "DURATION", "REASON" };
        static const size_t caps[] = { 0, 0, 0, 0, 0, 60 };
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *id = NULL;
        json_object *ex = NULL, *its = NULL;
        char line[512];
        int r;

        r = one_execution_arg(cli, argc, argv, &id);
        if (r)
                return r;
        if (get_execution(cli, id, false, &ex) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli) || cli->output == OUTPUT_NAME) {
                if (cli->output == OUTPUT_NAME)
                        puts(status_or_dash(json_str(ex, "id")));
                else
                        cli_print_object(cli, ex);
                json_object_put(ex);
                return 0;
        }
        print_field("Execution:", json_str(ex, "id"));
        snprintf(line, sizeof line, "%s%s%s", status_or_dash(json_str(ex, "agent")),
                 json_str(ex, "agent_version") ? " " : "", strempty(json_str(ex, "agent_version")));
        print_field("Agent:", line);
        snprintf(line, sizeof line, "%s%s%s", status_or_dash(json_str(ex, "status")),
                 json_str(ex, "reason") ? " — " : "", strempty(json_str(ex, "reason")));
        print_field("Status:", line);
        print_field("Created:", json_str(ex, "created_at"));
        print_field("Started:", json_str(ex, "started_at"));
        print_field("Finished:", json_str(ex, "finished_at"));
        if (json_object_object_get_ex(ex, "iterations", &its) && json_object_array_length(its) > 0) {
                printf("Iterations:\n");
                t = cli_table_new(cli, headers, caps, ELEMENTSOF(headers));
                if (t)
                        cli_table_indent(t, 2);
                for (size_t i = 0; t && i < json_object_array_length(its); i++) {
                        json_object *it = json_object_array_get_idx(its, i);
                        char num[24], dur[32] = "-", sid[CLI_SHORT_ID + 1];
                        double a, b;

                        snprintf(num, sizeof num, "%" PRId64, json_int(it, "number", 0));
                        if (cli_parse_timestamp(json_str(it, "started_at"), &a) >= 0 &&
                            cli_parse_timestamp(json_str(it, "finished_at"), &b) >= 0)
                                cli_format_duration(dur, sizeof dur, b - a);
                        if (cli_table_add(t, (const char *const[]){
                                                     num, json_str(it, "status"), json_str(it, "exit_code"),
                                                     cli_table_id(cli, json_str(it, "container_id"), sid),
                                                     dur, json_str(it, "reason") }) < 0)
                                break;
                }
                if (t)
                        cli_table_print(t);
        }
        if (its && json_object_is_type(its, json_type_array)) {
                print_usage(its);
                print_judges(its);
                cli_print_trajectories(its);
        }
        if (json_str(ex, "output")) {
                printf("Output:\n");
                print_output(ex);
        }
        json_object_put(ex);
        return 0;
}

static int write_chunk(const char *data, size_t size, void *userdata) {
        if (fwrite(data, 1, size, stdout) != size)
                return -EIO;
        fflush(stdout);
        return 0;
}

/* --since: an RFC 3339 time, or a duration back from now ("10m", "2h", "90"). */
static int parse_since(const char *s, double *ret) {
        uint64_t secs;

        if (cli_parse_timestamp(s, ret) >= 0)
                return 0;
        if (parse_duration_secs(s, &secs) < 0)
                return -EINVAL;
        *ret = (double) now_usec(CLOCK_REALTIME) / 1e6 - (double) secs;
        return 0;
}

/* The start of the last `tail` lines of text (all of it when tail < 0). */
static const char *tail_start(const char *text, int64_t tail) {
        const char *p = text + strlen(text);
        int64_t n = 0;

        if (tail < 0)
                return text;
        if (tail == 0)
                return p;
        if (p > text && p[-1] == '\n')
                p--;
        while (p > text) {
                if (p[-1] == '\n' && ++n == tail)
                        break;
                p--;
        }
        return p;
}

/* The recorded output, one iteration at a time (for --since, --tail, -t): iterations come
 * from the execution, each one's output from /logs?iteration=N. */
static int logs_recorded(Cli *cli, const char *id, unsigned only, bool since_set, double since, int64_t tail,
                         bool timestamps) {
        _cleanup_free_ char *all = NULL;
        json_object *ex = NULL, *its;
        size_t size = 0;
        FILE *f;
        int r = 0;

        if (get_execution(cli, id, false, &ex) < 0)
                return EXIT_AEGIS;
        f = open_memstream(&all, &size);
        if (!f) {
                json_object_put(ex);
                return EXIT_AEGIS;
        }
        if (json_object_object_get_ex(ex, "iterations", &its) && json_object_is_type(its, json_type_array))
                for (size_t i = 0; i < json_object_array_length(its); i++) {
                        json_object *it = json_object_array_get_idx(its, i);
                        int64_t num = json_int(it, "number", 0);
                        const char *started = json_str(it, "started_at");
                        _cleanup_free_ char *path = NULL, *q = NULL;
                        Response resp = { 0 };
                        double t;

                        if (only && num != only)
                                continue;
                        if (since_set && (cli_parse_timestamp(started, &t) < 0 || t < since))
                                continue;
                        q = asprintf_safe("/logs?iteration=%" PRId64, num);
                        path = q ? cli_execution_path(id, q) : NULL;
                        if (!path || cli_call(cli, "GET", path, NULL, NULL, &resp) < 0) {
                                r = EXIT_AEGIS;
                                break;
                        }
                        /* Each line carries its iteration's start: the engine's lines have no time. */
                        for (const char *p = resp.body; p && *p;) {
                                size_t len = strcspn(p, "\n");
                                fprintf(f, "%s\t%.*s\n", status_or_dash(started), (int) len, p);
                                p += len + (p[len] == '\n');
                        }
                        response_done(&resp);
                }
        fclose(f);
        json_object_put(ex);
        if (r)
                return r;
        /* The tail, each line with or without its time. */
        for (const char *p = tail_start(strempty(all), tail); *p;) {
                size_t len = strcspn(p, "\n"), tab = strcspn(p, "\t");
                if (timestamps)
                        printf("%.*s %.*s\n", (int) tab, p, (int) (len - tab - 1), p + tab + 1);
                else
                        printf("%.*s\n", (int) (len - tab - 1), p + tab + 1);
                p += len + (p[len] == '\n');
        }
        return 0;
}

int cmd_logs(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *id = NULL, *path = NULL, *q = NULL;
        bool follow = false, timestamps = false, since_set = false;
        const char *iteration = NULL;
        double since = 0;
        int64_t tail = -1;
        char errbuf[512];
        unsigned n = 0;
        long http = 0;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case 'f':
                        follow = true;
                        break;
                case 'i':
                        if (safe_atou(optarg, &n) < 0 || n == 0)
                                return cli_usage_error(
                                        "--iteration: expected a positive integer, got \"%s\"", optarg);
                        iteration = optarg;
                        break;
                case OPT_SINCE:
                        if (parse_since(optarg, &since) < 0)
                                return cli_usage_error(
                                        "--since: expected a time (2026-12-05T10:00:00Z) or a "
                                        "duration (10m, 2h), got \"%s\"",
                                        optarg);
                        since_set = true;
                        break;
                case OPT_TAIL:
                        if (safe_atoi64(optarg, &tail) < 0 || tail < 0)
                                return cli_usage_error("--tail: expected a number of lines, got \"%s\"",
                                                       optarg);
                        break;
                case 't':
                        timestamps = true;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind + 1 != argc)
                return cli_usage_error("logs: expected one execution ID");
        if (follow && (since_set || tail >= 0 || timestamps))
                return cli_usage_error("logs: --since, --tail and -t read the recorded output; "
                                       "use them without -f");
        if (cli_resolve_execution(cli, argv[optind], &id) < 0)
                return EXIT_AEGIS;
        if (since_set || tail >= 0 || timestamps)
                return logs_recorded(cli, id, n, since_set, since, tail, timestamps);
        q = strdup("/logs");
        if (!q || (follow && query_add(&q, "follow", "true") < 0) ||
            query_add(&q, "iteration", iteration) < 0)
                return EXIT_AEGIS;
        path = cli_execution_path(id, q);
        if (!path)
                return EXIT_AEGIS;
        if (follow)
                cli->client.timeout_secs = 0;
        r = client_stream_raw(&cli->client, path, write_chunk, NULL, &http, errbuf);
        if (r < 0 || http >= 400) {
                fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                return EXIT_AEGIS;
        }
        return 0;
}

/* METHOD /v1/executions/ID+suffix; prints the answer (json, yaml) or the id (name). */
static int execution_request(Cli *cli, const char *id, const char *method, const char *suffix) {
        _cleanup_free_ char *path = cli_execution_path(id, suffix);
        json_object *answer = NULL;

        if (!path || cli_call_json(cli, method, path, NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else if (cli->output == OUTPUT_NAME)
                puts(id);
        json_object_put(answer);
        return 0;
}

int cmd_cancel(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        int r;

        r = one_execution_arg(cli, argc, argv, &id);
        return r ? r : execution_request(cli, id, "POST", "/cancel");
}

/* delete --force: cancel, then wait (bounded) until the execution is final. */
static int cancel_and_settle(Cli *cli, const char *id) {
        _cleanup_free_ char *path = cli_execution_path(id, "/cancel");
        json_object *ex = NULL;
        Response resp = { 0 };

        if (!path || get_execution(cli, id, false, &ex) < 0)
                return -EIO;
        if (status_is_final(json_str(ex, "status"))) {
                json_object_put(ex);
                return 0;
        }
        json_object_put(ex);
        if (cli_call(cli, "POST", path, NULL, NULL, &resp) < 0)
                return -EIO;
        response_done(&resp);
        for (unsigned i = 0; i < 600; i++) {
                bool final;
                if (get_execution(cli, id, false, &ex) < 0)
                        return -EIO;
                final = status_is_final(json_str(ex, "status"));
                json_object_put(ex);
                if (final)
                        return 0;
                usleep(100 * 1000);
        }
        fprintf(stderr,
                "aegis: execution %s was cancelled but has not finished after 60 s; "
                "try 'aegis delete %s' later\n",
                id, id);
        return -ETIMEDOUT;
}

int cmd_delete(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        bool force = false;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case 'f':
                        force = true;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind + 1 != argc)
                return cli_usage_error("delete: expected one execution ID");
        if (cli_resolve_execution(cli, argv[optind], &id) < 0)
                return EXIT_AEGIS;
        if (force && cancel_and_settle(cli, id) < 0)
                return EXIT_AEGIS;
        return execution_request(cli, id, "DELETE", NULL);
}

int cmd_health(Cli *cli, int argc, char **argv) {
        json_object *j = NULL;

        if (argc != 1)
                return cli_usage_error("health: unexpected argument \"%s\"", argv[1]);
        if (cli_call_json(cli, "GET", "/health/ready", NULL, &j) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, j);
        else
                printf("%s\n", status_or_dash(json_str(j, "status")));
        json_object_put(j);
        return 0;
}
