/* manifest.h — an agent manifest (YAML or JSON) read and validated into the execution plan
 * the supervisor runs.
 *
 * Both spellings are accepted: the seed's (spec.resources.cpu_quota / memory_bytes /
 * timeout_secs, spec.security.network_policy, spec.environment) and the reference's
 * (spec.security.resources.cpu millicores / memory "512Mi" / timeout "600s",
 * spec.security.network, spec.env). Giving both spellings of one setting with different
 * values is an error naming both. Unknown keys are errors ("did you mean"); reference fields
 * accepted but not acted on (spec.context, spec.task.agentskills, …) become warnings.
 *
 * A manifest with spec.task and no spec.runtime.command runs the inner loop (inner_loop):
 * each iteration is an LLM conversation driven from inside the container; one with a
 * command runs the command as before (spec.task, spec.tools, … are then only warned about). Every error is
 * "FILE:LINE:COL: path.to.key: what is wrong" with Error.field = "path.to.key".
 * See aegis-manifest(5) for every field, default and limit.
 *
 * A plan is immutable once parsed; manifest_plan_to_json() writes it back as a canonical
 * manifest (seed spellings, every default made explicit) that parses to the same plan. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "regex-match.h"
#include "spec-enums.h"

struct json_object;
struct YamlNode;

/* Limits (also in aegis-manifest(5)). */
#define MANIFEST_MAX_INPUT (256 * 1024) /* bytes of YAML/JSON */
#define MANIFEST_MAX_DEPTH 32
#define MANIFEST_MAX_NODES 20000
#define MANIFEST_MAX_STRING (64 * 1024) /* any one string */
#define MANIFEST_MAX_ENV 256
#define MANIFEST_MAX_ENV_NAME 255
#define MANIFEST_MAX_ENV_VALUE (32 * 1024)
#define MANIFEST_MAX_ARGS 256
#define MANIFEST_MAX_ARG (32 * 1024)
#define MANIFEST_MAX_HOSTS 256 /* allowlist/denylist entries, each ≤ 253 bytes */
#define MANIFEST_MAX_VALIDATORS 32
#define MANIFEST_MAX_PATTERN 4096
#define MANIFEST_MAX_VOLUMES 16
#define MANIFEST_MAX_NAME 63 /* metadata.name and volume names: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ */
#define MANIFEST_MAX_IMAGE 512
#define MANIFEST_MAX_PATH 4096
#define MANIFEST_MAX_WARNINGS 64
#define MANIFEST_MAX_TOOLS 64 /* spec.tools entries */
#define MANIFEST_MAX_TOOL_NAME 128 /* ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$ */
#define MANIFEST_MAX_MODEL_ALIAS 64 /* ^[A-Za-z0-9][A-Za-z0-9._-]*$ */
#define MANIFEST_MAX_JUDGES 8 /* multi_judge: judges[] */
#define MANIFEST_MAX_CRITERIA (16 * 1024) /* semantic / multi_judge: criteria */

/* Ranges and defaults. */
#define MANIFEST_MEMORY_MIN UINT64_C(4194304) /* 4 MiB */
#define MANIFEST_MEMORY_MAX (UINT64_C(1) << 40) /* 1 TiB */
#define MANIFEST_MEMORY_DEFAULT (UINT64_C(512) << 20)
#define MANIFEST_NANO_CPUS_MIN UINT64_C(1000000) /* 1 millicore */
#define MANIFEST_NANO_CPUS_MAX (UINT64_C(1024) * UINT64_C(1000000000))
#define MANIFEST_NANO_CPUS_DEFAULT UINT64_C(1000000000) /* 1 CPU */
#define MANIFEST_PIDS_MIN 16
#define MANIFEST_PIDS_MAX 1000000
#define MANIFEST_PIDS_DEFAULT 1024
#define MANIFEST_TIMEOUT_MAX (7 * 24 * 3600) /* seconds, overall and per iteration */
#define MANIFEST_TIMEOUT_DEFAULT 1800 /* overall */
#define MANIFEST_ITERATION_TIMEOUT_DEFAULT 600
#define MANIFEST_LLM_TIMEOUT_DEFAULT 300 /* one model call; never above the iteration timeout */
#define MANIFEST_MODEL_ALIAS_DEFAULT "default"
#define MANIFEST_JUDGE_MIN_SCORE_DEFAULT 0.7 /* the reference's */
#define MANIFEST_JUDGE_TIMEOUT_DEFAULT 300 /* one judge call, seconds (the reference's) */
#define MANIFEST_ITERATIONS_MAX 100
#define MANIFEST_WARM_POOL_MAX 1000 /* spec.runtime.warm_pool; runtime.warm_pool_max caps it further */
#define MANIFEST_ITERATIONS_DEFAULT 5 /* with a spec.execution block */
#define MANIFEST_ITERATIONS_DEFAULT_NO_EXECUTION 3 /* without one */
#define MANIFEST_UID_DEFAULT 1000
#define MANIFEST_GID_DEFAULT 1000
#define MANIFEST_VOLUME_SIZE_MIN (UINT64_C(1) << 20) /* 1 MiB */
#define MANIFEST_VOLUME_SIZE_MAX (UINT64_C(1) << 40) /* 1 TiB */
#define MANIFEST_VOLUME_SIZE_DEFAULT (UINT64_C(1) << 30) /* 1 GiB */
#define MANIFEST_TTL_HOURS_DEFAULT 24 /* ephemeral volumes */
#define MANIFEST_TTL_HOURS_MAX (24 * 365)
#define MANIFEST_API_VERSION "100monkeys.ai/v1"
#define MANIFEST_KIND "Agent"
#define MANIFEST_WORKSPACE "/workspace"

/* spec.security.network_policy.mode, as written (aegis-manifest(5)). What it means for the
 * container and for each tool call is manifest_plan_egress() and manifest_plan_host_allowed(). */
typedef enum ManifestNetworkMode {
        MANIFEST_NETWORK_ALLOW, /* default; with an allowlist: only the listed hosts */
        MANIFEST_NETWORK_DENY, /* with a denylist: every host but the listed ones; without: none */
        MANIFEST_NETWORK_NONE, /* no network at all */
        _MANIFEST_NETWORK_MAX,
        _MANIFEST_NETWORK_INVALID = -EINVAL,
} ManifestNetworkMode;

/* How a container of the plan reaches the network. */
typedef enum ManifestEgress {
        MANIFEST_EGRESS_OPEN, /* the runtime's network (runtime.network), unfiltered */
        MANIFEST_EGRESS_NONE, /* no network at all */
        MANIFEST_EGRESS_FILTERED, /* no network of its own; aegisd's egress proxy, by the lists */
        _MANIFEST_EGRESS_MAX,
} ManifestEgress;

typedef enum ManifestValidatorType {
        MANIFEST_VALIDATOR_EXIT_CODE,
        MANIFEST_VALIDATOR_REGEX,
        MANIFEST_VALIDATOR_JSON_SCHEMA,
        MANIFEST_VALIDATOR_SEMANTIC, /* one model judges the output (judge.h) */
        MANIFEST_VALIDATOR_MULTI_JUDGE, /* several, and a consensus */
        _MANIFEST_VALIDATOR_MAX,
        _MANIFEST_VALIDATOR_INVALID = -EINVAL,
} ManifestValidatorType;

typedef enum ManifestConsensus {
        MANIFEST_CONSENSUS_WEIGHTED_AVERAGE, /* default */
        MANIFEST_CONSENSUS_MAJORITY,
        MANIFEST_CONSENSUS_UNANIMOUS,
        _MANIFEST_CONSENSUS_MAX,
        _MANIFEST_CONSENSUS_INVALID = -EINVAL,
} ManifestConsensus;

typedef enum ManifestStream {
        MANIFEST_STREAM_STDOUT, /* default */
        MANIFEST_STREAM_STDERR,
        _MANIFEST_STREAM_MAX,
        _MANIFEST_STREAM_INVALID = -EINVAL,
} ManifestStream;

/* "allow", "deny", "none"; "exit_code", "regex", "json_schema", "semantic", "multi_judge";
 * "stdout", "stderr"; "weighted_average", "majority", "unanimous" (the pull policy, storage
 * class and access mode are spec-enums.h's). *_from_string return the value or -EINVAL. */
const char *manifest_network_mode_to_string(ManifestNetworkMode m);
ManifestNetworkMode manifest_network_mode_from_string(const char *s);
const char *manifest_validator_type_to_string(ManifestValidatorType t);
ManifestValidatorType manifest_validator_type_from_string(const char *s);
const char *manifest_stream_to_string(ManifestStream s);
ManifestStream manifest_stream_from_string(const char *s);
const char *manifest_consensus_to_string(ManifestConsensus c);
ManifestConsensus manifest_consensus_from_string(const char *s);

typedef struct ManifestEnv {
        char *name; /* [A-Za-z_][A-Za-z0-9_]*, not starting with AEGIS_ (reserved) */
        char *value;
} ManifestEnv;

typedef struct ManifestJudge {
        char *model; /* a model alias; NULL = spec.runtime.model (unless agent is set) */
        /* judge_agent: NAME or NAME:VERSION, a deployed agent of the same tenant that judges
         * in an execution of its own (judge-execution.h); NULL = a model judges. The name
         * may also be an agent's id, as for POST /v1/agents/{name}/execute. */
        char *agent;
        char *agent_version; /* NULL = the agent's latest version */
        double weight; /* > 0, default 1 (multi_judge) */
} ManifestJudge;

typedef struct ManifestValidator {
        ManifestValidatorType type;
        int expected_exit_code; /* EXIT_CODE: the code that passes (default 0) */
        char *pattern; /* REGEX: a PCRE2 regular expression */
        pcre2_code *regex; /* REGEX: pattern compiled (regex-match.h) */
        bool multiline; /* REGEX: ^ and $ match at every line (multiline: true) */
        ManifestStream target; /* REGEX: which stream the pattern must match */
        struct json_object *schema; /* JSON_SCHEMA: the schema (owned) */

        /* SEMANTIC and MULTI_JUDGE: models judge the output against criteria (judge.h). */
        char *criteria;
        double min_score, min_confidence; /* 0..1; defaults 0.7 and 0 */
        uint64_t judge_timeout_secs; /* one judge's model call (timeout_seconds, default 300) */
        ManifestJudge *judges; /* SEMANTIC: exactly one */
        size_t n_judges;
        ManifestConsensus consensus; /* MULTI_JUDGE */
        unsigned min_judges_required; /* MULTI_JUDGE: 1..n_judges (default 1) */
} ManifestValidator;

typedef struct ManifestVolume {
        char *name; /* unique within the manifest, ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ */
        VolumeStorageClass storage_class;
        char *mount_path; /* normalised, "/workspace" or below, unique */
        VolumeAccessMode access_mode;
        uint64_t size_limit_bytes;
        uint64_t ttl_hours; /* ephemeral: default 24; persistent: 0 (no expiry) */
        char *volume_id; /* an existing volume to attach, or NULL to create one */
} ManifestVolume;

typedef struct ManifestPlan {
        char *name; /* metadata.name, NULL if not given */
        char *version; /* metadata.version, NULL if not given */

        char *image; /* required */
        ImagePullPolicy pull_policy;
        char **command; /* strv argv, NULL = the image's default command */
        char *workdir; /* absolute, NULL = the image's default */
        bool keep_container_on_failure;
        /* spec.runtime.warm_pool: created containers kept ready for this deployed agent
         * (run-pool.c); -1 = not given (runtime.warm_pool_default applies). */
        int64_t warm_pool;

        uint64_t nano_cpus; /* Docker NanoCpus */
        uint64_t memory_bytes; /* Memory (and MemorySwap: no swap beyond it) */
        uint64_t pids_limit;
        uint64_t timeout_secs; /* whole execution, all iterations */
        uint64_t iteration_timeout_secs; /* one container run; ≤ timeout_secs */
        uint64_t max_iterations;

        ManifestEnv *env; /* in manifest order, names unique */
        size_t n_env;

        uint32_t uid, gid; /* never 0 */
        ManifestNetworkMode network_mode;
        char **network_allowlist; /* strv; NULL = not given, an empty strv = given empty */
        char **network_denylist; /* strv, may be NULL (never given with mode none) */
        bool read_only_rootfs;

        ManifestValidator *validators; /* in manifest order */
        size_t n_validators;
        ManifestVolume *volumes;
        size_t n_volumes;

        /* The inner loop (see aegis-manifest(5), "THE INNER LOOP"). */
        bool inner_loop; /* spec.task given and spec.runtime.command not */
        char *task_instruction; /* spec.task.instruction, else metadata.description, else NULL */
        char *prompt_template; /* spec.task.prompt_template (checked), NULL = the default */
        char *model_alias; /* spec.runtime.model, never NULL (default "default") */
        char **tools; /* spec.tools: strv of unique tool names, NULL = no tools */
        char **tools_skip_judge; /* the tools of spec.tools given as {name, skip_judge: true} */
        ManifestValidator *tool_validators; /* spec.execution.tool_validation: judges that
                                             * review each tool call (semantic, multi_judge) */
        size_t n_tool_validators;
        char *security_context; /* spec.security_context; NULL = security.default_context */
        uint64_t llm_timeout_secs; /* spec.execution.llm_timeout_seconds, ≤ iteration_timeout_secs */
        char *bootstrap_path; /* spec.advanced.bootstrap_path (absolute, in the image), NULL =
                               * aegis-bootstrap */

        char **warnings; /* strv of "FILE:LINE:COL: path: … not acted on" for the API, may be NULL */
} ManifestPlan;

/* Parse and validate. file names the document in messages (e.g. "agent.yaml" or "request
 * body"). Errors: -EINVAL (invalid field), -EBADMSG (not YAML/JSON), -EMSGSIZE/-E2BIG
 * (limits), -ENOMEM; e says what, where and how to fix. */
int manifest_parse(const char *data, size_t size, const char *file, ManifestPlan **ret, Error *e);
int manifest_parse_file(const char *path, ManifestPlan **ret, Error *e);
/* The same, reporting every error rather than the first: after an error, reading goes on
 * with the next field of the part (apiVersion, kind, metadata, and each section of spec:
 * runtime, resources, security, environment/env, execution, volumes, task, tools, advanced,
 * security_context) and the next item of a list (volumes, validators), each field or item
 * giving its first error; the checks that relate parts (two
 * spellings of one setting, the inner loop's needs) run only once every part is valid. Up
 * to max_errors errors go to errors[] (*ret_n_errors of them; 0 when valid), e gets the
 * first, and the return value is the first's code. ret may be NULL (no plan wanted). */
#define MANIFEST_MAX_ERRORS 32
int manifest_check(const char *data, size_t size, const char *file, Error *errors, size_t max_errors,
                   size_t *ret_n_errors, ManifestPlan **ret, Error *e);
/* Validate an already-parsed tree (e.g. a manifest embedded in a larger request). */
int manifest_from_tree(const struct YamlNode *root, ManifestPlan **ret, Error *e);

void manifest_plan_free(ManifestPlan *p);
static inline void manifest_plan_freep(ManifestPlan **p) {
        if (*p)
                manifest_plan_free(*p);
}

/* The plan as a canonical manifest (json-c object, caller puts it): apiVersion, kind,
 * metadata, spec with every value explicit in the seed's spellings. Parsing its text gives
 * an equal plan (without warnings). -ENOMEM only. */
int manifest_plan_to_json(const ManifestPlan *p, struct json_object **ret);
/* Same, as a malloc'd compact JSON string; NULL on allocation failure. */
char *manifest_plan_to_json_string(const ManifestPlan *p);

/* Whether a validator of the plan asks judges (semantic, multi_judge). */
bool manifest_plan_has_judges(const ManifestPlan *p);
/* Whether a judge of spec.execution.validation or tool_validation is a model (needs an LLM
 * provider), or one of spec.execution.validation is a deployed agent (judge_agent). */
bool manifest_plan_has_model_judges(const ManifestPlan *p);
bool manifest_plan_has_agent_judges(const ManifestPlan *p);

/* The value of env name in the plan, or NULL. */
ManifestEgress manifest_plan_egress(const ManifestPlan *p);
/* Whether the policy admits a connection to host (a name or an IP literal, "[v6]" allowed),
 * per tool call and in the egress proxy. A denylist is checked first; an IP literal is
 * admitted only when an allowlist entry names that address (mode deny refuses every
 * literal: a list of names cannot say whose address it is). */
bool manifest_plan_host_allowed(const ManifestPlan *p, const char *host);
const char *manifest_plan_getenv(const ManifestPlan *p, const char *name);
