/* cmd-executions.c — run, submit, list, show, logs, events, wait, cancel, delete. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

static const char *status_or_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static bool status_is_final(const char *s) {
        return streq(s, "completed") || streq(s, "failed") || streq(s, "cancelled");
}

static int exit_code_for_status(const char *s) {
        if (streq(s, "completed"))
                return EXIT_COMPLETED;
        if (streq(s, "cancelled"))
                return EXIT_USAGE;
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

/* Parses "--input X" / "--input=X" / "-i X" and positional arguments for run/submit. */
static int parse_submit_args(int argc, char **argv, const char **file, const char **input, bool *detach) {
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "detach", no_argument, NULL, 'd' },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "i:d", opts, NULL)) >= 0)
                switch (c) {
                case 'i':
                        *input = optarg;
                        break;
                case 'd':
                        if (!detach)
                                return cli_usage_error("%s: unknown option --detach", argv[0]);
                        *detach = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return cli_usage_error("%s: expected one manifest FILE (or - for stdin)", argv[0]);
        *file = argv[optind];
        return 0;
}

static int submit(Cli *cli, const char *file, const char *input, char **ret_id) {
        json_object *body = NULL, *answer = NULL;
        const char *id;
        int r;

        r = build_submission(file, input, &body);
        if (r < 0)
                return EXIT_USAGE; /* unreadable manifest or input: the invocation is wrong */
        r = cli_call_json(cli, "POST", "/v1/executions", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_FAILED;
        print_warnings(answer);
        id = json_str(answer, "execution_id");
        if (isempty(id)) {
                fprintf(stderr, "aegis: the daemon did not answer an execution_id\n");
                json_object_put(answer);
                return EXIT_FAILED;
        }
        *ret_id = strdup(id);
        json_object_put(answer);
        return *ret_id ? 0 : EXIT_FAILED;
}

int cmd_submit(Cli *cli, int argc, char **argv) {
        const char *file = NULL, *input = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = parse_submit_args(argc, argv, &file, &input, NULL);
        if (r)
                return r;
        r = submit(cli, file, input, &id);
        if (r)
                return r;
        if (cli->output == OUTPUT_JSON)
                printf("{\"execution_id\": \"%s\"}\n", id);
        else
                puts(id);
        return 0;
}

int cmd_run(Cli *cli, int argc, char **argv) {
        const char *file = NULL, *input = NULL;
        _cleanup_free_ char *id = NULL;
        bool detach = false;
        int r;

        r = parse_submit_args(argc, argv, &file, &input, &detach);
        if (r)
                return r;
        r = submit(cli, file, input, &id);
        if (r)
                return r;
        if (detach) {
                puts(id);
                return 0;
        }
        if (!cli->quiet)
                fprintf(stderr, "aegis: execution %s submitted\n", id);
        return cli_follow_execution(cli, id);
}

/* Following: a status line on a terminal, one line per event otherwise. */
typedef struct Follow {
        Cli *cli;
        const char *id;
        bool tty;
        bool finished;
        int64_t iteration;
        int64_t max_iterations;
        char status[32];
        char last[256];
        uint64_t start_usec;
        uint64_t last_draw_usec;
        bool drawn;
} Follow;

static void follow_draw(Follow *f, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        double elapsed = (double) (now - f->start_usec) / 1e6;

        if (!f->tty || f->cli->quiet)
                return;
        if (!force && now - f->last_draw_usec < 100 * USEC_PER_MSEC)
                return;
        f->last_draw_usec = now;
        if (f->iteration > 0)
                fprintf(stderr, "\r\033[K%.8s  iteration %" PRId64 "%s%.0" PRId64 "  %-9s %6.1fs  %s", f->id,
                        f->iteration, f->max_iterations > 0 ? "/" : "", f->max_iterations, f->status,
                        elapsed, f->last);
        else
                fprintf(stderr, "\r\033[K%.8s  %-9s %6.1fs  %s", f->id, f->status, elapsed, f->last);
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
        bool loop;
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
        loop = cli_loop_event_text(j, type, f->last, sizeof f->last);
        if (!loop)
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
                } else if (it > 0)
                        fprintf(stderr, "aegis: iteration %" PRId64 ": %s\n", it, f->last);
                else
                        fprintf(stderr, "aegis: %s\n", f->last);
        }
        if (streq(type, "execution_finished") || (startswith(type, "execution") && status_is_final(status)))
                f->finished = true;
        json_object_put(j);
        return f->finished ? 1 : 0;
}

static int get_execution(Cli *cli, const char *id, json_object **ret) {
        _cleanup_free_ char *e = cli_escape(id), *path = NULL;

        if (!e)
                return -ENOMEM;
        path = asprintf_safe("/v1/executions/%s", e);
        if (!path)
                return -ENOMEM;
        return cli_call_json(cli, "GET", path, NULL, ret);
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
        _cleanup_free_ char *e = cli_escape(id), *path = NULL;
        Follow f = {
                .cli = cli, .id = id, .tty = isatty(STDERR_FILENO), .start_usec = now_usec(CLOCK_MONOTONIC)
        };
        json_object *ex = NULL;
        const char *status;
        int r, attempts = 0;
        long http = 0;

        if (!e)
                return EXIT_FAILED;
        path = asprintf_safe("/v1/executions/%s/events", e);
        if (!path)
                return EXIT_FAILED;
        snprintf(f.status, sizeof f.status, "pending");
        for (;;) {
                char errbuf[512];

                r = client_stream(&cli->client, path, follow_event, follow_tick, &f, &http, errbuf);
                if (f.finished)
                        break;
                if (http >= 400) {
                        follow_clear(&f);
                        fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                        return EXIT_FAILED;
                }
                /* The stream ended without a final event (daemon restart?): ask, then retry. */
                json_object_put(ex);
                ex = NULL;
                if (get_execution(cli, id, &ex) >= 0 && status_is_final(json_str(ex, "status")))
                        break;
                if (++attempts > 600) {
                        follow_clear(&f);
                        fprintf(stderr, "aegis: lost the event stream of %s: %s\n", id,
                                r < 0 ? errbuf : "closed");
                        json_object_put(ex);
                        return EXIT_FAILED;
                }
                usleep(500 * 1000);
        }
        follow_clear(&f);
        if (!ex && get_execution(cli, id, &ex) < 0)
                return EXIT_FAILED;
        status = json_str(ex, "status");
        if (cli->output == OUTPUT_JSON)
                cli_print_json(ex);
        else {
                print_output(ex);
                if (!cli->quiet) {
                        json_object *its;
                        size_t n = json_object_object_get_ex(ex, "iterations", &its)
                                           ? json_object_array_length(its)
                                           : 0;
                        fprintf(stderr, "aegis: execution %s %s after %zu iteration%s%s%s\n", id,
                                status_or_dash(status), n, n == 1 ? "" : "s",
                                json_str(ex, "reason") ? ": " : "", strempty(json_str(ex, "reason")));
                }
        }
        r = exit_code_for_status(status);
        json_object_put(ex);
        return r;
}

int cmd_wait(Cli *cli, int argc, char **argv) {
        if (argc != 2)
                return cli_usage_error("%s: expected one execution ID", argv[0]);
        return cli_follow_execution(cli, argv[1]);
}

static int print_event(const char *event, const char *data, void *userdata) {
        Cli *cli = userdata;
        char text[256];
        json_object *j;

        if (cli->output == OUTPUT_JSON) {
                puts(data);
                fflush(stdout);
        } else {
                j = json_tokener_parse(data);
                printf("%s  %-20s", status_or_dash(json_str(j, "time")),
                       j && json_str(j, "type") ? json_str(j, "type") : event);
                if (json_int(j, "iteration", 0) > 0)
                        printf(" iteration %" PRId64, json_int(j, "iteration", 0));
                if (json_str(j, "status"))
                        printf(" %s", json_str(j, "status"));
                putchar('\n');
                if (cli_loop_event_text(j, json_str(j, "type") ?: event, text, sizeof text))
                        printf("    %s\n", text);
                else if (json_str(j, "reason") || json_str(j, "message"))
                        printf("    %s\n",
                               json_str(j, "reason") ? json_str(j, "reason") : json_str(j, "message"));
                fflush(stdout);
                json_object_put(j);
        }
        return 0;
}

int cmd_events(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *e = NULL, *path = NULL;
        char errbuf[512];
        long http = 0;
        int r;

        if (argc != 2)
                return cli_usage_error("%s: expected one execution ID", argv[0]);
        e = cli_escape(argv[1]);
        path = e ? asprintf_safe("/v1/executions/%s/events", e) : NULL;
        if (!path)
                return EXIT_FAILED;
        r = client_stream(&cli->client, path, print_event, NULL, cli, &http, errbuf);
        if (r < 0 || http >= 400) {
                fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                return EXIT_FAILED;
        }
        return 0;
}

int cmd_list(Cli *cli, int argc, char **argv) {
        static const struct option opts[] = {
                { "status", required_argument, NULL, 's' },
                { "limit", required_argument, NULL, 'n' },
                { "cursor", required_argument, NULL, 'c' },
                {},
        };
        const char *status = NULL, *limit = NULL, *cursor = NULL;
        _cleanup_free_ char *path = NULL, *es = NULL, *ec = NULL;
        json_object *answer = NULL, *list;
        unsigned n;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "s:n:c:", opts, NULL)) >= 0)
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
                case 'c':
                        cursor = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc)
                return cli_usage_error("list: unexpected argument \"%s\"", argv[optind]);
        es = status ? cli_escape(status) : NULL;
        ec = cursor ? cli_escape(cursor) : NULL;
        path = asprintf_safe("/v1/executions?limit=%s%s%s%s%s", limit ? limit : "50", es ? "&status=" : "",
                             strempty(es), ec ? "&cursor=" : "", strempty(ec));
        if (!path || cli_call_json(cli, "GET", path, NULL, &answer) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON) {
                cli_print_json(answer);
                json_object_put(answer);
                return 0;
        }
        if (json_object_object_get_ex(answer, "executions", &list) &&
            json_object_is_type(list, json_type_array)) {
                printf("%-32s  %-16s %-10s %4s  %-27s %s\n", "ID", "AGENT", "STATUS", "ITER", "CREATED",
                       "REASON");
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *x = json_object_array_get_idx(list, i);
                        printf("%-32s  %-16.16s %-10s %4" PRId64 "  %-27s %s\n",
                               status_or_dash(json_str(x, "id")), status_or_dash(json_str(x, "agent")),
                               status_or_dash(json_str(x, "status")), json_int(x, "iteration_count", 0),
                               status_or_dash(json_str(x, "created_at")), strempty(json_str(x, "reason")));
                }
        }
        if (json_str(answer, "next_cursor"))
                fprintf(stderr, "aegis: more: aegis list --cursor %s\n", json_str(answer, "next_cursor"));
        json_object_put(answer);
        return 0;
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
                                if (json_str(j, "error"))
                                        printf("    %s: no verdict: %s\n", strempty(json_str(j, "model")),
                                               json_str(j, "error"));
                                else
                                        printf("    %s: score %s, confidence %s: %s\n",
                                               strempty(json_str(j, "model")), unit_text(j, "score", b1),
                                               unit_text(j, "confidence", b2),
                                               strempty(json_str(j, "reasoning")));
                        }
                }
        }
}

int cmd_show(Cli *cli, int argc, char **argv) {
        json_object *ex = NULL, *its = NULL;

        if (argc != 2)
                return cli_usage_error("%s: expected one execution ID", argv[0]);
        if (get_execution(cli, argv[1], &ex) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON) {
                cli_print_json(ex);
                json_object_put(ex);
                return 0;
        }
        printf("Execution:  %s\n", status_or_dash(json_str(ex, "id")));
        printf("Agent:      %s %s\n", status_or_dash(json_str(ex, "agent")),
               strempty(json_str(ex, "agent_version")));
        printf("Status:     %s%s%s\n", status_or_dash(json_str(ex, "status")),
               json_str(ex, "reason") ? " — " : "", strempty(json_str(ex, "reason")));
        printf("Created:    %s\n", status_or_dash(json_str(ex, "created_at")));
        printf("Started:    %s\n", status_or_dash(json_str(ex, "started_at")));
        printf("Finished:   %s\n", status_or_dash(json_str(ex, "finished_at")));
        if (json_object_object_get_ex(ex, "iterations", &its) && json_object_array_length(its) > 0) {
                printf("Iterations:\n  %3s  %-10s %5s  %-14s %s\n", "#", "STATUS", "EXIT", "CONTAINER",
                       "REASON");
                for (size_t i = 0; i < json_object_array_length(its); i++) {
                        json_object *it = json_object_array_get_idx(its, i);
                        printf("  %3" PRId64 "  %-10s %5s  %-14.12s %s\n", json_int(it, "number", 0),
                               status_or_dash(json_str(it, "status")),
                               status_or_dash(json_str(it, "exit_code")),
                               status_or_dash(json_str(it, "container_id")),
                               strempty(json_str(it, "reason")));
                }
        }
        if (its && json_object_is_type(its, json_type_array)) {
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

int cmd_logs(Cli *cli, int argc, char **argv) {
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },
                { "iteration", required_argument, NULL, 'n' },
                {},
        };
        _cleanup_free_ char *e = NULL, *path = NULL;
        const char *iteration = NULL;
        bool follow = false;
        char errbuf[512];
        unsigned n;
        long http = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "fn:", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        follow = true;
                        break;
                case 'n':
                        if (safe_atou(optarg, &n) < 0 || n == 0)
                                return cli_usage_error(
                                        "--iteration: expected a positive integer, got \"%s\"", optarg);
                        iteration = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return cli_usage_error("logs: expected one execution ID");
        e = cli_escape(argv[optind]);
        path = e ? asprintf_safe("/v1/executions/%s/logs%s%s%s", e, follow ? "?follow=true" : "",
                                 iteration ? (follow ? "&iteration=" : "?iteration=") : "",
                                 strempty(iteration))
                 : NULL;
        if (!path)
                return EXIT_FAILED;
        if (follow)
                cli->client.timeout_secs = 0;
        r = client_stream_raw(&cli->client, path, write_chunk, NULL, &http, errbuf);
        if (r < 0 || http >= 400) {
                fprintf(stderr, "aegis: GET %s: %s\n", path, errbuf);
                return EXIT_FAILED;
        }
        return 0;
}

static int simple_post(Cli *cli, int argc, char **argv, const char *method, const char *suffix) {
        _cleanup_free_ char *e = NULL, *path = NULL;
        Response resp = { 0 };

        if (argc != 2)
                return cli_usage_error("%s: expected one execution ID", argv[0]);
        e = cli_escape(argv[1]);
        path = e ? asprintf_safe("/v1/executions/%s%s", e, suffix) : NULL;
        if (!path || cli_call(cli, method, path, NULL, NULL, &resp) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON && resp.size > 0)
                puts(resp.body);
        response_done(&resp);
        return 0;
}

int cmd_cancel(Cli *cli, int argc, char **argv) {
        return simple_post(cli, argc, argv, "POST", "/cancel");
}

int cmd_delete(Cli *cli, int argc, char **argv) {
        return simple_post(cli, argc, argv, "DELETE", "");
}

int cmd_health(Cli *cli, int argc, char **argv) {
        json_object *j = NULL;

        if (cli_call_json(cli, "GET", "/health/ready", NULL, &j) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(j);
        else
                printf("%s\n", status_or_dash(json_str(j, "status")));
        json_object_put(j);
        return 0;
}
