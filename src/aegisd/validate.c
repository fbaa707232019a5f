/* validate.c — see validate.h. The schema and the regex are checked and compiled when the
 * manifest is read (json-schema.h, regex-match.h); here they only run, each bounded, and a
 * bound that is hit fails the iteration. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "json-schema.h"
#include "regex-match.h"
#include "util.h"
#include "validate.h"

/* Parses the whole text as one JSON value, or else its last non-empty line. */
static json_object *parse_output_json(const char *text) {
        json_tokener *tok;
        json_object *j;
        size_t len = strlen(text), end;
        const char *last;

        if (len > VALIDATE_JSON_INPUT_MAX)
                return NULL;
        tok = json_tokener_new_ex(VALIDATE_SCHEMA_DEPTH_MAX * 4);
        if (!tok)
                return NULL;
        j = json_tokener_parse_ex(tok, text, (int) len + 1);
        end = json_tokener_get_parse_end(tok);
        if (end > 0 && end <= len && text[end - 1] == '\0')
                end--;
        if (j && json_tokener_get_error(tok) == json_tokener_success &&
            (end >= len || text[end + strspn(text + end, " \t\r\n")] == '\0')) {
                json_tokener_free(tok);
                return j;
        }
        json_object_put(j);
        json_tokener_free(tok);

        while (len > 0 && strchr(" \t\r\n", text[len - 1]))
                len--;
        last = text + len;
        while (last > text && last[-1] != '\n')
                last--;
        if (last == text || len == 0)
                return NULL; /* one line only: already tried */
        {
                _cleanup_free_ char *line = strndup(last, len - (size_t) (last - text));
                return line ? json_tokener_parse(line) : NULL;
        }
}

bool validate_exit_code_passes(const ManifestValidator *validators, size_t n_validators, int exit_code) {
        bool validated = false;

        if (exit_code < 0)
                return false;
        /* An exit_code validator says which code passes; without one, only 0 does. */
        for (size_t i = 0; i < n_validators; i++)
                if (validators[i].type == MANIFEST_VALIDATOR_EXIT_CODE) {
                        validated = true;
                        if (validators[i].expected_exit_code != exit_code)
                                return false;
                }
        return validated || exit_code == 0;
}

int validate_iteration(const ManifestValidator *validators, size_t n_validators, int exit_code,
                       const char *out, const char *err, char **ret_reason) {
        bool exit_validated = false;

        out = strempty(out);
        err = strempty(err);

        /* With exit_code validators, they say (below) whether the code passes. */
        for (size_t i = 0; i < n_validators; i++)
                if (validators[i].type == MANIFEST_VALIDATOR_EXIT_CODE)
                        exit_validated = true;
        if (exit_code < 0 || (exit_code != 0 && !exit_validated)) {
                *ret_reason = exit_code < 0 ? strdup("the container did not exit normally")
                                            : asprintf_safe("exit code %d", exit_code);
                return *ret_reason ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < n_validators; i++) {
                const ManifestValidator *v = &validators[i];

                switch (v->type) {
                case MANIFEST_VALIDATOR_EXIT_CODE:
                        if (exit_code != v->expected_exit_code) {
                                *ret_reason = asprintf_safe("validator %zu (exit_code): expected %d, got %d",
                                                            i + 1, v->expected_exit_code, exit_code);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                case MANIFEST_VALIDATOR_REGEX: {
                        const char *text = v->target == MANIFEST_STREAM_STDERR ? err : out;
                        size_t len = strlen(text);
                        int r;

                        if (len > VALIDATE_REGEX_INPUT_MAX)
                                text += len - VALIDATE_REGEX_INPUT_MAX;
                        r = regex_search(v->regex, text, strlen(text));
                        if (r == -ENOMEM)
                                return r;
                        if (r == -E2BIG) {
                                *ret_reason = asprintf_safe(
                                        "validator %zu (regex on %s): /%s/ hit the match limit (%d steps) "
                                        "before deciding: simplify the pattern",
                                        i + 1, v->target == MANIFEST_STREAM_STDERR ? "stderr" : "stdout",
                                        v->pattern, REGEX_MATCH_LIMIT);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        if (r <= 0) {
                                *ret_reason = asprintf_safe(
                                        "validator %zu (regex on %s): /%s/ did not match", i + 1,
                                        v->target == MANIFEST_STREAM_STDERR ? "stderr" : "stdout",
                                        v->pattern);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                }
                case MANIFEST_VALIDATOR_JSON_SCHEMA: {
                        json_object *j = parse_output_json(out);
                        _cleanup_free_ char *why = NULL;
                        int r;

                        if (!j) {
                                *ret_reason = asprintf_safe(
                                        "validator %zu (json_schema): stdout is not JSON", i + 1);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        r = json_schema_validate(v->schema, j, &why);
                        json_object_put(j);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                *ret_reason = asprintf_safe("validator %zu (json_schema): %s", i + 1, why);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                }
                default:
                        break;
                }
        }
        return 1;
}
