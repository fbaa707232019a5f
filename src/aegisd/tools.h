/* tools.h — the tool catalogue of the inner loop (issue 21): every tool a model can be offered,
 * its JSON-schema definition, where it runs and how.
 *
 *   TOOL_IN_CONTAINER  handed to aegis-bootstrap as a {"type":"dispatch"} answer (cmd.run);
 *                      ToolDef.dispatch turns the model's arguments into the dispatch's fields.
 *   TOOL_ON_HOST       run by aegisd itself (fs.* on the execution's volume, web.*):
 *                      ToolDef.start begins the call; its completion callback runs later, once,
 *                      from the event loop, with the result object the model gets.
 *
 * The set offered to a model is spec.tools ∩ what the security context allows (the owner's
 * policy hook, run-dispatch.h) ∩ what is available here (ToolDef.available: a tool whose
 * backend is not configured is not offered).
 *
 * What must stay true:
 *  - a tool's own failures (bad arguments, a missing file, a path outside the volume, a
 *    command that fails) are results for the model: {"error": "…"} (plus what else helps);
 *    start() returns < 0 only for what the model cannot fix (out of memory, no event loop);
 *  - a started host call calls its done exactly once, never from inside start(), unless
 *    tool_call_cancel() came first (then never);
 *  - results are bounded (each tool says how); nothing here logs.
 *
 * Adding a tool: a ToolDef (name, description, parameters schema, place, available,
 * dispatch or start) declared at the end of this header and listed in the catalogue of
 * tools.c. Its implementation lives in its own file
 * (tools-fs.c, tools-web.c, …) and completes through tool_call_new()/tool_call_finish(), or
 * tool_call_finish_later() when it computes its result at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macros.h"

struct json_object;
typedef struct sd_event sd_event;

#define TOOL_CMD_RUN "cmd.run"
#define TOOL_WORKSPACE "/workspace" /* relative paths and cmd.run's cwd are under this */

typedef enum ToolPlace {
        TOOL_IN_CONTAINER,
        TOOL_ON_HOST,
} ToolPlace;

/* A volume of the execution as the host sees it. */
typedef struct ToolVolume {
        const char *mount_path; /* in the container ("/workspace") */
        const char *dir; /* on the host: storage.root/<tenant>/<id> */
        bool read_only;
} ToolVolume;

/* What host tools may use; borrowed, valid for the conversation's life (the Run owns it). */
typedef struct ToolEnv {
        sd_event *event; /* completions are delivered from here; NULL = no host tool available */
        const ToolVolume *volumes; /* spec.volumes[], mounted; none = the fs tools are not offered */
        size_t n_volumes;
        uid_t uid; /* the execution's user: owner of what the fs tools create (when aegisd is root) */
        gid_t gid;
        /* web.fetch: whether one request may go to url, whose host is host (a name or an IP
         * literal): the network_policy and the security context's domain_allowlist, asked for
         * the first request and for every redirect hop. 0 allowed; 1 refused with *ret_reason
         * (malloc'd, for the model; may be NULL); < 0 an error (refused). NULL = web.fetch is
         * not offered (network_policy mode none). */
        int (*web_host_check)(void *userdata, const char *url, const char *host, char **ret_reason);
        void *web_userdata;
        /* web.fetch connects to no loopback, link-local or unspecified address, whatever name
         * led there (a network_policy that lists no host: nothing vouches for local ones). */
        bool web_public_only;
        /* web.search: the operator's search provider (tools.web_search), POSTed to without
         * web_host_check (its endpoint is not the model's choice); offered only when web.fetch
         * could be (web_host_check set) and search_endpoint is. search_key: the resolved key
         * (NULL = none), sent as "Authorization: Bearer" and nowhere else. */
        const char *search_endpoint;
        const char *search_key;
        unsigned search_max_results; /* the most results of one call, 1..20 */
        unsigned search_timeout_secs; /* one call, connect to answer; 0 = 30 */
} ToolEnv;

typedef struct ToolCall ToolCall;

/* A host call's end: result is the object the model gets (taken; {"error": …} for a tool
 * error). c is freed when this returns. */
typedef void (*tool_done_fn)(struct json_object *result, void *userdata);

typedef struct ToolDef {
        const char *name; /* "cmd.run", "fs.read", … */
        const char *description;
        const char *parameters; /* JSON schema of the arguments (an object) */
        ToolPlace place;
        /* Whether the tool can run with this env (NULL = always). */
        bool (*available)(const ToolEnv *env);
        /* TOOL_IN_CONTAINER: the dispatch's fields (action, command, …) from the arguments;
         * NULL and *ret_why (malloc'd) when they are unusable. *ret_notes: what the model
         * should be told about what was changed (e.g. dropped variables), or NULL. */
        struct json_object *(*dispatch)(struct json_object *args, char **ret_why, char **ret_notes);
        /* TOOL_ON_HOST: begins the call. */
        int (*start)(const ToolEnv *env, struct json_object *args, tool_done_fn done, void *userdata,
                     ToolCall **ret);
} ToolDef;

/* The tool named so, NULL when there is none. */
const ToolDef *tool_find(const char *name);
/* The catalogue, in a stable order (for documentation and tests). */
const ToolDef *const *tool_catalogue(size_t *ret_n);
/* Whether t can run with env (available() and, for host tools, an event loop). */
bool tool_available(const ToolDef *t, const ToolEnv *env);
/* {"name","description","parameters"}: what llm.h offers the model (new reference). */
struct json_object *tool_definition(const ToolDef *t);

/* For tool implementations. A call that completes later: cancel(impl) is called by
 * tool_call_cancel() (it must stop the work and free impl), never after tool_call_finish(). */
int tool_call_new(tool_done_fn done, void *userdata, void (*cancel)(void *impl), void *impl, ToolCall **ret);
/* Delivers result (taken) to done and frees c. Call from the event loop, not from start(). */
void tool_call_finish(ToolCall *c, struct json_object *result);
/* A result known at once: delivered on the next turn of env's event loop. */
int tool_call_finish_later(const ToolEnv *env, struct json_object *result, tool_done_fn done, void *userdata,
                           ToolCall **ret);
/* Stops a call: its done is never called. Takes NULL. */
void tool_call_cancel(ToolCall *c);

/* {"error": "<formatted>"} (for results). */
struct json_object *tool_error(const char *fmt, ...) _printf_(1, 2);

/* The tools (one line per implementation file). */
extern const ToolDef tool_cmd_run; /* tools.c */
extern const ToolDef tool_fs_read, tool_fs_write, tool_fs_list, tool_fs_create_dir, tool_fs_delete,
        tool_fs_edit, tool_fs_multi_edit, tool_fs_grep, tool_fs_glob; /* tools-fs.c */
extern const ToolDef tool_web_fetch, tool_web_search; /* tools-web.c */
