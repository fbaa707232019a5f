/* json-schema-internal.h — what the check (json-schema.c) and the validation
 * (json-schema-validate.c) share: the formats and JSON pointer tokens. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum JsonSchemaFormat {
        JSON_SCHEMA_FORMAT_DATE_TIME,
        JSON_SCHEMA_FORMAT_DATE,
        JSON_SCHEMA_FORMAT_TIME,
        JSON_SCHEMA_FORMAT_EMAIL,
        JSON_SCHEMA_FORMAT_URI,
        JSON_SCHEMA_FORMAT_UUID,
        JSON_SCHEMA_FORMAT_IPV4,
        JSON_SCHEMA_FORMAT_IPV6,
        _JSON_SCHEMA_FORMAT_MAX,
} JsonSchemaFormat;

/* "date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6"; -EINVAL for others. */
const char *json_schema_format_to_string(JsonSchemaFormat f);
int json_schema_format_from_string(const char *s);
/* Whether the string s is a valid instance of the format (RFC 3339 dates and times, an
 * address-like email, an absolute RFC 3986 URI, a hyphenated UUID, inet_pton addresses). */
bool json_schema_format_matches(JsonSchemaFormat f, const char *s);

/* Copies the next reference token of the JSON pointer *p (at its '/') into buf, unescaping
 * ~0, ~1 and %XX, and advances *p; -EINVAL on a bad escape or a token too long for buf. */
int json_schema_pointer_next_token(const char **p, char *buf, size_t size);
/* A token as an array index: decimal, no leading zeros. */
bool json_schema_pointer_index(const char *tok, size_t *ret);
