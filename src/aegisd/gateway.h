/* gateway.h — the dispatch gateway: the one door containers have into aegisd (issue 14).
 *
 * A unix socket, <state_dir>/gateway/dispatch.sock (directory 0755, socket 0666: any uid in
 * a container may connect, the capability in the path is the authentication), bind-mounted
 * read-only into each inner-loop container at /run/aegis/gateway. It serves a second
 * HttpServer with ONLY the dispatch route:
 *
 *     POST /d/{capability}/v1/dispatch-gateway
 *
 * The capability (64 hex characters, random per iteration, run-dispatch.h) is looked up over
 * the live iterations in constant time; an unknown, malformed, missing or finished one gets
 * 404 {"error":…} — the same answer whatever the reason, so a wrong capability for a live
 * execution cannot be told from a dead one — and is counted in
 * aegis_dispatch_refused_total{reason}. The socket is made anew at every start (a stale one
 * is unlinked). */
#pragma once

#include <systemd/sd-event.h>

#include "macros.h"

struct MetricsRegistry;
struct RunDispatch;

#define GATEWAY_DIR "gateway" /* under the state directory */
#define GATEWAY_SOCKET "dispatch.sock"
#define GATEWAY_MAX_BODY (16U * 1024U * 1024U)

/* The live iteration whose capability this is, or NULL. Must compare in constant time. */
typedef struct RunDispatch *(*gateway_lookup_fn)(const char *capability, void *userdata);

typedef struct Gateway Gateway;

/* Creates <state_dir>/gateway/dispatch.sock and serves it on event. Errors are logged. */
/* A listening unix socket at path that any uid may connect to (stale one replaced); also the
 * egress proxy's (egress.c). */
int gateway_listen_unix(const char *path, int *ret);
int gateway_new(sd_event *event, const char *state_dir, struct MetricsRegistry *reg,
                gateway_lookup_fn lookup, void *userdata, Gateway **ret);
/* Stops serving (requests waiting are told), removes the socket. */
Gateway *gateway_free(Gateway *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(Gateway *, gateway_free);

/* <state_dir>/gateway: what inner-loop containers mount. */
const char *gateway_directory(const Gateway *g);

/* Whether two capabilities are equal, in time independent of where they differ. */
bool gateway_capability_equal(const char *a, const char *b);
