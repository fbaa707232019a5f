/* cmd-volumes.c — `aegis volume create|list|show|delete` over /v1/volumes (aegis-volumes(7)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char *or_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static int volume_create(Cli *cli, int argc, char **argv) {
        static const struct option opts[] = {
                { "size-limit", required_argument, NULL, 's' },
                { "access-mode", required_argument, NULL, 'a' },
                { "storage-class", required_argument, NULL, 'c' },
                { "ttl-hours", required_argument, NULL, 't' },
                {},
        };
        json_object *body, *answer = NULL;
        const char *size = NULL, *access = NULL, *class = NULL, *ttl = NULL;
        uint64_t ttl_hours = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "s:a:c:t:", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        size = optarg;
                        break;
                case 'a':
                        access = optarg;
                        break;
                case 'c':
                        class = optarg;
                        break;
                case 't':
                        ttl = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return cli_usage_error("volume create: expected one volume NAME");
        if (ttl && (safe_atou64(ttl, &ttl_hours) < 0 || ttl_hours == 0 || ttl_hours > INT64_MAX))
                return cli_usage_error(
                        "volume create: --ttl-hours expects a whole number of hours, got \"%s\"", ttl);
        body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(argv[optind]));
        if (size)
                json_object_object_add(body, "size_limit", json_object_new_string(size));
        if (access)
                json_object_object_add(body, "access_mode", json_object_new_string(access));
        if (class)
                json_object_object_add(body, "storage_class", json_object_new_string(class));
        if (ttl)
                json_object_object_add(body, "ttl_hours", json_object_new_int64((int64_t) ttl_hours));
        r = cli_call_json(cli, "POST", "/v1/volumes", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(answer);
        else
                puts(strempty(json_str(answer, "id"))); /* for scripts: VOL=$(aegis volume create …) */
        json_object_put(answer);
        return 0;
}

static int volume_list(Cli *cli, int argc, char **argv) {
        json_object *answer = NULL, *list;

        if (argc != 1)
                return cli_usage_error("volume list: unexpected argument \"%s\"", argv[1]);
        if (cli_call_json(cli, "GET", "/v1/volumes", NULL, &answer) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(answer);
        else if (json_object_object_get_ex(answer, "volumes", &list)) {
                printf("%-36s %-20s %-10s %-10s %12s %-36s %s\n", "ID", "NAME", "CLASS", "ACCESS",
                       "SIZE_LIMIT", "OWNER", "EXPIRES");
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *v = json_object_array_get_idx(list, i);
                        printf("%-36s %-20s %-10s %-10s %12" PRIi64 " %-36s %s\n",
                               or_dash(json_str(v, "id")), or_dash(json_str(v, "name")),
                               or_dash(json_str(v, "storage_class")), or_dash(json_str(v, "access_mode")),
                               json_int(v, "size_limit", 0), or_dash(json_str(v, "owner_execution_id")),
                               or_dash(json_str(v, "expires_at")));
                }
        }
        json_object_put(answer);
        return 0;
}

static char *volume_path_of(const char *id) {
        _cleanup_free_ char *e = cli_escape(id);
        return e ? asprintf_safe("/v1/volumes/%s", e) : NULL;
}

static int volume_show(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;
        json_object *v = NULL;

        if (argc != 2)
                return cli_usage_error("volume show: expected one volume ID");
        path = volume_path_of(argv[1]);
        if (!path || cli_call_json(cli, "GET", path, NULL, &v) < 0)
                return EXIT_FAILED;
        if (cli->output == OUTPUT_JSON)
                cli_print_json(v);
        else
                printf("Id:            %s\nName:          %s\nTenant:        %s\nStatus:        %s\n"
                       "Storage class: %s\nAccess mode:   %s\nSize limit:    %" PRIi64
                       " bytes\nBytes used:    %" PRIi64 "\nOwner:         %" PRIi64 ":%" PRIi64
                       "\nExecution:     %s\nCreated:       %s\nExpires:       %s\n",
                       or_dash(json_str(v, "id")), or_dash(json_str(v, "name")),
                       or_dash(json_str(v, "tenant_id")), or_dash(json_str(v, "status")),
                       or_dash(json_str(v, "storage_class")), or_dash(json_str(v, "access_mode")),
                       json_int(v, "size_limit", 0), json_int(v, "bytes_used", 0), json_int(v, "uid", 0),
                       json_int(v, "gid", 0), or_dash(json_str(v, "owner_execution_id")),
                       or_dash(json_str(v, "created_at")),
                       isempty(json_str(v, "expires_at")) ? "never" : json_str(v, "expires_at"));
        json_object_put(v);
        return 0;
}

static int volume_delete(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;
        json_object *answer = NULL;

        if (argc != 2)
                return cli_usage_error("volume delete: expected one volume ID");
        path = volume_path_of(argv[1]);
        if (!path || cli_call_json(cli, "DELETE", path, NULL, &answer) < 0)
                return EXIT_FAILED;
        json_object_put(answer);
        if (!cli->quiet)
                fprintf(stderr, "aegis: volume %s deleted\n", argv[1]);
        return 0;
}

int cmd_volume(Cli *cli, int argc, char **argv) {
        if (argc < 2)
                return cli_usage_error("volume: expected create, list, show or delete");
        if (streq(argv[1], "create"))
                return volume_create(cli, argc - 1, argv + 1);
        if (streq(argv[1], "list"))
                return volume_list(cli, argc - 1, argv + 1);
        if (streq(argv[1], "show"))
                return volume_show(cli, argc - 1, argv + 1);
        if (streq(argv[1], "delete"))
                return volume_delete(cli, argc - 1, argv + 1);
        return cli_usage_error("volume: unknown subcommand \"%s\"", argv[1]);
}
