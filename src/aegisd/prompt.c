/* prompt.c — templates checked and rendered, iteration history as prompt text and as
 * AEGIS_ITERATION_HISTORY (see prompt.h).
 *
 * One scanner serves checking and rendering, so that a template the manifest parser
 * accepted always renders: prompt_template_check() is run() without variables or output.
 * Everything written goes through emit(), which holds the PROMPT_MAX_BYTES bound. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prompt.h"
#include "util.h"

typedef enum TokenKind {
        TOKEN_TEXT,
        TOKEN_NAME, /* {{name}} */
        TOKEN_IF, /* {{#if name}} */
        TOKEN_ELSE,
        TOKEN_END, /* {{/if}} */
        TOKEN_COMMENT,
        TOKEN_EOF,
} TokenKind;

typedef struct Token {
        TokenKind kind;
        const char *start; /* TEXT: the text; NAME, IF: the name */
        size_t len;
        const char *at; /* where the token begins, for messages */
} Token;

typedef struct Vars {
        struct json_object *instruction, *intent, *input; /* NULL = empty */
} Vars;

typedef struct Out {
        FILE *f;
        size_t len;
} Out;

static int fail(const char *tpl, const char *at, Error *e, const char *fmt, ...) _printf_(4, 5);
static int fail(const char *tpl, const char *at, Error *e, const char *fmt, ...) {
        unsigned line = 1, column = 1;
        char what[512];
        va_list ap;

        for (const char *p = tpl; p < at; p++)
                if (*p == '\n')
                        line++, column = 1;
                else if (((unsigned char) *p & 0xC0) != 0x80)
                        column++;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return error_set(e, -EINVAL, "line %u, column %u of the template: %s", line, column, what);
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
}

/* instruction | intent | input | input.KEY(.KEY)*, KEY = [A-Za-z0-9_-]+ */
static bool name_valid(const char *s, size_t n) {
        static const char *const names[] = { "instruction", "intent", "input" };
        const char *rest;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (n == strlen(names[i]) && memcmp(s, names[i], n) == 0)
                        return true;
        if (n <= 6 || memcmp(s, "input.", 6) != 0)
                return false;
        rest = s + 6;
        for (size_t i = 0, key = 0; i < n - 6; i++) {
                if (rest[i] == '.') {
                        if (key == 0)
                                return false;
                        key = 0;
                } else if (key_char(rest[i]))
                        key++;
                else
                        return false;
        }
        return rest[n - 7] != '.';
}

static int bad_name(const char *tpl, const char *at, const char *s, size_t n, Error *e) {
        return fail(tpl, at, e,
                    "unknown name \"%.*s\": a template knows {{instruction}}, {{intent}}, {{input}} "
                    "and {{input.KEY}}, with {{#if NAME}}…{{else}}…{{/if}}",
                    (int) MIN(n, (size_t) 64), s);
}

static int next_token(const char *tpl, const char **p, Token *ret, Error *e) {
        const char *s = *p, *body, *end;
        bool triple;
        size_t n;

        *ret = (Token){ .at = s };
        if (*s == '\0') {
                ret->kind = TOKEN_EOF;
                return 0;
        }
        if (!startswith(s, "{{")) {
                const char *next = strstr(s, "{{");
                ret->kind = TOKEN_TEXT;
                ret->start = s;
                ret->len = next ? (size_t) (next - s) : strlen(s);
                *p = s + ret->len;
                return 0;
        }
        if (startswith(s, "{{!--") || startswith(s, "{{!")) {
                bool dashes = startswith(s, "{{!--");
                end = strstr(s + (dashes ? 5 : 3), dashes ? "--}}" : "}}");
                if (!end)
                        return fail(tpl, s, e, "comment never closed with %s", dashes ? "--}}" : "}}");
                ret->kind = TOKEN_COMMENT;
                *p = end + (dashes ? 4 : 2);
                return 0;
        }
        triple = s[2] == '{';
        body = s + (triple ? 3 : 2);
        end = strstr(body, triple ? "}}}" : "}}");
        if (!end)
                return fail(tpl, s, e, "\"%s\" never closed with \"%s\"", triple ? "{{{" : "{{",
                            triple ? "}}}" : "}}");
        *p = end + (triple ? 3 : 2);
        while (body < end && is_space(*body))
                body++;
        while (end > body && is_space(end[-1]))
                end--;
        n = (size_t) (end - body);
        if (n == 0)
                return fail(tpl, s, e, "empty expression");
        if (triple && !name_valid(body, n))
                return bad_name(tpl, s, body, n, e);
        if (body[0] == '#') {
                const char *arg = body + 3;
                if (n < 4 || memcmp(body, "#if", 3) != 0 || !is_space(*arg))
                        return fail(tpl, s, e,
                                    "unsupported block \"{{%.*s}}\": only {{#if NAME}}…{{/if}} is supported",
                                    (int) MIN(n, (size_t) 64), body);
                while (arg < end && is_space(*arg))
                        arg++;
                if (!name_valid(arg, (size_t) (end - arg)))
                        return bad_name(tpl, s, arg, (size_t) (end - arg), e);
                ret->kind = TOKEN_IF;
                ret->start = arg;
                ret->len = (size_t) (end - arg);
                return 0;
        }
        if (body[0] == '/') {
                if (n != 3 || memcmp(body, "/if", 3) != 0)
                        return fail(tpl, s, e, "unsupported \"{{%.*s}}\": only {{/if}} closes a block",
                                    (int) MIN(n, (size_t) 64), body);
                ret->kind = TOKEN_END;
                return 0;
        }
        if (n == 4 && memcmp(body, "else", 4) == 0) {
                ret->kind = TOKEN_ELSE;
                return 0;
        }
        if (!name_valid(body, n))
                return bad_name(tpl, s, body, n, e);
        ret->kind = TOKEN_NAME;
        ret->start = body;
        ret->len = n;
        return 0;
}

/* The value a name stands for (borrowed), NULL when empty or missing. */
static struct json_object *lookup(const Vars *v, const char *name, size_t n) {
        struct json_object *cur;
        const char *p, *end = name + n;

        if (n == 11 && memcmp(name, "instruction", 11) == 0)
                return v->instruction;
        if (n == 6 && memcmp(name, "intent", 6) == 0)
                return v->intent;
        cur = v->input;
        for (p = name + 5; p < end && cur;) { /* past "input", at "." or the end */
                char key[256];
                const char *k = ++p;
                size_t len;
                while (p < end && *p != '.')
                        p++;
                len = (size_t) (p - k);
                if (len >= sizeof key)
                        return NULL;
                memcpy(key, k, len);
                key[len] = '\0';
                if (json_object_is_type(cur, json_type_object)) {
                        if (!json_object_object_get_ex(cur, key, &cur))
                                return NULL;
                } else if (json_object_is_type(cur, json_type_array)) {
                        unsigned i;
                        if (safe_atou(key, &i) < 0 || i >= json_object_array_length(cur))
                                return NULL;
                        cur = json_object_array_get_idx(cur, i);
                } else
                        return NULL;
        }
        return cur;
}

/* Handlebars' truth: not "", null, false, 0, [] or {}. */
static bool truthy(struct json_object *j) {
        switch (json_object_get_type(j)) {
        case json_type_null:
                return false;
        case json_type_boolean:
                return json_object_get_boolean(j);
        case json_type_string:
                return json_object_get_string_len(j) > 0;
        case json_type_int:
                return json_object_get_int64(j) != 0 || json_object_get_uint64(j) != 0;
        case json_type_double:
                return json_object_get_double(j) != 0.0;
        case json_type_array:
                return json_object_array_length(j) > 0;
        case json_type_object:
                return json_object_object_length(j) > 0;
        }
        return false;
}

static int emit(Out *o, const char *s, size_t n, Error *e) {
        if (n == 0)
                return 0;
        if (o->len + n > PROMPT_MAX_BYTES)
                return error_set(e, -E2BIG,
                                 "the prompt would be larger than %d bytes: shorten the instruction, the "
                                 "template or the input",
                                 PROMPT_MAX_BYTES);
        if (fwrite(s, 1, n, o->f) != n)
                return error_set(e, -ENOMEM, "out of memory while building the prompt");
        o->len += n;
        return 0;
}

static int emit_str(Out *o, const char *s, Error *e) {
        return emit(o, s, strlen(s), e);
}

static int emit_value(Out *o, struct json_object *j, Error *e) {
        const char *s;

        switch (json_object_get_type(j)) {
        case json_type_null:
                return 0;
        case json_type_string:
                return emit(o, json_object_get_string(j), (size_t) json_object_get_string_len(j), e);
        default:
                s = json_object_to_json_string_ext(j,
                                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                if (!s)
                        return error_set(e, -ENOMEM, "out of memory while building the prompt");
                return emit_str(o, s, e);
        }
}

/* Check (v and o NULL) or render the template. */
static int run(const char *tpl, const Vars *v, Out *o, Error *e) {
        struct {
                const char *at;
                bool cond, parent, in_else;
        } stack[PROMPT_MAX_NESTING];
        size_t depth = 0;
        bool active = true;
        const char *p = tpl;
        Token t;
        int r;

        for (;;) {
                r = next_token(tpl, &p, &t, e);
                if (r < 0)
                        return r;
                switch (t.kind) {
                case TOKEN_TEXT:
                        if (o && active && (r = emit(o, t.start, t.len, e)) < 0)
                                return r;
                        break;
                case TOKEN_NAME:
                        if (o && active && (r = emit_value(o, lookup(v, t.start, t.len), e)) < 0)
                                return r;
                        break;
                case TOKEN_IF: {
                        bool cond = v ? truthy(lookup(v, t.start, t.len)) : true;
                        if (depth == PROMPT_MAX_NESTING)
                                return fail(tpl, t.at, e, "{{#if}} nested more than %d deep",
                                            PROMPT_MAX_NESTING);
                        stack[depth].at = t.at;
                        stack[depth].cond = cond;
                        stack[depth].parent = active;
                        stack[depth].in_else = false;
                        depth++;
                        active = active && cond;
                        break;
                }
                case TOKEN_ELSE:
                        if (depth == 0)
                                return fail(tpl, t.at, e, "{{else}} outside {{#if}}…{{/if}}");
                        if (stack[depth - 1].in_else)
                                return fail(tpl, t.at, e, "a second {{else}} in one {{#if}}");
                        stack[depth - 1].in_else = true;
                        active = stack[depth - 1].parent && !stack[depth - 1].cond;
                        break;
                case TOKEN_END:
                        if (depth == 0)
                                return fail(tpl, t.at, e, "{{/if}} without {{#if}}");
                        active = stack[--depth].parent;
                        break;
                case TOKEN_COMMENT:
                        break;
                case TOKEN_EOF:
                        if (depth > 0)
                                return fail(tpl, stack[depth - 1].at, e,
                                            "{{#if}} never closed with {{/if}}");
                        return 0;
                }
        }
}

int prompt_template_check(const char *template, Error *e) {
        assert(template);
        return run(template, NULL, NULL, e);
}

/* ---- history ---- */

/* A string member of an object, NULL when absent or not a string. */
static const char *member_string(struct json_object *o, const char *key) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The last max bytes of s (from a character boundary), and how many bytes were cut. */
static const char *tail(const char *s, size_t max, size_t *ret_cut) {
        size_t n = strlen(s);
        const char *t = s;

        if (n > max) {
                t = s + n - max;
                while (*t && ((unsigned char) *t & 0xC0) == 0x80)
                        t++;
        }
        *ret_cut = (size_t) (t - s);
        return t;
}

/* The length of the first max bytes of s (to a character boundary). */
static size_t head(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n <= max)
                return n;
        while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
                max--;
        return max;
}

static int emit_head(Out *o, const char *label, const char *s, Error *e) {
        size_t n = head(s, PROMPT_HISTORY_MAX_TEXT);
        int r;

        if ((r = emit_str(o, label, e)) < 0 || (r = emit(o, s, n, e)) < 0)
                return r;
        if (n < strlen(s)) {
                char note[64];
                (void) snprintf(note, sizeof note, "\n[… %zu more bytes not shown]", strlen(s) - n);
                if ((r = emit_str(o, note, e)) < 0)
                        return r;
        }
        return emit_str(o, "\n", e);
}

static size_t history_first(struct json_object *history) {
        size_t n = json_object_array_length(history);

        return n > PROMPT_HISTORY_MAX_ATTEMPTS ? n - PROMPT_HISTORY_MAX_ATTEMPTS : 0;
}

static bool history_empty(struct json_object *history) {
        if (!json_object_is_type(history, json_type_array))
                return true;
        for (size_t i = 0; i < json_object_array_length(history); i++)
                if (json_object_is_type(json_object_array_get_idx(history, i), json_type_object))
                        return false;
        return true;
}

/* The reference's bootstrap.py prefix: "\n\n# Previous Attempts:\n", per attempt
 * "\n## Iteration N:\n" with "Output:\n…\n", "Error:\n…\n", "Feedback:\n…\n" or
 * "Validation Failed:\n…\n", then "\n# Current Attempt:\n". */
static int emit_history(Out *o, struct json_object *history, Error *e) {
        int r;

        if (history_empty(history))
                return 0;
        r = emit_str(o, "\n\n# Previous Attempts:\n", e);
        if (r < 0)
                return r;
        for (size_t i = history_first(history); i < json_object_array_length(history); i++) {
                struct json_object *item = json_object_array_get_idx(history, i), *it;
                const char *output, *s;
                char buf[96];

                if (!json_object_is_type(item, json_type_object))
                        continue;
                if (json_object_object_get_ex(item, "iteration", &it) &&
                    json_object_is_type(it, json_type_int))
                        (void) snprintf(buf, sizeof buf, "\n## Iteration %" PRId64 ":\n",
                                        json_object_get_int64(it));
                else
                        (void) snprintf(buf, sizeof buf, "\n## Iteration ?:\n");
                if ((r = emit_str(o, buf, e)) < 0)
                        return r;
                output = member_string(item, "output");
                if (!isempty(output)) {
                        size_t cut;
                        const char *t = tail(output, PROMPT_HISTORY_MAX_TEXT, &cut);
                        if ((r = emit_str(o, "Output:\n", e)) < 0)
                                return r;
                        if (cut > 0) {
                                (void) snprintf(buf, sizeof buf, "[… %zu earlier bytes not shown]\n", cut);
                                if ((r = emit_str(o, buf, e)) < 0)
                                        return r;
                        }
                        if ((r = emit_str(o, t, e)) < 0 || (r = emit_str(o, "\n", e)) < 0)
                                return r;
                }
                if (!isempty(s = member_string(item, "error")) && (r = emit_head(o, "Error:\n", s, e)) < 0)
                        return r;
                if (!isempty(s = member_string(item, "feedback"))) {
                        if ((r = emit_head(o, "Feedback:\n", s, e)) < 0)
                                return r;
                } else if (!isempty(s = member_string(item, "reason")) &&
                           (r = emit_head(o, "Validation Failed:\n", s, e)) < 0)
                        return r;
        }
        return emit_str(o, "\n# Current Attempt:\n", e);
}

/* ---- the prompt ---- */

static int parse_input(const char *input_json, struct json_object **ret, Error *e) {
        enum json_tokener_error err = json_tokener_success;
        struct json_object *j;

        *ret = NULL;
        if (isempty(input_json))
                return 0;
        j = json_tokener_parse_verbose(input_json, &err);
        if (!j && err != json_tokener_success)
                return error_set(e, -EINVAL, "the execution's input is not valid JSON: %s",
                                 json_tokener_error_desc(err));
        *ret = j;
        return 0;
}

/* The reference's binding of {{input}} and {{intent}} (see prompt.h). */
static void bind_input(struct json_object *root, Vars *v) {
        struct json_object *x;

        v->input = root;
        if (!json_object_is_type(root, json_type_object))
                return;
        if (json_object_object_get_ex(root, "intent", &x) && json_object_is_type(x, json_type_string))
                v->intent = x;
        if (json_object_object_get_ex(root, "workflow_input", &x) && x)
                v->input = x;
        else if (json_object_object_get_ex(root, "input", &x) && x)
                v->input = x;
}

int prompt_build(const char *template, const char *instruction_text, const char *input_json,
                 struct json_object *history, char **ret, Error *e) {
        struct json_object *root = NULL, *instruction = NULL;
        char *text = NULL;
        size_t size = 0;
        Vars v = {};
        Out o = {};
        int r;

        assert(ret);

        r = parse_input(input_json, &root, e);
        if (r < 0)
                return r;
        if (instruction_text && !(instruction = json_object_new_string(instruction_text))) {
                r = error_set(e, -ENOMEM, "out of memory while building the prompt");
                goto finish;
        }
        v.instruction = instruction;
        bind_input(root, &v);

        o.f = open_memstream(&text, &size);
        if (!o.f) {
                r = error_set(e, -ENOMEM, "out of memory while building the prompt");
                goto finish;
        }
        r = emit_history(&o, history, e);
        if (r >= 0)
                r = run(template ?: PROMPT_DEFAULT_TEMPLATE, &v, &o, e);
        if (fclose(o.f) != 0 && r >= 0)
                r = error_set(e, -ENOMEM, "out of memory while building the prompt");
        if (r >= 0 && !text)
                r = error_set(e, -ENOMEM, "out of memory while building the prompt");
        if (r >= 0)
                *ret = TAKE_PTR(text);
finish:
        free(text);
        json_object_put(instruction);
        json_object_put(root);
        return r < 0 ? r : 0;
}

/* ---- AEGIS_ITERATION_HISTORY ---- */

static int add_string(struct json_object *o, const char *key, const char *s, size_t n) {
        struct json_object *v = json_object_new_string_len(s, (int) n);

        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int env_item(struct json_object *item, size_t text_max, struct json_object **ret) {
        struct json_object *o = json_object_new_object(), *x;
        const char *s;
        size_t cut;
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (json_object_object_get_ex(item, "iteration", &x) && json_object_is_type(x, json_type_int))
                r = json_object_object_add(o, "iteration", json_object_new_int64(json_object_get_int64(x)));
        if (r >= 0 && (s = member_string(item, "output"))) {
                const char *t = tail(s, text_max, &cut);
                r = add_string(o, "output", t, strlen(t));
        }
        if (r >= 0 && json_object_object_get_ex(item, "exit_code", &x) &&
            json_object_is_type(x, json_type_int))
                r = json_object_object_add(o, "exit_code", json_object_new_int64(json_object_get_int64(x)));
        if (r >= 0 && (s = member_string(item, "reason"))) {
                r = json_object_object_add(o, "validation_failed", json_object_new_boolean(true));
                if (r >= 0)
                        r = add_string(o, "validation_reason", s, head(s, text_max));
        }
        if (r >= 0 && (s = member_string(item, "error")))
                r = add_string(o, "error", s, head(s, text_max));
        if (r >= 0 && (s = member_string(item, "feedback")))
                r = add_string(o, "feedback", s, head(s, text_max));
        if (r < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* The array of history[first..] as text, or NULL on allocation failure. */
static char *env_text(struct json_object *history, size_t first, size_t text_max) {
        struct json_object *a = json_object_new_array(), *o;
        char *s = NULL;

        if (!a)
                return NULL;
        for (size_t i = first; i < json_object_array_length(history); i++) {
                struct json_object *item = json_object_array_get_idx(history, i);
                if (!json_object_is_type(item, json_type_object))
                        continue;
                if (env_item(item, text_max, &o) < 0 || json_object_array_add(a, o) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        s = strdup_or_null(
                json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
        return s;
}

char *prompt_history_env(struct json_object *history) {
        size_t n, text_max = PROMPT_HISTORY_MAX_TEXT;

        errno = 0;
        if (history_empty(history))
                return NULL;
        n = json_object_array_length(history);
        /* Drop the oldest attempts until it fits; a last one that still does not (outputs
         * of control characters, six bytes each escaped) is cut harder. */
        for (size_t first = history_first(history); first < n;) {
                char *s = env_text(history, first, text_max);
                if (!s) {
                        errno = ENOMEM;
                        return NULL;
                }
                if (strlen(s) <= PROMPT_HISTORY_ENV_MAX)
                        return s;
                free(s);
                if (first + 1 < n)
                        first++;
                else if (text_max > 256)
                        text_max /= 4;
                else
                        break;
        }
        return strdup_or_null("[]") ?: (errno = ENOMEM, NULL);
}
