/* api-executions.c — /v1/executions: submit, list, get, logs (followable), events (SSE:
 * history, then live), cancel, delete.
 *
 * Bodies: {"manifest": <YAML text or object>, "input": <any>}, the raw manifest with
 * Content-Type: application/yaml, or the reference's {"agent_id", "input",
 * "context_overrides"}. Answers 202 {"execution_id", "status", "warnings"}. Errors are
 * {"error", "field"}: manifest errors 400 with the manifest's line, unknown ids 404, state
 * conflicts 409; the HTTP layer answers 413 beyond api.max_body_bytes.
 *
 * Every route sees only the caller's tenant (http_request_tenant()): another tenant's execution
 * is answered exactly as a missing id, 404 with the same body (api_execution_get()).
 *
 * Streams read the store, so they work whichever node runs the execution: a local event
 * wakes them at once, a timer catches events written by other nodes. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "api-executions.h"
#include "api-limits.h"
#include "api-manifest.h"
#include "api-request.h"
#include "api-store-error.h"
#include "executions.h"
#include "run-dispatch.h"
#include "json-util.h"
#include "judge-execution.h"
#include "list.h"
#include "log.h"
#include "manifest.h"
#include "util.h"

#define STREAM_POLL_USEC (500 * USEC_PER_MSEC)
#define LOG_POLL_USEC (500 * USEC_PER_MSEC)

int api_execution_get(Executions *x, HttpRequest *r, const char *id, StoreExecution *ret) {
        StoreExecution e = { 0 };
        int k;

        assert(x);
        assert(r);
        assert(ret);
        k = store_execution_get(x->store, id, &e);
        if (k < 0)
                return k;
        if (!streq_ptr(e.tenant_id, http_request_tenant(r))) {
                store_execution_done(&e);
                return -ENOENT;
        }
        *ret = e;
        return 0;
}

/* 202 Accepted: {"execution_id", "status"} and "warnings" (taken) unless NULL. */
static int respond_accepted(HttpRequest *r, const char *id, const char *status, json_object *warnings) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int k = o ? 0 : -ENOMEM;

        if (k >= 0)
                k = json_add_string(o, "execution_id", id);
        if (k >= 0)
                k = json_add_string(o, "status", status);
        if (k >= 0 && warnings)
                k = json_add_obj(o, "warnings", TAKE_PTR(warnings));
        json_object_put(warnings); /* not added */
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 202, TAKE_PTR(o));
}

/* The payload of EVENT_EXECUTION_CREATED; NULL when out of memory. */
static json_object *created_event(int64_t max_iterations) {
        _cleanup_json_ json_object *p = json_object_new_object();

        if (!p || json_add_string(p, "status", "pending") < 0 ||
            json_add_int(p, "max_iterations", max_iterations) < 0)
                return NULL;
        return TAKE_PTR(p);
}

/* The payload of EVENT_LIMITS_UNENFORCED; NULL when out of memory. */
static json_object *limits_unenforced_event(const char *limits, const char *reason) {
        _cleanup_json_ json_object *p = json_object_new_object();

        if (!p || json_add_string(p, "limits", limits) < 0 || json_add_string(p, "reason", reason) < 0)
                return NULL;
        return TAKE_PTR(p);
}

/* Every judge_agent of the plan's validators must be a deployed agent of the caller's tenant
 * (another tenant's reads exactly as a missing one) that is not itself judged by agents: a
 * refusal in f (400 naming the judge's field) for each that is not. 0 to go on, 1 when
 * answered. */
static int check_judge_agents(Executions *x, Refusals *f, const ManifestPlan *plan) {
        HttpRequest *r = f->request;

        for (size_t i = 0; i < plan->n_validators; i++) {
                const ManifestValidator *v = &plan->validators[i];
                for (size_t n = 0; n < v->n_judges; n++) {
                        const ManifestJudge *j = &v->judges[n];
                        StoreAgent a = {};
                        char field[96];
                        int k;

                        if (!j->agent)
                                continue;
                        if (v->type == MANIFEST_VALIDATOR_SEMANTIC)
                                (void) snprintf(field, sizeof field,
                                                "spec.execution.validation[%zu].judge_agent", i);
                        else
                                (void) snprintf(field, sizeof field,
                                                "spec.execution.validation[%zu].judges[%zu]", i, n);
                        k = store_agent_get(x->store, http_request_tenant(r), j->agent, j->agent_version,
                                            &a);
                        if (k == -ENOENT) {
                                k = refusals_add(f, 400, field,
                                                 "%s: no deployed agent \"%s%s%s\" (deploy it with POST "
                                                 "/v1/agents)",
                                                 field, j->agent, j->agent_version ? ":" : "",
                                                 strempty(j->agent_version));
                                if (k != 0)
                                        return k;
                                continue;
                        }
                        if (k < 0) {
                                f->answered = true;
                                return api_respond_store_error(r, x->store, k, "agent", j->agent) < 0 ? -EIO
                                                                                                      : 1;
                        }
                        k = judge_execution_check_agent(a.manifest_json);
                        store_agent_done(&a);
                        if (k == -ELOOP)
                                k = refusals_add(f, 400, field,
                                                 "%s: the agent \"%s\" is itself judged by agents "
                                                 "(judge_agent): a judge agent's validators may use "
                                                 "models only, so judging never recurses",
                                                 field, j->agent);
                        else if (k < 0)
                                k = refusals_add(f, 400, field,
                                                 "%s: the stored manifest of agent \"%s\" does not "
                                                 "parse any more: deploy it again",
                                                 field, j->agent);
                        if (k != 0)
                                return k;
                }
        }
        return 0;
}

/* The host-level checks of a submission, in f (api-refusals.h): what this host can run, the
 * security context, the ceilings and the tenant's quota, the limits it can enforce, the
 * volumes attached by id. 0 to go on (f may hold a dry run's refusals), 1 when answered;
 * unenforced gets the limits that would not hold when runtime.allow_unenforced_limits lets
 * the execution run without them ("" otherwise), *ret_unenforced_why why. */
static int check_host(Executions *x, Refusals *f, const ManifestPlan *plan, char *unenforced,
                      size_t unenforced_size, const char **ret_unenforced_why) {
        HttpRequest *r = f->request;
        const char *unenforced_why = NULL;
        int k;

#define REFUSE(...)                                    \
        do {                                           \
                int _k = refusals_add(f, __VA_ARGS__); \
                if (_k != 0)                           \
                        return _k;                     \
        } while (0)

        /* The inner loop needs aegis-bootstrap and a model here; say so now, not at run time. */
        if (plan->inner_loop && !x->bootstrap)
                REFUSE(503, "spec.task",
                       "spec.task: this host cannot run the inner loop: %s (install "
                       "aegis-bootstrap or point runtime.bootstrap_binary at it, then "
                       "restart aegisd)",
                       strempty(x->bootstrap_error));
        /* An allow- or deny-list holds only through the egress proxy, which the container
         * reaches through aegis-bootstrap: never run such a manifest unfiltered. */
        if (manifest_plan_egress(plan) == MANIFEST_EGRESS_FILTERED && !x->bootstrap)
                REFUSE(503, "spec.security.network_policy",
                       "spec.security.network_policy: this host cannot enforce an "
                       "allowlist or denylist: %s (the container reaches the egress "
                       "proxy through aegis-bootstrap: install it or point "
                       "runtime.bootstrap_binary at it, then restart aegisd; or use "
                       "mode none)",
                       strempty(x->bootstrap_error));
        if (manifest_plan_egress(plan) == MANIFEST_EGRESS_FILTERED && !plan->inner_loop && !plan->command)
                REFUSE(400, "spec.runtime.command",
                       "spec.runtime.command: an allowlist or denylist needs the "
                       "command given here: aegisd starts it behind the bootstrap that "
                       "forwards to the egress proxy, so the image's own command "
                       "cannot be used");
        if (plan->inner_loop && !x->model)
                REFUSE(503, "spec.task",
                       "spec.task: this host cannot run the inner loop: no LLM provider is "
                       "configured (llm.providers in aegis-config.yaml)");
        if (plan->security_context && !config_security_context(x->config, plan->security_context)) {
                _cleanup_free_ char *names = NULL;
                for (size_t i = 0; i < x->config->security.n_contexts; i++) {
                        char *m = asprintf_safe("%s%s%s", strempty(names), names ? ", " : "",
                                                x->config->security.contexts[i].name);
                        free(names);
                        names = m;
                }
                REFUSE(400, "spec.security_context",
                       "spec.security_context: no security context \"%s\" on this host "
                       "(security.contexts in aegis-config.yaml defines: %s)",
                       plan->security_context, strempty(names));
        }
        /* Nothing is created past a ceiling or at the tenant's quota. */
        k = api_check_ceilings(x->config, f, plan);
        if (k == 0)
                k = api_check_tenant_quota(x->config, x->store, f);
        if (k != 0)
                return k;
        /* Limits that would not hold: refused, unless the operator accepts it. */
        unenforced[0] = '\0';
        k = executions_unenforced_limits(x, unenforced, unenforced_size, &unenforced_why);
        if (k > 0 && !x->config->runtime.allow_unenforced_limits)
                REFUSE(503, NULL,
                       "this host cannot enforce the limits of agent containers (%s "
                       "would not hold): %s; or set runtime.allow_unenforced_limits: "
                       "true in aegis-config.yaml to run without them",
                       unenforced, unenforced_why);
        if (k <= 0)
                unenforced[0] = '\0';
        *ret_unenforced_why = unenforced_why;
        if (manifest_plan_has_model_judges(plan) && !x->model)
                REFUSE(503, "spec.execution.validation",
                       "spec.execution.validation: this host cannot run semantic or multi_judge "
                       "validators: "
                       "no LLM provider is configured (llm.providers in aegis-config.yaml)");
        k = check_judge_agents(x, f, plan);
        if (k != 0)
                return k;
        /* Volumes attached by id must be this tenant's and alive (another tenant's look
         * exactly like missing ones). */
        for (size_t i = 0; i < plan->n_volumes; i++) {
                StoreVolume v = {};
                const char *vid = plan->volumes[i].volume_id;
                bool usable;

                if (!vid)
                        continue;
                k = store_volume_get(x->store, http_request_tenant(r), vid, &v);
                if (k < 0 && k != -ENOENT) {
                        f->answered = true;
                        k = api_respond_store_error(r, x->store, k, "volume", vid);
                        return k < 0 ? k : 1;
                }
                usable = k >= 0 && v.status == VOLUME_ACTIVE;
                store_volume_done(&v);
                if (!usable) {
                        char field[64];
                        snprintf(field, sizeof field, "spec.volumes[%zu].volume_id", i);
                        REFUSE(400, field,
                               "%s: no volume %s for tenant %s: create it first (POST "
                               "/v1/volumes, aegis volume create) or drop volume_id",
                               field, vid, http_request_tenant(r));
                }
        }
#undef REFUSE
        return 0;
}

int api_submit(Executions *x, HttpRequest *r, json_object *input, const char *agent_id,
               const char *agent_name, const char *manifest_text, size_t manifest_size, const char *file) {
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_free_ char *canonical = NULL;
        StoreExecution ex = { 0 };
        Error e = ERROR_INIT;
        char unenforced[64];
        const char *unenforced_why = NULL;
        json_object *warnings;
        Refusals f;
        int k, dry_run;

        dry_run = api_query_dry_run(r);
        if (dry_run < 0)
                return 0;
        if (dry_run)
                k = api_check_manifest(r, manifest_text, manifest_size, file, &plan);
        else {
                k = manifest_parse(manifest_text, manifest_size, file, &plan, &e);
                if (k < 0) {
                        if (!e.field[0])
                                snprintf(e.field, sizeof e.field, "manifest");
                        return api_respond_manifest_error(r, k, &e);
                }
        }
        if (k != 0)
                return k < 0 ? k : 0;
        refusals_init(&f, r, dry_run);
        k = check_host(x, &f, plan, unenforced, sizeof unenforced, &unenforced_why);
        if (k == 0)
                k = refusals_finish(&f);
        refusals_done(&f);
        if (k != 0)
                return k < 0 ? k : 0;
        if (dry_run)
                return api_respond_dry_run(r, plan);
        canonical = manifest_plan_to_json_string(plan);
        if (!canonical)
                return -ENOMEM;
        ex.tenant_id = (char *) http_request_tenant(r);
        ex.agent_id = (char *) agent_id;
        ex.agent_name = (char *) (agent_name ? agent_name : plan->name);
        ex.input_json =
                (char *) (input ? json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN) : "null");
        ex.manifest_json = canonical;
        ex.max_iterations = (unsigned) plan->max_iterations;
        k = store_execution_create(x->store, &ex);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "execution", NULL);
        /* Attached from now on: the volume cannot be deleted while the execution lives. */
        for (size_t i = 0; i < plan->n_volumes; i++)
                if (plan->volumes[i].volume_id) {
                        int q = store_volume_attach(x->store, plan->volumes[i].volume_id, ex.id);
                        if (q < 0)
                                log_warning_errno(q, "execution %s: cannot attach volume %s: %m", ex.id,
                                                  plan->volumes[i].volume_id);
                }
        (void) supervisor_emit(x->supervisor, ex.id, 0, NULL, EVENT_EXECUTION_CREATED,
                               created_event(plan->max_iterations));
        warnings = json_strv(plan->warnings);
        if (unenforced[0]) {
                _cleanup_free_ char *w = asprintf_safe("limits not enforced by this engine: %s (%s)",
                                                       unenforced, unenforced_why);
                if (w && warnings)
                        json_object_array_add(warnings, json_object_new_string(w));
                (void) supervisor_emit(x->supervisor, ex.id, 0, NULL, EVENT_LIMITS_UNENFORCED,
                                       limits_unenforced_event(unenforced, unenforced_why));
        }
        supervisor_kick(x->supervisor);
        {
                _cleanup_free_ char *loc = asprintf_safe("/v1/executions/%s", ex.id);
                if (loc)
                        (void) http_request_add_header(r, "Location", loc);
        }
        k = respond_accepted(r, ex.id, "pending", warnings);
        ex.agent_id = ex.agent_name = ex.input_json = ex.manifest_json = ex.tenant_id = NULL;
        store_execution_done(&ex);
        return k;
}

static int post_execution(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        json_object *body = NULL, *m, *input = NULL, *aid;
        const char *text;
        size_t n;
        int k;

        if (api_content_is_yaml(r)) {
                text = http_request_body(r, &n);
                return api_submit(x, r, NULL, NULL, NULL, text, n, "request body");
        }
        if (api_parse_json_body(r, &body) < 0)
                return 0;
        (void) json_object_object_get_ex(body, "input", &input);
        if (json_object_object_get_ex(body, "agent_id", &aid) && !json_object_is_type(aid, json_type_null)) {
                /* The reference's body: run a deployed agent (by id or name). */
                StoreAgent a = { 0 };

                if (!json_object_is_type(aid, json_type_string)) {
                        json_object_put(body);
                        return http_respond_error(r, 400, "agent_id", "agent_id: expected a string");
                }
                k = store_agent_get(x->store, http_request_tenant(r), json_object_get_string(aid), NULL, &a);
                if (k == -ENOENT) {
                        k = http_respond_error(r, 404, "agent_id",
                                               "no deployed agent \"%s\" (deploy it with POST /v1/agents)",
                                               json_object_get_string(aid));
                        json_object_put(body);
                        return k;
                }
                if (k < 0) {
                        json_object_put(body);
                        return api_respond_store_error(r, x->store, k, "agent", json_object_get_string(aid));
                }
                k = api_submit(x, r, input, a.id, a.name, a.manifest_json, strlen(a.manifest_json), a.name);
                store_agent_done(&a);
                json_object_put(body);
                return k;
        }
        if (json_object_object_get_ex(body, "manifest", &m)) {
                if (json_object_is_type(m, json_type_string)) {
                        json_object *path;
                        const char *file = "manifest";
                        if (json_object_object_get_ex(body, "manifest_path", &path) &&
                            json_object_is_type(path, json_type_string))
                                file = json_object_get_string(path);
                        k = api_submit(x, r, input, NULL, NULL, json_object_get_string(m),
                                       (size_t) json_object_get_string_len(m), file);
                } else if (json_object_is_type(m, json_type_object)) {
                        const char *s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY);
                        k = api_submit(x, r, input, NULL, NULL, s, strlen(s), "manifest");
                } else
                        k = http_respond_error(
                                r, 400, "manifest",
                                "manifest: expected the manifest as YAML text or a JSON object");
                json_object_put(body);
                return k;
        }
        if (json_object_object_get_ex(body, "spec", NULL) ||
            json_object_object_get_ex(body, "apiVersion", NULL)) {
                /* The manifest itself, as JSON. */
                text = http_request_body(r, &n);
                k = api_submit(x, r, NULL, NULL, NULL, text, n, "request body");
                json_object_put(body);
                return k;
        }
        json_object_put(body);
        return http_respond_error(
                r, 400, "manifest",
                "manifest: missing; send {\"manifest\": <YAML text or object>, \"input\": …}, "
                "{\"agent_id\": …}, or the YAML with Content-Type: application/yaml");
}

/* NULL when out of memory. */
static json_object *execution_summary_json(const StoreExecution *e) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int k = o ? 0 : -ENOMEM;

        if (k >= 0)
                k = json_add_string(o, "id", e->id);
        if (k >= 0)
                k = json_add_string(o, "execution_id", e->id);
        if (k >= 0)
                k = json_add_string(o, "agent_id", e->agent_id);
        if (k >= 0)
                k = json_add_string(o, "agent", e->agent_name);
        if (k >= 0)
                k = json_add_string(o, "status", execution_status_to_string(e->status));
        if (k >= 0)
                k = json_add_string(o, "reason", e->reason);
        if (k >= 0)
                k = json_add_int(o, "iteration_count", e->iteration);
        if (k >= 0)
                k = json_add_int(o, "max_iterations", e->max_iterations);
        if (k >= 0)
                k = json_add_timestamp(o, "created_at", e->created_at);
        if (k >= 0)
                k = json_add_timestamp(o, "started_at", e->started_at);
        if (k >= 0)
                k = json_add_timestamp(o, "finished_at", e->finished_at);
        if (k >= 0)
                k = json_add_timestamp(o, "ended_at", e->finished_at); /* the reference SDK's name */
        return k < 0 ? NULL : TAKE_PTR(o);
}

/* {"executions": arr, "items": the same (the reference SDK's {items, count}), "count"}, and
 * "next_cursor" (null: the last page) unless !with_cursor. Takes arr; NULL when out of memory
 * (arr NULL included). */
static json_object *execution_page_json(json_object *arr, size_t n, const char *next_cursor,
                                        bool with_cursor) {
        _cleanup_json_ json_object *a = arr, *o = json_object_new_object();
        int k = o ? 0 : -ENOMEM;

        if (k >= 0)
                k = json_add_obj(o, "executions", json_object_get(a));
        if (k >= 0)
                k = json_add_obj(o, "items", json_object_get(a));
        if (k >= 0)
                k = json_add_uint(o, "count", n);
        if (k >= 0 && with_cursor)
                k = json_add_string(o, "next_cursor", next_cursor);
        return k < 0 ? NULL : TAKE_PTR(o);
}

static int list_executions(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        _cleanup_free_ char *next = NULL, *agent_id = NULL;
        const char *status = http_request_query(r, "status"), *limit = http_request_query(r, "limit");
        const char *offset = http_request_query(r, "offset"), *agent = http_request_query(r, "agent_id");
        StoreExecution *list = NULL;
        json_object *answer, *arr;
        size_t n = 0;
        unsigned l;
        int k;

        if (status) {
                f.status = execution_status_from_string(status);
                if (f.status == _EXECUTION_STATUS_INVALID)
                        return http_respond_error(r, 400, "status",
                                                  "status: expected pending, running, completed, failed or "
                                                  "cancelled, got \"%s\"",
                                                  status);
        }
        if (limit) {
                if (safe_atou(limit, &l) < 0 || l == 0 || l > STORE_LIST_MAX)
                        return http_respond_error(r, 400, "limit",
                                                  "limit: expected an integer from 1 to %d, got \"%s\"",
                                                  STORE_LIST_MAX, limit);
                f.limit = l;
        }
        if (offset && safe_atou64(offset, &f.offset) < 0)
                return http_respond_error(r, 400, "offset",
                                          "offset: expected a number of executions to skip, got \"%s\"",
                                          offset);
        if (agent) {
                /* An agent's name or id, of the caller's tenant only (another's lists nothing). */
                StoreAgent a = { 0 };
                k = store_agent_get(x->store, http_request_tenant(r), agent, NULL, &a);
                if (k == -ENOENT) {
                        answer = execution_page_json(json_object_new_array(), 0, NULL, false);
                        return answer ? http_respond_json_unref(r, 200, answer) : -ENOMEM;
                }
                if (k < 0)
                        return api_respond_store_error(r, x->store, k, "agent", agent);
                agent_id = strdup(a.id);
                store_agent_done(&a);
                if (!agent_id)
                        return -ENOMEM;
                f.agent_id = agent_id;
        }
        f.tenant_id = http_request_tenant(r);
        f.cursor = http_request_query(r, "cursor");
        f.summary = true;
        k = store_execution_list(x->store, &f, &list, &n, &next);
        if (k == -EINVAL && f.cursor)
                return http_respond_error(r, 400, "cursor", "cursor: not a cursor this server issued");
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "executions", NULL);
        arr = json_object_new_array();
        for (size_t i = 0; arr && i < n; i++) {
                json_object *one = execution_summary_json(&list[i]);
                if (!one || json_object_array_add(arr, one) < 0) {
                        json_object_put(one);
                        json_object_put(arr);
                        arr = NULL;
                }
        }
        store_execution_array_free(list, n);
        answer = execution_page_json(arr, n, next, true);
        return answer ? http_respond_json_unref(r, 200, answer) : -ENOMEM;
}

/* What the judges said (validators semantic, multi_judge), or that they are still thinking,
 * from the iteration's judgement; nothing without one. */
static int add_judgement(json_object *o, const char *judgement_json) {
        _cleanup_json_ json_object *j = judgement_json ? json_tokener_parse(judgement_json) : NULL;
        json_object *v;

        if (j && json_object_object_get_ex(j, "validators", &v))
                return json_add_obj(o, "judges", json_object_get(v));
        if (j && json_object_object_get_ex(j, "state", &v) &&
            streq(strempty(json_object_get_string(v)), "judging"))
                return json_add_bool(o, "judging", true);
        return 0;
}

/* NULL when out of memory. */
static json_object *iteration_json(const StoreIteration *it) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int k = o ? 0 : -ENOMEM;

        if (k >= 0)
                k = json_add_int(o, "number", it->number);
        if (k >= 0)
                k = json_add_string(o, "status", iteration_status_to_string(it->status));
        if (k >= 0)
                k = it->exit_code >= 0 ? json_add_int(o, "exit_code", it->exit_code)
                                       : json_add_nullable(o, "exit_code", NULL);
        if (k >= 0)
                k = json_add_string(o, "reason", it->reason);
        if (k >= 0)
                k = json_add_string(o, "container_id", it->container_id);
        if (k >= 0)
                k = json_add_timestamp(o, "started_at", it->started_at);
        if (k >= 0)
                k = json_add_timestamp(o, "finished_at", it->finished_at);
        if (k >= 0)
                k = add_judgement(o, it->judgement_json);
        /* What it used (run-stats.h): null before the first reading. */
        if (k >= 0)
                k = json_add_nullable(o, "usage",
                                      it->usage_json ? json_tokener_parse(it->usage_json) : NULL);
        return k < 0 ? NULL : TAKE_PTR(o);
}

/* A judge execution (judge_agent) says whom it judges: its input's judge_of, when its id is
 * the one aegisd gives that judge (an input cannot pass for one). */
static int add_judge_of(json_object *o, const char *id) {
        json_object *in, *of;

        if (json_object_object_get_ex(o, "input", &in) && json_object_is_type(in, json_type_object) &&
            json_object_object_get_ex(in, "judge_of", &of) && judge_execution_is_judge_of(id, of))
                return json_add_obj(o, "judge_of", json_object_get(of));
        return 0;
}

/* metadata.version of the execution's manifest, when it has one. */
static int add_agent_version(json_object *o, const char *manifest_json) {
        _cleanup_json_ json_object *m = manifest_json ? json_tokener_parse(manifest_json) : NULL;
        json_object *md, *v;

        if (m && json_object_object_get_ex(m, "metadata", &md) &&
            json_object_object_get_ex(md, "version", &v))
                return json_add_string(o, "agent_version", json_object_get_string(v));
        return 0;
}

/* The iterations of execution id (none when the store cannot list them); the inner loop's carry
 * their conversation: trajectory and token counts. NULL when out of memory. */
static json_object *iterations_json(Executions *x, const char *id) {
        _cleanup_json_ json_object *arr = json_object_new_array();
        _cleanup_free_ unsigned *conv_its = NULL;
        _cleanup_strv_free_ char **conv_states = NULL;
        StoreIteration *its = NULL;
        size_t n = 0, n_conv = 0;
        int k;

        if (!arr)
                return NULL;
        k = store_iteration_list(x->store, id, &its, &n);
        if (store_conversation_list(x->store, id, &conv_its, &conv_states, &n_conv) < 0)
                n_conv = 0;
        for (size_t i = 0; k >= 0 && i < n; i++) {
                _cleanup_json_ json_object *it = iteration_json(&its[i]);

                k = it ? 0 : -ENOMEM;
                for (size_t j = 0; k >= 0 && j < n_conv; j++)
                        if (conv_its[j] == its[i].number) {
                                json_object *t = run_dispatch_trajectory(conv_states[j]);
                                if (t)
                                        k = json_add_obj(it, "trajectory", t);
                        }
                if (k >= 0 && json_object_array_add(arr, it) < 0)
                        k = -ENOMEM;
                if (k >= 0)
                        TAKE_PTR(it);
        }
        store_iteration_array_free(its, n);
        return k == -ENOMEM ? NULL : TAKE_PTR(arr);
}

static int get_execution(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *id = http_request_param(r, "id");
        _cleanup_(store_execution_done) StoreExecution e = { 0 };
        _cleanup_json_ json_object *o = NULL;
        int k;

        k = api_execution_get(x, r, id, &e);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "execution", id);
        o = execution_summary_json(&e);
        k = o ? 0 : -ENOMEM;
        if (k >= 0)
                k = json_add_nullable(o, "input", e.input_json ? json_tokener_parse(e.input_json) : NULL);
        if (k >= 0)
                k = add_judge_of(o, e.id);
        if (k >= 0)
                k = json_add_string(o, "output", e.output);
        if (k >= 0)
                k = add_agent_version(o, e.manifest_json);
        if (k >= 0)
                k = json_add_obj(o, "iterations", iterations_json(x, id));
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}

#define CANCEL_REASON_MAX 1024

static int cancel_execution(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *id = http_request_param(r, "id");
        StoreExecution own = { 0 };
        Error e = ERROR_INIT;
        int k;

        json_object *body = NULL, *reason = NULL;
        size_t n;

        (void) http_request_body(r, &n);
        if (n > 0) {
                if (api_parse_json_body(r, &body) < 0)
                        return 0;
                if (json_object_object_get_ex(body, "reason", &reason) && reason &&
                    (!json_object_is_type(reason, json_type_string) ||
                     json_object_get_string_len(reason) > CANCEL_REASON_MAX)) {
                        json_object_put(body);
                        return http_respond_error(r, 400, "reason",
                                                  "reason: expected text of at most %d bytes",
                                                  CANCEL_REASON_MAX);
                }
        }
        k = api_execution_get(x, r, id, &own);
        if (k < 0) {
                json_object_put(body);
                return api_respond_store_error(r, x->store, k, "execution", id);
        }
        /* The caller's reason goes into the execution's events (the status keeps the
         * machine-readable reason "cancelled"). */
        if (reason && !execution_status_is_terminal(own.status)) {
                _cleanup_json_ json_object *p = json_object_new_object();
                if (p && json_add_obj(p, "reason", json_object_get(reason)) >= 0 &&
                    json_add_string(p, "by", "api") >= 0)
                        (void) supervisor_emit(x->supervisor, id, own.iteration, NULL,
                                               EVENT_CANCEL_REQUESTED, TAKE_PTR(p));
        }
        json_object_put(body);
        store_execution_done(&own);
        k = supervisor_cancel(x->supervisor, id, &e);
        if (k == -ENOENT)
                return http_respond_error(r, 404, NULL, "%s", e.message);
        if (k == -EALREADY)
                return http_respond_error(r, 409, NULL, "%s", e.message);
        if (k < 0)
                return http_respond_error_from(r, &e);
        return respond_accepted(r, id, "cancelling", NULL);
}

static int delete_execution(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *id = http_request_param(r, "id");
        StoreExecution own = { 0 };
        int k;

        k = api_execution_get(x, r, id, &own);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "execution", id);
        store_execution_done(&own);
        k = store_execution_delete(x->store, id);
        if (k == -EBUSY)
                return http_respond_error(r, 409, NULL, "execution %s has not finished: cancel it first",
                                          id);
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "execution", id);
        return http_respond(r, 204, NULL, NULL, 0);
}

/* ---- streams: SSE events and followed logs ---- */

typedef enum ApiStreamKind {
        STREAM_EVENTS,
        STREAM_LOGS,
        STREAM_AGENT, /* the live events of an agent's executions (id: the agent's) */
} ApiStreamKind;

struct ApiStream {
        ApiStream *prev, *next;
        Executions *x;
        ApiStreamKind kind;
        HttpStream *stream;
        char id[UUID_STRING_MAX];
        uint64_t last_seq; /* events sent */
        unsigned iteration; /* logs: the iteration being followed */
        size_t sent_out, sent_err; /* logs: bytes of it already sent */
        unsigned only_iteration; /* logs: ?iteration=N, 0 = all */
        SupervisorListener *listener;
        sd_event_source *timer;
        char *holder; /* the Authorization header it was opened with ("" without): the budget */
        char *tenant; /* agent streams: the caller's tenant */
        char last_match[UUID_STRING_MAX]; /* agent streams: the last execution seen that is the agent's */
        char last_other[UUID_STRING_MAX]; /* …and the last one that is not */
};

static void stream_free(ApiStream *s) {
        Executions *x = s->x;

        LIST_REMOVE(x->streams, s);
        supervisor_unlisten(x->supervisor, s->listener);
        sd_event_source_disable_unref(s->timer);
        free(s->holder);
        free(s->tenant);
        free(s);
}

static void stream_finish(ApiStream *s) {
        http_stream_end(s->stream);
        stream_free(s);
}

static void on_stream_closed(void *userdata) {
        stream_free(userdata);
}

void api_close_streams(Executions *x) {
        while (x->streams)
                stream_finish(x->streams);
}

/* Sends the events after last_seq; returns 1 when the final event went out. */
static int events_pump(ApiStream *s) {
        StoreEvent *evs = NULL;
        size_t n = 0;
        bool final = false;
        int k;

        k = store_event_list(s->x->store, s->id, s->last_seq, 0, &evs, &n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n && !final; i++) {
                char seq[32];
                snprintf(seq, sizeof seq, "%" PRIu64, evs[i].seq);
                k = http_stream_sse(s->stream, evs[i].type, seq, evs[i].payload_json);
                if (k < 0)
                        break;
                s->last_seq = evs[i].seq;
                final = streq(evs[i].type, EVENT_EXECUTION_FINISHED);
        }
        store_event_array_free(evs, n);
        if (k < 0)
                return k;
        if (!final) {
                /* An execution that ended without a final event (deleted rows, old data). */
                StoreExecution e = { 0 };
                if (n == 0 && store_execution_get(s->x->store, s->id, &e) >= 0 &&
                    execution_status_is_terminal(e.status) && e.finished_at &&
                    now_usec(CLOCK_REALTIME) - e.finished_at > 5 * USEC_PER_SEC)
                        final = true;
                store_execution_done(&e);
        }
        return final;
}

/* Sends new stdout/stderr bytes; returns 1 when the execution ended and all was sent. */
static int logs_pump(ApiStream *s) {
        StoreExecution e = { 0 };
        StoreIteration *its = NULL;
        size_t n = 0;
        bool terminal;
        int k;

        k = store_execution_get(s->x->store, s->id, &e);
        if (k < 0)
                return k;
        terminal = execution_status_is_terminal(e.status);
        store_execution_done(&e);
        k = store_iteration_list(s->x->store, s->id, &its, &n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n; i++) {
                const StoreIteration *it = &its[i];
                size_t lo = it->stdout_text ? strlen(it->stdout_text) : 0,
                       le = it->stderr_text ? strlen(it->stderr_text) : 0;

                if (it->number < s->iteration || (s->only_iteration && it->number != s->only_iteration))
                        continue;
                if (it->number > s->iteration) {
                        s->iteration = it->number;
                        s->sent_out = s->sent_err = 0;
                        if (!s->only_iteration)
                                (void) http_stream_printf(s->stream, "==> iteration %u <==\n", it->number);
                }
                if (lo > s->sent_out) {
                        (void) http_stream_write(s->stream, it->stdout_text + s->sent_out, lo - s->sent_out);
                        s->sent_out = lo;
                }
                if (le > s->sent_err) {
                        (void) http_stream_write(s->stream, it->stderr_text + s->sent_err, le - s->sent_err);
                        s->sent_err = le;
                }
        }
        store_iteration_array_free(its, n);
        return terminal;
}

/* An event of execution_id: sent when the execution is the agent's (and its tenant's). */
static int agent_pump(ApiStream *s, const char *execution_id, uint64_t seq) {
        StoreExecution e = { 0 };
        StoreEvent *evs = NULL;
        size_t n = 0;
        int k;

        if (streq(execution_id, s->last_other))
                return 0;
        if (!streq(execution_id, s->last_match)) {
                bool ours = store_execution_get(s->x->store, execution_id, &e) >= 0 &&
                            streq(e.agent_id, s->id) && streq(e.tenant_id, s->tenant);
                store_execution_done(&e);
                snprintf(ours ? s->last_match : s->last_other, UUID_STRING_MAX, "%s", execution_id);
                if (!ours)
                        return 0;
        }
        k = store_event_list(s->x->store, execution_id, seq - 1, 1, &evs, &n);
        if (k < 0)
                return 0; /* missed, not fatal to the stream */
        for (size_t i = 0; i < n; i++) {
                char id[UUID_STRING_MAX + 32];
                snprintf(id, sizeof id, "%s:%" PRIu64, execution_id, evs[i].seq);
                k = http_stream_sse(s->stream, evs[i].type, id, evs[i].payload_json);
        }
        store_event_array_free(evs, n);
        return k < 0 ? k : 0;
}

static void stream_pump(ApiStream *s) {
        int k = s->kind == STREAM_EVENTS ? events_pump(s) : s->kind == STREAM_LOGS ? logs_pump(s) : 0;

        if (k != 0) /* finished, or an error: end the response */
                stream_finish(s);
}

static void on_stream_event(const char *execution_id, uint64_t seq, void *userdata) {
        ApiStream *s = userdata;

        if (s->kind == STREAM_AGENT) {
                if (seq > 0 && agent_pump(s, execution_id, seq) < 0)
                        stream_finish(s);
                return;
        }
        if (s->kind == STREAM_EVENTS && seq <= s->last_seq)
                return;
        stream_pump(s);
}

static int on_stream_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        ApiStream *s = userdata;

        (void) sd_event_source_set_time_relative(es, s->kind == STREAM_EVENTS ? STREAM_POLL_USEC
                                                                              : LOG_POLL_USEC);
        (void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT); /* timers fire once per arming */
        stream_pump(s); /* may free s (and es with it) */
        return 0;
}

static int open_stream(Executions *x, HttpRequest *r, ApiStreamKind kind, const char *id, uint64_t after_seq,
                       unsigned iteration) {
        StoreExecution e = { 0 };
        ApiStream *s;
        int k;

        if (kind != STREAM_AGENT) {
                k = api_execution_get(x, r, id, &e);
                if (k < 0)
                        return api_respond_store_error(r, x->store, k, "execution", id);
                store_execution_done(&e);
        }
        /* One token must not hold every connection slot with streams (issue 19). */
        const char *holder = strempty(http_request_header(r, "Authorization"));
        uint64_t n_held = 0, limit = x->config->api.max_streams_per_token;
        for (ApiStream *i = x->streams; i; i = i->next)
                if (streq(i->holder, holder))
                        n_held++;
        if (limit > 0 && n_held >= limit) {
                (void) http_request_add_header(r, "Retry-After", "5");
                return http_respond_error(r, 429, NULL,
                                          "this token already has %" PRIu64
                                          " open event or log streams (api.max_streams_per_token): close "
                                          "one first",
                                          n_held);
        }
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->holder = strdup(holder);
        s->tenant = strdup(http_request_tenant(r));
        if (!s->holder || !s->tenant) {
                free(s->holder);
                free(s->tenant);
                free(s);
                return -ENOMEM;
        }
        s->x = x;
        s->kind = kind;
        s->last_seq = after_seq;
        s->only_iteration = iteration;
        snprintf(s->id, sizeof s->id, "%s", id);
        (void) http_request_add_header(r, "Cache-Control", "no-cache");
        k = http_respond_stream(r, 200,
                                kind != STREAM_LOGS ? "text/event-stream" : "text/plain; charset=utf-8",
                                on_stream_closed, s, &s->stream);
        if (k < 0) {
                free(s->holder);
                free(s->tenant);
                free(s);
                return k;
        }
        LIST_PREPEND(x->streams, s);
        (void) supervisor_listen(x->supervisor, kind == STREAM_AGENT ? NULL : id, on_stream_event, s,
                                 &s->listener);
        if (kind == STREAM_AGENT)
                return 0; /* live only: every event arrives through the listener */
        (void) sd_event_add_time_relative(x->event, &s->timer, CLOCK_MONOTONIC,
                                          kind == STREAM_EVENTS ? STREAM_POLL_USEC : LOG_POLL_USEC,
                                          USEC_PER_MSEC * 50, on_stream_timer, s);
        stream_pump(s); /* history first */
        return 0;
}

static int execution_events(HttpRequest *r, void *userdata) {
        const char *last = http_request_header(r, "Last-Event-ID");
        uint64_t after = 0;

        if (last && safe_atou64(last, &after) < 0)
                return http_respond_error(r, 400, "Last-Event-ID",
                                          "Last-Event-ID: expected an event number");
        return open_stream(userdata, r, STREAM_EVENTS, http_request_param(r, "id"), after, 0);
}

static int execution_logs(HttpRequest *r, void *userdata) {
        Executions *x = userdata;
        const char *follow = http_request_query(r, "follow"), *iter = http_request_query(r, "iteration");
        const char *id = http_request_param(r, "id");
        StoreIteration *its = NULL;
        unsigned only = 0;
        size_t n = 0;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int k;

        if (iter && (safe_atou(iter, &only) < 0 || only == 0))
                return http_respond_error(r, 400, "iteration",
                                          "iteration: expected a positive integer, got \"%s\"", iter);
        if (follow && (streq(follow, "true") || streq(follow, "1")))
                return open_stream(x, r, STREAM_LOGS, id, 0, only);
        if (follow && !streq(follow, "false") && !streq(follow, "0"))
                return http_respond_error(r, 400, "follow", "follow: expected true or false, got \"%s\"",
                                          follow);
        {
                StoreExecution e = { 0 };
                k = api_execution_get(x, r, id, &e);
                store_execution_done(&e);
        }
        if (k < 0)
                return api_respond_store_error(r, x->store, k, "execution", id);
        k = store_iteration_list(x->store, id, &its, &n);
        if (k < 0) {
                store_iteration_array_free(its, n);
                return api_respond_store_error(r, x->store, k, "execution", id);
        }
        f = open_memstream(&buf, &size);
        if (!f) {
                store_iteration_array_free(its, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (only && its[i].number != only)
                        continue;
                if (!only)
                        fprintf(f, "==> iteration %u <==\n", its[i].number);
                fputs(strempty(its[i].stdout_text), f);
                fputs(strempty(its[i].stderr_text), f);
        }
        fclose(f);
        store_iteration_array_free(its, n);
        k = http_respond(r, 200, "text/plain; charset=utf-8", buf, size);
        free(buf);
        return k;
}

int api_agent_events(Executions *x, HttpRequest *r, const char *agent_id) {
        return open_stream(x, r, STREAM_AGENT, agent_id, 0, 0);
}

const HttpRoute api_execution_routes[] = {
        { HTTP_POST, "/v1/executions", post_execution },
        { HTTP_GET, "/v1/executions", list_executions },
        { HTTP_GET, "/v1/executions/{id}", get_execution },
        { HTTP_DELETE, "/v1/executions/{id}", delete_execution },
        { HTTP_POST, "/v1/executions/{id}/cancel", cancel_execution },
        { HTTP_GET, "/v1/executions/{id}/events", execution_events },
        { HTTP_GET, "/v1/executions/{id}/stream", execution_events },
        { HTTP_GET, "/v1/executions/{id}/logs", execution_logs },
        {},
};
