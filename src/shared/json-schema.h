/* json-schema.h — JSON Schema (draft 2020-12) for the json_schema validator: the schema a
 * manifest carries is checked when the manifest is submitted, and agent output is validated
 * against it after each iteration.
 *
 * Supported keywords (aegis-manifest(5) lists them for users):
 *   any       type, enum, const, allOf, anyOf, oneOf, not, if/then/else, $ref, $defs
 *             (and draft 7's definitions), and the annotations title, description,
 *             $comment, $schema, default, examples, deprecated, readOnly, writeOnly;
 *   numbers   minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf;
 *   strings   minLength, maxLength (in code points), pattern (PCRE2, unanchored), format
 *             (date-time, date, time, email, uri, uuid, ipv4, ipv6);
 *   arrays    items, prefixItems, contains, minContains, maxContains, minItems, maxItems,
 *             uniqueItems;
 *   objects   properties, patternProperties, additionalProperties, propertyNames,
 *             required, dependentRequired, minProperties, maxProperties.
 * $ref is a JSON pointer into the same schema ("#", "#/$defs/item"); recursion is allowed.
 *
 * Invariants: json_schema_check() refuses every other keyword, every malformed value, every
 * pattern PCRE2 will not compile and every $ref that does not land on a schema, so a schema
 * that passed it means what it says: nothing is silently ignored. json_schema_validate()
 * is bounded whatever the schema and the value: JSON_SCHEMA_DEPTH_MAX nested schema
 * applications, JSON_SCHEMA_STEPS_MAX steps, regex match limits (regex-match.h); hitting a
 * bound fails the value (never passes it) with a reason that says which bound. */
#pragma once

#include "error.h"

struct json_object;
struct YamlNode;

#define JSON_SCHEMA_DEPTH_MAX 256
#define JSON_SCHEMA_STEPS_MAX 1000000

/* Check a schema as written in a manifest. Returns 0, or a negative errno with e filled in
 * the house format: "a.yaml:12:9: spec.execution.validation[0].schema.properties.x.
 * dependentSchemas: unsupported JSON Schema keyword …". */
int json_schema_check(const struct YamlNode *schema, Error *e);

/* Validate value against schema (as json_schema_check accepted it; keywords of an
 * unchecked schema that it would refuse are ignored). Returns 1 conforming, 0 not (ret_reason
 * gets a malloc'd sentence naming the instance path, "$.items[2].name: expected string, got
 * integer"), -ENOMEM. */
int json_schema_validate(struct json_object *schema, struct json_object *value, char **ret_reason);
