/* test-manifest.c — agent manifests: every field in both spellings, defaults, every error
 * message (exact text), warnings, hostile inputs, the JSON form and the canonical JSON. */
#include <check.h>
#include <dirent.h>
#include <json-c/json.h>
#include <string.h>

#include "manifest.h"
#include "util.h"
#include "test-main.h"

#define HEAD                                                                                              \
        "apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata:\n  name: t\nspec:\n  runtime:\n    image: " \
        "busybox\n"

static ManifestPlan *ok(const char *text) {
        Error e = ERROR_INIT;
        ManifestPlan *p = NULL;
        int r = manifest_parse(text, strlen(text), "a.yaml", &p, &e);
        ck_assert_msg(r == 0, "parse failed: %s", e.message);
        ck_assert_ptr_nonnull(p);
        return p;
}

static void fails_len(const char *text, size_t len, int code, const char *message) {
        Error e = ERROR_INIT;
        ManifestPlan *p = NULL;
        int r = manifest_parse(text, len, "a.yaml", &p, &e);
        ck_assert_msg(r < 0, "parse unexpectedly succeeded; expected: %s", message);
        ck_assert_ptr_null(p);
        ck_assert_str_eq(e.message, message);
        if (code != 0)
                ck_assert_int_eq(r, code);
}

static void fails(const char *text, const char *message) {
        fails_len(text, strlen(text), 0, message);
}

/* manifest_check(): every error, in the manifest's order, the first also in e; the
 * checks that relate parts wait until every part is valid; a valid manifest has none. */
START_TEST(test_manifest_check_collects_every_error) {
        static const char text[] =
                "apiVersion: 100monkeys.ai/v2\nkind: Agent\nmetadata:\n  name: Bad_Name\n"
                "spec:\n  runtime:\n    image: busybox\n    image_pull_policy: Sometimes\n"
                "  resources:\n    memory_bytes: lots\n  env:\n    1X: y\n"
                "  execution:\n    max_iterations: -3\n  volumes: 7\n  bogus: 1\n";
        static const char *const fields[] = { "apiVersion",
                                              "metadata.name",
                                              "spec.bogus",
                                              "spec.runtime.image_pull_policy",
                                              "spec.resources.memory_bytes",
                                              "spec.env.1X",
                                              "spec.execution.max_iterations",
                                              "spec.volumes" };
        Error errors[MANIFEST_MAX_ERRORS], e = ERROR_INIT, first = ERROR_INIT;
        ManifestPlan *p = NULL;
        size_t n = 99;
        int r;

        r = manifest_check(text, strlen(text), "a.yaml", errors, ELEMENTSOF(errors), &n, &p, &e);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(p);
        ck_assert_uint_eq(n, ELEMENTSOF(fields));
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_eq(errors[i].field, fields[i]);
                ck_assert_int_lt(errors[i].code, 0);
                ck_assert(startswith(errors[i].message, "a.yaml:"));
        }
        ck_assert_str_eq(e.message, errors[0].message);
        /* manifest_parse() stops at the first, the same one */
        ck_assert_int_eq(manifest_parse(text, strlen(text), "a.yaml", &p, &first), -EINVAL);
        ck_assert_str_eq(first.message, errors[0].message);
        /* no more than asked for */
        r = manifest_check(text, strlen(text), "a.yaml", errors, 2, &n, NULL, &e);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_uint_eq(n, 2);
        /* a YAML syntax error is the only one */
        r = manifest_check("a: [", 4, "a.yaml", errors, ELEMENTSOF(errors), &n, NULL, &e);
        ck_assert_int_lt(r, 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(errors[0].message, e.message);
        /* valid: no error, a plan */
        r = manifest_check(HEAD, strlen(HEAD), "a.yaml", errors, ELEMENTSOF(errors), &n, &p, &e);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_nonnull(p);
        manifest_plan_free(p);
}
END_TEST

/* Within a part too: every bad field of a mapping, every bad item of a list (volumes,
 * validators), an unknown key beside bad known ones; a bad item stops only itself. */
START_TEST(test_manifest_check_collects_errors_within_a_part) {
        static const char text[] =
                "spec:\n  runtime:\n    image: busybox\n    image_pull_policy: Sometimes\n"
                "    keep_container_on_failure: maybe\n    colour: blue\n"
                "  resources:\n    memory_bytes: lots\n    pids_limit: 0\n    timeout_secs: 10\n"
                "  execution:\n    max_iterations: -3\n    iteration_timeout: soon\n"
                "    validation:\n      - type: bogus\n      - type: exit_code\n      - type: regex\n"
                "  volumes:\n    - name: a\n      mount_path: /elsewhere\n"
                "    - name: b\n      mount_path: /workspace/b\n"
                "    - mount_path: /workspace/c\n";
        static const char *const fields[] = { "spec.runtime.colour",
                                              "spec.runtime.image_pull_policy",
                                              "spec.runtime.keep_container_on_failure",
                                              "spec.resources.memory_bytes",
                                              "spec.resources.pids_limit",
                                              "spec.execution.max_iterations",
                                              "spec.execution.iteration_timeout",
                                              "spec.execution.validation[0].type",
                                              "spec.execution.validation[2].pattern",
                                              "spec.volumes[0].mount_path",
                                              "spec.volumes[2].name" };
        Error errors[MANIFEST_MAX_ERRORS], e = ERROR_INIT;
        size_t n = 99;

        ck_assert_int_eq(
                manifest_check(text, strlen(text), "a.yaml", errors, ELEMENTSOF(errors), &n, NULL, &e),
                -EINVAL);
        for (size_t i = 0; n != ELEMENTSOF(fields) && i < n; i++) /* says what differs */
                fprintf(stderr, "error %zu: %s: %s\n", i, errors[i].field, errors[i].message);
        ck_assert_uint_eq(n, ELEMENTSOF(fields));
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(errors[i].field, fields[i]);
}
END_TEST

START_TEST(test_manifest_defaults) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok("spec:\n  runtime:\n    image: busybox\n");

        ck_assert_ptr_null(p->name);
        ck_assert_ptr_null(p->version);
        ck_assert_str_eq(p->image, "busybox");
        ck_assert_int_eq(p->pull_policy, IMAGE_PULL_IF_NOT_PRESENT);
        ck_assert_ptr_null(p->command);
        ck_assert_ptr_null(p->workdir);
        ck_assert(!p->keep_container_on_failure);
        ck_assert_uint_eq(p->nano_cpus, 1000000000);
        ck_assert_uint_eq(p->memory_bytes, 512 * 1024 * 1024);
        ck_assert_uint_eq(p->pids_limit, 1024);
        ck_assert_uint_eq(p->timeout_secs, 1800);
        ck_assert_uint_eq(p->iteration_timeout_secs, 600);
        ck_assert_uint_eq(p->max_iterations, 3);
        ck_assert_uint_eq(p->n_env, 0);
        ck_assert_uint_eq(p->uid, 1000);
        ck_assert_uint_eq(p->gid, 1000);
        ck_assert_int_eq(p->network_mode, MANIFEST_NETWORK_ALLOW);
        ck_assert_ptr_null(p->network_allowlist);
        ck_assert_ptr_null(p->network_denylist);
        ck_assert(!p->read_only_rootfs);
        ck_assert_uint_eq(p->n_validators, 0);
        ck_assert_uint_eq(p->n_volumes, 0);
        ck_assert_ptr_null(p->warnings);
        ck_assert(!p->inner_loop);
        ck_assert_ptr_null(p->task_instruction);
        ck_assert_ptr_null(p->prompt_template);
        ck_assert_str_eq(p->model_alias, "default");
        ck_assert_ptr_null(p->tools);
        ck_assert_uint_eq(p->llm_timeout_secs, 300);
        ck_assert_ptr_null(p->bootstrap_path);
}
END_TEST

START_TEST(test_manifest_inner_loop) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(
                HEAD "    model: fast-1.b\n"
                     "  task:\n    instruction: Say hi.\n    prompt_template: '{{instruction}} {{input}}'\n"
                     "  tools: [cmd.run, fs.create_dir, a1_b.c2]\n"
                     "  execution: {llm_timeout_seconds: 60, iteration_timeout: 2m}\n"
                     "  advanced: {bootstrap_path: /opt/aegis/bootstrap.py}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *q = ok(HEAD "  task: {}\n  tools: []\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *d = ok("metadata: {description: From the metadata.}\n"
                                                            "spec: {runtime: {image: busybox}, task: "
                                                            "{prompt_template: ''}}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *s =
                ok(HEAD "  execution: {iteration_timeout: 100s}\n  task: {instruction: x}\n");

        ck_assert(p->inner_loop);
        ck_assert_str_eq(p->task_instruction, "Say hi.");
        ck_assert_str_eq(p->prompt_template, "{{instruction}} {{input}}");
        ck_assert_str_eq(p->model_alias, "fast-1.b");
        ck_assert_uint_eq(strv_length(p->tools), 3);
        ck_assert_str_eq(p->tools[0], "cmd.run");
        ck_assert_str_eq(p->tools[1], "fs.create_dir");
        ck_assert_str_eq(p->tools[2], "a1_b.c2");
        ck_assert_uint_eq(p->llm_timeout_secs, 60);
        ck_assert_str_eq(p->bootstrap_path, "/opt/aegis/bootstrap.py");
        ck_assert_ptr_null(p->warnings);
        /* An empty task runs the loop on the input alone; an empty tool list is no tools. */
        ck_assert(q->inner_loop);
        ck_assert_ptr_null(q->task_instruction);
        ck_assert_ptr_null(q->tools);
        ck_assert_str_eq(q->model_alias, "default");
        /* As in the reference: the instruction falls back to metadata.description, and an
         * empty template is the default one. */
        ck_assert(d->inner_loop);
        ck_assert_str_eq(d->task_instruction, "From the metadata.");
        ck_assert_ptr_null(d->prompt_template);
        /* The default LLM timeout never exceeds the iteration timeout. */
        ck_assert_uint_eq(s->llm_timeout_secs, 100);
}
END_TEST

START_TEST(test_manifest_inner_loop_with_command_warns) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p =
                ok(HEAD "    command: [echo, hi]\n    model: smart\n"
                        "  task: {instruction: x, agentskills: [a], input_data: {k: 1}}\n"
                        "  tools: [cmd.run]\n  advanced: {bootstrap_path: /b, warm_pool_size: 2}\n"
                        "  execution: {llm_timeout_seconds: 5}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *q = ok(HEAD "  tools: [cmd.run]\n");

        ck_assert(!p->inner_loop);
        ck_assert_str_eq(p->task_instruction, "x");
        ck_assert_uint_eq(strv_length(p->warnings), 8);
        ck_assert_str_eq(p->warnings[0],
                         "a.yaml:10:39: spec.task.agentskills: not acted on by this runtime (give the input "
                         "with the execution request)");
        ck_assert_str_eq(p->warnings[1],
                         "a.yaml:10:56: spec.task.input_data: not acted on by this runtime (give the input "
                         "with the execution request)");
        ck_assert_str_eq(p->warnings[2],
                         "a.yaml:12:50: spec.advanced.warm_pool_size: accepted but not acted on by this "
                         "runtime");
        ck_assert_str_eq(p->warnings[3], "a.yaml:10:9: spec.task: not acted on: spec.runtime.command is run "
                                         "(remove it to run the inner loop)");
        ck_assert_str_eq(p->warnings[4],
                         "a.yaml:11:10: spec.tools: not acted on: spec.runtime.command is run "
                         "(remove it to run the inner loop)");
        ck_assert_str_eq(p->warnings[5],
                         "a.yaml:9:12: spec.runtime.model: not acted on: spec.runtime.command is run "
                         "(remove it to run the inner loop)");
        ck_assert_str_eq(p->warnings[6], "a.yaml:13:36: spec.execution.llm_timeout_seconds: not acted on: "
                                         "spec.runtime.command is run (remove it to run the inner loop)");
        ck_assert_str_eq(p->warnings[7],
                         "a.yaml:12:30: spec.advanced.bootstrap_path: not acted on: spec.runtime.command is "
                         "run (remove it to run the inner loop)");
        ck_assert(!q->inner_loop);
        ck_assert_uint_eq(strv_length(q->warnings), 1);
        ck_assert_str_eq(
                q->warnings[0],
                "a.yaml:8:10: spec.tools: not acted on without spec.task (the image's command is run)");
}
END_TEST

START_TEST(test_manifest_inner_loop_errors) {
        fails(HEAD "  tools: [web-search]\n",
              "a.yaml:8:11: spec.tools[0]: expected a tool name of lowercase words joined by '.' like "
              "\"cmd.run\" (^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$), got \"web-search\"");
        fails(HEAD "  tools: [cmd.]\n",
              "a.yaml:8:11: spec.tools[0]: expected a tool name of lowercase words joined by '.' like "
              "\"cmd.run\" (^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$), got \"cmd.\"");
        fails(HEAD "  tools: [Cmd.run]\n",
              "a.yaml:8:11: spec.tools[0]: expected a tool name of lowercase words joined by '.' like "
              "\"cmd.run\" (^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$), got \"Cmd.run\"");
        fails(HEAD "  tools: [cmd.run, a.1b]\n",
              "a.yaml:8:20: spec.tools[1]: expected a tool name of lowercase words joined by '.' like "
              "\"cmd.run\" (^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$), got \"a.1b\"");
        fails(HEAD "  tools: [cmd.run, fs.read, cmd.run]\n",
              "a.yaml:8:29: spec.tools[2]: duplicate tool \"cmd.run\"");
        fails(HEAD "  tools: cmd.run\n",
              "a.yaml:8:10: spec.tools: expected a list of tool names like [cmd.run], got a string");
        fails(HEAD "  task: {instruction: [a]}\n",
              "a.yaml:8:23: spec.task.instruction: expected a string, got a sequence");
        fails(HEAD "  task: {prompt: hi}\n",
              "a.yaml:8:10: spec.task.prompt: unknown key (known keys: instruction, prompt_template, "
              "agentskills, input_data)");
        fails(HEAD "  task: {instructions: hi}\n",
              "a.yaml:8:10: spec.task.instructions: unknown key, did you mean \"instruction\"?");
        fails(HEAD "    model: 'gpt 4'\n",
              "a.yaml:8:12: spec.runtime.model: expected a model alias of letters, digits and ._- like "
              "\"default\" (at most 64 bytes; an alias of the configuration's llm models), got \"gpt 4\"");
        fails(HEAD "    model: -x\n",
              "a.yaml:8:12: spec.runtime.model: expected a model alias of letters, digits and ._- like "
              "\"default\" (at most 64 bytes; an alias of the configuration's llm models), got \"-x\"");
        fails(HEAD "  execution: {llm_timeout_seconds: 0}\n",
              "a.yaml:8:36: spec.execution.llm_timeout_seconds: expected an integer ≥ 1, got \"0\"");
        fails(HEAD "  execution: {llm_timeout_seconds: 700}\n",
              "a.yaml:8:36: spec.execution.llm_timeout_seconds: 700 s is longer than the iteration "
              "timeout of 600 s, which ends the iteration first: lower it or raise "
              "spec.execution.iteration_timeout");
        fails(HEAD "  advanced: {bootstrap_path: bootstrap.py}\n",
              "a.yaml:8:30: spec.advanced.bootstrap_path: expected an absolute path (starting with /), "
              "got \"bootstrap.py\"");
        fails(HEAD "  advanced: {bootstrap: /b}\n",
              "a.yaml:8:14: spec.advanced.bootstrap: unknown key (known keys: bootstrap_path, "
              "warm_pool_size, swarm_enabled, startup_script, health_check)");
}
END_TEST

START_TEST(test_manifest_inner_loop_round_trips) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p =
                ok(HEAD "    model: smart\n"
                        "  task:\n    instruction: \"Say \\\"hi\\\".\"\n    prompt_template: "
                        "'{{#if intent}}{{intent}}{{/if}}{{input}}'\n"
                        "  tools: [cmd.run, fs.read]\n"
                        "  execution: {llm_timeout_seconds: 42}\n"
                        "  advanced: {bootstrap_path: /b.py}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *e = ok(HEAD "  task: {}\n");
        _cleanup_free_ char *s = manifest_plan_to_json_string(p), *s2 = NULL, *t = NULL, *t2 = NULL;
        _cleanup_(manifest_plan_freep) ManifestPlan *q = NULL, *f = NULL;

        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(
                s, "{\"apiVersion\":\"100monkeys.ai/v1\",\"kind\":\"Agent\",\"metadata\":{\"name\":\"t\"},"
                   "\"spec\":{\"runtime\":{\"image\":\"busybox\",\"image_pull_policy\":\"IfNotPresent\","
                   "\"keep_container_on_failure\":false,\"model\":\"smart\"},\"task\":{\"instruction\":"
                   "\"Say \\\"hi\\\".\",\"prompt_template\":\"{{#if intent}}{{intent}}{{/if}}{{input}}\"},"
                   "\"tools\":[\"cmd.run\",\"fs.read\"],\"advanced\":{\"bootstrap_path\":\"/b.py\"},"
                   "\"resources\":{\"cpu_quota\":1.0,\"memory_bytes\":536870912,\"timeout_secs\":1800,"
                   "\"pids_limit\":1024},\"security\":{\"user\":\"1000:1000\",\"read_only_rootfs\":false,"
                   "\"network_policy\":{\"mode\":\"allow\"}},\"execution\":{\"max_iterations\":5,"
                   "\"iteration_timeout\":\"600s\",\"llm_timeout_seconds\":42}}}");
        q = ok(s);
        s2 = manifest_plan_to_json_string(q);
        ck_assert_str_eq(s, s2);
        ck_assert(q->inner_loop);
        ck_assert_str_eq(q->task_instruction, "Say \"hi\".");
        ck_assert_str_eq(q->tools[1], "fs.read");
        ck_assert_uint_eq(q->llm_timeout_secs, 42);
        /* The empty task stays a task: the loop still runs after the round trip. */
        t = manifest_plan_to_json_string(e);
        f = ok(t);
        t2 = manifest_plan_to_json_string(f);
        ck_assert(f->inner_loop);
        ck_assert_str_eq(t, t2);
        ck_assert_ptr_nonnull(strstr(t, "\"task\":{}"));
        ck_assert_ptr_nonnull(strstr(t, "\"model\":\"default\""));
        ck_assert_ptr_nonnull(strstr(t, "\"llm_timeout_seconds\":300"));
}
END_TEST

START_TEST(test_manifest_execution_block_changes_iteration_default) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(HEAD "  execution: {}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *q = ok(HEAD "  execution:\n    max_iterations: 7\n");

        ck_assert_uint_eq(p->max_iterations, 5);
        ck_assert_uint_eq(q->max_iterations, 7);
}
END_TEST

START_TEST(test_manifest_seed_spellings) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p =
                ok(HEAD "    image_pull_policy: Always\n"
                        "    command: [sh, -c, 'echo hi', 5]\n"
                        "    workdir: /workspace\n"
                        "    keep_container_on_failure: true\n"
                        "  resources:\n"
                        "    cpu_quota: 0.5\n"
                        "    memory_bytes: 1073741824\n"
                        "    timeout_secs: 300\n"
                        "    pids_limit: 64\n"
                        "  security:\n"
                        "    user: \"2000:3000\"\n"
                        "    read_only_rootfs: true\n"
                        "    network_policy:\n"
                        "      mode: allow\n"
                        "      allowlist: [pypi.org, api.github.com, 10.0.0.0/8]\n"
                        "      denylist: ['*.evil.example']\n"
                        "  environment:\n"
                        "    B: two\n"
                        "    A: 1\n"
                        "    EMPTY: ''\n");

        ck_assert_int_eq(p->pull_policy, IMAGE_PULL_ALWAYS);
        ck_assert_uint_eq(strv_length(p->command), 4);
        ck_assert_str_eq(p->command[2], "echo hi");
        ck_assert_str_eq(p->command[3], "5");
        ck_assert_str_eq(p->workdir, "/workspace");
        ck_assert(p->keep_container_on_failure);
        ck_assert_uint_eq(p->nano_cpus, 500000000);
        ck_assert_uint_eq(p->memory_bytes, 1073741824);
        ck_assert_uint_eq(p->timeout_secs, 300);
        ck_assert_uint_eq(p->iteration_timeout_secs, 300); /* min(600, overall) */
        ck_assert_uint_eq(p->pids_limit, 64);
        ck_assert_uint_eq(p->uid, 2000);
        ck_assert_uint_eq(p->gid, 3000);
        ck_assert(p->read_only_rootfs);
        ck_assert_int_eq(p->network_mode, MANIFEST_NETWORK_ALLOW);
        ck_assert_uint_eq(strv_length(p->network_allowlist), 3);
        ck_assert_str_eq(p->network_allowlist[2], "10.0.0.0/8");
        ck_assert_str_eq(p->network_denylist[0], "*.evil.example");
        ck_assert_uint_eq(p->n_env, 3);
        ck_assert_str_eq(p->env[0].name, "B"); /* manifest order */
        ck_assert_str_eq(p->env[1].name, "A");
        ck_assert_str_eq(p->env[1].value, "1");
        ck_assert_str_eq(manifest_plan_getenv(p, "EMPTY"), "");
        ck_assert_ptr_null(manifest_plan_getenv(p, "NOPE"));
}
END_TEST

START_TEST(test_manifest_reference_spellings) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(HEAD "  security:\n"
                                                                 "    user: 4242\n"
                                                                 "    resources:\n"
                                                                 "      cpu: 1500\n"
                                                                 "      memory: 512Mi\n"
                                                                 "      timeout: 10m\n"
                                                                 "      pids: 100\n"
                                                                 "    network:\n"
                                                                 "      mode: deny\n"
                                                                 "  env:\n"
                                                                 "    X: y\n"
                                                                 "  execution:\n"
                                                                 "    max_iterations: 2\n"
                                                                 "    iteration_timeout: 90s\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *q =
                ok(HEAD "  security:\n    resources:\n      cpu: 250m\n      timeout: 600\n    network: "
                        "{mode: none}\n"
                        "  execution:\n    iteration_timeout_secs: 45\n");

        ck_assert_uint_eq(p->nano_cpus, 1500000000);
        ck_assert_uint_eq(p->memory_bytes, 512 * 1024 * 1024);
        ck_assert_uint_eq(p->timeout_secs, 600);
        ck_assert_uint_eq(p->pids_limit, 100);
        ck_assert_uint_eq(p->uid, 4242);
        ck_assert_uint_eq(p->gid, 4242);
        ck_assert_int_eq(p->network_mode, MANIFEST_NETWORK_DENY);
        ck_assert_str_eq(manifest_plan_getenv(p, "X"), "y");
        ck_assert_uint_eq(p->max_iterations, 2);
        ck_assert_uint_eq(p->iteration_timeout_secs, 90);

        ck_assert_uint_eq(q->nano_cpus, 250000000);
        ck_assert_uint_eq(q->timeout_secs, 600);
        ck_assert_int_eq(q->network_mode, MANIFEST_NETWORK_NONE);
        ck_assert_uint_eq(q->iteration_timeout_secs, 45);
        ck_assert_uint_eq(q->max_iterations, 5);
}
END_TEST

START_TEST(test_manifest_both_spellings_agreeing_are_accepted) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(
                HEAD
                "  resources: {cpu_quota: 1.5, memory_bytes: 536870912, timeout_secs: 600, pids_limit: 99}\n"
                "  security:\n"
                "    resources: {cpu: 1500, memory: 512Mi, timeout: 10m, pids: 99}\n"
                "    network_policy: {mode: deny, denylist: [a.org]}\n"
                "    network: {mode: deny, denylist: [a.org]}\n"
                "  environment: {A: '1', B: '2'}\n"
                "  env: {B: '2', A: 1}\n"
                "  execution: {iteration_timeout: 1m, iteration_timeout_secs: 60}\n");

        ck_assert_uint_eq(p->nano_cpus, 1500000000);
        ck_assert_uint_eq(p->memory_bytes, 536870912);
        ck_assert_uint_eq(p->timeout_secs, 600);
        ck_assert_uint_eq(p->pids_limit, 99);
        ck_assert_uint_eq(p->iteration_timeout_secs, 60);
        ck_assert_uint_eq(p->n_env, 2);
        ck_assert_str_eq(p->env[0].name, "A");
}
END_TEST

START_TEST(test_manifest_both_spellings_disagreeing_name_both) {
        fails(HEAD "  resources:\n    cpu_quota: 1\n  security:\n    resources:\n      cpu: 500\n",
              "a.yaml:12:12: spec.security.resources.cpu: conflicts with spec.resources.cpu_quota at line 9 "
              "(1000000000 vs 500000000 nano-CPUs): give only one of them");
        fails(HEAD
              "  resources:\n    memory_bytes: 536870912\n  security:\n    resources:\n      memory: 1Gi\n",
              "a.yaml:12:15: spec.security.resources.memory: conflicts with spec.resources.memory_bytes at "
              "line 9 "
              "(536870912 vs 1073741824 bytes): give only one of them");
        fails(HEAD "  security:\n    resources:\n      timeout: 600s\n  resources:\n    timeout_secs: 300\n",
              "a.yaml:12:19: spec.resources.timeout_secs: conflicts with spec.security.resources.timeout at "
              "line 10 "
              "(600 vs 300 s): give only one of them");
        fails(HEAD "  resources:\n    pids_limit: 100\n  security:\n    resources:\n      pids: 200\n",
              "a.yaml:12:13: spec.security.resources.pids: conflicts with spec.resources.pids_limit at line "
              "9 "
              "(100 vs 200): give only one of them");
        fails(HEAD "  security:\n    network_policy: {mode: allow}\n    network: {mode: deny}\n",
              "a.yaml:10:14: spec.security.network: conflicts with spec.security.network_policy at line 9 "
              "(different network policies): give only one of them");
        fails(HEAD "  environment: {A: x}\n  env: {A: y}\n",
              "a.yaml:9:8: spec.env: conflicts with spec.environment at line 8 (different variables): give "
              "only one "
              "of them");
        fails(HEAD "  execution: {iteration_timeout: 2m, iteration_timeout_secs: 60}\n",
              "a.yaml:8:62: spec.execution.iteration_timeout_secs: conflicts with "
              "spec.execution.iteration_timeout at "
              "line 8 (120 vs 60 s): give only one of them");
}
END_TEST

START_TEST(test_manifest_timeouts) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(HEAD "  execution: {iteration_timeout: 1h}\n");

        /* Only the iteration timeout given, above the overall default: one iteration may run to it. */
        ck_assert_uint_eq(p->iteration_timeout_secs, 3600);
        ck_assert_uint_eq(p->timeout_secs, 3600);
        fails(HEAD "  resources: {timeout_secs: 100}\n  execution: {iteration_timeout: 200s}\n",
              "a.yaml:9:34: spec.execution.iteration_timeout: 200 s is longer than the overall timeout of "
              "100 s: "
              "lower it or raise the overall timeout");
        fails(HEAD "  resources: {timeout_secs: 0}\n",
              "a.yaml:8:29: spec.resources.timeout_secs: expected an integer ≥ 1, got \"0\"");
        fails(HEAD "  resources: {timeout_secs: 604801}\n",
              "a.yaml:8:29: spec.resources.timeout_secs: expected an integer ≤ 604800, got \"604801\"");
        fails(HEAD "  security: {resources: {timeout: forever}}\n",
              "a.yaml:8:35: spec.security.resources.timeout: expected a duration ≥ 1 s (seconds, or like "
              "\"600s\", "
              "\"10m\", \"1h30m\"), got \"forever\"");
}
END_TEST

START_TEST(test_manifest_field_errors) {
        fails(HEAD "  resources:\n    memory_bytes: lots\n",
              "a.yaml:9:19: spec.resources.memory_bytes: expected an integer ≥ 4194304, got \"lots\"");
        fails(HEAD "  resources:\n    memory_bytes: 1024\n",
              "a.yaml:9:19: spec.resources.memory_bytes: expected an integer ≥ 4194304, got \"1024\"");
        fails(HEAD "  resources:\n    memory_bytes: \"67108864\"\n",
              "a.yaml:9:19: spec.resources.memory_bytes: expected an integer ≥ 4194304, got the string "
              "\"67108864\"");
        fails(HEAD "  security: {resources: {memory: 2Ti}}\n",
              "a.yaml:8:34: spec.security.resources.memory: expected a size ≤ 1099511627776 bytes (bytes, "
              "or with a "
              "suffix like \"512Mi\", \"1Gi\"), got \"2Ti\"");
        fails(HEAD "  resources: {cpu_quota: 0}\n",
              "a.yaml:8:26: spec.resources.cpu_quota: expected a number between 0.001 and 1024, got \"0\"");
        fails(HEAD "  resources: {cpu_quota: lots}\n", "a.yaml:8:26: spec.resources.cpu_quota: expected a "
                                                       "number between 0.001 and 1024, got \"lots\"");
        fails(HEAD "  security: {resources: {cpu: 0}}\n",
              "a.yaml:8:31: spec.security.resources.cpu: expected an integer ≥ 1, got \"0\"");
        fails(HEAD "  resources: {pids_limit: 2}\n",
              "a.yaml:8:27: spec.resources.pids_limit: expected an integer ≥ 16, got \"2\"");
        fails(HEAD "    image_pull_policy: always\n", "a.yaml:8:24: spec.runtime.image_pull_policy: "
                                                      "expected one of IfNotPresent, Always or Never, got "
                                                      "\"always\" (did you mean \"Always\"?)");
        fails(HEAD "    image_pull_policy: Sometimes\n",
              "a.yaml:8:24: spec.runtime.image_pull_policy: expected one of IfNotPresent, Always or Never, "
              "got "
              "\"Sometimes\"");
        fails(HEAD "    command: echo hi\n", "a.yaml:8:14: spec.runtime.command: expected a list of "
                                             "arguments like [\"echo\", \"hello\"], got a string");
        fails(HEAD "    command: []\n",
              "a.yaml:8:14: spec.runtime.command: expected at least one argument (the program to run)");
        fails(HEAD "    command: [echo, [x]]\n",
              "a.yaml:8:21: spec.runtime.command[1]: expected a string, got a sequence");
        fails(HEAD "    workdir: work\n", "a.yaml:8:14: spec.runtime.workdir: expected an absolute path "
                                          "(starting with /), got \"work\"");
        fails(HEAD "    keep_container_on_failure: yes\n",
              "a.yaml:8:32: spec.runtime.keep_container_on_failure: expected a boolean (true or false), got "
              "\"yes\"");
        fails(HEAD "  security: {read_only_rootfs: 1}\n",
              "a.yaml:8:32: spec.security.read_only_rootfs: expected a boolean (true or false), got \"1\"");
        fails(HEAD "  security: {user: \"0:0\"}\n",
              "a.yaml:8:20: spec.security.user: expected \"uid:gid\" (or a uid) of a non-root user, like "
              "\"1000:1000\" (1 to 2147483647; root is refused), got \"0:0\"");
        fails(HEAD "  security: {user: [1]}\n",
              "a.yaml:8:20: spec.security.user: expected \"uid:gid\" (or a uid) of a non-root user, like "
              "\"1000:1000\" (1 to 2147483647; root is refused), got a sequence");
        fails(HEAD "  security: {user: \"1000:x\"}\n",
              "a.yaml:8:20: spec.security.user: expected \"uid:gid\" (or a uid) of a non-root user, like "
              "\"1000:1000\" (1 to 2147483647; root is refused), got \"1000:x\"");
        fails(HEAD "  security: {network: {mode: open}}\n",
              "a.yaml:8:30: spec.security.network.mode: expected one of allow, deny or none, got \"open\"");
        fails(HEAD "  security: {network: {allowlist: pypi.org}}\n",
              "a.yaml:8:35: spec.security.network.allowlist: expected a list of host names, addresses or "
              "CIDRs like "
              "[\"pypi.org\"], got a string");
        fails(HEAD "  security: {network: {allowlist: ['a b']}}\n",
              "a.yaml:8:36: spec.security.network.allowlist[0]: not a valid host name (letters, "
              "digits, '-', '_' and dots; labels of at most 63 characters), got \"a b\" (entries look like "
              "pypi.org, *.github.com, 192.0.2.7 or "
              "10.0.0.0/8)");
        fails(HEAD "  security: {network: {allowlist: ['a.*.org']}}\n",
              "a.yaml:8:36: spec.security.network.allowlist[0]: '*' is allowed only alone or as a "
              "leading \"*.\", got \"a.*.org\" (entries look like "
              "pypi.org, *.github.com, 192.0.2.7 or 10.0.0.0/8)");
        fails(HEAD "  security: {network: {allowlist: ['10.0.0.0/33']}}\n",
              "a.yaml:8:36: spec.security.network.allowlist[0]: an address prefix must be "
              "ADDRESS/BITS with at most 32 (IPv4) or 128 (IPv6) bits, got \"10.0.0.0/33\" (entries look "
              "like pypi.org, *.github.com, 192.0.2.7 or 10.0.0.0/8)");
        fails(HEAD "  security: {network: {mode: none, allowlist: [a.org]}}\n",
              "a.yaml:8:47: spec.security.network.allowlist: mode none gives the container no network at "
              "all, so no host list applies: remove the list, or use mode allow (only the allowlist) or "
              "mode deny (all but the denylist)");
        fails(HEAD "  security: {network: {mode: deny, allowlist: [a.org]}}\n",
              "a.yaml:8:47: spec.security.network.allowlist: mode deny admits every host but the denylist, "
              "so an allowlist has no effect: use mode allow for an allowlist (a denylist beside it is "
              "then checked first)");
        fails(HEAD "  security: {network: {denylist: [a.org]}}\n",
              "a.yaml:8:34: spec.security.network.denylist: a denylist alone needs mode deny (mode allow, "
              "the default, admits the hosts of an allowlist, and none is given)");
        fails(HEAD "  environment: {1X: a}\n", "a.yaml:8:17: spec.environment.1X: expected a variable name "
                                               "of letters, digits and '_' not starting "
                                               "with a digit (at most 255 bytes)");
        fails(HEAD "  env: {AEGIS_TOKEN: a}\n",
              "a.yaml:8:9: spec.env.AEGIS_TOKEN: names starting with AEGIS_ are reserved for the runtime");
        fails(HEAD "  env: {A: }\n", "a.yaml:8:12: spec.env.A: expected a string, got null");
        fails(HEAD "  env: [A=b]\n",
              "a.yaml:8:8: spec.env: expected a mapping of NAME: value, got a sequence");
        fails(HEAD "  execution: {max_iterations: 0}\n",
              "a.yaml:8:31: spec.execution.max_iterations: expected an integer ≥ 1, got \"0\"");
        fails(HEAD "  execution: {max_iterations: 101}\n",
              "a.yaml:8:31: spec.execution.max_iterations: expected an integer ≤ 100, got \"101\"");
}
END_TEST

START_TEST(test_manifest_structure_errors) {
        fails("- a\n", "a.yaml:1:1: expected a manifest (a mapping with apiVersion, kind, metadata, spec), "
                       "got a sequence");
        fails("",
              "a.yaml:1:1: expected a manifest (a mapping with apiVersion, kind, metadata, spec), got null");
        fails("kind: Agent\n",
              "a.yaml:1:1: spec: required key missing: the agent's runtime, resources and security");
        fails("sepc: {}\n", "a.yaml:1:1: sepc: unknown key, did you mean \"spec\"?");
        fails("apiVersion: v1\nspec: {}\n",
              "a.yaml:1:13: apiVersion: expected \"100monkeys.ai/v1\", got \"v1\"");
        fails("kind: Tool\nspec: {}\n", "a.yaml:1:7: kind: expected \"Agent\", got \"Tool\"");
        fails("metadata: {name: Hello}\nspec: {}\n",
              "a.yaml:1:18: metadata.name: expected a name of lowercase letters, digits and '-' matching "
              "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (at most 63 bytes), got \"Hello\"");
        fails("metadata: {name: a-}\nspec: {}\n",
              "a.yaml:1:18: metadata.name: expected a name of lowercase letters, digits and '-' matching "
              "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (at most 63 bytes), got \"a-\"");
        fails("metadata: {nmae: x}\nspec: {}\n",
              "a.yaml:1:12: metadata.nmae: unknown key, did you mean \"name\"?");
        fails("spec: {}\n",
              "a.yaml:1:7: spec.runtime: required key missing: a mapping with at least image: (the "
              "container image to run)");
        fails("spec: {runtime: {}}\n",
              "a.yaml:1:17: spec.runtime.image: required key missing: the container image "
              "to run, e.g. \"localhost/aegis-test-busybox:latest\"");
        fails("spec: {runtime: {language: python, version: '3.12'}}\n",
              "a.yaml:1:28: spec.runtime.language: language runtimes are not supported: give "
              "spec.runtime.image (a "
              "container image) instead");
        fails("spec: {runtime: {image: 'bad image'}}\n",
              "a.yaml:1:25: spec.runtime.image: expected an image reference like "
              "\"localhost/aegis-test-busybox:latest\" (letters, digits, ._/:@+-, at most 512 bytes), got "
              "\"bad "
              "image\"");
        fails("spec: {runtime: {image: '-x'}}\n",
              "a.yaml:1:25: spec.runtime.image: expected an image reference like "
              "\"localhost/aegis-test-busybox:latest\" (letters, digits, ._/:@+-, at most 512 bytes), got "
              "\"-x\"");
        fails(HEAD "    imgae: x\n", "a.yaml:8:5: spec.runtime.imgae: unknown key, did you mean \"image\"?");
        fails(HEAD "  resources: {memroy_bytes: 5}\n",
              "a.yaml:8:15: spec.resources.memroy_bytes: unknown key, did you mean \"memory_bytes\"?");
        fails(HEAD "  enviroment: {}\n",
              "a.yaml:8:3: spec.enviroment: unknown key, did you mean \"environment\"?");
        fails(HEAD "  security: {resources: {gpu: 1}}\n",
              "a.yaml:8:26: spec.security.resources.gpu: unknown key, did you mean \"cpu\"?");
        fails(HEAD "  zzz: 1\n",
              "a.yaml:8:3: spec.zzz: unknown key (known keys: runtime, resources, security, "
              "environment, env, execution, volumes, task, tools, advanced, security_context, description, "
              "context, schedule)");
        fails(HEAD "  resources: 5\n",
              "a.yaml:8:14: spec.resources: expected a mapping (key: value pairs), got \"5\"");
}
END_TEST

START_TEST(test_manifest_judged_validators) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p =
                ok(HEAD "  execution:\n"
                        "    validation:\n"
                        "      - {type: semantic, criteria: greets the user}\n"
                        "      - {type: semantic, criteria: polite, model: fast, min_score: 0.9, "
                        "min_confidence: 0.5,\n"
                        "         timeout_seconds: 20}\n"
                        "      - type: multi_judge\n"
                        "        criteria: correct\n"
                        "        judges: [{model: default, weight: 2}, {model: fast}, {}]\n"
                        "        consensus: majority\n"
                        "        min_judges_required: 2\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *again = NULL;
        _cleanup_free_ char *json = NULL;
        const ManifestValidator *v;
        Error e = ERROR_INIT;

        ck_assert_uint_eq(p->n_validators, 3);
        ck_assert(manifest_plan_has_judges(p));
        v = &p->validators[0];
        ck_assert_int_eq(v->type, MANIFEST_VALIDATOR_SEMANTIC);
        ck_assert_str_eq(v->criteria, "greets the user");
        ck_assert(v->min_score == MANIFEST_JUDGE_MIN_SCORE_DEFAULT && v->min_confidence == 0);
        ck_assert_uint_eq(v->judge_timeout_secs, MANIFEST_JUDGE_TIMEOUT_DEFAULT);
        ck_assert_uint_eq(v->n_judges, 1);
        ck_assert_ptr_null(v->judges[0].model); /* spec.runtime.model */
        v = &p->validators[1];
        ck_assert_str_eq(v->judges[0].model, "fast");
        ck_assert(v->min_score == 0.9 && v->min_confidence == 0.5);
        ck_assert_uint_eq(v->judge_timeout_secs, 20);
        v = &p->validators[2];
        ck_assert_int_eq(v->type, MANIFEST_VALIDATOR_MULTI_JUDGE);
        ck_assert_int_eq(v->consensus, MANIFEST_CONSENSUS_MAJORITY);
        ck_assert_uint_eq(v->min_judges_required, 2);
        ck_assert_uint_eq(v->n_judges, 3);
        ck_assert(v->judges[0].weight == 2 && v->judges[1].weight == 1);
        ck_assert_str_eq(v->judges[1].model, "fast");
        ck_assert_ptr_null(v->judges[2].model);

        /* The canonical form parses to the same validators. */
        json = manifest_plan_to_json_string(p);
        ck_assert_ptr_nonnull(json);
        ck_assert_int_eq(manifest_parse(json, strlen(json), "canonical", &again, &e), 0);
        ck_assert_uint_eq(again->n_validators, 3);
        ck_assert_str_eq(again->validators[1].judges[0].model, "fast");
        ck_assert(again->validators[1].min_score == 0.9);
        ck_assert_int_eq(again->validators[2].consensus, MANIFEST_CONSENSUS_MAJORITY);
        ck_assert_uint_eq(again->validators[2].min_judges_required, 2);
        ck_assert(again->validators[2].judges[0].weight == 2);
        ck_assert_ptr_null(again->validators[2].judges[2].model);

        /* tool_validation: judges only; skip_judge per tool. */
        {
                _cleanup_(manifest_plan_freep) ManifestPlan *t =
                        ok(HEAD
                           "  task: {instruction: x}\n"
                           "  tools: [cmd.run, {name: fs.read, skip_judge: true}, {name: fs.list}]\n"
                           "  execution:\n"
                           "    tool_validation: [{type: semantic, criteria: only what the task needs}]\n");
                _cleanup_(manifest_plan_freep) ManifestPlan *t2 = NULL;
                _cleanup_free_ char *tj = NULL;

                ck_assert_uint_eq(strv_length(t->tools), 3);
                ck_assert_str_eq(t->tools[1], "fs.read");
                ck_assert_uint_eq(strv_length(t->tools_skip_judge), 1);
                ck_assert_str_eq(t->tools_skip_judge[0], "fs.read");
                ck_assert_uint_eq(t->n_tool_validators, 1);
                ck_assert_int_eq(t->tool_validators[0].type, MANIFEST_VALIDATOR_SEMANTIC);
                ck_assert(!manifest_plan_has_judges(t)); /* the output is not judged */
                tj = manifest_plan_to_json_string(t);
                ck_assert_ptr_nonnull(tj);
                ck_assert_int_eq(manifest_parse(tj, strlen(tj), "canonical", &t2, &e), 0);
                ck_assert_uint_eq(t2->n_tool_validators, 1);
                ck_assert_str_eq(t2->tools_skip_judge[0], "fs.read");
        }
        fails(HEAD "  execution: {tool_validation: [{type: exit_code}]}\n",
              "a.yaml:8:33: spec.execution.tool_validation[0]: expected a judge (type semantic or "
              "multi_judge): a tool call has no exit code or output to check, got type exit_code");
        fails(HEAD "  execution: {validation: [{type: semantic}]}\n",
              "a.yaml:8:28: spec.execution.validation[0].criteria: required key missing: what the judge "
              "checks, like \"the answer greets the user\"");
        /* judge_agent: a deployed agent, by name or NAME:VERSION; in multi_judge also the
         * reference's plain list of names. */
        {
                _cleanup_(manifest_plan_freep) ManifestPlan *a =
                        ok(HEAD "  execution:\n"
                                "    validation:\n"
                                "      - {type: semantic, criteria: x, judge_agent: output-judge}\n"
                                "      - {type: multi_judge, criteria: y, judges: [rev, 'rev2:1.0', "
                                "{judge_agent: rev3, weight: 2}, {model: fast}]}\n");
                _cleanup_(manifest_plan_freep) ManifestPlan *a2 = NULL;
                _cleanup_free_ char *aj = NULL;
                const ManifestValidator *m;

                ck_assert_str_eq(a->validators[0].judges[0].agent, "output-judge");
                ck_assert_ptr_null(a->validators[0].judges[0].agent_version);
                ck_assert_ptr_null(a->validators[0].judges[0].model);
                ck_assert(manifest_plan_has_agent_judges(a));
                ck_assert(manifest_plan_has_model_judges(a)); /* {model: fast} */
                aj = manifest_plan_to_json_string(a);
                ck_assert_ptr_nonnull(aj);
                ck_assert_int_eq(manifest_parse(aj, strlen(aj), "canonical", &a2, &e), 0);
                m = &a2->validators[1];
                ck_assert_uint_eq(m->n_judges, 4);
                ck_assert_str_eq(a2->validators[0].judges[0].agent, "output-judge");
                ck_assert_str_eq(m->judges[0].agent, "rev");
                ck_assert_str_eq(m->judges[1].agent, "rev2");
                ck_assert_str_eq(m->judges[1].agent_version, "1.0");
                ck_assert_str_eq(m->judges[2].agent, "rev3");
                ck_assert(m->judges[2].weight == 2);
                ck_assert_ptr_null(m->judges[3].agent);
                ck_assert_str_eq(m->judges[3].model, "fast");
        }
        {
                _cleanup_(manifest_plan_freep) ManifestPlan *a = ok(
                        HEAD "  execution: {validation: [{type: semantic, criteria: x, judge_agent: j}]}\n");
                ck_assert(!manifest_plan_has_model_judges(a)); /* no LLM needed */
        }
        fails(HEAD "  execution: {validation: [{type: semantic, criteria: x, judge_agent: Output_Judge}]}\n",
              "a.yaml:8:71: spec.execution.validation[0].judge_agent: expected a deployed agent as NAME or "
              "NAME:VERSION, like \"reviewer\" or \"reviewer:1.2.0\" (NAME as its metadata.name: "
              "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most 63 bytes), got \"Output_Judge\"");
        fails(HEAD "  execution: {validation: [{type: semantic, criteria: x, judge_agent: j, model: m}]}\n",
              "a.yaml:8:71: spec.execution.validation[0].judge_agent: a judge is either a model (model: "
              "ALIAS) or a deployed agent (judge_agent: NAME): give one of them");
        fails(HEAD "  task: {instruction: x}\n"
                   "  execution: {tool_validation: [{type: semantic, criteria: x, judge_agent: j}]}\n",
              "a.yaml:9:33: spec.execution.tool_validation[0]: a tool call is reviewed by models only: "
              "judge_agent (a whole execution of another agent) cannot review each call; name a model "
              "alias instead, like model: default");
        fails(HEAD "  execution: {validation: [{type: semantic, criteria: x, min_score: 2}]}\n",
              "a.yaml:8:69: spec.execution.validation[0].min_score: expected a number between 0 and 1, got "
              "\"2\"");
        fails(HEAD "  execution: {validation: [{type: multi_judge, criteria: x, judges: [a, 'b:']}]}\n",
              "a.yaml:8:73: spec.execution.validation[0].judges[1]: expected a deployed agent as NAME or "
              "NAME:VERSION, like \"reviewer\" or \"reviewer:1.2.0\" (NAME as its metadata.name: "
              "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most 63 bytes), got \"b:\"");
        fails(HEAD "  execution: {validation: [{type: multi_judge, criteria: x, judges: [{}],\n"
                   "    min_judges_required: 2}]}\n",
              "a.yaml:9:26: spec.execution.validation[0].min_judges_required: min_judges_required is 2 but "
              "only 1 judges are listed");
        fails(HEAD "  execution: {validation: [{type: multi_judge, criteria: x, judges: [{}], consensus: "
                   "most}]}\n",
              "a.yaml:8:86: spec.execution.validation[0].consensus: expected one of weighted_average, "
              "majority or unanimous, got \"most\"");
}
END_TEST

START_TEST(test_manifest_validators) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(
                HEAD
                "  execution:\n"
                "    validation:\n"
                "      - type: exit_code\n"
                "      - {type: exit_code, expected: 3}\n"
                "      - {type: regex, pattern: '^ok [0-9]+$', target: stderr}\n"
                "      - {type: regex, pattern: '^done \\d+$', multiline: true}\n"
                "      - type: json_schema\n"
                "        schema: {type: object, required: [answer], properties: {answer: {type: integer}}}\n"
                "      - {type: semantic, criteria: greets the user}\n");

        ck_assert_uint_eq(p->n_validators, 6);
        ck_assert_int_eq(p->validators[0].type, MANIFEST_VALIDATOR_EXIT_CODE);
        ck_assert_int_eq(p->validators[0].expected_exit_code, 0);
        ck_assert_int_eq(p->validators[1].expected_exit_code, 3);
        ck_assert_int_eq(p->validators[2].type, MANIFEST_VALIDATOR_REGEX);
        ck_assert_int_eq(p->validators[2].target, MANIFEST_STREAM_STDERR);
        ck_assert_int_eq(regex_search(p->validators[2].regex, "ok 42", 5), 1);
        ck_assert_int_eq(regex_search(p->validators[2].regex, "ok x", 4), 0);
        ck_assert(!p->validators[2].multiline);
        ck_assert_int_eq(p->validators[3].target, MANIFEST_STREAM_STDOUT);
        /* PCRE2: \d is a digit; multiline: true anchors ^ and $ at every line. */
        ck_assert(p->validators[3].multiline);
        ck_assert_int_eq(regex_search(p->validators[3].regex, "a\ndone 7\nb", 10), 1);
        ck_assert_int_eq(p->validators[4].type, MANIFEST_VALIDATOR_JSON_SCHEMA);
        ck_assert_str_eq(
                json_object_to_json_string_ext(p->validators[4].schema, JSON_C_TO_STRING_PLAIN),
                "{\"type\":\"object\",\"required\":[\"answer\"],\"properties\":{\"answer\":{\"type\":"
                "\"integer\"}}}");
        ck_assert_int_eq(p->validators[5].type, MANIFEST_VALIDATOR_SEMANTIC);
        ck_assert_uint_eq(strv_length(p->warnings), 0);

        fails(HEAD "  execution: {validation: {type: regex}}\n",
              "a.yaml:8:27: spec.execution.validation: expected a list of validators like [{type: "
              "exit_code}], got a "
              "mapping");
        fails(HEAD "  execution: {validation: [{pattern: x}]}\n",
              "a.yaml:8:28: spec.execution.validation[0].type: required key missing: exit_code, regex, "
              "json_schema, semantic or multi_judge");
        fails(HEAD "  execution: {validation: [{type: regexp}]}\n",
              "a.yaml:8:35: spec.execution.validation[0].type: expected exit_code, regex, json_schema, "
              "semantic or multi_judge, got \"regexp\" (did you mean \"regex\"?)");
        fails(HEAD "  execution: {validation: [{type: llm}]}\n",
              "a.yaml:8:35: spec.execution.validation[0].type: expected exit_code, regex, json_schema, "
              "semantic or multi_judge, got \"llm\"");
        fails(HEAD "  execution: {validation: [{type: regex}]}\n",
              "a.yaml:8:28: spec.execution.validation[0].pattern: required key missing: a regular "
              "expression (PCRE2), like '^done \\d+$'");
        fails(HEAD "  execution: {validation: [{type: regex, pattern: '(a'}]}\n",
              "a.yaml:8:51: spec.execution.validation[0].pattern: invalid regular expression (PCRE2): "
              "missing closing parenthesis at offset 2");
        /* The compiled size is bounded by PCRE2 itself; matching by its match limit. */
        fails(HEAD "  execution: {validation: [{type: regex, pattern: '((a{255}){255}){255}'}]}\n",
              "a.yaml:8:51: spec.execution.validation[0].pattern: invalid regular expression (PCRE2): "
              "regular expression is too large at offset 20");
        fails(HEAD "  execution: {validation: [{type: regex, pattern: x, multiline: 1}]}\n",
              "a.yaml:8:65: spec.execution.validation[0].multiline: expected a boolean (true or false), got "
              "\"1\"");
        fails(HEAD "  execution: {validation: [{type: regex, pattern: x, target: both}]}\n",
              "a.yaml:8:62: spec.execution.validation[0].target: expected one of stdout or stderr, got "
              "\"both\"");
        fails(HEAD "  execution: {validation: [{type: regex, pattern: x, flags: i}]}\n",
              "a.yaml:8:54: spec.execution.validation[0].flags: unknown key (known keys: type, pattern, "
              "target, multiline)");
        fails(HEAD "  execution: {validation: [{type: exit_code, expected: 256}]}\n",
              "a.yaml:8:56: spec.execution.validation[0].expected: expected an integer ≤ 255, got \"256\"");
        fails(HEAD "  execution: {validation: [{type: json_schema}]}\n",
              "a.yaml:8:28: spec.execution.validation[0].schema: required key missing: a JSON Schema (a "
              "mapping)");
        fails(HEAD "  execution: {validation: [{type: json_schema, schema: '{}'}]}\n",
              "a.yaml:8:56: spec.execution.validation[0].schema: expected a mapping (key: value pairs), got "
              "\"{}\"");
        /* A keyword the validator would not check is refused, not ignored. */
        fails(HEAD
              "  execution: {validation: [{type: json_schema, schema: {properties: {x: {dependentSchemas: "
              "{}}}}}]}\n",
              "a.yaml:8:92: spec.execution.validation[0].schema.properties.x.dependentSchemas: unsupported "
              "JSON Schema keyword; aegis-manifest(5) lists the keywords this runtime checks");
}
END_TEST

START_TEST(test_manifest_volumes) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(
                HEAD "  volumes:\n"
                     "    - name: work\n"
                     "      mount_path: /workspace\n"
                     "    - name: cache\n"
                     "      storage_class: persistent\n"
                     "      mount_path: /workspace/cache\n"
                     "      access_mode: read-only\n"
                     "      size_limit: 5Gi\n"
                     "      volume_id: vol-123\n"
                     "    - {name: tmp, mount_path: /workspace/a/b, ttl_hours: 2, size_limit: 1048576}\n");

        ck_assert_uint_eq(p->n_volumes, 3);
        ck_assert_str_eq(p->volumes[0].name, "work");
        ck_assert_int_eq(p->volumes[0].storage_class, VOLUME_EPHEMERAL);
        ck_assert_int_eq(p->volumes[0].access_mode, VOLUME_READ_WRITE);
        ck_assert_uint_eq(p->volumes[0].size_limit_bytes, UINT64_C(1) << 30);
        ck_assert_uint_eq(p->volumes[0].ttl_hours, 24);
        ck_assert_ptr_null(p->volumes[0].volume_id);
        ck_assert_int_eq(p->volumes[1].storage_class, VOLUME_PERSISTENT);
        ck_assert_int_eq(p->volumes[1].access_mode, VOLUME_READ_ONLY);
        ck_assert_uint_eq(p->volumes[1].size_limit_bytes, UINT64_C(5) << 30);
        ck_assert_uint_eq(p->volumes[1].ttl_hours, 0);
        ck_assert_str_eq(p->volumes[1].volume_id, "vol-123");
        ck_assert_str_eq(p->volumes[1].mount_path, "/workspace/cache");
        ck_assert_uint_eq(p->volumes[2].ttl_hours, 2);
        ck_assert_uint_eq(p->volumes[2].size_limit_bytes, 1048576);

        fails(HEAD "  volumes: {name: x}\n",
              "a.yaml:8:12: spec.volumes: expected a list of volumes like [{name: work, "
              "mount_path: /workspace}], got a mapping");
        fails(HEAD "  volumes: [{mount_path: /workspace}]\n",
              "a.yaml:8:13: spec.volumes[0].name: required key missing: a name for the volume, e.g. "
              "\"workspace\"");
        fails(HEAD "  volumes: [{name: Work, mount_path: /workspace}]\n",
              "a.yaml:8:20: spec.volumes[0].name: expected a name of lowercase letters, digits and '-' "
              "matching "
              "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (at most 63 bytes), got \"Work\"");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace}, {name: a, mount_path: /workspace/b}]\n",
              "a.yaml:8:55: spec.volumes[1].name: duplicate volume name \"a\"");
        fails(HEAD "  volumes: [{name: a}]\n",
              "a.yaml:8:13: spec.volumes[0].mount_path: required key missing: where "
              "the volume appears, \"/workspace\" or below");
        static const char *const bad_paths[] = { "/etc",           "/workspace/../etc", "/workspace/",
                                                 "/workspace//x",  "/workspacex",       "/workspace/./x",
                                                 "/workspace/a,b", "/workspace/a:b" };
        for (size_t i = 0; i < ELEMENTSOF(bad_paths); i++) {
                _cleanup_free_ char *doc =
                        asprintf_safe(HEAD "  volumes: [{name: a, mount_path: '%s'}]\n", bad_paths[i]);
                _cleanup_free_ char *msg = asprintf_safe(
                        "a.yaml:8:35: spec.volumes[0].mount_path: expected /workspace or a normalised path "
                        "below it "
                        "(no '.', '..', empty components, trailing '/', ',' or ':'), got \"%s\"",
                        bad_paths[i]);
                fails(doc, msg);
        }
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace}, {name: b, mount_path: /workspace}]\n",
              "a.yaml:8:70: spec.volumes[1].mount_path: volume \"a\" is already mounted at /workspace");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, storage_class: nfs}]\n",
              "a.yaml:8:62: spec.volumes[0].storage_class: expected one of ephemeral or persistent, got "
              "\"nfs\"");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, access_mode: rw}]\n",
              "a.yaml:8:60: spec.volumes[0].access_mode: expected one of read-write or read-only, got "
              "\"rw\"");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, access_mode: read_only}]\n",
              "a.yaml:8:60: spec.volumes[0].access_mode: expected one of read-write or read-only, got "
              "\"read_only\" "
              "(did you mean \"read-only\"?)");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, size_limit: 1Ki}]\n",
              "a.yaml:8:59: spec.volumes[0].size_limit: expected a size ≥ 1048576 bytes (bytes, or with a "
              "suffix "
              "like \"512Mi\", \"1Gi\"), got \"1Ki\"");
        fails(HEAD
              "  volumes: [{name: a, mount_path: /workspace, storage_class: persistent, ttl_hours: 5}]\n",
              "a.yaml:8:85: spec.volumes[0].ttl_hours: only ephemeral volumes expire; remove ttl_hours or "
              "use "
              "storage_class: ephemeral");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, ttl_hours: 0}]\n",
              "a.yaml:8:58: spec.volumes[0].ttl_hours: expected an integer ≥ 1, got \"0\"");
        fails(HEAD "  volumes: [{name: a, mount_path: /workspace, volume_id: ../x}]\n",
              "a.yaml:8:58: spec.volumes[0].volume_id: expected a volume id (1 to 64 of A-Z a-z 0-9 _ . -), "
              "got "
              "\"../x\"");
}
END_TEST

START_TEST(test_manifest_warnings_for_reference_fields) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(HEAD "    language: python\n"
                                                                 "  context: [{type: text, content: x}]\n"
                                                                 "  schedule: {type: manual}\n"
                                                                 "  security:\n"
                                                                 "    filesystem: {read: [/workspace]}\n"
                                                                 "    resources: {disk: 1Gi}\n");

        ck_assert_uint_eq(strv_length(p->warnings), 5);
        ck_assert_str_eq(p->warnings[0],
                         "a.yaml:9:12: spec.context: accepted but not acted on by this runtime");
        ck_assert_str_eq(p->warnings[1],
                         "a.yaml:10:13: spec.schedule: accepted but not acted on by this runtime");
        ck_assert_str_eq(p->warnings[2],
                         "a.yaml:8:15: spec.runtime.language: not acted on: spec.runtime.image is run");
        ck_assert_str_eq(p->warnings[3],
                         "a.yaml:12:17: spec.security.filesystem: not acted on: the container sees "
                         "only its image and spec.volumes (use read_only_rootfs)");
        ck_assert_str_eq(p->warnings[4],
                         "a.yaml:13:23: spec.security.resources.disk: not acted on: a container's disk "
                         "is not limited; size volumes with spec.volumes[].size_limit");
}
END_TEST

START_TEST(test_manifest_json_form) {
        static const char json[] =
                "{\"apiVersion\":\"100monkeys.ai/v1\",\"kind\":\"Agent\",\"metadata\":{\"name\":\"j\"},"
                "\"spec\":{\"runtime\":{\"image\":\"busybox\",\"command\":[\"echo\",\"hi\"]},"
                "\"resources\":{\"cpu_quota\":0.25,\"memory_bytes\":8388608},"
                "\"environment\":{\"K\":\"v\"}}}";
        _cleanup_(manifest_plan_freep) ManifestPlan *p = ok(json);

        ck_assert_str_eq(p->name, "j");
        ck_assert_uint_eq(p->nano_cpus, 250000000);
        ck_assert_uint_eq(p->memory_bytes, 8388608);
        ck_assert_str_eq(p->command[1], "hi");
        fails("{\"spec\": {\"runtime\": {\"image\": \"busybox\"}, \"resources\": {\"memory_bytes\": "
              "\"lots\"}}}",
              "a.yaml:1:74: spec.resources.memory_bytes: expected an integer ≥ 4194304, got \"lots\"");
}
END_TEST

START_TEST(test_manifest_network_policy_semantics) {
        _cleanup_(manifest_plan_freep) ManifestPlan *open = ok(HEAD);
        _cleanup_(manifest_plan_freep) ManifestPlan *allow =
                ok(HEAD "  security:\n    network_policy: {mode: allow, allowlist: [pypi.org, 192.0.2.7], "
                        "denylist: [evil.pypi.org]}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *empty =
                ok(HEAD "  security:\n    network_policy: {mode: allow, allowlist: []}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *deny =
                ok(HEAD "  security:\n    network_policy: {mode: deny, denylist: ['*.evil.org']}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *deny_all =
                ok(HEAD "  security:\n    network_policy: {mode: deny}\n");
        _cleanup_(manifest_plan_freep) ManifestPlan *none =
                ok(HEAD "  security:\n    network_policy: {mode: none}\n");

        ck_assert_int_eq(manifest_plan_egress(open), MANIFEST_EGRESS_OPEN);
        ck_assert(manifest_plan_host_allowed(open, "anything.example"));
        ck_assert(manifest_plan_host_allowed(open, "192.0.2.1"));

        ck_assert_int_eq(manifest_plan_egress(allow), MANIFEST_EGRESS_FILTERED);
        ck_assert(manifest_plan_host_allowed(allow, "pypi.org"));
        ck_assert(manifest_plan_host_allowed(allow, "files.PYPI.org."));
        ck_assert(!manifest_plan_host_allowed(allow, "evil.pypi.org")); /* the denylist first */
        ck_assert(!manifest_plan_host_allowed(allow, "notpypi.org"));
        ck_assert(manifest_plan_host_allowed(allow, "192.0.2.7"));
        ck_assert(!manifest_plan_host_allowed(allow, "192.0.2.8"));
        ck_assert(!manifest_plan_host_allowed(allow, "a b"));

        ck_assert_int_eq(manifest_plan_egress(empty), MANIFEST_EGRESS_FILTERED);
        ck_assert(!manifest_plan_host_allowed(empty, "pypi.org"));

        ck_assert_int_eq(manifest_plan_egress(deny), MANIFEST_EGRESS_FILTERED);
        ck_assert(manifest_plan_host_allowed(deny, "pypi.org"));
        ck_assert(!manifest_plan_host_allowed(deny, "a.evil.org"));
        ck_assert(!manifest_plan_host_allowed(deny, "127.0.0.1")); /* whose address? */
        ck_assert(!manifest_plan_host_allowed(deny, "[::1]"));

        /* "deny" without a denylist keeps the meaning it had: no network. */
        ck_assert_int_eq(manifest_plan_egress(deny_all), MANIFEST_EGRESS_NONE);
        ck_assert(!manifest_plan_host_allowed(deny_all, "pypi.org"));
        ck_assert_int_eq(manifest_plan_egress(none), MANIFEST_EGRESS_NONE);
        ck_assert(!manifest_plan_host_allowed(none, "pypi.org"));
}
END_TEST

START_TEST(test_manifest_warm_pool) {
        _cleanup_(manifest_plan_freep) ManifestPlan *none = ok(HEAD), *some = ok(HEAD "    warm_pool: 3\n"),
                                                    *zero = ok(HEAD "    warm_pool: 0\n"), *q = NULL;
        _cleanup_free_ char *s_none = manifest_plan_to_json_string(none),
                            *s_some = manifest_plan_to_json_string(some), *s_q = NULL;

        ck_assert_int_eq(none->warm_pool, -1); /* not given: runtime.warm_pool_default */
        ck_assert_int_eq(some->warm_pool, 3);
        ck_assert_int_eq(zero->warm_pool, 0);
        ck_assert(!strstr(s_none, "warm_pool")); /* the canonical form of others is unchanged */
        ck_assert(strstr(s_some, "\"warm_pool\":3"));
        q = ok(s_some);
        s_q = manifest_plan_to_json_string(q);
        ck_assert_str_eq(s_some, s_q);
        fails(HEAD "    warm_pool: 1001\n",
              "a.yaml:8:16: spec.runtime.warm_pool: expected an integer ≤ 1000, got \"1001\"");
}
END_TEST

START_TEST(test_manifest_canonical_json_round_trips) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p =
                ok(HEAD "    image_pull_policy: Never\n    command: [a, '1', 'x\"y']\n    workdir: /w\n"
                        "  security:\n    user: 5:6\n    network: {mode: allow, allowlist: [a.org], "
                        "denylist: [b.org]}\n"
                        "    resources: {cpu: 1, memory: 5Mi, timeout: 1h, pids: 77}\n"
                        "  env: {Z: '007', A: 'true'}\n"
                        "  execution:\n    iteration_timeout: 5m\n"
                        "    validation: [{type: regex, pattern: 'a|b'}, {type: json_schema, schema: {enum: "
                        "[1, 2.5, null]}}]\n"
                        "  volumes: [{name: v, mount_path: /workspace/v, storage_class: persistent, "
                        "size_limit: 2Gi}]\n");
        _cleanup_free_ char *s = manifest_plan_to_json_string(p), *s2 = NULL;
        _cleanup_(manifest_plan_freep) ManifestPlan *q = NULL;

        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(
                s,
                "{\"apiVersion\":\"100monkeys.ai/"
                "v1\",\"kind\":\"Agent\",\"metadata\":{\"name\":\"t\"},\"spec\":{"
                "\"runtime\":{\"image\":\"busybox\",\"image_pull_policy\":\"Never\",\"command\":[\"a\","
                "\"1\","
                "\"x\\\"y\"],\"workdir\":\"/"
                "w\",\"keep_container_on_failure\":false},\"resources\":{\"cpu_quota\":"
                "0.001,\"memory_bytes\":5242880,\"timeout_secs\":3600,\"pids_limit\":77},\"security\":{"
                "\"user\":"
                "\"5:6\",\"read_only_rootfs\":false,\"network_policy\":{\"mode\":\"allow\",\"allowlist\":["
                "\"a.org\"],"
                "\"denylist\":[\"b.org\"]}},\"environment\":{\"Z\":\"007\",\"A\":\"true\"},\"execution\":{"
                "\"max_iterations\":5,\"iteration_timeout\":\"300s\",\"validation\":[{\"type\":\"regex\","
                "\"pattern\":\"a|b\",\"target\":\"stdout\",\"multiline\":false},{\"type\":\"json_schema\","
                "\"schema\":{\"enum\":[1,"
                "2.5,"
                "null]}}]},\"volumes\":[{\"name\":\"v\",\"storage_class\":\"persistent\",\"mount_path\":"
                "\"/workspace/v\",\"access_mode\":\"read-write\",\"size_limit\":2147483648}]}}");
        q = ok(s);
        s2 = manifest_plan_to_json_string(q);
        ck_assert_str_eq(s, s2);
        ck_assert_uint_eq(q->nano_cpus, p->nano_cpus);
        ck_assert_str_eq(manifest_plan_getenv(q, "Z"), "007");
}
END_TEST

START_TEST(test_manifest_hostile_inputs) {
        _cleanup_free_ char *buf = malloc(MANIFEST_MAX_INPUT + 2);
        size_t o;

        /* Deep nesting stops at the depth limit, long before the input runs out. */
        memset(buf, '[', 100000);
        fails_len(buf, 100000, -E2BIG, "a.yaml:1:33: nesting deeper than 32 levels");
        /* A document larger than the limit is refused before parsing. */
        memset(buf, ' ', MANIFEST_MAX_INPUT + 1);
        fails_len(buf, MANIFEST_MAX_INPUT + 1, -EMSGSIZE,
                  "a.yaml: document is 262145 bytes, more than the limit of 262144 bytes");
        /* A huge string. */
        o = (size_t) snprintf(buf, 64, "spec: {runtime: {image: '");
        memset(buf + o, 'x', 70000);
        memcpy(buf + o + 70000, "'}}", 4);
        fails_len(buf, strlen(buf), -E2BIG, "a.yaml:1:25: string longer than 65536 bytes");
        /* Too many environment variables. */
        o = (size_t) snprintf(buf, 256, HEAD "  env:\n");
        for (unsigned i = 0; i <= MANIFEST_MAX_ENV; i++)
                o += (size_t) snprintf(buf + o, 64, "    V%u: x\n", i);
        fails_len(buf, o, -E2BIG, "a.yaml:9:5: spec.env: more than 256 variables");
        /* Many keys: bounded by the node limit. */
        o = 0;
        for (unsigned i = 0; i < 20000; i++)
                o += (size_t) snprintf(buf + o, 64, "k%u: 1\n", i);
        fails_len(buf, o, -E2BIG, "a.yaml:10000:8: document has more than 20000 nodes");
        /* Alias bombs never expand. */
        fails("a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nspec: {}\n",
              "a.yaml:2:8: aliases (*a) are not supported: write the value out");
        /* Invalid UTF-8 in the input and through escapes. */
        fails_len("spec: {runtime: {image: \"\xc3\x28\"}}", 31, -EBADMSG,
                  "a.yaml: invalid input at byte 26: invalid trailing UTF-8 octet");
        fails(HEAD "  env: {A: \"\\0\"}\n",
              "a.yaml:8:12: string contains U+0000: control characters (but tab and "
              "newline) and line or paragraph separators are not allowed");
        fails(HEAD "  env: {A: \"\\u009e\"}\n",
              "a.yaml:8:12: string contains U+009E: control characters (but tab "
              "and newline) and line or paragraph separators are not allowed");
        fails(HEAD "  env: {A: \"a\\u2028b\"}\n",
              "a.yaml:8:12: string contains U+2028: control characters (but tab "
              "and newline) and line or paragraph separators are not allowed");
        fails(HEAD "  env: {A: \"\\ud800\"}\n",
              "a.yaml:8:15: invalid YAML: found invalid Unicode character escape code "
              "while parsing a quoted scalar that started at line 8");
        /* Too many volumes, validators, arguments, hosts. */
        o = (size_t) snprintf(buf, 256, HEAD "  volumes:\n");
        for (unsigned i = 0; i <= MANIFEST_MAX_VOLUMES; i++)
                o += (size_t) snprintf(buf + o, 128, "    - {name: v%u, mount_path: /workspace/%u}\n", i, i);
        fails_len(buf, o, -E2BIG, "a.yaml:9:5: spec.volumes: more than 16 volumes");
        o = (size_t) snprintf(buf, 256, HEAD "    command:\n");
        for (unsigned i = 0; i <= MANIFEST_MAX_ARGS; i++)
                o += (size_t) snprintf(buf + o, 128, "      - a\n");
        fails_len(buf, o, -E2BIG, "a.yaml:9:7: spec.runtime.command: more than 256 arguments");
}
END_TEST

START_TEST(test_manifest_enum_tables) {
        ck_assert_str_eq(image_pull_policy_to_string(IMAGE_PULL_NEVER), "Never");
        ck_assert_int_eq(image_pull_policy_from_string("IfNotPresent"), IMAGE_PULL_IF_NOT_PRESENT);
        ck_assert_int_eq(image_pull_policy_from_string("never"), -EINVAL);
        ck_assert_str_eq(manifest_network_mode_to_string(MANIFEST_NETWORK_NONE), "none");
        ck_assert_int_eq(manifest_validator_type_from_string("json_schema"), MANIFEST_VALIDATOR_JSON_SCHEMA);
        ck_assert_str_eq(manifest_stream_to_string(MANIFEST_STREAM_STDERR), "stderr");
        ck_assert_str_eq(volume_storage_class_to_string(VOLUME_PERSISTENT), "persistent");
        ck_assert_int_eq(volume_access_mode_from_string("read-only"), VOLUME_READ_ONLY);
        ck_assert_ptr_null(volume_access_mode_to_string(_VOLUME_ACCESS_MODE_MAX));
}
END_TEST

START_TEST(test_manifest_examples_parse) {
        const char *top = getenv("top_srcdir");
        _cleanup_free_ char *dir = path_join(top ? top : "..", "examples");
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned agents = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                ManifestPlan *p = NULL;
                Error e = ERROR_INIT;
                size_t size;

                if (!endswith(de->d_name, ".yaml") && !endswith(de->d_name, ".json"))
                        continue;
                path = path_join(dir, de->d_name);
                ck_assert_int_eq(read_full_file(path, MANIFEST_MAX_INPUT, &data, &size), 0);
                if (!strstr(data, "kind: Agent") && !strstr(data, "\"kind\": \"Agent\""))
                        continue; /* a configuration file, not a manifest */
                ck_assert_msg(manifest_parse_file(path, &p, &e) == 0, "%s: %s", path, e.message);
                manifest_plan_free(p);
                agents++;
        }
        closedir(d);
        ck_assert_uint_ge(agents, 1);
}
END_TEST

START_TEST(test_manifest_agent_hello_example) {
        const char *top = getenv("top_srcdir");
        _cleanup_free_ char *path = path_join(top ? top : "..", "examples/agent-hello.yaml");
        _cleanup_(manifest_plan_freep) ManifestPlan *p = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(manifest_parse_file(path, &p, &e), 0);
        ck_assert(p->inner_loop);
        ck_assert_ptr_null(p->command);
        ck_assert_str_eq(p->image, "localhost/aegis-test-busybox:latest");
        ck_assert_str_eq(p->model_alias, "default");
        ck_assert_uint_eq(strv_length(p->tools), 1);
        ck_assert_str_eq(p->tools[0], "cmd.run");
        ck_assert_ptr_nonnull(strstr(p->task_instruction, "cmd.run"));
        ck_assert_ptr_null(p->prompt_template);
        ck_assert_uint_eq(p->llm_timeout_secs, 60);
        ck_assert_int_eq(p->network_mode, MANIFEST_NETWORK_NONE);
        ck_assert_ptr_null(p->warnings);
}
END_TEST

START_TEST(test_manifest_hello_example) {
        const char *top = getenv("top_srcdir");
        _cleanup_free_ char *path = path_join(top ? top : "..", "examples/hello.yaml");
        _cleanup_(manifest_plan_freep) ManifestPlan *p = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(manifest_parse_file(path, &p, &e), 0);
        ck_assert_str_eq(p->image, "localhost/aegis-test-busybox:latest");
        ck_assert_int_eq(p->pull_policy, IMAGE_PULL_NEVER);
        ck_assert_str_eq(p->name, "hello");
        ck_assert_uint_eq(p->max_iterations, 1);
        fails("",
              "a.yaml:1:1: expected a manifest (a mapping with apiVersion, kind, metadata, spec), got null");
        ck_assert_int_eq(manifest_parse_file("/nonexistent/x.yaml", &p, &e), -ENOENT);
        ck_assert_str_eq(e.message, "/nonexistent/x.yaml: cannot read: No such file or directory");
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("manifest");
        TCase *t = tcase_create("core");

        tcase_set_timeout(t, 60);
        tcase_add_test(t, test_manifest_defaults);
        tcase_add_test(t, test_manifest_inner_loop);
        tcase_add_test(t, test_manifest_inner_loop_with_command_warns);
        tcase_add_test(t, test_manifest_inner_loop_errors);
        tcase_add_test(t, test_manifest_inner_loop_round_trips);
        tcase_add_test(t, test_manifest_execution_block_changes_iteration_default);
        tcase_add_test(t, test_manifest_seed_spellings);
        tcase_add_test(t, test_manifest_reference_spellings);
        tcase_add_test(t, test_manifest_both_spellings_agreeing_are_accepted);
        tcase_add_test(t, test_manifest_both_spellings_disagreeing_name_both);
        tcase_add_test(t, test_manifest_timeouts);
        tcase_add_test(t, test_manifest_field_errors);
        tcase_add_test(t, test_manifest_structure_errors);
        tcase_add_test(t, test_manifest_validators);
        tcase_add_test(t, test_manifest_judged_validators);
        tcase_add_test(t, test_manifest_volumes);
        tcase_add_test(t, test_manifest_warnings_for_reference_fields);
        tcase_add_test(t, test_manifest_json_form);
        tcase_add_test(t, test_manifest_network_policy_semantics);
        tcase_add_test(t, test_manifest_canonical_json_round_trips);
        tcase_add_test(t, test_manifest_warm_pool);
        tcase_add_test(t, test_manifest_hostile_inputs);
        tcase_add_test(t, test_manifest_enum_tables);
        tcase_add_test(t, test_manifest_examples_parse);
        tcase_add_test(t, test_manifest_hello_example);
        tcase_add_test(t, test_manifest_agent_hello_example);
        tcase_add_test(t, test_manifest_check_collects_every_error);
        tcase_add_test(t, test_manifest_check_collects_errors_within_a_part);
        suite_add_tcase(s, t);
        return s;
}

int main(void) {
        return run_suite(suite());
}
