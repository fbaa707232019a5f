/* cmd-agents.c — `aegis agent deploy|list|show|run|delete`.
 *
 * Agents are named; `agent delete NAME[@VERSION]` finds the agent's id through
 * GET /v1/agents/lookup/NAME[?version=V], then DELETE /v1/agents/ID (every version) or
 * DELETE /v1/agents/NAME?version=V (that one). */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "json-util.h"
#include "util.h"

/* Commands without options: none may be given. */
static int no_options(Cli *cli, int argc, char **argv) {
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return EXIT_AEGIS;
        return 0;
}

int cmd_agent_deploy(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        json_object *body, *answer = NULL, *w;
        int r;

        r = no_options(cli, argc, argv);
        if (r)
                return r;
        if (optind + 1 != argc)
                return cli_usage_error("agent deploy: expected one manifest FILE (or - for stdin)");
        r = cli_read_file(argv[optind], &text, NULL);
        if (r < 0)
                return EXIT_AEGIS;
        body = json_object_new_object();
        if (!body)
                return EXIT_AEGIS;
        json_object_object_add(body, "manifest", json_object_new_string(text));
        r = cli_call_json(cli, "POST", "/v1/agents", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_AEGIS;
        if (json_object_object_get_ex(answer, "warnings", &w) && json_object_is_type(w, json_type_array))
                for (size_t i = 0; i < json_object_array_length(w); i++)
                        fprintf(stderr, "aegis: warning: %s\n",
                                json_object_get_string(json_object_array_get_idx(w, i)));
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else if (cli->output == OUTPUT_NAME)
                puts(strempty(json_str(answer, "agent_id")));
        else
                printf("%s %s deployed (agent_id %s)\n", strempty(json_str(answer, "name")),
                       strempty(json_str(answer, "version")), strempty(json_str(answer, "agent_id")));
        json_object_put(answer);
        return 0;
}

int cmd_agent_validate(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *body = NULL;
        int r;

        r = no_options(cli, argc, argv);
        if (r)
                return r;
        if (optind + 1 != argc)
                return cli_usage_error("agent validate: expected one manifest FILE (or - for stdin)");
        if (cli_read_file(argv[optind], &text, NULL) < 0)
                return EXIT_AEGIS;
        body = json_object_new_object();
        if (!body)
                return EXIT_AEGIS;
        json_object_object_add(body, "manifest", json_object_new_string(text));
        return cli_dry_run(cli, "/v1/agents?dry_run=true", body);
}

int cmd_agent_list(Cli *cli, int argc, char **argv) {
        static const char *const headers[] = { "NAME", "VERSION", "AGENT_ID", "DEPLOYED" };
        static const size_t caps[] = { 0, 0, 0, 0 };
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        json_object *answer = NULL, *list;
        int r;

        r = no_options(cli, argc, argv);
        if (r)
                return r;
        if (optind != argc)
                return cli_usage_error("agent list: unexpected argument \"%s\"", argv[optind]);
        if (cli_call_json(cli, "GET", "/v1/agents", NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else if (json_object_object_get_ex(answer, "agents", &list) &&
                 json_object_is_type(list, json_type_array)) {
                t = cli_table_new(cli, headers, caps, ELEMENTSOF(headers));
                for (size_t i = 0; t && i < json_object_array_length(list); i++) {
                        json_object *a = json_object_array_get_idx(list, i);
                        char age[48], sid[CLI_SHORT_ID + 1];

                        if (cli->output == OUTPUT_NAME || cli->quiet) {
                                puts(strempty(json_str(a, "name")));
                                continue;
                        }
                        if (cli->output == OUTPUT_WIDE)
                                snprintf(age, sizeof age, "%s", strempty(json_str(a, "created_at")));
                        else
                                cli_format_age(age, sizeof age, json_str(a, "created_at"));
                        if (cli_table_add(t, (const char *const[]){
                                                     json_str(a, "name"), json_str(a, "version"),
                                                     cli_table_id(cli, json_str(a, "agent_id"), sid),
                                                     age }) < 0)
                                break;
                }
                if (t && cli->output != OUTPUT_NAME && !cli->quiet)
                        cli_table_print(t);
        }
        json_object_put(answer);
        return 0;
}

/* Splits NAME[@VERSION] into its escaped parts (*ret_version NULL without "@"). */
static int agent_arg(const char *arg, char **ret_name, char **ret_version) {
        _cleanup_free_ char *name = strdup(arg), *e = NULL, *ev = NULL;
        char *at;

        if (!name)
                return -ENOMEM;
        at = strrchr(name, '@');
        if (at)
                *at++ = '\0';
        e = cli_escape(name);
        ev = at ? cli_escape(at) : NULL;
        if (!e || (at && !ev))
                return -ENOMEM;
        *ret_name = TAKE_PTR(e);
        *ret_version = TAKE_PTR(ev);
        return 0;
}

/* PREFIX/NAME[?version=V] for NAME[@VERSION]. */
static char *agent_path(const char *prefix, const char *arg) {
        _cleanup_free_ char *name = NULL, *version = NULL;

        if (agent_arg(arg, &name, &version) < 0)
                return NULL;
        return asprintf_safe("%s/%s%s%s", prefix, name, version ? "?version=" : "", strempty(version));
}

int cmd_agent_show(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;
        json_object *answer = NULL;
        int r;

        r = no_options(cli, argc, argv);
        if (r)
                return r;
        if (optind + 1 != argc)
                return cli_usage_error("agent show: expected one agent NAME[@VERSION]");
        path = agent_path("/v1/agents", argv[optind]);
        if (!path || cli_call_json(cli, "GET", path, NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else if (cli->output == OUTPUT_NAME)
                puts(strempty(json_str(answer, "agent_id")));
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

int cmd_agent_delete(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *del = NULL, *e = NULL, *name = NULL, *version = NULL;
        json_object *agent = NULL, *answer = NULL;
        const char *id;
        int r;

        r = no_options(cli, argc, argv);
        if (r)
                return r;
        if (optind + 1 != argc)
                return cli_usage_error("agent delete: expected one agent NAME[@VERSION]");
        if (agent_arg(argv[optind], &name, &version) < 0)
                return EXIT_AEGIS;
        path = agent_path("/v1/agents/lookup", argv[optind]);
        if (!path || cli_call_json(cli, "GET", path, NULL, &agent) < 0)
                return EXIT_AEGIS;
        id = json_str(agent, "id") ?: json_str(agent, "agent_id");
        /* With ?version= the daemon finds the agent by name only (store_agent_get). */
        e = id ? cli_escape(id) : NULL;
        if (e)
                del = version ? asprintf_safe("/v1/agents/%s?version=%s", name, version)
                              : asprintf_safe("/v1/agents/%s", e);
        if (!del) {
                fprintf(stderr, "aegis: %s: the daemon did not answer the agent's id\n", path);
                json_object_put(agent);
                return EXIT_AEGIS;
        }
        r = cli_call_json(cli, "DELETE", del, NULL, &answer);
        if (r >= 0) {
                if (cli_output_structured(cli))
                        cli_print_object(cli, answer);
                else if (cli->output == OUTPUT_NAME)
                        puts(id);
                else if (!cli->quiet)
                        fprintf(stderr, "aegis: agent %s%s%s deleted\n", strempty(json_str(agent, "name")),
                                version ? " version " : "", version ? json_str(agent, "version") : "");
        }
        json_object_put(agent);
        json_object_put(answer);
        return r < 0 ? EXIT_AEGIS : 0;
}

int cmd_agent_run(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *e = NULL, *path = NULL, *id = NULL;
        json_object *body, *input = NULL, *answer = NULL;
        const char *input_arg = NULL;
        bool detach = false;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case 'i':
                        input_arg = optarg;
                        break;
                case 'd':
                        detach = true;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind + 1 != argc)
                return cli_usage_error("agent run: expected one agent NAME");
        if (input_arg && cli_parse_input(input_arg, &input) < 0)
                return EXIT_AEGIS;
        body = json_object_new_object();
        if (!body) {
                json_object_put(input);
                return EXIT_AEGIS;
        }
        if (input)
                json_object_object_add(body, "input", input);
        e = cli_escape(argv[optind]);
        path = e ? asprintf_safe("/v1/agents/%s/execute", e) : NULL;
        r = path ? cli_call_json(cli, "POST", path, body, &answer) : -ENOMEM;
        json_object_put(body);
        if (r < 0)
                return EXIT_AEGIS;
        id = strdup_or_null(json_str(answer, "execution_id"));
        json_object_put(answer);
        if (!id) {
                fprintf(stderr, "aegis: the daemon did not answer an execution_id\n");
                return EXIT_AEGIS;
        }
        if (detach) {
                puts(id);
                return 0;
        }
        if (!cli->quiet)
                fprintf(stderr, "aegis: execution %s submitted\n", id);
        return cli_follow_execution(cli, id);
}
