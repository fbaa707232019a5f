/* cmd-volumes.c — `aegis volume create|list|show|delete` over /v1/volumes (aegis-volumes(7)).
 * Sizes are parsed here (parse_size: 1024, 512M, 1g, 1.5Gi) and sent as bytes, so a typo is
 * refused before any request; ids may be unique prefixes. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char *or_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

int cmd_volume_create(Cli *cli, int argc, char **argv) {
        json_object *body, *answer = NULL;
        const char *size = NULL, *access = NULL, *class = NULL, *ttl = NULL;
        uint64_t ttl_hours = 0, size_bytes = 0;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                switch (c) {
                case OPT_SIZE_LIMIT:
                        size = optarg;
                        break;
                case OPT_ACCESS_MODE:
                        access = optarg;
                        break;
                case OPT_STORAGE_CLASS:
                        class = optarg;
                        break;
                case OPT_TTL_HOURS:
                        ttl = optarg;
                        break;
                default:
                        return EXIT_AEGIS;
                }
        if (optind + 1 != argc)
                return cli_usage_error("volume create: expected one volume NAME");
        if (ttl && (safe_atou64(ttl, &ttl_hours) < 0 || ttl_hours == 0 || ttl_hours > INT64_MAX))
                return cli_usage_error(
                        "volume create: --ttl-hours expects a whole number of hours, got \"%s\"", ttl);
        if (size && (parse_size(size, &size_bytes) < 0 || size_bytes > INT64_MAX))
                return cli_usage_error(
                        "volume create: --size-limit expects a size such as 1024, 512M, 1g or "
                        "1.5Gi, got \"%s\"",
                        size);
        body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(argv[optind]));
        if (size)
                json_object_object_add(body, "size_limit", json_object_new_int64((int64_t) size_bytes));
        if (access)
                json_object_object_add(body, "access_mode", json_object_new_string(access));
        if (class)
                json_object_object_add(body, "storage_class", json_object_new_string(class));
        if (ttl)
                json_object_object_add(body, "ttl_hours", json_object_new_int64((int64_t) ttl_hours));
        r = cli_call_json(cli, "POST", "/v1/volumes", body, &answer);
        json_object_put(body);
        if (r < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else
                puts(strempty(json_str(answer, "id"))); /* for scripts: VOL=$(aegis volume create …) */
        json_object_put(answer);
        return 0;
}

int cmd_volume_list(Cli *cli, int argc, char **argv) {
        static const char *const headers[] = { "ID",         "NAME", "CLASS", "ACCESS",
                                               "SIZE_LIMIT", "USED", "OWNER", "EXPIRES" };
        static const size_t caps[] = { 0, 24, 0, 0, 0, 0, 0, 0 };
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        json_object *answer = NULL, *list;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return EXIT_AEGIS;
        if (optind != argc)
                return cli_usage_error("volume list: unexpected argument \"%s\"", argv[optind]);
        if (cli_call_json(cli, "GET", "/v1/volumes", NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli))
                cli_print_object(cli, answer);
        else if (json_object_object_get_ex(answer, "volumes", &list) &&
                 json_object_is_type(list, json_type_array)) {
                t = cli_table_new(cli, headers, caps, ELEMENTSOF(headers));
                for (size_t i = 0; t && i < json_object_array_length(list); i++) {
                        json_object *v = json_object_array_get_idx(list, i);
                        char limit[32] = "unlimited", used[32] = "-", sid[CLI_SHORT_ID + 1],
                             sowner[CLI_SHORT_ID + 1];

                        if (cli->output == OUTPUT_NAME || cli->quiet) {
                                puts(or_dash(json_str(v, "id")));
                                continue;
                        }
                        if (json_int(v, "size_limit", 0) > 0)
                                cli_format_bytes(limit, sizeof limit,
                                                 (uint64_t) json_int(v, "size_limit", 0));
                        if (json_int(v, "bytes_used", -1) >= 0)
                                cli_format_bytes(used, sizeof used, (uint64_t) json_int(v, "bytes_used", 0));
                        if (cli_table_add(
                                    t, (const char *const[]){
                                               cli_table_id(cli, json_str(v, "id"), sid),
                                               json_str(v, "name"), json_str(v, "storage_class"),
                                               json_str(v, "access_mode"), limit, used,
                                               cli_table_id(cli, json_str(v, "owner_execution_id"), sowner),
                                               json_str(v, "expires_at") }) < 0)
                                break;
                }
                if (t && cli->output != OUTPUT_NAME && !cli->quiet)
                        cli_table_print(t);
        }
        json_object_put(answer);
        return 0;
}

/* The path of the volume ARG names (an id or a unique prefix); NULL after saying why. */
static char *volume_path_of(Cli *cli, int argc, char **argv, char **ret_id) {
        _cleanup_free_ char *id = NULL, *e = NULL;
        char *p;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return NULL;
        if (optind + 1 != argc) {
                cli_usage_error("volume %s: expected one volume ID", argv[0]);
                return NULL;
        }
        if (cli_resolve_volume(cli, argv[optind], &id) < 0)
                return NULL;
        e = cli_escape(id);
        p = e ? asprintf_safe("/v1/volumes/%s", e) : NULL;
        if (p)
                *ret_id = TAKE_PTR(id);
        return p;
}

int cmd_volume_show(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        char limit[48] = "unlimited", used[48];
        json_object *v = NULL;

        path = volume_path_of(cli, argc, argv, &id);
        if (!path || cli_call_json(cli, "GET", path, NULL, &v) < 0)
                return EXIT_AEGIS;
        if (json_int(v, "size_limit", 0) > 0) {
                cli_format_bytes(limit, 32, (uint64_t) json_int(v, "size_limit", 0));
                snprintf(limit + strlen(limit), sizeof limit - strlen(limit), " (%" PRIi64 " bytes)",
                         json_int(v, "size_limit", 0));
        }
        cli_format_bytes(used, 32, (uint64_t) json_int(v, "bytes_used", 0));
        snprintf(used + strlen(used), sizeof used - strlen(used), " (%" PRIi64 " bytes)",
                 json_int(v, "bytes_used", 0));
        if (cli_output_structured(cli))
                cli_print_object(cli, v);
        else if (cli->output == OUTPUT_NAME)
                puts(id);
        else
                printf("Id:            %s\nName:          %s\nTenant:        %s\nStatus:        %s\n"
                       "Storage class: %s\nAccess mode:   %s\nSize limit:    %s\nUsed:          %s"
                       "\nOwner:         %" PRIi64 ":%" PRIi64
                       "\nExecution:     %s\nCreated:       %s\nExpires:       %s\n",
                       or_dash(json_str(v, "id")), or_dash(json_str(v, "name")),
                       or_dash(json_str(v, "tenant_id")), or_dash(json_str(v, "status")),
                       or_dash(json_str(v, "storage_class")), or_dash(json_str(v, "access_mode")), limit,
                       used, json_int(v, "uid", 0), json_int(v, "gid", 0),
                       or_dash(json_str(v, "owner_execution_id")), or_dash(json_str(v, "created_at")),
                       isempty(json_str(v, "expires_at")) ? "never" : json_str(v, "expires_at"));
        json_object_put(v);
        return 0;
}

int cmd_volume_delete(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        json_object *answer = NULL;

        path = volume_path_of(cli, argc, argv, &id);
        if (!path || cli_call_json(cli, "DELETE", path, NULL, &answer) < 0)
                return EXIT_AEGIS;
        json_object_put(answer);
        if (cli->output == OUTPUT_NAME)
                puts(id);
        else if (!cli->quiet)
                fprintf(stderr, "aegis: volume %s deleted\n", id);
        return 0;
}
