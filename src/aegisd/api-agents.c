/* api-agents.c — /v1/agents: deploy a manifest (stored canonical, by name and version),
 * list, get, execute. POST /v1/agents takes {"manifest": <YAML text or object>}, the
 * manifest itself as JSON (the reference's body) or YAML (Content-Type: application/yaml)
 * and answers 201 {"agent_id", "name", "version", "warnings"}.
 *
 * Agents are named per tenant: every route sees only the caller's tenant's (another tenant's
 * agent is 404 exactly as a missing one), and a deploy under a name another tenant uses
 * creates the caller's own. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "api-limits.h"
#include "executions.h"
#include "log.h"
#include "manifest.h"
#include "util.h"

static json_object *agent_json(const StoreAgent *a, bool with_manifest) {
        json_object *o = json_object_new_object();
        _cleanup_free_ char *c = api_timestamp(a->created_at), *u = api_timestamp(a->updated_at);

        json_object_object_add(o, "agent_id", json_object_new_string(a->id));
        json_object_object_add(o, "id", json_object_new_string(a->id));
        json_object_object_add(o, "name", json_object_new_string(strempty(a->name)));
        json_object_object_add(o, "version", json_object_new_string(strempty(a->version)));
        json_object_object_add(o, "created_at", c ? json_object_new_string(c) : NULL);
        json_object_object_add(o, "updated_at", u ? json_object_new_string(u) : NULL);
        if (with_manifest && a->manifest_json)
                json_object_object_add(o, "manifest", json_tokener_parse(a->manifest_json));
        return o;
}

static int deploy(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_free_ char *canonical = NULL;
        json_object *body = NULL, *m, *answer, *w;
        char id[UUID_STRING_MAX];
        const char *text, *file = "request body";
        Error e = ERROR_INIT;
        size_t n;
        int k;

        if (api_content_is_yaml(r))
                text = http_request_body(r, &n);
        else {
                if (api_parse_json_body(r, &body) < 0)
                        return 0;
                if (json_object_object_get_ex(body, "manifest", &m)) {
                        if (json_object_is_type(m, json_type_string)) {
                                text = json_object_get_string(m);
                                n = (size_t) json_object_get_string_len(m);
                                file = "manifest";
                        } else if (json_object_is_type(m, json_type_object)) {
                                text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY);
                                n = strlen(text);
                                file = "manifest";
                        } else {
                                json_object_put(body);
                                return http_respond_error(r, 400, "manifest",
                                                          "manifest: expected YAML text or a JSON object");
                        }
                } else
                        text = http_request_body(r, &n);
        }
        k = manifest_parse(text, n, file, &plan, &e);
        json_object_put(body);
        if (k < 0) {
                if (!e.http_status)
                        e.http_status = api_manifest_error_status(k);
                return http_respond_error_from(r, &e);
        }
        /* An agent that could never run here is refused when deployed, not at each execute. */
        if (api_check_ceilings(x, r, plan) != 0)
                return 0;
        if (isempty(plan->name))
                return http_respond_error(
                        r, 400, "metadata.name",
                        "metadata.name: a deployed agent needs a name (e.g. name: my-agent)");
        canonical = manifest_plan_to_json_string(plan);
        if (!canonical)
                return -ENOMEM;
        k = store_agent_put(x->store, http_request_tenant(r), plan->name,
                            plan->version ? plan->version : "latest", canonical, id);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agent", plan->name);
        log_info("agent %s %s of tenant %s deployed (%s)", plan->name,
                 plan->version ? plan->version : "latest", http_request_tenant(r), id);
        answer = json_object_new_object();
        json_object_object_add(answer, "agent_id", json_object_new_string(id));
        json_object_object_add(answer, "name", json_object_new_string(plan->name));
        json_object_object_add(answer, "version",
                               json_object_new_string(plan->version ? plan->version : "latest"));
        w = json_object_new_array();
        for (char **p = plan->warnings; p && *p; p++)
                json_object_array_add(w, json_object_new_string(*p));
        json_object_object_add(answer, "warnings", w);
        return http_respond_json_unref(r, 201, answer);
}

static int list_agents(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        StoreAgent *list = NULL;
        json_object *answer, *arr;
        size_t n = 0;
        int k;

        k = store_agent_list(x->store, http_request_tenant(r), &list, &n);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agents", NULL);
        answer = json_object_new_object();
        arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, agent_json(&list[i], false));
        json_object_object_add(answer, "agents", arr);
        store_agent_array_free(list, n);
        return http_respond_json_unref(r, 200, answer);
}

static int get_agent(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *name = http_request_param(r, "name");
        StoreAgent a = { 0 };
        json_object *o;
        int k;

        k = store_agent_get(x->store, http_request_tenant(r), name, http_request_query(r, "version"), &a);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agent", name);
        o = agent_json(&a, true);
        store_agent_done(&a);
        return http_respond_json_unref(r, 200, o);
}

static int execute_agent(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *name = http_request_param(r, "name");
        json_object *body = NULL, *input = NULL;
        StoreAgent a = { 0 };
        size_t n;
        int k;

        (void) http_request_body(r, &n);
        if (n > 0) {
                if (api_parse_json_body(r, &body) < 0)
                        return 0;
                (void) json_object_object_get_ex(body, "input", &input);
        }
        k = store_agent_get(x->store, http_request_tenant(r), name, http_request_query(r, "version"), &a);
        if (k < 0) {
                json_object_put(body);
                return api_respond_store_error(r, x->store, k, "agent", name);
        }
        k = api_submit(x, r, input, a.id, a.name, a.manifest_json, strlen(a.manifest_json), a.name);
        store_agent_done(&a);
        json_object_put(body);
        return k;
}

const HttpRoute api_agent_routes[] = {
        { HTTP_POST, "/v1/agents", deploy },
        { HTTP_GET, "/v1/agents", list_agents },
        { HTTP_GET, "/v1/agents/{name}", get_agent },
        { HTTP_POST, "/v1/agents/{name}/execute", execute_agent },
        {},
};
