/* aegis.c — the operator CLI: the command table, global options, help, dispatch, and
 * `aegis __complete` (what the bash, zsh and fish scripts ask for their candidates).
 *
 * Global options (--url, --token, --output, --quiet, --no-headers) may appear anywhere on
 * the command line; they are taken out before the subcommand parses its own options.
 * `--help`/`-h` anywhere before `--` prints the command's help and sends no request. */
#include <curl/curl.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

#define DEFAULT_URL "http://127.0.0.1:8088"

static const CliOption no_options[] = { {} };

static const CliOption submit_options[] = {
        { "input", 'i', "JSON|@FILE", "@files", "the execution's input: JSON text, or @FILE to read it" },
        {},
};
static const CliOption run_options[] = {
        { "input", 'i', "JSON|@FILE", "@files", "the execution's input: JSON text, or @FILE to read it" },
        { "detach", 'd', NULL, NULL, "print the execution id and return at once" },
        {},
};
static const CliOption run_only_options[] = {
        { "input", 'i', "JSON|@FILE", "@files", "the execution's input: JSON text, or @FILE to read it" },
        { "detach", 'd', NULL, NULL, "print the execution id and return at once" },
        { "dry-run", OPT_DRY_RUN, NULL, NULL, "check the manifest, report every error, create nothing" },
        {},
};
static const CliOption list_options[] = {
        { "status", 's', "STATUS", "pending running completed failed cancelled",
          "only executions in STATUS" },
        { "limit", 'n', "N", NULL, "at most N executions (default 50, at most 1000)" },
        { "cursor", OPT_CURSOR, "CURSOR", NULL, "the page after CURSOR (as the hint says)" },
        {},
};
static const CliOption logs_options[] = {
        { "follow", 'f', NULL, NULL, "follow a running execution until it ends" },
        { "iteration", 'i', "N", NULL, "only iteration N" },
        { "since", OPT_SINCE, "TIME", NULL,
          "only iterations started at or after TIME (RFC 3339, or a duration: 10m, 2h)" },
        { "tail", OPT_TAIL, "N", NULL, "only the last N lines" },
        { "timestamps", 't', NULL, NULL, "prefix each line with its iteration's start time" },
        {},
};
static const CliOption delete_options[] = {
        { "force", 'f', NULL, NULL, "cancel a running execution first" },
        {},
};
static const CliOption volume_create_options[] = {
        { "size-limit", OPT_SIZE_LIMIT, "SIZE", NULL, "quota: 1024, 512M, 1g, 1.5Gi (default unlimited)" },
        { "access-mode", OPT_ACCESS_MODE, "MODE", "read-write read-only",
          "read-write (default) or read-only" },
        { "storage-class", OPT_STORAGE_CLASS, "CLASS", "persistent ephemeral",
          "persistent (default) or ephemeral" },
        { "ttl-hours", OPT_TTL_HOURS, "N", NULL, "an ephemeral volume's lifetime (default 24)" },
        {},
};
static const CliOption doctor_options[] = {
        { "config", 'c', "FILE", "@files", "the daemon's configuration file" },
        { "user", 'u', "NAME", NULL, "the service user to check (default: the caller, or aegis as root)" },
        { "skip", 's', "CHECK,...", NULL, "skip these checks" },
        {},
};

static const CliOption global_options[] = {
        { "url", 0, "URL", NULL, "http://HOST:PORT or unix:/PATH (default $AEGIS_URL)" },
        { "token", 0, "TOKEN", NULL, "bearer token (default $AEGIS_TOKEN)" },
        { "token-file", 0, "FILE", "@files", "read the bearer token from FILE" },
        { "output", 'o', "MODE", "text wide json yaml name",
          "text (default), wide, json, yaml, or name (ids only)" },
        { "no-headers", OPT_NO_HEADERS, NULL, NULL, "tables without their header line" },
        { "quiet", 'q', NULL, NULL, "ids only in lists; no status line or progress messages" },
        { "help", 'h', NULL, NULL, "this help (no request is sent)" },
        { "version", 0, NULL, NULL, "print the version" },
        {},
};

static int cmd_help(Cli *cli, int argc, char **argv);
static int cmd_completion(Cli *cli, int argc, char **argv);

static const CliCommand commands[] = {
        { "run", "FILE", "@manifests", "submit a manifest and follow it to its end",
          "FILE is a manifest (aegis-manifest(5)), - for standard input. On a terminal a\n"
          "status line shows the iteration, the state and the time; Ctrl-C stops\n"
          "following, not the execution. --dry-run checks everything a submission\n"
          "would (the daemon's limits included), reports every error, and creates nothing.",
          run_only_options, cmd_run },
        { "submit", "FILE", "@manifests", "submit a manifest, print the execution id", NULL, submit_options,
          cmd_submit },
        { "list", "", NULL, "list executions, newest first", NULL, list_options, cmd_list },
        { "show", "ID", "@executions", "show an execution and its iterations", NULL, no_options, cmd_show },
        { "logs", "ID", "@executions", "print an execution's container output", NULL, logs_options,
          cmd_logs },
        { "events", "ID", "@executions", "print an execution's event stream", NULL, no_options, cmd_events },
        { "wait", "ID", "@executions", "follow an execution to its end (exit code as for run)", NULL,
          no_options, cmd_wait },
        { "cancel", "ID", "@executions", "cancel an execution (kills its container at once)", NULL,
          no_options, cmd_cancel },
        { "delete", "ID", "@executions", "delete a finished execution",
          "With --force a running execution is cancelled first.", delete_options, cmd_delete },
        { "agent deploy", "FILE", "@manifests", "store a manifest as a deployed agent", NULL, no_options,
          cmd_agent_deploy },
        { "agent validate", "FILE", "@manifests", "check a manifest as agent deploy would, create nothing",
          "Every error of the manifest is reported, one a line (the daemon checks it:\n"
          "its limits and security contexts count).",
          no_options, cmd_agent_validate },
        { "agent list", "", NULL, "list deployed agents", NULL, no_options, cmd_agent_list },
        { "agent show", "NAME", "@agents", "show a deployed agent", NULL, no_options, cmd_agent_show },
        { "agent run", "NAME", "@agents", "execute a deployed agent and follow it", NULL, run_options,
          cmd_agent_run },
        { "agent delete", "NAME[@VERSION]", "@agents", "delete a deployed agent",
          "NAME deletes every version of it, NAME@VERSION that version.\n"
          "Executions keep their own copy of the manifest.",
          no_options, cmd_agent_delete },
        { "volume create", "NAME", NULL, "create a volume, print its id", NULL, volume_create_options,
          cmd_volume_create },
        { "volume list", "", NULL, "list the tenant's volumes", NULL, no_options, cmd_volume_list },
        { "volume show", "ID", "@volumes", "show a volume and the bytes it uses", NULL, no_options,
          cmd_volume_show },
        { "volume delete", "ID", "@volumes", "delete a volume and everything in it", NULL, no_options,
          cmd_volume_delete },
        { "volume ls", "VOL[:PATH]", "@volumes", "list the files in a volume's directory",
          "VOL is a volume's id, a unique prefix of it, or its name; PATH a directory in it\n"
          "(default: its root).",
          no_options, cmd_volume_ls },
        { "volume cp", "SRC DST", "@files", "copy a file into or out of a volume",
          "aegis volume cp LOCAL VOL:PATH uploads, aegis volume cp VOL:PATH LOCAL downloads.\n"
          "A PATH that is a directory (or ends with /) gets LOCAL's name, a LOCAL that is a\n"
          "directory gets the file's name; - is standard input or output. One file at a time:\n"
          "directories are refused.",
          no_options, cmd_volume_cp },
        { "health", "", NULL, "ask the daemon whether it is alive and ready", NULL, no_options, cmd_health },
        { "doctor", "", NULL, "check the host set-up, print fixes", NULL, doctor_options, cmd_doctor },
        { "completion", "bash|zsh|fish", "bash zsh fish", "print the shell completion script", NULL,
          no_options, cmd_completion },
        { "help", "[COMMAND]", "@commands", "help on aegis or on COMMAND", NULL, no_options, cmd_help },
};

static const CliOption *option_find(const CliOption *opts, const char *name, int key) {
        for (; opts && opts->name; opts++)
                if (name ? streq(opts->name, name) : opts->key == key)
                        return opts;
        return NULL;
}

static size_t group_length(const char *name) {
        const char *sp = strchr(name, ' ');
        return sp ? (size_t) (sp - name) : strlen(name);
}

/* Is NAME a group ("agent", "volume") rather than a command? */
static bool is_group(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strchr(commands[i].name, ' ') && group_length(commands[i].name) == strlen(name) &&
                    strncmp(commands[i].name, name, strlen(name)) == 0)
                        return true;
        return false;
}

/* The command named by words[0] (and words[1] for a group); *ret_used = words taken. */
static const CliCommand *command_find(int n, char **words, int *ret_used) {
        if (n < 1)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const char *name = commands[i].name;
                size_t g = group_length(name);

                if (!name[g] && streq(name, words[0])) {
                        *ret_used = 1;
                        return &commands[i];
                }
                if (name[g] && n >= 2 && strlen(words[0]) == g && strncmp(name, words[0], g) == 0 &&
                    streq(name + g + 1, words[1])) {
                        *ret_used = 2;
                        return &commands[i];
                }
        }
        return NULL;
}

static void print_options(FILE *f, const CliOption *opts) {
        for (; opts->name; opts++) {
                char left[64], shortname[8] = "    ";

                if (opts->key > 0 && opts->key < 256)
                        snprintf(shortname, sizeof shortname, "-%c, ", opts->key);
                snprintf(left, sizeof left, "%s--%s%s%s", shortname, opts->name, opts->arg ? " " : "",
                         strempty(opts->arg));
                fprintf(f, "  %-26s %s\n", left, opts->help);
        }
}

static void command_help(FILE *f, const CliCommand *c) {
        fprintf(f, "Usage: aegis %s%s%s%s\n\n%s.\n", c->name, c->options[0].name ? " [OPTIONS]" : "",
                *c->args ? " " : "", c->args, c->summary);
        if (c->details)
                fprintf(f, "%s\n", c->details);
        if (c->options[0].name) {
                fputs("\nOptions:\n", f);
                print_options(f, c->options);
        }
        fprintf(f, "\nGlobal options (--url, --token, -o, --no-headers, -q): see 'aegis --help'.\n"
                   "See aegis(1).\n");
}

static void group_help(FILE *f, const char *group) {
        fprintf(f, "Usage: aegis %s COMMAND [ARGS]\n\nCommands:\n", group);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (startswith(commands[i].name, group) && commands[i].name[strlen(group)] == ' ')
                        fprintf(f, "  %-16s %-16s %s\n", commands[i].name + strlen(group) + 1,
                                commands[i].args, commands[i].summary);
        fprintf(f, "\nRun 'aegis %s COMMAND --help' for a command's options.\n", group);
}

static void help(FILE *f) {
        fprintf(f, "Usage: aegis [OPTIONS] COMMAND [ARGS]\n\n"
                   "Runs and inspects AEGIS agent executions through aegisd's REST API.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-14s %-16s %s\n", commands[i].name, commands[i].args, commands[i].summary);
        fputs("\nOptions (anywhere on the command line):\n", f);
        print_options(f, global_options);
        fprintf(f,
                "\nAn ID may be any unique prefix of at least %d characters.\n"
                "Exit status: 0 completed, 1 failed, 2 cancelled; 125 aegis's own error (usage,\n"
                "a refused request, no daemon); 126/127 failed: command not invokable/not found.\n"
                "Run 'aegis help COMMAND' or 'aegis COMMAND --help' for a command. See aegis(1).\n",
                CLI_ID_PREFIX_MIN);
}

static int cmd_help(Cli *cli, int argc, char **argv) {
        const CliCommand *c;
        int used;

        if (argc < 2) {
                help(stdout);
                return 0;
        }
        c = command_find(argc - 1, argv + 1, &used);
        if (c && used == argc - 1) {
                if (c->run == cmd_doctor)
                        return doctor_main(2, (char *[]){ argv[1], (char *) "--help", NULL }, OUTPUT_TEXT);
                command_help(stdout, c);
                return 0;
        }
        if (argc == 2 && is_group(argv[1])) {
                group_help(stdout, argv[1]);
                return 0;
        }
        return cli_usage_error("help: no command \"%s%s%s\"", argv[1], argc > 2 ? " " : "",
                               argc > 2 ? argv[2] : "");
}

int cli_usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("aegis: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see 'aegis help')\n", stderr);
        return EXIT_AEGIS;
}

int cli_getopt(Cli *cli, int argc, char **argv) {
        const CliOption *opts = cli->command->options;
        size_t n = 0, s = 0;
        int c;

        if (optind == 0) { /* a new parse: build getopt's tables from ours */
                for (; opts[n].name && n + 1 < ELEMENTSOF(cli->longopts); n++) {
                        cli->longopts[n] =
                                (struct option){ opts[n].name, opts[n].arg ? required_argument : no_argument,
                                                 NULL, opts[n].key };
                        if (opts[n].key < 256 && s + 3 < sizeof cli->shortopts) {
                                cli->shortopts[s++] = (char) opts[n].key;
                                if (opts[n].arg)
                                        cli->shortopts[s++] = ':';
                        }
                }
                cli->longopts[n] = (struct option){ 0 };
                cli->shortopts[s] = '\0';
        }
        c = getopt_long(argc, argv, cli->shortopts, cli->longopts, NULL);
        return c == ':' ? '?' : c;
}

/* Removes global options from argv (in place); returns the new argc or -1. */
static int take_global_options(int argc, char **argv, const char **url, const char **token,
                               const char **token_file, const char **output, Cli *cli) {
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
                        cli->quiet = true;
                        continue;
                }
                if (streq(a, "--no-headers")) {
                        cli->no_headers = true;
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
                else if ((v = startswith(a, "-o")) && *v)
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

static bool wants_help(int argc, char **argv) {
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return true;
        return false;
}

/* ---- completion ---- */

static const char *completion_scripts[] = {
        [0] = "# bash completion for aegis(1): candidates come from 'aegis __complete'.\n"
              "_aegis() {\n"
              "        local cur=\"${COMP_WORDS[COMP_CWORD]}\" IFS=$'\\n' out\n"
              "        out=$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" "
              "2>/dev/null)\n"
              "        if [ \"$out\" = :files ]; then\n"
              "                COMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "                compopt -o filenames 2>/dev/null\n"
              "        else\n"
              "                COMPREPLY=($(compgen -W \"$out\" -- \"$cur\"))\n"
              "        fi\n"
              "}\n"
              "complete -F _aegis aegis\n",
        [1] = "#compdef aegis\n"
              "# zsh completion for aegis(1): candidates come from 'aegis __complete'.\n"
              "_aegis() {\n"
              "        local -a c\n"
              "        c=(\"${(@f)$(${words[1]} __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
              "        if [[ \"${c[1]}\" == :files ]]; then\n"
              "                _files\n"
              "        else\n"
              "                compadd -a c\n"
              "        fi\n"
              "}\n"
              "if [[ \"$funcstack[1]\" == _aegis ]]; then _aegis \"$@\"; else compdef _aegis aegis; fi\n",
        [2] = "# fish completion for aegis(1): candidates come from 'aegis __complete'.\n"
              "function __aegis_complete\n"
              "        set -l toks (commandline -opc) (commandline -ct)\n"
              "        set -l out (command $toks[1] __complete $toks[2..-1] 2>/dev/null)\n"
              "        if test \"$out\" = :files\n"
              "                __fish_complete_path (commandline -ct)\n"
              "        else\n"
              "                printf '%s\\n' $out\n"
              "        end\n"
              "end\n"
              "complete -c aegis -f -a '(__aegis_complete)'\n",
};

static int cmd_completion(Cli *cli, int argc, char **argv) {
        static const char *shells[] = { "bash", "zsh", "fish" };

        if (argc != 2)
                return cli_usage_error("completion: expected bash, zsh or fish");
        for (size_t i = 0; i < ELEMENTSOF(shells); i++)
                if (streq(argv[1], shells[i])) {
                        fputs(completion_scripts[i], stdout);
                        return 0;
                }
        return cli_usage_error("completion: expected bash, zsh or fish, got \"%s\"", argv[1]);
}

static void complete_word(const char *cur, const char *w, size_t n) {
        if (strlen(cur) <= n && strncmp(w, cur, strlen(cur)) == 0)
                printf("%.*s\n", (int) n, w);
}

static void complete_words(const char *cur, const char *list) {
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, " ");
                complete_word(cur, p, n);
                p += n;
                p += strspn(p, " ");
        }
}

/* Ids or names from the daemon: KEY of every member of ARRAY in GET PATH. */
static void complete_remote(Cli *cli, const char *cur, const char *path, const char *array,
                            const char *key) {
        json_object *answer = NULL, *list;

        cli->client.timeout_secs = 3;
        if (cli_call_json_quiet(cli, "GET", path, &answer) < 0)
                return;
        if (json_object_object_get_ex(answer, array, &list) && json_object_is_type(list, json_type_array))
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        const char *v = json_str(json_object_array_get_idx(list, i), key);
                        if (v)
                                complete_word(cur, v, strlen(v));
                }
        json_object_put(answer);
}

static void complete_spec(Cli *cli, const char *spec, const char *cur) {
        if (!spec)
                return;
        if (streq(spec, "@files") || streq(spec, "@manifests"))
                puts(":files");
        else if (streq(spec, "@executions"))
                complete_remote(cli, cur, "/v1/executions?limit=100", "executions", "id");
        else if (streq(spec, "@agents"))
                complete_remote(cli, cur, "/v1/agents", "agents", "name");
        else if (streq(spec, "@volumes"))
                complete_remote(cli, cur, "/v1/volumes", "volumes", "id");
        else if (streq(spec, "@commands")) {
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (i == 0 || group_length(commands[i].name) != group_length(commands[i - 1].name) ||
                            strncmp(commands[i].name, commands[i - 1].name, group_length(commands[i].name)))
                                complete_word(cur, commands[i].name, group_length(commands[i].name));
        } else
                complete_words(cur, spec);
}

static void complete_options(const char *cur, const CliOption *opts) {
        for (; opts && opts->name; opts++) {
                char w[64];
                snprintf(w, sizeof w, "--%s", opts->name);
                complete_word(cur, w, strlen(w));
        }
}

/* Takes the option word w of command c (or a global one); *ret_spec is how to complete its
 * argument when it takes one (and the argument is not attached). */
static const CliOption *complete_option_of(const CliCommand *c, const char *w) {
        const CliOption *o = NULL;

        if (startswith(w, "--") && !strchr(w, '=')) {
                o = option_find(global_options, w + 2, 0);
                if (!o && c)
                        o = option_find(c->options, w + 2, 0);
        } else if (w[0] == '-' && w[1] && !w[2]) {
                o = option_find(global_options, NULL, w[1]);
                if (!o && c)
                        o = option_find(c->options, NULL, w[1]);
        }
        return o && o->arg ? o : NULL;
}

/* aegis __complete WORD... (the words after "aegis", the last being the one completed):
 * prints the candidates one a line, or ":files" for the shell to complete file names. */
static int complete_main(int argc, char **argv) {
        const char *url = getenv("AEGIS_URL"), *token = getenv("AEGIS_TOKEN"), *cur;
        const CliCommand *c = NULL;
        const CliOption *want = NULL;
        char **pos = calloc((size_t) argc + 1, sizeof(char *));
        int n_pos = 0, used = 0;
        Cli cli = { 0 };

        if (!pos)
                return EXIT_AEGIS;
        cur = argc > 0 ? argv[argc - 1] : "";
        for (int i = 0; i < argc - 1; i++) {
                const CliOption *o = complete_option_of(c, argv[i]);
                if (o) {
                        if (i + 1 < argc - 1) {
                                if (streq(o->name, "url"))
                                        url = argv[i + 1];
                                else if (streq(o->name, "token"))
                                        token = argv[i + 1];
                                i++;
                        } else
                                want = o;
                        continue;
                }
                if (startswith(argv[i], "--url="))
                        url = argv[i] + 6;
                else if (startswith(argv[i], "--token="))
                        token = argv[i] + 8;
                if (argv[i][0] == '-')
                        continue;
                pos[n_pos++] = argv[i];
                if (!c)
                        c = command_find(n_pos, pos, &used);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (client_init(&cli.client, isempty(url) ? DEFAULT_URL : url, token) < 0) {
                client_done(&cli.client);
                client_init(&cli.client, DEFAULT_URL, token);
        }
        if (want)
                complete_spec(&cli, want->complete, cur);
        else if (cur[0] == '-') {
                complete_options(cur, global_options);
                if (c)
                        complete_options(cur, c->options);
        } else if (!c && n_pos == 0)
                complete_spec(&cli, "@commands", cur);
        else if (!c && n_pos == 1 && is_group(pos[0])) {
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (startswith(commands[i].name, pos[0]) && commands[i].name[strlen(pos[0])] == ' ')
                                complete_word(cur, commands[i].name + strlen(pos[0]) + 1,
                                              strlen(commands[i].name + strlen(pos[0]) + 1));
        } else if (c && n_pos == used)
                complete_spec(&cli, c->complete, cur);
        client_done(&cli.client);
        curl_global_cleanup();
        free(pos);
        return 0;
}

int main(int argc, char **argv) {
        const char *url = getenv("AEGIS_URL"), *token = getenv("AEGIS_TOKEN"), *token_file = NULL,
                   *output = "text";
        _cleanup_free_ char *file_token = NULL;
        const CliCommand *c;
        Cli cli = { 0 };
        int r, used = 0;

        log_setup("aegis");
        log_set_target("stderr");
        if (argc >= 2 && streq(argv[1], "__complete"))
                return complete_main(argc - 2, argv + 2);
        argc = take_global_options(argc, argv, &url, &token, &token_file, &output, &cli);
        if (argc < 0)
                return EXIT_AEGIS;
        if (argc >= 2 && streq(argv[1], "--version")) {
                printf("aegis %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help(argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_AEGIS : 0;
        }
        c = command_find(argc - 1, argv + 1, &used);
        if (!c) {
                if (is_group(argv[1])) {
                        if (argc == 2 || wants_help(argc - 1, argv + 1)) {
                                group_help(argc == 2 ? stderr : stdout, argv[1]);
                                return argc == 2 ? EXIT_AEGIS : 0;
                        }
                        return cli_usage_error("%s: no command \"%s\"", argv[1], argv[2]);
                }
                return cli_usage_error("unknown command \"%s\"", argv[1]);
        }
        argc -= used;
        argv += used;
        if (wants_help(argc, argv)) {
                if (c->run == cmd_doctor) /* its help lists its checks */
                        return doctor_main(2, (char *[]){ argv[0], (char *) "--help", NULL }, OUTPUT_TEXT);
                command_help(stdout, c);
                return 0;
        }
        cli.command = c;
        r = output_mode_from_string(output);
        if (r < 0)
                return cli_usage_error("--output: expected text, wide, json, yaml or name, got \"%s\"",
                                       output);
        cli.output = r;
        if (token_file) {
                size_t n;
                r = read_full_file(token_file, 4096, &file_token, &n);
                if (r < 0) {
                        fprintf(stderr, "aegis: --token-file %s: %s\n", token_file, strerror(-r));
                        return EXIT_AEGIS;
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
        optind = 0;
        r = c->run(&cli, argc, argv);
        client_done(&cli.client);
        curl_global_cleanup();
        return r;
}
