/* llm-conversation.c — what the model calls of one conversation keep between its turns (see
 * llm.h's LlmConversation): the tool-name table, and the wire text of the messages already
 * sent, so that a turn names and serializes its own messages only. The inner loop appends a
 * message or two per turn to a conversation of hundreds; rebuilding and serializing all of it
 * for every call was most of aegisd's cost of a tool round (issue 14).
 *
 * What must stay true: a request body made with the cache is byte for byte the one
 * llm_build_request() makes from the whole conversation (test-llm compares them), and the
 * cache is never used for another conversation: it holds references to the tools and to the
 * last message it covers, and is made again when the call's tools, provider format or earlier
 * messages are not those objects. Only the formats whose messages map one to one onto the
 * conversation's (llm_wire_has_messages()) use the wire text; the others still get the names. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "llm-internal.h"
#include "util.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct LlmConversation {
        json_object *tools; /* what the names were made with (a reference; NULL: none) */
        LlmNameTable names; /* of tools and messages[0, n_named) */
        size_t n_named;
        json_object *last_named; /* messages[n_named - 1] (a reference) */

        LlmProviderType type; /* of text */
        char *text; /* the wire form of messages[0, n_wired), comma-separated */
        size_t len, size, n_wired;
        json_object *last_wired; /* messages[n_wired - 1] (a reference) */
};

int llm_conversation_new(LlmConversation **ret) {
        LlmConversation *c = calloc(1, sizeof *c);

        assert(ret);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static void drop_text(LlmConversation *c) {
        free(c->text);
        c->text = NULL;
        c->len = c->size = c->n_wired = 0;
        json_object_put(c->last_wired);
        c->last_wired = NULL;
}

static void drop_names(LlmConversation *c) {
        llm_names_done(&c->names);
        c->n_named = 0;
        json_object_put(c->last_named);
        c->last_named = NULL;
        json_object_put(c->tools);
        c->tools = NULL;
        drop_text(c); /* the wire text spells the names */
}

LlmConversation *llm_conversation_free(LlmConversation *c) {
        if (!c)
                return NULL;
        drop_names(c);
        free(c);
        return NULL;
}

/* messages still starts with the n messages whose last was last (same object). */
static bool still_starts_with(json_object *messages, size_t n, json_object *last) {
        return n == 0 || (n <= json_object_array_length(messages) &&
                          json_object_array_get_idx(messages, n - 1) == last);
}

int llm_conversation_names(LlmConversation *c, json_object *tools, json_object *messages,
                           LlmNameTable *ret) {
        size_t n = json_object_array_length(messages);
        int r;

        assert(c && messages && ret);
        if (c->tools != tools || !still_starts_with(messages, c->n_named, c->last_named))
                drop_names(c);
        if (!c->tools && c->n_named == 0 && c->names.n == 0) {
                r = llm_names_build(tools, NULL, &c->names);
                if (r < 0)
                        return r;
                c->tools = json_object_get(tools);
        }
        if (n > c->n_named) {
                r = llm_names_extend(&c->names, messages, c->n_named);
                if (r < 0) {
                        drop_names(c);
                        return r;
                }
                json_object_put(c->last_named);
                c->last_named = json_object_get(json_object_array_get_idx(messages, n - 1));
                c->n_named = n;
        }
        return llm_names_copy(&c->names, ret);
}

/* Brings c->text up to in->messages. */
static int wire_text_update(LlmConversation *c, const LlmRequestInput *in, const char **ret_why) {
        size_t n = json_object_array_length(in->messages);
        int r;

        if (c->type != in->type || !still_starts_with(in->messages, c->n_wired, c->last_wired))
                drop_text(c);
        c->type = in->type;
        for (size_t i = c->n_wired; i < n; i++) {
                _cleanup_json_ json_object *w = NULL;
                const char *t;
                size_t len;

                r = llm_wire_message(in, i, &w, ret_why);
                if (r < 0)
                        return r;
                t = json_object_to_json_string_length(w, JSON_FLAGS, &len);
                if (!t)
                        return -ENOMEM;
                if (c->len + len + 2 > c->size) {
                        size_t size = MAX(c->len + len + 2, 2 * c->size);
                        char *b = realloc(c->text, size);
                        if (!b)
                                return -ENOMEM;
                        c->text = b;
                        c->size = size;
                }
                if (c->len > 0)
                        c->text[c->len++] = ',';
                memcpy(c->text + c->len, t, len);
                c->len += len;
                c->text[c->len] = '\0';
                json_object_put(c->last_wired);
                c->last_wired = json_object_get(json_object_array_get_idx(in->messages, i));
                c->n_wired = i + 1;
        }
        return 0;
}

int llm_conversation_request(LlmConversation *c, const LlmRequestInput *in, LlmHttpRequest *ret,
                             char **ret_body, size_t *ret_len, const char **ret_why) {
        static const char key[] = "\"messages\":[]";
        _cleanup_json_ json_object *none = json_object_new_array();
        LlmRequestInput envelope = *in;
        LlmHttpRequest req = {};
        const char *s, *at;
        char *body, *p;
        size_t n;
        int r;

        assert(c && in && ret && ret_body && ret_len);
        assert(llm_wire_has_messages(in->type));
        if (!none)
                return -ENOMEM;
        r = wire_text_update(c, in, ret_why);
        if (r < 0) {
                drop_text(c);
                return r;
        }
        /* The request with no messages, then the messages' text where its empty list is: the
         * key cannot occur inside a string value, whose quotes are all escaped. */
        envelope.messages = none;
        r = llm_build_request(&envelope, &req, ret_why);
        if (r < 0)
                return r;
        s = json_object_to_json_string_length(req.body, JSON_FLAGS, &n);
        at = s ? strstr(s, key) : NULL;
        if (!at) {
                llm_http_request_done(&req);
                *ret_why = "the request has no list of messages";
                return -EINVAL;
        }
        at += strlen(key) - 1; /* the "]" */
        body = malloc(n + c->len + 1);
        if (!body) {
                llm_http_request_done(&req);
                return -ENOMEM;
        }
        p = mempcpy(body, s, (size_t) (at - s));
        p = mempcpy(p, strempty(c->text), c->len);
        memcpy(p, at, n - (size_t) (at - s) + 1);
        *ret_body = body;
        *ret_len = n + c->len;
        *ret = req;
        return 0;
}
