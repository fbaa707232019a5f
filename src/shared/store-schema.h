/* store-schema.h — the schema migrations, one text for both backends (store-sqlite.c,
 * store-pg.c). They differ only in how the executions' sequence column is declared, which each
 * backend passes in. A migration is appended here, never edited once released. */
#pragma once

/* Version 1: the whole schema. */
#define STORE_SCHEMA_V1(SEQ_COLUMN)                                                                \
        "CREATE TABLE agents (\n"                                                                  \
        "  id TEXT PRIMARY KEY,\n"                                                                 \
        "  name TEXT NOT NULL,\n"                                                                  \
        "  version TEXT NOT NULL,\n"                                                               \
        "  manifest_json TEXT NOT NULL,\n"                                                         \
        "  created_at BIGINT NOT NULL,\n"                                                          \
        "  updated_at BIGINT NOT NULL,\n"                                                          \
        "  UNIQUE (name, version));\n"                                                             \
        "CREATE TABLE executions (\n"                                                              \
        "  seq " SEQ_COLUMN ",\n"                                                                  \
        "  id TEXT NOT NULL UNIQUE,\n"                                                             \
        "  agent_id TEXT,\n"                                                                       \
        "  agent_name TEXT,\n"                                                                     \
        "  tenant_id TEXT NOT NULL,\n"                                                             \
        "  status TEXT NOT NULL CHECK (status IN "                                                 \
        "('pending','running','completed','failed','cancelled')),\n"                               \
        "  reason TEXT,\n"                                                                         \
        "  input_json TEXT,\n"                                                                     \
        "  manifest_json TEXT,\n"                                                                  \
        "  output TEXT,\n"                                                                         \
        "  max_iterations INTEGER NOT NULL,\n"                                                     \
        "  iteration INTEGER NOT NULL DEFAULT 0,\n"                                                \
        "  created_at BIGINT NOT NULL,\n"                                                          \
        "  started_at BIGINT NOT NULL DEFAULT 0,\n"                                                \
        "  finished_at BIGINT NOT NULL DEFAULT 0,\n"                                               \
        "  updated_at BIGINT NOT NULL,\n"                                                          \
        "  claimed_by TEXT,\n"                                                                     \
        "  lease_expires_at BIGINT NOT NULL DEFAULT 0,\n"                                          \
        "  last_event_seq BIGINT NOT NULL DEFAULT 0);\n"                                           \
        "CREATE INDEX executions_status ON executions (status, seq);\n"                            \
        "CREATE INDEX executions_tenant ON executions (tenant_id, seq);\n"                         \
        "CREATE TABLE iterations (\n"                                                              \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n"             \
        "  number INTEGER NOT NULL,\n"                                                             \
        "  status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed','cancelled')),\n" \
        "  exit_code INTEGER NOT NULL DEFAULT -1,\n"                                               \
        "  reason TEXT,\n"                                                                         \
        "  container_id TEXT,\n"                                                                   \
        "  stdout_text TEXT,\n"                                                                    \
        "  stderr_text TEXT,\n"                                                                    \
        "  started_at BIGINT NOT NULL,\n"                                                          \
        "  finished_at BIGINT NOT NULL DEFAULT 0,\n"                                               \
        "  PRIMARY KEY (execution_id, number));\n"                                                 \
        "CREATE TABLE containers (\n"                                                              \
        "  name TEXT PRIMARY KEY,\n"                                                               \
        "  container_id TEXT UNIQUE,\n"                                                            \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n"             \
        "  iteration INTEGER NOT NULL,\n"                                                          \
        "  state TEXT NOT NULL CHECK (state IN ('created','running','removed')),\n"                \
        "  created_at BIGINT NOT NULL,\n"                                                          \
        "  updated_at BIGINT NOT NULL);\n"                                                         \
        "CREATE INDEX containers_execution ON containers (execution_id);\n"                        \
        "CREATE TABLE events (\n"                                                                  \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n"             \
        "  seq BIGINT NOT NULL,\n"                                                                 \
        "  type TEXT NOT NULL,\n"                                                                  \
        "  payload_json TEXT,\n"                                                                   \
        "  timestamp BIGINT NOT NULL,\n"                                                           \
        "  PRIMARY KEY (execution_id, seq));\n"                                                    \
        "CREATE TABLE volumes (\n"                                                                 \
        "  id TEXT PRIMARY KEY,\n"                                                                 \
        "  tenant_id TEXT NOT NULL,\n"                                                             \
        "  name TEXT NOT NULL,\n"                                                                  \
        "  storage_class TEXT NOT NULL CHECK (storage_class IN ('ephemeral','persistent')),\n"     \
        "  access_mode TEXT NOT NULL CHECK (access_mode IN ('read-write','read-only')),\n"         \
        "  size_limit BIGINT NOT NULL DEFAULT 0,\n"                                                \
        "  uid BIGINT NOT NULL,\n"                                                                 \
        "  gid BIGINT NOT NULL,\n"                                                                 \
        "  owner_execution_id TEXT,\n"                                                             \
        "  status TEXT NOT NULL CHECK (status IN ('active','deleted')),\n"                         \
        "  expires_at BIGINT NOT NULL DEFAULT 0,\n"                                                \
        "  created_at BIGINT NOT NULL,\n"                                                          \
        "  deleted_at BIGINT NOT NULL DEFAULT 0);\n"                                               \
        "CREATE INDEX volumes_tenant ON volumes (tenant_id);\n"                                    \
        "CREATE INDEX volumes_owner ON volumes (owner_execution_id);\n"                            \
        "CREATE TABLE reaper_backoff (\n"                                                          \
        "  container_id TEXT PRIMARY KEY,\n"                                                       \
        "  failures INTEGER NOT NULL,\n"                                                           \
        "  next_attempt_at BIGINT NOT NULL,\n"                                                     \
        "  quarantined INTEGER NOT NULL DEFAULT 0,\n"                                              \
        "  updated_at BIGINT NOT NULL);\n"

/* Version 2: which executions mount a volume they do not own (a manifest may attach an existing
 * volume by id), so a volume in use is never deleted. */
#define STORE_SCHEMA_V2                                                                \
        "CREATE TABLE volume_attachments (\n"                                          \
        "  volume_id TEXT NOT NULL REFERENCES volumes (id) ON DELETE CASCADE,\n"       \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n" \
        "  created_at BIGINT NOT NULL,\n"                                              \
        "  PRIMARY KEY (volume_id, execution_id));\n"                                  \
        "CREATE INDEX volume_attachments_execution ON volume_attachments (execution_id);\n"

/* Version 3: the last run of aegis-reaper on each host (one row per host, replaced by every
 * run), which aegisd exposes on /metrics. last_success_at survives failed runs; counts_json is
 * {"containers":{"removed":N,…},"engine_volumes":{…},"volumes":{…},"executions":{…}}. */
#define STORE_SCHEMA_V3                        \
        "CREATE TABLE reaper_runs (\n"         \
        "  host TEXT PRIMARY KEY,\n"           \
        "  started_at BIGINT NOT NULL,\n"      \
        "  finished_at BIGINT NOT NULL,\n"     \
        "  ok INTEGER NOT NULL,\n"             \
        "  last_success_at BIGINT NOT NULL,\n" \
        "  counts_json TEXT NOT NULL);\n"

/* Version 4: the store's identity, one row: a random UUID that aegisd writes on every container
 * and engine volume it creates (label aegis.store), so a reconciliation against this store only
 * ever treats as orphans what this store's daemon made. store.c inserts the row (random_uuid())
 * in the same transaction as this script; a store upgraded from an older version gets one the same way. */
#define STORE_SCHEMA_VERSION_IDENTITY 4
#define STORE_SCHEMA_V4                                            \
        "CREATE TABLE store_identity (\n"                          \
        "  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),\n" \
        "  id TEXT NOT NULL,\n"                                    \
        "  created_at BIGINT NOT NULL);\n"

/* Version 5: the inner loop's conversation of each iteration (run-dispatch.c), written after
 * every turn so an aegisd restarted mid-iteration resumes it: state_json holds the messages,
 * the pending dispatch, the round count, the token totals and the final content. */
#define STORE_SCHEMA_V5                                                                \
        "CREATE TABLE dispatch_conversations (\n"                                      \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n" \
        "  iteration INTEGER NOT NULL,\n"                                              \
        "  state_json TEXT NOT NULL,\n"                                                \
        "  updated_at BIGINT NOT NULL,\n"                                              \
        "  PRIMARY KEY (execution_id, iteration));\n"

/* Version 6: agents belong to a tenant and are named per tenant (issue 19: one global
 * namespace let tenant B read A's manifest and deploy over A's name). SQLite cannot change a
 * table's UNIQUE constraint, so the table is rebuilt (the same text on both backends). An
 * existing agent goes to the one tenant that ran it, or to "default" when none or several did
 * (deploys recorded no tenant before). */
#define STORE_SCHEMA_V6                                                                                 \
        "CREATE TABLE agents_v6 (\n"                                                                    \
        "  id TEXT PRIMARY KEY,\n"                                                                      \
        "  tenant_id TEXT NOT NULL,\n"                                                                  \
        "  name TEXT NOT NULL,\n"                                                                       \
        "  version TEXT NOT NULL,\n"                                                                    \
        "  manifest_json TEXT NOT NULL,\n"                                                              \
        "  created_at BIGINT NOT NULL,\n"                                                               \
        "  updated_at BIGINT NOT NULL,\n"                                                               \
        "  UNIQUE (tenant_id, name, version));\n"                                                       \
        "INSERT INTO agents_v6 (id, tenant_id, name, version, manifest_json, created_at, updated_at)\n" \
        "  SELECT a.id, COALESCE((SELECT CASE WHEN COUNT(DISTINCT e.tenant_id) = 1\n"                   \
        "                                     THEN MIN(e.tenant_id) END\n"                              \
        "                         FROM executions e WHERE e.agent_id = a.id), 'default'),\n"            \
        "         a.name, a.version, a.manifest_json, a.created_at, a.updated_at FROM agents a;\n"      \
        "DROP TABLE agents;\n"                                                                          \
        "ALTER TABLE agents_v6 RENAME TO agents;\n"

/* Version 7 (issue 21): what the judges of an iteration said (validators
 * semantic and multi_judge). While they run: {"state":"judging","exit_code":N,"output":"…"}, so
 * an aegisd restarted meanwhile judges that output again; then {"state":"judged","validators":
 * [judge_record(), …]}. NULL for an iteration without judges. */
#define STORE_SCHEMA_V7 "ALTER TABLE iterations ADD COLUMN judgement_json TEXT;\n"

/* Version 8 (issue 17): what an iteration used, as sampled from the engine while it ran
 * (run-stats.c): {"cpu_seconds":…,"memory_peak_bytes":…,"pids_peak":…,"oom_killed":…,
 * "samples":N,"known":bool}; a value the engine never reported is null. NULL before the
 * first sample and for an iteration that never started a container. */
#define STORE_SCHEMA_V8 "ALTER TABLE iterations ADD COLUMN usage_json TEXT;\n"

/* Version 9 (issue 14): the inner loop's messages, one row each, appended as the conversation
 * grows. Before, every turn rewrote the whole conversation in dispatch_conversations.state_json
 * (the cost of a turn grew with the conversation); the state row now holds the rest of the
 * state only, and store.c splices these rows back in as its "messages" when it is read. A
 * conversation recorded before keeps its messages in its state row and has no rows here. */
#define STORE_SCHEMA_V9                                                                \
        "CREATE TABLE dispatch_messages (\n"                                           \
        "  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,\n" \
        "  iteration INTEGER NOT NULL,\n"                                              \
        "  seq INTEGER NOT NULL,\n"                                                    \
        "  message_json TEXT NOT NULL,\n"                                              \
        "  PRIMARY KEY (execution_id, iteration, seq));\n"
