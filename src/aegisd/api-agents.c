/* api-agents.c — /v1/agents: deploy a manifest (stored canonical, by name and version),
 * list, get, look up by name, change, delete, list versions, follow, execute. POST /v1/agents
 * takes {"manifest": <YAML text or object>}, the manifest itself as JSON (the reference's
 * body) or YAML (Content-Type: application/yaml or text/yaml) and answers 201 {"id",
 * "agent_id", "name", "version", "deployed_at", "warnings"}.
 *
 * An agent is one deployed name+version (its id); the agent of a name is its most recently
 * deployed version. metadata.description and metadata.labels of the deployed document are
 * kept in the stored manifest (the canonical plan has no use for them) so the agent's body
 * shows them and PATCH changes them there; the result must still parse as a manifest.
 *
 * Agents are named per tenant: every route sees only the caller's tenant's (another tenant's
 * agent is 404 exactly as a missing one), and a deploy under a name another tenant uses
 * creates the caller's own. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "api-agents.h"
#include "api-executions.h"
#include "api-limits.h"
#include "api-manifest.h"
#include "api-request.h"
#include "api-store-error.h"
#include "executions.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "util.h"
#include "yaml-tree.h"

#define VERSIONS_DEFAULT 50

static json_object *agent_json(const StoreAgent *a, bool with_manifest) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_json_ json_object *m = a->manifest_json ? json_tokener_parse(a->manifest_json) : NULL;
        json_object *md, *v, *description = NULL, *labels = NULL;
        int k;

        if (!o)
                return NULL;
        if (m && json_object_object_get_ex(m, "metadata", &md)) {
                if (json_object_object_get_ex(md, "description", &v))
                        description = v;
                if (json_object_object_get_ex(md, "labels", &v))
                        labels = v;
        }
        k = json_add_string(o, "agent_id", a->id);
        if (k >= 0)
                k = json_add_string(o, "id", a->id);
        if (k >= 0)
                k = json_add_string(o, "name", strempty(a->name));
        if (k >= 0)
                k = json_add_string(o, "version", strempty(a->version));
        if (k >= 0)
                k = json_add_timestamp(o, "created_at", a->created_at);
        if (k >= 0)
                k = json_add_timestamp(o, "updated_at", a->updated_at);
        if (k >= 0)
                k = json_add_nullable(o, "description", json_object_get(description));
        if (k >= 0)
                k = json_add_obj(o, "labels", labels ? json_object_get(labels) : json_object_new_object());
        if (k >= 0)
                k = json_add_string(o, "status", "active"); /* deleted ones are gone */
        if (k >= 0 && with_manifest && m)
                k = json_add_obj(o, "manifest", json_object_get(m));
        return k < 0 ? NULL : TAKE_PTR(o);
}

/* Copies metadata.description and metadata.labels of the deployed document (text, already
 * accepted by manifest_parse()) into the canonical JSON *canonical. */
static int keep_metadata(const char *text, size_t n, char **canonical) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        const YamlNode *md, *d, *l;
        _cleanup_json_ json_object *c = NULL;
        json_object *cmd, *j = NULL;
        Error e = ERROR_INIT;
        char *s;

        if (yaml_tree_parse(text, n, "manifest", NULL, &doc, &e) < 0)
                return 0; /* accepted once: cannot happen, and nothing to keep then */
        md = yaml_mapping_get(doc->root, "metadata");
        d = md ? yaml_mapping_get(md, "description") : NULL;
        l = md ? yaml_mapping_get(md, "labels") : NULL;
        if (!d && !l)
                return 0;
        c = json_tokener_parse(*canonical);
        if (!c)
                return -ENOMEM;
        if (!json_object_object_get_ex(c, "metadata", &cmd) &&
            json_add_obj(c, "metadata", cmd = json_object_new_object()) < 0)
                return -ENOMEM;
        if (d && yaml_node_to_json(d, &j, &e) >= 0 && json_add_nullable(cmd, "description", j) < 0)
                return -ENOMEM;
        if (l && yaml_node_to_json(l, &j, &e) >= 0 && json_add_nullable(cmd, "labels", j) < 0)
                return -ENOMEM;
        s = strdup_or_null(
                json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!s)
                return -ENOMEM;
        free(*canonical);
        *canonical = s;
        return 0;
}

static int deploy(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_free_ char *canonical = NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_json_ json_object *answer = NULL;
        json_object *m;
        StoreAgent a = { 0 };
        char id[UUID_STRING_MAX];
        const char *text, *file = "request body";
        Error e = ERROR_INIT;
        Refusals f;
        size_t n;
        int k, dry_run;

        dry_run = api_query_dry_run(r);
        if (dry_run < 0)
                return 0;
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
                                return http_respond_error(r, 400, "manifest",
                                                          "manifest: expected YAML text or a JSON object");
                        }
                } else
                        text = http_request_body(r, &n);
        }
        if (dry_run) {
                k = api_check_manifest(r, text, n, file, &plan);
                if (k != 0)
                        return k < 0 ? k : 0;
        } else {
                k = manifest_parse(text, n, file, &plan, &e);
                if (k < 0)
                        return api_respond_manifest_error(r, k, &e);
        }
        /* An agent that could never run here is refused when deployed, not at each execute. */
        refusals_init(&f, r, dry_run);
        k = api_check_ceilings(x->config, &f, plan);
        if (k == 0 && isempty(plan->name))
                k = refusals_add(&f, 400, "metadata.name",
                                 "metadata.name: a deployed agent needs a name (e.g. name: my-agent)");
        if (k == 0)
                k = refusals_finish(&f);
        refusals_done(&f);
        if (k != 0)
                return k < 0 ? k : 0;
        if (dry_run)
                return api_respond_dry_run(r, plan);
        canonical = manifest_plan_to_json_string(plan);
        if (!canonical || keep_metadata(text, n, &canonical) < 0)
                return -ENOMEM;
        k = store_agent_put(x->store, http_request_tenant(r), plan->name,
                            plan->version ? plan->version : "latest", canonical, id);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agent", plan->name);
        supervisor_agents_changed(x->supervisor);
        log_info("agent %s %s of tenant %s deployed (%s)", plan->name,
                 plan->version ? plan->version : "latest", http_request_tenant(r), id);
        answer = json_object_new_object();
        if (!answer)
                return -ENOMEM;
        k = json_add_string(answer, "id", id);
        if (k >= 0)
                k = json_add_string(answer, "agent_id", id);
        if (k >= 0 && store_agent_get(x->store, http_request_tenant(r), id, NULL, &a) >= 0) {
                k = json_add_timestamp(answer, "deployed_at", a.updated_at);
                store_agent_done(&a);
        }
        if (k >= 0)
                k = json_add_string(answer, "name", plan->name);
        if (k >= 0)
                k = json_add_string(answer, "version", plan->version ? plan->version : "latest");
        if (k >= 0)
                k = json_add_obj(answer, "warnings", json_strv(plan->warnings));
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 201, TAKE_PTR(answer));
}

static int list_agents(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        StoreAgent *list = NULL;
        _cleanup_json_ json_object *answer = NULL;
        json_object *arr = NULL;
        size_t n = 0;
        int k;

        k = store_agent_list(x->store, http_request_tenant(r), &list, &n);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agents", NULL);
        answer = json_object_new_object();
        k = answer ? json_add_obj(answer, "agents", arr = json_object_new_array()) : -ENOMEM;
        for (size_t i = 0; k >= 0 && i < n; i++) {
                json_object *one = agent_json(&list[i], false);
                if (!one || json_object_array_add(arr, one) < 0) {
                        json_object_put(one);
                        k = -ENOMEM;
                }
        }
        store_agent_array_free(list, n);
        if (k >= 0) /* the reference SDK's {items, count}: the same page */
                k = json_add_obj(answer, "items", json_object_get(arr));
        if (k >= 0)
                k = json_add_uint(answer, "count", n);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(answer));
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
        if (!o)
                return -ENOMEM;
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

/* The agent of the route's {param} (an id or a name, ?version=) of the caller's tenant: 0, or
 * 1 once answered (404 exactly as for a missing one). */
static int find_agent(Executions *x, HttpRequest *r, const char *param, StoreAgent *ret) {
        const char *key = http_request_param(r, param);
        int k;

        k = store_agent_get(x->store, http_request_tenant(r), key, http_request_query(r, "version"), ret);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "agent", key) < 0 ? -EIO : 1;
        return 0;
}

static int lookup_agent(HttpRequest *r, void *userdata) {
        StoreAgent a = { 0 };
        json_object *o;
        int k;

        k = find_agent(userdata, r, "name", &a);
        if (k != 0)
                return k > 0 ? 0 : k;
        o = agent_json(&a, true);
        store_agent_done(&a);
        if (!o)
                return -ENOMEM;
        return http_respond_json_unref(r, 200, o);
}

/* DELETE /v1/agents/{id}: the agent (every version of its name; ?version= only that one).
 * Executions keep their own copy of the manifest and are not touched. */
static int delete_agent(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *version = http_request_query(r, "version");
        StoreAgent a = { 0 };
        _cleanup_json_ json_object *o = NULL;
        uint64_t n = 0;
        int k;

        k = find_agent(x, r, "name", &a);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = store_agent_delete_versions(x->store, http_request_tenant(r), a.name, version, &n);
        if (k < 0) {
                k = api_respond_store_error(r, x->store, k, "agent", a.name);
                store_agent_done(&a);
                return k;
        }
        supervisor_agents_changed(x->supervisor);
        log_info("agent %s of tenant %s deleted (%" PRIu64 " version(s))", a.name, http_request_tenant(r),
                 n);
        o = json_object_new_object();
        k = o ? json_add_string(o, "status", "deleted") : -ENOMEM;
        if (k >= 0)
                k = json_add_string(o, "id", a.id);
        if (k >= 0)
                k = json_add_string(o, "name", a.name);
        if (k >= 0)
                k = json_add_uint(o, "versions_deleted", n);
        store_agent_done(&a);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}

/* {id, agent_id, version, deployed_at}: one version of the agent agent_id, to arr. */
static int add_version(json_object *arr, const StoreAgent *version, const char *agent_id) {
        _cleanup_json_ json_object *v = json_object_new_object();
        int k;

        if (!v)
                return -ENOMEM;
        k = json_add_string(v, "id", version->id);
        if (k >= 0)
                k = json_add_string(v, "agent_id", agent_id);
        if (k >= 0)
                k = json_add_string(v, "version", strempty(version->version));
        if (k >= 0)
                k = json_add_timestamp(v, "deployed_at", version->updated_at);
        if (k < 0)
                return k;
        if (json_object_array_add(arr, v) < 0)
                return -ENOMEM;
        TAKE_PTR(v);
        return 0;
}

/* GET /v1/agents/{id}/versions?limit=: the deployed versions of the agent's name, newest
 * first: {"versions":[{id, agent_id, version, deployed_at}], "count"}. */
static int agent_versions(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *limit = http_request_query(r, "limit");
        StoreAgent a = { 0 }, *list = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *arr = NULL;
        unsigned l = VERSIONS_DEFAULT;
        size_t n = 0, count = 0;
        int k;

        if (limit && (safe_atou(limit, &l) < 0 || l == 0 || l > STORE_LIST_MAX))
                return http_respond_error(r, 400, "limit",
                                          "limit: expected an integer from 1 to %d, got \"%s\"",
                                          STORE_LIST_MAX, limit);
        k = find_agent(x, r, "name", &a);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = store_agent_list(x->store, http_request_tenant(r), &list, &n);
        if (k < 0) {
                store_agent_done(&a);
                return api_respond_store_error(r, x->store, k, "agents", NULL);
        }
        o = json_object_new_object();
        k = o ? json_add_obj(o, "versions", arr = json_object_new_array()) : -ENOMEM;
        for (size_t i = 0; k >= 0 && i < n && count < l; i++) {
                if (!streq(list[i].name, a.name))
                        continue;
                k = add_version(arr, &list[i], a.id);
                count++;
        }
        store_agent_array_free(list, n);
        store_agent_done(&a);
        if (k >= 0)
                k = json_add_uint(o, "count", count);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}

/* PATCH /v1/agents/{id} {"description", "labels"}: what can change without a new deploy
 * (null removes). The manifest must still parse with the change. */
static int patch_agent(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_json_ json_object *body = NULL, *m = NULL;
        json_object *md, *o;
        StoreAgent a = { 0 };
        Error e = ERROR_INIT;
        const char *text;
        int k;

        if (api_parse_json_body(r, &body) < 0)
                return 0;
        if (!json_object_is_type(body, json_type_object))
                return http_respond_error(r, 400, NULL, "the request body must be a JSON object");
        json_object_object_foreach (body, key, val) {
                if (streq(key, "description")) {
                        if (val && !json_object_is_type(val, json_type_string))
                                return http_respond_error(r, 400, key, "description: expected text or null");
                } else if (streq(key, "labels")) {
                        if (val && !json_object_is_type(val, json_type_object))
                                return http_respond_error(
                                        r, 400, key, "labels: expected an object of text values or null");
                } else
                        return http_respond_error(r, 400, key,
                                                  "unknown field \"%s\": only description and labels can "
                                                  "change; deploy a new version for the rest",
                                                  key);
        }
        k = find_agent(x, r, "name", &a);
        if (k != 0)
                return k > 0 ? 0 : k;
        m = json_tokener_parse(a.manifest_json);
        if (!m) {
                store_agent_done(&a);
                return -ENOMEM;
        }
        k = 0;
        if (!json_object_object_get_ex(m, "metadata", &md))
                k = json_add_obj(m, "metadata", md = json_object_new_object());
        json_object_object_foreach (body, key2, val2) {
                if (k < 0)
                        break;
                if (val2)
                        k = json_add_obj(md, key2, json_object_get(val2));
                else
                        json_object_object_del(md, key2);
        }
        if (k < 0) {
                store_agent_done(&a);
                return k;
        }
        text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        k = manifest_parse(text, strlen(text), "manifest", &plan, &e);
        if (k < 0) {
                store_agent_done(&a);
                e.http_status = 400;
                return http_respond_error_from_code(r, &e, API_ERROR_INVALID_MANIFEST);
        }
        k = store_agent_set_manifest(x->store, a.id, text);
        if (k < 0) {
                k = api_respond_store_error(r, x->store, k, "agent", a.id);
                store_agent_done(&a);
                return k;
        }
        supervisor_agents_changed(x->supervisor);
        free(a.manifest_json);
        a.manifest_json = strdup(text);
        o = a.manifest_json ? agent_json(&a, true) : NULL;
        store_agent_done(&a);
        if (!o)
                return -ENOMEM;
        return http_respond_json_unref(r, 200, o);
}

static int agent_events(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        StoreAgent a = { 0 };
        char id[UUID_STRING_MAX];
        int k;

        k = find_agent(x, r, "name", &a);
        if (k != 0)
                return k > 0 ? 0 : k;
        memcpy(id, a.id, sizeof id);
        store_agent_done(&a);
        return api_agent_events(x, r, id);
}

const HttpRoute api_agent_routes[] = {
        { HTTP_POST, "/v1/agents", deploy },
        { HTTP_GET, "/v1/agents", list_agents },
        { HTTP_GET, "/v1/agents/lookup/{name}", lookup_agent },
        { HTTP_GET, "/v1/agents/{name}", get_agent },
        { HTTP_PATCH, "/v1/agents/{name}", patch_agent },
        { HTTP_DELETE, "/v1/agents/{name}", delete_agent },
        { HTTP_GET, "/v1/agents/{name}/versions", agent_versions },
        { HTTP_GET, "/v1/agents/{name}/events", agent_events },
        { HTTP_POST, "/v1/agents/{name}/execute", execute_agent },
        {},
};
