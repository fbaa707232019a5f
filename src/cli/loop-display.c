/* loop-display.c — how `aegis` shows the inner loop: one line per model or tool call event
 * (`aegis run`, `aegis events`) and each iteration's conversation (`aegis show`).
 *
 * Everything printed from an event or a message is bounded and kept on its line (newlines
 * and other control characters become spaces), so a model's output can neither flood the
 * terminal nor forge lines of its own. */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define ARGUMENTS_MAX 120 /* bytes of a tool call's arguments on an event line */
#define MESSAGE_MAX 4096 /* bytes of one message in `aegis show` */

/* Text of a member: strings as they are, anything else as compact JSON; NULL if absent. */
static const char *member_text(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        if (json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Append s to buf (of size, holding *len bytes) as one line of at most max bytes: control
 * characters become spaces; a longer text ends in "…" at a character boundary. */
static void append_line(char *buf, size_t size, size_t *len, const char *s, size_t max) {
        size_t n = strlen(s), take = MIN(n, max), room;

        if (*len + 1 >= size)
                return;
        room = size - *len - 1;
        if (take > room)
                take = room;
        if (take < n) /* leave room for "…" (3 bytes) and cut at a character start */
                take = take >= 3 ? take - 3 : 0;
        while (take > 0 && take < n && ((unsigned char) s[take] & 0xC0) == 0x80)
                take--;
        for (size_t i = 0; i < take; i++) {
                unsigned char c = (unsigned char) s[i];
                buf[(*len)++] = c < 0x20 || c == 0x7f ? ' ' : (char) c;
        }
        if (take < n && *len + 3 < size) {
                memcpy(buf + *len, "…", 3);
                *len += 3;
        }
        buf[*len] = '\0';
}

static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...) _printf_(4, 5);
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...) {
        char tmp[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        append_line(buf, size, len, tmp, sizeof tmp);
}

bool cli_loop_event_text(json_object *j, const char *type, char *buf, size_t size) {
        size_t len = 0;
        const char *s;

        assert(buf && size > 0);
        buf[0] = '\0';
        if (!type)
                return false;
        if (streq(type, "llm_call_started") || streq(type, "llm_call_finished")) {
                bool done = streq(type, "llm_call_finished");
                append_line(buf, size, &len, "model ", 64);
                if ((s = member_text(j, "provider"))) {
                        append_line(buf, size, &len, s, 64);
                        append_line(buf, size, &len, "/", 1);
                }
                /* Started: the provider is not chosen yet, only the manifest's alias is known. */
                append_line(buf, size, &len,
                            member_text(j, "model") ?: strempty(member_text(j, "model_alias")), 128);
                if (!done) {
                        append_line(buf, size, &len, ": called", 16);
                        return true;
                }
                append_line(buf, size, &len, ": ", 2);
                append_line(buf, size, &len, member_text(j, "outcome") ?: "finished", 64);
                if (json_int(j, "tokens_in", -1) >= 0 || json_int(j, "tokens_out", -1) >= 0)
                        appendf(buf, size, &len, ", %" PRId64 " tokens in, %" PRId64 " out",
                                MAX(json_int(j, "tokens_in", 0), (int64_t) 0),
                                MAX(json_int(j, "tokens_out", 0), (int64_t) 0));
                if (json_int(j, "latency_ms", -1) >= 0)
                        appendf(buf, size, &len, ", %" PRId64 " ms", json_int(j, "latency_ms", 0));
                return true;
        }
        if (streq(type, "tool_call_started") || streq(type, "tool_call_finished")) {
                append_line(buf, size, &len, "tool ", 8);
                append_line(buf, size, &len, member_text(j, "tool") ?: "?", 128);
                if (streq(type, "tool_call_started")) {
                        if ((s = member_text(j, "arguments"))) {
                                append_line(buf, size, &len, " ", 1);
                                append_line(buf, size, &len, s, ARGUMENTS_MAX);
                        }
                        return true;
                }
                append_line(buf, size, &len, ": ", 2);
                if (member_text(j, "exit_code"))
                        appendf(buf, size, &len, "exit %" PRId64, json_int(j, "exit_code", 0));
                else
                        append_line(buf, size, &len, member_text(j, "outcome") ?: "finished", 64);
                if (json_int(j, "duration_ms", -1) >= 0)
                        appendf(buf, size, &len, ", %" PRId64 " ms", json_int(j, "duration_ms", 0));
                return true;
        }
        return false;
}

/* A message's content: indented lines, control characters but newline and tab shown as
 * spaces, at most MESSAGE_MAX bytes. */
static void print_content(const char *s) {
        size_t n = strlen(s), take = MIN(n, (size_t) MESSAGE_MAX);

        while (take > 0 && take < n && ((unsigned char) s[take] & 0xC0) == 0x80)
                take--;
        fputs("      ", stdout);
        for (size_t i = 0; i < take; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\n')
                        fputs("\n      ", stdout);
                else
                        putchar(c < 0x20 && c != '\t' ? ' ' : c == 0x7f ? ' ' : (int) c);
        }
        if (take < n)
                printf("\n      [… %zu more bytes: aegis show -o json]", n - take);
        putchar('\n');
}

static void print_message(json_object *m) {
        const char *role = member_text(m, "role"), *content = member_text(m, "content");
        json_object *calls;
        char line[512];
        size_t len = 0;

        append_line(line, sizeof line, &len, role ?: "?", 32);
        if (role && streq(role, "tool")) {
                if (member_text(m, "name")) {
                        append_line(line, sizeof line, &len, " ", 1);
                        append_line(line, sizeof line, &len, member_text(m, "name"), 128);
                }
                if (member_text(m, "tool_call_id")) {
                        append_line(line, sizeof line, &len, " [", 2);
                        append_line(line, sizeof line, &len, member_text(m, "tool_call_id"), 64);
                        append_line(line, sizeof line, &len, "]", 1);
                }
        }
        printf("    %s:\n", line);
        if (!isempty(content))
                print_content(content);
        if (json_object_object_get_ex(m, "tool_calls", &calls) &&
            json_object_is_type(calls, json_type_array))
                for (size_t i = 0; i < json_object_array_length(calls); i++) {
                        json_object *c = json_object_array_get_idx(calls, i);
                        len = 0;
                        line[0] = '\0';
                        append_line(line, sizeof line, &len, "→ ", 4);
                        append_line(line, sizeof line, &len, member_text(c, "name") ?: "?", 128);
                        append_line(line, sizeof line, &len, " ", 1);
                        append_line(line, sizeof line, &len, strempty(member_text(c, "arguments")), 256);
                        if (member_text(c, "id")) {
                                append_line(line, sizeof line, &len, " [", 2);
                                append_line(line, sizeof line, &len, member_text(c, "id"), 64);
                                append_line(line, sizeof line, &len, "]", 1);
                        }
                        printf("      %s\n", line);
                }
}

void cli_print_trajectories(json_object *iterations) {
        for (size_t i = 0; i < json_object_array_length(iterations); i++) {
                json_object *it = json_object_array_get_idx(iterations, i), *t = NULL, *tok = it;
                bool has_t, has_tokens;

                /* aegisd's trajectory is an object (its messages, rounds, token totals); a bare
                 * array of messages is read too. */
                if (json_object_object_get_ex(it, "trajectory", &t) &&
                    json_object_is_type(t, json_type_object)) {
                        tok = t;
                        if (!json_object_object_get_ex(tok, "messages", &t))
                                t = NULL;
                }
                has_t = t && json_object_is_type(t, json_type_array);
                has_tokens = member_text(tok, "tokens_in") || member_text(tok, "tokens_out");

                if (!has_t && !has_tokens)
                        continue;
                printf("Iteration %" PRId64 " conversation", json_int(it, "number", (int64_t) i + 1));
                if (has_tokens)
                        printf(" (%" PRId64 " tokens in, %" PRId64 " out)", json_int(tok, "tokens_in", 0),
                               json_int(tok, "tokens_out", 0));
                printf(":\n");
                for (size_t k = 0; has_t && k < json_object_array_length(t); k++)
                        print_message(json_object_array_get_idx(t, k));
        }
}
