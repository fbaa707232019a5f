/* cli-util.c — helpers the `aegis` commands share: requests with error reporting, input
 * files, JSON access. Errors are printed here, once, so commands just return. */
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "json-util.h"
#include "util.h"

#define CLI_FILE_MAX (16u * 1024u * 1024u)

void cli_say_unreachable(Cli *cli, const char *error) {
        fprintf(stderr,
                "aegis: cannot reach aegisd at %s: %s (is it running? 'systemctl --user status aegis'; or "
                "set --url)\n",
                cli->client.base_url, error);
}

static int call(Cli *cli, bool quiet, const char *method, const char *path, const char *content_type,
                const char *body, Response *ret) {
        char errbuf[CURL_ERROR_SIZE + 256];
        Response resp = { 0 };
        int r;

        r = client_request(&cli->client, method, path, content_type, body, body ? strlen(body) : 0, &resp,
                           errbuf);
        if (r < 0) {
                if (!quiet)
                        cli_say_unreachable(cli, errbuf);
                return r;
        }
        if (resp.status >= 400) {
                if (!quiet) {
                        _cleanup_free_ char *m = response_error_message(&resp);
                        fprintf(stderr, "aegis: %s %s: %s\n", method, path, strempty(m));
                }
                r = resp.status == 404 ? -ENOENT : resp.status == 409 ? -EBUSY : -EIO;
                response_done(&resp);
                return r;
        }
        *ret = resp;
        return 0;
}

int cli_call(Cli *cli, const char *method, const char *path, const char *content_type, const char *body,
             Response *ret) {
        return call(cli, false, method, path, content_type, body, ret);
}

static int call_json(Cli *cli, bool quiet, const char *method, const char *path, json_object *body,
                     json_object **ret) {
        Response resp = { 0 };
        json_object *j;
        int r;

        r = call(cli, quiet, method, path, body ? "application/json" : NULL,
                 body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL, &resp);
        if (r < 0)
                return r;
        j = response_json(&resp);
        if (!j && resp.size > 0) {
                if (!quiet)
                        fprintf(stderr, "aegis: %s %s: the answer is not JSON: %.200s\n", method, path,
                                resp.body);
                response_done(&resp);
                return -EBADMSG;
        }
        response_done(&resp);
        *ret = j ? j : json_object_new_object();
        return 0;
}

int cli_call_json(Cli *cli, const char *method, const char *path, json_object *body, json_object **ret) {
        return call_json(cli, false, method, path, body, ret);
}

int cli_call_json_quiet(Cli *cli, const char *method, const char *path, json_object **ret) {
        return call_json(cli, true, method, path, NULL, ret);
}

int cli_dry_run(Cli *cli, const char *path, json_object *body) {
        char errbuf[CURL_ERROR_SIZE + 256];
        _cleanup_json_ json_object *answer = NULL;
        Response resp = { 0 };
        json_object *list, *w;
        int r;

        r = client_request(&cli->client, "POST", path, "application/json",
                           json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
                           strlen(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN)), &resp,
                           errbuf);
        if (r < 0) {
                cli_say_unreachable(cli, errbuf);
                return EXIT_AEGIS;
        }
        answer = response_json(&resp);
        if (cli_output_structured(cli) && answer)
                cli_print_object(cli, answer);
        if (resp.status < 400) {
                response_done(&resp);
                if (json_object_object_get_ex(answer, "warnings", &w) &&
                    json_object_is_type(w, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(w); i++)
                                fprintf(stderr, "aegis: warning: %s\n",
                                        strempty(json_object_get_string(json_object_array_get_idx(w, i))));
                if (!cli_output_structured(cli) && !cli->quiet)
                        printf("valid: nothing was created\n");
                return 0;
        }
        if (json_object_object_get_ex(answer, "errors", &list) &&
            json_object_is_type(list, json_type_array) && json_object_array_length(list) > 0) {
                size_t n = json_object_array_length(list);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "aegis: %s\n",
                                strempty(json_str(json_object_array_get_idx(list, i), "error")));
                fprintf(stderr, "aegis: %zu error%s: nothing was created\n", n, n == 1 ? "" : "s");
        } else {
                _cleanup_free_ char *m = response_error_message(&resp);
                fprintf(stderr, "aegis: %s\n", strempty(m));
        }
        response_done(&resp);
        return EXIT_AEGIS;
}

int cli_read_file(const char *path, char **ret, size_t *ret_size) {
        int r;

        if (streq(path, "-")) {
                char *buf = NULL, *p;
                size_t size = 0, n;
                char chunk[65536];

                while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
                        if (size + n > CLI_FILE_MAX) {
                                free(buf);
                                fprintf(stderr, "aegis: stdin: larger than %u bytes\n", CLI_FILE_MAX);
                                return -EFBIG;
                        }
                        p = realloc(buf, size + n + 1);
                        if (!p) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = p;
                        memcpy(buf + size, chunk, n);
                        size += n;
                        buf[size] = '\0';
                }
                if (!buf && !(buf = strdup("")))
                        return -ENOMEM;
                *ret = buf;
                if (ret_size)
                        *ret_size = size;
                return 0;
        }
        r = read_full_file(path, CLI_FILE_MAX, ret, ret_size);
        if (r < 0)
                fprintf(stderr, "aegis: %s: %s\n", path, r == -EFBIG ? "file too large" : strerror(-r));
        return r;
}

int cli_parse_input(const char *arg, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        json_tokener *tok;
        json_object *j;
        const char *src = arg;
        size_t end;
        int r;

        if (arg[0] == '@') {
                r = cli_read_file(arg + 1, &text, NULL);
                if (r < 0)
                        return r;
                src = text;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        /* The length includes the NUL so that a number at the very end is complete. */
        j = json_tokener_parse_ex(tok, src, (int) strlen(src) + 1);
        end = json_tokener_get_parse_end(tok);
        if (end > 0 && end <= strlen(src) && src[end - 1] == '\0')
                end--;
        if (!j || json_tokener_get_error(tok) != json_tokener_success ||
            (end < strlen(src) && src[end + strspn(src + end, " \t\r\n")])) {
                fprintf(stderr,
                        "aegis: --input%s%s: not valid JSON (%s); quote strings, e.g. --input '\"text\"'\n",
                        arg[0] == '@' ? " " : "", arg[0] == '@' ? arg + 1 : "",
                        j ? "trailing characters" : json_tokener_error_desc(json_tokener_get_error(tok)));
                json_object_put(j);
                json_tokener_free(tok);
                return -EINVAL;
        }
        json_tokener_free(tok);
        *ret = j;
        return 0;
}

const char *json_str(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return json_object_get_string(v);
}

int64_t json_int(json_object *o, const char *key, int64_t dflt) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return dflt;
        return json_object_get_int64(v);
}

char *cli_escape(const char *s) {
        char *e = curl_easy_escape(NULL, s, 0), *r;

        if (!e)
                return NULL;
        r = strdup(e);
        curl_free(e);
        return r;
}
