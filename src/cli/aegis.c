/* aegis.c — the operator CLI: global options, the command table, dispatch.
 *
 * Global options (--url, --token, --output, --quiet) may appear anywhere on the command
 * line; they are taken out before the subcommand parses its own options. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

#define DEFAULT_URL "http://127.0.0.1:8088"

static int cmd_help(Cli *cli, int argc, char **argv);

static const CliCommand commands[] = {
        { "run", "FILE [--input JSON|@FILE] [--detach]", "submit a manifest and follow it to its end",
          cmd_run },
        { "submit", "FILE [--input JSON|@FILE]", "submit a manifest, print the execution id", cmd_submit },
        { "list", "[--status S] [--limit N] [--cursor C]", "list executions, newest first", cmd_list },
        { "show", "ID", "show an execution and its iterations", cmd_show },
        { "logs", "ID [-f]", "print an execution's container output", cmd_logs },
        { "events", "ID", "print an execution's event stream", cmd_events },
        { "wait", "ID", "follow an execution to its end (exit code as for run)", cmd_wait },
        { "cancel", "ID", "cancel an execution (kills its container at once)", cmd_cancel },
        { "delete", "ID", "delete a finished execution", cmd_delete },
        { "agent", "deploy FILE | list | show NAME | run NAME [--input JSON|@FILE]",
          "manage deployed agents", cmd_agent },
        { "volume",
          "create NAME [--size-limit SIZE] [--access-mode M] [--storage-class C] [--ttl-hours N] | list | "
          "show ID | delete ID",
          "manage volumes", cmd_volume },
        { "health", "", "ask the daemon whether it is alive and ready", cmd_health },
        { "doctor", "[--config FILE] [--user NAME] [--skip CHECK,...]", "check the host set-up, print fixes",
          cmd_doctor },
        { "help", "", "this help", cmd_help },
};

static void help(FILE *f) {
        fprintf(f, "Usage: aegis [--url URL] [--token TOKEN] [--output text|json] COMMAND [ARGS]\n\n"
                   "Runs and inspects AEGIS agent executions through aegisd's REST API.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-8s %-44s %s\n", commands[i].name, commands[i].usage, commands[i].help);
        fprintf(f,
                "\nOptions:\n"
                "  --url URL          aegisd API (http://HOST:PORT or unix:/PATH); default $AEGIS_URL "
                "or " DEFAULT_URL "\n"
                "  --token TOKEN      bearer token (default $AEGIS_TOKEN); --token-file FILE reads it\n"
                "  -o, --output MODE  text (default) or json\n"
                "  -q, --quiet        no status line\n"
                "\nExit status: 0 completed, 1 failed (or a request failed), 2 cancelled or usage error.\n"
                "See aegis(1).\n");
}

static int cmd_help(Cli *cli, int argc, char **argv) {
        help(stdout);
        return 0;
}

int cli_usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("aegis: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see 'aegis help')\n", stderr);
        return EXIT_USAGE;
}

/* Removes global options from argv (in place); returns the new argc or -1. */
static int take_global_options(int argc, char **argv, const char **url, const char **token,
                               const char **token_file, const char **output, bool *quiet) {
        int n = 1;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v;
                const char **slot = NULL;

                if (streq(a, "--")) {
                        while (i < argc)
                                argv[n++] = argv[i++];
                        break;
                }
                if (streq(a, "-q") || streq(a, "--quiet")) {
                        *quiet = true;
                        continue;
                }
                if ((v = startswith(a, "--url=")))
                        *url = v;
                else if ((v = startswith(a, "--token=")))
                        *token = v;
                else if ((v = startswith(a, "--token-file=")))
                        *token_file = v;
                else if ((v = startswith(a, "--output=")))
                        *output = v;
                else if (streq(a, "--url"))
                        slot = url;
                else if (streq(a, "--token"))
                        slot = token;
                else if (streq(a, "--token-file"))
                        slot = token_file;
                else if (streq(a, "--output") || streq(a, "-o"))
                        slot = output;
                else {
                        argv[n++] = argv[i];
                        continue;
                }
                if (slot) {
                        if (i + 1 >= argc) {
                                cli_usage_error("%s needs a value", a);
                                return -1;
                        }
                        *slot = argv[++i];
                }
        }
        argv[n] = NULL;
        return n;
}

int main(int argc, char **argv) {
        const char *url = getenv("AEGIS_URL"), *token = getenv("AEGIS_TOKEN"), *token_file = NULL,
                   *output = "text";
        _cleanup_free_ char *file_token = NULL;
        Cli cli = { 0 };
        bool quiet = false;
        int r;

        log_setup("aegis");
        log_set_target("stderr");
        argc = take_global_options(argc, argv, &url, &token, &token_file, &output, &quiet);
        if (argc < 0)
                return EXIT_USAGE;
        if (argc < 2) {
                help(stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help(stdout);
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("aegis %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (streq(output, "json"))
                cli.output = OUTPUT_JSON;
        else if (!streq(output, "text"))
                return cli_usage_error("--output: expected text or json, got \"%s\"", output);
        cli.quiet = quiet;
        if (token_file) {
                size_t n;
                r = read_full_file(token_file, 4096, &file_token, &n);
                if (r < 0) {
                        fprintf(stderr, "aegis: --token-file %s: %s\n", token_file, strerror(-r));
                        return EXIT_USAGE;
                }
                while (n > 0 && strchr("\r\n \t", file_token[n - 1]))
                        file_token[--n] = '\0';
                token = file_token;
        }
        if (isempty(url))
                url = DEFAULT_URL;
        r = client_init(&cli.client, url, token);
        if (r < 0) {
                client_done(&cli.client);
                return cli_usage_error("--url: expected http://HOST:PORT or unix:/PATH, got \"%s\"", url);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);

        r = -1;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[1], commands[i].name)) {
                        r = commands[i].run(&cli, argc - 1, argv + 1);
                        break;
                }
        if (r < 0)
                r = cli_usage_error("unknown command \"%s\"", argv[1]);
        client_done(&cli.client);
        curl_global_cleanup();
        return r;
}
