/* api-error.c — the codes of API error bodies and their strings (see api-error.h). */
#include "api-error.h"
#include "util.h"

static const char *const api_error_code_table[_API_ERROR_MAX] = {
        [API_ERROR_BAD_REQUEST] = "bad_request",
        [API_ERROR_INVALID_MANIFEST] = "invalid_manifest",
        [API_ERROR_INVALID_TEXT] = "invalid_text",
        [API_ERROR_UNAUTHORIZED] = "unauthorized",
        [API_ERROR_FORBIDDEN] = "forbidden",
        [API_ERROR_ORIGIN_NOT_ALLOWED] = "origin_not_allowed",
        [API_ERROR_NOT_FOUND] = "not_found",
        [API_ERROR_NO_SUCH_ROUTE] = "no_such_route",
        [API_ERROR_METHOD_NOT_ALLOWED] = "method_not_allowed",
        [API_ERROR_CONFLICT] = "conflict",
        [API_ERROR_TOO_LARGE] = "too_large",
        [API_ERROR_UNSUPPORTED_MEDIA_TYPE] = "unsupported_media_type",
        [API_ERROR_RANGE_NOT_SATISFIABLE] = "range_not_satisfiable",
        [API_ERROR_HOST_NOT_ALLOWED] = "host_not_allowed",
        [API_ERROR_UNPROCESSABLE] = "unprocessable",
        [API_ERROR_RATE_LIMITED] = "rate_limited",
        [API_ERROR_INTERNAL] = "internal",
        [API_ERROR_UPSTREAM_FAILED] = "upstream_failed",
        [API_ERROR_UNAVAILABLE] = "unavailable",
        [API_ERROR_SHUTTING_DOWN] = "shutting_down",
        [API_ERROR_UPSTREAM_TIMEOUT] = "upstream_timeout",
        [API_ERROR_INSUFFICIENT_STORAGE] = "insufficient_storage",
};

const char *api_error_code_to_string(ApiErrorCode c) {
        if (c < 0 || c >= _API_ERROR_MAX)
                return NULL;
        return api_error_code_table[c];
}

ApiErrorCode api_error_code_from_string(const char *s) {
        if (!s)
                return _API_ERROR_INVALID;
        for (int i = 0; i < _API_ERROR_MAX; i++)
                if (streq(api_error_code_table[i], s))
                        return (ApiErrorCode) i;
        return _API_ERROR_INVALID;
}

ApiErrorCode api_error_code_from_status(unsigned status) {
        switch (status) {
        case 401:
                return API_ERROR_UNAUTHORIZED;
        case 403:
                return API_ERROR_FORBIDDEN;
        case 404:
                return API_ERROR_NOT_FOUND;
        case 405:
                return API_ERROR_METHOD_NOT_ALLOWED;
        case 409:
                return API_ERROR_CONFLICT;
        case 413:
                return API_ERROR_TOO_LARGE;
        case 415:
                return API_ERROR_UNSUPPORTED_MEDIA_TYPE;
        case 416:
                return API_ERROR_RANGE_NOT_SATISFIABLE;
        case 421:
                return API_ERROR_HOST_NOT_ALLOWED;
        case 422:
                return API_ERROR_UNPROCESSABLE;
        case 429:
                return API_ERROR_RATE_LIMITED;
        case 502:
                return API_ERROR_UPSTREAM_FAILED;
        case 503:
                return API_ERROR_UNAVAILABLE;
        case 504:
                return API_ERROR_UPSTREAM_TIMEOUT;
        case 507:
                return API_ERROR_INSUFFICIENT_STORAGE;
        default:
                return status >= 500 ? API_ERROR_INTERNAL : API_ERROR_BAD_REQUEST;
        }
}
