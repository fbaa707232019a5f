/* api-error.h — the machine-readable "code" of an API error body.
 *
 * Every error aegisd answers is {"error": message, "code": CODE, "field": field}. The message
 * is for people and may change; the code is for programs and must not: a string once
 * published here keeps its meaning (add new ones, never rename or reuse one). aegis-api(7)
 * lists them all, and the OpenAPI document (data/openapi.json) has them as an enum: keep the
 * three in step. Most answers take the code of their status (api_error_code_from_status());
 * a few refusals of the HTTP layer have a code of their own. */
#pragma once

typedef enum ApiErrorCode {
        API_ERROR_BAD_REQUEST, /* 400 */
        API_ERROR_INVALID_MANIFEST, /* 400, 413: the manifest is refused */
        API_ERROR_INVALID_TEXT, /* 400: path or query not UTF-8 text */
        API_ERROR_UNAUTHORIZED, /* 401 */
        API_ERROR_FORBIDDEN, /* 403 */
        API_ERROR_ORIGIN_NOT_ALLOWED, /* 403: Origin not in api.allowed_origins */
        API_ERROR_NOT_FOUND, /* 404: no such object */
        API_ERROR_NO_SUCH_ROUTE, /* 404: no such endpoint */
        API_ERROR_METHOD_NOT_ALLOWED, /* 405 */
        API_ERROR_CONFLICT, /* 409 */
        API_ERROR_TOO_LARGE, /* 413 */
        API_ERROR_UNSUPPORTED_MEDIA_TYPE, /* 415 */
        API_ERROR_RANGE_NOT_SATISFIABLE, /* 416 */
        API_ERROR_HOST_NOT_ALLOWED, /* 421 */
        API_ERROR_UNPROCESSABLE, /* 422 */
        API_ERROR_RATE_LIMITED, /* 429 */
        API_ERROR_INTERNAL, /* 500 */
        API_ERROR_UPSTREAM_FAILED, /* 502 */
        API_ERROR_UNAVAILABLE, /* 503 */
        API_ERROR_SHUTTING_DOWN, /* 503: aegisd is stopping */
        API_ERROR_UPSTREAM_TIMEOUT, /* 504 */
        API_ERROR_INSUFFICIENT_STORAGE, /* 507 */
        _API_ERROR_MAX,
        _API_ERROR_INVALID = -1,
} ApiErrorCode;

const char *api_error_code_to_string(ApiErrorCode c);
ApiErrorCode api_error_code_from_string(const char *s);
/* The code of an error answered with status (a 4xx or 5xx); an unlisted 4xx is
 * API_ERROR_BAD_REQUEST, an unlisted 5xx API_ERROR_INTERNAL. */
ApiErrorCode api_error_code_from_status(unsigned status);
