/* tool-call.c — a host tool call on its way to its done callback, and the error result every
 * tool answers with (tool-call.h). */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "tool-call.h"
#include "util.h"

json_object *tool_error(const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        json_object *o = json_object_new_object();
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        json_object_object_add(o, "error", json_object_new_string(m ? m : "out of memory"));
        return o;
}

struct ToolCall {
        tool_done_fn done;
        void *userdata;
        void (*cancel)(void *impl);
        void *impl;
        sd_event_source *later; /* tool_call_finish_later() */
        json_object *result;
};

int tool_call_new(tool_done_fn done, void *userdata, void (*cancel)(void *impl), void *impl,
                  ToolCall **ret) {
        ToolCall *c;

        assert(done);
        assert(ret);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (ToolCall){ .done = done, .userdata = userdata, .cancel = cancel, .impl = impl };
        *ret = c;
        return 0;
}

static void call_free(ToolCall *c) {
        sd_event_source_disable_unref(c->later);
        json_object_put(c->result);
        free(c);
}

void tool_call_finish(ToolCall *c, json_object *result) {
        tool_done_fn done;
        void *ud;

        assert(c);
        done = c->done;
        ud = c->userdata;
        call_free(c);
        done(result, ud);
}

static int on_later(sd_event_source *s, void *userdata) {
        ToolCall *c = userdata;
        json_object *r = TAKE_PTR(c->result);

        tool_call_finish(c, r);
        return 0;
}

int tool_call_finish_later(const ToolEnv *env, json_object *result, tool_done_fn done, void *userdata,
                           ToolCall **ret) {
        ToolCall *c;
        int k;

        assert(env && env->event);
        k = tool_call_new(done, userdata, NULL, NULL, &c);
        if (k < 0) {
                json_object_put(result);
                return k;
        }
        c->result = result;
        k = sd_event_add_defer(env->event, &c->later, on_later, c);
        if (k < 0) {
                call_free(c);
                return k;
        }
        *ret = c;
        return 0;
}

void tool_call_cancel(ToolCall *c) {
        if (!c)
                return;
        if (c->cancel)
                c->cancel(c->impl);
        call_free(c);
}
