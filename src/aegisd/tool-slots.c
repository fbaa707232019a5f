/* tool-slots.c — max_concurrent's gates (tool-slots.h). A gate lives while a slot of its key
 * is held or waiting; grants are delivered from one defer source of the registry. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "list.h"
#include "tool-slots.h"
#include "util.h"

typedef struct ToolGate ToolGate;

typedef enum SlotState {
        SLOT_WAITING, /* in its gate's queue */
        SLOT_GRANTED, /* held, granted not yet called (in the registry's notify list) */
        SLOT_HELD,
} SlotState;

struct ToolSlot {
        ToolSlots *owner;
        ToolGate *gate;
        SlotState state;
        unsigned long long seq; /* order of arrival: the oldest waiter goes first */
        tool_slot_fn granted;
        void *userdata;
        ToolSlot *prev, *next; /* the gate's queue or the notify list */
};

struct ToolGate {
        char *key;
        unsigned held;
        unsigned max;
        ToolSlot *waiting;
        ToolGate *prev, *next;
};

struct ToolSlots {
        sd_event_source *defer;
        ToolGate *gates;
        ToolSlot *notify;
        unsigned long long seq;
};

static ToolGate *gate_find(const ToolSlots *s, const char *key) {
        for (ToolGate *g = s->gates; g; g = g->next)
                if (streq(g->key, key))
                        return g;
        return NULL;
}

static void gate_free_if_idle(ToolSlots *s, ToolGate *g) {
        if (g->held > 0 || g->waiting)
                return;
        LIST_REMOVE(s->gates, g);
        free(g->key);
        free(g);
}

/* Hands free places to the oldest waiters; their granted runs from the defer source. */
static void gate_grant(ToolSlots *s, ToolGate *g) {
        while (g->held < g->max && g->waiting) {
                ToolSlot *oldest = g->waiting;
                for (ToolSlot *w = g->waiting; w; w = w->next)
                        if (w->seq < oldest->seq)
                                oldest = w;
                LIST_REMOVE(g->waiting, oldest);
                g->held++;
                oldest->state = SLOT_GRANTED;
                LIST_PREPEND(s->notify, oldest);
                (void) sd_event_source_set_enabled(s->defer, SD_EVENT_ONESHOT);
        }
}

static int on_defer(sd_event_source *es, void *userdata) {
        ToolSlots *s = userdata;
        (void) es;

        /* One at a time: a granted callback may release or acquire slots. */
        while (s->notify) {
                ToolSlot *t = s->notify;
                LIST_REMOVE(s->notify, t);
                t->state = SLOT_HELD;
                t->granted(t->userdata);
        }
        return 0;
}

int tool_slots_new(sd_event *event, ToolSlots **ret) {
        ToolSlots *s;
        int r;

        assert(event);
        assert(ret);
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        r = sd_event_add_defer(event, &s->defer, on_defer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->defer, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_unref(s->defer);
                free(s);
                return r;
        }
        (void) sd_event_source_set_description(s->defer, "tool-slots");
        *ret = s;
        return 0;
}

ToolSlots *tool_slots_free(ToolSlots *s) {
        if (!s)
                return NULL;
        assert(!s->gates); /* every slot is released by its owner first */
        sd_event_source_disable_unref(s->defer);
        free(s);
        return NULL;
}

int tool_slots_acquire(ToolSlots *s, const char *key, unsigned max, tool_slot_fn granted, void *userdata,
                       ToolSlot **ret) {
        ToolGate *g;
        ToolSlot *t;

        assert(s);
        assert(key);
        assert(max >= 1);
        assert(granted);
        assert(ret);
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        g = gate_find(s, key);
        if (!g) {
                g = calloc(1, sizeof *g);
                if (!g || !(g->key = strdup(key))) {
                        free(g);
                        free(t);
                        return -ENOMEM;
                }
                LIST_PREPEND(s->gates, g);
        }
        g->max = max;
        *t = (ToolSlot){ .owner = s, .gate = g, .seq = ++s->seq, .granted = granted, .userdata = userdata };
        *ret = t;
        /* Nobody waits ahead of a newcomer that finds a free place: the queue is empty then,
         * since gate_grant() fills free places from it at once. */
        if (g->held < g->max && !g->waiting) {
                g->held++;
                t->state = SLOT_HELD;
                return 1;
        }
        t->state = SLOT_WAITING;
        LIST_PREPEND(g->waiting, t);
        return 0;
}

void tool_slot_release(ToolSlot *t) {
        ToolSlots *s;
        ToolGate *g;

        if (!t)
                return;
        s = t->owner;
        g = t->gate;
        switch (t->state) {
        case SLOT_WAITING:
                LIST_REMOVE(g->waiting, t);
                break;
        case SLOT_GRANTED:
                LIST_REMOVE(s->notify, t);
                __attribute__((fallthrough));
        case SLOT_HELD:
                assert(g->held > 0);
                g->held--;
                gate_grant(s, g);
                break;
        }
        free(t);
        gate_free_if_idle(s, g);
}

unsigned tool_slots_held(const ToolSlots *s, const char *key) {
        const ToolGate *g = gate_find(s, key);
        return g ? g->held : 0;
}

unsigned tool_slots_waiting(const ToolSlots *s, const char *key) {
        const ToolGate *g = gate_find(s, key);
        unsigned n = 0;

        for (const ToolSlot *w = g ? g->waiting : NULL; w; w = w->next)
                n++;
        return n;
}
