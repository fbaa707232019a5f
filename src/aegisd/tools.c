/* tools.c — the tool catalogue (see tools.h): the table of tools and cmd.run, the one tool
 * that runs in the container (the calls' completion machinery is tool-call.c).
 *
 * cmd.run's arguments are the reference's: command, args, cwd (/workspace), env_additions
 * (credential-looking names dropped, the model told which), timeout_secs (600),
 * max_output_bytes (1 MiB per stream: aegis-bootstrap keeps the head and the tail past it
 * and says so). */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "tools-fs.h"
#include "tools-web.h"
#include "tools.h"
#include "util.h"

#define CMD_TIMEOUT_DEFAULT 600 /* s: the reference's cmd.run default */
#define CMD_TIMEOUT_MAX 86400
#define CMD_OUTPUT_DEFAULT (1024 * 1024) /* bytes of stdout and of stderr */
#define CMD_OUTPUT_MAX (1024 * 1024)
#define CMD_ENV_MAX 64 /* env_additions entries */

static const ToolDef *const catalogue[] = {
        &tool_cmd_run,       &tool_fs_read,   &tool_fs_write,  &tool_fs_list,
        &tool_fs_create_dir, &tool_fs_delete, &tool_fs_edit,   &tool_fs_multi_edit,
        &tool_fs_grep,       &tool_fs_glob,   &tool_web_fetch, &tool_web_search,
};

const ToolDef *tool_find(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(catalogue); i++)
                if (streq(catalogue[i]->name, name))
                        return catalogue[i];
        return NULL;
}

const ToolDef *const *tool_catalogue(size_t *ret_n) {
        assert(ret_n);
        *ret_n = ELEMENTSOF(catalogue);
        return catalogue;
}

ToolPlace tool_place(const ToolDef *t, const ToolEnv *env) {
        assert(t);
        if (t->on_host)
                return t->on_host(env) ? TOOL_ON_HOST : TOOL_IN_CONTAINER;
        return t->place;
}

bool tool_available(const ToolDef *t, const ToolEnv *env) {
        ToolPlace place = tool_place(t, env);

        if (place == TOOL_ON_HOST && (!env || !env->event || !t->start))
                return false;
        if (place == TOOL_IN_CONTAINER && !t->dispatch)
                return false;
        return !t->available || t->available(env);
}

json_object *tool_definition(const ToolDef *t) {
        json_object *o = json_object_new_object();

        assert(t);
        json_object_object_add(o, "name", json_object_new_string(t->name));
        json_object_object_add(o, "description", json_object_new_string(t->description));
        json_object_object_add(o, "parameters", json_tokener_parse(t->parameters));
        return o;
}

/* ---- cmd.run ---- */

/* Names a command must not be given: the credentials of clouds, CI and model providers. */
static bool env_name_forbidden(const char *name) {
        static const char *const prefixes[] = {
                "AWS_", "AZURE_",       "GCP_",        "GOOGLE_",        "GITHUB_TOKEN",
                "CI_",  "AEGIS_SECRET", "AEGIS_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
        };

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(name, prefixes[i]))
                        return true;
        return false;
}

static bool env_name_valid(const char *name) {
        if (isempty(name) || strchr(name, '=') || strlen(name) > 256)
                return false;
        return true;
}

static json_object *cmd_run_dispatch(json_object *args, char **ret_why, char **ret_notes) {
        _cleanup_free_ char *dropped = NULL;
        json_object *v, *o, *a, *env;
        const char *command, *cwd;
        int64_t timeout = CMD_TIMEOUT_DEFAULT, max_out = CMD_OUTPUT_DEFAULT;
        size_t n_env = 0;

        *ret_why = *ret_notes = NULL;
        command = json_object_is_type(args, json_type_object) &&
                                  json_object_object_get_ex(args, "command", &v) &&
                                  json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v)
                          : NULL;
        if (isempty(command)) {
                *ret_why = strdup("\"command\" (a non-empty string) is required");
                return NULL;
        }
        a = json_object_new_array();
        if (json_object_object_get_ex(args, "args", &v) && v) {
                if (!json_object_is_type(v, json_type_array))
                        goto bad_args;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(e, json_type_string) &&
                            !json_object_is_type(e, json_type_int) &&
                            !json_object_is_type(e, json_type_double))
                                goto bad_args;
                        json_object_array_add(a, json_object_new_string(json_object_get_string(e)));
                }
        }
        cwd = json_object_object_get_ex(args, "cwd", &v) && json_object_is_type(v, json_type_string)
                      ? json_object_get_string(v)
                      : NULL;
        if (json_object_object_get_ex(args, "timeout_secs", &v) && v)
                timeout = json_object_get_int64(v);
        if (json_object_object_get_ex(args, "max_output_bytes", &v) && v)
                max_out = json_object_get_int64(v);
        timeout = timeout < 1 ? 1 : timeout > CMD_TIMEOUT_MAX ? CMD_TIMEOUT_MAX : timeout;
        max_out = max_out < 1 ? 1 : max_out > CMD_OUTPUT_MAX ? CMD_OUTPUT_MAX : max_out;

        env = json_object_new_object();
        if (json_object_object_get_ex(args, "env_additions", &v) && v) {
                if (!json_object_is_type(v, json_type_object)) {
                        json_object_put(env);
                        json_object_put(a);
                        *ret_why = strdup("\"env_additions\" must be an object of strings");
                        return NULL;
                }
                json_object_object_foreach (v, key, val) {
                        if (!json_object_is_type(val, json_type_string) || !env_name_valid(key) ||
                            n_env >= CMD_ENV_MAX)
                                continue;
                        if (env_name_forbidden(key)) {
                                char *m =
                                        asprintf_safe("%s%s%s", strempty(dropped), dropped ? ", " : "", key);
                                free(dropped);
                                dropped = m;
                                continue;
                        }
                        json_object_object_add(env, key, json_object_get(val));
                        n_env++;
                }
        }
        if (dropped)
                *ret_notes =
                        asprintf_safe("env_additions dropped (names reserved for credentials): %s", dropped);

        o = json_object_new_object();
        json_object_object_add(o, "action", json_object_new_string("exec"));
        json_object_object_add(o, "command", json_object_new_string(command));
        json_object_object_add(o, "args", a);
        json_object_object_add(o, "cwd", json_object_new_string(isempty(cwd) ? TOOL_WORKSPACE : cwd));
        json_object_object_add(o, "env_additions", env);
        json_object_object_add(o, "timeout_secs", json_object_new_int64(timeout));
        json_object_object_add(o, "max_output_bytes", json_object_new_int64(max_out));
        return o;

bad_args:
        json_object_put(a);
        *ret_why = strdup("\"args\" must be an array of strings");
        return NULL;
}

const ToolDef tool_cmd_run = {
        .name = TOOL_CMD_RUN,
        .description = "Run a command in the agent's container and return its exit code, stdout and stderr.",
        .parameters =
                "{\"type\":\"object\",\"properties\":{"
                "\"command\":{\"type\":\"string\",\"description\":\"The program to run (a path or a name "
                "on PATH); a whole shell command line when args is absent and the image has /bin/sh.\"},"
                "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"Its "
                "arguments, passed without a shell.\"},"
                "\"cwd\":{\"type\":\"string\",\"description\":\"Working directory (default /workspace).\"},"
                "\"env_additions\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"},"
                "\"description\":\"Environment variables to add (names of credentials such as AWS_*, "
                "GITHUB_TOKEN or OPENAI_API_KEY are dropped).\"},"
                "\"timeout_secs\":{\"type\":\"integer\",\"description\":\"Kill it after this many seconds "
                "(default 600).\"},"
                "\"max_output_bytes\":{\"type\":\"integer\",\"description\":\"Keep at most this many bytes "
                "of stdout and of stderr, the first and the last half (default 1048576).\"}},"
                "\"required\":[\"command\"]}",
        .place = TOOL_IN_CONTAINER,
        .dispatch = cmd_run_dispatch,
};
