/* manifest.c — agent manifest → validated ManifestPlan (see manifest.h, aegis-manifest(5)).
 *
 * One function per section of the document, each checking its keys against a table first
 * (so a typo is reported as "unknown key, did you mean …" before anything else), then
 * reading each field with the typed getters of yaml-tree.h. Settings that have two
 * spellings are read into a Spelled value each and reconciled at the end, so a conflict
 * can name both places. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <arpa/inet.h>
#include <assert.h>
#include <string.h>

#include "host-match.h"
#include "json-schema.h"
#include "manifest.h"
#include "prompt.h"
#include "string-table.h"
#include "util.h"
#include "yaml-tree.h"

/* ---- enum tables ---- */

static const char *const manifest_network_mode_table[_MANIFEST_NETWORK_MAX] = {
        [MANIFEST_NETWORK_ALLOW] = "allow",
        [MANIFEST_NETWORK_DENY] = "deny",
        [MANIFEST_NETWORK_NONE] = "none",
};
static const char *const manifest_validator_type_table[_MANIFEST_VALIDATOR_MAX] = {
        [MANIFEST_VALIDATOR_EXIT_CODE] = "exit_code",     [MANIFEST_VALIDATOR_REGEX] = "regex",
        [MANIFEST_VALIDATOR_JSON_SCHEMA] = "json_schema", [MANIFEST_VALIDATOR_SEMANTIC] = "semantic",
        [MANIFEST_VALIDATOR_MULTI_JUDGE] = "multi_judge",
};
static const char *const manifest_consensus_table[_MANIFEST_CONSENSUS_MAX] = {
        [MANIFEST_CONSENSUS_WEIGHTED_AVERAGE] = "weighted_average",
        [MANIFEST_CONSENSUS_MAJORITY] = "majority",
        [MANIFEST_CONSENSUS_UNANIMOUS] = "unanimous",
};
static const char *const manifest_stream_table[_MANIFEST_STREAM_MAX] = {
        [MANIFEST_STREAM_STDOUT] = "stdout",
        [MANIFEST_STREAM_STDERR] = "stderr",
};

DEFINE_STRING_TABLE_LOOKUP(manifest_network_mode, ManifestNetworkMode)
DEFINE_STRING_TABLE_LOOKUP(manifest_validator_type, ManifestValidatorType)
DEFINE_STRING_TABLE_LOOKUP(manifest_stream, ManifestStream)
DEFINE_STRING_TABLE_LOOKUP(manifest_consensus, ManifestConsensus)

/* ---- freeing ---- */

static void validators_free(ManifestValidator *list, size_t n) {
        for (size_t i = 0; i < n; i++) {
                ManifestValidator *v = &list[i];
                regex_freep(&v->regex);
                free(v->pattern);
                json_object_put(v->schema);
                free(v->criteria);
                for (size_t j = 0; j < v->n_judges; j++) {
                        free(v->judges[j].model);
                        free(v->judges[j].agent);
                        free(v->judges[j].agent_version);
                }
                free(v->judges);
        }
        free(list);
}

void manifest_plan_free(ManifestPlan *p) {
        if (!p)
                return;
        free(p->name);
        free(p->version);
        free(p->image);
        strv_free(p->command);
        free(p->workdir);
        for (size_t i = 0; i < p->n_env; i++) {
                free(p->env[i].name);
                free(p->env[i].value);
        }
        free(p->env);
        strv_free(p->network_allowlist);
        strv_free(p->network_denylist);
        validators_free(p->validators, p->n_validators);
        validators_free(p->tool_validators, p->n_tool_validators);
        strv_free(p->tools_skip_judge);
        for (size_t i = 0; i < p->n_volumes; i++) {
                free(p->volumes[i].name);
                free(p->volumes[i].mount_path);
                free(p->volumes[i].volume_id);
        }
        free(p->volumes);
        free(p->task_instruction);
        free(p->prompt_template);
        free(p->model_alias);
        strv_free(p->tools);
        free(p->security_context);
        free(p->bootstrap_path);
        strv_free(p->warnings);
        free(p);
}

/* ---- parse context ---- */

/* A setting that may be given under two names: the node it came from (NULL = not given) and
 * its value in the plan's unit. */
typedef struct Spelled {
        const YamlNode *node;
        uint64_t value;
} Spelled;

typedef struct NetworkPolicy {
        const YamlNode *node;
        ManifestNetworkMode mode;
        char **allowlist, **denylist;
} NetworkPolicy;

typedef struct Ctx {
        ManifestPlan *plan;
        Error *e;
        /* manifest_check(): every error found, up to max_all, and the first one's code */
        Error *all;
        size_t n_all, max_all;
        int first;
        Spelled cpu_quota, cpu_millis, memory_bytes, memory, timeout_secs, timeout, pids_limit, pids;
        Spelled iteration_timeout, iteration_timeout_secs;
        NetworkPolicy network_policy, network;
        const YamlNode *environment, *env;
        const YamlNode *execution;
        const YamlNode *max_iterations;
        const YamlNode *description; /* metadata.description */
        const YamlNode *task, *tools, *model, *llm_timeout, *bootstrap_path;
} Ctx;

static void network_policy_done(NetworkPolicy *n) {
        strv_free(n->allowlist);
        strv_free(n->denylist);
}

static int oom(Ctx *c) {
        return error_set(c->e, -ENOMEM, "out of memory while reading the manifest");
}

static int warn(Ctx *c, const YamlNode *n, const char *what) {
        char path[YAML_PATH_MAX];
        _cleanup_free_ char *w = NULL;

        if (strv_length(c->plan->warnings) >= MANIFEST_MAX_WARNINGS)
                return 0;
        yaml_node_path(n, path, sizeof path);
        w = asprintf_safe("%s:%u:%u: %s: %s", n->file, n->line, n->column, path, what);
        if (!w || strv_extend(&c->plan->warnings, w) < 0)
                return oom(c);
        return 0;
}

/* r from one part of the manifest. Collecting (manifest_check()), an error is recorded and
 * reading goes on with the next part (0); otherwise, and for -ENOMEM, r as it is. */
static int keep_going(Ctx *c, int r) {
        if (r >= 0 || !c->all || r == -ENOMEM)
                return r;
        if (c->first == 0)
                c->first = r;
        if (c->n_all < c->max_all)
                c->all[c->n_all++] = *c->e;
        error_clear(c->e);
        return 0;
}

/* Check the keys of map against known ∪ ignored; warn once for each ignored key present. */
static int check_keys(Ctx *c, const YamlNode *map, const char *const *known, const char *const *ignored,
                      const char *why) {
        const char *all[64];
        size_t n = 0;
        int r;

        r = yaml_node_expect(map, YAML_TREE_MAPPING, c->e);
        if (r < 0)
                return r;
        for (size_t i = 0; known && known[i] && n + 1 < ELEMENTSOF(all); i++)
                all[n++] = known[i];
        for (size_t i = 0; ignored && ignored[i] && n + 1 < ELEMENTSOF(all); i++)
                all[n++] = ignored[i];
        all[n] = NULL;
        r = yaml_mapping_check_keys(map, all, c->e);
        if (r < 0)
                return r;
        for (size_t i = 0; ignored && ignored[i]; i++) {
                const YamlNode *v = yaml_mapping_get(map, ignored[i]);
                if (v) {
                        r = warn(c, v, why);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* check_keys() for a part or an item: collecting, an unknown key is one error and the known
 * keys are still read; only a node that is not a mapping ends it there. */
static int check_part_keys(Ctx *c, const YamlNode *map, const char *const *known, const char *const *ignored,
                           const char *why) {
        int r = check_keys(c, map, known, ignored, why);

        if (r < 0 && map->kind == YAML_TREE_MAPPING)
                return keep_going(c, r);
        return r;
}

static int required(Ctx *c, const YamlNode *parent, const char *key, const char *hint) {
        char path[YAML_PATH_MAX];
        size_t len;

        yaml_node_path(parent, path, sizeof path);
        len = strlen(path);
        (void) snprintf(path + len, sizeof path - len, "%s%s", len > 0 ? "." : "", key);
        return yaml_node_error_path(parent, path, c->e, -EINVAL, "required key missing: %s", hint);
}

static int dup_string(Ctx *c, const YamlNode *n, size_t max, char **ret) {
        const char *s;
        char *d;
        int r;

        r = yaml_node_get_string(n, max, &s, c->e);
        if (r < 0)
                return r;
        d = strdup(s);
        if (!d)
                return oom(c);
        free(*ret);
        *ret = d;
        return 0;
}

/* One of a table's strings, exactly; suggests the closest on a typo ("always" → "Always"). */
static int get_enum(Ctx *c, const YamlNode *n, const char *const *table, size_t size, int *ret) {
        const char *s, *list[16];
        char expected[256];
        size_t o = 0;
        int v;

        for (size_t i = 0; i < size && i + 1 < ELEMENTSOF(list); i++) {
                list[i] = table[i];
                list[i + 1] = NULL;
                o += (size_t) snprintf(expected + o, sizeof expected - MIN(o, sizeof expected), "%s%s",
                                       i == 0          ? ""
                                       : i + 1 == size ? " or "
                                                       : ", ",
                                       table[i]);
                o = MIN(o, sizeof expected - 1);
        }
        if (!yaml_node_is_string(n) || n->kind != YAML_TREE_SCALAR)
                return yaml_node_error(n, c->e, -EINVAL, "expected one of %s, got %s", expected,
                                       yaml_node_describe(n));
        s = n->value;
        v = string_table_lookup_from_string(table, size, s);
        if (v >= 0) {
                *ret = v;
                return 0;
        }
        const char *guess = suggest_closest(s, list);
        if (guess)
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected one of %s, got \"%.64s\" (did you mean \"%s\"?)", expected,
                                       s, guess);
        return yaml_node_error(n, c->e, -EINVAL, "expected one of %s, got \"%.64s\"", expected, s);
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most MANIFEST_MAX_NAME bytes. */
static bool dns_label_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > MANIFEST_MAX_NAME || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

static int get_name(Ctx *c, const YamlNode *n, char **ret) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, 0, &s, c->e);
        if (r < 0)
                return r;
        if (!dns_label_valid(s))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a name of lowercase letters, digits and '-' matching "
                                       "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (at most %d bytes), got \"%.64s\"",
                                       MANIFEST_MAX_NAME, s);
        return dup_string(c, n, MANIFEST_MAX_NAME, ret);
}

/* ---- metadata ---- */

static int string_map(Ctx *c, const YamlNode *map, size_t max_entries, size_t max_value) {
        const char *s;
        int r;

        r = yaml_node_expect(map, YAML_TREE_MAPPING, c->e);
        if (r < 0)
                return r;
        if (map->n_items / 2 > max_entries)
                return yaml_node_error(map, c->e, -E2BIG, "more than %zu entries", max_entries);
        for (size_t i = 0; i < map->n_items / 2; i++) {
                r = yaml_node_get_string(yaml_mapping_value(map, i), max_value, &s, c->e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_metadata(Ctx *c, const YamlNode *m) {
        static const char *const known[] = {
                "name", "version", "description", "labels", "annotations", NULL
        };
        const YamlNode *n;
        int r;

        r = check_part_keys(c, m, known, NULL, NULL);
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(m, "name")) && (r = keep_going(c, get_name(c, n, &c->plan->name))) < 0)
                return r;
        if ((n = yaml_mapping_get(m, "version")) &&
            (r = keep_going(c, dup_string(c, n, 128, &c->plan->version))) < 0)
                return r;
        if ((n = yaml_mapping_get(m, "description"))) {
                r = yaml_node_get_string(n, 4096, &(const char *){ 0 }, c->e);
                if (r >= 0)
                        c->description = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(m, "labels")) && (r = keep_going(c, string_map(c, n, 64, 1024))) < 0)
                return r;
        if ((n = yaml_mapping_get(m, "annotations")) && (r = keep_going(c, string_map(c, n, 64, 4096))) < 0)
                return r;
        return 0;
}

/* ---- spec.runtime ---- */

static bool image_char_ok(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               strchr("._/:@+-", ch);
}

static int parse_image(Ctx *c, const YamlNode *n) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, 0, &s, c->e);
        if (r < 0)
                return r;
        bool ok = strlen(s) <= MANIFEST_MAX_IMAGE && s[0] != '-' && s[0] != '/' && s[0] != ':';
        for (const char *p = s; ok && *p; p++)
                ok = image_char_ok(*p);
        if (!ok)
                return yaml_node_error(
                        n, c->e, -EINVAL,
                        "expected an image reference like \"localhost/aegis-test-busybox:latest\" "
                        "(letters, digits, ._/:@+-, at most %d bytes), got \"%.64s\"",
                        MANIFEST_MAX_IMAGE, s);
        return dup_string(c, n, MANIFEST_MAX_IMAGE, &c->plan->image);
}

static int parse_command(Ctx *c, const YamlNode *n) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a list of arguments like [\"echo\", \"hello\"], got %s",
                                       yaml_node_describe(n));
        if (n->n_items == 0)
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected at least one argument (the program to run)");
        if (n->n_items > MANIFEST_MAX_ARGS)
                return yaml_node_error(n, c->e, -E2BIG, "more than %d arguments", MANIFEST_MAX_ARGS);
        for (size_t i = 0; i < n->n_items; i++) {
                const char *s;
                r = yaml_node_get_string(yaml_sequence_item(n, i), MANIFEST_MAX_ARG, &s, c->e);
                if (r < 0)
                        return r;
                if (strv_extend(&argv, s) < 0)
                        return oom(c);
        }
        c->plan->command = TAKE_PTR(argv);
        return 0;
}

static int parse_absolute_path(Ctx *c, const YamlNode *n, char **ret) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, MANIFEST_MAX_PATH, &s, c->e);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected an absolute path (starting with /), got \"%.64s\"", s);
        return dup_string(c, n, MANIFEST_MAX_PATH, ret);
}

static bool ascii_isalnum(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* A model alias names an entry of the configuration's llm.providers[].models[]. */
static bool model_alias_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > MANIFEST_MAX_MODEL_ALIAS || !ascii_isalnum(s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!ascii_isalnum(*p) && !strchr("._-", *p))
                        return false;
        return true;
}

/* spec.runtime.model, and the model of a judge. */
static int get_model_alias(Ctx *c, const YamlNode *n, char **ret) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, 0, &s, c->e);
        if (r < 0)
                return r;
        if (!model_alias_valid(s))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a model alias of letters, digits and ._- like \"default\" "
                                       "(at most %d bytes; an alias of the configuration's llm models), "
                                       "got \"%.64s\"",
                                       MANIFEST_MAX_MODEL_ALIAS, s);
        return dup_string(c, n, MANIFEST_MAX_MODEL_ALIAS, ret);
}

static int parse_model(Ctx *c, const YamlNode *n) {
        c->model = n;
        return get_model_alias(c, n, &c->plan->model_alias);
}

static int parse_runtime(Ctx *c, const YamlNode *rt) {
        static const char *const known[] = {
                "image",    "image_pull_policy", "command", "workdir",   "keep_container_on_failure",
                "language", "version",           "model",   "warm_pool", NULL,
        };
        const YamlNode *n, *language;
        int r, v;

        r = check_part_keys(c, rt, known, NULL, NULL);
        if (r < 0)
                return r;
        /* language/version select an image from the reference's runtime registry, which this
         * runtime does not have: beside an image they are only noted. */
        language = yaml_mapping_get(rt, "language");
        n = yaml_mapping_get(rt, "image");
        if (!n) {
                if (language)
                        return yaml_node_error(
                                language, c->e, -EINVAL,
                                "language runtimes are not supported: give spec.runtime.image "
                                "(a container image) instead");
                return required(c, rt, "image",
                                "the container image to run, e.g. \"localhost/aegis-test-busybox:latest\"");
        }
        for (size_t i = 0; i < 2; i++) {
                const YamlNode *x = yaml_mapping_get(rt, i == 0 ? "language" : "version");
                if (x && (r = warn(c, x, "not acted on: spec.runtime.image is run")) < 0)
                        return r;
        }
        if ((r = keep_going(c, parse_image(c, n))) < 0)
                return r;
        if ((n = yaml_mapping_get(rt, "image_pull_policy"))) {
                r = get_enum(c, n, image_pull_policy_table, ELEMENTSOF(image_pull_policy_table), &v);
                if (r >= 0)
                        c->plan->pull_policy = v;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(rt, "command")) && (r = keep_going(c, parse_command(c, n))) < 0)
                return r;
        if ((n = yaml_mapping_get(rt, "workdir")) &&
            (r = keep_going(c, parse_absolute_path(c, n, &c->plan->workdir))) < 0)
                return r;
        if ((n = yaml_mapping_get(rt, "keep_container_on_failure")) &&
            (r = keep_going(c, yaml_node_get_bool(n, &c->plan->keep_container_on_failure, c->e))) < 0)
                return r;
        if ((n = yaml_mapping_get(rt, "model")) && (r = keep_going(c, parse_model(c, n))) < 0)
                return r;
        if ((n = yaml_mapping_get(rt, "warm_pool"))) {
                uint64_t w;
                r = yaml_node_get_u64(n, 0, MANIFEST_WARM_POOL_MAX, &w, c->e);
                if (r >= 0)
                        c->plan->warm_pool = (int64_t) w;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

/* ---- spec.resources (seed) and spec.security.resources (reference) ---- */

static int parse_resources(Ctx *c, const YamlNode *res) {
        static const char *const known[] = { "cpu_quota", "memory_bytes", "timeout_secs", "pids_limit",
                                             NULL };
        const YamlNode *n;
        int r;

        r = check_part_keys(c, res, known, NULL, NULL);
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(res, "cpu_quota"))) {
                double q;
                r = yaml_node_get_double(n, 0.001, 1024, &q, c->e);
                if (r >= 0)
                        c->cpu_quota = (Spelled){ n, (uint64_t) llround(q * 1e9) };
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "memory_bytes"))) {
                r = yaml_node_get_u64(n, MANIFEST_MEMORY_MIN, MANIFEST_MEMORY_MAX, &c->memory_bytes.value,
                                      c->e);
                if (r >= 0)
                        c->memory_bytes.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "timeout_secs"))) {
                r = yaml_node_get_u64(n, 1, MANIFEST_TIMEOUT_MAX, &c->timeout_secs.value, c->e);
                if (r >= 0)
                        c->timeout_secs.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "pids_limit"))) {
                r = yaml_node_get_u64(n, MANIFEST_PIDS_MIN, MANIFEST_PIDS_MAX, &c->pids_limit.value, c->e);
                if (r >= 0)
                        c->pids_limit.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

static int parse_millicores(Ctx *c, const YamlNode *n, uint64_t *ret) {
        uint64_t v;
        int r;

        /* An integer (millicores), or Kubernetes' "500m". */
        if (n->kind == YAML_TREE_SCALAR && n->length > 1 && n->value[n->length - 1] == 'm') {
                _cleanup_free_ char *digits = strndup(n->value, n->length - 1);
                if (!digits)
                        return oom(c);
                if (safe_atou64(digits, &v) >= 0 && v >= 1 && v <= 1024000) {
                        *ret = v;
                        return 0;
                }
        }
        r = yaml_node_get_u64(n, 1, 1024000, &v, c->e);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int parse_security_resources(Ctx *c, const YamlNode *res) {
        static const char *const known[] = { "cpu", "memory", "timeout", "pids", NULL };
        static const char *const ignored[] = { "disk", NULL };
        const YamlNode *n;
        uint64_t v = 0;
        int r;

        r = check_part_keys(c, res, known, ignored,
                            "not acted on: a container's disk is not limited; size volumes with "
                            "spec.volumes[].size_limit");
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(res, "cpu"))) {
                r = parse_millicores(c, n, &v);
                if (r >= 0)
                        c->cpu_millis = (Spelled){ n, v * UINT64_C(1000000) };
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "memory"))) {
                r = yaml_node_get_size(n, MANIFEST_MEMORY_MIN, MANIFEST_MEMORY_MAX, &c->memory.value, c->e);
                if (r >= 0)
                        c->memory.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "timeout"))) {
                r = yaml_node_get_duration_secs(n, 1, MANIFEST_TIMEOUT_MAX, &c->timeout.value, c->e);
                if (r >= 0)
                        c->timeout.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(res, "pids"))) {
                r = yaml_node_get_u64(n, MANIFEST_PIDS_MIN, MANIFEST_PIDS_MAX, &c->pids.value, c->e);
                if (r >= 0)
                        c->pids.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

/* ---- spec.security ---- */

static int parse_host_list(Ctx *c, const YamlNode *n, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *why;
        int r;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(
                        n, c->e, -EINVAL,
                        "expected a list of host names, addresses or CIDRs like [\"pypi.org\"], got %s",
                        yaml_node_describe(n));
        if (n->n_items > MANIFEST_MAX_HOSTS)
                return yaml_node_error(n, c->e, -E2BIG, "more than %d entries", MANIFEST_MAX_HOSTS);
        for (size_t i = 0; i < n->n_items; i++) {
                const YamlNode *item = yaml_sequence_item(n, i);
                const char *s;
                r = yaml_node_get_string(item, 253, &s, c->e);
                if (r < 0)
                        return r;
                if (host_pattern_check(s, &why) < 0)
                        return yaml_node_error(item, c->e, -EINVAL,
                                               "%s, got \"%.64s\" (entries look like pypi.org, "
                                               "*.github.com, 192.0.2.7 or 10.0.0.0/8)",
                                               why, s);
                if (strv_extend(&l, s) < 0)
                        return oom(c);
        }
        /* Given empty is not the same as not given (an empty allowlist admits nothing). */
        if (!l && !(l = calloc(1, sizeof(char *))))
                return oom(c);
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_network(Ctx *c, const YamlNode *net, NetworkPolicy *ret) {
        static const char *const known[] = { "mode", "allowlist", "denylist", NULL };
        const YamlNode *n;
        int r, v;

        r = check_keys(c, net, known, NULL, NULL);
        if (r < 0)
                return r;
        ret->node = net;
        if ((n = yaml_mapping_get(net, "mode"))) {
                r = get_enum(c, n, manifest_network_mode_table, ELEMENTSOF(manifest_network_mode_table), &v);
                if (r < 0)
                        return r;
                ret->mode = v;
        }
        if ((n = yaml_mapping_get(net, "allowlist")) && (r = parse_host_list(c, n, &ret->allowlist)) < 0)
                return r;
        if ((n = yaml_mapping_get(net, "denylist")) && (r = parse_host_list(c, n, &ret->denylist)) < 0)
                return r;
        /* A list the mode would ignore is a policy the author believes holds and does not. */
        if (ret->mode == MANIFEST_NETWORK_NONE &&
            (n = yaml_mapping_get(net, "allowlist") ?: yaml_mapping_get(net, "denylist")))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "mode none gives the container no network at all, so no host "
                                       "list applies: remove the list, or use mode allow (only the "
                                       "allowlist) or mode deny (all but the denylist)");
        if (ret->mode == MANIFEST_NETWORK_DENY && (n = yaml_mapping_get(net, "allowlist")))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "mode deny admits every host but the denylist, so an allowlist "
                                       "has no effect: use mode allow for an allowlist (a denylist "
                                       "beside it is then checked first)");
        if (ret->mode == MANIFEST_NETWORK_ALLOW && ret->denylist && !ret->allowlist)
                return yaml_node_error(yaml_mapping_get(net, "denylist"), c->e, -EINVAL,
                                       "a denylist alone needs mode deny (mode allow, the default, "
                                       "admits the hosts of an allowlist, and none is given)");
        return 0;
}

static int parse_user(Ctx *c, const YamlNode *n) {
        char buf[64];
        const char *colon;
        unsigned uid, gid;

        if (n->kind != YAML_TREE_SCALAR || !yaml_node_is_string(n) || n->length >= sizeof buf)
                goto bad;
        memcpy(buf, n->value, n->length + 1);
        colon = strchr(buf, ':');
        if (colon) {
                buf[colon - buf] = '\0';
                if (safe_atou(buf, &uid) < 0 || safe_atou(colon + 1, &gid) < 0)
                        goto bad;
        } else {
                if (safe_atou(buf, &uid) < 0)
                        goto bad;
                gid = uid;
        }
        if (uid == 0 || gid == 0 || uid > INT32_MAX || gid > INT32_MAX)
                goto bad;
        c->plan->uid = uid;
        c->plan->gid = gid;
        return 0;
bad:
        return yaml_node_error(n, c->e, -EINVAL,
                               "expected \"uid:gid\" (or a uid) of a non-root user, like \"1000:1000\" "
                               "(1 to 2147483647; root is refused), got %s%.64s%s",
                               yaml_node_is_string(n) ? "\"" : yaml_node_describe(n),
                               yaml_node_is_string(n) ? n->value : "", yaml_node_is_string(n) ? "\"" : "");
}

static int parse_security(Ctx *c, const YamlNode *sec) {
        static const char *const known[] = {
                "network_policy", "network", "resources", "user", "read_only_rootfs", NULL,
        };
        static const char *const ignored[] = { "filesystem", NULL };
        const YamlNode *n;
        int r;

        r = check_part_keys(
                c, sec, known, ignored,
                "not acted on: the container sees only its image and spec.volumes (use read_only_rootfs)");
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(sec, "network_policy")) &&
            (r = keep_going(c, parse_network(c, n, &c->network_policy))) < 0)
                return r;
        if ((n = yaml_mapping_get(sec, "network")) &&
            (r = keep_going(c, parse_network(c, n, &c->network))) < 0)
                return r;
        if ((n = yaml_mapping_get(sec, "resources")) &&
            (r = keep_going(c, parse_security_resources(c, n))) < 0)
                return r;
        if ((n = yaml_mapping_get(sec, "user")) && (r = keep_going(c, parse_user(c, n))) < 0)
                return r;
        if ((n = yaml_mapping_get(sec, "read_only_rootfs")) &&
            (r = keep_going(c, yaml_node_get_bool(n, &c->plan->read_only_rootfs, c->e))) < 0)
                return r;
        return 0;
}

/* ---- spec.environment / spec.env ---- */

static bool env_name_valid(const char *s) {
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                      *p == '_'))
                        return false;
        return strlen(s) <= MANIFEST_MAX_ENV_NAME;
}

static int check_env(Ctx *c, const YamlNode *map) {
        int r;

        if (map->kind != YAML_TREE_MAPPING)
                return yaml_node_error(map, c->e, -EINVAL, "expected a mapping of NAME: value, got %s",
                                       yaml_node_describe(map));
        if (map->n_items / 2 > MANIFEST_MAX_ENV)
                return yaml_node_error(map, c->e, -E2BIG, "more than %d variables", MANIFEST_MAX_ENV);
        for (size_t i = 0; i < map->n_items / 2; i++) {
                const YamlNode *k = yaml_mapping_key(map, i), *v = yaml_mapping_value(map, i);
                char path[YAML_PATH_MAX];
                const char *s;

                yaml_node_path(v, path, sizeof path);
                if (!env_name_valid(k->value))
                        return yaml_node_error_path(k, path, c->e, -EINVAL,
                                                    "expected a variable name of letters, digits and '_' "
                                                    "not starting with a digit (at most %d bytes)",
                                                    MANIFEST_MAX_ENV_NAME);
                if (startswith(k->value, "AEGIS_"))
                        return yaml_node_error_path(
                                k, path, c->e, -EINVAL,
                                "names starting with AEGIS_ are reserved for the runtime");
                r = yaml_node_get_string(v, MANIFEST_MAX_ENV_VALUE, &s, c->e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool env_maps_equal(const YamlNode *a, const YamlNode *b) {
        if (a->n_items != b->n_items)
                return false;
        for (size_t i = 0; i < a->n_items / 2; i++) {
                const YamlNode *o = yaml_mapping_get(b, yaml_mapping_key(a, i)->value);
                if (!o || !streq(o->value, yaml_mapping_value(a, i)->value))
                        return false;
        }
        return true;
}

static int build_env(Ctx *c, const YamlNode *map) {
        size_t n = map->n_items / 2;

        if (n == 0)
                return 0;
        c->plan->env = calloc(n, sizeof *c->plan->env);
        if (!c->plan->env)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                ManifestEnv *v = &c->plan->env[c->plan->n_env++];
                v->name = strdup(yaml_mapping_key(map, i)->value);
                v->value = strdup(yaml_mapping_value(map, i)->value);
                if (!v->name || !v->value)
                        return oom(c);
        }
        return 0;
}

/* ---- spec.execution ---- */

/* ---- judged validators (semantic, multi_judge) ---- */

/* judge_agent: "NAME" or "NAME:VERSION" (names never hold a ':'), NAME a deployed agent's
 * name or id. Whether it exists for the tenant is the API's question, at submission. */
static int get_judge_agent(Ctx *c, const YamlNode *n, ManifestJudge *ret) {
        _cleanup_free_ char *name = NULL;
        const char *s, *colon;
        int r;

        r = yaml_node_get_string(n, 0, &s, c->e);
        if (r < 0)
                return r;
        colon = strchr(s, ':');
        name = strndup(s, colon ? (size_t) (colon - s) : strlen(s));
        if (!name)
                return oom(c);
        if (!dns_label_valid(name) || (colon && (isempty(colon + 1) || strlen(colon + 1) > 128)))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a deployed agent as NAME or NAME:VERSION, like "
                                       "\"reviewer\" or \"reviewer:1.2.0\" (NAME as its metadata.name: "
                                       "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most %d bytes), got \"%.64s\"",
                                       MANIFEST_MAX_NAME, s);
        if (colon) {
                ret->agent_version = strdup(colon + 1);
                if (!ret->agent_version)
                        return oom(c);
        }
        ret->agent = TAKE_PTR(name);
        return 0;
}

/* A judge is a model or a deployed agent, never both. */
static int refuse_model_and_agent(Ctx *c, const YamlNode *n) {
        return yaml_node_error(n, c->e, -EINVAL,
                               "a judge is either a model (model: ALIAS) or a deployed agent "
                               "(judge_agent: NAME): give one of them");
}

/* The keys semantic and multi_judge share: criteria, min_score, min_confidence,
 * timeout_seconds. */
static int parse_judge_common(Ctx *c, const YamlNode *item, ManifestValidator *v) {
        const YamlNode *n;
        int r;

        v->min_score = MANIFEST_JUDGE_MIN_SCORE_DEFAULT;
        v->judge_timeout_secs = MANIFEST_JUDGE_TIMEOUT_DEFAULT;
        n = yaml_mapping_get(item, "criteria");
        if (!n)
                return required(c, item, "criteria",
                                "what the judge checks, like \"the answer greets the user\"");
        r = dup_string(c, n, MANIFEST_MAX_CRITERIA, &v->criteria);
        if (r < 0)
                return r;
        if (isempty(v->criteria))
                return yaml_node_error(n, c->e, -EINVAL, "expected the criteria the judge checks, got \"\"");
        if ((n = yaml_mapping_get(item, "min_score")) &&
            (r = yaml_node_get_double(n, 0, 1, &v->min_score, c->e)) < 0)
                return r;
        if ((n = yaml_mapping_get(item, "min_confidence")) &&
            (r = yaml_node_get_double(n, 0, 1, &v->min_confidence, c->e)) < 0)
                return r;
        if ((n = yaml_mapping_get(item, "timeout_seconds")) &&
            (r = yaml_node_get_u64(n, 1, MANIFEST_TIMEOUT_MAX, &v->judge_timeout_secs, c->e)) < 0)
                return r;
        return 0;
}

static int parse_semantic(Ctx *c, const YamlNode *item, ManifestValidator *v) {
        static const char *const keys[] = { "type",      "criteria",       "model",           "judge_agent",
                                            "min_score", "min_confidence", "timeout_seconds", NULL };
        const YamlNode *n;
        int r;

        r = check_keys(c, item, keys, NULL, NULL);
        if (r < 0)
                return r;
        v->type = MANIFEST_VALIDATOR_SEMANTIC;
        v->judges = calloc(1, sizeof *v->judges);
        if (!v->judges)
                return oom(c);
        v->n_judges = 1;
        v->judges[0].weight = 1;
        r = parse_judge_common(c, item, v);
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(item, "judge_agent"))) {
                if (yaml_mapping_get(item, "model"))
                        return refuse_model_and_agent(c, n);
                return get_judge_agent(c, n, &v->judges[0]);
        }
        if ((n = yaml_mapping_get(item, "model")))
                return get_model_alias(c, n, &v->judges[0].model);
        return 0;
}

static int parse_multi_judge(Ctx *c, const YamlNode *item, ManifestValidator *v) {
        static const char *const keys[] = {
                "type",      "criteria",       "judges",          "consensus", "min_judges_required",
                "min_score", "min_confidence", "timeout_seconds", NULL
        };
        static const char *const judge_keys[] = { "model", "weight", "judge_agent", NULL };
        const YamlNode *n, *list;
        int r, x;

        r = check_keys(c, item, keys, NULL, NULL);
        if (r < 0)
                return r;
        v->type = MANIFEST_VALIDATOR_MULTI_JUDGE;
        v->min_judges_required = 1;
        r = parse_judge_common(c, item, v);
        if (r < 0)
                return r;
        list = yaml_mapping_get(item, "judges");
        if (!list)
                return required(c, item, "judges",
                                "a list of judges like [{model: default}, {judge_agent: reviewer}]");
        if (list->kind != YAML_TREE_SEQUENCE || list->n_items == 0)
                return yaml_node_error(
                        list, c->e, -EINVAL,
                        "expected a list of judges like [{model: default, weight: 2}], got %s",
                        yaml_node_describe(list));
        if (list->n_items > MANIFEST_MAX_JUDGES)
                return yaml_node_error(list, c->e, -E2BIG, "more than %d judges", MANIFEST_MAX_JUDGES);
        v->judges = calloc(list->n_items, sizeof *v->judges);
        if (!v->judges)
                return oom(c);
        for (size_t i = 0; i < list->n_items; i++) {
                const YamlNode *j = yaml_sequence_item(list, i);
                ManifestJudge *mj = &v->judges[v->n_judges++];

                mj->weight = 1;
                if (j->kind == YAML_TREE_SCALAR) {
                        /* The reference's list of agent names. */
                        r = get_judge_agent(c, j, mj);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = check_keys(c, j, judge_keys, NULL, NULL);
                if (r < 0)
                        return r;
                if ((n = yaml_mapping_get(j, "judge_agent"))) {
                        if (yaml_mapping_get(j, "model"))
                                return refuse_model_and_agent(c, n);
                        r = get_judge_agent(c, n, mj);
                        if (r < 0)
                                return r;
                }
                if ((n = yaml_mapping_get(j, "model")) && (r = get_model_alias(c, n, &mj->model)) < 0)
                        return r;
                if ((n = yaml_mapping_get(j, "weight"))) {
                        r = yaml_node_get_double(n, 0, 1000, &mj->weight, c->e);
                        if (r < 0)
                                return r;
                        if (mj->weight <= 0)
                                return yaml_node_error(n, c->e, -EINVAL,
                                                       "expected a weight greater than 0, got %g",
                                                       mj->weight);
                }
        }
        if ((n = yaml_mapping_get(item, "consensus"))) {
                r = get_enum(c, n, manifest_consensus_table, ELEMENTSOF(manifest_consensus_table), &x);
                if (r < 0)
                        return r;
                v->consensus = x;
        }
        if ((n = yaml_mapping_get(item, "min_judges_required"))) {
                uint64_t k;
                r = yaml_node_get_u64(n, 1, MANIFEST_MAX_JUDGES, &k, c->e);
                if (r < 0)
                        return r;
                if (k > v->n_judges)
                        return yaml_node_error(n, c->e, -EINVAL,
                                               "min_judges_required is %" PRIu64
                                               " but only %zu judges are listed",
                                               k, v->n_judges);
                v->min_judges_required = (unsigned) k;
        }
        return 0;
}

bool manifest_plan_has_judges(const ManifestPlan *p) {
        assert(p);
        for (size_t i = 0; i < p->n_validators; i++)
                if (p->validators[i].type == MANIFEST_VALIDATOR_SEMANTIC ||
                    p->validators[i].type == MANIFEST_VALIDATOR_MULTI_JUDGE)
                        return true;
        return false;
}

static bool validators_have_judge(const ManifestValidator *list, size_t n, bool agent) {
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < list[i].n_judges; j++)
                        if (!!list[i].judges[j].agent == agent)
                                return true;
        return false;
}

bool manifest_plan_has_model_judges(const ManifestPlan *p) {
        assert(p);
        return validators_have_judge(p->validators, p->n_validators, false) ||
               validators_have_judge(p->tool_validators, p->n_tool_validators, false);
}

bool manifest_plan_has_agent_judges(const ManifestPlan *p) {
        assert(p);
        return validators_have_judge(p->validators, p->n_validators, true);
}

static int parse_validator(Ctx *c, const YamlNode *item, ManifestValidator *list, size_t *n_list) {
        static const char *const types[] = { "exit_code", "regex",       "json_schema",
                                             "semantic",  "multi_judge", NULL };
        static const char *const keys_exit[] = { "type", "expected", NULL };
        static const char *const keys_regex[] = { "type", "pattern", "target", "multiline", NULL };
        static const char *const keys_schema[] = { "type", "schema", NULL };
        ManifestValidator *v;
        const YamlNode *t, *n;
        const char *ts;
        int r, x;

        r = yaml_node_expect(item, YAML_TREE_MAPPING, c->e);
        if (r < 0)
                return r;
        t = yaml_mapping_get(item, "type");
        if (!t)
                return required(c, item, "type", "exit_code, regex, json_schema, semantic or multi_judge");
        r = yaml_node_get_string(t, 64, &ts, c->e);
        if (r < 0)
                return r;
        x = manifest_validator_type_from_string(ts);
        if (x < 0) {
                const char *guess = suggest_closest(ts, types);
                if (guess)
                        return yaml_node_error(t, c->e, -EINVAL,
                                               "expected exit_code, regex, json_schema, semantic or "
                                               "multi_judge, got \"%.64s\" (did you mean \"%s\"?)",
                                               ts, guess);
                return yaml_node_error(t, c->e, -EINVAL,
                                       "expected exit_code, regex, json_schema, semantic or multi_judge, "
                                       "got \"%.64s\"",
                                       ts);
        }
        v = &list[(*n_list)++];
        switch (x) {
        case MANIFEST_VALIDATOR_EXIT_CODE:
                r = check_keys(c, item, keys_exit, NULL, NULL);
                if (r < 0)
                        return r;
                if ((n = yaml_mapping_get(item, "expected"))) {
                        uint64_t code;
                        r = yaml_node_get_u64(n, 0, 255, &code, c->e);
                        if (r < 0)
                                return r;
                        v->expected_exit_code = (int) code;
                }
                break;
        case MANIFEST_VALIDATOR_REGEX: {
                char msg[256];
                v->type = MANIFEST_VALIDATOR_REGEX;
                r = check_keys(c, item, keys_regex, NULL, NULL);
                if (r < 0)
                        return r;
                n = yaml_mapping_get(item, "pattern");
                if (!n)
                        return required(c, item, "pattern",
                                        "a regular expression (PCRE2), like '^done \\d+$'");
                r = dup_string(c, n, MANIFEST_MAX_PATTERN, &v->pattern);
                if (r < 0)
                        return r;
                if ((t = yaml_mapping_get(item, "target"))) {
                        r = get_enum(c, t, manifest_stream_table, ELEMENTSOF(manifest_stream_table), &x);
                        if (r < 0)
                                return r;
                        v->target = x;
                }
                if ((t = yaml_mapping_get(item, "multiline")) &&
                    (r = yaml_node_get_bool(t, &v->multiline, c->e)) < 0)
                        return r;
                r = regex_compile(v->pattern, v->multiline, &v->regex, msg, sizeof msg);
                if (r == -ENOMEM)
                        return oom(c);
                if (r < 0)
                        return yaml_node_error(n, c->e, r, "invalid regular expression (PCRE2): %s", msg);
                break;
        }
        case MANIFEST_VALIDATOR_JSON_SCHEMA:
                r = check_keys(c, item, keys_schema, NULL, NULL);
                if (r < 0)
                        return r;
                n = yaml_mapping_get(item, "schema");
                if (!n)
                        return required(c, item, "schema", "a JSON Schema (a mapping)");
                r = yaml_node_expect(n, YAML_TREE_MAPPING, c->e);
                if (r < 0)
                        return r;
                r = json_schema_check(n, c->e);
                if (r < 0)
                        return r;
                r = yaml_node_to_json(n, &v->schema, c->e);
                if (r < 0)
                        return r;
                v->type = MANIFEST_VALIDATOR_JSON_SCHEMA;
                break;
        case MANIFEST_VALIDATOR_SEMANTIC:
                return parse_semantic(c, item, v);
        case MANIFEST_VALIDATOR_MULTI_JUDGE:
                return parse_multi_judge(c, item, v);
        }
        return 0;
}

/* spec.execution.validation, or tool_validation (judged validators only: they review each
 * tool call before it runs). */
static int parse_validators(Ctx *c, const YamlNode *n, bool judges_only, ManifestValidator **list,
                            size_t *n_list) {
        int r;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(
                        n, c->e, -EINVAL, "expected a list of validators like [{type: %s}], got %s",
                        judges_only ? "semantic, criteria: ..." : "exit_code", yaml_node_describe(n));
        if (n->n_items > MANIFEST_MAX_VALIDATORS)
                return yaml_node_error(n, c->e, -E2BIG, "more than %d validators", MANIFEST_MAX_VALIDATORS);
        if (n->n_items > 0) {
                *list = calloc(n->n_items, sizeof **list);
                if (!*list)
                        return oom(c);
        }
        for (size_t i = 0; i < n->n_items; i++) {
                const YamlNode *item = yaml_sequence_item(n, i);
                size_t before = *n_list;

                /* Each validator on its own: collecting, a bad one does not hide the next. */
                r = parse_validator(c, item, *list, n_list);
                if (r >= 0 && judges_only && *n_list > before &&
                    (*list)[*n_list - 1].type != MANIFEST_VALIDATOR_SEMANTIC &&
                    (*list)[*n_list - 1].type != MANIFEST_VALIDATOR_MULTI_JUDGE)
                        r = yaml_node_error(item, c->e, -EINVAL,
                                            "expected a judge (type semantic or multi_judge): a tool call "
                                            "has no exit code or output to check, got type %s",
                                            manifest_validator_type_to_string((*list)[*n_list - 1].type));
                if (r >= 0 && judges_only && *n_list > before &&
                    validators_have_judge(&(*list)[*n_list - 1], 1, true))
                        r = yaml_node_error(item, c->e, -EINVAL,
                                            "a tool call is reviewed by models only: judge_agent (a whole "
                                            "execution of another agent) cannot review each call; name a "
                                            "model alias instead, like model: default");
                if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

static int parse_execution(Ctx *c, const YamlNode *ex) {
        static const char *const known[] = {
                "max_iterations",
                "iteration_timeout",
                "iteration_timeout_secs",
                "validation",
                "llm_timeout_seconds",
                "tool_validation",
                NULL,
        };
        const YamlNode *n;
        int r;

        r = check_part_keys(c, ex, known, NULL, NULL);
        if (r < 0)
                return r;
        c->execution = ex;
        if ((n = yaml_mapping_get(ex, "max_iterations"))) {
                r = yaml_node_get_u64(n, 1, MANIFEST_ITERATIONS_MAX, &c->plan->max_iterations, c->e);
                if (r >= 0)
                        c->max_iterations = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(ex, "iteration_timeout"))) {
                r = yaml_node_get_duration_secs(n, 1, MANIFEST_TIMEOUT_MAX, &c->iteration_timeout.value,
                                                c->e);
                if (r >= 0)
                        c->iteration_timeout.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(ex, "iteration_timeout_secs"))) {
                r = yaml_node_get_u64(n, 1, MANIFEST_TIMEOUT_MAX, &c->iteration_timeout_secs.value, c->e);
                if (r >= 0)
                        c->iteration_timeout_secs.node = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(ex, "llm_timeout_seconds"))) {
                r = yaml_node_get_u64(n, 1, MANIFEST_TIMEOUT_MAX, &c->plan->llm_timeout_secs, c->e);
                if (r >= 0)
                        c->llm_timeout = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(ex, "validation"))) {
                r = parse_validators(c, n, false, &c->plan->validators, &c->plan->n_validators);
                if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(ex, "tool_validation"))) {
                r = parse_validators(c, n, true, &c->plan->tool_validators, &c->plan->n_tool_validators);
                if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

/* ---- spec.volumes ---- */

static bool mount_path_valid(const char *s) {
        const char *rest = startswith(s, MANIFEST_WORKSPACE);

        if (!rest)
                return false;
        if (*rest == '\0')
                return true;
        if (*rest != '/')
                return false;
        /* Each component non-empty, not "." or "..", no characters that mean something in a
         * mount specification (",", ":") or are invisible. */
        for (const char *p = rest; *p;) {
                const char *start = ++p, *end = strchrnul(start, '/');
                size_t len = (size_t) (end - start);
                if (len == 0 || (len == 1 && start[0] == '.') ||
                    (len == 2 && start[0] == '.' && start[1] == '.'))
                        return false;
                for (const char *q = start; q < end; q++)
                        if ((unsigned char) *q < 0x20 || *q == 0x7f || *q == ',' || *q == ':')
                                return false;
                p = end;
        }
        return true;
}

static int parse_volume(Ctx *c, const YamlNode *item) {
        static const char *const known[] = {
                "name",       "storage_class", "mount_path", "access_mode",
                "size_limit", "ttl_hours",     "volume_id",  NULL,
        };
        ManifestVolume *v;
        const YamlNode *n;
        int r, x;

        r = check_keys(c, item, known, NULL, NULL);
        if (r < 0)
                return r;
        v = &c->plan->volumes[c->plan->n_volumes++];
        v->size_limit_bytes = MANIFEST_VOLUME_SIZE_DEFAULT;
        n = yaml_mapping_get(item, "name");
        if (!n)
                return required(c, item, "name", "a name for the volume, e.g. \"workspace\"");
        r = get_name(c, n, &v->name);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < c->plan->n_volumes; i++)
                if (streq(c->plan->volumes[i].name, v->name))
                        return yaml_node_error(n, c->e, -EINVAL, "duplicate volume name \"%s\"", v->name);
        if ((n = yaml_mapping_get(item, "storage_class"))) {
                r = get_enum(c, n, volume_storage_class_table, ELEMENTSOF(volume_storage_class_table), &x);
                if (r < 0)
                        return r;
                v->storage_class = x;
        }
        n = yaml_mapping_get(item, "mount_path");
        if (!n)
                return required(c, item, "mount_path", "where the volume appears, \"/workspace\" or below");
        r = dup_string(c, n, MANIFEST_MAX_PATH, &v->mount_path);
        if (r < 0)
                return r;
        if (!mount_path_valid(v->mount_path))
                return yaml_node_error(
                        n, c->e, -EINVAL,
                        "expected /workspace or a normalised path below it (no '.', '..', empty "
                        "components, trailing '/', ',' or ':'), got \"%.64s\"",
                        v->mount_path);
        for (size_t i = 0; i + 1 < c->plan->n_volumes; i++)
                if (streq(c->plan->volumes[i].mount_path, v->mount_path))
                        return yaml_node_error(n, c->e, -EINVAL, "volume \"%s\" is already mounted at %s",
                                               c->plan->volumes[i].name, v->mount_path);
        if ((n = yaml_mapping_get(item, "access_mode"))) {
                r = get_enum(c, n, volume_access_mode_table, ELEMENTSOF(volume_access_mode_table), &x);
                if (r < 0)
                        return r;
                v->access_mode = x;
        }
        if ((n = yaml_mapping_get(item, "size_limit"))) {
                r = yaml_node_get_size(n, MANIFEST_VOLUME_SIZE_MIN, MANIFEST_VOLUME_SIZE_MAX,
                                       &v->size_limit_bytes, c->e);
                if (r < 0)
                        return r;
        }
        if (v->storage_class == VOLUME_EPHEMERAL)
                v->ttl_hours = MANIFEST_TTL_HOURS_DEFAULT;
        if ((n = yaml_mapping_get(item, "ttl_hours"))) {
                if (v->storage_class != VOLUME_EPHEMERAL)
                        return yaml_node_error(n, c->e, -EINVAL,
                                               "only ephemeral volumes expire; remove ttl_hours or use "
                                               "storage_class: ephemeral");
                r = yaml_node_get_u64(n, 1, MANIFEST_TTL_HOURS_MAX, &v->ttl_hours, c->e);
                if (r < 0)
                        return r;
        }
        if ((n = yaml_mapping_get(item, "volume_id"))) {
                const char *s;
                r = yaml_node_get_string(n, 64, &s, c->e);
                if (r < 0)
                        return r;
                if (!id_is_valid(s))
                        return yaml_node_error(
                                n, c->e, -EINVAL,
                                "expected a volume id (1 to 64 of A-Z a-z 0-9 _ . -), got \"%.64s\"", s);
                r = dup_string(c, n, 64, &v->volume_id);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_volumes(Ctx *c, const YamlNode *n) {
        int r;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(
                        n, c->e, -EINVAL,
                        "expected a list of volumes like [{name: work, mount_path: /workspace}], got %s",
                        yaml_node_describe(n));
        if (n->n_items > MANIFEST_MAX_VOLUMES)
                return yaml_node_error(n, c->e, -E2BIG, "more than %d volumes", MANIFEST_MAX_VOLUMES);
        if (n->n_items == 0)
                return 0;
        c->plan->volumes = calloc(n->n_items, sizeof *c->plan->volumes);
        if (!c->plan->volumes)
                return oom(c);
        /* Each volume on its own: collecting, a bad one does not hide the next. */
        for (size_t i = 0; i < n->n_items; i++)
                if ((r = keep_going(c, parse_volume(c, yaml_sequence_item(n, i)))) < 0)
                        return r;
        return 0;
}

/* ---- reconciling the two spellings ---- */

static int conflict(Ctx *c, const YamlNode *a, const YamlNode *b, const char *detail) {
        const YamlNode *first = a->line < b->line || (a->line == b->line && a->column <= b->column) ? a : b;
        const YamlNode *second = first == a ? b : a;
        char path[YAML_PATH_MAX];

        yaml_node_path(first, path, sizeof path);
        return yaml_node_error(second, c->e, -EINVAL,
                               "conflicts with %s at line %u (%s): give only one of them", path, first->line,
                               detail);
}

/* Pick the one given, or both if they agree; else an error naming both. */
static int reconcile(Ctx *c, const Spelled *a, const Spelled *b, const char *unit, uint64_t def,
                     uint64_t *ret, bool *ret_given) {
        char detail[128];

        if (a->node && b->node && a->value != b->value) {
                bool a_first = a->node->line < b->node->line ||
                               (a->node->line == b->node->line && a->node->column <= b->node->column);
                (void) snprintf(detail, sizeof detail, "%" PRIu64 " vs %" PRIu64 "%s",
                                a_first ? a->value : b->value, a_first ? b->value : a->value, unit);
                return conflict(c, a->node, b->node, detail);
        }
        *ret = a->node ? a->value : b->node ? b->value : def;
        if (ret_given)
                *ret_given = a->node || b->node;
        return 0;
}

static bool strv_equal(char **a, char **b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static int finish(Ctx *c) {
        ManifestPlan *p = c->plan;
        NetworkPolicy *np;
        bool timeout_given, iteration_given;
        int r;

        r = reconcile(c, &c->cpu_quota, &c->cpu_millis, " nano-CPUs", MANIFEST_NANO_CPUS_DEFAULT,
                      &p->nano_cpus, NULL);
        if (r < 0)
                return r;
        r = reconcile(c, &c->memory_bytes, &c->memory, " bytes", MANIFEST_MEMORY_DEFAULT, &p->memory_bytes,
                      NULL);
        if (r < 0)
                return r;
        r = reconcile(c, &c->pids_limit, &c->pids, "", MANIFEST_PIDS_DEFAULT, &p->pids_limit, NULL);
        if (r < 0)
                return r;
        r = reconcile(c, &c->timeout_secs, &c->timeout, " s", MANIFEST_TIMEOUT_DEFAULT, &p->timeout_secs,
                      &timeout_given);
        if (r < 0)
                return r;
        r = reconcile(c, &c->iteration_timeout, &c->iteration_timeout_secs, " s",
                      MIN((uint64_t) MANIFEST_ITERATION_TIMEOUT_DEFAULT, p->timeout_secs),
                      &p->iteration_timeout_secs, &iteration_given);
        if (r < 0)
                return r;
        if (iteration_given && p->iteration_timeout_secs > p->timeout_secs) {
                const YamlNode *it = c->iteration_timeout.node ? c->iteration_timeout.node
                                                               : c->iteration_timeout_secs.node;
                if (timeout_given)
                        return yaml_node_error(it, c->e, -EINVAL,
                                               "%" PRIu64 " s is longer than the overall timeout of %" PRIu64
                                               " s: lower it or raise the overall timeout",
                                               p->iteration_timeout_secs, p->timeout_secs);
                /* Only the iteration timeout was given: let one iteration run to it. */
                p->timeout_secs = p->iteration_timeout_secs;
        }
        if (!c->max_iterations)
                p->max_iterations = c->execution ? MANIFEST_ITERATIONS_DEFAULT
                                                 : MANIFEST_ITERATIONS_DEFAULT_NO_EXECUTION;

        if (c->network_policy.node && c->network.node &&
            (c->network_policy.mode != c->network.mode ||
             !strv_equal(c->network_policy.allowlist, c->network.allowlist) ||
             !strv_equal(c->network_policy.denylist, c->network.denylist)))
                return conflict(c, c->network_policy.node, c->network.node, "different network policies");
        np = c->network_policy.node ? &c->network_policy : &c->network;
        p->network_mode = np->mode;
        p->network_allowlist = TAKE_PTR(np->allowlist);
        p->network_denylist = TAKE_PTR(np->denylist);

        if (c->environment && c->env && !env_maps_equal(c->environment, c->env))
                return conflict(c, c->environment, c->env, "different variables");
        if (c->environment || c->env)
                return build_env(c, c->environment ? c->environment : c->env);
        return 0;
}

/* ---- spec.task, spec.tools, spec.advanced: the inner loop ---- */

static int parse_task(Ctx *c, const YamlNode *task) {
        static const char *const known[] = { "instruction", "prompt_template", NULL };
        static const char *const ignored[] = { "agentskills", "input_data", NULL };
        Error check = ERROR_INIT;
        const YamlNode *n;
        int r;

        r = check_part_keys(c, task, known, ignored,
                            "not acted on by this runtime (give the input with the execution request)");
        if (r < 0)
                return r;
        c->task = task;
        if ((n = yaml_mapping_get(task, "instruction")) &&
            (r = keep_going(c, dup_string(c, n, MANIFEST_MAX_STRING, &c->plan->task_instruction))) < 0)
                return r;
        if ((n = yaml_mapping_get(task, "prompt_template"))) {
                const char *s;
                r = yaml_node_get_string(n, MANIFEST_MAX_STRING, &s, c->e);
                if (r < 0)
                        return r;
                /* The reference treats an empty template as none. */
                if (s[0] == '\0')
                        return 0;
                r = prompt_template_check(s, &check);
                if (r < 0)
                        return yaml_node_error(n, c->e, r, "%s", check.message);
                r = dup_string(c, n, MANIFEST_MAX_STRING, &c->plan->prompt_template);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$ */
static bool tool_name_valid(const char *s) {
        bool start = true;

        if (strlen(s) > MANIFEST_MAX_TOOL_NAME)
                return false;
        for (const char *p = s; *p; p++) {
                if (start) {
                        if (!(*p >= 'a' && *p <= 'z'))
                                return false;
                        start = false;
                } else if (*p == '.')
                        start = true;
                else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        }
        return !start;
}

static int parse_tools(Ctx *c, const YamlNode *n) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a list of tool names like [cmd.run], got %s",
                                       yaml_node_describe(n));
        if (n->n_items > MANIFEST_MAX_TOOLS)
                return yaml_node_error(n, c->e, -E2BIG, "more than %d tools", MANIFEST_MAX_TOOLS);
        for (size_t i = 0; i < n->n_items; i++) {
                static const char *const keys[] = { "name", "skip_judge", NULL };
                const YamlNode *item = yaml_sequence_item(n, i), *k;
                bool skip = false;
                const char *s;

                if (item->kind == YAML_TREE_MAPPING) {
                        /* {name: fs.read, skip_judge: true}: tool_validation's judges do not
                         * review this tool's calls. */
                        r = check_keys(c, item, keys, NULL, NULL);
                        if (r < 0)
                                return r;
                        if ((k = yaml_mapping_get(item, "skip_judge")) &&
                            (r = yaml_node_get_bool(k, &skip, c->e)) < 0)
                                return r;
                        item = yaml_mapping_get(item, "name");
                        if (!item)
                                return required(c, yaml_sequence_item(n, i), "name",
                                                "a tool name like cmd.run");
                }
                r = yaml_node_get_string(item, MANIFEST_MAX_TOOL_NAME, &s, c->e);
                if (r < 0)
                        return r;
                if (skip && strv_extend(&c->plan->tools_skip_judge, s) < 0)
                        return oom(c);
                if (!tool_name_valid(s))
                        return yaml_node_error(item, c->e, -EINVAL,
                                               "expected a tool name of lowercase words joined by '.' like "
                                               "\"cmd.run\" (^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$), got "
                                               "\"%.64s\"",
                                               s);
                if (strv_contains(l, s))
                        return yaml_node_error(item, c->e, -EINVAL, "duplicate tool \"%s\"", s);
                if (strv_extend(&l, s) < 0)
                        return oom(c);
        }
        c->tools = n;
        c->plan->tools = TAKE_PTR(l);
        return 0;
}

/* spec.security_context: the name of a context of aegis-config.yaml's security.contexts (that
 * it exists is the daemon's question, at submission). */
static int parse_security_context(Ctx *c, const YamlNode *n) {
        const char *s;
        int r = yaml_node_get_string(n, 64, &s, c->e);

        if (r < 0)
                return r;
        if (!id_is_valid(s))
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected the name of a security context (letters, digits, \"_\", "
                                       "\".\" or \"-\"), got \"%.64s\"",
                                       s);
        c->plan->security_context = strdup(s);
        return c->plan->security_context ? 0 : oom(c);
}

static int parse_advanced(Ctx *c, const YamlNode *adv) {
        static const char *const known[] = { "bootstrap_path", NULL };
        static const char *const ignored[] = { "warm_pool_size", "swarm_enabled", "startup_script",
                                               "health_check", NULL };
        const YamlNode *n;
        int r;

        r = check_part_keys(c, adv, known, ignored, "accepted but not acted on by this runtime");
        if (r < 0)
                return r;
        if ((n = yaml_mapping_get(adv, "bootstrap_path"))) {
                r = parse_absolute_path(c, n, &c->plan->bootstrap_path);
                if (r >= 0)
                        c->bootstrap_path = n;
                else if ((r = keep_going(c, r)) < 0)
                        return r;
        }
        return 0;
}

/* After spec.runtime and spec.execution: whether the inner loop runs, its defaults, and a
 * warning for each of its fields that a command-running manifest carries in vain. */
static int finish_inner_loop(Ctx *c) {
        ManifestPlan *p = c->plan;
        int r;

        p->inner_loop = c->task && !p->command;
        if (!p->model_alias && !(p->model_alias = strdup(MANIFEST_MODEL_ALIAS_DEFAULT)))
                return oom(c);
        if (!p->task_instruction && c->task && c->description &&
            (r = dup_string(c, c->description, 4096, &p->task_instruction)) < 0)
                return r;
        if (!c->llm_timeout)
                p->llm_timeout_secs =
                        MIN((uint64_t) MANIFEST_LLM_TIMEOUT_DEFAULT, p->iteration_timeout_secs);
        else if (p->llm_timeout_secs > p->iteration_timeout_secs)
                return yaml_node_error(c->llm_timeout, c->e, -EINVAL,
                                       "%" PRIu64 " s is longer than the iteration timeout of %" PRIu64
                                       " s, which ends the iteration first: lower it or raise "
                                       "spec.execution.iteration_timeout",
                                       p->llm_timeout_secs, p->iteration_timeout_secs);
        if (p->inner_loop)
                return 0;

        const YamlNode *unused[] = { c->task, c->tools, c->model, c->llm_timeout, c->bootstrap_path };
        for (size_t i = 0; i < ELEMENTSOF(unused); i++)
                if (unused[i] &&
                    (r = warn(c, unused[i],
                              p->command ? "not acted on: spec.runtime.command is run (remove it to run the "
                                           "inner loop)"
                                         : "not acted on without spec.task (the image's command is run)")) <
                            0)
                        return r;
        return 0;
}

/* ---- top level ---- */

static int parse_spec(Ctx *c, const YamlNode *spec) {
        static const char *const known[] = {
                "runtime", "resources", "security", "environment",      "env", "execution", "volumes",
                "task",    "tools",     "advanced", "security_context", NULL,
        };
        static const char *const ignored[] = { "description", "context", "schedule", NULL };
        static const struct {
                const char *key;
                int (*parse)(Ctx *c, const YamlNode *n);
        } parts[] = {
                { "resources", parse_resources }, { "security", parse_security },
                { "execution", parse_execution }, { "volumes", parse_volumes },
                { "task", parse_task },           { "tools", parse_tools },
                { "advanced", parse_advanced },   { "security_context", parse_security_context },
        };
        const YamlNode *n;
        int r;

        r = check_keys(c, spec, known, ignored, "accepted but not acted on by this runtime");
        if (r < 0 && spec->kind != YAML_TREE_MAPPING)
                return r;
        if ((r = keep_going(c, r)) < 0)
                return r;
        n = yaml_mapping_get(spec, "runtime");
        r = n ? parse_runtime(c, n)
              : required(c, spec, "runtime", "a mapping with at least image: (the container image to run)");
        if ((r = keep_going(c, r)) < 0)
                return r;
        /* Each part on its own: collecting, an error in one does not hide those of the next. */
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (streq(parts[i].key, "execution")) {
                        if ((n = yaml_mapping_get(spec, "environment"))) {
                                r = keep_going(c, check_env(c, n));
                                if (r < 0)
                                        return r;
                                if (c->n_all == 0)
                                        c->environment = n;
                        }
                        if ((n = yaml_mapping_get(spec, "env"))) {
                                r = keep_going(c, check_env(c, n));
                                if (r < 0)
                                        return r;
                                if (c->n_all == 0)
                                        c->env = n;
                        }
                }
                if ((n = yaml_mapping_get(spec, parts[i].key)) &&
                    (r = keep_going(c, parts[i].parse(c, n))) < 0)
                        return r;
        }
        /* What follows relates the parts: only meaningful once every part was read. */
        if (c->n_all > 0)
                return 0;
        r = finish(c);
        if (r < 0)
                return r;
        return finish_inner_loop(c);
}

static int expect_exact(Ctx *c, const YamlNode *n, const char *want) {
        const char *s;
        int r = yaml_node_get_string(n, 0, &s, c->e);

        if (r < 0)
                return r;
        if (!streq(s, want))
                return yaml_node_error(n, c->e, -EINVAL, "expected \"%s\", got \"%.64s\"", want, s);
        return 0;
}

static int from_tree(const YamlNode *root, Error *all, size_t max_all, size_t *ret_n, ManifestPlan **ret,
                     Error *e) {
        static const char *const known[] = { "apiVersion", "kind", "metadata", "spec", NULL };
        _cleanup_(manifest_plan_freep) ManifestPlan *p = NULL;
        const YamlNode *n;
        Ctx c;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return error_set(e, -ENOMEM, "out of memory while reading the manifest");
        p->pull_policy = IMAGE_PULL_IF_NOT_PRESENT;
        p->warm_pool = -1;
        p->uid = MANIFEST_UID_DEFAULT;
        p->gid = MANIFEST_GID_DEFAULT;
        c = (Ctx){ .plan = p, .e = e, .all = all, .max_all = max_all };

        if (root->kind != YAML_TREE_MAPPING)
                r = keep_going(&c, yaml_node_error(root, e, -EINVAL,
                                                   "expected a manifest (a mapping with apiVersion, kind, "
                                                   "metadata, spec), got %s",
                                                   yaml_node_describe(root)));
        else {
                r = keep_going(&c, check_keys(&c, root, known, NULL, NULL));
                if (r >= 0 && (n = yaml_mapping_get(root, "apiVersion")))
                        r = keep_going(&c, expect_exact(&c, n, MANIFEST_API_VERSION));
                if (r >= 0 && (n = yaml_mapping_get(root, "kind")))
                        r = keep_going(&c, expect_exact(&c, n, MANIFEST_KIND));
                if (r >= 0 && (n = yaml_mapping_get(root, "metadata")))
                        r = keep_going(&c, parse_metadata(&c, n));
                if (r >= 0) {
                        n = yaml_mapping_get(root, "spec");
                        r = keep_going(&c, n ? parse_spec(&c, n)
                                             : required(&c, root, "spec",
                                                        "the agent's runtime, resources and security"));
                }
        }
        network_policy_done(&c.network_policy);
        network_policy_done(&c.network);
        if (ret_n)
                *ret_n = c.n_all;
        if (r >= 0 && c.first < 0) { /* collected: e is the first error */
                *e = all[0];
                r = c.first;
        }
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(p);
        return 0;
}

int manifest_from_tree(const YamlNode *root, ManifestPlan **ret, Error *e) {
        assert(ret);
        return from_tree(root, NULL, 0, NULL, ret, e);
}

static int parse(const char *data, size_t size, const char *file, Error *all, size_t max_all, size_t *ret_n,
                 ManifestPlan **ret, Error *e) {
        const YamlLimits limits = {
                .max_input = MANIFEST_MAX_INPUT,
                .max_depth = MANIFEST_MAX_DEPTH,
                .max_nodes = MANIFEST_MAX_NODES,
                .max_scalar = MANIFEST_MAX_STRING,
                .max_key = 256,
        };
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        int r;

        if (ret_n)
                *ret_n = 0;
        r = yaml_tree_parse(data, size, file, &limits, &doc, e);
        if (r < 0) {
                if (all && max_all > 0) {
                        all[0] = *e;
                        *ret_n = 1;
                }
                return r;
        }
        return from_tree(doc->root, all, max_all, ret_n, ret, e);
}

int manifest_parse(const char *data, size_t size, const char *file, ManifestPlan **ret, Error *e) {
        assert(ret);
        return parse(data, size, file, NULL, 0, NULL, ret, e);
}

int manifest_check(const char *data, size_t size, const char *file, Error *errors, size_t max_errors,
                   size_t *ret_n_errors, ManifestPlan **ret, Error *e) {
        assert(errors);
        assert(max_errors > 0);
        assert(ret_n_errors);
        return parse(data, size, file, errors, max_errors, ret_n_errors, ret, e);
}

int manifest_parse_file(const char *path, ManifestPlan **ret, Error *e) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, MANIFEST_MAX_INPUT, &data, &size);
        if (r == -EFBIG || r == -E2BIG || r == -EMSGSIZE)
                return error_set(e, -EMSGSIZE, "%s: larger than the manifest limit of %d bytes", path,
                                 MANIFEST_MAX_INPUT);
        if (r < 0)
                return error_set(e, r, "%s: cannot read: %s", path, strerror(-r));
        return manifest_parse(data, size, path, ret, e);
}

ManifestEgress manifest_plan_egress(const ManifestPlan *p) {
        assert(p);
        switch (p->network_mode) {
        case MANIFEST_NETWORK_ALLOW:
                return p->network_allowlist ? MANIFEST_EGRESS_FILTERED : MANIFEST_EGRESS_OPEN;
        case MANIFEST_NETWORK_DENY:
                /* Without a denylist, "deny" keeps the meaning it always had here: no network. */
                return strv_length(p->network_denylist) > 0 ? MANIFEST_EGRESS_FILTERED
                                                            : MANIFEST_EGRESS_NONE;
        default:
                return MANIFEST_EGRESS_NONE;
        }
}

static bool host_is_address(const char *host) {
        unsigned char buf[sizeof(struct in6_addr)];
        char tmp[64];
        size_t n = strlen(host);

        if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof tmp) {
                memcpy(tmp, host + 1, n - 2);
                tmp[n - 2] = '\0';
                return inet_pton(AF_INET6, tmp, buf) == 1;
        }
        return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

bool manifest_plan_host_allowed(const ManifestPlan *p, const char *host) {
        assert(p);
        assert(host);
        switch (manifest_plan_egress(p)) {
        case MANIFEST_EGRESS_OPEN:
                return true;
        case MANIFEST_EGRESS_NONE:
                return false;
        default:
                break;
        }
        if (host_matches_any(p->network_denylist, host))
                return false;
        if (p->network_mode == MANIFEST_NETWORK_DENY)
                return !host_is_address(host);
        return host_matches_any(p->network_allowlist, host);
}

const char *manifest_plan_getenv(const ManifestPlan *p, const char *name) {
        for (size_t i = 0; p && i < p->n_env; i++)
                if (streq(p->env[i].name, name))
                        return p->env[i].value;
        return NULL;
}

/* ---- back to JSON ---- */

static int add(struct json_object *o, const char *key, struct json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_judge_agent(struct json_object *o, const ManifestJudge *j) {
        _cleanup_free_ char *s =
                j->agent_version ? asprintf_safe("%s:%s", j->agent, j->agent_version) : strdup(j->agent);

        if (!s)
                return -ENOMEM;
        return add(o, "judge_agent", json_object_new_string(s));
}

static int judged_validator_to_json(const ManifestValidator *v, struct json_object *jv) {
        struct json_object *a;
        int r;

        if ((r = add(jv, "criteria", json_object_new_string(v->criteria))) < 0 ||
            (r = add(jv, "min_score", json_object_new_double(v->min_score))) < 0 ||
            (r = add(jv, "min_confidence", json_object_new_double(v->min_confidence))) < 0 ||
            (r = add(jv, "timeout_seconds", json_object_new_int64((int64_t) v->judge_timeout_secs))) < 0)
                return r;
        if (v->type == MANIFEST_VALIDATOR_SEMANTIC) {
                if (v->judges[0].agent)
                        return add_judge_agent(jv, &v->judges[0]);
                return v->judges[0].model ? add(jv, "model", json_object_new_string(v->judges[0].model)) : 0;
        }
        if ((r = add(jv, "consensus", json_object_new_string(manifest_consensus_to_string(v->consensus)))) <
                    0 ||
            (r = add(jv, "min_judges_required", json_object_new_int64(v->min_judges_required))) < 0 ||
            (r = add(jv, "judges", a = json_object_new_array())) < 0)
                return r;
        for (size_t i = 0; i < v->n_judges; i++) {
                struct json_object *j = json_object_new_object();
                if (!j || json_object_array_add(a, j) < 0) {
                        json_object_put(j);
                        return -ENOMEM;
                }
                if (v->judges[i].agent && (r = add_judge_agent(j, &v->judges[i])) < 0)
                        return r;
                if (v->judges[i].model &&
                    (r = add(j, "model", json_object_new_string(v->judges[i].model))) < 0)
                        return r;
                if ((r = add(j, "weight", json_object_new_double(v->judges[i].weight))) < 0)
                        return r;
        }
        return 0;
}

static int validators_to_json(const ManifestValidator *list, size_t n, struct json_object *o,
                              const char *key) {
        struct json_object *a;
        int r;

        if ((r = add(o, key, a = json_object_new_array())) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const ManifestValidator *v = &list[i];
                struct json_object *jv = json_object_new_object(), *schema = NULL;
                if (!jv || json_object_array_add(a, jv) < 0) {
                        json_object_put(jv);
                        return -ENOMEM;
                }
                if ((r = add(jv, "type",
                             json_object_new_string(manifest_validator_type_to_string(v->type)))) < 0)
                        return r;
                switch (v->type) {
                case MANIFEST_VALIDATOR_EXIT_CODE:
                        r = add(jv, "expected", json_object_new_int(v->expected_exit_code));
                        break;
                case MANIFEST_VALIDATOR_REGEX:
                        if ((r = add(jv, "pattern", json_object_new_string(v->pattern))) >= 0)
                                r = add(jv, "target",
                                        json_object_new_string(manifest_stream_to_string(v->target)));
                        if (r >= 0)
                                r = add(jv, "multiline", json_object_new_boolean(v->multiline));
                        break;
                case MANIFEST_VALIDATOR_JSON_SCHEMA:
                        if (json_object_deep_copy(v->schema, &schema, NULL) < 0)
                                return -ENOMEM;
                        r = add(jv, "schema", schema);
                        break;
                case MANIFEST_VALIDATOR_SEMANTIC:
                case MANIFEST_VALIDATOR_MULTI_JUDGE:
                        r = judged_validator_to_json(v, jv);
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* spec.tools: names, and {name, skip_judge: true} for those tool_validation skips. */
static struct json_object *tools_to_json(const ManifestPlan *p) {
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && p->tools[i]; i++) {
                struct json_object *t;
                if (strv_contains(p->tools_skip_judge, p->tools[i])) {
                        t = json_object_new_object();
                        if (t && (add(t, "name", json_object_new_string(p->tools[i])) < 0 ||
                                  add(t, "skip_judge", json_object_new_boolean(true)) < 0)) {
                                json_object_put(t);
                                t = NULL;
                        }
                } else
                        t = json_object_new_string(p->tools[i]);
                if (!t || json_object_array_add(a, t) < 0) {
                        json_object_put(t);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static struct json_object *strv_to_json(char **l) {
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && l && l[i]; i++)
                if (json_object_array_add(a, json_object_new_string(l[i])) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static struct json_object *cpus_to_json(uint64_t nano) {
        char text[64];
        size_t n;

        /* Exact decimal text (1.5, 0.001), so parsing it back gives the same NanoCpus. */
        n = (size_t) snprintf(text, sizeof text, "%" PRIu64 ".%09" PRIu64, nano / 1000000000,
                              nano % 1000000000);
        while (n > 0 && text[n - 1] == '0')
                text[--n] = '\0';
        if (n > 0 && text[n - 1] == '.')
                text[n++] = '0', text[n] = '\0';
        return json_object_new_double_s((double) nano / 1e9, text);
}

static int metadata_to_json(const ManifestPlan *p, struct json_object *root) {
        struct json_object *o;
        int r;

        if (!p->name && !p->version)
                return 0;
        if ((r = add(root, "metadata", o = json_object_new_object())) < 0)
                return r;
        if (p->name && (r = add(o, "name", json_object_new_string(p->name))) < 0)
                return r;
        if (p->version && (r = add(o, "version", json_object_new_string(p->version))) < 0)
                return r;
        return 0;
}

/* spec.runtime, and what the inner loop adds beside it: task, tools, security_context, advanced. */
static int runtime_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *o, *a;
        int r;

        if ((r = add(spec, "runtime", o = json_object_new_object())) < 0 ||
            (r = add(o, "image", json_object_new_string(p->image))) < 0 ||
            (r = add(o, "image_pull_policy",
                     json_object_new_string(image_pull_policy_to_string(p->pull_policy)))) < 0)
                return r;
        if (p->command && (r = add(o, "command", strv_to_json(p->command))) < 0)
                return r;
        if (p->workdir && (r = add(o, "workdir", json_object_new_string(p->workdir))) < 0)
                return r;
        if ((r = add(o, "keep_container_on_failure",
                     json_object_new_boolean(p->keep_container_on_failure))) < 0)
                return r;
        if (p->warm_pool >= 0 && (r = add(o, "warm_pool", json_object_new_int64(p->warm_pool))) < 0)
                return r;
        /* The inner loop's fields only where they matter, so that a command-running
         * manifest's canonical form stays as it was. */
        if ((p->inner_loop || !streq(p->model_alias, MANIFEST_MODEL_ALIAS_DEFAULT)) &&
            (r = add(o, "model", json_object_new_string(p->model_alias))) < 0)
                return r;
        if (p->inner_loop || p->task_instruction || p->prompt_template) {
                if ((r = add(spec, "task", a = json_object_new_object())) < 0)
                        return r;
                if (p->task_instruction &&
                    (r = add(a, "instruction", json_object_new_string(p->task_instruction))) < 0)
                        return r;
                if (p->prompt_template &&
                    (r = add(a, "prompt_template", json_object_new_string(p->prompt_template))) < 0)
                        return r;
        }
        if (p->tools && (r = add(spec, "tools", tools_to_json(p))) < 0)
                return r;
        if (p->security_context &&
            (r = add(spec, "security_context", json_object_new_string(p->security_context))) < 0)
                return r;
        if (p->bootstrap_path &&
            ((r = add(spec, "advanced", a = json_object_new_object())) < 0 ||
             (r = add(a, "bootstrap_path", json_object_new_string(p->bootstrap_path))) < 0))
                return r;
        return 0;
}

static int resources_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *o;
        int r;

        if ((r = add(spec, "resources", o = json_object_new_object())) < 0 ||
            (r = add(o, "cpu_quota", cpus_to_json(p->nano_cpus))) < 0 ||
            (r = add(o, "memory_bytes", json_object_new_int64((int64_t) p->memory_bytes))) < 0 ||
            (r = add(o, "timeout_secs", json_object_new_int64((int64_t) p->timeout_secs))) < 0 ||
            (r = add(o, "pids_limit", json_object_new_int64((int64_t) p->pids_limit))) < 0)
                return r;
        return 0;
}

static int security_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *o, *a;
        char buf[64];
        int r;

        (void) snprintf(buf, sizeof buf, "%" PRIu32 ":%" PRIu32, p->uid, p->gid);
        if ((r = add(spec, "security", o = json_object_new_object())) < 0 ||
            (r = add(o, "user", json_object_new_string(buf))) < 0 ||
            (r = add(o, "read_only_rootfs", json_object_new_boolean(p->read_only_rootfs))) < 0 ||
            (r = add(o, "network_policy", a = json_object_new_object())) < 0 ||
            (r = add(a, "mode", json_object_new_string(manifest_network_mode_to_string(p->network_mode)))) <
                    0)
                return r;
        if (p->network_allowlist && (r = add(a, "allowlist", strv_to_json(p->network_allowlist))) < 0)
                return r;
        if (p->network_denylist && (r = add(a, "denylist", strv_to_json(p->network_denylist))) < 0)
                return r;
        return 0;
}

static int environment_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *o;
        int r;

        if (p->n_env == 0)
                return 0;
        if ((r = add(spec, "environment", o = json_object_new_object())) < 0)
                return r;
        for (size_t i = 0; i < p->n_env; i++)
                if ((r = add(o, p->env[i].name, json_object_new_string(p->env[i].value))) < 0)
                        return r;
        return 0;
}

static int execution_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *o;
        char buf[64];
        int r;

        (void) snprintf(buf, sizeof buf, "%" PRIu64 "s", p->iteration_timeout_secs);
        if ((r = add(spec, "execution", o = json_object_new_object())) < 0 ||
            (r = add(o, "max_iterations", json_object_new_int64((int64_t) p->max_iterations))) < 0 ||
            (r = add(o, "iteration_timeout", json_object_new_string(buf))) < 0)
                return r;
        if ((p->inner_loop || p->llm_timeout_secs != MIN((uint64_t) MANIFEST_LLM_TIMEOUT_DEFAULT,
                                                         p->iteration_timeout_secs)) &&
            (r = add(o, "llm_timeout_seconds", json_object_new_int64((int64_t) p->llm_timeout_secs))) < 0)
                return r;
        if (p->n_validators > 0 &&
            (r = validators_to_json(p->validators, p->n_validators, o, "validation")) < 0)
                return r;
        if (p->n_tool_validators > 0 &&
            (r = validators_to_json(p->tool_validators, p->n_tool_validators, o, "tool_validation")) < 0)
                return r;
        return 0;
}

static int volume_to_json(const ManifestVolume *v, struct json_object *jv) {
        int r;

        if ((r = add(jv, "name", json_object_new_string(v->name))) < 0 ||
            (r = add(jv, "storage_class",
                     json_object_new_string(volume_storage_class_to_string(v->storage_class)))) < 0 ||
            (r = add(jv, "mount_path", json_object_new_string(v->mount_path))) < 0 ||
            (r = add(jv, "access_mode",
                     json_object_new_string(volume_access_mode_to_string(v->access_mode)))) < 0 ||
            (r = add(jv, "size_limit", json_object_new_int64((int64_t) v->size_limit_bytes))) < 0)
                return r;
        if (v->storage_class == VOLUME_EPHEMERAL &&
            (r = add(jv, "ttl_hours", json_object_new_int64((int64_t) v->ttl_hours))) < 0)
                return r;
        if (v->volume_id && (r = add(jv, "volume_id", json_object_new_string(v->volume_id))) < 0)
                return r;
        return 0;
}

static int volumes_to_json(const ManifestPlan *p, struct json_object *spec) {
        struct json_object *a;
        int r;

        if (p->n_volumes == 0)
                return 0;
        if ((r = add(spec, "volumes", a = json_object_new_array())) < 0)
                return r;
        for (size_t i = 0; i < p->n_volumes; i++) {
                struct json_object *jv = json_object_new_object();
                if (!jv || json_object_array_add(a, jv) < 0) {
                        json_object_put(jv);
                        return -ENOMEM;
                }
                r = volume_to_json(&p->volumes[i], jv);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The canonical document, one function per section, in the order of aegis-manifest(5). */
static int plan_to_json(const ManifestPlan *p, struct json_object *root) {
        struct json_object *spec;
        int r;

        if ((r = add(root, "apiVersion", json_object_new_string(MANIFEST_API_VERSION))) < 0 ||
            (r = add(root, "kind", json_object_new_string(MANIFEST_KIND))) < 0 ||
            (r = metadata_to_json(p, root)) < 0 ||
            (r = add(root, "spec", spec = json_object_new_object())) < 0)
                return r;
        if ((r = runtime_to_json(p, spec)) < 0 || (r = resources_to_json(p, spec)) < 0 ||
            (r = security_to_json(p, spec)) < 0 || (r = environment_to_json(p, spec)) < 0 ||
            (r = execution_to_json(p, spec)) < 0 || (r = volumes_to_json(p, spec)) < 0)
                return r;
        return 0;
}

int manifest_plan_to_json(const ManifestPlan *p, struct json_object **ret) {
        struct json_object *root = json_object_new_object();
        int r;

        if (!root)
                return -ENOMEM;
        r = plan_to_json(p, root);
        if (r < 0) {
                json_object_put(root);
                return r;
        }
        *ret = root;
        return 0;
}

char *manifest_plan_to_json_string(const ManifestPlan *p) {
        struct json_object *j = NULL;
        char *s;

        if (manifest_plan_to_json(p, &j) < 0)
                return NULL;
        s = strdup_or_null(
                json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(j);
        return s;
}
