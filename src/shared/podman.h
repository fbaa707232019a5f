/* podman.h — a client for Podman's (and Docker's) Docker-compatible API over its unix socket.
 *
 * Concurrency model. Every operation is a libcurl transfer driven by libcurl's multi interface,
 * integrated into an sd-event loop the way systemd's curl-util.c does it: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION → sd_event_add_io) and when to wake up
 * (CURLMOPT_TIMERFUNCTION → sd_event_add_time). So the daemon runs any number of engine calls
 * — including the long ones: wait, logs --follow, events, image pulls — concurrently on its one
 * event loop, single-threaded, without blocking it. We chose this over worker threads because
 * the supervisor is an sd-event state machine already: results arrive as callbacks on the same
 * thread that owns the execution state, so nothing needs a lock, and cancelling an operation is
 * just removing a curl handle.
 *
 *  - podman_*_async(): starts the operation and returns at once; the callback runs later from
 *    the client's sd-event loop, exactly once, unless the operation is cancelled first with
 *    podman_op_cancel() (then never). The PodmanOp is freed right after its callback returns:
 *    forget any pointer to it inside the callback. A NULL ret_op lets the client own it.
 *  - The synchronous functions (no suffix) are for the CLI and aegis-reaper: each one runs the
 *    async operation on a private sd-event loop until it finishes. They are safe to call from
 *    anywhere, including from inside a callback of the client's own loop (they never touch it),
 *    but they block the calling thread for up to the operation's time bound.
 *  - A PodmanClient is not thread-safe: use it from the thread running its event loop.
 *
 * Every operation is bounded in time (connect timeout plus a whole-transfer timeout); the
 * caller passes the bound for the long ones. Errors reach the caller in an Error whose message
 * carries the engine's own message and HTTP status ("…: HTTP 404: no such container"); a
 * missing socket or a refused permission produce the actionable messages of the operator
 * documentation (path, `systemctl --user enable --now podman.socket`, lingering, ownership).
 * Error.http_status is set to what an API in front of us should answer: the engine's 4xx as is
 * (404 no such container/image, 409 conflict), 502 for an engine 5xx, 503 when the engine
 * cannot be reached, 504 on a timeout.
 *
 * The API version is part of every path (/v1.41/...): Podman ≥ 3 and Docker ≥ 20.10 serve it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "error.h"
#include "macros.h"

#define PODMAN_API_VERSION "1.41"
/* Default bound for short calls (ping, inspect, create, start, remove, ...). */
#define PODMAN_DEFAULT_TIMEOUT_USEC (30 * UINT64_C(1000000))
/* How long establishing the connection may take (socket-activated podman.service start-up). */
#define PODMAN_CONNECT_TIMEOUT_USEC (10 * UINT64_C(1000000))

typedef struct PodmanClient PodmanClient;
typedef struct PodmanOp PodmanOp;

typedef enum PodmanEngine {
        PODMAN_ENGINE_UNKNOWN,
        PODMAN_ENGINE_PODMAN,
        PODMAN_ENGINE_DOCKER,
        _PODMAN_ENGINE_MAX,
} PodmanEngine;

/* What GET /version told us; recorded in the client, behaviour adapts to it. */
typedef struct PodmanVersion {
        PodmanEngine engine;
        char version[64]; /* "4.3.1" */
        char api_version[16]; /* "1.41" */
        char os_arch[64]; /* "linux/amd64" */
        unsigned major, minor, patch;
        /* Whether the engine itself translates "host-gateway" in ExtraHosts (Docker ≥ 20.10,
         * Podman ≥ 5.0). When false we put the host's address there ourselves. */
        bool resolves_host_gateway;
} PodmanVersion;

const char *podman_engine_to_string(PodmanEngine e); /* "podman", "docker", "unknown" */

/* A client for the API socket at socket_path (an absolute path; config resolves it from
 * runtime.container_socket_path or CONTAINER_HOST). event: the loop async operations run on;
 * NULL gives the client a private loop (enough for the synchronous functions). */
int podman_client_new(const char *socket_path, sd_event *event, PodmanClient **ret);
/* Cancels every pending operation (no callbacks run) and frees the client. */
PodmanClient *podman_client_free(PodmanClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodmanClient *, podman_client_free);
const char *podman_client_socket_path(const PodmanClient *c);
/* The version recorded by the last successful podman_version*(), or NULL. */
const PodmanVersion *podman_client_version(const PodmanClient *c);
/* Number of operations in flight (for idle-exit decisions and tests). */
size_t podman_client_pending(const PodmanClient *c);

/* Stops an operation; its callback will not run. No-op on NULL. Must not be called from
 * inside that same operation's streaming callback: return a negative value there instead. */
void podman_op_cancel(PodmanOp *op);

typedef void (*podman_done_fn)(int r, const Error *e, void *userdata);

/* GET /_ping: the engine answers "OK". timeout_usec 0 = PODMAN_DEFAULT_TIMEOUT_USEC. */
int podman_ping(PodmanClient *c, uint64_t timeout_usec, Error *e);
int podman_ping_async(PodmanClient *c, uint64_t timeout_usec, podman_done_fn cb, void *userdata,
                      PodmanOp **ret_op);

/* GET /version; also records the result in the client. */
typedef void (*podman_version_fn)(int r, const PodmanVersion *v, const Error *e, void *userdata);
int podman_version(PodmanClient *c, PodmanVersion *ret, Error *e);
int podman_version_async(PodmanClient *c, podman_version_fn cb, void *userdata, PodmanOp **ret_op);
/* Parses a GET /version answer (exposed for tests and the fuzzer). */
int podman_version_parse(const char *json, size_t size, PodmanVersion *ret);

/* The address containers reach the host at, used for "host-gateway" when the engine does not
 * translate it: the source address of the host's default route (reachable from bridged and
 * from rootless slirp4netns/pasta containers), else the first non-loopback IPv4 address. */
#define PODMAN_ADDRESS_MAX 46
int podman_host_gateway_address(char ret[PODMAN_ADDRESS_MAX], Error *e);
