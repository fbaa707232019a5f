/* cmd-agents.c — `aegis agent deploy|list|show|run`. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static int agent_deploy(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        json_object *body, *answer = NULL, *w;
        int r;

        if (argc != 2)
                return cli_usage_error("agent deploy: expected one manifest FILE (or - for stdin)");
        r = cli_read_file(argv[1], &text, NULL);
        if (r < 0)
                return EXIT_FAILED;
        body = json_object_new_object();
        json_object_object_add(body, "manifest", json_object_new_string(text));
        r = cli_call_json(cli, "POST", "/v1/agents", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_FAILED;
        if (json_object_object_get_ex(answer, "warnings", &w))
                for (size_t i = 0; i < json_object_array_length(w); i++)
                        fprintf(stderr, "aegis: warning: %s\n",
                                json_object_get_string(json_object_array_get_idx(w, i)));
        if (cli->output == OUTPUT_JSON)
                cli_print_json(answer);
        else
                printf("%s %s deployed (agent_id %s)\n", strempty(json_str(answer, "name")),
                       strempty(json_str(answer, "version")), strempty(json_str(answer, "agent_id")));
        json_object_put(answer);
        return 0;
}

static int agent_list(Cli *cli, int argc, char **argv) {
        json_object *answer = NULL, *list;

        if (argc != 1)
                return cli_usage_error("agent list: unexpected argument \"%s\"", argv[1]);
        if (cli_call_json(cli, "GET", "/v1/agents", NULL, &answer) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(answer);
        else if (json_object_object_get_ex(answer, "agents", &list)) {
                printf("%-24s %-12s %-32s %s\n", "NAME", "VERSION", "AGENT_ID", "DEPLOYED");
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *a = json_object_array_get_idx(list, i);
                        printf("%-24s %-12s %-32s %s\n", strempty(json_str(a, "name")),
                               strempty(json_str(a, "version")), strempty(json_str(a, "agent_id")),
                               strempty(json_str(a, "created_at")));
                }
        }
        json_object_put(answer);
        return 0;
}

static int agent_show(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *e = NULL, *path = NULL;
        json_object *answer = NULL;

        if (argc != 2)
                return cli_usage_error("agent show: expected one agent NAME");
        e = cli_escape(argv[1]);
        path = e ? asprintf_safe("/v1/agents/%s", e) : NULL;
        if (!path || cli_call_json(cli, "GET", path, NULL, &answer) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(answer);
        else {
                printf("Name:     %s\nVersion:  %s\nAgent id: %s\nDeployed: %s\n",
                       strempty(json_str(answer, "name")), strempty(json_str(answer, "version")),
                       strempty(json_str(answer, "agent_id")), strempty(json_str(answer, "created_at")));
                if (json_str(answer, "manifest_yaml"))
                        printf("Manifest:\n%s", json_str(answer, "manifest_yaml"));
        }
        json_object_put(answer);
        return 0;
}

static int agent_run(Cli *cli, int argc, char **argv) {
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "detach", no_argument, NULL, 'd' },
                {},
        };
        _cleanup_free_ char *e = NULL, *path = NULL, *id = NULL;
        json_object *body, *input = NULL, *answer = NULL;
        const char *input_arg = NULL;
        bool detach = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "i:d", opts, NULL)) >= 0)
                switch (c) {
                case 'i':
                        input_arg = optarg;
                        break;
                case 'd':
                        detach = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return cli_usage_error("agent run: expected one agent NAME");
        if (input_arg && cli_parse_input(input_arg, &input) < 0)
                return EXIT_USAGE;
        body = json_object_new_object();
        if (input)
                json_object_object_add(body, "input", input);
        e = cli_escape(argv[optind]);
        path = e ? asprintf_safe("/v1/agents/%s/execute", e) : NULL;
        r = path ? cli_call_json(cli, "POST", path, body, &answer) : -ENOMEM;
        json_object_put(body);
        if (r < 0)
                return EXIT_FAILED;
        id = strdup_or_null(json_str(answer, "execution_id"));
        json_object_put(answer);
        if (!id) {
                fprintf(stderr, "aegis: the daemon did not answer an execution_id\n");
                return EXIT_FAILED;
        }
        if (detach) {
                puts(id);
                return 0;
        }
        if (!cli->quiet)
                fprintf(stderr, "aegis: execution %s submitted\n", id);
        return cli_follow_execution(cli, id);
}

int cmd_agent(Cli *cli, int argc, char **argv) {
        if (argc < 2)
                return cli_usage_error("agent: expected deploy, list, show or run");
        if (streq(argv[1], "deploy"))
                return agent_deploy(cli, argc - 1, argv + 1);
        if (streq(argv[1], "list"))
                return agent_list(cli, argc - 1, argv + 1);
        if (streq(argv[1], "show"))
                return agent_show(cli, argc - 1, argv + 1);
        if (streq(argv[1], "run"))
                return agent_run(cli, argc - 1, argv + 1);
        return cli_usage_error("agent: unknown subcommand \"%s\"", argv[1]);
}
