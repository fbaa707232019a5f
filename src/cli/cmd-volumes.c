/* cmd-volumes.c — `aegis volume create|list|show|delete|ls|cp` over /v1/volumes and its
 * files (aegis-volumes(7), aegis-api(7)).
 * Sizes are parsed here (parse_size: 1024, 512M, 1g, 1.5Gi) and sent as bytes, so a typo is
 * refused before any request; ids may be unique prefixes. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- files: `volume ls VOL[:PATH]`, `volume cp` (the daemon's /files routes) ---- */

/* Is ARG a volume's path (VOL:PATH)? A local path with a ':' is written ./a:b or /a:b. */
static bool is_volume_arg(const char *arg) {
        return strchr(arg, ':') && arg[0] != '/' && arg[0] != '.';
}

/* Splits VOL[:PATH] and resolves VOL (an id, a prefix, or its name): *ret_path is
 * "/v1/volumes/ID/files" + suffix + "?path=PATH" (the root when PATH is empty), *ret_file
 * PATH as given. */
static int volume_files_path(Cli *cli, const char *arg, const char *suffix, char **ret_path,
                             char **ret_file) {
        _cleanup_free_ char *vol = NULL, *id = NULL, *eid = NULL, *epath = NULL, *p = NULL;
        const char *colon = strchr(arg, ':'), *file = colon ? colon + 1 : "";

        vol = colon ? strndup(arg, colon - arg) : strdup(arg);
        if (!vol)
                return -ENOMEM;
        if (isempty(vol)) {
                cli_usage_error("volume: \"%s\" names no volume: write VOL:PATH", arg);
                return -EINVAL;
        }
        if (cli_resolve_volume(cli, vol, &id) < 0)
                return -ENOENT;
        eid = cli_escape(id);
        epath = cli_escape(isempty(file) ? "/" : file);
        if (!eid || !epath)
                return -ENOMEM;
        p = asprintf_safe("/v1/volumes/%s/files%s?path=%s", eid, suffix, epath);
        if (!p)
                return -ENOMEM;
        if (ret_file && !(*ret_file = strdup(file)))
                return -ENOMEM;
        *ret_path = TAKE_PTR(p);
        return 0;
}

int cmd_volume_ls(Cli *cli, int argc, char **argv) {
        static const char *const headers[] = { "NAME", "TYPE", "SIZE", "MODIFIED" };
        static const size_t caps[] = { 0, 0, 0, 0 };
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *path = NULL;
        json_object *answer = NULL, *list;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return EXIT_AEGIS;
        if (optind + 1 != argc)
                return cli_usage_error("volume ls: expected one VOL[:PATH]");
        if (volume_files_path(cli, argv[optind], "", &path, NULL) < 0 ||
            cli_call_json(cli, "GET", path, NULL, &answer) < 0)
                return EXIT_AEGIS;
        if (cli_output_structured(cli)) {
                cli_print_object(cli, answer);
                json_object_put(answer);
                return 0;
        }
        if (json_object_object_get_ex(answer, "entries", &list) &&
            json_object_is_type(list, json_type_array)) {
                if (cli->output != OUTPUT_NAME && !cli->quiet)
                        t = cli_table_new(cli, headers, caps, ELEMENTSOF(headers));
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *e = json_object_array_get_idx(list, i);
                        char size[32] = "-";

                        if (!t) {
                                puts(or_dash(json_str(e, "name")));
                                continue;
                        }
                        if (streq_ptr(json_str(e, "type"), "file"))
                                cli_format_bytes(size, sizeof size, (uint64_t) json_int(e, "size_bytes", 0));
                        if (cli_table_add(t, (const char *const[]){ json_str(e, "name"), json_str(e, "type"),
                                                                    size, json_str(e, "modified_at") }) < 0)
                                break;
                }
                if (t)
                        cli_table_print(t);
        }
        json_object_put(answer);
        return 0;
}

static int write_all_to(const char *data, size_t size, void *userdata) {
        FILE *f = userdata;

        return fwrite(data, 1, size, f) == size ? 0 : -errno;
}

/* VOL:PATH → LOCAL: streamed into a temporary file beside LOCAL, renamed over it only once
 * whole (a failed download leaves LOCAL as it was); LOCAL "-" is stdout, a directory gets
 * the file under its own name. */
static int volume_download(Cli *cli, const char *src, const char *local) {
        _cleanup_free_ char *path = NULL, *file = NULL, *target = NULL, *tmp = NULL;
        char errbuf[CURL_ERROR_SIZE + 256];
        struct stat st;
        const char *base;
        long http = 0;
        mode_t mask;
        FILE *f;
        int fd, r;

        if (volume_files_path(cli, src, "/download", &path, &file) < 0)
                return EXIT_AEGIS;
        cli->client.timeout_secs = 0; /* a large file takes what it takes */
        if (streq(local, "-")) {
                r = client_stream_raw(&cli->client, path, write_all_to, stdout, &http, errbuf);
                if (r < 0 || http >= 400) {
                        fprintf(stderr, "aegis: GET %s: %s\n", path,
                                r < 0 && !errbuf[0] ? strerror(-r) : errbuf);
                        return EXIT_AEGIS;
                }
                return fflush(stdout) == 0 ? 0 : EXIT_AEGIS;
        }
        base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        if (stat(local, &st) >= 0 && S_ISDIR(st.st_mode)) {
                if (isempty(base))
                        return cli_usage_error("volume cp: \"%s\" names a directory: give a file's path",
                                               src);
                target = asprintf_safe("%s/%s", local, base);
        } else
                target = strdup(local);
        tmp = target ? asprintf_safe("%s.aegis-XXXXXX", target) : NULL;
        if (!tmp)
                return EXIT_AEGIS;
        mask = umask(0077);
        umask(mask);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "aegis: %s: cannot create a file there: %m\n", target);
                return EXIT_AEGIS;
        }
        f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                (void) unlink(tmp);
                return EXIT_AEGIS;
        }
        r = client_stream_raw(&cli->client, path, write_all_to, f, &http, errbuf);
        if (r < 0 || http >= 400) {
                fprintf(stderr, "aegis: GET %s: %s\n", path, r < 0 && !errbuf[0] ? strerror(-r) : errbuf);
                fclose(f);
                (void) unlink(tmp);
                return EXIT_AEGIS;
        }
        if (fflush(f) != 0 || fchmod(fileno(f), 0666 & ~mask) < 0 || fclose(f) != 0) {
                fprintf(stderr, "aegis: %s: %m\n", target);
                (void) unlink(tmp);
                return EXIT_AEGIS;
        }
        if (rename(tmp, target) < 0) {
                fprintf(stderr, "aegis: %s: %m\n", target);
                (void) unlink(tmp);
                return EXIT_AEGIS;
        }
        return 0;
}

/* LOCAL → VOL:PATH, streamed as the multipart field "file" named after LOCAL, so that a
 * PATH that is a directory (the root, a trailing '/', an existing one) gets LOCAL's name. */
static int volume_upload(Cli *cli, const char *local, const char *dst) {
        _cleanup_free_ char *path = NULL, *file = NULL;
        char errbuf[CURL_ERROR_SIZE + 256];
        Response resp = {};
        json_object *answer;
        struct stat st;
        const char *name;
        bool is_stdin = streq(local, "-");
        FILE *f;
        int r;

        if (is_stdin) {
                f = stdin;
                name = "stdin";
        } else {
                f = fopen(local, "re");
                if (!f) {
                        fprintf(stderr, "aegis: %s: %m\n", local);
                        return EXIT_AEGIS;
                }
                name = strrchr(local, '/') ? strrchr(local, '/') + 1 : local;
        }
        if (fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
                fprintf(stderr, "aegis: %s: %s\n", local,
                        S_ISDIR(st.st_mode)
                                ? "is a directory: volume cp copies one file (use tar, or cp each file)"
                                : strerror(errno));
                if (!is_stdin)
                        fclose(f);
                return EXIT_AEGIS;
        }
        r = volume_files_path(cli, dst, "/upload", &path, &file);
        if (r >= 0 && is_stdin && (isempty(file) || endswith(file, "/"))) {
                cli_usage_error("volume cp: standard input has no name: give the file's path in \"%s\"",
                                dst);
                r = -EINVAL;
        }
        if (r < 0) {
                if (!is_stdin)
                        fclose(f);
                return EXIT_AEGIS;
        }
        cli->client.timeout_secs = 0;
        r = client_upload(&cli->client, path, name, f, S_ISREG(st.st_mode) ? (int64_t) st.st_size : -1,
                          &resp, errbuf);
        if (!is_stdin)
                fclose(f);
        if (r < 0) {
                cli_say_unreachable(cli, errbuf);
                return EXIT_AEGIS;
        }
        if (resp.status >= 300) {
                _cleanup_free_ char *m = response_error_message(&resp);
                fprintf(stderr, "aegis: POST %s: %s\n", path, strempty(m));
                response_done(&resp);
                return EXIT_AEGIS;
        }
        answer = response_json(&resp);
        response_done(&resp);
        if (cli_output_structured(cli) && answer)
                cli_print_object(cli, answer);
        else if (cli->output == OUTPUT_NAME)
                puts(or_dash(json_str(answer, "path")));
        json_object_put(answer);
        return 0;
}

int cmd_volume_cp(Cli *cli, int argc, char **argv) {
        bool src_vol, dst_vol;
        int c;

        while ((c = cli_getopt(cli, argc, argv)) >= 0)
                if (c == '?')
                        return EXIT_AEGIS;
        if (optind + 2 != argc)
                return cli_usage_error("volume cp: expected LOCAL VOL:PATH or VOL:PATH LOCAL");
        src_vol = is_volume_arg(argv[optind]);
        dst_vol = is_volume_arg(argv[optind + 1]);
        if (src_vol == dst_vol)
                return cli_usage_error(
                        "volume cp: exactly one of \"%s\" and \"%s\" must be VOL:PATH (a local "
                        "path with a ':' is written ./a:b)",
                        argv[optind], argv[optind + 1]);
        return src_vol ? volume_download(cli, argv[optind], argv[optind + 1])
                       : volume_upload(cli, argv[optind], argv[optind + 1]);
}
