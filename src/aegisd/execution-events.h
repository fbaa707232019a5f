/* execution-events.h — the words an execution's record is written in: the types of its
 * events (each event's JSON "type", the SSE event name) and the reasons written on
 * executions and iterations. Header only: the supervisor, a Run and its parts write them,
 * the API reads them, and none of them has to include another's header for it.
 *
 * What must stay true: these strings are part of the API (events, GET /v1/executions'
 * "reason"): never change one, only add. */
#pragma once

/* Event types (the "type" of each event's JSON and the SSE event name). */
#define EVENT_EXECUTION_CREATED "execution_created"
#define EVENT_EXECUTION_STARTED "execution_started"
#define EVENT_ITERATION_STARTED "iteration_started"
#define EVENT_IMAGE_PULL_PROGRESS "image_pull_progress" /* bytes and layers of a pull, ≤ 2/s + final */
#define EVENT_CONTAINER_CREATED "container_created"
#define EVENT_CONTAINER_STARTED "container_started"
#define EVENT_CONTAINER_REATTACHED "container_reattached"
#define EVENT_ITERATION_FINISHED "iteration_finished"
#define EVENT_ITERATION_USAGE "iteration_usage" /* what it used (run-stats.h) */
#define EVENT_CANCEL_REQUESTED "cancel_requested"
#define EVENT_EXECUTION_FINISHED "execution_finished"
#define EVENT_LIMITS_UNENFORCED "limits_unenforced" /* runtime.allow_unenforced_limits ran it */

/* Reasons written on executions and iterations. */
#define REASON_TIMEOUT "timeout" /* iteration_timeout_secs or timeout_secs hit: killed */
#define REASON_OOM "oom" /* the kernel killed the container at its memory limit */
#define REASON_CANCELLED "cancelled"
#define REASON_CONTAINER_LOST "container_lost"
#define REASON_QUOTA_EXCEEDED "quota_exceeded" /* a read-write volume over its size_limit */
