/* tool-call.h — what a tool is declared with and how a host tool completes: ToolDef, the
 * ToolEnv a host call may use, and ToolCall, one call on its way to its done callback
 * (tool-call.c). The catalogue (tools.h) and every tool implementation (tools-fs.c,
 * tools-web.c, …) use this file; it uses none of them.
 *
 * What must stay true: a started host call calls its done exactly once, never from inside
 * start(), unless tool_call_cancel() came first (then never); nothing here logs. */
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
        /* A tool with both start and dispatch: whether it runs on the host with this env
         * (else in the container). NULL = always place. */
        bool (*on_host)(const ToolEnv *env);
} ToolDef;

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
