/* tool-slots.h — the security contexts' max_concurrent (issue 21): how many calls of one tool
 * may run at once under one context, across every execution of this daemon.
 *
 * A ToolSlots is the daemon's registry of gates, one per key (the context's name and the
 * tool's). A call takes a ToolSlot before it runs and releases it when it ends; a call past the
 * bound waits, first come first served, until a running one ends. A waiting call costs nothing
 * but its place in the queue: the iteration's own timeouts still bound how long it can wait.
 *
 * What must stay true:
 *  - at most `max` slots of one key are held at any time (max is the bound the caller gives
 *    with each acquire: the policy's, which a configuration reload may change; a lower bound
 *    only delays the next grant, it never takes a held slot away);
 *  - granted runs once per waiting slot, from the event loop (a defer source), never from
 *    inside tool_slot_release() or tool_slots_acquire(), and never after its slot was released;
 *  - every ToolSlot is released exactly once by its owner, held or waiting; tool_slots_free()
 *    requires that none is left. */
#pragma once

#include <stdbool.h>

#include "macros.h"

typedef struct sd_event sd_event;
typedef struct ToolSlots ToolSlots;
typedef struct ToolSlot ToolSlot;

/* A waiting slot is now held. */
typedef void (*tool_slot_fn)(void *userdata);

int tool_slots_new(sd_event *event, ToolSlots **ret);
ToolSlots *tool_slots_free(ToolSlots *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ToolSlots *, tool_slots_free);

/* A slot of key (max ≥ 1). Returns 1 when it is held at once (granted is never called), 0 when
 * it waits (granted runs later), < 0 on error (nothing taken). */
int tool_slots_acquire(ToolSlots *s, const char *key, unsigned max, tool_slot_fn granted, void *userdata,
                       ToolSlot **ret);
/* Gives a held slot back (the next waiter of its key is granted) or leaves the queue. NULL is a
 * no-op. */
void tool_slot_release(ToolSlot *slot);

/* How many slots of key are held, and how many wait (for tests and metrics). */
unsigned tool_slots_held(const ToolSlots *s, const char *key);
unsigned tool_slots_waiting(const ToolSlots *s, const char *key);
